//! The review workflow's Analyse step on stored data: observations in, an
//! [`AssessmentContext`] out. Pure.
//!
//! - Streamed vitals (heart rate, SpO2, respiratory rate, temperature, RR interval, the
//!   devices' per-sample HRV `hrv_sdnn`) of the last
//!   35 minutes before the newest observation go through the same [`PatientStream`] as a replay;
//!   its window is used when it covers at least half of its five minutes, otherwise only the
//!   latest values are (spot readings).
//! - Blood pressure: the latest values.
//! - Weights: every weight through the Kalman filter (home scale class), the ESC/HFA rule on the
//!   newest accepted weight against the accepted ones before it, the trend rule on the newest step.

use chrono::{DateTime, Utc};

use super::replay::{PatientStream, ReplayOptions};
use super::{AssessmentContext, WeightContext};
use crate::analysis::heart_failure::{
    HeartFailureConfig, RapidGain, TrendRise, WeightPoint, rapid_gain, trend_alert,
};
use crate::analysis::kalman::{
    FilterState, KalmanConfig, Measurement, Phase, SourceClass, StepResult, process,
};
use crate::analysis::window::VitalSample;
use crate::domain::{Kind, Observation};

/// Builds the context at the newest observation; `None` when there are no values at all.
pub fn context_from_observations(patient: &str, observations: &[Observation]) -> Option<AssessmentContext> {
    let values: Vec<(DateTime<Utc>, Kind, f64)> = observations
        .iter()
        .filter_map(|o| Some((o.effective.to_utc(), o.kind, o.value.quantity()?)))
        .collect();
    context_from_values(patient, values)
}

/// [`context_from_observations`] over bare values `(time, kind, value)` in time order (the
/// lean index-only reads of `store::series`). Non-finite values are ignored.
pub fn context_from_values(
    patient: &str,
    mut values: Vec<(DateTime<Utc>, Kind, f64)>,
) -> Option<AssessmentContext> {
    values.retain(|(_, _, v)| v.is_finite());
    let newest = values.iter().map(|(t, _, _)| *t).max()?;
    let options = ReplayOptions { min_coverage: 0.0, ..ReplayOptions::default() };
    let mut stream = PatientStream::new(patient, options);
    let since = newest.timestamp() - 35 * 60;
    let mut samples: std::collections::BTreeMap<i64, VitalSample> = std::collections::BTreeMap::new();
    for (t, kind, v) in &values {
        let second = t.timestamp();
        if second < since {
            continue;
        }
        let s = samples.entry(second).or_insert(VitalSample { time: second, ..VitalSample::default() });
        match kind {
            Kind::HeartRate => s.heart_rate = Some(*v),
            Kind::Spo2 => s.spo2 = Some(*v),
            Kind::RespiratoryRate => s.respiratory_rate = Some(*v),
            Kind::BodyTemperature => s.body_temperature = Some(*v),
            Kind::RrInterval => s.rr_interval = Some(*v),
            Kind::HrvSdnn => s.hrv_sdnn = Some(*v),
            _ => {}
        }
    }
    let mut ctx = AssessmentContext::new(patient, newest);
    ctx.news2 = super::RecordedNews2::from_values(&values, newest).context();
    let mut last = None;
    for s in samples.values() {
        if let Some(c) = stream.push(s) {
            last = Some(c);
        }
    }
    if let Some(c) = last {
        ctx.trend = c.trend;
        ctx.window = c.window.filter(|w| w.coverage >= 0.5);
    }
    let latest = |kind: Kind| values.iter().rev().find(|(_, k, _)| *k == kind).map(|(_, _, v)| *v);
    ctx.latest.heart_rate = latest(Kind::HeartRate);
    ctx.latest.spo2 = latest(Kind::Spo2);
    ctx.latest.respiratory_rate = latest(Kind::RespiratoryRate);
    ctx.latest.body_temperature = latest(Kind::BodyTemperature);
    ctx.latest.bp_systolic = latest(Kind::BpSystolic);
    ctx.latest.bp_diastolic = latest(Kind::BpDiastolic);
    ctx.latest.body_weight = latest(Kind::BodyWeight);
    let weights: Vec<(DateTime<Utc>, f64)> =
        values.iter().filter(|(_, k, _)| *k == Kind::BodyWeight).map(|(t, _, v)| (*t, *v)).collect();
    if !weights.is_empty() {
        ctx.weight = Some(weight_context(&weights));
    }
    Some(ctx)
}

/// The weight analysis over weights in time order.
pub fn weight_context(weights: &[(DateTime<Utc>, f64)]) -> WeightContext {
    let track = weight_track(weights);
    let last_accepted = track.iter().rev().find(|p| p.step.accepted);
    WeightContext {
        weights: weights.len(),
        latest: track.iter().rev().find(|p| p.step.accepted && p.step.filtered.is_some()).map(|p| p.step),
        rapid_gain: last_accepted.and_then(|p| p.rapid_gain),
        trend_rise: last_accepted.and_then(|p| p.trend_rise),
    }
}

/// One weight through the filter: its step, the level's standard deviation after it, and the
/// heart-failure rules on it (accepted weights only).
#[derive(Debug, Clone, PartialEq)]
pub struct TrackPoint {
    /// The weight.
    pub time: DateTime<Utc>,
    /// Kg.
    pub kg: f64,
    /// The filter's step (accepted or rejected, level and trend).
    pub step: StepResult,
    /// The level's standard deviation after the step, kg (tracking only).
    pub level_sd: Option<f64>,
    /// The ESC/HFA rule on this weight.
    pub rapid_gain: Option<RapidGain>,
    /// The trend rule on this step.
    pub trend_rise: Option<TrendRise>,
}

/// Every weight (time order) through the Kalman filter (home scale class) and the two
/// heart-failure rules: the series behind the weight chart and [`weight_context`].
pub fn weight_track(weights: &[(DateTime<Utc>, f64)]) -> Vec<TrackPoint> {
    let (kalman, hf) = (KalmanConfig::default(), HeartFailureConfig::default());
    let mut state: Option<FilterState> = None;
    let mut accepted: Vec<WeightPoint> = Vec::new();
    let mut out = Vec::with_capacity(weights.len());
    for &(time, kg) in weights {
        let (next, step) = process(state.as_ref(), Measurement::kg(time, kg, SourceClass::Home), &kalman);
        let level_sd = match &next.phase {
            Phase::Tracking(track) => Some(track.p[0][0].max(0.0).sqrt()),
            Phase::Initializing { .. } => None,
        };
        state = Some(next);
        let (mut gain, mut trend) = (None, None);
        if step.accepted {
            let point = WeightPoint { time, kg };
            gain = rapid_gain(&accepted, point, &hf);
            accepted.push(point);
            trend = trend_alert(&step, &hf);
        }
        out.push(TrackPoint { time, kg, step, level_sd, rapid_gain: gain, trend_rise: trend });
    }
    out
}

//! The review workflow's Analyse step on stored data: observations in, an
//! [`AssessmentContext`] out. Pure.
//!
//! - Streamed vitals (heart rate, SpO2, respiratory rate, temperature, RR interval) of the last
//!   35 minutes before the newest observation go through the same [`PatientStream`] as a replay;
//!   its window is used when it covers at least half of its five minutes, otherwise only the
//!   latest values are (spot readings).
//! - Blood pressure: the latest values.
//! - Weights: every weight through the Kalman filter (home scale class), the ESC/HFA rule on the
//!   newest accepted weight against the accepted ones before it, the trend rule on the newest step.

use chrono::{DateTime, Utc};

use super::replay::{PatientStream, ReplayOptions};
use super::{AssessmentContext, WeightContext};
use crate::analysis::heart_failure::{HeartFailureConfig, WeightPoint, rapid_gain, trend_alert};
use crate::analysis::kalman::{FilterState, KalmanConfig, Measurement, SourceClass, StepResult, process};
use crate::analysis::window::VitalSample;
use crate::domain::{Kind, Observation};

/// Builds the context at the newest observation; `None` when there are no values at all.
pub fn context_from_observations(patient: &str, observations: &[Observation]) -> Option<AssessmentContext> {
    let values: Vec<(DateTime<Utc>, Kind, f64)> = observations
        .iter()
        .filter_map(|o| Some((o.effective.to_utc(), o.kind, o.value.quantity()?)))
        .filter(|(_, _, v)| v.is_finite())
        .collect();
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
            _ => {}
        }
    }
    let mut ctx = AssessmentContext::new(patient, newest);
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
    let (kalman, hf) = (KalmanConfig::default(), HeartFailureConfig::default());
    let mut state: Option<FilterState> = None;
    let mut accepted: Vec<WeightPoint> = Vec::new();
    let mut latest: Option<StepResult> = None;
    let mut gain = None;
    let mut trend = None;
    for &(time, kg) in weights {
        let (next, step) = process(state.as_ref(), Measurement::kg(time, kg, SourceClass::Home), &kalman);
        state = Some(next);
        if !step.accepted {
            continue;
        }
        let point = WeightPoint { time, kg };
        gain = rapid_gain(&accepted, point, &hf);
        accepted.push(point);
        trend = trend_alert(&step, &hf);
        if step.filtered.is_some() {
            latest = Some(step);
        }
    }
    WeightContext { weights: weights.len(), latest, rapid_gain: gain, trend_rise: trend }
}

//! What an agent sees: one patient's analysis results at one instant.
//!
//! The caller (the facade for stored data, the replay for a stream) computes the
//! [`AssessmentContext`] with the pure `analysis` module; agents only read it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::analysis::heart_failure::{RapidGain, TrendRise};
use crate::analysis::kalman::StepResult;
use crate::analysis::news2::{Consciousness, Spo2Scale};
use crate::analysis::window::WindowFeatures;
use crate::domain::{Acvpu, Kind};

use super::Specialty;

/// The latest value of each vital, when there is one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // the observation kinds' names and units
pub struct LatestVitals {
    pub heart_rate: Option<f64>,
    pub spo2: Option<f64>,
    pub respiratory_rate: Option<f64>,
    pub body_temperature: Option<f64>,
    pub bp_systolic: Option<f64>,
    pub bp_diastolic: Option<f64>,
    pub body_weight: Option<f64>,
}

/// Changes over a longer horizon than the five-minute window: the window mean now minus the
/// window mean `minutes` earlier (the replay keeps them; stored data computes them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct VitalTrend {
    /// The horizon, minutes.
    pub minutes: f64,
    /// Change of the SpO2 window mean, percentage points.
    pub spo2_change: Option<f64>,
    /// Change of the heart-rate window mean, /min.
    pub hr_change: Option<f64>,
    /// Relative change of the HRV window mean (`hrv_mean`), e.g. -0.4 for a 40 % fall.
    pub hrv_change: Option<f64>,
}

/// The NEWS2 inputs that are not measured by a device: a clinician sets them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct News2Context {
    /// Scale 2 only when prescribed (hypercapnic respiratory failure).
    pub spo2_scale: Spo2Scale,
    /// Supplemental oxygen.
    pub on_oxygen: bool,
    /// ACVPU; `None` when not assessed (scored as alert, and the confidence says so).
    pub consciousness: Option<Consciousness>,
}

impl Default for News2Context {
    fn default() -> Self {
        Self { spo2_scale: Spo2Scale::Scale1, on_oxygen: false, consciousness: None }
    }
}

/// A bedside recording of consciousness, oxygen or the SpO2 scale counts for NEWS2 for this
/// long before the vitals it is scored with. RCP 2017 chart 3: the longest routine interval
/// between observation sets is 12 hours (aggregate 0), so an older recording belongs to an
/// earlier set and says nothing reliable about the patient now.
pub const NEWS2_RECORDED_WITHIN_HOURS: i64 = 12;

/// The NEWS2 inputs that were recorded (manual entry, or an import of the same kinds), each
/// the latest within [`NEWS2_RECORDED_WITHIN_HOURS`] before the instant scored; `None` when
/// not recorded, which NEWS2 then assumes (alert, air, scale 1) and says so.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordedNews2 {
    /// ACVPU.
    pub consciousness: Option<Consciousness>,
    /// Air (false) or oxygen (true).
    pub on_oxygen: Option<bool>,
    /// Scale 1 or 2.
    pub spo2_scale: Option<Spo2Scale>,
}

impl RecordedNews2 {
    /// The latest recorded value of each input in `(at - 12 h, at]`; values of other kinds,
    /// and values that are not one of the kind's codes, are ignored.
    pub fn from_values(values: &[(DateTime<Utc>, Kind, f64)], at: DateTime<Utc>) -> Self {
        let since = at - chrono::Duration::hours(NEWS2_RECORDED_WITHIN_HOURS);
        let latest = |kind: Kind| {
            values
                .iter()
                .filter(|(t, k, _)| *k == kind && *t > since && *t <= at)
                .max_by_key(|(t, _, _)| *t)
                .map(|(_, _, v)| *v)
        };
        Self {
            consciousness: latest(Kind::Consciousness).and_then(Acvpu::from_code).map(consciousness_of),
            on_oxygen: latest(Kind::SupplementalOxygen).and_then(|v| match v {
                0.0 => Some(false),
                1.0 => Some(true),
                _ => None,
            }),
            spo2_scale: latest(Kind::Spo2Scale).and_then(|v| match v {
                1.0 => Some(Spo2Scale::Scale1),
                2.0 => Some(Spo2Scale::Scale2),
                _ => None,
            }),
        }
    }

    /// The context the rules read: recorded values, else NEWS2's defaults (air, scale 1;
    /// consciousness stays unassessed).
    pub fn context(self) -> News2Context {
        News2Context {
            spo2_scale: self.spo2_scale.unwrap_or(Spo2Scale::Scale1),
            on_oxygen: self.on_oxygen.unwrap_or(false),
            consciousness: self.consciousness,
        }
    }

    /// What was assumed because it was not recorded, in words for the screen.
    pub fn assumptions(self) -> Vec<String> {
        let mut out = Vec::new();
        if self.consciousness.is_none() {
            out.push("consciousness not recorded: scored as Alert".to_owned());
        }
        match (self.on_oxygen, self.spo2_scale) {
            (None, None) => out.push("oxygen not recorded: scored as air, SpO₂ scale 1".to_owned()),
            (None, Some(_)) => out.push("oxygen not recorded: scored as air".to_owned()),
            (Some(_), None) => out.push("SpO₂ scale not recorded: scored on scale 1".to_owned()),
            (Some(_), Some(_)) => {}
        }
        out
    }
}

/// ACVPU as NEWS2 scores it (RCP 2017 chart 1: C, V, P and U all score 3).
pub fn consciousness_of(level: Acvpu) -> Consciousness {
    match level {
        Acvpu::A => Consciousness::Alert,
        Acvpu::C => Consciousness::NewConfusion,
        Acvpu::V => Consciousness::Voice,
        Acvpu::P => Consciousness::Pain,
        Acvpu::U => Consciousness::Unresponsive,
    }
}

/// The weight analysis: the Kalman filter's latest step and the two heart-failure rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightContext {
    /// Weights seen.
    pub weights: usize,
    /// The filter's latest accepted step with a level, if tracking.
    pub latest: Option<StepResult>,
    /// The ESC/HFA rule on the newest weight.
    pub rapid_gain: Option<RapidGain>,
    /// The trend rule on the newest step.
    pub trend_rise: Option<TrendRise>,
}

/// One patient at one instant, as every agent sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentContext {
    /// The patient (id, or a label for a replayed file).
    pub patient: String,
    /// The instant assessed (event time: the window's end, not the wall clock).
    pub time: DateTime<Utc>,
    /// The five-minute window's features, for streamed vitals.
    pub window: Option<WindowFeatures>,
    /// The latest values.
    pub latest: LatestVitals,
    /// Longer-horizon changes.
    pub trend: VitalTrend,
    /// NEWS2's clinician-set inputs.
    pub news2: News2Context,
    /// The weight analysis, when the patient has weights.
    pub weight: Option<WeightContext>,
}

impl AssessmentContext {
    /// An empty context for `patient` at `time`.
    pub fn new(patient: impl Into<String>, time: DateTime<Utc>) -> Self {
        Self {
            patient: patient.into(),
            time,
            window: None,
            latest: LatestVitals::default(),
            trend: VitalTrend::default(),
            news2: News2Context::default(),
            weight: None,
        }
    }

    /// Mean heart rate: the window's, else the latest.
    pub fn heart_rate(&self) -> Option<f64> {
        self.window.and_then(|w| w.hr_mean).or(self.latest.heart_rate)
    }

    /// Mean SpO2: the window's, else the latest.
    pub fn spo2(&self) -> Option<f64> {
        self.window.and_then(|w| w.spo2_mean).or(self.latest.spo2)
    }

    /// Mean respiratory rate: the window's, else the latest.
    pub fn respiratory_rate(&self) -> Option<f64> {
        self.window.and_then(|w| w.rr_mean).or(self.latest.respiratory_rate)
    }

    /// Mean temperature: the window's, else the latest.
    pub fn temperature(&self) -> Option<f64> {
        self.window.and_then(|w| w.temp_mean).or(self.latest.body_temperature)
    }

    /// How complete the streamed data is: the window's coverage, 1 for spot values.
    pub fn coverage(&self) -> f64 {
        self.window.map_or(1.0, |w| w.coverage)
    }

    /// The specialties this patient's data supports (routing): a patient with only weights
    /// gets heart failure, not pulmonary.
    pub fn supported_specialties(&self) -> Vec<Specialty> {
        let has = |v: Option<f64>| v.is_some();
        let vitals = [self.heart_rate(), self.spo2(), self.respiratory_rate(), self.temperature()]
            .iter()
            .filter(|v| v.is_some())
            .count();
        Specialty::ALL
            .into_iter()
            .filter(|s| match s {
                Specialty::Cardiology => {
                    has(self.heart_rate())
                        || has(self.latest.bp_systolic)
                        || self.window.is_some_and(|w| w.hrv_mean.is_some())
                }
                Specialty::Pulmonary => has(self.spo2()) || has(self.respiratory_rate()),
                Specialty::HeartFailure => self.weight.as_ref().is_some_and(|w| w.weights > 0),
                // NEWS2 needs the measured parameters; at least three of the four streamed ones.
                Specialty::EarlyWarning => vitals >= 3,
                Specialty::InfectionScreen => {
                    has(self.temperature()) && (has(self.heart_rate()) || has(self.respiratory_rate()))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;

    #[test]
    fn recorded_news2_inputs_count_for_12_hours_and_the_latest_wins() {
        let at = Utc.with_ymd_and_hms(2026, 11, 23, 20, 0, 0).unwrap();
        let values = vec![
            (at - Duration::hours(13), Kind::Consciousness, Acvpu::U.code()),
            (at - Duration::hours(2), Kind::Consciousness, Acvpu::V.code()),
            (at - Duration::hours(1), Kind::Consciousness, Acvpu::A.code()),
            (at - Duration::hours(3), Kind::SupplementalOxygen, 1.0),
            (at - Duration::hours(12), Kind::Spo2Scale, 2.0),
            (at + Duration::minutes(1), Kind::SupplementalOxygen, 0.0),
            (at - Duration::hours(1), Kind::HeartRate, 120.0),
        ];
        let recorded = RecordedNews2::from_values(&values, at);
        assert_eq!(recorded.consciousness, Some(Consciousness::Alert), "the latest, not the worst");
        assert_eq!(recorded.on_oxygen, Some(true), "a reading after the instant is not used");
        assert_eq!(recorded.spo2_scale, None, "exactly 12 h old is too old");
        let context = recorded.context();
        assert!(context.on_oxygen);
        assert_eq!(context.spo2_scale, Spo2Scale::Scale1);
        assert_eq!(recorded.assumptions(), ["SpO₂ scale not recorded: scored on scale 1"]);

        let stale = RecordedNews2::from_values(&values[..1], at);
        assert_eq!(stale, RecordedNews2::default());
        assert_eq!(stale.context(), News2Context::default());
        assert_eq!(stale.assumptions().len(), 2);
    }

    #[test]
    fn every_acvpu_level_but_alert_scores_as_not_alert() {
        for level in Acvpu::ALL {
            assert_eq!(consciousness_of(level) == Consciousness::Alert, level == Acvpu::A);
        }
    }
}

//! Contexts for the boundary cases: one patient at one instant, with only what a case sets.

use chrono::{DateTime, Duration, TimeZone, Utc};
use vigil::agents::{AssessmentContext, WeightContext};
use vigil::analysis::heart_failure::{HeartFailureConfig, WeightPoint, rapid_gain, trend_alert};
use vigil::analysis::kalman::StepResult;
use vigil::analysis::news2::{Consciousness, Parameter};
use vigil::analysis::window::{WindowFeatures, WindowQuality};

fn t0() -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000, 0).unwrap()
}

/// An empty context: no window, no latest values, scale 1, consciousness not assessed.
pub(crate) fn ctx() -> AssessmentContext {
    AssessmentContext::new("boundary", t0())
}

/// The context's window (a full one, every feature absent until set).
pub(crate) fn window(c: &mut AssessmentContext) -> &mut WindowFeatures {
    c.window.get_or_insert(WindowFeatures {
        window_end: 1_800_000_000,
        hr_mean: None,
        hr_std: None,
        hr_min: None,
        hr_max: None,
        hr_trend: None,
        hrv_mean: None,
        hrv_std: None,
        hrv_decrease: None,
        hrv_source: None,
        spo2_mean: None,
        spo2_min: None,
        spo2_variability: None,
        rr_mean: None,
        rr_irregularity: None,
        temp_mean: None,
        temp_spike: None,
        hr_rr_correlation: None,
        coverage: 1.0,
        quality: WindowQuality::default(),
    })
}

/// All five measured NEWS2 parameters normal (sub-score 0), alert, on air; then `overrides`.
pub(crate) fn at_news2(overrides: &[(Parameter, f64)]) -> AssessmentContext {
    let mut c = ctx();
    c.latest.respiratory_rate = Some(16.0);
    c.latest.spo2 = Some(97.0);
    c.latest.bp_systolic = Some(120.0);
    c.latest.heart_rate = Some(70.0);
    c.latest.body_temperature = Some(37.0);
    c.news2.consciousness = Some(Consciousness::Alert);
    for &(p, v) in overrides {
        match p {
            Parameter::RespirationRate => c.latest.respiratory_rate = Some(v),
            Parameter::Spo2 => c.latest.spo2 = Some(v),
            Parameter::SystolicBp => c.latest.bp_systolic = Some(v),
            Parameter::Pulse => c.latest.heart_rate = Some(v),
            Parameter::Temperature => c.latest.body_temperature = Some(v),
            Parameter::AirOrOxygen => c.news2.on_oxygen = v > 0.0,
            Parameter::Consciousness => {
                c.news2.consciousness =
                    Some(if v > 0.0 { Consciousness::Voice } else { Consciousness::Alert })
            }
        }
    }
    c
}

/// A NEWS2 aggregate of `n` (0 to 8) with no parameter scoring 3, from the RCP 2017 chart:
/// temperature 38.5 scores 1 (39.5: 2), pulse 95 scores 1 (115: 2), respiration 10 scores 1,
/// systolic 105 scores 1, SpO2 95 scores 1 (93: 2).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "n is 0 to 8")]
pub(crate) fn news2_aggregate(c: &mut AssessmentContext, n: f64) {
    use Parameter as P;
    let set: &[(Parameter, f64)] = match n as u8 {
        0 => &[],
        1 => &[(P::Temperature, 38.5)],
        2 => &[(P::Temperature, 38.5), (P::Pulse, 95.0)],
        3 => &[(P::Temperature, 38.5), (P::Pulse, 95.0), (P::RespirationRate, 10.0)],
        4 => &[(P::Temperature, 38.5), (P::Pulse, 95.0), (P::RespirationRate, 10.0), (P::SystolicBp, 105.0)],
        5 => &[
            (P::Temperature, 38.5),
            (P::Pulse, 95.0),
            (P::RespirationRate, 10.0),
            (P::SystolicBp, 105.0),
            (P::Spo2, 95.0),
        ],
        6 => &[
            (P::Temperature, 38.5),
            (P::Pulse, 95.0),
            (P::RespirationRate, 10.0),
            (P::SystolicBp, 105.0),
            (P::Spo2, 93.0),
        ],
        7 => &[
            (P::Temperature, 39.5),
            (P::Pulse, 95.0),
            (P::RespirationRate, 10.0),
            (P::SystolicBp, 105.0),
            (P::Spo2, 93.0),
        ],
        8 => &[
            (P::Temperature, 39.5),
            (P::Pulse, 115.0),
            (P::RespirationRate, 10.0),
            (P::SystolicBp, 105.0),
            (P::Spo2, 93.0),
        ],
        _ => panic!("no aggregate {n} without a red score here"),
    };
    *c = at_news2(set);
}

/// A gain of `gain_kg` over one day, through the analysis's ESC/HFA rule.
pub(crate) fn gain(c: &mut AssessmentContext, gain_kg: f64) {
    let from = WeightPoint { time: t0() - Duration::days(1), kg: 80.0 };
    let to = WeightPoint { time: t0(), kg: 80.0 + gain_kg };
    let weight = c.weight.get_or_insert(WeightContext {
        weights: 0,
        latest: None,
        rapid_gain: None,
        trend_rise: None,
    });
    weight.weights += 2;
    weight.rapid_gain = rapid_gain(&[from], to, &HeartFailureConfig::default());
}

/// A tracking filter step with this trend and standard deviation, through the analysis's
/// trend rule.
pub(crate) fn trend(c: &mut AssessmentContext, kg_per_week: f64, sd: f64) {
    let step = StepResult {
        time: t0(),
        accepted: true,
        needs_initialization: false,
        confidence: 0.9,
        filtered: Some(80.0),
        trend_kg_per_week: Some(kg_per_week),
        trend_sd_kg_per_week: Some(sd),
        prediction_error: Some(0.1),
        normalized_error: Some(0.2),
        reason: None,
        reset: None,
    };
    let weight = c.weight.get_or_insert(WeightContext {
        weights: 0,
        latest: None,
        rapid_gain: None,
        trend_rise: None,
    });
    weight.weights += 10;
    weight.latest = Some(step);
    weight.trend_rise = trend_alert(&step, &HeartFailureConfig::default());
}

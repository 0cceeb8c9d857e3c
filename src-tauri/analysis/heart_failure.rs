//! Heart-failure congestion warnings from body weight: the guideline rule and a trend rule.
//!
//! **Rapid gain (ESC/HFA).** Patients are told to contact their team, or raise their diuretic
//! dose, on a weight gain of more than 2 kg in 3 days: McDonagh T.A. et al., *2021 ESC
//! Guidelines for the diagnosis and treatment of acute and chronic heart failure*, Eur Heart J
//! 2021;42:3599-3726 (self-care, patient education); Jaarsma T. et al., *Self-care of heart
//! failure patients: practical management recommendations from the Heart Failure Association of
//! the ESC*, Eur J Heart Fail 2021;23:157-174. [`rapid_gain`] applies it as stated, to raw
//! weights: the newest weight against the lowest weight of the preceding 3 days (inclusive), a
//! gain strictly above 2 kg, on raw (not filtered) weights. Which weights to pass is the
//! caller's choice; the report ([`crate::analysis::report::weight`]) passes those the Kalman
//! filter accepted, so one spurious heavy reading that the gate rejects (a coat, a backpack)
//! does not fire it, while a real jump the gate rejects fires it as soon as the run of outliers
//! becomes the new baseline (after `max_consecutive_outliers` readings, 3 by default).
//!
//! **Trend.** Rules of thumb like the one above detect only about 1 in 5 heart-failure
//! admissions (Zhang J. et al., TEN-HMS, Eur J Heart Fail 2009;11:420-427); weight rises
//! gradually over the week or more before an admission (Chaudhry S.I. et al., Circulation
//! 2007;116:1549-1554). [`trend_alert`] fires when the Kalman filter's trend exceeds
//! [`HeartFailureConfig::trend_kg_per_week`] (default 1.0 kg/week, of the order of the gains
//! Chaudhry et al. saw in the week before admission; a Vigil default, to be tuned) **and** is at
//! least [`HeartFailureConfig::trend_min_z`] standard deviations above zero, so a young filter's
//! uncertain trend does not fire it.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::kalman::StepResult;

/// The ESC/HFA rapid-gain threshold, kg: a gain of strictly more than this fires.
pub const RAPID_GAIN_KG: f64 = 2.0;
/// The ESC/HFA rapid-gain window, days.
pub const RAPID_GAIN_DAYS: f64 = 3.0;
/// The trend rule's threshold, kg/week: a filtered trend of strictly more than this fires (a
/// Vigil default, module docs).
pub const TREND_KG_PER_WEEK: f64 = 1.0;
/// The trend rule's certainty: trend / sd at least this (one-sided 95 %).
pub const TREND_MIN_Z: f64 = 1.645;

/// Thresholds, with the guideline's values as defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HeartFailureConfig {
    /// Gain that fires the rapid-gain rule, kg (strictly more than). Default 2.
    pub gain_kg: f64,
    /// The rapid-gain window, days. Default 3.
    pub window_days: f64,
    /// Filtered trend that fires the trend rule, kg/week. Default 1.0.
    pub trend_kg_per_week: f64,
    /// Trend over its standard deviation needed for the trend rule. Default 1.645 (one-sided
    /// 95 %: the trend is above zero with 95 % probability under the filter's model).
    pub trend_min_z: f64,
}

impl Default for HeartFailureConfig {
    fn default() -> Self {
        Self {
            gain_kg: RAPID_GAIN_KG,
            window_days: RAPID_GAIN_DAYS,
            trend_kg_per_week: TREND_KG_PER_WEEK,
            trend_min_z: TREND_MIN_Z,
        }
    }
}

/// One weight, in kg.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeightPoint {
    /// When.
    pub time: DateTime<Utc>,
    /// Kg, finite.
    pub kg: f64,
}

/// The evidence for a rapid-gain warning.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RapidGain {
    /// The lowest weight in the window before.
    pub from: WeightPoint,
    /// The newest weight.
    pub to: WeightPoint,
    /// `to.kg - from.kg`.
    pub gain_kg: f64,
    /// The threshold exceeded.
    pub threshold_kg: f64,
    /// The window, days.
    pub window_days: f64,
}

/// The evidence for a trend warning.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrendRise {
    /// The step's time.
    pub time: DateTime<Utc>,
    /// The filtered level, kg.
    pub filtered_kg: f64,
    /// The filtered trend, kg/week.
    pub trend_kg_per_week: f64,
    /// Its standard deviation, kg/week.
    pub trend_sd_kg_per_week: f64,
    /// The threshold exceeded, kg/week.
    pub threshold_kg_per_week: f64,
    /// The minimum trend/sd required.
    pub min_z: f64,
}

/// A heart-failure weight warning with its evidence.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum HeartFailureAlert {
    /// The ESC/HFA "more than 2 kg in 3 days" rule.
    RapidGain(RapidGain),
    /// The filtered trend is rising fast, and surely.
    TrendRise(TrendRise),
}

/// The ESC/HFA rule for `latest` against `earlier` weights (any order; those outside the window
/// `[latest - window, latest)` and non-finite ones are ignored, so the caller may pass more).
pub fn rapid_gain(
    earlier: &[WeightPoint],
    latest: WeightPoint,
    cfg: &HeartFailureConfig,
) -> Option<RapidGain> {
    if !latest.kg.is_finite() {
        return None;
    }
    // `as` saturates; a window longer than chrono can subtract starts at the earliest time.
    #[allow(clippy::cast_possible_truncation, reason = "float to int `as` saturates (and NaN is 0)")]
    let window = Duration::milliseconds((cfg.window_days * 86_400_000.0).round() as i64);
    let start = latest.time.checked_sub_signed(window).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let from = earlier
        .iter()
        .filter(|p| p.kg.is_finite() && p.time >= start && p.time < latest.time)
        .min_by(|a, b| a.kg.total_cmp(&b.kg).then(a.time.cmp(&b.time)))?;
    let gain_kg = latest.kg - from.kg;
    (gain_kg > cfg.gain_kg).then_some(RapidGain {
        from: *from,
        to: latest,
        gain_kg,
        threshold_kg: cfg.gain_kg,
        window_days: cfg.window_days,
    })
}

/// The trend rule on one filter step (`None` while initializing or when the trend is below
/// the threshold or not sure enough).
pub fn trend_alert(step: &StepResult, cfg: &HeartFailureConfig) -> Option<TrendRise> {
    let (filtered_kg, trend, sd) = (step.filtered?, step.trend_kg_per_week?, step.trend_sd_kg_per_week?);
    // The same z (trend over its sd) that the heart-failure agent's table shows and compares.
    let sure = sd > 0.0 && trend / sd >= cfg.trend_min_z;
    (trend > cfg.trend_kg_per_week && sure).then_some(TrendRise {
        time: step.time,
        filtered_kg,
        trend_kg_per_week: trend,
        trend_sd_kg_per_week: sd,
        threshold_kg_per_week: cfg.trend_kg_per_week,
        min_z: cfg.trend_min_z,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::kalman::{KalmanConfig, Measurement, SourceClass, process};

    #[allow(clippy::cast_possible_truncation, reason = "test days are a few dozen")]
    fn day(d: f64) -> DateTime<Utc> {
        let t0 = DateTime::parse_from_rfc3339("2026-02-01T07:00:00Z").unwrap().to_utc();
        t0 + Duration::milliseconds((d * 86_400_000.0) as i64)
    }

    fn w(d: f64, kg: f64) -> WeightPoint {
        WeightPoint { time: day(d), kg }
    }

    #[test]
    fn more_than_two_kg_in_three_days_fires_with_its_evidence() {
        let cfg = HeartFailureConfig::default();
        let earlier = [w(0.0, 79.0), w(1.0, 80.0), w(2.0, 80.5), w(3.0, 81.0)];
        // Window for day 4 is [day 1, day 4): the lowest is 80.0 on day 1; 82.1 - 80.0 > 2.
        let alert = rapid_gain(&earlier, w(4.0, 82.1), &cfg).unwrap();
        assert_eq!((alert.from, alert.to), (w(1.0, 80.0), w(4.0, 82.1)));
        assert!((alert.gain_kg - 2.1).abs() < 1e-9 && alert.threshold_kg == 2.0);
        // Exactly 2 kg does not fire; day 0 (4 days before) is outside the window.
        assert_eq!(rapid_gain(&earlier, w(4.0, 82.0), &cfg), None);
        // The window's start is inclusive: exactly 3 days.
        assert!(rapid_gain(&[w(1.0, 80.0)], w(4.0, 82.5), &cfg).is_some());
        assert_eq!(rapid_gain(&[], w(4.0, 90.0), &cfg), None);
        assert_eq!(rapid_gain(&[w(3.0, f64::NAN)], w(4.0, 90.0), &cfg), None);
    }

    #[test]
    fn the_trend_rule_needs_speed_and_certainty() {
        let hf = HeartFailureConfig::default();
        let kcfg = KalmanConfig::default();
        let mut state = None;
        let mut fired = Vec::new();
        // Stable for 20 days, then +0.25 kg/day (1.75 kg/week).
        for d in 0..40_i32 {
            let kg = if d < 20 { 80.0 } else { 80.0 + 0.25 * f64::from(d - 19) };
            let (s, r) =
                process(state.as_ref(), Measurement::kg(day(f64::from(d)), kg, SourceClass::Home), &kcfg);
            state = Some(s);
            if let Some(a) = trend_alert(&r, &hf) {
                fired.push((d, a));
            }
        }
        let (first, alert) = fired.first().copied().expect("the rise is detected");
        assert!((21..32).contains(&first), "first fired on day {first}");
        assert!(
            alert.trend_kg_per_week > 1.0 && alert.trend_kg_per_week >= 1.645 * alert.trend_sd_kg_per_week
        );
        assert_eq!(fired.last().unwrap().0, 39);
    }
}

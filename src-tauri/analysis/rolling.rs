//! Daily rolling features over 3, 7 and 14 days, per patient.
//!
//! Input: one [`DailyRecord`] per calendar day (the caller aggregates: resting heart rate, a daily
//! HRV value such as the night's RMSSD or SDNN, morning weight, total steps, hours of sleep).
//! For each window of `N` days ending on `end` (inclusive: `end − N + 1 ..= end`) and each metric:
//! mean, population standard deviation and least-squares slope per day.
//!
//! # Missing days
//! Statistics are computed over the days present, and only when at least
//! [`min_days`]`(N) = ⌈N/2⌉` days are present (2 of 3, 4 of 7, 7 of 14); otherwise they are `None`.
//! A slope also needs two days. `days_present` and `coverage` (present / N) are always reported.
//! Days outside the window are ignored; a value that is not finite counts as absent.
//!
//! # Interactions (documented choices, for the heart-failure and deterioration models)
//! - `hr_hrv_slope_product`: 7-day resting-HR slope × 7-day HRV slope ((/min/day)·(ms/day)). It is
//!   negative when heart rate climbs while HRV falls — the autonomic pattern that precedes
//!   decompensation and infection — and near zero when either is flat.
//! - `steps_drop`: `1 − mean steps (3 days) / mean steps (14 days)`: the recent fall in activity,
//!   as a fraction of the baseline (negative when activity rose).
//! - `weight_gain_with_steps_drop`: `max(7-day weight slope, 0) × max(steps_drop, 0)`, kg/day: fluid
//!   gain with reduced activity. Weight alone is the ESC/HFA rule (> 2 kg in 3 days, McDonagh et
//!   al., Eur Heart J 42:3599, 2021), whose sensitivity is low; the product is a feature for a
//!   model, not a rule.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The windows computed, days.
pub const WINDOWS: [u32; 3] = [3, 7, 14];

/// One day's aggregates for one patient. Absent values are `None`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DailyRecord {
    /// The calendar day (patient's local date).
    pub date: NaiveDate,
    /// Resting heart rate, /min.
    pub heart_rate: Option<f64>,
    /// Daily HRV, ms.
    pub hrv: Option<f64>,
    /// Body weight, kg.
    pub weight: Option<f64>,
    /// Steps.
    pub steps: Option<f64>,
    /// Sleep, hours.
    pub sleep: Option<f64>,
}

/// Mean, std and slope of one metric over one window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeriesStats {
    /// Mean over the days present.
    pub mean: Option<f64>,
    /// Population standard deviation over the days present.
    pub std: Option<f64>,
    /// Least-squares slope, units per day.
    pub slope: Option<f64>,
    /// Days with a value.
    pub days_present: u32,
    /// `days_present / window days`.
    pub coverage: f64,
}

/// All metrics over one window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // the fields are the metrics of `DailyRecord`
pub struct WindowStats {
    /// Window length, days.
    pub days: u32,
    pub heart_rate: SeriesStats,
    pub hrv: SeriesStats,
    pub weight: SeriesStats,
    pub steps: SeriesStats,
    pub sleep: SeriesStats,
}

/// Cross-metric features (definitions in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interactions {
    /// 7-day HR slope × 7-day HRV slope.
    pub hr_hrv_slope_product: Option<f64>,
    /// `1 − steps mean (3 d) / steps mean (14 d)`.
    pub steps_drop: Option<f64>,
    /// `max(weight slope 7 d, 0) × max(steps_drop, 0)`, kg/day.
    pub weight_gain_with_steps_drop: Option<f64>,
}

/// Rolling features of one patient on one day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RollingFeatures {
    /// The last day of every window.
    pub end: NaiveDate,
    /// 3-day window.
    pub d3: WindowStats,
    /// 7-day window.
    pub d7: WindowStats,
    /// 14-day window.
    pub d14: WindowStats,
    /// Cross-metric features.
    pub interactions: Interactions,
}

/// Two records for the same day: the caller must aggregate first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("two daily records for {0}")]
pub struct DuplicateDay(pub NaiveDate);

/// Days needed for statistics in a window of `days`: ⌈days/2⌉.
pub const fn min_days(days: u32) -> u32 {
    days.div_ceil(2)
}

/// The rolling features for the windows ending on `end`.
pub fn rolling_features(records: &[DailyRecord], end: NaiveDate) -> Result<RollingFeatures, DuplicateDay> {
    let mut seen: Vec<NaiveDate> = records.iter().map(|r| r.date).collect();
    seen.sort_unstable();
    if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
        return Err(DuplicateDay(w[0]));
    }
    let [d3, d7, d14] = WINDOWS.map(|days| window(records, end, days));
    let hr_hrv = d7.heart_rate.slope.zip(d7.hrv.slope).map(|(a, b)| a * b);
    let steps_drop = match (d3.steps.mean, d14.steps.mean) {
        (Some(recent), Some(base)) if base > 0.0 => Some(1.0 - recent / base),
        _ => None,
    };
    let weight_gain = d7.weight.slope.zip(steps_drop).map(|(w, s)| w.max(0.0) * s.max(0.0));
    Ok(RollingFeatures {
        end,
        d3,
        d7,
        d14,
        interactions: Interactions {
            hr_hrv_slope_product: hr_hrv,
            steps_drop,
            weight_gain_with_steps_drop: weight_gain,
        },
    })
}

fn window(records: &[DailyRecord], end: NaiveDate, days: u32) -> WindowStats {
    // (day index from the window's first day, record)
    let inside: Vec<(f64, &DailyRecord)> = records
        .iter()
        .filter_map(|r| {
            let back = (end - r.date).num_days();
            (0..i64::from(days)).contains(&back).then(|| ((i64::from(days) - 1 - back) as f64, r))
        })
        .collect();
    let series = |get: fn(&DailyRecord) -> Option<f64>| {
        let points: Vec<(f64, f64)> =
            inside.iter().filter_map(|&(x, r)| get(r).filter(|v| v.is_finite()).map(|v| (x, v))).collect();
        stats(&points, days)
    };
    WindowStats {
        days,
        heart_rate: series(|r| r.heart_rate),
        hrv: series(|r| r.hrv),
        weight: series(|r| r.weight),
        steps: series(|r| r.steps),
        sleep: series(|r| r.sleep),
    }
}

fn stats(points: &[(f64, f64)], days: u32) -> SeriesStats {
    // One point per day of a `days`-long window, so at most `days`: saturating never bites.
    let present = u32::try_from(points.len()).unwrap_or(u32::MAX);
    let coverage = f64::from(present) / f64::from(days);
    if present < min_days(days) || present == 0 {
        return SeriesStats { mean: None, std: None, slope: None, days_present: present, coverage };
    }
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - my).powi(2)).sum();
    SeriesStats {
        mean: Some(my),
        std: Some((syy / n).sqrt()),
        slope: (present >= 2 && sxx > 0.0).then(|| sxy / sxx),
        days_present: present,
        coverage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    fn rec(d: u32, hr: f64, hrv: f64, weight: f64, steps: f64) -> DailyRecord {
        DailyRecord {
            date: day(d),
            heart_rate: Some(hr),
            hrv: Some(hrv),
            weight: Some(weight),
            steps: Some(steps),
            sleep: None,
        }
    }

    #[test]
    fn slopes_interactions_and_missing_days() {
        // Two weeks: HR +1/day, HRV −2/day, weight +0.5 kg/day, steps 8000 then 2000 for 3 days.
        let mut records: Vec<DailyRecord> = (1..=14)
            .map(|d| {
                let x = f64::from(d);
                rec(d, 60.0 + x, 60.0 - 2.0 * x, 80.0 + 0.5 * x, if d > 11 { 2000.0 } else { 8000.0 })
            })
            .collect();
        records.remove(4); // day 5 missing
        let f = rolling_features(&records, day(14)).unwrap();
        assert!((f.d7.heart_rate.slope.unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(f.d3.heart_rate.mean, Some(73.0));
        assert!((f.d3.heart_rate.std.unwrap() - (2.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!((f.d14.weight.days_present, f.d14.weight.coverage), (13, 13.0 / 14.0));
        assert!((f.interactions.hr_hrv_slope_product.unwrap() + 2.0).abs() < 1e-12);
        let drop = 1.0 - 2000.0 / ((10.0 * 8000.0 + 3.0 * 2000.0) / 13.0);
        assert!((f.interactions.steps_drop.unwrap() - drop).abs() < 1e-12);
        assert!((f.interactions.weight_gain_with_steps_drop.unwrap() - 0.5 * drop).abs() < 1e-12);
        assert_eq!(f.d7.sleep.mean, None);
    }

    #[test]
    fn too_few_days_give_none_and_duplicates_are_refused() {
        let records = [rec(1, 60.0, 50.0, 80.0, 5000.0), rec(14, 61.0, 50.0, 80.0, 5000.0)];
        let f = rolling_features(&records, day(14)).unwrap();
        assert_eq!((f.d3.heart_rate.mean, f.d3.heart_rate.days_present), (None, 1));
        assert_eq!(f.d14.heart_rate.mean, None);
        let dup = [records[0], records[0]];
        assert_eq!(rolling_features(&dup, day(14)), Err(DuplicateDay(day(1))));
    }
}

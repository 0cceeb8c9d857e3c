//! A documented, deterministic generator of synthetic 1 Hz vitals: a stable patient, or a slow
//! respiratory deterioration. For tests, the replay acceptance test and the benchmark; never
//! mistaken for real data (the CSV says SYNTHETIC in no column, so keep such files out of the
//! store: `vigil monitor --replay` without `--patient` stores nothing).
//!
//! # The model
//! Time starts at [`Scenario::start`] (Unix seconds) and runs `hours × 3600` samples, one per
//! second. Noise is a deterministic pseudo-random sequence (SplitMix64 seeded by
//! [`Scenario::seed`]); each value's noise is the sum of three uniforms in [−1, 1] times the
//! amplitude (a smooth, bounded, bell-shaped noise).
//!
//! | vital | stable | deterioration: baseline → end of ramp | noise |
//! |---|---|---|---|
//! | heart rate /min | 72 | 75 → 125 | ±2 |
//! | SpO2 % | 97 | 97 → 86 | ±0.5 (capped at 100) |
//! | respiratory rate /min | 14 | 15 → 24 | ±0.7 |
//! | temperature °C | 36.8 | 36.9 (unchanged: not an infection) | ±0.05 |
//! | RR interval ms | 60000/HR ± a beat-to-beat alternation of 40 ms | alternation 40 → 5 ms (HRV falls) | ±2 |
//!
//! The deterioration holds the baseline for the first quarter of the stream, then ramps
//! linearly to the end values over the rest. With the default 4 hours, SpO2 crosses 90 %
//! (WHO: hypoxaemia) about 2 h 55 min in: a replay must raise a hypoxia alert before the end.

use serde::{Deserialize, Serialize};

use crate::analysis::window::VitalSample;
use crate::synthetic::SplitMix64;

/// Which patient to simulate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Course {
    /// Normal vitals throughout.
    Stable,
    /// SpO2 falling slowly, heart rate and respiratory rate rising, HRV dropping.
    Deteriorating,
}

/// A synthetic stream.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// The course.
    pub course: Course,
    /// Length, hours.
    pub hours: f64,
    /// The first sample's Unix second.
    pub start: i64,
    /// Noise seed.
    pub seed: u64,
}

impl Scenario {
    /// A 4-hour stream starting 2026-01-01T08:00:00Z.
    pub fn new(course: Course, seed: u64) -> Self {
        Self { course, hours: 4.0, start: 1_767_254_400, seed }
    }

    /// The samples, one per second.
    pub fn samples(&self) -> impl Iterator<Item = VitalSample> + use<> {
        #[allow(clippy::cast_possible_truncation, reason = "hours of a scenario: far inside i64 seconds")]
        let n = (self.hours * 3600.0).round() as i64;
        let (course, start) = (self.course, self.start);
        let mut rng = SplitMix64::new(self.seed);
        (0..n).map(move |i| {
            // Fraction of the ramp done: 0 for the first quarter, then linear to 1.
            let ramp = match course {
                Course::Stable => 0.0,
                Course::Deteriorating => ((i as f64 / n as f64 - 0.25) / 0.75).clamp(0.0, 1.0),
            };
            let (hr0, hr1, spo0, spo1, rr0, rr1, t0, alt0, alt1) = match course {
                Course::Stable => (72.0, 72.0, 97.0, 97.0, 14.0, 14.0, 36.8, 40.0, 40.0),
                Course::Deteriorating => (75.0, 125.0, 97.0, 86.0, 15.0, 24.0, 36.9, 40.0, 5.0),
            };
            let lerp = |a: f64, b: f64| a + (b - a) * ramp;
            let hr = lerp(hr0, hr1) + 2.0 * bell(&mut rng);
            let spo2 = (lerp(spo0, spo1) + 0.5 * bell(&mut rng)).min(100.0);
            let rr = lerp(rr0, rr1) + 0.7 * bell(&mut rng);
            let temp = t0 + 0.05 * bell(&mut rng);
            let alternation = if i % 2 == 0 { 0.5 } else { -0.5 } * lerp(alt0, alt1);
            let rr_interval = 60_000.0 / hr + alternation + 2.0 * bell(&mut rng);
            let round = |x: f64, d: f64| (x * d).round() / d;
            VitalSample {
                time: start + i,
                heart_rate: Some(round(hr, 1.0)),
                spo2: Some(round(spo2, 1.0)),
                respiratory_rate: Some(round(rr, 1.0)),
                body_temperature: Some(round(temp, 100.0)),
                rr_interval: Some(round(rr_interval, 1.0)),
                hrv_sdnn: None,
            }
        })
    }

    /// The stream as the wide CSV (`time,heart_rate,spo2,respiratory_rate,body_temperature,
    /// rr_interval`, RFC 3339 UTC times).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("time,heart_rate,spo2,respiratory_rate,body_temperature,rr_interval\n");
        for s in self.samples() {
            let time = super::instant(s.time).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            let cell = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
            out += &format!(
                "{},{},{},{},{},{}\n",
                time.unwrap_or_default(),
                cell(s.heart_rate),
                cell(s.spo2),
                cell(s.respiratory_rate),
                cell(s.body_temperature),
                cell(s.rr_interval)
            );
        }
        out
    }
}

/// Sum of three uniforms in [−1, 1], scaled back to [−1, 1]: a cheap bell-shaped noise.
fn bell(rng: &mut SplitMix64) -> f64 {
    let mut uniform = || rng.unit() * 2.0 - 1.0;
    (uniform() + uniform() + uniform()) / 3.0
}

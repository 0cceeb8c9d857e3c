//! Each agent's model inputs: the feature names, units and order a package must declare, and
//! how they are read from an [`AssessmentContext`].
//!
//! Two schemas. The **vitals** schema (cardiology, pulmonary, early warning, infection screen)
//! is the five-minute window's features (`analysis::window`, with the latest spot values when
//! there is no window) and the latest systolic pressure. The **weight** schema (heart failure)
//! is the Kalman filter's level and trend (`analysis::kalman`) and the three-day gain of the
//! ESC/HFA rule (`analysis::heart_failure`).
//!
//! A missing feature is imputed with its neutral value (a normal adult's, listed here) so the
//! model still answers; the finding says how many were imputed, and the model is not asked at
//! all when more than half are missing (the rules answer alone).
//!
//! `hrv_mean` is the mean absolute successive RR difference the models were trained on, so it
//! is read only when the window's HRV came from RR intervals; a device's per-sample HRV stream
//! (`hrv_source: hrv_stream`) is another quantity and counts as missing here.

use super::manifest::FeatureSpec;
use crate::agents::{AssessmentContext, Specialty};
use crate::analysis::window::HrvSource;

/// One feature of a schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Feature {
    /// Its name.
    pub name: &'static str,
    /// Its UCUM unit.
    pub unit: &'static str,
    /// The value used when it is missing.
    pub neutral: f32,
}

/// An agent's input schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schema {
    /// `vitals` or `weight`.
    pub name: &'static str,
    /// In tensor order.
    pub features: &'static [Feature],
}

const fn f(name: &'static str, unit: &'static str, neutral: f32) -> Feature {
    Feature { name, unit, neutral }
}

/// The vitals schema.
pub const VITALS: Schema = Schema {
    name: "vitals",
    features: &[
        f("hr_mean", "/min", 75.0),
        f("hr_std", "/min", 3.0),
        f("spo2_mean", "%", 97.0),
        f("spo2_min", "%", 96.0),
        f("rr_mean", "/min", 16.0),
        f("temp_mean", "Cel", 37.0),
        f("hrv_mean", "ms", 35.0),
        f("bp_systolic", "mm[Hg]", 120.0),
    ],
};

/// The weight schema.
pub const WEIGHT: Schema = Schema {
    name: "weight",
    features: &[
        f("weight_kg", "kg", 75.0),
        f("trend_kg_per_week", "kg/wk", 0.0),
        f("trend_sd_kg_per_week", "kg/wk", 0.5),
        f("gain_3d_kg", "kg", 0.0),
    ],
};

/// A feature vector read from a context.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureVector {
    /// In schema order, imputed where missing.
    pub values: Vec<f32>,
    /// How many were imputed.
    pub imputed: usize,
}

impl FeatureVector {
    /// Whether enough is measured to ask a model (at most half imputed).
    pub fn usable(&self) -> bool {
        self.imputed * 2 <= self.values.len()
    }
}

impl Schema {
    /// The schema of `agent`.
    pub fn of(agent: Specialty) -> Schema {
        match agent {
            Specialty::HeartFailure => WEIGHT,
            Specialty::Cardiology
            | Specialty::Pulmonary
            | Specialty::EarlyWarning
            | Specialty::InfectionScreen => VITALS,
        }
    }

    /// The feature names, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.features.iter().map(|f| f.name).collect()
    }

    /// The features as a manifest declares them.
    pub fn specs(&self) -> Vec<FeatureSpec> {
        self.features.iter().map(|f| FeatureSpec { name: f.name.into(), unit: f.unit.into() }).collect()
    }

    /// Reads the features from `ctx`.
    pub fn extract(&self, ctx: &AssessmentContext) -> FeatureVector {
        let raw: Vec<Option<f64>> = if self.name == WEIGHT.name {
            let w = ctx.weight.as_ref();
            let latest = w.and_then(|w| w.latest.as_ref());
            vec![
                latest.and_then(|s| s.filtered),
                latest.and_then(|s| s.trend_kg_per_week),
                latest.and_then(|s| s.trend_sd_kg_per_week),
                // No rapid-gain record means the rule had no 3-day pair: a gain of 0 is not
                // known, so it is imputed (neutral 0) and counted.
                w.and_then(|w| w.rapid_gain.as_ref()).map(|g| g.gain_kg),
            ]
        } else {
            let win = ctx.window.as_ref();
            vec![
                ctx.heart_rate(),
                win.and_then(|w| w.hr_std),
                ctx.spo2(),
                win.and_then(|w| w.spo2_min).or(ctx.latest.spo2),
                ctx.respiratory_rate(),
                ctx.temperature(),
                win.filter(|w| w.hrv_source == Some(HrvSource::RrIntervals)).and_then(|w| w.hrv_mean),
                ctx.latest.bp_systolic,
            ]
        };
        let mut imputed = 0;
        let values = raw
            .iter()
            .zip(self.features)
            .map(|(v, feature)| match v {
                // The models take float32 (manifest.rs); rounding to the nearest f32 is the
                // intended narrowing, and a finite feature is far inside f32's range.
                #[allow(clippy::cast_possible_truncation, reason = "f64 to the model's f32")]
                Some(v) if v.is_finite() => *v as f32,
                _ => {
                    imputed += 1;
                    feature.neutral
                }
            })
            .collect();
        FeatureVector { values, imputed }
    }
}

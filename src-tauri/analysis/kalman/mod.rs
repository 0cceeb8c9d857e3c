//! A Kalman filter for body weight (or any slowly varying series): level and trend per day.
//!
//! # Model
//! State `x = [level, trend]` (kg, kg/day), covariance `P` (2x2). Between two measurements
//! `dt` days apart the state follows the constant-velocity model with continuous white-noise
//! acceleration (Bar-Shalom, Li & Kirubarajan, *Estimation with Applications to Tracking and
//! Navigation*, Wiley 2001, section 6.2.2, eq. 6.2.2-12; the same `Q` as filterpy's
//! `Q_continuous_white_noise(dim=2, dt, spectral_density=q)`):
//!
//! ```text
//! F = [[1, dt], [0, 1]]      Q = q * [[dt^3/3, dt^2/2], [dt^2/2, dt]]      H = [1, 0]
//! ```
//!
//! `q` ([`KalmanConfig::acceleration_psd`], kg^2/day^3) is the power spectral density of the
//! change in trend. This `Q` scales correctly with irregular `dt` (two half-day predictions
//! give the same `Q` as one whole day), unlike the piecewise-constant model. `R` is the
//! measurement variance of the measurement's [`SourceClass`].
//!
//! Predict `x = F x`, `P = F P F' + Q`; update with the Joseph form
//! `P = (I - K H) P (I - K H)' + K R K'` (Bar-Shalom et al. eq. 5.2.3-18), exactly as
//! filterpy's `KalmanFilter.predict/update`, which the integration test checks to 1e-9.
//!
//! # Life of a filter ([`process`])
//! - **Initialization.** With no state, or in the initializing phase, the measurement is
//!   buffered in the state and the result says `needs_initialization`. Once the buffer holds
//!   [`KalmanConfig::init_min_points`] points spanning at least
//!   [`KalmanConfig::init_min_span_days`], a weighted least-squares line through them is the
//!   baseline (level at the newest point, trend, and the fit's covariance scaled up by the
//!   reduced chi-square when the points scatter more than their noise; `kalman/init.rs`) and
//!   tracking starts.
//! - **Gap.** A measurement more than [`KalmanConfig::max_gap_days`] after the state's time
//!   discards the state and starts initialization again with that measurement.
//! - **Outliers.** The normalized innovation `|y| / sqrt(S)`, `y = z - H x_pred`,
//!   `S = H P_pred H' + R`, is compared with [`KalmanConfig::gate_sigma`] (3: the 1-degree
//!   chi-square validation gate `y^2/S > 9`, p = 0.0027 under the model; Bar-Shalom et al.
//!   section 5.4.2). A gated-out measurement does not move the state **and does not advance
//!   its time**: the state stays the posterior at the last accepted measurement, and the next
//!   prediction spans the whole interval. It is remembered in the state's `rejected_run`; when
//!   [`KalmanConfig::max_consecutive_outliers`] in a row are gated out, the weight has really
//!   moved (or the scale changed) and they become the buffer of a new initialization.
//! - **Invalid measurements** (absent, NaN or infinite, a source whose `R` is not a positive
//!   number) and **out-of-order** ones (older than the newest measurement the state holds,
//!   including a gated-out one) are rejected
//!   with a reason and leave the state exactly as it was. A measurement at the same instant as
//!   the state is allowed (`dt = 0`: `F = I`, `Q = 0`).
//!
//! # Confidence
//! `confidence = c^2 / (c^2 + var(level))` with `c` = [`KalmanConfig::confidence_sd_kg`]:
//! 0.5 when the level is known to within one `c` (standard deviation), towards 1 as it is
//! known better, 0 while initializing. A convention of Vigil's, not a published score.

mod init;
mod state;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use nalgebra::{Matrix2, RowVector2, Vector2};
use serde::{Deserialize, Serialize};

use crate::domain::{AbsentReason, ObservationValue};

pub use state::{FilterState, Phase, SCHEMA_VERSION, StateError, StoredPoint, Track};

use init::{baseline, days_between};

/// Which kind of scale a weight came from; each has its own measurement variance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceClass {
    /// A calibrated clinic scale, weighed by staff.
    Clinic,
    /// The patient's own scale at home (or a connected scale).
    Home,
    /// A value the patient reported, typed in by hand.
    Reported,
}

impl SourceClass {
    /// Every class, in a stable order.
    pub const ALL: [SourceClass; 3] = [SourceClass::Clinic, SourceClass::Home, SourceClass::Reported];

    /// The snake_case name used on every interface.
    pub const fn as_str(self) -> &'static str {
        match self {
            SourceClass::Clinic => "clinic",
            SourceClass::Home => "home",
            SourceClass::Reported => "reported",
        }
    }
}

/// One measurement to filter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// When it was measured.
    pub time: DateTime<Utc>,
    /// The value in kg, or why there is none.
    pub value: ObservationValue,
    /// Which kind of scale.
    pub source: SourceClass,
}

impl Measurement {
    /// A weight in kg.
    pub fn kg(time: DateTime<Utc>, kg: f64, source: SourceClass) -> Self {
        Self { time, value: ObservationValue::Quantity(kg), source }
    }
}

/// The filter's tuning. [`KalmanConfig::default`] is tuned for daily home weights of adults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KalmanConfig {
    /// Measurement variance `R` per source class, kg^2. It is the scatter of one weighing around
    /// the slowly varying "true" weight: scale error plus day-to-day variation (meals, fluid,
    /// clothes). Defaults: clinic 0.4^2, home 0.5^2, reported 1.0^2 (assumptions, not
    /// published figures; tune per cohort).
    pub measurement_variance: BTreeMap<SourceClass, f64>,
    /// `q`, the power spectral density of the trend's random walk, kg^2/day^3. Default 0.002:
    /// the trend drifts by about 0.045 kg/day per sqrt(day). With home noise this gives a
    /// steady-state trend standard deviation of about 0.65 kg/week, and a fluid gain of
    /// 0.8 kg/day still passes the 3-sigma gate (normalized innovations peak near 2.5).
    pub acceleration_psd: f64,
    /// The outlier gate on `|y| / sqrt(S)`. Default 3.
    pub gate_sigma: f64,
    /// Gated-out measurements in a row that restart initialization from them. Default 3.
    pub max_consecutive_outliers: usize,
    /// Points needed for a baseline (at least 3, enforced). Default 3.
    pub init_min_points: usize,
    /// Time the baseline points must span, days. Default 2: a trend needs days, not minutes.
    pub init_min_span_days: f64,
    /// The most points kept while initializing (oldest dropped). Default 20.
    pub init_max_points: usize,
    /// A measurement further than this after the state's time restarts initialization. Default 30.
    pub max_gap_days: f64,
    /// The level standard deviation at which `confidence` is 0.5, kg. Default 0.5.
    pub confidence_sd_kg: f64,
}

impl Default for KalmanConfig {
    fn default() -> Self {
        Self {
            measurement_variance: BTreeMap::from([
                (SourceClass::Clinic, 0.4 * 0.4),
                (SourceClass::Home, 0.5 * 0.5),
                (SourceClass::Reported, 1.0),
            ]),
            acceleration_psd: 0.002,
            gate_sigma: 3.0,
            max_consecutive_outliers: 3,
            init_min_points: 3,
            init_min_span_days: 2.0,
            init_max_points: 20,
            max_gap_days: 30.0,
            confidence_sd_kg: 0.5,
        }
    }
}

/// A configuration value that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("kalman config {field}: {problem}")]
pub struct ConfigError {
    /// The field.
    pub field: String,
    /// What is wrong.
    pub problem: String,
}

impl KalmanConfig {
    /// The measurement variance for `source`, or NaN when the map has none (which
    /// [`process`] rejects with [`RejectReason::NoMeasurementNoise`]).
    pub fn measurement_variance(&self, source: SourceClass) -> f64 {
        self.measurement_variance.get(&source).copied().unwrap_or(f64::NAN)
    }

    /// Checks every field; [`process`] stays safe with a bad config (it rejects), but the
    /// adapters call this first so the user hears about the config, not about every row.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err =
            |field: &str, problem: &str| Err(ConfigError { field: field.into(), problem: problem.into() });
        for class in SourceClass::ALL {
            let r = self.measurement_variance(class);
            if !(r.is_finite() && r > 0.0) {
                return err(&format!("measurement_variance.{}", class.as_str()), "must be a positive number");
            }
        }
        let positive = [
            ("acceleration_psd", self.acceleration_psd),
            ("gate_sigma", self.gate_sigma),
            ("max_gap_days", self.max_gap_days),
            ("confidence_sd_kg", self.confidence_sd_kg),
        ];
        for (field, v) in positive {
            if !(v.is_finite() && v > 0.0) {
                return err(field, "must be a positive number");
            }
        }
        if !(self.init_min_span_days.is_finite() && self.init_min_span_days >= 0.0) {
            return err("init_min_span_days", "must be a number >= 0");
        }
        if self.init_min_points < 3 || self.init_max_points < self.init_min_points {
            return err("init_min_points", "must be >= 3 and <= init_max_points");
        }
        if self.max_consecutive_outliers == 0 {
            return err("max_consecutive_outliers", "must be >= 1");
        }
        Ok(())
    }

    fn confidence(&self, level_variance: f64) -> f64 {
        let c2 = self.confidence_sd_kg * self.confidence_sd_kg;
        c2 / (c2 + level_variance)
    }
}

/// Why a measurement was not taken in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum RejectReason {
    /// The source sent no value.
    Missing {
        /// The source's reason.
        absent: AbsentReason,
    },
    /// NaN or infinite.
    NotFinite,
    /// The config has no positive measurement variance for this source class.
    NoMeasurementNoise {
        /// The class.
        source: SourceClass,
    },
    /// Older than the newest measurement already in the state.
    OutOfOrder {
        /// The state's newest time.
        state_time: DateTime<Utc>,
    },
    /// Failed the innovation gate.
    Outlier {
        /// `y / sqrt(S)`, signed.
        normalized_error: f64,
        /// The gate it exceeded.
        gate_sigma: f64,
    },
}

/// Why the filter started over.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum ResetCause {
    /// The measurement came too long after the state's time.
    Gap {
        /// Days since the state's newest measurement.
        days: f64,
    },
    /// This many measurements in a row failed the gate; they are the new baseline's points.
    PersistentOutliers {
        /// How many.
        count: usize,
    },
}

/// What one measurement did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// The measurement's time.
    pub time: DateTime<Utc>,
    /// Taken into the state: filtered, or buffered for initialization.
    pub accepted: bool,
    /// The filter has no baseline yet (after this step).
    pub needs_initialization: bool,
    /// See the module docs; 0 while initializing.
    pub confidence: f64,
    /// The filtered level, kg, after this step. For a rejected measurement: the unchanged
    /// state's level (at the state's time). `None` while initializing.
    pub filtered: Option<f64>,
    /// The filtered trend, kg/week (same rules as `filtered`).
    pub trend_kg_per_week: Option<f64>,
    /// Standard deviation of `trend_kg_per_week`.
    pub trend_sd_kg_per_week: Option<f64>,
    /// The innovation `z - predicted level`, kg, when a prediction was made.
    pub prediction_error: Option<f64>,
    /// The innovation over its standard deviation, when a prediction was made.
    pub normalized_error: Option<f64>,
    /// Why it was not accepted.
    pub reason: Option<RejectReason>,
    /// Set when this step started initialization over.
    pub reset: Option<ResetCause>,
}

impl StepResult {
    fn from_state(time: DateTime<Utc>, state: &FilterState, cfg: &KalmanConfig) -> Self {
        let mut r = Self {
            time,
            accepted: true,
            needs_initialization: true,
            confidence: 0.0,
            filtered: None,
            trend_kg_per_week: None,
            trend_sd_kg_per_week: None,
            prediction_error: None,
            normalized_error: None,
            reason: None,
            reset: None,
        };
        if let Phase::Tracking(t) = &state.phase {
            r.needs_initialization = false;
            r.confidence = cfg.confidence(t.p[0][0]);
            r.filtered = Some(t.x[0]);
            r.trend_kg_per_week = Some(7.0 * t.x[1]);
            r.trend_sd_kg_per_week = Some(7.0 * t.p[1][1].max(0.0).sqrt());
        }
        r
    }

    fn rejected(mut self, reason: RejectReason) -> Self {
        self.accepted = false;
        self.reason = Some(reason);
        self
    }
}

/// The state transition `F` for `dt` days.
pub fn transition(dt: f64) -> Matrix2<f64> {
    Matrix2::new(1.0, dt, 0.0, 1.0)
}

/// The continuous white-noise-acceleration process noise `Q` for `dt` days (module docs).
pub fn process_noise(dt: f64, q: f64) -> Matrix2<f64> {
    let (dt2, dt3) = (dt * dt, dt * dt * dt);
    Matrix2::new(dt3 / 3.0, dt2 / 2.0, dt2 / 2.0, dt) * q
}

/// Kalman predict over `dt` days: `x = F x`, `P = F P F' + Q`.
pub fn predict(x: &mut Vector2<f64>, p: &mut Matrix2<f64>, dt: f64, q: f64) {
    let f = transition(dt);
    *x = f * *x;
    *p = f * *p * f.transpose() + process_noise(dt, q);
}

/// The innovation `y = z - H x` and its variance `S = H P H' + R`.
pub fn innovation(x: &Vector2<f64>, p: &Matrix2<f64>, z: f64, r: f64) -> (f64, f64) {
    (z - x[0], p[(0, 0)] + r)
}

/// Kalman update with the Joseph-form covariance (module docs).
pub fn update(x: &mut Vector2<f64>, p: &mut Matrix2<f64>, z: f64, r: f64) {
    let h = RowVector2::new(1.0, 0.0);
    let (y, s) = innovation(x, p, z, r);
    let k: Vector2<f64> = *p * h.transpose() / s;
    *x += k * y;
    let i_kh = Matrix2::identity() - k * h;
    *p = i_kh * *p * i_kh.transpose() + k * r * k.transpose();
}

/// Processes one measurement against a patient's saved state (`None` for a new patient) and
/// returns the state to save with the step's result. Pure: the same inputs give the same
/// outputs, and nothing but `state` is consulted. See the module docs for the rules.
pub fn process(state: Option<&FilterState>, m: Measurement, cfg: &KalmanConfig) -> (FilterState, StepResult) {
    let empty;
    let state = match state {
        Some(s) => s,
        None => {
            empty = FilterState::initializing(Vec::new());
            &empty
        }
    };
    let reject = |reason| (state.clone(), StepResult::from_state(m.time, state, cfg).rejected(reason));
    let z = match m.value {
        ObservationValue::Absent(absent) => {
            return reject(RejectReason::Missing { absent });
        }
        ObservationValue::Quantity(z) if !z.is_finite() => {
            return reject(RejectReason::NotFinite);
        }
        ObservationValue::Quantity(z) => z,
    };
    let r = cfg.measurement_variance(m.source);
    if !(r.is_finite() && r > 0.0) {
        let reason = RejectReason::NoMeasurementNoise { source: m.source };
        return reject(reason);
    }
    let point = StoredPoint { time: m.time, value: z, source: m.source };
    let Some(last) = state.last_time() else {
        return initialize(vec![point], None, cfg);
    };
    if m.time < last {
        return reject(RejectReason::OutOfOrder { state_time: last });
    }
    // Elapsed time from the state's own time: the newest buffered point, or the last accepted
    // measurement (gated-out ones do not advance the state).
    let anchor = match &state.phase {
        Phase::Tracking(t) => t.time,
        Phase::Initializing { .. } => last,
    };
    let dt = days_between(anchor, m.time);
    if dt > cfg.max_gap_days {
        return initialize(vec![point], Some(ResetCause::Gap { days: dt }), cfg);
    }
    match &state.phase {
        Phase::Initializing { pending } => {
            let max_gap = cfg.max_gap_days;
            let mut points: Vec<StoredPoint> =
                pending.iter().filter(|p| days_between(p.time, m.time) <= max_gap).copied().collect();
            points.push(point);
            let excess = points.len().saturating_sub(cfg.init_max_points.max(cfg.init_min_points).max(3));
            points.drain(..excess);
            initialize(points, None, cfg)
        }
        Phase::Tracking(track) => track_step(track, point, dt, r, cfg),
    }
}

/// Buffers `points` and starts tracking if they make a baseline.
fn initialize(
    points: Vec<StoredPoint>,
    reset: Option<ResetCause>,
    cfg: &KalmanConfig,
) -> (FilterState, StepResult) {
    let time = points.last().map(|p| p.time).unwrap_or_default();
    let state = match baseline(&points, cfg) {
        Some(track) => FilterState::tracking(track),
        None => FilterState::initializing(points),
    };
    let mut result = StepResult::from_state(time, &state, cfg);
    result.reset = reset;
    (state, result)
}

fn track_step(
    track: &Track,
    point: StoredPoint,
    dt: f64,
    r: f64,
    cfg: &KalmanConfig,
) -> (FilterState, StepResult) {
    let mut x = Vector2::new(track.x[0], track.x[1]);
    let mut p = Matrix2::new(track.p[0][0], track.p[0][1], track.p[1][0], track.p[1][1]);
    predict(&mut x, &mut p, dt, cfg.acceleration_psd);
    let (y, s) = innovation(&x, &p, point.value, r);
    let normalized = y / s.sqrt();
    if normalized.is_nan() || normalized.abs() > cfg.gate_sigma {
        let mut rejected_run = track.rejected_run.clone();
        rejected_run.push(point);
        if rejected_run.len() >= cfg.max_consecutive_outliers {
            let count = rejected_run.len();
            return initialize(rejected_run, Some(ResetCause::PersistentOutliers { count }), cfg);
        }
        let state = FilterState::tracking(Track { rejected_run, ..track.clone() });
        let mut result = StepResult::from_state(point.time, &state, cfg)
            .rejected(RejectReason::Outlier { normalized_error: normalized, gate_sigma: cfg.gate_sigma });
        result.prediction_error = Some(y);
        result.normalized_error = Some(normalized);
        return (state, result);
    }
    update(&mut x, &mut p, point.value, r);
    let state = FilterState::tracking(Track {
        time: point.time,
        x: [x[0], x[1]],
        p: [[p[(0, 0)], p[(0, 1)]], [p[(1, 0)], p[(1, 1)]]],
        rejected_run: Vec::new(),
    });
    let mut result = StepResult::from_state(point.time, &state, cfg);
    result.prediction_error = Some(y);
    result.normalized_error = Some(normalized);
    (state, result)
}

#[cfg(test)]
mod tests;

//! The persisted filter state, its schema versions and the migration between them.
//!
//! The store keeps one [`FilterState`] per patient and series, as JSON, and replaces it in the
//! same transaction as the step's result. [`FilterState::from_json`] reads every schema version
//! Vigil has written and upgrades it to [`SCHEMA_VERSION`]; a state it cannot trust (a version
//! from the future, a non-finite number, a covariance that is not symmetric positive
//! semi-definite) is an error, never silently used: a poisoned state would bias every later
//! estimate.
//!
//! Schema history:
//! - v1 (the first tracker): `{ schema_version: 1, time, level, trend, level_variance,
//!   trend_variance }`, a diagonal covariance and no initialization phase (it started tracking
//!   from the first weight with a fixed prior). Migrated to v2 as a tracking state whose
//!   covariance is `diag(level_variance, trend_variance)`: the cross-covariance v1 never kept is
//!   taken as 0, which is conservative for a freshly reset filter and is quickly re-learnt.
//! - v2 (current): an explicit phase (`initializing` with its buffered points, or `tracking` with
//!   the full 2x2 covariance and the run of consecutive gated-out measurements).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::SourceClass;

/// The schema version this code writes.
pub const SCHEMA_VERSION: u32 = 2;

/// One patient's filter state for one series: everything [`super::process`] needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FilterState {
    /// Always [`SCHEMA_VERSION`] for a state made by this code.
    pub schema_version: u32,
    /// Collecting a baseline, or tracking.
    #[serde(flatten)]
    pub phase: Phase,
}

/// Where the filter is in its life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// Not enough measurements yet for a baseline: they wait here, oldest first.
    Initializing {
        /// The buffered measurements, in time order.
        pending: Vec<StoredPoint>,
    },
    /// The filter is running.
    Tracking(Track),
}

/// A tracking filter's estimate at the time of the last accepted measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Track {
    /// The time of the last accepted measurement: the state is the posterior at this instant.
    pub time: DateTime<Utc>,
    /// State mean: `[level (kg), trend (kg/day)]`.
    pub x: [f64; 2],
    /// State covariance, row major: `[[var(level), cov], [cov, var(trend)]]`, kg and kg/day.
    pub p: [[f64; 2]; 2],
    /// The measurements gated out since the last accepted one (at most the configured run):
    /// if the run fills, they become the new baseline (the patient's weight really moved).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected_run: Vec<StoredPoint>,
}

/// A measurement kept in the state: its time, value and source class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StoredPoint {
    /// When it was measured.
    pub time: DateTime<Utc>,
    /// The value, finite, in kg.
    pub value: f64,
    /// The kind of scale, which sets its noise.
    pub source: SourceClass,
}

/// A saved state could not be read or is not safe to use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// Not JSON of any known shape.
    #[error("filter state is not readable: {0}")]
    Malformed(String),
    /// Written by a newer Vigil than this one.
    #[error("filter state schema_version {found} is newer than this Vigil understands ({SCHEMA_VERSION})")]
    FromTheFuture {
        /// The version found.
        found: u32,
    },
    /// Parsed, but numbers that would poison the filter.
    #[error("filter state is not usable: {0}")]
    Invalid(String),
}

/// The v1 shape (see the module docs), kept only to migrate it.
#[derive(Debug, Deserialize)]
struct StateV1 {
    time: DateTime<Utc>,
    level: f64,
    trend: f64,
    level_variance: f64,
    trend_variance: f64,
}

#[derive(Deserialize)]
struct VersionProbe {
    schema_version: Option<u32>,
}

impl FilterState {
    /// A fresh state in the initializing phase holding `pending`.
    pub fn initializing(pending: Vec<StoredPoint>) -> Self {
        Self { schema_version: SCHEMA_VERSION, phase: Phase::Initializing { pending } }
    }

    /// A tracking state.
    pub fn tracking(track: Track) -> Self {
        Self { schema_version: SCHEMA_VERSION, phase: Phase::Tracking(track) }
    }

    /// The time of the newest measurement the state holds (buffered, accepted or in the run
    /// of gated-out ones), if any: anything older is out of order.
    pub fn last_time(&self) -> Option<DateTime<Utc>> {
        match &self.phase {
            Phase::Initializing { pending } => pending.last().map(|p| p.time),
            Phase::Tracking(t) => Some(t.rejected_run.last().map_or(t.time, |p| p.time.max(t.time))),
        }
    }

    /// Serializes at [`SCHEMA_VERSION`].
    pub fn to_json(&self) -> String {
        // A struct of numbers, strings and vectors always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads any schema version Vigil has written, upgrades it to [`SCHEMA_VERSION`] and checks
    /// that it is safe to filter with.
    pub fn from_json(json: &str) -> Result<Self, StateError> {
        let probe: VersionProbe =
            serde_json::from_str(json).map_err(|e| StateError::Malformed(e.to_string()))?;
        let state = match probe.schema_version {
            Some(1) => {
                let v1: StateV1 =
                    serde_json::from_str(json).map_err(|e| StateError::Malformed(e.to_string()))?;
                migrate_v1(v1)
            }
            Some(SCHEMA_VERSION) => {
                serde_json::from_str(json).map_err(|e| StateError::Malformed(e.to_string()))?
            }
            Some(found) if found > SCHEMA_VERSION => return Err(StateError::FromTheFuture { found }),
            Some(found) => return Err(StateError::Malformed(format!("unknown schema_version {found}"))),
            None => return Err(StateError::Malformed("no schema_version".into())),
        };
        state.validate()?;
        Ok(state)
    }

    /// Checks the invariants [`super::process`] relies on: finite values, points in time order,
    /// a symmetric covariance with non-negative variances and determinant.
    pub fn validate(&self) -> Result<(), StateError> {
        let bad = |m: &str| Err(StateError::Invalid(m.to_owned()));
        let points_ok =
            |pts: &[StoredPoint]| pts.iter().all(|p| p.value.is_finite()) && pts.is_sorted_by_key(|p| p.time);
        match &self.phase {
            Phase::Initializing { pending } if !points_ok(pending) => {
                bad("pending points are not finite or not in time order")
            }
            Phase::Initializing { .. } => Ok(()),
            Phase::Tracking(t) => {
                let [[a, b], [c, d]] = t.p;
                if !(t.x.iter().chain([a, b, c, d].iter()).all(|v| v.is_finite())) {
                    return bad("non-finite mean or covariance");
                }
                // Symmetric to round-off, and positive semi-definite (2x2: diagonal and
                // determinant non-negative, with a tolerance for round-off).
                let scale = a.abs().max(d.abs()).max(1e-300);
                if (b - c).abs() > 1e-9 * scale
                    || a < 0.0
                    || d < 0.0
                    || a * d - b * c < -1e-12 * scale * scale
                {
                    return bad("covariance is not symmetric positive semi-definite");
                }
                if !points_ok(&t.rejected_run) {
                    return bad("rejected points are not finite or not in time order");
                }
                Ok(())
            }
        }
    }
}

fn migrate_v1(v1: StateV1) -> FilterState {
    FilterState::tracking(Track {
        time: v1.time,
        x: [v1.level, v1.trend],
        p: [[v1.level_variance, 0.0], [0.0, v1.trend_variance]],
        rejected_run: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn v2_round_trips() {
        let s = FilterState::tracking(Track {
            time: at("2026-03-01T07:30:00Z"),
            x: [81.25, -0.03],
            p: [[0.04, 0.001], [0.001, 0.0004]],
            rejected_run: vec![StoredPoint {
                time: at("2026-03-02T07:30:00Z"),
                value: 90.0,
                source: SourceClass::Home,
            }],
        });
        let json = s.to_json();
        assert!(json.contains(r#""schema_version":2"#) && json.contains(r#""phase":"tracking""#), "{json}");
        assert_eq!(FilterState::from_json(&json).unwrap(), s);
        let init = FilterState::initializing(vec![]);
        assert_eq!(FilterState::from_json(&init.to_json()).unwrap(), init);
    }

    #[test]
    fn v1_migrates_to_a_tracking_state_with_diagonal_covariance() {
        let v1 = r#"{"schema_version":1,"time":"2025-11-02T08:00:00Z","level":79.5,"trend":0.02,
                     "level_variance":0.09,"trend_variance":0.0025}"#;
        let s = FilterState::from_json(v1).unwrap();
        assert_eq!(s.schema_version, SCHEMA_VERSION);
        assert_eq!(
            s.phase,
            Phase::Tracking(Track {
                time: at("2025-11-02T08:00:00Z"),
                x: [79.5, 0.02],
                p: [[0.09, 0.0], [0.0, 0.0025]],
                rejected_run: vec![],
            })
        );
    }

    #[test]
    fn unsafe_or_unknown_states_are_errors() {
        let future = r#"{"schema_version":9,"phase":"initializing","pending":[]}"#;
        assert_eq!(FilterState::from_json(future), Err(StateError::FromTheFuture { found: 9 }));
        assert!(matches!(FilterState::from_json("{}"), Err(StateError::Malformed(_))));
        let v1_negative = r#"{"schema_version":1,"time":"2025-11-02T08:00:00Z","level":79.5,"trend":0,
                     "level_variance":-1,"trend_variance":0.0025}"#;
        assert!(matches!(FilterState::from_json(v1_negative), Err(StateError::Invalid(_))));
        let asym = r#"{"schema_version":2,"phase":"tracking","time":"2025-11-02T08:00:00Z",
                       "x":[80,0],"p":[[1,0.5],[0.4,1]]}"#;
        assert!(matches!(FilterState::from_json(asym), Err(StateError::Invalid(_))));
    }
}

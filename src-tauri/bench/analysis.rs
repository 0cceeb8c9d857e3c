//! The analysis benchmark: "process one measurement" through the facade
//! ([`Workstation::process_weight`]: one SQLCipher transaction that loads the patient's filter
//! state, runs the Kalman step and the heart-failure rules, saves state and result, and writes
//! the audit event), against the pure filter step in memory measured in the same run.

use std::time::Instant;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use serde::Serialize;

use super::percentile;
use crate::analysis::kalman::{FilterState, KalmanConfig, Measurement, SourceClass, process};
use crate::domain::{PatientRef, SourceKind};
use crate::store::{KeySource, StoreError};
use crate::workstation::{Error, OpenOptions, WeightMeasurement, Workstation};

/// What to run.
#[derive(Debug, Clone)]
pub struct AnalysisBenchOptions {
    /// Weights processed through the store, round-robin over `patients` (one a day each).
    pub measurements: usize,
    /// Patients.
    pub patients: usize,
    /// Filter steps in memory, for the reference figure.
    pub memory_steps: usize,
}

impl Default for AnalysisBenchOptions {
    fn default() -> Self {
        Self { measurements: 2_000, patients: 20, memory_steps: 1_000_000 }
    }
}

/// The figures.
#[derive(Debug, Clone, Serialize)]
pub struct AnalysisBenchReport {
    /// Measurements processed through the store.
    pub measurements: usize,
    /// Patients they were spread over.
    pub patients: usize,
    /// Median time of one `process_weight`, ms.
    pub p50_ms: f64,
    /// 90th percentile, ms.
    pub p90_ms: f64,
    /// 99th percentile, ms.
    pub p99_ms: f64,
    /// Slowest, ms.
    pub max_ms: f64,
    /// Measurements per second through the store, one after another.
    pub per_second: f64,
    /// Pure filter steps per second in memory (one core), the reference.
    pub memory_steps_per_s: f64,
    /// Of those, measurements rejected (the series holds outliers on purpose).
    pub rejected: usize,
}

/// Runs the benchmark in a temporary encrypted store with its own key file.
pub async fn analysis_bench(o: &AnalysisBenchOptions) -> Result<AnalysisBenchReport, Error> {
    let tmp = tempfile::Builder::new()
        .prefix("vigil-bench-analysis-")
        .tempdir()
        .map_err(|source| StoreError::Io { path: std::env::temp_dir(), source })?;
    let ws = Workstation::open(OpenOptions {
        data_dir: tmp.path().join("data"),
        key_source: Some(KeySource::File(tmp.path().join("bench.key"))),
        create: true,
        purpose: crate::workstation::StorePurpose::Clinical,
    })
    .await?;
    super::sign_in_as(&ws, crate::domain::access::Role::Clinician).await?;
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap_or_default();
    let mut patients = Vec::with_capacity(o.patients.max(1));
    for p in 0..o.patients.max(1) {
        let new = super::bench_patient(p as u64, today)?;
        patients.push(PatientRef::Id(ws.add_patient(new).await?.id));
    }
    let t0: DateTime<FixedOffset> = DateTime::parse_from_rfc3339("2026-01-01T07:30:00+01:00")
        .map_err(|e| Error::Internal(e.to_string()))?;
    let mut times = Vec::with_capacity(o.measurements);
    let mut rejected = 0;
    let started = Instant::now();
    for i in 0..o.measurements {
        let p = i % patients.len();
        let day = i64::try_from(i / patients.len())
            .map_err(|_| Error::Internal(format!("measurement {i}: its day is past i64")))?;
        let m = WeightMeasurement::kg(t0 + Duration::days(day), weight(i, day), SourceKind::Manual);
        let t = Instant::now();
        let outcome = ws.process_weight(&patients[p], &m).await?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        rejected += usize::from(!outcome.result.result.accepted);
    }
    let per_second = o.measurements as f64 / started.elapsed().as_secs_f64();
    ws.close().await;
    times.sort_by(f64::total_cmp);
    Ok(AnalysisBenchReport {
        measurements: o.measurements,
        patients: patients.len(),
        p50_ms: percentile(&times, 50.0),
        p90_ms: percentile(&times, 90.0),
        p99_ms: percentile(&times, 99.0),
        max_ms: times.last().copied().unwrap_or(f64::NAN),
        per_second,
        memory_steps_per_s: memory_steps(o.memory_steps, t0),
        rejected,
    })
}

/// A slowly drifting weight with day-to-day scatter and an outlier every 97 readings.
fn weight(i: usize, day: i64) -> f64 {
    let scatter = ((i * 7919) % 100) as f64 / 100.0 - 0.5;
    let outlier = if i % 97 == 50 { 6.0 } else { 0.0 };
    80.0 + 0.01 * day as f64 + scatter + outlier
}

fn memory_steps(n: usize, t0: DateTime<FixedOffset>) -> f64 {
    let cfg = KalmanConfig::default();
    let t0 = t0.to_utc();
    let mut state: Option<FilterState> = None;
    let started = Instant::now();
    for (i, hour) in (0..n).zip(0_i64..) {
        let m = Measurement::kg(t0 + Duration::hours(hour), weight(i, hour / 24), SourceClass::Home);
        let (next, result) = process(state.as_ref(), m, &cfg);
        std::hint::black_box(result);
        state = Some(next);
    }
    n as f64 / started.elapsed().as_secs_f64()
}

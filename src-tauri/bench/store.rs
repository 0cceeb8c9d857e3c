//! The store benchmark: batch inserts through the store's own path (multi-row INSERT with
//! content deduplication, outbox message per batch) into SQLCipher and, in the same run, into a
//! plain SQLite baseline; then reads of one patient's last 24 h at 1 Hz.

use std::path::PathBuf;
use std::time::Instant;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::Serialize;

use super::percentile;
use crate::domain::{Kind, NewObservation, ObservationValue, PatientId, SourceKind};
use crate::store::{Encryption, ObservationQuery, Store, StoreError, StoreKey, TimeRange};

/// What to run.
#[derive(Debug, Clone)]
pub struct StoreBenchOptions {
    /// Observations to insert (split over `patients`, 1 Hz heart rate each).
    pub rows: u64,
    /// Patients.
    pub patients: u64,
    /// Rows per transaction (a file import commits in one).
    pub rows_per_transaction: usize,
    /// Reads of one patient's last 24 h, for the percentiles.
    pub reads: usize,
    /// Where to put the two stores (a temporary directory when `None`).
    pub dir: Option<PathBuf>,
}

impl Default for StoreBenchOptions {
    fn default() -> Self {
        Self { rows: 1_000_000, patients: 10, rows_per_transaction: 50_000, reads: 40, dir: None }
    }
}

/// One store's figures.
#[derive(Debug, Clone, Serialize)]
pub struct StoreFigures {
    /// Rows inserted per second.
    pub insert_rows_per_s: f64,
    /// Seconds for all inserts.
    pub insert_seconds: f64,
    /// Rows a 24 h read returned.
    pub read_rows: usize,
    /// Median read time, ms.
    pub read_p50_ms: f64,
    /// 99th-percentile read time, ms.
    pub read_p99_ms: f64,
    /// File size after the run, bytes.
    pub size_bytes: u64,
}

/// Both stores' figures and their ratio.
#[derive(Debug, Clone, Serialize)]
pub struct StoreBenchReport {
    /// Rows inserted in each store.
    pub rows: u64,
    /// SQLCipher.
    pub sqlcipher: StoreFigures,
    /// Plain SQLite, same schema and path.
    pub plain: StoreFigures,
    /// SQLCipher insert rate / plain insert rate.
    pub insert_ratio: f64,
    /// Plain p50 read / SQLCipher p50 read.
    pub read_ratio: f64,
}

/// Runs the benchmark. The encrypted store goes first, so any warm-up advantage is the
/// baseline's.
pub async fn store_bench(options: &StoreBenchOptions) -> Result<StoreBenchReport, StoreError> {
    let tmp = tempfile::Builder::new()
        .prefix("vigil-bench-")
        .tempdir_in(options.dir.clone().unwrap_or_else(std::env::temp_dir))
        .map_err(|source| StoreError::Io { path: std::env::temp_dir(), source })?;
    let key = StoreKey::generate()?;
    let sqlcipher = run_one(&tmp.path().join("cipher.db"), Encryption::Key(key), options).await?;
    let plain = run_one(&tmp.path().join("plain.db"), Encryption::Plain, options).await?;
    Ok(StoreBenchReport {
        rows: options.rows,
        insert_ratio: sqlcipher.insert_rows_per_s / plain.insert_rows_per_s,
        read_ratio: plain.read_p50_ms / sqlcipher.read_p50_ms,
        sqlcipher,
        plain,
    })
}

async fn run_one(
    path: &std::path::Path,
    encryption: Encryption,
    o: &StoreBenchOptions,
) -> Result<StoreFigures, StoreError> {
    let store = Store::create(path, encryption).await?;
    let end: DateTime<FixedOffset> = DateTime::parse_from_rfc3339("2026-11-23T12:00:00+01:00")
        .map_err(|e| StoreError::Corrupt { what: "bench end time", problem: e.to_string() })?;
    let per_patient = o.rows / o.patients.max(1);
    let mut ids = Vec::new();
    let mut tx = store.begin().await?;
    for p in 0..o.patients {
        let today = end.date_naive();
        let new = super::bench_patient(p, today)
            .map_err(|e| StoreError::Corrupt { what: "bench patient", problem: e.to_string() })?;
        ids.push(crate::store::insert_patient(&mut tx, &new, "bench", Utc::now()).await?.id);
    }
    tx.commit().await?;

    let started = Instant::now();
    let mut batch = Vec::with_capacity(o.rows_per_transaction);
    for &patient in &ids {
        for i in 0..per_patient {
            let before = i64::try_from(per_patient - i).map_err(|e| StoreError::Corrupt {
                what: "bench rows per patient",
                problem: e.to_string(),
            })?;
            let at = end - Duration::seconds(before);
            let hr = 60.0 + ((i * 7919) % 600) as f64 / 10.0;
            batch.push(NewObservation {
                patient_id: patient,
                kind: Kind::HeartRate,
                value: ObservationValue::Quantity(hr),
                effective: at,
            });
            if batch.len() == o.rows_per_transaction {
                commit(&store, &batch).await?;
                batch.clear();
            }
        }
    }
    commit(&store, &batch).await?;
    let insert_seconds = started.elapsed().as_secs_f64();

    let query = ObservationQuery {
        kinds: vec![Kind::HeartRate],
        range: TimeRange { since: Some((end - Duration::hours(24)).to_utc()), until: Some(end.to_utc()) },
        limit: None,
    };
    let mut times = Vec::with_capacity(o.reads);
    let mut read_rows = 0;
    for r in 0..o.reads {
        let patient: PatientId = ids[r % ids.len()];
        let t = Instant::now();
        let rows = crate::store::query_observations(store.pool(), patient, &query).await?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        read_rows = rows.len();
    }
    times.sort_by(f64::total_cmp);
    let size_bytes = store.size_bytes();
    store.close().await;
    Ok(StoreFigures {
        insert_rows_per_s: (per_patient * o.patients) as f64 / insert_seconds,
        insert_seconds,
        read_rows,
        read_p50_ms: percentile(&times, 50.0),
        read_p99_ms: percentile(&times, 99.0),
        size_bytes,
    })
}

async fn commit(store: &Store, batch: &[NewObservation]) -> Result<(), StoreError> {
    if batch.is_empty() {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    crate::store::insert_observations(&mut tx, &SourceKind::Manual, batch, Utc::now()).await?;
    tx.commit().await?;
    Ok(())
}

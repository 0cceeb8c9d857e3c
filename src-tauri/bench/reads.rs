//! Reads during a large import (issue 17): a clinician's read must answer while an import holds
//! the write lock. Measures the read latency while a CSV of `rows` heart rates is imported,
//! beside the same reads on an idle store and the import's time with and without readers.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use serde::Serialize;

use super::{bench_patient, bench_store as store, summary};
use crate::domain::PatientRef;
use crate::store::{ObservationQuery, StoreError, TimeRange};
use crate::workstation::{CancelToken, Error, ImportOptions, Workstation};

/// The figures.
#[derive(Debug, Clone, Serialize)]
pub struct ReadsBenchReport {
    /// Rows in the imported file.
    pub rows: u64,
    /// The import alone, seconds.
    pub import_alone_s: f64,
    /// The same import while reads run, seconds.
    pub import_with_reads_s: f64,
    /// Reads on an idle store: p50, p99, max (ms).
    pub idle_ms: [f64; 3],
    /// Reads while the import runs: p50, p99, max (ms).
    pub during_import_ms: [f64; 3],
    /// Reads made while the import ran.
    pub reads_during_import: usize,
    /// Reads that failed (must be 0).
    pub failed_reads: usize,
}

/// One read a clinician makes: the last hour of a patient's heart rate (3,600 rows), audited.
async fn read(ws: &Workstation, patient: &PatientRef) -> Result<f64, Error> {
    let started = Instant::now();
    let until = Utc::now() - chrono::Duration::hours(1);
    let query = ObservationQuery {
        range: TimeRange { since: Some(until - chrono::Duration::hours(1)), until: Some(until) },
        ..ObservationQuery::default()
    };
    ws.observations(patient, &query).await?;
    Ok(started.elapsed().as_secs_f64() * 1e3)
}

fn write_csv(path: &Path, mrn: &str, rows: u64, end: chrono::DateTime<Utc>) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "patient,time,kind,value,unit")?;
    let seconds = i64::try_from(rows).map_err(|_| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("rows: {rows} is past i64::MAX"))
    })?;
    let start = end - chrono::Duration::seconds(seconds);
    for (i, second) in (0..rows).zip(0_i64..) {
        let t = (start + chrono::Duration::seconds(second)).to_rfc3339_opts(SecondsFormat::Secs, true);
        writeln!(out, "{mrn},{t},heart_rate,{},/min", 55 + i % 50)?;
    }
    out.flush()
}

async fn import(ws: &Workstation, path: &Path) -> Result<f64, Error> {
    let started = Instant::now();
    ws.import_file(path, &ImportOptions::default(), &|_| {}, &CancelToken::default()).await?;
    Ok(started.elapsed().as_secs_f64())
}

/// Runs the benchmark in temporary encrypted stores.
pub async fn reads_bench(rows: u64, idle_reads: usize) -> Result<ReadsBenchReport, Error> {
    let tmp = tempfile::Builder::new()
        .prefix("vigil-bench-reads-")
        .tempdir()
        .map_err(|e| Error::Internal(e.to_string()))?;
    let dir = tmp.path();
    let today = Utc::now().date_naive();
    let io = |e: std::io::Error| Error::Store(StoreError::Io { path: dir.to_owned(), source: e });
    // The read patient: a day of 1 Hz heart rate ending an hour ago, read an hour at a time.
    let day = dir.join("day.csv");
    write_csv(&day, "BENCH-0001", 86_400, Utc::now() - chrono::Duration::minutes(30)).map_err(io)?;
    let big = dir.join("import.csv");
    write_csv(&big, "BENCH-0000", rows, Utc::now() - chrono::Duration::minutes(10)).map_err(io)?;

    let mut alone_s = f64::NAN;
    let mut report = None;
    for (name, with_reads) in [("alone", false), ("reads", true)] {
        let ws = store(dir, name).await?;
        ws.add_patient(bench_patient(0, today)?).await?;
        ws.add_patient(bench_patient(1, today)?).await?;
        import(&ws, &day).await?;
        if !with_reads {
            alone_s = import(&ws, &big).await?;
            ws.close().await;
            continue;
        }
        let reader = PatientRef::Mrn("BENCH-0001".into());
        let mut idle = Vec::with_capacity(idle_reads);
        for _ in 0..idle_reads {
            idle.push(read(&ws, &reader).await?);
        }
        let done = Arc::new(AtomicBool::new(false));
        let importer = {
            let (ws, big, done) = (ws.clone(), big.clone(), done.clone());
            tokio::spawn(async move {
                let r = import(&ws, &big).await;
                done.store(true, Ordering::Release);
                r
            })
        };
        let (mut during, mut failed) = (Vec::new(), 0);
        while !done.load(Ordering::Acquire) {
            match read(&ws, &reader).await {
                Ok(ms) if !done.load(Ordering::Acquire) => during.push(ms),
                Ok(_) => {}
                Err(_) => failed += 1,
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let with_reads_s = importer.await.map_err(|e| Error::Internal(e.to_string()))??;
        report = Some(ReadsBenchReport {
            rows,
            import_alone_s: alone_s,
            import_with_reads_s: with_reads_s,
            idle_ms: summary(idle),
            reads_during_import: during.len(),
            during_import_ms: summary(during),
            failed_reads: failed,
        });
        ws.close().await;
    }
    report.ok_or_else(|| Error::Internal("no report".into()))
}

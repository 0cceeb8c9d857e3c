//! A process killed (SIGKILL) in the middle of a write loop loses no committed data.
//!
//! The test runs its own binary again as the writer (selected by an environment variable), reads
//! the writer's "committed N" lines until one passes 5,000, lets the writer run two batches
//! ahead of what it read (as a slow reader would), kills it without warning, reads the lines it
//! announced before dying, reopens the store and checks `PRAGMA integrity_check` and the counts
//! against the last announced commit.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use sqlx::Connection;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::{DateTime, Duration};
use vigil::OpenOptions;
use vigil::domain::{
    Consent, Kind, NewObservation, NewPatient, ObservationValue, PatientRef, Sex, SourceKind,
};
use vigil::store::KeySource;
use vigil::workstation::STORE_FILE;

const WRITER_ENV: &str = "VIGIL_TEST_CRASH_WRITER_DIR";
const BATCH: i64 = 250;

fn options(dir: &Path) -> OpenOptions {
    OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create: false,
        purpose: vigil::workstation::StorePurpose::Clinical,
    }
}

/// The writer: commits batches forever (bounded), announcing each commit after it returns.
async fn write_loop(dir: &Path) {
    let ws = common::open(options(dir)).await;
    let patient = ws.patient(&PatientRef::Mrn("CRASH-1".into())).await.unwrap();
    let start = DateTime::parse_from_rfc3339("2026-11-23T00:00:00+00:00").unwrap();
    for round in 0..2_000i64 {
        let batch: Vec<NewObservation> = (0..BATCH)
            .map(|i| {
                let at = start + Duration::seconds(round * BATCH + i);
                NewObservation::new(patient.id, Kind::HeartRate, ObservationValue::Quantity(70.0), at)
                    .unwrap()
            })
            .collect();
        ws.record_observations(&SourceKind::Manual, &batch).await.unwrap();
        println!("committed {}", (round + 1) * BATCH);
    }
}

/// Reads the writer's next whole line; a "committed N" line sets `last`. False at the end of its
/// output. A line cut by the kill (no newline) is not an announcement.
fn read_commit(out: &mut impl BufRead, last: &mut i64) -> bool {
    let mut line = String::new();
    match out.read_line(&mut line) {
        Ok(0) | Err(_) => false,
        Ok(_) => {
            if let Some(n) = line.strip_suffix('\n').and_then(|l| l.strip_prefix("committed ")) {
                *last = n.parse().unwrap_or_else(|e| panic!("writer line {line:?}: {e}"));
            }
            true
        }
    }
}

#[tokio::test]
async fn a_killed_writer_loses_no_committed_data() {
    if let Some(dir) = std::env::var_os(WRITER_ENV) {
        write_loop(Path::new(&dir)).await;
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ws = common::open(OpenOptions { create: true, ..options(dir.path()) }).await;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    ws.add_patient(
        NewPatient::new("CRASH-1", "Crash Test", None, Sex::Unknown, Consent::FULL, today).unwrap(),
    )
    .await
    .unwrap();
    ws.close().await;

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_killed_writer_loses_no_committed_data", "--nocapture", "--test-threads=1"])
        .env(WRITER_ENV, dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut last_reported = 0i64;
    while last_reported < 20 * BATCH && read_commit(&mut stdout, &mut last_reported) {}
    assert!(last_reported >= 20 * BATCH, "the writer stopped early at {last_reported}");
    // A reader slower than the writer, as on a busy machine: let the writer commit two more
    // batches than this test has read (it then has announced at least one of them).
    let threshold = last_reported;
    let key = KeySource::File(dir.path().join("vigil.key")).load().unwrap().unwrap();
    let mut conn = common::raw_connection(&dir.path().join("data").join(STORE_FILE), &key, false).await;
    while child.try_wait().unwrap().is_none() {
        let (n,): (i64,) = sqlx::query_as("SELECT n FROM counters WHERE name = 'observations'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if n >= threshold + 2 * BATCH {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    conn.close().await.unwrap();
    child.kill().unwrap(); // SIGKILL: no destructors, no WAL checkpoint
    child.wait().unwrap();
    // Drain what the writer announced before the kill, so the comparison is with its last
    // announced commit, not the first over the threshold.
    while read_commit(&mut stdout, &mut last_reported) {}
    assert!(last_reported > threshold, "the writer ran ahead: {last_reported} after {threshold}");

    let ws = common::open(options(dir.path())).await;
    as_role!(&ws, Auditor, ws.integrity_check().await).unwrap();
    let stored = ws.status().await.unwrap().observations;
    // Every announced commit is there; at most the one batch committed between its commit and
    // its announcement is too, and never a part of a batch.
    assert!(
        stored == last_reported || stored == last_reported + BATCH,
        "stored {stored}, last announced commit {last_reported} (first over the threshold {threshold})"
    );
    let verified = as_role!(&ws, Auditor, ws.verify_audit().await).unwrap();
    assert_eq!(verified.first_broken, None);
}

//! A process killed (SIGKILL) in the middle of a write loop loses no committed data.
//!
//! The test runs its own binary again as the writer (selected by an environment variable), reads
//! the writer's "committed N" lines, kills it without warning, reopens the store and checks
//! `PRAGMA integrity_check` and the counts.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use chrono::{DateTime, Duration};
use vigil::domain::{
    Consent, Kind, NewObservation, NewPatient, ObservationValue, PatientRef, Sex, SourceKind,
};
use vigil::store::KeySource;
use vigil::{OpenOptions, Workstation};

const WRITER_ENV: &str = "VIGIL_TEST_CRASH_WRITER_DIR";
const BATCH: i64 = 250;

fn options(dir: &Path) -> OpenOptions {
    OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create: false,
    }
}

/// The writer: commits batches forever (bounded), announcing each commit after it returns.
async fn write_loop(dir: &Path) {
    let ws = Workstation::open(options(dir)).await.unwrap();
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

#[tokio::test]
async fn a_killed_writer_loses_no_committed_data() {
    if let Some(dir) = std::env::var_os(WRITER_ENV) {
        write_loop(Path::new(&dir)).await;
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ws = Workstation::open(OpenOptions { create: true, ..options(dir.path()) }).await.unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    ws.add_patient(
        NewPatient::new("CRASH-1", "Crash Test", None, Sex::Unknown, Consent::default(), today).unwrap(),
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
    let mut last_reported = 0i64;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(Ok(line)) = lines.next() {
        if let Some(n) = line.strip_prefix("committed ") {
            last_reported = n.parse().unwrap();
            if last_reported >= 20 * BATCH {
                break;
            }
        }
    }
    child.kill().unwrap(); // SIGKILL: no destructors, no WAL checkpoint
    child.wait().unwrap();
    assert!(last_reported >= 20 * BATCH, "the writer stopped early at {last_reported}");

    let ws = Workstation::open(options(dir.path())).await.unwrap();
    ws.integrity_check().await.unwrap();
    let stored = ws.status().await.unwrap().observations;
    // Every reported commit is there; at most the one batch committed after the last report
    // is too, and never a part of a batch.
    assert!(
        stored == last_reported || stored == last_reported + BATCH,
        "stored {stored}, last reported commit {last_reported}"
    );
    let verified = ws.verify_audit().await.unwrap();
    assert_eq!(verified.first_broken, None);
}

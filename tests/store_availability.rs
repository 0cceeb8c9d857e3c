//! Reads that no writer can block, and a full disk that does not blind the clinician (issue 17).
//!
//! The import below is held open inside its write transaction (its progress callback waits for
//! the test), so "the read completed while the import held the write lock" is a fact the test
//! arranges, not a race it hopes to win. Before the audit spool, each of these reads waited 10 s
//! for the lock and failed with "database is locked".

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::io::Write;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use vigil::domain::{
    Consent, Kind, NewObservation, NewPatient, ObservationValue, PatientRef, Sex, SourceKind,
};
use vigil::export::ExportFormat;
use vigil::store::{KeySource, ObservationQuery};
use vigil::workstation::{CancelToken, ImportOptions};
use vigil::{OpenOptions, Workstation};

async fn workstation(data_dir: &Path, key: &Path) -> Workstation {
    let options = OpenOptions {
        data_dir: data_dir.to_owned(),
        key_source: Some(KeySource::File(key.to_owned())),
        create: true,
        purpose: vigil::workstation::StorePurpose::Clinical,
    };
    common::open(options).await
}

async fn add(ws: &Workstation, mrn: &str) {
    let today = Utc::now().date_naive();
    ws.add_patient(NewPatient::new(mrn, "Test Patient", None, Sex::Unknown, Consent::FULL, today).unwrap())
        .await
        .unwrap();
}

/// `rows` heart rates, one a second, ending an hour ago.
fn heart_rate_csv(path: &Path, mrn: &str, rows: i64) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(out, "patient,time,kind,value,unit").unwrap();
    let start = Utc::now() - chrono::Duration::hours(1) - chrono::Duration::seconds(rows);
    for i in 0..rows {
        let t = (start + chrono::Duration::seconds(i)).to_rfc3339_opts(SecondsFormat::Secs, true);
        writeln!(out, "{mrn},{t},heart_rate,{},/min", 60 + i % 40).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_complete_while_an_import_holds_the_write_lock_and_a_second_import_waits() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(&dir.path().join("data"), &dir.path().join("key")).await;
    add(&ws, "MRN-1").await;
    add(&ws, "MRN-2").await;
    let big = dir.path().join("big.csv");
    heart_rate_csv(&big, "MRN-1", 20_000);
    let small = dir.path().join("small.csv");
    heart_rate_csv(&small, "MRN-2", 50);

    // The first progress report comes from inside the import's write transaction, after its
    // first chunk is inserted: hold the import there until the test says so.
    let (held_tx, held_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let gate = Arc::new(Mutex::new(Some((held_tx, release_rx))));
    let importer = {
        let (ws, big, gate) = (ws.clone(), big.clone(), gate.clone());
        tokio::spawn(async move {
            let progress = move |p: vigil::workstation::ImportProgress| {
                if p.records > 0 && p.records < 20_000 {
                    if let Some((held, release)) = gate.lock().unwrap().take() {
                        held.send(()).unwrap();
                        release.recv_timeout(Duration::from_secs(120)).unwrap();
                    }
                }
            };
            ws.import_file(&big, &ImportOptions::default(), &progress, &CancelToken::default()).await
        })
    };
    tokio::task::spawn_blocking(move || held_rx.recv_timeout(Duration::from_secs(120)).unwrap())
        .await
        .unwrap();

    // The import holds the write lock now. Every read answers, from the last committed state.
    let mrn1 = PatientRef::Mrn("MRN-1".into());
    assert_eq!(ws.patients().await.unwrap().len(), 2);
    let (_, rows) = ws.observations(&mrn1, &ObservationQuery::default()).await.unwrap();
    assert_eq!(rows.len(), 0, "the import has not committed: a read sees none of it");
    ws.export(&mrn1, ExportFormat::Csv).await.unwrap();
    ws.patient(&mrn1).await.unwrap();
    assert!(!importer.is_finished(), "the reads above completed while the import held the lock");

    // A second import waits for the first instead of failing with "database is locked".
    let second = {
        let (ws, small) = (ws.clone(), small.clone());
        tokio::spawn(async move {
            ws.import_file(&small, &ImportOptions::default(), &|_| {}, &CancelToken::default()).await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!second.is_finished(), "the second import queues behind the first");
    release_tx.send(()).unwrap();
    let first = importer.await.unwrap().unwrap();
    let second = second.await.unwrap().unwrap();
    assert_eq!((first.added, second.added), (20_000, 50));

    // Every read was audited: spooled during the import, chained by the next write.
    let verified = as_role!(&ws, Auditor, ws.verify_audit().await).unwrap();
    assert_eq!((verified.first_broken, verified.spooled, verified.waiting_in_memory), (None, 0, 0));
    let audit = as_role!(&ws, Auditor, ws.recent_audit(50).await).unwrap();
    let actions: Vec<&str> = audit.iter().map(|(_, _, a, _)| a.as_str()).collect();
    for read in ["patient.list", "observations.read", "patient.export", "patient.read"] {
        assert!(actions.contains(&read), "{read} audited: {actions:?}");
    }
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// A small tmpfs, unmounted when dropped.
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Self {
        std::fs::create_dir_all(at).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .status()
            .unwrap();
        assert!(status.success(), "mount a tmpfs at {}", at.display());
        Self(at.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system holding `dir` to the last byte.
fn fill(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![0xA5u8; 4096];
    while file.write_all(&block).is_ok() {}
    let _ = file.write_all(&[0]);
    let _ = file.sync_all();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_keeps_reads_working_and_says_which_disk_is_full() {
    if !is_root() {
        // CI runs as root; a developer's unprivileged run cannot mount a small file system.
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mount = Tmpfs::mount(&dir.path().join("small-disk"), "6m");
    let data = mount.0.join("data");
    let key = dir.path().join("key");
    let ws = workstation(&data, &key).await;
    add(&ws, "MRN-F").await;
    let patient = ws.patient(&PatientRef::Mrn("MRN-F".into())).await.unwrap();
    let t = Utc::now() - chrono::Duration::minutes(5);
    let batch: Vec<NewObservation> = (0..100)
        .map(|i| {
            let at = (t + chrono::Duration::seconds(i)).fixed_offset();
            NewObservation::new(patient.id, Kind::HeartRate, ObservationValue::Quantity(70.0), at).unwrap()
        })
        .collect();
    ws.record_observations(&SourceKind::Manual, &batch).await.unwrap();
    let filler = fill(&mount.0);

    // Reads keep working, and their audit events are kept (spooled, or held in memory).
    let mrn = PatientRef::Mrn("MRN-F".into());
    for _ in 0..5 {
        let (_, rows) = ws.observations(&mrn, &ObservationQuery::default()).await.unwrap();
        assert_eq!(rows.len(), 100);
    }

    // A write fails whole and says which disk is full.
    let more: Vec<NewObservation> = (0..5_000)
        .map(|i| {
            let at = (t - chrono::Duration::seconds(i + 1)).fixed_offset();
            NewObservation::new(patient.id, Kind::HeartRate, ObservationValue::Quantity(71.0), at).unwrap()
        })
        .collect();
    let err = ws.record_observations(&SourceKind::Manual, &more).await.unwrap_err();
    assert!(vigil::workstation::disk::is_disk_full(&err), "{err}");
    let message = vigil::workstation::disk::disk_full_message(&data, None);
    assert!(
        message.contains(&data.display().to_string()) && message.contains("free at least 16.0 MiB"),
        "{message}"
    );
    assert_eq!(ws.status().await.unwrap().observations, 100, "nothing of the failed write was stored");

    // Room again: the events held back are written, then chained; none was lost.
    std::fs::remove_file(filler).unwrap();
    ws.patients().await.unwrap();
    let verified = as_role!(&ws, Auditor, ws.verify_audit().await).unwrap();
    assert_eq!((verified.first_broken, verified.spooled, verified.waiting_in_memory), (None, 0, 0));
    let audit = as_role!(&ws, Auditor, ws.recent_audit(100).await).unwrap();
    let reads = audit.iter().filter(|(_, _, a, _)| a == "observations.read").count();
    // The five identical reads are one event (held in memory on the full disk, now chained)
    // and a count of four, written when the store closes (store/audit_coalesce.rs).
    assert_eq!(reads, 1, "the read made on the full disk is in the audit trail");
    // And writes work again: no connection was left stuck in the failed transaction.
    for _ in 0..6 {
        ws.record_observations(&SourceKind::Manual, &more[..10]).await.unwrap();
    }
    assert_eq!(ws.status().await.unwrap().observations, 110);
    ws.close().await;
    let ws = workstation(&data, &key).await;
    assert!(as_role!(&ws, Auditor, ws.verify_audit().await).unwrap().intact());
    let mut export = Vec::new();
    as_role!(
        &ws,
        Auditor,
        ws.export_audit(&vigil::workstation::AuditSelection::default(), &mut export, Path::new("memory"))
            .await
    )
    .unwrap();
    let counted: Vec<u64> = String::from_utf8(export)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["action"] == "observations.read")
        .filter_map(|e| serde_json::from_str::<serde_json::Value>(e["detail"].as_str()?).ok())
        .filter_map(|d| d["coalesced"]["reads"].as_u64())
        .collect();
    assert_eq!(counted, [4], "every read made on the full disk is counted in the audit trail");
    ws.close().await;
    drop(mount);
}

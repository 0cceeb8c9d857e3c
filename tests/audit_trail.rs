//! The audit trail beyond its hash chain (issue 12): the anchor kept beside the key catches an
//! older copy of the store, a deleted tail and a tampered anchor; the export is checked offline
//! and names its first bad line; identical timer-driven reads are coalesced.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use sqlx::Connection;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use vigil::domain::{Consent, NewPatient, Patient, PatientRef, Sex};
use vigil::store::{AnchorCheck, KeySource};
use vigil::workstation::{AuditSelection, STORE_FILE};
use vigil::{OpenOptions, Workstation};

fn options(dir: &Path, create: bool) -> OpenOptions {
    OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create,
        purpose: vigil::workstation::StorePurpose::Clinical,
    }
}

fn patient(mrn: &str) -> NewPatient {
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    NewPatient::new(
        mrn,
        "Ada Example",
        NaiveDate::from_ymd_opt(1948, 3, 14),
        Sex::Female,
        Consent::default(),
        today,
    )
    .unwrap()
}

async fn store_with(dir: &Path, mrns: &[&str]) -> Vec<Patient> {
    let ws = common::open(options(dir, true)).await;
    let mut added = Vec::new();
    for mrn in mrns {
        added.push(ws.add_patient(patient(mrn)).await.unwrap());
    }
    ws.close().await;
    added
}

/// The anchor file beside the key file (one store per test directory).
fn anchor_file(dir: &Path) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("vigil.key.audit-anchor-"))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.into_iter().next().unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

async fn verify(dir: &Path) -> vigil::store::AuditVerification {
    let ws = common::open(options(dir, false)).await;
    let verified = as_role!(&ws, Auditor, ws.verify_audit().await).unwrap();
    ws.close().await;
    verified
}

fn problem(check: &AnchorCheck) -> &str {
    match check {
        AnchorCheck::Failed { problem, .. } => problem,
        other => panic!("expected a failed anchor, got {other:?}"),
    }
}

/// The event the anchor beside the key stands at.
fn anchored_seq(dir: &Path) -> i64 {
    let text = std::fs::read_to_string(anchor_file(dir)).unwrap();
    let anchor: serde_json::Value = serde_json::from_str(&text).unwrap();
    anchor["seq"].as_i64().unwrap_or_else(|| panic!("no seq in the anchor: {text}"))
}

/// The two event numbers of "the store's audit chain ends at event X but its anchor, written
/// ..., is at event Y: ...".
fn ends_before_anchor(problem: &str) -> (i64, i64) {
    let number = |after: &str| -> i64 {
        let rest =
            &problem[problem.find(after).unwrap_or_else(|| panic!("{after:?} in {problem}")) + after.len()..];
        rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
    };
    assert!(
        problem.starts_with("the store's audit chain ends at event ")
            && problem.ends_with(": this is an older copy of the store or its tail was deleted"),
        "{problem}"
    );
    (number("ends at event "), number(", is at event "))
}

async fn add_patients(dir: &Path, prefix: &str, n: i64) {
    let ws = common::open(options(dir, false)).await;
    for i in 0..n {
        ws.add_patient(patient(&format!("{prefix}-{i}"))).await.unwrap();
    }
    ws.close().await;
}

#[tokio::test]
async fn an_older_copy_of_the_store_fails_verify_and_the_anchor_stays_as_evidence() {
    let dir = tempfile::tempdir().unwrap();
    store_with(dir.path(), &["MRN-1"]).await;
    let first = verify(dir.path()).await;
    assert!(first.intact(), "{first:?}");
    assert!(
        matches!(first.anchor, AnchorCheck::Matched { head, .. } if head == first.head),
        "verify moves the anchor to the head: {first:?}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(anchor_file(dir.path())).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // A backup of the data directory, then more work.
    let backed_up = anchored_seq(dir.path());
    assert!(backed_up >= first.head);
    copy_dir(&dir.path().join("data"), &dir.path().join("backup"));
    add_patients(dir.path(), "MRN-LATER", 5).await;
    let anchored = anchored_seq(dir.path());
    assert!(
        anchored >= backed_up + 5,
        "five patient.create events moved the anchor: {backed_up} -> {anchored}"
    );
    // The backup is restored over the data directory.
    std::fs::remove_dir_all(dir.path().join("data")).unwrap();
    copy_dir(&dir.path().join("backup"), &dir.path().join("data"));

    let verified = verify(dir.path()).await;
    assert_eq!(verified.first_broken, None, "the older copy is a valid chain by itself");
    assert!(!verified.intact());
    let (ends, at) = ends_before_anchor(problem(&verified.anchor));
    assert_eq!(at, anchored, "names the anchored event");
    assert!(backed_up <= ends && ends < anchored, "{ends} is the restored copy's head");
    // Work on the restored copy does not wash the evidence away, even once its chain is longer
    // than the anchored one: the anchor is never moved onto a chain that does not hold the
    // anchored event.
    add_patients(dir.path(), "MRN-RESTORED", anchored - ends + 1).await;
    let again = verify(dir.path()).await;
    assert!(again.head > anchored, "{again:?}");
    let problem = self::problem(&again.anchor);
    assert!(
        problem.starts_with(&format!("the store's event {anchored} is not the one its anchor")),
        "{problem}"
    );
    assert_eq!(anchored_seq(dir.path()), anchored, "the anchor stays where it was");
}

#[tokio::test]
async fn a_deleted_audit_tail_fails_verify() {
    let dir = tempfile::tempdir().unwrap();
    store_with(dir.path(), &["MRN-1", "MRN-2", "MRN-3"]).await;
    assert!(verify(dir.path()).await.intact());
    let anchored = anchored_seq(dir.path());
    // Below the facade, with the key: drop the append-only trigger and cut the last two events.
    let key = KeySource::File(dir.path().join("vigil.key")).load().unwrap().unwrap();
    let path = dir.path().join("data").join(STORE_FILE);
    let mut conn = common::raw_connection(&path, &key, false).await;
    let head: i64 = sqlx::query_scalar("SELECT MAX(seq) FROM audit").fetch_one(&mut conn).await.unwrap();
    assert_eq!(head, anchored, "the anchor stands at the head after close");
    let cut = head - 2;
    sqlx::query("DROP TRIGGER audit_no_delete").execute(&mut conn).await.unwrap();
    sqlx::query("DELETE FROM audit WHERE seq > ?").bind(cut).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();

    // The next write (verify chains the sign-ins it spooled) follows the survivors with a gap,
    // and the anchored event is gone: both tell.
    let verified = verify(dir.path()).await;
    assert_eq!(verified.first_broken, Some(head + 1), "{verified:?}");
    assert_eq!(
        verified.problem.as_deref(),
        Some(
            format!("events {} to {head} are missing: event {} follows event {cut}", cut + 1, head + 1)
                .as_str()
        )
    );
    let problem = problem(&verified.anchor);
    assert!(problem.contains(&format!("event {head}")), "names the anchored event: {problem}");
    assert!(!verified.intact());
    // More work does not hide it.
    add_patients(dir.path(), "MRN-9", 1).await;
    let again = verify(dir.path()).await;
    assert_eq!(again.first_broken, Some(head + 1));
    assert!(again.anchor.failed(), "{:?}", again.anchor);
}

#[tokio::test]
async fn a_tampered_or_foreign_anchor_fails_verify() {
    let dir = tempfile::tempdir().unwrap();
    store_with(dir.path(), &["MRN-1"]).await;
    assert!(verify(dir.path()).await.intact());
    let file = anchor_file(dir.path());
    let original = std::fs::read_to_string(&file).unwrap();
    // Someone lowers the anchor to hide a cut.
    let seq = anchored_seq(dir.path());
    let lowered = original.replace(&format!("\"seq\":{seq}"), &format!("\"seq\":{}", seq - 1));
    assert_ne!(lowered, original);
    std::fs::write(&file, lowered).unwrap();
    let verified = verify(dir.path()).await;
    let problem = problem(&verified.anchor);
    assert!(
        problem.ends_with("does not authenticate: it was altered, or it was made with another store's key"),
        "{problem}"
    );
    assert!(problem.contains(&file.display().to_string()), "names the file: {problem}");

    // Another store's anchor copied in its place does not authenticate either.
    let other = tempfile::tempdir().unwrap();
    store_with(other.path(), &["MRN-X"]).await;
    assert!(verify(other.path()).await.intact());
    std::fs::copy(anchor_file(other.path()), &file).unwrap();
    assert!(problem_of(dir.path()).await.contains("does not authenticate"));

    // Garbage is named as such.
    std::fs::write(&file, "{}").unwrap();
    assert!(problem_of(dir.path()).await.contains("is not a Vigil audit anchor"));
}

async fn problem_of(dir: &Path) -> String {
    problem(&verify(dir).await.anchor).to_owned()
}

#[tokio::test]
async fn a_store_without_an_anchor_gets_one_and_verify_says_so() {
    let dir = tempfile::tempdir().unwrap();
    store_with(dir.path(), &["MRN-1"]).await;
    std::fs::remove_file(anchor_file(dir.path())).unwrap();
    let verified = verify(dir.path()).await;
    assert!(verified.intact());
    let made = match &verified.anchor {
        AnchorCheck::Created { seq, .. } => *seq,
        other => panic!("expected an anchor made, got {other:?}"),
    };
    assert_eq!(made, verified.head, "made at the head");
    assert!(anchor_file(dir.path()).exists());
    let again = verify(dir.path()).await;
    assert!(
        matches!(again.anchor, AnchorCheck::Matched { seq, head, .. } if seq >= made && head == again.head),
        "{:?}",
        again.anchor
    );
}

async fn export(
    ws: &Workstation,
    selection: &AuditSelection,
) -> (Vec<u8>, vigil::workstation::AuditExportReport) {
    let mut out = Vec::new();
    let report =
        as_role!(&ws, Auditor, ws.export_audit(selection, &mut out, Path::new("memory")).await).unwrap();
    (out, report)
}

fn check(bytes: &[u8]) -> Result<vigil::store::CheckedExport, vigil::store::ExportFault> {
    vigil::store::check_export(bytes)
}

#[tokio::test]
async fn an_export_checks_offline_and_the_first_bad_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let added = store_with(dir.path(), &["MRN-1", "MRN-2"]).await;
    let ws = common::open(options(dir.path(), false)).await;
    ws.patient(&PatientRef::Mrn("MRN-1".into())).await.unwrap();
    as_role!(&ws, Auditor, ws.verify_audit().await).unwrap(); // chains the spooled read

    let (whole, report) = export(&ws, &AuditSelection::default()).await;
    let checked = check(&whole).unwrap();
    assert!(checked.complete);
    // Every event from the first, one line each, then the head line.
    let lines: Vec<&str> = std::str::from_utf8(&whole).unwrap().lines().collect();
    let events = i64::try_from(lines.len()).unwrap() - 1;
    assert_eq!(
        (i64::try_from(checked.events).unwrap(), checked.head_seq, i64::try_from(report.rows).unwrap()),
        (events, events, events)
    );
    assert!(matches!(checked.anchor_seq, Some(seq) if 0 < seq && seq <= events), "{checked:?}");
    let json = |i: usize| serde_json::from_str::<serde_json::Value>(lines[i]).unwrap();
    let created = |patient: &Patient| {
        (0..lines.len() - 1)
            .find(|&i| {
                let e = json(i);
                e["action"] == "patient.create"
                    && e["patient"].as_str() == Some(patient.id.to_string().as_str())
            })
            .unwrap_or_else(|| panic!("no patient.create of {}", patient.id))
    };
    let (first, second) = (created(&added[0]), created(&added[1]));
    assert!(0 < first && first < second && second + 1 < lines.len() - 1, "{first} {second}");
    for i in 0..lines.len() - 1 {
        assert_eq!(
            json(i)["seq"].as_i64(),
            Some(i64::try_from(i).unwrap() + 1),
            "line {} is event {}",
            i + 1,
            i + 1
        );
    }

    // One altered field: that line is named (the first patient.create).
    let altered = String::from_utf8(whole.clone()).unwrap().replacen("patient.create", "patient.update", 1);
    let fault = check(altered.as_bytes()).unwrap_err();
    assert_eq!(fault.line, first + 1);
    assert_eq!(
        fault.problem,
        format!("event {}: its hash does not follow from its fields: the line was altered", first + 1)
    );
    // A line removed from a complete export: the gap is named at the line after it.
    let removed: Vec<&str> =
        lines.iter().enumerate().filter(|&(i, _)| i != second).map(|(_, l)| *l).collect();
    let fault = check(removed.join("\n").as_bytes()).unwrap_err();
    let (gone, next) = (second + 1, second + 2);
    assert_eq!(
        (fault.line, fault.problem.as_str()),
        (second + 1, format!("event {gone} is missing: event {next} follows event {second}").as_str())
    );
    // Cut short: no head.
    let cut = lines[..=second].join("\n");
    assert_eq!(check(cut.as_bytes()).unwrap_err().line, second + 2);

    // A filtered export: its own events check, not their linkage; the export is audited with its
    // filters, destination and SHA-256.
    let mrn1 = AuditSelection { patient: Some(PatientRef::Mrn("MRN-1".into())), ..AuditSelection::default() };
    let path = dir.path().join("out").join("mrn1.jsonl");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let report = as_role!(&ws, Auditor, ws.export_audit_to_file(&mrn1, &path).await).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let checked = check(&bytes).unwrap();
    assert_eq!((checked.events, checked.complete), (2, false), "patient.create and patient.read");
    assert_eq!(report.sha256, hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes)));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    assert!(as_role!(&ws, Auditor, ws.verify_audit().await).unwrap().intact());
    let (after, _) = export(&ws, &AuditSelection::default()).await;
    let text = String::from_utf8(after).unwrap();
    let audited: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["action"] == "audit.export")
        .collect();
    assert_eq!(audited.len(), 2, "both exports are audited: {text}");
    let detail: serde_json::Value = serde_json::from_str(audited[1]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["sha256"].as_str(), Some(report.sha256.as_str()));
    assert_eq!(detail["rows"], 2);
    assert_eq!(detail["destination"].as_str(), Some(path.display().to_string().as_str()));
    assert_eq!(detail["filters"]["patient"].as_str(), Some(added[0].id.to_string().as_str()));
    assert_eq!(audited[1]["patient"].as_str(), Some(added[0].id.to_string().as_str()));
    ws.close().await;
}

#[tokio::test]
async fn identical_reads_within_the_window_write_one_row_and_their_count() {
    let dir = tempfile::tempdir().unwrap();
    store_with(dir.path(), &["MRN-1", "MRN-2"]).await;
    let ws = common::open(options(dir.path(), false)).await;
    let mrn1 = PatientRef::Mrn("MRN-1".into());
    for _ in 0..100 {
        ws.patient(&mrn1).await.unwrap();
    }
    ws.patient(&PatientRef::Mrn("MRN-2".into())).await.unwrap();
    assert!(as_role!(&ws, Auditor, ws.verify_audit().await).unwrap().intact());
    let (bytes, _) = export(&ws, &AuditSelection::default()).await;
    let reads: Vec<serde_json::Value> = std::str::from_utf8(&bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["action"] == "patient.read")
        .collect();
    assert_eq!(reads.len(), 2, "one row per patient: {reads:?}");
    assert_ne!(reads[0]["patient"], reads[1]["patient"]);
    ws.close().await;

    // The 99 reads counted are written at close, as an event of their own.
    let ws = common::open(options(dir.path(), false)).await;
    assert!(as_role!(&ws, Auditor, ws.verify_audit().await).unwrap().intact());
    let (bytes, _) = export(&ws, &AuditSelection::default()).await;
    let counts: Vec<serde_json::Value> = std::str::from_utf8(&bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["action"] == "patient.read" && e["detail"].as_str().unwrap().contains("coalesced"))
        .collect();
    assert_eq!(counts.len(), 1, "{counts:?}");
    let detail: serde_json::Value = serde_json::from_str(counts[0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["coalesced"]["reads"], 99);
    assert_eq!(counts[0]["patient"], reads[0]["patient"]);
    ws.close().await;
}

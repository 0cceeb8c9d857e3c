//! The trust-boundary defects of issue 12, one regression test each: exports written by the
//! facade (owner-only, audited with destination and digest), CSV formula cells, and the
//! store's purpose (clinical or demo) with what it refuses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use sqlx::Connection;
use std::path::Path;

use chrono::{NaiveDate, Utc};
use ring::signature::Ed25519KeyPair;
use vigil::domain::{
    Consent, Kind, NewObservation, NewPatient, ObservationValue, PatientRef, Sex, SourceKind,
};
use vigil::export::ExportFormat;
use vigil::models::package;
use vigil::models::trust::generate_signing_key;
use vigil::store::{KeySource, StoreKey};
use vigil::workstation::{CancelToken, ImportOptions, Rollout, StorePurpose};
use vigil::{Error, OpenOptions, Workstation};

fn options(dir: &Path, purpose: StorePurpose) -> OpenOptions {
    OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create: true,
        purpose,
    }
}

async fn clinical(dir: &Path) -> Workstation {
    common::open(options(dir, StorePurpose::Clinical)).await
}

/// A patient with MRN `mrn` and three heart rates.
async fn patient_with_readings(ws: &Workstation, mrn: &str) {
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let p = ws
        .add_patient(NewPatient::new(mrn, "Test Patient", None, Sex::Unknown, Consent::FULL, today).unwrap())
        .await
        .unwrap();
    let batch: Vec<_> = [72.0, 80.5, 91.0]
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let at = chrono::DateTime::parse_from_rfc3339(&format!("2026-11-20T08:0{i}:00+01:00")).unwrap();
            NewObservation::new(p.id, Kind::HeartRate, ObservationValue::Quantity(*v), at).unwrap()
        })
        .collect();
    ws.record_observations(&SourceKind::Manual, &batch).await.unwrap();
}

/// The chained audit details of `action`, read below the facade after a fold.
async fn audit_details(ws: &Workstation, dir: &Path, action: &str) -> Vec<serde_json::Value> {
    as_role!(ws, Auditor, ws.verify_audit().await).unwrap(); // folds the read spool into the chain
    let key = StoreKey::from_hex(&std::fs::read_to_string(dir.join("vigil.key")).unwrap()).unwrap();
    let mut conn = common::raw_connection(&dir.join("data/vigil.db"), &key, false).await;
    let rows: Vec<String> = sqlx::query_scalar("SELECT detail FROM audit WHERE action = ? ORDER BY seq")
        .bind(action)
        .fetch_all(&mut conn)
        .await
        .unwrap();
    rows.iter().map(|d| serde_json::from_str(d).unwrap()).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

#[tokio::test]
async fn export_was_written_by_the_cli_unaudited() {
    let dir = tempfile::tempdir().unwrap();
    let ws = clinical(dir.path()).await;
    patient_with_readings(&ws, "MRN-1").await;
    let mrn = PatientRef::Mrn("MRN-1".into());
    let out = dir.path().join("out.csv");
    std::fs::write(&out, "an older file, readable by all").unwrap();
    let receipt = ws.export_to(&mrn, ExportFormat::Csv, &out).await.unwrap();
    let bytes = std::fs::read(&out).unwrap();
    assert!(
        bytes.starts_with(b"patient,time,kind,value,unit\nMRN-1,"),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert_eq!(
        (receipt.sha256.clone(), receipt.bytes, receipt.rows),
        (sha256_hex(&bytes), bytes.len() as u64, 3)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the export replaced the old file with an owner-only one");
    }
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(!names.iter().any(|n| n.to_string_lossy().ends_with(".part")), "{names:?}");

    // Standard output: the text returned, audited as such with its digest.
    let text = ws.export(&mrn, ExportFormat::Fhir).await.unwrap();
    // A destination that cannot be written: an error naming it, nothing audited for it.
    let missing = dir.path().join("no-such-dir/out.csv");
    let err = ws.export_to(&mrn, ExportFormat::Csv, &missing).await.unwrap_err().to_string();
    assert!(err.contains("no-such-dir") && err.contains("does not exist"), "{err}");

    let details = audit_details(&ws, dir.path(), "patient.export").await;
    assert_eq!(details.len(), 2, "{details:?}");
    assert_eq!(details[0]["destination"], out.canonicalize().unwrap().display().to_string());
    assert_eq!(details[0]["sha256"], sha256_hex(&bytes));
    assert_eq!(details[0]["format"], "csv");
    assert_eq!(details[1]["destination"], "stdout");
    assert_eq!(details[1]["sha256"], sha256_hex(text.as_bytes()));
    assert_eq!(details[1]["format"], "fhir");
    ws.close().await;
}

#[tokio::test]
async fn csv_export_formula_cells_and_the_import_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let ws = clinical(dir.path()).await;
    let mrn = "=HYPERLINK(\"http://x\")";
    patient_with_readings(&ws, mrn).await;
    let out = dir.path().join("formula.csv");
    ws.export_to(&PatientRef::Mrn(mrn.into()), ExportFormat::Csv, &out).await.unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    for line in text.lines().skip(1) {
        assert!(line.starts_with("\"'=HYPERLINK(\"\"http://x\"\")\","), "{line}");
    }
    assert!(text.contains(",80.5,"), "numbers are written as numbers: {text}");
    // Vigil imports its own export back: the same patient, every reading already there.
    let report =
        ws.import_file(&out, &ImportOptions::default(), &|_| {}, &CancelToken::default()).await.unwrap();
    let counts = (report.accepted, report.duplicates, report.added, report.rejected_total);
    assert_eq!(counts, (3, 3, 0, 0), "{:?}", report.rejected);
    ws.close().await;
}

#[tokio::test]
async fn vigil_demo_seeded_a_clinical_store() {
    let dir = tempfile::tempdir().unwrap();
    let ws = clinical(dir.path()).await;
    assert_eq!(ws.purpose().await.unwrap(), StorePurpose::Clinical);
    let err = as_role!(&ws, It, ws.seed_demo(Utc::now()).await).unwrap_err();
    assert!(matches!(err, Error::ClinicalStore(_)), "{err}");
    assert!(err.to_string().contains("is a clinical store"), "{err}");
    let status = ws.status().await.unwrap();
    assert_eq!((status.patients, status.observations, status.demo), (0, 0, false), "nothing changed");
    assert!(audit_details(&ws, dir.path(), "patient.create").await.is_empty());
    ws.close().await;

    // A demo store, made by `vigil demo`, says so.
    let dir = tempfile::tempdir().unwrap();
    let ws = common::open(options(dir.path(), StorePurpose::Demo)).await;
    assert_eq!(ws.status().await.unwrap().purpose, StorePurpose::Demo);
    // Opening it as the window does (create, clinical) keeps its purpose.
    ws.close().await;
    let ws = common::open(OpenOptions::create(dir.path().join("data")).with_key(dir.path())).await;
    assert_eq!(ws.purpose().await.unwrap(), StorePurpose::Demo);
    assert_eq!(audit_details(&ws, dir.path(), "store.create").await[0]["purpose"], "demo");
    ws.close().await;
}

#[tokio::test]
async fn a_store_older_than_purposes_is_demo_only_with_the_demo_mark() {
    let dir = tempfile::tempdir().unwrap();
    let ws = clinical(dir.path()).await;
    ws.close().await;
    let key = StoreKey::from_hex(&std::fs::read_to_string(dir.path().join("vigil.key")).unwrap()).unwrap();
    let db = dir.path().join("data/vigil.db");
    let mut conn = common::raw_connection(&db, &key, false).await;
    sqlx::query("DELETE FROM store_meta WHERE key = 'purpose'").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let ws = clinical(dir.path()).await;
    assert_eq!(ws.purpose().await.unwrap(), StorePurpose::Clinical);
    ws.close().await;
    let mut conn = common::raw_connection(&db, &key, false).await;
    sqlx::query("INSERT INTO store_meta (key, value) VALUES ('demo', 'true')")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let ws = clinical(dir.path()).await;
    assert_eq!(ws.purpose().await.unwrap(), StorePurpose::Demo);
    ws.close().await;
}

fn fixture(name: &str, file: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models").join(name).join(file))
        .unwrap()
}

#[tokio::test]
async fn a_clinical_store_installed_demonstration_models() {
    let dir = tempfile::tempdir().unwrap();
    let ws = clinical(dir.path()).await;
    // The development key is never trusted by a clinical store.
    let err = as_role!(&ws, It, ws.add_trusted_key(vigil::models::defaults::DEV_PUBLIC_KEY, "dev").await)
        .unwrap_err();
    assert!(err.to_string().contains("a clinical store does not trust it"), "{err}");
    assert!(as_role!(&ws, It, ws.trust_set().await).unwrap().keys.is_empty());
    // A package marked as a demonstration, signed by a key IT trusts, is refused all the same.
    let (pkcs8, public) = generate_signing_key().unwrap();
    let key = Ed25519KeyPair::from_pkcs8(&pkcs8).unwrap();
    as_role!(&ws, It, ws.add_trusted_key(&hex::encode(public), "clinic test key").await).unwrap();
    let dir_name = "early-warning-gbt-1.0.0";
    let bytes = package::build(
        &fixture(dir_name, "manifest.json"),
        &fixture(dir_name, "model.onnx"),
        &fixture(dir_name, "test_vectors.json"),
        &key,
    )
    .unwrap();
    let err = as_role!(&ws, It, ws.install_package_bytes("demo.vigilpkg", bytes, Rollout::Activate).await)
        .unwrap_err();
    assert!(err.to_string().contains("its manifest marks it a demonstration model"), "{err}");
    let refused = audit_details(&ws, dir.path(), "model.refused").await;
    assert_eq!(refused.len(), 1, "the refusal is audited");
    // Nothing installed; the view says the built-in demonstration models are not loaded.
    let view = ws.packages().await.unwrap();
    assert!(view.packages.is_empty());
    assert_eq!(view.purpose, StorePurpose::Clinical);
    assert!(view.note.unwrap().contains("built-in demonstration models are not loaded"));
    ws.close().await;
}

/// `OpenOptions` with the test's key file.
trait WithKey {
    fn with_key(self, dir: &Path) -> Self;
}

impl WithKey for OpenOptions {
    fn with_key(mut self, dir: &Path) -> Self {
        self.key_source = Some(KeySource::File(dir.join("vigil.key")));
        self
    }
}

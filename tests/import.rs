//! File import through the facade: exact values into the encrypted store, re-imports that add
//! nothing, rejections that name where, and all-or-nothing per file.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use vigil::domain::{Consent, Kind, NewPatient, ObservationValue, PatientRef, Sex};
use vigil::store::{KeySource, ObservationQuery};
use vigil::workstation::{CancelToken, ImportOptions, ImportReport};
use vigil::{Error, OpenOptions, Workstation};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ingest").join(path)
}

async fn workstation(dir: &Path) -> Workstation {
    let options = OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create: true,
        purpose: vigil::workstation::StorePurpose::Clinical,
    };
    common::open(options).await
}

async fn add(ws: &Workstation, mrn: &str) {
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    ws.add_patient(NewPatient::new(mrn, "Test Patient", None, Sex::Unknown, Consent::FULL, today).unwrap())
        .await
        .unwrap();
}

async fn import(ws: &Workstation, path: &Path, options: &ImportOptions) -> Result<ImportReport, Error> {
    ws.import_file(path, options, &|_| {}, &CancelToken::default()).await
}

async fn values(ws: &Workstation, mrn: &str, kind: Kind) -> Vec<(String, ObservationValue)> {
    let query = ObservationQuery { kinds: vec![kind], ..Default::default() };
    let (_, obs) = ws.observations(&PatientRef::Mrn(mrn.into()), &query).await.unwrap();
    obs.into_iter().map(|o| (o.effective.to_rfc3339(), o.value)).collect()
}

#[tokio::test]
async fn official_fhir_vital_signs_land_in_the_store_with_their_exact_values() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    let report = import(&ws, &fixture("fhir/official-vitals-transaction.json"), &ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(report.patients_created, 1, "the bundle's Patient is created by its MR identifier");
    // A file records no consent (issue 12): the new patient's readings wait for it, each
    // rejected with the reason, and nothing of theirs is stored.
    let patients = ws.patients().await.unwrap();
    let mrn = &patients[0].mrn;
    let refused = format!("patient {} has not consented to monitoring", patients[0].id);
    assert!(report.accepted == 0 && report.rejected_total > 0, "{report:?}");
    assert!(report.rejected.iter().all(|r| r.reason == refused), "{:?}", report.rejected);
    assert_eq!(ws.status().await.unwrap().observations, 0);
    let consent = Consent { monitoring: true, clinic_sync: false, research: false };
    ws.set_consent(&PatientRef::Mrn(mrn.clone()), consent, Some("signed form M-1")).await.unwrap();
    let report = import(&ws, &fixture("fhir/official-vitals-transaction.json"), &ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(report.patients_created, 0);
    assert_eq!(report.rejected_total, 0, "{:?}", report.rejected);
    // Values as written in hl7.fhir.r4.examples 4.0.1 (Observation-heart-rate.json etc.),
    // converted to the store's one unit per kind.
    let q = ObservationValue::Quantity;
    assert_eq!(values(&ws, mrn, Kind::HeartRate).await, [("1999-07-02T00:00:00+00:00".into(), q(44.0))]);
    assert_eq!(values(&ws, mrn, Kind::BpSystolic).await, [("2012-09-17T00:00:00+00:00".into(), q(107.0))]);
    assert_eq!(values(&ws, mrn, Kind::BpDiastolic).await, [("2012-09-17T00:00:00+00:00".into(), q(60.0))]);
    assert_eq!(
        values(&ws, mrn, Kind::BodyTemperature).await,
        [("1999-07-02T00:00:00+00:00".into(), q(36.5))]
    );
    assert_eq!(
        values(&ws, mrn, Kind::RespiratoryRate).await,
        [("1999-07-02T00:00:00+00:00".into(), q(26.0))]
    );
    assert_eq!(values(&ws, mrn, Kind::Spo2).await, [("2014-12-05T09:30:10+01:00".into(), q(95.0))]);
    // 185 [lb_av] x 0.45359237 kg/[lb_av] (UCUM).
    assert_eq!(
        values(&ws, mrn, Kind::BodyWeight).await,
        [("2016-03-28T00:00:00+00:00".into(), q(185.0 * 0.45359237))]
    );

    let again = import(&ws, &fixture("fhir/official-vitals-transaction.json"), &ImportOptions::default())
        .await
        .unwrap();
    assert_eq!((again.added, again.duplicates, again.patients_created), (0, report.accepted, 0));
}

#[tokio::test]
async fn reimporting_a_csv_adds_nothing_and_dry_runs_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    add(&ws, "MRN-1001").await;
    let dry = ImportOptions {
        patient: Some(PatientRef::Mrn("MRN-1001".into())),
        dry_run: true,
        ..Default::default()
    };
    let report = import(&ws, &fixture("csv/wide.csv"), &dry).await.unwrap();
    assert!(report.accepted > 0 && report.added == 0 && report.dry_run);
    assert_eq!(ws.status().await.unwrap().observations, 0);

    let options = ImportOptions { dry_run: false, ..dry };
    let first = import(&ws, &fixture("csv/wide.csv"), &options).await.unwrap();
    assert_eq!(first.added, first.accepted);
    let stored = ws.status().await.unwrap().observations;
    assert_eq!(u64::try_from(stored).unwrap(), first.added);
    let second = import(&ws, &fixture("csv/wide.csv"), &options).await.unwrap();
    assert_eq!((second.added, second.duplicates), (0, first.accepted));
    assert_eq!(ws.status().await.unwrap().observations, stored);
    assert_eq!(first.by_kind.values().sum::<u64>(), first.accepted);
}

#[tokio::test]
async fn rejections_name_the_line_and_records_without_a_known_patient_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    add(&ws, "MRN-1001").await;
    let report = import(&ws, &fixture("csv/long.csv"), &ImportOptions::default()).await.unwrap();
    assert!(report.added > 0);
    let unknown = report
        .rejected
        .iter()
        .find(|r| r.reason.contains("MRN-1002"))
        .expect("the unknown patient is reported");
    assert!(unknown.reason.contains("neither in this file nor in this store"), "{}", unknown.reason);

    let report = import(&ws, &fixture("csv/long-with-errors.csv"), &ImportOptions::default()).await.unwrap();
    let offset = report.rejected.iter().find(|r| r.location.line == Some(4)).unwrap();
    assert_eq!(offset.location.file, "long-with-errors.csv");
    assert!(offset.reason.starts_with("time: '2024-03-01T08:01:00' has no UTC offset"), "{}", offset.reason);
    assert_eq!(usize::try_from(report.rejected_total).unwrap(), report.rejected.len());

    let wide = import(&ws, &fixture("csv/wide.csv"), &ImportOptions::default()).await.unwrap();
    assert_eq!(wide.added, 0);
    assert!(wide.rejected[0].reason.contains("pass --patient"), "{:?}", wide.rejected);

    let missing = ImportOptions { patient: Some(PatientRef::Mrn("NOBODY".into())), ..Default::default() };
    let err = import(&ws, &fixture("csv/wide.csv"), &missing).await.unwrap_err();
    assert!(matches!(err, Error::PatientNotFound(_)), "{err}");
}

#[tokio::test]
async fn a_structurally_broken_file_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    let err = import(&ws, &fixture("fhir/broken.json"), &ImportOptions::default()).await.unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("broken.json:4: not valid JSON"), "{text}");
    assert!(text.ends_with("nothing from this file was stored"), "{text}");
    assert_eq!(ws.status().await.unwrap().observations, 0);
}

fn big_csv(dir: &Path, rows: usize) -> PathBuf {
    let path = dir.join("big.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    writeln!(file, "patient,time,kind,value,unit").unwrap();
    for i in 0..rows {
        let (h, m, s) = (i / 3600 % 24, i / 60 % 60, i % 60);
        writeln!(
            file,
            "MRN-BIG,2026-0{}-01T{h:02}:{m:02}:{s:02}+01:00,heart_rate,{},/min",
            1 + i / 86_400,
            60 + i % 50
        )
        .unwrap();
    }
    path
}

#[tokio::test]
async fn a_cancel_midway_stores_nothing_of_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    add(&ws, "MRN-BIG").await;
    let path = big_csv(dir.path(), 60_000);
    let cancel = CancelToken::default();
    let seen = std::sync::atomic::AtomicU64::new(0);
    let progress = |p: vigil::workstation::ImportProgress| {
        seen.store(p.records, std::sync::atomic::Ordering::Relaxed);
        if p.records >= 10_000 {
            cancel.cancel(); // after some chunks were already inserted in the transaction
        }
    };
    let err = ws.import_file(&path, &ImportOptions::default(), &progress, &cancel).await.unwrap_err();
    assert!(matches!(err, Error::Cancelled(_)), "{err}");
    assert!(
        seen.load(std::sync::atomic::Ordering::Relaxed) >= 10_000,
        "records were inserted before the cancel"
    );
    assert_eq!(ws.status().await.unwrap().observations, 0);
    assert!(
        as_role!(&ws, Auditor, ws.pending_outbox(10).await)
            .unwrap()
            .iter()
            .all(|m| m.entity != "observations")
    );

    // The same file then imports whole.
    let report = import(&ws, &path, &ImportOptions::default()).await.unwrap();
    assert_eq!((report.added, report.rejected_total), (60_000, 0));
    assert_eq!(ws.status().await.unwrap().observations, 60_000);
}

/// The parser's own view of a file, for comparing with what reached the store.
fn parsed(format: vigil::ingest::Format, path: &Path) -> vigil::ingest::CollectingSink {
    let mut sink = vigil::ingest::CollectingSink::default();
    let reader = std::io::BufReader::new(std::fs::File::open(path).unwrap());
    vigil::ingest::parse(format, &path.file_name().unwrap().to_string_lossy(), reader, &mut sink).unwrap();
    sink
}

#[tokio::test]
async fn a_real_fit_file_imports_every_beat_once() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    add(&ws, "MRN-FIT").await;
    let path = fixture("fit/hrv-activity.fit");
    let options = ImportOptions { patient: Some(PatientRef::Mrn("MRN-FIT".into())), ..Default::default() };
    let report = import(&ws, &path, &options).await.unwrap();
    assert_eq!(report.format, vigil::ingest::Format::Fit, "detected from the FIT header");
    // 2,705 RR intervals in the Edge 530 recording (fitparser's fixture), plus its heart rates.
    assert_eq!(report.by_kind["rr_interval"], 2705);
    let sink = parsed(vigil::ingest::Format::Fit, &path);
    assert_eq!(usize::try_from(report.accepted).unwrap(), sink.records.len());
    let stored = values(&ws, "MRN-FIT", Kind::RrInterval).await;
    assert_eq!(stored.len(), 2705, "every beat has its own instant, none deduplicated away");
    assert_eq!(stored[0].1, ObservationValue::Quantity(467.0));
    assert_eq!(stored[2704].1, ObservationValue::Quantity(409.0));
    let again = import(&ws, &path, &options).await.unwrap();
    assert_eq!((again.added, again.duplicates), (0, report.accepted));
}

#[tokio::test]
async fn an_apple_health_export_imports_and_a_truncated_one_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    add(&ws, "MRN-APPLE").await;
    let options = ImportOptions { patient: Some(PatientRef::Mrn("MRN-APPLE".into())), ..Default::default() };
    let full = fixture("apple_health/export.xml");
    let sink = parsed(vigil::ingest::Format::AppleHealth, &full);

    // Cut the export in the middle of its records: the records before the cut parse, and none
    // of them may be stored. (Rollback after chunks were inserted is pinned by the cancel test.)
    let bytes = std::fs::read(&full).unwrap();
    let cut = dir.path().join("export-cut.xml");
    std::fs::write(&cut, &bytes[..bytes.len() * 3 / 4]).unwrap();
    let err = import(&ws, &cut, &options).await.unwrap_err();
    assert!(err.to_string().ends_with("nothing from this file was stored"), "{err}");
    assert_eq!(ws.status().await.unwrap().observations, 0);

    let report = import(&ws, &full, &options).await.unwrap();
    assert_eq!(report.format, vigil::ingest::Format::AppleHealth);
    assert_eq!(usize::try_from(report.accepted).unwrap(), sink.records.len());
    assert_eq!(usize::try_from(report.rejected_total).unwrap(), sink.rejections.len());
    assert_eq!(u64::try_from(ws.status().await.unwrap().observations).unwrap(), report.added);
}

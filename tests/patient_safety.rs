//! Regression tests for the patient-safety defects found at the inputs (issue 17): a reading
//! from the future hiding the current vitals, a FHIR subject that names someone else stored
//! under `--patient`, a FHIR Patient merged into a different person, and files that are not
//! files. Each runs through the facade on a real encrypted store.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate, SecondsFormat, Utc};
use vigil::agents::OrchestratorConfig;
use vigil::domain::{Consent, NewPatient, PatientRef, Sex};
use vigil::store::{KeySource, ObservationQuery};
use vigil::workstation::{CancelToken, ImportOptions, ImportReport};
use vigil::{Error, OpenOptions, Workstation};

async fn workstation(dir: &Path) -> Workstation {
    let options = OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create: true,
        purpose: vigil::workstation::StorePurpose::Demo,
    };
    common::open(options).await
}

async fn add(ws: &Workstation, mrn: &str, name: &str, born: Option<&str>, sex: Sex) {
    let today = Utc::now().date_naive();
    let born = born.map(|b| b.parse::<NaiveDate>().unwrap());
    ws.add_patient(NewPatient::new(mrn, name, born, sex, Consent::FULL, today).unwrap()).await.unwrap();
}

async fn import(ws: &Workstation, path: &Path, patient: Option<&str>) -> Result<ImportReport, Error> {
    let options = ImportOptions { patient: patient.map(PatientRef::parse), ..Default::default() };
    ws.import_file(path, &options, &|_| {}, &CancelToken::default()).await
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path).unwrap().write_all(text.as_bytes()).unwrap();
    path
}

async fn count(ws: &Workstation, mrn: &str) -> usize {
    let (_, obs) = ws.observations(&PatientRef::Mrn(mrn.into()), &ObservationQuery::default()).await.unwrap();
    obs.len()
}

fn stamp(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A deteriorating patient's vitals a minute ago, as a long CSV.
fn sick_vitals(mrn: &str) -> String {
    let t = stamp(Utc::now() - Duration::minutes(1));
    let mut csv = String::from("patient,time,kind,value,unit\n");
    for (kind, value) in [
        ("heart_rate", "135"),
        ("spo2", "86"),
        ("respiratory_rate", "28"),
        ("body_temperature", "38.9"),
        ("bp_systolic", "88"),
        ("bp_diastolic", "50"),
    ] {
        csv.push_str(&format!("{mrn},{t},{kind},{value},\n"));
    }
    csv
}

#[tokio::test]
async fn future_reading_is_refused_and_the_worklist_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    add(&ws, "MRN-1", "Ada Example", Some("1950-01-01"), Sex::Female).await;
    import(&ws, &write(dir.path(), "now.csv", &sick_vitals("MRN-1")), None).await.unwrap();
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await.unwrap();
    let before = ws.worklist(&orchestrator).await.unwrap().rows.remove(0);
    assert_eq!(before.latest.iter().find(|v| v.kind == "heart_rate").map(|v| v.value), Some(135.0));
    assert_ne!(before.risk_level, "low");

    // The reported defect: a "normal" reading dated 2031 became the latest and hid the others.
    let future = "patient,time,kind,value,unit\n\
                  MRN-1,2031-01-01T08:00:00Z,heart_rate,70,\n\
                  MRN-1,2031-01-01T08:00:00Z,spo2,98,\n\
                  MRN-1,0001-01-01T00:00:00Z,heart_rate,70,\n\
                  MRN-1,9999-12-31T23:59:59Z,spo2,98,\n\
                  MRN-1,1949-06-01T00:00:00Z,spo2,98,\n";
    let report = import(&ws, &write(dir.path(), "future.csv", future), None).await.unwrap();
    assert_eq!((report.added, report.rejected_total), (0, 5), "{:?}", report.rejected);
    let reasons: Vec<&str> = report.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert!(reasons[0].contains("ahead of this workstation's clock"), "{}", reasons[0]);
    assert!(reasons[0].contains("2031-01-01T08:00:00+00:00"), "the reason names the time: {}", reasons[0]);
    assert_eq!(
        report.rejected[0].location.element.as_deref(),
        Some("heart_rate at 2031-01-01T08:00:00+00:00")
    );
    assert!(reasons[2].contains("before 1900-01-01"), "{}", reasons[2]);
    assert!(reasons[3].contains("ahead of this workstation's clock"), "{}", reasons[3]);
    assert!(reasons[4].contains("before the patient's birth date 1950-01-01"), "{}", reasons[4]);

    let after = ws.worklist(&orchestrator).await.unwrap().rows.remove(0);
    assert_eq!(after.latest, before.latest);
    assert_eq!((after.risk_level, after.risk_score), (before.risk_level, before.risk_score));
}

#[tokio::test]
async fn a_stored_future_reading_is_never_the_latest() {
    // A store may hold readings ahead of the clock that an earlier tolerance allowed (or that
    // an older Vigil accepted). Allow a day, store a reading 6 h ahead, then tighten the setting:
    // the screens and the assessment must not take that reading as the latest.
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    add(&ws, "MRN-2", "Ben Example", None, Sex::Male).await;
    import(&ws, &write(dir.path(), "now.csv", &sick_vitals("MRN-2")), None).await.unwrap();
    as_role!(&ws, Admin, ws.set_setting("future_tolerance_minutes", "1440").await).unwrap();
    let ahead = stamp(Utc::now() + Duration::hours(6));
    let csv = format!("patient,time,kind,value,unit\nMRN-2,{ahead},heart_rate,70,\nMRN-2,{ahead},spo2,98,\n");
    let report = import(&ws, &write(dir.path(), "ahead.csv", &csv), None).await.unwrap();
    assert_eq!(report.added, 2, "{:?}", report.rejected);
    as_role!(&ws, Admin, ws.set_setting("future_tolerance_minutes", "5").await).unwrap();

    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await.unwrap();
    let row = ws.worklist(&orchestrator).await.unwrap().rows.remove(0);
    assert_eq!(row.latest.iter().find(|v| v.kind == "heart_rate").map(|v| v.value), Some(135.0));
    assert_eq!(row.latest.iter().find(|v| v.kind == "spo2").map(|v| v.value), Some(86.0));
    let view = ws.patient_view(&orchestrator, &PatientRef::Mrn("MRN-2".into())).await.unwrap();
    assert_eq!(view.latest.iter().find(|v| v.kind == "spo2").map(|v| v.value), Some(86.0));
    assert!(view.news2.unwrap().aggregate >= 7, "NEWS2 scores the real current vitals");
}

#[tokio::test]
async fn out_of_range_settings_are_refused_with_the_range() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    let err = as_role!(&ws, Admin, ws.set_setting("future_tolerance_minutes", "100000").await)
        .unwrap_err()
        .to_string();
    assert!(err.contains("from 0 to 1440") && err.contains("100000"), "{err}");
    let err = as_role!(&ws, Admin, ws.set_setting("no_such_setting", "1").await).unwrap_err().to_string();
    assert!(err.contains("'no_such_setting' is not a setting"), "{err}");
    let values = ws.settings().await.unwrap();
    assert_eq!((values[0].value, values[0].origin), (5, "default"));
}

fn observation(subject: &str, value: u32) -> String {
    let t = stamp(Utc::now() - Duration::minutes(10));
    format!(
        r#"{{"resource": {{"resourceType": "Observation", "status": "final",
             "code": {{"coding": [{{"system": "http://loinc.org", "code": "8867-4"}}]}},
             "subject": {subject}, "effectiveDateTime": "{t}",
             "valueQuantity": {{"value": {value}, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}}}}}"#
    )
}

fn bundle(entries: &[String]) -> String {
    format!(r#"{{"resourceType": "Bundle", "type": "collection", "entry": [{}]}}"#, entries.join(","))
}

#[tokio::test]
async fn fhir_subject_not_in_the_file_or_store_is_rejected_and_never_given_to_patient() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    add(&ws, "MRN-P", "Pat Default", None, Sex::Unknown).await;
    let stranger = uuid::Uuid::now_v7();
    let subjects = [
        r#"{"reference": "Patient/p3"}"#.to_owned(),
        format!(r#"{{"reference": "urn:uuid:{stranger}"}}"#),
        r##"{"reference": "#contained-patient"}"##.to_owned(),
        r#"{"reference": "https://ehr.example.org/fhir/Patient/77"}"#.to_owned(),
        r#"{"identifier": {"system": "urn:mrn", "value": "MRN-DOES-NOT-EXIST"}}"#.to_owned(),
        r#"{"display": "Somebody Else"}"#.to_owned(),
    ];
    let entries: Vec<String> =
        subjects.iter().enumerate().map(|(i, s)| observation(s, 60 + u32::try_from(i).unwrap())).collect();
    let file = write(dir.path(), "others.json", &bundle(&entries));

    let report = import(&ws, &file, Some("MRN-P")).await.unwrap();
    assert_eq!(report.added, 0, "nothing of another patient lands under --patient: {:?}", report.rejected);
    assert_eq!(count(&ws, "MRN-P").await, 0);
    assert_eq!(report.rejected_total, 6, "{:?}", report.rejected);
    let all: String = report.rejected.iter().map(|r| format!("{} | {}\n", r.location, r.reason)).collect();
    for named in
        ["Patient/p3", &format!("id {stranger}"), "#contained-patient", "Patient/77", "MRN-DOES-NOT-EXIST"]
    {
        assert!(all.contains(named), "the rejection names {named}:\n{all}");
    }
    assert!(all.contains("neither a reference nor an identifier"), "{all}");
    assert!(all.contains("Bundle.entry[0]"), "the element is named:\n{all}");

    // Without --patient, the same file says which references could not be resolved.
    let report = import(&ws, &file, None).await.unwrap();
    assert_eq!(report.added, 0);
    assert!(report.rejected.iter().any(|r| r.reason.contains("'Patient/p3'")), "{:?}", report.rejected);

    // An Observation that names nobody still takes --patient.
    let anonymous = observation("null", 61).replace(r#""subject": null,"#, "");
    let report =
        import(&ws, &write(dir.path(), "anon.json", &bundle(&[anonymous])), Some("MRN-P")).await.unwrap();
    assert_eq!(report.added, 1, "{:?}", report.rejected);
}

fn patient_resource(id: &str, mrn: &str, given: &str, family: &str, born: &str, gender: &str) -> String {
    format!(
        r#"{{"fullUrl": "urn:uuid:{id}", "resource": {{"resourceType": "Patient", "id": "{id}",
             "identifier": [{{"type": {{"coding": [{{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}}]}},
                              "value": "{mrn}"}}],
             "name": [{{"use": "official", "given": ["{given}"], "family": "{family}"}}],
             "birthDate": "{born}", "gender": "{gender}"}}}}"#
    )
}

#[tokio::test]
async fn fhir_patient_identity_mismatch_is_refused_and_never_merged() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    add(&ws, "MRN-7", "Ada Lovelace", Some("1815-12-10"), Sex::Female).await;

    // Same MRN, another person: refused with both identities named, and her readings held.
    let entries = [
        patient_resource("p1", "MRN-7", "Grace", "Hopper", "1906-12-09", "female"),
        observation(r#"{"reference": "urn:uuid:p1"}"#, 72),
    ];
    let report = import(&ws, &write(dir.path(), "grace.json", &bundle(&entries)), None).await.unwrap();
    assert_eq!((report.added, report.patients_created), (0, 0), "{:?}", report.rejected);
    let refusal =
        report.rejected.iter().find(|r| r.location.element.as_deref() == Some("Patient MRN-7")).unwrap();
    for part in
        ["'Grace Hopper', born 1906-12-09", "'Ada Lovelace', born 1815-12-10", "name, birth date differ"]
    {
        assert!(refusal.reason.contains(part), "{part} in: {}", refusal.reason);
    }
    assert!(report.rejected.iter().any(|r| r.reason.starts_with("held for review")), "{:?}", report.rejected);
    let stored = ws.patient(&PatientRef::Mrn("MRN-7".into())).await.unwrap();
    assert_eq!(stored.name, "Ada Lovelace");
    assert_eq!(count(&ws, "MRN-7").await, 0);

    // The same person (case and a missing field do not differ) is matched, not refused.
    let entries = [
        patient_resource("p1", "MRN-7", "ADA", "lovelace", "1815-12-10", "female"),
        observation(r#"{"reference": "urn:uuid:p1"}"#, 72),
    ];
    let report = import(&ws, &write(dir.path(), "ada.json", &bundle(&entries)), None).await.unwrap();
    assert_eq!(report.added, 1, "{:?}", report.rejected);

    // Two Patients giving one new MRN to two people: neither is created.
    let entries = [
        patient_resource("a", "MRN-NEW", "Sam", "One", "1990-01-01", "male"),
        patient_resource("b", "MRN-NEW", "Alex", "Two", "1991-02-02", "female"),
        observation(r#"{"reference": "urn:uuid:a"}"#, 80),
    ];
    let report = import(&ws, &write(dir.path(), "twins.json", &bundle(&entries)), None).await.unwrap();
    assert_eq!((report.added, report.patients_created), (0, 0), "{:?}", report.rejected);
    assert!(
        report.rejected[0].reason.contains("gives MRN MRN-NEW to two different people"),
        "{:?}",
        report.rejected
    );
    assert!(ws.patient(&PatientRef::Mrn("MRN-NEW".into())).await.is_err());
}

#[tokio::test]
async fn importing_dev_zero_or_a_directory_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    add(&ws, "MRN-Z", "Zed Example", None, Sex::Unknown).await;
    let csv = ImportOptions {
        patient: Some(PatientRef::Mrn("MRN-Z".into())),
        format: Some(vigil::ingest::Format::Csv),
        ..Default::default()
    };
    for path in [Path::new("/dev/zero"), dir.path()] {
        let err = ws.import_file(path, &csv, &|_| {}, &CancelToken::default()).await.unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }
}

#[tokio::test]
async fn a_fhir_file_over_its_size_limit_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    // Sparse: 64 GiB and a byte on paper, nothing on disk. FHIR is streamed (issue 12), so its
    // limit is the streaming formats' 64 GiB, no longer 512 MiB.
    let path = dir.path().join("huge.json");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len((64 << 30) + 1).unwrap();
    let fhir = ImportOptions { format: Some(vigil::ingest::Format::Fhir), ..Default::default() };
    let err = ws.import_file(&path, &fhir, &|_| {}, &CancelToken::default()).await.unwrap_err().to_string();
    assert!(err.contains("larger than the 65536 MiB a fhir file may have"), "{err}");
    assert_eq!(ws.status().await.unwrap().observations, 0);
}

//! Manual entry (issue 11) on a real encrypted store with the real agents: a nurse's spot
//! vitals are validated like an import, stored from the `manual` source, assessed at once, and
//! NEWS2 everywhere (the entry's answer, the worklist, the early-warning agent) scores the
//! consciousness and oxygen that were recorded instead of assuming them. Patients are edited
//! with an audit event and an outbox message.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::path::Path;

use chrono::{Duration, Utc};
use vigil::agents::{Orchestrator, OrchestratorConfig};
use vigil::analysis::news2::Spo2Scale;
use vigil::domain::{Acvpu, Consent, NewPatient, PatientRef, Sex};
use vigil::store::{KeySource, ObservationQuery};
use vigil::workstation::{Monitor, PatientEdit, SpotVitals, views::News2View};
use vigil::{OpenOptions, Workstation};

async fn workstation(dir: &Path) -> Workstation {
    common::open(OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create: true,
        purpose: vigil::workstation::StorePurpose::Demo,
    })
    .await
}

async fn add(ws: &Workstation, mrn: &str, name: &str) {
    let today = Utc::now().date_naive();
    ws.add_patient(NewPatient::new(mrn, name, None, Sex::Female, Consent::FULL, today).unwrap())
        .await
        .unwrap();
}

/// A set whose five measured parameters all score 0 on the RCP 2017 chart.
fn normal() -> SpotVitals {
    SpotVitals {
        heart_rate: Some(80.0),
        spo2: Some(97.0),
        respiratory_rate: Some(16.0),
        bp_systolic: Some(125.0),
        bp_diastolic: Some(80.0),
        temperature: Some(37.0),
        ..SpotVitals::default()
    }
}

fn sub(news2: &News2View, parameter: &str) -> u32 {
    news2.parameters.iter().find(|p| p.name == parameter).unwrap_or_else(|| panic!("{parameter}")).score
}

async fn setup(dir: &Path) -> (Workstation, Orchestrator) {
    let ws = workstation(dir).await;
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await.unwrap();
    (ws, orchestrator)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consciousness_v_on_oxygen_scores_as_the_rcp_chart_says_and_every_news2_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, orchestrator) = setup(dir.path()).await;
    let mut monitor = Monitor::default();
    add(&ws, "ME-1", "Entry Example").await;
    let patient = PatientRef::parse("ME-1");

    // An hour ago, vitals only: NEWS2 0, with consciousness and oxygen assumed and said so.
    let earlier = SpotVitals { at: Some((Utc::now() - Duration::hours(1)).fixed_offset()), ..normal() };
    let first = ws.record_vitals(&patient, earlier, &orchestrator, &mut monitor).await.unwrap();
    let news2 = first.news2.expect("all five measured parameters entered");
    assert_eq!(news2.aggregate, 0);
    assert_eq!(news2.assumptions.len(), 2, "{:?}", news2.assumptions);

    // Now: the same vitals, responds to voice, on oxygen (scale 1).
    let entry = SpotVitals {
        consciousness: Some(Acvpu::V),
        on_oxygen: Some(true),
        spo2_scale: Some(Spo2Scale::Scale1),
        ..normal()
    };
    let recorded = ws.record_vitals(&patient, entry, &orchestrator, &mut monitor).await.unwrap();
    assert_eq!(recorded.inserted, 9, "six vitals, consciousness, oxygen, scale");
    let news2 = recorded.news2.expect("NEWS2");
    // RCP 2017 chart 1: V scores 3 (consciousness), supplemental oxygen scores 2.
    assert_eq!(sub(&news2, "consciousness"), 3);
    assert_eq!(sub(&news2, "air_or_oxygen"), 2);
    assert_eq!(news2.aggregate, 5);
    assert_eq!(news2.band, "medium");
    assert!(news2.urgent_review, "a single parameter scored 3");
    assert!(news2.assumptions.is_empty(), "{:?}", news2.assumptions);

    // Stored from the manual source.
    let (_, stored) = ws.observations(&patient, &ObservationQuery::default()).await.unwrap();
    assert_eq!(stored.len(), 6 + 9);
    let labels = ws.source_labels().await.unwrap();
    assert!(stored.iter().all(|o| labels[&o.source_id] == "manual"), "{labels:?}");

    // The worklist and the patient screen score the same.
    let worklist = ws.worklist(&orchestrator).await.unwrap();
    let row = worklist.rows.iter().find(|r| r.mrn == "ME-1").unwrap();
    let shown = row.news2.as_ref().expect("worklist NEWS2");
    assert_eq!(shown.aggregate, 5);
    assert_eq!(sub(shown, "consciousness"), 3);
    assert!(shown.assumptions.is_empty());
    let view = ws.patient_view(&orchestrator, &patient).await.unwrap();
    assert_eq!(view.news2.as_ref().map(|n| n.aggregate), Some(5));

    // The entry was assessed at once: the monitor stored an assessment at its time, and the
    // early-warning agent scored the recorded consciousness (its drivers name it).
    let history = ws.risk_history(&patient, None).await.unwrap();
    let latest = history.last().expect("an assessment stored by the monitor");
    let early = latest
        .specialties
        .iter()
        .find(|s| s.specialty.as_str() == "early_warning")
        .unwrap_or_else(|| panic!("{latest:?}"));
    assert!(early.drivers.iter().any(|d| d.contains("consciousness")), "{early:?}");
    assert_eq!(row.assessed, "stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_2_scores_a_prescribed_target_as_the_chart_says() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, orchestrator) = setup(dir.path()).await;
    let mut monitor = Monitor::default();
    add(&ws, "ME-2", "Scale Example").await;
    let patient = PatientRef::parse("ME-2");
    let on_scale = |scale| SpotVitals {
        spo2: Some(90.0),
        spo2_scale: Some(scale),
        on_oxygen: Some(false),
        consciousness: Some(Acvpu::A),
        ..normal()
    };
    // RCP 2017 chart 1: 90 % is 3 on scale 1, 0 (88-92) on scale 2.
    let one = ws.record_vitals(&patient, on_scale(Spo2Scale::Scale1), &orchestrator, &mut monitor).await;
    assert_eq!(sub(&one.unwrap().news2.unwrap(), "spo2"), 3);
    let later = SpotVitals {
        at: Some((Utc::now() + Duration::seconds(1)).fixed_offset()),
        ..on_scale(Spo2Scale::Scale2)
    };
    let two = ws.record_vitals(&patient, later, &orchestrator, &mut monitor).await.unwrap();
    assert_eq!(sub(two.news2.as_ref().unwrap(), "spo2"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_entries_are_refused_naming_the_field_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, orchestrator) = setup(dir.path()).await;
    let mut monitor = Monitor::default();
    add(&ws, "ME-3", "Refused Example").await;
    let patient = PatientRef::parse("ME-3");
    let cases = [
        ("spo2", SpotVitals { spo2: Some(120.0), ..normal() }, "spo2 120 % is outside the plausible range"),
        (
            "at",
            SpotVitals { at: Some((Utc::now() + Duration::hours(2)).fixed_offset()), ..normal() },
            "ahead of this workstation's clock",
        ),
        ("vitals", SpotVitals::default(), "nothing was entered"),
        (
            "bp_diastolic",
            SpotVitals { bp_systolic: Some(80.0), bp_diastolic: Some(95.0), ..normal() },
            "is not below systolic",
        ),
    ];
    for (field, entry, says) in cases {
        let err =
            ws.record_vitals(&patient, entry, &orchestrator, &mut monitor).await.unwrap_err().to_string();
        assert!(err.starts_with(&format!("invalid {field}: ")), "{field}: {err}");
        assert!(err.contains(says), "{field}: {err}");
    }
    assert_eq!(ws.status().await.unwrap().observations, 0);
    let audit = as_role!(&ws, Auditor, ws.recent_audit(50).await).unwrap();
    assert!(!audit.iter().any(|(_, _, action, _)| action == "vitals.record"));
    let err = ws
        .record_vitals(&PatientRef::parse("NOBODY"), normal(), &orchestrator, &mut monitor)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no patient with"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_of_a_patient_is_audited_kept_and_sent_and_a_taken_mrn_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    add(&ws, "ME-4", "Before Edit").await;
    add(&ws, "ME-5", "Someone Else").await;
    let patient = PatientRef::parse("ME-4");
    let born = chrono::NaiveDate::from_ymd_opt(1950, 3, 1).unwrap();
    let edit = PatientEdit {
        name: Some("After Edit".to_owned()),
        birth_date: Some(Some(born)),
        sex: Some(Sex::Male),
        consent: Some(Consent { monitoring: true, clinic_sync: true, research: false }),
        ..PatientEdit::default()
    };
    let edited = ws.update_patient(&patient, edit).await.unwrap();
    assert_eq!(edited.name, "After Edit");

    // Kept: a fresh open reads it back.
    let id = edited.id;
    ws.close().await;
    let ws = workstation(dir.path()).await;
    let read = ws.patient(&PatientRef::Id(id)).await.unwrap();
    assert_eq!((read.name.as_str(), read.birth_date, read.sex), ("After Edit", Some(born), Sex::Male));
    assert!(read.consent.monitoring && read.consent.clinic_sync && !read.consent.research);
    let audit = as_role!(&ws, Auditor, ws.recent_audit(20).await).unwrap();
    assert!(
        audit.iter().any(|(_, _, action, who)| action == "patient.update" && *who == Some(id)),
        "{audit:?}"
    );
    let outbox = as_role!(&ws, Auditor, ws.pending_outbox(20).await).unwrap();
    let update = outbox.iter().find(|m| m.entity == "patient" && m.op == "update").expect("outbox update");
    assert_eq!(update.payload["name"], "After Edit");

    // The MRN is unique: taking another patient's is refused and changes nothing.
    let clash =
        PatientEdit { mrn: Some("ME-5".to_owned()), name: Some("Changed".to_owned()), ..Default::default() };
    let err = ws.update_patient(&PatientRef::Id(id), clash).await.unwrap_err().to_string();
    assert!(err.contains("ME-5 already exists"), "{err}");
    assert_eq!(ws.patient(&PatientRef::Id(id)).await.unwrap().name, "After Edit");
    // An invalid name is refused naming the field.
    let blank = PatientEdit { name: Some("  ".to_owned()), ..Default::default() };
    let err = ws.update_patient(&PatientRef::Id(id), blank).await.unwrap_err().to_string();
    assert_eq!(err, "invalid name: is empty");
    assert!(as_role!(&ws, Auditor, ws.verify_audit().await).is_ok());
}

fn vigil(dir: &Path, args: &[&str]) -> std::process::Output {
    common::cli(&dir.join("data"), &dir.join("vigil.key"), args, "")
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_records_vitals_with_news2_refuses_bad_ones_and_edits_a_patient() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    add(&ws, "ME-6", "Cli Example").await;
    ws.close().await;
    common::cli_login(
        &dir.path().join("data"),
        &dir.path().join("vigil.key"),
        vigil::domain::access::Role::Clinician,
    );

    let entry = json(&vigil(
        dir.path(),
        &[
            "vitals",
            "record",
            "ME-6",
            "--heart-rate",
            "80",
            "--spo2",
            "97",
            "--spo2-scale",
            "1",
            "--oxygen",
            "oxygen",
            "--resp-rate",
            "16",
            "--bp",
            "125/80",
            "--temperature",
            "37.0",
            "--consciousness",
            "V",
            "--json",
        ],
    ));
    assert_eq!(entry["inserted"], 9);
    assert_eq!(entry["news2"]["aggregate"], 5, "{entry}");
    assert_eq!(entry["news2"]["assumptions"], serde_json::json!([]));
    let text = vigil(dir.path(), &["vitals", "record", "ME-6", "--weight", "72.5"]);
    let text = String::from_utf8_lossy(&text.stdout).to_string();
    assert!(text.contains("Recorded 1 readings"), "{text}");
    assert!(text.contains("NEWS2"), "{text}");

    // Refused before anything is stored: clap names the flag and the range; the facade the field.
    for (args, says) in [
        (&["--spo2", "120"][..], "--spo2"),
        (&["--bp", "120-80"][..], "SYS/DIA"),
        (&["--consciousness", "X"][..], "not one of A, C, V, P, U"),
        (&[][..], "invalid vitals: nothing was entered"),
        (&["--heart-rate", "70", "--at", "2099-01-01"][..], "invalid at: "),
    ] {
        let out = vigil(dir.path(), &[&["vitals", "record", "ME-6"][..], args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let status = json(&vigil(dir.path(), &["status", "--json"]));
    assert_eq!(status["observations"], 10);

    let edited = json(&vigil(
        dir.path(),
        &["patient", "edit", "ME-6", "--name", "Cli Edited", "--birth-date", "1961-07-02", "--json"],
    ));
    assert_eq!(edited["name"], "Cli Edited");
    assert_eq!(edited["birth_date"], "1961-07-02");
    let out = vigil(dir.path(), &["patient", "edit", "ME-6", "--birth-date", "2999-01-01"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("birth_date"), "{out:?}");
}

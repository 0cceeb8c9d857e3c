//! `vigil assess`: the review workflow on stored data, routing by the data present, the
//! emergency override, alerts with their outbox and audit rows.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use chrono::{DateTime, Duration, NaiveDate};
use vigil::agents::workflow::Step;
use vigil::agents::{EventClass, Orchestrator, OrchestratorConfig, RiskLevel, Specialty};
use vigil::domain::{
    Consent, Kind, NewObservation, NewPatient, ObservationValue, PatientId, PatientRef, Sex, SourceKind,
};
use vigil::store::KeySource;
use vigil::workstation::AssessOptions;
use vigil::{OpenOptions, Workstation};

fn reading(patient: PatientId, kind: Kind, value: f64, seconds: i64) -> NewObservation {
    let start = DateTime::parse_from_rfc3339("2026-11-23T08:00:00+01:00").unwrap();
    NewObservation::new(patient, kind, ObservationValue::Quantity(value), start + Duration::seconds(seconds))
        .unwrap()
}

async fn add(ws: &Workstation, mrn: &str) -> PatientId {
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let new = NewPatient::new(mrn, "Review Patient", None, Sex::Unknown, Consent::FULL, today).unwrap();
    ws.add_patient(new).await.unwrap().id
}

#[tokio::test]
async fn the_review_workflow_routes_by_data_and_skips_the_summary_in_an_emergency() {
    let dir = tempfile::tempdir().unwrap();
    let options = OpenOptions {
        data_dir: dir.path().join("data"),
        key_source: Some(KeySource::File(dir.path().join("vigil.key"))),
        create: true,
        purpose: vigil::workstation::StorePurpose::Clinical,
    };
    let ws = common::open(options).await;
    let orchestrator = Orchestrator::with_rules(&OrchestratorConfig::default());

    // Ten minutes of 1 Hz vitals with SpO2 at 87 %.
    let hypoxic = add(&ws, "MRN-H").await;
    let mut batch = Vec::new();
    for t in 0..600 {
        batch.push(reading(hypoxic, Kind::HeartRate, 112.0, t));
        batch.push(reading(hypoxic, Kind::Spo2, 87.0, t));
        batch.push(reading(hypoxic, Kind::RespiratoryRate, 22.0, t));
        batch.push(reading(hypoxic, Kind::BodyTemperature, 37.0, t));
    }
    ws.record_observations(&SourceKind::Manual, &batch).await.unwrap();
    let outcome =
        ws.assess(&orchestrator, &PatientRef::Mrn("MRN-H".into()), &AssessOptions::default()).await.unwrap();
    let a = outcome.assessment.as_ref().unwrap();
    assert_eq!(a.risk_level, RiskLevel::Critical);
    assert_eq!(a.event, Some(EventClass::Hypoxia));
    assert!(!a.routed.contains(&Specialty::HeartFailure));
    assert_eq!(outcome.steps, [Step::Load, Step::Analyse, Step::Assess, Step::Alert, Step::Notify]);
    assert!(outcome.summary.is_none());
    assert_eq!(outcome.alerts.len(), 1);
    assert_eq!(outcome.alerts[0].event, EventClass::Hypoxia);
    let outbox = as_role!(&ws, Auditor, ws.pending_outbox(100).await).unwrap();
    assert!(outbox.iter().any(|m| m.entity == "alert" && m.op == "insert"));
    let audit = as_role!(&ws, Auditor, ws.recent_audit(30).await).unwrap();
    let actions: Vec<_> = audit.iter().map(|(_, _, a, _)| a.as_str()).collect();
    assert!(actions.contains(&"alert.raise") && actions.contains(&"assessment.review"), "{actions:?}");

    // Weights only: heart failure alone, and no emergency, so the summary runs.
    let weighed = add(&ws, "MRN-W").await;
    let weights: Vec<_> =
        (0..10).map(|d| reading(weighed, Kind::BodyWeight, 80.0 + 0.02 * d as f64, d * 86_400)).collect();
    ws.record_observations(&SourceKind::Manual, &weights).await.unwrap();
    let outcome =
        ws.assess(&orchestrator, &PatientRef::Mrn("MRN-W".into()), &AssessOptions::default()).await.unwrap();
    let a = outcome.assessment.as_ref().unwrap();
    assert_eq!(a.routed, [Specialty::HeartFailure]);
    assert_eq!(a.risk_level, RiskLevel::Low);
    assert!(outcome.steps.contains(&Step::Summarise));
    assert_eq!(outcome.summary.as_ref().unwrap()["body_weight"], 10);
    assert!(outcome.alerts.is_empty());
    ws.close().await;
}

//! Replay acceptance (issue 5): a documented synthetic deterioration raises the right alert,
//! with its evidence, before the stream ends; a stable patient raises none. Then the same
//! through the store: alerts stored, rate-limited in event time, and their lifecycle.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use vigil::agents::alerting::{AlertDraft, AlertStatus};
use vigil::agents::replay::synthetic::{Course, Scenario};
use vigil::agents::replay::{ReplayOptions, replay_patient};
use vigil::agents::{EventClass, Orchestrator, OrchestratorConfig, RateLimiter};
use vigil::domain::{Consent, NewPatient, PatientRef, Sex};
use vigil::store::{AlertQuery, KeySource};
use vigil::workstation::MonitorOptions;
use vigil::{Error, OpenOptions};

async fn replay(scenario: Scenario) -> (Vec<AlertDraft>, vigil::agents::replay::ReplaySummary) {
    let orchestrator = Orchestrator::with_rules(&OrchestratorConfig::default());
    let mut limiter = RateLimiter::new();
    let mut alerts = Vec::new();
    let summary = replay_patient(
        &orchestrator,
        "synthetic",
        scenario.samples(),
        &ReplayOptions::default(),
        &mut limiter,
        |d| alerts.push(d.clone()),
    )
    .await;
    (alerts, summary)
}

#[tokio::test]
async fn a_slow_deterioration_raises_a_hypoxia_alert_with_its_evidence_before_the_end() {
    let scenario = Scenario::new(Course::Deteriorating, 42);
    let (alerts, summary) = replay(scenario).await;
    assert_eq!(summary.samples, 4 * 3600);
    assert_eq!(summary.fallbacks, 0);
    let first = alerts.first().expect("the deterioration raised no alert");
    assert!(
        matches!(first.event, EventClass::Hypoxia | EventClass::RespiratoryDistress),
        "first alert: {first:?}"
    );
    assert_eq!(first.event, EventClass::Hypoxia);
    let end = Utc.timestamp_opt(scenario.start + 4 * 3600, 0).unwrap();
    assert!(first.time < end - chrono::Duration::minutes(30), "fired at {}", first.time);
    // Not before the deterioration is under way (the first hour is the baseline).
    assert!(first.time > Utc.timestamp_opt(scenario.start + 2 * 3600, 0).unwrap(), "fired at {}", first.time);
    let spo2 = first
        .evidence
        .iter()
        .find(|e| e.feature == "spo2_mean" && e.threshold == 90.0)
        .expect("SpO2 evidence");
    assert!(spo2.value < 90.0 && spo2.triggered);
    assert!(first.risk_score >= 0.85);
    assert!(first.recommendations.iter().any(|r| r.contains("oxygen")));
    // Rate-limited: never two alerts of one event within 5 minutes of event time.
    for pair in alerts.windows(2) {
        if pair[0].event == pair[1].event {
            assert!(pair[1].time - pair[0].time >= chrono::Duration::minutes(5));
        }
    }
    assert!(summary.rate_limited > 0);
}

#[tokio::test]
async fn a_stable_patient_raises_none() {
    for seed in [1, 2, 3] {
        let (alerts, summary) = replay(Scenario::new(Course::Stable, seed)).await;
        assert!(alerts.is_empty(), "seed {seed}: {alerts:?}");
        assert!(summary.assessments > 2800, "{summary:?}");
    }
}

#[tokio::test]
async fn the_generator_is_deterministic_and_writes_the_wide_csv() {
    let s = Scenario { hours: 0.01, ..Scenario::new(Course::Deteriorating, 9) };
    assert_eq!(s.to_csv(), s.to_csv());
    let csv = s.to_csv();
    assert!(csv.starts_with(
        "time,heart_rate,spo2,respiratory_rate,body_temperature,rr_interval\n2026-01-01T08:00:00Z,"
    ));
    let parsed =
        vigil::analysis::io_window::parse_vitals(&csv, vigil::analysis::io_window::InputFormat::Csv).unwrap();
    assert_eq!(parsed.len(), 36);
}

fn options(dir: &Path) -> OpenOptions {
    OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create: true,
        purpose: vigil::workstation::StorePurpose::Clinical,
    }
}

#[tokio::test]
async fn monitored_alerts_are_stored_rate_limited_and_move_through_their_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let ws = common::open(options(dir.path())).await;
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let patient = ws
        .add_patient(
            NewPatient::new("MRN-5", "Synthetic Patient", None, Sex::Unknown, Consent::FULL, today).unwrap(),
        )
        .await
        .unwrap();
    let orchestrator = Orchestrator::with_rules(&OrchestratorConfig::default());
    let reference = PatientRef::Mrn("MRN-5".into());
    let scenario = Scenario::new(Course::Deteriorating, 42);
    let mut seen = 0;
    let report = ws
        .monitor(&orchestrator, &reference, scenario.samples(), &MonitorOptions::default(), |_| seen += 1)
        .await
        .unwrap();
    assert!(report.summary.alerts > 0);
    assert_eq!(seen, report.alerts.len());
    let outbox_before = as_role!(&ws, Auditor, ws.pending_outbox(10_000).await).unwrap().len();

    // A second replay of the same stream: the stored alerts' event times hold it back.
    let again = ws
        .monitor(&orchestrator, &reference, scenario.samples(), &MonitorOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(again.summary.alerts, 0, "replaying the same events raises nothing new");

    let open = ws.alerts(&AlertQuery { patient: Some(patient.id), ..AlertQuery::default() }).await.unwrap();
    assert_eq!(open.len(), report.alerts.len());
    let alert = &report.alerts[0];
    assert_eq!(alert.status, AlertStatus::New);
    assert!(!alert.evidence.is_empty());

    let id = alert.id.to_string();
    let acked = ws.acknowledge_alert(&id, "saw it, oxygen started").await.unwrap();
    assert_eq!(acked.status, AlertStatus::Acknowledged);
    let ack = acked.acknowledged.as_ref().unwrap();
    assert_eq!(ack.note, "saw it, oxygen started");
    assert_eq!(ack.by, ws.actor());
    assert!(ws.acknowledge_alert(&id, "twice").await.is_err());
    let resolved = ws.resolve_alert(&id, "SpO2 back to 95 %").await.unwrap();
    assert_eq!(resolved.status, AlertStatus::Resolved);
    assert_eq!(resolved.resolved.as_ref().unwrap().note, "SpO2 back to 95 %");
    let e = ws.resolve_alert(&id, "again").await.unwrap_err();
    assert!(matches!(e, Error::AlertTransition { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!("alert {id} is resolved; it must be acknowledged before it can be resolved")
    );
    assert!(matches!(ws.acknowledge_alert("not-an-id", "x").await, Err(Error::AlertNotFound(_))));

    // Each change wrote its outbox message and audit event.
    let outbox = as_role!(&ws, Auditor, ws.pending_outbox(10_000).await).unwrap();
    assert_eq!(outbox.len(), outbox_before + 2);
    assert!(outbox.iter().filter(|m| m.entity == "alert" && m.op == "update").count() == 2);
    let audit = as_role!(&ws, Auditor, ws.recent_audit(10).await).unwrap();
    let actions: Vec<_> = audit.iter().map(|(_, _, action, _)| action.as_str()).collect();
    assert!(actions.contains(&"alert.acknowledge") && actions.contains(&"alert.resolve"), "{actions:?}");
    assert_eq!(as_role!(&ws, Auditor, ws.verify_audit().await).unwrap().first_broken, None);

    let open = ws
        .alerts(&AlertQuery {
            statuses: vec![AlertStatus::New, AlertStatus::Acknowledged],
            ..AlertQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(open.len(), report.alerts.len() - 1);
    ws.close().await;
}

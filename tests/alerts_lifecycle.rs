//! The alert lifecycle's safety rules, held by the facade for every caller (the window, the
//! CLI, scripts): resolving needs a note, and resolving a new alert acknowledges it first, in
//! the same transaction. Through the facade and through the real `vigil` binary.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::path::Path;
use std::process::Output;

use chrono::NaiveDate;
use vigil::agents::alerting::{Alert, AlertStatus};
use vigil::agents::{Orchestrator, OrchestratorConfig};
use vigil::analysis::window::VitalSample;
use vigil::domain::{Consent, NewPatient, PatientRef, Sex};
use vigil::store::KeySource;
use vigil::workstation::MonitorOptions;
use vigil::{OpenOptions, Workstation};

const START: i64 = 1_767_254_400; // 2026-01-01T08:00:00Z

/// Ten minutes of 1 Hz vitals, normal but for SpO2 85 % (below 90 %: severe hypoxaemia,
/// WHO 2011), so the default policy raises critical hypoxia alerts.
fn hypoxic() -> impl Iterator<Item = VitalSample> {
    (0..600).map(|i| VitalSample {
        time: START + i,
        heart_rate: Some(72.0),
        spo2: Some(85.0),
        respiratory_rate: Some(14.0),
        body_temperature: Some(36.8),
        rr_interval: Some(if i % 2 == 0 { 830.0 } else { 836.0 }),
        hrv_sdnn: None,
    })
}

async fn with_alerts(dir: &Path) -> (Workstation, Vec<Alert>) {
    let ws = common::open(OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create: true,
        purpose: vigil::workstation::StorePurpose::Clinical,
    })
    .await;
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let new = NewPatient::new("MRN-7", "Hypoxic Patient", None, Sex::Unknown, Consent::FULL, today).unwrap();
    ws.add_patient(new).await.unwrap();
    let orchestrator = Orchestrator::with_rules(&OrchestratorConfig::default());
    let reference = PatientRef::Mrn("MRN-7".into());
    let report =
        ws.monitor(&orchestrator, &reference, hypoxic(), &MonitorOptions::default(), |_| {}).await.unwrap();
    assert!(report.alerts.len() >= 2, "{:?}", report.summary);
    (ws, report.alerts)
}

#[tokio::test]
async fn resolving_a_new_alert_acknowledges_it_first_in_one_step_with_the_note() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, alerts) = with_alerts(dir.path()).await;
    let id = alerts[0].id.to_string();
    let outbox = as_role!(&ws, Auditor, ws.pending_outbox(10_000).await).unwrap().len();
    let resolved = ws.resolve_alert(&id, "  SpO2 back to 95 % on 2 l/min  ").await.unwrap();
    assert_eq!(resolved.status, AlertStatus::Resolved);
    let ack = resolved.acknowledged.as_ref().expect("acknowledged on the way");
    let res = resolved.resolved.as_ref().unwrap();
    assert_eq!((ack.by.as_str(), ack.note.as_str()), (ws.actor().as_str(), "SpO2 back to 95 % on 2 l/min"));
    assert_eq!((res.by.as_str(), res.note.as_str()), (ws.actor().as_str(), "SpO2 back to 95 % on 2 l/min"));
    assert_eq!(ack.at, res.at, "one change, one instant");
    // Both steps went to the clinic server and the audit chain.
    let messages = as_role!(&ws, Auditor, ws.pending_outbox(10_000).await).unwrap();
    assert_eq!(messages.len(), outbox + 2);
    let audit = as_role!(&ws, Auditor, ws.recent_audit(5).await).unwrap();
    let actions: Vec<_> = audit.iter().map(|(_, _, action, _)| action.as_str()).collect();
    assert!(actions.contains(&"alert.acknowledge") && actions.contains(&"alert.resolve"), "{actions:?}");
    assert_eq!(as_role!(&ws, Auditor, ws.verify_audit().await).unwrap().first_broken, None);
    ws.close().await;
}

#[tokio::test]
async fn resolving_without_a_note_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, alerts) = with_alerts(dir.path()).await;
    let outbox = as_role!(&ws, Auditor, ws.pending_outbox(10_000).await).unwrap().len();
    let new = alerts[0].id.to_string();
    for note in ["", "  \n\t "] {
        let e = ws.resolve_alert(&new, note).await.unwrap_err().to_string();
        assert!(e.contains(&new) && e.contains("note"), "{e}");
    }
    // An acknowledged one too: the rule is the facade's, not the screen's.
    let acked = alerts[1].id.to_string();
    ws.acknowledge_alert(&acked, "").await.expect("acknowledging needs no note");
    let outbox = outbox + 1;
    assert!(ws.resolve_alert(&acked, " ").await.is_err());
    let now = ws.alerts(&Default::default()).await.unwrap();
    let status = |id: &str| now.iter().find(|a| a.id.to_string() == id).unwrap().status;
    assert_eq!(status(&new), AlertStatus::New, "not even acknowledged");
    assert_eq!(status(&acked), AlertStatus::Acknowledged);
    assert_eq!(as_role!(&ws, Auditor, ws.pending_outbox(10_000).await).unwrap().len(), outbox);
    ws.close().await;
}

fn vigil(dir: &Path, args: &[&str]) -> Output {
    common::cli(&dir.join("data"), &dir.join("vigil.key"), args, "")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn the_cli_refuses_an_empty_resolve_note_and_resolves_a_new_alert_in_one_step() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, alerts) = with_alerts(dir.path()).await;
    ws.close().await;
    common::cli_login(
        &dir.path().join("data"),
        &dir.path().join("vigil.key"),
        vigil::domain::access::Role::Clinician,
    );
    let id = alerts[0].id.to_string();
    let out = vigil(dir.path(), &["alerts", "resolve", &id, "--note", ""]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&id) && stderr.contains("note"), "{stderr}");
    let listed = json(&vigil(dir.path(), &["alerts", "list", "--json"]));
    let row = listed.as_array().unwrap().iter().find(|a| a["id"] == id.as_str()).unwrap().clone();
    assert_eq!(row["status"], "new");

    let done = json(&vigil(dir.path(), &["alerts", "resolve", &id, "--note", "oxygen started", "--json"]));
    assert_eq!(done["status"], "resolved");
    assert_eq!(done["acknowledged"]["note"], "oxygen started");
    assert_eq!(done["resolved"]["note"], "oxygen started");
}

#[tokio::test]
async fn a_restricted_patients_alerts_are_listed_without_their_text_until_the_glass_is_broken() {
    let dir = tempfile::tempdir().unwrap();
    let (ws, raised) = with_alerts(dir.path()).await;
    let reference = PatientRef::Mrn("MRN-7".into());
    as_role!(&ws, Admin, ws.set_restricted(&reference, true).await).unwrap();
    common::sign_in_as(&ws, vigil::domain::access::Role::Nurse).await;
    let listed = ws.alerts(&vigil::store::AlertQuery::default()).await.unwrap();
    assert_eq!(listed.len(), raised.len(), "still listed, so someone can act on them");
    assert!(
        listed.iter().all(|a| a.evidence.is_empty() && a.findings.is_empty() && a.recommendations.is_empty())
    );
    let request =
        vigil::workstation::views::InboxRequest { statuses: vec![], min_level: None, offset: 0, limit: 50 };
    let inbox = ws.alerts_inbox(&request).await.unwrap();
    assert_eq!(inbox.alerts.len(), raised.len());
    assert!(inbox.alerts.iter().all(|a| a.evidence.is_empty() && a.recommendations.is_empty()));
    ws.break_glass(&reference, "on call for this patient tonight").await.unwrap();
    let opened = ws.alerts(&vigil::store::AlertQuery::default()).await.unwrap();
    assert!(opened.iter().all(|a| !a.evidence.is_empty()), "{opened:?}");
    ws.close().await;
}

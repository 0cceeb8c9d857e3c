//! What the window watches (issue 11), on a real encrypted store with the real agents: an
//! import's critical alerts reach the badge and the banner, escalate after the
//! `escalation_minutes` setting (5 by default) and leave the banner when acknowledged; the
//! patient screen carries the risk timeline and the import report lists the alerts raised.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::path::Path;

use chrono::{Duration, Utc};
use vigil::agents::OrchestratorConfig;
use vigil::agents::replay::synthetic::{Course, Scenario};
use vigil::domain::{Consent, NewPatient, PatientRef, Sex};
use vigil::store::KeySource;
use vigil::workstation::views::ImportReportView;
use vigil::workstation::{CancelToken, ImportOptions, Monitor};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn critical_alerts_reach_the_banner_escalate_after_the_setting_and_leave_when_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    let today = Utc::now().date_naive();
    ws.add_patient(
        NewPatient::new("WATCH-1", "Watch Example", None, Sex::Unknown, Consent::FULL, today).unwrap(),
    )
    .await
    .unwrap();
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await.unwrap();

    let empty = ws.alert_watch(Utc::now()).await.unwrap();
    assert_eq!((empty.new_alerts, empty.critical.len(), empty.escalation_minutes), (0, 0, 5));

    let path = dir.path().join("sick.csv");
    std::fs::write(&path, Scenario { hours: 2.0, ..Scenario::new(Course::Deteriorating, 42) }.to_csv())
        .unwrap();
    let options = ImportOptions { patient: Some(PatientRef::parse("WATCH-1")), ..Default::default() };
    let mut monitor = Monitor::default();
    let report = ws
        .import_and_monitor(&path, &options, &orchestrator, &mut monitor, &|_| {}, &CancelToken::default())
        .await
        .unwrap();
    let critical: Vec<_> = report.alerts.iter().filter(|a| a.risk_level == "critical").collect();
    assert!(!critical.is_empty(), "the deteriorating stream raises a critical alert: {:?}", report.alerts);
    // The window's report lists the same alerts.
    assert_eq!(ImportReportView::from_report(&report).alerts, report.alerts);

    let now = Utc::now();
    let watch = ws.alert_watch(now).await.unwrap();
    assert_eq!(watch.new_alerts as usize, report.alerts.len(), "the badge counts every new alert");
    let mut banner: Vec<&str> = watch.critical.iter().map(|a| a.id.as_str()).collect();
    let mut raised: Vec<&str> = critical.iter().map(|a| a.id.as_str()).collect();
    banner.sort_unstable();
    raised.sort_unstable();
    assert_eq!(banner, raised, "the banner holds exactly the new critical alerts");
    assert!(watch.critical.iter().all(|a| !a.escalated), "nothing is escalated at once");

    // Five minutes later (the default), every one of them is escalated.
    let later = ws.alert_watch(now + Duration::minutes(5)).await.unwrap();
    assert!(later.critical.iter().all(|a| a.escalated), "{:?}", later.critical);

    // The delay is the setting: at 10 minutes, six minutes is not yet an escalation.
    as_role!(&ws, Admin, ws.set_setting("escalation_minutes", "10").await).unwrap();
    let six = ws.alert_watch(now + Duration::minutes(6)).await.unwrap();
    assert_eq!(six.escalation_minutes, 10);
    assert!(six.critical.iter().all(|a| !a.escalated), "{:?}", six.critical);
    let err = as_role!(&ws, Admin, ws.set_setting("escalation_minutes", "0").await).unwrap_err().to_string();
    assert!(err.contains("escalation_minutes must be a whole number from 1 to 1440"), "{err}");

    // Acknowledging one takes it off the banner and the badge.
    let first = &watch.critical[0].id;
    ws.acknowledge_alert(first, "seen at the bedside").await.unwrap();
    let after = ws.alert_watch(now).await.unwrap();
    assert_eq!(after.new_alerts, watch.new_alerts - 1);
    assert!(after.critical.iter().all(|a| &a.id != first));

    // The patient screen carries the risk timeline the monitor stored.
    let view = ws.patient_view(&orchestrator, &PatientRef::parse("WATCH-1")).await.unwrap();
    assert!(view.risk_history.len() >= 10, "{}", view.risk_history.len());
    assert!(view.risk_history.windows(2).all(|w| w[0].at_ms <= w[1].at_ms), "oldest first");
    assert!(view.risk_history.iter().any(|p| p.risk_level == "critical"));
    assert!(view.needs_review.is_empty(), "every specialty answered: {:?}", view.needs_review);
}

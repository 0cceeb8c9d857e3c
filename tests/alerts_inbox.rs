//! The alerts inbox on a real encrypted store: filtered and paged by the store query, so an
//! old critical alert is not pushed off the screen by hundreds of newer, lesser ones; the
//! total and each status's count; an unknown level is an error, never "all".

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chrono::NaiveDate;
use vigil::agents::alerting::{AlertPolicy, AlertStatus};
use vigil::agents::replay::ReplayOptions;
use vigil::agents::{Orchestrator, OrchestratorConfig, RiskLevel};
use vigil::analysis::window::VitalSample;
use vigil::domain::{Consent, NewPatient, PatientRef, Sex};
use vigil::store::KeySource;
use vigil::workstation::MonitorOptions;
use vigil::workstation::views::{INBOX_PAGE_MAX, InboxRequest};
use vigil::{OpenOptions, Workstation};

async fn store(dir: &std::path::Path) -> Workstation {
    let ws = common::open(OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create: true,
        purpose: vigil::workstation::StorePurpose::Clinical,
    })
    .await;
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    for (mrn, name) in [("MRN-CRIT", "Critical Patient"), ("MRN-HIGH", "Hypoxic Patient")] {
        let new = NewPatient::new(mrn, name, None, Sex::Unknown, Consent::FULL, today).unwrap();
        ws.add_patient(new).await.unwrap();
    }
    ws
}

/// `minutes` of 1 Hz vitals from `start` (Unix s): normal but for a steady SpO2.
fn steady(start: i64, minutes: i64, spo2: f64) -> impl Iterator<Item = VitalSample> {
    (0..minutes * 60).map(move |i| VitalSample {
        time: start + i,
        heart_rate: Some(72.0),
        spo2: Some(spo2),
        respiratory_rate: Some(14.0),
        body_temperature: Some(36.8),
        rr_interval: Some(if i % 2 == 0 { 830.0 } else { 836.0 }),
        hrv_sdnn: None,
    })
}

const START: i64 = 1_767_254_400; // 2026-01-01T08:00:00Z

/// Patient MRN-CRIT: ten minutes of SpO2 85 % (below 90 %, severe hypoxaemia: WHO 2011), the
/// default policy: critical alerts. An hour later, patient MRN-HIGH: an hour of SpO2 91 %
/// (below 92 %, BTS 2017: high, not critical) with a low threshold and no rate limit: an
/// alert every 5 s of event time, all newer than the critical ones.
async fn seed(ws: &Workstation) -> (Vec<String>, usize) {
    let orchestrator = Orchestrator::with_rules(&OrchestratorConfig::default());
    let crit = PatientRef::Mrn("MRN-CRIT".into());
    let default = MonitorOptions::default();
    let report = ws.monitor(&orchestrator, &crit, steady(START, 10, 85.0), &default, |_| {});
    let critical = report.await.unwrap().alerts;
    assert!(!critical.is_empty());
    assert!(critical.iter().all(|a| a.risk_level.as_str() == "critical"), "{critical:?}");
    let many = MonitorOptions {
        replay: ReplayOptions {
            policy: AlertPolicy { threshold: 0.3, rate_limit_seconds: 0 },
            ..Default::default()
        },
    };
    let high = PatientRef::Mrn("MRN-HIGH".into());
    let report = ws.monitor(&orchestrator, &high, steady(START + 3600, 60, 91.0), &many, |_| {});
    let newer = report.await.unwrap().alerts;
    assert!(newer.len() > 600, "{} alerts", newer.len());
    assert!(newer.iter().all(|a| a.risk_level.as_str() != "critical"));
    (critical.iter().map(|a| a.id.to_string()).collect(), newer.len())
}

fn page(statuses: &[AlertStatus], min_level: Option<RiskLevel>, offset: u32, limit: u32) -> InboxRequest {
    InboxRequest { statuses: statuses.to_vec(), min_level, offset, limit }
}

#[tokio::test]
async fn an_old_critical_alert_stays_in_the_inbox_behind_hundreds_of_newer_lesser_ones() {
    let dir = tempfile::tempdir().unwrap();
    let ws = store(dir.path()).await;
    let (critical, newer) = seed(&ws).await;
    let inbox = ws.alerts_inbox(&page(&[], Some(RiskLevel::Critical), 0, 100)).await.unwrap();
    let ids: Vec<_> = inbox.alerts.iter().map(|a| a.id.clone()).collect();
    assert_eq!(ids, critical.iter().rev().cloned().collect::<Vec<_>>(), "newest first, every critical one");
    assert_eq!(inbox.total as usize, critical.len());
    assert_eq!(inbox.alerts[0].name, "Critical Patient");
    assert_eq!(
        (inbox.counts.new as usize, inbox.counts.acknowledged, inbox.counts.resolved),
        (critical.len(), 0, 0)
    );

    // High and above: the newest first, the critical ones on the last page, the total of all.
    let all = critical.len() + newer;
    let first = ws.alerts_inbox(&page(&[AlertStatus::New], Some(RiskLevel::High), 0, 500)).await.unwrap();
    assert_eq!((first.alerts.len(), first.total as usize, first.offset), (500, all, 0));
    assert!(first.alerts.iter().all(|a| a.name == "Hypoxic Patient" && a.risk_level == "high"));
    let mut seen: Vec<String> = first.alerts.iter().map(|a| a.id.clone()).collect();
    let mut offset = 500;
    loop {
        let next =
            ws.alerts_inbox(&page(&[AlertStatus::New], Some(RiskLevel::High), offset, 500)).await.unwrap();
        if next.alerts.is_empty() {
            break;
        }
        offset += u32::try_from(next.alerts.len()).unwrap();
        seen.extend(next.alerts.iter().map(|a| a.id.clone()));
    }
    assert_eq!(seen.len(), all, "the pages hold every alert once");
    assert_eq!(&seen[newer..], &ids[..], "the critical ones are the oldest");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), all);
    // Acknowledged alerts leave the New tab's count for the Acknowledged one.
    ws.acknowledge_alert(&critical[0], "seen").await.unwrap();
    let inbox =
        ws.alerts_inbox(&page(&[AlertStatus::Acknowledged], Some(RiskLevel::Critical), 0, 10)).await.unwrap();
    assert_eq!(
        (inbox.total, inbox.counts.new, inbox.counts.acknowledged),
        (1, u32::try_from(critical.len()).unwrap() - 1, 1)
    );
    assert_eq!(inbox.alerts[0].id, critical[0]);
    ws.close().await;
}

#[tokio::test]
async fn a_page_size_outside_its_bounds_is_an_error_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let ws = store(dir.path()).await;
    for limit in [0, INBOX_PAGE_MAX + 1] {
        let e = ws.alerts_inbox(&page(&[], None, 0, limit)).await.unwrap_err().to_string();
        assert!(e.contains("limit") && e.contains(&limit.to_string()), "{e}");
    }
    ws.close().await;
}

/// Where the level arrives as text (the window's command, `vigil alerts list --min-level`), it
/// is parsed once, by `RiskLevel`'s `FromStr`: an unknown name is an error, never "all".
#[test]
fn an_unknown_level_is_an_error_naming_it_and_the_valid_ones() {
    for name in ["urgent", "", "Critical"] {
        let e = name.parse::<RiskLevel>().unwrap_err().to_string();
        assert!(e.contains(&format!("`{name}`")) && e.contains("low, moderate, high, critical"), "{e}");
    }
}

fn vigil(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    common::cli(&dir.join("data"), &dir.join("vigil.key"), args, "")
}

#[tokio::test]
async fn the_cli_filters_by_level_in_the_store_and_refuses_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    let ws = store(dir.path()).await;
    let (critical, _) = seed(&ws).await;
    ws.close().await;
    common::cli_login(
        &dir.path().join("data"),
        &dir.path().join("vigil.key"),
        vigil::domain::access::Role::Clinician,
    );
    let out = vigil(dir.path(), &["alerts", "list", "--min-level", "critical", "--limit", "5", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<_> = listed.iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, critical.iter().rev().cloned().collect::<Vec<_>>());

    let out = vigil(dir.path(), &["alerts", "list", "--min-level", "urgent"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("`urgent`") && stderr.contains("low, moderate, high, critical"), "{stderr}");
}

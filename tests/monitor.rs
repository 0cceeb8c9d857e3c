//! Continuous monitoring (issue 11) on a real encrypted store with the real agents: an import
//! raises its alerts by itself, a stable stream raises none, a re-import nothing new; a backlog
//! gives the same alerts as the same data arriving live, and as `vigil monitor --replay`; and
//! every weight, whatever its file format, steps the saved Kalman filter that the heart-failure
//! agent reads.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use chrono::{Duration, SecondsFormat, Utc};
use vigil::agents::replay::synthetic::{Course, Scenario};
use vigil::agents::{Orchestrator, OrchestratorConfig};
use vigil::domain::{Consent, NewPatient, PatientRef, Sex};
use vigil::store::KeySource;
use vigil::workstation::{CancelToken, ImportOptions, ImportReport, Monitor, MonitorOptions};
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

async fn add(ws: &Workstation, mrn: &str) {
    let today = Utc::now().date_naive();
    ws.add_patient(
        NewPatient::new(mrn, "Monitor Example", None, Sex::Unknown, Consent::FULL, today).unwrap(),
    )
    .await
    .unwrap();
}

async fn import(
    ws: &Workstation,
    orchestrator: &Orchestrator,
    monitor: &mut Monitor,
    path: &Path,
    patient: Option<&str>,
) -> ImportReport {
    let options = ImportOptions { patient: patient.map(PatientRef::parse), ..Default::default() };
    ws.import_and_monitor(path, &options, orchestrator, monitor, &|_| {}, &CancelToken::default())
        .await
        .unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// (event, event time) of each alert, in event time.
fn events(report_alerts: &[vigil::workstation::RaisedAlert]) -> Vec<(String, String)> {
    let mut events: Vec<_> = report_alerts.iter().map(|a| (a.event.clone(), a.event_time.clone())).collect();
    events.sort_by(|a, b| a.1.cmp(&b.1));
    events
}

fn deteriorating() -> Scenario {
    Scenario { hours: 2.0, ..Scenario::new(Course::Deteriorating, 42) }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_raises_its_alerts_by_itself_a_stable_one_none_and_a_reimport_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    for mrn in ["MON-A", "MON-B", "MON-C"] {
        add(&ws, mrn).await;
    }
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await.unwrap();
    let mut monitor = Monitor::default();
    let sick = write(dir.path(), "sick.csv", &deteriorating().to_csv());
    let stable = write(
        dir.path(),
        "stable.csv",
        &Scenario { hours: 2.0, ..Scenario::new(Course::Stable, 7) }.to_csv(),
    );

    let report = import(&ws, &orchestrator, &mut monitor, &sick, Some("MON-A")).await;
    assert!(report.added > 30_000, "{}", report.added);
    assert!(!report.alerts.is_empty(), "the deteriorating stream raises alerts with no `vigil assess`");
    assert_eq!(report.alerts[0].event, "hypoxia", "{:?}", report.alerts[0]);
    let stable_report = import(&ws, &orchestrator, &mut monitor, &stable, Some("MON-B")).await;
    assert!(stable_report.added > 30_000);
    assert_eq!(stable_report.alerts, vec![], "a stable patient raises nothing");
    let again = import(&ws, &orchestrator, &mut monitor, &sick, Some("MON-A")).await;
    assert_eq!((again.added, again.alerts.len()), (0, 0), "a re-import adds nothing and raises nothing");

    // The same samples through `vigil monitor --replay`'s path, stored for another patient:
    // the backlog's alerts are the live replay's, event for event.
    let replayed = ws
        .monitor(
            &orchestrator,
            &PatientRef::Mrn("MON-C".into()),
            deteriorating().samples(),
            &MonitorOptions::default(),
            |_| {},
        )
        .await
        .unwrap();
    let replayed: Vec<(String, String)> =
        replayed.alerts.iter().map(|a| (a.event.as_str().to_owned(), a.event_time.to_rfc3339())).collect();
    assert_eq!(events(&report.alerts), replayed);

    // Each patient has a risk history, and the deteriorating one reaches the alert band.
    let history = ws
        .risk_history(&PatientRef::Mrn("MON-A".into()), Some(Utc::now() - Duration::days(3650)))
        .await
        .unwrap();
    assert!(history.len() >= 10, "{}", history.len());
    assert!(history.iter().any(|a| a.risk_level == vigil::agents::RiskLevel::Critical));
    let calm = ws
        .risk_history(&PatientRef::Mrn("MON-B".into()), Some(Utc::now() - Duration::days(3650)))
        .await
        .unwrap();
    assert!(!calm.is_empty() && calm.iter().all(|a| a.risk_level == vigil::agents::RiskLevel::Low));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_gives_the_same_alerts_as_the_same_data_arriving_live() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    for mrn in ["BACKLOG", "LIVE", "RESTARTS"] {
        add(&ws, mrn).await;
    }
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await.unwrap();
    let csv = deteriorating().to_csv();
    let backlog = write(dir.path(), "backlog.csv", &csv);
    let whole = import(&ws, &orchestrator, &mut Monitor::default(), &backlog, Some("BACKLOG")).await;
    assert!(!whole.alerts.is_empty());

    // The same samples in 12 ten-minute files, as a device or a sync would deliver them: once
    // with the window's long-lived monitor, once with a new monitor per file (a process per
    // import, each priming its stream from the store).
    let lines: Vec<&str> = csv.lines().collect();
    let (header, rows) = (lines[0], &lines[1..]);
    let mut live = Monitor::default();
    let (mut live_alerts, mut restart_alerts) = (Vec::new(), Vec::new());
    for (i, chunk) in rows.chunks(600).enumerate() {
        let text = format!("{header}\n{}\n", chunk.join("\n"));
        let part = write(dir.path(), &format!("part-{i:02}.csv"), &text);
        live_alerts.extend(import(&ws, &orchestrator, &mut live, &part, Some("LIVE")).await.alerts);
        restart_alerts.extend(
            import(&ws, &orchestrator, &mut Monitor::default(), &part, Some("RESTARTS")).await.alerts,
        );
    }
    assert_eq!(events(&live_alerts), events(&whole.alerts));
    assert_eq!(events(&restart_alerts), events(&whole.alerts));
}

fn stamp(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weights_from_every_format_step_the_saved_filter_that_the_heart_failure_agent_reads() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    add(&ws, "HF-1").await;
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await.unwrap();
    let mut monitor = Monitor::default();
    let patient = PatientRef::Mrn("HF-1".into());
    let steps = |ws: &Workstation| {
        let ws = ws.clone();
        let patient = patient.clone();
        async move { ws.weight_results(&patient).await.unwrap().len() }
    };

    // FIT (a weight scale's file, 2009: two readings).
    let fit =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ingest/fit/WeightScaleSingleUser.fit");
    let r = import(&ws, &orchestrator, &mut monitor, &fit, Some("HF-1")).await;
    assert_eq!(r.by_kind.get("body_weight"), Some(&2), "{r:?}");
    assert_eq!(steps(&ws).await, 2);

    // Apple Health, three weeks ago: two readings.
    let t0 = Utc::now() - Duration::days(21);
    let day = |d: i64| (t0 + Duration::days(d)).format("%Y-%m-%d %H:%M:%S +0000").to_string();
    let record = |d: i64, kg: f64| {
        format!(
            r#" <Record type="HKQuantityTypeIdentifierBodyMass" sourceName="Scale" unit="kg" creationDate="{0}" startDate="{0}" endDate="{0}" value="{kg}"/>"#,
            day(d)
        )
    };
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<HealthData locale=\"en_US\">\n{}\n{}\n</HealthData>\n",
        record(0, 80.0),
        record(1, 80.1)
    );
    let r =
        import(&ws, &orchestrator, &mut monitor, &write(dir.path(), "export.xml", &xml), Some("HF-1")).await;
    assert_eq!(r.by_kind.get("body_weight"), Some(&2), "{r:?}");
    assert_eq!(steps(&ws).await, 4);

    // CSV: a steady week.
    let mut csv = String::from("patient,time,kind,value,unit\n");
    for d in 2..9 {
        csv += &format!("HF-1,{},body_weight,{},kg\n", stamp(t0 + Duration::days(d)), 80.0 + 0.05 * d as f64);
    }
    let r = import(&ws, &orchestrator, &mut monitor, &write(dir.path(), "w.csv", &csv), None).await;
    assert_eq!(r.by_kind.get("body_weight"), Some(&7));
    assert_eq!(steps(&ws).await, 11);

    // FHIR: then 2.4 kg in three days (ESC/HFA: more than 2 kg in 3 days).
    let obs = |d: i64, kg: f64| {
        format!(
            r#"{{"resource": {{"resourceType": "Observation", "status": "final",
                "code": {{"coding": [{{"system": "http://loinc.org", "code": "29463-7"}}]}},
                "subject": {{"identifier": {{"value": "HF-1"}}}}, "effectiveDateTime": "{}",
                "valueQuantity": {{"value": {kg}, "system": "http://unitsofmeasure.org", "code": "kg"}}}}}}"#,
            stamp(t0 + Duration::days(d))
        )
    };
    let bundle = format!(
        r#"{{"resourceType": "Bundle", "type": "collection", "entry": [{}, {}, {}]}}"#,
        obs(9, 81.2),
        obs(10, 82.0),
        obs(11, 82.8)
    );
    let r = import(&ws, &orchestrator, &mut monitor, &write(dir.path(), "w.json", &bundle), None).await;
    assert_eq!(r.by_kind.get("body_weight"), Some(&3), "{r:?}");
    assert_eq!(steps(&ws).await, 14, "every weight, whatever its format, stepped the saved filter");
    assert!(ws.weight_state(&patient).await.unwrap().is_some());

    // The heart-failure agent read the saved filter's verdict on the newest weight.
    let results = ws.weight_results(&patient).await.unwrap();
    let newest = results.iter().max_by_key(|r| r.effective).unwrap();
    assert!(newest.result.accepted && !newest.alerts.is_empty(), "{newest:?}");
    let history = ws.risk_history(&patient, None).await.unwrap();
    let hf =
        history.last().unwrap().specialties.iter().find(|s| s.specialty.as_str() == "heart_failure").unwrap();
    assert!(hf.risk_score >= 0.75, "the rapid gain fired from the saved state: {hf:?}");
    assert!(hf.drivers.iter().any(|d| d.contains("weight")), "{hf:?}");
}

/// Two days of spot vitals every 15 minutes, the last six hours deteriorating (RCP 2017: NEWS2
/// rises into the red), as a long CSV for `mrn`.
fn spot_vitals(mrn: &str, start: chrono::DateTime<Utc>) -> String {
    let mut csv = String::from("patient,time,kind,value,unit\n");
    let n = 2 * 96;
    for i in 0..n {
        let t = stamp(start + Duration::minutes(15 * i));
        let ramp = ((i - (n - 24)) as f64 / 24.0).clamp(0.0, 1.0);
        let lerp = |a: f64, b: f64| ((a + (b - a) * ramp) * 10.0).round() / 10.0;
        for (kind, v) in [
            ("heart_rate", lerp(74.0, 131.0)),
            ("spo2", lerp(97.0, 85.0)),
            ("respiratory_rate", lerp(14.0, 27.0)),
            ("body_temperature", lerp(36.8, 38.9)),
            ("bp_systolic", lerp(124.0, 88.0)),
            ("bp_diastolic", lerp(78.0, 52.0)),
        ] {
            csv += &format!("{mrn},{t},{kind},{v},\n");
        }
    }
    csv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_of_spot_readings_is_assessed_at_the_instants_it_would_have_been_live() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    for mrn in ["SPOT-BACKLOG", "SPOT-LIVE"] {
        add(&ws, mrn).await;
    }
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await.unwrap();
    let start = Utc::now() - Duration::days(3);
    let whole = write(dir.path(), "spot.csv", &spot_vitals("SPOT-BACKLOG", start));
    let backlog = import(&ws, &orchestrator, &mut Monitor::default(), &whole, None).await;
    assert!(!backlog.alerts.is_empty(), "the deterioration is alerted");
    // Live: each 15-minute round of readings arrives on its own.
    let text = spot_vitals("SPOT-LIVE", start);
    let lines: Vec<&str> = text.lines().collect();
    let mut live = Monitor::default();
    let mut live_alerts = Vec::new();
    for (i, round) in lines[1..].chunks(6).enumerate() {
        let part =
            write(dir.path(), &format!("round-{i:03}.csv"), &format!("{}\n{}\n", lines[0], round.join("\n")));
        live_alerts.extend(import(&ws, &orchestrator, &mut live, &part, None).await.alerts);
    }
    assert_eq!(events(&live_alerts), events(&backlog.alerts));
    // One stored assessment per round, live and from the backlog alike.
    let since = Some(start - Duration::days(1));
    let a = ws.risk_history(&PatientRef::Mrn("SPOT-BACKLOG".into()), since).await.unwrap();
    let b = ws.risk_history(&PatientRef::Mrn("SPOT-LIVE".into()), since).await.unwrap();
    assert_eq!(a.len(), 2 * 96);
    let levels =
        |h: &[vigil::store::StoredAssessment]| h.iter().map(|x| (x.at, x.risk_level)).collect::<Vec<_>>();
    assert_eq!(levels(&a), levels(&b));
}

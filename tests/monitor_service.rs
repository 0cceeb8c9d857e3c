//! `vigil monitor` as a service account (issue 12): an administrator makes a `monitor` account
//! with a token; `vigil --token-file FILE monitor --once` assesses what was imported and raises
//! its alerts as `service:NAME` in the audit trail; the same token reads no patient.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use chrono::{Duration, NaiveDate, SecondsFormat, Utc};
use vigil::domain::access::Role;
use vigil::domain::{Consent, NewPatient, Sex};
use vigil::store::KeySource;
use vigil::workstation::{CancelToken, ImportOptions, StorePurpose};
use vigil::{OpenOptions, Workstation};

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Ten minutes of 1 Hz vitals of a patient in trouble, ending a minute ago.
fn vitals_csv(mrn: &str) -> String {
    let mut rows = String::from("patient,time,kind,value,unit\n");
    let end = Utc::now() - Duration::minutes(1);
    for s in (0..600).rev() {
        let t = (end - Duration::seconds(s)).to_rfc3339_opts(SecondsFormat::Secs, true);
        rows.push_str(&format!("{mrn},{t},heart_rate,{},/min\n", 146 + s % 3));
        rows.push_str(&format!("{mrn},{t},spo2,{},%\n", 84 + s % 2));
        rows.push_str(&format!("{mrn},{t},respiratory_rate,31,/min\n"));
    }
    rows
}

/// Imports through the facade, which (unlike `vigil import`) does not assess: the readings
/// wait for the monitor.
async fn import_unassessed(dir: &Path) {
    let ws = Workstation::open(OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create: false,
        purpose: StorePurpose::Clinical,
    })
    .await
    .unwrap();
    common::sign_in_as(&ws, Role::Clinician).await;
    let today = Utc::now().date_naive();
    let born = NaiveDate::from_ymd_opt(1944, 5, 6);
    ws.add_patient(
        NewPatient::new("MON-1", "Service Watched", born, Sex::Male, Consent::FULL, today).unwrap(),
    )
    .await
    .unwrap();
    let csv = dir.join("vitals.csv");
    std::fs::write(&csv, vitals_csv("MON-1")).unwrap();
    let report =
        ws.import_file(&csv, &ImportOptions::default(), &|_| {}, &CancelToken::default()).await.unwrap();
    assert_eq!(report.added, 1800, "{:?}", report.rejected);
    ws.close().await;
}

#[test]
fn vigil_monitor_under_a_service_token_assesses_as_the_service_and_reads_no_patient() {
    let dir = tempfile::tempdir().unwrap();
    let (data, key) = (dir.path().join("data"), dir.path().join("vigil.key"));
    common::cli_login(&data, &key, Role::Admin);
    let token = dir.path().join("mon.token");
    let out = common::cli(
        &data,
        &key,
        &["user", "add", "mon", "--role", "monitor", "--service", "--token-out", token.to_str().unwrap()],
        "",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(&token).unwrap().trim().len() >= 64);
    tokio::runtime::Runtime::new().unwrap().block_on(import_unassessed(dir.path()));
    // Nobody is signed in at the command line now: only the token can act.
    common::cli(&data, &key, &["logout"], "");
    let tok = token.to_str().unwrap();

    let out = common::cli(&data, &key, &["--token-file", tok, "monitor", "--once"], "");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let summary = stdout.lines().last().unwrap();
    let count = |what: &str| -> u64 {
        let words: Vec<&str> = summary.split([' ', ',', ':']).filter(|w| !w.is_empty()).collect();
        let at = words.iter().position(|w| *w == what).unwrap_or_else(|| panic!("{what} in {summary}"));
        words[at - 1].parse().unwrap()
    };
    assert_eq!(count("observations"), 1800, "{summary}");
    assert!(count("assessments") > 0, "{summary}");
    let alerts = count("alerts");
    assert!(alerts > 0, "vitals this bad raise an alert: {summary}");
    // A second pass finds nothing new: the first one moved the cursor.
    let again = common::cli(&data, &key, &["--token-file", tok, "monitor", "--once"], "");
    assert!(text(&again.stdout).contains("0 observations"), "{}", text(&again.stdout));

    // The token reads no patient and exports nothing.
    for args in [&["patient", "list"][..], &["patient", "show", "MON-1"], &["worklist"], &["alerts", "list"]]
    {
        let args: Vec<&str> = ["--token-file", tok].iter().chain(args).copied().collect();
        let out = common::cli(&data, &key, &args, "");
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{args:?} read patients: {}", text(&out.stdout));
        assert!(stderr.contains("access denied: the monitor role may not"), "{args:?}: {stderr}");
        assert!(!text(&out.stdout).contains("Service Watched"));
    }

    // The trail names the service account as the actor of the pass's alerts.
    common::cli_login(&data, &key, Role::Auditor);
    let out = common::cli(&data, &key, &["audit", "export"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let events: Vec<serde_json::Value> =
        text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let by = |action: &str| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["action"] == action)
            .map(|e| e["actor"].as_str().unwrap().to_owned())
            .collect()
    };
    let raised = by("alert.raise");
    assert_eq!(raised.len() as u64, alerts, "{raised:?}");
    assert!(raised.iter().all(|actor| actor == "service:mon"), "{raised:?}");
    assert!(by("session.login").iter().any(|a| a == "service:mon"));
    assert_eq!(by("access.denied").iter().filter(|a| *a == "service:mon").count(), 4);
}

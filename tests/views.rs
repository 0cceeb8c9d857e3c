//! The clinician's screens' read models on a real encrypted DEMO store: the worklist sorted by
//! risk, the patient screen (NEWS2, assessment naming its model, HRV, weight flags), charts for
//! every range, and the alerts inbox with its lifecycle.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::collections::BTreeSet;

use vigil::agents::{AlertPolicy, OrchestratorConfig, RiskLevel, alerting::AlertStatus};
use vigil::domain::access::Role;
use vigil::domain::{
    Consent, Kind, NewObservation, NewPatient, ObservationValue, PatientRef, Sex, SourceKind,
};
use vigil::store::{KeySource, ObservationQuery, TimeRange};
use vigil::workstation::AssessOptions;
use vigil::workstation::views::{AlertView, ChartKind, ChartRequest, InboxRequest};
use vigil::{OpenOptions, Workstation};

async fn demo() -> (tempfile::TempDir, Workstation) {
    let dir = tempfile::tempdir().unwrap();
    let ws = common::open(OpenOptions {
        data_dir: dir.path().join("data"),
        key_source: Some(KeySource::File(dir.path().join("key"))),
        create: true,
        purpose: vigil::workstation::StorePurpose::Demo,
    })
    .await;
    let report = as_role!(&ws, It, ws.seed_demo(chrono::Utc::now()).await).unwrap();
    assert_eq!(
        report.models.len(),
        2,
        "ONNX Runtime is installed by the test command: {:?}",
        report.models_skipped
    );
    (dir, ws)
}

/// The inbox's first page.
async fn inbox(ws: &Workstation, statuses: &[AlertStatus], min_level: Option<RiskLevel>) -> Vec<AlertView> {
    let request = InboxRequest { statuses: statuses.to_vec(), min_level, offset: 0, limit: 500 };
    ws.alerts_inbox(&request).await.unwrap().alerts
}

#[tokio::test]
async fn the_worklist_is_sorted_by_risk_with_news2_and_open_alerts() {
    let (_dir, ws) = demo().await;
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await.unwrap();
    // Raise alerts for the hypoxic patient first: the worklist counts them.
    ws.assess(&orchestrator, &PatientRef::Mrn("DEMO-0003".into()), &AssessOptions::default()).await.unwrap();
    let list = ws.worklist(&orchestrator).await.unwrap();
    assert!(list.demo);
    assert_eq!(list.rows.len(), 8);
    for pair in list.rows.windows(2) {
        assert!(pair[0].risk_score >= pair[1].risk_score, "{} before {}", pair[0].mrn, pair[1].mrn);
    }
    let top = &list.rows[0];
    assert_eq!(top.mrn, "DEMO-0003");
    assert_eq!(top.event.as_deref(), Some("hypoxia"));
    assert!(top.open_alerts >= 1);
    assert!(top.news2.as_ref().unwrap().aggregate >= 5, "hypoxic, tachycardic, tachypnoeic");
    let stable = list.rows.iter().find(|r| r.mrn == "DEMO-0001").unwrap();
    assert_eq!(stable.risk_level, "low");
    assert_eq!(stable.open_alerts, 0);
    let kinds: Vec<_> = stable.latest.iter().map(|v| v.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "heart_rate",
            "spo2",
            "respiratory_rate",
            "body_temperature",
            "bp_systolic",
            "bp_diastolic",
            "body_weight"
        ]
    );
    assert!(stable.last_data_ms.is_some());
    ws.close().await;
}

#[tokio::test]
async fn the_patient_screen_has_news2_the_models_finding_hrv_and_weight_flags() {
    let (_dir, ws) = demo().await;
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await.unwrap();
    let view = ws.patient_view(&orchestrator, &PatientRef::Mrn("DEMO-0001".into())).await.unwrap();
    assert_eq!(view.name, "Ada Example");
    let news2 = view.news2.as_ref().unwrap();
    assert_eq!(news2.parameters.len(), 7);
    let a = view.assessment.as_ref().unwrap();
    let ew = a.findings.iter().find(|f| f.specialty == "early_warning").unwrap();
    assert_eq!(ew.method, "Model early-warning-gbt 1.0.0");
    assert!(ew.demonstration_model);
    assert!(ew.evidence.iter().any(|e| e.feature == "model_risk"));
    let hrv = view.hrv.as_ref().expect("the demo has ten minutes of RR intervals");
    assert!(hrv.beats > 600 && (9.0..=11.0).contains(&hrv.minutes), "{hrv:?}");
    assert!(hrv.sdnn_ms > 5.0 && hrv.rmssd_ms > 5.0);
    assert!(view.weight.as_ref().unwrap().flags.is_empty(), "a stable weight raises no flag");

    // The fluid-gain patient's weight raises the heart-failure flags.
    let gain = ws.patient_view(&orchestrator, &PatientRef::Mrn("DEMO-0007".into())).await.unwrap();
    let w = gain.weight.as_ref().unwrap();
    assert!(w.trend_kg_per_week.unwrap() > 1.0, "{w:?}");
    assert!(!w.flags.is_empty(), "{w:?}");
    ws.close().await;
}

#[tokio::test]
async fn charts_render_every_kind_at_every_range_decimated_to_the_width() {
    let (_dir, ws) = demo().await;
    let patient = ws.patient(&PatientRef::Mrn("DEMO-0001".into())).await.unwrap();
    let now = chrono::Utc::now();
    let all = vec![
        ChartKind::HeartRate,
        ChartKind::Spo2,
        ChartKind::RespiratoryRate,
        ChartKind::BodyTemperature,
        ChartKind::BloodPressure,
        ChartKind::Weight,
    ];
    for range in ["1h", "24h", "7d", "30d"] {
        let request = ChartRequest {
            patient: patient.id.to_string(),
            charts: all.clone(),
            range: range.into(),
            width: 600,
            height: 220,
            utc_offset_s: 3600,
            until_ms: Some(now.timestamp_millis() as f64),
        };
        let charts = ws.charts(&request).await.unwrap();
        assert_eq!(charts.iter().map(|c| c.chart).collect::<Vec<_>>(), all);
        for c in &charts {
            assert!(c.svg.starts_with("<svg"), "{range} {:?}", c.chart);
            assert!(c.svg.contains("<title>"), "{range} {:?}", c.chart);
            assert!(c.points_drawn <= 2 * (2 * 600 + 2), "{range} {:?}: {}", c.chart, c.points_drawn);
        }
        // Every stored heart rate in the range is counted (the demo has one a minute for 24 h).
        let millis = match range {
            "1h" => 3_600_000,
            "24h" => 86_400_000,
            "7d" => 7 * 86_400_000,
            _ => 30 * 86_400_000,
        };
        let since = now - chrono::Duration::milliseconds(millis);
        let query = ObservationQuery {
            kinds: vec![Kind::HeartRate],
            range: TimeRange { since: Some(since), until: Some(now) },
            limit: None,
        };
        let stored = ws.observations(&PatientRef::Mrn("DEMO-0001".into()), &query).await.unwrap().1.len();
        let hr = &charts[0];
        assert_eq!(hr.points_in as usize, stored, "{range}");
        // About an hour of minute readings (the seed ends when it ran, a few seconds ago).
        assert!(stored >= 55, "{range}: {stored}");
        if range == "1h" {
            assert!(!hr.svg.contains("No data in this range"));
        }
    }
    // Bad input is refused in words.
    let bad = ChartRequest {
        patient: "DEMO-0001".into(),
        charts: vec![ChartKind::HeartRate],
        range: "2h".into(),
        width: 600,
        height: 220,
        utc_offset_s: 0,
        until_ms: None,
    };
    let err = ws.charts(&bad).await.unwrap_err();
    assert!(err.to_string().contains("range"), "{err}");
    ws.close().await;
}

/// `until_ms` arrives as a JSON number. One that is no time (NaN, an infinity, past chrono's
/// ±262,000 years) is refused by name: `as i64` charted NaN at 1970 and overflowed `t1 - range`
/// for -1e300 (issue 18).
#[tokio::test]
async fn charts_refuse_an_until_ms_that_is_not_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let ws = common::open(OpenOptions {
        data_dir: dir.path().join("data"),
        key_source: Some(KeySource::File(dir.path().join("key"))),
        create: true,
        purpose: vigil::workstation::StorePurpose::Demo,
    })
    .await;
    for until_ms in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1e300, 1e300, 9.3e18, 8.3e15] {
        let request = ChartRequest {
            patient: "DEMO-0001".into(),
            charts: vec![ChartKind::HeartRate],
            range: "1h".into(),
            width: 600,
            height: 220,
            utc_offset_s: 0,
            until_ms: Some(until_ms),
        };
        let err = ws.charts(&request).await.unwrap_err();
        assert!(err.to_string().contains("until_ms"), "{until_ms}: {err}");
    }
    ws.close().await;
}

#[tokio::test]
async fn the_alerts_inbox_filters_by_status_and_severity_and_follows_the_lifecycle() {
    let (_dir, ws) = demo().await;
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await.unwrap();
    // Threshold 0.6: high and critical alerts (a demonstration model alone never makes one
    // critical, so the default 0.85 leaves a single rules-critical alert in the demo).
    let high = AssessOptions { policy: AlertPolicy { threshold: 0.6, ..AlertPolicy::default() } };
    for mrn in ["DEMO-0002", "DEMO-0003", "DEMO-0004"] {
        ws.assess(&orchestrator, &PatientRef::Mrn(mrn.into()), &high).await.unwrap();
    }
    let new = inbox(&ws, &[AlertStatus::New], None).await;
    assert!(new.len() >= 2, "{new:?}");
    assert!(new.iter().all(|a| a.status == "new" && !a.name.is_empty()));
    // The severity filter needs alerts to keep and alerts to drop: the demo's are all critical,
    // so a patient scoring NEWS2 5 (pulse 95, respiration 22, SpO2 95, 38.2 °C: RCP 2017 chart
    // 1) adds lower ones, assessed with a threshold of 0.3.
    let lower = moderate_patient(&ws).await;
    let low_threshold = AssessOptions { policy: AlertPolicy { threshold: 0.3, ..AlertPolicy::default() } };
    ws.assess(&orchestrator, &PatientRef::Mrn(lower), &low_threshold).await.unwrap();
    let all = inbox(&ws, &[], None).await;
    let levels: Vec<&str> = all.iter().map(|a| a.risk_level.as_str()).collect();
    let want: BTreeSet<&str> =
        all.iter().filter(|a| a.risk_level == "critical").map(|a| a.id.as_str()).collect();
    assert!(!want.is_empty() && want.len() < all.len(), "something to keep and to drop: {levels:?}");
    let critical = inbox(&ws, &[], Some(RiskLevel::Critical)).await;
    let kept: Vec<&str> = critical.iter().map(|a| a.risk_level.as_str()).collect();
    assert!(kept.iter().all(|l| *l == "critical"), "kept {kept:?} of {levels:?}");
    assert_eq!(critical.iter().map(|a| a.id.as_str()).collect::<BTreeSet<_>>(), want, "levels {levels:?}");
    let id = new[0].id.clone();
    ws.acknowledge_alert(&id, "seen, calling the ward").await.unwrap();
    let acknowledged = inbox(&ws, &[AlertStatus::Acknowledged], None).await;
    let moved = acknowledged.iter().find(|a| a.id == id).expect("moved to acknowledged");
    assert_eq!(moved.acknowledged.as_ref().unwrap().note, "seen, calling the ward");
    assert!(inbox(&ws, &[AlertStatus::New], None).await.iter().all(|a| a.id != id));
    ws.close().await;
}

/// A patient with six minutes of 1 Hz vitals up to now that score NEWS2 5; returns the MRN.
async fn moderate_patient(ws: &Workstation) -> String {
    let now = chrono::Utc::now();
    let new = NewPatient::new("VIEW-1", "View Example", None, Sex::Unknown, Consent::FULL, now.date_naive());
    let p = ws.add_patient(new.unwrap()).await.unwrap();
    let end = now.fixed_offset();
    let vitals = [
        (Kind::HeartRate, 95.0),
        (Kind::RespiratoryRate, 22.0),
        (Kind::Spo2, 95.0),
        (Kind::BodyTemperature, 38.2),
    ];
    let mut batch = Vec::new();
    for s in 0..360 {
        let at = end - chrono::Duration::seconds(360 - s);
        for (kind, v) in vitals {
            batch.push(NewObservation::new(p.id, kind, ObservationValue::Quantity(v), at).unwrap());
        }
    }
    batch.push(NewObservation::new(p.id, Kind::BpSystolic, ObservationValue::Quantity(120.0), end).unwrap());
    ws.record_observations(&SourceKind::Manual, &batch).await.unwrap();
    p.mrn
}

#[tokio::test]
async fn a_restricted_patient_is_listed_without_data_until_the_user_breaks_the_glass() {
    let (_dir, ws) = demo().await;
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await.unwrap();
    let hypoxic = PatientRef::Mrn("DEMO-0003".into());
    ws.assess(&orchestrator, &hypoxic, &AssessOptions::default()).await.unwrap();
    let before = ws.worklist(&orchestrator).await.unwrap();
    let shown = before.rows.iter().find(|r| r.mrn == "DEMO-0003").unwrap().clone();
    assert!(shown.open_alerts >= 1 && shown.event.is_some() && !shown.latest.is_empty(), "{shown:?}");
    assert!(ws.set_restricted(&hypoxic, true).await.unwrap());

    // Without a grant, for the clinician who restricted it and for a nurse alike: who it is and
    // how many alerts are open, nothing else.
    for role in [Role::Clinician, Role::Nurse] {
        common::sign_in_as(&ws, role).await;
        let list = ws.worklist(&orchestrator).await.unwrap();
        assert_eq!(list.rows.len(), before.rows.len(), "the patient is still listed");
        let row = list.rows.iter().find(|r| r.mrn == "DEMO-0003").unwrap();
        assert_eq!(
            (row.patient_id.as_str(), row.name.as_str()),
            (shown.patient_id.as_str(), shown.name.as_str())
        );
        assert_eq!(
            (row.assessed.as_str(), row.risk_level.as_str()),
            ("restricted", "restricted"),
            "{role:?}"
        );
        assert!(row.latest.is_empty() && row.news2.is_none() && row.last_data_ms.is_none(), "{row:?}");
        assert!(row.event.is_none() && row.top_finding.is_none() && row.needs_review.is_empty(), "{row:?}");
        assert_eq!(row.risk_score, 0.0);
        assert_eq!(row.open_alerts, shown.open_alerts, "the count of open alerts stays, not their text");
        // Every other patient keeps their data.
        let stable = list.rows.iter().find(|r| r.mrn == "DEMO-0001").unwrap();
        assert!(!stable.latest.is_empty() && stable.assessed != "restricted");
        assert!(matches!(ws.patient_view(&orchestrator, &hypoxic).await, Err(vigil::Error::Restricted(_))));
    }

    // The nurse breaks the glass: their list shows the data again; the clinician's still does not.
    ws.break_glass(&hypoxic, "Called to the bedside, patient deteriorating").await.unwrap();
    let list = ws.worklist(&orchestrator).await.unwrap();
    let row = list.rows.iter().find(|r| r.mrn == "DEMO-0003").unwrap();
    assert_eq!(row.event, shown.event);
    assert!(!row.latest.is_empty() && row.news2.is_some() && row.assessed != "restricted", "{row:?}");
    assert_eq!(list.rows[0].mrn, "DEMO-0003", "sorted by its risk again");
    common::sign_in_as(&ws, Role::Clinician).await;
    let list = ws.worklist(&orchestrator).await.unwrap();
    assert_eq!(list.rows.iter().find(|r| r.mrn == "DEMO-0003").unwrap().assessed, "restricted");
}

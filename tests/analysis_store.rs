//! The body-weight filter's state in the encrypted store, through the facade: it survives
//! reopening, gives exactly what the pure filter gives in memory, stores rejections with their
//! reason, commits state and result together, and upgrades old state versions.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use sqlx::Connection;
use std::path::Path;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use vigil::analysis::heart_failure::HeartFailureAlert;
use vigil::analysis::kalman::{
    FilterState, KalmanConfig, Measurement, Phase, RejectReason, SourceClass, process,
};
use vigil::analysis::report::{InputFormat, analyze_weight};
use vigil::domain::{AbsentReason, Consent, NewPatient, ObservationValue, PatientRef, Sex, SourceKind};
use vigil::store::KeySource;
use vigil::workstation::{STORE_FILE, WeightMeasurement};
use vigil::{OpenOptions, Workstation};

fn options(dir: &Path, create: bool) -> OpenOptions {
    OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create,
        purpose: vigil::workstation::StorePurpose::Clinical,
    }
}

async fn with_patient(dir: &Path, mrn: &str) -> Workstation {
    let ws = common::open(options(dir, true)).await;
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let new = NewPatient::new(mrn, "Ada Example", None, Sex::Female, Consent::FULL, today).unwrap();
    ws.add_patient(new).await.unwrap();
    ws
}

fn mrn(s: &str) -> PatientRef {
    PatientRef::Mrn(s.into())
}

#[allow(clippy::cast_possible_truncation, reason = "test days are a few dozen")]
fn day(d: f64) -> DateTime<FixedOffset> {
    let t0 = DateTime::parse_from_rfc3339("2026-01-01T07:30:00+01:00").unwrap();
    t0 + Duration::milliseconds((d * 86_400_000.0).round() as i64)
}

/// Six weeks of daily weights with an outlier, a missing value, a slow rise and a 40-day gap.
fn series() -> Vec<(DateTime<FixedOffset>, ObservationValue)> {
    let mut out = Vec::new();
    for d in 0..60 {
        let kg = 80.0 + 0.03 * d as f64 + [0.3, -0.2, 0.1, -0.4, 0.2][d % 5];
        let value = match d {
            15 => ObservationValue::Quantity(88.0),
            22 => ObservationValue::Absent(AbsentReason::Unknown),
            _ => ObservationValue::Quantity(kg),
        };
        let d = if d >= 50 { d as f64 + 40.0 } else { d as f64 + 0.01 * (d % 3) as f64 };
        out.push((day(d), value));
    }
    out
}

fn manual(effective: DateTime<FixedOffset>, value: ObservationValue) -> WeightMeasurement {
    WeightMeasurement { effective, value, source: SourceKind::Manual, class: None }
}

#[tokio::test]
async fn processing_across_reopenings_equals_the_filter_in_memory() {
    let dir = tempfile::tempdir().unwrap();
    with_patient(dir.path(), "W-1").await.close().await;

    let cfg = KalmanConfig::default();
    let mut memory: Option<FilterState> = None;
    let mut ws = None;
    for (i, (effective, value)) in series().into_iter().enumerate() {
        // Reopen the store every 7 measurements: the state must come back exactly.
        if i % 7 == 0 {
            if let Some(open) = ws.take() {
                Workstation::close(open).await;
            }
            ws = Some(common::open(options(dir.path(), false)).await);
        }
        let ws = ws.as_ref().unwrap();
        let outcome = ws.process_weight(&mrn("W-1"), &manual(effective, value)).await.unwrap();
        // Manual entry is weighed on the clinic's scale (the provenance rule).
        let m = Measurement { time: effective.to_utc(), value, source: SourceClass::Clinic };
        let (next, expected) = process(memory.as_ref(), m, &cfg);
        memory = Some(next);
        assert_eq!(outcome.result.result, expected, "step {i}");
        assert_eq!(outcome.result.source_class, SourceClass::Clinic);
        assert!(!outcome.duplicate);
        assert_eq!(ws.weight_state(&mrn("W-1")).await.unwrap(), memory, "state after step {i}");
    }
    let ws = ws.unwrap();
    let results = ws.weight_results(&mrn("W-1")).await.unwrap();
    assert_eq!(results.len(), 60);
    assert_eq!(results[15].result.reason.map(|r| matches!(r, RejectReason::Outlier { .. })), Some(true));
    assert!(results[50].result.reset.is_some(), "the 40-day gap restarts the filter");
    assert_eq!(results[22].value, ObservationValue::Absent(AbsentReason::Unknown));
    assert_eq!(as_role!(&ws, Auditor, ws.verify_audit().await).unwrap().first_broken, None);
}

#[tokio::test]
async fn a_rejected_outlier_is_stored_with_its_reason_and_does_not_move_the_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let ws = with_patient(dir.path(), "W-2").await;
    for d in 0..10_i32 {
        let m = WeightMeasurement::kg(day(f64::from(d)), 80.0 + 0.1 * f64::from(d % 2), SourceKind::Manual);
        ws.process_weight(&mrn("W-2"), &m).await.unwrap();
    }
    let before = ws.weight_state(&mrn("W-2")).await.unwrap().unwrap();
    let outlier = ws
        .process_weight(&mrn("W-2"), &WeightMeasurement::kg(day(10.0), 86.0, SourceKind::Manual))
        .await
        .unwrap();
    let r = outlier.result.result;
    assert!(!r.accepted);
    let Some(RejectReason::Outlier { normalized_error, gate_sigma }) = r.reason else { panic!("{r:?}") };
    assert!(normalized_error > gate_sigma && gate_sigma == 3.0);
    let after = ws.weight_state(&mrn("W-2")).await.unwrap().unwrap();
    let (Phase::Tracking(b), Phase::Tracking(a)) = (&before.phase, &after.phase) else { panic!() };
    assert_eq!((a.time, a.x, a.p), (b.time, b.x, b.p), "the estimate did not move");
    assert_eq!(a.rejected_run.len(), 1, "the outlier is remembered for a persistent shift");

    // A missing value leaves the whole state exactly as it was.
    let missing = manual(day(10.5), ObservationValue::Absent(AbsentReason::Error));
    let r = ws.process_weight(&mrn("W-2"), &missing).await.unwrap().result.result;
    assert_eq!(r.reason, Some(RejectReason::Missing { absent: AbsentReason::Error }));
    assert_eq!(ws.weight_state(&mrn("W-2")).await.unwrap().unwrap(), after);

    let stored = ws.weight_results(&mrn("W-2")).await.unwrap();
    assert_eq!(stored[10].result, outlier.result.result, "read back as returned");
    assert_eq!(stored[11].result.reason, Some(RejectReason::Missing { absent: AbsentReason::Error }));
}

#[tokio::test]
async fn the_same_reading_twice_is_processed_once() {
    let dir = tempfile::tempdir().unwrap();
    let ws = with_patient(dir.path(), "W-3").await;
    let m = WeightMeasurement::kg(day(0.0), 80.0, SourceKind::Manual);
    let first = ws.process_weight(&mrn("W-3"), &m).await.unwrap();
    let again = ws.process_weight(&mrn("W-3"), &m).await.unwrap();
    assert!(again.duplicate && !first.duplicate);
    assert_eq!(again.result, first.result);
    assert_eq!(ws.weight_results(&mrn("W-3")).await.unwrap().len(), 1);
}

async fn counts(dir: &Path) -> (i64, i64, String) {
    let key = KeySource::File(dir.join("vigil.key")).load().unwrap().unwrap();
    let mut conn = common::raw_connection(&dir.join("data").join(STORE_FILE), &key, false).await;
    let steps: i64 = sqlx::query_scalar("SELECT COALESCE(SUM(steps), 0) FROM weight_filter_states")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let results: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM weight_filter_results").fetch_one(&mut conn).await.unwrap();
    let state: String = sqlx::query_scalar("SELECT COALESCE(MAX(state), '') FROM weight_filter_states")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    (steps, results, state)
}

#[tokio::test]
async fn state_and_result_commit_together_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    with_patient(dir.path(), "W-4").await.close().await;
    for (i, (effective, value)) in series().into_iter().take(12).enumerate() {
        let ws = common::open(options(dir.path(), false)).await;
        ws.process_weight(&mrn("W-4"), &manual(effective, value)).await.unwrap();
        ws.close().await;
        let (steps, results, _) = counts(dir.path()).await;
        let n = i64::try_from(i).unwrap() + 1;
        assert_eq!((steps, results), (n, n));
    }
    // Make the result's INSERT fail after the state was already replaced in the transaction.
    let key = KeySource::File(dir.path().join("vigil.key")).load().unwrap().unwrap();
    let mut conn = common::raw_connection(&dir.path().join("data").join(STORE_FILE), &key, false).await;
    sqlx::query(
        "CREATE TRIGGER fail_results BEFORE INSERT ON weight_filter_results WHEN NEW.value_kg > 100 \
         BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let before = counts(dir.path()).await;
    let ws = common::open(options(dir.path(), false)).await;
    let err = ws
        .process_weight(&mrn("W-4"), &WeightMeasurement::kg(day(12.0), 101.0, SourceKind::Manual))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("injected failure"), "{err}");
    ws.close().await;
    assert_eq!(counts(dir.path()).await, before, "neither the state nor a result was written");
}

#[tokio::test]
async fn a_version_1_state_in_the_store_is_upgraded_and_used() {
    let dir = tempfile::tempdir().unwrap();
    let ws = with_patient(dir.path(), "W-5").await;
    let patient = ws.patient(&mrn("W-5")).await.unwrap();
    ws.close().await;
    let key = KeySource::File(dir.path().join("vigil.key")).load().unwrap().unwrap();
    let path = dir.path().join("data").join(STORE_FILE);
    let mut conn = common::raw_connection(&path, &key, false).await;
    let v1 = r#"{"schema_version":1,"time":"2026-01-01T06:30:00Z","level":79.5,"trend":0.02,
                 "level_variance":0.09,"trend_variance":0.0025}"#;
    sqlx::query(
        "INSERT INTO weight_filter_states (patient_id, schema_version, state, steps, updated_ms) \
         VALUES (?, 1, ?, 0, 0)",
    )
    .bind(patient.id.as_bytes().as_slice())
    .bind(v1)
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();

    let ws = common::open(options(dir.path(), false)).await;
    let state = ws.weight_state(&mrn("W-5")).await.unwrap().unwrap();
    assert_eq!(state.schema_version, vigil::analysis::kalman::SCHEMA_VERSION);
    let Phase::Tracking(t) = &state.phase else { panic!("{state:?}") };
    assert_eq!((t.x, t.p), ([79.5, 0.02], [[0.09, 0.0], [0.0, 0.0025]]));
    let r = ws
        .process_weight(&mrn("W-5"), &WeightMeasurement::kg(day(1.0), 79.6, SourceKind::Manual))
        .await
        .unwrap()
        .result
        .result;
    assert!(r.accepted && !r.needs_initialization, "{r:?}");
    ws.close().await;
    let mut conn = common::raw_connection(&path, &key, false).await;
    let (version, json): (i64, String) =
        sqlx::query_as("SELECT schema_version, state FROM weight_filter_states")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(version, 2);
    assert!(json.contains(r#""schema_version":2"#), "{json}");
}

#[tokio::test]
async fn heart_failure_alerts_match_the_text_report_at_onset() {
    let dir = tempfile::tempdir().unwrap();
    let ws = with_patient(dir.path(), "W-6").await;
    let mut csv = String::from("time,value_kg,source\n");
    let mut onsets = Vec::new();
    let (mut gain, mut trend) = (false, false);
    for d in 0..24_i32 {
        let kg = if d <= 15 { 80.0 } else { 80.0 + 0.8 * f64::from(d - 15) };
        let m = WeightMeasurement {
            class: Some(SourceClass::Home),
            ..WeightMeasurement::kg(day(f64::from(d)), kg, SourceKind::Manual)
        };
        csv.push_str(&format!("{},{kg},home\n", day(f64::from(d)).to_rfc3339()));
        let outcome = ws.process_weight(&mrn("W-6"), &m).await.unwrap();
        assert_eq!(outcome.result.source_class, SourceClass::Home, "the explicit class wins");
        let alerts = outcome.result.alerts;
        let now_gain = alerts.iter().any(|a| matches!(a, HeartFailureAlert::RapidGain(_)));
        let now_trend = alerts.iter().any(|a| matches!(a, HeartFailureAlert::TrendRise(_)));
        for a in alerts {
            let onset = match a {
                HeartFailureAlert::RapidGain(_) => !gain,
                HeartFailureAlert::TrendRise(_) => !trend,
            };
            if onset {
                onsets.push(a);
            }
        }
        (gain, trend) = (now_gain, now_trend);
    }
    let report = analyze_weight(&csv, InputFormat::Csv).unwrap();
    assert!(report.alerts.iter().any(|a| matches!(a, HeartFailureAlert::RapidGain(_))));
    let key = |a: &HeartFailureAlert| match a {
        HeartFailureAlert::RapidGain(g) => (g.to.time, 0),
        HeartFailureAlert::TrendRise(t) => (t.time, 1),
    };
    onsets.sort_by_key(key);
    let mut expected = report.alerts.clone();
    expected.sort_by_key(key);
    assert_eq!(onsets, expected);
}

#[tokio::test]
async fn implausible_weights_are_errors_and_nan_is_a_missing_value() {
    let dir = tempfile::tempdir().unwrap();
    let ws = with_patient(dir.path(), "W-7").await;
    let err = ws
        .process_weight(&mrn("W-7"), &WeightMeasurement::kg(day(0.0), 8000.0, SourceKind::Manual))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("outside the plausible range"), "{err}");
    let nan = WeightMeasurement::kg(day(0.0), f64::NAN, SourceKind::Manual);
    let r = ws.process_weight(&mrn("W-7"), &nan).await.unwrap().result.result;
    assert_eq!(r.reason, Some(RejectReason::Missing { absent: AbsentReason::NotANumber }));
}

//! The Kalman weight filter on a realistic 120-day series
//! (`tests/fixtures/analysis/kalman/weights_120d.csv`, made by
//! `scripts/reference/make_weight_series.py`): agreement with filterpy, the clinical story it
//! tells, and the migration of a saved v1 state.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use vigil::analysis::heart_failure::HeartFailureAlert;
use vigil::analysis::kalman::{
    FilterState, KalmanConfig, Measurement, Phase, RejectReason, ResetCause, SourceClass, StoredPoint,
    process,
};
use vigil::analysis::report::{InputFormat, analyze_weight, parse_weights};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(root().join("tests/fixtures/analysis/kalman").join(name)).unwrap()
}

fn measurements() -> Vec<Measurement> {
    let mut rows = parse_weights(&fixture("weights_120d.csv"), InputFormat::Csv).unwrap();
    rows.sort_by_key(|r| r.measurement.time);
    rows.into_iter().map(|r| r.measurement).collect()
}

fn days(from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 86_400_000.0
}

/// Fails (not skips) when filterpy is missing, with the pinned install line.
fn require_filterpy() {
    let pin = std::fs::read_to_string(root().join("scripts/reference/requirements.txt"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("filterpy=="))
        .unwrap()
        .to_owned();
    let ok = Command::new("python3")
        .args(["-c", "import filterpy, numpy"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "python3 cannot import filterpy: pip install {pin}");
}

fn run_reference(script: &Path, request: &Value) -> Value {
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().unwrap().write_all(request.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{} failed", script.display());
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn states_match_filterpy_to_1e_9() {
    require_filterpy();
    let cfg = KalmanConfig::default();
    let mut state: Option<FilterState> = None;
    let mut events = Vec::new();
    let mut expected = Vec::new();
    for m in measurements() {
        let (next, r) = process(state.as_ref(), m, &cfg);
        let z = m.value.quantity().unwrap_or(f64::NAN);
        let r_var = cfg.measurement_variance(m.source);
        let prev_track = match state.as_ref().map(|s| &s.phase) {
            Some(Phase::Tracking(t)) => Some(t.clone()),
            _ => None,
        };
        if let Phase::Tracking(t) = &next.phase {
            let started =
                prev_track.is_none() || matches!(r.reset, Some(ResetCause::PersistentOutliers { .. }));
            if started {
                // The baseline's points: the buffer before this step (or the outlier run) plus this one.
                let mut points: Vec<StoredPoint> = match (&prev_track, state.as_ref().map(|s| &s.phase)) {
                    (Some(pt), _) => pt.rejected_run.clone(),
                    (None, Some(Phase::Initializing { pending })) => pending.clone(),
                    _ => Vec::new(),
                };
                points.push(StoredPoint { time: m.time, value: z, source: m.source });
                events.push(json!({
                    "kind": "init",
                    "t": points.iter().map(|p| -days(p.time, m.time)).collect::<Vec<_>>(),
                    "z": points.iter().map(|p| p.value).collect::<Vec<_>>(),
                    "r": points.iter().map(|p| cfg.measurement_variance(p.source)).collect::<Vec<_>>(),
                }));
            } else if r.accepted || matches!(r.reason, Some(RejectReason::Outlier { .. })) {
                let pt = prev_track.as_ref().unwrap();
                events.push(json!({"kind": "step", "dt": days(pt.time, m.time), "z": z, "r": r_var}));
            } else {
                assert_eq!(Some(&next), state.as_ref(), "a rejected measurement moved the state");
                state = Some(next);
                continue;
            }
            expected.push((r.accepted, t.x, t.p));
        }
        state = Some(next);
    }
    let request = json!({"q": cfg.acceleration_psd, "gate_sigma": cfg.gate_sigma, "events": events});
    let reply = run_reference(&root().join("scripts/reference/kalman_filterpy.py"), &request);
    let states = reply["states"].as_array().unwrap();
    assert_eq!(states.len(), expected.len());
    let kinds = |k: &str| events.iter().filter(|e| e["kind"] == k).count();
    assert!(kinds("init") >= 2 && kinds("step") >= 50, "init {} step {}", kinds("init"), kinds("step"));
    assert!(expected.iter().any(|e| !e.0), "the series has a gated outlier");
    let mut worst: f64 = 0.0;
    for (i, ((accepted, x, p), py)) in expected.iter().zip(states).enumerate() {
        assert_eq!(*accepted, py["accepted"].as_bool().unwrap(), "event {i}: gate decision");
        let px: Vec<f64> = serde_json::from_value(py["x"].clone()).unwrap();
        let pp: Vec<Vec<f64>> = serde_json::from_value(py["P"].clone()).unwrap();
        let pairs = [
            (x[0], px[0]),
            (x[1], px[1]),
            (p[0][0], pp[0][0]),
            (p[0][1], pp[0][1]),
            (p[1][0], pp[1][0]),
            (p[1][1], pp[1][1]),
        ];
        for (a, b) in pairs {
            worst = worst.max((a - b).abs());
            assert!(
                (a - b).abs() <= 1e-9,
                "event {i}: vigil {a} filterpy {b}\nvigil x={x:?} P={p:?}\nfilterpy {py}"
            );
        }
    }
    eprintln!(
        "{} events agree with filterpy {} (largest difference {worst:e})",
        expected.len(),
        reply["filterpy"]
    );
}

#[test]
fn the_series_tells_its_story() {
    let report = analyze_weight(&fixture("weights_120d.csv"), InputFormat::Csv).unwrap();
    let reasons: Vec<_> = report
        .steps
        .iter()
        .filter_map(|s| s.result.reason.map(|r| (s.time.date_naive().to_string(), r)))
        .collect();
    // Day 20's backpack is gated out; the empty value and the NaN are rejected as missing.
    assert!(
        reasons.iter().any(|(d, r)| d == "2026-01-21" && matches!(r, RejectReason::Outlier { .. })),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|(d, r)| d == "2026-01-31" && matches!(r, RejectReason::Missing { .. })),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|(d, r)| d == "2026-02-03" && matches!(r, RejectReason::Missing { .. })),
        "{reasons:?}"
    );
    // The 35-day hospital stay restarts the filter.
    let gap = report.steps.iter().find(|s| matches!(s.result.reset, Some(ResetCause::Gap { .. }))).unwrap();
    assert_eq!(gap.time.date_naive().to_string(), "2026-03-29"); // day 85 was a missed morning
    // The decompensation from day 104 fires both warnings within days.
    let onset = |pick: fn(&HeartFailureAlert) -> Option<String>| report.alerts.iter().find_map(pick).unwrap();
    let gain = onset(|a| match a {
        HeartFailureAlert::RapidGain(g) => Some(g.to.time.date_naive().to_string()),
        _ => None,
    });
    let trend = onset(|a| match a {
        HeartFailureAlert::TrendRise(t) => Some(t.time.date_naive().to_string()),
        _ => None,
    });
    assert!(("2026-04-17".."2026-04-20").contains(&gain.as_str()), "rapid gain on {gain}");
    assert!(("2026-04-17".."2026-04-23").contains(&trend.as_str()), "trend on {trend}");
    let onset = chrono::NaiveDate::from_ymd_opt(2026, 4, 15).unwrap();
    assert!(
        report.alerts.iter().all(|a| match a {
            HeartFailureAlert::RapidGain(g) => g.to.time.date_naive() >= onset,
            HeartFailureAlert::TrendRise(t) => t.time.date_naive() >= onset,
        }),
        "no warning before the decompensation: {:?}",
        report.alerts
    );
}

#[test]
fn a_saved_v1_state_migrates_and_keeps_filtering() {
    let state = FilterState::from_json(&fixture("state_v1.json")).unwrap();
    let Phase::Tracking(t) = &state.phase else { panic!("{state:?}") };
    assert_eq!((t.x, t.p), ([83.12, -0.035], [[0.045, 0.0], [0.0, 0.0009]]));
    let time = t.time + chrono::Duration::days(1);
    let (next, r) =
        process(Some(&state), Measurement::kg(time, 83.0, SourceClass::Home), &KalmanConfig::default());
    assert!(r.accepted && !r.needs_initialization);
    let json = next.to_json();
    assert!(json.starts_with(r#"{"schema_version":2,"phase":"tracking""#), "{json}");
    assert_eq!(FilterState::from_json(&json).unwrap(), next);
}

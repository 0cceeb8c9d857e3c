//! `vigil analyze ...` run as a built binary: stdin in, JSON out, errors naming line and field.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Output;

use serde_json::Value;

/// Runs `vigil` with `args` and `stdin`, in an empty environment for the store (a data
/// directory and key file under `dir`).
fn vigil(dir: &Path, args: &[&str], stdin: &str) -> Output {
    common::cli(&dir.join("data"), &dir.join("vigil.key"), args, stdin)
}

fn json(out: &Output) -> Value {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

const WEIGHTS_CSV: &str = "time,value_kg,source\n\
    2026-01-01T07:00:00+01:00,80.0,clinic\n\
    2026-01-02T07:00:00+01:00,80.2,home\n\
    2026-01-03T07:00:00+01:00,,home\n\
    2026-01-04T07:00:00+01:00,80.1,home\n\
    2026-01-05T07:00:00+01:00,80.3,\n";

#[test]
fn weight_from_csv_and_json_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let csv = json(&vigil(dir.path(), &["analyze", "weight"], WEIGHTS_CSV));
    assert_eq!(csv["summary"]["rows"], 5);
    assert_eq!(csv["summary"]["rejected"], 1);
    assert_eq!(csv["steps"][2]["result"]["reason"]["code"], "missing");
    assert_eq!(csv["steps"][2]["at"]["line"], 4);
    assert_eq!(csv["final_state"]["schema_version"], 2);
    assert_eq!(csv["final_state"]["phase"], "tracking");

    let items = r#"[{"time":"2026-01-01T07:00:00+01:00","value_kg":80.0,"source":"clinic"},
        {"time":"2026-01-02T07:00:00+01:00","value_kg":80.2},
        {"time":"2026-01-03T07:00:00+01:00","value_kg":null},
        {"time":"2026-01-04T07:00:00+01:00","value_kg":80.1},
        {"time":"2026-01-05T07:00:00+01:00","value_kg":80.3}]"#;
    let out = vigil(dir.path(), &["analyze", "weight", "--compact"], items);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1, "--compact is one line");
    let from_json = json(&out);
    assert_eq!(from_json["final_state"], csv["final_state"]);
    assert!(!dir.path().join("data").exists(), "reading stdin touches no store");
}

#[test]
fn hrv_window_and_news2_on_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let rr: Vec<String> = (0..300).map(|i| (800 + (i * 37) % 90).to_string()).collect();
    let hrv =
        json(&vigil(dir.path(), &["analyze", "hrv", "--correct", "none"], &format!("[{}]", rr.join(","))));
    assert_eq!(hrv["time_domain"]["nn_count"], 300);

    let mut window = String::from("time,heart_rate,spo2\n");
    for s in 0..20 {
        window.push_str(&format!("2026-01-01T08:00:{s:02}Z,{},97\n", 70 + s % 3));
    }
    let w = json(&vigil(dir.path(), &["analyze", "window"], &window));
    assert_eq!(w["ticks"].as_array().unwrap().len(), 4);
    assert_eq!(w["ticks"][3]["spo2_mean"], 97.0);

    let news2 = "respiration_rate,spo2,air_or_oxygen,systolic_bp,pulse,consciousness,temperature\n\
                 22,93,air,105,112,A,38.4\n";
    let n = json(&vigil(dir.path(), &["analyze", "news2", "--format", "csv"], news2));
    assert_eq!(n["highest_aggregate"], 8);
}

#[test]
fn window_reads_the_devices_hrv_stream_and_says_so() {
    // No RR intervals; hrv_ms 40 at 07:59:55, 50 at 08:00:01, 60 at 08:00:02. Ticks at 07:59:55
    // (40 alone) and 08:00:01 (40 and 50: mean 45, population std 5).
    let dir = tempfile::tempdir().unwrap();
    let csv = "time,heart_rate,hrv_ms\n2026-01-01T07:59:55Z,70,40\n2026-01-01T08:00:01Z,71,50\n\
               2026-01-01T08:00:02Z,72,60\n";
    let w = json(&vigil(dir.path(), &["analyze", "window"], csv));
    let ticks = w["ticks"].as_array().unwrap();
    assert_eq!(ticks.len(), 2);
    let source_and_mean = |t: &Value| (t["hrv_source"].as_str().map(str::to_owned), t["hrv_mean"].as_f64());
    assert_eq!(source_and_mean(&ticks[0]), (Some("hrv_stream".into()), Some(40.0)));
    assert_eq!(source_and_mean(&ticks[1]), (Some("hrv_stream".into()), Some(45.0)));
    assert_eq!(ticks[1]["hrv_std"].as_f64(), Some(5.0));
    // JSON under the store's name; RR intervals in consecutive seconds take precedence
    // (|830 − 800| = 30 ms), and without them there is no HRV source at all.
    let items = r#"[{"time":"2026-01-01T07:59:59Z","rr_interval":800,"hrv_sdnn":40},
                    {"time":"2026-01-01T08:00:00Z","rr_interval":830,"hrv_sdnn":50}]"#;
    let w = json(&vigil(dir.path(), &["analyze", "window"], items));
    assert_eq!(source_and_mean(&w["ticks"][0]), (Some("hrv_stream".into()), Some(40.0)));
    assert_eq!(source_and_mean(&w["ticks"][1]), (Some("rr_intervals".into()), Some(30.0)));
    let w = json(&vigil(dir.path(), &["analyze", "window"], "time,spo2\n2026-01-01T08:00:00Z,97\n"));
    assert_eq!(source_and_mean(&w["ticks"][0]), (None, None));
}

#[test]
fn a_patients_stored_hrv_stream_feeds_the_window() {
    // Five minutes of stored heart rate and hrv_sdnn, 08:00:01 to 08:05:00 (a tick falls on
    // the first sample of each 5 s, so the last tick's window holds all 300): 240 s at 50 ms,
    // then 60 s at 20 ms. By hand: mean 44, population std 12, hrv_decrease (50 − 20) / 50 = 0.6.
    let dir = tempfile::tempdir().unwrap();
    common::cli_login(
        &dir.path().join("data"),
        &dir.path().join("vigil.key"),
        vigil::domain::access::Role::Clinician,
    );
    let args = ["patient", "add", "--mrn", "MRN-H", "--name", "Stream Patient", "--consent", "monitoring"];
    let out = vigil(dir.path(), &args, "");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let mut csv = String::from("time,heart_rate,hrv_sdnn\n");
    for s in 1..=300 {
        let ms = if s <= 240 { 50 } else { 20 };
        csv += &format!("2026-01-01T08:{:02}:{:02}Z,72,{ms}\n", s / 60, s % 60);
    }
    let file = dir.path().join("stream.csv");
    std::fs::write(&file, csv).unwrap();
    let out = vigil(dir.path(), &["import", file.to_str().unwrap(), "--patient", "MRN-H"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let args =
        ["analyze", "window", "--patient", "MRN-H", "--until", "2026-01-01T08:05:01Z", "--minutes", "5"];
    let w = json(&vigil(dir.path(), &args, ""));
    let last = w["ticks"].as_array().unwrap().last().unwrap();
    assert_eq!(last["hrv_source"], "hrv_stream", "{last}");
    for (name, want) in [("hrv_mean", 44.0), ("hrv_std", 12.0), ("hrv_decrease", 0.6)] {
        let got = last[name].as_f64().unwrap();
        assert!((got - want).abs() < 1e-9, "{name}: {got} vs {want}");
    }
}

#[test]
fn errors_name_the_line_and_field_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "time,value_kg\n2026-01-01T07:00:00Z,80\n2026-01-02,81\n";
    let out = vigil(dir.path(), &["analyze", "weight"], bad);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3, field time: '2026-01-02' is not an RFC 3339 time"), "{stderr}");
    assert!(out.stdout.is_empty());

    // Issue 11: 101 weights under `weight` were reported as 101 missing values.
    let mut weights = String::from("time,weight\n");
    for i in 0..101 {
        weights += &format!("2026-01-01T07:00:00Z,{}\n", 80 + i % 3);
    }
    let out = vigil(dir.path(), &["analyze", "weight"], &weights);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "line 1: no value_kg column: the header has time, weight (expected columns: time, value_kg, source)"
        ),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    let out = vigil(dir.path(), &["analyze", "news2"], "[{\"rr\": 16, \"sats\": 97}]");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the objects have rr, sats"));
    let out = vigil(dir.path(), &["analyze", "window"], "time\n2026-01-01T07:00:00Z\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 1: no value column: the header has only time")
    );

    let out = vigil(dir.path(), &["analyze", "hrv"], "rr_ms\n800\nabc\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 3: rr_ms: 'abc' is not a number"));

    let out = vigil(dir.path(), &["analyze", "hrv", "--correct", "sometimes"], "");
    assert_eq!(out.status.code(), Some(2), "a usage error");
}

#[test]
fn help_documents_the_columns() {
    let dir = tempfile::tempdir().unwrap();
    let out = vigil(dir.path(), &["analyze", "weight", "--help"], "");
    let help = String::from_utf8_lossy(&out.stdout);
    for column in ["time", "value_kg", "source", "clinic | home (default) | reported"] {
        assert!(help.contains(column), "{help}");
    }
}

#[test]
fn a_patients_stored_data_is_read_with_patient_and_saved_only_with_save() {
    let dir = tempfile::tempdir().unwrap();
    assert!(vigil(dir.path(), &["demo"], "").status.success());
    assert!(vigil(dir.path(), &["login", "clinician"], "vigil-demo\n").status.success());
    // DEMO-0002 gains fluid over the last days: the trend rule fires on the stored weights.
    let report = json(&vigil(dir.path(), &["analyze", "weight", "--patient", "DEMO-0002"], ""));
    assert_eq!(report["summary"]["rows"], 30);
    assert_eq!(report["steps"][0]["at"]["item"], 1);
    assert_eq!(report["steps"][0]["source"], "home", "demo data counts as a home scale");
    assert!(report["alerts"].as_array().unwrap().iter().any(|a| a["rule"] == "trend_rise"), "{report}");

    let saved = json(&vigil(dir.path(), &["analyze", "weight", "--patient", "DEMO-0002", "--save"], ""));
    let outcomes = saved["saved"].as_array().unwrap();
    assert_eq!(outcomes.len(), 30);
    assert!(outcomes.iter().all(|o| o["duplicate"] == false));
    // The persisted filter gives the same steps as the in-memory run.
    for (step, outcome) in saved["report"]["steps"].as_array().unwrap().iter().zip(outcomes) {
        assert_eq!(step["result"], outcome["result"]["result"]);
    }
    let again = json(&vigil(dir.path(), &["analyze", "weight", "--patient", "DEMO-0002", "--save"], ""));
    assert!(again["saved"].as_array().unwrap().iter().all(|o| o["duplicate"] == true));

    let news2 = json(&vigil(dir.path(), &["analyze", "news2", "--patient", "DEMO-0001"], ""));
    assert_eq!(news2["used"].as_array().unwrap().len(), 5);
    assert!(news2["score"]["aggregate"].is_number());

    // The demo's last ten minutes of beat-to-beat RR intervals (about 700 at 70 /min).
    let hrv = json(&vigil(dir.path(), &["analyze", "hrv", "--patient", "DEMO-0001"], ""));
    let beats = hrv["input_count"].as_u64().unwrap();
    assert!((600..=800).contains(&beats), "{hrv}");
    let out = vigil(
        dir.path(),
        &["analyze", "hrv", "--patient", "DEMO-0001", "--since", "2020-01-01", "--until", "2020-01-02"],
        "",
    );
    assert_eq!(out.status.code(), Some(1), "no RR intervals in 2020");
    assert!(String::from_utf8_lossy(&out.stderr).contains("rr_interval"));

    let out = vigil(dir.path(), &["analyze", "weight", "--patient", "NOPE"], "");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no patient with MRN NOPE"));
}

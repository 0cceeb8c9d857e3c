//! `vigil analyze ...` run as a built binary: stdin in, JSON out, errors naming line and field.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// Runs `vigil` with `args` and `stdin`, in an empty environment for the store (a data
/// directory and key file under `dir`).
fn vigil(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .env("VIGIL_DATA_DIR", dir.join("data"))
        .env(vigil::store::KEY_FILE_ENV, dir.join("vigil.key"))
        .env("RUST_LOG", "off")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
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
fn errors_name_the_line_and_field_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "time,value_kg\n2026-01-01T07:00:00Z,80\n2026-01-02,81\n";
    let out = vigil(dir.path(), &["analyze", "weight"], bad);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3, field time: '2026-01-02' is not an RFC 3339 time"), "{stderr}");
    assert!(out.stdout.is_empty());

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

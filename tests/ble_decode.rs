//! `vigil ble decode`: decodes one characteristic value without a store or a sign-in. Runs
//! the real binary; the data directory is a temporary one (only the log goes there).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Output;

use serde_json::{Value, json};

fn vigil(args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .env("VIGIL_DATA_DIR", dir.path())
        .env_remove("VIGIL_TOKEN_FILE")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn decode_json(args: &[&str]) -> Value {
    let mut all = vec!["ble", "decode", "--json"];
    all.extend_from_slice(args);
    let o = vigil(&all);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

#[test]
fn heart_rate_with_rr_intervals_as_text() {
    // Flags 0x16: contact supported and detected, RR present; 72/min, RR 768 and 832 /1024 s.
    let o = vigil(&["ble", "decode", "--characteristic", "2a37", "16 48 00 03 40 03"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "heart_rate_measurement (0x2A37)\nheart_rate 72 /min\nrr_interval 750 ms (at -813 ms)\nrr_interval 812.5 ms\n"
    );
}

#[test]
fn json_has_every_key_with_its_value() {
    // Nordic BloodPressureMeasurementDataCallbackTest _full: 138/88 mmHg, pulse 60, user 1,
    // date not known (year 0), status 0x27.
    let v = decode_json(&[
        "--characteristic",
        "0x2A35",
        "1E:8A:00:58:00:78:00:00:00:04:11:14:29:3B:3C:00:01:27:00",
    ]);
    assert_eq!(
        v,
        json!({
            "characteristic": "blood_pressure_measurement",
            "uuid": "00002a35-0000-1000-8000-00805f9b34fb",
            "readings": [
                {"kind": "bp_systolic", "value": 138.0, "unit": "mm[Hg]", "absent": null},
                {"kind": "bp_diastolic", "value": 88.0, "unit": "mm[Hg]", "absent": null},
                {"kind": "heart_rate", "value": 60.0, "unit": "/min", "absent": null},
            ],
            "rejected": [],
            "device_time": null,
            "device_clock": "not_set",
            "user": 1,
            "sequence": null,
            "status": ["body_movement", "cuff_too_loose", "irregular_pulse", "improper_position"],
            "info": null,
        })
    );
}

#[test]
fn json_absent_values_rejections_and_device_time() {
    // Temperature NaN (FLOAT 0x007FFFFF) with a time stamp: absent, with its reason.
    let v = decode_json(&[
        "--characteristic",
        "00002a1c-0000-1000-8000-00805f9b34fb",
        "02 FF FF 7F 00 EA 07 0B 17 08 00 00",
    ]);
    assert_eq!(
        v["readings"],
        json!([{"kind": "body_temperature", "value": null, "unit": "Cel", "absent": "not-a-number"}])
    );
    assert_eq!(v["device_time"], "2026-11-23T08:00:00");
    assert_eq!(v["device_clock"], "set");
    // No skin contact: rejected with the reason, nothing in readings.
    let v = decode_json(&["--characteristic", "2A37", "04FF"]);
    assert_eq!(v["readings"], json!([]));
    assert_eq!(v["rejected"][0]["kind"], "heart_rate");
    assert_eq!(v["status"], json!(["sensor_contact_not_detected"]));
    // Glucose: sequence and mmol/L.
    let v = decode_json(&["--characteristic", "2a18", "06 08 00 EA 07 03 01 08 00 00 37 C0 11"]);
    assert_eq!(v["sequence"], 8);
    assert_eq!(v["readings"][0]["kind"], "blood_glucose");
    assert_eq!(v["readings"][0]["unit"], "mmol/L");
    // Battery: info.
    let v = decode_json(&["--characteristic", "battery_level", "55"]);
    assert_eq!(v["info"], json!({"battery": 85}));
}

#[test]
fn a_truncated_value_names_the_field_and_offset_and_fails() {
    let o = vigil(&["ble", "decode", "--characteristic", "2a37", "01 48"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(
            "heart_rate_measurement: heart rate (uint16) at byte 1: needs 2 bytes, the value has 1 left"
        ),
        "{}",
        stderr(&o)
    );
    assert_eq!(stdout(&o), "");
    let o = vigil(&["ble", "decode", "--json", "--characteristic", "2a37", "10 48 00 03 40"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("rr intervals at byte 2"), "{}", stderr(&o));
}

#[test]
fn unknown_characteristics_and_bad_hex_fail_clearly() {
    let o = vigil(&["ble", "decode", "--characteristic", "2a99", "00"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("'2a99' is not a characteristic Vigil decodes"), "{}", stderr(&o));
    let o = vigil(&["ble", "decode", "--characteristic", "2a37", "0g 48"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("'g' is not a hex digit"), "{}", stderr(&o));
    let o = vigil(&["ble", "decode", "--characteristic", "2a37"]);
    assert_eq!(o.status.code(), Some(2), "a missing HEX is a usage error");
}

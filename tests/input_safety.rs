//! Patient safety at every input (issue 17): bounded resources and strict input, through the
//! real `vigil` binary or the facade on an encrypted store. Each test is named after the
//! problem it keeps fixed.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use chrono::NaiveDate;
use serde_json::Value;
use vigil::domain::{Consent, Kind, NewPatient, PatientRef, Sex};
use vigil::store::{KeySource, ObservationQuery};
use vigil::workstation::{CancelToken, ImportOptions, ImportReport, Rollout};
use vigil::{Error, OpenOptions, Workstation};

use common::zip_raw::{RawEntry, write_zip};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path)
}

/// Runs `vigil` on a data directory and key file under `dir`.
fn vigil(dir: &Path, args: &[&str], stdin: &str) -> Output {
    common::cli(&dir.join("data"), &dir.join("vigil.key"), args, stdin)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A store with patient `MRN-S`, made through the CLI.
fn cli_store(dir: &Path) {
    common::cli_login(&dir.join("data"), &dir.join("vigil.key"), vigil::domain::access::Role::Clinician);
    let args = ["patient", "add", "--mrn", "MRN-S", "--name", "Safety Patient", "--consent", "monitoring"];
    let out = vigil(dir, &args, "");
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

async fn workstation(dir: &Path) -> Workstation {
    let options = OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create: true,
        purpose: vigil::workstation::StorePurpose::Demo,
    };
    let ws = common::open(options).await;
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let patient = NewPatient::new("MRN-S", "Safety Patient", None, Sex::Unknown, Consent::FULL, today);
    ws.add_patient(patient.unwrap()).await.unwrap();
    ws
}

async fn import(ws: &Workstation, path: &Path) -> Result<ImportReport, Error> {
    let options = ImportOptions { patient: Some(PatientRef::Mrn("MRN-S".into())), ..Default::default() };
    ws.import_file(path, &options, &|_| {}, &CancelToken::default()).await
}

async fn heart_rates(ws: &Workstation) -> Vec<f64> {
    let query = ObservationQuery { kinds: vec![Kind::HeartRate], ..Default::default() };
    let (_, obs) = ws.observations(&PatientRef::Mrn("MRN-S".into()), &query).await.unwrap();
    obs.into_iter().filter_map(|o| o.value.quantity()).collect()
}

#[test]
fn hrv_huge_rr_is_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[800, 1e12, 810, 790]", "element 1: RR interval #1 is 1e12 ms: longer than 60000 ms"),
        ("[1e308, 800, 810]", "element 0: RR interval #0 is 1e308 ms: longer than 60000 ms"),
        ("rr_ms\n800\n1e12\n", "line 3: rr_ms: RR interval #1 is 1e12 ms"),
    ];
    for (input, expected) in cases {
        let out = vigil(dir.path(), &["analyze", "hrv"], input);
        assert_eq!(out.status.code(), Some(1), "{input}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(expected), "{input}: {}", text(&out.stderr));
    }
    // Each interval under a minute, but 11,000 of them are more than 7 days.
    let long: Vec<String> = (0..11_000).map(|_| "59000".to_owned()).collect();
    let out = vigil(dir.path(), &["analyze", "hrv"], &format!("[{}]", long.join(",")));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("add up to 649000 s, more than the 604800 s"),
        "{}",
        text(&out.stderr)
    );
    // An ordinary series still works.
    let out = vigil(dir.path(), &["analyze", "hrv", "--compact"], "[800, 810, 790, 805, 795]");
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn rate_limit_flag_out_of_range_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let replay = dir.path().join("stream.csv");
    std::fs::write(&replay, "time,heart_rate\n2026-01-01T00:00:00Z,70\n").unwrap();
    let replay = replay.to_str().unwrap();
    let cases: [(&[&str], &str); 9] = [
        (&["monitor", "--replay", replay, "--rate-limit", "9223372036854775807"], "--rate-limit"),
        (&["monitor", "--replay", replay, "--rate-limit=-1"], "--rate-limit"),
        (&["monitor", "--replay", replay, "--threshold", "NaN"], "--threshold"),
        (&["assess", "MRN-S", "--threshold", "1e309"], "--threshold"),
        (&["alerts", "list", "--limit=-5"], "--limit"),
        (&["agents", "status", "--probes", "18446744073709551615"], "--probes"),
        (&["analyze", "window", "--patient", "MRN-S", "--minutes", "4294967295"], "--minutes"),
        (&["bench", "agents", "--hours", "1e300"], "--hours"),
        (&["import", replay, "--fit-user", "70000"], "--fit-user"),
    ];
    for (args, flag) in cases {
        let out = vigil(dir.path(), args, "");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?} is a usage error: {stderr}");
        assert!(stderr.contains(flag) && stderr.contains("is not in"), "{args:?}: {stderr}");
    }
    assert!(!dir.path().join("data").exists(), "refused before any store is opened");
}

#[test]
fn rejection_echo_is_cut_and_terminal_escapes_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    cli_store(dir.path());
    let csv = dir.path().join("hostile.csv");
    let huge = "9".repeat(200_000);
    std::fs::write(
        &csv,
        format!(
            "patient,time,kind,value,unit\n\
             MRN-S,2024-03-01T08:00:00+01:00,heart_rate,72,/min\n\
             MRN-S,2024-03-01T08:01:00+01:00,\x1b]0;owned\x07heart_rate,73,/min\n\
             MRN-S,2024-03-01T08:02:00+01:00,heart_rate,x{huge},/min\n\
             MRN-S,2024-03-01T08:03:00+01:00,heart_rate,74,{huge}\n"
        ),
    )
    .unwrap();
    let path = csv.to_str().unwrap();
    let out = vigil(dir.path(), &["import", path, "--format", "csv", "--dry-run"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!out.stdout.iter().any(|&b| b == 0x1b || b == 0x07), "raw control bytes reach the terminal");
    let stdout = text(&out.stdout);
    assert!(stdout.contains(r"\u{1b}]0;owned\u{7}heart_rate"), "{stdout}");
    assert!(stdout.lines().all(|l| l.chars().count() < 400), "{stdout}");

    let out = vigil(dir.path(), &["import", path, "--format", "csv", "--dry-run", "--json"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.len() < 4_000, "{} bytes of JSON for 3 rejections", out.stdout.len());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["accepted"], 1);
    assert_eq!(report["rejected_total"], 3);
    let reasons: Vec<&str> =
        report["rejected"].as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
    assert!(reasons.iter().all(|r| r.chars().count() < 300 && !r.contains('\x1b')), "{reasons:?}");
    assert!(reasons[1].contains("99999…"), "{reasons:?}");
}

const OBSERVATION: &str = r#"{"resourceType": "Observation", "status": "final",
  "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
  "effectiveDateTime": "2024-03-01T08:00:00+01:00",
  "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}"#;

#[tokio::test]
async fn fhir_duplicate_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    let file = dir.path().join("obs.json");
    let twice = r#", "valueQuantity": {"value": 290, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}"#;
    let cases = [
        (format!("{OBSERVATION}{twice}}}"), "duplicate key 'valueQuantity'"),
        (format!("{OBSERVATION}, \"resourceType\": \"Patient\"}}"), "duplicate key 'resourceType'"),
        (
            format!("{}}}", OBSERVATION.replace("\"value\": 72,", "\"value\": 72, \"value\": 290,")),
            "duplicate key 'value'",
        ),
    ];
    for (json, expected) in cases {
        std::fs::write(&file, json).unwrap();
        let err = import(&ws, &file).await.unwrap_err().to_string();
        assert!(err.contains(expected) && err.starts_with("obs.json:"), "{err}");
    }
    // In NDJSON the line with the duplicate is rejected and the others import.
    let ndjson = dir.path().join("obs.ndjson");
    let line = |extra: &str| format!("{}{extra}}}", OBSERVATION.replace('\n', " "));
    std::fs::write(&ndjson, format!("{}\n{}\n", line(twice), line(""))).unwrap();
    let report = import(&ws, &ndjson).await.unwrap();
    assert_eq!((report.accepted, report.rejected_total), (1, 1));
    assert_eq!(report.rejected[0].location.line, Some(1));
    assert!(report.rejected[0].reason.contains("duplicate key 'valueQuantity'"), "{:?}", report.rejected);
    assert_eq!(heart_rates(&ws).await, [72.0], "only the unambiguous line is stored");
}

#[tokio::test]
async fn wide_csv_same_kind_twice_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    let file = dir.path().join("wide.csv");
    std::fs::write(&file, "time,heart_rate,HEART_RATE[/min]\n2024-03-01T08:00:00+01:00,72,75\n").unwrap();
    let err = import(&ws, &file).await.unwrap_err().to_string();
    assert!(
        err.starts_with("wide.csv:1: columns 'heart_rate' and 'HEART_RATE[/min]' are both heart_rate"),
        "{err}"
    );
    std::fs::write(&file, "time,heart_rate[/min],spo2\n2024-03-01T08:00:00+01:00,72,97\n").unwrap();
    assert_eq!(import(&ws, &file).await.unwrap().accepted, 2, "one column per kind imports");
    assert_eq!(heart_rates(&ws).await, [72.0]);
}

#[tokio::test]
async fn package_manifest_unknown_nested_field_is_refused() {
    use ring::signature::Ed25519KeyPair;
    use vigil::models::package::{self, Package};

    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    let (pkcs8, public) = vigil::models::trust::generate_signing_key().unwrap();
    let key = Ed25519KeyPair::from_pkcs8(&pkcs8).unwrap();
    as_role!(&ws, It, ws.add_trusted_key(&hex::encode(public), "test signer").await).unwrap();
    let read = |f: &str| std::fs::read(fixture("models/early-warning-gbt-1.0.0").join(f)).unwrap();
    let (model, vectors) = (read("model.onnx"), read("test_vectors.json"));
    let good = package::build(&read("manifest.json"), &model, &vectors, &key).unwrap();
    let good_manifest = Package::read(&good).unwrap().manifest_bytes;

    // Signed as it is, with an unknown field inside `training`.
    let mut manifest: Value = serde_json::from_slice(&good_manifest).unwrap();
    manifest["training"]["dropout"] = Value::from(0.5);
    let manifest = serde_json::to_vec_pretty(&manifest).unwrap();
    let bad = package::write(&manifest, &model, &vectors, &package::sign(&manifest, &key)).unwrap();
    let err = match Package::read(&bad) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a manifest with an unknown field inside `training` was read"),
    };
    assert!(err.contains("unknown field `dropout`"), "{err}");
    let err = as_role!(&ws, It, ws.install_package_bytes("nested.vigilpkg", bad, Rollout::Activate).await)
        .unwrap_err();
    assert!(
        matches!(&err, Error::PackageRefused { reason, .. } if reason.contains("unknown field `dropout`")),
        "{err}"
    );
    assert!(ws.packages().await.unwrap().packages.is_empty(), "nothing installed");
}

#[tokio::test]
async fn apple_health_zip_with_two_export_xml_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    let export = |bpm: u32| {
        format!(
            "<HealthData><Record type=\"HKQuantityTypeIdentifierHeartRate\" unit=\"count/min\" \
             startDate=\"2024-03-01 08:00:00 +0100\" value=\"{bpm}\"/></HealthData>"
        )
    };
    let (first, second) = (export(72), export(190));
    let file = dir.path().join("export.zip");
    for names in [
        ["apple_health_export/export.xml", "apple_health_export/export.xml"],
        ["apple_health_export/export.xml", "old/export.xml"],
    ] {
        let entries =
            [RawEntry::stored(names[0], first.as_bytes()), RawEntry::stored(names[1], second.as_bytes())];
        write_zip(&mut std::fs::File::create(&file).unwrap(), &entries).unwrap();
        let err = import(&ws, &file).await.unwrap_err().to_string();
        assert!(err.contains("the archive holds 2 entries named export.xml"), "{err}");
        assert!(err.contains(names[1]), "{err}");
    }
    // One export.xml (beside export_cda.xml) imports.
    let entries = [
        RawEntry::stored("apple_health_export/export.xml", first.as_bytes()),
        RawEntry::stored("apple_health_export/export_cda.xml", b"<ClinicalDocument/>"),
    ];
    write_zip(&mut std::fs::File::create(&file).unwrap(), &entries).unwrap();
    assert_eq!(import(&ws, &file).await.unwrap().accepted, 1);
    assert_eq!(heart_rates(&ws).await, [72.0]);
}

#[test]
fn fit_user_flag_chooses_one_user_of_a_shared_scale() {
    let dir = tempfile::tempdir().unwrap();
    cli_store(dir.path());
    let fit = fixture("ingest/fit/WeightScaleMultiUser.fit");
    let fit = fit.to_str().unwrap();
    let out = vigil(dir.path(), &["import", fit, "--patient", "MRN-S", "--json"], "");
    assert_eq!(out.status.code(), Some(1), "both users' readings rejected: nothing imported");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["rejected"][0]["reason"].as_str().unwrap().contains("--fit-user N"), "{report}");

    let out = vigil(dir.path(), &["import", fit, "--patient", "MRN-S", "--fit-user", "1", "--json"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((report["added"].as_u64(), report["rejected_total"].as_u64()), (Some(1), Some(0)), "{report}");
    let out = vigil(dir.path(), &["observations", "MRN-S", "--kind", "body_weight", "--json"], "");
    let rows: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows[0]["value"], 58.2, "user 1's reading: {rows}");

    let out = vigil(dir.path(), &["import", fit, "--patient", "MRN-S", "--fit-user", "7", "--json"], "");
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let reason = report["rejected"][0]["reason"].as_str().unwrap();
    assert_eq!(reason, "user_profile_index: user 7 has no readings in this file (users 0, 1)");
}

#[test]
fn json_reports_file_failures_and_wide_csv_without_patient_exits_nonzero() {
    let dir = tempfile::tempdir().unwrap();
    cli_store(dir.path());
    let broken = fixture("ingest/fhir/broken.json");
    let wide = fixture("ingest/csv/wide.csv");
    let (broken, wide) = (broken.to_str().unwrap(), wide.to_str().unwrap());

    let out = vigil(dir.path(), &["import", wide, "--json"], "");
    assert_eq!(out.status.code(), Some(1), "a wide CSV with no --patient imports nothing");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["accepted"], 0);
    assert!(report["error"].as_str().unwrap().contains("nothing imported"), "{report}");
    assert!(text(&out.stderr).contains("pass --patient"), "{}", text(&out.stderr));

    let out = vigil(dir.path(), &["import", broken, wide, "--patient", "MRN-S", "--json"], "");
    assert_eq!(out.status.code(), Some(1));
    let reports: Value = serde_json::from_slice(&out.stdout).unwrap();
    let [failed, imported] = reports.as_array().unwrap().as_slice() else { panic!("{reports}") };
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(failed), keys(imported), "one shape for every file");
    assert_eq!(failed["file"], "broken.json");
    assert!(failed["error"].as_str().unwrap().contains("not valid JSON"), "{failed}");
    assert_eq!(failed["accepted"], 0);
    assert_eq!(imported["error"], Value::Null);
    assert!(imported["accepted"].as_u64().unwrap() > 0);
}

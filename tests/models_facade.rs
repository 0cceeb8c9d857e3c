//! Model packages through the facade and the CLI, on a real encrypted store: install, refusal
//! (nothing stored, the reason audited), findings naming the model version, promote and
//! rollback with their events, and the agents' rules-only answer when ONNX Runtime is absent.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, Duration, NaiveDate};
use ring::signature::Ed25519KeyPair;
use vigil::agents::{Method, OrchestratorConfig, Specialty};
use vigil::domain::{
    Consent, Kind, NewObservation, NewPatient, ObservationValue, PatientRef, Sex, SourceKind,
};
use vigil::models::package;
use vigil::models::trust::generate_signing_key;
use vigil::store::KeySource;
use vigil::workstation::{AssessOptions, PackageState, Rollout};
use vigil::{Error, OpenOptions, Workstation};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models").join(name)
}

/// Signs the fixture directories into package files in `out`; returns the public key (hex).
fn packages(out: &Path, dirs: &[&str]) -> String {
    let (pkcs8, public) = generate_signing_key().unwrap();
    let key = Ed25519KeyPair::from_pkcs8(&pkcs8).unwrap();
    for d in dirs {
        let r = |f: &str| std::fs::read(fixture(d).join(f)).unwrap();
        let bytes =
            package::build(&r("manifest.json"), &r("model.onnx"), &r("test_vectors.json"), &key).unwrap();
        std::fs::write(out.join(format!("{d}.vigilpkg")), bytes).unwrap();
    }
    hex::encode(public)
}

async fn open(dir: &Path) -> Workstation {
    let options = OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create: true,
        purpose: vigil::workstation::StorePurpose::Demo,
    };
    common::open(options).await
}

/// Ten minutes of tachycardic, feverish 1 Hz vitals and one cuff pressure.
async fn patient(ws: &Workstation) {
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let p = ws
        .add_patient(
            NewPatient::new("MRN-M", "Model Patient", None, Sex::Unknown, Consent::FULL, today).unwrap(),
        )
        .await
        .unwrap()
        .id;
    let start = DateTime::parse_from_rfc3339("2026-11-23T08:00:00+01:00").unwrap();
    let at = |s| start + Duration::seconds(s);
    let q = |kind, v, s| NewObservation::new(p, kind, ObservationValue::Quantity(v), at(s)).unwrap();
    let mut batch = vec![q(Kind::BpSystolic, 104.0, 0)];
    for t in 0..600 {
        batch.push(q(Kind::HeartRate, 104.0 + (t % 7) as f64, t));
        batch.push(q(Kind::Spo2, 94.0, t));
        batch.push(q(Kind::RespiratoryRate, 21.0, t));
        batch.push(q(Kind::BodyTemperature, 38.4, t));
    }
    ws.record_observations(&SourceKind::Manual, &batch).await.unwrap();
}

#[tokio::test]
async fn install_assess_promote_and_rollback_are_stored_audited_and_used() {
    let dir = tempfile::tempdir().unwrap();
    let public = packages(dir.path(), &["early-warning-gbt-1.0.0", "early-warning-gbt-1.1.0"]);
    let file = |v: &str| dir.path().join(format!("early-warning-gbt-{v}.vigilpkg"));
    let ws = open(dir.path()).await;
    patient(&ws).await;

    // Not yet trusted: refused, nothing stored, the reason audited.
    let err = as_role!(&ws, It, ws.install_package(&file("1.0.0"), Rollout::Activate).await).unwrap_err();
    assert!(matches!(&err, Error::PackageRefused { reason, .. } if reason.contains("unknown key")), "{err}");
    let view = ws.packages().await.unwrap();
    assert!(view.packages.is_empty() && view.deployments.is_empty());
    let audit = as_role!(&ws, Auditor, ws.recent_audit(30).await).unwrap();
    assert!(audit.iter().any(|(_, _, a, _)| a == "model.refused"));

    as_role!(&ws, It, ws.add_trusted_key(&public, "test signer").await).unwrap();
    let report = as_role!(&ws, It, ws.install_package(&file("1.0.0"), Rollout::Activate).await).unwrap();
    assert_eq!(
        (report.version.as_str(), report.agent, report.test_vectors),
        ("1.0.0", Specialty::EarlyWarning, 22)
    );
    assert!(report.demonstration);

    // The early-warning finding names the model and version that scored it.
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await.unwrap();
    let outcome =
        ws.assess(&orchestrator, &PatientRef::Mrn("MRN-M".into()), &AssessOptions::default()).await.unwrap();
    let a = outcome.assessment.unwrap();
    let ew = a.findings.iter().find(|f| f.specialty == Specialty::EarlyWarning).unwrap();
    assert_eq!(ew.method, Method::Model { name: "early-warning-gbt".into(), version: "1.0.0".into() });
    let model_risk = ew.evidence.iter().find(|e| e.feature == "model_risk").unwrap();
    assert!((0.0..=1.0).contains(&model_risk.value));
    // The model can raise the rules' risk, never lower it; a demonstration model (these are)
    // raises it at most to just below critical.
    let raised_to = model_risk.value.min(vigil::models::DEMONSTRATION_CEILING);
    assert!(ew.risk_score >= raised_to, "the model can raise the rules' risk, never lower it");
    // The specialties without a model answer with their rules.
    let cardio = a.findings.iter().find(|f| f.specialty == Specialty::Cardiology).unwrap();
    assert_eq!(cardio.method, Method::Rules);

    // 1.1.0 as canary, then rolled back by hand: 1.0.0 stays active.
    as_role!(&ws, It, ws.install_package(&file("1.1.0"), Rollout::Canary(25)).await).unwrap();
    let state = |view: &vigil::workstation::PackagesView, v: &str| {
        view.packages.iter().find(|p| p.row.version == v).unwrap().state
    };
    let view = ws.packages().await.unwrap();
    assert_eq!((state(&view, "1.0.0"), state(&view, "1.1.0")), (PackageState::Active, PackageState::Canary));
    let msg = as_role!(&ws, It, ws.rollback_package("early-warning-gbt").await).unwrap();
    assert!(msg.contains("1.1.0 rolled back"), "{msg}");
    let view = ws.packages().await.unwrap();
    assert_eq!(
        (state(&view, "1.0.0"), state(&view, "1.1.0")),
        (PackageState::Active, PackageState::Installed)
    );

    // Promote 1.1.0 by hand: 1.0.0 becomes previous; rollback returns to 1.0.0 at once.
    as_role!(&ws, It, ws.promote_package("early-warning-gbt", "1.1.0").await).unwrap();
    let view = ws.packages().await.unwrap();
    assert_eq!(
        (state(&view, "1.0.0"), state(&view, "1.1.0")),
        (PackageState::Previous, PackageState::Active)
    );
    let outcome =
        ws.assess(&orchestrator, &PatientRef::Mrn("MRN-M".into()), &AssessOptions::default()).await.unwrap();
    let ew = outcome
        .assessment
        .unwrap()
        .findings
        .into_iter()
        .find(|f| f.specialty == Specialty::EarlyWarning)
        .unwrap();
    assert_eq!(ew.agent_version, "1.1.0", "the swap reached the running orchestrator");
    as_role!(&ws, It, ws.rollback_package("early-warning-gbt").await).unwrap();
    let view = ws.packages().await.unwrap();
    assert_eq!(state(&view, "1.0.0"), PackageState::Active);
    let kinds: Vec<_> = view.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["rolled_back", "activated", "rolled_back", "candidate", "installed", "activated", "installed"],
        "newest first"
    );
    let audit = as_role!(&ws, Auditor, ws.recent_audit(80).await).unwrap();
    for action in ["model.install", "model.promote", "model.rollback", "model.key_add"] {
        assert!(audit.iter().any(|(_, _, a, _)| a == action), "{action} audited");
    }
    assert!(as_role!(&ws, Auditor, ws.verify_audit().await).unwrap().first_broken.is_none());
    let outbox = as_role!(&ws, Auditor, ws.pending_outbox(500).await).unwrap();
    assert!(outbox.iter().filter(|m| m.entity == "model_deployment").count() >= 4);

    // A re-install of the same file changes nothing; rollback of an unknown name says so.
    let again = as_role!(&ws, It, ws.install_package(&file("1.0.0"), Rollout::Activate).await).unwrap();
    assert!(!again.newly_stored);
    let err = as_role!(&ws, It, ws.rollback_package("no-such-model").await).unwrap_err();
    assert!(err.to_string().contains("no package named no-such-model"), "{err}");
    ws.close().await;
}

#[test]
fn without_onnx_runtime_the_agents_answer_with_rules_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let vigil = env!("CARGO_BIN_EXE_vigil");
    let run = |args: &[&str]| {
        let out = Command::new(vigil)
            .args(args)
            .env("VIGIL_DATA_DIR", dir.path().join("data"))
            .env("VIGIL_KEY_FILE", dir.path().join("vigil.key"))
            .env("VIGIL_ONNXRUNTIME", dir.path().join("no-such-libonnxruntime.so"))
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, _, err) = run(&["demo"]);
    assert!(ok, "{err}");
    let (data, key) = (dir.path().join("data"), dir.path().join("vigil.key"));
    assert!(common::cli(&data, &key, &["login", "it"], "vigil-demo\n").status.success());
    let (ok, out, err) = run(&["agents", "status", "--probes", "3"]);
    assert!(ok, "{err}");
    let first = out.lines().next().unwrap();
    assert!(first.starts_with("models: rules only — ONNX Runtime not found: VIGIL_ONNXRUNTIME="), "{first}");
    assert!(out.contains("early_warning: rules only"), "{out}");
    // A package cannot be installed without the runtime, and says why.
    let pkg_dir = tempfile::tempdir().unwrap();
    packages(pkg_dir.path(), &["early-warning-gbt-1.0.0"]);
    let pkg = pkg_dir.path().join("early-warning-gbt-1.0.0.vigilpkg");
    let (ok, _, err) = run(&["packages", "install", pkg.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("package refused"), "{err}");
    // Assessments still run, each finding noting that models are off.
    assert!(common::cli(&data, &key, &["login", "clinician"], "vigil-demo\n").status.success());
    let (ok, out, err) = run(&["patient", "list", "--json"]);
    assert!(ok, "{err}");
    let patients: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mrn = patients[0]["mrn"].as_str().unwrap().to_owned();
    let (ok, out, err) = run(&["assess", &mrn, "--json"]);
    assert!(ok, "{err}");
    let outcome: serde_json::Value = serde_json::from_str(&out).unwrap();
    let findings = outcome["assessment"]["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        assert_eq!(f["method"]["kind"], "rules");
        assert!(f["note"].as_str().unwrap().starts_with("rules only: ONNX Runtime not found"), "{f}");
    }
}

#[test]
fn the_packages_verbs_work_end_to_end_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let vigil = env!("CARGO_BIN_EXE_vigil");
    let run = |args: &[&str]| {
        let out = Command::new(vigil)
            .args(args)
            .env("VIGIL_DATA_DIR", dir.path().join("data"))
            .env("VIGIL_KEY_FILE", dir.path().join("vigil.key"))
            .env("VIGIL_TRUSTED_KEYS", dir.path().join("no-config"))
            .output()
            .unwrap();
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    };
    let json = |(ok, out, err): (bool, String, String)| -> serde_json::Value {
        assert!(ok, "{err}");
        serde_json::from_str(&out).unwrap()
    };
    let key = dir.path().join("sign.pk8");
    let k = json(run(&["packages", "keygen", "--out", key.to_str().unwrap(), "--json"]));
    let public = k["public_key"].as_str().unwrap().to_owned();
    // A key file is never overwritten.
    let (ok, _, err) = run(&["packages", "keygen", "--out", key.to_str().unwrap()]);
    assert!(!ok && err.contains("never overwritten"), "{err}");
    let file = dir.path().join("ew.vigilpkg");
    // `vigil init` makes a clinical store, which refuses demonstration models: the fixture,
    // as a clinic's own (non-demonstration) package signed by a key made here and trusted below.
    let fixture = dir.path().join("early-warning-gbt-1.1.0");
    std::fs::create_dir(&fixture).unwrap();
    for f in ["model.onnx", "test_vectors.json"] {
        std::fs::copy(self::fixture("early-warning-gbt-1.1.0").join(f), fixture.join(f)).unwrap();
    }
    let mut manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(self::fixture("early-warning-gbt-1.1.0").join("manifest.json")).unwrap(),
    )
    .unwrap();
    manifest["demonstration"] = false.into();
    std::fs::write(fixture.join("manifest.json"), serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
    json(run(&[
        "packages",
        "build",
        fixture.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
        "--json",
    ]));
    common::cli_login(
        &dir.path().join("data"),
        &dir.path().join("vigil.key"),
        vigil::domain::access::Role::It,
    );
    json(run(&["packages", "keys", "add", &public, "--label", "Test signer", "--json"]));
    let keys = json(run(&["packages", "keys", "list", "--json"]));
    assert_eq!(keys[0]["label"], "Test signer");
    assert_eq!(keys[0]["origin"], "store");
    let report = json(run(&["packages", "install", file.to_str().unwrap(), "--shadow", "--json"]));
    assert_eq!(report["rollout"], "shadow");
    let list = json(run(&["packages", "list", "--json"]));
    assert_eq!(list["packages"][0]["version"], "1.1.0");
    assert_eq!(list["packages"][0]["state"], "shadow");
    let (ok, out, _) = run(&["packages", "show", "early-warning-gbt"]);
    assert!(ok && out.contains("\"opset\": 17") && out.contains("candidate"), "{out}");
    json(run(&["packages", "promote", "early-warning-gbt", "1.1.0", "--json"]));
    assert_eq!(json(run(&["packages", "list", "--json"]))["packages"][0]["state"], "active");
    let rolled = json(run(&["packages", "rollback", "early-warning-gbt", "--json"]));
    assert!(rolled["result"].as_str().unwrap().contains("runs on its rules"), "{rolled}");
    let id = keys[0]["id"].as_str().unwrap().to_owned();
    json(run(&["packages", "keys", "remove", &id, "--json"]));
    let (ok, _, err) = run(&["packages", "keys", "remove", &id]);
    assert!(!ok && err.contains("no key"), "{err}");
    let (ok, _, err) = run(&["packages", "promote", "early-warning-gbt", "9.9.9"]);
    assert!(!ok && err.contains("no package early-warning-gbt 9.9.9"), "{err}");
}

//! Model packages (issue 6): every refusal reason, the facade's install/promote/rollback, a
//! canary that promotes itself, canaries that roll themselves back (NaN, runtime error), and
//! 1,000 swaps under four assessing threads. Real ONNX models (tests/fixtures/models, made by
//! scripts/models/train.py) on the real ONNX Runtime from the onnxruntime wheel.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};

use ring::signature::{Ed25519KeyPair, KeyPair};
use vigil::agents::Specialty;
use vigil::models::manifest::ManifestError;
use vigil::models::package::{self, Package, PackageError};
use vigil::models::trust::{KeyOrigin, TrustedKey, generate_signing_key};
use vigil::models::{
    CandidateMode, LoadedModel, ModelError, ModelSlot, RolloutPolicy, StatsView, TestVectors, TrustSet,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models").join(name)
}

fn read(dir: &str, file: &str) -> Vec<u8> {
    std::fs::read(fixture(dir).join(file)).unwrap()
}

struct Signer {
    key: Ed25519KeyPair,
    trust: TrustSet,
}

fn signer() -> Signer {
    let (pkcs8, public) = generate_signing_key().unwrap();
    let key = Ed25519KeyPair::from_pkcs8(&pkcs8).unwrap();
    assert_eq!(key.public_key().as_ref(), public);
    let trusted = TrustedKey::parse(&hex::encode(public), "test", KeyOrigin::Store, "test").unwrap();
    Signer { key, trust: TrustSet { keys: vec![trusted] } }
}

/// A signed package of a fixture directory, through the vendor's build path.
fn build(s: &Signer, dir: &str) -> Vec<u8> {
    package::build(
        &read(dir, "manifest.json"),
        &read(dir, "model.onnx"),
        &read(dir, "test_vectors.json"),
        &s.key,
    )
    .unwrap()
}

/// A package written field by field, so tests can make what `build` refuses to sign.
fn craft(s: &Signer, manifest: &serde_json::Value, model: &[u8], vectors: &[u8]) -> Vec<u8> {
    let mut m = manifest.clone();
    m["format"] = "vigil-model-package/1".into();
    m["files"] = serde_json::json!({
        "model.onnx": hex::encode(ring::digest::digest(&ring::digest::SHA256, model)),
        "test_vectors.json": hex::encode(ring::digest::digest(&ring::digest::SHA256, vectors)),
    });
    let bytes = serde_json::to_vec_pretty(&m).unwrap();
    package::write(&bytes, model, vectors, &package::sign(&bytes, &s.key)).unwrap()
}

fn manifest_of(dir: &str) -> serde_json::Value {
    serde_json::from_slice(&read(dir, "manifest.json")).unwrap()
}

fn load(s: &Signer, dir: &str) -> Arc<LoadedModel> {
    let verified = Package::verify(&build(s, dir), &s.trust).unwrap();
    Arc::new(LoadedModel::load(&verified).unwrap())
}

const GBT: &str = "early-warning-gbt-1.0.0";
const GBT_11: &str = "early-warning-gbt-1.1.0";

#[test]
fn a_signed_package_verifies_loads_and_passes_its_vectors() {
    let s = signer();
    let verified = Package::verify(&build(&s, GBT), &s.trust).unwrap();
    assert_eq!(verified.package.manifest.version, "1.0.0");
    assert!(verified.package.manifest.demonstration);
    let model = LoadedModel::load(&verified).unwrap();
    let vectors: TestVectors = serde_json::from_slice(&read(GBT, "test_vectors.json")).unwrap();
    for v in &vectors.vectors {
        let got = model.score(&v.input).unwrap();
        assert!((got - v.expected).abs() <= vectors.tolerance, "{got} vs {}", v.expected);
    }
}

#[test]
fn unknown_key_is_refused() {
    let s = signer();
    let other = signer();
    let err = Package::verify(&build(&other, GBT), &s.trust).unwrap_err();
    assert!(matches!(err, PackageError::UnknownKey { .. }), "{err}");
}

#[test]
fn tampered_manifest_is_refused() {
    let s = signer();
    let good = Package::read(&build(&s, GBT)).unwrap();
    // Change one byte of the signed manifest (the version) and keep the old signature.
    let text = String::from_utf8(good.manifest_bytes.clone()).unwrap().replace("\"1.0.0\"", "\"1.0.1\"");
    assert_ne!(text.as_bytes(), &good.manifest_bytes[..]);
    let bytes =
        package::write(text.as_bytes(), &good.model, &good.test_vectors_bytes, &good.signature).unwrap();
    let err = Package::verify(&bytes, &s.trust).unwrap_err();
    assert!(matches!(err, PackageError::BadSignature { .. }), "{err}");
}

#[test]
fn a_model_that_does_not_match_its_digest_is_refused() {
    let s = signer();
    let good = Package::read(&build(&s, GBT)).unwrap();
    let other_model = read(GBT_11, "model.onnx");
    let bytes = package::write(&good.manifest_bytes, &other_model, &good.test_vectors_bytes, &good.signature)
        .unwrap();
    let err = Package::verify(&bytes, &s.trust).unwrap_err();
    assert!(matches!(err, PackageError::DigestMismatch { file: "model.onnx", .. }), "{err}");
    // And the test vectors too.
    let mut vectors = good.test_vectors_bytes.clone();
    vectors.push(b' ');
    let bytes = package::write(&good.manifest_bytes, &good.model, &vectors, &good.signature).unwrap();
    let err = Package::verify(&bytes, &s.trust).unwrap_err();
    assert!(matches!(err, PackageError::DigestMismatch { file: "test_vectors.json", .. }), "{err}");
}

#[test]
fn an_unsupported_opset_is_refused_before_loading() {
    let s = signer();
    let dir = "early-warning-opset99-1.0.0";
    let bytes = craft(&s, &manifest_of(dir), &read(dir, "model.onnx"), &read(dir, "test_vectors.json"));
    let err = Package::verify(&bytes, &s.trust).unwrap_err();
    assert!(matches!(err, PackageError::Manifest(ManifestError::UnsupportedOpset { opset: 99 })), "{err}");
    // The vendor's build refuses to sign it in the first place.
    let err = package::build(
        &read(dir, "manifest.json"),
        &read(dir, "model.onnx"),
        &read(dir, "test_vectors.json"),
        &s.key,
    )
    .unwrap_err();
    assert!(err.to_string().contains("opset 99"), "{err}");
}

#[test]
fn a_manifest_opset_that_is_not_the_models_is_refused_at_load() {
    let s = signer();
    let mut m = manifest_of(GBT);
    m["opset"] = 15.into();
    let bytes = craft(&s, &m, &read(GBT, "model.onnx"), &read(GBT, "test_vectors.json"));
    let verified = Package::verify(&bytes, &s.trust).unwrap();
    let err = LoadedModel::load(&verified).unwrap_err();
    assert!(matches!(err, ModelError::OpsetMismatch { manifest: 15, model: 17 }), "{err}");
}

#[test]
fn inputs_that_do_not_match_the_agents_features_are_refused() {
    let s = signer();
    let model = read(GBT, "model.onnx");
    let vectors = read(GBT, "test_vectors.json");
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("renamed", Box::new(|m| m["features"][0]["name"] = "pulse".into())),
        ("unit", Box::new(|m| m["features"][5]["unit"] = "[degF]".into())),
        ("order", Box::new(|m| m["features"].as_array_mut().unwrap().swap(0, 1))),
        (
            "missing",
            Box::new(|m| {
                m["features"].as_array_mut().unwrap().pop();
            }),
        ),
        ("other agent", Box::new(|m| m["agent"] = "heart_failure".into())),
    ];
    for (what, edit) in cases {
        let mut m = manifest_of(GBT);
        edit(&mut m);
        let err = Package::verify(&craft(&s, &m, &model, &vectors), &s.trust).unwrap_err();
        assert!(matches!(err, PackageError::Manifest(ManifestError::InputsMismatch { .. })), "{what}: {err}");
    }
    // A graph input name that the graph does not have is caught when loading.
    let mut m = manifest_of(GBT);
    m["input"]["name"] = "x".into();
    let verified = Package::verify(&craft(&s, &m, &model, &vectors), &s.trust).unwrap();
    let err = LoadedModel::load(&verified).unwrap_err();
    assert!(matches!(err, ModelError::Interface(_)), "{err}");
}

#[test]
fn failing_test_vectors_are_refused() {
    let s = signer();
    let mut vectors: serde_json::Value = serde_json::from_slice(&read(GBT, "test_vectors.json")).unwrap();
    let expected = vectors["vectors"][3]["expected"].as_f64().unwrap();
    vectors["vectors"][3]["expected"] = (expected + 0.01).into();
    let vectors = serde_json::to_vec(&vectors).unwrap();
    let bytes = craft(&s, &manifest_of(GBT), &read(GBT, "model.onnx"), &vectors);
    let verified = Package::verify(&bytes, &s.trust).unwrap();
    let err = LoadedModel::load(&verified).unwrap_err();
    assert!(matches!(err, ModelError::TestVector { index: 4, .. }), "{err}");
}

#[test]
fn malformed_containers_are_refused_with_the_reason() {
    let s = signer();
    let err = Package::verify(b"not a zip at all", &s.trust).unwrap_err();
    assert!(matches!(err, PackageError::Container(_)), "{err}");
    // Truncated.
    let good = build(&s, GBT);
    let err = Package::verify(&good[..good.len() / 2], &s.trust).unwrap_err();
    assert!(matches!(err, PackageError::Container(_)), "{err}");
    // A manifest that is not JSON, correctly signed: the parser's line and column are named.
    let sig = package::sign(b"{ nope", &s.key);
    let bytes =
        package::write(b"{ nope", &read(GBT, "model.onnx"), &read(GBT, "test_vectors.json"), &sig).unwrap();
    let err = Package::verify(&bytes, &s.trust).unwrap_err();
    assert!(matches!(err, PackageError::Json { file: "manifest.json", .. }), "{err}");
    assert!(err.to_string().contains("line 1"), "{err}");
}

/// Feature vectors around the fixture's test vectors (all with hr_mean <= 120).
fn inputs(n: usize) -> Vec<Vec<f32>> {
    let vectors: TestVectors = serde_json::from_slice(&read(GBT, "test_vectors.json")).unwrap();
    let mut rng = vigil::synthetic::SplitMix64::new(7);
    (0..n)
        .map(|i| {
            let base = &vectors.vectors[i % vectors.vectors.len()].input;
            base.iter()
                .enumerate()
                .map(|(j, v)| {
                    #[allow(clippy::cast_possible_truncation, reason = "a jitter in 0..1, as f32")]
                    let jitter = (rng.unit() as f32 - 0.5) * 0.02 * v.abs();
                    let x = v + jitter;
                    if j == 0 { x.min(120.0) } else { x }
                })
                .collect()
        })
        .collect()
}

#[test]
fn a_canary_within_limits_promotes_itself() {
    let s = signer();
    let slot = ModelSlot::new(
        Specialty::EarlyWarning,
        RolloutPolicy { promote_after: 200, ..RolloutPolicy::default() },
    );
    slot.activate(load(&s, GBT), "test");
    slot.stage(load(&s, GBT_11), CandidateMode::Canary { percent: 25 }, StatsView::default());
    let mut used_candidate = 0;
    for x in inputs(400) {
        let scored = slot.evaluate(&x, 0.0).expect("every evaluation answers");
        if scored.version == "1.1.0" {
            used_candidate += 1;
        }
    }
    let d = slot.current();
    assert_eq!(d.active.as_ref().unwrap().manifest.version, "1.1.0", "promoted");
    assert_eq!(d.previous.as_ref().unwrap().manifest.version, "1.0.0", "previous kept loaded");
    assert!(d.candidate.is_none());
    let events = slot.drain_events();
    let promoted = events.iter().find(|e| e.kind == "promoted").expect("a promotion event");
    assert!(promoted.automatic);
    assert_eq!(promoted.stats.evaluations, 200);
    assert_eq!(promoted.stats.errors, 0);
    // 25 % of the first 200 as canary, then all 200 after promotion.
    assert!(used_candidate > 200 && used_candidate < 300, "{used_candidate}");
}

fn broken_candidate_rolls_back(dir: &str) {
    let s = signer();
    let slot = ModelSlot::new(Specialty::EarlyWarning, RolloutPolicy::default());
    let active = load(&s, GBT);
    slot.activate(Arc::clone(&active), "test");
    // The broken model passes its own test vectors (normal inputs) and installs.
    slot.stage(load(&s, dir), CandidateMode::Canary { percent: 100 }, StatsView::default());
    let normal = inputs(20);
    for x in &normal {
        let scored = slot.evaluate(x, 0.0).unwrap();
        assert_eq!(scored.name, "early-warning-".to_owned() + dir.split('-').nth(2).unwrap());
    }
    assert!(slot.current().candidate.is_some(), "fine on normal inputs");
    // Tachycardia above 120 /min breaks it: the evaluation still answers, with the active model.
    let mut tachy = normal[0].clone();
    tachy[0] = 135.0;
    let scored = slot.evaluate(&tachy, 0.0).expect("no failed evaluation");
    assert_eq!((scored.name.as_str(), scored.version.as_str()), ("early-warning-gbt", "1.0.0"));
    assert_eq!(scored.score, active.score(&tachy).unwrap());
    let d = slot.current();
    assert!(d.candidate.is_none(), "rolled back");
    assert_eq!(d.active.as_ref().unwrap().manifest.version, "1.0.0");
    let events = slot.drain_events();
    let rb = events.iter().find(|e| e.kind == "rolled_back").expect("a rollback event");
    assert!(rb.automatic && rb.reason.starts_with("candidate failed"), "{}", rb.reason);
    assert_eq!(rb.stats.errors, 1);
}

#[test]
fn a_canary_returning_nan_rolls_itself_back() {
    broken_candidate_rolls_back("early-warning-nan-9.0.0");
}

#[test]
fn a_canary_that_errors_rolls_itself_back() {
    broken_candidate_rolls_back("early-warning-error-9.1.0");
}

#[test]
fn a_disagreeing_shadow_is_rolled_back_and_never_used() {
    let s = signer();
    // The NaN fixture scores like 1.0.0 on normal inputs; compare 1.0.0 against a copy of
    // itself staged as shadow with a margin of zero: any difference is a disagreement.
    let policy = RolloutPolicy { disagreement_margin: -1.0, min_evaluations: 10, ..RolloutPolicy::default() };
    let slot = ModelSlot::new(Specialty::EarlyWarning, policy);
    slot.activate(load(&s, GBT), "test");
    slot.stage(load(&s, GBT_11), CandidateMode::Shadow, StatsView::default());
    for x in inputs(30) {
        assert_eq!(slot.evaluate(&x, 0.0).unwrap().version, "1.0.0", "a shadow is never used");
    }
    assert!(slot.current().candidate.is_none());
    let events = slot.drain_events();
    let rb = events.iter().find(|e| e.kind == "rolled_back").unwrap();
    assert!(rb.reason.contains("disagreement"), "{}", rb.reason);
    assert_eq!(rb.stats.evaluations, 10);
}

#[test]
fn a_thousand_swaps_under_four_assessing_threads_lose_nothing_and_never_mix() {
    let s = signer();
    let a = load(&s, GBT);
    let b = load(&s, GBT_11);
    let xs = Arc::new(inputs(64));
    // The reference score of each version for each input.
    let expect: Arc<Vec<(f64, f64)>> =
        Arc::new(xs.iter().map(|x| (a.score(x).unwrap(), b.score(x).unwrap())).collect());
    assert!(expect.iter().any(|(x, y)| x != y), "the two versions must differ to detect mixing");
    let slot = Arc::new(ModelSlot::new(Specialty::EarlyWarning, RolloutPolicy::default()));
    slot.activate(Arc::clone(&a), "start");
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(5));
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let (slot, xs, expect, stop, done, start) =
                (slot.clone(), xs.clone(), expect.clone(), stop.clone(), done.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let mut i = t;
                let mut seen = [0u64; 2];
                while !stop.load(Ordering::Relaxed) {
                    let k = i % xs.len();
                    let scored = slot.evaluate(&xs[k], 0.0).expect("no failed evaluation");
                    let want = if scored.version == "1.0.0" { expect[k].0 } else { expect[k].1 };
                    assert_eq!(scored.score, want, "score of {} must be that version's", scored.version);
                    seen[usize::from(scored.version == "1.1.0")] += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 4;
                }
                seen
            })
        })
        .collect();
    start.wait();
    let mut latencies = Vec::with_capacity(1000);
    for i in 0..1000 {
        let next = if i % 2 == 0 { &b } else { &a };
        let t = std::time::Instant::now();
        slot.activate(Arc::clone(next), "swap");
        latencies.push(t.elapsed());
        // Let the readers run between swaps.
        let target = done.load(Ordering::Relaxed) + 4;
        while done.load(Ordering::Relaxed) < target {
            std::hint::spin_loop();
        }
    }
    stop.store(true, Ordering::Relaxed);
    let seen: Vec<[u64; 2]> = workers.into_iter().map(|w| w.join().expect("no reader panicked")).collect();
    let total: u64 = seen.iter().map(|s| s[0] + s[1]).sum();
    assert!(total >= 4000, "{total} evaluations");
    assert!(seen.iter().map(|s| s[0]).sum::<u64>() > 0 && seen.iter().map(|s| s[1]).sum::<u64>() > 0);
    assert_eq!(slot.drain_events().iter().filter(|e| e.kind == "activated").count(), 1001);
}

//! Model packages (issue 6): a signed package verifies, loads and passes its vectors, and every
//! refusal reason. Real ONNX models (tests/fixtures/models, made by scripts/models/train.py) on
//! the real ONNX Runtime from the onnxruntime wheel. The rollouts are tested in
//! `models_rollout.rs`.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use ring::signature::{Ed25519KeyPair, KeyPair};
use vigil::models::manifest::ManifestError;
use vigil::models::package::{self, Package, PackageError};
use vigil::models::trust::{KeyOrigin, TrustedKey, generate_signing_key};
use vigil::models::{LoadedModel, ModelError, TestVectors, TrustSet};

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

//! The package container: one zip file holding `manifest.json`, `model.onnx`,
//! `test_vectors.json` and `signature.json`. Pure: bytes in, bytes out.
//!
//! The signature is Ed25519 (ring) over `SHA-256("vigil.model-package.v1\0" ‖ manifest bytes)`:
//! a domain-separated digest of the manifest, which itself holds the SHA-256 of every other
//! file. Verifying therefore reads the manifest, checks the signature against a trusted key,
//! then checks each file against its digest (DESIGN.md section 2: sign a digest, not the file).

use std::io::{Cursor, Read, Write};

use ring::digest::{SHA256, digest};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

use super::manifest::{FORMAT, Manifest, ManifestError, TestVectors};
use super::trust::{KeyId, TrustSet, TrustedKey};

/// The domain separator of the signed digest.
pub const SIGNING_DOMAIN: &[u8] = b"vigil.model-package.v1\0";

/// The files of a package, in the order they are written.
pub const FILES: [&str; 4] = ["manifest.json", "model.onnx", "test_vectors.json", "signature.json"];

/// Limits against hostile archives (a model is a few MiB at most for our agents).
const MAX_MODEL_BYTES: u64 = 256 << 20;
const MAX_JSON_BYTES: u64 = 16 << 20;

/// `signature.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// Always `ed25519`.
    pub algorithm: String,
    /// The signer's key id (see [`KeyId`]).
    pub key_id: String,
    /// 64 bytes, hex.
    pub signature: String,
}

/// A package read from its bytes, not yet verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    /// The manifest's exact bytes (what is signed).
    pub manifest_bytes: Vec<u8>,
    /// The parsed manifest.
    pub manifest: Manifest,
    /// The ONNX model.
    pub model: Vec<u8>,
    /// `test_vectors.json`'s bytes.
    pub test_vectors_bytes: Vec<u8>,
    /// The signature.
    pub signature: Signature,
}

/// A package whose signature, digests and manifest checked out.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedPackage {
    /// The package.
    pub package: Package,
    /// Its test vectors.
    pub test_vectors: TestVectors,
    /// The key that signed it.
    pub signer: TrustedKey,
    /// SHA-256 of the whole file (its identity in the store).
    pub sha256: String,
}

/// Why a package is refused. Every variant names what was wrong; nothing of a refused package
/// is stored or activated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PackageError {
    /// Not a readable package file.
    #[error("not a model package: {0}")]
    Container(String),
    /// A JSON file does not parse.
    #[error("{file}: {problem}")]
    Json {
        /// The file.
        file: &'static str,
        /// The parser's message (with line and column).
        problem: String,
    },
    /// Signed by a key IT has not trusted.
    #[error("signed by unknown key {key_id}: add it with `vigil packages keys add` if IT trusts it")]
    UnknownKey {
        /// The signer's key id.
        key_id: String,
    },
    /// The signature does not verify: the manifest was changed or the signature is not the key's.
    #[error("signature does not verify with key {key_id}: the manifest was tampered with or re-signed")]
    BadSignature {
        /// The key tried.
        key_id: String,
    },
    /// A file's SHA-256 differs from the manifest's.
    #[error("{file}: SHA-256 {actual} does not match the manifest's {expected}")]
    DigestMismatch {
        /// The file.
        file: &'static str,
        /// The manifest's digest.
        expected: String,
        /// The file's.
        actual: String,
    },
    /// The manifest is not acceptable.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(digest(&SHA256, bytes))
}

/// The digest that is signed.
pub fn signed_digest(manifest_bytes: &[u8]) -> [u8; 32] {
    let mut buf = Vec::with_capacity(SIGNING_DOMAIN.len() + manifest_bytes.len());
    buf.extend_from_slice(SIGNING_DOMAIN);
    buf.extend_from_slice(manifest_bytes);
    let mut out = [0; 32];
    out.copy_from_slice(digest(&SHA256, &buf).as_ref());
    out
}

fn container(e: impl std::fmt::Display) -> PackageError {
    PackageError::Container(e.to_string())
}

fn read_entry(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &'static str,
    limit: u64,
) -> Result<Vec<u8>, PackageError> {
    let entry = archive.by_name(name).map_err(|_| container(format!("no `{name}` in the package")))?;
    if entry.size() > limit {
        return Err(container(format!("`{name}` is {} bytes, over the {limit}-byte limit", entry.size())));
    }
    // Only a capacity hint: the read below is what is bounded by `limit`.
    let mut out = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
    entry.take(limit + 1).read_to_end(&mut out).map_err(|e| container(format!("`{name}`: {e}")))?;
    if out.len() as u64 > limit {
        return Err(container(format!("`{name}` is over the {limit}-byte limit")));
    }
    Ok(out)
}

fn parse_json<T: serde::de::DeserializeOwned>(file: &'static str, bytes: &[u8]) -> Result<T, PackageError> {
    serde_json::from_slice(bytes).map_err(|e| PackageError::Json { file, problem: e.to_string() })
}

impl Package {
    /// Reads a package file's bytes. Checks the container only: exactly the four files, within
    /// size limits, JSON that parses.
    pub fn read(bytes: &[u8]) -> Result<Package, PackageError> {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(container)?;
        let mut names: Vec<&str> = archive.file_names().collect();
        names.sort_unstable();
        let mut expected = FILES;
        expected.sort_unstable();
        if names != expected {
            return Err(container(format!("holds {names:?}; a package holds exactly {expected:?}")));
        }
        let manifest_bytes = read_entry(&mut archive, "manifest.json", MAX_JSON_BYTES)?;
        let model = read_entry(&mut archive, "model.onnx", MAX_MODEL_BYTES)?;
        let test_vectors_bytes = read_entry(&mut archive, "test_vectors.json", MAX_JSON_BYTES)?;
        let signature_bytes = read_entry(&mut archive, "signature.json", MAX_JSON_BYTES)?;
        Ok(Package {
            manifest: parse_json("manifest.json", &manifest_bytes)?,
            manifest_bytes,
            model,
            test_vectors_bytes,
            signature: parse_json("signature.json", &signature_bytes)?,
        })
    }

    /// Verifies a package file against `trust`: signer known, signature valid, every digest
    /// matching, manifest acceptable. The model itself is checked later, by loading it and
    /// running its test vectors (`runtime`).
    pub fn verify(bytes: &[u8], trust: &TrustSet) -> Result<VerifiedPackage, PackageError> {
        let package = Package::read(bytes)?;
        let key_id = package.signature.key_id.clone();
        let signer = trust.get(&key_id).ok_or_else(|| PackageError::UnknownKey { key_id: key_id.clone() })?;
        let sig = hex::decode(&package.signature.signature).ok().filter(|s| s.len() == 64);
        let verified = package.signature.algorithm == "ed25519"
            && sig.is_some_and(|sig| {
                UnparsedPublicKey::new(&ED25519, signer.public_key)
                    .verify(&signed_digest(&package.manifest_bytes), &sig)
                    .is_ok()
            });
        if !verified {
            return Err(PackageError::BadSignature { key_id });
        }
        for (file, bytes) in
            [("model.onnx", &package.model), ("test_vectors.json", &package.test_vectors_bytes)]
        {
            let expected = package.manifest.files.get(file).cloned().unwrap_or_default();
            let actual = sha256_hex(bytes);
            if !expected.eq_ignore_ascii_case(&actual) {
                return Err(PackageError::DigestMismatch { file, expected, actual });
            }
        }
        package.manifest.check()?;
        let test_vectors = parse_json("test_vectors.json", &package.test_vectors_bytes)?;
        Ok(VerifiedPackage { package, test_vectors, signer: signer.clone(), sha256: sha256_hex(bytes) })
    }
}

/// Builds and signs a package from a manifest draft (the manifest without `format` and
/// `files`, as `scripts/models/train.py` writes it), the model and the test vectors.
pub fn build(
    draft: &[u8],
    model: &[u8],
    test_vectors: &[u8],
    key: &Ed25519KeyPair,
) -> Result<Vec<u8>, PackageError> {
    let mut manifest: serde_json::Map<String, serde_json::Value> = parse_json("manifest.json", draft)?;
    manifest.insert("format".into(), FORMAT.into());
    let files = serde_json::json!({
        "model.onnx": sha256_hex(model),
        "test_vectors.json": sha256_hex(test_vectors),
    });
    manifest.insert("files".into(), files);
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(container)?;
    // Refuse to sign what no workstation would accept.
    let parsed: Manifest = parse_json("manifest.json", &manifest_bytes)?;
    parsed.check()?;
    let _: TestVectors = parse_json("test_vectors.json", test_vectors)?;
    write(&manifest_bytes, model, test_vectors, &sign(&manifest_bytes, key))
}

/// Signs manifest bytes.
pub fn sign(manifest_bytes: &[u8], key: &Ed25519KeyPair) -> Signature {
    Signature {
        algorithm: "ed25519".into(),
        key_id: KeyId::of(key.public_key().as_ref()).0,
        signature: hex::encode(key.sign(&signed_digest(manifest_bytes)).as_ref()),
    }
}

/// Writes the container (deterministic: fixed entry order and timestamps).
pub fn write(
    manifest_bytes: &[u8],
    model: &[u8],
    test_vectors: &[u8],
    signature: &Signature,
) -> Result<Vec<u8>, PackageError> {
    let signature = serde_json::to_vec_pretty(signature).map_err(container)?;
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (name, bytes) in [
        ("manifest.json", manifest_bytes),
        ("model.onnx", model),
        ("test_vectors.json", test_vectors),
        ("signature.json", &signature[..]),
    ] {
        zip.start_file(name, options).map_err(container)?;
        zip.write_all(bytes).map_err(container)?;
    }
    zip.finish().map(Cursor::into_inner).map_err(container)
}

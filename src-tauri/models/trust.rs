//! Trusted signing keys: which Ed25519 public keys may sign packages on this workstation.
//!
//! IT configures them in a file in the system configuration directory (`/etc/vigil/trusted-keys`
//! on Linux, or the file `VIGIL_TRUSTED_KEYS` names) and/or in the store (`vigil packages keys
//! add`). The file has one key per line, `ed25519 <64 hex digits> <label>`, with `#` comments.

use std::path::{Path, PathBuf};

use ring::digest::{SHA256, digest};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use serde::Serialize;

/// A key's id: the first 16 hex digits of the SHA-256 of its 32-byte public key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct KeyId(pub String);

impl KeyId {
    /// The id of `public_key`.
    pub fn of(public_key: &[u8]) -> KeyId {
        KeyId(hex::encode(&digest(&SHA256, public_key).as_ref()[..8]))
    }
}

/// Where a trusted key was configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyOrigin {
    /// The system configuration file (IT's).
    Config,
    /// The store (added with `vigil packages keys add`, audited).
    Store,
}

/// One trusted key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustedKey {
    /// Its id.
    pub id: String,
    /// The 32-byte Ed25519 public key.
    #[serde(serialize_with = "as_hex")]
    pub public_key: [u8; 32],
    /// Who or what it is (e.g. "Clinic model signing 2026").
    pub label: String,
    /// Where it was configured.
    pub origin: KeyOrigin,
}

fn as_hex<S: serde::Serializer>(key: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(key))
}

/// A malformed key or key file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// A public key is not 64 hex digits.
    #[error("{place}: `{value}` is not an Ed25519 public key (64 hex digits)")]
    BadKey {
        /// Where (file:line, or the argument).
        place: String,
        /// What was there (a public key: not secret).
        value: String,
    },
    /// A line of the key file is not `ed25519 <hex> <label>`.
    #[error("{place}: expected `ed25519 <64 hex digits> <label>`")]
    BadLine {
        /// file:line.
        place: String,
    },
    /// The key file cannot be read.
    #[error("{path}: {problem}")]
    Io {
        /// The file.
        path: String,
        /// The OS's message.
        problem: String,
    },
    /// A signing key file is not a PKCS#8 Ed25519 key.
    #[error("{path}: not a PKCS#8 Ed25519 private key")]
    BadPrivateKey {
        /// The file.
        path: String,
    },
    /// A new signing key could not be made.
    #[error("cannot make a signing key: {problem}")]
    KeyGeneration {
        /// Which step failed.
        problem: &'static str,
    },
}

impl TrustedKey {
    /// A key from its hex form.
    pub fn parse(hex_key: &str, label: &str, origin: KeyOrigin, place: &str) -> Result<Self, TrustError> {
        let bad = || TrustError::BadKey { place: place.to_owned(), value: hex_key.to_owned() };
        let bytes = hex::decode(hex_key.trim()).map_err(|_| bad())?;
        let public_key: [u8; 32] = bytes.try_into().map_err(|_| bad())?;
        Ok(TrustedKey { id: KeyId::of(&public_key).0, public_key, label: label.trim().to_owned(), origin })
    }
}

/// The keys trusted now: the configuration file's and the store's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrustSet {
    /// Every key, config first.
    pub keys: Vec<TrustedKey>,
}

impl TrustSet {
    /// The key with `id`.
    pub fn get(&self, id: &str) -> Option<&TrustedKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// Parses a key file's text (`place` names the file in errors).
    pub fn parse_config(text: &str, place: &str) -> Result<Vec<TrustedKey>, TrustError> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let at = format!("{place}:{}", n + 1);
            let mut parts = line.splitn(3, char::is_whitespace);
            match (parts.next(), parts.next(), parts.next()) {
                (Some("ed25519"), Some(key), label) => {
                    keys.push(TrustedKey::parse(key, label.unwrap_or(""), KeyOrigin::Config, &at)?)
                }
                _ => return Err(TrustError::BadLine { place: at }),
            }
        }
        Ok(keys)
    }

    /// The configuration file: `VIGIL_TRUSTED_KEYS`, else `/etc/vigil/trusted-keys` (the
    /// system configuration directory on Linux).
    pub fn config_path() -> PathBuf {
        std::env::var_os("VIGIL_TRUSTED_KEYS")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/etc/vigil/trusted-keys"))
    }

    /// Reads the configuration file; a missing file is no keys.
    pub fn read_config(path: &Path) -> Result<Vec<TrustedKey>, TrustError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse_config(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(TrustError::Io { path: path.display().to_string(), problem: e.to_string() }),
        }
    }
}

/// Makes a new signing key: its PKCS#8 bytes (keep them secret) and its public key.
pub fn generate_signing_key() -> Result<(Vec<u8>, [u8; 32]), TrustError> {
    let rng = SystemRandom::new();
    // ring reports a failing system random number generator as Unspecified.
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
        .map_err(|_| TrustError::KeyGeneration { problem: "the system random number generator failed" })?;
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
        .map_err(|_| TrustError::KeyGeneration { problem: "ring refused the PKCS#8 it had just made" })?;
    let mut public = [0; 32];
    public.copy_from_slice(pair.public_key().as_ref());
    Ok((pkcs8.as_ref().to_vec(), public))
}

/// Reads a PKCS#8 signing key file.
pub fn read_signing_key(path: &Path) -> Result<Ed25519KeyPair, TrustError> {
    let bytes = std::fs::read(path)
        .map_err(|e| TrustError::Io { path: path.display().to_string(), problem: e.to_string() })?;
    Ed25519KeyPair::from_pkcs8(&bytes)
        .map_err(|_| TrustError::BadPrivateKey { path: path.display().to_string() })
}

//! Request signatures: every request after enrolment carries the workstation's id, the time and
//! an Ed25519 signature over [`signing_input`]. The server verifies it against the public key
//! the workstation registered at enrolment, and refuses a time further than
//! [`MAX_CLOCK_SKEW_MS`] from its own (a captured request cannot be replayed later; within the
//! window a replay changes nothing, because a push is idempotent and a pull only reads).

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

/// The workstation's clinic (a UUID): every row on the server is found through its clinic.
pub const HEADER_CLINIC: &str = "x-vigil-clinic";
/// The workstation's id (a UUID).
pub const HEADER_WORKSTATION: &str = "x-vigil-workstation";
/// Milliseconds since the Unix epoch when the request was signed.
pub const HEADER_TIME: &str = "x-vigil-time";
/// The Ed25519 signature over [`signing_input`], 128 hex digits.
pub const HEADER_SIGNATURE: &str = "x-vigil-signature";

/// How far a request's time may be from the server's clock.
pub const MAX_CLOCK_SKEW_MS: i64 = 10 * 60 * 1000;

/// The bytes a request's signature covers: a domain tag, the method, the path with its query,
/// the time and the SHA-256 of the body, one per line. Binding the path and the query stops a
/// signature for one page or endpoint from being reused on another.
pub fn signing_input(method: &str, path_and_query: &str, time_ms: i64, body: &[u8]) -> Vec<u8> {
    let digest = ring::digest::digest(&ring::digest::SHA256, body);
    format!("VIGIL-SYNC-1\n{method}\n{path_and_query}\n{time_ms}\n{}", hex::encode(digest.as_ref()))
        .into_bytes()
}

/// A workstation's signing key (Ed25519, RFC 8032).
pub struct DeviceKey(Ed25519KeyPair);

/// A key or a signature that does not check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The stored key is not an Ed25519 PKCS#8 document.
    #[error("the workstation's signing key is unreadable (not Ed25519 PKCS#8)")]
    BadKey,
    /// The signature header is not 128 hex digits.
    #[error("the signature is not 128 hex digits")]
    Malformed,
    /// The signature does not verify under the registered key.
    #[error("the signature does not match the workstation's registered key")]
    Mismatch,
}

impl DeviceKey {
    /// A new key pair: its PKCS#8 document (to keep like the store key) and the key.
    ///
    /// # Errors
    /// When the random source fails.
    pub fn generate(rng: &dyn ring::rand::SecureRandom) -> Result<(Vec<u8>, Self), SignatureError> {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(rng).map_err(|_| SignatureError::BadKey)?;
        let key = Self::from_pkcs8(pkcs8.as_ref())?;
        Ok((pkcs8.as_ref().to_vec(), key))
    }

    /// The key kept as PKCS#8.
    ///
    /// # Errors
    /// [`SignatureError::BadKey`].
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, SignatureError> {
        Ed25519KeyPair::from_pkcs8(pkcs8).map(Self).map_err(|_| SignatureError::BadKey)
    }

    /// The public half, 64 hex digits (what enrolment registers).
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.0.public_key().as_ref())
    }

    /// Signs `input`: 128 hex digits.
    pub fn sign(&self, input: &[u8]) -> String {
        hex::encode(self.0.sign(input).as_ref())
    }
}

/// Checks `signature_hex` over `input` against a registered public key.
///
/// # Errors
/// [`SignatureError::Malformed`] or [`SignatureError::Mismatch`].
pub fn verify(public_key: &[u8], input: &[u8], signature_hex: &str) -> Result<(), SignatureError> {
    let mut signature = [0u8; 64];
    hex::decode_to_slice(signature_hex, &mut signature).map_err(|_| SignatureError::Malformed)?;
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(input, &signature)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_binds_method_path_time_and_body() {
        let (_, key) = DeviceKey::generate(&ring::rand::SystemRandom::new()).unwrap();
        let public = hex::decode(key.public_key_hex()).unwrap();
        let input = signing_input("POST", "/v1/push", 1_000, b"{}");
        let signature = key.sign(&input);
        assert_eq!(verify(&public, &input, &signature), Ok(()));
        for other in [
            signing_input("GET", "/v1/push", 1_000, b"{}"),
            signing_input("POST", "/v1/pull", 1_000, b"{}"),
            signing_input("POST", "/v1/push", 1_001, b"{}"),
            signing_input("POST", "/v1/push", 1_000, b"{ }"),
        ] {
            assert_eq!(verify(&public, &other, &signature), Err(SignatureError::Mismatch));
        }
        assert_eq!(verify(&public, &input, "zz"), Err(SignatureError::Malformed));
        let (_, stranger) = DeviceKey::generate(&ring::rand::SystemRandom::new()).unwrap();
        assert_eq!(verify(&public, &input, &stranger.sign(&input)), Err(SignatureError::Mismatch));
    }
}

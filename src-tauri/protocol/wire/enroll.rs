//! Enrolment: a one-time code from IT, and the workstation's registration.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A one-time enrolment code as IT hands it over: `VGL1-<secret>-<fingerprint>`, where the
/// secret is 32 hex digits the server keeps only hashed, and the fingerprint is the SHA-256 of
/// the server's TLS certificate (DER), 64 hex digits, which the workstation pins.
#[derive(Clone, PartialEq, Eq)]
pub struct EnrollCode {
    /// The one-time secret.
    pub secret: [u8; 16],
    /// SHA-256 of the server certificate's DER encoding.
    pub fingerprint: [u8; 32],
}

/// Why a string is not an enrolment code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not an enrolment code: {0} (expected VGL1-<32 hex digits>-<64 hex digits>, as `vigil-server enroll-code` prints it)"
)]
pub struct BadCode(&'static str);

impl FromStr for EnrollCode {
    type Err = BadCode;

    fn from_str(s: &str) -> Result<Self, BadCode> {
        let mut parts = s.trim().split('-');
        if parts.next() != Some("VGL1") {
            return Err(BadCode("it does not start with VGL1-"));
        }
        let mut secret = [0u8; 16];
        let mut fingerprint = [0u8; 32];
        hex::decode_to_slice(parts.next().unwrap_or(""), &mut secret)
            .map_err(|_| BadCode("the secret is not 32 hex digits"))?;
        hex::decode_to_slice(parts.next().unwrap_or(""), &mut fingerprint)
            .map_err(|_| BadCode("the fingerprint is not 64 hex digits"))?;
        if parts.next().is_some() {
            return Err(BadCode("it has more than three parts"));
        }
        Ok(Self { secret, fingerprint })
    }
}

impl fmt::Display for EnrollCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VGL1-{}-{}", hex::encode(self.secret), hex::encode(self.fingerprint))
    }
}

/// The secret is a credential: never printed by `{:?}`.
impl fmt::Debug for EnrollCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnrollCode {{ secret: <hidden>, fingerprint: {} }}", hex::encode(self.fingerprint))
    }
}

/// POST /v1/enroll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// The code's secret, hex.
    pub secret: String,
    /// The workstation's Ed25519 public key, 64 hex digits.
    pub public_key: String,
    /// The workstation's store id (its identity: a restored store keeps it).
    pub workstation_id: Uuid,
    /// A name IT recognises (the host name).
    pub name: String,
    /// The app's version.
    pub app_version: String,
}

/// The answer to an enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enrolled {
    /// The clinic the workstation now belongs to.
    pub clinic_id: Uuid,
    /// Its name.
    pub clinic_name: String,
    /// The workstation's id, as given.
    pub workstation_id: Uuid,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_round_trips_and_hides_its_secret() {
        let code = EnrollCode { secret: [0xab; 16], fingerprint: [0x01; 32] };
        let text = code.to_string();
        assert_eq!(text.parse::<EnrollCode>().unwrap(), code);
        assert!(!format!("{code:?}").contains("abab"));
    }

    #[test]
    fn malformed_codes_say_which_part_is_wrong() {
        let good = EnrollCode { secret: [1; 16], fingerprint: [2; 32] }.to_string();
        assert!("".parse::<EnrollCode>().unwrap_err().to_string().contains("VGL1"));
        let short = good.replace("-0101", "-01");
        assert!(short.parse::<EnrollCode>().unwrap_err().to_string().contains("secret"));
        let cut = &good[..good.len() - 2];
        assert!(cut.parse::<EnrollCode>().unwrap_err().to_string().contains("fingerprint"));
        assert!(format!("{good}-x").parse::<EnrollCode>().unwrap_err().to_string().contains("three parts"));
    }
}

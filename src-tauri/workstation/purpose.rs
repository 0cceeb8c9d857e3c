//! A store's purpose, fixed when it is made (issue 12): `clinical` (`vigil init`, the window's
//! first run) or `demo` (`vigil demo`), in `store_meta.purpose`. A store made before purposes
//! existed is `demo` only when it holds the demo seed (`store_meta.demo = true`).
//!
//! What it decides:
//! - `vigil demo` seeds only a demo store, and refuses a clinical one even when it is empty;
//! - a clinical store refuses model packages signed with the development key or marked as
//!   demonstrations, never trusts the development key, and never loads the built-in
//!   demonstration packages: its agents run their rules until IT installs a clinical package;
//! - a clinical store loads ONNX Runtime only from a verified place
//!   ([`crate::models::Discovery::Trusted`]); a demo store may use the Python venv.
//!
//! Nothing in the facade changes a purpose once set: the settings (`settings.rs`) cannot name
//! it, and only store creation writes it.

use serde::Serialize;

use super::{Error, Workstation};
use crate::models::defaults::DEV_PUBLIC_KEY;
use crate::models::{Discovery, KeyId, VerifiedPackage};
use crate::store::StoreError;

/// The `store_meta` key holding the purpose.
pub(super) const PURPOSE_KEY: &str = "purpose";

/// What a store is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "desktop", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum StorePurpose {
    /// Real patients: verified components only, no demonstration models.
    Clinical,
    /// Synthetic demo data and development: demonstration models, the Python venv's runtime.
    Demo,
}

impl StorePurpose {
    /// `clinical` or `demo`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            StorePurpose::Clinical => "clinical",
            StorePurpose::Demo => "demo",
        }
    }

    /// Where this store may load ONNX Runtime from.
    pub fn discovery(self) -> Discovery {
        match self {
            StorePurpose::Clinical => Discovery::Trusted,
            StorePurpose::Demo => Discovery::Development,
        }
    }

    /// What the packages view and `vigil status` say about models in a store of this purpose.
    pub fn models_note(self) -> Option<&'static str> {
        match self {
            StorePurpose::Clinical => Some(
                "Clinical store: the built-in demonstration models are not loaded and packages \
                 signed with the development key or marked as demonstrations are refused; agents \
                 without an installed clinical package answer with their rules.",
            ),
            StorePurpose::Demo => None,
        }
    }
}

/// Why a clinical store refuses this package, if it does.
pub(super) fn clinical_refusal(package: &VerifiedPackage) -> Option<String> {
    let dev = hex::decode(DEV_PUBLIC_KEY).map(|k| KeyId::of(&k).0).unwrap_or_default();
    if package.signer.id == dev {
        Some(format!(
            "it is signed with the Vigil development key ({dev}), which signs demonstration models \
             only; a clinical store accepts no package it signed"
        ))
    } else if package.package.manifest.demonstration {
        Some(
            "its manifest marks it a demonstration model (not for clinical use); a clinical store \
             does not install or load demonstration models"
                .to_owned(),
        )
    } else {
        None
    }
}

/// Whether `public_key` (hex) is the development key.
pub(super) fn is_development_key(public_key: &str) -> bool {
    public_key.trim().eq_ignore_ascii_case(DEV_PUBLIC_KEY)
}

impl Workstation {
    /// This store's purpose: `store_meta.purpose`, or for a store made before purposes existed,
    /// `demo` when it holds the demo seed and `clinical` otherwise. Not patient data.
    pub async fn purpose(&self) -> Result<StorePurpose, Error> {
        match self.store.meta(PURPOSE_KEY).await?.as_deref() {
            Some("clinical") => Ok(StorePurpose::Clinical),
            Some("demo") => Ok(StorePurpose::Demo),
            Some(other) => Err(StoreError::Corrupt {
                what: "store purpose (store_meta.purpose)",
                problem: format!("`{other}` is neither clinical nor demo"),
            }
            .into()),
            None if self.store.meta("demo").await?.as_deref() == Some("true") => Ok(StorePurpose::Demo),
            None => Ok(StorePurpose::Clinical),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::defaults::PACKAGES;
    use crate::models::{KeyOrigin, Package, TrustSet, TrustedKey};

    #[test]
    fn a_clinical_store_accepted_a_development_key_package() {
        let dev = TrustedKey::parse(DEV_PUBLIC_KEY, "dev", KeyOrigin::Config, "test").unwrap();
        let trust = TrustSet { keys: vec![dev] };
        for (name, bytes) in PACKAGES {
            let verified = Package::verify(bytes, &trust).unwrap();
            let why = clinical_refusal(&verified).unwrap_or_else(|| panic!("{name} accepted"));
            assert!(why.contains("signed with the Vigil development key"), "{why}");
        }
        assert!(is_development_key(&DEV_PUBLIC_KEY.to_uppercase()));
        assert!(!is_development_key(&"00".repeat(32)));
    }
}

//! The default model packages, built into the binary: demonstration models for the early
//! warning and heart-failure agents, trained on synthetic data by `scripts/models/train.py`
//! and signed with the development key by `scripts/models/build.sh`. The demo store trusts
//! that key and activates them; a clinic's store never trusts it unless IT adds it.

/// The development signing key's public half (its private half is in the repository, on
/// purpose: it signs demonstration models only).
pub const DEV_PUBLIC_KEY: &str = "34c45440f8d3ced65814641a732132a5af5592e5a2ebecc0dd101762ef16f5ee";

/// The packages: file name and bytes.
pub const PACKAGES: [(&str, &[u8]); 2] = [
    ("early-warning-gbt-1.0.0.vigilpkg", include_bytes!("defaults/early-warning-gbt-1.0.0.vigilpkg")),
    ("heart-failure-gbt-1.0.0.vigilpkg", include_bytes!("defaults/heart-failure-gbt-1.0.0.vigilpkg")),
];

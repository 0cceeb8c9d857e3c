//! Versioned, signed model packages for the agents, run with ONNX Runtime (issue 6).
//!
//! - [`manifest`]: what a package declares; [`features`]: what each agent feeds a model.
//! - [`package`]: the signed container (pure); [`trust`]: the keys IT trusts.
//! - [`runtime`]: ONNX Runtime loaded at run time, and a loaded, tested model; [`locate`]:
//!   where the library may come from, and its SHA-256 check.
//! - [`rollout`]: per agent, the active, previous and candidate models, swapped atomically,
//!   with shadow, canary, automatic promotion and rollback.
//! - [`ModelAgent`]: the agent that puts a rollout beside the rules.
//!
//! The format is documented in `docs/model-packages.md`.

mod agent;
pub mod defaults;
pub mod features;
pub mod locate;
pub mod manifest;
pub mod package;
pub mod rollout;
pub mod runtime;
pub mod trust;

pub use agent::{DEMONSTRATION_CEILING, ModelAgent};
pub use manifest::{Manifest, TestVectors, Version};
pub use package::{Package, PackageError, VerifiedPackage};
pub use rollout::{
    CandidateMode, Clock, Deployment, ModelSlot, MonotonicClock, RolloutEvent, RolloutPolicy, Scored,
    StatsView,
};
pub use runtime::{Discovery, LoadedModel, ModelError, RuntimeStatus};
pub use trust::{KeyId, KeyOrigin, TrustSet, TrustedKey};

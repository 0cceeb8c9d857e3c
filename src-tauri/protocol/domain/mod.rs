//! The nouns of Vigil: patients, devices, observations and where they came from.
//!
//! Architecture invariant: nothing in this module does I/O, async work or reads the clock.
//! Values are validated when they are constructed, so a `Patient` or an `Observation` that
//! exists is well formed.

pub mod access;
mod device;
mod id;
mod observation;
mod patient;
mod source;
mod time_bounds;

pub use device::{Device, DeviceKind, NewDevice};
pub use id::{DeviceId, ObservationId, PatientId, SourceId};
pub use observation::{
    AbsentReason, Acvpu, Kind, NewObservation, Observation, ObservationValue, UnknownKind,
};
pub use patient::{Consent, NewPatient, Patient, PatientRef, Sex};
pub use source::{Source, SourceKind};
pub use time_bounds::TimeBounds;

/// A domain value was rejected: names the field and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct InvalidField {
    /// The field, as named on every interface (`mrn`, `birth_date`, ...).
    pub field: &'static str,
    /// What was wrong, in words.
    pub problem: String,
}

impl InvalidField {
    /// A refusal of `field` because of `problem`.
    pub fn new(field: &'static str, problem: impl Into<String>) -> Self {
        Self { field, problem: problem.into() }
    }
}

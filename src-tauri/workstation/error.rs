//! The facade's error: every variant says what was wrong and where, in words for the user.

use crate::domain::{InvalidField, PatientRef};
use crate::store::StoreError;

/// Why a facade call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An input field was invalid.
    #[error("invalid {0}")]
    Invalid(#[from] InvalidField),
    /// No such patient.
    #[error("no patient with {0} in this store (see `vigil patient list`)")]
    PatientNotFound(PatientRef),
    /// The demo seed was asked of a store that holds real data.
    #[error("{0} holds patients that are not demo data; the demo seed only goes into a new store")]
    NotADemoStore(String),
    /// `vigil demo` was asked of a store made for clinical use (`store_meta.purpose`).
    #[error(
        "{0} is a clinical store (made by `vigil init` or the window); `vigil demo` seeds only a \
         demo store. Nothing was changed: run `vigil demo --data-dir` with another directory"
    )]
    ClinicalStore(String),
    /// An export could not be written to its destination.
    #[error("cannot write the export to {path}: {problem}; nothing was written there")]
    Export {
        /// The destination file.
        path: String,
        /// What failed.
        problem: String,
    },
    /// A file could not be imported; nothing of it was stored.
    #[error("{0}; nothing from this file was stored")]
    Import(String),
    /// An import was cancelled; nothing of the file was stored.
    #[error("import of {0} cancelled; nothing from this file was stored")]
    Cancelled(String),
    /// No such alert.
    #[error("no alert with id {0} in this store (see `vigil alerts list`)")]
    AlertNotFound(String),
    /// The alert is not in the status the change needs (new → acknowledged → resolved).
    #[error("alert {id} is {status}; it must be {required} before it can be {action}")]
    AlertTransition {
        /// The alert.
        id: String,
        /// Its status.
        status: &'static str,
        /// The status needed.
        required: &'static str,
        /// `acknowledged` or `resolved`.
        action: &'static str,
    },
    /// Resolving an alert needs a note saying what was done (for every caller: the window,
    /// the CLI, scripts).
    #[error("alert {0}: a note is required to resolve it (say what was done); nothing was changed")]
    ResolveNoteRequired(String),
    /// A model package was refused; nothing of it was stored or activated.
    #[error("{file}: package refused: {reason}; nothing was installed")]
    PackageRefused {
        /// The package file.
        file: String,
        /// The precise reason.
        reason: String,
    },
    /// A model-package operation could not be done.
    #[error("{0}")]
    Models(String),
    /// A bug or an aborted task.
    #[error("internal error: {0}")]
    Internal(String),
}

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
    /// Nobody is signed in.
    #[error("nobody is signed in: sign in first (`vigil login NAME`, or a service token with --token-file)")]
    NotSignedIn,
    /// The session is locked.
    #[error("the session is locked: unlock it with your password, or sign in as someone else")]
    SessionLocked,
    /// The session was idle past its limit and is now locked (or, on the command line, ended).
    #[error("the session was idle for {minutes} minutes or more and has been locked; sign in again")]
    SessionIdle {
        /// The idle limit.
        minutes: i64,
    },
    /// The role may not do this.
    #[error("access denied: the {role} role may not perform {operation}")]
    AccessDenied {
        /// The signed-in role.
        role: crate::domain::access::Role,
        /// What was asked.
        operation: crate::domain::access::Operation,
    },
    /// A wrong user name or password (the same words for both).
    #[error("sign-in failed: wrong user name or password")]
    SignInFailed,
    /// Too many wrong passwords.
    #[error("this account is locked after repeated wrong passwords until {until}")]
    AccountLocked {
        /// Until when (RFC 3339).
        until: String,
    },
    /// The account is disabled.
    #[error("the account {0} is disabled: ask an administrator")]
    AccountDisabled(String),
    /// No such account.
    #[error("no user named {0} (see `vigil user list`)")]
    UserNotFound(String),
    /// A restricted record opened without a break-the-glass reason.
    #[error(
        "patient {0}'s record is restricted: open it with a reason (break the glass: `vigil patient open PATIENT --reason TEXT`)"
    )]
    Restricted(crate::domain::PatientId),
    /// An account or session rule refused the change.
    #[error("{0}")]
    Access(String),
    /// The patient has not consented to monitoring: nothing of theirs is stored or assessed
    /// (issue 12).
    #[error(
        "patient {patient} has not consented to monitoring; {refused} (record consent with `vigil patient consent`)"
    )]
    NoMonitoringConsent {
        /// The patient.
        patient: crate::domain::PatientId,
        /// What was refused (`not assessed`, `readings refused`).
        refused: &'static str,
    },
    /// No device with this id or BLE address is registered.
    #[error("no device {0} is registered (see `vigil ble devices`)")]
    DeviceNotFound(String),
    /// The clinic server could not be reached, or refused.
    #[error(transparent)]
    Link(#[from] crate::sync::LinkError),
    /// Sync is not set up, or its state is unusable.
    #[error("{0}")]
    Sync(String),
    /// A bug or an aborted task.
    #[error("internal error: {0}")]
    Internal(String),
}

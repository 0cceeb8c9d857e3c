//! Who may do what: the roles, every facade operation, and the permission matrix that joins
//! them, declared as data in one place ([`PERMISSIONS`]). The facade (`workstation/access.rs`)
//! is the one choke point that consults it; `tests/access_matrix.rs` calls every operation as
//! every role.
//!
//! Sources: HIPAA Security Rule 45 CFR 164.312(a) (unique user identification, emergency access
//! procedure, automatic logoff) and (d) (person authentication); the OWASP Authentication and
//! Password Storage Cheat Sheets (Argon2id, lockout); NIST SP 800-63B 5.1.1.2 (memorised
//! secrets: at least 8 characters, long passphrases allowed, no composition rules).
//!
//! Pure: no I/O, no clock (times are passed in).

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::InvalidField;

/// A user's role. One per account; the matrix says what each may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// A physician: everything clinical, consent, export.
    Clinician,
    /// A nurse: the clinical work of a shift (readings, vitals, alerts), no export or consent.
    Nurse,
    /// Users, consent and settings; no clinical data.
    Admin,
    /// Packages, keys, backups, sync and configuration; no patient data at all.
    It,
    /// The audit trail, read and exported; no clinical data.
    Auditor,
    /// A service account for the monitoring service and device feeds: records readings and
    /// assesses them, reads nothing out but the device registry (whose a live reading is).
    Monitor,
}

impl Role {
    /// Every role, for listings and the matrix test.
    pub const ALL: [Role; 6] =
        [Role::Clinician, Role::Nurse, Role::Admin, Role::It, Role::Auditor, Role::Monitor];

    /// The name used on every interface (`--role clinician`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clinician => "clinician",
            Role::Nurse => "nurse",
            Role::Admin => "admin",
            Role::It => "it",
            Role::Auditor => "auditor",
            Role::Monitor => "monitor",
        }
    }

    /// Parses a role name; the error lists the roles.
    pub fn parse(text: &str) -> Result<Role, InvalidField> {
        Role::ALL.into_iter().find(|r| r.as_str() == text.trim().to_ascii_lowercase()).ok_or_else(|| {
            let names: Vec<_> = Role::ALL.iter().map(|r| r.as_str()).collect();
            InvalidField::new("role", format!("'{}' is not a role (one of {})", text, names.join(", ")))
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every operation the facade offers. Each public `Workstation` method authorizes exactly one
/// of these before it touches the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// The store's counts and versions (no patient data).
    Status,
    /// Read the settings.
    SettingsRead,
    /// Change a setting.
    SettingsChange,
    /// List patients (the patient list, the worklist).
    PatientList,
    /// Read one patient's record: details, observations, charts, analyses, risk history.
    PatientRead,
    /// Register a patient.
    PatientCreate,
    /// Edit a patient's details.
    PatientEdit,
    /// Read a patient's consent and its history.
    ConsentRead,
    /// Change a patient's consent.
    ConsentChange,
    /// Mark a patient's record restricted, or lift the restriction.
    PatientRestrict,
    /// Open a restricted record, giving a reason (break the glass).
    BreakGlass,
    /// Store readings from a device or another source.
    ObservationsRecord,
    /// Record spot vitals by hand.
    VitalsRecord,
    /// Import a file.
    Import,
    /// Export a patient's record.
    Export,
    /// Run the weight filter over readings.
    WeightProcess,
    /// Assess a patient or replay a stream through the agents (raises alerts).
    Assess,
    /// One monitoring pass over what arrived.
    MonitorPass,
    /// Read alerts (the inbox, `alerts list`).
    AlertsRead,
    /// The alert watch: ids and times of open alerts, for the badge (no patient data).
    AlertWatch,
    /// Acknowledge an alert.
    AlertAcknowledge,
    /// Resolve an alert.
    AlertResolve,
    /// List devices (they name their patients).
    DevicesRead,
    /// Register a device.
    DeviceAdd,
    /// Assign a device to a patient, or a multi-user device's user to a patient.
    DeviceAssign,
    /// The agents, their pools and the model packages (no patient data).
    AgentsRead,
    /// Install, promote, roll back packages; trust or distrust signing keys.
    PackagesManage,
    /// Seed the DEMO patients into a demo store.
    DemoSeed,
    /// Check the audit chain (counts and seq numbers only).
    AuditVerify,
    /// Read the audit trail.
    AuditRead,
    /// Export the audit trail.
    AuditExport,
    /// Read the sync outbox (patient data waiting to be sent).
    OutboxRead,
    /// SQLite's integrity check (no patient data).
    IntegrityCheck,
    /// List the user accounts.
    UsersRead,
    /// Add, disable, enable users; change roles; set another user's password.
    UsersManage,
    /// Change one's own password; see who one is; lock one's own session.
    OwnAccount,
    /// Enrol this workstation with a clinic server.
    SyncEnroll,
    /// Push the outbox and pull the clinic's changes.
    SyncRun,
    /// See where sync stands (counts and times, no patient data).
    SyncStatus,
}

impl Operation {
    /// The name in `access.denied` audit events and error messages.
    pub fn as_str(self) -> &'static str {
        PERMISSIONS.iter().find(|p| p.operation == self).map_or("unknown", |p| p.name)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One rule of the matrix.
#[derive(Debug, Clone, Copy)]
pub struct Permission {
    /// The operation.
    pub operation: Operation,
    /// Its name on every interface.
    pub name: &'static str,
    /// The roles that may perform it.
    pub roles: &'static [Role],
}

use Role::{Admin, Auditor, Clinician, It, Monitor, Nurse};

const EVERYONE: &[Role] = &Role::ALL;
const CLINICAL: &[Role] = &[Clinician, Nurse];

/// The permission matrix: every operation once, with the roles allowed. Least privilege:
/// `it` and `auditor` never reach a patient's clinical data, `admin` reaches consent but not
/// readings, `monitor` writes and assesses but reads nothing out (only the device registry,
/// to know whose a live reading is).
pub const PERMISSIONS: &[Permission] = &[
    Permission { operation: Operation::Status, name: "status", roles: EVERYONE },
    Permission { operation: Operation::SettingsRead, name: "settings.read", roles: EVERYONE },
    Permission { operation: Operation::SettingsChange, name: "settings.change", roles: &[Admin, It] },
    Permission { operation: Operation::PatientList, name: "patient.list", roles: CLINICAL },
    Permission { operation: Operation::PatientRead, name: "patient.read", roles: CLINICAL },
    Permission { operation: Operation::PatientCreate, name: "patient.create", roles: CLINICAL },
    Permission { operation: Operation::PatientEdit, name: "patient.edit", roles: CLINICAL },
    Permission { operation: Operation::ConsentRead, name: "consent.read", roles: &[Clinician, Nurse, Admin] },
    Permission { operation: Operation::ConsentChange, name: "consent.change", roles: &[Clinician, Admin] },
    Permission {
        operation: Operation::PatientRestrict,
        name: "patient.restrict",
        roles: &[Clinician, Admin],
    },
    Permission { operation: Operation::BreakGlass, name: "patient.break_glass", roles: CLINICAL },
    Permission {
        operation: Operation::ObservationsRecord,
        name: "observations.record",
        roles: &[Clinician, Nurse, Monitor],
    },
    Permission { operation: Operation::VitalsRecord, name: "vitals.record", roles: CLINICAL },
    Permission { operation: Operation::Import, name: "import", roles: CLINICAL },
    Permission { operation: Operation::Export, name: "patient.export", roles: &[Clinician] },
    Permission {
        operation: Operation::WeightProcess,
        name: "weight.process",
        roles: &[Clinician, Nurse, Monitor],
    },
    Permission { operation: Operation::Assess, name: "assess", roles: &[Clinician, Monitor] },
    Permission {
        operation: Operation::MonitorPass,
        name: "monitor.pass",
        roles: &[Clinician, Nurse, Monitor],
    },
    Permission { operation: Operation::AlertsRead, name: "alerts.read", roles: CLINICAL },
    Permission {
        operation: Operation::AlertWatch,
        name: "alerts.watch",
        roles: &[Clinician, Nurse, Monitor],
    },
    Permission { operation: Operation::AlertAcknowledge, name: "alerts.acknowledge", roles: CLINICAL },
    Permission { operation: Operation::AlertResolve, name: "alerts.resolve", roles: CLINICAL },
    // The monitor reads the registry (which device is whose) so that the window's device feed,
    // a service like the monitor, gives live readings to their patients while the session is locked.
    Permission {
        operation: Operation::DevicesRead,
        name: "device.list",
        roles: &[Clinician, Nurse, Monitor],
    },
    Permission { operation: Operation::DeviceAdd, name: "device.create", roles: CLINICAL },
    Permission { operation: Operation::DeviceAssign, name: "device.assign", roles: CLINICAL },
    Permission {
        operation: Operation::AgentsRead,
        name: "agents.read",
        roles: &[Clinician, Nurse, Admin, It, Monitor],
    },
    Permission { operation: Operation::PackagesManage, name: "packages.manage", roles: &[It] },
    Permission { operation: Operation::DemoSeed, name: "demo.seed", roles: &[It] },
    Permission { operation: Operation::AuditVerify, name: "audit.verify", roles: &[Admin, It, Auditor] },
    Permission { operation: Operation::AuditRead, name: "audit.read", roles: &[Auditor] },
    Permission { operation: Operation::AuditExport, name: "audit.export", roles: &[Auditor] },
    Permission { operation: Operation::OutboxRead, name: "outbox.read", roles: &[Auditor] },
    Permission {
        operation: Operation::IntegrityCheck,
        name: "store.integrity",
        roles: &[Admin, It, Auditor],
    },
    Permission { operation: Operation::UsersRead, name: "users.read", roles: &[Admin] },
    Permission { operation: Operation::UsersManage, name: "users.manage", roles: &[Admin] },
    Permission { operation: Operation::OwnAccount, name: "account.own", roles: EVERYONE },
    Permission { operation: Operation::SyncEnroll, name: "sync.enroll", roles: &[It, Admin] },
    // Syncing moves data a signed-in user could not read by it; every working role may start it.
    Permission {
        operation: Operation::SyncRun,
        name: "sync.run",
        roles: &[Clinician, Nurse, Admin, It, Monitor],
    },
    Permission { operation: Operation::SyncStatus, name: "sync.status", roles: EVERYONE },
];

/// Whether `role` may perform `operation`. An operation missing from the matrix is refused to
/// everyone (the matrix test makes sure none is missing).
pub fn allowed(role: Role, operation: Operation) -> bool {
    PERMISSIONS.iter().find(|p| p.operation == operation).is_some_and(|p| p.roles.contains(&role))
}

/// A user name: 1 to 64 characters of letters, digits, `.`, `_` and `-`, compared without case.
pub fn validate_user_name(name: &str) -> Result<String, InvalidField> {
    let name = name.trim();
    let ok = (1..=64).contains(&name.chars().count())
        && name.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(InvalidField::new(
            "user",
            format!(
                "{:?} is not a user name (1 to 64 letters, digits, '.', '_' or '-')",
                name.chars().take(64).collect::<String>()
            ),
        ));
    }
    Ok(name.to_owned())
}

/// The shortest password accepted. NIST SP 800-63B asks at least 8; a clinical workstation
/// shared at a nursing station asks more, and allows long passphrases (up to 1,024).
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Checks a new password's length (NIST SP 800-63B: length, no composition rules), and that it
/// is not the user name.
pub fn validate_password(user: &str, password: &str) -> Result<(), InvalidField> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(InvalidField::new(
            "password",
            format!("too short: {chars} characters, at least {MIN_PASSWORD_CHARS} are needed"),
        ));
    }
    if chars > 1024 {
        return Err(InvalidField::new("password", "longer than 1,024 characters"));
    }
    if password.trim().eq_ignore_ascii_case(user.trim()) {
        return Err(InvalidField::new("password", "is the user name"));
    }
    Ok(())
}

/// The lockout rule: `attempts` wrong passwords within `window` lock the account for
/// `duration` (OWASP Authentication Cheat Sheet, "Account Lockout"; the 5 in 15
/// minutes for 15 minutes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Wrong passwords that lock the account.
    pub attempts: u32,
    /// Within this long.
    pub window: Duration,
    /// For this long.
    pub duration: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self { attempts: 5, window: Duration::minutes(15), duration: Duration::minutes(15) }
    }
}

/// A user's record of wrong passwords: the times of the recent ones (at most `attempts - 1`
/// are kept: the next reaching `attempts` locks), so the window slides. A fixed window that
/// restarts at the first failure after it ends would miss five failures in three minutes that
/// straddle its end.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FailedLogins {
    /// Wrong passwords not yet older than the window, oldest first.
    pub recent: Vec<DateTime<Utc>>,
    /// Locked until then.
    pub locked_until: Option<DateTime<Utc>>,
}

impl FailedLogins {
    /// Until when the account is locked at `now`, if it is.
    pub fn locked_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > now)
    }

    /// Whether anything is recorded (a successful sign-in clears it).
    pub fn is_clear(&self) -> bool {
        self.recent.is_empty() && self.locked_until.is_none()
    }

    /// The record after one more wrong password at `now`: the failures of the last `window`
    /// (sliding) that reach `attempts` lock the account.
    pub fn after_failure(self, now: DateTime<Utc>, policy: &LockoutPolicy) -> FailedLogins {
        let mut recent: Vec<_> =
            self.recent.into_iter().filter(|t| now - *t < policy.window && *t <= now).collect();
        recent.push(now);
        if recent.len() >= policy.attempts as usize {
            FailedLogins { recent: Vec::new(), locked_until: Some(now + policy.duration) }
        } else {
            FailedLogins { recent, locked_until: self.locked_until.filter(|u| *u > now) }
        }
    }
}

/// How long an idle session lasts by default (HIPAA 164.312(a)(2)(iii) automatic logoff); the
/// `idle_lock_minutes` setting changes it.
pub const DEFAULT_IDLE_MINUTES: i64 = 15;

/// How long a break-the-glass grant lasts.
pub const BREAK_GLASS_HOURS: i64 = 4;

/// A break-the-glass reason: said in words, at least a few of them.
pub fn validate_break_glass_reason(reason: &str) -> Result<String, InvalidField> {
    let reason = reason.trim();
    if reason.chars().count() < 8 {
        return Err(InvalidField::new(
            "reason",
            "opening a restricted record needs a reason in words (at least 8 characters)",
        ));
    }
    if reason.chars().count() > 500 {
        return Err(InvalidField::new("reason", "longer than 500 characters"));
    }
    Ok(reason.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    #[test]
    fn every_operation_has_exactly_one_rule() {
        let mut seen = std::collections::BTreeSet::new();
        for p in PERMISSIONS {
            assert!(seen.insert(p.operation), "{:?} twice", p.operation);
        }
        let names: std::collections::BTreeSet<_> = PERMISSIONS.iter().map(|p| p.name).collect();
        assert_eq!(names.len(), PERMISSIONS.len(), "names are unique");
    }

    #[test]
    fn it_and_auditor_never_reach_clinical_data() {
        for op in [Operation::PatientList, Operation::PatientRead, Operation::Export, Operation::AlertsRead] {
            assert!(
                !allowed(Role::It, op) && !allowed(Role::Auditor, op) && !allowed(Role::Admin, op),
                "{op}"
            );
        }
        assert!(
            allowed(Role::Auditor, Operation::AuditExport) && !allowed(Role::Clinician, Operation::AuditRead)
        );
    }

    #[test]
    fn five_failures_within_fifteen_minutes_lock_for_fifteen() {
        let policy = LockoutPolicy::default();
        let mut record = FailedLogins::default();
        for m in 0..4 {
            record = record.after_failure(at(m), &policy);
            assert_eq!(record.locked_at(at(m)), None);
        }
        record = record.after_failure(at(14), &policy);
        assert_eq!(record.locked_at(at(14)), Some(at(29)));
        assert_eq!(record.locked_at(at(29)), None, "unlocked when the time is up");
    }

    #[test]
    fn failures_spread_over_more_than_the_window_do_not_lock() {
        let policy = LockoutPolicy::default();
        let mut record = FailedLogins::default();
        for m in [0, 5, 10, 14, 16, 20] {
            record = record.after_failure(at(m), &policy);
        }
        assert_eq!(record.locked_at(at(20)), None, "{record:?}");
    }

    #[test]
    fn the_window_slides_five_failures_in_three_minutes_lock_whenever_they_fall() {
        // Regression: a fixed window from the first failure restarted at 15 min, so these
        // (five of them within 3 min: 14, 14.5, 15.5, 16, 17) never locked.
        let policy = LockoutPolicy::default();
        let mut record = FailedLogins::default();
        for seconds in [0, 840, 870, 930, 960, 1020] {
            record = record.after_failure(at(0) + Duration::seconds(seconds), &policy);
        }
        let seventeen = at(17);
        assert_eq!(record.locked_at(seventeen), Some(at(32)), "{record:?}");
    }

    #[test]
    fn passwords_follow_length_rules_and_are_not_the_name() {
        assert!(validate_password("ada", "short").is_err());
        assert!(validate_password("ada-lovelace", "ADA-LOVELACE").is_err());
        assert!(validate_password("ada", "correct horse battery").is_ok());
        assert!(validate_user_name("ada.l").is_ok());
        assert!(validate_user_name("ada l").is_err());
        assert!(Role::parse("IT").is_ok_and(|r| r == Role::It));
        assert!(Role::parse("root").unwrap_err().to_string().contains("clinician, nurse"));
    }
}

//! Consent history (issue 12, migration 0011): every change of a patient's consent flags is a
//! new version, append-only, written in the same transaction as the flags on `patients` (a
//! trigger refuses a flag change whose newest version does not match). The facade decides what
//! a change means (`workstation/consent.rs`); this module only keeps the rows.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqliteExecutor, Transaction};

use super::{StoreError, time};
use crate::domain::{Consent, PatientId};

/// Longest note kept with a consent change.
pub(crate) const MAX_NOTE_CHARS: usize = 1_000;

/// One version of a patient's consent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsentVersion {
    /// 1 for the flags at registration (or as migrated), then one more per change.
    pub version: u32,
    /// The flags of this version.
    pub consent: Consent,
    /// When it was recorded.
    pub changed_at: DateTime<Utc>,
    /// Who recorded it (the audit actor).
    pub changed_by: String,
    /// What the clinician wrote (the form signed, who gave it), if anything.
    pub note: Option<String>,
}

/// Appends the next version of `patient`'s consent and returns its number. Call before
/// changing the flags on `patients` (the trigger checks that order).
pub(crate) async fn record(
    tx: &mut Transaction<'static, Sqlite>,
    patient: PatientId,
    consent: Consent,
    actor: &str,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> Result<u32, StoreError> {
    let next: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) + 1 FROM consent_history WHERE patient_id = ?")
            .bind(patient.as_bytes().as_slice())
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query(
        "INSERT INTO consent_history (patient_id, version, monitoring, clinic_sync, research, changed_ms, \
         changed_by, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(patient.as_bytes().as_slice())
    .bind(next)
    .bind(consent.monitoring)
    .bind(consent.clinic_sync)
    .bind(consent.research)
    .bind(time::to_ms(at))
    .bind(actor)
    .bind(note)
    .execute(&mut **tx)
    .await?;
    version_of(next)
}

/// Sets the flags on `patients` to the newest recorded version.
pub(crate) async fn apply(
    tx: &mut Transaction<'static, Sqlite>,
    patient: PatientId,
    consent: Consent,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE patients SET consent_monitoring = ?, consent_clinic_sync = ?, consent_research = ?, \
         updated_ms = ? WHERE id = ?",
    )
    .bind(consent.monitoring)
    .bind(consent.clinic_sync)
    .bind(consent.research)
    .bind(time::to_ms(at))
    .bind(patient.as_bytes().as_slice())
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(StoreError::UnknownPatient(patient));
    }
    Ok(())
}

/// Every version of `patient`'s consent, oldest first.
pub(crate) async fn history(
    executor: impl SqliteExecutor<'_>,
    patient: PatientId,
) -> Result<Vec<ConsentVersion>, StoreError> {
    let rows = sqlx::query(
        "SELECT version, monitoring, clinic_sync, research, changed_ms, changed_by, note FROM consent_history \
         WHERE patient_id = ? ORDER BY version",
    )
    .bind(patient.as_bytes().as_slice())
    .fetch_all(executor)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The newest version of `patient`'s consent (`None` only for a patient that does not exist).
pub(crate) async fn latest(
    executor: impl SqliteExecutor<'_>,
    patient: PatientId,
) -> Result<Option<ConsentVersion>, StoreError> {
    let row = sqlx::query(
        "SELECT version, monitoring, clinic_sync, research, changed_ms, changed_by, note FROM consent_history \
         WHERE patient_id = ? ORDER BY version DESC LIMIT 1",
    )
    .bind(patient.as_bytes().as_slice())
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(from_row).transpose()
}

fn version_of(n: i64) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(|_| StoreError::Corrupt { what: "consent version", problem: format!("{n}") })
}

fn from_row(row: &SqliteRow) -> Result<ConsentVersion, StoreError> {
    Ok(ConsentVersion {
        version: version_of(row.get("version"))?,
        consent: Consent {
            monitoring: row.get("monitoring"),
            clinic_sync: row.get("clinic_sync"),
            research: row.get("research"),
        },
        changed_at: time::from_ms(row.get("changed_ms"))?,
        changed_by: row.get("changed_by"),
        note: row.get("note"),
    })
}

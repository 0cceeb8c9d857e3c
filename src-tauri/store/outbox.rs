//! The outbox: messages for the clinic server, written in the same transaction as the change
//! they describe. The sync client (a later issue) sends pending messages in `seq` order and
//! marks them sent when the server acknowledges; the server deduplicates on `id`.
//!
//! Consent (issue 12, migration 0011): every message that carries a patient's data names that
//! patient (`patient_id`), and only patients with clinic-sync consent have messages. [`enqueue`]
//! leaves out a message for a patient without that consent (and says so); a trigger refuses
//! one that slips past, and withdrawing the consent removes the patient's unsent messages.

use serde::Serialize;
use sqlx::{Row, Sqlite, Transaction};

use super::{Store, StoreError, new_uuid, time};
use crate::domain::PatientId;

/// A message waiting for (or already delivered to) the clinic server.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxMessage {
    /// Local order.
    pub seq: i64,
    /// Idempotency key.
    pub id: uuid::Uuid,
    /// `patient`, `device`, `observations`.
    pub entity: String,
    /// `insert` (observations are immutable; patients may later be `update`d).
    pub op: String,
    /// The message body.
    pub payload: serde_json::Value,
    /// Whose data it carries, if anyone's (migration 0011).
    pub patient_id: Option<PatientId>,
}

/// Appends a message inside the caller's transaction. `patient` is whose data the message
/// carries (`None` for none). A patient without clinic-sync consent gets no message: returns
/// whether the message was queued.
pub(crate) async fn enqueue(
    tx: &mut Transaction<'static, Sqlite>,
    entity: &str,
    entity_id: Option<&[u8]>,
    patient: Option<PatientId>,
    op: &str,
    payload: &serde_json::Value,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, StoreError> {
    if let Some(patient) = patient
        && !syncs(tx, patient).await?
    {
        tracing::debug!(entity, op, "outbox message left out: no clinic-sync consent");
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO outbox (id, entity, entity_id, op, payload, created_ms, patient_id) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(new_uuid().as_bytes().as_slice())
    .bind(entity)
    .bind(entity_id)
    .bind(op)
    .bind(payload.to_string())
    .bind(time::to_ms(at))
    .bind(patient.map(|p| p.as_bytes().to_vec()))
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

/// Whether the patient's data may go to the clinic server now (clinic-sync consent).
pub(crate) async fn syncs(
    tx: &mut Transaction<'static, Sqlite>,
    patient: PatientId,
) -> Result<bool, StoreError> {
    let flag: Option<bool> = sqlx::query_scalar("SELECT consent_clinic_sync FROM patients WHERE id = ?")
        .bind(patient.as_bytes().as_slice())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(flag.unwrap_or(false))
}

/// The patient's messages not yet sent (what withdrawing clinic-sync consent removes).
pub(crate) async fn pending_for(
    tx: &mut Transaction<'static, Sqlite>,
    patient: PatientId,
) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE patient_id = ? AND sent_ms IS NULL")
        .bind(patient.as_bytes().as_slice())
        .fetch_one(&mut **tx)
        .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

impl Store {
    /// Messages not yet acknowledged by the server, oldest first.
    pub async fn pending_outbox(&self, limit: i64) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, id, entity, op, payload, patient_id FROM outbox WHERE sent_ms IS NULL ORDER BY seq \
             LIMIT ?",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let id: Vec<u8> = row.get("id");
                let payload: &str = row.get("payload");
                let patient: Option<Vec<u8>> = row.get("patient_id");
                Ok(OutboxMessage {
                    seq: row.get("seq"),
                    id: uuid::Uuid::from_slice(&id)
                        .map_err(|e| StoreError::Corrupt { what: "outbox id", problem: e.to_string() })?,
                    entity: row.get("entity"),
                    op: row.get("op"),
                    payload: serde_json::from_str(payload).map_err(|e| StoreError::Corrupt {
                        what: "outbox payload",
                        problem: e.to_string(),
                    })?,
                    patient_id: patient.as_deref().map(super::patients::patient_id).transpose()?,
                })
            })
            .collect()
    }
}

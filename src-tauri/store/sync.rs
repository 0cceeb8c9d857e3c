//! The store's side of sync (issue 14): this workstation's enrolment, and the outbox read as the
//! push protocol's items (`vigil_protocol::wire::push`). Applying pulled pages is
//! `sync_pull.rs`.

use sqlx::Row;
use uuid::Uuid;
use vigil_protocol::wire::push::{AuditHead, Position, PushItem, WireObservation};

use super::{Store, StoreError, time};
use crate::domain::{AbsentReason, Kind, ObservationValue};

/// This workstation's enrolment and how far sync has got.
#[derive(Debug, Clone)]
pub struct SyncState {
    /// The server's base URL, `https://host:port`.
    pub server_url: String,
    /// SHA-256 of the server certificate pinned at enrolment, hex.
    pub fingerprint: String,
    /// The clinic.
    pub clinic_id: Uuid,
    /// Its name.
    pub clinic_name: String,
    /// This workstation's Ed25519 signing key (PKCS#8). Never printed or logged.
    pub device_key: Vec<u8>,
    /// When it enrolled.
    pub enrolled_at: chrono::DateTime<chrono::Utc>,
    /// The last outbox position the server acknowledged.
    pub acknowledged: Position,
    /// The pull cursor: the clinic version applied up to.
    pub pull_cursor: i64,
    /// The last audit head the server acknowledged.
    pub acked_audit_head: Option<AuditHead>,
    /// The last attempt, successful or not.
    pub last_attempt: Option<chrono::DateTime<chrono::Utc>>,
    /// The last complete push-and-pull.
    pub last_success: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
}

/// The enrolment to record.
pub(crate) struct Enrolment<'a> {
    /// The server's base URL.
    pub server_url: &'a str,
    /// The pinned certificate's SHA-256, hex.
    pub fingerprint: &'a str,
    /// The clinic.
    pub clinic_id: Uuid,
    /// Its name.
    pub clinic_name: &'a str,
    /// The signing key, PKCS#8.
    pub device_key: &'a [u8],
}

fn corrupt(what: &'static str, problem: impl ToString) -> StoreError {
    StoreError::Corrupt { what, problem: problem.to_string() }
}

impl Store {
    /// The enrolment, when this workstation has one.
    pub async fn sync_state(&self) -> Result<Option<SyncState>, StoreError> {
        let Some(row) =
            sqlx::query("SELECT * FROM sync_state WHERE id = 1").fetch_optional(self.pool()).await?
        else {
            return Ok(None);
        };
        let clinic: Vec<u8> = row.get("clinic_id");
        let seq: Option<i64> = row.get("acked_audit_seq");
        let hash: Option<String> = row.get("acked_audit_hash");
        let at = |column: &str| -> Option<chrono::DateTime<chrono::Utc>> {
            row.get::<Option<i64>, _>(column).and_then(chrono::DateTime::from_timestamp_millis)
        };
        Ok(Some(SyncState {
            server_url: row.get("server_url"),
            fingerprint: row.get("fingerprint"),
            clinic_id: Uuid::from_slice(&clinic).map_err(|e| corrupt("sync clinic id", e))?,
            clinic_name: row.get("clinic_name"),
            device_key: row.get("device_key"),
            enrolled_at: at("enrolled_ms").unwrap_or_default(),
            acknowledged: Position { message: row.get("acked_message"), row: row.get("acked_row") },
            pull_cursor: row.get("pull_cursor"),
            acked_audit_head: seq.zip(hash).map(|(seq, hash)| AuditHead { seq, hash }),
            last_attempt: at("last_attempt_ms"),
            last_success: at("last_success_ms"),
            last_error: row.get("last_error"),
        }))
    }

    /// Records an enrolment (replacing an earlier one: a new server, or a new key for this
    /// one). The acknowledged position starts where the server says it stands.
    pub(crate) async fn save_enrolment(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        enrolment: &Enrolment<'_>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sync_state (id, server_url, fingerprint, clinic_id, clinic_name, device_key, enrolled_ms) \
             VALUES (1, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET server_url = excluded.server_url, \
             fingerprint = excluded.fingerprint, clinic_id = excluded.clinic_id, clinic_name = excluded.clinic_name, \
             device_key = excluded.device_key, enrolled_ms = excluded.enrolled_ms, last_error = NULL",
        )
        .bind(enrolment.server_url)
        .bind(enrolment.fingerprint)
        .bind(enrolment.clinic_id.as_bytes().as_slice())
        .bind(enrolment.clinic_name)
        .bind(enrolment.device_key)
        .bind(time::to_ms(at))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// The outbox after `after`, as push items: whole messages, and observation messages cut
    /// into parts so that the items hold at most `max_rows` rows. Also returns how many
    /// messages wait after the last item.
    pub(crate) async fn push_items(
        &self,
        after: Position,
        max_rows: usize,
        max_items: usize,
    ) -> Result<(Vec<PushItem>, u64), StoreError> {
        let mut tx = self.begin_read().await?;
        let messages = sqlx::query(
            "SELECT seq, id, entity, entity_id, op, payload, patient_id FROM outbox WHERE seq >= ? ORDER BY seq LIMIT ?",
        )
        .bind(after.message)
        .bind(i64::try_from(max_items).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await?;
        let mut items = Vec::new();
        let mut rows_left = max_rows;
        let mut last = after;
        for m in &messages {
            let seq: i64 = m.get("seq");
            let entity: String = m.get("entity");
            let payload: serde_json::Value = serde_json::from_str(m.get::<&str, _>("payload"))
                .map_err(|e| corrupt("outbox payload", e))?;
            let uuid = |column: &str| -> Result<Option<Uuid>, StoreError> {
                m.get::<Option<Vec<u8>>, _>(column)
                    .map(|b| Uuid::from_slice(&b).map_err(|e| corrupt("outbox id", e)))
                    .transpose()
            };
            let mut item = PushItem {
                message: seq,
                id: uuid("id")?.unwrap_or_default(),
                entity: entity.clone(),
                entity_id: uuid("entity_id")?,
                op: m.get("op"),
                patient_id: uuid("patient_id")?,
                payload,
                rows: Vec::new(),
                row: 0,
            };
            if entity == "observations" {
                let to_seq = item.payload.get("to_seq").and_then(serde_json::Value::as_i64).unwrap_or(0);
                let from_seq = item.payload.get("from_seq").and_then(serde_json::Value::as_i64).unwrap_or(1);
                let start = if seq == after.message { after.row } else { from_seq - 1 };
                if seq == after.message && after.row >= to_seq {
                    continue;
                }
                if rows_left == 0 {
                    break;
                }
                let patient = item
                    .patient_id
                    .ok_or_else(|| corrupt("outbox", format!("message {seq} names no patient")))?;
                let asked = rows_left;
                let (rows, last_row) = rows_after(&mut tx, patient, start, to_seq, asked).await?;
                // Fewer rows than asked for, or the range's end reached: the message is done
                // (the range may end in other patients' rows).
                let done = rows.len() < asked || last_row >= to_seq;
                item.row = if done { to_seq } else { last_row };
                rows_left -= rows.len();
                item.rows = rows;
            } else if seq == after.message {
                continue;
            }
            last = item.position();
            items.push(item);
        }
        let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE seq > ?")
            .bind(last.message)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((items, u64::try_from(pending).unwrap_or(0)))
    }

    /// Records what the server acknowledged, and marks the messages it covers as sent.
    pub(crate) async fn acknowledge(
        &self,
        position: Position,
        head: Option<&AuditHead>,
    ) -> Result<(), StoreError> {
        let now = time::to_ms(chrono::Utc::now());
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE sync_state SET acked_message = ?, acked_row = ?, acked_audit_seq = coalesce(?, acked_audit_seq), \
             acked_audit_hash = coalesce(?, acked_audit_hash) WHERE id = 1",
        )
        .bind(position.message)
        .bind(position.row)
        .bind(head.map(|h| h.seq))
        .bind(head.map(|h| h.hash.as_str()))
        .execute(&mut *tx)
        .await?;
        // A message is sent once its position is passed; an observation message also when its
        // last row is acknowledged.
        sqlx::query(
            "UPDATE outbox SET sent_ms = ? WHERE sent_ms IS NULL AND (seq < ? OR (seq = ? AND (entity <> 'observations' \
             OR json_extract(payload, '$.to_seq') <= ?)))",
        )
        .bind(now)
        .bind(position.message)
        .bind(position.message)
        .bind(position.row)
        .execute(&mut *tx)
        .await?;
        // A server behind this store's record (its database restored from a backup): what it
        // no longer holds is pending again.
        sqlx::query("UPDATE outbox SET sent_ms = NULL WHERE sent_ms IS NOT NULL AND seq > ?")
            .bind(position.message)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the audit head the server holds as acknowledged (none: none recorded there).
    pub(crate) async fn record_server_audit_head(&self, head: Option<&AuditHead>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE sync_state SET acked_audit_seq = ?, acked_audit_hash = ? WHERE id = 1")
            .bind(head.map(|h| h.seq))
            .bind(head.map(|h| h.hash.as_str()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records an attempt's outcome for `vigil sync status` and the status bar.
    pub(crate) async fn record_sync_attempt(&self, error: Option<&str>) -> Result<(), StoreError> {
        let now = time::to_ms(chrono::Utc::now());
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE sync_state SET last_attempt_ms = ?1, last_error = ?2, \
             last_success_ms = CASE WHEN ?2 IS NULL THEN ?1 ELSE last_success_ms END WHERE id = 1",
        )
        .bind(now)
        .bind(error)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Outbox messages not yet acknowledged.
    pub async fn outbox_pending_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM outbox WHERE sent_ms IS NULL")
            .fetch_one(self.pool())
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// One patient's rows with `start < seq <= to_seq`, at most `limit`, and the last seq read.
async fn rows_after(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    patient: Uuid,
    start: i64,
    to_seq: i64,
    limit: usize,
) -> Result<(Vec<WireObservation>, i64), StoreError> {
    let rows = sqlx::query(
        // `+patient_id`: walk the rowid range, never the content index by patient (which would
        // read all of the patient's rows and sort them, for every part of a large message).
        "SELECT seq, id, kind, effective_ms, offset_s, value, absent_reason FROM observations \
         WHERE seq > ? AND seq <= ? AND +patient_id = ? ORDER BY seq LIMIT ?",
    )
    .bind(start)
    .bind(to_seq)
    .bind(patient.as_bytes().as_slice())
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(&mut **tx)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    let mut last = start;
    for r in &rows {
        last = r.get("seq");
        let id: Vec<u8> = r.get("id");
        let kind: &str = r.get("kind");
        let kind: Kind = kind.parse().map_err(|e| corrupt("observation kind", e))?;
        let value = match (r.get::<Option<f64>, _>("value"), r.get::<Option<&str>, _>("absent_reason")) {
            (Some(v), _) => ObservationValue::Quantity(v),
            (None, Some(reason)) => ObservationValue::Absent(
                reason.parse::<AbsentReason>().map_err(|e| corrupt("observation absent reason", e))?,
            ),
            (None, None) => {
                return Err(corrupt("observation", format!("row {last} has no value and no reason")));
            }
        };
        out.push(WireObservation::from_parts(
            Uuid::from_slice(&id).map_err(|e| corrupt("observation id", e))?,
            kind,
            r.get("effective_ms"),
            r.get("offset_s"),
            value,
        ));
    }
    Ok((out, last))
}

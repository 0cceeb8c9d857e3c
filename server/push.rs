//! Applying a push: one transaction per batch, acknowledged inside it.
//!
//! Observations are copied (COPY, text format) into a per-session staging table and moved by
//! one `INSERT ... SELECT ... ON CONFLICT DO NOTHING`, which skips rows the clinic already
//! holds: COPY alone cannot skip duplicates. The clinic's version is taken after the copy, so
//! the clinic row is locked only for the move and the acknowledgement.

use std::fmt::Write as _;

use sqlx::{PgPool, Row};
use uuid::Uuid;
use vigil_protocol::domain::{ObservationValue, PatientId};
use vigil_protocol::wire::MAX_ROWS_PER_REQUEST;
use vigil_protocol::wire::push::{AuditHead, Position, PushAck, PushBatch};

use crate::http::ApiError;

/// What a push did.
pub(crate) enum Outcome {
    /// Applied now, or already applied before (then `inserted` is 0).
    Applied(PushAck),
    /// The batch does not start where the acknowledgement stands: nothing applied.
    Conflict(PushAck),
}

const STAGING: &str = "CREATE TEMP TABLE IF NOT EXISTS staging_observations (\
    patient_id uuid NOT NULL, kind text NOT NULL, effective_ms bigint NOT NULL, value_key bigint NOT NULL, \
    id uuid NOT NULL, offset_s integer NOT NULL, value double precision, absent_reason text) ON COMMIT DELETE ROWS";

/// The acknowledgement as it stands.
pub(crate) async fn acknowledged(
    pool: &PgPool,
    clinic: Uuid,
    workstation: Uuid,
) -> Result<PushAck, ApiError> {
    let row = sqlx::query(
        "UPDATE workstations SET last_seen = now() WHERE clinic_id = $1 AND id = $2 \
         RETURNING acked_message, acked_row, audit_seq, audit_hash",
    )
    .bind(clinic)
    .bind(workstation)
    .fetch_one(pool)
    .await?;
    Ok(ack_from(&row, 0, 0))
}

fn ack_from(row: &sqlx::postgres::PgRow, inserted: u64, duplicates: u64) -> PushAck {
    let seq: Option<i64> = row.get("audit_seq");
    let hash: Option<String> = row.get("audit_hash");
    PushAck {
        acknowledged: Position { message: row.get("acked_message"), row: row.get("acked_row") },
        inserted,
        duplicates,
        audit_head: seq.zip(hash).map(|(seq, hash)| AuditHead { seq, hash }),
    }
}

/// The rows of a batch in COPY's text format, validated as any importer validates them; an
/// invalid row is refused with its item and row index.
fn copy_text(batch: &PushBatch) -> Result<(String, u64), ApiError> {
    let mut text = String::new();
    let mut rows = 0u64;
    for (i, item) in batch.items.iter().enumerate() {
        let Some(patient) = item.patient_id else { continue };
        for (j, row) in item.rows.iter().enumerate() {
            let valid = row.validate(PatientId(patient)).map_err(|e| {
                ApiError::bad_request(format!("items[{i}].rows[{j}].{}: {}", e.field, e.problem))
            })?;
            let (value, absent) = match valid.value {
                ObservationValue::Quantity(v) => (v.to_string(), "\\N"),
                ObservationValue::Absent(reason) => ("\\N".to_owned(), reason.as_str()),
            };
            // Uuid, kind and absent-reason codes hold no tab, newline or backslash.
            let _ = writeln!(
                text,
                "{patient}\t{}\t{}\t{}\t{}\t{}\t{value}\t{absent}",
                row.1.as_str(),
                row.2,
                valid.value.dedup_key(),
                row.0,
                row.3,
            );
            rows += 1;
        }
    }
    Ok((text, rows))
}

/// A push body checked and turned into COPY text: the batch's shape (`PushBatch::check`), its
/// size, and every row validated as an importer validates one. Nothing touches the database
/// before this has passed.
pub(crate) struct Decoded {
    batch: PushBatch,
    copy: String,
    rows: u64,
}

/// Decodes a push body; the error names what was wrong and where (`items[i].rows[j].field`).
pub(crate) fn decode(body: &[u8]) -> Result<Decoded, ApiError> {
    let batch: PushBatch = crate::http::json_body("push body", body)?;
    batch.check().map_err(ApiError::bad_request)?;
    if batch.rows() > MAX_ROWS_PER_REQUEST {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            format!("{} observations in one push; at most {MAX_ROWS_PER_REQUEST}", batch.rows()),
        ));
    }
    let (copy, rows) = copy_text(&batch)?;
    Ok(Decoded { batch, copy, rows })
}

/// Applies a decoded push from `workstation` of `clinic`, or says why not.
pub(crate) async fn apply(
    pool: &PgPool,
    clinic: Uuid,
    workstation: Uuid,
    decoded: &Decoded,
) -> Result<Outcome, ApiError> {
    let Decoded { batch, copy, rows } = decoded;
    let rows = *rows;
    let mut tx = pool.begin().await?;
    let row = sqlx::query(
        "SELECT acked_message, acked_row, audit_seq, audit_hash FROM workstations \
         WHERE clinic_id = $1 AND id = $2 FOR UPDATE",
    )
    .bind(clinic)
    .bind(workstation)
    .fetch_one(&mut *tx)
    .await?;
    let acked = Position { message: row.get("acked_message"), row: row.get("acked_row") };
    let upto = batch.upto();
    if upto <= acked {
        // Sent again (a retry after a lost answer, a duplicate): applied once already.
        tx.rollback().await?;
        return Ok(Outcome::Applied(ack_from(&row, 0, rows)));
    }
    if batch.after != acked {
        tx.rollback().await?;
        return Ok(Outcome::Conflict(ack_from(&row, 0, 0)));
    }
    if rows > 0 {
        sqlx::query(STAGING).execute(&mut *tx).await?;
        let mut copy_in = tx
            .copy_in_raw(
                "COPY staging_observations (patient_id, kind, effective_ms, value_key, id, offset_s, value, absent_reason) \
                 FROM STDIN (FORMAT text)",
            )
            .await?;
        copy_in.send(copy.as_bytes()).await?;
        copy_in.finish().await?;
    }
    // The clinic's next version; this row stays locked until the commit (wire/pull.rs).
    let version: i64 =
        sqlx::query_scalar("UPDATE clinics SET version = version + 1 WHERE id = $1 RETURNING version")
            .bind(clinic)
            .fetch_one(&mut *tx)
            .await?;
    let inserted = if rows > 0 {
        sqlx::query(
            "INSERT INTO observations (clinic_id, patient_id, kind, effective_ms, value_key, id, offset_s, value, \
             absent_reason, version, workstation_id) \
             SELECT $1, patient_id, kind, effective_ms, value_key, id, offset_s, value, absent_reason, $2, $3 \
             FROM staging_observations ON CONFLICT DO NOTHING",
        )
        .bind(clinic)
        .bind(version)
        .bind(workstation)
        .execute(&mut *tx)
        .await?
        .rows_affected()
    } else {
        0
    };
    for (idx, item) in (0i32..).zip(batch.items.iter().filter(|i| i.entity != "observations")) {
        sqlx::query(
            "INSERT INTO changes (clinic_id, version, idx, workstation_id, id, entity, entity_id, op, patient_id, payload) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (clinic_id, id) DO NOTHING",
        )
        .bind(clinic)
        .bind(version)
        .bind(idx)
        .bind(workstation)
        .bind(item.id)
        .bind(&item.entity)
        .bind(item.entity_id)
        .bind(&item.op)
        .bind(item.patient_id)
        .bind(&item.payload)
        .execute(&mut *tx)
        .await?;
    }
    let head = batch.audit_head.as_ref();
    let row = sqlx::query(
        "UPDATE workstations SET acked_message = $3, acked_row = $4, acked_version = $5, last_seen = now(), \
         app_version = $6, models = $7, pending = $8, audit_seq = coalesce($9, audit_seq), \
         audit_hash = coalesce($10, audit_hash) WHERE clinic_id = $1 AND id = $2 \
         RETURNING acked_message, acked_row, audit_seq, audit_hash",
    )
    .bind(clinic)
    .bind(workstation)
    .bind(upto.message)
    .bind(upto.row)
    .bind(version)
    .bind(&batch.app_version)
    .bind(serde_json::to_value(&batch.models).unwrap_or_default())
    .bind(i64::try_from(batch.pending).unwrap_or(i64::MAX))
    .bind(head.map(|h| h.seq))
    .bind(head.map(|h| h.hash.as_str()))
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Outcome::Applied(ack_from(&row, inserted, rows - inserted)))
}

impl Decoded {
    /// Observation rows in the batch.
    pub(crate) fn rows(&self) -> u64 {
        self.rows
    }
}

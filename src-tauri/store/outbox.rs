//! The outbox: messages for the clinic server, written in the same transaction as the change
//! they describe. The sync client (a later issue) sends pending messages in `seq` order and
//! marks them sent when the server acknowledges; the server deduplicates on `id`.

use serde::Serialize;
use sqlx::{Row, Sqlite, Transaction};

use super::{Store, StoreError, new_uuid, time};

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
}

/// Appends a message inside the caller's transaction.
pub(crate) async fn enqueue(
    tx: &mut Transaction<'static, Sqlite>,
    entity: &str,
    entity_id: Option<&[u8]>,
    op: &str,
    payload: &serde_json::Value,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (id, entity, entity_id, op, payload, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(new_uuid().as_bytes().as_slice())
    .bind(entity)
    .bind(entity_id)
    .bind(op)
    .bind(payload.to_string())
    .bind(time::to_ms(at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Messages not yet acknowledged by the server, oldest first.
    pub async fn pending_outbox(&self, limit: i64) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, id, entity, op, payload FROM outbox WHERE sent_ms IS NULL ORDER BY seq LIMIT ?",
        )
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let id: Vec<u8> = row.get("id");
                let payload: &str = row.get("payload");
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
                })
            })
            .collect()
    }
}

//! The audit trail: who read or changed which patient's data, when, chained by SHA-256 so that
//! an edited or removed row is detectable.

use ring::digest::{Context, SHA256};
use serde::Serialize;
use sqlx::{Row, Sqlite, Transaction};

use super::audit_anchor::AnchorCheck;
use super::{Store, StoreError, time};
use crate::domain::PatientId;

/// An event to record. `detail` holds counts and names of things, never patient values.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent {
    /// Who: until clinician logins exist, the operating-system user.
    pub actor: String,
    /// What, as `noun.verb` (`patient.create`, `observations.read`, ...).
    pub action: &'static str,
    /// Whose data, when one patient's.
    pub patient: Option<PatientId>,
    /// Parameters of the action (JSON object).
    pub detail: serde_json::Value,
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditVerification {
    /// Rows checked.
    pub rows: i64,
    /// The `seq` of the first row whose hash does not follow from its predecessor, or that does
    /// not follow its predecessor's `seq` (rows were deleted), if any.
    pub first_broken: Option<i64>,
    /// What is wrong at `first_broken`, in words.
    pub problem: Option<String>,
    /// The chain's last event (`seq`), 0 for an empty trail.
    pub head: i64,
    /// The anchor kept outside the data directory (`audit_anchor.rs`), checked against the chain.
    pub anchor: AnchorCheck,
    /// Read events spooled (`audit_spool.rs`) and not yet chained; the next write chains them.
    pub spooled: i64,
    /// Read events this process could not spool (a full disk) and holds in memory.
    pub waiting_in_memory: usize,
    /// The last head the clinic server acknowledged (issue 14), checked against the chain.
    pub server_head: ServerHeadCheck,
}

/// Whether the chain still extends the audit head the clinic server acknowledged: a trail
/// truncated or rolled back (an older copy of the store put back) no longer does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ServerHeadCheck {
    /// Not enrolled, or no head acknowledged yet.
    None,
    /// Event `seq` is in the chain with the hash the server acknowledged.
    Extends {
        /// The acknowledged event.
        seq: i64,
    },
    /// It is not.
    Broken {
        /// The acknowledged event.
        seq: i64,
        /// What is wrong, in words.
        problem: String,
    },
}

impl AuditVerification {
    /// The chain verifies, its anchor (when one is kept) matches, and it extends the head the
    /// clinic server acknowledged.
    pub fn intact(&self) -> bool {
        self.first_broken.is_none()
            && !self.anchor.failed()
            && !matches!(self.server_head, ServerHeadCheck::Broken { .. })
    }
}

/// Names the events missing between `before` and `seq`.
pub(super) fn gap_problem(before: i64, seq: i64) -> String {
    let missing = if seq - before == 2 {
        format!("event {} is missing", before + 1)
    } else {
        format!("events {} to {} are missing", before + 1, seq - 1)
    };
    format!("{missing}: event {seq} follows event {before}")
}

/// The first row's `prev_hash`.
pub(super) const GENESIS: [u8; 32] = [0; 32];

/// A row's hash, from its predecessor's and its own fields.
pub(super) fn chain_hash(
    prev: &[u8],
    at_ms: i64,
    actor: &str,
    action: &str,
    patient: Option<&[u8]>,
    detail: &str,
) -> Vec<u8> {
    // Domain-separated, length-prefixed fields: no two different rows hash alike.
    let mut ctx = Context::new(&SHA256);
    ctx.update(b"vigil.audit.v1\0");
    ctx.update(prev);
    ctx.update(&at_ms.to_be_bytes());
    for field in [actor.as_bytes(), action.as_bytes(), patient.unwrap_or(&[]), detail.as_bytes()] {
        ctx.update(&(field.len() as u64).to_be_bytes());
        ctx.update(field);
    }
    ctx.finish().as_ref().to_vec()
}

/// Appends an event inside the caller's transaction.
pub(crate) async fn record(
    tx: &mut Transaction<'static, Sqlite>,
    event: &AuditEvent,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    let detail = event.detail.to_string();
    let patient = event.patient.map(|p| p.as_bytes().to_vec());
    append(tx, time::to_ms(at), &event.actor, event.action, patient.as_deref(), &detail).await
}

/// Chains one row after the current head, inside the caller's write transaction.
pub(super) async fn append(
    tx: &mut Transaction<'static, Sqlite>,
    at_ms: i64,
    actor: &str,
    action: &str,
    patient: Option<&[u8]>,
    detail: &str,
) -> Result<(), StoreError> {
    let prev: Vec<u8> = sqlx::query_scalar("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?
        .unwrap_or_else(|| GENESIS.to_vec());
    let hash = chain_hash(&prev, at_ms, actor, action, patient, detail);
    sqlx::query(
        "INSERT INTO audit (at_ms, actor, action, patient_id, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(at_ms)
    .bind(actor)
    .bind(action)
    .bind(patient)
    .bind(detail)
    .bind(prev)
    .bind(hash)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Chains the read events that the spool holds (waiting for a writer that holds the lock),
    /// then recomputes the hash chain over the whole trail. Events that could not be chained
    /// (a full disk) are counted in the result.
    pub async fn verify_audit(&self) -> Result<AuditVerification, StoreError> {
        match self.begin().await {
            Ok(tx) => tx.commit().await?,
            Err(e) => tracing::warn!(error = %e, "spooled read events could not be chained before verifying"),
        }
        let (spooled, waiting_in_memory) = self.spool.pending().await?;
        let mut prev = GENESIS.to_vec();
        let (mut rows, mut last_seq, mut broken) = (0_i64, 0_i64, None);
        // Pages by seq: a trail of millions of rows is never held whole.
        'pages: loop {
            let page = sqlx::query(
                "SELECT seq, at_ms, actor, action, patient_id, detail, prev_hash, hash FROM audit \
                 WHERE seq > ? ORDER BY seq LIMIT 10000",
            )
            .bind(last_seq)
            .fetch_all(self.pool())
            .await?;
            if page.is_empty() {
                break;
            }
            for row in &page {
                let seq: i64 = row.get("seq");
                let patient: Option<Vec<u8>> = row.get("patient_id");
                let stored_prev: Vec<u8> = row.get("prev_hash");
                let stored: Vec<u8> = row.get("hash");
                let expected = chain_hash(
                    &prev,
                    row.get("at_ms"),
                    row.get::<&str, _>("actor"),
                    row.get::<&str, _>("action"),
                    patient.as_deref(),
                    row.get::<&str, _>("detail"),
                );
                rows += 1;
                let problem = if stored_prev != prev || stored != expected {
                    Some(format!(
                        "event {seq} does not follow from the event before it: an event was edited or removed"
                    ))
                } else if seq != last_seq + 1 {
                    // AUTOINCREMENT never reuses a seq and a rolled-back insert takes none back,
                    // so a gap is rows deleted, and the rows after it chained onto the survivors.
                    Some(gap_problem(last_seq, seq))
                } else {
                    None
                };
                if let Some(problem) = problem {
                    broken = Some((seq, problem));
                    break 'pages;
                }
                prev = stored;
                last_seq = seq;
            }
        }
        let head: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM audit").fetch_one(self.pool()).await?;
        if broken.is_some() {
            rows = sqlx::query_scalar("SELECT COUNT(*) FROM audit").fetch_one(self.pool()).await?;
        }
        let anchor = match self.anchor.keeper() {
            Some(keeper) => keeper.check(self.pool(), broken.is_none()).await?,
            None => AnchorCheck::NotKept {
                reason: "this store was opened without a place for its anchor (below the facade)".to_owned(),
            },
        };
        let server_head = self.check_server_head().await?;
        let (first_broken, problem) = broken.unzip();
        Ok(AuditVerification {
            rows,
            first_broken,
            problem,
            head,
            anchor,
            spooled,
            waiting_in_memory,
            server_head,
        })
    }

    async fn check_server_head(&self) -> Result<ServerHeadCheck, StoreError> {
        let acked: Option<(Option<i64>, Option<String>)> =
            sqlx::query_as("SELECT acked_audit_seq, acked_audit_hash FROM sync_state WHERE id = 1")
                .fetch_optional(self.pool())
                .await?;
        let Some((Some(seq), Some(hash))) = acked else { return Ok(ServerHeadCheck::None) };
        let stored: Option<Vec<u8>> = sqlx::query_scalar("SELECT hash FROM audit WHERE seq = ?")
            .bind(seq)
            .fetch_optional(self.pool())
            .await?;
        Ok(match stored {
            Some(h) if hex::encode(&h) == hash => ServerHeadCheck::Extends { seq },
            Some(_) => ServerHeadCheck::Broken {
                seq,
                problem: format!(
                    "event {seq} differs from the one the clinic server acknowledged: the trail was rewritten"
                ),
            },
            None => ServerHeadCheck::Broken {
                seq,
                problem: format!(
                    "event {seq}, which the clinic server acknowledged, is no longer in the trail: it was truncated or an older copy of the store was put back"
                ),
            },
        })
    }

    /// The most recent chained audit events, newest first: (at, actor, action, patient).
    pub async fn recent_audit(
        &self,
        limit: i64,
    ) -> Result<Vec<(chrono::DateTime<chrono::Utc>, String, String, Option<PatientId>)>, StoreError> {
        let rows =
            sqlx::query("SELECT at_ms, actor, action, patient_id FROM audit ORDER BY seq DESC LIMIT ?")
                .bind(limit)
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|row| {
                let patient: Option<Vec<u8>> = row.get("patient_id");
                Ok((
                    time::from_ms(row.get("at_ms"))?,
                    row.get("actor"),
                    row.get("action"),
                    patient.map(|b| super::patients::patient_id(&b)).transpose()?,
                ))
            })
            .collect()
    }
}

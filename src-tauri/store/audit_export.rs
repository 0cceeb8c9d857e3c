//! The audit trail leaving the store: an export as JSON lines that a reviewer checks offline
//! (`audit_check.rs`), and the break-the-glass events.
//!
//! An export is one line per event, with every field and its chain fields (`seq`, `prev_hash`,
//! `hash`), so each event's hash can be recomputed without the store, then one head line: the
//! filters, the row count, the chain's head (unfiltered), and the anchor as kept (its MAC needs
//! the store key, so offline it is only compared with the events). An export with no filter is
//! `complete`: every event from the first to the head, so the checker also checks that each
//! event chains onto the one before.

use std::io::Write;

use chrono::{DateTime, SecondsFormat, Utc};
use ring::digest::{Context, SHA256};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::audit_anchor::Anchor;
use super::{Store, StoreError, time};
use crate::domain::PatientId;

/// The format named in an export's head line.
pub const EXPORT_FORMAT: &str = "vigil.audit.export.v1";
/// The action of a break-the-glass event (detail `{"reason": "...", "until": "<RFC 3339>"}`).
pub const BREAK_GLASS: &str = "patient.break_glass";

/// Which events to export. Empty: all of them (a complete export).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    /// Events at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Events by this actor: the full actor (`os:alice`) or the name after its colon (`alice`).
    pub user: Option<String>,
    /// Events about this patient.
    pub patient: Option<PatientId>,
}

impl AuditFilter {
    /// No filter: every event.
    pub fn is_empty(&self) -> bool {
        self.since.is_none() && self.user.is_none() && self.patient.is_none()
    }
}

/// One event line of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedEvent {
    /// Always `event`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its place in the chain.
    pub seq: i64,
    /// When, for people (RFC 3339, UTC, milliseconds); `at_ms` is what the hash covers.
    pub at: String,
    /// When, in UTC milliseconds.
    pub at_ms: i64,
    /// Who.
    pub actor: String,
    /// What (`noun.verb`).
    pub action: String,
    /// Whose data (a patient id), if one patient's.
    pub patient: Option<String>,
    /// The detail exactly as chained (a JSON object, as text).
    pub detail: String,
    /// The previous event's hash (64 hexadecimal digits).
    pub prev_hash: String,
    /// This event's hash.
    pub hash: String,
}

/// The last line of an export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportHead {
    /// Always `head`.
    #[serde(rename = "type")]
    pub kind: String,
    /// [`EXPORT_FORMAT`].
    pub format: String,
    /// The store exported.
    pub store_id: String,
    /// When.
    pub exported_at: DateTime<Utc>,
    /// The filters applied.
    pub filters: AuditFilter,
    /// No filter: every event from the first to the head is in the file.
    pub complete: bool,
    /// Event lines in the file.
    pub rows: u64,
    /// The chain's head when exported (whatever the filters).
    pub head_seq: i64,
    /// Its hash.
    pub head_hash: String,
    /// Read events spooled and not yet chained, so not in this export.
    pub spooled: i64,
    /// The anchor as kept outside the data directory, if one could be read.
    pub anchor: Option<Anchor>,
    /// Why no anchor is given, if none is.
    pub anchor_problem: Option<String>,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportWritten {
    /// Event lines.
    pub rows: u64,
    /// The chain's head when exported.
    pub head_seq: i64,
    /// SHA-256 of every byte written, 64 hexadecimal digits.
    pub sha256: String,
    /// No filter: every event.
    pub complete: bool,
}

/// A break-the-glass event: a clinician opened a record outside their usual access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreakGlassEvent {
    /// Its place in the chain.
    pub seq: i64,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// Whose record.
    pub patient: Option<PatientId>,
    /// The reason given.
    pub reason: Option<String>,
    /// Until when the access was granted.
    pub until: Option<DateTime<Utc>>,
    /// What is wrong with the event's detail, if it is not `{"reason": ..., "until": ...}`.
    pub problem: Option<String>,
}

/// A writer that hashes what passes through it.
struct Hashing<'a, W: Write> {
    out: &'a mut W,
    digest: Context,
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(buf)?;
        self.digest.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

fn exported(row: &sqlx::sqlite::SqliteRow) -> Result<ExportedEvent, StoreError> {
    let seq: i64 = row.get("seq");
    let at_ms: i64 = row.get("at_ms");
    let patient: Option<Vec<u8>> = row.get("patient_id");
    let patient = patient
        .map(|bytes| {
            uuid::Uuid::from_slice(&bytes).map(|u| u.to_string()).map_err(|_| StoreError::Corrupt {
                what: "audit event",
                problem: format!("event {seq}: its patient id has {} bytes, not 16", bytes.len()),
            })
        })
        .transpose()?;
    Ok(ExportedEvent {
        kind: "event".to_owned(),
        seq,
        at: time::from_ms(at_ms)?.to_rfc3339_opts(SecondsFormat::Millis, true),
        at_ms,
        actor: row.get("actor"),
        action: row.get("action"),
        patient,
        detail: row.get("detail"),
        prev_hash: hex::encode(row.get::<Vec<u8>, _>("prev_hash")),
        hash: hex::encode(row.get::<Vec<u8>, _>("hash")),
    })
}

impl Store {
    /// Writes the events that `filter` selects, then the head line, to `out`, from one
    /// consistent snapshot and without the write lock. `destination` names `out` in errors.
    pub(crate) async fn export_audit<W: Write + Send>(
        &self,
        filter: &AuditFilter,
        out: &mut W,
        destination: &std::path::Path,
    ) -> Result<ExportWritten, StoreError> {
        let io = |source| StoreError::Io { path: destination.to_owned(), source };
        let (anchor, anchor_problem) = match self.anchor.keeper() {
            Some(keeper) => match keeper.load().await {
                Ok(Some(anchor)) => (Some(anchor), None),
                Ok(None) => (None, Some(format!("no anchor is kept in {} yet", keeper.place()))),
                Err(problem) => (None, Some(format!("the anchor in {} {problem}", keeper.place()))),
            },
            None => (None, Some("this store keeps no anchor".to_owned())),
        };
        let (spooled, _) = self.spool.pending().await?;
        let mut out = Hashing { out, digest: Context::new(&SHA256) };
        let mut tx = self.begin_read().await?;
        let head: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
        let (head_seq, head_hash) = head.unwrap_or_default();
        let store_id: String = sqlx::query_scalar("SELECT value FROM store_meta WHERE key = 'store_id'")
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or_default();
        // Literal SQL, every value bound.
        let sql = "SELECT seq, at_ms, actor, action, patient_id, detail, prev_hash, hash FROM audit \
             WHERE seq > ?1 AND seq <= ?2 \
             AND (?3 IS NULL OR at_ms >= ?3) \
             AND (?4 IS NULL OR actor = ?4 \
                  OR (instr(?4, ':') = 0 AND substr(actor, instr(actor, ':') + 1) = ?4)) \
             AND (?5 IS NULL OR patient_id = ?5) \
             ORDER BY seq LIMIT 5000";
        let (mut after, mut rows) = (0_i64, 0_u64);
        loop {
            let page = sqlx::query(sql)
                .bind(after)
                .bind(head_seq)
                .bind(filter.since.map(time::to_ms))
                .bind(filter.user.as_deref())
                .bind(filter.patient.map(|p| p.as_bytes().to_vec()))
                .fetch_all(&mut *tx)
                .await?;
            let Some(last) = page.last() else { break };
            after = last.get("seq");
            for row in &page {
                let line = serde_json::to_string(&exported(row)?).map_err(|e| io(e.into()))?;
                out.write_all(line.as_bytes()).map_err(io)?;
                out.write_all(b"\n").map_err(io)?;
                rows += 1;
            }
        }
        tx.commit().await?;
        let complete = filter.is_empty();
        let head = ExportHead {
            kind: "head".to_owned(),
            format: EXPORT_FORMAT.to_owned(),
            store_id,
            exported_at: Utc::now(),
            filters: filter.clone(),
            complete,
            rows,
            head_seq,
            head_hash: hex::encode(head_hash),
            spooled,
            anchor,
            anchor_problem,
        };
        let line = serde_json::to_string(&head).map_err(|e| io(e.into()))?;
        out.write_all(line.as_bytes()).map_err(io)?;
        out.write_all(b"\n").map_err(io)?;
        out.flush().map_err(io)?;
        let sha256 = hex::encode(out.digest.finish().as_ref());
        Ok(ExportWritten { rows, head_seq, sha256, complete })
    }

    /// The break-the-glass events at or after `since`, oldest first.
    pub(crate) async fn break_glass_events(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<BreakGlassEvent>, StoreError> {
        // No index on `action`: a scan of the trail (measured in the report of issue 12).
        let rows = sqlx::query(
            "SELECT seq, at_ms, actor, patient_id, detail FROM audit WHERE action = ? AND at_ms >= ? ORDER BY seq",
        )
        .bind(BREAK_GLASS)
        .bind(since.map(time::to_ms).unwrap_or(i64::MIN))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let patient: Option<Vec<u8>> = row.get("patient_id");
                let (reason, until, problem) = break_glass_detail(row.get("detail"));
                Ok(BreakGlassEvent {
                    seq: row.get("seq"),
                    at: time::from_ms(row.get("at_ms"))?,
                    actor: row.get("actor"),
                    patient: patient.map(|b| super::patients::patient_id(&b)).transpose()?,
                    reason,
                    until,
                    problem,
                })
            })
            .collect()
    }
}

/// Reads `{"reason": "...", "until": "<RFC 3339>"}`; what it cannot read is named, not hidden.
fn break_glass_detail(detail: &str) -> (Option<String>, Option<DateTime<Utc>>, Option<String>) {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(detail) else {
        return (None, None, Some("its detail is not JSON".to_owned()));
    };
    let reason = value.get("reason").and_then(|r| r.as_str()).map(str::to_owned);
    let until_text = value.get("until").and_then(|u| u.as_str());
    let until = until_text.and_then(|u| DateTime::parse_from_rfc3339(u).ok()).map(|u| u.with_timezone(&Utc));
    let mut problems = Vec::new();
    if reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
        problems.push("no reason".to_owned());
    }
    match (until_text, until) {
        (None, _) => problems.push("no until".to_owned()),
        (Some(text), None) => problems.push(format!("until '{text}' is not an RFC 3339 time")),
        _ => {}
    }
    (reason, until, (!problems.is_empty()).then(|| problems.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_break_glass_detail_is_read_and_what_is_missing_is_named() {
        let (reason, until, problem) =
            break_glass_detail(r#"{"reason":"unconscious, ED","until":"2026-12-02T12:00:00+01:00"}"#);
        assert_eq!(reason.as_deref(), Some("unconscious, ED"));
        assert_eq!(until.unwrap().to_rfc3339(), "2026-12-02T11:00:00+00:00");
        assert_eq!(problem, None);
        let (_, _, problem) = break_glass_detail(r#"{"until":"tomorrow"}"#);
        assert_eq!(problem.as_deref(), Some("no reason, until 'tomorrow' is not an RFC 3339 time"));
        assert_eq!(break_glass_detail("{").2.as_deref(), Some("its detail is not JSON"));
    }
}

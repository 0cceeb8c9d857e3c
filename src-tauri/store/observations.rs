//! The observation aggregate: batch insert with content deduplication, and range reads.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, Row, Sqlite, SqliteExecutor, Transaction};

use super::{StoreError, new_uuid, outbox, patients, sources, time};
use crate::domain::{
    AbsentReason, Kind, NewObservation, Observation, ObservationId, ObservationValue, PatientId, SourceKind,
};

/// Rows per multi-row INSERT: 500 x 10 parameters stays far below SQLite's 32,766 limit, and
/// larger statements gained nothing measurable (DESIGN.md section 2: batch writes).
const ROWS_PER_STATEMENT: usize = 500;
const INSERT_HEAD: &str = "INSERT INTO observations (id, patient_id, kind, effective_ms, offset_s, value, \
     absent_reason, value_key, source_id, ingested_ms) VALUES ";
const INSERT_TAIL: &str = " ON CONFLICT DO NOTHING";

/// What a batch insert did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct InsertReport {
    /// New rows stored.
    pub inserted: u64,
    /// Readings already in the store (same patient, kind, instant and value), left as they were.
    pub duplicates: u64,
}

impl InsertReport {
    /// Adds another batch's counts.
    pub fn add(&mut self, other: InsertReport) {
        self.inserted += other.inserted;
        self.duplicates += other.duplicates;
    }
}

/// A half-open time range `[since, until)`; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    /// Inclusive start.
    pub since: Option<DateTime<Utc>>,
    /// Exclusive end.
    pub until: Option<DateTime<Utc>>,
}

/// Which observations of one patient to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservationQuery {
    /// Only these kinds; all kinds when empty.
    pub kinds: Vec<Kind>,
    /// Only this time range.
    pub range: TimeRange,
    /// At most this many rows (the most recent ones when set); all when `None`.
    pub limit: Option<u32>,
}

fn statement(rows: usize) -> String {
    let mut sql = String::with_capacity(INSERT_HEAD.len() + rows * 24 + INSERT_TAIL.len());
    sql.push_str(INSERT_HEAD);
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?,?,?,?,?,?)");
    }
    sql.push_str(INSERT_TAIL);
    sql
}

fn full_statement() -> &'static str {
    static SQL: OnceLock<String> = OnceLock::new();
    SQL.get_or_init(|| statement(ROWS_PER_STATEMENT))
}

/// Stores a batch inside the caller's transaction: every reading not already present is
/// inserted, and one outbox message per patient with clinic-sync consent names that patient's
/// new rows by their `seq` range (the range may hold other patients' rows of the batch: the
/// receiver takes only `patient_id`'s). A batch with a patient who has not consented to
/// monitoring is refused whole (issue 12): nothing of it is stored.
pub(crate) async fn insert_batch(
    tx: &mut Transaction<'static, Sqlite>,
    source: &SourceKind,
    batch: &[NewObservation],
    at: DateTime<Utc>,
) -> Result<InsertReport, StoreError> {
    if batch.is_empty() {
        return Ok(InsertReport::default());
    }
    let patients: BTreeSet<PatientId> = batch.iter().map(|o| o.patient_id).collect();
    for patient in &patients {
        match patients::find(&mut **tx, &crate::domain::PatientRef::Id(*patient)).await? {
            None => return Err(StoreError::UnknownPatient(*patient)),
            Some(p) if !p.consent.monitoring => {
                return Err(StoreError::NotConsented { patient: *patient, purpose: "monitoring" });
            }
            Some(_) => {}
        }
    }
    let source_id = sources::find_or_create(tx, source, at).await?;
    let first_seq: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) + 1 FROM observations").fetch_one(&mut **tx).await?;
    let ingested_ms = time::to_ms(at);
    let source_bytes = *source_id.as_bytes();
    let mut inserted = 0u64;
    let mut rollup = super::series::RollupBatch::default();
    for chunk in batch.chunks(ROWS_PER_STATEMENT) {
        let ids: Vec<[u8; 16]> = chunk.iter().map(|_| *new_uuid().as_bytes()).collect();
        let partial;
        let sql: &str = if chunk.len() == ROWS_PER_STATEMENT {
            full_statement()
        } else {
            partial = statement(chunk.len());
            &partial
        };
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (obs, id) in chunk.iter().zip(&ids) {
            let (value, absent) = match obs.value {
                ObservationValue::Quantity(v) => (Some(v), None),
                ObservationValue::Absent(reason) => (None, Some(reason.as_str())),
            };
            query = query
                .bind(id.as_slice())
                .bind(obs.patient_id.as_bytes().as_slice())
                .bind(obs.kind.as_str())
                .bind(obs.effective.timestamp_millis())
                .bind(i64::from(obs.effective.offset().local_minus_utc()))
                .bind(value)
                .bind(absent)
                .bind(obs.value.dedup_key())
                .bind(source_bytes.as_slice())
                .bind(ingested_ms);
        }
        let affected = query.execute(&mut **tx).await?.rows_affected();
        inserted += affected;
        // The chart rollup (migration 0007): all new, merged from memory; else recomputed.
        for obs in chunk {
            let ms = obs.effective.timestamp_millis();
            if affected == chunk.len() as u64 {
                rollup.inserted(obs.patient_id, obs.kind, ms, obs.value.dedup_key());
            } else if affected > 0 {
                rollup.maybe(obs.patient_id, obs.kind, ms);
            }
        }
    }
    rollup.apply(tx).await?;
    if inserted > 0 {
        sqlx::query("UPDATE counters SET n = n + ? WHERE name = 'observations'")
            .bind(i64::try_from(inserted).map_err(|_| StoreError::Corrupt {
                what: "observations counter",
                problem: format!("{inserted} rows in one transaction is past i64"),
            })?)
            .execute(&mut **tx)
            .await?;
    }
    // Rows pulled from the clinic server came from it: no outbox message sends them back.
    if inserted > 0 && !matches!(source, SourceKind::Clinic { .. }) {
        // The new rows are exactly those from `first_seq` on (the write lock is held).
        let ranges: Vec<(Vec<u8>, i64, i64, i64)> = sqlx::query_as(
            "SELECT patient_id, MIN(seq), MAX(seq), COUNT(*) FROM observations WHERE seq >= ? \
             GROUP BY patient_id",
        )
        .bind(first_seq)
        .fetch_all(&mut **tx)
        .await?;
        for (patient, from_seq, to_seq, count) in ranges {
            let patient = patients::patient_id(&patient)?;
            let payload = serde_json::json!({
                "source_id": source_id,
                "patient_id": patient,
                "from_seq": from_seq,
                "to_seq": to_seq,
                "count": count,
            });
            outbox::enqueue(
                tx,
                "observations",
                Some(source_id.as_bytes()),
                Some(patient),
                "insert",
                &payload,
                at,
            )
            .await?;
        }
    }
    Ok(InsertReport { inserted, duplicates: batch.len() as u64 - inserted })
}

/// One patient's stored observations by source: (source, first seq, last seq, rows), in the
/// order of arrival. One pass over the patient's index entries (what a clinic-sync grant
/// queues, `workstation/consent.rs`).
pub(crate) async fn ranges_by_source(
    tx: &mut Transaction<'static, Sqlite>,
    patient: PatientId,
) -> Result<Vec<(crate::domain::SourceId, i64, i64, i64)>, StoreError> {
    let rows: Vec<(Vec<u8>, i64, i64, i64)> = sqlx::query_as(
        "SELECT source_id, MIN(seq), MAX(seq), COUNT(*) FROM observations WHERE patient_id = ? \
         GROUP BY source_id ORDER BY MIN(seq)",
    )
    .bind(patient.as_bytes().as_slice())
    .fetch_all(&mut **tx)
    .await?;
    rows.into_iter()
        .map(|(source, from, to, count)| Ok((sources::source_id(&source)?, from, to, count)))
        .collect()
}

/// Reads one patient's observations in time order.
pub(crate) async fn query(
    executor: impl SqliteExecutor<'_>,
    patient: PatientId,
    q: &ObservationQuery,
) -> Result<Vec<Observation>, StoreError> {
    let kinds: Vec<Kind> = if q.kinds.is_empty() { Kind::ALL.to_vec() } else { q.kinds.clone() };
    let placeholders = vec!["?"; kinds.len()].join(",");
    // With a limit, take the most recent rows and give them back in time order.
    let (order, limit) = match q.limit {
        Some(n) => ("DESC", format!(" LIMIT {n}")),
        None => ("ASC", String::new()),
    };
    let sql = format!(
        "SELECT id, kind, effective_ms, offset_s, value, absent_reason, source_id, ingested_ms \
         FROM observations WHERE patient_id = ? AND kind IN ({placeholders}) \
         AND effective_ms >= ? AND effective_ms < ? ORDER BY effective_ms {order}, kind{limit}"
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(patient.as_bytes().as_slice());
    for kind in &kinds {
        query = query.bind(kind.as_str());
    }
    let since = q.range.since.map(time::to_ms).unwrap_or(i64::MIN);
    let until = q.range.until.map(time::to_ms).unwrap_or(i64::MAX);
    let rows = query.bind(since).bind(until).fetch_all(executor).await?;
    let mut observations = rows.iter().map(|row| from_row(row, patient)).collect::<Result<Vec<_>, _>>()?;
    if q.limit.is_some() {
        observations.reverse();
    }
    Ok(observations)
}

fn from_row(row: &SqliteRow, patient_id: PatientId) -> Result<Observation, StoreError> {
    let corrupt = |problem: String| StoreError::Corrupt { what: "observation", problem };
    let id: &[u8] = row.get("id");
    let kind: &str = row.get("kind");
    let value: Option<f64> = row.get("value");
    let absent: Option<&str> = row.get("absent_reason");
    let value = match (value, absent) {
        (Some(v), None) => ObservationValue::Quantity(v),
        (None, Some(reason)) => {
            ObservationValue::Absent(reason.parse::<AbsentReason>().map_err(|e| corrupt(e.to_string()))?)
        }
        _ => return Err(corrupt("neither or both of value and absent_reason".into())),
    };
    let source: &[u8] = row.get("source_id");
    Ok(Observation {
        id: ObservationId::from_uuid(uuid::Uuid::from_slice(id).map_err(|e| corrupt(e.to_string()))?),
        patient_id,
        kind: kind.parse::<Kind>().map_err(|e| corrupt(e.to_string()))?,
        value,
        effective: time::with_offset(row.get("effective_ms"), row.get("offset_s"))?,
        source_id: sources::source_id(source)?,
        ingested_at: time::from_ms(row.get("ingested_ms"))?,
    })
}

//! Lean reads of one kind's values over time, for charts, the worklist and assessments.
//!
//! They read only `(effective_ms, value_key)` from the covering index `observations_by_content`
//! `(patient_id, kind, effective_ms, value_key)`, never the table: `value_key` is the value's
//! exact IEEE-754 bits (absences are NaN patterns), so the value needs no table lookup and no
//! row decoding. Under SQLCipher the table lookups are what make full observation reads slow.

use sqlx::{Row, SqliteExecutor};

use super::StoreError;
use crate::domain::{Kind, PatientId};

/// The largest `value_key` of a finite non-negative double (`f64::MAX`'s bits); above it are
/// infinities and the NaN patterns of absences.
const MAX_FINITE_KEY: i64 = 0x7FEF_FFFF_FFFF_FFFF;

fn value(key: i64) -> Option<f64> {
    Some(f64::from_bits(key as u64)).filter(|v| v.is_finite())
}

/// Every finite value of `kind` in `[since_ms, until_ms)`, in time order.
pub(crate) async fn values(
    db: impl SqliteExecutor<'_>,
    patient: PatientId,
    kind: Kind,
    since_ms: i64,
    until_ms: i64,
) -> Result<Vec<(i64, f64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT effective_ms, value_key FROM observations INDEXED BY observations_by_content \
         WHERE patient_id = ? AND kind = ? AND effective_ms >= ? AND effective_ms < ? ORDER BY effective_ms",
    )
    .bind(patient.as_bytes().as_slice())
    .bind(kind.as_str())
    .bind(since_ms)
    .bind(until_ms)
    .fetch_all(db)
    .await?;
    Ok(rows.iter().filter_map(|r| Some((r.get::<i64, _>(0), value(r.get(1))?))).collect())
}

/// The newest finite value of `kind` before `until_ms`.
pub(crate) async fn latest(
    db: impl SqliteExecutor<'_>,
    patient: PatientId,
    kind: Kind,
    until_ms: i64,
) -> Result<Option<(i64, f64)>, StoreError> {
    // Absences sort with the values at their instant; skip them by asking for a few rows.
    let rows = sqlx::query(
        "SELECT effective_ms, value_key FROM observations INDEXED BY observations_by_content \
         WHERE patient_id = ? AND kind = ? AND effective_ms < ? ORDER BY effective_ms DESC LIMIT 16",
    )
    .bind(patient.as_bytes().as_slice())
    .bind(kind.as_str())
    .bind(until_ms)
    .fetch_all(db)
    .await?;
    Ok(rows.iter().find_map(|r| Some((r.get::<i64, _>(0), value(r.get(1))?))))
}

/// One pixel column of a chart: the first and last time, the lowest and highest value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bucket {
    /// First sample's time, ms.
    pub(crate) first_ms: i64,
    /// Last sample's time, ms.
    pub(crate) last_ms: i64,
    /// Lowest value.
    pub(crate) min: f64,
    /// Highest value.
    pub(crate) max: f64,
    /// Samples.
    pub(crate) count: i64,
}

/// Min/max of `kind` per bucket of `bucket_ms` over `[since_ms, until_ms)`, computed inside
/// SQLite over the covering index (one C loop, no row decoding): the decimation a chart needs.
/// Only non-negative values are bucketed: for them the IEEE-754 bit patterns, read as signed
/// integers, order exactly as the values do, so `MIN`/`MAX` of the keys are the keys of the
/// minimum and maximum. Every charted vital is positive (the parsers' plausible ranges).
pub(crate) async fn buckets(
    db: impl SqliteExecutor<'_>,
    patient: PatientId,
    kind: Kind,
    since_ms: i64,
    until_ms: i64,
    bucket_ms: i64,
) -> Result<Vec<Bucket>, StoreError> {
    let rows = sqlx::query(
        "SELECT MIN(effective_ms), MAX(effective_ms), MIN(value_key), MAX(value_key), COUNT(*) \
         FROM observations INDEXED BY observations_by_content \
         WHERE patient_id = ?1 AND kind = ?2 AND effective_ms >= ?3 AND effective_ms < ?4 \
         AND value_key BETWEEN 0 AND ?6 GROUP BY (effective_ms - ?3) / ?5 ORDER BY 1",
    )
    .bind(patient.as_bytes().as_slice())
    .bind(kind.as_str())
    .bind(since_ms)
    .bind(until_ms)
    .bind(bucket_ms.max(1))
    .bind(MAX_FINITE_KEY)
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(Bucket {
                first_ms: r.get(0),
                last_ms: r.get(1),
                min: value(r.get(2))?,
                max: value(r.get(3))?,
                count: r.get(4),
            })
        })
        .collect())
}

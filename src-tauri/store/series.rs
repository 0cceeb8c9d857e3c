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

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, NaiveDate};

    use super::*;
    use crate::domain::{Consent, NewObservation, NewPatient, ObservationValue, Sex, SourceKind};
    use crate::store::KeySource;
    use crate::{OpenOptions, Workstation};

    #[tokio::test]
    async fn buckets_are_the_exact_min_and_max_of_each_column_and_skip_absences() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workstation::open(OpenOptions {
            data_dir: dir.path().join("data"),
            key_source: Some(KeySource::File(dir.path().join("key"))),
            create: true,
        })
        .await
        .unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let p = ws
            .add_patient(NewPatient::new("S-1", "Series", None, Sex::Unknown, Consent::default(), today).unwrap())
            .await
            .unwrap()
            .id;
        let start = DateTime::parse_from_rfc3339("2026-11-23T08:00:00+01:00").unwrap();
        // One hour at 1 Hz: a slow wave with two spikes and a run of absences.
        let mut expected: Vec<(i64, f64)> = Vec::new();
        let mut batch = Vec::new();
        for s in 0..3600i64 {
            let at = start + Duration::seconds(s);
            let value = match s {
                1234 => ObservationValue::Quantity(190.0),
                2000 => ObservationValue::Quantity(40.5),
                3000..=3010 => ObservationValue::Absent(crate::domain::AbsentReason::Error),
                _ => ObservationValue::Quantity(70.0 + 10.0 * ((s as f64) / 300.0).sin()),
            };
            if let ObservationValue::Quantity(v) = value {
                expected.push((at.timestamp_millis(), v));
            }
            batch.push(NewObservation::new(p, Kind::HeartRate, value, at).unwrap());
        }
        ws.record_observations(&SourceKind::Manual, &batch).await.unwrap();
        let t0 = start.timestamp_millis();
        let width = 120;
        let bucket = 3_600_000 / width;
        let got = buckets(ws.store().pool(), p, Kind::HeartRate, t0, t0 + 3_600_000, bucket).await.unwrap();
        assert_eq!(got.len() as i64, width, "every column has samples");
        for (i, b) in got.iter().enumerate() {
            let lo = t0 + i as i64 * bucket;
            let column: Vec<f64> =
                expected.iter().filter(|(t, _)| *t >= lo && *t < lo + bucket).map(|(_, v)| *v).collect();
            assert_eq!(b.count as usize, column.len(), "column {i}");
            assert_eq!(b.min, column.iter().copied().fold(f64::INFINITY, f64::min), "column {i}");
            assert_eq!(b.max, column.iter().copied().fold(f64::NEG_INFINITY, f64::max), "column {i}");
        }
        assert!(got.iter().any(|b| b.max == 190.0) && got.iter().any(|b| b.min == 40.5));
        // The plain read agrees and skips the absences.
        let all = values(ws.store().pool(), p, Kind::HeartRate, t0, t0 + 3_600_000).await.unwrap();
        assert_eq!(all, expected);
        assert_eq!(latest(ws.store().pool(), p, Kind::HeartRate, i64::MAX).await.unwrap(), expected.last().copied());
        ws.close().await;
    }
}

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

/// Milliseconds from 0001-01-01T00:00Z to the Unix epoch: `minute` keys count from there, so
/// they are positive for every date (migration 0007).
pub(crate) const MINUTE_OFFSET_MS: i64 = 62_135_596_800_000;

/// The rollup's minute of an instant.
pub(crate) fn minute_of(ms: i64) -> i64 {
    (ms + MINUTE_OFFSET_MS).div_euclid(60_000)
}

#[allow(clippy::cast_sign_loss, reason = "the key is a value's bits (`dedup_key`), reinterpreted")]
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

/// One rollup row being merged.
#[derive(Debug, Clone, Copy)]
struct MinuteAgg {
    first_ms: i64,
    last_ms: i64,
    min_key: i64,
    max_key: i64,
    n: i64,
}

/// Keeps `observation_minutes` exact for the rows of one batch insert (inside its
/// transaction). `fresh` are chunks whose every row was inserted: their rows are merged into
/// the rollup from memory. `dirty` are `(patient, kind, minute)` of chunks with duplicates
/// (which rows were new is unknown): those minutes are recomputed from the index.
#[derive(Debug, Default)]
pub(crate) struct RollupBatch {
    merged: std::collections::HashMap<([u8; 16], Kind, i64), MinuteAgg>,
    dirty: std::collections::BTreeSet<([u8; 16], Kind, i64)>,
}

impl RollupBatch {
    /// A row that was certainly inserted.
    pub(crate) fn inserted(&mut self, patient: PatientId, kind: Kind, ms: i64, key: i64) {
        if !(0..=MAX_FINITE_KEY).contains(&key) {
            return;
        }
        let e = self.merged.entry((*patient.as_bytes(), kind, minute_of(ms))).or_insert(MinuteAgg {
            first_ms: ms,
            last_ms: ms,
            min_key: key,
            max_key: key,
            n: 0,
        });
        e.first_ms = e.first_ms.min(ms);
        e.last_ms = e.last_ms.max(ms);
        e.min_key = e.min_key.min(key);
        e.max_key = e.max_key.max(key);
        e.n += 1;
    }

    /// A row that may have been a duplicate.
    pub(crate) fn maybe(&mut self, patient: PatientId, kind: Kind, ms: i64) {
        self.dirty.insert((*patient.as_bytes(), kind, minute_of(ms)));
    }

    /// Writes the merged rows, then recomputes the dirty minutes.
    pub(crate) async fn apply(self, db: &mut sqlx::SqliteConnection) -> Result<(), StoreError> {
        const ROWS: usize = 400;
        let merged: Vec<_> = self.merged.into_iter().collect();
        for chunk in merged.chunks(ROWS) {
            let mut sql = String::from(
                "INSERT INTO observation_minutes (patient_id, kind, minute, first_ms, last_ms, min_key, max_key, n) VALUES ",
            );
            sql.push_str(&vec!["(?,?,?,?,?,?,?,?)"; chunk.len()].join(","));
            sql.push_str(
                " ON CONFLICT (patient_id, kind, minute) DO UPDATE SET first_ms = min(first_ms, excluded.first_ms), \
                 last_ms = max(last_ms, excluded.last_ms), min_key = min(min_key, excluded.min_key), \
                 max_key = max(max_key, excluded.max_key), n = n + excluded.n",
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for ((patient, kind, minute), a) in chunk {
                q = q
                    .bind(patient.as_slice())
                    .bind(kind.as_str())
                    .bind(*minute)
                    .bind(a.first_ms)
                    .bind(a.last_ms)
                    .bind(a.min_key)
                    .bind(a.max_key)
                    .bind(a.n);
            }
            q.execute(&mut *db).await?;
        }
        // Contiguous runs of dirty minutes per (patient, kind): one recompute each.
        let mut runs: Vec<([u8; 16], Kind, i64, i64)> = Vec::new();
        for (patient, kind, minute) in self.dirty {
            match runs.last_mut() {
                Some(r) if r.0 == patient && r.1 == kind && r.3 + 1 == minute => r.3 = minute,
                _ => runs.push((patient, kind, minute, minute)),
            }
        }
        for (patient, kind, from, to) in runs {
            sqlx::query(
                "INSERT OR REPLACE INTO observation_minutes (patient_id, kind, minute, first_ms, last_ms, min_key, \
                 max_key, n) SELECT patient_id, kind, (effective_ms + ?5) / 60000, MIN(effective_ms), \
                 MAX(effective_ms), MIN(value_key), MAX(value_key), COUNT(*) \
                 FROM observations INDEXED BY observations_by_content WHERE patient_id = ?1 AND kind = ?2 \
                 AND effective_ms >= ?3 AND effective_ms < ?4 AND value_key BETWEEN 0 AND ?6 \
                 GROUP BY (effective_ms + ?5) / 60000",
            )
            .bind(patient.as_slice())
            .bind(kind.as_str())
            .bind(from * 60_000 - MINUTE_OFFSET_MS)
            .bind((to + 1) * 60_000 - MINUTE_OFFSET_MS)
            .bind(MINUTE_OFFSET_MS)
            .bind(MAX_FINITE_KEY)
            .execute(&mut *db)
            .await?;
        }
        Ok(())
    }
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
    db: &mut sqlx::SqliteConnection,
    patient: PatientId,
    kind: Kind,
    since_ms: i64,
    until_ms: i64,
    bucket_ms: i64,
) -> Result<Vec<Bucket>, StoreError> {
    if bucket_ms >= 60_000 {
        return minute_buckets(db, patient, kind, since_ms, until_ms, bucket_ms).await;
    }
    raw_buckets(&mut *db, patient, kind, since_ms, until_ms, bucket_ms).await
}

async fn raw_buckets(
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
    Ok(rows.iter().filter_map(bucket_row).collect())
}

/// A bucket from a row `(first_ms, last_ms, min_key, max_key, count)`, as both bucket queries
/// select them.
fn bucket_row(r: &sqlx::sqlite::SqliteRow) -> Option<Bucket> {
    Some(Bucket {
        first_ms: r.get(0),
        last_ms: r.get(1),
        min: value(r.get(2))?,
        max: value(r.get(3))?,
        count: r.get(4),
    })
}

/// [`buckets`] from the rollup: columns of `bucket_ms / 60 s` whole minutes (at least one);
/// the partial minutes at either edge of `[since_ms, until_ms)` come from the index, so the
/// counts and extremes are exact (the edge columns are narrower).
async fn minute_buckets(
    db: &mut sqlx::SqliteConnection,
    patient: PatientId,
    kind: Kind,
    since_ms: i64,
    until_ms: i64,
    bucket_ms: i64,
) -> Result<Vec<Bucket>, StoreError> {
    let start_of = |m: i64| m * 60_000 - MINUTE_OFFSET_MS;
    // Whole minutes m0..m1 (inclusive) lie inside the range.
    let m0 = minute_of(since_ms) + i64::from(start_of(minute_of(since_ms)) < since_ms);
    let m1 = minute_of(until_ms) - 1;
    if m1 < m0 {
        return raw_buckets(&mut *db, patient, kind, since_ms, until_ms, until_ms - since_ms).await;
    }
    let mut out = raw_buckets(&mut *db, patient, kind, since_ms, start_of(m0), 60_000).await?;
    let rows = sqlx::query(
        "SELECT MIN(first_ms), MAX(last_ms), MIN(min_key), MAX(max_key), SUM(n) FROM observation_minutes \
         WHERE patient_id = ?1 AND kind = ?2 AND minute >= ?3 AND minute <= ?4 \
         GROUP BY (minute - ?3) / ?5 ORDER BY 1",
    )
    .bind(patient.as_bytes().as_slice())
    .bind(kind.as_str())
    .bind(m0)
    .bind(m1)
    .bind((bucket_ms / 60_000).max(1))
    .fetch_all(&mut *db)
    .await?;
    out.extend(rows.iter().filter_map(bucket_row));
    out.extend(raw_buckets(&mut *db, patient, kind, start_of(m1 + 1), until_ms, 60_000).await?);
    Ok(out)
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
            purpose: crate::workstation::StorePurpose::Clinical,
        })
        .await
        .unwrap()
        .act_as_for_tests(crate::domain::access::Role::Clinician);
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let p = ws
            .add_patient(NewPatient::new("S-1", "Series", None, Sex::Unknown, Consent::FULL, today).unwrap())
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
        let got = buckets(
            &mut ws.store().pool().acquire().await.unwrap(),
            p,
            Kind::HeartRate,
            t0,
            t0 + 3_600_000,
            bucket,
        )
        .await
        .unwrap();
        assert_eq!(i64::try_from(got.len()).unwrap(), width, "every column has samples");
        for (i, b) in got.iter().enumerate() {
            let lo = t0 + i64::try_from(i).unwrap() * bucket;
            let column: Vec<f64> =
                expected.iter().filter(|(t, _)| *t >= lo && *t < lo + bucket).map(|(_, v)| *v).collect();
            assert_eq!(usize::try_from(b.count).unwrap(), column.len(), "column {i}");
            assert_eq!(b.min, column.iter().copied().fold(f64::INFINITY, f64::min), "column {i}");
            assert_eq!(b.max, column.iter().copied().fold(f64::NEG_INFINITY, f64::max), "column {i}");
        }
        assert!(got.iter().any(|b| b.max == 190.0) && got.iter().any(|b| b.min == 40.5));
        // The plain read agrees and skips the absences.
        let all = values(ws.store().pool(), p, Kind::HeartRate, t0, t0 + 3_600_000).await.unwrap();
        assert_eq!(all, expected);
        assert_eq!(
            latest(ws.store().pool(), p, Kind::HeartRate, i64::MAX).await.unwrap(),
            expected.last().copied()
        );
        ws.close().await;
    }

    #[tokio::test]
    async fn the_minute_rollup_stays_exact_through_duplicates_and_serves_wide_buckets() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workstation::open(OpenOptions {
            data_dir: dir.path().join("data"),
            key_source: Some(KeySource::File(dir.path().join("key"))),
            create: true,
            purpose: crate::workstation::StorePurpose::Clinical,
        })
        .await
        .unwrap()
        .act_as_for_tests(crate::domain::access::Role::Clinician);
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let p = ws
            .add_patient(NewPatient::new("R-1", "Rollup", None, Sex::Unknown, Consent::FULL, today).unwrap())
            .await
            .unwrap()
            .id;
        let start = DateTime::parse_from_rfc3339("2026-11-23T08:00:30+01:00").unwrap();
        let obs = |s: i64, v: f64| {
            NewObservation::new(
                p,
                Kind::Spo2,
                ObservationValue::Quantity(v),
                start + Duration::milliseconds(s),
            )
            .unwrap()
        };
        // Two hours at 1 Hz, then a batch that repeats every other sample and adds new ones
        // between them (some minutes get both new rows and duplicates).
        let first: Vec<_> = (0..7200).map(|s| obs(s * 1000, 90.0 + (s % 17) as f64 * 0.5)).collect();
        ws.record_observations(&SourceKind::Manual, &first).await.unwrap();
        let second: Vec<_> = (0..7200)
            .map(|s| {
                if s % 2 == 0 {
                    obs(s * 1000, 90.0 + (s % 17) as f64 * 0.5)
                } else {
                    obs(s * 1000 + 500, 80.0 + (s % 5) as f64)
                }
            })
            .collect();
        let report = ws.record_observations(&SourceKind::Manual, &second).await.unwrap();
        assert_eq!((report.inserted, report.duplicates), (3600, 3600));
        let t0 = start.timestamp_millis();
        let all = values(ws.store().pool(), p, Kind::Spo2, t0 - 60_000, t0 + 7_300_000).await.unwrap();
        assert_eq!(all.len(), 10_800);
        // The observation counter follows inserts, not attempts.
        let counted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM observations")
            .fetch_one(ws.store().pool())
            .await
            .unwrap();
        assert_eq!((counted, ws.status().await.unwrap().observations), (10_800, 10_800));
        // Every rollup row equals its minute recomputed from the samples.
        let rows = sqlx::query("SELECT minute, first_ms, last_ms, min_key, max_key, n FROM observation_minutes WHERE patient_id = ?")
            .bind(p.as_bytes().as_slice())
            .fetch_all(ws.store().pool())
            .await
            .unwrap();
        let mut minutes = std::collections::BTreeMap::new();
        for (t, v) in &all {
            let e = minutes.entry(minute_of(*t)).or_insert((
                i64::MAX,
                i64::MIN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                0i64,
            ));
            *e = (e.0.min(*t), e.1.max(*t), e.2.min(*v), e.3.max(*v), e.4 + 1);
        }
        assert_eq!(rows.len(), minutes.len());
        for r in &rows {
            let m: i64 = r.get(0);
            let want = minutes[&m];
            let got = (
                r.get::<i64, _>(1),
                r.get::<i64, _>(2),
                value(r.get(3)).unwrap(),
                value(r.get(4)).unwrap(),
                r.get::<i64, _>(5),
            );
            assert_eq!(got, want, "minute {m}");
        }
        // Two-minute buckets from the rollup equal the samples' min and max per column.
        let since = (minute_of(t0) + 1) * 60_000 - MINUTE_OFFSET_MS;
        let got = buckets(
            &mut ws.store().pool().acquire().await.unwrap(),
            p,
            Kind::Spo2,
            since,
            since + 7_200_000,
            120_000,
        )
        .await
        .unwrap();
        assert_eq!(got.len(), 60);
        for (i, b) in got.iter().enumerate() {
            let lo = since + i64::try_from(i).unwrap() * 120_000;
            let col: Vec<f64> =
                all.iter().filter(|(t, _)| *t >= lo && *t < lo + 120_000).map(|(_, v)| *v).collect();
            assert_eq!(usize::try_from(b.count).unwrap(), col.len(), "column {i}");
            assert_eq!(
                (b.min, b.max),
                (
                    col.iter().copied().fold(f64::INFINITY, f64::min),
                    col.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                )
            );
        }
        ws.close().await;
    }
}

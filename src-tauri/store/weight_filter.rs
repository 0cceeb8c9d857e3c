//! The body-weight Kalman filter's persisted state and its per-measurement results
//! (`migrations/0004_weight_filter.sql`).
//!
//! One state row per patient, replaced in the same transaction as the result row it produced:
//! [`save_step`] updates the state (counting its `steps`) and then inserts the result, so a
//! failure anywhere rolls both back and `steps` always equals the patient's result count.
//! The state is the analysis code's [`FilterState`] JSON; [`load_state`] reads it through
//! [`FilterState::from_json`], which upgrades older schema versions and refuses unsafe ones.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqliteExecutor, Transaction};

use super::{StoreError, sources, time};
use crate::analysis::heart_failure::{HeartFailureAlert, WeightPoint};
use crate::analysis::kalman::{FilterState, SourceClass, StepResult};
use crate::domain::{AbsentReason, DeviceId, ObservationValue, PatientId, SourceId};

/// One processed weight as stored: the reading, the filter's output after it, and the
/// heart-failure alerts that held at it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightResult {
    /// When it was measured, with the source's offset (millisecond precision).
    pub effective: DateTime<FixedOffset>,
    /// The weight in kg, or why there is none.
    pub value: ObservationValue,
    /// The source class whose measurement noise was used.
    pub source_class: SourceClass,
    /// The filter's result (accepted or rejected with its reason).
    pub result: StepResult,
    /// The heart-failure rules that held at this measurement, with their evidence.
    pub alerts: Vec<HeartFailureAlert>,
}

fn corrupt(what: &'static str) -> impl Fn(String) -> StoreError {
    move |problem| StoreError::Corrupt { what, problem }
}

/// The patient's saved state and its step count, upgraded to the current schema version.
pub(crate) async fn load_state(
    executor: impl SqliteExecutor<'_>,
    patient: PatientId,
) -> Result<Option<(FilterState, i64)>, StoreError> {
    let row = sqlx::query("SELECT state, steps FROM weight_filter_states WHERE patient_id = ?")
        .bind(patient.as_bytes().as_slice())
        .fetch_optional(executor)
        .await?;
    row.map(|row| {
        let json: &str = row.get("state");
        let state =
            FilterState::from_json(json).map_err(|e| corrupt("weight filter state")(e.to_string()))?;
        Ok((state, row.get("steps")))
    })
    .transpose()
}

/// The stored result for this reading (patient, instant, value), if it was processed before.
pub(crate) async fn find_result(
    executor: impl SqliteExecutor<'_>,
    patient: PatientId,
    effective: DateTime<FixedOffset>,
    value: ObservationValue,
) -> Result<Option<WeightResult>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM weight_filter_results WHERE patient_id = ? AND effective_ms = ? AND value_key = ?"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(patient.as_bytes().as_slice())
        .bind(effective.timestamp_millis())
        .bind(value.dedup_key())
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The accepted weights of `[since, until)`: the raw readings the heart-failure rule compares.
pub(crate) async fn accepted_weights(
    executor: impl SqliteExecutor<'_>,
    patient: PatientId,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<WeightPoint>, StoreError> {
    let rows = sqlx::query(
        "SELECT effective_ms, value_kg FROM weight_filter_results WHERE patient_id = ? \
         AND effective_ms >= ? AND effective_ms < ? AND accepted = 1 AND value_kg IS NOT NULL \
         ORDER BY effective_ms",
    )
    .bind(patient.as_bytes().as_slice())
    .bind(time::to_ms(since))
    .bind(time::to_ms(until))
    .fetch_all(executor)
    .await?;
    rows.iter().map(|row| Ok(WeightPoint { time: time::from_ms(row.get(0))?, kg: row.get(1) })).collect()
}

/// Replaces the patient's state (one more step) and appends the step's result, inside the
/// caller's transaction.
pub(crate) async fn save_step(
    tx: &mut Transaction<'static, Sqlite>,
    patient: PatientId,
    state: &FilterState,
    result: &WeightResult,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let at_ms = time::to_ms(at);
    sqlx::query(
        "INSERT INTO weight_filter_states (patient_id, schema_version, state, steps, updated_ms) \
         VALUES (?1, ?2, ?3, 1, ?4) ON CONFLICT (patient_id) DO UPDATE SET \
         schema_version = excluded.schema_version, state = excluded.state, steps = steps + 1, \
         updated_ms = excluded.updated_ms",
    )
    .bind(patient.as_bytes().as_slice())
    .bind(i64::from(state.schema_version))
    .bind(state.to_json())
    .bind(at_ms)
    .execute(&mut **tx)
    .await?;
    let json = |v: Result<String, serde_json::Error>| v.map_err(|e| corrupt("weight result")(e.to_string()));
    let r = &result.result;
    let (value_kg, absent) = match result.value {
        ObservationValue::Quantity(v) => (Some(v), None),
        ObservationValue::Absent(reason) => (None, Some(reason.as_str())),
    };
    sqlx::query(
        "INSERT INTO weight_filter_results (patient_id, effective_ms, offset_s, value_kg, absent_reason, \
         value_key, source_class, accepted, reason, needs_initialization, confidence, filtered_kg, \
         trend_kg_per_week, trend_sd_kg_per_week, prediction_error, normalized_error, reset, alerts, \
         processed_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(patient.as_bytes().as_slice())
    .bind(result.effective.timestamp_millis())
    .bind(i64::from(result.effective.offset().local_minus_utc()))
    .bind(value_kg)
    .bind(absent)
    .bind(result.value.dedup_key())
    .bind(result.source_class.as_str())
    .bind(r.accepted)
    .bind(r.reason.map(|x| json(serde_json::to_string(&x))).transpose()?)
    .bind(r.needs_initialization)
    .bind(r.confidence)
    .bind(r.filtered)
    .bind(r.trend_kg_per_week)
    .bind(r.trend_sd_kg_per_week)
    .bind(r.prediction_error)
    .bind(r.normalized_error)
    .bind(r.reset.map(|x| json(serde_json::to_string(&x))).transpose()?)
    .bind(json(serde_json::to_string(&result.alerts))?)
    .bind(at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Every result of one patient, in processing order.
pub(crate) async fn list_results(
    executor: impl SqliteExecutor<'_>,
    patient: PatientId,
) -> Result<Vec<WeightResult>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM weight_filter_results WHERE patient_id = ? ORDER BY seq");
    let rows =
        sqlx::query(sqlx::AssertSqlSafe(sql)).bind(patient.as_bytes().as_slice()).fetch_all(executor).await?;
    rows.iter().map(from_row).collect()
}

/// The heart-failure agent's view of the saved filter (issue 11): the number of steps, and the
/// newest accepted step with the rules that held at it. Reads the state's step count and one
/// result row, never the weight history. `None` when no weight was processed.
pub(crate) async fn saved_context(
    tx: &mut sqlx::SqliteConnection,
    patient: PatientId,
) -> Result<Option<crate::agents::WeightContext>, StoreError> {
    let Some((_, steps)) = load_state(&mut *tx, patient).await? else { return Ok(None) };
    let sql = format!(
        "SELECT {COLUMNS} FROM weight_filter_results WHERE patient_id = ? AND accepted = 1 \
         AND filtered_kg IS NOT NULL ORDER BY seq DESC LIMIT 1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(patient.as_bytes().as_slice())
        .fetch_optional(&mut *tx)
        .await?;
    let newest = row.as_ref().map(from_row).transpose()?;
    let mut context = crate::agents::WeightContext {
        weights: usize::try_from(steps).unwrap_or(0),
        latest: newest.as_ref().map(|r| r.result),
        rapid_gain: None,
        trend_rise: None,
    };
    for alert in newest.iter().flat_map(|r| &r.alerts) {
        match alert {
            crate::analysis::heart_failure::HeartFailureAlert::RapidGain(g) => context.rapid_gain = Some(*g),
            crate::analysis::heart_failure::HeartFailureAlert::TrendRise(t) => context.trend_rise = Some(*t),
        }
    }
    Ok(Some(context))
}

/// Where a source's readings come from, as far as the measurement-noise rule needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SourceOrigin {
    /// A file import.
    File,
    /// A registered device, assigned to a patient or not.
    Device {
        /// The device is assigned to a patient.
        assigned: bool,
    },
    /// Typed in at the workstation.
    Manual,
    /// Synthetic demo data.
    Demo,
}

/// The origin of every source.
pub(crate) async fn source_origins(
    executor: impl SqliteExecutor<'_>,
) -> Result<HashMap<SourceId, SourceOrigin>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.id, s.kind, d.patient_id IS NOT NULL AS assigned FROM sources s \
         LEFT JOIN devices d ON d.id = s.device_id",
    )
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|row| {
            let id: Vec<u8> = row.get("id");
            let origin = match row.get::<&str, _>("kind") {
                "file" => SourceOrigin::File,
                "device" => SourceOrigin::Device { assigned: row.get("assigned") },
                "manual" => SourceOrigin::Manual,
                _ => SourceOrigin::Demo,
            };
            Ok((sources::source_id(&id)?, origin))
        })
        .collect()
}

/// Whether a device is assigned to a patient; `None` when there is no such device.
pub(crate) async fn device_assigned(
    executor: impl SqliteExecutor<'_>,
    device: DeviceId,
) -> Result<Option<bool>, StoreError> {
    Ok(sqlx::query_scalar("SELECT patient_id IS NOT NULL FROM devices WHERE id = ?")
        .bind(device.as_bytes().as_slice())
        .fetch_optional(executor)
        .await?)
}

const COLUMNS: &str = "effective_ms, offset_s, value_kg, absent_reason, source_class, accepted, reason, \
    needs_initialization, confidence, filtered_kg, trend_kg_per_week, trend_sd_kg_per_week, \
    prediction_error, normalized_error, reset, alerts";

fn from_row(row: &SqliteRow) -> Result<WeightResult, StoreError> {
    let bad = corrupt("weight result");
    let effective = time::with_offset(row.get("effective_ms"), row.get("offset_s"))?;
    let value = match (row.get::<Option<f64>, _>("value_kg"), row.get::<Option<&str>, _>("absent_reason")) {
        (Some(v), None) => ObservationValue::Quantity(v),
        (None, Some(r)) => {
            ObservationValue::Absent(r.parse::<AbsentReason>().map_err(|e| bad(e.to_string()))?)
        }
        _ => return Err(bad("neither or both of value_kg and absent_reason".into())),
    };
    let class: &str = row.get("source_class");
    let source_class = SourceClass::ALL
        .into_iter()
        .find(|c| c.as_str() == class)
        .ok_or_else(|| bad(format!("unknown source class '{class}'")))?;
    let result = StepResult {
        time: effective.to_utc(),
        accepted: row.get("accepted"),
        needs_initialization: row.get("needs_initialization"),
        confidence: row.get("confidence"),
        filtered: row.get("filtered_kg"),
        trend_kg_per_week: row.get("trend_kg_per_week"),
        trend_sd_kg_per_week: row.get("trend_sd_kg_per_week"),
        prediction_error: row.get("prediction_error"),
        normalized_error: row.get("normalized_error"),
        reason: json_column(row, "reason")?,
        reset: json_column(row, "reset")?,
    };
    let alerts = serde_json::from_str(row.get("alerts")).map_err(|e| bad(e.to_string()))?;
    Ok(WeightResult { effective, value, source_class, result, alerts })
}

fn json_column<T: serde::de::DeserializeOwned>(
    row: &SqliteRow,
    column: &str,
) -> Result<Option<T>, StoreError> {
    row.get::<Option<&str>, _>(column)
        .map(|s| serde_json::from_str(s).map_err(|e| corrupt("weight result")(format!("{column}: {e}"))))
        .transpose()
}

//! The alert aggregate: insert, read, and the lifecycle transitions. Each write enqueues its
//! outbox message inside the caller's transaction; the facade adds the audit event.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqliteExecutor, Transaction};

use super::{StoreError, new_uuid, outbox, time};
use crate::agents::alerting::{Alert, AlertDraft, AlertStatus, Transition};
use crate::agents::{EventClass, RiskLevel};
use crate::domain::PatientId;

const COLUMNS: &str = "id, patient_id, event, risk_level, risk_score, confidence, evidence, recommendations, \
     findings, assessment_id, event_ms, created_ms, status, acknowledged_by, acknowledged_ms, acknowledged_note, \
     resolved_by, resolved_ms, resolved_note";

/// Which alerts to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertQuery {
    /// Only this patient's.
    pub patient: Option<PatientId>,
    /// Only in these statuses (empty: all).
    pub statuses: Vec<AlertStatus>,
    /// Only at or above this risk level (the [`RiskLevel`] order); `None`: every level.
    pub min_level: Option<RiskLevel>,
    /// At most this many, newest first.
    pub limit: Option<i64>,
    /// Skip this many of the newest first (a page).
    pub offset: i64,
}

impl AlertQuery {
    /// The `WHERE` clause and its one bound parameter (the patient). Statuses and levels are
    /// typed, so their names are inlined from `as_str`, never from input text.
    fn filter(&self, with_statuses: bool) -> String {
        let mut sql = String::from(" WHERE 1 = 1");
        if self.patient.is_some() {
            sql += " AND patient_id = ?";
        }
        if with_statuses && !self.statuses.is_empty() {
            let names: Vec<String> = self.statuses.iter().map(|s| format!("'{}'", s.as_str())).collect();
            sql += &format!(" AND status IN ({})", names.join(", "));
        }
        if let Some(floor) = self.min_level {
            let names: Vec<String> = floor.and_above().map(|l| format!("'{}'", l.as_str())).collect();
            sql += &format!(" AND risk_level IN ({})", names.join(", "));
        }
        sql
    }
}

fn json<T: serde::Serialize>(what: &'static str, v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt { what, problem: e.to_string() })
}

/// Stores an alert for `patient` and its outbox message.
pub(crate) async fn insert(
    tx: &mut Transaction<'static, Sqlite>,
    patient: PatientId,
    draft: &AlertDraft,
    at: DateTime<Utc>,
) -> Result<Alert, StoreError> {
    let alert = Alert {
        id: new_uuid(),
        patient_id: patient,
        event: draft.event,
        risk_level: draft.risk_level,
        risk_score: draft.risk_score.clamp(0.0, 1.0),
        confidence: draft.confidence.clamp(0.0, 1.0),
        evidence: draft.evidence.clone(),
        recommendations: draft.recommendations.clone(),
        findings: draft.findings.clone(),
        assessment_id: draft.assessment_id,
        event_time: time::from_ms(time::to_ms(draft.time))?,
        created_at: time::from_ms(time::to_ms(at))?,
        status: AlertStatus::New,
        acknowledged: None,
        resolved: None,
    };
    insert_row(tx, &alert).await?;
    let payload = serde_json::to_value(&alert)
        .map_err(|e| StoreError::Corrupt { what: "alert", problem: e.to_string() })?;
    outbox::enqueue(tx, "alert", Some(alert.id.as_bytes()), Some(patient), "insert", &payload, at).await?;
    Ok(alert)
}

/// Writes a new alert's row (status `new`), with no outbox message: the caller sends one, or
/// the alert came from the clinic server.
pub(crate) async fn insert_row(
    tx: &mut Transaction<'static, Sqlite>,
    alert: &Alert,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO alerts (id, patient_id, event, risk_level, risk_score, confidence, evidence, recommendations, \
         findings, assessment_id, event_ms, created_ms, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(alert.id.as_bytes().as_slice())
    .bind(alert.patient_id.as_bytes().as_slice())
    .bind(alert.event.as_str())
    .bind(alert.risk_level.as_str())
    .bind(alert.risk_score)
    .bind(alert.confidence)
    .bind(json("alert evidence", &alert.evidence)?)
    .bind(json("alert recommendations", &alert.recommendations)?)
    .bind(json("alert findings", &alert.findings)?)
    .bind(alert.assessment_id.as_bytes().as_slice())
    .bind(time::to_ms(alert.event_time))
    .bind(time::to_ms(alert.created_at))
    .bind(AlertStatus::New.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One alert by id.
pub(crate) async fn find(
    executor: impl SqliteExecutor<'_>,
    id: uuid::Uuid,
) -> Result<Option<Alert>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM alerts WHERE id = ?")))
        .bind(id.as_bytes().as_slice())
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Alerts, newest first (event time, then id), one page of them.
pub(crate) async fn list(
    executor: impl SqliteExecutor<'_>,
    query: &AlertQuery,
) -> Result<Vec<Alert>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM alerts{} ORDER BY event_ms DESC, id DESC LIMIT ? OFFSET ?",
        query.filter(true)
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    if let Some(p) = query.patient {
        q = q.bind(p.as_bytes().to_vec());
    }
    let rows = q.bind(query.limit.unwrap_or(-1)).bind(query.offset.max(0)).fetch_all(executor).await?;
    rows.iter().map(from_row).collect()
}

/// How many alerts of each status match `query` with its statuses ignored (limit and offset
/// too): the inbox's tab counts, in [`AlertStatus`] order (new, acknowledged, resolved).
pub(crate) async fn count_by_status(
    executor: impl SqliteExecutor<'_>,
    query: &AlertQuery,
) -> Result<[(AlertStatus, i64); 3], StoreError> {
    let sql = format!("SELECT status, COUNT(*) AS n FROM alerts{} GROUP BY status", query.filter(false));
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    if let Some(p) = query.patient {
        q = q.bind(p.as_bytes().to_vec());
    }
    let mut counts = [(AlertStatus::New, 0), (AlertStatus::Acknowledged, 0), (AlertStatus::Resolved, 0)];
    for row in q.fetch_all(executor).await? {
        let status: String = row.get("status");
        let slot = counts
            .iter_mut()
            .find(|(s, _)| s.as_str() == status)
            .ok_or_else(|| StoreError::Corrupt { what: "alert", problem: format!("status {status}") })?;
        slot.1 = row.get("n");
    }
    Ok(counts)
}

/// Moves an alert to `to` (from the status [`AlertStatus::required_before`] says), recording
/// who, when and the note, and enqueues the outbox message. `Ok(None)` when the alert was not
/// in the required status (the caller reports which it was).
pub(crate) async fn transition(
    tx: &mut Transaction<'static, Sqlite>,
    id: uuid::Uuid,
    to: AlertStatus,
    by: &Transition,
) -> Result<Option<Alert>, StoreError> {
    let Some(from) = to.required_before() else { return Ok(None) };
    let prefix = match to {
        AlertStatus::Acknowledged => "acknowledged",
        _ => "resolved",
    };
    let sql = format!(
        "UPDATE alerts SET status = ?, {prefix}_by = ?, {prefix}_ms = ?, {prefix}_note = ? WHERE id = ? AND status = ?"
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(to.as_str())
        .bind(&by.by)
        .bind(time::to_ms(by.at))
        .bind(&by.note)
        .bind(id.as_bytes().as_slice())
        .bind(from.as_str())
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    let alert = find(&mut **tx, id)
        .await?
        .ok_or(StoreError::Corrupt { what: "alert", problem: "vanished".into() })?;
    let payload = serde_json::json!({
        "id": alert.id,
        "status": to.as_str(),
        "by": by.by,
        "at": by.at,
        "note": by.note,
    });
    outbox::enqueue(
        tx,
        "alert",
        Some(alert.id.as_bytes()),
        Some(alert.patient_id),
        "update",
        &payload,
        by.at,
    )
    .await?;
    Ok(Some(alert))
}

fn from_row(row: &SqliteRow) -> Result<Alert, StoreError> {
    let corrupt = |problem: String| StoreError::Corrupt { what: "alert", problem };
    let uuid = |col: &str| {
        let b: Vec<u8> = row.get(col);
        uuid::Uuid::from_slice(&b).map_err(|e| corrupt(format!("{col}: {e}")))
    };
    let parse = |col: &str| {
        let s: &str = row.get(col);
        serde_json::from_str::<serde_json::Value>(s).map_err(|e| corrupt(format!("{col}: {e}")))
    };
    let event: String = row.get("event");
    let level: String = row.get("risk_level");
    let status: String = row.get("status");
    let transition = |p: &str| -> Result<Option<Transition>, StoreError> {
        let ms: Option<i64> = row.get(format!("{p}_ms").as_str());
        ms.map(|ms| {
            Ok(Transition {
                by: row.get::<Option<String>, _>(format!("{p}_by").as_str()).unwrap_or_default(),
                at: time::from_ms(ms)?,
                note: row.get::<Option<String>, _>(format!("{p}_note").as_str()).unwrap_or_default(),
            })
        })
        .transpose()
    };
    let level: RiskLevel =
        level.parse().map_err(|e: crate::agents::UnknownRiskLevel| corrupt(e.to_string()))?;
    Ok(Alert {
        id: uuid("id")?,
        patient_id: super::patients::patient_id(&row.get::<Vec<u8>, _>("patient_id"))?,
        event: EventClass::parse(&event).ok_or_else(|| corrupt(format!("event {event}")))?,
        risk_level: level,
        risk_score: row.get("risk_score"),
        confidence: row.get("confidence"),
        evidence: serde_json::from_value(parse("evidence")?).map_err(|e| corrupt(e.to_string()))?,
        recommendations: serde_json::from_value(parse("recommendations")?)
            .map_err(|e| corrupt(e.to_string()))?,
        findings: serde_json::from_value(parse("findings")?).map_err(|e| corrupt(e.to_string()))?,
        assessment_id: uuid("assessment_id")?,
        event_time: time::from_ms(row.get("event_ms"))?,
        created_at: time::from_ms(row.get("created_ms"))?,
        status: AlertStatus::parse(&status).ok_or_else(|| corrupt(format!("status {status}")))?,
        acknowledged: transition("acknowledged")?,
        resolved: transition("resolved")?,
    })
}

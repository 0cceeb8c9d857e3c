//! Pulled alerts (issue 14): an alert another workstation raised is added as it was raised, and
//! its lifecycle events merge to the furthest state (new < acknowledged < resolved). Every event
//! that arrives is kept in `alert_events` (who, when, note, from which workstation), also when
//! this workstation was already further along: no one's step is dropped.

use sqlx::{Sqlite, Transaction};
use uuid::Uuid;
use vigil_protocol::wire::pull::PulledChange;

use super::sync_pull::PullReport;
use super::{StoreError, alerts, patients, time};
use crate::agents::alerting::{Alert, AlertStatus};
use crate::domain::PatientRef;

/// A lifecycle message's body (`store/alerts.rs` `transition`).
#[derive(serde::Deserialize)]
struct Step {
    id: Uuid,
    status: String,
    by: String,
    at: chrono::DateTime<chrono::Utc>,
    note: Option<String>,
}

pub(crate) async fn apply(
    tx: &mut Transaction<'static, Sqlite>,
    change: &PulledChange,
    report: &mut PullReport,
) -> Result<(), StoreError> {
    match change.op.as_str() {
        "insert" => {
            let Ok(alert) = serde_json::from_value::<Alert>(change.payload.clone()) else {
                tracing::warn!(version = change.version, "a pulled alert does not parse; skipped");
                report.skipped += 1;
                return Ok(());
            };
            let known = alerts::find(&mut **tx, alert.id).await?.is_some();
            let patient = patients::find(&mut **tx, &PatientRef::Id(alert.patient_id)).await?;
            if known || patient.is_none() {
                report.skipped += u64::from(patient.is_none());
                return Ok(());
            }
            // As raised; its later steps arrive as their own messages.
            let raised = Alert { status: AlertStatus::New, acknowledged: None, resolved: None, ..alert };
            alerts::insert_row(tx, &raised).await?;
            report.alerts += 1;
        }
        "update" => {
            let Ok(step) = serde_json::from_value::<Step>(change.payload.clone()) else {
                report.skipped += 1;
                return Ok(());
            };
            let Some(current) = alerts::find(&mut **tx, step.id).await? else {
                report.skipped += 1;
                return Ok(());
            };
            let status = match step.status.as_str() {
                "acknowledged" => AlertStatus::Acknowledged,
                "resolved" => AlertStatus::Resolved,
                _ => {
                    report.skipped += 1;
                    return Ok(());
                }
            };
            sqlx::query(
                "INSERT INTO alert_events (alert_id, status, by_actor, at_ms, note, from_workstation) \
                 VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            )
            .bind(step.id.as_bytes().as_slice())
            .bind(status.as_str())
            .bind(&step.by)
            .bind(time::to_ms(step.at))
            .bind(&step.note)
            .bind(change.workstation_id.as_bytes().as_slice())
            .execute(&mut **tx)
            .await?;
            report.alerts += 1;
            let rank = |s: AlertStatus| match s {
                AlertStatus::New => 0,
                AlertStatus::Acknowledged => 1,
                AlertStatus::Resolved => 2,
            };
            if rank(status) <= rank(current.status) {
                return Ok(());
            }
            let (by, at, note) = (&step.by, time::to_ms(step.at), step.note.as_deref().unwrap_or(""));
            // Resolved straight from new (its acknowledgement not seen here yet): the resolution
            // stands for both steps, as the facade's one-step resolve does.
            let sql = if status == AlertStatus::Acknowledged || current.status == AlertStatus::Acknowledged {
                let prefix = if status == AlertStatus::Acknowledged { "acknowledged" } else { "resolved" };
                format!(
                    "UPDATE alerts SET status = ?, {prefix}_by = ?1, {prefix}_ms = ?2, {prefix}_note = ?3 WHERE id = ?4"
                )
            } else {
                "UPDATE alerts SET status = ?, acknowledged_by = ?1, acknowledged_ms = ?2, acknowledged_note = ?3, \
                 resolved_by = ?1, resolved_ms = ?2, resolved_note = ?3 WHERE id = ?4"
                    .to_owned()
            };
            let sql = sql.replacen("status = ?,", &format!("status = '{}',", status.as_str()), 1);
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(by)
                .bind(at)
                .bind(note)
                .bind(step.id.as_bytes().as_slice())
                .execute(&mut **tx)
                .await?;
        }
        _ => report.skipped += 1,
    }
    Ok(())
}

//! Applying a pulled page (issue 14), in one transaction with its cursor, so a cut between
//! pages loses nothing and repeats nothing.
//!
//! - Observations: a grow-only set under their natural key. They are stored like any other
//!   batch (consent checked, deduplicated by content) from a `clinic` source, with no outbox
//!   message: they came from the server. The monitor finds them like any new rows.
//! - Patients: a patient this workstation does not know is added, with its consent recorded as
//!   a version "from the clinic server". For a known patient, fields merge three-way against
//!   the values the remote editor saw (`before` in the update message): edits to different
//!   fields both land; the same field changed on both sides to different values is a conflict:
//!   the local value stays, both are kept in `sync_conflicts` for review, nothing is dropped.
//! - Alerts (`sync_alerts.rs`): an alert is added as raised; lifecycle events merge to the
//!   furthest state (new, acknowledged, resolved), and every event is kept in `alert_events`.
//! - Devices are not applied: they are this workstation's hardware.

use sqlx::Row;
use uuid::Uuid;
use vigil_protocol::wire::pull::{PullPage, PulledChange};

use super::{AuditEvent, InsertReport, Store, StoreError, observations, patients, time};
use crate::domain::{NewObservation, Patient, PatientId, PatientRef, SourceKind};

/// What one page did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct PullReport {
    /// Patients added.
    pub patients_added: u64,
    /// Patients whose fields changed.
    pub patients_updated: u64,
    /// Fields kept for review.
    pub conflicts: u64,
    /// Alerts added, and lifecycle events applied or kept.
    pub alerts: u64,
    /// Observations stored, and those already here.
    pub observations: InsertReport,
    /// Rows or changes not applied (no such patient, no monitoring consent, an entity not
    /// synced yet).
    pub skipped: u64,
}

impl PullReport {
    /// Adds another page's counts.
    pub fn add(&mut self, other: PullReport) {
        self.patients_added += other.patients_added;
        self.patients_updated += other.patients_updated;
        self.conflicts += other.conflicts;
        self.alerts += other.alerts;
        self.observations.add(other.observations);
        self.skipped += other.skipped;
    }
}

impl Store {
    /// Applies `page` and saves its cursor, in one transaction; `actor` is who the audit names.
    pub(crate) async fn apply_pull_page(
        &self,
        page: &PullPage,
        actor: &str,
    ) -> Result<PullReport, StoreError> {
        let now = chrono::Utc::now();
        let mut tx = self.begin().await?;
        let mut report = PullReport::default();
        for change in &page.changes {
            match change.entity.as_str() {
                "patient" => apply_patient(&mut tx, change, actor, now, &mut report).await?,
                "alert" => super::sync_alerts::apply(&mut tx, change, &mut report).await?,
                _ => report.skipped += 1,
            }
        }
        for group in &page.observations {
            let patient = PatientId(group.patient_id);
            let known = patients::find(&mut *tx, &PatientRef::Id(patient)).await?;
            if !known.is_some_and(|p| p.consent.monitoring) {
                report.skipped += group.rows.len() as u64;
                continue;
            }
            let mut batch: Vec<NewObservation> = Vec::with_capacity(group.rows.len());
            for row in &group.rows {
                match row.validate(patient) {
                    Ok(obs) => batch.push(obs),
                    Err(e) => {
                        tracing::warn!(
                            version = group.version,
                            field = e.field,
                            "a pulled row is invalid; skipped"
                        );
                        report.skipped += 1;
                    }
                }
            }
            let source = SourceKind::Clinic { workstation_id: group.workstation_id };
            report.observations.add(observations::insert_batch(&mut tx, &source, &batch, now).await?);
        }
        sqlx::query("UPDATE sync_state SET pull_cursor = ? WHERE id = 1 AND pull_cursor < ?")
            .bind(page.cursor)
            .bind(page.cursor)
            .execute(&mut *tx)
            .await?;
        if report != PullReport::default() {
            let event = AuditEvent {
                actor: actor.to_owned(),
                action: "sync.pull",
                patient: None,
                detail: serde_json::json!({
                    "cursor": page.cursor,
                    "patients_added": report.patients_added,
                    "patients_updated": report.patients_updated,
                    "conflicts": report.conflicts,
                    "observations": report.observations.inserted,
                    "skipped": report.skipped,
                }),
            };
            super::audit_record(&mut tx, &event, now).await?;
        }
        tx.commit().await?;
        Ok(report)
    }
}

async fn apply_patient(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    change: &PulledChange,
    actor: &str,
    now: chrono::DateTime<chrono::Utc>,
    report: &mut PullReport,
) -> Result<(), StoreError> {
    let remote: Patient = match serde_json::from_value(change.payload.clone()) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(version = change.version, error = %e, "a pulled patient does not parse; skipped");
            report.skipped += 1;
            return Ok(());
        }
    };
    let Some(local) = patients::find(&mut **tx, &PatientRef::Id(remote.id)).await? else {
        let taken = patients::find(&mut **tx, &PatientRef::Mrn(remote.mrn.clone())).await?;
        if let Some(other) = taken {
            // Two workstations registered the same MRN as two patients: keep both, ask.
            conflict(tx, change, other.id.0, "mrn", Some(&other.mrn), Some(&remote.mrn), now).await?;
            report.conflicts += 1;
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO patients (id, mrn, name, birth_date, sex, consent_monitoring, consent_clinic_sync, \
             consent_research, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(remote.id.as_bytes().as_slice())
        .bind(&remote.mrn)
        .bind(&remote.name)
        .bind(remote.birth_date.map(|d| d.to_string()))
        .bind(remote.sex.as_str())
        .bind(remote.consent.monitoring)
        .bind(remote.consent.clinic_sync)
        .bind(remote.consent.research)
        .bind(time::to_ms(now))
        .bind(time::to_ms(now))
        .execute(&mut **tx)
        .await?;
        let note = format!("from the clinic server (workstation {})", change.workstation_id);
        super::consent::record(tx, remote.id, remote.consent, actor, Some(&note), now).await?;
        report.patients_added += 1;
        return Ok(());
    };
    // Three-way, field by field, against what the remote editor saw (`before`): a field the
    // remote did not change is left; one this workstation has not changed since is taken; one
    // changed on both sides to different values is a conflict: the local value stays and both
    // are kept for review. A message without `before` (a consent change, an older app) counts
    // as made against the local value when no local edit of the patient waits to be sent.
    let before: Option<Patient> =
        change.payload.get("before").and_then(|b| serde_json::from_value(b.clone()).ok());
    let pending: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outbox WHERE entity = 'patient' AND entity_id = ? AND sent_ms IS NULL",
    )
    .bind(remote.id.as_bytes().as_slice())
    .fetch_one(&mut **tx)
    .await?;
    let base = match before {
        Some(b) => b,
        None if pending == 0 => local.clone(),
        None => remote.clone(),
    };
    let fields = |p: &Patient| -> [(&'static str, String); 4] {
        [
            ("mrn", p.mrn.clone()),
            ("name", p.name.clone()),
            ("birth_date", fmt_date(p.birth_date)),
            ("sex", p.sex.as_str().to_owned()),
        ]
    };
    let mut merged = local.clone();
    let mut taken = 0;
    for ((field, local_value), ((_, remote_value), (_, base_value))) in
        fields(&local).into_iter().zip(fields(&remote).into_iter().zip(fields(&base)))
    {
        if remote_value == base_value || remote_value == local_value {
            continue;
        }
        if local_value == base_value {
            match field {
                "mrn" => merged.mrn.clone_from(&remote.mrn),
                "name" => merged.name.clone_from(&remote.name),
                "birth_date" => merged.birth_date = remote.birth_date,
                _ => merged.sex = remote.sex,
            }
            taken += 1;
        } else {
            conflict(tx, change, remote.id.0, field, Some(&local_value), Some(&remote_value), now).await?;
            report.conflicts += 1;
        }
    }
    if taken == 0 {
        return Ok(());
    }
    let remote = merged;
    let updated = sqlx::query(
        "UPDATE patients SET mrn = ?, name = ?, birth_date = ?, sex = ?, updated_ms = ? WHERE id = ?",
    )
    .bind(&remote.mrn)
    .bind(&remote.name)
    .bind(remote.birth_date.map(|d| d.to_string()))
    .bind(remote.sex.as_str())
    .bind(time::to_ms(now))
    .bind(remote.id.as_bytes().as_slice())
    .execute(&mut **tx)
    .await;
    match updated {
        Ok(_) => report.patients_updated += 1,
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            conflict(tx, change, remote.id.0, "mrn", Some(&local.mrn), Some(&remote.mrn), now).await?;
            report.conflicts += 1;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

fn fmt_date(date: Option<chrono::NaiveDate>) -> String {
    date.map(|d| d.to_string()).unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
async fn conflict(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    change: &PulledChange,
    entity_id: Uuid,
    field: &str,
    local: Option<&str>,
    remote: Option<&str>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sync_conflicts (entity, entity_id, field, local_value, remote_value, from_workstation, version, \
         created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&change.entity)
    .bind(entity_id.as_bytes().as_slice())
    .bind(field)
    .bind(local)
    .bind(remote)
    .bind(change.workstation_id.as_bytes().as_slice())
    .bind(change.version)
    .bind(time::to_ms(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Unresolved conflicts: (entity, entity id, field, local value, remote value).
pub(crate) async fn open_conflicts(
    executor: impl sqlx::SqliteExecutor<'_>,
) -> Result<Vec<(String, Uuid, String, Option<String>, Option<String>)>, StoreError> {
    let rows = sqlx::query(
        "SELECT entity, entity_id, field, local_value, remote_value FROM sync_conflicts WHERE resolved_ms IS NULL ORDER BY id",
    )
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|r| {
            let id: Vec<u8> = r.get("entity_id");
            Ok((
                r.get("entity"),
                Uuid::from_slice(&id)
                    .map_err(|e| StoreError::Corrupt { what: "conflict id", problem: e.to_string() })?,
                r.get("field"),
                r.get("local_value"),
                r.get("remote_value"),
            ))
        })
        .collect()
}

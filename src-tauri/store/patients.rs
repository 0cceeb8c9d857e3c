//! The patient aggregate.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqliteExecutor, Transaction};

use super::{StoreError, new_uuid, outbox, time};
use crate::domain::{Consent, NewPatient, Patient, PatientId, PatientRef, Sex};

const COLUMNS: &str =
    "id, mrn, name, birth_date, sex, consent_monitoring, consent_clinic_sync, consent_research, created_ms";

/// Inserts a patient, version 1 of their consent (recorded by `actor`) and, with clinic-sync
/// consent, its outbox message, inside the caller's transaction.
pub(crate) async fn insert(
    tx: &mut Transaction<'static, Sqlite>,
    new: &NewPatient,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<Patient, StoreError> {
    let patient = Patient {
        id: PatientId::from_uuid(new_uuid()),
        mrn: new.mrn().to_owned(),
        name: new.name().to_owned(),
        birth_date: new.birth_date(),
        sex: new.sex(),
        consent: new.consent(),
        // Stored at millisecond precision; keep the returned value equal to what a read gives.
        created_at: time::from_ms(time::to_ms(at))?,
    };
    let result = sqlx::query(
        "INSERT INTO patients (id, mrn, name, birth_date, sex, consent_monitoring, consent_clinic_sync, \
         consent_research, created_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(patient.id.as_bytes().as_slice())
    .bind(&patient.mrn)
    .bind(&patient.name)
    .bind(patient.birth_date.map(|d| d.to_string()))
    .bind(patient.sex.as_str())
    .bind(patient.consent.monitoring)
    .bind(patient.consent.clinic_sync)
    .bind(patient.consent.research)
    .bind(time::to_ms(at))
    .bind(time::to_ms(at))
    .execute(&mut **tx)
    .await;
    match result {
        Ok(_) => {}
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            return Err(StoreError::Duplicate { what: "a patient with MRN", value: patient.mrn });
        }
        Err(e) => return Err(e.into()),
    }
    super::consent::record(tx, patient.id, patient.consent, actor, Some("at registration"), at).await?;
    let payload = serde_json::to_value(&patient)
        .map_err(|e| StoreError::Corrupt { what: "patient", problem: e.to_string() })?;
    outbox::enqueue(tx, "patient", Some(patient.id.as_bytes()), Some(patient.id), "insert", &payload, at)
        .await?;
    Ok(patient)
}

/// Replaces a patient's editable fields (everything but id and creation time) and writes the
/// outbox message, inside the caller's transaction. A new MRN that another patient holds is
/// refused as a duplicate. Consent flags that differ from the stored ones are refused by the
/// store unless `consent::record` wrote them as the newest version first (migration 0011).
pub(crate) async fn update(
    tx: &mut Transaction<'static, Sqlite>,
    id: PatientId,
    fields: &NewPatient,
    at: DateTime<Utc>,
) -> Result<Patient, StoreError> {
    // What the editor saw: the clinic's other workstations merge field by field against it
    // (store/sync_pull.rs).
    let before = find(&mut **tx, &PatientRef::Id(id)).await?;
    let result = sqlx::query(
        "UPDATE patients SET mrn = ?, name = ?, birth_date = ?, sex = ?, consent_monitoring = ?, \
         consent_clinic_sync = ?, consent_research = ?, updated_ms = ? WHERE id = ?",
    )
    .bind(fields.mrn())
    .bind(fields.name())
    .bind(fields.birth_date().map(|d| d.to_string()))
    .bind(fields.sex().as_str())
    .bind(fields.consent().monitoring)
    .bind(fields.consent().clinic_sync)
    .bind(fields.consent().research)
    .bind(time::to_ms(at))
    .bind(id.as_bytes().as_slice())
    .execute(&mut **tx)
    .await;
    match result {
        Ok(done) if done.rows_affected() == 1 => {}
        Ok(_) => return Err(StoreError::Corrupt { what: "patient", problem: format!("{id} vanished") }),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            return Err(StoreError::Duplicate { what: "a patient with MRN", value: fields.mrn().to_owned() });
        }
        Err(e) => return Err(e.into()),
    }
    let patient = find(&mut **tx, &PatientRef::Id(id))
        .await?
        .ok_or_else(|| StoreError::Corrupt { what: "patient", problem: format!("{id} vanished") })?;
    let mut payload = serde_json::to_value(&patient)
        .map_err(|e| StoreError::Corrupt { what: "patient", problem: e.to_string() })?;
    if let (Some(object), Some(before)) = (payload.as_object_mut(), before) {
        let before = serde_json::to_value(&before)
            .map_err(|e| StoreError::Corrupt { what: "patient", problem: e.to_string() })?;
        object.insert("before".into(), before);
    }
    outbox::enqueue(tx, "patient", Some(patient.id.as_bytes()), Some(patient.id), "update", &payload, at)
        .await?;
    Ok(patient)
}

/// Finds a patient by id or MRN.
pub(crate) async fn find(
    executor: impl SqliteExecutor<'_>,
    reference: &PatientRef,
) -> Result<Option<Patient>, StoreError> {
    let row = match reference {
        PatientRef::Id(id) => {
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM patients WHERE id = ?")))
                .bind(id.as_bytes().as_slice())
                .fetch_optional(executor)
                .await?
        }
        PatientRef::Mrn(mrn) => {
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM patients WHERE mrn = ?")))
                .bind(mrn)
                .fetch_optional(executor)
                .await?
        }
    };
    row.as_ref().map(from_row).transpose()
}

/// Every patient, by name.
pub(crate) async fn list(executor: impl SqliteExecutor<'_>) -> Result<Vec<Patient>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM patients ORDER BY name, mrn")))
        .fetch_all(executor)
        .await?;
    rows.iter().map(from_row).collect()
}

pub(crate) fn patient_id(bytes: &[u8]) -> Result<PatientId, StoreError> {
    uuid::Uuid::from_slice(bytes)
        .map(PatientId::from_uuid)
        .map_err(|e| StoreError::Corrupt { what: "patient id", problem: e.to_string() })
}

fn from_row(row: &SqliteRow) -> Result<Patient, StoreError> {
    let corrupt = |problem: String| StoreError::Corrupt { what: "patient", problem };
    let id: Vec<u8> = row.get("id");
    let birth: Option<String> = row.get("birth_date");
    let sex: String = row.get("sex");
    Ok(Patient {
        id: patient_id(&id)?,
        mrn: row.get("mrn"),
        name: row.get("name"),
        birth_date: birth
            .map(|b| b.parse::<NaiveDate>().map_err(|e| corrupt(format!("birth_date {b}: {e}"))))
            .transpose()?,
        sex: sex.parse::<Sex>().map_err(|e| corrupt(e.to_string()))?,
        consent: Consent {
            monitoring: row.get("consent_monitoring"),
            clinic_sync: row.get("consent_clinic_sync"),
            research: row.get("consent_research"),
        },
        created_at: time::from_ms(row.get("created_ms"))?,
    })
}

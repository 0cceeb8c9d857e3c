//! The device aggregate.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqliteExecutor, Transaction};

use super::{StoreError, new_uuid, outbox, patients, time};
use crate::domain::{Device, DeviceId, DeviceKind, NewDevice};

/// Registers a device and its outbox message inside the caller's transaction.
pub(crate) async fn insert(
    tx: &mut Transaction<'static, Sqlite>,
    new: &NewDevice,
    at: DateTime<Utc>,
) -> Result<Device, StoreError> {
    if let Some(patient) = new.patient_id {
        if patients::find(&mut **tx, &crate::domain::PatientRef::Id(patient)).await?.is_none() {
            return Err(StoreError::UnknownPatient(patient));
        }
    }
    let device = Device {
        id: DeviceId::from_uuid(new_uuid()),
        kind: new.kind,
        make: new.make.clone(),
        model: new.model.clone(),
        serial: new.serial.clone(),
        ble_address: new.ble_address.clone(),
        patient_id: new.patient_id,
    };
    let result = sqlx::query(
        "INSERT INTO devices (id, kind, make, model, serial, ble_address, patient_id, created_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(device.id.as_bytes().as_slice())
    .bind(device.kind.as_str())
    .bind(&device.make)
    .bind(&device.model)
    .bind(&device.serial)
    .bind(&device.ble_address)
    .bind(device.patient_id.map(|p| p.as_bytes().to_vec()))
    .bind(time::to_ms(at))
    .execute(&mut **tx)
    .await;
    match result {
        Ok(_) => {}
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            return Err(StoreError::Duplicate {
                what: "a device with BLE address",
                value: device.ble_address.unwrap_or_default(),
            });
        }
        Err(e) => return Err(e.into()),
    }
    let payload = serde_json::to_value(&device)
        .map_err(|e| StoreError::Corrupt { what: "device", problem: e.to_string() })?;
    // A device assigned to a patient without clinic-sync consent is not sent: its assignment is
    // that patient's data.
    outbox::enqueue(tx, "device", Some(device.id.as_bytes()), device.patient_id, "insert", &payload, at)
        .await?;
    Ok(device)
}

/// Every device, by kind then make.
pub(crate) async fn list(executor: impl SqliteExecutor<'_>) -> Result<Vec<Device>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, kind, make, model, serial, ble_address, patient_id FROM devices ORDER BY kind, make, model",
    )
    .fetch_all(executor)
    .await?;
    rows.iter().map(from_row).collect()
}

fn from_row(row: &SqliteRow) -> Result<Device, StoreError> {
    let corrupt = |problem: String| StoreError::Corrupt { what: "device", problem };
    let id: Vec<u8> = row.get("id");
    let kind: String = row.get("kind");
    let patient: Option<Vec<u8>> = row.get("patient_id");
    Ok(Device {
        id: DeviceId::from_uuid(uuid::Uuid::from_slice(&id).map_err(|e| corrupt(e.to_string()))?),
        kind: kind.parse::<DeviceKind>().map_err(|e| corrupt(e.to_string()))?,
        make: row.get("make"),
        model: row.get("model"),
        serial: row.get("serial"),
        ble_address: row.get("ble_address"),
        patient_id: patient.map(|p| patients::patient_id(&p)).transpose()?,
    })
}

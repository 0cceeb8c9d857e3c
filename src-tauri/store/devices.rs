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

/// A device with what its links last reported (migration 0012).
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceRecord {
    /// The registered device.
    pub device: Device,
    /// Its advertised name.
    pub name: Option<String>,
    /// Firmware revision.
    pub firmware: Option<String>,
    /// Battery level, %.
    pub battery_pct: Option<u8>,
    /// When it last sent a value, ms.
    pub last_seen_ms: Option<i64>,
    /// Receive time minus device time, ms, as last estimated.
    pub clock_offset_ms: Option<i64>,
    /// A multi-user device's users: (user index, patient).
    pub users: Vec<(u8, crate::domain::PatientId)>,
}

const RECORD_COLUMNS: &str = "id, kind, make, model, serial, ble_address, patient_id, name, firmware, battery_pct, last_seen_ms, clock_offset_ms";

/// Every device with its link state, by kind then make.
pub(crate) async fn records(tx: &mut Transaction<'static, Sqlite>) -> Result<Vec<DeviceRecord>, StoreError> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM devices ORDER BY kind, make, model, ble_address");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&mut **tx).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        out.push(record_from_row(tx, row).await?);
    }
    Ok(out)
}

/// The device with this BLE address (upper case) or id.
pub(crate) async fn record(
    tx: &mut Transaction<'static, Sqlite>,
    device: &DeviceRef,
) -> Result<Option<DeviceRecord>, StoreError> {
    let row = match device {
        DeviceRef::Id(id) => {
            let sql = format!("SELECT {RECORD_COLUMNS} FROM devices WHERE id = ?");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(id.as_bytes().as_slice())
                .fetch_optional(&mut **tx)
                .await?
        }
        DeviceRef::Address(address) => {
            let sql = format!("SELECT {RECORD_COLUMNS} FROM devices WHERE ble_address = ?");
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(address.to_ascii_uppercase())
                .fetch_optional(&mut **tx)
                .await?
        }
    };
    match row {
        Some(row) => Ok(Some(record_from_row(tx, &row).await?)),
        None => Ok(None),
    }
}

async fn record_from_row(
    tx: &mut Transaction<'static, Sqlite>,
    row: &SqliteRow,
) -> Result<DeviceRecord, StoreError> {
    let device = from_row(row)?;
    let users = sqlx::query(
        "SELECT user_index, patient_id FROM device_users WHERE device_id = ? ORDER BY user_index",
    )
    .bind(device.id.as_bytes().as_slice())
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        let index = u8::try_from(r.get::<i64, _>("user_index"))
            .map_err(|e| StoreError::Corrupt { what: "device user", problem: e.to_string() })?;
        Ok((index, patients::patient_id(r.get::<&[u8], _>("patient_id"))?))
    })
    .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(DeviceRecord {
        device,
        name: row.get("name"),
        firmware: row.get("firmware"),
        battery_pct: row
            .get::<Option<i64>, _>("battery_pct")
            .and_then(|b| u8::try_from(b.clamp(0, 100)).ok()),
        last_seen_ms: row.get("last_seen_ms"),
        clock_offset_ms: row.get("clock_offset_ms"),
        users,
    })
}

/// How a device is named: by id or by its BLE address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceRef {
    /// Its id.
    Id(DeviceId),
    /// Its BLE address, any case.
    Address(String),
}

impl std::fmt::Display for DeviceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceRef::Id(id) => write!(f, "{id}"),
            DeviceRef::Address(a) => f.write_str(a),
        }
    }
}

impl std::str::FromStr for DeviceRef {
    type Err = std::convert::Infallible;
    /// A UUID is an id; anything else an address.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match uuid::Uuid::parse_str(s.trim()) {
            Ok(u) => DeviceRef::Id(DeviceId::from_uuid(u)),
            Err(_) => DeviceRef::Address(s.trim().to_ascii_uppercase()),
        })
    }
}

/// Assigns the device to `patient` (or to nobody) with its outbox message.
pub(crate) async fn assign(
    tx: &mut Transaction<'static, Sqlite>,
    device: &Device,
    patient: Option<crate::domain::PatientId>,
    at: DateTime<Utc>,
) -> Result<Device, StoreError> {
    sqlx::query("UPDATE devices SET patient_id = ? WHERE id = ?")
        .bind(patient.map(|p| p.as_bytes().to_vec()))
        .bind(device.id.as_bytes().as_slice())
        .execute(&mut **tx)
        .await?;
    let updated = Device { patient_id: patient, ..device.clone() };
    let payload = serde_json::to_value(&updated)
        .map_err(|e| StoreError::Corrupt { what: "device", problem: e.to_string() })?;
    // The message names the new patient, or the old one when unassigned: either way the
    // assignment is that patient's data and follows their clinic-sync consent.
    let named = patient.or(device.patient_id);
    outbox::enqueue(tx, "device", Some(updated.id.as_bytes()), named, "update", &payload, at).await?;
    Ok(updated)
}

/// Maps (or, with `None`, unmaps) a multi-user device's user index to a patient.
pub(crate) async fn set_user(
    tx: &mut Transaction<'static, Sqlite>,
    device: DeviceId,
    user_index: u8,
    patient: Option<crate::domain::PatientId>,
) -> Result<(), StoreError> {
    match patient {
        Some(p) => {
            sqlx::query(
                "INSERT INTO device_users (device_id, user_index, patient_id) VALUES (?, ?, ?) \
                 ON CONFLICT (device_id, user_index) DO UPDATE SET patient_id = excluded.patient_id",
            )
            .bind(device.as_bytes().as_slice())
            .bind(i64::from(user_index))
            .bind(p.as_bytes().as_slice())
            .execute(&mut **tx)
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM device_users WHERE device_id = ? AND user_index = ?")
                .bind(device.as_bytes().as_slice())
                .bind(i64::from(user_index))
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// What a link reported about its device; `None` fields are left as they are.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkReport {
    /// Advertised name.
    pub name: Option<String>,
    /// Firmware revision.
    pub firmware: Option<String>,
    /// Manufacturer Name String (Device Information 0x2A29).
    pub manufacturer: Option<String>,
    /// Model Number String (0x2A24).
    pub model: Option<String>,
    /// Serial Number String (0x2A25).
    pub serial: Option<String>,
    /// Battery level, %.
    pub battery_pct: Option<u8>,
    /// Newest value received, ms.
    pub last_seen_ms: Option<i64>,
    /// Receive time minus device time, ms.
    pub clock_offset_ms: Option<i64>,
}

/// Keeps what a link reported.
pub(crate) async fn note_link(
    tx: &mut Transaction<'static, Sqlite>,
    device: DeviceId,
    report: &LinkReport,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE devices SET name = COALESCE(?, name), firmware = COALESCE(?, firmware), \
         make = COALESCE(?, make), model = COALESCE(?, model), serial = COALESCE(?, serial), \
         battery_pct = COALESCE(?, battery_pct), last_seen_ms = MAX(COALESCE(?, last_seen_ms), COALESCE(last_seen_ms, 0)), \
         clock_offset_ms = COALESCE(?, clock_offset_ms) WHERE id = ?",
    )
    .bind(&report.name)
    .bind(&report.firmware)
    .bind(&report.manufacturer)
    .bind(&report.model)
    .bind(&report.serial)
    .bind(report.battery_pct.map(i64::from))
    .bind(report.last_seen_ms)
    .bind(report.clock_offset_ms)
    .bind(device.as_bytes().as_slice())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

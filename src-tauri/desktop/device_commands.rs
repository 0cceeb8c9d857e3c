//! The Devices screen's commands (issue 13): the registry with each device's live state, a
//! scan, pairing, connecting a device into the window's feed (`devices.rs`), disconnecting it,
//! and assigning it to a patient. Each acts as the signed-in person: the registry through the
//! facade, the radio (scan, pair, connect) only for someone who may register devices. Without
//! a Bluetooth adapter the answer is the reason, in words.

use std::time::Duration;

use tauri::State;

use super::AppState;
use super::commands::words;
use super::devices::{is_demo_strap, link_start, replay_forever};
use crate::ble::link::Advert;
use crate::ble::link::bluez::{self, Bluetooth, BluezLink};
use crate::domain::PatientRef;
use crate::domain::access::Operation;
use crate::store::{DeviceRecord, DeviceRef};
use crate::workstation::LiveDevice;

type Reply<T> = Result<T, String>;

/// How long the Devices screen's scan listens.
const SCAN: Duration = Duration::from_secs(5);
/// How long pairing waits for the device.
const PAIR: Duration = Duration::from_secs(60);
/// How long connecting looks for a device the adapter has not seen yet.
const FIND: Duration = Duration::from_secs(10);

/// A registered device, as the Devices screen lists it.
#[derive(Debug, Clone, serde::Serialize, specta::Type)]
pub(crate) struct DeviceRow {
    /// Its id.
    pub id: String,
    /// What it measures (`heart_rate_monitor`, `pulse_oximeter`, ...).
    pub kind: String,
    /// Its advertised name, if it gave one.
    pub name: Option<String>,
    /// Manufacturer.
    pub make: String,
    /// Model.
    pub model: String,
    /// Its BLE address.
    pub address: Option<String>,
    /// The patient it is assigned to (id), if any.
    pub patient_id: Option<String>,
    /// Battery, %, as last read.
    pub battery_pct: Option<u8>,
    /// When it last sent a value (ms since the epoch).
    pub last_seen_ms: Option<f64>,
    /// Firmware revision.
    pub firmware: Option<String>,
}

impl From<&DeviceRecord> for DeviceRow {
    fn from(r: &DeviceRecord) -> Self {
        #[allow(clippy::cast_precision_loss)] // milliseconds since 1970 stay far below 2^53
        let last_seen_ms = r.last_seen_ms.map(|ms| ms as f64);
        Self {
            id: r.device.id.to_string(),
            kind: r.device.kind.as_str().to_owned(),
            name: r.name.clone(),
            make: r.device.make.clone(),
            model: r.device.model.clone(),
            address: r.device.ble_address.clone(),
            patient_id: r.device.patient_id.map(|p| p.to_string()),
            battery_pct: r.battery_pct,
            last_seen_ms,
            firmware: r.firmware.clone(),
        }
    }
}

/// The Devices screen: every registered device, and the live state of those streaming.
#[derive(Debug, Clone, serde::Serialize, specta::Type)]
pub(crate) struct DevicesState {
    /// Registered devices.
    pub devices: Vec<DeviceRow>,
    /// Devices the window streams (by `device_id`).
    pub live: Vec<LiveDevice>,
}

/// A device a scan heard.
#[derive(Debug, Clone, serde::Serialize, specta::Type)]
pub(crate) struct NearbyDevice {
    /// Its address.
    pub address: String,
    /// Its advertised name.
    pub name: Option<String>,
    /// Signal strength, dBm.
    pub rssi: Option<i16>,
    /// What its health services measure (`heart_rate_monitor`, ...).
    pub kinds: Vec<String>,
}

fn device_ref(device: &str) -> DeviceRef {
    device.parse().unwrap_or_else(|never: std::convert::Infallible| match never {})
}

/// The registry and the live devices.
#[tauri::command]
#[specta::specta]
pub(crate) async fn devices_state(state: State<'_, AppState>) -> Reply<DevicesState> {
    let records = state.workstation()?.device_records().await.map_err(words)?;
    Ok(DevicesState { devices: records.iter().map(DeviceRow::from).collect(), live: state.devices.live() })
}

/// Listens for health devices for 5 s.
#[tauri::command]
#[specta::specta]
pub(crate) async fn scan_devices(state: State<'_, AppState>) -> Reply<Vec<NearbyDevice>> {
    state.workstation()?.authorize(Operation::DeviceAdd).await.map_err(words)?;
    let bt = Bluetooth::open().await.map_err(words)?;
    let found = bt.scan(SCAN).await.map_err(words)?;
    Ok(found
        .into_iter()
        .map(|a| NearbyDevice {
            kinds: a.kinds().iter().map(|k| k.as_str().to_owned()).collect(),
            address: a.address,
            name: a.name,
            rssi: a.rssi,
        })
        .collect())
}

/// Pairs (bonds) with a device that needs it (cuffs, scales, glucose meters often do).
#[tauri::command]
#[specta::specta]
pub(crate) async fn pair_device(state: State<'_, AppState>, address: String) -> Reply<()> {
    state.workstation()?.authorize(Operation::DeviceAdd).await.map_err(words)?;
    bluez::pair(address.trim(), PAIR).await.map_err(words)
}

/// Connects the device at `address` (registering it first if it is new) and streams it into
/// the store. On a demo store the DEMO strap's address plays its recording.
#[tauri::command]
#[specta::specta]
pub(crate) async fn connect_device(state: State<'_, AppState>, address: String) -> Reply<DeviceRow> {
    let ws = state.workstation()?;
    if let Some(recording) = is_demo_strap(ws, &address).await? {
        let record =
            ws.device_record(&DeviceRef::Address(recording.device.address.clone())).await.map_err(words)?;
        let row = DeviceRow::from(&record);
        let id = record.device.id;
        state.devices.start(record, replay_forever(recording, id)).await?;
        return Ok(row);
    }
    ws.authorize(Operation::DeviceAdd).await.map_err(words)?;
    let (link, advert) = open_link(address.trim().to_owned()).await?;
    let new = advert.new_device()?;
    let record = ws.device_for_link(new).await.map_err(words)?;
    let row = DeviceRow::from(&record);
    let id = record.device.id;
    state.devices.start(record, link_start(link, id)).await?;
    Ok(row)
}

/// Finds the device and what it advertises. `BluezLink::advert` borrows a link that is `Send`
/// but not `Sync` across an await, so this runs on a blocking thread of its own.
async fn open_link(address: String) -> Reply<(BluezLink, Advert)> {
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        runtime.block_on(async move {
            let bt = Bluetooth::open().await.map_err(words)?;
            let link = bt.link(&address, FIND).await.map_err(words)?;
            let advert = link.advert().await;
            Ok((link, advert))
        })
    })
    .await
    .map_err(|e| format!("connecting stopped: {e}"))?
}

/// Ends a device's session (it stays registered and assigned).
#[tauri::command]
#[specta::specta]
pub(crate) async fn disconnect_device(state: State<'_, AppState>, device: String) -> Reply<()> {
    let record = state.workstation()?.device_record(&device_ref(&device)).await.map_err(words)?;
    state.devices.stop(record.device.id).await
}

/// Assigns a device (id or address) to a patient (id or MRN).
#[tauri::command]
#[specta::specta]
pub(crate) async fn assign_device(state: State<'_, AppState>, device: String, patient: String) -> Reply<()> {
    let patient = PatientRef::parse(&patient);
    state.workstation()?.assign_device(&device_ref(&device), Some(&patient)).await.map(drop).map_err(words)
}

/// Takes a device off its patient.
#[tauri::command]
#[specta::specta]
pub(crate) async fn unassign_device(state: State<'_, AppState>, device: String) -> Reply<()> {
    state.workstation()?.assign_device(&device_ref(&device), None).await.map(drop).map_err(words)
}

//! The window's device feed (issue 13): one task, started with the window, owns the
//! [`DeviceFeed`] of every device the window streams. It records through the `service` handle
//! (`system:monitor`), so devices keep streaming while the session is locked, as the monitor
//! keeps watching. Each second it commits what arrived; after a flush that stored something it
//! runs the window's monitor pass (the alerts are announced as usual), and whenever a device's
//! live state changed it tells the screens with [`DevicesChanged`], which carries no patient
//! value, name or MRN: the Devices screen and the open patient read again through their
//! authorized commands.
//!
//! On a demo store the DEMO heart-rate strap (registered by `vigil demo`) is replayed from its
//! bundled recording at real time, in a loop, while it is assigned to a patient; never on a
//! clinical store. The commands are in `device_commands.rs`.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use chrono::Utc;
use tauri::{AppHandle, Manager};
use tauri_specta::Event;
use tokio::sync::{mpsc, watch};

use super::AppState;
use crate::ble::link::replay::{Recording, ReplayLink};
use crate::ble::link::session::SessionEvent;
use crate::domain::DeviceId;
use crate::store::{DeviceRecord, DeviceRef};
use crate::workstation::{DeviceFeed, LiveDevice, StorePurpose, Workstation, health_session, spawn_link};

/// A device's session events, tagged with the device.
pub(crate) type Events = mpsc::Sender<(DeviceId, SessionEvent)>;
/// Starts a device's link: given where its events go and the switch that stops it.
pub(crate) type Start = Box<dyn FnOnce(Events, watch::Receiver<bool>) + Send>;

/// Sent to the window when a device's live state changed (every second while one streams).
#[derive(Debug, Clone, serde::Serialize, specta::Type, Event)]
pub(crate) struct DevicesChanged {
    /// Each streaming device's link, battery and counts: no patient data.
    pub live: Vec<LiveDevice>,
    /// Whether this second stored readings (the open patient's screen reads them again).
    pub stored: bool,
}

enum Control {
    Start { record: Box<DeviceRecord>, start: Start },
    Stop(DeviceId),
}

/// The commands' side of the feed.
#[derive(Default)]
pub(crate) struct Devices {
    control: OnceLock<mpsc::Sender<Control>>,
    live: Mutex<Vec<LiveDevice>>,
}

impl Devices {
    /// Every streamed device's live state, as of the last second.
    pub(crate) fn live(&self) -> Vec<LiveDevice> {
        self.live.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Streams `record`'s device from the link `start` opens (its previous session, if any,
    /// is stopped first).
    pub(crate) async fn start(&self, record: DeviceRecord, start: Start) -> Result<(), String> {
        self.send(Control::Start { record: Box::new(record), start }).await
    }

    /// Ends `device`'s session.
    pub(crate) async fn stop(&self, device: DeviceId) -> Result<(), String> {
        self.send(Control::Stop(device)).await
    }

    async fn send(&self, control: Control) -> Result<(), String> {
        let feed =
            self.control.get().ok_or("the device feed is not running (the store could not be opened)")?;
        feed.send(control).await.map_err(|_| "the device feed has stopped".to_owned())
    }
}

/// The feed task: runs until the window closes.
pub(crate) async fn run(handle: AppHandle) {
    let state = handle.state::<AppState>();
    let Ok(ws) = state.service() else { return };
    let (control_tx, mut control) = mpsc::channel(16);
    if state.devices.control.set(control_tx.clone()).is_err() {
        return;
    }
    match demo_strap(ws).await {
        Ok(Some((record, start))) => {
            let _ = control_tx.send(Control::Start { record: Box::new(record), start }).await;
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "the DEMO strap could not start"),
    }
    drop(control_tx);
    let (events_tx, mut events) = mpsc::channel(1024);
    let mut feed = DeviceFeed::default();
    let mut stops: HashMap<DeviceId, watch::Sender<bool>> = HashMap::new();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sent: Option<Vec<LiveDevice>> = None;
    let mut failing = false;
    loop {
        tokio::select! {
            Some(c) = control.recv() => {
                match c {
                    Control::Start { record, start } => {
                        if let Some(old) = stops.remove(&record.device.id) {
                            let _ = old.send(true);
                        }
                        feed.watch(&record);
                        let (stop_tx, stop_rx) = watch::channel(false);
                        stops.insert(record.device.id, stop_tx);
                        start(events_tx.clone(), stop_rx);
                    }
                    Control::Stop(id) => {
                        if let Some(stop) = stops.remove(&id) {
                            let _ = stop.send(true);
                        }
                    }
                }
                continue;
            }
            Some((device, event)) = events.recv() => {
                feed.take(device, event);
                continue;
            }
            _ = tick.tick() => {}
        }
        let stored = match feed.flush(ws).await {
            Ok(report) => {
                failing = false;
                report.stored > 0
            }
            Err(e) => {
                if !failing {
                    tracing::warn!(error = %e, "the device feed could not store; retrying every second");
                }
                failing = true;
                false
            }
        };
        if stored {
            if let Err(e) = super::live::pass(&handle).await {
                tracing::debug!(error = %e, "no monitor pass after the device feed's flush");
            }
        }
        let live = feed.live();
        if stored || sent.as_ref() != Some(&live) {
            if let Ok(mut shown) = state.devices.live.lock() {
                shown.clone_from(&live);
            }
            if let Err(e) = (DevicesChanged { live: live.clone(), stored }).emit(&handle) {
                tracing::debug!(error = %e, "the window could not be told of its devices");
            }
            sent = Some(live);
        }
    }
}

/// On a demo store, the DEMO strap when it is registered and assigned: its record and its
/// replay. Nothing on a clinical store.
async fn demo_strap(ws: &Workstation) -> Result<Option<(DeviceRecord, Start)>, String> {
    if ws.purpose().await.map_err(|e| e.to_string())? != StorePurpose::Demo {
        return Ok(None);
    }
    let recording = crate::ble::demo_recording().map_err(|e| e.to_string())?;
    let reference = DeviceRef::Address(recording.device.address.clone());
    let record = match ws.device_record(&reference).await {
        Ok(r) => r,
        Err(crate::workstation::Error::DeviceNotFound(_)) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    if record.device.patient_id.is_none() {
        tracing::info!(
            "the DEMO strap is assigned to nobody: not replayed (Devices screen: assign, then Connect)"
        );
        return Ok(None);
    }
    let id = record.device.id;
    Ok(Some((record, replay_forever(recording, id))))
}

/// Whether `address` is the DEMO strap's on this store (demo stores only).
pub(crate) async fn is_demo_strap(ws: &Workstation, address: &str) -> Result<Option<Recording>, String> {
    if ws.purpose().await.map_err(|e| e.to_string())? != StorePurpose::Demo {
        return Ok(None);
    }
    let recording = crate::ble::demo_recording().map_err(|e| e.to_string())?;
    Ok(recording.device.address.eq_ignore_ascii_case(address.trim()).then_some(recording))
}

/// Plays `recording` at real time as `device`, again from "now" each time it ends, until
/// stopped.
pub(crate) fn replay_forever(recording: Recording, device: DeviceId) -> Start {
    Box::new(move |events, stop| {
        tokio::spawn(async move {
            loop {
                let link = ReplayLink::new(recording.clone(), Utc::now(), 1.0);
                let session = spawn_link(link, device, health_session(), events.clone(), stop.clone());
                if let Ok(Err(e)) = session.await {
                    tracing::warn!(error = %e, "the DEMO strap's replay failed");
                    break;
                }
                if *stop.borrow() {
                    break;
                }
                // The recording ended: it starts again, a second later.
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    })
}

/// Streams a live link: the session runs on its own task until stopped.
pub(crate) fn link_start<L: crate::ble::link::Link + 'static>(link: L, device: DeviceId) -> Start {
    Box::new(move |events, stop| {
        let session = spawn_link(link, device, health_session(), events, stop);
        tokio::spawn(async move {
            if let Ok(Err(e)) = session.await {
                tracing::info!(error = %e, "a device session ended");
            }
        });
    })
}

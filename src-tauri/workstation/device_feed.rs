//! Live devices into the store (issue 13): the sessions' values are decoded, placed in time,
//! given to their patients, and stored in one transaction a second
//! ([`Workstation::record_device_values`]); the caller then runs the monitor, which assesses
//! them like any other reading. Duplicates (a reconnect that resends) are dropped by content.
//!
//! [`DeviceFeed`] is the state (per device: its patient, clock, link state and counts);
//! [`run`] is the loop the CLI and the window drive it with.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use super::{BatchOutcome, DeviceBatch, Error, Workstation};
use crate::ble::assemble::{Assembled, Assignment, DeviceClock, assemble};
use crate::ble::gatt::{Characteristic, DeviceInfo, decode};
use crate::ble::link::session::{self, SessionConfig, SessionEvent};
use crate::ble::link::{Link, LinkError};
use crate::domain::{Device, DeviceId};
use crate::store::{DeviceRecord, LinkReport};

/// How often values are committed.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// How often assignments are read again (a device assigned while it streams).
const REFRESH_EVERY: Duration = Duration::from_secs(10);

/// A device's link as the Devices screen shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "desktop", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum LinkState {
    /// Connecting, or waiting to retry.
    Connecting,
    /// Connected and streaming.
    Connected,
    /// Dropped; reconnecting.
    Reconnecting,
    /// The session is over.
    Ended,
}

/// One device's live state and counts since the feed began.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "desktop", derive(specta::Type))]
pub struct LiveDevice {
    /// The device's id.
    pub device_id: String,
    /// Its link.
    pub state: LinkState,
    /// Battery, %, as last read.
    pub battery_pct: Option<u8>,
    /// When its newest value arrived (RFC 3339).
    pub last_value: Option<String>,
    /// Values received.
    pub values: u32,
    /// Readings stored.
    pub stored: u32,
    /// Readings already stored (resent), dropped.
    pub duplicates: u32,
    /// Readings held back (no skin contact, unmapped user, no consent, malformed value...).
    pub held: u32,
    /// The latest problem (a drop, a refused batch, a malformed value), in words.
    pub problem: Option<String>,
}

struct Fed {
    device: Device,
    assignment: Assignment,
    clock: DeviceClock,
    live: LiveDevice,
    pending: Vec<crate::domain::NewObservation>,
    report: LinkReport,
    /// Received times of the pending values (for the latency figures).
    received: Vec<DateTime<Utc>>,
    since_connect: (u32, u32),
}

/// What one flush did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlushReport {
    /// Readings stored.
    pub stored: u64,
    /// Duplicates dropped.
    pub duplicates: u64,
    /// Milliseconds from each stored value's arrival to its commit.
    pub latencies_ms: Vec<i64>,
    /// When the flush committed (none when it had nothing to store).
    pub committed_at: Option<DateTime<Utc>>,
}

/// The live devices' state (module docs).
#[derive(Default)]
pub struct DeviceFeed {
    devices: BTreeMap<DeviceId, Fed>,
    audits: Vec<(DeviceId, &'static str, serde_json::Value)>,
    refreshed: Option<Instant>,
}

impl DeviceFeed {
    /// Starts following `record`'s device.
    pub fn watch(&mut self, record: &DeviceRecord) {
        let live = LiveDevice {
            device_id: record.device.id.to_string(),
            state: LinkState::Connecting,
            battery_pct: record.battery_pct,
            last_value: None,
            values: 0,
            stored: 0,
            duplicates: 0,
            held: 0,
            problem: None,
        };
        self.devices.insert(
            record.device.id,
            Fed {
                device: record.device.clone(),
                assignment: assignment_of(record),
                clock: DeviceClock { offset_ms: record.clock_offset_ms },
                live,
                pending: Vec::new(),
                report: LinkReport::default(),
                received: Vec::new(),
                since_connect: (0, 0),
            },
        );
    }

    /// Every followed device's live state.
    pub fn live(&self) -> Vec<LiveDevice> {
        self.devices.values().map(|f| f.live.clone()).collect()
    }

    /// Whether every followed device's session has ended.
    pub fn all_ended(&self) -> bool {
        self.devices.values().all(|f| f.live.state == LinkState::Ended)
    }

    /// Takes one session event of `device` (decoding a value, queueing its readings).
    pub fn take(&mut self, device: DeviceId, event: SessionEvent) {
        let Some(fed) = self.devices.get_mut(&device) else { return };
        match event {
            SessionEvent::Connected { attempt } => {
                fed.live.state = LinkState::Connected;
                fed.live.problem = None;
                fed.since_connect = (0, 0);
                self.audits.push((device, "device.connected", serde_json::json!({ "attempt": attempt })));
            }
            SessionEvent::Retrying { problem, after } => {
                fed.live.problem = Some(format!("{problem}; retrying in {} s", after.as_secs().max(1)));
            }
            SessionEvent::Dropped { problem } => {
                fed.live.state = LinkState::Reconnecting;
                self.audits.push((device, "device.disconnected", disconnected(fed, Some(&problem))));
                fed.live.problem = Some(problem);
            }
            SessionEvent::Ended { problem } => {
                if fed.live.state == LinkState::Connected {
                    self.audits.push((device, "device.disconnected", disconnected(fed, problem.as_deref())));
                }
                fed.live.state = LinkState::Ended;
                if problem.is_some() {
                    fed.live.problem = problem;
                }
            }
            SessionEvent::Value(n) => {
                fed.live.values += 1;
                fed.since_connect.0 += 1;
                fed.live.last_value = Some(n.received.to_rfc3339());
                fed.report.last_seen_ms = Some(n.received.timestamp_millis());
                let Some(characteristic) = Characteristic::from_uuid(n.characteristic) else { return };
                match decode(characteristic, &n.value) {
                    Ok(decoded) => {
                        match decoded.info {
                            Some(DeviceInfo::Battery(pct)) => {
                                fed.live.battery_pct = Some(pct.min(100));
                                fed.report.battery_pct = Some(pct.min(100));
                            }
                            Some(DeviceInfo::Firmware(ref f)) => fed.report.firmware = Some(f.clone()),
                            Some(DeviceInfo::Manufacturer(ref m)) => {
                                fed.report.manufacturer = Some(m.clone())
                            }
                            Some(DeviceInfo::Model(ref m)) => fed.report.model = Some(m.clone()),
                            Some(DeviceInfo::Serial(ref s)) => fed.report.serial = Some(s.clone()),
                            _ => {}
                        }
                        let Assembled { observations, held } =
                            assemble(&decoded, n.received, &mut fed.clock, &fed.assignment);
                        fed.report.clock_offset_ms = fed.clock.offset_ms;
                        if let Some(reason) = held.last() {
                            fed.live.held = fed.live.held.saturating_add(count(held.len()));
                            fed.live.problem = Some(reason.clone());
                            tracing::debug!(device = %device, held = held.len(), "readings held back");
                        }
                        fed.received.extend(std::iter::repeat_n(n.received, observations.len()));
                        fed.pending.extend(observations);
                    }
                    Err(e) => {
                        fed.live.held += 1;
                        fed.live.problem = Some(e.to_string());
                        tracing::warn!(device = %device, error = %e, "a device sent a malformed value");
                    }
                }
            }
        }
    }

    /// Commits every pending reading in one transaction, then the queued audit events.
    pub async fn flush(&mut self, ws: &Workstation) -> Result<FlushReport, Error> {
        if self.refreshed.is_none_or(|t| t.elapsed() >= REFRESH_EVERY) {
            self.refreshed = Some(Instant::now());
            for record in ws.device_records().await? {
                if let Some(fed) = self.devices.get_mut(&record.device.id) {
                    fed.assignment = assignment_of(&record);
                    fed.device = record.device;
                }
            }
        }
        let mut batches = Vec::new();
        let mut received: HashMap<DeviceId, Vec<DateTime<Utc>>> = HashMap::new();
        for (id, fed) in &mut self.devices {
            if fed.pending.is_empty() && fed.report == LinkReport::default() {
                continue;
            }
            received.insert(*id, std::mem::take(&mut fed.received));
            batches.push(DeviceBatch {
                device: *id,
                observations: std::mem::take(&mut fed.pending),
                report: std::mem::take(&mut fed.report),
            });
        }
        let mut report = FlushReport::default();
        if !batches.is_empty() {
            let outcomes = ws.record_device_values(&batches).await?;
            let committed = Utc::now();
            report.committed_at = Some(committed);
            for (batch, outcome) in batches.iter().zip(outcomes) {
                let Some(fed) = self.devices.get_mut(&batch.device) else { continue };
                match outcome {
                    BatchOutcome::Stored(r) => {
                        fed.live.stored = fed.live.stored.saturating_add(count(r.inserted));
                        fed.live.duplicates = fed.live.duplicates.saturating_add(count(r.duplicates));
                        fed.since_connect.1 = fed.since_connect.1.saturating_add(count(r.inserted));
                        report.stored += r.inserted;
                        report.duplicates += r.duplicates;
                        report.latencies_ms.extend(
                            received
                                .get(&batch.device)
                                .into_iter()
                                .flatten()
                                .map(|t| (committed - *t).num_milliseconds()),
                        );
                    }
                    BatchOutcome::Refused(reason) => {
                        tracing::warn!(device = %batch.device, readings = batch.observations.len(), %reason, "device readings refused");
                        fed.live.held = fed.live.held.saturating_add(count(batch.observations.len()));
                        fed.live.problem = Some(reason);
                    }
                }
            }
        }
        for (id, action, detail) in std::mem::take(&mut self.audits) {
            if let Some(fed) = self.devices.get(&id) {
                ws.audit_device_link(&fed.device, action, detail).await?;
            }
        }
        Ok(report)
    }
}

/// A count for the screen (u32: the TypeScript side has no 64-bit integers), saturating.
fn count<N: TryInto<u32>>(n: N) -> u32 {
    n.try_into().unwrap_or(u32::MAX)
}

fn assignment_of(record: &DeviceRecord) -> Assignment {
    Assignment { patient: record.device.patient_id, users: record.users.iter().copied().collect() }
}

fn disconnected(fed: &Fed, problem: Option<&str>) -> serde_json::Value {
    serde_json::json!({ "values": fed.since_connect.0, "stored": fed.since_connect.1, "problem": problem })
}

/// Drives `feed` from `events` (each tagged with its device): values are committed every
/// [`FLUSH_EVERY`], and `after` runs after each flush that stored something (the caller's
/// monitor pass, the window's refresh). Returns when every sender is gone and the last values
/// are committed.
pub async fn run<F>(
    ws: &Workstation,
    feed: &mut DeviceFeed,
    mut events: mpsc::Receiver<(DeviceId, SessionEvent)>,
    mut after: F,
) -> Result<FlushReport, Error>
where
    F: AsyncFnMut(&DeviceFeed, &FlushReport) -> Result<(), Error>,
{
    let mut total = FlushReport::default();
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut open = true;
    while open {
        tokio::select! {
            event = events.recv() => match event {
                Some((device, event)) => {
                    feed.take(device, event);
                    continue;
                }
                None => open = false,
            },
            _ = tick.tick() => {}
        }
        let flushed = feed.flush(ws).await?;
        if flushed.stored > 0 || !open {
            after(feed, &flushed).await?;
        }
        total.stored += flushed.stored;
        total.duplicates += flushed.duplicates;
        total.latencies_ms.extend(flushed.latencies_ms);
    }
    Ok(total)
}

/// The session settings for a health device: subscribe to every measurement that notifies or
/// indicates, read the battery and device information on each connection, and ask a glucose
/// meter for all its stored records (those already stored are dropped by content).
pub fn health_session() -> SessionConfig {
    let notifying =
        Characteristic::ALL.into_iter().filter(|c| c.notifies()).map(Characteristic::uuid).collect();
    let read = [
        Characteristic::BatteryLevel,
        Characteristic::ManufacturerName,
        Characteristic::ModelNumber,
        Characteristic::SerialNumber,
        Characteristic::FirmwareRevision,
        Characteristic::BodySensorLocation,
        Characteristic::TemperatureType,
    ]
    .into_iter()
    .map(Characteristic::uuid)
    .collect();
    let all_records = crate::ble::gatt::racp_request(crate::ble::gatt::RacpOp::ReportAll);
    SessionConfig {
        subscribe: notifying,
        read,
        after_connect: vec![(Characteristic::RecordAccessControlPoint.uuid(), all_records)],
        ..SessionConfig::default()
    }
}

/// Runs `link`'s session on its own task, its events tagged with `device` into `events`.
/// Turning `stop` true ends it.
pub fn spawn_link<L: Link + 'static>(
    link: L,
    device: DeviceId,
    config: SessionConfig,
    events: mpsc::Sender<(DeviceId, SessionEvent)>,
    stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<Result<(), LinkError>> {
    let (tx, mut rx) = mpsc::channel(256);
    tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            if events.send((device, event)).await.is_err() {
                break;
            }
        }
    });
    tokio::spawn(async move { session::run(link, &config, tx, stop).await })
}

//! The device link (issue 13): how characteristic values reach Vigil from a device. I/O lives
//! here; what the values mean is [`super::gatt`]'s (pure).
//!
//! One trait, [`Link`], is one connection to one device. Two implementations stand behind the
//! same pipeline:
//! - [`bluez::BluezLink`]: a real device through btleplug (BlueZ on Linux, CoreBluetooth,
//!   WinRT);
//! - [`replay::ReplayLink`]: a recorded session ([`replay`] documents the JSONL format), in
//!   real time or faster, for the demo device, IT's checks and the tests.
//!
//! [`session::run`] drives a link: connect, subscribe, read the battery and the device
//! information, forward every value, and after a drop reconnect with backoff and subscribe
//! again (idempotently: BlueZ keeps notification state across disconnects). What it forwards
//! goes to the workstation's device feed (`workstation/device_feed.rs`), which decodes,
//! batches each second into one transaction, deduplicates by content and wakes the monitor.

pub mod bluez;
pub mod replay;
pub mod session;

use std::future::Future;

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// One characteristic value as it arrived: a notification, an indication or a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// The characteristic's UUID.
    pub characteristic: Uuid,
    /// The value's bytes, undecoded.
    pub value: Vec<u8>,
    /// When this workstation received it.
    pub received: DateTime<Utc>,
}

/// A device seen while scanning.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Advert {
    /// Its address ("AA:BB:CC:DD:EE:FF"), or the platform's identifier where addresses are
    /// hidden (CoreBluetooth).
    pub address: String,
    /// The advertised local name.
    pub name: Option<String>,
    /// Received signal strength, dBm.
    pub rssi: Option<i16>,
    /// The health services it advertises (their names, [`super::gatt::Service::name`]).
    pub services: Vec<String>,
}

impl Advert {
    /// The kinds of device its advertised health services say it is.
    pub fn kinds(&self) -> Vec<crate::domain::DeviceKind> {
        self.services
            .iter()
            .filter_map(|s| u16::from_str_radix(s, 16).ok())
            .filter_map(|n| super::gatt::Service::from_uuid(replay::sig_uuid(n)))
            .filter_map(super::gatt::Service::device_kind)
            .collect()
    }

    /// The device to register for it: its first health kind, its name as the model until
    /// Device Information says better (the feed replaces make, model and serial when read).
    pub fn new_device(&self) -> Result<crate::domain::NewDevice, String> {
        let kind = self.kinds().into_iter().next().ok_or_else(|| {
            format!(
                "{} advertises no health service Vigil reads (heart rate, pulse oximeter, blood pressure, thermometer, weight scale, glucose)",
                self.address
            )
        })?;
        Ok(crate::domain::NewDevice {
            kind,
            make: "unknown".into(),
            model: self.name.clone().unwrap_or_else(|| "unknown".into()),
            serial: None,
            ble_address: Some(self.address.clone()),
            patient_id: None,
        })
    }
}

/// What a connection found on the device.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connected {
    /// Every characteristic the device exposes.
    pub characteristics: Vec<Uuid>,
    /// Those that notify or indicate.
    pub notifying: Vec<Uuid>,
}

/// Why a link failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// No Bluetooth adapter (or no BlueZ) on this machine.
    #[error("no Bluetooth adapter: {0}")]
    NoAdapter(String),
    /// The device is not in range or not known to the adapter.
    #[error("device {0} not found: is it on and in range?")]
    NotFound(String),
    /// The connection dropped or was refused.
    #[error("connection to {address} failed: {problem}")]
    Connection {
        /// The device.
        address: String,
        /// What the platform said.
        problem: String,
    },
    /// The device needs bonding and is not bonded.
    #[error("device {0} needs pairing: run `vigil ble pair {0}` first")]
    NeedsPairing(String),
    /// A recorded session is malformed.
    #[error("{file}, line {line}: {problem}")]
    Replay {
        /// The recording's file name.
        file: String,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The recording has no more values.
    #[error("the recording ended")]
    Ended,
}

impl LinkError {
    /// Whether trying again later may help (a drop, a device out of range) rather than not
    /// (no adapter, a malformed recording, its end).
    pub fn is_transient(&self) -> bool {
        matches!(self, LinkError::NotFound(_) | LinkError::Connection { .. })
    }
}

/// One connection to one device. A link is reused across reconnects: [`Link::connect`] after a
/// drop opens the same device again.
pub trait Link: Send {
    /// The device's address (or the recording's name).
    fn address(&self) -> &str;
    /// Connects and discovers the device's characteristics.
    fn connect(&mut self) -> impl Future<Output = Result<Connected, LinkError>> + Send;
    /// Turns notifications (or indications) of `characteristic` on. Idempotent: subscribing
    /// to one already on succeeds and never makes its values arrive twice.
    fn subscribe(&mut self, characteristic: Uuid) -> impl Future<Output = Result<(), LinkError>> + Send;
    /// Reads `characteristic` once.
    fn read(&mut self, characteristic: Uuid) -> impl Future<Output = Result<Vec<u8>, LinkError>> + Send;
    /// Writes `value` to `characteristic` (a control point), with response.
    fn write(
        &mut self,
        characteristic: Uuid,
        value: &[u8],
    ) -> impl Future<Output = Result<(), LinkError>> + Send;
    /// The next value, or the reason the connection ended.
    fn next(&mut self) -> impl Future<Output = Result<Notification, LinkError>> + Send;
    /// Disconnects (a no-op when not connected).
    fn disconnect(&mut self) -> impl Future<Output = ()> + Send;
}

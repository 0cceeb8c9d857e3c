//! A real device through btleplug: BlueZ on Linux, CoreBluetooth on macOS, WinRT on Windows.
//!
//! What this module adds to btleplug:
//! - scans filtered by the health services' UUIDs;
//! - one notification stream per link for its whole life: btleplug's stream follows the
//!   device's D-Bus object, which outlives a disconnect, so opening a second one after a
//!   reconnect would deliver every value twice;
//! - an idempotent subscribe: BlueZ keeps a characteristic's notification state across a
//!   disconnect and answers a second `StartNotify` from the same client with `InProgress`,
//!   which here means "already on";
//! - a drop is noticed from the adapter's `DeviceDisconnected` event, not only when a write
//!   fails;
//! - pairing (bonding) on Linux through BlueZ's `Device1.Pair` (bluez-async; btleplug has no
//!   pairing API). Without an agent BlueZ pairs "Just Works"; a device that shows a passkey
//!   needs `bluetoothctl` (see the README).
//!
//! Our machines have no Bluetooth in their kernel: the tests run this code against a
//! stand-in BlueZ on a private D-Bus (`tests/ble_bluez.rs`), the deepest layer CI can reach.

use std::pin::Pin;
use std::time::Duration;

use btleplug::api::{
    Central, CentralEvent, Manager as _, Peripheral as _, ScanFilter, ValueNotification, WriteType,
};
use btleplug::platform::{Adapter, Manager, Peripheral};
use futures::{Stream, StreamExt};
use uuid::Uuid;

use super::replay::sig_uuid;
use super::{Advert, Connected, Link, LinkError, Notification};

/// The health services a scan looks for (their 16-bit numbers): heart rate, pulse oximeter,
/// blood pressure, health thermometer, weight scale, glucose.
pub const HEALTH_SERVICES: [u16; 6] = [0x180D, 0x1822, 0x1810, 0x1809, 0x181D, 0x1808];

type Values = Pin<Box<dyn Stream<Item = ValueNotification> + Send>>;
type Events = Pin<Box<dyn Stream<Item = CentralEvent> + Send>>;

fn no_adapter(e: impl std::fmt::Display) -> LinkError {
    LinkError::NoAdapter(e.to_string())
}

/// The machine's first Bluetooth adapter.
pub struct Bluetooth {
    adapter: Adapter,
}

impl Bluetooth {
    /// Opens the first adapter; no BlueZ, no adapter or an adapter switched off is
    /// [`LinkError::NoAdapter`] with the platform's words.
    pub async fn open() -> Result<Self, LinkError> {
        let manager = Manager::new().await.map_err(no_adapter)?;
        let adapter =
            manager.adapters().await.map_err(no_adapter)?.into_iter().next().ok_or_else(|| {
                no_adapter("none found (is the Bluetooth service running and the adapter on?)")
            })?;
        Ok(Self { adapter })
    }

    /// Scans for `duration` and lists the devices that advertise a health service.
    pub async fn scan(&self, duration: Duration) -> Result<Vec<Advert>, LinkError> {
        let filter = ScanFilter { services: HEALTH_SERVICES.iter().map(|s| sig_uuid(*s)).collect() };
        self.adapter.start_scan(filter).await.map_err(no_adapter)?;
        tokio::time::sleep(duration).await;
        let _ = self.adapter.stop_scan().await;
        let mut found = Vec::new();
        for p in self.adapter.peripherals().await.map_err(no_adapter)? {
            let Ok(Some(props)) = p.properties().await else { continue };
            let services: Vec<String> = props
                .services
                .iter()
                .filter_map(|u| HEALTH_SERVICES.iter().find(|s| sig_uuid(**s) == *u))
                .map(|s| format!("{s:04x}"))
                .collect();
            if services.is_empty() {
                continue;
            }
            found.push(Advert {
                address: props.address.to_string(),
                name: props.local_name.or(props.advertisement_name),
                rssi: props.rssi,
                services,
            });
        }
        found.sort_by(|a, b| b.rssi.cmp(&a.rssi).then_with(|| a.address.cmp(&b.address)));
        Ok(found)
    }

    /// A link to the device at `address`, scanning up to `scan_for` if the adapter does not
    /// know it yet.
    pub async fn link(&self, address: &str, scan_for: Duration) -> Result<BluezLink, LinkError> {
        let wanted = address.to_ascii_uppercase();
        let find = || async {
            let peripherals = self.adapter.peripherals().await.map_err(no_adapter)?;
            Ok::<_, LinkError>(
                peripherals.into_iter().find(|p| p.address().to_string().eq_ignore_ascii_case(&wanted)),
            )
        };
        let peripheral = match find().await? {
            Some(p) => p,
            None => {
                self.scan(scan_for).await?;
                find().await?.ok_or_else(|| LinkError::NotFound(wanted.clone()))?
            }
        };
        let events = self.adapter.events().await.map_err(no_adapter)?;
        Ok(BluezLink { address: wanted, peripheral, values: None, events, on: Vec::new() })
    }
}

/// Pairs (bonds) with the device at `address` through BlueZ, and waits for its services.
#[cfg(target_os = "linux")]
pub async fn pair(address: &str, timeout: Duration) -> Result<(), LinkError> {
    let (_task, session) = bluez_async::BluetoothSession::new().await.map_err(no_adapter)?;
    let devices = session.get_devices().await.map_err(no_adapter)?;
    let device = devices
        .into_iter()
        .find(|d| d.mac_address.to_string().eq_ignore_ascii_case(address))
        .ok_or_else(|| LinkError::NotFound(address.to_owned()))?;
    if device.paired {
        return Ok(());
    }
    session.pair_with_timeout(&device.id, timeout).await.map_err(|e| LinkError::Connection {
        address: address.to_owned(),
        problem: format!("pairing failed: {e}"),
    })
}

/// Pairing outside Linux is the operating system's own dialog.
#[cfg(not(target_os = "linux"))]
pub async fn pair(address: &str, _timeout: Duration) -> Result<(), LinkError> {
    Err(LinkError::NeedsPairing(format!("{address} (pair it in the system's Bluetooth settings)")))
}

/// One device through btleplug.
pub struct BluezLink {
    address: String,
    peripheral: Peripheral,
    /// Opened on the first connect and kept (module docs).
    values: Option<Values>,
    events: Events,
    /// Characteristics turned on by this process.
    on: Vec<Uuid>,
}

impl BluezLink {
    /// What the device advertises (name, signal, health services).
    pub async fn advert(&self) -> Advert {
        let props = self.peripheral.properties().await.ok().flatten().unwrap_or_default();
        Advert {
            address: self.address.clone(),
            name: props.local_name.or(props.advertisement_name),
            rssi: props.rssi,
            services: props
                .services
                .iter()
                .filter_map(|u| HEALTH_SERVICES.iter().find(|s| sig_uuid(**s) == *u))
                .map(|s| format!("{s:04x}"))
                .collect(),
        }
    }

    fn failed(&self, e: impl std::fmt::Display) -> LinkError {
        let problem = e.to_string();
        if problem.contains("NotPermitted")
            || problem.contains("Authentication")
            || problem.contains("Insufficient")
        {
            return LinkError::NeedsPairing(self.address.clone());
        }
        LinkError::Connection { address: self.address.clone(), problem }
    }

    fn characteristic(&self, uuid: Uuid) -> Result<btleplug::api::Characteristic, LinkError> {
        self.peripheral
            .characteristics()
            .into_iter()
            .find(|c| c.uuid == uuid)
            .ok_or_else(|| self.failed(format!("the device has no characteristic {uuid}")))
    }
}

impl Link for BluezLink {
    fn address(&self) -> &str {
        &self.address
    }

    async fn connect(&mut self) -> Result<Connected, LinkError> {
        if !self.peripheral.is_connected().await.unwrap_or(false) {
            self.peripheral.connect().await.map_err(|e| self.failed(e))?;
        }
        self.peripheral.discover_services().await.map_err(|e| self.failed(e))?;
        if self.values.is_none() {
            self.values = Some(self.peripheral.notifications().await.map_err(|e| self.failed(e))?);
        }
        let all = self.peripheral.characteristics();
        let notifying = all
            .iter()
            .filter(|c| {
                c.properties
                    .intersects(btleplug::api::CharPropFlags::NOTIFY | btleplug::api::CharPropFlags::INDICATE)
            })
            .map(|c| c.uuid)
            .collect();
        Ok(Connected { characteristics: all.iter().map(|c| c.uuid).collect(), notifying })
    }

    async fn subscribe(&mut self, characteristic: Uuid) -> Result<(), LinkError> {
        let c = self.characteristic(characteristic)?;
        match self.peripheral.subscribe(&c).await {
            Ok(()) => {}
            // BlueZ: this client's notify session survived the disconnect (module docs).
            Err(e) if e.to_string().contains("InProgress") || e.to_string().contains("Already") => {}
            Err(e) => return Err(self.failed(e)),
        }
        if !self.on.contains(&characteristic) {
            self.on.push(characteristic);
        }
        Ok(())
    }

    async fn read(&mut self, characteristic: Uuid) -> Result<Vec<u8>, LinkError> {
        let c = self.characteristic(characteristic)?;
        self.peripheral.read(&c).await.map_err(|e| self.failed(e))
    }

    async fn write(&mut self, characteristic: Uuid, value: &[u8]) -> Result<(), LinkError> {
        let c = self.characteristic(characteristic)?;
        self.peripheral.write(&c, value, WriteType::WithResponse).await.map_err(|e| self.failed(e))
    }

    async fn next(&mut self) -> Result<Notification, LinkError> {
        let id = self.peripheral.id();
        let Some(values) = self.values.as_mut() else {
            return Err(LinkError::Connection {
                address: self.address.clone(),
                problem: "not connected".into(),
            });
        };
        loop {
            tokio::select! {
                value = values.next() => {
                    return match value {
                        Some(v) => Ok(Notification { characteristic: v.uuid, value: v.value, received: chrono::Utc::now() }),
                        None => Err(LinkError::Connection { address: self.address.clone(), problem: "the notification stream ended".into() }),
                    };
                }
                event = self.events.next() => match event {
                    Some(CentralEvent::DeviceDisconnected(gone)) if gone == id => {
                        return Err(LinkError::Connection { address: self.address.clone(), problem: "the device disconnected".into() });
                    }
                    Some(_) => {}
                    None => return Err(no_adapter("the adapter's event stream ended")),
                },
            }
        }
    }

    async fn disconnect(&mut self) {
        let _ = self.peripheral.disconnect().await;
    }
}

//! Devices that produce observations.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{DeviceId, InvalidField, PatientId};

/// What a device is, after the Bluetooth SIG GATT service it exposes where there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    /// Heart Rate service 0x180D.
    HeartRateMonitor,
    /// Pulse Oximeter service 0x1822.
    PulseOximeter,
    /// Blood Pressure service 0x1810.
    BloodPressureMonitor,
    /// Health Thermometer service 0x1809.
    Thermometer,
    /// Weight Scale service 0x181D.
    WeightScale,
    /// A multi-sensor wearable (watch, ring, patch) whose data arrives by file export.
    Wearable,
    /// Glucose service 0x1808.
    GlucoseMeter,
}

impl DeviceKind {
    /// Every kind, in a stable order.
    pub const ALL: [DeviceKind; 7] = [
        DeviceKind::HeartRateMonitor,
        DeviceKind::PulseOximeter,
        DeviceKind::BloodPressureMonitor,
        DeviceKind::Thermometer,
        DeviceKind::WeightScale,
        DeviceKind::Wearable,
        DeviceKind::GlucoseMeter,
    ];

    /// The name used on every interface and in the store.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::HeartRateMonitor => "heart_rate_monitor",
            DeviceKind::PulseOximeter => "pulse_oximeter",
            DeviceKind::BloodPressureMonitor => "blood_pressure_monitor",
            DeviceKind::Thermometer => "thermometer",
            DeviceKind::WeightScale => "weight_scale",
            DeviceKind::Wearable => "wearable",
            DeviceKind::GlucoseMeter => "glucose_meter",
        }
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeviceKind {
    type Err = InvalidField;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DeviceKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| InvalidField::new("device_kind", format!("'{s}' is not a known device kind")))
    }
}

/// A device as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// UUIDv7.
    pub id: DeviceId,
    /// What it measures.
    pub kind: DeviceKind,
    /// Manufacturer.
    pub make: String,
    /// Model name or number.
    pub model: String,
    /// Serial number, when the device reports one.
    pub serial: Option<String>,
    /// Bluetooth LE address (`AA:BB:CC:DD:EE:FF`), for BLE devices.
    pub ble_address: Option<String>,
    /// The patient who wears or uses it, if assigned.
    pub patient_id: Option<PatientId>,
}

/// A device to be registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDevice {
    /// What it measures.
    pub kind: DeviceKind,
    /// Manufacturer.
    pub make: String,
    /// Model.
    pub model: String,
    /// Serial number.
    pub serial: Option<String>,
    /// BLE address, validated as six colon-separated hex octets and stored upper case.
    pub ble_address: Option<String>,
    /// Assigned patient.
    pub patient_id: Option<PatientId>,
}

impl NewDevice {
    /// Checks the BLE address shape and normalises it to upper case.
    pub fn validated(mut self) -> Result<Self, InvalidField> {
        if let Some(addr) = &self.ble_address {
            let octets: Vec<&str> = addr.split(':').collect();
            let ok = octets.len() == 6
                && octets.iter().all(|o| o.len() == 2 && o.chars().all(|c| c.is_ascii_hexdigit()));
            if !ok {
                return Err(InvalidField::new(
                    "ble_address",
                    format!("'{addr}' is not six colon-separated hex octets"),
                ));
            }
            self.ble_address = Some(addr.to_ascii_uppercase());
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ble_address_is_checked_and_normalised() {
        let dev = NewDevice {
            kind: DeviceKind::PulseOximeter,
            make: "Nonin".into(),
            model: "3230".into(),
            serial: None,
            ble_address: Some("aa:bb:cc:dd:ee:0f".into()),
            patient_id: None,
        };
        assert_eq!(dev.clone().validated().unwrap().ble_address.as_deref(), Some("AA:BB:CC:DD:EE:0F"));
        let bad = NewDevice { ble_address: Some("aa:bb:cc".into()), ..dev };
        assert_eq!(
            bad.validated().unwrap_err().to_string(),
            "ble_address: 'aa:bb:cc' is not six colon-separated hex octets"
        );
    }

    #[test]
    fn device_kind_round_trips() {
        for kind in DeviceKind::ALL {
            assert_eq!(kind.as_str().parse::<DeviceKind>().unwrap(), kind);
        }
    }
}

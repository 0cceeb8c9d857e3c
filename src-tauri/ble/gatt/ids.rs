//! The characteristics and services Vigil understands, by their SIG-assigned numbers.

use serde::{Serialize, Serializer};

use crate::domain::DeviceKind;

/// The Bluetooth Base UUID (Core Specification v5.4, Vol 3, Part B, 2.5.1): a 16-bit UUID
/// `xxxx` stands for `0000xxxx-0000-1000-8000-00805f9b34fb`.
const BASE_UUID: u128 = 0x0000_0000_0000_1000_8000_0080_5f9b_34fb;

fn uuid_of(short: u16) -> uuid::Uuid {
    uuid::Uuid::from_u128(BASE_UUID | (u128::from(short) << 96))
}

fn short_of(u: uuid::Uuid) -> Option<u16> {
    let v = u.as_u128();
    if v & !(0xFFFF_FFFF_u128 << 96) != BASE_UUID {
        return None;
    }
    u16::try_from(v >> 96).ok()
}

/// A SIG-assigned characteristic Vigil understands (Assigned Numbers, section 3.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // each variant is the SIG characteristic of the same name
pub enum Characteristic {
    HeartRateMeasurement,
    BodySensorLocation,
    PlxSpotCheck,
    PlxContinuous,
    PlxFeatures,
    BloodPressureMeasurement,
    IntermediateCuffPressure,
    BloodPressureFeature,
    TemperatureMeasurement,
    IntermediateTemperature,
    TemperatureType,
    WeightMeasurement,
    WeightScaleFeature,
    GlucoseMeasurement,
    GlucoseMeasurementContext,
    GlucoseFeature,
    RecordAccessControlPoint,
    BatteryLevel,
    ManufacturerName,
    ModelNumber,
    SerialNumber,
    FirmwareRevision,
    HardwareRevision,
    SoftwareRevision,
}

impl Serialize for Characteristic {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl Characteristic {
    /// Every characteristic, in a stable order.
    pub const ALL: [Characteristic; 24] = [
        Characteristic::HeartRateMeasurement,
        Characteristic::BodySensorLocation,
        Characteristic::PlxSpotCheck,
        Characteristic::PlxContinuous,
        Characteristic::PlxFeatures,
        Characteristic::BloodPressureMeasurement,
        Characteristic::IntermediateCuffPressure,
        Characteristic::BloodPressureFeature,
        Characteristic::TemperatureMeasurement,
        Characteristic::IntermediateTemperature,
        Characteristic::TemperatureType,
        Characteristic::WeightMeasurement,
        Characteristic::WeightScaleFeature,
        Characteristic::GlucoseMeasurement,
        Characteristic::GlucoseMeasurementContext,
        Characteristic::GlucoseFeature,
        Characteristic::RecordAccessControlPoint,
        Characteristic::BatteryLevel,
        Characteristic::ManufacturerName,
        Characteristic::ModelNumber,
        Characteristic::SerialNumber,
        Characteristic::FirmwareRevision,
        Characteristic::HardwareRevision,
        Characteristic::SoftwareRevision,
    ];

    /// The 16-bit UUID (Assigned Numbers 3.8, "Characteristic UUIDs").
    pub const fn uuid16(self) -> u16 {
        match self {
            Characteristic::HeartRateMeasurement => 0x2A37,
            Characteristic::BodySensorLocation => 0x2A38,
            Characteristic::PlxSpotCheck => 0x2A5E,
            Characteristic::PlxContinuous => 0x2A5F,
            Characteristic::PlxFeatures => 0x2A60,
            Characteristic::BloodPressureMeasurement => 0x2A35,
            Characteristic::IntermediateCuffPressure => 0x2A36,
            Characteristic::BloodPressureFeature => 0x2A49,
            Characteristic::TemperatureMeasurement => 0x2A1C,
            Characteristic::IntermediateTemperature => 0x2A1E,
            Characteristic::TemperatureType => 0x2A1D,
            Characteristic::WeightMeasurement => 0x2A9D,
            Characteristic::WeightScaleFeature => 0x2A9E,
            Characteristic::GlucoseMeasurement => 0x2A18,
            Characteristic::GlucoseMeasurementContext => 0x2A34,
            Characteristic::GlucoseFeature => 0x2A51,
            Characteristic::RecordAccessControlPoint => 0x2A52,
            Characteristic::BatteryLevel => 0x2A19,
            Characteristic::ManufacturerName => 0x2A29,
            Characteristic::ModelNumber => 0x2A24,
            Characteristic::SerialNumber => 0x2A25,
            Characteristic::FirmwareRevision => 0x2A26,
            Characteristic::HardwareRevision => 0x2A27,
            Characteristic::SoftwareRevision => 0x2A28,
        }
    }

    /// The full 128-bit UUID on the Bluetooth Base UUID.
    pub fn uuid(self) -> uuid::Uuid {
        uuid_of(self.uuid16())
    }

    /// The characteristic of a 16-bit UUID.
    pub fn from_uuid16(u: u16) -> Option<Self> {
        Characteristic::ALL.into_iter().find(|c| c.uuid16() == u)
    }

    /// The characteristic of a 128-bit UUID (on the Bluetooth Base UUID).
    pub fn from_uuid(u: uuid::Uuid) -> Option<Self> {
        short_of(u).and_then(Characteristic::from_uuid16)
    }

    /// `2a37`, `0x2A37`, `2A37`, the full 128-bit string, or the snake-case name.
    pub fn parse(text: &str) -> Option<Self> {
        let t = text.trim();
        if let Some(c) = Characteristic::ALL.into_iter().find(|c| c.name() == t) {
            return Some(c);
        }
        let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
        if hex.len() == 4 {
            return u16::from_str_radix(hex, 16).ok().and_then(Characteristic::from_uuid16);
        }
        uuid::Uuid::parse_str(t).ok().and_then(Characteristic::from_uuid)
    }

    /// The snake-case name used in JSON.
    pub const fn name(self) -> &'static str {
        match self {
            Characteristic::HeartRateMeasurement => "heart_rate_measurement",
            Characteristic::BodySensorLocation => "body_sensor_location",
            Characteristic::PlxSpotCheck => "plx_spot_check_measurement",
            Characteristic::PlxContinuous => "plx_continuous_measurement",
            Characteristic::PlxFeatures => "plx_features",
            Characteristic::BloodPressureMeasurement => "blood_pressure_measurement",
            Characteristic::IntermediateCuffPressure => "intermediate_cuff_pressure",
            Characteristic::BloodPressureFeature => "blood_pressure_feature",
            Characteristic::TemperatureMeasurement => "temperature_measurement",
            Characteristic::IntermediateTemperature => "intermediate_temperature",
            Characteristic::TemperatureType => "temperature_type",
            Characteristic::WeightMeasurement => "weight_measurement",
            Characteristic::WeightScaleFeature => "weight_scale_feature",
            Characteristic::GlucoseMeasurement => "glucose_measurement",
            Characteristic::GlucoseMeasurementContext => "glucose_measurement_context",
            Characteristic::GlucoseFeature => "glucose_feature",
            Characteristic::RecordAccessControlPoint => "record_access_control_point",
            Characteristic::BatteryLevel => "battery_level",
            Characteristic::ManufacturerName => "manufacturer_name",
            Characteristic::ModelNumber => "model_number",
            Characteristic::SerialNumber => "serial_number",
            Characteristic::FirmwareRevision => "firmware_revision",
            Characteristic::HardwareRevision => "hardware_revision",
            Characteristic::SoftwareRevision => "software_revision",
        }
    }

    /// The service it belongs to. The Record Access Control Point also serves the Pulse
    /// Oximeter's stored spot-checks (PLXS 3.4); Vigil uses it for glucose records.
    pub fn service(self) -> Service {
        match self {
            Characteristic::HeartRateMeasurement | Characteristic::BodySensorLocation => Service::HeartRate,
            Characteristic::PlxSpotCheck | Characteristic::PlxContinuous | Characteristic::PlxFeatures => {
                Service::PulseOximeter
            }
            Characteristic::BloodPressureMeasurement
            | Characteristic::IntermediateCuffPressure
            | Characteristic::BloodPressureFeature => Service::BloodPressure,
            Characteristic::TemperatureMeasurement
            | Characteristic::IntermediateTemperature
            | Characteristic::TemperatureType => Service::HealthThermometer,
            Characteristic::WeightMeasurement | Characteristic::WeightScaleFeature => Service::WeightScale,
            Characteristic::GlucoseMeasurement
            | Characteristic::GlucoseMeasurementContext
            | Characteristic::GlucoseFeature
            | Characteristic::RecordAccessControlPoint => Service::Glucose,
            Characteristic::BatteryLevel => Service::Battery,
            Characteristic::ManufacturerName
            | Characteristic::ModelNumber
            | Characteristic::SerialNumber
            | Characteristic::FirmwareRevision
            | Characteristic::HardwareRevision
            | Characteristic::SoftwareRevision => Service::DeviceInformation,
        }
    }

    /// Delivered by notification or indication (subscribe), rather than read. Battery Level
    /// may also notify (BAS 1.1 3.1), but every battery service allows a read, so it is read.
    pub const fn notifies(self) -> bool {
        matches!(
            self,
            Characteristic::HeartRateMeasurement
                | Characteristic::PlxSpotCheck
                | Characteristic::PlxContinuous
                | Characteristic::BloodPressureMeasurement
                | Characteristic::IntermediateCuffPressure
                | Characteristic::TemperatureMeasurement
                | Characteristic::IntermediateTemperature
                | Characteristic::WeightMeasurement
                | Characteristic::GlucoseMeasurement
                | Characteristic::GlucoseMeasurementContext
                | Characteristic::RecordAccessControlPoint
        )
    }
}

impl std::fmt::Display for Characteristic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A SIG-assigned service (Assigned Numbers 3.4, "Service UUIDs").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)] // each variant is the SIG service of the same name
pub enum Service {
    HeartRate,
    PulseOximeter,
    BloodPressure,
    HealthThermometer,
    WeightScale,
    Glucose,
    Battery,
    DeviceInformation,
}

impl Serialize for Service {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl Service {
    /// Every service, in a stable order.
    pub const ALL: [Service; 8] = [
        Service::HeartRate,
        Service::PulseOximeter,
        Service::BloodPressure,
        Service::HealthThermometer,
        Service::WeightScale,
        Service::Glucose,
        Service::Battery,
        Service::DeviceInformation,
    ];

    /// The health services: a device exposing one is a patient's sensor (scan filter).
    pub const HEALTH: [Service; 6] = [
        Service::HeartRate,
        Service::PulseOximeter,
        Service::BloodPressure,
        Service::HealthThermometer,
        Service::WeightScale,
        Service::Glucose,
    ];

    /// The 16-bit UUID.
    pub const fn uuid16(self) -> u16 {
        match self {
            Service::HeartRate => 0x180D,
            Service::PulseOximeter => 0x1822,
            Service::BloodPressure => 0x1810,
            Service::HealthThermometer => 0x1809,
            Service::WeightScale => 0x181D,
            Service::Glucose => 0x1808,
            Service::Battery => 0x180F,
            Service::DeviceInformation => 0x180A,
        }
    }

    /// The full 128-bit UUID on the Bluetooth Base UUID.
    pub fn uuid(self) -> uuid::Uuid {
        uuid_of(self.uuid16())
    }

    /// The service of a 128-bit UUID.
    pub fn from_uuid(u: uuid::Uuid) -> Option<Self> {
        let short = short_of(u)?;
        Service::ALL.into_iter().find(|s| s.uuid16() == short)
    }

    /// The snake-case name.
    pub const fn name(self) -> &'static str {
        match self {
            Service::HeartRate => "heart_rate",
            Service::PulseOximeter => "pulse_oximeter",
            Service::BloodPressure => "blood_pressure",
            Service::HealthThermometer => "health_thermometer",
            Service::WeightScale => "weight_scale",
            Service::Glucose => "glucose",
            Service::Battery => "battery",
            Service::DeviceInformation => "device_information",
        }
    }

    /// The kind of device a health service makes; `None` for Battery and Device Information.
    pub fn device_kind(self) -> Option<DeviceKind> {
        match self {
            Service::HeartRate => Some(DeviceKind::HeartRateMonitor),
            Service::PulseOximeter => Some(DeviceKind::PulseOximeter),
            Service::BloodPressure => Some(DeviceKind::BloodPressureMonitor),
            Service::HealthThermometer => Some(DeviceKind::Thermometer),
            Service::WeightScale => Some(DeviceKind::WeightScale),
            Service::Glucose => Some(DeviceKind::GlucoseMeter),
            Service::Battery | Service::DeviceInformation => None,
        }
    }
}

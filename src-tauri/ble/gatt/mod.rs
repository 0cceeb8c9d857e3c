//! Pure decoders of the Bluetooth SIG GATT characteristics Vigil understands.
//!
//! [`decode`] turns one characteristic value (the bytes of one notification, indication or
//! read) into [`Decoded`]: readings already in the store's unit ([`Kind::unit`]) and checked
//! against [`Kind::plausible`], the readings refused with a reason, the device's own timestamp
//! as it gave it, the user index, the status flags worth showing, and device information.
//!
//! Guarantees: no I/O, no clock, no async, and no panic on any input. A value the flags do not
//! describe (a field announced but missing, bytes no flag explains, an RR list of odd length)
//! is a [`DecodeError`] naming the field and the byte offset. An IEEE 11073 special value
//! (NaN, NRes, +INF, -INF, reserved) is an [`ObservationValue::Absent`] with its reason, never
//! a number.
//!
//! Sources: the Bluetooth SIG GATT Specification Supplement (GSS, v9 and later; section 3 holds
//! the characteristics' field descriptions) and the service specifications (HRS 1.0, PLXS 1.0.1,
//! BLS 1.1, HTS 1.0, WSS 1.0, GLS 1.0.1, BAS 1.1, DIS 1.1); IEEE 11073-20601 for SFLOAT and
//! FLOAT. Each module cites the section it follows.

mod blood_pressure;
mod date_time;
mod device_info;
mod glucose;
mod heart_rate;
mod ids;
pub mod ieee11073;
mod plx;
mod reader;
mod thermometer;
mod weight;

#[cfg(test)]
mod no_panic_tests;

use serde::Serialize;

use crate::domain::{Kind, ObservationValue};

pub use glucose::{RacpOp, RacpResponse, RacpResponseCode, decode_racp, racp_request};
pub use ids::{Characteristic, Service};

/// What one characteristic value decodes to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decoded {
    /// The characteristic decoded.
    pub characteristic: Characteristic,
    /// In the store's units ([`Kind::unit`]), plausible, ready to store.
    pub readings: Vec<Reading>,
    /// Readings refused with a reason (no skin contact, measurement unsuccessful, out of range).
    pub rejected: Vec<Rejected>,
    /// The timestamp field as the device gave it (no offset: devices keep local time).
    pub device_time: Option<DeviceTime>,
    /// The user index (weight scale, blood pressure); 0xFF "unknown user" is `None`.
    pub user: Option<u8>,
    /// The glucose record's sequence number.
    pub sequence: Option<u16>,
    /// Flags worth showing (`body_movement`, `sensor_contact_not_detected`, ...).
    pub status: Vec<&'static str>,
    /// Battery level, device information, temperature type, sensor location, features.
    pub info: Option<DeviceInfo>,
}

impl Decoded {
    fn new(characteristic: Characteristic) -> Decoded {
        Decoded {
            characteristic,
            readings: Vec::new(),
            rejected: Vec::new(),
            device_time: None,
            user: None,
            sequence: None,
            status: Vec::new(),
            info: None,
        }
    }

    /// Keeps a value already in `kind`'s unit: an absence as it is, a plausible number as a
    /// reading, any other number as a rejection naming the range.
    fn measure(&mut self, kind: Kind, value: ObservationValue, offset_ms: i64) {
        if let ObservationValue::Quantity(v) = value {
            let range = kind.plausible();
            if !v.is_finite() || !range.contains(&v) {
                let unit = kind.unit();
                self.reject(
                    kind,
                    format!(
                        "{} {unit} is outside the plausible range {}..={} {unit}",
                        shown(v),
                        shown(*range.start()),
                        shown(*range.end())
                    ),
                );
                return;
            }
        }
        self.readings.push(Reading { kind, value, offset_ms });
    }

    fn reject(&mut self, kind: Kind, reason: impl Into<String>) {
        self.rejected.push(Rejected { kind, reason: reason.into() });
    }
}

/// A number for a message: at most three decimals, no trailing zeros.
/// A value as a rejection reason shows it: the number with its unit, or the absence's reason.
fn shown_value(value: ObservationValue, unit: &str) -> String {
    match value {
        ObservationValue::Quantity(v) => format!("{} {unit}", shown(v)),
        ObservationValue::Absent(reason) => format!("absent ({})", reason.as_str()),
    }
}

fn shown(v: f64) -> String {
    let rounded = (v * 1000.0).round() / 1000.0;
    if rounded == 0.0 { "0".to_owned() } else { format!("{rounded}") }
}

/// One reading of a decoded value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reading {
    /// What was measured.
    pub kind: Kind,
    /// In [`Kind::unit`], or absent with the IEEE 11073 reason.
    pub value: ObservationValue,
    /// Milliseconds after the device time (or the receive time) this reading belongs to: 0,
    /// except RR intervals, where it is minus the sum of the later intervals in the same
    /// notification (the last interval ends at 0).
    pub offset_ms: i64,
}

/// A reading refused, with the reason.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejected {
    /// What would have been measured.
    pub kind: Kind,
    /// Why it was refused.
    pub reason: String,
}

/// The device's timestamp as it gave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DeviceTime {
    /// A local date and time, no UTC offset (the Date Time characteristic has none).
    At(chrono::NaiveDateTime),
    /// A Date Time with year, month or day 0 ("not known", GSS 3.70), or a status saying the
    /// device's clock is not set.
    NotSet,
}

/// Device information carried by a value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceInfo {
    /// Battery level, % (BAS 1.1 3.1).
    Battery(u8),
    /// Manufacturer Name String (DIS 1.1 3.2).
    Manufacturer(String),
    /// Model Number String (DIS 1.1 3.3).
    Model(String),
    /// Serial Number String (DIS 1.1 3.4).
    Serial(String),
    /// Firmware Revision String (DIS 1.1 3.6).
    Firmware(String),
    /// Hardware Revision String (DIS 1.1 3.5).
    Hardware(String),
    /// Software Revision String (DIS 1.1 3.7).
    Software(String),
    /// Where a temperature was taken (HTS 1.0 3.2, GSS Temperature Type).
    TemperatureType(&'static str),
    /// Where a heart-rate sensor sits (HRS 1.0 3.2, GSS Body Sensor Location).
    SensorLocation(&'static str),
    /// The features a device reports supporting.
    Features(Vec<&'static str>),
}

/// A value the characteristic's definition does not describe.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{characteristic}: {field} at byte {offset}: {problem}")]
pub struct DecodeError {
    /// The characteristic's name.
    pub characteristic: &'static str,
    /// The field that could not be read.
    pub field: &'static str,
    /// Where in the value the field starts.
    pub offset: usize,
    /// What was wrong.
    pub problem: String,
}

/// Decodes one value.
pub fn decode(characteristic: Characteristic, value: &[u8]) -> Result<Decoded, DecodeError> {
    let mut out = Decoded::new(characteristic);
    let mut r = reader::Reader::new(characteristic, value);
    match characteristic {
        Characteristic::HeartRateMeasurement => heart_rate::measurement(&mut r, &mut out)?,
        Characteristic::BodySensorLocation => heart_rate::sensor_location(&mut r, &mut out)?,
        Characteristic::PlxSpotCheck => plx::spot_check(&mut r, &mut out)?,
        Characteristic::PlxContinuous => plx::continuous(&mut r, &mut out)?,
        Characteristic::PlxFeatures => plx::features(&mut r, &mut out)?,
        Characteristic::BloodPressureMeasurement => blood_pressure::measurement(&mut r, &mut out, false)?,
        Characteristic::IntermediateCuffPressure => blood_pressure::measurement(&mut r, &mut out, true)?,
        Characteristic::BloodPressureFeature => blood_pressure::feature(&mut r, &mut out)?,
        Characteristic::TemperatureMeasurement => thermometer::measurement(&mut r, &mut out, false)?,
        Characteristic::IntermediateTemperature => thermometer::measurement(&mut r, &mut out, true)?,
        Characteristic::TemperatureType => thermometer::temperature_type(&mut r, &mut out)?,
        Characteristic::WeightMeasurement => weight::measurement(&mut r, &mut out)?,
        Characteristic::WeightScaleFeature => weight::feature(&mut r, &mut out)?,
        Characteristic::GlucoseMeasurement => glucose::measurement(&mut r, &mut out)?,
        Characteristic::GlucoseMeasurementContext => glucose::context(&mut r, &mut out)?,
        Characteristic::GlucoseFeature => glucose::feature(&mut r, &mut out)?,
        Characteristic::RecordAccessControlPoint => glucose::racp_status(&mut r, &mut out)?,
        Characteristic::BatteryLevel
        | Characteristic::ManufacturerName
        | Characteristic::ModelNumber
        | Characteristic::SerialNumber
        | Characteristic::FirmwareRevision
        | Characteristic::HardwareRevision
        | Characteristic::SoftwareRevision => device_info::decode(&mut r, &mut out)?,
    }
    r.end()?;
    Ok(out)
}

/// The names of the set bits of `bits`, from a table of (bit, name).
fn flag_names(bits: u32, table: &[(u32, &'static str)]) -> Vec<&'static str> {
    table.iter().filter(|(bit, _)| bits & (1 << bit) != 0).map(|(_, name)| *name).collect()
}

/// Unit conversions into the store's units, with the same factors as `ingest::units` (UCUM),
/// so a reading that arrives both by Bluetooth and by a file import is the same number.
mod convert {
    use crate::domain::ObservationValue;

    /// UCUM: `m[Hg]` = 133.3220 kPa, so 1 kPa = 1000 / 133.322 mm[Hg].
    pub(super) fn kpa_to_mmhg(v: ObservationValue) -> ObservationValue {
        map(v, |x| x * 1000.0 / 133.322)
    }

    /// UCUM: `[degF]` = (°F − 32) × 5/9 Cel.
    pub(super) fn fahrenheit_to_celsius(v: ObservationValue) -> ObservationValue {
        map(v, |x| (x - 32.0) * 5.0 / 9.0)
    }

    /// UCUM: `[lb_av]` = 0.45359237 kg (exact).
    pub(super) fn pounds_to_kg(pounds: f64) -> f64 {
        pounds * 0.453_592_37
    }

    pub(super) fn map(v: ObservationValue, f: impl Fn(f64) -> f64) -> ObservationValue {
        match v {
            ObservationValue::Quantity(x) => ObservationValue::Quantity(f(x)),
            absent => absent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::DeviceKind;

    #[test]
    fn uuids_round_trip_and_parse_in_every_spelling() {
        for c in Characteristic::ALL {
            assert_eq!(Characteristic::from_uuid16(c.uuid16()), Some(c));
            assert_eq!(Characteristic::from_uuid(c.uuid()), Some(c));
            assert_eq!(Characteristic::parse(&c.uuid().to_string()), Some(c));
            assert_eq!(Characteristic::parse(c.name()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::json!(c.name()));
        }
        let hr = Some(Characteristic::HeartRateMeasurement);
        for text in ["2a37", "0x2A37", "2A37", "0x2a37", "00002a37-0000-1000-8000-00805f9b34fb"] {
            assert_eq!(Characteristic::parse(text), hr, "{text}");
        }
        assert_eq!(
            Characteristic::HeartRateMeasurement.uuid().to_string(),
            "00002a37-0000-1000-8000-00805f9b34fb"
        );
        assert_eq!(Characteristic::parse("2a99"), None);
        assert_eq!(Characteristic::parse("00002a37-0000-1000-8000-00805f9b34fc"), None);
        assert_eq!(Characteristic::parse("zz"), None);
        let names: std::collections::HashSet<_> = Characteristic::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), Characteristic::ALL.len());
    }

    #[test]
    fn services_map_to_device_kinds() {
        for s in Service::ALL {
            assert_eq!(Service::from_uuid(s.uuid()), Some(s));
            assert_eq!(s.device_kind().is_some(), Service::HEALTH.contains(&s));
        }
        assert_eq!(Service::HeartRate.uuid().to_string(), "0000180d-0000-1000-8000-00805f9b34fb");
        assert_eq!(Service::Glucose.device_kind(), Some(DeviceKind::GlucoseMeter));
        for c in Characteristic::ALL {
            assert!(Service::ALL.contains(&c.service()));
        }
    }

    #[test]
    fn implausible_numbers_are_rejected_with_the_range() {
        let mut d = Decoded::new(Characteristic::HeartRateMeasurement);
        d.measure(Kind::HeartRate, ObservationValue::Quantity(400.0), 0);
        assert!(d.readings.is_empty());
        assert_eq!(d.rejected[0].reason, "400 /min is outside the plausible range 20..=300 /min");
    }
}

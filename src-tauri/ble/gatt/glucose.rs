//! Glucose service 0x1808 (GLS 1.0.1): Glucose Measurement 0x2A18 (GLS 3.106, GSS "Glucose
//! Measurement"), Glucose Measurement Context 0x2A34 (GLS 3.107), Glucose Feature 0x2A51
//! (GLS 3.105) and the Record Access Control Point 0x2A52 (GLS 3.108 and 4.9, GSS "Record
//! Access Control Point"), by which stored records are downloaded.
//!
//! Glucose Measurement: Flags (uint8: bit 0 Time Offset, bit 1 Concentration and Type-Sample
//! Location, bit 2 concentration units mol/L (else kg/L), bit 3 Sensor Status Annunciation
//! present, bit 4 context information follows), Sequence Number (uint16), Base Time (Date
//! Time), Time Offset (sint16, minutes), Concentration (SFLOAT), Type (low nibble) and Sample
//! Location (high nibble), Sensor Status Annunciation (uint16). The device's time of the
//! record is Base Time + Time Offset (GLS 3.106.2.2).
//!
//! Stored in mmol/L ([`crate::domain::Kind::BloodGlucose`]): mol/L × 1000; kg/L × 10^6 /
//! 180.156 (the molar mass of glucose, C6H12O6, 180.156 g/mol).

use chrono::TimeDelta;

use super::reader::Reader;
use super::{DecodeError, Decoded, DeviceInfo, DeviceTime, flag_names};
use crate::domain::Kind;

const GLUCOSE_MOLAR_MASS: f64 = Kind::GLUCOSE_MOLAR_MASS;

/// Sensor Status Annunciation (GLS 3.106.2.6, uint16; bits 12-15 reserved).
const STATUS: [(u32, &str); 12] = [
    (0, "device_battery_low"),
    (1, "sensor_malfunction"),
    (2, "sample_size_insufficient"),
    (3, "strip_insertion_error"),
    (4, "strip_type_incorrect"),
    (5, "result_above_device_range"),
    (6, "result_below_device_range"),
    (7, "sensor_temperature_too_high"),
    (8, "sensor_temperature_too_low"),
    (9, "sensor_read_interrupted"),
    (10, "general_device_fault"),
    (11, "time_fault"),
];

/// Annunciations that mean the result is not a valid measurement: refused. Battery low and a
/// time fault are shown beside the reading.
const REFUSING: [&str; 10] = [
    "sensor_malfunction",
    "sample_size_insufficient",
    "strip_insertion_error",
    "strip_type_incorrect",
    "result_above_device_range",
    "result_below_device_range",
    "sensor_temperature_too_high",
    "sensor_temperature_too_low",
    "sensor_read_interrupted",
    "general_device_fault",
];

/// Glucose Feature (GLS 3.105.2.1, uint16; bits 11-15 reserved).
const FEATURES: [(u32, &str); 11] = [
    (0, "low_battery_detection"),
    (1, "sensor_malfunction_detection"),
    (2, "sensor_sample_size"),
    (3, "strip_insertion_error_detection"),
    (4, "strip_type_error_detection"),
    (5, "result_high_low_detection"),
    (6, "temperature_high_low_detection"),
    (7, "read_interrupt_detection"),
    (8, "general_device_fault"),
    (9, "time_fault"),
    (10, "multiple_bonds"),
];

pub(super) fn measurement(r: &mut Reader<'_>, out: &mut Decoded) -> Result<(), DecodeError> {
    let flags = r.u8("flags")?;
    out.sequence = Some(r.u16("sequence number")?);
    let base = r.date_time("base time")?;
    out.device_time = Some(base);
    if flags & 0x01 != 0 {
        let offset = r.i16("time offset")?;
        if let DeviceTime::At(t) = base {
            // A u16 of minutes is ±23 days: never out of chrono's range for a 1582..9999 year.
            out.device_time = t.checked_add_signed(TimeDelta::minutes(i64::from(offset))).map(DeviceTime::At);
        }
    }
    let mut sample = None;
    if flags & 0x02 != 0 {
        let value = r.sfloat("glucose concentration")?;
        let type_location = r.u8("type-sample location")?;
        sample = Some((value, type_location & 0x0F));
    }
    if flags & 0x08 != 0 {
        let bits = r.u16("sensor status annunciation")?;
        out.status.extend(flag_names(u32::from(bits), &STATUS));
    }
    let Some((value, sample_type)) = sample else {
        return Ok(());
    };
    let refusing: Vec<&str> = out.status.iter().copied().filter(|s| REFUSING.contains(s)).collect();
    if !refusing.is_empty() {
        out.reject(Kind::BloodGlucose, format!("the meter reports {}", refusing.join(", ")));
        return Ok(());
    }
    match sample_type {
        // GLS 3.106.2.4 Type: 9 interstitial fluid, 10 control solution.
        9 => out.reject(Kind::BloodGlucose, "interstitial fluid, not blood (no kind holds it)"),
        10 => out.reject(Kind::BloodGlucose, "control solution, not the patient's blood"),
        _ => {
            let mmol_per_l = if flags & 0x04 != 0 {
                super::convert::map(value, |mol| mol * 1000.0)
            } else {
                super::convert::map(value, |kg| kg * 1e6 / GLUCOSE_MOLAR_MASS)
            };
            out.measure(Kind::BloodGlucose, mmol_per_l, 0);
        }
    }
    Ok(())
}

/// Glucose Measurement Context (GLS 3.107): read so the record's sequence number and the meal
/// it relates to are known; carbohydrate, exercise, medication and HbA1c have no kind.
pub(super) fn context(r: &mut Reader<'_>, out: &mut Decoded) -> Result<(), DecodeError> {
    let flags = r.u8("flags")?;
    out.sequence = Some(r.u16("sequence number")?);
    if flags & 0x80 != 0 {
        r.u8("extended flags")?;
    }
    if flags & 0x01 != 0 {
        r.u8("carbohydrate id")?;
        r.sfloat("carbohydrate")?;
    }
    if flags & 0x02 != 0 {
        // GLS 3.107.2.6 Meal: 1 preprandial, 2 postprandial, 3 fasting, 4 casual, 5 bedtime.
        let meal = match r.u8("meal")? {
            1 => Some("meal_preprandial"),
            2 => Some("meal_postprandial"),
            3 => Some("meal_fasting"),
            4 => Some("meal_casual"),
            5 => Some("meal_bedtime"),
            _ => None,
        };
        out.status.extend(meal);
    }
    if flags & 0x04 != 0 {
        r.u8("tester-health")?;
    }
    if flags & 0x08 != 0 {
        r.u16("exercise duration")?;
        r.u8("exercise intensity")?;
    }
    if flags & 0x10 != 0 {
        r.u8("medication id")?;
        r.sfloat("medication")?;
    }
    if flags & 0x40 != 0 {
        r.sfloat("hba1c")?;
    }
    Ok(())
}

pub(super) fn feature(r: &mut Reader<'_>, out: &mut Decoded) -> Result<(), DecodeError> {
    let bits = r.u16("glucose feature")?;
    out.info = Some(DeviceInfo::Features(flag_names(u32::from(bits), &FEATURES)));
    Ok(())
}

mod racp;
pub(super) use racp::status as racp_status;
pub use racp::{RacpOp, RacpResponse, RacpResponseCode, decode_racp, racp_request};

#[cfg(test)]
mod tests;

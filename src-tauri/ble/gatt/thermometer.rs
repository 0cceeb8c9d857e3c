//! Health Thermometer service 0x1809 (HTS 1.0): Temperature Measurement 0x2A1C (HTS 3.1, GSS
//! "Temperature Measurement"), Intermediate Temperature 0x2A1E (HTS 3.3) and Temperature Type
//! 0x2A1D (HTS 3.2, GSS "Temperature Type").
//!
//! Flags (uint8): bit 0 Fahrenheit (else Celsius), bit 1 Time Stamp, bit 2 Temperature Type
//! present; bits 3-7 reserved. Then the temperature (FLOAT), Time Stamp (Date Time) and
//! Temperature Type (uint8). The Intermediate Temperature has the same layout and is shown
//! while a measurement is in progress (HTS 3.3): it is reported as refused, never stored.

use super::convert::fahrenheit_to_celsius;
use super::reader::Reader;
use super::{DecodeError, Decoded, DeviceInfo, shown_value};
use crate::domain::Kind;

/// Temperature Type (HTS 3.2.1 / GSS): 1 armpit, 2 body (general), 3 ear (usually ear lobe),
/// 4 finger, 5 gastrointestinal tract, 6 mouth, 7 rectum, 8 toe, 9 tympanum (ear drum); 0 and
/// 10-255 reserved.
fn type_name(code: u8) -> &'static str {
    match code {
        1 => "armpit",
        2 => "body",
        3 => "ear",
        4 => "finger",
        5 => "gastrointestinal_tract",
        6 => "mouth",
        7 => "rectum",
        8 => "toe",
        9 => "tympanum",
        _ => "reserved",
    }
}

pub(super) fn measurement(
    r: &mut Reader<'_>,
    out: &mut Decoded,
    intermediate: bool,
) -> Result<(), DecodeError> {
    let flags = r.u8("flags")?;
    let raw = r.float("temperature")?;
    let celsius = if flags & 0x01 != 0 { fahrenheit_to_celsius(raw) } else { raw };
    if flags & 0x02 != 0 {
        out.device_time = Some(r.date_time("time stamp")?);
    }
    if flags & 0x04 != 0 {
        out.info = Some(DeviceInfo::TemperatureType(type_name(r.u8("temperature type")?)));
    }
    if intermediate {
        let what = shown_value(celsius, "Cel");
        out.reject(
            Kind::BodyTemperature,
            format!("intermediate temperature {what} while the measurement is in progress"),
        );
        return Ok(());
    }
    out.measure(Kind::BodyTemperature, celsius, 0);
    Ok(())
}

pub(super) fn temperature_type(r: &mut Reader<'_>, out: &mut Decoded) -> Result<(), DecodeError> {
    out.info = Some(DeviceInfo::TemperatureType(type_name(r.u8("temperature type")?)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Characteristic, DeviceTime, decode, ieee11073::encode_float, no_panic_tests::Rng};
    use super::*;
    use chrono::NaiveDate;

    fn q(d: &Decoded) -> Vec<f64> {
        d.readings.iter().map(|r| r.value.quantity().unwrap()).collect()
    }

    #[test]
    fn nordic_vectors() {
        // Nordic Android-BLE-Common-Library (BSD-3), TemperatureMeasurementDataCallbackTest
        // onTemperatureMeasurementReceived: 37.60 °C, 2012-12-05 11:50:27, type 4 (finger).
        let b = [0x06, 0xB0, 0x0E, 0x00, 0xFE, 0xDC, 0x07, 0x0C, 0x05, 0x0B, 0x32, 0x1B, 0x04];
        let d = decode(Characteristic::TemperatureMeasurement, &b).unwrap();
        assert_eq!(q(&d), [37.6]);
        let t = NaiveDate::from_ymd_opt(2012, 12, 5).unwrap().and_hms_opt(11, 50, 27).unwrap();
        assert_eq!(d.device_time, Some(DeviceTime::At(t)));
        assert_eq!(d.info, Some(DeviceInfo::TemperatureType("finger")));
        // onInvalidDataReceived: the type is announced and missing.
        let e = decode(Characteristic::TemperatureMeasurement, &b[..12]).unwrap_err();
        assert_eq!((e.field, e.offset), ("temperature type", 12));
        // TemperatureTypeDataCallbackTest-style read of the type alone.
        let d = decode(Characteristic::TemperatureType, &[2]).unwrap();
        assert_eq!(d.info, Some(DeviceInfo::TemperatureType("body")));
    }

    #[test]
    fn fahrenheit_is_converted_and_specials_are_absent() {
        // 98.6 °F = 986 × 10^-1 → 37 °C.
        let mut b = vec![0x01];
        b.extend(encode_float(986, -1).to_le_bytes());
        let d = decode(Characteristic::TemperatureMeasurement, &b).unwrap();
        assert!((q(&d)[0] - 37.0).abs() < 1e-12);
        let d = decode(Characteristic::TemperatureMeasurement, &[0x00, 0xFF, 0xFF, 0x7F, 0x00]).unwrap();
        assert_eq!(
            d.readings[0].value,
            crate::domain::ObservationValue::Absent(crate::domain::AbsentReason::NotANumber)
        );
        let d = decode(Characteristic::IntermediateTemperature, &[0x00, 0x71, 0x01, 0x00, 0xFF]).unwrap();
        assert!(d.readings.is_empty());
        assert_eq!(
            d.rejected[0].reason,
            "intermediate temperature 36.9 Cel while the measurement is in progress"
        );
    }

    #[test]
    fn round_trip() {
        let mut rng = Rng(5);
        for _ in 0..2000 {
            let centi = 2500 + rng.pick::<i32>(2001); // 25.00..=45.00 °C
            let mut b = vec![0x04];
            b.extend(encode_float(centi, -2).to_le_bytes());
            let code = 1 + rng.pick::<u8>(9);
            b.push(code);
            let d = decode(Characteristic::TemperatureMeasurement, &b).unwrap();
            assert_eq!(q(&d), [f64::from(centi) / 100.0]);
            assert_eq!(d.info, Some(DeviceInfo::TemperatureType(type_name(code))));
        }
    }
}

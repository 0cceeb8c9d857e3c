//! Pulse Oximeter service 0x1822 (PLXS 1.0.1): PLX Spot-Check Measurement 0x2A5E (PLXS 3.1,
//! GSS "PLX Spot-Check Measurement"), PLX Continuous Measurement 0x2A5F (PLXS 3.2) and PLX
//! Features 0x2A60 (PLXS 3.3).
//!
//! Spot-check: Flags (uint8: bit 0 Timestamp, bit 1 Measurement Status, bit 2 Device and
//! Sensor Status, bit 3 Pulse Amplitude Index present, bit 4 device clock is not set), SpO2 (%)
//! and PR (/min) as SFLOAT, then the present fields in that order: Timestamp (Date Time),
//! Measurement Status (uint16), Device and Sensor Status (uint24), Pulse Amplitude Index
//! (SFLOAT, %).
//! Continuous: Flags (uint8: bit 0 SpO2PR-Fast, bit 1 SpO2PR-Slow, bit 2 Measurement Status,
//! bit 3 Device and Sensor Status, bit 4 Pulse Amplitude Index present), SpO2PR-Normal, then
//! SpO2PR-Fast, SpO2PR-Slow (two SFLOATs each), the statuses and the PAI.
//!
//! Only the normal SpO2 and pulse rate become readings: Fast and Slow are the same measurement
//! averaged differently, and the Pulse Amplitude Index has no observation kind.

use super::reader::Reader;
use super::{DecodeError, Decoded, DeviceInfo, DeviceTime, flag_names};
use crate::domain::{Kind, ObservationValue};

/// Measurement Status (PLXS 3.1.1.4, uint16; bits 0-4 reserved).
const MEASUREMENT_STATUS: [(u32, &str); 11] = [
    (5, "measurement_ongoing"),
    (6, "early_estimated_data"),
    (7, "validated_data"),
    (8, "fully_qualified_data"),
    (9, "data_from_measurement_storage"),
    (10, "data_for_demonstration"),
    (11, "data_for_testing"),
    (12, "calibration_ongoing"),
    (13, "measurement_unavailable"),
    (14, "questionable_measurement_detected"),
    (15, "invalid_measurement_detected"),
];

/// Device and Sensor Status (PLXS 3.1.1.5, uint24; bits 16-23 reserved).
const DEVICE_STATUS: [(u32, &str); 16] = [
    (0, "extended_display_update_ongoing"),
    (1, "equipment_malfunction_detected"),
    (2, "signal_processing_irregularity_detected"),
    (3, "inadequate_signal_detected"),
    (4, "poor_signal_detected"),
    (5, "low_perfusion_detected"),
    (6, "erratic_signal_detected"),
    (7, "nonpulsatile_signal_detected"),
    (8, "questionable_pulse_detected"),
    (9, "signal_analysis_ongoing"),
    (10, "sensor_interference_detected"),
    (11, "sensor_unconnected_to_user"),
    (12, "unknown_sensor_connected"),
    (13, "sensor_displaced"),
    (14, "sensor_malfunctioning"),
    (15, "sensor_disconnected"),
];

/// Statuses that mean the numbers are not a measurement of this patient: the reading is
/// refused (the others are shown beside it). "Measurement unavailable" and "invalid
/// measurement detected" are the device's own "unsuccessful"; demonstration and test data
/// and a sensor off the patient are not the patient's.
const REFUSING: [&str; 8] = [
    "measurement_unavailable",
    "invalid_measurement_detected",
    "data_for_demonstration",
    "data_for_testing",
    "equipment_malfunction_detected",
    "sensor_unconnected_to_user",
    "sensor_malfunctioning",
    "sensor_disconnected",
];

/// PLX Features (PLXS 3.3.1.1, uint16; bits 8-15 reserved).
const FEATURES: [(u32, &str); 8] = [
    (0, "measurement_status"),
    (1, "device_and_sensor_status"),
    (2, "spot_check_measurement_storage"),
    (3, "spot_check_timestamp"),
    (4, "spo2pr_fast"),
    (5, "spo2pr_slow"),
    (6, "pulse_amplitude_index"),
    (7, "multiple_bonds"),
];

pub(super) fn spot_check(r: &mut Reader<'_>, out: &mut Decoded) -> Result<(), DecodeError> {
    let flags = r.u8("flags")?;
    let spo2 = r.sfloat("spo2")?;
    let pr = r.sfloat("pulse rate")?;
    if flags & 0x01 != 0 {
        out.device_time = Some(r.date_time("timestamp")?);
    }
    statuses(r, out, flags & 0x02 != 0, flags & 0x04 != 0, flags & 0x08 != 0)?;
    if flags & 0x10 != 0 {
        // PLXS 3.1.1.1 bit 4: the device's clock is not set, so its timestamp means nothing.
        out.status.push("device_clock_not_set");
        out.device_time = Some(DeviceTime::NotSet);
    }
    keep(out, spo2, pr);
    Ok(())
}

pub(super) fn continuous(r: &mut Reader<'_>, out: &mut Decoded) -> Result<(), DecodeError> {
    let flags = r.u8("flags")?;
    let spo2 = r.sfloat("spo2 (normal)")?;
    let pr = r.sfloat("pulse rate (normal)")?;
    if flags & 0x01 != 0 {
        r.sfloat("spo2 (fast)")?;
        r.sfloat("pulse rate (fast)")?;
    }
    if flags & 0x02 != 0 {
        r.sfloat("spo2 (slow)")?;
        r.sfloat("pulse rate (slow)")?;
    }
    statuses(r, out, flags & 0x04 != 0, flags & 0x08 != 0, flags & 0x10 != 0)?;
    keep(out, spo2, pr);
    Ok(())
}

fn statuses(
    r: &mut Reader<'_>,
    out: &mut Decoded,
    measurement: bool,
    device: bool,
    pai: bool,
) -> Result<(), DecodeError> {
    if measurement {
        let bits = r.u16("measurement status")?;
        out.status.extend(flag_names(u32::from(bits), &MEASUREMENT_STATUS));
    }
    if device {
        let bits = r.u24("device and sensor status")?;
        out.status.extend(flag_names(bits, &DEVICE_STATUS));
    }
    if pai {
        r.sfloat("pulse amplitude index")?;
    }
    Ok(())
}

fn keep(out: &mut Decoded, spo2: ObservationValue, pr: ObservationValue) {
    let refusing: Vec<&str> = out.status.iter().copied().filter(|s| REFUSING.contains(s)).collect();
    if refusing.is_empty() {
        out.measure(Kind::Spo2, spo2, 0);
        out.measure(Kind::HeartRate, pr, 0);
    } else {
        let why = format!("the oximeter reports {}", refusing.join(", "));
        out.reject(Kind::Spo2, why.clone());
        out.reject(Kind::HeartRate, why);
    }
}

pub(super) fn features(r: &mut Reader<'_>, out: &mut Decoded) -> Result<(), DecodeError> {
    let bits = r.u16("supported features")?;
    if bits & 0x01 != 0 {
        r.u16("measurement status support")?;
    }
    if bits & 0x02 != 0 {
        r.u24("device and sensor status support")?;
    }
    out.info = Some(DeviceInfo::Features(flag_names(u32::from(bits), &FEATURES)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Characteristic, decode, ieee11073::encode_sfloat, no_panic_tests::Rng};
    use super::*;
    use chrono::NaiveDate;

    fn q(d: &Decoded) -> Vec<(Kind, f64)> {
        d.readings.iter().map(|r| (r.kind, r.value.quantity().unwrap())).collect()
    }

    #[test]
    fn spezi_continuous_vectors() {
        // SpeziBluetooth (MIT), Tests/SpeziBluetoothServicesTests/PLXTests.swift.
        // "PLXContinuousMeasurement": flags 0, SpO2 100, PR 90.
        let d = decode(Characteristic::PlxContinuous, &[0, 100, 0, 90, 0]).unwrap();
        assert_eq!(q(&d), [(Kind::Spo2, 100.0), (Kind::HeartRate, 90.0)]);
        // "PLXContinuousMeasurement Simple": status 0x0020 (measurement ongoing), PAI 8.7.
        let d = decode(Characteristic::PlxContinuous, &[28, 95, 0, 90, 0, 32, 0, 0, 0, 0, 87, 240]).unwrap();
        assert_eq!(q(&d), [(Kind::Spo2, 95.0), (Kind::HeartRate, 90.0)]);
        assert_eq!(d.status, ["measurement_ongoing"]);
        // "PLXContinuousMeasurement Full": normal 99/97, fast 97/137, slow 98/69, status
        // ongoing + fully qualified, PAI 8.9. Only the normal pair is stored.
        let bytes = [31, 222, 243, 202, 243, 202, 243, 90, 245, 212, 243, 178, 242, 32, 1, 0, 0, 0, 122, 227];
        let d = decode(Characteristic::PlxContinuous, &bytes).unwrap();
        assert_eq!(q(&d), [(Kind::Spo2, 99.0), (Kind::HeartRate, 97.0)]);
        assert_eq!(d.status, ["measurement_ongoing", "fully_qualified_data"]);
    }

    #[test]
    fn spezi_spot_check_vector() {
        // SpeziBluetooth PLXTests "PLXSpotCheckMeasurement": SpO2 94, PR 147, 2024-11-29
        // 23:08:57, ongoing + questionable, equipment malfunction + low perfusion, PAI 8.7.
        // Equipment malfunction means the numbers are not trusted: both are refused.
        let bytes = [15, 172, 243, 190, 245, 232, 7, 11, 29, 23, 8, 57, 32, 64, 34, 0, 0, 102, 227];
        let d = decode(Characteristic::PlxSpotCheck, &bytes).unwrap();
        let t = NaiveDate::from_ymd_opt(2024, 11, 29).unwrap().and_hms_opt(23, 8, 57).unwrap();
        assert_eq!(d.device_time, Some(DeviceTime::At(t)));
        assert_eq!(
            d.status,
            [
                "measurement_ongoing",
                "questionable_measurement_detected",
                "equipment_malfunction_detected",
                "low_perfusion_detected"
            ]
        );
        assert!(d.readings.is_empty());
        assert_eq!(d.rejected.len(), 2);
        assert!(d.rejected[0].reason.contains("equipment_malfunction_detected"));
        // The same without the device status: questionable is shown, the numbers are kept.
        let bytes = [11, 172, 243, 190, 245, 232, 7, 11, 29, 23, 8, 57, 32, 64, 102, 227];
        let d = decode(Characteristic::PlxSpotCheck, &bytes).unwrap();
        assert_eq!(q(&d), [(Kind::Spo2, 94.0), (Kind::HeartRate, 147.0)]);
    }

    #[test]
    fn spezi_features_vector() {
        // SpeziBluetooth PLXTests "PLXFeatures": 0x00A3 with both support fields.
        let d = decode(Characteristic::PlxFeatures, &[163, 0, 64, 16, 128, 1, 0]).unwrap();
        let want = vec!["measurement_status", "device_and_sensor_status", "spo2pr_slow", "multiple_bonds"];
        assert_eq!(d.info, Some(DeviceInfo::Features(want)));
        assert_eq!(decode(Characteristic::PlxFeatures, &[163, 0, 64, 16]).unwrap_err().offset, 4);
    }

    #[test]
    fn unsuccessful_and_special_values() {
        // Measurement status bit 15 (invalid measurement detected): refused.
        let d = decode(Characteristic::PlxContinuous, &[0x04, 97, 0, 70, 0, 0, 0x80]).unwrap();
        assert!(d.readings.is_empty());
        assert!(d.rejected[0].reason.contains("invalid_measurement_detected"));
        // SpO2 NaN (0x07FF), PR NRes (0x0800): absences with their reason.
        let d = decode(Characteristic::PlxSpotCheck, &[0x00, 0xFF, 0x07, 0x00, 0x08]).unwrap();
        use crate::domain::AbsentReason::*;
        assert_eq!(d.readings[0].value, ObservationValue::Absent(NotANumber));
        assert_eq!(d.readings[1].value, ObservationValue::Absent(NotAtThisResolution));
        // Clock not set (flag bit 4) overrides a timestamp.
        let d = decode(Characteristic::PlxSpotCheck, &[0x11, 97, 0, 70, 0, 0xE8, 7, 1, 1, 0, 0, 0]).unwrap();
        assert_eq!(d.device_time, Some(DeviceTime::NotSet));
        assert_eq!(d.status, ["device_clock_not_set"]);
        // A timestamp announced and missing.
        let e = decode(Characteristic::PlxSpotCheck, &[0x01, 97, 0, 70, 0, 0xE8]).unwrap_err();
        assert_eq!((e.field, e.offset), ("timestamp", 5));
    }

    #[test]
    fn round_trip() {
        let mut rng = Rng(11);
        for _ in 0..2000 {
            let spo2 = 500 + rng.pick::<i16>(501); // 50.0..=100.0 in tenths
            let pr = 20 + rng.pick::<i16>(281);
            let fast = rng.below(2) == 1;
            let mut b = vec![if fast { 0x01 } else { 0x00 }];
            b.extend(encode_sfloat(spo2, -1).to_le_bytes());
            b.extend(encode_sfloat(pr, 0).to_le_bytes());
            if fast {
                b.extend([0u8; 4]);
            }
            let d = decode(Characteristic::PlxContinuous, &b).unwrap();
            assert_eq!(q(&d), [(Kind::Spo2, f64::from(spo2) / 10.0), (Kind::HeartRate, f64::from(pr))]);
        }
    }
}

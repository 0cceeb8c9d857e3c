//! Blood Pressure service 0x1810 (BLS 1.1): Blood Pressure Measurement 0x2A35 (BLS 3.1, GSS
//! "Blood Pressure Measurement"), Intermediate Cuff Pressure 0x2A36 (BLS 3.2) and Blood
//! Pressure Feature 0x2A49 (BLS 3.3).
//!
//! Flags (uint8): bit 0 units kPa (else mmHg), bit 1 Time Stamp, bit 2 Pulse Rate, bit 3 User
//! ID, bit 4 Measurement Status present; bits 5-7 reserved. Then systolic, diastolic and mean
//! arterial pressure (SFLOAT each), Time Stamp (Date Time), Pulse Rate (SFLOAT, /min), User ID
//! (uint8, 0xFF unknown user) and Measurement Status (uint16).
//!
//! Systolic and diastolic become readings in mm[Hg]; the pulse rate a heart rate. The mean
//! arterial pressure has no observation kind: read and dropped. The Intermediate Cuff Pressure
//! has the same layout with the current cuff pressure in the systolic field (BLS 3.2.1): it is
//! the cuff inflating, not a blood pressure, so it is reported as refused and never stored.

use super::convert::kpa_to_mmhg;
use super::reader::Reader;
use super::{DecodeError, Decoded, DeviceInfo, flag_names, shown_value};
use crate::domain::{Kind, ObservationValue};

/// Measurement Status (BLS 3.1.1.5); bits 3-4 are the pulse rate range, below.
const STATUS: [(u32, &str); 4] =
    [(0, "body_movement"), (1, "cuff_too_loose"), (2, "irregular_pulse"), (5, "improper_position")];

/// Blood Pressure Feature (BLS 3.3.1.1; bits 6-8 from BLS 1.1.1).
const FEATURES: [(u32, &str); 9] = [
    (0, "body_movement_detection"),
    (1, "cuff_fit_detection"),
    (2, "irregular_pulse_detection"),
    (3, "pulse_rate_range_detection"),
    (4, "measurement_position_detection"),
    (5, "multiple_bonds"),
    (6, "e2e_crc"),
    (7, "user_data_service"),
    (8, "user_facing_time"),
];

pub(super) fn measurement(
    r: &mut Reader<'_>,
    out: &mut Decoded,
    intermediate: bool,
) -> Result<(), DecodeError> {
    let flags = r.u8("flags")?;
    let kpa = flags & 0x01 != 0;
    let to_mmhg = |v: ObservationValue| if kpa { kpa_to_mmhg(v) } else { v };
    let (first, second, third) = if intermediate {
        ("current cuff pressure", "unused (diastolic)", "unused (mean arterial pressure)")
    } else {
        ("systolic", "diastolic", "mean arterial pressure")
    };
    let systolic = to_mmhg(r.sfloat(first)?);
    let diastolic = to_mmhg(r.sfloat(second)?);
    r.sfloat(third)?; // mean arterial pressure: no observation kind
    if flags & 0x02 != 0 {
        out.device_time = Some(r.date_time("time stamp")?);
    }
    let pulse = if flags & 0x04 != 0 { Some(r.sfloat("pulse rate")?) } else { None };
    if flags & 0x08 != 0 {
        out.user = Some(r.u8("user id")?).filter(|&u| u != 0xFF);
    }
    if flags & 0x10 != 0 {
        let bits = r.u16("measurement status")?;
        out.status.extend(flag_names(u32::from(bits), &STATUS));
        match (bits >> 3) & 0b11 {
            1 => out.status.push("pulse_rate_above_upper_limit"),
            2 => out.status.push("pulse_rate_below_lower_limit"),
            _ => {}
        }
    }
    if intermediate {
        let what = shown_value(systolic, "mm[Hg]");
        out.reject(
            Kind::BpSystolic,
            format!("intermediate cuff pressure {what} while the cuff inflates: not a blood pressure"),
        );
        return Ok(());
    }
    out.measure(Kind::BpSystolic, systolic, 0);
    out.measure(Kind::BpDiastolic, diastolic, 0);
    if let Some(p) = pulse {
        out.measure(Kind::HeartRate, p, 0);
    }
    Ok(())
}

pub(super) fn feature(r: &mut Reader<'_>, out: &mut Decoded) -> Result<(), DecodeError> {
    let bits = r.u16("blood pressure feature")?;
    out.info = Some(DeviceInfo::Features(flag_names(u32::from(bits), &FEATURES)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Characteristic, DeviceTime, decode, ieee11073::encode_sfloat, no_panic_tests::Rng};
    use super::*;

    fn q(d: &Decoded) -> Vec<(Kind, f64)> {
        d.readings.iter().map(|r| (r.kind, r.value.quantity().unwrap())).collect()
    }

    #[test]
    fn nordic_measurement_vectors() {
        // Nordic Android-BLE-Common-Library (BSD-3), BloodPressureMeasurementDataCallbackTest.
        // onBloodPressureMeasurementReceived_full: 138/88 mmHg, MAP 120, date with year 0
        // (not known), pulse 60, user 1, status 0x27.
        let full = [
            0x1E, 0x8A, 0x00, 0x58, 0x00, 0x78, 0x00, 0x00, 0x00, 0x04, 0x11, 0x14, 0x29, 0x3B, 0x3C, 0x00,
            0x01, 0x27, 0x00,
        ];
        let d = decode(Characteristic::BloodPressureMeasurement, &full).unwrap();
        assert_eq!(q(&d), [(Kind::BpSystolic, 138.0), (Kind::BpDiastolic, 88.0), (Kind::HeartRate, 60.0)]);
        assert_eq!(d.device_time, Some(DeviceTime::NotSet));
        assert_eq!(d.user, Some(1));
        assert_eq!(d.status, ["body_movement", "cuff_too_loose", "irregular_pulse", "improper_position"]);
        // _some: kPa 18.9/11.0, MAP 15.9, pulse 60, status 0x12 (cuff loose, pulse below range).
        let some = [0x15, 0xBD, 0xF0, 0x0B, 0x00, 0x9F, 0xF0, 0x3C, 0x00, 0x12, 0x00];
        let d = decode(Characteristic::BloodPressureMeasurement, &some).unwrap();
        assert_eq!(
            q(&d),
            [
                (Kind::BpSystolic, 18.9 * 1000.0 / 133.322),
                (Kind::BpDiastolic, 11.0 * 1000.0 / 133.322),
                (Kind::HeartRate, 60.0)
            ]
        );
        assert_eq!(d.status, ["cuff_too_loose", "pulse_rate_below_lower_limit"]);
        assert_eq!(d.user, None);
        // _minimal: 18.9/11.0 in mmHg: implausible pressures, refused with the range.
        let d = decode(Characteristic::BloodPressureMeasurement, &[0x00, 0xBD, 0xF0, 0x0B, 0x00, 0x9F, 0xF0])
            .unwrap();
        assert!(d.readings.is_empty());
        assert_eq!(d.rejected[0].reason, "18.9 mm[Hg] is outside the plausible range 40..=300 mm[Hg]");
        // onInvalidDataReceived_toShort (6 bytes) and _noTimestamp (flags 3, 7 bytes).
        let e = decode(Characteristic::BloodPressureMeasurement, &[1, 2, 3, 4, 5, 6]).unwrap_err();
        assert_eq!((e.field, e.offset), ("mean arterial pressure", 5));
        let e = decode(Characteristic::BloodPressureMeasurement, &[3, 2, 3, 4, 5, 6, 7]).unwrap_err();
        assert_eq!((e.field, e.offset), ("time stamp", 7));
    }

    #[test]
    fn nordic_intermediate_cuff_pressure_vectors() {
        // Nordic IntermediateCuffPressureDataCallbackTest _full: cuff 4 mmHg, user 1.
        let full = [
            0x1E, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x11, 0x14, 0x29, 0x3B, 0x3C, 0x00,
            0x01, 0x27, 0x00,
        ];
        let d = decode(Characteristic::IntermediateCuffPressure, &full).unwrap();
        assert!(d.readings.is_empty());
        assert_eq!(d.rejected.len(), 1);
        assert!(d.rejected[0].reason.starts_with("intermediate cuff pressure 4 mm[Hg]"));
        assert_eq!(d.user, Some(1));
        // _some: 11.1 kPa.
        let some = [0x15, 0x6F, 0xF0, 0x00, 0x00, 0x00, 0x00, 0x3C, 0x0, 0x12, 0x0];
        let d = decode(Characteristic::IntermediateCuffPressure, &some).unwrap();
        assert!(d.rejected[0].reason.contains("83.257 mm[Hg]"), "{}", d.rejected[0].reason);
    }

    #[test]
    fn unknown_user_and_special_values() {
        // User 0xFF is "unknown user"; a systolic NaN is an absence, not a number.
        let b = [0x08, 0xFF, 0x07, 80, 0, 90, 0, 0xFF];
        let d = decode(Characteristic::BloodPressureMeasurement, &b).unwrap();
        assert_eq!(d.user, None);
        assert_eq!(d.readings[0].value, ObservationValue::Absent(crate::domain::AbsentReason::NotANumber));
        assert_eq!(q_of(&d.readings[1]), 80.0);
        let e =
            decode(Characteristic::BloodPressureMeasurement, &[0x10, 120, 0, 80, 0, 90, 0, 0]).unwrap_err();
        assert_eq!((e.field, e.offset), ("measurement status", 7));
    }

    fn q_of(r: &super::super::Reading) -> f64 {
        r.value.quantity().unwrap()
    }

    #[test]
    fn features() {
        // SpeziBluetooth BloodPressureTests "Blood Pressure Feature Strings": 0x1FF = all nine.
        let d = decode(Characteristic::BloodPressureFeature, &[0xFF, 0x01]).unwrap();
        assert!(matches!(d.info, Some(DeviceInfo::Features(ref f)) if f.len() == 9));
    }

    #[test]
    fn round_trip() {
        let mut rng = Rng(3);
        for _ in 0..2000 {
            let sys = 40 + rng.pick::<i16>(261); // whole mmHg: the 12-bit mantissa stops at 2047
            let dia = 200 + rng.pick::<i16>(1800);
            let pulse = 20 + rng.pick::<i16>(281);
            let user = rng.pick::<u8>(255);
            let mut b = vec![0x0C];
            for v in
                [encode_sfloat(sys, 0), encode_sfloat(dia, -1), encode_sfloat(0, 0), encode_sfloat(pulse, 0)]
            {
                b.extend(v.to_le_bytes());
            }
            b.push(user);
            let d = decode(Characteristic::BloodPressureMeasurement, &b).unwrap();
            let want = [
                (Kind::BpSystolic, f64::from(sys)),
                (Kind::BpDiastolic, f64::from(dia) / 10.0),
                (Kind::HeartRate, f64::from(pulse)),
            ];
            assert_eq!(q(&d), want);
            assert_eq!(d.user, Some(user));
        }
    }
}

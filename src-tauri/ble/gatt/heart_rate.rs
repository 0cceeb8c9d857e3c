//! Heart Rate service 0x180D (HRS 1.0): Heart Rate Measurement 0x2A37 (HRS 3.1, GSS 3.113)
//! and Body Sensor Location 0x2A38 (HRS 3.2, GSS 3.32).
//!
//! Heart Rate Measurement: Flags (uint8): bit 0 the heart rate is uint16 (else uint8), bit 1
//! sensor contact detected, bit 2 sensor contact supported, bit 3 Energy Expended present,
//! bit 4 RR-Intervals present; bits 5-7 reserved. Then the heart rate (/min), Energy Expended
//! (uint16, kJ) and RR intervals (uint16 each, 1/1024 s) to the end of the value.

use super::reader::Reader;
use super::{DecodeError, Decoded, DeviceInfo};
use crate::domain::{Kind, ObservationValue};

const U16_HEART_RATE: u8 = 1 << 0;
const CONTACT_DETECTED: u8 = 1 << 1;
const CONTACT_SUPPORTED: u8 = 1 << 2;
const ENERGY_EXPENDED: u8 = 1 << 3;
const RR_INTERVALS: u8 = 1 << 4;

pub(super) fn measurement(r: &mut Reader<'_>, out: &mut Decoded) -> Result<(), DecodeError> {
    let flags = r.u8("flags")?;
    let rate = if flags & U16_HEART_RATE != 0 {
        r.u16("heart rate (uint16)")?
    } else {
        u16::from(r.u8("heart rate (uint8)")?)
    };
    if flags & ENERGY_EXPENDED != 0 {
        // Energy Expended (kJ since the last reset) has no observation kind: read and ignored.
        r.u16("energy expended")?;
    }
    let mut rr: Vec<u16> = Vec::new();
    if flags & RR_INTERVALS != 0 {
        let start = r.offset();
        let bytes = r.rest();
        if bytes.is_empty() {
            return Err(r.error_at(
                "rr intervals",
                start,
                "missing: the flags announce at least one RR interval",
            ));
        }
        if bytes.len() % 2 != 0 {
            return Err(r.error_at(
                "rr intervals",
                start,
                format!("{} bytes is not a whole number of uint16 intervals", bytes.len()),
            ));
        }
        rr = bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    }

    // HRS 3.1.1.2: when contact is supported but not detected, the value is not the patient's.
    let no_contact = flags & CONTACT_SUPPORTED != 0 && flags & CONTACT_DETECTED == 0;
    if no_contact {
        out.status.push("sensor_contact_not_detected");
        const WHY: &str = "the sensor reports no skin contact (sensor contact supported, not detected)";
        out.reject(Kind::HeartRate, WHY);
        for _ in &rr {
            out.reject(Kind::RrInterval, WHY);
        }
        return Ok(());
    }
    out.measure(Kind::HeartRate, ObservationValue::Quantity(f64::from(rate)), 0);
    // Each interval ends where the next begins; the last ends at the notification (offset 0).
    let mut later: u64 = rr.iter().map(|&v| u64::from(v)).sum();
    for &v in &rr {
        later -= u64::from(v);
        out.measure(Kind::RrInterval, ObservationValue::Quantity(rr_ms(v)), -ms_of_1024ths(later));
    }
    Ok(())
}

/// An RR interval in ms: 1/1024 s × 1000 is exact in binary.
fn rr_ms(v: u16) -> f64 {
    f64::from(v) * 1000.0 / 1024.0
}

/// A count of 1/1024 s, in whole milliseconds (rounded half up).
fn ms_of_1024ths(v: u64) -> i64 {
    // Nine uint16 intervals at most per ATT MTU, so far below i64::MAX; clamp anyway.
    i64::try_from((v.saturating_mul(1000) + 512) / 1024).unwrap_or(i64::MAX)
}

/// Body Sensor Location (GSS 3.32): 0 other, 1 chest, 2 wrist, 3 finger, 4 hand, 5 ear lobe,
/// 6 foot; 7-255 reserved.
pub(super) fn sensor_location(r: &mut Reader<'_>, out: &mut Decoded) -> Result<(), DecodeError> {
    let location = match r.u8("body sensor location")? {
        0 => "other",
        1 => "chest",
        2 => "wrist",
        3 => "finger",
        4 => "hand",
        5 => "ear_lobe",
        6 => "foot",
        _ => "reserved",
    };
    out.info = Some(DeviceInfo::SensorLocation(location));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Characteristic, decode};
    use super::*;

    fn hr(bytes: &[u8]) -> Decoded {
        decode(Characteristic::HeartRateMeasurement, bytes).unwrap()
    }

    fn values(d: &Decoded, kind: Kind) -> Vec<(f64, i64)> {
        d.readings
            .iter()
            .filter(|r| r.kind == kind)
            .map(|r| (r.value.quantity().unwrap(), r.offset_ms))
            .collect()
    }

    #[test]
    fn nordic_vectors() {
        // Nordic Android-BLE-Common-Library (BSD-3), HeartRateMeasurementDataCallbackTest.
        // onHeartRateMeasurementReceived_simple: uint8 85, no contact information.
        let d = hr(&[0, 85]);
        assert_eq!(values(&d, Kind::HeartRate), [(85.0, 0)]);
        assert!(d.rejected.is_empty() && d.status.is_empty());
        // ..._noContact: flags 0x04 (contact supported, not detected), 255: not stored.
        let d = hr(&[0x04, 0xFF]);
        assert!(d.readings.is_empty());
        assert_eq!(d.rejected.len(), 1);
        assert!(d.rejected[0].reason.contains("no skin contact"));
        assert_eq!(d.status, ["sensor_contact_not_detected"]);
        // ..._uint8: 0b11110: contact detected, energy 50 (ignored), one RR of 33/1024 s.
        // 33/1024 s = 32.2 ms is below the plausible RR range: rejected, as the store would.
        let d = hr(&[0b11110, 85, 50, 0, 33, 0]);
        assert_eq!(values(&d, Kind::HeartRate), [(85.0, 0)]);
        assert_eq!(d.rejected.len(), 1);
        assert!(d.rejected[0].reason.starts_with("32.227 ms is outside"), "{}", d.rejected[0].reason);
        // ..._uint16: 257, energy 306, RR 1, 258 and 65535 (1/1024 s). 258/1024 s = 251.95 ms
        // is kept, and ends 65535/1024 s = 63999 ms before the notification; 1/1024 s (1 ms)
        // and 65535/1024 s (64 s) are outside the plausible range.
        let d = hr(&[0b11111, 1, 1, 50, 1, 1, 0, 2, 1, 0xFF, 0xFF]);
        assert_eq!(values(&d, Kind::HeartRate), [(257.0, 0)]);
        assert_eq!(values(&d, Kind::RrInterval), [(251.953125, -63999)]);
        assert_eq!(d.rejected.iter().filter(|r| r.kind == Kind::RrInterval).count(), 2);
        // onInvalidDataReceived: 0b10111 announces uint16 rate, energy and RR; 3 bytes.
        let e = decode(Characteristic::HeartRateMeasurement, &[0b10111, 1, 1]).unwrap_err();
        assert_eq!(e.field, "rr intervals");
        assert_eq!(e.offset, 3);
    }

    #[test]
    fn bumble_vector() {
        // Google Bumble (Apache-2.0), tests/heart_rate_service_test.py test_read_measurement,
        // parameters (1000, True, 2, (3.0, 4.0, 5.0)), bytes as HeartRateMeasurement.__bytes__
        // makes them: flags 0x1F, 1000 as uint16, energy 2, RR 3072, 4096, 5120 (1/1024 s).
        let d = hr(&[0x1F, 0xE8, 0x03, 0x02, 0x00, 0x00, 0x0C, 0x00, 0x10, 0x00, 0x14]);
        // 1000/min and RR 4 s, 5 s are outside the plausible ranges; RR 3 s is kept, and it
        // ends 9 s before the notification.
        assert_eq!(values(&d, Kind::RrInterval), [(3000.0, -9000)]);
        assert_eq!(d.rejected.len(), 3);
    }

    #[test]
    fn rr_intervals_are_placed_back_from_the_notification() {
        // 768, 832, 896 / 1024 s = 750, 812.5, 875 ms; the first ends 812.5 + 875 = 1687.5 ms
        // (rounded half up to 1688) before the notification.
        let d = hr(&[0x10, 72, 0x00, 0x03, 0x40, 0x03, 0x80, 0x03]);
        assert_eq!(values(&d, Kind::RrInterval), [(750.0, -1688), (812.5, -875), (875.0, 0)]);
        assert_eq!(values(&d, Kind::HeartRate), [(72.0, 0)]);
    }

    #[test]
    fn malformed_values_name_the_field_and_offset() {
        let err = |b: &[u8]| decode(Characteristic::HeartRateMeasurement, b).unwrap_err();
        let e = err(&[]);
        assert_eq!((e.field, e.offset), ("flags", 0));
        let e = err(&[0x01, 72]);
        assert_eq!((e.field, e.offset), ("heart rate (uint16)", 1));
        assert_eq!(
            e.to_string(),
            "heart_rate_measurement: heart rate (uint16) at byte 1: needs 2 bytes, the value has 1 left"
        );
        let e = err(&[0x10, 72, 0x00, 0x03, 0x40]);
        assert_eq!((e.field, e.offset), ("rr intervals", 2));
        assert!(e.problem.contains("3 bytes"));
        let e = err(&[0x10, 72]);
        assert_eq!((e.field, e.offset), ("rr intervals", 2));
        let e = err(&[0x00, 72, 0]);
        assert_eq!((e.field, e.offset), ("end of value", 2));
    }

    #[test]
    fn sensor_location() {
        let d = decode(Characteristic::BodySensorLocation, &[1]).unwrap();
        assert_eq!(d.info, Some(DeviceInfo::SensorLocation("chest")));
        assert!(decode(Characteristic::BodySensorLocation, &[1, 2]).is_err());
    }

    /// A test-only encoder: decode(encode(x)) == x over generated values.
    #[test]
    fn round_trip() {
        let mut rng = super::super::no_panic_tests::Rng(7);
        for _ in 0..2000 {
            let rate = 20 + rng.pick::<u16>(280);
            let n = rng.pick::<usize>(10);
            let rr: Vec<u16> = (0..n).map(|_| 205 + rng.pick::<u16>(2800)).collect();
            let wide = rate > 255 || rng.below(2) == 1;
            let energy = rng.below(2) == 1;
            let mut b = vec![0u8];
            let mut flags = CONTACT_SUPPORTED | CONTACT_DETECTED;
            if wide {
                flags |= U16_HEART_RATE;
                b.extend(rate.to_le_bytes());
            } else {
                b.push(u8::try_from(rate).unwrap());
            }
            if energy {
                flags |= ENERGY_EXPENDED;
                b.extend(1234u16.to_le_bytes());
            }
            if n > 0 {
                flags |= RR_INTERVALS;
                rr.iter().for_each(|v| b.extend(v.to_le_bytes()));
            }
            b[0] = flags;
            let d = hr(&b);
            assert_eq!(values(&d, Kind::HeartRate), [(f64::from(rate), 0)]);
            let got: Vec<f64> = values(&d, Kind::RrInterval).iter().map(|x| x.0 * 1024.0 / 1000.0).collect();
            let want: Vec<f64> = rr.iter().map(|&v| f64::from(v)).collect();
            assert_eq!(got, want);
            assert!(d.rejected.is_empty());
        }
    }
}

//! Weight Scale service 0x181D (WSS 1.0): Weight Measurement 0x2A9D (WSS 3.1, GSS "Weight
//! Measurement") and Weight Scale Feature 0x2A9E (WSS 3.2).
//!
//! Flags (uint8): bit 0 imperial (else SI), bit 1 Time Stamp, bit 2 User ID, bit 3 BMI and
//! Height present; bits 4-7 reserved. Weight (uint16): SI kg with resolution 0.005, imperial
//! lb with resolution 0.01; 0xFFFF is "measurement unsuccessful". Then Time Stamp (Date
//! Time), User ID (uint8, 0xFF unknown user), BMI (uint16, 0.1 kg/m2) and Height (uint16,
//! 0.001 m or 0.1 in). BMI and height have no observation kind: read and dropped.
//!
//! The weight's resolution is fixed by the characteristic (GSS: "resolution of 0.005 kg" /
//! "0.01 lb"); the Weight Scale Feature's Weight Resolution says how fine the scale measures,
//! not a different scale factor. SpeziBluetooth's `WeightMeasurement.weight(of:)` multiplies
//! by the feature's resolution instead; we follow the SIG text.

use super::convert::pounds_to_kg;
use super::reader::Reader;
use super::{DecodeError, Decoded, DeviceInfo, flag_names};
use crate::domain::{Kind, ObservationValue};

/// Weight Scale Feature (WSS 3.2.1.1, uint32): bits 0-2 flags, 3-6 weight resolution, 7-9
/// height resolution, 10-31 reserved.
const FEATURES: [(u32, &str); 3] = [(0, "time_stamp"), (1, "multiple_users"), (2, "bmi")];

const WEIGHT_RESOLUTION: [&str; 8] = [
    "weight_resolution_not_specified",
    "weight_resolution_0.5_kg_or_1_lb",
    "weight_resolution_0.2_kg_or_0.5_lb",
    "weight_resolution_0.1_kg_or_0.2_lb",
    "weight_resolution_0.05_kg_or_0.1_lb",
    "weight_resolution_0.02_kg_or_0.05_lb",
    "weight_resolution_0.01_kg_or_0.02_lb",
    "weight_resolution_0.005_kg_or_0.01_lb",
];

const HEIGHT_RESOLUTION: [&str; 4] = [
    "height_resolution_not_specified",
    "height_resolution_0.01_m_or_1_in",
    "height_resolution_0.005_m_or_0.5_in",
    "height_resolution_0.001_m_or_0.1_in",
];

pub(super) fn measurement(r: &mut Reader<'_>, out: &mut Decoded) -> Result<(), DecodeError> {
    let flags = r.u8("flags")?;
    let raw = r.u16("weight")?;
    if flags & 0x02 != 0 {
        out.device_time = Some(r.date_time("time stamp")?);
    }
    if flags & 0x04 != 0 {
        out.user = Some(r.u8("user id")?).filter(|&u| u != 0xFF);
    }
    if flags & 0x08 != 0 {
        r.u16("bmi")?;
        r.u16("height")?;
    }
    if raw == 0xFFFF {
        out.reject(Kind::BodyWeight, "the scale reports measurement unsuccessful (0xFFFF)");
        return Ok(());
    }
    let kg = if flags & 0x01 != 0 { pounds_to_kg(f64::from(raw) / 100.0) } else { f64::from(raw) * 0.005 };
    out.measure(Kind::BodyWeight, ObservationValue::Quantity(kg), 0);
    Ok(())
}

pub(super) fn feature(r: &mut Reader<'_>, out: &mut Decoded) -> Result<(), DecodeError> {
    let bits = r.u32("weight scale feature")?;
    let mut names = flag_names(bits, &FEATURES);
    let weight = usize::try_from((bits >> 3) & 0x0F).unwrap_or(0);
    names.push(WEIGHT_RESOLUTION.get(weight).copied().unwrap_or("weight_resolution_reserved"));
    let height = usize::try_from((bits >> 7) & 0x07).unwrap_or(0);
    names.push(HEIGHT_RESOLUTION.get(height).copied().unwrap_or("height_resolution_reserved"));
    out.info = Some(DeviceInfo::Features(names));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Characteristic, DeviceTime, decode, no_panic_tests::Rng};
    use super::*;

    fn kg(d: &Decoded) -> Vec<f64> {
        d.readings.iter().map(|r| r.value.quantity().unwrap()).collect()
    }

    #[test]
    fn spezi_vectors() {
        // SpeziBluetooth (MIT), WeightScaleTests "WeightMeasurement Resolutions" with the
        // unspecified resolution: 120 SI = 0.6 kg; 120 imperial = 1.2 lb. (Its scaling by the
        // feature's resolution disagrees with the GSS text; see the module comment.)
        let d = decode(Characteristic::WeightMeasurement, &[0x00, 120, 0]).unwrap();
        assert_eq!(kg(&d), [0.6]);
        let d = decode(Characteristic::WeightMeasurement, &[0x01, 120, 0]).unwrap();
        assert_eq!(kg(&d), [1.2 * 0.453_592_37]);
        // "WeightMeasurement" with time 13:12:12 (date not known) and user 23: clock not set.
        let d =
            decode(Characteristic::WeightMeasurement, &[0x06, 123, 0, 0, 0, 0, 0, 13, 12, 12, 23]).unwrap();
        assert_eq!(d.device_time, Some(DeviceTime::NotSet));
        assert_eq!(d.user, Some(23));
        assert_eq!(kg(&d), [0.615]);
        // "WeightScaleFeature": time stamp, multiple users and BMI (0x07).
        let d = decode(Characteristic::WeightScaleFeature, &[0x07, 0, 0, 0]).unwrap();
        let want = vec![
            "time_stamp",
            "multiple_users",
            "bmi",
            "weight_resolution_not_specified",
            "height_resolution_not_specified",
        ];
        assert_eq!(d.info, Some(DeviceInfo::Features(want)));
    }

    #[test]
    fn unsuccessful_bmi_and_truncation() {
        let d = decode(Characteristic::WeightMeasurement, &[0x00, 0xFF, 0xFF]).unwrap();
        assert!(d.readings.is_empty());
        assert!(d.rejected[0].reason.contains("measurement unsuccessful"));
        // 72.5 kg = 14500 × 0.005, user 0xFF (unknown), BMI 23.0 and height 1.776 m dropped.
        let d =
            decode(Characteristic::WeightMeasurement, &[0x0C, 0xA4, 0x38, 0xFF, 230, 0, 0xF0, 0x06]).unwrap();
        assert_eq!(kg(&d), [72.5]);
        assert_eq!(d.user, None);
        let e = decode(Characteristic::WeightMeasurement, &[0x08, 0xA4, 0x38, 230, 0]).unwrap_err();
        assert_eq!((e.field, e.offset), ("height", 5));
    }

    #[test]
    fn round_trip() {
        let mut rng = Rng(9);
        for _ in 0..2000 {
            let raw = 200 + rng.pick::<u16>(60_000);
            let imperial = rng.below(2) == 1;
            let mut b = vec![u8::from(imperial) | 0x04];
            b.extend(raw.to_le_bytes());
            b.push(rng.pick::<u8>(255));
            let d = decode(Characteristic::WeightMeasurement, &b).unwrap();
            let want = if imperial { f64::from(raw) / 100.0 * 0.453_592_37 } else { f64::from(raw) * 0.005 };
            assert_eq!(kg(&d), [want]);
        }
    }
}

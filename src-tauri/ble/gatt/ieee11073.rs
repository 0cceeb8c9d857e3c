//! IEEE 11073-20601 SFLOAT and FLOAT (ISO/IEEE 11073-20601:2022, 8.3 "Numeric data types"
//! and its annex on special values; the Bluetooth GSS 2.2 uses the same encodings as
//! "medfloat16" and "medfloat32").
//!
//! SFLOAT: 16 bits, a 4-bit signed exponent (high nibble) and a 12-bit signed mantissa; value
//! = mantissa × 10^exponent. FLOAT: 32 bits, an 8-bit signed exponent and a 24-bit signed
//! mantissa. Special values are mantissas with exponent 0: NaN (2^11 − 1 / 2^23 − 1), NRes
//! (−2^11 / −2^23), +INF (2^11 − 2 / 2^23 − 2), −INF (−(2^11 − 2) / −(2^23 − 2)) and a reserved
//! value (−(2^11 − 1) / −(2^23 − 1)). Each is an absence with its reason, never a number.

use crate::domain::{AbsentReason, ObservationValue};

/// The value of an SFLOAT.
pub fn sfloat(raw: u16) -> ObservationValue {
    match raw {
        0x07FF => ObservationValue::Absent(AbsentReason::NotANumber),
        0x0800 => ObservationValue::Absent(AbsentReason::NotAtThisResolution),
        0x07FE => ObservationValue::Absent(AbsentReason::PositiveInfinity),
        0x0802 => ObservationValue::Absent(AbsentReason::NegativeInfinity),
        0x0801 => ObservationValue::Absent(AbsentReason::Error),
        _ => {
            let mantissa = sign_extend(u32::from(raw & 0x0FFF), 12);
            let exponent = sign_extend(u32::from(raw >> 12), 4);
            ObservationValue::Quantity(scale(mantissa, exponent))
        }
    }
}

/// The value of a FLOAT.
pub fn float(raw: u32) -> ObservationValue {
    match raw {
        0x007F_FFFF => ObservationValue::Absent(AbsentReason::NotANumber),
        0x0080_0000 => ObservationValue::Absent(AbsentReason::NotAtThisResolution),
        0x007F_FFFE => ObservationValue::Absent(AbsentReason::PositiveInfinity),
        0x0080_0002 => ObservationValue::Absent(AbsentReason::NegativeInfinity),
        0x0080_0001 => ObservationValue::Absent(AbsentReason::Error),
        _ => {
            let mantissa = sign_extend(raw & 0x00FF_FFFF, 24);
            let exponent = sign_extend(raw >> 24, 8);
            ObservationValue::Quantity(scale(mantissa, exponent))
        }
    }
}

/// The two's-complement value of the low `bits` bits of `v`.
fn sign_extend(v: u32, bits: u32) -> i32 {
    let shift = 32 - bits;
    // Move the field's sign bit to bit 31, reinterpret, then shift back arithmetically.
    i32::from_ne_bytes((v << shift).to_ne_bytes()) >> shift
}

/// mantissa × 10^exponent, correctly rounded: for |exponent| ≤ 22, 10^|exponent| is exact, so
/// one multiplication or division rounds once (dividing by 10^k rather than multiplying by
/// 10^−k keeps 376 × 10^−1 at the double nearest 37.6); beyond, Rust's decimal parser rounds
/// `{mantissa}e{exponent}` correctly (only FLOAT reaches there).
fn scale(mantissa: i32, exponent: i32) -> f64 {
    let m = f64::from(mantissa);
    if exponent.abs() <= 22 {
        let p = 10f64.powi(exponent.abs());
        return if exponent >= 0 { m * p } else { m / p };
    }
    format!("{mantissa}e{exponent}").parse().unwrap_or_else(|_| m * 10f64.powi(exponent))
}

/// An SFLOAT from its parts (tests only: the encoders of the
/// round-trip tests).
#[cfg(test)]
pub(crate) fn encode_sfloat(mantissa: i16, exponent: i8) -> u16 {
    let m = u16::from_ne_bytes(mantissa.to_ne_bytes()) & 0x0FFF;
    let e = u16::from(u8::from_ne_bytes(exponent.to_ne_bytes()) & 0x0F);
    (e << 12) | m
}

/// A FLOAT from its parts (tests only).
#[cfg(test)]
pub(crate) fn encode_float(mantissa: i32, exponent: i8) -> u32 {
    let m = u32::from_ne_bytes(mantissa.to_ne_bytes()) & 0x00FF_FFFF;
    let e = u32::from(u8::from_ne_bytes(exponent.to_ne_bytes()));
    (e << 24) | m
}

#[cfg(test)]
mod tests {
    use super::*;
    use ObservationValue::{Absent, Quantity};

    #[test]
    fn sfloat_special_values_are_absences_with_their_reason() {
        assert_eq!(sfloat(0x07FF), Absent(AbsentReason::NotANumber));
        assert_eq!(sfloat(0x0800), Absent(AbsentReason::NotAtThisResolution));
        assert_eq!(sfloat(0x07FE), Absent(AbsentReason::PositiveInfinity));
        assert_eq!(sfloat(0x0802), Absent(AbsentReason::NegativeInfinity));
        assert_eq!(sfloat(0x0801), Absent(AbsentReason::Error));
        // The same mantissas with a non-zero exponent are ordinary numbers.
        assert_eq!(sfloat(0x17FF), Quantity(20470.0));
    }

    #[test]
    fn float_special_values_are_absences_with_their_reason() {
        assert_eq!(float(0x007F_FFFF), Absent(AbsentReason::NotANumber));
        assert_eq!(float(0x0080_0000), Absent(AbsentReason::NotAtThisResolution));
        assert_eq!(float(0x007F_FFFE), Absent(AbsentReason::PositiveInfinity));
        assert_eq!(float(0x0080_0002), Absent(AbsentReason::NegativeInfinity));
        assert_eq!(float(0x0080_0001), Absent(AbsentReason::Error));
    }

    #[test]
    fn sfloat_vectors() {
        // Nordic Android-BLE-Common-Library, BloodPressureMeasurementDataCallbackTest
        // (_full, _some): 0x008A = 138, 0xF0BD = 189 × 10^-1, 0x003C = 60.
        assert_eq!(sfloat(0x008A), Quantity(138.0));
        assert_eq!(sfloat(0xF0BD), Quantity(18.9));
        assert_eq!(sfloat(0x003C), Quantity(60.0));
        // SpeziBluetooth PLXTests "PLXSpotCheckMeasurement": 0xF3AC = 940 × 10^-1 = 94.0,
        // 0xE366 = 870 × 10^-2 = 8.7.
        assert_eq!(sfloat(0xF3AC), Quantity(94.0));
        assert_eq!(sfloat(0xE366), Quantity(8.7));
        // Negative mantissa and exponent extremes: 0x0FFF = -1; 0x7001 = 10^7; 0x8001 = 10^-8.
        assert_eq!(sfloat(0x0FFF), Quantity(-1.0));
        assert_eq!(sfloat(0x7001), Quantity(1e7));
        assert_eq!(sfloat(0x8001), Quantity(1e-8));
        assert_eq!(sfloat(0x0803), Quantity(-2045.0));
    }

    #[test]
    fn float_vectors() {
        // Nordic Android-BLE-Common-Library, TemperatureMeasurementDataCallbackTest:
        // B0 0E 00 FE = 3760 × 10^-2 = 37.60 °C.
        assert_eq!(float(u32::from_le_bytes([0xB0, 0x0E, 0x00, 0xFE])), Quantity(37.6));
        assert_eq!(float(0x00FF_FFFF), Quantity(-1.0));
        assert_eq!(float(0xFF00_0171), Quantity(36.9));
        assert_eq!(float(0x7F00_0001), Quantity(1e127));
    }

    #[test]
    fn every_sfloat_decodes_to_a_finite_number_or_an_absence() {
        for raw in 0..=u16::MAX {
            match sfloat(raw) {
                Quantity(v) => assert!(v.is_finite(), "{raw:#06x}"),
                Absent(_) => assert!(matches!(raw, 0x07FE..=0x0802), "{raw:#06x}"),
            }
        }
    }

    #[test]
    fn encoders_round_trip() {
        for m in -2045i16..=2045 {
            for e in -8i8..=7 {
                let v = sfloat(encode_sfloat(m, e));
                assert_eq!(v, Quantity(scale(i32::from(m), i32::from(e))), "{m}e{e}");
            }
        }
        for (m, e) in [(8_388_605, 127), (-8_388_605, -128), (0, 0), (123_456, -3)] {
            assert_eq!(float(encode_float(m, e)), Quantity(scale(m, i32::from(e))));
        }
    }
}

use chrono::NaiveDate;

use super::super::ieee11073::encode_sfloat;
use super::super::no_panic_tests::Rng;
use super::super::{Characteristic, DeviceTime, decode};
use super::*;

fn mmol(d: &Decoded) -> Vec<f64> {
    d.readings.iter().map(|r| r.value.quantity().unwrap()).collect()
}

#[test]
fn nordic_measurement_vector() {
    // Nordic Android-BLE-Common-Library (BSD-3), GlucoseMeasurementDataCallbackTest
    // onGlucoseMeasurementReceived: sequence 1, 2019-02-27 11:10:30 with offset -5 min,
    // 30 kg/L (SFLOAT 0x001E), capillary plasma at the finger, status 0x0105. Nordic's comment
    // names the bits "Low battery, Device Fault, Sensor Temp too low"; by GLS 3.106.2.6 bit 2
    // is "sample size insufficient" (its assertion that generalDeviceFault is false agrees).
    let b = [0b011011, 1, 0, 0xE3, 0x07, 2, 27, 11, 10, 30, 0xFB, 0xFF, 30, 0, 0x12, 0b101, 0b1];
    let d = decode(Characteristic::GlucoseMeasurement, &b).unwrap();
    assert_eq!(d.sequence, Some(1));
    let t = NaiveDate::from_ymd_opt(2019, 2, 27).unwrap().and_hms_opt(11, 5, 30).unwrap();
    assert_eq!(d.device_time, Some(DeviceTime::At(t)));
    assert_eq!(d.status, ["device_battery_low", "sample_size_insufficient", "sensor_temperature_too_low"]);
    assert!(d.readings.is_empty());
    assert_eq!(
        d.rejected[0].reason,
        "the meter reports sample_size_insufficient, sensor_temperature_too_low"
    );
    // onInvalidDataReceived: the time offset is announced and missing, so every later field
    // shifts and the status annunciation runs out.
    let e = decode(
        Characteristic::GlucoseMeasurement,
        &[0b011011, 0, 0, 0xE2, 0x07, 4, 26, 11, 9, 30, 30, 0, 0x12, 0b101, 0b1],
    )
    .unwrap_err();
    assert_eq!((e.field, e.offset), ("sensor status annunciation", 15));
}

#[test]
fn units_and_sample_types() {
    // 90 mg/dL = 0.0009 kg/L = 900 × 10^-6 (SFLOAT 0xA384): 4.9957 mmol/L.
    let kg = [0x02, 7, 0, 0xEA, 0x07, 3, 1, 8, 0, 0, 0x84, 0xA3, 0x11];
    let d = decode(Characteristic::GlucoseMeasurement, &kg).unwrap();
    assert_eq!(mmol(&d), [0.0009 * 1e6 / GLUCOSE_MOLAR_MASS]);
    assert!((mmol(&d)[0] - 4.9957).abs() < 1e-4);
    assert_eq!(d.sequence, Some(7));
    // 5.5 mmol/L = 55 × 10^-4 mol/L (SFLOAT 0xC037), mol/L flag.
    let mol = [0x06, 8, 0, 0xEA, 0x07, 3, 1, 8, 0, 0, 0x37, 0xC0, 0x11];
    assert_eq!(mmol(&decode(Characteristic::GlucoseMeasurement, &mol).unwrap()), [55.0 / 1e4 * 1000.0]);
    // Control solution (type 10) is not the patient's.
    let control = [0x06, 8, 0, 0xEA, 0x07, 3, 1, 8, 0, 0, 0x37, 0xC0, 0x1A];
    let d = decode(Characteristic::GlucoseMeasurement, &control).unwrap();
    assert!(d.readings.is_empty() && d.rejected[0].reason.contains("control solution"));
    // No concentration: the record carries only its time and sequence.
    let d = decode(Characteristic::GlucoseMeasurement, &[0x00, 9, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    assert_eq!((d.sequence, d.device_time, d.readings.len()), (Some(9), Some(DeviceTime::NotSet), 0));
}

#[test]
fn nordic_context_vectors() {
    // Nordic GlucoseMeasurementContextDataCallbackTest _full: flags 0xFF, sequence 0, extended
    // flags, carbohydrate (dinner, 100), meal 4 (casual), tester-health 0x12, exercise 60 s at
    // 50 %, medication 4, HbA1c. Nordic writes the SFLOATs from floats; ours are equivalent.
    let full = [0xFF, 0, 0, 0xB3, 3, 100, 0, 4, 0x12, 60, 0, 50, 4, 0xD3, 0xF4, 0x59, 0xF1];
    let d = decode(Characteristic::GlucoseMeasurementContext, &full).unwrap();
    assert_eq!(d.sequence, Some(0));
    assert_eq!(d.status, ["meal_casual"]);
    // _empty: flags 0, sequence 1. Nordic sends it in a 17-byte buffer and ignores the 14
    // trailing zeros; trailing bytes no flag explains are an error here, so the 3 bytes alone.
    let d = decode(Characteristic::GlucoseMeasurementContext, &[0, 1, 0]).unwrap();
    assert_eq!(d.sequence, Some(1));
    assert_eq!(decode(Characteristic::GlucoseMeasurementContext, &[0, 1, 0, 0]).unwrap_err().offset, 3);
    // onInvalidDataReceived: all flags, 5 bytes.
    let e = decode(Characteristic::GlucoseMeasurementContext, &[0xFF, 0, 0, 0xB3, 3]).unwrap_err();
    assert_eq!((e.field, e.offset), ("carbohydrate", 5));
}

#[test]
fn nordic_feature_vector() {
    // Nordic GlucoseFeatureDataCallbackTest: 0x03F0; an empty value is invalid.
    let d = decode(Characteristic::GlucoseFeature, &[0b1111_0000, 0b0000_0011]).unwrap();
    let want = vec![
        "strip_type_error_detection",
        "result_high_low_detection",
        "temperature_high_low_detection",
        "read_interrupt_detection",
        "general_device_fault",
        "time_fault",
    ];
    assert_eq!(d.info, Some(DeviceInfo::Features(want)));
    assert!(decode(Characteristic::GlucoseFeature, &[]).is_err());
}

#[test]
fn racp_requests() {
    assert_eq!(racp_request(RacpOp::ReportAll), [0x01, 0x01]);
    assert_eq!(racp_request(RacpOp::ReportFromSequence(0x0102)), [0x01, 0x03, 0x01, 0x02, 0x01]);
    assert_eq!(racp_request(RacpOp::ReportNumberOfRecords), [0x04, 0x01]);
    assert_eq!(racp_request(RacpOp::ReportNumberFromSequence(7)), [0x04, 0x03, 0x01, 7, 0]);
    assert_eq!(racp_request(RacpOp::Abort), [0x03, 0x00]);
}

#[test]
fn nordic_racp_vectors() {
    // Nordic RecordAccessControlPointDataCallbackTest.
    use RacpResponseCode::*;
    let resp = |req, code| Ok(RacpResponse::Response { request_op_code: req, code });
    assert_eq!(decode_racp(&[6, 0, 1, 1]), resp(1, Success));
    assert_eq!(decode_racp(&[6, 0, 12, 2]), resp(12, OpCodeNotSupported));
    assert_eq!(decode_racp(&[6, 0, 1, 3]), resp(1, InvalidOperator));
    assert_eq!(decode_racp(&[6, 0, 2, 4]), resp(2, OperatorNotSupported));
    assert_eq!(decode_racp(&[6, 0, 1, 5]), resp(1, InvalidOperand));
    assert_eq!(decode_racp(&[6, 0, 1, 6]), resp(1, NoRecordsFound));
    assert_eq!(decode_racp(&[6, 0, 3, 7]), resp(3, AbortUnsuccessful));
    assert_eq!(decode_racp(&[6, 0, 2, 8]), resp(2, ProcedureNotCompleted));
    assert_eq!(decode_racp(&[6, 0, 2, 9]), resp(2, OperandNotSupported));
    assert_eq!(decode_racp(&[6, 0, 1, 10]), resp(1, Reserved(10)));
    // onNumberOfRecordsReceived_uint16 and _uint32. Nordic also accepts a uint8 count
    // ({5, 0, 1}); the GSS defines uint16 (and uint32), so a 1-byte count is refused here.
    assert_eq!(decode_racp(&[5, 0, 2, 1]), Ok(RacpResponse::NumberOfRecords(258)));
    assert_eq!(decode_racp(&[5, 0, 4, 3, 2, 1]), Ok(RacpResponse::NumberOfRecords(16_909_060)));
    assert!(decode_racp(&[5, 0, 1]).is_err());
    // _unsupportedLength, _tooShort, _wrongOpCode, _invalidOperator.
    assert_eq!(decode_racp(&[5, 0, 3, 2, 1]).unwrap_err().field, "number of records");
    assert!(decode_racp(&[1, 1]).is_err());
    assert_eq!(decode_racp(&[1, 3, 1, 2, 0]).unwrap_err().field, "op code");
    assert_eq!(decode_racp(&[6, 1, 1]).unwrap_err().field, "operator");
    assert_eq!(decode_racp(&[6, 0, 1, 1, 0]).unwrap_err().field, "end of value");
    // Through `decode`: the response's name.
    assert_eq!(
        decode(Characteristic::RecordAccessControlPoint, &[6, 0, 1, 6]).unwrap().status,
        ["no_records_found"]
    );
}

#[test]
fn round_trip() {
    let mut rng = Rng(13);
    for _ in 0..2000 {
        let seq = rng.pick::<u16>(65_536);
        let tenths = 5 + rng.pick::<i16>(596); // 0.5..=60.0 mmol/L
        let offset = rng.pick::<i16>(600) - 300;
        let mut b = vec![0x07];
        b.extend(seq.to_le_bytes());
        b.extend([0xEA, 0x07, 6, 15, 12, 0, 0]);
        b.extend(offset.to_le_bytes());
        b.extend(encode_sfloat(tenths, -4).to_le_bytes()); // tenths × 10^-4 mol/L
        b.push(0x11);
        let d = decode(Characteristic::GlucoseMeasurement, &b).unwrap();
        assert_eq!(d.sequence, Some(seq));
        let got = mmol(&d)[0];
        assert!((got - f64::from(tenths) / 10.0).abs() < 1e-9, "{got} vs {tenths}");
        let base = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap().and_hms_opt(12, 0, 0).unwrap();
        assert_eq!(d.device_time, Some(DeviceTime::At(base + chrono::TimeDelta::minutes(offset.into()))));
    }
}

//! The CSV importer against the documented example files in `tests/fixtures/ingest/csv/`.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::DateTime;
use vigil::domain::{AbsentReason, Kind, ObservationValue, PatientRef};
use vigil::ingest::{CollectingSink, ParsedRecord, csv};

fn import(name: &str) -> CollectingSink {
    let path = format!("{}/tests/fixtures/ingest/csv/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap();
    let mut sink = CollectingSink::default();
    csv::parse(name, bytes.as_slice(), &mut sink).unwrap();
    sink
}

fn record(patient: Option<&str>, time: &str, kind: Kind, value: f64) -> ParsedRecord {
    ParsedRecord {
        patient: patient.map(PatientRef::parse),
        kind,
        value: ObservationValue::Quantity(value),
        effective: DateTime::parse_from_rfc3339(time).unwrap(),
    }
}

#[test]
fn long_example_imports_exactly() {
    let sink = import("long.csv");
    assert_eq!(sink.rejections, vec![]);
    let p = Some("MRN-1001");
    let t = "2024-03-01T08:00:00+01:00";
    let mut absent = record(Some("MRN-1002"), "2024-03-01T09:15:00Z", Kind::Spo2, 0.0);
    absent.value = ObservationValue::Absent(AbsentReason::NotPerformed);
    assert_eq!(
        sink.records,
        vec![
            record(p, t, Kind::HeartRate, 72.0),
            record(p, t, Kind::Spo2, 97.0),
            record(p, t, Kind::BpSystolic, 128.0),
            record(p, t, Kind::BpDiastolic, 84.0),
            record(p, t, Kind::BodyTemperature, (98.6 - 32.0) * 5.0 / 9.0),
            record(p, "2024-03-01T07:30:00+01:00", Kind::BodyWeight, 185.0 * 0.453_592_37),
            record(Some("MRN-1002"), "2024-03-01T09:15:00Z", Kind::RespiratoryRate, 16.0),
            absent,
        ]
    );
    // The offset is kept, not folded into UTC.
    assert_eq!(sink.records[0].effective.offset().local_minus_utc(), 3600);
}

#[test]
fn wide_example_imports_exactly() {
    let sink = import("wide.csv");
    assert_eq!(sink.rejections, vec![]);
    let (t0, t1, t2) =
        ("2024-03-01T08:00:00+01:00", "2024-03-01T08:05:00+01:00", "2024-03-01T08:10:00+01:00");
    assert_eq!(
        sink.records,
        vec![
            record(None, t0, Kind::HeartRate, 72.0),
            record(None, t0, Kind::Spo2, 97.0),
            record(None, t0, Kind::RespiratoryRate, 14.0),
            record(None, t0, Kind::BodyTemperature, 36.8),
            record(None, t0, Kind::BodyWeight, 185.0 * 0.453_592_37),
            record(None, t1, Kind::HeartRate, 75.0),
            record(None, t1, Kind::RespiratoryRate, 15.0),
            record(None, t2, Kind::HeartRate, 74.0),
            record(None, t2, Kind::Spo2, 96.0),
            record(None, t2, Kind::BodyTemperature, 36.9),
        ]
    );
}

#[test]
fn bad_rows_are_rejected_and_good_rows_kept() {
    let sink = import("long-with-errors.csv");
    let got: Vec<String> = sink.rejections.iter().map(|r| format!("{}: {}", r.location, r.reason)).collect();
    assert_eq!(
        got,
        vec![
            "long-with-errors.csv:4: time: '2024-03-01T08:01:00' has no UTC offset (add Z or ±HH:MM, e.g. \
             2024-03-01T08:00:00+01:00)",
            "long-with-errors.csv:5: kind: 'pulse' is not a known observation kind (known: heart_rate, \
             rr_interval, spo2, respiratory_rate, bp_systolic, bp_diastolic, body_temperature, body_weight, \
             steps, hrv_sdnn, consciousness, supplemental_oxygen, spo2_scale, blood_glucose)",
            "long-with-errors.csv:6: value: '7,5' is not a number (nor a data-absent-reason code such as \
             not-performed)",
            "long-with-errors.csv:7: unit: 'stone' is not a known UCUM unit",
            "long-with-errors.csv:8: spo2: 101 % is outside the plausible range 50..=100 %",
        ]
    );
    let t = |s| DateTime::parse_from_rfc3339(s).unwrap();
    let times: Vec<_> = sink.records.iter().map(|r| r.effective).collect();
    assert_eq!(times, vec![t("2024-03-01T08:00:00+01:00"), t("2024-03-01T08:06:00Z")]);
}

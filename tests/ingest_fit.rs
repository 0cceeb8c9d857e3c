//! The FIT importer against real files shipped by the `fitparser` crate
//! (`tests/fixtures/ingest/fit/`, see its README). Expected values come from decoding the same
//! bytes with fitparser's high-level API (`fitparser::from_bytes`, which applies the profile's
//! scales and expands compressed timestamps itself), plus spot values read off a dump.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::ops::ControlFlow;

use chrono::{DateTime, Utc};
use fitparser::Value;
use vigil::domain::{Kind, ObservationValue};
use vigil::ingest::fit::{FitOptions, FitSummary, parse_fit};
use vigil::ingest::{CollectingSink, ParseError, ParsedRecord, RecordSink, Rejection};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/ingest/fit/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn parse(bytes: &[u8], options: FitOptions) -> (CollectingSink, FitSummary) {
    let mut sink = CollectingSink::default();
    let summary = parse_fit(bytes, "file.fit", &options, &mut sink).unwrap();
    (sink, summary)
}

fn quantity(r: &ParsedRecord) -> f64 {
    match r.value {
        ObservationValue::Quantity(v) => v,
        ref other => panic!("expected a quantity, got {other:?}"),
    }
}

fn of_kind(sink: &CollectingSink, kind: Kind) -> Vec<&ParsedRecord> {
    sink.records.iter().filter(|r| r.kind == kind).collect()
}

fn field<'a>(record: &'a fitparser::FitDataRecord, name: &str) -> Option<&'a Value> {
    record.fields().iter().find(|f| f.name() == name).map(|f| f.value())
}

fn unix(value: &Value) -> i64 {
    match value {
        Value::Timestamp(t) => t.timestamp(),
        other => panic!("not a timestamp: {other:?}"),
    }
}

#[test]
fn hrv_activity_rr_intervals_match_fitparsers_decoding() {
    let bytes = fixture("hrv-activity.fit");
    let (sink, summary) = parse(&bytes, FitOptions::default());
    assert!(sink.rejections.is_empty(), "{:#?}", &sink.rejections[..sink.rejections.len().min(5)]);

    // Independently: every valid entry of every hrv message's `time` array, in seconds.
    let decoded = fitparser::from_bytes(&bytes).unwrap();
    let expected_ms: Vec<f64> = decoded
        .iter()
        .filter(|r| r.kind() == fitparser::profile::MesgNum::Hrv)
        .flat_map(|r| match field(r, "time") {
            Some(Value::Array(values)) => values.clone(),
            _ => vec![],
        })
        .filter_map(|v| match v {
            Value::Float64(s) => Some((s * 1000.0).round()),
            _ => None,
        })
        .collect();
    let rr = of_kind(&sink, Kind::RrInterval);
    let got_ms: Vec<f64> = rr.iter().map(|r| quantity(r)).collect();
    assert_eq!(got_ms, expected_ms);

    // Spot values read off a dump of the file.
    assert_eq!(rr.len(), 2705);
    assert_eq!(summary.rr_intervals, 2705);
    assert_eq!(got_ms.first(), Some(&467.0));
    assert_eq!(got_ms.last(), Some(&409.0));
    assert_eq!(got_ms.iter().sum::<f64>(), 1_074_010.0);
}

#[test]
fn hrv_activity_beat_times_follow_the_devices_clock() {
    let bytes = fixture("hrv-activity.fit");
    let (sink, summary) = parse(&bytes, FitOptions::default());
    // The Edge 530 recorded local time one hour ahead of UTC (activity local_timestamp).
    assert_eq!(summary.utc_offset_seconds, Some(3600));
    assert_eq!(summary.beat_clock_resyncs, 0);

    // For each hrv message, the timestamp of the last timestamped message before it.
    let decoded = fitparser::from_bytes(&bytes).unwrap();
    let mut last = None;
    let mut device_times = Vec::new();
    for r in &decoded {
        if let Some(t) = field(r, "timestamp") {
            last = Some(unix(t));
        }
        if r.kind() == fitparser::profile::MesgNum::Hrv {
            let n = match field(r, "time") {
                Some(Value::Array(v)) => v.iter().filter(|v| matches!(v, Value::Float64(_))).count(),
                _ => 0,
            };
            device_times.extend(std::iter::repeat_n(last.unwrap(), n));
        }
    }
    let rr = of_kind(&sink, Kind::RrInterval);
    assert_eq!(rr.len(), device_times.len());
    // The clock starts at the timestamp before the first hrv message and adds each interval.
    let anchor_ms = device_times[0] * 1000;
    assert_eq!(rr[0].effective.timestamp_millis(), anchor_ms + 467);
    assert_eq!(rr[rr.len() - 1].effective.timestamp_millis(), anchor_ms + 1_074_010);
    // Derived beat times stay within 2.5 s of the device's own time for the message before
    // them, except the last 7 beats: their 3 hrv messages follow the final timer stop with no
    // timestamped message between, so "the time before them" falls further behind (3.0 s).
    let drifts: Vec<i64> = rr
        .iter()
        .zip(&device_times)
        .map(|(r, device)| r.effective.timestamp_millis() - device * 1000)
        .collect();
    let (body, tail) = drifts.split_at(drifts.len() - 7);
    assert!(body.iter().all(|d| d.abs() <= 2500), "{:?}", body.iter().max_by_key(|d| d.abs()));
    assert_eq!(tail.last(), Some(&3010));
    // Strictly increasing, stamped in the recovered local offset.
    assert!(rr.windows(2).all(|w| w[0].effective < w[1].effective));
    assert_eq!(rr[0].effective.offset().local_minus_utc(), 3600);
}

#[test]
fn hrv_activity_heart_rates_match_fitparsers_decoding() {
    let bytes = fixture("hrv-activity.fit");
    let (sink, _) = parse(&bytes, FitOptions::default());
    let decoded = fitparser::from_bytes(&bytes).unwrap();
    let expected: Vec<(f64, i64)> = decoded
        .iter()
        .filter(|r| r.kind() == fitparser::profile::MesgNum::Record)
        .filter_map(|r| match (field(r, "heart_rate"), field(r, "timestamp")) {
            (Some(Value::UInt8(bpm)), Some(t)) => Some((f64::from(*bpm), unix(t))),
            _ => None,
        })
        .collect();
    let got: Vec<(f64, i64)> =
        of_kind(&sink, Kind::HeartRate).iter().map(|r| (quantity(r), r.effective.timestamp())).collect();
    assert_eq!(got, expected);
    assert_eq!(got.len(), 1072);
    // First record: 128 bpm at 16:47:52 UTC, shown at 17:47:52+01:00.
    let first = of_kind(&sink, Kind::HeartRate)[0];
    assert_eq!(first.effective.to_rfc3339(), "2022-02-07T17:47:52+01:00");
    assert_eq!(quantity(first), 128.0);
}

fn weights(sink: &CollectingSink) -> Vec<(f64, String)> {
    sink.records
        .iter()
        .map(|r| {
            assert_eq!(r.kind, Kind::BodyWeight);
            (quantity(r), r.effective.to_rfc3339())
        })
        .collect()
}

/// fitparser decodes `weight` as its raw integer (the profile types it as an enum with the
/// special value "calculating"): kg = raw / 100.
fn fitparser_weights(bytes: &[u8]) -> Vec<(f64, String)> {
    fitparser::from_bytes(bytes)
        .unwrap()
        .iter()
        .filter(|r| r.kind() == fitparser::profile::MesgNum::WeightScale)
        .map(|r| {
            let raw = match field(r, "weight") {
                Some(Value::SInt64(v)) => *v as f64,
                other => panic!("{other:?}"),
            };
            let t = DateTime::<Utc>::from_timestamp(unix(field(r, "timestamp").unwrap()), 0).unwrap();
            (raw / 100.0, t.fixed_offset().to_rfc3339())
        })
        .collect()
}

#[test]
fn single_user_weight_scale() {
    let bytes = fixture("WeightScaleSingleUser.fit");
    let (sink, summary) = parse(&bytes, FitOptions::default());
    assert!(sink.rejections.is_empty());
    let expected = vec![
        (75.80, "2009-09-09T21:38:00+00:00".to_owned()),
        (76.09, "2009-09-09T22:38:00+00:00".to_owned()),
    ];
    assert_eq!(weights(&sink), expected);
    assert_eq!(fitparser_weights(&bytes), expected);
    assert_eq!(summary.utc_offset_seconds, None);
}

#[test]
fn multi_user_weight_scale_needs_a_user() {
    let bytes = fixture("WeightScaleMultiUser.fit");
    let all = fitparser_weights(&bytes);
    assert_eq!(
        all,
        [(75.80, "2009-09-09T21:38:00+00:00".to_owned()), (58.20, "2009-09-09T22:38:00+00:00".to_owned())]
    );

    let (sink, _) = parse(&bytes, FitOptions::default());
    assert!(sink.records.is_empty());
    assert_eq!(sink.rejections.len(), 2);
    assert_eq!(sink.rejections[0].location.element.as_deref(), Some("weight_scale message #1"));
    assert!(
        sink.rejections[0].reason.contains("readings of users 0, 1; choose one"),
        "{}",
        sink.rejections[0].reason
    );

    for (user, reading) in [(0, &all[0]), (1, &all[1])] {
        let (sink, summary) = parse(&bytes, FitOptions { user_profile_index: Some(user) });
        assert!(sink.rejections.is_empty());
        assert_eq!(weights(&sink), std::slice::from_ref(reading));
        assert_eq!(summary.other_users_skipped, 1);
    }
}

fn malformed(bytes: &[u8]) -> String {
    match parse_fit(bytes, "bad.fit", &FitOptions::default(), &mut CollectingSink::default()) {
        Err(ParseError::Malformed { location, reason }) => {
            format!("{} {reason}", location.element.unwrap_or_default())
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn broken_files_are_malformed() {
    let good = fixture("hrv-activity.fit");
    assert!(
        malformed(&good[..good.len() / 2]).contains("truncated"),
        "{}",
        malformed(&good[..good.len() / 2])
    );
    // The last two bytes are the data CRC.
    let mut bad_crc = good.clone();
    let n = bad_crc.len();
    bad_crc[n - 1] ^= 0xff;
    assert!(malformed(&bad_crc).contains("CRC value for data did not match"), "{}", malformed(&bad_crc));
    // A flipped bit in a heart-rate value also fails the CRC, rather than importing a wrong value.
    let mut flipped = good.clone();
    flipped[n / 2] ^= 0x01;
    assert!(malformed(&flipped).contains("CRC") || malformed(&flipped).contains("well-formed"));
    // Header CRC (bytes 12-13 of a 14-byte header).
    let mut bad_header = good.clone();
    bad_header[12] ^= 0xff;
    assert!(malformed(&bad_header).contains("CRC value for header"), "{}", malformed(&bad_header));

    let xml = b"<?xml version=\"1.0\"?><HealthData/>";
    assert!(malformed(xml).contains("not a FIT file"));
    assert!(malformed(b"").contains("not a FIT file"));
}

struct StopAfter(usize);

impl RecordSink for StopAfter {
    fn record(&mut self, _: ParsedRecord) -> ControlFlow<()> {
        self.0 -= 1;
        if self.0 == 0 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }
    fn reject(&mut self, _: Rejection) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

#[test]
fn a_sink_can_cancel() {
    let result =
        parse_fit(&fixture("hrv-activity.fit")[..], "a.fit", &FitOptions::default(), &mut StopAfter(10));
    assert!(matches!(result, Err(ParseError::Cancelled)));
}

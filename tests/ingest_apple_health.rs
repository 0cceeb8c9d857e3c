//! The Apple Health importer against a small export shaped like a real one
//! (`tests/fixtures/ingest/apple_health/export.xml`): every imported type, a blood-pressure
//! correlation repeated at top level as Apple writes it, beat lists in three locales, noise, and
//! malformed records. Expected values are worked out by hand from the fixture's text.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufReader, Cursor, Write};
use std::ops::ControlFlow;

use vigil::domain::{Kind, ObservationValue};
use vigil::ingest::apple_health::{EXPORT_XML_IN_ZIP, parse_export_xml, parse_export_zip};
use vigil::ingest::{CollectingSink, ParseError, ParsedRecord, RecordSink, Rejection};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ingest/apple_health/export.xml");

fn fixture() -> Vec<u8> {
    std::fs::read(FIXTURE).unwrap()
}

/// 1-based line of the fixture's only line containing `needle`.
fn line_of(needle: &str) -> u64 {
    let text = String::from_utf8(fixture()).unwrap();
    let hits: Vec<usize> =
        text.lines().enumerate().filter(|(_, l)| l.contains(needle)).map(|(i, _)| i).collect();
    assert_eq!(hits.len(), 1, "{needle} should be on exactly one line");
    hits[0] as u64 + 1
}

fn parse(bytes: &[u8]) -> CollectingSink {
    let mut sink = CollectingSink::default();
    parse_export_xml(Cursor::new(bytes), "export.xml", &mut sink).unwrap();
    sink
}

fn quantity(r: &ParsedRecord) -> f64 {
    match r.value {
        ObservationValue::Quantity(v) => v,
        ref other => panic!("expected a quantity, got {other:?}"),
    }
}

/// (kind, value, effective time) for every record the fixture should yield, in file order.
fn expected() -> Vec<(Kind, f64, &'static str)> {
    use Kind::*;
    vec![
        (HeartRate, 72.0, "2024-06-01T08:15:00-04:00"),
        (HeartRate, 74.5, "2024-06-01T08:20:00-04:00"),
        (HeartRate, 70.0, "2024-06-01T23:59:30+02:00"),
        (HrvSdnn, 48.2, "2024-06-01T08:40:00-04:00"),
        // 60000 / bpm, at the beat's clock time on the record's date.
        (RrInterval, 800.0, "2024-06-01T08:40:02.340-04:00"),
        (RrInterval, 750.0, "2024-06-01T08:40:03.090-04:00"),
        (RrInterval, 60000.0 / 77.0, "2024-06-01T08:40:03.870-04:00"),
        (RrInterval, 60000.0 / 76.0, "2024-06-01T08:40:04.660-04:00"),
        (HrvSdnn, 32.1111, "2024-06-01T19:14:47-04:00"),
        // Beats written one hour behind the record's offset: placed by their distance from it.
        (RrInterval, 60000.0 / 95.0, "2024-06-01T19:14:48.940-04:00"),
        (RrInterval, 60000.0 / 94.0, "2024-06-01T19:14:49.580-04:00"),
        (HrvSdnn, 61.0, "2024-06-02T23:59:58+01:00"),
        // Across midnight: 11:59:59.50 PM, then 12:00:00.47 AM of the next day.
        (RrInterval, 1000.0, "2024-06-02T23:59:59.500+01:00"),
        (RrInterval, 60000.0 / 62.0, "2024-06-03T00:00:00.470+01:00"),
        (Spo2, 97.0, "2024-06-01T03:12:00-04:00"),
        (Spo2, 93.5, "2024-06-01T03:42:00-04:00"),
        (RespiratoryRate, 14.5, "2024-06-01T02:10:00-04:00"),
        (BodyWeight, 71.3, "2024-06-01T07:00:00-04:00"),
        (BodyWeight, 200.0 * 0.453_592_37, "2023-07-23T10:35:00-04:00"),
        (BodyTemperature, 37.0, "2024-06-01T07:30:00-04:00"),
        (BodyTemperature, 38.2, "2024-06-01T19:30:00-04:00"),
        (BpSystolic, 113.0, "2023-07-23T09:24:00-04:00"),
        (BpDiastolic, 66.0, "2023-07-23T09:24:00-04:00"),
        (Steps, 1234.0, "2024-06-01T09:00:00-04:00"),
        (Steps, 56.0, "2024-06-01T09:10:00-04:00"),
        // Only inside a correlation, so imported from there; the first correlation's two
        // records repeat the top-level ones above and are not.
        (BpDiastolic, 68.0, "2024-06-08T13:14:00-04:00"),
        (BpSystolic, 97.0, "2024-06-08T13:14:00-04:00"),
    ]
}

fn assert_records(records: &[ParsedRecord]) {
    let expected = expected();
    let got: Vec<(Kind, f64, String)> = records
        .iter()
        .map(|r| (r.kind, quantity(r), r.effective.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)))
        .collect();
    assert_eq!(got.len(), expected.len(), "records: {got:#?}");
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g.0, e.0, "{g:?} vs {e:?}");
        assert!((g.1 - e.1).abs() < 1e-9, "{g:?} vs {e:?}");
        assert_eq!(g.2, e.2, "{g:?} vs {e:?}");
    }
    assert!(records.iter().all(|r| r.patient.is_none()));
}

#[test]
fn fixture_yields_every_type_once_with_its_offset() {
    let sink = parse(&fixture());
    assert_records(&sink.records);
}

#[test]
fn summary_counts_skipped_types_and_correlation_repeats() {
    let mut sink = CollectingSink::default();
    let summary = parse_export_xml(Cursor::new(fixture()), "export.xml", &mut sink).unwrap();
    let skipped: Vec<(&str, u64)> = summary.skipped_types.iter().map(|(k, n)| (k.as_str(), *n)).collect();
    assert_eq!(
        skipped,
        [
            ("HKCategoryTypeIdentifierSleepAnalysis", 1),
            ("HKQuantityTypeIdentifierActiveEnergyBurned", 2),
            ("HKQuantityTypeIdentifierDistanceWalkingRunning", 1),
        ]
    );
    assert_eq!(summary.correlation_duplicates, 2);
    // 32 Record elements, less the one inside a food correlation, which is not looked at.
    assert_eq!(summary.records_seen, 31);
}

#[test]
fn rejections_name_the_line_the_record_and_the_attribute() {
    let sink = parse(&fixture());
    let got: Vec<(u64, &str, &str)> = sink
        .rejections
        .iter()
        .map(|r: &Rejection| {
            assert_eq!(r.location.file, "export.xml");
            (r.location.line.unwrap(), r.location.element.as_deref().unwrap(), r.reason.as_str())
        })
        .collect();
    let hr = "HKQuantityTypeIdentifierHeartRate";
    let expected: Vec<(u64, String, &str)> = vec![
        (
            line_of("value=\"400\""),
            format!("Record #3 {hr}"),
            "heart_rate: 400 /min is outside the plausible range",
        ),
        (line_of("value=\"abc\""), format!("Record #4 {hr}"), "value: 'abc' is not a number"),
        (
            line_of("2024-06-01T08:35:00"),
            format!("Record #5 {hr}"),
            "startDate: '2024-06-01T08:35:00 -0400' is not",
        ),
        (
            line_of("bpm=\"0\""),
            "Record #12 HKQuantityTypeIdentifierHeartRateVariabilitySDNN InstantaneousBeatsPerMinute #3"
                .into(),
            "bpm: '0' is not a positive number",
        ),
        (
            line_of("noon-ish"),
            "Record #12 HKQuantityTypeIdentifierHeartRateVariabilitySDNN InstantaneousBeatsPerMinute #4"
                .into(),
            "time: 'noon-ish' is not a clock time",
        ),
        (
            line_of("04:12:00 -0400\" value=\"97\""),
            "Record #16 HKQuantityTypeIdentifierOxygenSaturation".into(),
            "value: 97 is not a fraction",
        ),
        (
            line_of("furlong"),
            "Record #20 HKQuantityTypeIdentifierBodyMass".into(),
            "unit: 'furlong' is not a unit",
        ),
        (
            line_of("07:06:00 -0400\"/>"),
            "Record #21 HKQuantityTypeIdentifierBodyMass".into(),
            "value: missing",
        ),
    ];
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for (g, e) in got.iter().zip(&expected) {
        assert_eq!(g.0, e.0, "line of {g:?}");
        assert_eq!(g.1, e.1);
        assert!(g.2.starts_with(e.2), "reason {:?} should start with {:?}", g.2, e.2);
    }
}

#[test]
fn results_do_not_depend_on_how_the_stream_is_chunked() {
    let whole = parse(&fixture());
    let mut sink = CollectingSink::default();
    let tiny = BufReader::with_capacity(7, Cursor::new(fixture()));
    parse_export_xml(tiny, "export.xml", &mut sink).unwrap();
    assert_eq!(sink, whole);
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

#[test]
fn zip_export_reads_the_export_xml_entry_and_not_the_cda() {
    let xml = fixture();
    let archive = zip_of(&[
        ("apple_health_export/export_cda.xml", b"<ClinicalDocument/>"),
        ("apple_health_export/workout-routes/route_1.gpx", b"<gpx/>"),
        (EXPORT_XML_IN_ZIP, &xml),
    ]);
    let mut sink = CollectingSink::default();
    parse_export_zip(Cursor::new(archive), "export.zip", &mut sink).unwrap();
    assert_records(&sink.records);
    assert_eq!(sink.rejections.len(), 8);
    assert_eq!(sink.rejections[0].location.file, "export.zip!/apple_health_export/export.xml");
}

#[test]
fn zip_without_an_export_or_not_a_zip_is_malformed() {
    let archive = zip_of(&[("notes.txt", b"hello")]);
    let err =
        parse_export_zip(Cursor::new(archive), "export.zip", &mut CollectingSink::default()).unwrap_err();
    assert!(err.to_string().contains("holds no apple_health_export/export.xml"), "{err}");

    let err =
        parse_export_zip(Cursor::new(fixture()), "export.zip", &mut CollectingSink::default()).unwrap_err();
    assert!(matches!(err, ParseError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("not a readable zip archive"), "{err}");
}

#[test]
fn corrupt_deflate_data_is_malformed_not_a_panic() {
    let xml = fixture();
    let mut archive = zip_of(&[(EXPORT_XML_IN_ZIP, &xml)]);
    // Scribble over the middle of the compressed stream.
    let mid = archive.len() / 2;
    for b in &mut archive[mid..mid + 64] {
        *b ^= 0x5a;
    }
    let result = parse_export_zip(Cursor::new(archive), "export.zip", &mut CollectingSink::default());
    assert!(matches!(result, Err(ParseError::Malformed { .. })), "{result:?}");
}

fn malformed_reason(bytes: &[u8]) -> (Option<u64>, String) {
    match parse_export_xml(Cursor::new(bytes), "x.xml", &mut CollectingSink::default()) {
        Err(ParseError::Malformed { location, reason }) => (location.line, reason),
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn files_that_are_not_whole_exports_are_malformed() {
    let xml = fixture();
    let truncated = &xml[..xml.len() * 2 / 3];
    assert!(
        malformed_reason(truncated).1.contains("truncated") || malformed_reason(truncated).1.contains("XML")
    );

    let cut_between_records = {
        let text = String::from_utf8(xml.clone()).unwrap();
        let end = text.find(" <Correlation").unwrap();
        text[..end].to_owned()
    };
    assert_eq!(
        malformed_reason(cut_between_records.as_bytes()).1,
        "the file ends before </HealthData>: it is truncated"
    );

    assert!(malformed_reason(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").1.contains("does not start with XML markup"));
    assert!(malformed_reason(b"").1.contains("empty"));
    assert!(
        malformed_reason(b"<?xml version=\"1.0\"?>\n<Bundle/>")
            .1
            .contains("root element is not <HealthData>")
    );
    assert!(malformed_reason(b"<HealthData></HealthData><HealthData/>").1.contains("follows </HealthData>"));

    let (line, reason) =
        malformed_reason(b"<HealthData>\n <Record type=\"x\">\n </Correlation>\n</HealthData>");
    assert!(reason.starts_with("XML syntax error"), "{reason}");
    assert_eq!(line, Some(3));
}

#[test]
fn an_empty_export_is_fine() {
    let sink = parse(b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<HealthData locale=\"en_US\"/>\n");
    assert!(sink.records.is_empty() && sink.rejections.is_empty());
}

struct StopAfter(usize, usize);

impl RecordSink for StopAfter {
    fn record(&mut self, _: ParsedRecord) -> ControlFlow<()> {
        self.1 += 1;
        if self.1 >= self.0 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    }
    fn reject(&mut self, _: Rejection) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

#[test]
fn a_sink_can_cancel() {
    let mut sink = StopAfter(3, 0);
    let result = parse_export_xml(Cursor::new(fixture()), "export.xml", &mut sink);
    assert!(matches!(result, Err(ParseError::Cancelled)), "{result:?}");
    assert_eq!(sink.1, 3);
}

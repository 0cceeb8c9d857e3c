//! The streaming FHIR reader (issue 12) keeps the importer's behaviour on the shapes it now
//! reads piece by piece: nested Bundles, Patients after their Observations, a Bundle whose
//! `entry` comes first, NDJSON in a `.json` file, repeated keys in the parts it walks itself,
//! and refuses a resource past `MAX_RESOURCE_BYTES` naming where.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::ops::ControlFlow;

use vigil::domain::PatientRef;
use vigil::ingest::{CollectingSink, ParseError, ParsedPatient, ParsedRecord, RecordSink, Rejection, fhir};

fn parse(name: &str, text: &[u8]) -> Result<CollectingSink, ParseError> {
    let mut sink = CollectingSink::default();
    fhir::parse(name, Cursor::new(text), &mut sink).map(|()| sink)
}

fn shown(rejections: &[Rejection]) -> Vec<String> {
    rejections.iter().map(|r| format!("{} | {}", r.location, r.reason)).collect()
}

/// A heart rate `id` for `subject` (no subject when empty), with `extra` fields.
fn heart_rate(id: &str, subject: &str, extra: &str) -> String {
    let subject =
        if subject.is_empty() { String::new() } else { format!(r#""subject":{{"reference":"{subject}"}},"#) };
    format!(
        r#"{{"resourceType":"Observation","id":"{id}",{subject}"code":{{"coding":[{{"system":"http://loinc.org","code":"8867-4"}}]}},"effectiveDateTime":"2024-01-01T00:00:00Z","valueQuantity":{{"value":72,"code":"/min"}}{extra}}}"#
    )
}

const PATIENT: &str = r#"{"resourceType":"Patient","id":"p","identifier":[{"value":"MRN-1"}]}"#;

/// The order in which a sink hears things.
#[derive(Default)]
struct Order(Vec<&'static str>);

impl RecordSink for Order {
    fn record(&mut self, _: ParsedRecord) -> ControlFlow<()> {
        self.0.push("record");
        ControlFlow::Continue(())
    }
    fn reject(&mut self, _: Rejection) -> ControlFlow<()> {
        self.0.push("rejection");
        ControlFlow::Continue(())
    }
    fn patient(&mut self, _: ParsedPatient) -> ControlFlow<()> {
        self.0.push("patient");
        ControlFlow::Continue(())
    }
}

#[test]
fn a_patient_after_its_observations_names_them_and_is_heard_first() {
    let text = format!(
        r#"{{"resourceType":"Bundle","entry":[{{"resource":{}}},{{"resource":{{"id":"x"}}}},{{"resource":{PATIENT}}}]}}"#,
        heart_rate("a", "Patient/p", "")
    );
    let sink = parse("b.json", text.as_bytes()).unwrap();
    assert_eq!(sink.records.len(), 1);
    assert_eq!(sink.records[0].patient, Some(PatientRef::Mrn("MRN-1".into())));
    let mut order = Order::default();
    fhir::parse("b.json", Cursor::new(text.as_bytes()), &mut order).unwrap();
    assert_eq!(order.0, ["rejection", "patient", "record"], "structural rejections, Patients, Observations");
}

#[test]
fn nested_bundles_are_walked_with_their_paths_and_members_found_anywhere() {
    let panel = r#"{"resourceType":"Observation","id":"panel","code":{"coding":[{"system":"http://loinc.org","code":"85353-1"}]},"hasMember":[{"reference":"Observation/late"},{"reference":"Observation/gone"}]}"#;
    let text = format!(
        r#"{{"resourceType":"Bundle","entry":[{{"resource":{panel}}},{{"resource":{{"resourceType":"Bundle","id":"inner","entry":[{{"resource":{}}},{{"resource":{}}}]}}}},{{"resource":{}}}]}}"#,
        heart_rate("late", "", ""),
        heart_rate("bad", "", r#","status":"cancelled""#),
        heart_rate("g", "Group/g1", ""),
    );
    let sink = parse("n.json", text.as_bytes()).unwrap();
    assert_eq!(
        shown(&sink.rejections),
        [
            "n.json Bundle.entry[0].resource(Observation/panel) hasMember[1] | hasMember 'Observation/gone' is not \
             in this file",
            "n.json Bundle.entry[1].resource(Bundle/inner).entry[1].resource(Observation/bad) | status is \
             'cancelled': no result to import",
            "n.json Bundle.entry[2].resource(Observation/g) | subject 'Group/g1' is not a Patient",
        ]
    );
    assert_eq!(sink.records.len(), 1);
}

#[test]
fn a_bundle_whose_entry_comes_before_its_resource_type_is_read_whole() {
    let text = format!(
        r#"{{"entry":[{{"resource":{}}}],"resourceType":"Bundle","id":"late-type"}}"#,
        heart_rate("a", "", "")
    );
    let sink = parse("late.json", text.as_bytes()).unwrap();
    assert_eq!((sink.records.len(), sink.rejections.len()), (1, 0));
    // A List has an `entry` too, and is passed over like any resource Vigil does not read.
    let list = br#"{"resourceType":"List","entry":[{"item":{"reference":"Observation/a"}}]}"#;
    assert_eq!(parse("list.json", list).unwrap(), CollectingSink::default());
}

#[test]
fn a_repeated_key_is_refused_in_the_parts_that_are_walked() {
    let cases: [&[u8]; 3] = [
        br#"{"resourceType":"Bundle","entry":[],"entry":[]}"#,
        br#"{"resourceType":"Bundle","entry":[{"fullUrl":"a","fullUrl":"b"}]}"#,
        br#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Bundle"},"resource":{}}]}"#,
    ];
    for text in cases {
        let err = parse("d.json", text).unwrap_err();
        assert!(err.to_string().contains("not valid JSON: duplicate key"), "{err}");
    }
}

#[test]
fn ndjson_in_a_json_file_is_read_as_ndjson() {
    let text = format!("{}\n{}\n", heart_rate("a", "Patient/p", ""), PATIENT);
    let sink = parse("lines.json", text.as_bytes()).unwrap();
    assert_eq!(sink.records.len(), 1);
    assert_eq!(sink.records[0].patient, Some(PatientRef::Mrn("MRN-1".into())));
    assert_eq!(sink.patients.len(), 1);
}

/// An Observation whose `note` makes it `MAX_RESOURCE_BYTES` and one more KiB long.
fn oversized() -> String {
    let text = "a".repeat(usize::try_from(fhir::MAX_RESOURCE_BYTES).unwrap() + 1024);
    heart_rate("big", "", &format!(r#","note":[{{"text":"{text}"}}]"#))
}

#[test]
fn a_resource_over_the_bound_refuses_the_document_naming_its_entry_and_offset() {
    let first = heart_rate("a", "", "");
    let text = format!(
        "{{\"resourceType\":\"Bundle\",\n\"entry\":[{{\"resource\":{first}}},\n{{\"resource\":{}}}]}}",
        oversized()
    );
    let err = parse("big.json", text.as_bytes()).unwrap_err();
    let ParseError::Malformed { location, reason } = &err else { panic!("{err}") };
    assert_eq!(location.element.as_deref(), Some("Bundle.entry[1]"));
    assert_eq!(location.line, Some(3));
    let offset: u64 =
        reason.split("byte offset ").nth(1).unwrap().split(')').next().unwrap().parse().unwrap();
    let entry_start =
        text.find("{\"resource\":{\"resourceType\":\"Observation\",\"id\":\"big\"").unwrap() as u64;
    // The bound counts the entry with the Bundle's fields before it, as read into an 8 KiB
    // buffer: it is passed within 8 KiB of 16 MiB past the entry's start.
    let expected = entry_start + fhir::MAX_RESOURCE_BYTES;
    assert!(offset.abs_diff(expected) <= 8192, "{reason}: expected about {expected}");
    assert!(reason.starts_with("more than 16 MiB of JSON in one resource"), "{reason}");
}

#[test]
fn an_ndjson_line_over_the_bound_is_one_rejection_and_the_next_lines_import() {
    let text = format!("{}\n{}\n", oversized(), heart_rate("a", "", ""));
    let sink = parse("big.ndjson", text.as_bytes()).unwrap();
    assert_eq!(sink.records.len(), 1);
    assert_eq!(
        shown(&sink.rejections),
        [
            "big.ndjson:1 | the line (from byte offset 0) is longer than 16 MiB, the most one resource may hold: not \
          read"
        ]
    );
}

#[test]
fn a_cancel_is_heard_while_the_file_is_first_read() {
    /// Cancels at the first resource, before anything is reported.
    struct Cancelled(u32);
    impl RecordSink for Cancelled {
        fn record(&mut self, _: ParsedRecord) -> ControlFlow<()> {
            unreachable!("nothing is reported after a cancel")
        }
        fn reject(&mut self, _: Rejection) -> ControlFlow<()> {
            unreachable!("nothing is reported after a cancel")
        }
        fn keep_going(&mut self) -> ControlFlow<()> {
            self.0 += 1;
            ControlFlow::Break(())
        }
    }
    let text = format!(r#"{{"resourceType":"Bundle","entry":[{{"resource":{}}}]}}"#, heart_rate("a", "", ""));
    let mut sink = Cancelled(0);
    let result = fhir::parse("c.json", Cursor::new(text.as_bytes()), &mut sink);
    assert!(matches!(result, Err(ParseError::Cancelled)), "{result:?}");
    assert_eq!(sink.0, 1);
}

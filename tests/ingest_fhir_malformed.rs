//! Broken and surprising FHIR (`tests/fixtures/ingest/fhir/malformed-collection.json`, `broken.json`),
//! each with the precise rejection it must give, while the good resources beside them import.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::ops::ControlFlow;

use chrono::DateTime;
use vigil::domain::{AbsentReason, Kind, ObservationValue, PatientRef, Sex};
use vigil::ingest::{CollectingSink, ParseError, ParsedPatient, ParsedRecord, RecordSink, Rejection, fhir};

fn parse(name: &str, bytes: &[u8]) -> Result<CollectingSink, ParseError> {
    let mut sink = CollectingSink::default();
    fhir::parse(name, Cursor::new(bytes), &mut sink).map(|()| sink)
}

fn import(name: &str) -> Result<CollectingSink, ParseError> {
    let path = format!("{}/tests/fixtures/ingest/fhir/{name}", env!("CARGO_MANIFEST_DIR"));
    parse(name, &std::fs::read(&path).unwrap())
}

fn shown(rejections: &[Rejection]) -> Vec<String> {
    rejections.iter().map(|r| format!("{} | {}", r.location, r.reason)).collect()
}

#[test]
fn every_kind_of_breakage_is_one_precise_rejection() {
    let sink = import("malformed-collection.json").unwrap();
    let expected = [
        // Structure, found while walking the Bundle.
        "Bundle.entry[10] | expected a FHIR resource (a JSON object), found a number",
        "Bundle.entry[11] | the entry has no resource",
        "Bundle.entry[26].resource(Bundle) | Bundle.entry is an object, not an array",
        // Patients.
        "Bundle.entry[23].resource(Patient/anon) | the Patient has no identifier to use as MRN",
        // Observations, in file order.
        "Bundle.entry[0].resource(Observation/hr-string) | valueQuantity.value is a string, not a number",
        "Bundle.entry[1].resource(Observation/no-code) | code is missing",
        "Bundle.entry[2].resource(Observation/no-value) | no valueQuantity and no dataAbsentReason",
        "Bundle.entry[3].resource(Observation/bad-unit) | valueQuantity.code: '[foo]' is not a known UCUM unit",
        "Bundle.entry[4].resource(Observation/bad-time) | effectiveDateTime: '2024-03-01T08:00:00' has no UTC \
         offset (add Z or ±HH:MM, e.g. 2024-03-01T08:00:00+01:00)",
        "Bundle.entry[6].resource(Observation/absent-bogus) | dataAbsentReason: 'lost' is not a \
         data-absent-reason code",
        "Bundle.entry[7].resource(Observation/height) | unsupported code http://loinc.org|8302-2 (Body height)",
        "Bundle.entry[8].resource(Observation/bp-kpa) component[2] | unsupported code \
         http://loinc.org|8478-0 (Mean blood pressure)",
        "Bundle.entry[8].resource(Observation/bp-kpa) component[3] | valueQuantity.value is a string, not a number",
        "Bundle.entry[9].resource(Observation/panel) hasMember[0] | hasMember 'Observation/missing' is not in \
         this file",
        "Bundle.entry[9].resource(Observation/panel) hasMember[3] | hasMember '#nope' is not among the contained \
         resources",
        "Bundle.entry[12].resource(Observation/group) | subject 'Group/g1' is not a Patient",
        "Bundle.entry[13].resource(Observation/both) | has both valueQuantity and dataAbsentReason (FHIR \
         invariant obs-6)",
        "Bundle.entry[15].resource(Observation/spo2-high) | spo2: 120 % is outside the plausible range 50..=100 %",
        "Bundle.entry[16].resource(Observation/year-only) | effectiveDateTime: '2024' is only a year or \
         year-month: too imprecise for a reading",
        "Bundle.entry[17].resource(Observation/string-value) | valueString is not a quantity: heart_rate needs \
         valueQuantity",
        "Bundle.entry[18].resource(Observation/error) | status is 'entered-in-error': no result to import",
        "Bundle.entry[19].resource(Observation/comparator) | valueQuantity.comparator '<': not an exact value",
        "Bundle.entry[20].resource(Observation/not-ucum) | valueQuantity.system 'http://example.org/units' is \
         not UCUM (http://unitsofmeasure.org)",
        "Bundle.entry[24].resource(Observation/anon-hr) | subject 'Patient/anon' is a Patient without a usable \
         identifier (MRN)",
        // Regression (issue 17): a subject not in the file went to the import's --patient.
        "Bundle.entry[25].resource(Observation/elsewhere) | subject 'Patient/not-here' names a patient that is \
         not in this file and is not a Vigil patient id, so this record cannot be matched to anyone; it was not \
         stored (--patient applies only to records that name nobody). Put the Patient resource in the file, or \
         give the subject an MRN identifier",
    ]
    .map(|e| format!("malformed-collection.json {e}"));
    assert_eq!(shown(&sink.rejections), expected);

    let at = |s| DateTime::parse_from_rfc3339(s).unwrap();
    let p = || Some(PatientRef::Mrn("MRN-77".into()));
    let t = at("2024-03-01T08:00:00+01:00");
    let record = |patient, kind, value, effective| ParsedRecord { patient, kind, value, effective };
    let q = ObservationValue::Quantity;
    assert_eq!(
        sink.records,
        vec![
            record(p(), Kind::HeartRate, ObservationValue::Absent(AbsentReason::Masked), t),
            record(p(), Kind::BpSystolic, q(16.0 * 1000.0 / 133.322), t),
            record(p(), Kind::BpDiastolic, q(80.0), t),
            // The contained member takes the panel's subject and time.
            record(p(), Kind::RespiratoryRate, q(18.0), at("2024-03-01T09:00:00Z")),
            record(p(), Kind::BodyTemperature, q((98.6 - 32.0) * 5.0 / 9.0), t),
            // Subject by the Patient entry's fullUrl; 72500 g.
            record(p(), Kind::BodyWeight, q(72.5), t),
        ]
    );
    assert_eq!(
        sink.patients,
        vec![ParsedPatient {
            mrn: "MRN-77".into(),
            name: "Ann Marie Jones".into(),
            birth_date: chrono::NaiveDate::from_ymd_opt(1950, 4, 2),
            sex: Sex::Female,
        }]
    );
}

#[test]
fn an_observation_naming_nobody_takes_the_start_of_its_effective_period() {
    let json = br#"{"resourceType": "Observation", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "valueQuantity": {"value": 61, "system": "http://unitsofmeasure.org", "code": "/min"},
        "effectivePeriod": {"start": "2024-03-01T10:00:00-05:00", "end": "2024-03-01T10:01:00-05:00"}}"#;
    let sink = parse("period.json", json).unwrap();
    assert_eq!(sink.rejections, vec![]);
    let effective = DateTime::parse_from_rfc3339("2024-03-01T10:00:00-05:00").unwrap();
    let expected = ParsedRecord {
        patient: None,
        kind: Kind::HeartRate,
        value: ObservationValue::Quantity(61.0),
        effective,
    };
    assert_eq!(sink.records, vec![expected]);
}

#[test]
fn broken_json_is_malformed_at_its_line() {
    let err = import("broken.json").unwrap_err();
    assert_eq!(err.to_string(), "broken.json:4: not valid JSON: trailing comma at line 4 column 49");
    assert!(matches!(parse("e.json", b"").unwrap_err(), ParseError::Malformed { .. }));
    assert!(matches!(parse("c.json", b"time,heart_rate\n").unwrap_err(), ParseError::Malformed { .. }));
}

#[test]
fn json_that_is_not_a_resource_is_rejected() {
    let cases: [(&[u8], &str); 4] = [
        (b"[]", "x.json | expected a FHIR resource (a JSON object), found an array"),
        (b"\"Observation\"", "x.json | expected a FHIR resource (a JSON object), found a string"),
        (b"{\"id\": \"a\"}", "x.json | not a FHIR resource: no resourceType"),
        (
            b"{\"resourceType\": \"Observation\", \"id\": \"x\", \"code\": 7}",
            "x.json Observation/x | code has no coding",
        ),
    ];
    for (bytes, expected) in cases {
        let sink = parse("x.json", bytes).unwrap();
        assert_eq!(shown(&sink.rejections), vec![expected.to_owned()]);
    }
    // Unknown resource types are passed over without a word.
    let sink = parse("x.json", b"{\"resourceType\": \"Encounter\", \"id\": \"e\"}").unwrap();
    assert_eq!(sink, CollectingSink::default());
}

#[test]
fn ndjson_lines_are_located_by_line_and_element() {
    let text = b"{\"resourceType\":\"Observation\",\"id\":\"a\",\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\
        \"code\":\"8867-4\"}]},\"effectiveDateTime\":\"2024-01-01T00:00:00Z\",\"valueQuantity\":{\"value\":72,\
        \"code\":\"/min\"}}\n\n{\"resourceType\":\"Observation\",\"id\":\"b\",\"code\":{\"coding\":[]}}\n";
    let sink = parse("x.ndjson", text).unwrap();
    assert_eq!(sink.records.len(), 1);
    assert_eq!(shown(&sink.rejections), vec!["x.ndjson:3 Observation/b | code has no coding".to_owned()]);
}

#[test]
fn a_break_from_the_sink_cancels() {
    struct Stop;
    impl RecordSink for Stop {
        fn record(&mut self, _: ParsedRecord) -> ControlFlow<()> {
            ControlFlow::Break(())
        }
        fn reject(&mut self, _: Rejection) -> ControlFlow<()> {
            ControlFlow::Break(())
        }
    }
    let path =
        format!("{}/tests/fixtures/ingest/fhir/official-vitals-transaction.json", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(path).unwrap();
    assert!(matches!(
        fhir::parse("t.json", Cursor::new(bytes.as_slice()), &mut Stop),
        Err(ParseError::Cancelled)
    ));
}

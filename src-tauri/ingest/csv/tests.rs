use super::*;
use crate::ingest::CollectingSink;

fn run(text: &str) -> Result<CollectingSink, ParseError> {
    let mut sink = CollectingSink::default();
    parse("t.csv", text.as_bytes(), &mut sink).map(|()| sink)
}

fn reasons(sink: &CollectingSink) -> Vec<String> {
    sink.rejections.iter().map(|r| format!("{}: {}", r.location, r.reason)).collect()
}

#[test]
fn long_shape_reads_rows_and_converts_units() {
    let sink = run("patient,time,kind,value,unit\n\
        MRN-1,2024-03-01T08:00:00+01:00,heart_rate,72,/min\n\
        MRN-1,2024-03-01T08:00:00+01:00,body_weight,185,[lb_av]\n")
    .unwrap();
    assert_eq!(sink.rejections, vec![]);
    assert_eq!(sink.records.len(), 2);
    assert_eq!(sink.records[0].patient, Some(PatientRef::Mrn("MRN-1".into())));
    assert_eq!(sink.records[0].value, ObservationValue::Quantity(72.0));
    assert_eq!(sink.records[1].value, ObservationValue::Quantity(185.0 * 0.453_592_37));
}

#[test]
fn bom_crlf_quotes_blank_lines_and_trailing_commas_are_fine() {
    let sink = run("\u{feff}Time,Heart_Rate,spo2,\r\n\r\n\"2024-03-01T08:00:00Z\",\"72\",97,\r\n,,,\r\n\
        2024-03-01T08:01:00Z,73,,\r\n")
    .unwrap();
    assert_eq!(reasons(&sink), Vec::<String>::new());
    assert_eq!(sink.records.len(), 3);
}

#[test]
fn bad_rows_are_rejected_with_line_and_field() {
    let sink = run("patient,time,kind,value,unit\n\
        MRN-1,2024-03-01T08:00:00,heart_rate,72,/min\n\
        MRN-1,2024-03-01T08:00:00Z,pulse,72,/min\n\
        MRN-1,2024-03-01T08:00:00Z,heart_rate,fast,/min\n\
        MRN-1,2024-03-01T08:00:00Z,heart_rate,72,[foo]\n\
        MRN-1,2024-03-01T08:00:00Z,heart_rate,400,/min\n\
        ,2024-03-01T08:00:00Z,heart_rate,72,/min\n\
        MRN-1,2024-03-01T08:00:00Z,heart_rate,72\n\
        MRN-1,2024-03-01T08:00:00Z,heart_rate,72,/min,extra\n\
        MRN-1,2024-03-01T08:00:00Z,spo2,not-performed,%\n")
    .unwrap();
    assert_eq!(
        reasons(&sink),
        vec![
            "t.csv:2: time: '2024-03-01T08:00:00' has no UTC offset (add Z or ±HH:MM, e.g. 2024-03-01T08:00:00+01:00)",
            "t.csv:3: kind: 'pulse' is not a known observation kind (known: heart_rate, rr_interval, spo2, \
             respiratory_rate, bp_systolic, bp_diastolic, body_temperature, body_weight, steps, hrv_sdnn, consciousness, supplemental_oxygen, spo2_scale, blood_glucose)",
            "t.csv:4: value: 'fast' is not a number (nor a data-absent-reason code such as not-performed)",
            "t.csv:5: unit: '[foo]' is not a known UCUM unit",
            "t.csv:6: heart_rate: 400 /min is outside the plausible range 20..=300 /min",
            "t.csv:7: patient: is empty",
            "t.csv:8: the row has 4 fields, the header 5",
            "t.csv:9: the row has 6 fields, the header 5",
        ]
    );
    assert_eq!(sink.records.len(), 1);
    assert_eq!(sink.records[0].value, ObservationValue::Absent(AbsentReason::NotPerformed));
}

#[test]
fn wide_cells_are_rejected_one_by_one() {
    let sink = run("time,heart_rate,body_weight[[lb_av]]\n\
        2024-03-01T08:00:00Z,abc,200\n\
        2024-03-01,72,200\n")
    .unwrap();
    assert_eq!(
        reasons(&sink),
        vec![
            "t.csv:2: heart_rate: 'abc' is not a number (nor a data-absent-reason code such as not-performed)",
            "t.csv:3: time: '2024-03-01' is a date without a time and UTC offset",
        ]
    );
    assert_eq!(sink.records.len(), 1);
    assert_eq!(sink.records[0].value, ObservationValue::Quantity(200.0 * 0.453_592_37));
}

#[test]
fn header_errors_are_malformed() {
    let cases = [
        ("", "t.csv:1: the file is empty: no header line"),
        ("time,pulse\n", "t.csv:1: unknown column: 'pulse' is not a known observation kind"),
        ("heart_rate,spo2\n", "t.csv:1: the header has no 'time' column"),
        ("patient,time,kind,value,comment\n", "t.csv:1: unknown column 'comment'"),
        ("time,kind,time\n", "t.csv:1: header column 'time' appears twice"),
        ("time,,spo2\n", "t.csv:1: header column 2 has no name"),
        ("time,body_weight[stone\n", "t.csv:1: column 'body_weight[stone': a unit is written kind[unit]"),
        (
            "time,body_weight[mm[Hg]]\n",
            "t.csv:1: column 'body_weight[mm[Hg]]': unit: 'mm[Hg]' cannot be converted",
        ),
        ("time,kind\n", "t.csv:1: the header has no 'value' column"),
        ("time\n", "t.csv:1: the header has only a 'time' column"),
    ];
    for (text, expected) in cases {
        let err = run(text).unwrap_err().to_string();
        assert!(err.starts_with(expected), "{text:?}: {err}");
    }
}

#[test]
fn a_break_from_the_sink_cancels() {
    struct StopAtOnce;
    impl RecordSink for StopAtOnce {
        fn record(&mut self, _: ParsedRecord) -> ControlFlow<()> {
            ControlFlow::Break(())
        }
        fn reject(&mut self, _: Rejection) -> ControlFlow<()> {
            ControlFlow::Break(())
        }
    }
    let text = "time,heart_rate\n2024-03-01T08:00:00Z,72\n2024-03-01T08:01:00Z,73\n";
    assert!(matches!(parse("t.csv", text.as_bytes(), &mut StopAtOnce), Err(ParseError::Cancelled)));
}

#[test]
fn an_unterminated_quote_rejects_its_line_only() {
    let sink = run("time,heart_rate\n\"2024-03-01T08:00:00Z,72\n2024-03-01T08:01:00Z,73\n").unwrap();
    assert_eq!(reasons(&sink), vec!["t.csv:2: unterminated quoted field"]);
    assert_eq!(sink.records.len(), 1);
}

#[test]
fn glucose_in_mg_per_dl_is_stored_in_mmol_per_l() {
    let sink = run("patient,time,kind,value,unit\n\
        MRN-1,2024-03-01T08:00:00Z,blood_glucose,90,mg/dL\n\
        MRN-1,2024-03-01T09:00:00Z,blood_glucose,5.5,mmol/L\n\
        MRN-1,2024-03-01T10:00:00Z,blood_glucose,90,mmol/L\n")
    .unwrap();
    assert_eq!(sink.records.len(), 2);
    let mmol = sink.records[0].value.quantity().unwrap();
    assert!((mmol - 4.9957).abs() < 1e-4, "{mmol}");
    assert_eq!(sink.records[1].value, ObservationValue::Quantity(5.5));
    // 90 "mmol/L" is a mg/dL value in the wrong column: outside the plausible range.
    assert_eq!(sink.rejections.len(), 1);
    let sink = run("time,blood_glucose[mg/dL]\n2024-03-01T08:00:00Z,126\n").unwrap();
    assert!((sink.records[0].value.quantity().unwrap() - 6.9939).abs() < 1e-4);
}

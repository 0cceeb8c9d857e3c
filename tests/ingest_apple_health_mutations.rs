//! No input makes the Apple Health importer panic, and whatever it accepts is plausible: a
//! deterministic stand-in for fuzzing on stable Rust (the cargo-fuzz targets in `fuzz/` do the
//! same with coverage guidance on nightly). Thousands of mutants of the real-shaped fixture:
//! bit flips, cuts, deleted and repeated spans, and splices of export syntax.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Cursor, Write};

use vigil::domain::ObservationValue;
use vigil::ingest::CollectingSink;
use vigil::ingest::apple_health::{EXPORT_XML_IN_ZIP, parse_export_xml, parse_export_zip};

use vigil::synthetic::SplitMix64 as Rng;

const TOKENS: &[&str] = &[
    "<Record ",
    "</Record>",
    "/>",
    ">",
    "<",
    "\"",
    "type=\"HKQuantityTypeIdentifierHeartRate\" ",
    "type=\"HKQuantityTypeIdentifierHeartRateVariabilitySDNN\" ",
    "type=\"HKQuantityTypeIdentifierOxygenSaturation\" ",
    "value=\"1e308\" ",
    "value=\"-0\" ",
    "value=\"NaN\" ",
    "value=\"0.5\" ",
    "unit=\"%\" ",
    "unit=\"lb\" ",
    "startDate=\"9999-12-31 23:59:59 +1459\" ",
    "startDate=\"0000-01-01 00:00:00 -9999\" ",
    "<HeartRateVariabilityMetadataList>",
    "</HeartRateVariabilityMetadataList>",
    "<InstantaneousBeatsPerMinute bpm=\"0.0001\" time=\"12:59:60.9999999 PM\"/>",
    "<InstantaneousBeatsPerMinute bpm=\"75\" time=\"\u{202f}午後\u{a0}\"/>",
    "<Correlation type=\"HKCorrelationTypeIdentifierBloodPressure\">",
    "</Correlation>",
    "<HealthData>",
    "</HealthData>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "&amp;",
    "&bogus;",
    "&#xFFFFFF;",
    "<?pi x?>",
    "\u{feff}",
    "\u{1f600}",
    "\0",
];

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut data = base.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = data.len();
        match rng.below(6) {
            0 => {
                let i = rng.below(len);
                if let Some(b) = data.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
            1 => data.truncate(rng.below(len + 1)),
            2 => {
                let at = rng.below(len);
                let end = (at + rng.below(200)).min(len);
                data.drain(at..end);
            }
            3 => {
                let at = rng.below(len);
                let end = (at + rng.below(300)).min(len);
                let span = data[at..end].to_vec();
                let to = rng.below(data.len());
                data.splice(to..to, span);
            }
            4 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let to = rng.below(len);
                data.splice(to..to, token.iter().copied());
            }
            _ => {
                let i = rng.below(len);
                if let Some(b) = data.get_mut(i) {
                    *b = rng.next_u64().to_le_bytes()[0];
                }
            }
        }
    }
    data
}

fn check(sink: &CollectingSink) {
    for r in &sink.records {
        let ObservationValue::Quantity(v) = r.value else { panic!("{r:?}") };
        assert!(r.kind.plausible().contains(&v), "{r:?}");
    }
}

#[test]
fn mutated_exports_never_panic_and_accept_only_plausible_values() {
    let base =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ingest/apple_health/export.xml"))
            .unwrap();
    let mut rng = Rng::new(0x5EED_0001);
    let (mut ok, mut malformed) = (0, 0);
    for _ in 0..4000 {
        let input = mutate(&mut rng, &base);
        let mut sink = CollectingSink::default();
        match parse_export_xml(Cursor::new(&input), "m.xml", &mut sink) {
            Ok(_) => ok += 1,
            Err(_) => malformed += 1,
        }
        check(&sink);
    }
    // Both outcomes are exercised.
    assert!(ok > 200 && malformed > 200, "ok {ok}, malformed {malformed}");
}

#[test]
fn mutated_zip_archives_never_panic() {
    let xml =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ingest/apple_health/export.xml"))
            .unwrap();
    let mut out = Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    zip.start_file(EXPORT_XML_IN_ZIP, options).unwrap();
    zip.write_all(&xml).unwrap();
    zip.finish().unwrap();
    let base = out.into_inner();
    let mut rng = Rng::new(0x5EED_0002);
    for _ in 0..1500 {
        let input = mutate(&mut rng, &base);
        let mut sink = CollectingSink::default();
        let _ = parse_export_zip(Cursor::new(input), "m.zip", &mut sink);
        check(&sink);
    }
}

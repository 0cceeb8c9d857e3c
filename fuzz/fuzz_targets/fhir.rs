//! Arbitrary bytes into the FHIR importer, as one JSON document and as NDJSON: it may not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil::ingest::{CollectingSink, fhir};

fuzz_target!(|data: &[u8]| {
    for name in ["fuzz.json", "fuzz.ndjson"] {
        let mut sink = CollectingSink::default();
        let _ = fhir::parse(name, std::io::Cursor::new(data), &mut sink);
    }
});

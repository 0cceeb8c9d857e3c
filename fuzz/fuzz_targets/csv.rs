//! Arbitrary bytes into the CSV importer, the format detector and the UCUM unit parser:
//! none may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil::ingest::{CollectingSink, csv, detect, units};

fuzz_target!(|data: &[u8]| {
    let mut sink = CollectingSink::default();
    let _ = csv::parse("fuzz.csv", data, &mut sink);
    let _ = detect::detect("fuzz.csv", data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = units::convert(1.0, text, "kg");
        let _ = units::convert(1.0, "Cel", text);
    }
});

//! Arbitrary bytes into the FIT importer: it must return, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil::ingest::CollectingSink;
use vigil::ingest::fit::{FitOptions, parse_fit};

fuzz_target!(|data: &[u8]| {
    let _ = parse_fit(data, "fuzz.fit", &FitOptions::default(), &mut CollectingSink::default());
    let _ = parse_fit(data, "fuzz.fit", &FitOptions { user_profile_index: Some(0) }, &mut CollectingSink::default());
});

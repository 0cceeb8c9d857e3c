//! Arbitrary bytes into the Apple Health importer, as `export.xml` and as `export.zip`:
//! it must return (records, rejections or an error), never panic.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use vigil::ingest::CollectingSink;
use vigil::ingest::apple_health::{parse_export_xml, parse_export_zip};

fuzz_target!(|data: &[u8]| {
    let _ = parse_export_xml(data, "fuzz.xml", &mut CollectingSink::default());
    let _ = parse_export_zip(Cursor::new(data), "fuzz.zip", &mut CollectingSink::default());
});

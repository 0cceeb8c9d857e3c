//! Issue 12: the FHIR importer read the whole file into memory (and then held a `Value` tree
//! several times its size), so a large Bundle or NDJSON export could exhaust a workstation.
//! It must hold one resource at a time: peak memory must not grow with the file.
//!
//! Peak memory is the process's high-water mark (`VmHWM` in `/proc/self/status`), reset before
//! each parse by writing 5 to `/proc/self/clear_refs` (Linux >= 4.0, proc(5)). It is
//! process-wide, so the tests here run one at a time (`SERIAL`) and this binary holds nothing
//! else. Each case parses a file and a file four times larger, both far above the bound, and
//! checks that the larger one's peak is within a small slack of the smaller one's and under
//! a bound below the smaller file's size (the files are `vigil bench fhir`'s, kept small enough
//! for a debug build; the bench runs them at 200,000 Observations and more).

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::BufReader;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Mutex;

use vigil::domain::PatientRef;
use vigil::ingest::{ParsedPatient, ParsedRecord, RecordSink, Rejection, fhir};

/// The parse may hold this much more than the process held before it, whatever the file: one
/// resource, the reader's buffers, the allocator's own. (It measures 1 to 2 MiB.)
const BOUND_BYTES: u64 = 8 << 20;
/// How much more the four-times-larger file may cost: allocator noise, not a function of size.
const SLACK_BYTES: u64 = 2 << 20;

static SERIAL: Mutex<()> = Mutex::new(());

/// Counts what a parse reports, holding none of it.
#[derive(Debug, Default)]
struct Counts {
    records: u64,
    named: u64,
    rejections: u64,
    patients: u64,
}

impl RecordSink for Counts {
    fn record(&mut self, record: ParsedRecord) -> ControlFlow<()> {
        self.records += 1;
        if record.patient == Some(PatientRef::Mrn("BENCH-FHIR".into())) {
            self.named += 1;
        }
        ControlFlow::Continue(())
    }
    fn reject(&mut self, _: Rejection) -> ControlFlow<()> {
        self.rejections += 1;
        ControlFlow::Continue(())
    }
    fn patient(&mut self, _: ParsedPatient) -> ControlFlow<()> {
        self.patients += 1;
        ControlFlow::Continue(())
    }
}

fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() * 1024
}

/// Parses `path` and returns what it reported and how far the peak rose above the start.
fn parse_measured(path: &Path) -> (Counts, u64) {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let start = status_bytes("VmRSS:");
    let mut counts = Counts::default();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let reader = BufReader::new(std::fs::File::open(path).unwrap());
    fhir::parse(&name, reader, &mut counts).unwrap();
    let peak = status_bytes("VmHWM:");
    (counts, peak.saturating_sub(start))
}

fn write_bundle(path: &Path, n: u64) -> u64 {
    vigil::bench::write_fhir_file(path, n, false).unwrap();
    std::fs::metadata(path).unwrap().len()
}

fn write_ndjson(path: &Path, n: u64) -> u64 {
    vigil::bench::write_fhir_file(path, n, true).unwrap();
    std::fs::metadata(path).unwrap().len()
}

fn check(write: fn(&Path, u64) -> u64, extension: &str, n: u64) {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join(format!("small.{extension}"));
    let large = dir.path().join(format!("large.{extension}"));
    let small_bytes = write(&small, n);
    let large_bytes = write(&large, 4 * n);
    assert!(small_bytes > BOUND_BYTES, "the smaller file ({small_bytes} bytes) must pass the bound");

    let (counts, small_peak) = parse_measured(&small);
    assert_eq!((counts.records, counts.named, counts.rejections, counts.patients), (n, n, 0, 1));
    let (counts, large_peak) = parse_measured(&large);
    assert_eq!((counts.records, counts.named, counts.rejections, counts.patients), (4 * n, 4 * n, 0, 1));

    eprintln!(
        "{extension}: {small_bytes} bytes: peak +{small_peak} bytes; {large_bytes} bytes: peak +{large_peak} bytes"
    );
    assert!(
        large_peak < BOUND_BYTES,
        "{large_bytes} bytes of {extension} raised the peak by {large_peak} bytes"
    );
    assert!(
        large_peak <= small_peak + SLACK_BYTES,
        "peak grew with the file: +{small_peak} bytes for {small_bytes}, +{large_peak} bytes for {large_bytes}"
    );
}

#[test]
fn fhir_import_memory_is_bounded_by_one_resource_not_the_file() {
    check(write_bundle, "json", 16_000);
}

#[test]
fn fhir_ndjson_import_memory_is_bounded_by_one_resource_not_the_file() {
    check(write_ndjson, "ndjson", 20_000);
}

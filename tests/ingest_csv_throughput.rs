//! Parsing throughput of the CSV importer on a generated 1,000,000-row long-shape file.
//!
//! Slow, so ignored by default; run it optimised:
//! `cargo test --release --no-default-features --test ingest_csv_throughput -- --ignored --nocapture`

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write;
use std::ops::ControlFlow;
use std::time::Instant;

use vigil::ingest::{ParsedRecord, RecordSink, Rejection, csv};

/// Counts, so the measurement is the parser's and not a `Vec`'s growth.
#[derive(Default)]
struct Counting {
    records: u64,
    rejections: u64,
}

impl RecordSink for Counting {
    fn record(&mut self, record: ParsedRecord) -> ControlFlow<()> {
        std::hint::black_box(record);
        self.records += 1;
        ControlFlow::Continue(())
    }
    fn reject(&mut self, _: Rejection) -> ControlFlow<()> {
        self.rejections += 1;
        ControlFlow::Continue(())
    }
}

const ROWS: u64 = 1_000_000;

#[test]
#[ignore = "slow: run with --release --ignored"]
fn a_million_long_rows() {
    let mut text = String::from("patient,time,kind,value,unit\n");
    let kinds = [("heart_rate", "/min", 60.0), ("spo2", "%", 90.0), ("respiratory_rate", "/min", 12.0)];
    for i in 0..ROWS {
        let (kind, unit, base) = kinds[(i % 3) as usize];
        let (s, m, h, d) = (i % 60, (i / 60) % 60, (i / 3600) % 24, 1 + (i / 86_400) % 28);
        let value = base + (i % 7) as f64;
        writeln!(text, "MRN-{},2024-02-{d:02}T{h:02}:{m:02}:{s:02}.250+01:00,{kind},{value},{unit}", i % 50)
            .unwrap();
    }
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let mut sink = Counting::default();
        let start = Instant::now();
        csv::parse("bench.csv", text.as_bytes(), &mut sink).unwrap();
        best = best.min(start.elapsed().as_secs_f64());
        assert_eq!((sink.records, sink.rejections), (ROWS, 0));
    }
    println!(
        "{ROWS} rows, {:.1} MB: best of 3 {:.3} s, {:.2} M rows/s",
        text.len() as f64 / 1e6,
        best,
        ROWS as f64 / best / 1e6
    );
}

//! Times the Apple Health importer on a large export, parse only (a counting sink, no store),
//! beside a bare quick-xml scan of the same file (events only) as the floor to compare with.
//!
//! ```text
//! cargo run --release --example bench_apple_health -- /tmp/export.xml [/tmp/export.xml.expected]
//! ```
//!
//! With the generator's `.expected` file it also checks that every record came through. Peak
//! memory is the process's VmHWM from `/proc/self/status`, read after each pass (it only
//! grows, so the second figure is the maximum of both). `scripts/bench-apple-health.sh`
//! generates a 1 GiB file and runs this.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::ops::ControlFlow;
use std::time::Instant;

use quick_xml::Reader;
use quick_xml::events::Event;
use vigil::domain::Kind;
use vigil::ingest::apple_health::parse_export_xml;
use vigil::ingest::{ParsedRecord, RecordSink, Rejection};

#[derive(Default)]
struct Counting {
    by_kind: BTreeMap<Kind, u64>,
    rejections: u64,
    first_rejection: Option<Rejection>,
}

impl RecordSink for Counting {
    fn record(&mut self, record: ParsedRecord) -> ControlFlow<()> {
        *self.by_kind.entry(record.kind).or_default() += 1;
        ControlFlow::Continue(())
    }
    fn reject(&mut self, rejection: Rejection) -> ControlFlow<()> {
        self.rejections += 1;
        self.first_rejection.get_or_insert(rejection);
        ControlFlow::Continue(())
    }
}

fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).ok_or("usage: bench_apple_health EXPORT.xml [EXPECTED]")?;
    let size = std::fs::metadata(path)?.len();
    let mib = size as f64 / f64::from(1 << 20);
    println!("file: {path}, {size} bytes ({mib:.0} MiB)");

    // Bare scan: every event read into one reused buffer, nothing looked at.
    let started = Instant::now();
    let mut reader = Reader::from_reader(BufReader::with_capacity(1 << 20, File::open(path)?));
    let mut buf = Vec::with_capacity(4096);
    let (mut events, mut elements) = (0u64, 0u64);
    loop {
        match reader.read_event_into(&mut buf)? {
            Event::Eof => break,
            Event::Start(_) | Event::Empty(_) => elements += 1,
            _ => {}
        }
        events += 1;
        buf.clear();
    }
    let scan = started.elapsed().as_secs_f64();
    println!(
        "bare quick-xml scan: {scan:.2} s, {:.0} MiB/s, {events} events, {:.2} M elements/s; VmHWM {} KiB",
        mib / scan,
        elements as f64 / scan / 1e6,
        vm_hwm_kib()
    );

    // The importer with a counting sink.
    let started = Instant::now();
    let mut sink = Counting::default();
    let summary = parse_export_xml(BufReader::with_capacity(1 << 20, File::open(path)?), path, &mut sink)?;
    let parse = started.elapsed().as_secs_f64();
    let accepted: u64 = sink.by_kind.values().sum();
    println!(
        "importer, parse only: {parse:.2} s, {:.0} MiB/s, {accepted} records accepted = {:.2} M records/s \
         ({} Record elements examined = {:.2} M/s, {:.2} M elements/s overall); {} rejected; VmHWM {} KiB",
        mib / parse,
        accepted as f64 / parse / 1e6,
        summary.records_seen,
        summary.records_seen as f64 / parse / 1e6,
        elements as f64 / parse / 1e6,
        sink.rejections,
        vm_hwm_kib()
    );
    if let Some(r) = &sink.first_rejection {
        println!("first rejection: {} {}", r.location, r.reason);
    }

    if let Some(expected) = args.get(2) {
        let mut ok = true;
        for line in std::fs::read_to_string(expected)?.lines() {
            let Some((name, n)) = line.split_once(' ') else { continue };
            let n: u64 = n.parse()?;
            let got = if name == "records_seen" {
                summary.records_seen
            } else {
                sink.by_kind.get(&name.parse::<Kind>()?).copied().unwrap_or(0)
            };
            if got != n {
                ok = false;
                println!("MISMATCH {name}: expected {n}, got {got}");
            }
        }
        let total: u64 = sink.by_kind.values().sum();
        println!(
            "counts vs generator: {} ({total} records in {} kinds)",
            if ok { "all match" } else { "MISMATCH" },
            sink.by_kind.len()
        );
        if !ok || sink.rejections > 0 {
            std::process::exit(1);
        }
    }
    Ok(())
}

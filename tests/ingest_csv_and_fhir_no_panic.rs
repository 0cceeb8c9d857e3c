//! Stable-Rust stand-in for the fuzz targets in `fuzz/`: mutate the fixtures deterministically,
//! thousands of times, and feed the results to the CSV and FHIR importers (and the format
//! detector); none may panic. `VIGIL_MUTATIONS=200000` runs longer.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use vigil::ingest::{CollectingSink, csv, detect, fhir};

/// xorshift64: deterministic, so a failure is reproduced by its case number.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { usize::try_from(self.next() % n as u64).unwrap() }
    }
}

fn fixtures(dir: &str, out: &mut Vec<Vec<u8>>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut entries: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            fixtures(path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap().to_str().unwrap(), out);
        } else if path.extension().is_none_or(|e| e != "md") {
            out.push(std::fs::read(path).unwrap());
        }
    }
}

/// One to four mutations: change, insert, delete, duplicate or splice bytes, or truncate.
fn mutate(rng: &mut Rng, seeds: &[Vec<u8>], interesting: &[u8]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(7) {
            0 if at < data.len() => data[at] = interesting[rng.below(interesting.len())],
            1 => data.insert(at, interesting[rng.below(interesting.len())]),
            2 if at < data.len() => {
                let end = (at + 1 + rng.below(16)).min(data.len());
                data.drain(at..end);
            }
            3 if at < data.len() => {
                let end = (at + 1 + rng.below(64)).min(data.len());
                let piece = data[at..end].to_vec();
                let to = rng.below(data.len() + 1);
                data.splice(to..to, piece);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len());
                let end = (from + rng.below(256)).min(other.len());
                data.splice(at..at, other[from..end].iter().copied());
            }
            5 => data.truncate(at),
            _ if at < data.len() => data[at] = rng.next().to_le_bytes()[0],
            _ => data.push(rng.next().to_le_bytes()[0]),
        }
    }
    data
}

fn run(name: &str, seeds: &[Vec<u8>], interesting: &[u8], import: impl Fn(&[u8])) {
    let cases: u64 = std::env::var("VIGIL_MUTATIONS").ok().and_then(|n| n.parse().ok()).unwrap_or(5_000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..cases {
        let data = mutate(&mut rng, seeds, interesting);
        if catch_unwind(AssertUnwindSafe(|| import(&data))).is_err() {
            panic!("{name}: case {case} panicked on {:?}", String::from_utf8_lossy(&data));
        }
    }
}

#[test]
fn mutated_csv_never_panics() {
    let mut seeds = Vec::new();
    fixtures("tests/fixtures/ingest/csv", &mut seeds);
    let interesting = b",\"\r\n\t 0123456789.-+:TZ[]{}/%eE\xef\xbb\xbf\xff\x00";
    run("csv", &seeds, interesting, |data| {
        let mut sink = CollectingSink::default();
        let _ = csv::parse("m.csv", data, &mut sink);
        let _ = detect::detect("m.csv", data);
    });
}

#[test]
fn mutated_fhir_never_panics() {
    let mut seeds = Vec::new();
    fixtures("tests/fixtures/ingest/fhir", &mut seeds);
    let interesting = b"{}[]\":,\n 0123456789.-+eE#/TZtruefalsnl\\u\xff";
    run("fhir", &seeds, interesting, |data| {
        for name in ["m.json", "m.ndjson"] {
            let mut sink = CollectingSink::default();
            let _ = fhir::parse(name, std::io::Cursor::new(data), &mut sink);
        }
    });
}

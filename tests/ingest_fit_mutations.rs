//! No input makes the FIT importer panic, and whatever it accepts is plausible: a deterministic
//! stand-in for fuzzing on stable Rust (see `fuzz/` for the cargo-fuzz target). Mutants of the
//! real files; half of the bit-flip mutants get their file CRC recomputed, so the corrupted
//! messages are decoded as if a device had written them instead of failing the CRC check.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use vigil::domain::ObservationValue;
use vigil::ingest::CollectingSink;
use vigil::ingest::fit::{FitOptions, parse_fit};

use vigil::synthetic::SplitMix64 as Rng;

/// The FIT SDK's CRC-16 ("FIT Protocol", section "CRC").
fn fit_crc(bytes: &[u8]) -> u16 {
    const TABLE: [u16; 16] = [
        0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401, 0xA001, 0x6C00, 0x7800, 0xB401,
        0x5000, 0x9C01, 0x8801, 0x4400,
    ];
    bytes.iter().fold(0u16, |mut crc, &byte| {
        for nibble in [byte & 0xF, byte >> 4] {
            let tmp = TABLE[usize::from(crc & 0xF)];
            crc = ((crc >> 4) & 0x0FFF) ^ tmp ^ TABLE[usize::from(nibble)];
        }
        crc
    })
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/ingest/fit/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn check(sink: &CollectingSink) {
    for r in &sink.records {
        let ObservationValue::Quantity(v) = r.value else { panic!("{r:?}") };
        assert!(r.kind.plausible().contains(&v), "{r:?}");
    }
}

fn run(base: &[u8], seed: u64, cases: usize) -> (usize, usize) {
    let header = usize::from(base[0]);
    let mut rng = Rng::new(seed);
    let (mut ok, mut err) = (0, 0);
    for case in 0..cases {
        let mut data = base.to_vec();
        let n = data.len();
        match case % 4 {
            // Flip bits in the data section, then make the file CRC right again.
            0 | 1 => {
                for _ in 0..1 + rng.below(6) {
                    let i = header + rng.below(n - header - 2);
                    data[i] ^= 1 << rng.below(8);
                }
                if case % 4 == 0 {
                    let crc = fit_crc(&data[..n - 2]);
                    data[n - 2..].copy_from_slice(&crc.to_le_bytes());
                }
            }
            2 => data.truncate(rng.below(n + 1)),
            _ => {
                let at = rng.below(n);
                let junk: Vec<u8> = (0..1 + rng.below(64)).map(|_| rng.next_u64().to_le_bytes()[0]).collect();
                data.splice(at..at, junk);
            }
        }
        for options in [FitOptions::default(), FitOptions { user_profile_index: Some(1) }] {
            let mut sink = CollectingSink::default();
            match parse_fit(&data[..], "m.fit", &options, &mut sink) {
                Ok(_) => ok += 1,
                Err(_) => err += 1,
            }
            check(&sink);
        }
    }
    (ok, err)
}

#[test]
fn the_crc_helper_agrees_with_the_real_files() {
    for name in ["hrv-activity.fit", "WeightScaleSingleUser.fit", "WeightScaleMultiUser.fit"] {
        let data = fixture(name);
        let n = data.len();
        assert_eq!(fit_crc(&data[..n - 2]).to_le_bytes(), data[n - 2..], "{name}");
    }
}

#[test]
fn mutated_weight_scale_files_never_panic() {
    for name in ["WeightScaleSingleUser.fit", "WeightScaleMultiUser.fit"] {
        let (ok, err) = run(&fixture(name), 0xF17_0001, 3000);
        assert!(ok > 100 && err > 100, "{name}: ok {ok}, err {err}");
    }
}

#[test]
fn mutated_activity_files_never_panic() {
    // 24 cases: fitparser is slow unoptimised (~0.15 s per parse of this file in a debug build).
    let (ok, err) = run(&fixture("hrv-activity.fit"), 0xF17_0002, 24);
    assert!(ok > 2 && err > 2, "ok {ok}, err {err}");
}

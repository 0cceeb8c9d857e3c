//! HRV of 24 h of RR intervals (100,000 beats): artefacts, time domain, 4 Hz spline, Welch.
//! Target: under 50 ms. Afterwards pyhrv on the same series (`scripts/reference/hrv_bench.py`)
//! and the ratio.
//!
//! Run: `cargo bench --no-default-features --bench hrv`

use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use criterion::Criterion;
use vigil::analysis::hrv::{self, Correction};

/// 100,000 beats around 850 ms with LF (0.1 Hz) and HF (0.25 Hz) modulation, deterministic noise
/// and an ectopic beat every 997 beats.
fn series() -> Vec<f64> {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut t = 0.0;
    (0..100_000)
        .map(|i| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            let noise = ((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 30.0;
            let tau = std::f64::consts::TAU;
            let rr = 850.0 + 40.0 * (tau * 0.1 * t).sin() + 25.0 * (tau * 0.25 * t).sin() + noise;
            let rr = if i % 997 == 0 { rr * 0.6 } else { rr };
            t += rr / 1000.0;
            rr.round()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let rr = series();
    let mut g = c.benchmark_group("hrv");
    g.sample_size(20);
    g.bench_function("24h_100000_beats", |b| {
        b.iter(|| hrv::analyze(black_box(&rr), Correction::Interpolate))
    });
    g.finish();
}

fn summary() {
    let rr = series();
    if let Err(e) = hrv::analyze(&rr, Correction::Interpolate) {
        println!("hrv: the bench series is refused: {e}");
        return;
    }
    let mut runs: Vec<f64> = (0..15)
        .map(|_| {
            let start = Instant::now();
            black_box(hrv::analyze(&rr, Correction::Interpolate)).ok();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    let ours = runs[runs.len() / 2];
    let hours = rr.iter().sum::<f64>() / 3.6e6;
    println!(
        "hrv: {} beats ({hours:.1} h), time + frequency domain: {ours:.2} ms (target < 50 ms)",
        rr.len()
    );
    let path = std::env::temp_dir().join(format!("vigil-hrv-bench-{}.json", std::process::id()));
    let written = serde_json::to_string(&rr)
        .map_err(|e| e.to_string())
        .and_then(|json| std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display())));
    if let Err(e) = written {
        println!("hrv: python comparison skipped: {e}");
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/reference/hrv_bench.py");
    let result = Command::new("python3").arg(script).arg(&path).output();
    let _ = std::fs::remove_file(&path);
    match result {
        Ok(out) if out.status.success() => {
            let v: serde_json::Value = match serde_json::from_slice(&out.stdout) {
                Ok(v) => v,
                Err(e) => return println!("hrv: python comparison skipped: pyhrv's reply is not JSON ({e})"),
            };
            for (key, what) in
                [("time_domain_ms", "time domain"), ("welch_ms", "welch_psd"), ("total_ms", "both")]
            {
                let Some(py) = v[key].as_f64() else {
                    println!("hrv: pyhrv's reply has no number `{key}`");
                    continue;
                };
                println!(
                    "hrv: pyhrv {what}: {py:.1} ms; ratio pyhrv/vigil (vigil does both) = {:.1}x",
                    py / ours
                );
            }
        }
        Ok(out) => {
            println!("hrv: python comparison skipped: {}", String::from_utf8_lossy(&out.stderr).trim())
        }
        Err(e) => println!("hrv: python comparison skipped: python3 not found ({e})"),
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    summary();
}

//! One 5-second tick of sliding windows for 10,000 patients at 1 Hz: 5 new samples each, then
//! the features. Target: under 50 ms on one core. Afterwards, the same work in numpy
//! (`scripts/reference/window_bench.py`, recomputing each window per tick) and the ratio.
//!
//! Run: `cargo bench --no-default-features --bench window`

use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use criterion::Criterion;
use vigil::analysis::window::{VitalSample, WindowState};

const PATIENTS: usize = 10_000;

fn sample(p: usize, t: i64) -> VitalSample {
    let x = (p as f64 * 0.37 + t as f64 * 0.11).sin();
    VitalSample {
        time: t,
        heart_rate: Some(75.0 + 10.0 * x),
        spo2: Some(96.0 + x),
        respiratory_rate: Some(16.0 + 2.0 * x),
        body_temperature: Some(37.0 + 0.2 * x),
        rr_interval: Some(800.0 + 50.0 * x),
        hrv_sdnn: None,
    }
}

fn tick(states: &mut [WindowState], t: i64) -> f64 {
    let mut checksum = 0.0;
    for (p, s) in states.iter_mut().enumerate() {
        for k in 0..5 {
            s.push(&sample(p, t + k));
        }
        // Fed every second, so there are features; a missing one adds 0 to the checksum.
        checksum += s.features().and_then(|f| f.hr_mean).unwrap_or(0.0);
    }
    checksum
}

/// 10,000 windows, each already full (300 s), so a tick measures the steady state.
fn warm() -> (Vec<WindowState>, i64) {
    let mut states = vec![WindowState::new(); PATIENTS];
    let mut t = 1_767_225_600;
    for _ in 0..60 {
        tick(&mut states, t);
        t += 5;
    }
    (states, t)
}

fn bench(c: &mut Criterion) {
    let (mut states, mut t) = warm();
    let mut g = c.benchmark_group("window");
    g.sample_size(20);
    g.bench_function("tick_10000_patients", |b| {
        b.iter(|| {
            let sum = tick(black_box(&mut states), t);
            t += 5;
            sum
        })
    });
    g.finish();
}

fn median_ms(mut runs: Vec<f64>) -> f64 {
    runs.sort_by(f64::total_cmp);
    runs[runs.len() / 2]
}

fn summary() {
    let (mut states, mut t) = warm();
    let runs: Vec<f64> = (0..30)
        .map(|_| {
            let start = Instant::now();
            black_box(tick(&mut states, t));
            t += 5;
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let ours = median_ms(runs);
    println!(
        "window: one 5-s tick for {PATIENTS} patients (5 samples each + features): {ours:.2} ms (target < 50 ms)"
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/reference/window_bench.py");
    match Command::new("python3").arg(script).arg(PATIENTS.to_string()).output() {
        Ok(out) if out.status.success() => {
            let reply = serde_json::from_slice::<serde_json::Value>(&out.stdout);
            match reply.ok().and_then(|v| v["tick_ms"].as_f64()) {
                Some(py) => println!(
                    "window: numpy recomputing every window per tick: {py:.2} ms; ratio numpy/vigil = {:.1}x",
                    py / ours
                ),
                None => println!("window: python comparison skipped: no number `tick_ms` in its reply"),
            }
        }
        Ok(out) => {
            println!("window: python comparison skipped: {}", String::from_utf8_lossy(&out.stderr).trim())
        }
        Err(e) => println!("window: python comparison skipped: python3 not found ({e})"),
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    summary();
}

//! Kalman weight filter throughput, in memory, and the same filter in Python with filterpy.
//!
//! `cargo bench --no-default-features --bench kalman`
//!
//! Criterion measures `kalman::process` (the whole pure step: validation, predict, gate,
//! Joseph update, a new state value) on the 120-day fixture series and on a long tracking run,
//! and the bare nalgebra predict+update. Then a headline figure is timed over 10 million
//! tracking steps and printed as steps/s, and `scripts/reference/bench_filterpy.py` times the
//! same steps with filterpy (it is skipped, with a note, when python3 or filterpy is missing).

use std::hint::black_box;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use criterion::{Criterion, Throughput};
use nalgebra::{Matrix2, Vector2};
use vigil::analysis::kalman::{
    FilterState, KalmanConfig, Measurement, Phase, SourceClass, predict, process, update,
};
use vigil::analysis::report::{InputFormat, parse_weights};

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

/// `n` daily home weights, a deterministic +-0.5 kg wobble around a slow drift, with the
/// measuring time varying by up to 40 minutes (so `dt` is never exactly 1).
fn tracking_series(n: usize) -> Vec<Measurement> {
    // 2020-01-01T07:00:00Z.
    let t0 = DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(1_577_862_000);
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    (0..n)
        .zip(0_i64..)
        .map(|(i, day)| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let u = (seed >> 11) as f64 / (1u64 << 53) as f64;
            let minutes = i64::try_from(seed % 40).unwrap_or(0); // below 40: always fits
            let t: DateTime<Utc> = t0 + Duration::days(day) + Duration::minutes(minutes);
            let kg = 80.0 + 2.0 * (i as f64 / 400.0).sin() + (u - 0.5);
            Measurement::kg(t, kg, SourceClass::Home)
        })
        .collect()
}

/// The filter's state after the whole series (`None` for an empty one).
fn run(series: &[Measurement], cfg: &KalmanConfig) -> Option<FilterState> {
    let mut state: Option<FilterState> = None;
    for m in series {
        state = Some(process(state.as_ref(), *m, cfg).0);
    }
    state
}

fn criterion_benches(c: &mut Criterion, cfg: &KalmanConfig, series: &[Measurement]) -> Result<(), String> {
    let path = format!("{MANIFEST}/tests/fixtures/analysis/kalman/weights_120d.csv");
    let fixture = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let mut rows = parse_weights(&fixture, InputFormat::Csv).map_err(|e| format!("{path}: {e}"))?;
    rows.sort_by_key(|r| r.measurement.time);
    let fixture: Vec<Measurement> = rows.into_iter().map(|r| r.measurement).collect();

    let mut g = c.benchmark_group("kalman");
    g.throughput(Throughput::Elements(fixture.len() as u64));
    g.bench_function("process/fixture_120d", |b| b.iter(|| run(black_box(&fixture), cfg)));
    let long = &series[..10_000];
    g.throughput(Throughput::Elements(long.len() as u64));
    g.bench_function("process/tracking_10k", |b| b.iter(|| run(black_box(long), cfg)));
    g.throughput(Throughput::Elements(1));
    g.bench_function("nalgebra_predict_update", |b| {
        let (mut x, mut p) = (Vector2::new(80.0, 0.0), Matrix2::new(0.1, 0.0, 0.0, 0.01));
        b.iter(|| {
            predict(&mut x, &mut p, black_box(1.01), 0.002);
            update(&mut x, &mut p, black_box(80.2), 0.25);
        })
    });
    g.finish();
    Ok(())
}

/// This thread's time on a CPU (Linux `/proc/thread-self/schedstat`, first field, ns), so the
/// figure means "on one core" even when the machine is shared and busy.
fn cpu_time() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(s.split_whitespace().next()?.parse::<f64>().ok()? / 1e9)
}

/// Times `process` over the whole series `passes` times; returns steps/s by wall clock and
/// by this thread's CPU time.
fn headline(cfg: &KalmanConfig, series: &[Measurement], passes: usize) -> (f64, Option<f64>) {
    let (start, cpu_start) = (Instant::now(), cpu_time());
    for _ in 0..passes {
        black_box(run(black_box(series), cfg));
    }
    let steps = (series.len() * passes) as f64;
    let cpu = cpu_start.zip(cpu_time()).map(|(a, b)| steps / (b - a));
    (steps / start.elapsed().as_secs_f64(), cpu)
}

/// Runs the filterpy bench on the first `n` tracking steps; returns its steps/s by wall clock
/// and per CPU-second, or why it could not run.
fn filterpy_steps_per_second(
    cfg: &KalmanConfig,
    series: &[Measurement],
    n: usize,
) -> Result<(f64, Option<f64>), String> {
    // Run up to the first tracking state; filterpy starts from it.
    let mut state = None;
    let mut first = 0;
    while !matches!(state, Some(FilterState { phase: Phase::Tracking(_), .. })) {
        state = Some(process(state.as_ref(), series[first], cfg).0);
        first += 1;
    }
    let Some(Phase::Tracking(t)) = state.map(|s| s.phase) else { unreachable!() };
    let steps = &series[first..first + n];
    let mut last = t.time;
    let mut dt = Vec::with_capacity(n);
    for m in steps {
        dt.push((m.time - last).num_milliseconds() as f64 / 86_400_000.0);
        last = m.time;
    }
    let z: Vec<f64> = steps.iter().filter_map(|m| m.value.quantity()).collect();
    let request = serde_json::json!({
        "q": cfg.acceleration_psd, "r": cfg.measurement_variance(SourceClass::Home), "gate_sigma": cfg.gate_sigma,
        "x0": t.x, "P0": t.p, "dt": dt, "z": z,
    });
    let mut child = Command::new("python3")
        .arg(format!("{MANIFEST}/scripts/reference/bench_filterpy.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("python3 is not available ({e})"))?;
    let mut stdin = child.stdin.take().ok_or("python3's stdin is not a pipe")?;
    stdin.write_all(request.to_string().as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
    }
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    println!("filterpy reference: {reply}");
    let rate = |k: &str| reply[k].as_f64().ok_or_else(|| format!("no {k} in the reply"));
    Ok((rate("steps_per_second")?, rate("steps_per_cpu_second").ok()))
}

fn main() -> Result<(), String> {
    let cfg = KalmanConfig::default();
    let series = tracking_series(1_000_000);
    let mut c = Criterion::default().configure_from_args();
    criterion_benches(&mut c, &cfg, &series)?;
    c.final_summary();

    // `cargo bench -- <filter>` or `cargo test --benches` runs only a part: skip the headline.
    if std::env::args().any(|a| a == "--test" || a == "--list") {
        return Ok(());
    }
    let (rust, cpu) = headline(&cfg, &series, 10);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?");
    println!("kalman::process in memory, one thread, 10 M tracking steps (load average {load}):");
    println!("  {:.1} M steps/s by wall clock", rust / 1e6);
    if let Some(cpu) = cpu {
        println!("  {:.1} M steps/s per CPU-second (time actually on a core)", cpu / 1e6);
    }
    match filterpy_steps_per_second(&cfg, &series, 20_000) {
        Ok((py, py_cpu)) => {
            println!(
                "filterpy KalmanFilter, same steps: {py:.0} steps/s by wall clock; Vigil {:.0}x faster",
                rust / py
            );
            if let Some((py_cpu, cpu)) = py_cpu.zip(cpu) {
                println!("  {py_cpu:.0} steps per CPU-second; Vigil {:.0}x faster", cpu / py_cpu);
            }
        }
        Err(why) => println!("filterpy comparison skipped: {why}"),
    }
    Ok(())
}

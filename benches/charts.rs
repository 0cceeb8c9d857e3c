//! Chart rendering to SVG at 800 px: 24 h of 1 Hz heart rate (86,400 points) decimated to the
//! pixel width, and the same chart drawing every point (the reference, in the same run); a
//! two-series blood-pressure chart (2 x 86,400 points, an arterial line); a 90-day weight chart.
//! The SVG sizes are printed once before the timings.
//!
//! Run: `cargo bench --no-default-features --bench charts -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::Criterion;
use vigil::charts::{
    LevelPoint, Range, RenderedChart, Series, SeriesColor, VitalChart, WeightChart, decimate_min_max,
    render_vitals, render_vitals_full_resolution, render_weight,
};
use vigil::synthetic::SplitMix64;

/// 2024-03-05T13:00:00Z.
const T0: i64 = 1_709_643_600_000;
const DAY: i64 = 86_400_000;

/// 24 h at 1 Hz: a slow wave, noise, and spikes.
fn one_hertz(base: f64, amplitude: f64, seed: u64) -> Vec<(i64, f64)> {
    let mut rng = SplitMix64::new(seed);
    (0..86_400)
        .map(|i| {
            let spike = if i % 997 == 500 { 0.5 * base } else { 0.0 };
            let wave = amplitude * (i as f64 / 5400.0).sin();
            (T0 + i * 1000, base + wave + rng.range(-3.0, 3.0) + spike)
        })
        .collect()
}

fn vitals(title: &str, unit: &str, series: Vec<Series>, reference: (f64, f64)) -> VitalChart {
    VitalChart {
        title: title.into(),
        unit: unit.into(),
        series,
        t0: T0,
        t1: T0 + Range::Day.millis(),
        width: 800,
        height: 300,
        utc_offset_s: 3600,
        reference: Some(reference),
        y_floor_ceiling: None,
    }
}

/// 90 daily weights with a crude level and band, two outliers and one flag.
fn weight() -> WeightChart {
    let mut rng = SplitMix64::new(11);
    let (mut weights, mut level) = (Vec::new(), Vec::new());
    for d in 0..90 {
        let t = T0 + d * DAY + rng.int(0, 40) * 60_000;
        let truth = 82.0 + if d > 75 { 0.25 * (d - 75) as f64 } else { -0.01 * d as f64 };
        weights.push((t, truth + rng.range(-0.5, 0.5)));
        level.push(LevelPoint { t, kg: truth, sd_kg: 0.35 });
    }
    WeightChart {
        t0: T0,
        t1: T0 + 90 * DAY,
        width: 800,
        height: 320,
        utc_offset_s: 3600,
        weights,
        rejected: vec![(T0 + 20 * DAY, 86.4), (T0 + 55 * DAY, 78.1)],
        level,
        trend_kg_per_week: Some(0.42),
        flags: vec![(T0 + 86 * DAY, ">2 kg in 3 days".into())],
    }
}

fn report(name: &str, r: &RenderedChart) {
    eprintln!(
        "{name:<28} {:>9} bytes ({:>7.1} KiB), {:>6} points in, {:>6} drawn",
        r.svg.len(),
        r.svg.len() as f64 / 1024.0,
        r.points_in,
        r.points_drawn
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let hr = vitals(
        "Heart rate",
        "bpm",
        vec![Series {
            label: "Heart rate".into(),
            points: one_hertz(72.0, 12.0, 1),
            color: SeriesColor::Blue,
        }],
        (51.0, 90.0),
    );
    let bp = vitals(
        "Blood pressure",
        "mmHg",
        vec![
            Series { label: "Systolic".into(), points: one_hertz(125.0, 10.0, 2), color: SeriesColor::Blue },
            Series { label: "Diastolic".into(), points: one_hertz(80.0, 6.0, 3), color: SeriesColor::Orange },
        ],
        (111.0, 219.0),
    );
    let weight = weight();

    // Each chart renders once here, so the timed renders below are known to succeed.
    eprintln!("SVG sizes at 800 px:");
    report("hr_24h_1hz decimated", &render_vitals(&hr)?);
    report("hr_24h_1hz every point", &render_vitals_full_resolution(&hr)?);
    report("bp_24h_2x1hz decimated", &render_vitals(&bp)?);
    report("bp_24h_2x1hz every point", &render_vitals_full_resolution(&bp)?);
    report("weight_90d", &render_weight(&weight)?);

    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("charts");
    g.bench_function("hr_24h_1hz_800px/decimated", |b| b.iter(|| render_vitals(black_box(&hr))));
    g.bench_function("hr_24h_1hz_800px/every_point", |b| {
        b.iter(|| render_vitals_full_resolution(black_box(&hr)))
    });
    g.bench_function("decimate_min_max_86400_to_727_columns", |b| {
        b.iter(|| decimate_min_max(black_box(&hr.series[0].points), hr.t0, hr.t1, 727))
    });
    g.bench_function("bp_24h_2x1hz_800px/decimated", |b| b.iter(|| render_vitals(black_box(&bp))));
    g.bench_function("weight_90d_800px", |b| b.iter(|| render_weight(black_box(&weight))));
    g.finish();
    c.final_summary();
    Ok(())
}

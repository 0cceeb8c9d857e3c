//! Tests of the charts: decimation (`decimate.rs`), the rendered SVGs (`render.rs`), and the
//! shared synthetic data and SVG probes here.
//!
//! `samples` renders and checks a sample of each chart;
//! `VIGIL_CHART_SAMPLES=/tmp/charts cargo test --no-default-features --lib charts::tests::samples`
//! also writes them there, to look at.

mod decimate;
mod render;

use chrono::DateTime;

use super::*;
use crate::synthetic::SplitMix64;

const SECOND: i64 = 1000;
const MINUTE: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

fn at(rfc3339: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp_millis()
}

/// 1 Hz heart rate over `[t0, t0 + n s)`: a slow wave, noise, and a spike every 997 s.
fn heart_rate(t0: i64, n: usize, seed: u64) -> Vec<(i64, f64)> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|i| {
            let wave = 70.0 + 12.0 * (i as f64 / 5400.0).sin();
            let spike = if i % 997 == 500 {
                45.0
            } else if i % 1499 == 700 {
                -30.0
            } else {
                0.0
            };
            (t0 + i64::try_from(i).unwrap() * SECOND, wave + rng.range(-3.0, 3.0) + spike)
        })
        .collect()
}

fn vital(title: &str, unit: &str, t0: i64, range: Range, series: Vec<Series>) -> VitalChart {
    VitalChart {
        title: title.into(),
        unit: unit.into(),
        series,
        t0,
        t1: t0 + range.millis(),
        width: 800,
        height: 300,
        utc_offset_s: 3600,
        reference: None,
        y_floor_ceiling: None,
    }
}

fn hr_chart(t0: i64, points: Vec<(i64, f64)>) -> VitalChart {
    let series = vec![Series { label: "Heart rate".into(), points, color: SeriesColor::Blue }];
    VitalChart { reference: Some((51.0, 90.0)), ..vital("Heart rate", "bpm", t0, Range::Day, series) }
}

/// Systolic and diastolic every 30 minutes for `days`.
fn blood_pressure(t0: i64, days: i64) -> Vec<Series> {
    let mut rng = SplitMix64::new(7);
    let times: Vec<i64> = (0..days * 48).map(|i| t0 + i * 30 * MINUTE).collect();
    let mut wave = |base: f64, amplitude: f64| -> Vec<(i64, f64)> {
        times
            .iter()
            .map(|&t| {
                (
                    t,
                    base + amplitude * ((t - t0) as f64 / DAY as f64 * std::f64::consts::TAU).sin()
                        + rng.range(-6.0, 6.0),
                )
            })
            .collect()
    };
    let systolic = wave(128.0, 10.0);
    let diastolic = wave(80.0, 6.0);
    vec![
        Series { label: "Systolic".into(), points: systolic, color: SeriesColor::Blue },
        Series { label: "Diastolic".into(), points: diastolic, color: SeriesColor::Orange },
    ]
}

/// 90 days of daily weights gaining fluid at the end, two outliers, a crude level.
fn weight_chart(t0: i64) -> WeightChart {
    let mut rng = SplitMix64::new(11);
    let mut weights = Vec::new();
    let mut level = Vec::new();
    for d in 0..90 {
        let t = t0 + d * DAY + 7 * HOUR + rng.int(0, 40) * MINUTE;
        let truth = 82.0 + if d > 75 { 0.25 * (d - 75) as f64 } else { -0.01 * d as f64 };
        if d == 40 {
            continue; // a missed day
        }
        weights.push((t, truth + rng.range(-0.5, 0.5)));
        level.push(LevelPoint { t, kg: truth, sd_kg: if d < 5 { 1.2 } else { 0.35 } });
    }
    WeightChart {
        t0,
        t1: t0 + 90 * DAY,
        width: 800,
        height: 320,
        utc_offset_s: 3600,
        rejected: vec![(t0 + 20 * DAY + 8 * HOUR, 86.4), (t0 + 55 * DAY + 8 * HOUR, 78.1)],
        weights,
        level,
        trend_kg_per_week: Some(0.4249),
        flags: vec![(t0 + 86 * DAY + 8 * HOUR, ">2 kg in 3 days".into())],
    }
}

/// The text of every `<text>` element.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|s| Some(s[s.find('>')? + 1..s.find("</text>")?].trim().to_owned()))
        .collect()
}

/// `(x, text)` of every `<text>` element.
fn placed_texts(svg: &str) -> Vec<(i32, String)> {
    svg.split("<text")
        .skip(1)
        .filter_map(|s| {
            let x = s.split("x=\"").nth(1)?.split('"').next()?.parse().ok()?;
            Some((x, s[s.find('>')? + 1..s.find("</text>")?].trim().to_owned()))
        })
        .collect()
}

/// The `<polyline>`s stroked in `color`.
fn polylines(svg: &str, color: SeriesColor) -> usize {
    svg.lines()
        .filter(|l| l.starts_with("<polyline") && l.contains(&format!("stroke=\"{}\"", color.hex())))
        .count()
}

/// Depth left open, `<svg>` roots and `<title>`s directly under the root, of an XML document;
/// panics where it does not parse.
fn xml_outline(svg: &str) -> (i32, usize, usize) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(svg);
    let (mut depth, mut roots, mut titles) = (0, 0, 0);
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("{e} at {}", reader.buffer_position())) {
            Event::Start(e) => {
                roots += usize::from(depth == 0 && e.name().as_ref() == b"svg");
                titles += usize::from(depth == 1 && e.name().as_ref() == b"title");
                depth += 1;
            }
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
    }
    (depth, roots, titles)
}

/// One sample chart: what it should show.
struct Sample {
    name: String,
    rendered: RenderedChart,
    width: u32,
    title: &'static str,
    /// The first series' colour; `None` for a chart with no data in its range.
    color: Option<SeriesColor>,
}

/// A sample of each chart, checked: one well-formed `<svg>` of the width asked for, titled, with
/// its series drawn (or "No data in this range"). With `VIGIL_CHART_SAMPLES=DIR` each is also
/// written to `DIR/<name>.svg`, to look at.
#[test]
fn samples() {
    let t0 = at("2024-03-05T13:00:00Z");
    let mut samples = Vec::new();
    let mut add = |name: &str, rendered: Result<RenderedChart, ChartError>, width, title, color| {
        let rendered = rendered.unwrap_or_else(|e| panic!("{name}: {e}"));
        samples.push(Sample { name: name.to_owned(), rendered, width, title, color });
    };
    let mut points = heart_rate(t0, 86_400, 1);
    points.retain(|p| !(t0 + 9 * HOUR..t0 + 11 * HOUR).contains(&p.0));
    let hr = hr_chart(t0, points.clone());
    let blue = Some(SeriesColor::Blue);
    add("hr_24h_800", render_vitals(&hr), 800, "Heart rate (bpm)", blue);
    let narrow = VitalChart { width: 400, height: 220, ..hr.clone() };
    add("hr_24h_400", render_vitals(&narrow), 400, "Heart rate (bpm)", blue);
    add("hr_24h_full", render_vitals_full_resolution(&hr), 800, "Heart rate (bpm)", blue);
    let hour = VitalChart { t1: t0 + HOUR, width: 1200, ..hr.clone() };
    add("hr_1h_1200", render_vitals(&hour), 1200, "Heart rate (bpm)", blue);
    for (range, width) in [(Range::Week, 800), (Range::Month, 400), (Range::Month, 1200)] {
        let bp = VitalChart {
            width,
            reference: Some((111.0, 219.0)),
            ..vital("Blood pressure", "mmHg", t0, range, blood_pressure(t0, 30))
        };
        add(
            &format!("bp_{}_{width}", range.as_str()),
            render_vitals(&bp),
            width,
            "Blood pressure (mmHg)",
            blue,
        );
    }
    let flat = vec![Series {
        label: "SpO2".into(),
        points: vec![(t0, 98.0), (t0 + HOUR, 98.0)],
        color: SeriesColor::Purple,
    }];
    let spo2 = VitalChart {
        reference: Some((96.0, 100.0)),
        y_floor_ceiling: Some((0.0, 100.0)),
        ..vital("SpO2", "%", t0, Range::Day, flat)
    };
    add("spo2_flat", render_vitals(&spo2), 800, "SpO2 (%)", Some(SeriesColor::Purple));
    add("empty", render_vitals(&hr_chart(t0, Vec::new())), 800, "Heart rate (bpm)", None);
    let weight = weight_chart(t0);
    add("weight_90d_800", render_weight(&weight), 800, "Body weight (kg)", None);
    let narrow = WeightChart { width: 400, height: 260, ..weight };
    add("weight_90d_400", render_weight(&narrow), 400, "Body weight (kg)", None);

    let dir = std::env::var("VIGIL_CHART_SAMPLES").ok();
    if let Some(dir) = &dir {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{dir}: {e}"));
    }
    for s in &samples {
        let (svg, name) = (&s.rendered.svg, &s.name);
        assert_eq!(xml_outline(svg), (0, 1, 1), "{name}: one <svg> with one <title>");
        let opening = &svg[..svg.find('>').unwrap()];
        assert!(opening.contains(&format!("width=\"{}\"", s.width)), "{name}: {opening}");
        assert!(svg.contains(&format!("<title>{}, ", s.title)), "{name}: {}", &svg[..200.min(svg.len())]);
        if name.starts_with("weight") {
            assert!(s.rendered.points_drawn > 0, "{name}: nothing drawn");
            assert!(texts(svg).iter().any(|t| t.contains("kg/week")), "{name}: no trend");
        } else if let Some(color) = s.color {
            assert!(s.rendered.points_drawn > 0, "{name}: nothing drawn");
            assert!(polylines(svg, color) > 0, "{name}: no {color:?} line");
        } else {
            assert_eq!(s.rendered.points_drawn, 0, "{name}");
            assert!(texts(svg).contains(&"No data in this range".to_owned()), "{name}");
        }
        if let Some(dir) = &dir {
            let path = format!("{dir}/{name}.svg");
            std::fs::write(&path, svg).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
    }
    // The full-resolution chart draws every point; the decimated one at most two a column.
    let (decimated, full) = (&samples[0].rendered, &samples[2].rendered);
    assert_eq!(full.points_drawn, full.points_in);
    assert!(decimated.points_drawn <= 2 * 800 + 2 && decimated.points_drawn < full.points_drawn);
}

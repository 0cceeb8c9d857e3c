//! The rendered SVGs: their text, lines, gaps, sizes and errors.

use super::*;

fn count(svg: &str, needle: &str) -> usize {
    svg.matches(needle).count()
}

/// The x-axis labels (`HH:MM` or `D Mon`) with their x positions, left to right.
fn x_labels(svg: &str) -> Vec<(i32, String)> {
    let is_time =
        |s: &str| s.len() == 5 && s.as_bytes()[2] == b':' && s.replace(':', "").parse::<u32>().is_ok();
    let is_date = |s: &str| {
        let parts: Vec<&str> = s.split(' ').collect();
        parts.len() == 2 && parts[0].parse::<u32>().is_ok() && parts[1].len() == 3
    };
    let mut labels: Vec<_> =
        placed_texts(svg).into_iter().filter(|(_, s)| is_time(s) || is_date(s)).collect();
    labels.sort();
    labels
}

/// The y-axis labels: texts that are plain numbers.
fn y_labels(svg: &str) -> Vec<f64> {
    texts(svg).iter().filter_map(|s| s.parse().ok()).collect()
}

#[test]
fn a_two_hour_hole_breaks_the_line_in_two() {
    let t0 = at("2024-03-05T13:00:00Z");
    let mut points = heart_rate(t0, 86_400, 1);
    let whole = render_vitals(&hr_chart(t0, points.clone())).unwrap();
    assert_eq!(polylines(&whole.svg, SeriesColor::Blue), 1);
    points.retain(|p| !(t0 + 9 * HOUR..t0 + 11 * HOUR).contains(&p.0));
    let chart = hr_chart(t0, points);
    for rendered in [render_vitals(&chart).unwrap(), render_vitals_full_resolution(&chart).unwrap()] {
        assert_eq!(polylines(&rendered.svg, SeriesColor::Blue), 2);
    }
}

#[test]
fn sparse_readings_are_one_line_with_a_dot_each() {
    let t0 = at("2024-03-05T13:00:00Z");
    // Every 4 hours: the median interval, not the pixel width, sets the gap.
    let points: Vec<(i64, f64)> =
        (0..6).map(|i| (t0 + i * 4 * HOUR + 5 * MINUTE, 120.0 + i as f64)).collect();
    let rendered = render_vitals(&hr_chart(t0, points)).unwrap();
    assert_eq!(polylines(&rendered.svg, SeriesColor::Blue), 1);
    assert_eq!(count(&rendered.svg, "<circle"), 6);
}

#[test]
fn an_isolated_reading_is_a_dot_between_two_lines() {
    let t0 = at("2024-03-05T13:00:00Z");
    let mut points = heart_rate(t0, 2 * 3600, 2);
    points.push((t0 + 12 * HOUR, 80.0));
    points.extend(heart_rate(t0 + 20 * HOUR, 2 * 3600, 3));
    let rendered = render_vitals(&hr_chart(t0, points)).unwrap();
    assert_eq!(polylines(&rendered.svg, SeriesColor::Blue), 2);
    assert_eq!(count(&rendered.svg, "<circle"), 1);
}

#[test]
fn the_svg_has_a_title_and_local_time_labels() {
    let t0 = at("2024-03-05T13:00:00Z");
    let chart = VitalChart { t1: t0 + HOUR, ..hr_chart(t0, heart_rate(t0, 3600, 1)) };
    let svg = render_vitals(&chart).unwrap().svg;
    assert!(svg.starts_with("<svg "), "{}", &svg[..80]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains(
        "role=\"img\">\n<title>Heart rate (bpm), 1h, 5 Mar 2024 14:00 to 5 Mar 2024 15:00 (UTC+01:00)</title>"
    ));
    let labels: Vec<String> = x_labels(&svg).into_iter().map(|(_, s)| s).collect();
    for expected in ["14:00", "14:30", "15:00"] {
        assert!(labels.iter().any(|l| l == expected), "{expected} missing from {labels:?}");
    }
    assert!(!labels.iter().any(|l| l.starts_with("13:")), "UTC leaked into the labels: {labels:?}");
    // West of UTC.
    let west = render_vitals(&VitalChart { utc_offset_s: -5 * 3600, ..chart.clone() }).unwrap().svg;
    assert!(x_labels(&west).iter().any(|(_, s)| s == "08:30"));
    assert!(west.contains("(UTC-05:00)</title>"));
    // Half-hour zones: ticks at round local hours, not round UTC hours.
    let india = VitalChart { utc_offset_s: 19_800, t1: t0 + DAY, ..chart };
    let labels = x_labels(&render_vitals(&india).unwrap().svg);
    assert!(labels.len() >= 5 && labels.iter().all(|(_, s)| s.ends_with(":00")), "{labels:?}");
}

#[test]
fn long_ranges_are_labelled_with_dates_and_weeks_start_on_monday() {
    let t0 = at("2024-03-05T13:00:00Z");
    let series = blood_pressure(t0, 30);
    let week = render_vitals(&vital("Blood pressure", "mmHg", t0, Range::Week, series.clone())).unwrap();
    let labels: Vec<String> = x_labels(&week.svg).into_iter().map(|(_, s)| s).collect();
    assert!(labels.contains(&"6 Mar".to_owned()) && labels.contains(&"12 Mar".to_owned()), "{labels:?}");
    let month = render_vitals(&vital("Blood pressure", "mmHg", t0, Range::Month, series)).unwrap();
    let labels: Vec<String> = x_labels(&month.svg).into_iter().map(|(_, s)| s).collect();
    // At 800 px, weekly ticks: 2024-03-11 is a Monday.
    assert_eq!(labels, ["11 Mar", "18 Mar", "25 Mar", "1 Apr"]);
}

#[test]
fn tick_labels_never_overlap_and_stay_readable_at_every_range_and_width() {
    let t0 = at("2024-03-05T13:00:00Z");
    let series = blood_pressure(t0, 30);
    for range in Range::ALL {
        for width in [400, 550, 800, 1000, 1200] {
            let chart = VitalChart { width, ..vital("Blood pressure", "mmHg", t0, range, series.clone()) };
            let labels = x_labels(&render_vitals(&chart).unwrap().svg);
            assert!((3..=16).contains(&labels.len()), "{range:?} {width}px: {labels:?}");
            // Labels are about 40 px wide (12.9 px DejaVu Sans); centres at least 55 px apart.
            for pair in labels.windows(2) {
                assert!(pair[1].0 - pair[0].0 >= 55, "{range:?} {width}px: {pair:?}");
            }
        }
    }
}

#[test]
fn an_empty_range_says_so() {
    let t0 = at("2024-03-05T13:00:00Z");
    let before = vec![(t0 - HOUR, 70.0), (t0 - 1, 71.0)];
    for points in [Vec::new(), before, vec![(t0 + HOUR, f64::NAN)]] {
        let rendered = render_vitals(&hr_chart(t0, points)).unwrap();
        assert!(texts(&rendered.svg).contains(&"No data in this range".to_owned()));
        assert_eq!((rendered.points_in, rendered.points_drawn, rendered.latest), (0, 0, None));
        assert!(!x_labels(&rendered.svg).is_empty(), "the axes are still drawn");
    }
    let no_series = render_vitals(&vital("Temperature", "°C", t0, Range::Day, Vec::new())).unwrap();
    assert!(no_series.svg.contains("No data in this range"));
    let weight =
        WeightChart { weights: Vec::new(), rejected: Vec::new(), level: Vec::new(), ..weight_chart(t0) };
    assert!(render_weight(&weight).unwrap().svg.contains("No data in this range"));
}

#[test]
fn a_flat_series_gets_a_span_of_two_units() {
    let t0 = at("2024-03-05T13:00:00Z");
    let points = (0..100).map(|i| (t0 + i * MINUTE, 72.0)).collect();
    let chart = VitalChart { reference: None, ..hr_chart(t0, points) };
    let svg = render_vitals(&chart).unwrap().svg;
    let ys = y_labels(&svg);
    assert!(ys.windows(2).all(|w| w[0] != w[1]), "distinct labels {ys:?}");
    let (lo, hi) = (ys.iter().copied().fold(f64::MAX, f64::min), ys.iter().copied().fold(f64::MIN, f64::max));
    assert!(lo <= 71.0 && hi >= 73.0 && hi - lo <= 4.0, "{ys:?}");
    // One point alone is a dot.
    let single = VitalChart { reference: None, ..hr_chart(t0, vec![(t0 + HOUR, 72.0)]) };
    let rendered = render_vitals(&single).unwrap();
    assert_eq!((count(&rendered.svg, "<circle"), rendered.latest), (1, Some((t0 + HOUR, 72.0))));
}

#[test]
fn the_axis_padding_respects_the_ceiling_but_never_hides_a_value() {
    let t0 = at("2024-03-05T13:00:00Z");
    let spo2 = |points: Vec<(i64, f64)>| VitalChart {
        y_floor_ceiling: Some((0.0, 100.0)),
        reference: Some((96.0, 100.0)),
        ..vital(
            "SpO2",
            "%",
            t0,
            Range::Day,
            vec![Series { label: "SpO2".into(), points, color: SeriesColor::Purple }],
        )
    };
    let normal = render_vitals(&spo2(vec![(t0 + HOUR, 97.0), (t0 + 2 * HOUR, 100.0)])).unwrap().svg;
    assert_eq!(y_labels(&normal).iter().copied().fold(f64::MIN, f64::max), 100.0);
    let low = render_vitals(&spo2(vec![(t0 + HOUR, 84.0)])).unwrap().svg;
    assert!(y_labels(&low).iter().all(|&v| (80.0..=100.0).contains(&v)), "{:?}", y_labels(&low));
    // The dot is inside the plot: between the ends of the y axis's line.
    let axis = low.lines().find(|l| l.starts_with("<polyline") && l.contains("#666666")).unwrap();
    let ys: Vec<i32> = axis
        .split("points=\"")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .filter_map(|p| p.split(',').nth(1)?.trim_end_matches('"').parse().ok())
        .collect();
    let cy: i32 = low
        .split("<circle")
        .nth(1)
        .unwrap()
        .split("cy=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(ys[0] < cy && cy < ys[1], "dot at {cy}, plot {ys:?}");
}

#[test]
fn blood_pressure_shows_both_series_and_their_labels() {
    let t0 = at("2024-03-05T13:00:00Z");
    let chart = vital("Blood pressure", "mmHg", t0, Range::Week, blood_pressure(t0, 7));
    let rendered = render_vitals(&chart).unwrap();
    let labels = texts(&rendered.svg);
    assert!(
        labels.contains(&"Systolic".to_owned()) && labels.contains(&"Diastolic".to_owned()),
        "{labels:?}"
    );
    assert_eq!(polylines(&rendered.svg, SeriesColor::Blue), 1);
    assert_eq!(polylines(&rendered.svg, SeriesColor::Orange), 1);
    assert_eq!(rendered.points_in, 2 * 7 * 48);
    assert_eq!(rendered.latest, chart.series[0].points.last().copied());
}

#[test]
fn the_weight_chart_shows_trend_flags_rejections_and_the_band() {
    let t0 = at("2024-03-05T13:00:00Z");
    let chart = weight_chart(t0);
    let rendered = render_weight(&chart).unwrap();
    let svg = &rendered.svg;
    let labels = texts(svg);
    assert!(labels.contains(&"Trend +0.42 kg/week".to_owned()), "{labels:?}");
    assert!(labels.contains(&"&gt;2 kg in 3 days".to_owned()), "{labels:?}");
    assert!(svg.contains("<title>Body weight (kg), Trend +0.42 kg/week, 90d, 5 Mar 2024 14:00 to"));
    let ring = format!("fill=\"none\" stroke=\"{}\"", SeriesColor::Orange.hex());
    assert_eq!(count(svg, &ring), 2 + 1, "two rejected weights as rings, and the legend's");
    assert_eq!(count(svg, &format!("<polygon opacity=\"0.18\" fill=\"{}\"", SeriesColor::Blue.hex())), 1);
    assert_eq!(polylines(svg, SeriesColor::Red), 1, "the flag's line");
    assert_eq!(rendered.points_in, chart.weights.len() + 2 + chart.level.len());
    assert_eq!(rendered.latest, chart.weights.last().copied());

    let caption = |trend| {
        texts(&render_weight(&WeightChart { trend_kg_per_week: trend, ..chart.clone() }).unwrap().svg)
    };
    assert!(caption(Some(-0.3)).contains(&"Trend -0.30 kg/week".to_owned()));
    assert!(caption(Some(-0.001)).contains(&"Trend +0.00 kg/week".to_owned()));
    assert!(caption(None).contains(&"Trend not available".to_owned()));
}

#[test]
fn close_flags_get_separate_label_rows() {
    let t0 = at("2024-03-05T13:00:00Z");
    let flags = (0..3).map(|i| (t0 + (80 + i) * DAY, format!("alert {i}"))).collect();
    let svg = render_weight(&WeightChart { flags, ..weight_chart(t0) }).unwrap().svg;
    let rows: Vec<String> = svg
        .split("<text")
        .filter(|s| s.contains(">\nalert "))
        .map(|s| s.split("y=\"").nth(1).unwrap().split('"').next().unwrap().to_owned())
        .collect();
    assert_eq!(rows.len(), 3);
    assert!(rows[0] != rows[1] && rows[1] != rows[2] && rows[0] != rows[2], "{rows:?}");
}

#[test]
fn points_drawn_stay_within_two_per_column_for_any_input() {
    let mut rng = SplitMix64::new(9);
    let t0 = at("2024-03-05T13:00:00Z");
    for case in 0..40 {
        let range = Range::ALL[rng.below(4)];
        let width = u32::try_from(rng.int(100, 1200)).unwrap();
        let n = rng.below(40_000);
        let mut t = t0 - rng.int(0, HOUR);
        let step = (range.millis() / i64::try_from(n.max(1)).unwrap()).max(1);
        let points: Vec<(i64, f64)> = (0..n)
            .map(|_| {
                t += rng.int(0, 2 * step);
                (t, if rng.below(50) == 0 { f64::NAN } else { rng.range(30.0, 200.0) })
            })
            .collect();
        let chart =
            VitalChart { width, height: u32::try_from(rng.int(100, 600)).unwrap(), ..hr_chart(t0, points) };
        let chart = VitalChart { t1: t0 + range.millis(), ..chart };
        let rendered = render_vitals(&chart).unwrap();
        let bound = 2 * width as usize + 2;
        assert!(rendered.points_drawn <= bound, "case {case}: {} > {bound}", rendered.points_drawn);
        assert!(rendered.points_drawn <= rendered.points_in);
    }
}

#[test]
fn decimation_shrinks_the_svg_and_full_resolution_draws_everything() {
    let t0 = at("2024-03-05T13:00:00Z");
    let chart = hr_chart(t0, heart_rate(t0, 86_400, 1));
    let full = render_vitals_full_resolution(&chart).unwrap();
    let decimated = render_vitals(&chart).unwrap();
    assert_eq!((full.points_in, full.points_drawn), (86_400, 86_400));
    assert!(decimated.points_drawn <= 2 * 800 + 2);
    assert!(decimated.svg.len() * 10 < full.svg.len(), "{} vs {}", decimated.svg.len(), full.svg.len());
}

#[test]
fn text_is_at_least_12_px_and_lines_at_least_2_px() {
    let t0 = at("2024-03-05T13:00:00Z");
    let svgs = [
        render_vitals(&hr_chart(t0, heart_rate(t0, 86_400, 1))).unwrap().svg,
        render_weight(&weight_chart(t0)).unwrap().svg,
    ];
    for svg in &svgs {
        for size in
            svg.split("font-size=\"").skip(1).map(|s| s.split('"').next().unwrap().parse::<f64>().unwrap())
        {
            assert!(size >= 12.0, "font-size {size}");
        }
        for color in [SeriesColor::Blue, SeriesColor::Red] {
            let stroke = format!("stroke=\"{}\" stroke-width=\"", color.hex());
            for w in svg.split(&stroke).skip(1).map(|s| s.split('"').next().unwrap().parse::<f64>().unwrap())
            {
                assert!(w >= 1.5, "{color:?} stroke {w}");
            }
        }
    }
}

#[test]
fn every_svg_is_well_formed_xml() {
    let t0 = at("2024-03-05T13:00:00Z");
    let odd = vital("<&> \"q\" 'a'", "°C", t0, Range::Week, blood_pressure(t0, 3));
    let svgs = [
        render_vitals(&hr_chart(t0, heart_rate(t0, 86_400, 1))).unwrap().svg,
        render_vitals(&odd).unwrap().svg,
        render_vitals(&hr_chart(t0, Vec::new())).unwrap().svg,
        render_weight(&WeightChart { flags: vec![(t0 + DAY, "<b>&amp;</b>".into())], ..weight_chart(t0) })
            .unwrap()
            .svg,
    ];
    for svg in &svgs {
        assert_eq!(xml_outline(svg), (0, 1, 1));
    }
}

#[test]
fn titles_are_escaped() {
    let t0 = at("2024-03-05T13:00:00Z");
    let chart = vital("A<b> & \"c\" 'd'", "", t0, Range::Hour, Vec::new());
    let svg = render_vitals(&chart).unwrap().svg;
    assert!(svg.contains("<title>A&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;, 1h,"), "{}", &svg[..300]);
    assert!(!svg.contains("<b>"));
}

#[test]
fn bad_frames_are_errors_with_clear_messages() {
    let t0 = at("2024-03-05T13:00:00Z");
    let chart = hr_chart(t0, Vec::new());
    let err = |c: VitalChart| render_vitals(&c).unwrap_err();
    assert_eq!(err(VitalChart { width: 99, ..chart.clone() }), ChartError::Size { width: 99, height: 300 });
    assert_eq!(
        err(VitalChart { height: 4001, ..chart.clone() }),
        ChartError::Size { width: 800, height: 4001 }
    );
    assert_eq!(err(VitalChart { t1: t0, ..chart.clone() }), ChartError::TimeRange { t0, t1: t0 });
    assert_eq!(
        err(VitalChart { utc_offset_s: 19 * 3600, ..chart.clone() }),
        ChartError::UtcOffset(19 * 3600)
    );
    let reversed = err(VitalChart { reference: Some((90.0, 51.0)), ..chart.clone() });
    assert_eq!(
        reversed.to_string(),
        "reference (90, 51) is not a valid band: both must be finite and the first below the second"
    );
    assert!(matches!(
        err(VitalChart { y_floor_ceiling: Some((f64::NAN, 1.0)), ..chart.clone() }),
        ChartError::Band { .. }
    ));
    assert_eq!(
        ChartError::Size { width: 99, height: 300 }.to_string(),
        "chart size 99x300 px is out of range: width and height must be 100 to 4000 px"
    );
    let weight = WeightChart { t1: t0 - 1, ..weight_chart(t0) };
    assert_eq!(render_weight(&weight).unwrap_err(), ChartError::TimeRange { t0, t1: t0 - 1 });
    // The smallest chart renders.
    render_vitals(&VitalChart { width: 100, height: 100, ..hr_chart(t0, heart_rate(t0, 86_400, 1)) })
        .unwrap();
    render_weight(&WeightChart { width: 100, height: 100, ..weight_chart(t0) }).unwrap();
}

#[test]
fn ranges_parse_print_and_serialize() {
    for range in Range::ALL {
        assert_eq!(Range::parse(range.as_str()), Ok(range));
        assert_eq!(range.as_str().parse::<Range>(), Ok(range));
        assert_eq!(Range::from_millis(range.millis()), Some(range));
    }
    assert_eq!(Range::Month.millis(), 30 * DAY);
    assert_eq!(
        Range::parse("3d").unwrap_err().to_string(),
        "unknown chart range \"3d\": expected 1h, 24h, 7d or 30d"
    );
    assert_eq!(serde_json::to_string(&Range::Day).unwrap(), "\"day\"");
    assert_eq!(serde_json::from_str::<Range>("\"month\"").unwrap(), Range::Month);
    assert_eq!(serde_json::to_string(&SeriesColor::Blue).unwrap(), "\"blue\"");
}

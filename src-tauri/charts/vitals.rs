//! Vital-sign charts: one or more series over a time range, the normal band shaded.

use plotters::prelude::*;

use super::axis::describe_range;
use super::decimate::{decimate_indices, gap_threshold, in_range, split_at_gaps};
use super::frame::{self, Frame, Legend, drawing};
use super::{ChartError, RenderedChart, SeriesColor, validate_band, validate_frame};

/// The normal band's fill: the green of [`SeriesColor::Green`] at 12 % opacity.
const REFERENCE_FILL: RGBAColor = RGBAColor(0x1B, 0x7F, 0x4C, 0.12);

/// One line on a vital-sign chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Its name in the legend (shown when the chart has more than one series), e.g. "Systolic".
    pub label: String,
    /// `(epoch ms, value)`, sorted by time. Non-finite values are skipped.
    pub points: Vec<(i64, f64)>,
    /// Its colour.
    pub color: SeriesColor,
}

/// A vital-sign chart: e.g. heart rate, or blood pressure as two series (systolic, diastolic).
#[derive(Debug, Clone, PartialEq)]
pub struct VitalChart {
    /// What is measured, e.g. "Heart rate".
    pub title: String,
    /// Its unit, shown after the title, e.g. "bpm" (empty for none).
    pub unit: String,
    /// The lines, drawn in order (the first is on the bottom).
    pub series: Vec<Series>,
    /// Start of the range, epoch ms.
    pub t0: i64,
    /// End of the range, epoch ms (after `t0`).
    pub t1: i64,
    /// Width, px (100 to 4000).
    pub width: u32,
    /// Height, px (100 to 4000).
    pub height: u32,
    /// The display zone's offset from UTC, seconds (east positive); only moves the labels.
    pub utc_offset_s: i32,
    /// The normal band `(lo, hi)`, shaded and always in view (e.g. the NEWS2 0-score band).
    pub reference: Option<(f64, f64)>,
    /// Limits of the y axis's padding `(floor, ceiling)`, e.g. `(0, 100)` for SpO2 so the axis
    /// never shows 103 %. A value beyond them still widens the axis: nothing is hidden.
    pub y_floor_ceiling: Option<(f64, f64)>,
}

/// Renders a vital-sign chart, each series decimated to the plot's pixel width
/// ([`decimate_min_max`](super::decimate_min_max)) and broken into separate lines across gaps.
/// Series with few points (at most one per 8 pixels) also get a dot per reading. A range with
/// no data renders the axes and "No data in this range".
pub fn render_vitals(chart: &VitalChart) -> Result<RenderedChart, ChartError> {
    render(chart, true)
}

/// [`render_vitals`] drawing every point: the same picture, a much larger SVG. The reference
/// the decimation is measured against (benchmark, tests); not for the UI.
pub fn render_vitals_full_resolution(chart: &VitalChart) -> Result<RenderedChart, ChartError> {
    render(chart, false)
}

fn render(chart: &VitalChart, decimate: bool) -> Result<RenderedChart, ChartError> {
    validate_frame(chart.width, chart.height, chart.t0, chart.t1, chart.utc_offset_s)?;
    validate_band("reference", chart.reference)?;
    validate_band("y_floor_ceiling", chart.y_floor_ceiling)?;
    let (t0, t1) = (chart.t0, chart.t1);

    let ranges: Vec<_> = chart.series.iter().map(|s| in_range(&s.points, t0, t1)).collect();
    let finite = |i: usize| chart.series[i].points[ranges[i].clone()].iter().filter(|p| p.1.is_finite());
    let points_in = (0..chart.series.len()).map(|i| finite(i).count()).sum();
    let data = (0..chart.series.len()).flat_map(finite).fold(None, |acc: Option<(f64, f64)>, p| {
        Some(acc.map_or((p.1, p.1), |(lo, hi)| (lo.min(p.1), hi.max(p.1))))
    });
    let latest = if chart.series.is_empty() { None } else { finite(0).next_back().copied() };

    let mut legend = Vec::new();
    if chart.series.len() > 1 {
        legend.extend(chart.series.iter().map(|s| Legend::Line(s.color.rgb(), s.label.clone())));
    }
    if chart.reference.is_some() {
        legend.push(Legend::Band(RGBAColor(0x1B, 0x7F, 0x4C, 0.3), "Normal range".into()));
    }
    let title =
        if chart.unit.is_empty() { chart.title.clone() } else { format!("{} ({})", chart.title, chart.unit) };
    let frame = Frame {
        width: chart.width,
        height: chart.height,
        t0,
        t1,
        utc_offset_s: chart.utc_offset_s,
        title: &title,
        accessible_title: format!("{title}, {}", describe_range(t0, t1, chart.utc_offset_s)),
        legend,
        data,
        include: chart.reference,
        limits: chart.y_floor_ceiling,
    };

    let mut points_drawn = 0;
    let svg = frame::render(&frame, |plot_chart, plot| {
        if let Some((lo, hi)) = chart.reference {
            let (lo, hi) = (lo.max(plot.y.lo), hi.min(plot.y.hi));
            let band = Rectangle::new([(t0, lo), (t1, hi)], REFERENCE_FILL.filled());
            plot_chart.draw_series(std::iter::once(band)).map_err(drawing)?;
        }
        for (series, range) in chart.series.iter().zip(&ranges) {
            let points = &series.points;
            let kept: Vec<usize> = if decimate {
                decimate_indices(points, t0, t1, plot.columns)
            } else {
                range.clone().filter(|&i| points[i].1.is_finite()).collect()
            };
            let threshold = gap_threshold(&points[range.clone()], 5.0 * plot.column_ms(t0, t1));
            let runs = split_at_gaps(points, &kept, threshold);
            let markers = kept.len() <= plot.columns as usize / 8;
            frame::draw_runs(plot_chart, points, &kept, &runs, series.color.rgb(), markers)?;
            points_drawn += kept.len();
        }
        Ok(())
    })?;
    Ok(RenderedChart { svg, points_in, points_drawn, latest })
}

//! The body-weight chart: raw weights, rejected outliers, the Kalman level with its 95 %
//! band, heart-failure flags, and the trend.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::describe_range;
use super::decimate::{decimate_indices, gap_threshold, in_range, split_at_gaps};
use super::frame::{self, Chart, Frame, Legend, Plot, drawing};
use super::{ChartError, RenderedChart, SeriesColor, validate_frame};

/// 1.96: the two-sided 95 % quantile of the normal distribution.
const Z95: f64 = 1.96;
const WEIGHT: SeriesColor = SeriesColor::Grey;
const REJECTED: SeriesColor = SeriesColor::Orange;
const LEVEL: SeriesColor = SeriesColor::Blue;
const FLAG: SeriesColor = SeriesColor::Red;
const BAND: RGBAColor = RGBAColor(0x00, 0x72, 0xB2, 0.18);
/// Flag labels longer than this are cut with an ellipsis.
const FLAG_LABEL_CHARS: usize = 28;
/// Rows of flag labels, to keep close flags' labels apart.
const FLAG_ROWS: usize = 3;

/// One point of the filtered level (the Kalman state after a step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelPoint {
    /// Epoch ms.
    pub t: i64,
    /// The filtered level, kg.
    pub kg: f64,
    /// The level's standard deviation, kg; the band is `kg +- 1.96 sd_kg`.
    pub sd_kg: f64,
}

/// A body-weight chart.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightChart {
    /// Start of the range, epoch ms.
    pub t0: i64,
    /// End of the range, epoch ms (after `t0`).
    pub t1: i64,
    /// Width, px (100 to 4000).
    pub width: u32,
    /// Height, px (100 to 4000).
    pub height: u32,
    /// The display zone's offset from UTC, seconds (east positive).
    pub utc_offset_s: i32,
    /// Accepted raw weights `(epoch ms, kg)`, sorted by time; drawn as dots.
    pub weights: Vec<(i64, f64)>,
    /// Weights the filter rejected as outliers, sorted by time; drawn as rings.
    pub rejected: Vec<(i64, f64)>,
    /// The filtered level, sorted by time; a line with its 95 % band.
    pub level: Vec<LevelPoint>,
    /// The filter's trend, kg/week, shown in the header.
    pub trend_kg_per_week: Option<f64>,
    /// Heart-failure rule hits `(epoch ms, short label)`: a vertical line and the label.
    pub flags: Vec<(i64, String)>,
}

/// The header's trend caption, e.g. "Trend +0.42 kg/week".
fn trend_caption(trend: Option<f64>) -> String {
    match trend.filter(|v| v.is_finite()) {
        // + 0.0 turns a rounded -0.00 into +0.00.
        Some(v) => format!("Trend {:+.2} kg/week", (v * 100.0).round() / 100.0 + 0.0),
        None => "Trend not available".to_owned(),
    }
}

fn finite_in(points: &[(i64, f64)], t0: i64, t1: i64) -> impl DoubleEndedIterator<Item = &(i64, f64)> {
    points[in_range(points, t0, t1)].iter().filter(|p| p.1.is_finite())
}

fn extent<'a>(values: impl Iterator<Item = f64> + 'a) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| Some(acc.map_or((v, v), |(lo, hi): (f64, f64)| (lo.min(v), hi.max(v)))))
}

/// Renders a weight chart. The level is decimated like a vital sign and broken across gaps
/// (the same rule); weights and rejected weights keep each pixel column's lightest and
/// heaviest. The y axis shows every weight and the level; the band widens it by at most a
/// quarter of the data's span (at least 1 kg) and is cut at the axis, so a wide band while the
/// filter starts does not flatten the data.
pub fn render_weight(chart: &WeightChart) -> Result<RenderedChart, ChartError> {
    validate_frame(chart.width, chart.height, chart.t0, chart.t1, chart.utc_offset_s)?;
    debug_assert!(chart.level.windows(2).all(|w| w[0].t <= w[1].t), "level must be sorted by time");
    let (t0, t1) = (chart.t0, chart.t1);
    let level: Vec<(i64, f64)> = chart.level.iter().map(|p| (p.t, p.kg)).collect();
    let level_range = in_range(&level, t0, t1);
    let sd = |i: usize| if chart.level[i].sd_kg.is_finite() { chart.level[i].sd_kg.max(0.0) } else { 0.0 };

    let values = || {
        let w = finite_in(&chart.weights, t0, t1).chain(finite_in(&chart.rejected, t0, t1));
        w.chain(finite_in(&level, t0, t1)).map(|p| p.1)
    };
    let points_in = values().count();
    let data = extent(values());
    let include = data.and_then(|(lo, hi)| {
        let allowance = (0.25 * (hi - lo)).max(1.0);
        let band = level_range.clone().filter(|&i| level[i].1.is_finite());
        let (band_lo, band_hi) =
            extent(band.flat_map(|i| [level[i].1 - Z95 * sd(i), level[i].1 + Z95 * sd(i)]))?;
        Some((band_lo.max(lo - allowance), band_hi.min(hi + allowance)))
    });
    let latest = finite_in(&chart.weights, t0, t1).next_back().copied();

    let mut legend = vec![
        Legend::Note(trend_caption(chart.trend_kg_per_week)),
        Legend::Dot(WEIGHT.rgb(), "Weight".into()),
    ];
    if finite_in(&chart.rejected, t0, t1).next().is_some() {
        legend.push(Legend::Ring(REJECTED.rgb(), "Rejected".into()));
    }
    legend.push(Legend::LineInBand(LEVEL.rgb(), BAND, "Level, 95% band".into()));
    let title = "Body weight (kg)";
    let frame = Frame {
        width: chart.width,
        height: chart.height,
        t0,
        t1,
        utc_offset_s: chart.utc_offset_s,
        title,
        accessible_title: format!(
            "{title}, {}, {}",
            trend_caption(chart.trend_kg_per_week),
            describe_range(t0, t1, chart.utc_offset_s)
        ),
        legend,
        data,
        include,
        limits: Some((0.0, f64::INFINITY)),
    };

    let mut points_drawn = 0;
    let svg = frame::render(&frame, |plot_chart, plot| {
        let clamp = |v: f64| v.clamp(plot.y.lo, plot.y.hi);
        // The level's band, one polygon per run of the line.
        let kept = decimate_indices(&level, t0, t1, plot.columns);
        let threshold = gap_threshold(&level[level_range.clone()], 5.0 * plot.column_ms(t0, t1));
        let runs = split_at_gaps(&level, &kept, threshold);
        for run in runs.iter().map(|r| &kept[r.clone()]).filter(|r| r.len() > 1) {
            let upper = run.iter().map(|&i| (level[i].0, clamp(level[i].1 + Z95 * sd(i))));
            let lower = run.iter().rev().map(|&i| (level[i].0, clamp(level[i].1 - Z95 * sd(i))));
            let band = Polygon::new(upper.chain(lower).collect::<Vec<_>>(), BAND.filled());
            plot_chart.draw_series(std::iter::once(band)).map_err(drawing)?;
        }
        let flags: Vec<&(i64, String)> = chart.flags.iter().filter(|f| (t0..=t1).contains(&f.0)).collect();
        for &&(t, _) in &flags {
            let line = PathElement::new(
                [(t, plot.y.lo), (t, plot.y.hi)],
                FLAG.rgb().stroke_width(frame::LINE_WIDTH),
            );
            plot_chart.draw_series(std::iter::once(line)).map_err(drawing)?;
        }
        frame::draw_runs(plot_chart, &level, &kept, &runs, LEVEL.rgb(), false)?;
        points_drawn += kept.len();

        let weights = decimate_indices(&chart.weights, t0, t1, plot.columns);
        let dots = weights.iter().map(|&i| Circle::new(chart.weights[i], 3, WEIGHT.rgb().filled()));
        plot_chart.draw_series(dots).map_err(drawing)?;
        let rejected = decimate_indices(&chart.rejected, t0, t1, plot.columns);
        let ring = REJECTED.rgb().stroke_width(frame::LINE_WIDTH);
        plot_chart
            .draw_series(rejected.iter().map(|&i| Circle::new(chart.rejected[i], 4, ring)))
            .map_err(drawing)?;
        points_drawn += weights.len() + rejected.len();

        draw_flag_labels(plot_chart, plot, t0, t1, &flags)
    })?;
    Ok(RenderedChart { svg, points_in, points_drawn, latest })
}

/// Labels at the top of the flags' lines, on a white backing, staggered over up to
/// [`FLAG_ROWS`] rows so that close flags do not print over each other. A label that would
/// run past the right edge is drawn to the left of its line.
fn draw_flag_labels(
    chart: &mut Chart<'_, '_>,
    plot: &Plot,
    t0: i64,
    t1: i64,
    flags: &[&(i64, String)],
) -> Result<(), ChartError> {
    const SIZE: f64 = 15.0;
    const ROW_HEIGHT: i32 = 17;
    let style = frame::font(SIZE).color(&FLAG.rgb());
    let mut row_ends = [i32::MIN; FLAG_ROWS];
    for &(t, label) in flags {
        let label: String = if label.chars().count() > FLAG_LABEL_CHARS {
            label.chars().take(FLAG_LABEL_CHARS - 1).chain(['…']).collect()
        } else {
            label.clone()
        };
        let width = frame::px(frame::font(SIZE).box_size(&label).map_err(|_| ChartError::Font)?.0);
        // A pixel column of the plot (flags are inside [t0, t1]); `as` saturates.
        #[allow(clippy::cast_possible_truncation, reason = "a pixel column, see above")]
        let x = ((t - t0) as f64 / (t1 - t0) as f64 * f64::from(plot.columns)) as i32;
        let left_of_line = x + 4 + width > frame::px(plot.columns);
        let (start, dx) = if left_of_line { (x - 4 - width, -4) } else { (x + 4, 4) };
        let row = (0..FLAG_ROWS)
            .find(|&r| start > row_ends[r] + 6)
            .unwrap_or_else(|| (0..FLAG_ROWS).min_by_key(|&r| row_ends[r]).unwrap_or(0));
        row_ends[row] = start + width;
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, reason = "row < FLAG_ROWS = 3")]
        let dy = 3 + row as i32 * ROW_HEIGHT;
        let (h_pos, x0) = if left_of_line { (HPos::Right, dx - width - 2) } else { (HPos::Left, dx - 2) };
        let backing =
            Rectangle::new([(x0, dy - 1), (x0 + width + 4, dy + ROW_HEIGHT - 2)], WHITE.mix(0.85).filled());
        let text = Text::new(label, (dx, dy), style.pos(Pos::new(h_pos, VPos::Top)));
        let element = EmptyElement::at((*t, plot.y.hi)) + backing + text;
        chart.plotting_area().draw(&element).map_err(drawing)?;
    }
    Ok(())
}

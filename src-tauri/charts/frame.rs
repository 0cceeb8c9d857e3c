//! What every chart shares: the font, the styles, the header (title and legend), the axes,
//! the "No data" note, the series lines and the `<title>` element.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::ChartError;
use super::axis::{TimeAxis, ValueAxis};

/// The font family the SVG asks for; the embedded DejaVu Sans is registered under this name,
/// so plotters measures text with the face the browser will most likely use.
const FAMILY: &str = "DejaVu Sans, sans-serif";
const FONT: &[u8] = include_bytes!("fonts/DejaVuSans.ttf");

/// plotters sizes; the SVG's `font-size` is the size / 1.24, so 16 is 12.9 px and 20 is 16.1 px.
pub(crate) const LABEL_SIZE: f64 = 16.0;
const TITLE_SIZE: f64 = 20.0;
const NOTE_SIZE: f64 = 18.0;

/// Body text, `#222222` (15.9:1 on white).
pub(crate) const TEXT: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED: RGBColor = RGBColor(0x55, 0x55, 0x55);
const GRID: RGBColor = RGBColor(0xE3, 0xE3, 0xE3);
const AXIS: RGBColor = RGBColor(0x66, 0x66, 0x66);
/// Series lines, px (plotters strokes are whole pixels).
pub(crate) const LINE_WIDTH: u32 = 2;

const MARGIN_LEFT: u32 = 6;
const MARGIN_RIGHT: u32 = 26;
const MARGIN_BOTTOM: u32 = 4;
const X_LABEL_AREA: u32 = 26;
const ROW: u32 = 22;

/// The coordinate system of every chart: epoch ms across, values up, both with our ticks.
pub(crate) type Coords = Cartesian2d<Ticked<i64>, Ticked<f64>>;

/// A linear axis whose ticks we chose (plotters' `WithKeyPoints` loses the label formatter).
pub(crate) struct Ticked<T> {
    lo: T,
    hi: T,
    ticks: Vec<T>,
}

/// A number an axis can map.
pub(crate) trait Scalar: Copy + std::fmt::Debug {
    fn to_f64(self) -> f64;
}

impl Scalar for i64 {
    fn to_f64(self) -> f64 {
        self as f64
    }
}

impl Scalar for f64 {
    fn to_f64(self) -> f64 {
        self
    }
}

impl<T: Scalar> Ranged for Ticked<T> {
    type FormatOption = DefaultFormatting;
    type ValueType = T;

    #[allow(clippy::cast_possible_truncation, reason = "a pixel, see below")]
    fn map(&self, value: &T, limit: (i32, i32)) -> i32 {
        let (lo, hi) = (self.lo.to_f64(), self.hi.to_f64());
        let fraction = ((value.to_f64() - lo) / (hi - lo)).clamp(-1.0, 2.0);
        // fraction is clamped to -1..=2 of a span of pixels: an i32 with room to spare.
        (f64::from(limit.0) + fraction * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<H: KeyPointHint>(&self, hint: H) -> Vec<T> {
        // Bold lines only: one grid line and label per tick.
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> std::ops::Range<T> {
        self.lo..self.hi
    }
}
/// A chart being drawn.
pub(crate) type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Coords>;

/// Registers the embedded font with plotters, once per process.
fn ensure_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok =
        *REGISTERED.get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    if ok { Ok(()) } else { Err(ChartError::Font) }
}

pub(crate) fn font(size: f64) -> FontDesc<'static> {
    (FAMILY, size).into_font()
}

/// The width of `text` in pixels at plotters size `size`.
fn text_width(text: &str, size: f64) -> Result<u32, ChartError> {
    font(size).box_size(text).map(|(w, _)| w).map_err(|_| ChartError::Font)
}

pub(crate) fn drawing<E: std::fmt::Display>(e: E) -> ChartError {
    ChartError::Render(e.to_string())
}

/// An entry in the header after the title: a swatch and its label, or a note.
#[derive(Debug, Clone)]
pub(crate) enum Legend {
    /// A line in this colour.
    Line(RGBColor, String),
    /// A filled dot.
    Dot(RGBColor, String),
    /// A hollow ring.
    Ring(RGBColor, String),
    /// A shaded band.
    Band(RGBAColor, String),
    /// A line through a shaded band (an estimate and its interval).
    LineInBand(RGBColor, RGBAColor, String),
    /// Plain text, such as the weight trend.
    Note(String),
}

impl Legend {
    fn label(&self) -> &str {
        match self {
            Legend::Line(_, s)
            | Legend::Dot(_, s)
            | Legend::Ring(_, s)
            | Legend::Band(_, s)
            | Legend::LineInBand(_, _, s)
            | Legend::Note(s) => s,
        }
    }
    const SWATCH: u32 = 18;
    fn width(&self) -> Result<u32, ChartError> {
        let swatch = if matches!(self, Legend::Note(_)) { 0 } else { Self::SWATCH + 6 };
        Ok(swatch + text_width(self.label(), LABEL_SIZE)?)
    }
}

/// Everything but the data: size, range, title and legend, the axes' inputs.
pub(crate) struct Frame<'a> {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) t0: i64,
    pub(crate) t1: i64,
    pub(crate) utc_offset_s: i32,
    /// Shown at the top left.
    pub(crate) title: &'a str,
    /// The `<title>` element's text.
    pub(crate) accessible_title: String,
    pub(crate) legend: Vec<Legend>,
    /// The data's value range, `None` when there is none.
    pub(crate) data: Option<(f64, f64)>,
    /// A band the y axis must show.
    pub(crate) include: Option<(f64, f64)>,
    /// Limits of the axis padding.
    pub(crate) limits: Option<(f64, f64)>,
}

/// The laid-out plot: its pixel size and axes, for the drawing code.
pub(crate) struct Plot {
    /// The plot area's width, px: the number of columns to decimate to.
    pub(crate) columns: u32,
    pub(crate) y: ValueAxis,
}

impl Plot {
    /// Milliseconds per pixel column.
    pub(crate) fn column_ms(&self, t0: i64, t1: i64) -> f64 {
        (t1 - t0) as f64 / f64::from(self.columns.max(1))
    }
}

/// Where each header entry goes, (x, row), and the header's height. The legend follows the
/// title when it all fits on that row, and otherwise starts on the next row and wraps.
fn layout_header(frame: &Frame<'_>) -> Result<(Vec<(u32, u32)>, u32), ChartError> {
    let (left, right) = (MARGIN_LEFT + 6, frame.width - MARGIN_RIGHT / 2);
    let widths = frame.legend.iter().map(Legend::width).collect::<Result<Vec<_>, _>>()?;
    let after_title = left + text_width(frame.title, TITLE_SIZE)? + 22;
    let one_row: u32 = widths.iter().map(|w| w + 18).sum();
    let (mut x, mut row) = if after_title + one_row <= right + 18 { (after_title, 0) } else { (left, 1) };
    let mut places = Vec::with_capacity(widths.len());
    for w in widths {
        if x + w > right && x > left {
            (x, row) = (left, row + 1);
        }
        places.push((x, row));
        x += w + 18;
    }
    Ok((places, 8 + (row + 1) * ROW + 6))
}

/// A pixel coordinate for plotters. Charts are at most 4000 px (`SIZE_LIMITS`), so every
/// coordinate fits; one that did not would saturate, off the canvas, rather than wrap onto it.
pub(crate) fn px(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn draw_header(root: &DrawingArea<SVGBackend<'_>, Shift>, frame: &Frame<'_>) -> Result<u32, ChartError> {
    let (places, height) = layout_header(frame)?;
    let centre = |row: u32| px(8 + row * ROW + ROW / 2);
    let left = Pos::new(HPos::Left, VPos::Center);
    let title = font(TITLE_SIZE).color(&TEXT).pos(left);
    root.draw(&Text::new(frame.title, (px(MARGIN_LEFT + 6), centre(0)), title)).map_err(drawing)?;
    let label = font(LABEL_SIZE).color(&TEXT).pos(left);
    for (item, &(x, row)) in frame.legend.iter().zip(&places) {
        let (x, y) = (px(x), centre(row));
        let s = px(Legend::SWATCH);
        match item {
            // A bar, not a path: the SVG's <polyline>s are the data's lines only.
            Legend::Line(c, _) => root.draw(&Rectangle::new([(x, y - 1), (x + s, y + 2)], c.filled())),
            Legend::Dot(c, _) => root.draw(&Circle::new((x + s / 2, y), 4, c.filled())),
            Legend::Ring(c, _) => root.draw(&Circle::new((x + s / 2, y), 4, c.stroke_width(LINE_WIDTH))),
            Legend::Band(c, _) => root.draw(&Rectangle::new([(x, y - 6), (x + s, y + 6)], c.filled())),
            Legend::LineInBand(line, band, _) => root
                .draw(&Rectangle::new([(x, y - 6), (x + s, y + 6)], band.filled()))
                .and_then(|()| root.draw(&Rectangle::new([(x, y - 1), (x + s, y + 2)], line.filled()))),
            Legend::Note(_) => Ok(()),
        }
        .map_err(drawing)?;
        let x = if matches!(item, Legend::Note(_)) { x } else { x + s + 6 };
        root.draw(&Text::new(item.label(), (x, y), label.clone())).map_err(drawing)?;
    }
    Ok(height)
}

/// Draws the frame (background, header, axes, grid, or the "No data" note), lets `body` draw
/// the data, and returns the SVG with its `<title>`.
pub(crate) fn render<F>(frame: &Frame<'_>, body: F) -> Result<String, ChartError>
where
    F: FnOnce(&mut Chart<'_, '_>, &Plot) -> Result<(), ChartError>,
{
    ensure_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (frame.width, frame.height)).into_drawing_area();
        root.fill(&WHITE).map_err(drawing)?;
        let header = draw_header(&root, frame)?;
        let plot_height = frame.height.saturating_sub(header + 6 + X_LABEL_AREA + MARGIN_BOTTOM).max(1);
        let y = ValueAxis::new(frame.data, frame.include, frame.limits, plot_height);
        let mut y_label_area = 0;
        for &v in &y.ticks {
            y_label_area = y_label_area.max(text_width(&y.label(v), LABEL_SIZE)?);
        }
        let y_label_area = y_label_area + 14;
        let columns = frame.width.saturating_sub(MARGIN_LEFT + MARGIN_RIGHT + y_label_area).max(1);
        let widest = TimeAxis::widest_label(frame.t1 - frame.t0);
        let x = TimeAxis::new(
            frame.t0,
            frame.t1,
            frame.utc_offset_s,
            columns,
            text_width(widest, LABEL_SIZE)? + 18,
        );

        let mut chart = ChartBuilder::on(&root)
            .margin_top(header + 6)
            .margin_left(MARGIN_LEFT)
            .margin_right(MARGIN_RIGHT)
            .margin_bottom(MARGIN_BOTTOM)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(y_label_area)
            .build_cartesian_2d(
                Ticked { lo: frame.t0, hi: frame.t1, ticks: x.ticks.clone() },
                Ticked { lo: y.lo, hi: y.hi, ticks: y.ticks.clone() },
            )
            .map_err(drawing)?;
        debug_assert_eq!(chart.plotting_area().dim_in_pixel().0, columns);
        let x_label = |t: &i64| x.label(*t);
        let y_label = |v: &f64| y.label(*v);
        chart
            .configure_mesh()
            .x_label_formatter(&x_label)
            .y_label_formatter(&y_label)
            .label_style(font(LABEL_SIZE).color(&TEXT))
            .bold_line_style(GRID.stroke_width(1))
            .light_line_style(TRANSPARENT)
            .axis_style(AXIS.stroke_width(1))
            .draw()
            .map_err(drawing)?;
        let plot = Plot { columns, y };
        if frame.data.is_none() {
            no_data(&chart, frame, &plot)?;
        }
        body(&mut chart, &plot)?;
        root.present().map_err(drawing)?;
    }
    Ok(with_title(svg, &frame.accessible_title))
}

fn no_data(chart: &Chart<'_, '_>, frame: &Frame<'_>, plot: &Plot) -> Result<(), ChartError> {
    let centre = (frame.t0 + (frame.t1 - frame.t0) / 2, (plot.y.lo + plot.y.hi) / 2.0);
    let style = font(NOTE_SIZE).color(&MUTED).pos(Pos::new(HPos::Center, VPos::Center));
    chart.plotting_area().draw(&Text::new("No data in this range", centre, style)).map_err(drawing)
}

/// Draws `kept` (indices into `points`) as lines, one `<polyline>` per run, and a dot for a
/// run of one point (an isolated reading). With `markers`, every point also gets a dot.
pub(crate) fn draw_runs(
    chart: &mut Chart<'_, '_>,
    points: &[(i64, f64)],
    kept: &[usize],
    runs: &[std::ops::Range<usize>],
    color: RGBColor,
    markers: bool,
) -> Result<(), ChartError> {
    for run in runs {
        let run = &kept[run.clone()];
        if run.len() > 1 {
            let line = LineSeries::new(run.iter().map(|&i| points[i]), color.stroke_width(LINE_WIDTH));
            chart.draw_series(line).map_err(drawing)?;
        }
        if run.len() == 1 || markers {
            let dots = run.iter().map(|&i| Circle::new(points[i], 3, color.filled()));
            chart.draw_series(dots).map_err(drawing)?;
        }
    }
    Ok(())
}

/// Inserts `role="img"` and a `<title>` right after the opening `<svg ...>` tag.
pub(crate) fn with_title(svg: String, title: &str) -> String {
    let Some(end) = svg.find('>') else { return svg };
    let mut out = String::with_capacity(svg.len() + title.len() + 40);
    out.push_str(&svg[..end]);
    out.push_str(" role=\"img\">\n<title>");
    out.push_str(&escape_xml(title));
    out.push_str("</title>");
    out.push_str(&svg[end + 1..]);
    out
}

/// `text` with the five XML special characters escaped.
pub(crate) fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

//! Clinical charts rendered to SVG with plotters, decimated to the pixel width.
//!
//! Pure like `analysis`: data in, an SVG `String` out, no I/O and no clock. The desktop
//! window puts the string into the page; the caller chooses the time range and passes the
//! display UTC offset, so every label is in the clinician's local time.
//!
//! - [`render_vitals`](crate::charts::render_vitals): one vital sign (or blood pressure: two
//!   series on one chart) over a time range, the normal band shaded, lines broken across gaps.
//! - [`render_weight`](crate::charts::render_weight): raw weights as points, rejected outliers
//!   as rings, the Kalman level with its 95 % band, heart-failure flags as vertical markers,
//!   the trend in the header.
//! - [`decimate_min_max`](crate::charts::decimate_min_max): the decimation both use. A line
//!   chart can show at most one value range per pixel column, so each series keeps the minimum
//!   and the maximum of each column (in the order they occurred): the same picture as every
//!   point, at a bounded size (24 h of 1 Hz data: 86,400 points in, at most 2 per column out).
//!
//! # Conventions
//! - Times are UTC epoch milliseconds; `utc_offset_s` only moves the labels.
//! - Axis labels: `HH:MM` for spans up to 24 h, `D Mon` beyond; ticks at round local times
//!   (weeks start on Monday), as many as fit without overlapping.
//! - Gaps: a line is not drawn across a gap longer than the larger of 5 pixel columns' worth
//!   of time and 3 times the series' median sampling interval; an isolated reading is a dot.
//! - Accessibility: every SVG carries `role="img"` and a `<title>` (chart title, range and
//!   its local dates); text is at least 12 px, lines 2 px, and every colour of
//!   [`SeriesColor`](crate::charts::SeriesColor) has at least 4.5:1 contrast on white.
//! - Text is laid out with the embedded DejaVu Sans (`charts/fonts/`, Bitstream Vera licence
//!   in `LICENSE-DejaVu.txt`); the SVG asks for `DejaVu Sans, sans-serif`, so the browser
//!   uses the same face when it has it and a close one otherwise.

mod axis;
mod decimate;
mod frame;
mod vitals;
mod weight;

#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use decimate::decimate_min_max;
pub use vitals::{Series, VitalChart, render_vitals, render_vitals_full_resolution};
pub use weight::{LevelPoint, WeightChart, render_weight};

/// The smallest and largest width or height accepted, pixels.
pub const SIZE_LIMITS: std::ops::RangeInclusive<u32> = 100..=4000;

/// The time ranges the UI offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Range {
    /// The last hour.
    Hour,
    /// The last 24 hours.
    Day,
    /// The last 7 days.
    Week,
    /// The last 30 days.
    Month,
}

impl Range {
    /// Every range, shortest first.
    pub const ALL: [Range; 4] = [Range::Hour, Range::Day, Range::Week, Range::Month];

    /// The range's length in milliseconds.
    pub const fn millis(self) -> i64 {
        const HOUR: i64 = 3_600_000;
        match self {
            Range::Hour => HOUR,
            Range::Day => 24 * HOUR,
            Range::Week => 7 * 24 * HOUR,
            Range::Month => 30 * 24 * HOUR,
        }
    }

    /// The short name the UI and the CLI use: `1h`, `24h`, `7d` or `30d`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Range::Hour => "1h",
            Range::Day => "24h",
            Range::Week => "7d",
            Range::Month => "30d",
        }
    }

    /// Parses a short name ([`Range::as_str`]).
    pub fn parse(s: &str) -> Result<Self, ChartError> {
        Range::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| ChartError::UnknownRange(s.to_owned()))
    }

    /// The range whose length is exactly `millis`, if there is one.
    pub fn from_millis(millis: i64) -> Option<Self> {
        Range::ALL.into_iter().find(|r| r.millis() == millis)
    }
}

impl std::str::FromStr for Range {
    type Err = ChartError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Range::parse(s)
    }
}

/// A series colour. Each has at least 4.5:1 contrast on white (WCAG 2.1 1.4.11 asks 3:1 for
/// graphics); blue and orange stay distinct under the common colour-vision deficiencies, so
/// prefer them for a pair (systolic and diastolic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesColor {
    /// `#0072B2` (Okabe-Ito blue), 5.2:1.
    Blue,
    /// `#B35900` (dark orange), 4.8:1.
    Orange,
    /// `#B3261E` (red), 6.5:1.
    Red,
    /// `#1B7F4C` (green), 5.0:1.
    Green,
    /// `#6A3D9A` (purple), 7.6:1.
    Purple,
    /// `#555555` (grey), 7.5:1.
    Grey,
}

impl SeriesColor {
    /// The colour as `#RRGGBB`.
    pub const fn hex(self) -> &'static str {
        match self {
            SeriesColor::Blue => "#0072B2",
            SeriesColor::Orange => "#B35900",
            SeriesColor::Red => "#B3261E",
            SeriesColor::Green => "#1B7F4C",
            SeriesColor::Purple => "#6A3D9A",
            SeriesColor::Grey => "#555555",
        }
    }

    pub(crate) const fn rgb(self) -> plotters::style::RGBColor {
        use plotters::style::RGBColor;
        match self {
            SeriesColor::Blue => RGBColor(0x00, 0x72, 0xB2),
            SeriesColor::Orange => RGBColor(0xB3, 0x59, 0x00),
            SeriesColor::Red => RGBColor(0xB3, 0x26, 0x1E),
            SeriesColor::Green => RGBColor(0x1B, 0x7F, 0x4C),
            SeriesColor::Purple => RGBColor(0x6A, 0x3D, 0x9A),
            SeriesColor::Grey => RGBColor(0x55, 0x55, 0x55),
        }
    }
}

/// A rendered chart and what went into it.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedChart {
    /// The SVG document (`<svg ...>` with a `<title>`), ready to put into a page.
    pub svg: String,
    /// Points with a finite value inside `[t0, t1]`, all series together.
    pub points_in: usize,
    /// Points drawn after decimation, all series together. Each series keeps at most
    /// `2 * columns + 2`, `columns` being the plot area's width in pixels (less than the
    /// chart's width), so a one-series chart draws at most `2 * width + 2`.
    pub points_drawn: usize,
    /// The newest finite point in `[t0, t1]` of the first series (vitals) or of the accepted
    /// weights (weight chart).
    pub latest: Option<(i64, f64)>,
}

/// Why a chart could not be rendered. An empty range is not an error: it renders a chart
/// saying "No data in this range".
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChartError {
    /// Width or height outside [`SIZE_LIMITS`].
    #[error("chart size {width}x{height} px is out of range: width and height must be 100 to 4000 px")]
    Size {
        /// The width asked for.
        width: u32,
        /// The height asked for.
        height: u32,
    },
    /// The time range is empty or reversed.
    #[error("chart time range is empty: t1 ({t1} ms) must be after t0 ({t0} ms)")]
    TimeRange {
        /// Start, epoch ms.
        t0: i64,
        /// End, epoch ms.
        t1: i64,
    },
    /// The display offset is not a real UTC offset.
    #[error("UTC offset {0} s is out of range: it must be within +-18 hours")]
    UtcOffset(i32),
    /// A band (reference range, axis limits) is not two finite numbers in order.
    #[error("{name} ({lo}, {hi}) is not a valid band: both must be finite and the first below the second")]
    Band {
        /// Which band.
        name: &'static str,
        /// Its lower bound.
        lo: f64,
        /// Its upper bound.
        hi: f64,
    },
    /// A range name that is not `1h`, `24h`, `7d` or `30d`.
    #[error("unknown chart range {0:?}: expected 1h, 24h, 7d or 30d")]
    UnknownRange(String),
    /// The embedded font could not be loaded (a broken build).
    #[error("the embedded chart font could not be loaded")]
    Font,
    /// plotters failed while drawing.
    #[error("chart rendering failed: {0}")]
    Render(String),
}

/// Checks what every chart shares: size, time range and offset.
fn validate_frame(width: u32, height: u32, t0: i64, t1: i64, utc_offset_s: i32) -> Result<(), ChartError> {
    if !SIZE_LIMITS.contains(&width) || !SIZE_LIMITS.contains(&height) {
        return Err(ChartError::Size { width, height });
    }
    if t1 <= t0 {
        return Err(ChartError::TimeRange { t0, t1 });
    }
    if utc_offset_s.unsigned_abs() > 18 * 3600 {
        return Err(ChartError::UtcOffset(utc_offset_s));
    }
    Ok(())
}

/// Checks an optional `(lo, hi)` band.
fn validate_band(name: &'static str, band: Option<(f64, f64)>) -> Result<(), ChartError> {
    match band {
        Some((lo, hi)) if !(lo.is_finite() && hi.is_finite() && lo < hi) => {
            Err(ChartError::Band { name, lo, hi })
        }
        _ => Ok(()),
    }
}

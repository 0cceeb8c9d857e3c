//! Axis ticks and labels: round local times on x, round numbers on y.

use chrono::{DateTime, FixedOffset, Offset, Utc};

use super::Range;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;
/// 1970-01-05, the first Monday after the epoch: weekly ticks fall on Mondays.
const FIRST_MONDAY: i64 = 4 * DAY;

/// Tick steps, shortest first. Spans over 24 h only use whole days.
const STEPS: [i64; 22] = [
    MINUTE,
    2 * MINUTE,
    5 * MINUTE,
    10 * MINUTE,
    15 * MINUTE,
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    3 * HOUR,
    4 * HOUR,
    6 * HOUR,
    12 * HOUR,
    DAY,
    2 * DAY,
    7 * DAY,
    14 * DAY,
    28 * DAY,
    56 * DAY,
    91 * DAY,
    182 * DAY,
    364 * DAY,
    728 * DAY,
];

/// The x axis: tick instants and how to label them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TimeAxis {
    /// Tick instants, epoch ms, increasing, inside `[t0, t1]`.
    pub(crate) ticks: Vec<i64>,
    /// Labels are dates (`D Mon`) rather than times of day (`HH:MM`).
    pub(crate) dates: bool,
    offset: FixedOffset,
}

impl TimeAxis {
    /// Ticks for `[t0, t1]` on a plot `plot_width` px wide, at least `min_spacing` px apart,
    /// at round times in the zone `utc_offset_s` (validated by the caller).
    pub(crate) fn new(t0: i64, t1: i64, utc_offset_s: i32, plot_width: u32, min_spacing: u32) -> Self {
        let offset = FixedOffset::east_opt(utc_offset_s).unwrap_or(Utc.fix());
        let span = (t1 - t0).max(1);
        let dates = span > DAY;
        let max_ticks = i64::from(plot_width / min_spacing.max(1)) + 1;
        let step = STEPS
            .into_iter()
            .filter(|&s| !dates || s >= DAY)
            .find(|&s| span / s < max_ticks)
            .unwrap_or(STEPS[STEPS.len() - 1]);
        let local = i64::from(utc_offset_s) * 1000;
        let anchor = if step % (7 * DAY) == 0 { FIRST_MONDAY } else { 0 };
        // The first t >= t0 with (t + local - anchor) a multiple of step.
        let first = (t0 + local - anchor).div_euclid(step) * step + anchor - local;
        let first = if first < t0 { first + step } else { first };
        let ticks =
            std::iter::successors(Some(first), |t| t.checked_add(step)).take_while(|&t| t <= t1).collect();
        Self { ticks, dates, offset }
    }

    /// The label for the instant `t`: `HH:MM` or `D Mon`, local time.
    pub(crate) fn label(&self, t: i64) -> String {
        let format = if self.dates { "%-d %b" } else { "%H:%M" };
        local(t, self.offset).map(|d| d.format(format).to_string()).unwrap_or_default()
    }

    /// The widest label this axis can show, for spacing ticks.
    pub(crate) fn widest_label(span_ms: i64) -> &'static str {
        if span_ms > DAY { "30 Sep" } else { "00:00" }
    }
}

fn local(t: i64, offset: FixedOffset) -> Option<DateTime<FixedOffset>> {
    DateTime::from_timestamp_millis(t).map(|d| d.with_timezone(&offset))
}

/// A description of `[t0, t1]` for the chart's `<title>`: its length and its local ends, e.g.
/// `24h, 5 Mar 2024 14:00 to 6 Mar 2024 14:00 (UTC+01:00)`.
pub(crate) fn describe_range(t0: i64, t1: i64, utc_offset_s: i32) -> String {
    let span = t1 - t0;
    let length = match Range::from_millis(span) {
        Some(r) => r.as_str().to_owned(),
        None if span <= 3 * DAY => format!("{}h", amount(span as f64 / HOUR as f64)),
        None => format!("{}d", amount(span as f64 / DAY as f64)),
    };
    let offset = FixedOffset::east_opt(utc_offset_s).unwrap_or(Utc.fix());
    let at = |t| local(t, offset).map(|d| d.format("%-d %b %Y %H:%M").to_string()).unwrap_or_default();
    let sign = if utc_offset_s < 0 { '-' } else { '+' };
    let abs = utc_offset_s.unsigned_abs();
    format!("{length}, {} to {} (UTC{sign}{:02}:{:02})", at(t0), at(t1), abs / 3600, abs % 3600 / 60)
}

/// `x` with one decimal, or none when it is whole to that precision.
fn amount(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_owned).unwrap_or(s)
}

/// The y axis: its range, ticks at round numbers, and how many decimals the labels need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ValueAxis {
    /// Bottom of the axis.
    pub(crate) lo: f64,
    /// Top of the axis.
    pub(crate) hi: f64,
    /// Tick values, increasing, inside `[lo, hi]`.
    pub(crate) ticks: Vec<f64>,
    decimals: usize,
}

impl ValueAxis {
    /// An axis showing `[data_lo, data_hi]` (and `include`, a band that must be visible),
    /// padded by 8 % of the span, at least 2 units wide (a flat series gets +-1), with the
    /// padding kept inside `limits` (e.g. SpO2 never above 100 %). Data outside `limits`
    /// still widen the axis: a value is never hidden. `data` is `None` when there is no data.
    pub(crate) fn new(
        data: Option<(f64, f64)>,
        include: Option<(f64, f64)>,
        limits: Option<(f64, f64)>,
        plot_height: u32,
    ) -> Self {
        let (mut lo, mut hi) = match (data, include, limits) {
            (Some(d), _, _) => d,
            (None, Some(b), _) => b,
            (None, None, Some(l)) if l.0.is_finite() && l.1.is_finite() => l,
            (None, None, _) => (0.0, 10.0),
        };
        if let Some((a, b)) = include {
            (lo, hi) = (lo.min(a), hi.max(b));
        }
        const MIN_SPAN: f64 = 2.0;
        if hi - lo < MIN_SPAN {
            let mid = (lo + hi) / 2.0;
            (lo, hi) = (mid - MIN_SPAN / 2.0, mid + MIN_SPAN / 2.0);
        }
        let pad = 0.08 * (hi - lo);
        let (mut lo, mut hi) = (lo - pad, hi + pad);
        if let Some((floor, ceiling)) = limits {
            let (data_lo, data_hi) = data.unwrap_or((f64::INFINITY, f64::NEG_INFINITY));
            lo = lo.max(floor.min(data_lo));
            hi = hi.min(ceiling.max(data_hi));
            if hi - lo < MIN_SPAN {
                // Pinned against a limit: grow away from it.
                if lo <= floor { hi = lo + MIN_SPAN } else { lo = hi - MIN_SPAN }
            }
        }
        // Labels at least 28 px apart (they are 13 px tall), at most 10 intervals.
        let most = (f64::from(plot_height) / 28.0).clamp(2.0, 10.0);
        let step = nice_step((hi - lo) / most);
        // At most 10 steps between finite bounds: small whole numbers. `as` saturates.
        #[allow(clippy::cast_possible_truncation, reason = "tick indices and a power of ten")]
        let (first, last, exponent) =
            ((lo / step).ceil() as i64, (hi / step).floor() as i64, step.log10().floor() as i32);
        let ticks = (first..=last).map(|k| k as f64 * step).collect();
        // As many decimals as the step has below the point (none for a step of 1 or more).
        let decimals =
            usize::try_from(-exponent).unwrap_or(0) + usize::from(exponent <= 0 && is_quarter(step));
        Self { lo, hi, ticks, decimals }
    }

    /// The label for the value `v`.
    pub(crate) fn label(&self, v: f64) -> String {
        let s = format!("{v:.*}", self.decimals);
        // "-0" for a tick a rounding error below zero.
        if s.trim_start_matches(['-', '0', '.']).is_empty() {
            format!("{:.*}", self.decimals, 0.0)
        } else {
            s
        }
    }
}

/// The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// A step like 0.25 or 0.025 needs one more decimal than its power of ten.
fn is_quarter(step: f64) -> bool {
    let mantissa = step / 10f64.powf(step.log10().floor());
    (mantissa - 2.5).abs() < 1e-6
}

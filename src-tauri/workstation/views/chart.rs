//! The patient's charts: data read in one audited transaction, min/max-decimated inside SQLite
//! to the chart's pixel width (`store::series::buckets`), rendered to SVG with plotters
//! (`crate::charts`) on blocking threads in parallel.

use crate::domain::access::Operation;
use std::time::Instant;

use chrono::{TimeZone, Utc};
use serde::Deserialize;

use super::view;
use crate::agents::review;
use crate::charts::{self, LevelPoint, Range, Series, SeriesColor, VitalChart, WeightChart};
use crate::domain::{InvalidField, Kind, PatientRef};
use crate::store::{StoreError, series};
use crate::workstation::{Error, Workstation};

/// The charts of the patient screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "desktop", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// Heart rate.
    HeartRate,
    /// SpO2.
    Spo2,
    /// Respiratory rate.
    RespiratoryRate,
    /// Body temperature.
    BodyTemperature,
    /// Systolic and diastolic pressure.
    BloodPressure,
    /// Weight with the Kalman level, its band and the heart-failure flags.
    Weight,
}

/// What to draw.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[cfg_attr(feature = "desktop", derive(specta::Type))]
pub struct ChartRequest {
    /// The patient (id or MRN).
    pub patient: String,
    /// The charts.
    pub charts: Vec<ChartKind>,
    /// `1h`, `24h`, `7d`, `30d` (the weight chart shows at least 30 days).
    pub range: String,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// The screen's UTC offset, seconds, for the axis labels.
    pub utc_offset_s: i32,
    /// The range's end, UTC ms; now when absent.
    pub until_ms: Option<f64>,
}

view! {
    /// One rendered chart.
    pub struct ChartView {
        /// Which.
        pub chart: ChartKind,
        /// The SVG document.
        pub svg: String,
        /// Samples in the range.
        pub points_in: u32,
        /// Points drawn after decimation.
        pub points_drawn: u32,
        /// Read + render time of this chart's part, ms.
        pub took_ms: f64,
    }
}

/// A chart's data, read in the transaction, rendered after it.
enum ChartData {
    Vitals(VitalChart, usize),
    Weight(WeightChart),
}

/// How one chart is drawn: title, unit, its series (kind, label, colour), the shaded normal
/// band and the axis limits.
struct Spec {
    title: &'static str,
    unit: &'static str,
    series: Vec<(Kind, &'static str, SeriesColor)>,
    normal: Option<(f64, f64)>,
    limits: Option<(f64, f64)>,
}

/// The normal band of each vital is NEWS2's zero-score band (RCP 2017, chart 1). The systolic
/// zero band (111-219) would squeeze both pressure lines, so blood pressure has none.
fn spec(kind: ChartKind) -> Spec {
    let one = |kind, label, color| vec![(kind, label, color)];
    let (title, unit, series, normal, limits) = match kind {
        ChartKind::HeartRate => (
            "Heart rate",
            "/min",
            one(Kind::HeartRate, "Heart rate", SeriesColor::Red),
            Some((51.0, 90.0)),
            (0.0, 300.0),
        ),
        ChartKind::Spo2 => {
            ("SpO₂", "%", one(Kind::Spo2, "SpO₂", SeriesColor::Blue), Some((96.0, 100.0)), (50.0, 100.0))
        }
        ChartKind::RespiratoryRate => (
            "Respiratory rate",
            "/min",
            one(Kind::RespiratoryRate, "Respiratory rate", SeriesColor::Green),
            Some((12.0, 20.0)),
            (0.0, 80.0),
        ),
        ChartKind::BodyTemperature => (
            "Temperature",
            "°C",
            one(Kind::BodyTemperature, "Temperature", SeriesColor::Orange),
            Some((36.1, 38.0)),
            (30.0, 45.0),
        ),
        ChartKind::BloodPressure => (
            "Blood pressure",
            "mmHg",
            vec![
                (Kind::BpSystolic, "Systolic", SeriesColor::Blue),
                (Kind::BpDiastolic, "Diastolic", SeriesColor::Orange),
            ],
            None,
            (0.0, 300.0),
        ),
        ChartKind::Weight => ("Weight", "kg", Vec::new(), None, (0.0, 400.0)),
    };
    Spec { title, unit, series, normal, limits: Some(limits) }
}

/// `until_ms` as whole milliseconds (truncated, as `as` did). NaN, an infinity or a time chrono
/// cannot hold is refused: `as` made NaN 1970 and a huge value i64::MAX or MIN, whose
/// `t1 - range` then overflowed.
fn until_ms(ms: f64) -> Result<i64, InvalidField> {
    // chrono reaches about ±8.2e15 ms (year ±262,000), inside ±2^53 where whole f64s are exact.
    let in_range = ms.is_finite() && ms.abs() <= 8.2e15;
    #[allow(clippy::cast_possible_truncation, reason = "used only when inside ±8.2e15, checked above")]
    let whole = ms.trunc() as i64;
    match in_range.then(|| Utc.timestamp_millis_opt(whole).single()).flatten() {
        Some(_) => Ok(whole),
        None => {
            Err(InvalidField::new("until_ms", format!("{ms} is not a time (ms since 1970) Vigil can chart")))
        }
    }
}

impl Workstation {
    /// Renders the requested charts of one patient over one range. One audit event.
    pub async fn charts(&self, request: &ChartRequest) -> Result<Vec<ChartView>, Error> {
        let principal = self.authorize(Operation::PatientRead).await?;
        let started = Instant::now();
        let range = Range::parse(&request.range).map_err(|e| InvalidField::new("range", e.to_string()))?;
        if !charts::SIZE_LIMITS.contains(&request.width) || !charts::SIZE_LIMITS.contains(&request.height) {
            return Err(InvalidField::new(
                "width",
                format!("{}x{} is outside 100..=4000 px", request.width, request.height),
            )
            .into());
        }
        let t1 = match request.until_ms {
            None => Utc::now().timestamp_millis(),
            Some(ms) => until_ms(ms)?,
        };
        let t0 = t1 - range.millis();
        let columns = i64::from(request.width.max(1));
        let base = |title: &str, unit: &str, series, reference, floor| VitalChart {
            title: title.to_owned(),
            unit: unit.to_owned(),
            series,
            t0,
            t1,
            width: request.width,
            height: request.height,
            utc_offset_s: request.utc_offset_s,
            reference,
            y_floor_ceiling: floor,
        };
        let mut tx = self.store.begin_read().await?;
        let patient = self.open_patient(&principal, &mut tx, &PatientRef::parse(&request.patient)).await?;
        let mut data = Vec::with_capacity(request.charts.len());
        for &chart in &request.charts {
            let read = Instant::now();
            let Spec { title, unit, series: kinds, normal, limits } = spec(chart);
            if chart == ChartKind::Weight {
                let weights = series::values(&mut *tx, patient.id, Kind::BodyWeight, i64::MIN, t1).await?;
                data.push((chart, read, ChartData::Weight(weight_chart(&weights, request, t1, range))));
                continue;
            }
            let mut all = Vec::new();
            let mut count = 0;
            for (kind, label, color) in kinds {
                let buckets =
                    series::buckets(&mut tx, patient.id, kind, t0, t1, (range.millis() / columns).max(1))
                        .await?;
                let mut points = Vec::with_capacity(buckets.len() * 2);
                for b in &buckets {
                    // A SQL COUNT: never negative.
                    count += usize::try_from(b.count).unwrap_or(0);
                    points.push((b.first_ms, b.min));
                    if b.count > 1 {
                        points.push((b.last_ms.max(b.first_ms + 1), b.max));
                    }
                }
                all.push(Series { label: label.to_owned(), points, color });
            }
            data.push((chart, read, ChartData::Vitals(base(title, unit, all, normal, limits), count)));
        }
        let detail = serde_json::json!({ "charts": request.charts.len(), "range": range.as_str() });
        self.audit_read("chart.view", Some(&patient), detail).await;
        tx.commit().await.map_err(StoreError::from)?;

        let mut tasks = tokio::task::JoinSet::new();
        for (index, (chart, read, d)) in data.into_iter().enumerate() {
            let read_ms = read.elapsed();
            tasks.spawn_blocking(move || {
                let t = Instant::now();
                let rendered = match &d {
                    ChartData::Vitals(c, _) => charts::render_vitals(c),
                    ChartData::Weight(c) => charts::render_weight(c),
                };
                let points_in = match &d {
                    ChartData::Vitals(_, n) => *n,
                    ChartData::Weight(c) => c.weights.len() + c.rejected.len(),
                };
                (index, chart, rendered, points_in, (read_ms + t.elapsed()).as_secs_f64() * 1e3)
            });
        }
        let mut out = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (index, chart, rendered, points_in, took_ms) =
                joined.map_err(|e| Error::Internal(e.to_string()))?;
            let r = rendered.map_err(|e| Error::Internal(format!("chart {chart:?}: {e}")))?;
            out.push((
                index,
                ChartView {
                    chart,
                    svg: r.svg,
                    // Shown counts; a chart of more than u32::MAX points says u32::MAX.
                    points_in: u32::try_from(points_in).unwrap_or(u32::MAX),
                    points_drawn: u32::try_from(r.points_drawn).unwrap_or(u32::MAX),
                    took_ms,
                },
            ));
        }
        out.sort_by_key(|(i, _)| *i);
        tracing::debug!(charts = out.len(), ms = started.elapsed().as_secs_f64() * 1e3, "charts rendered");
        Ok(out.into_iter().map(|(_, c)| c).collect())
    }
}

/// The weight chart: at least the last 30 days (daily data), the filter run over every weight.
fn weight_chart(weights: &[(i64, f64)], request: &ChartRequest, t1: i64, range: Range) -> WeightChart {
    let t0 = t1 - range.millis().max(Range::Month.millis());
    let at = |ms: i64| Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    let series: Vec<_> = weights.iter().map(|(t, v)| (at(*t), *v)).collect();
    let track = review::weight_track(&series);
    let inside = |t: i64| t >= t0 && t <= t1;
    let mut chart = WeightChart {
        t0,
        t1,
        width: request.width,
        height: request.height,
        utc_offset_s: request.utc_offset_s,
        weights: Vec::new(),
        rejected: Vec::new(),
        level: Vec::new(),
        trend_kg_per_week: None,
        flags: Vec::new(),
    };
    for p in &track {
        let t = p.time.timestamp_millis();
        if !inside(t) {
            continue;
        }
        if !p.step.accepted {
            chart.rejected.push((t, p.kg));
            continue;
        }
        chart.weights.push((t, p.kg));
        if let (Some(kg), Some(sd)) = (p.step.filtered, p.level_sd) {
            chart.level.push(LevelPoint { t, kg, sd_kg: sd });
        }
        if let Some(g) = p.rapid_gain {
            chart.flags.push((t, format!("+{:.1} kg/{:.0} d", g.gain_kg, g.window_days)));
        } else if let Some(r) = p.trend_rise {
            chart.flags.push((t, format!("trend {:+.1} kg/wk", r.trend_kg_per_week)));
        }
    }
    chart.trend_kg_per_week = track
        .iter()
        .rev()
        .find(|p| p.step.accepted && p.step.trend_kg_per_week.is_some())
        .and_then(|p| p.step.trend_kg_per_week);
    chart
}

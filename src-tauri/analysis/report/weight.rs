//! `vigil analyze weight`: a body-weight series through the Kalman filter and the
//! heart-failure rules.
//!
//! Columns (CSV header names, or JSON keys):
//!
//! | column     | required | content |
//! |------------|----------|---------|
//! | `time`     | yes      | RFC 3339 with an offset, e.g. `2026-01-02T07:21:00+01:00` |
//! | `value_kg` | no       | the weight in kg; empty (or JSON `null`) is a missing value, `NaN` a not-a-number one: both are reported as rejected, never filtered |
//! | `source`   | no       | `clinic`, `home` (the default) or `reported`: sets the measurement noise |
//!
//! ```text
//! time,value_kg,source
//! 2026-01-02T07:21:00+01:00,83.9,home
//! 2026-01-15T10:30:00+01:00,83.55,clinic
//! ```
//!
//! An input without a `value_kg` column (CSV header) or key (in any JSON object) is an error
//! naming the columns it has: a file whose column is called `weight` is a mistake, not a series
//! of missing values.
//!
//! Rows need not be in time order: they are processed in time order (stable for equal times),
//! from no state, and each step carries its input line. A weight outside the domain's
//! plausible range ([`Kind::plausible`], 0.5-650 kg) is an error naming its line: it is a unit
//! or typing mistake, not a measurement. Heart-failure warnings are listed at onset: a rule
//! firing on consecutive weights is one warning. The "> 2 kg in 3 days" rule looks at the raw
//! weights the filter accepted, so a single gated-out outlier cannot fire it.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::{AnalyzeError, Columns, InputFormat, Record, records};
use crate::analysis::heart_failure::{
    HeartFailureAlert, HeartFailureConfig, WeightPoint, rapid_gain, trend_alert,
};
use crate::analysis::kalman::{FilterState, KalmanConfig, Measurement, SourceClass, StepResult, process};
use crate::domain::{AbsentReason, Kind, ObservationValue};

/// The tuning of both analyses.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct WeightAnalysisConfig {
    /// The filter.
    pub kalman: KalmanConfig,
    /// The warnings.
    pub heart_failure: HeartFailureConfig,
}

/// One parsed input row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeightRow {
    /// Where it came from in the input.
    pub at: super::Location,
    /// The time as written, with its offset.
    pub time: DateTime<FixedOffset>,
    /// The measurement for the filter.
    pub measurement: Measurement,
}

/// What one row did.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeightStep {
    /// Where it came from in the input.
    pub at: super::Location,
    /// The time as written.
    pub time: DateTime<FixedOffset>,
    /// The weight, if there was one.
    pub value_kg: Option<f64>,
    /// The source class.
    pub source: SourceClass,
    /// The filter's result.
    pub result: StepResult,
}

/// Counts and the latest estimate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeightSummary {
    /// Rows read.
    pub rows: usize,
    /// Rows taken in (filtered or buffered).
    pub accepted: usize,
    /// Rows rejected (missing, not a number, outlier...).
    pub rejected: usize,
    /// Times the filter started over (gap or persistent outliers).
    pub resets: usize,
    /// The last step's result that had a filtered level, if any.
    pub latest: Option<StepResult>,
}

/// The whole analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightReport {
    /// Counts and the latest estimate.
    pub summary: WeightSummary,
    /// Heart-failure warnings at onset, in time order.
    pub alerts: Vec<HeartFailureAlert>,
    /// One per row, in processing (time) order.
    pub steps: Vec<WeightStep>,
    /// The filter state after the last row, as it would be saved.
    pub final_state: FilterState,
}

/// What `vigil analyze weight` reads; `value_kg` is the value column.
const COLUMNS: Columns = Columns { values: &["value_kg"], all: &["time", "value_kg", "source"] };

/// Parses the rows (module docs for the columns), in input order. An input without a
/// `value_kg` column (or key) is an error naming the columns it has.
pub fn parse_weights(input: &str, format: InputFormat) -> Result<Vec<WeightRow>, AnalyzeError> {
    records(input, format, &COLUMNS)?.iter().map(row).collect()
}

fn row(r: &Record) -> Result<WeightRow, AnalyzeError> {
    let time = r.time("time")?.ok_or_else(|| r.field_error("time", "is required"))?;
    let value = match r.cell("value_kg") {
        None => ObservationValue::Absent(AbsentReason::Unknown),
        Some(s) if s.eq_ignore_ascii_case("nan") => ObservationValue::Absent(AbsentReason::NotANumber),
        Some(_) => {
            let kg = r.number("value_kg")?;
            let range = Kind::BodyWeight.plausible();
            if !range.contains(&kg) {
                let (lo, hi) = (range.start(), range.end());
                return Err(
                    r.field_error("value_kg", format!("{kg} is outside the plausible {lo}..={hi} kg"))
                );
            }
            ObservationValue::Quantity(kg)
        }
    };
    let source =
        r.cell("source")
            .map(|s| {
                SourceClass::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| {
                    r.field_error("source", format!("'{s}' is not one of clinic, home, reported"))
                })
            })
            .transpose()?
            .unwrap_or(SourceClass::Home);
    Ok(WeightRow { at: r.at, time, measurement: Measurement { time: time.to_utc(), value, source } })
}

/// [`analyze_weight_with`] the default configuration.
pub fn analyze_weight(input: &str, format: InputFormat) -> Result<WeightReport, AnalyzeError> {
    analyze_weight_with(input, format, &WeightAnalysisConfig::default())
}

/// Parses the input and runs every row through the filter and the heart-failure rules.
pub fn analyze_weight_with(
    input: &str,
    format: InputFormat,
    cfg: &WeightAnalysisConfig,
) -> Result<WeightReport, AnalyzeError> {
    cfg.kalman.validate()?;
    analyze_weight_rows(parse_weights(input, format)?, cfg)
}

/// Runs parsed rows (from text, or from the store) through the filter and the heart-failure
/// rules, in time order.
pub fn analyze_weight_rows(
    mut rows: Vec<WeightRow>,
    cfg: &WeightAnalysisConfig,
) -> Result<WeightReport, AnalyzeError> {
    cfg.kalman.validate()?;
    rows.sort_by_key(|r| r.measurement.time);

    let mut state: Option<FilterState> = None;
    let mut steps = Vec::with_capacity(rows.len());
    let mut alerts = Vec::new();
    let mut weights: Vec<WeightPoint> = Vec::new();
    let (mut gain_firing, mut trend_firing) = (false, false);
    for r in &rows {
        let (next, result) = process(state.as_ref(), r.measurement, &cfg.kalman);
        state = Some(next);
        let value_kg = r.measurement.value.quantity();
        // The ESC rule on the raw weights the filter accepted (see `heart_failure`).
        if let Some(kg) = value_kg.filter(|v| v.is_finite() && result.accepted) {
            let latest = WeightPoint { time: r.measurement.time, kg };
            let gain = rapid_gain(&weights, latest, &cfg.heart_failure);
            if let Some(g) = gain.filter(|_| !gain_firing) {
                alerts.push(HeartFailureAlert::RapidGain(g));
            }
            gain_firing = gain.is_some();
            weights.push(latest);
        }
        if result.accepted {
            let trend = trend_alert(&result, &cfg.heart_failure);
            if let Some(t) = trend.filter(|_| !trend_firing) {
                alerts.push(HeartFailureAlert::TrendRise(t));
            }
            trend_firing = trend.is_some();
        }
        steps.push(WeightStep { at: r.at, time: r.time, value_kg, source: r.measurement.source, result });
    }
    let accepted = steps.iter().filter(|s| s.result.accepted).count();
    let summary = WeightSummary {
        rows: steps.len(),
        accepted,
        rejected: steps.len() - accepted,
        resets: steps.iter().filter(|s| s.result.reset.is_some()).count(),
        latest: steps.iter().rev().map(|s| s.result).find(|r| r.filtered.is_some() && r.accepted),
    };
    let final_state = state.unwrap_or_else(|| FilterState::initializing(Vec::new()));
    Ok(WeightReport { summary, alerts, steps, final_state })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::kalman::RejectReason;
    use crate::analysis::report::Location;
    use chrono::Utc;

    fn alert_time(a: &HeartFailureAlert) -> DateTime<Utc> {
        match a {
            HeartFailureAlert::RapidGain(g) => g.to.time,
            HeartFailureAlert::TrendRise(t) => t.time,
        }
    }

    #[test]
    fn csv_rows_are_sorted_filtered_and_reported() {
        let csv = "time, value_kg ,source,comment\n\
                   2026-01-03T07:00:00+01:00,80.2,home,x\n\
                   2026-01-01T07:00:00+01:00,80.0,clinic,\n\
                   2026-01-02T07:00:00+01:00,,home,scale off\n\
                   2026-01-02T08:00:00+01:00,NaN,,\n\
                   2026-01-04T07:00:00+01:00,80.1,reported,\n";
        let report = analyze_weight(csv, InputFormat::Csv).unwrap();
        let lines: Vec<_> = report.steps.iter().map(|s| s.at).collect();
        assert_eq!(lines, [3, 4, 5, 2, 6].map(Location::Line));
        let missing = report.steps[1].result.reason;
        assert_eq!(missing, Some(RejectReason::Missing { absent: AbsentReason::Unknown }));
        assert_eq!(
            report.steps[2].result.reason,
            Some(RejectReason::Missing { absent: AbsentReason::NotANumber })
        );
        assert_eq!((report.summary.rows, report.summary.accepted, report.summary.rejected), (5, 3, 2));
        assert!(report.steps[3].result.needs_initialization && !report.steps[4].result.needs_initialization);
        assert_eq!(report.summary.latest, Some(report.steps[4].result));
        assert!(serde_json::to_string(&report).unwrap().contains(r#""final_state":{"schema_version":2"#));
    }

    #[test]
    fn json_gives_the_same_steps_as_csv() {
        let csv = "time,value_kg,source\n2026-01-01T07:00:00Z,80,home\n2026-01-02T07:00:00Z,,clinic\n";
        let json = r#"[{"time":"2026-01-01T07:00:00Z","value_kg":80},
                      {"time":"2026-01-02T07:00:00Z","value_kg":null,"source":"clinic"}]"#;
        let (a, b) = (
            analyze_weight(csv, InputFormat::Csv).unwrap(),
            analyze_weight(json, InputFormat::Json).unwrap(),
        );
        assert_eq!(
            a.steps.iter().map(|s| s.result).collect::<Vec<_>>(),
            b.steps.iter().map(|s| s.result).collect::<Vec<_>>()
        );
        assert_eq!(b.steps[1].at, Location::Item(2));
    }

    #[test]
    fn errors_name_the_line_or_item_and_the_field() {
        let err = |input: &str, f| analyze_weight(input, f).unwrap_err().to_string();
        assert_eq!(
            err("time,value_kg\n2026-01-01T07:00:00Z,80\n2026-01-02,81\n", InputFormat::Csv),
            "line 3, field time: '2026-01-02' is not an RFC 3339 time with an offset (premature end of input)"
        );
        assert_eq!(
            err("time,value_kg\n2026-01-01T07:00:00Z,80 kg\n", InputFormat::Csv),
            "line 2, field value_kg: '80 kg' is not a number"
        );
        assert_eq!(
            err("time,value_kg\n2026-01-01T07:00:00Z,8000\n", InputFormat::Csv),
            "line 2, field value_kg: 8000 is outside the plausible 0.5..=650 kg"
        );
        assert_eq!(err("value_kg\n80\n", InputFormat::Csv), "line 2, field time: is required");
        assert_eq!(
            err(r#"[{"time":"2026-01-01T07:00:00Z","value_kg":80,"source":"gym"}]"#, InputFormat::Json),
            "item 1, field source: 'gym' is not one of clinic, home, reported"
        );
        assert!(
            err("time,value_kg\n2026-01-01T07:00:00Z,80,extra\n", InputFormat::Csv).starts_with("line 2: ")
        );
        assert!(
            err("[{\"time\": 1},\n oops]", InputFormat::Json)
                .starts_with("line 2: expected an array of objects")
        );
        assert_eq!(err("time,value_kg\n", InputFormat::Csv), "the input has no records");
        assert_eq!(
            err("# a scale's export\n\ntime,Weight\n2026-01-01T07:00:00Z,80\n", InputFormat::Csv),
            "line 3: no value_kg column: the header has time, Weight (expected columns: time, value_kg, source)"
        );
        // Issue 11: a `weight` column was 101 "missing" rows; it is an error naming the columns.
        let mut weights = String::from("time,weight\n");
        for d in 1..=28 {
            weights += &format!("2026-02-{d:02}T07:00:00Z,{}\n", 80.0 + f64::from(d) / 10.0);
        }
        let no_value = "line 1: no value_kg column: the header has time, weight \
                        (expected columns: time, value_kg, source)";
        assert_eq!(err(&weights, InputFormat::Csv), no_value);
        assert_eq!(err("time,weight\n", InputFormat::Csv), no_value, "before 'no records'");
        assert_eq!(
            err(r#"[{"time":"2026-01-01T07:00:00Z","weight":80},{"kg":81}]"#, InputFormat::Json),
            "no value_kg key: the objects have time, weight, kg (expected keys: time, value_kg, source)"
        );
        assert_eq!(
            err("time,Weight (kg)\x1b[2J\n", InputFormat::Csv),
            "line 1: no value_kg column: the header has time, Weight (kg)\\u{1b}[2J \
             (expected columns: time, value_kg, source)"
        );
        // A key present but null in every object is a series of missing values, as before.
        let nulls = analyze_weight(r#"[{"time":"2026-01-01T07:00:00Z","value_kg":null}]"#, InputFormat::Json);
        assert_eq!(nulls.unwrap().summary.rejected, 1);
        let bad = WeightAnalysisConfig {
            kalman: KalmanConfig { gate_sigma: 0.0, ..KalmanConfig::default() },
            ..Default::default()
        };
        let e = analyze_weight_with("time\n2026-01-01T07:00:00Z\n", InputFormat::Csv, &bad).unwrap_err();
        assert_eq!(e.to_string(), "kalman config gate_sigma: must be a positive number");
    }

    #[test]
    fn a_three_day_gain_is_one_warning_at_onset() {
        let mut csv = String::from("time,value_kg\n");
        for d in 1..=20 {
            let kg = if d <= 15 { 80.0 } else { 80.0 + 0.8 * f64::from(d - 15) };
            csv.push_str(&format!("2026-03-{d:02}T07:00:00Z,{kg}\n"));
        }
        let report = analyze_weight(&csv, InputFormat::Csv).unwrap();
        let gains: Vec<_> =
            report.alerts.iter().filter(|a| matches!(a, HeartFailureAlert::RapidGain(_))).collect();
        assert_eq!(gains.len(), 1, "{:?}", report.alerts);
        let HeartFailureAlert::RapidGain(g) = gains[0] else { unreachable!() };
        // Day 18: 82.4 against day 15's 80.0.
        assert_eq!(g.to.time.to_rfc3339(), "2026-03-18T07:00:00+00:00");
        assert!((g.gain_kg - 2.4).abs() < 1e-9 && g.from.kg == 80.0);
        assert!(report.alerts.iter().any(|a| matches!(a, HeartFailureAlert::TrendRise(_))));
        assert!(report.alerts.is_sorted_by_key(alert_time));
    }
}

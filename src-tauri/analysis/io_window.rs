//! Text adapter for `vigil analyze window`: 1 Hz vitals in, a [`WindowTick`] every 5 s out.
//!
//! Input, one row per sample, in time order:
//! - CSV: a header line with `time` and any of `heart_rate` (/min), `spo2` (%),
//!   `respiratory_rate` (/min), `body_temperature` (°C), `rr_interval` (ms) and `hrv_sdnn` (ms, the
//!   device's per-sample HRV; `hrv_ms`, the reference design's name, is accepted for it) — the
//!   observation kind names. `time` is RFC 3339 (`2026-01-01T08:00:00+01:00`), floored to the
//!   second. An empty cell is an absent value. An unknown or repeated column is an error, so a
//!   typo cannot silently drop a vital, and so is a header with no value column at all.
//! - JSON: an array of objects with the same field names, e.g.
//!   `[{"time": "2026-01-01T08:00:00Z", "heart_rate": 72, "spo2": 97}]`. Objects none of which
//!   has a value key (only `time`) are an error; a key whose value is `null` is an absent value.
//!
//! The window is fed every row ([`WindowState::push`]); a tick is emitted at the first accepted
//! sample of each 5-second interval of UTC time (`time mod 5` buckets), so a 1 Hz stream gives a
//! tick at every whole multiple of 5 s. Dropped rows are counted in each tick's `quality`. Each
//! tick's `hrv_source` says where its `hrv_*` came from (`rr_intervals`, `hrv_stream` or null).

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

pub use super::io_input::{AnalyzeError, InputFormat};
use super::io_input::{csv_rows, number};
use super::window::{PushOutcome, TICK_SECONDS, VitalSample, WindowFeatures, WindowQuality, WindowState};

const COLUMNS: [&str; 7] =
    ["time", "heart_rate", "spo2", "respiratory_rate", "body_temperature", "rr_interval", "hrv_sdnn"];
/// Other names of columns: the reference design's `hrv_ms` is the store's `hrv_sdnn`.
const ALIASES: [(&str, &str); 1] = [("hrv_ms", "hrv_sdnn")];

/// The features at one tick.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowTick {
    /// The sample that triggered the tick, with its own UTC offset.
    pub time: DateTime<FixedOffset>,
    /// The window ending at that second.
    #[serde(flatten)]
    pub features: WindowFeatures,
}

/// Every tick, and the counts over the whole input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowReport {
    /// One per 5-second interval that had a sample.
    pub ticks: Vec<WindowTick>,
    /// Drops, gaps and rejections over the input.
    pub quality: WindowQuality,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRow {
    time: String,
    heart_rate: Option<f64>,
    spo2: Option<f64>,
    respiratory_rate: Option<f64>,
    body_temperature: Option<f64>,
    rr_interval: Option<f64>,
    #[serde(alias = "hrv_ms")]
    hrv_sdnn: Option<f64>,
}

/// Parses vitals and slides a window over them.
pub fn analyze_window(input: &str, format: InputFormat) -> Result<WindowReport, AnalyzeError> {
    Ok(analyze_samples(parse_rows(input, format)?))
}

/// Slides the window over samples already parsed (from text, or from the store), in the order
/// given, with the same tick rule as [`analyze_window`].
pub fn analyze_samples(rows: Vec<(DateTime<FixedOffset>, VitalSample)>) -> WindowReport {
    let mut state = WindowState::new();
    let mut ticks = Vec::new();
    let mut next_tick = i64::MIN;
    for (time, sample) in rows {
        if state.push(&sample) == PushOutcome::Accepted && sample.time >= next_tick {
            next_tick = sample.time - sample.time.rem_euclid(TICK_SECONDS) + TICK_SECONDS;
            if let Some(features) = state.features() {
                ticks.push(WindowTick { time, features });
            }
        }
    }
    WindowReport { ticks, quality: state.quality() }
}

/// Parses vitals (the formats above) into samples, in input order, each with its time as
/// written (the agents' replay feeds them to its own windows).
pub fn parse_vitals(
    input: &str,
    format: InputFormat,
) -> Result<Vec<(DateTime<FixedOffset>, VitalSample)>, AnalyzeError> {
    parse_rows(input, format)
}

fn parse_rows(
    input: &str,
    format: InputFormat,
) -> Result<Vec<(DateTime<FixedOffset>, VitalSample)>, AnalyzeError> {
    Ok(match format {
        InputFormat::Csv => parse_csv(input)?,
        InputFormat::Json => {
            let samples = parse_json(input)?;
            if !samples.is_empty() && samples.iter().all(|(_, s)| has_no_value(s)) {
                // Told apart from keys that are null in every object only on this rare path.
                let objects: Vec<serde_json::Map<String, serde_json::Value>> =
                    serde_json::from_str(input).map_err(|e| AnalyzeError::json(&e))?;
                let value_key = |k: &String| k != "time";
                if !objects.iter().flat_map(|o| o.keys()).any(value_key) {
                    let problem = format!("no value key: the objects have only time ({})", expected());
                    return Err(AnalyzeError::at(None, None, problem));
                }
            }
            samples
        }
    })
}

/// What a value-less input should have had.
fn expected() -> String {
    format!("expected at least one of {}", COLUMNS[1..].join(", "))
}

fn has_no_value(s: &VitalSample) -> bool {
    [s.heart_rate, s.spo2, s.respiratory_rate, s.body_temperature, s.rr_interval, s.hrv_sdnn]
        .iter()
        .all(Option::is_none)
}

fn parse_json(input: &str) -> Result<Vec<(DateTime<FixedOffset>, VitalSample)>, AnalyzeError> {
    let rows: Vec<JsonRow> = serde_json::from_str(input).map_err(|e| AnalyzeError::json(&e))?;
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| {
            let time = parse_time(&r.time)
                .map_err(|p| AnalyzeError::at(None, Some("time"), format!("element {i}: {p}")))?;
            let sample = VitalSample {
                time: time.timestamp(),
                heart_rate: r.heart_rate,
                spo2: r.spo2,
                respiratory_rate: r.respiratory_rate,
                body_temperature: r.body_temperature,
                rr_interval: r.rr_interval,
                hrv_sdnn: r.hrv_sdnn,
            };
            Ok((time, sample))
        })
        .collect()
}

fn parse_time(s: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(s).map_err(|e| format!("'{s}' is not an RFC 3339 time ({e})"))
}

fn parse_csv(input: &str) -> Result<Vec<(DateTime<FixedOffset>, VitalSample)>, AnalyzeError> {
    let mut rows = csv_rows(input);
    let (hline, header) = rows.next().ok_or_else(|| AnalyzeError::at(None, None, "empty input"))?;
    let mut index: [Option<usize>; COLUMNS.len()] = [None; COLUMNS.len()];
    for (i, name) in header.iter().enumerate() {
        let canonical = ALIASES.iter().find(|(alias, _)| alias == name).map_or(*name, |(_, c)| *c);
        let c = COLUMNS.iter().position(|c| *c == canonical).ok_or_else(|| {
            let aliases: Vec<String> = ALIASES.iter().map(|(a, c)| format!("{a} for {c}")).collect();
            AnalyzeError::at(
                Some(hline),
                Some(name),
                format!("unknown column (known: {}; also {})", COLUMNS.join(", "), aliases.join(", ")),
            )
        })?;
        if let Some(first) = index[c] {
            let problem = format!("column {} repeats column {} ('{}')", i + 1, first + 1, header[first]);
            return Err(AnalyzeError::at(Some(hline), Some(name), problem));
        }
        index[c] = Some(i);
    }
    let time_col = index[0]
        .ok_or_else(|| AnalyzeError::at(Some(hline), Some("time"), "the header has no 'time' column"))?;
    if index[1..].iter().all(Option::is_none) {
        let problem = format!("no value column: the header has only time ({})", expected());
        return Err(AnalyzeError::at(Some(hline), None, problem));
    }
    let mut out = Vec::new();
    for (line, cells) in rows {
        if cells.len() != header.len() {
            let problem = format!("{} cells, the header has {}", cells.len(), header.len());
            return Err(AnalyzeError::at(Some(line), None, problem));
        }
        let time = parse_time(cells[time_col]).map_err(|p| AnalyzeError::at(Some(line), Some("time"), p))?;
        let get = |c: usize| index[c].map_or(Ok(None), |i| number(cells[i], line, header[i]));
        let sample = VitalSample {
            time: time.timestamp(),
            heart_rate: get(1)?,
            spo2: get(2)?,
            respiratory_rate: get(3)?,
            body_temperature: get(4)?,
            rr_interval: get(5)?,
            hrv_sdnn: get(6)?,
        };
        out.push((time, sample));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(seconds: i64) -> String {
        let mut s = String::from("time,heart_rate,spo2,respiratory_rate,body_temperature,rr_interval\n");
        for t in 0..seconds {
            let hr = 70 + t % 7;
            s += &format!(
                "2026-01-01T08:{:02}:{:02}.250+01:00,{hr},97,{},37.0,{}\n",
                t / 60,
                t % 60,
                14 + t % 3,
                800 + t % 5 * 10
            );
        }
        s
    }

    #[test]
    fn a_tick_every_five_seconds_with_offsets_kept() {
        let r = analyze_window(&csv(600), InputFormat::Csv).unwrap();
        assert_eq!(r.ticks.len(), 120);
        let last = r.ticks.last().unwrap();
        assert_eq!(last.time.to_rfc3339(), "2026-01-01T08:09:55.250+01:00");
        assert_eq!(last.features.coverage, 1.0);
        assert_eq!(last.features.spo2_mean, Some(97.0));
        let json = serde_json::to_value(last).unwrap();
        assert!(json["hr_mean"].is_number() && json["time"].is_string());
    }

    #[test]
    fn json_rows_give_the_same_ticks() {
        let json = r#"[{"time":"2026-01-01T07:00:00Z","heart_rate":70},
                       {"time":"2026-01-01T07:00:01Z","heart_rate":72},
                       {"time":"2026-01-01T07:00:01Z","heart_rate":99},
                       {"time":"2026-01-01T07:00:05Z","heart_rate":74}]"#;
        let r = analyze_window(json, InputFormat::Json).unwrap();
        assert_eq!(r.ticks.len(), 2);
        assert_eq!(r.ticks[1].features.hr_mean, Some(72.0));
        assert_eq!((r.quality.duplicates_dropped, r.quality.gap_seconds), (1, 3));
    }

    #[test]
    fn errors_name_line_and_field() {
        let e = |s: &str| analyze_window(s, InputFormat::Csv).unwrap_err().to_string();
        assert_eq!(
            e("time,hr\n"),
            "line 1: hr: unknown column (known: time, heart_rate, spo2, respiratory_rate, body_temperature, \
             rr_interval, hrv_sdnn; also hrv_ms for hrv_sdnn)"
        );
        assert!(
            e("time,spo2\n2026-01-01T07:00:00Z,97\nyesterday,97\n")
                .starts_with("line 3: time: 'yesterday' is not an RFC 3339 time")
        );
        assert_eq!(e("time,spo2\n2026-01-01T07:00:00Z,9x7\n"), "line 2: spo2: '9x7' is not a number");
        assert_eq!(e("time,spo2\n2026-01-01T07:00:00Z\n"), "line 2: 1 cells, the header has 2");
        assert_eq!(e("spo2\n97\n"), "line 1: time: the header has no 'time' column");
        let none = "no value column: the header has only time (expected at least one of heart_rate, spo2, \
                    respiratory_rate, body_temperature, rr_interval, hrv_sdnn)";
        assert_eq!(e("time\n2026-01-01T07:00:00Z\n"), format!("line 1: {none}"));
        let j =
            |s: &str| analyze_window(s, InputFormat::Json).map(|r| r.ticks.len()).map_err(|e| e.to_string());
        assert_eq!(
            j(r#"[{"time":"2026-01-01T07:00:00Z"},{"time":"2026-01-01T07:00:01Z"}]"#),
            Err(none.replace("column: the header has", "key: the objects have"))
        );
        assert_eq!(j(r#"[{"time":"2026-01-01T07:00:00Z","spo2":null}]"#), Ok(1), "null is an absent value");
        assert_eq!(e("time,hrv_sdnn,hrv_ms\n"), "line 1: hrv_ms: column 3 repeats column 2 ('hrv_sdnn')");
        let j =
            analyze_window(r#"[{"time":"2026-01-01T07:00:00Z","pulse":70}]"#, InputFormat::Json).unwrap_err();
        assert!(j.to_string().starts_with("line 1: invalid JSON: unknown field `pulse`"), "{j}");
    }
}

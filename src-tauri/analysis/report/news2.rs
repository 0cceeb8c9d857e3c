//! `vigil analyze news2`: NEWS2 for each set of observations.
//!
//! Columns (CSV header names, or JSON keys), one row per set of observations:
//!
//! | column             | required | content |
//! |--------------------|----------|---------|
//! | `time`             | no       | RFC 3339 with an offset; echoed in the report |
//! | `respiration_rate` | yes      | /min |
//! | `spo2`             | yes      | % |
//! | `spo2_scale`       | no       | `1` (the default) or `2` (hypercapnic respiratory failure, prescribed target 88-92 %) |
//! | `air_or_oxygen`    | yes      | `air` or `oxygen` |
//! | `systolic_bp`      | yes      | mmHg |
//! | `pulse`            | yes      | /min |
//! | `consciousness`    | yes      | ACVPU: `alert`, `new_confusion`, `voice`, `pain`, `unresponsive`, or the letter `A`, `C`, `V`, `P`, `U` |
//! | `temperature`      | yes      | Cel |
//!
//! ```text
//! time,respiration_rate,spo2,spo2_scale,air_or_oxygen,systolic_bp,pulse,consciousness,temperature
//! 2026-01-02T08:00:00+00:00,22,93,1,air,105,112,A,38.4
//! ```
//!
//! Rows are scored in input order. A value NEWS2 cannot score (see [`score`]) is an error naming
//! its line and column.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::{AnalyzeError, Columns, InputFormat, Location, Record, records};
use crate::analysis::news2::{Consciousness, News2Input, News2Score, Spo2Scale, score};

/// One scored row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct News2Row {
    /// Where it came from in the input.
    pub at: Location,
    /// The time, if given.
    pub time: Option<DateTime<FixedOffset>>,
    /// The observations.
    pub input: News2Input,
    /// The score.
    pub score: News2Score,
}

/// Every row's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct News2Report {
    /// In input order.
    pub rows: Vec<News2Row>,
    /// The highest aggregate of all rows.
    pub highest_aggregate: u8,
    /// Rows that need an urgent review (a single parameter scoring 3, or aggregate 5 or more).
    pub urgent_rows: Vec<Location>,
}

fn consciousness(r: &Record) -> Result<Consciousness, AnalyzeError> {
    let s = r.required("consciousness")?;
    Ok(match s.to_ascii_lowercase().as_str() {
        "a" | "alert" => Consciousness::Alert,
        "c" | "new_confusion" => Consciousness::NewConfusion,
        "v" | "voice" => Consciousness::Voice,
        "p" | "pain" => Consciousness::Pain,
        "u" | "unresponsive" => Consciousness::Unresponsive,
        _ => {
            let expected = "alert, new_confusion, voice, pain, unresponsive (or A, C, V, P, U)";
            return Err(r.field_error("consciousness", format!("'{s}' is not one of {expected}")));
        }
    })
}

fn input(r: &Record) -> Result<News2Input, AnalyzeError> {
    let spo2_scale = match r.parsed::<u8>("spo2_scale", "1, 2")? {
        None | Some(1) => Spo2Scale::Scale1,
        Some(2) => Spo2Scale::Scale2,
        Some(n) => return Err(r.field_error("spo2_scale", format!("'{n}' is not one of 1, 2"))),
    };
    let on_oxygen = match r.required("air_or_oxygen")?.to_ascii_lowercase().as_str() {
        "air" => false,
        "oxygen" => true,
        other => return Err(r.field_error("air_or_oxygen", format!("'{other}' is not one of air, oxygen"))),
    };
    Ok(News2Input {
        respiration_rate: r.number("respiration_rate")?,
        spo2: r.number("spo2")?,
        spo2_scale,
        on_oxygen,
        systolic_bp: r.number("systolic_bp")?,
        pulse: r.number("pulse")?,
        consciousness: consciousness(r)?,
        temperature: r.number("temperature")?,
    })
}

/// What `vigil analyze news2` reads: the observations are the value columns.
const COLUMNS: Columns = Columns {
    values: &[
        "respiration_rate",
        "spo2",
        "air_or_oxygen",
        "systolic_bp",
        "pulse",
        "consciousness",
        "temperature",
    ],
    all: &[
        "time",
        "respiration_rate",
        "spo2",
        "spo2_scale",
        "air_or_oxygen",
        "systolic_bp",
        "pulse",
        "consciousness",
        "temperature",
    ],
};

/// Scores every row (module docs for the columns). An input with none of the observation
/// columns is an error naming the columns it has.
pub fn analyze_news2(text: &str, format: InputFormat) -> Result<News2Report, AnalyzeError> {
    let mut rows = Vec::new();
    for r in records(text, format, &COLUMNS)? {
        let input = input(&r)?;
        let score = score(&input)
            .map_err(|e| r.field_error(e.parameter.as_str(), format!("{} {}", e.value, e.problem)))?;
        rows.push(News2Row { at: r.at, time: r.time("time")?, input, score });
    }
    let highest_aggregate = rows.iter().map(|r| r.score.aggregate).max().unwrap_or(0);
    let urgent_rows =
        rows.iter().filter(|r| r.score.urgent_review || r.score.aggregate >= 5).map(|r| r.at).collect();
    Ok(News2Report { rows, highest_aggregate, urgent_rows })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::news2::{ClinicalRisk, Response};

    const CSV: &str = "time,respiration_rate,spo2,spo2_scale,air_or_oxygen,systolic_bp,pulse,consciousness,temperature\n\
        2026-01-02T08:00:00+00:00,16,97,1,air,120,70,A,37.0\n\
        2026-01-02T12:00:00+00:00,22,93,1,air,105,112,A,38.4\n\
        2026-01-02T16:00:00+00:00,26,90,,oxygen,88,135,new_confusion,39.5\n\
        ,18,95,2,oxygen,125,80,alert,36.5\n";

    #[test]
    fn rows_are_scored_in_order() {
        let report = analyze_news2(CSV, InputFormat::Csv).unwrap();
        let got: Vec<_> =
            report.rows.iter().map(|r| (r.score.aggregate, r.score.risk, r.score.response)).collect();
        assert_eq!(
            got,
            [
                (0, ClinicalRisk::Low, Response::Routine),
                // RR 22 (2) + SpO2 93 (2) + SBP 105 (1) + pulse 112 (2) + temp 38.4 (1)
                (8, ClinicalRisk::High, Response::Emergency),
                // 3 + 3 + 2 + 3 + 3 + 3 + 2
                (19, ClinicalRisk::High, Response::Emergency),
                // scale 2, 95 on oxygen (2) + oxygen (2)
                (4, ClinicalRisk::Low, Response::WardBased),
            ]
        );
        assert_eq!(report.highest_aggregate, 19);
        assert_eq!(report.urgent_rows, [Location::Line(3), Location::Line(4)]);
        assert_eq!(report.rows[3].time, None);
    }

    #[test]
    fn json_input_and_errors() {
        let json = r#"[{"respiration_rate":16,"spo2":97,"air_or_oxygen":"air","systolic_bp":120,
                        "pulse":70,"consciousness":"A","temperature":37}]"#;
        assert_eq!(analyze_news2(json, InputFormat::Json).unwrap().rows[0].score.aggregate, 0);
        let err = |s: &str| analyze_news2(s, InputFormat::Json).unwrap_err().to_string();
        assert_eq!(
            err(&json.replace("\"A\"", "\"X\"")),
            "item 1, field consciousness: 'X' is not one of alert, new_confusion, voice, pain, unresponsive (or A, C, V, P, U)"
        );
        assert_eq!(
            err(&json.replace("\"temperature\":37", "\"temperature\":99")),
            "item 1, field temperature: 99 is outside the range NEWS2 can score"
        );
        assert_eq!(err(&json.replace("\"pulse\":70,", "")), "item 1, field pulse: is required");
        // None of the observations at all: the columns it has and the ones expected.
        let csv_err =
            analyze_news2("time,rr,sats\n2026-01-02T08:00:00Z,16,97\n", InputFormat::Csv).unwrap_err();
        assert_eq!(
            csv_err.to_string(),
            "line 1: no column of respiration_rate, spo2, air_or_oxygen, systolic_bp, pulse, consciousness, \
             temperature: the header has time, rr, sats (expected columns: time, respiration_rate, spo2, \
             spo2_scale, air_or_oxygen, systolic_bp, pulse, consciousness, temperature)"
        );
        let csv_err = analyze_news2(&CSV.replace(",1,air,105", ",3,air,105"), InputFormat::Csv).unwrap_err();
        assert_eq!(csv_err.to_string(), "line 3, field spo2_scale: '3' is not one of 1, 2");
    }
}

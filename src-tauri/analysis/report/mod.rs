//! Text adapters for `vigil analyze weight` and `vigil analyze news2`: CSV or JSON text in, a
//! serde-serializable report out. Pure (they take `&str`; reading the file is the CLI's job).
//!
//! Both formats carry the same named fields:
//! - **CSV**: a header row naming the columns (any order, surrounding spaces trimmed, unknown
//!   columns ignored), then one row per record. Errors name the line (1 is the header).
//! - **JSON**: an array of objects whose keys are the column names; `null` is an empty cell.
//!   Errors name the item (1-based) or, for syntax errors, the line.
//!
//! The columns are documented in [`weight`] and [`news2`].

pub mod news2;
pub mod weight;

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::kalman::ConfigError;

pub use news2::{News2Report, News2Row, analyze_news2};
pub use weight::{
    WeightAnalysisConfig, WeightReport, WeightRow, WeightStep, WeightSummary, analyze_weight,
    analyze_weight_rows, analyze_weight_with, parse_weights,
};

/// The text format of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputFormat {
    /// Comma-separated with a header row.
    Csv,
    /// A JSON array of objects.
    Json,
}

/// Where in the input a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// A line of the text (1-based; in CSV line 1 is the header).
    Line(u64),
    /// An element of the JSON array (1-based).
    Item(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Item(n) => write!(f, "item {n}"),
        }
    }
}

/// The input could not be analyzed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnalyzeError {
    /// A field's value is missing or wrong.
    #[error("{at}, field {field}: {problem}")]
    Field {
        /// Where.
        at: Location,
        /// The column / key.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The text is not CSV / JSON of the expected shape.
    #[error("{at}: {problem}")]
    Syntax {
        /// Where.
        at: Location,
        /// What is wrong.
        problem: String,
    },
    /// No records at all.
    #[error("the input has no records")]
    Empty,
    /// The configuration given with the input is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// One record as named text cells (CSV row or JSON object), before typed parsing.
struct Record {
    at: Location,
    cells: HashMap<String, String>,
}

impl Record {
    fn field_error(&self, field: &'static str, problem: impl Into<String>) -> AnalyzeError {
        AnalyzeError::Field { at: self.at, field, problem: problem.into() }
    }

    /// The trimmed cell, `None` when the column is absent or the cell empty.
    fn cell(&self, field: &str) -> Option<&str> {
        self.cells.get(field).map(|s| s.trim()).filter(|s| !s.is_empty())
    }

    fn required(&self, field: &'static str) -> Result<&str, AnalyzeError> {
        self.cell(field).ok_or_else(|| self.field_error(field, "is required"))
    }

    fn number(&self, field: &'static str) -> Result<f64, AnalyzeError> {
        let s = self.required(field)?;
        s.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| self.field_error(field, format!("'{s}' is not a number")))
    }

    fn time(&self, field: &'static str) -> Result<Option<DateTime<FixedOffset>>, AnalyzeError> {
        self.cell(field)
            .map(|s| {
                DateTime::parse_from_rfc3339(s).map_err(|e| {
                    self.field_error(field, format!("'{s}' is not an RFC 3339 time with an offset ({e})"))
                })
            })
            .transpose()
    }

    fn parsed<T: FromStr>(&self, field: &'static str, expected: &str) -> Result<Option<T>, AnalyzeError> {
        self.cell(field)
            .map(|s| {
                s.parse::<T>().map_err(|_| self.field_error(field, format!("'{s}' is not one of {expected}")))
            })
            .transpose()
    }
}

/// Splits the input into records.
fn records(input: &str, format: InputFormat) -> Result<Vec<Record>, AnalyzeError> {
    let records = match format {
        InputFormat::Csv => csv_records(input)?,
        InputFormat::Json => json_records(input)?,
    };
    if records.is_empty() {
        return Err(AnalyzeError::Empty);
    }
    Ok(records)
}

fn csv_records(input: &str) -> Result<Vec<Record>, AnalyzeError> {
    let syntax = |e: csv::Error| AnalyzeError::Syntax {
        at: Location::Line(e.position().map_or(0, |p| p.line())),
        problem: e.to_string(),
    };
    let mut reader =
        csv::ReaderBuilder::new().trim(csv::Trim::All).comment(Some(b'#')).from_reader(input.as_bytes());
    let header: Vec<String> = reader.headers().map_err(syntax)?.iter().map(str::to_owned).collect();
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row.map_err(syntax)?;
        let line = row.position().map_or(0, |p| p.line());
        let cells = header.iter().cloned().zip(row.iter().map(str::to_owned)).collect();
        out.push(Record { at: Location::Line(line), cells });
    }
    Ok(out)
}

fn json_records(input: &str) -> Result<Vec<Record>, AnalyzeError> {
    let items: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(input).map_err(|e| AnalyzeError::Syntax {
            at: Location::Line(e.line() as u64),
            problem: format!("expected an array of objects: {e}"),
        })?;
    let out = items.into_iter().enumerate().map(|(i, object)| {
        let cells = object
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                (k, text)
            })
            .collect();
        Record { at: Location::Item(i + 1), cells }
    });
    Ok(out.collect())
}

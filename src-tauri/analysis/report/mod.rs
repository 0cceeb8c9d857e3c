//! Text adapters for `vigil analyze weight` and `vigil analyze news2`: CSV or JSON text in, a
//! serde-serializable report out. Pure (they take `&str`; reading the file is the CLI's job).
//!
//! Both formats carry the same named fields:
//! - **CSV**: a header row naming the columns (any order, surrounding spaces trimmed, unknown
//!   columns ignored), then one row per record. Errors name the line (1 is the header).
//! - **JSON**: an array of objects whose keys are the column names; `null` is an empty cell.
//!   Errors name the item (1-based) or, for syntax errors, the line.
//!
//! An input with none of an analysis's value columns (a CSV header, or every JSON object,
//! without any of them) is an error naming the columns it has and the ones expected: `weight`
//! instead of `value_kg` must not become a report of rows with missing values.
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
    /// None of the value columns the analysis reads is in the input.
    #[error("{}", no_value_column(*at, wanted, found, expected))]
    NoValueColumn {
        /// The CSV header's line; `None` for JSON (the keys of all its objects).
        at: Option<Location>,
        /// The value columns, one of which must be there.
        wanted: &'static [&'static str],
        /// The columns (CSV) or keys (JSON) the input has, as shown (escaped, cut).
        found: Vec<String>,
        /// Every column the analysis reads.
        expected: &'static [&'static str],
    },
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

fn no_value_column(at: Option<Location>, wanted: &[&str], found: &[String], expected: &[&str]) -> String {
    let (noun, place) = match at {
        Some(at) => ("column", format!("{at}: ")),
        None => ("key", String::new()),
    };
    let missing = match wanted {
        [one] => format!("no {one} {noun}"),
        many => format!("no {noun} of {}", many.join(", ")),
    };
    let has = if found.is_empty() { "none".to_owned() } else { found.join(", ") };
    let whose = if at.is_some() { "the header has" } else { "the objects have" };
    format!("{place}{missing}: {whose} {has} (expected {noun}s: {})", expected.join(", "))
}

/// The columns an analysis reads: at least one of `values` must be in the input.
pub(crate) struct Columns {
    /// The value columns.
    pub(crate) values: &'static [&'static str],
    /// Every column read, values included, for the error message.
    pub(crate) all: &'static [&'static str],
}

/// At most this many of the input's column names are named in an error.
const SHOWN_COLUMNS: usize = 20;

/// Splits the input into records, after checking that it has at least one value column.
fn records(input: &str, format: InputFormat, columns: &Columns) -> Result<Vec<Record>, AnalyzeError> {
    let (at, names, records) = match format {
        InputFormat::Csv => {
            let (at, names, records) = csv_records(input)?;
            (Some(at), names, records)
        }
        InputFormat::Json => {
            let (names, records) = json_records(input)?;
            (None, names, records)
        }
    };
    if !names.iter().any(|n| columns.values.contains(&n.as_str())) {
        let mut found: Vec<String> =
            names.iter().take(SHOWN_COLUMNS).map(|n| crate::ingest::shown(n.as_bytes())).collect();
        if names.len() > SHOWN_COLUMNS {
            found.push(format!("and {} more", names.len() - SHOWN_COLUMNS));
        }
        return Err(AnalyzeError::NoValueColumn { at, wanted: columns.values, found, expected: columns.all });
    }
    if records.is_empty() {
        return Err(AnalyzeError::Empty);
    }
    Ok(records)
}

/// The header's line and names, and the records.
fn csv_records(input: &str) -> Result<(Location, Vec<String>, Vec<Record>), AnalyzeError> {
    let syntax = |e: csv::Error| AnalyzeError::Syntax {
        at: Location::Line(e.position().map_or(0, |p| p.line())),
        problem: e.to_string(),
    };
    let mut reader =
        csv::ReaderBuilder::new().trim(csv::Trim::All).comment(Some(b'#')).from_reader(input.as_bytes());
    let header: Vec<String> = reader.headers().map_err(syntax)?.iter().map(str::to_owned).collect();
    // The reader skips blank lines and `#` comments before the header; its own position of the
    // header does not count them.
    let skipped =
        input.lines().take_while(|l| l.trim_end_matches('\r').is_empty() || l.starts_with('#')).count();
    let header_at = Location::Line(u64::try_from(skipped).map_or(u64::MAX, |n| n.saturating_add(1)));
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row.map_err(syntax)?;
        let line = row.position().map_or(0, |p| p.line());
        let cells = header.iter().cloned().zip(row.iter().map(str::to_owned)).collect();
        out.push(Record { at: Location::Line(line), cells });
    }
    Ok((header_at, header, out))
}

/// Every key of any object (in first-seen order) and the records.
fn json_records(input: &str) -> Result<(Vec<String>, Vec<Record>), AnalyzeError> {
    let items: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(input).map_err(|e| AnalyzeError::Syntax {
            at: Location::Line(e.line() as u64),
            problem: format!("expected an array of objects: {e}"),
        })?;
    let mut seen = std::collections::HashSet::new();
    let keys: Vec<String> =
        items.iter().flat_map(|object| object.keys()).filter(|k| seen.insert(*k)).cloned().collect();
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
    Ok((keys, out.collect()))
}

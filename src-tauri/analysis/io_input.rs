//! What the text adapters share: the input format and an error that names line and field.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The text format of an adapter's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputFormat {
    /// Comma-separated, a header line first.
    Csv,
    /// JSON (the shape each adapter documents).
    Json,
}

/// The input could not be analysed: where, which field, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct AnalyzeError {
    /// 1-based line, where known.
    pub line: Option<usize>,
    /// The column or JSON field, where known.
    pub field: Option<String>,
    /// What was wrong.
    pub problem: String,
}

impl AnalyzeError {
    pub(crate) fn at(line: Option<usize>, field: Option<&str>, problem: impl Into<String>) -> Self {
        Self { line, field: field.map(str::to_owned), problem: problem.into() }
    }

    pub(crate) fn json(e: &serde_json::Error) -> Self {
        Self::at(Some(e.line()), None, format!("invalid JSON: {e}"))
    }
}

impl fmt::Display for AnalyzeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "{field}: ")?;
        }
        f.write_str(&self.problem)
    }
}

/// Non-empty lines with their 1-based numbers; cells split on commas and trimmed.
pub(crate) fn csv_rows(input: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    input
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l.split(',').map(str::trim).collect()))
}

/// Parses a number cell; empty is `None`.
pub(crate) fn number(cell: &str, line: usize, field: &str) -> Result<Option<f64>, AnalyzeError> {
    if cell.is_empty() {
        return Ok(None);
    }
    cell.parse::<f64>()
        .map(Some)
        .map_err(|_| AnalyzeError::at(Some(line), Some(field), format!("'{cell}' is not a number")))
}

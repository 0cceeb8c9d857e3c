//! Text adapter for `vigil analyze hrv`: RR intervals in, an [`HrvReport`] out.
//!
//! Input, in milliseconds:
//! - CSV: a header line with a column `rr_ms` (other columns are ignored), then one row per beat.
//!   Blank lines are skipped; an empty `rr_ms` cell is an error (a missing beat is not "no beat").
//! - JSON: an array of numbers, e.g. `[812, 790, 805]`.
//!
//! Errors name the line (CSV, or the JSON parser's line) and the field.

use super::hrv::{self, Correction, HrvError, HrvReport};
pub use super::io_input::{AnalyzeError, InputFormat};
use super::io_input::{csv_rows, number};

const FIELD: &str = "rr_ms";

/// Parses RR intervals and computes their HRV (default spectral parameters).
pub fn analyze_hrv(
    input: &str,
    format: InputFormat,
    correction: Correction,
) -> Result<HrvReport, AnalyzeError> {
    let (rr, lines) = match format {
        InputFormat::Csv => parse_csv(input)?,
        InputFormat::Json => {
            let rr: Vec<f64> = serde_json::from_str(input).map_err(|e| AnalyzeError::json(&e))?;
            (rr, Vec::new())
        }
    };
    hrv::analyze(&rr, correction).map_err(|e| {
        let at = |index: usize| lines.get(index).copied();
        match &e {
            HrvError::NotFinite { index }
            | HrvError::NotPositive { index, .. }
            | HrvError::TooLong { index, .. } => {
                let problem = match lines.get(*index) {
                    Some(_) => e.to_string(),
                    None => format!("element {index}: {e}"),
                };
                AnalyzeError::at(at(*index), Some(FIELD), problem)
            }
            HrvError::Empty | HrvError::TooFew { .. } | HrvError::RecordingTooLong { .. } => {
                AnalyzeError::at(None, Some(FIELD), e.to_string())
            }
        }
    })
}

/// Values and the line each came from.
fn parse_csv(input: &str) -> Result<(Vec<f64>, Vec<usize>), AnalyzeError> {
    let mut rows = csv_rows(input);
    let (hline, header) = rows.next().ok_or_else(|| AnalyzeError::at(None, None, "empty input"))?;
    let col = header.iter().position(|h| *h == FIELD).ok_or_else(|| {
        AnalyzeError::at(
            Some(hline),
            None,
            format!("the header has no '{FIELD}' column: {}", header.join(",")),
        )
    })?;
    let (mut rr, mut lines) = (Vec::new(), Vec::new());
    for (line, cells) in rows {
        let cell = cells.get(col).copied().unwrap_or("");
        let v = number(cell, line, FIELD)?
            .ok_or_else(|| AnalyzeError::at(Some(line), Some(FIELD), "empty: every row is one beat"))?;
        rr.push(v);
        lines.push(line);
    }
    Ok((rr, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_json_give_the_same_report() {
        let csv = "time,rr_ms\n0,800\n1,820\n\n2,780\n3,840\n";
        let a = analyze_hrv(csv, InputFormat::Csv, Correction::None).unwrap();
        let b = analyze_hrv("[800, 820, 780, 840]", InputFormat::Json, Correction::None).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.time_domain.nn_count, 4);
    }

    #[test]
    fn errors_name_line_and_field() {
        let e = |s: &str, f| analyze_hrv(s, f, Correction::None).unwrap_err().to_string();
        assert_eq!(e("rr_ms\n800\nabc\n", InputFormat::Csv), "line 3: rr_ms: 'abc' is not a number");
        assert_eq!(
            e("rr_ms\n800\n-3\n", InputFormat::Csv),
            "line 3: rr_ms: RR interval #1 is -3 ms: intervals must be positive"
        );
        assert_eq!(e("rr_ms\n800\n\n,\n", InputFormat::Csv), "line 4: rr_ms: empty: every row is one beat");
        assert_eq!(e("beat\n800\n", InputFormat::Csv), "line 1: the header has no 'rr_ms' column: beat");
        assert_eq!(e("rr_ms\n", InputFormat::Csv), "rr_ms: no RR intervals");
        assert!(e("[800,\n \"x\"]", InputFormat::Json).starts_with("line 2: invalid JSON"));
        assert_eq!(
            e("[800, 0]", InputFormat::Json),
            "rr_ms: element 1: RR interval #1 is 0 ms: intervals must be positive"
        );
    }
}

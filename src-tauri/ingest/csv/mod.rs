//! CSV observations, in two shapes told apart by the header.
//!
//! **Long**: one reading per row; columns `patient,time,kind,value,unit` in any order. `unit` is
//! optional (absent: the kind's unit), `patient` is optional (absent: the import's `--patient`
//! applies; present but empty in a row: that row is rejected, so no reading is silently
//! attributed to another patient).
//!
//! ```csv
//! patient,time,kind,value,unit
//! MRN-1001,2024-03-01T08:00:00+01:00,heart_rate,72,/min
//! MRN-1001,2024-03-01T08:00:00+01:00,body_weight,185,[lb_av]
//! ```
//!
//! **Wide**: one patient (the import's `--patient`), one row per instant, one column per kind;
//! an empty cell is no reading. A header cell may name a unit as `kind[unit]`
//! (`body_weight[[lb_av]]`, `body_temperature[[degF]]`); otherwise values are in the kind's unit.
//!
//! ```csv
//! time,heart_rate,spo2,respiratory_rate,body_temperature
//! 2024-03-01T08:00:00+01:00,72,97,14,36.8
//! 2024-03-01T08:05:00+01:00,75,,15,
//! ```
//!
//! Common to both:
//! - `patient` is an id (UUID) or an MRN ([`PatientRef::parse`]); `kind` is a [`Kind`] name
//!   (case-insensitive); `unit` is UCUM, converted by [`super::units`].
//! - `time` is RFC 3339 with a UTC offset (`Z` or `±HH:MM`); a time without an offset is rejected.
//! - A value is a decimal number, or a FHIR data-absent-reason code (`not-performed`, `error`, ...)
//!   recorded as an explicit absence. Numbers are checked with [`check_plausible`].
//! - Header names are trimmed and case-insensitive. An unknown or duplicate column, two wide
//!   columns of one kind (`heart_rate` and `heart_rate[/min]`: two values for one instant), or a
//!   missing `time` (or `kind`/`value` in the long shape), is [`ParseError::Malformed`].
//! - Each bad row (long) or cell (wide) is one [`Rejection`] at its line, naming the field and
//!   value; the other rows go on. A wide row with a bad time is one rejection for the row.
//! - A UTF-8 byte-order mark, CRLF line ends, quoted fields, blank lines, rows of empty cells
//!   and trailing commas are accepted. A quoted field may not span lines (no value needs a line
//!   break, and it keeps line numbers exact): an unterminated quote rejects its line only.

mod row;
mod time;

use std::io::BufRead;
use std::ops::ControlFlow;

use self::row::{Row, RowReader};
pub(crate) use self::time::TimeParser;
use super::units::ToKind;
use super::{Location, ParseError, ParsedRecord, RecordSink, Rejection, check_plausible};
use crate::domain::{AbsentReason, Kind, ObservationValue, PatientRef, UnknownKind};

/// Parses a CSV file of either shape and reports every reading and rejection to `sink`.
pub fn parse<S: RecordSink + ?Sized>(
    file: &str,
    input: impl BufRead,
    sink: &mut S,
) -> Result<(), ParseError> {
    let mut reader = RowReader::new(input);
    let mut row = Row::default();
    let io = |source| ParseError::Io { file: file.to_owned(), source };
    let header = loop {
        match reader.next(&mut row).map_err(io)? {
            None => return Err(malformed(file, 1, "the file is empty: no header line".into())),
            Some(Err(reason)) => return Err(malformed(file, row.line, format!("header: {reason}"))),
            Some(Ok(())) if is_blank(&row) => continue,
            Some(Ok(())) => break Header::parse(&row).map_err(|reason| malformed(file, row.line, reason))?,
        }
    };
    let mut rows = Rows { file, times: TimeParser::default() };
    while let Some(split) = reader.next(&mut row).map_err(io)? {
        let flow = match split {
            Err(reason) => rows.reject(sink, row.line, reason.to_owned()),
            Ok(()) if is_blank(&row) => continue,
            Ok(()) => match &header {
                Header::Long(columns) => rows.long(columns, &row, sink),
                Header::Wide(columns) => rows.wide(columns, &row, sink),
            },
        };
        if flow.is_break() {
            return Err(ParseError::Cancelled);
        }
    }
    Ok(())
}

fn malformed(file: &str, line: u64, reason: String) -> ParseError {
    ParseError::Malformed { location: Location::line(file, line), reason }
}

fn is_blank(row: &Row) -> bool {
    row.iter().all(|f| f.trim_ascii().is_empty())
}

pub(crate) use super::shown;

/// Column positions of the long shape.
#[derive(Debug)]
struct LongColumns {
    patient: Option<usize>,
    time: usize,
    kind: usize,
    value: usize,
    unit: Option<usize>,
    width: usize,
}

/// Column positions and units of the wide shape.
#[derive(Debug)]
struct WideColumns {
    time: usize,
    /// The header's width: later cells must be empty (a trailing comma).
    width: usize,
    kinds: Vec<(usize, ToKind)>,
}

#[derive(Debug)]
enum Header {
    Long(LongColumns),
    Wide(WideColumns),
}

impl Header {
    fn parse(row: &Row) -> Result<Header, String> {
        let mut names = Vec::with_capacity(row.len());
        for (i, raw) in row.iter().enumerate() {
            let name = std::str::from_utf8(raw)
                .map_err(|_| format!("header column {} is not UTF-8 text", i + 1))?
                .trim()
                .to_owned();
            names.push(name);
        }
        while names.last().is_some_and(String::is_empty) {
            names.pop();
        }
        if let Some(i) = names.iter().position(String::is_empty) {
            return Err(format!("header column {} has no name", i + 1));
        }
        let mut seen = std::collections::HashSet::with_capacity(names.len());
        for name in &names {
            if !seen.insert(name.to_ascii_lowercase()) {
                return Err(format!("header column '{}' appears twice", shown(name.as_bytes())));
            }
        }
        let find = |wanted: &str| names.iter().position(|n| n.eq_ignore_ascii_case(wanted));
        let time = find("time").ok_or_else(|| "the header has no 'time' column".to_owned())?;
        if find("kind").is_some() || find("value").is_some() {
            let long = ["patient", "time", "kind", "value", "unit"];
            if let Some(name) = names.iter().find(|n| !long.iter().any(|l| n.eq_ignore_ascii_case(l))) {
                return Err(format!(
                    "unknown column '{}' (the long shape has columns patient, time, kind, value, unit)",
                    shown(name.as_bytes())
                ));
            }
            let required =
                |name: &str| find(name).ok_or_else(|| format!("the header has no '{name}' column"));
            return Ok(Header::Long(LongColumns {
                patient: find("patient"),
                time,
                kind: required("kind")?,
                value: required("value")?,
                unit: find("unit"),
                width: names.len(),
            }));
        }
        let mut kinds = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if i == time {
                continue;
            }
            let (kind_name, unit) = match name.split_once('[') {
                Some((kind, rest)) => match rest.strip_suffix(']') {
                    Some(unit) => (kind.trim(), Some(unit.trim())),
                    None => {
                        return Err(format!(
                            "column '{}': a unit is written kind[unit]",
                            shown(name.as_bytes())
                        ));
                    }
                },
                None => (name.as_str(), None),
            };
            let kind = kind_from(kind_name.as_bytes()).map_err(|e| format!("unknown column: {e}"))?;
            let convert = ToKind::new(kind, unit.unwrap_or(kind.unit()))
                .map_err(|e| format!("column '{}': {e}", shown(name.as_bytes())))?;
            // Two columns of one kind (`heart_rate` and `heart_rate[/min]`) would store two
            // different values for the same instant: which one is the reading is a guess.
            if let Some(&(other, _)) = kinds.iter().find(|(_, c): &&(usize, ToKind)| c.kind() == kind) {
                return Err(format!(
                    "columns '{}' and '{}' are both {kind}: one kind, one column",
                    shown(names[other].as_bytes()),
                    shown(name.as_bytes())
                ));
            }
            kinds.push((i, convert));
        }
        if kinds.is_empty() {
            return Err(
                "the header has only a 'time' column: name kinds (wide) or kind and value (long)".into()
            );
        }
        Ok(Header::Wide(WideColumns { time, width: names.len(), kinds }))
    }
}

fn kind_from(bytes: &[u8]) -> Result<Kind, UnknownKind> {
    let bytes = bytes.trim_ascii();
    Kind::ALL
        .into_iter()
        .find(|k| k.as_str().as_bytes().eq_ignore_ascii_case(bytes))
        .ok_or_else(|| UnknownKind(shown(bytes)))
}

/// A cell's value: a number, or a data-absent-reason code. `field` names it in the reason.
fn value_from(field: &str, bytes: &[u8]) -> Result<ValueText, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| format!("{field}: is not UTF-8 text"))?.trim();
    if text.is_empty() {
        return Err(format!("{field}: is empty"));
    }
    if let Ok(v) = text.parse::<f64>() {
        return Ok(ValueText::Number(v));
    }
    match text.parse::<AbsentReason>() {
        Ok(reason) => Ok(ValueText::Absent(reason)),
        Err(_) => Err(format!(
            "{field}: '{}' is not a number (nor a data-absent-reason code such as not-performed)",
            shown(text.as_bytes())
        )),
    }
}

enum ValueText {
    Number(f64),
    Absent(AbsentReason),
}

fn value_in_kind_unit(convert: &ToKind, value: ValueText) -> Result<ObservationValue, String> {
    match value {
        ValueText::Number(v) => check_plausible(convert.kind(), convert.apply(v)),
        ValueText::Absent(reason) => Ok(ObservationValue::Absent(reason)),
    }
}

struct Rows<'f> {
    file: &'f str,
    times: TimeParser,
}

impl Rows<'_> {
    fn reject<S: RecordSink + ?Sized>(&self, sink: &mut S, line: u64, reason: String) -> ControlFlow<()> {
        sink.reject(Rejection { location: Location::line(self.file, line), reason })
    }

    fn long<S: RecordSink + ?Sized>(&mut self, c: &LongColumns, row: &Row, sink: &mut S) -> ControlFlow<()> {
        let line = row.line;
        match self.long_record(c, row) {
            Ok(record) => sink.record(record),
            Err(reason) => self.reject(sink, line, reason),
        }
    }

    fn long_record(&mut self, c: &LongColumns, row: &Row) -> Result<ParsedRecord, String> {
        let extra = row.iter().skip(c.width).any(|f| !f.trim_ascii().is_empty());
        if row.len() < c.width || extra {
            return Err(format!("the row has {} fields, the header {}", row.len(), c.width));
        }
        let field = |i: usize| row.get(i).unwrap_or_default();
        let patient = match c.patient {
            None => None,
            Some(i) => {
                let text =
                    std::str::from_utf8(field(i)).map_err(|_| "patient: is not UTF-8 text".to_owned())?;
                if text.trim().is_empty() {
                    return Err("patient: is empty".into());
                }
                // Vigil's own export quotes a cell that a spreadsheet would run as a formula
                // (`'=...`, export::neutralise_formula); the MRN is the text after the quote.
                Some(PatientRef::parse(crate::export::unneutralise_formula(text)))
            }
        };
        let effective = self.times.parse("time", field(c.time).trim_ascii())?;
        let kind = kind_from(field(c.kind)).map_err(|e| format!("kind: {e}"))?;
        let value = value_from("value", field(c.value))?;
        let unit = c.unit.map(|i| field(i).trim_ascii()).unwrap_or_default();
        let convert = if unit.is_empty() || unit == kind.unit().as_bytes() {
            ToKind::new(kind, kind.unit())?
        } else {
            let unit = std::str::from_utf8(unit).map_err(|_| "unit: is not UTF-8 text".to_owned())?;
            ToKind::new(kind, unit)?
        };
        let value = value_in_kind_unit(&convert, value)?;
        Ok(ParsedRecord { patient, kind, value, effective })
    }

    fn wide<S: RecordSink + ?Sized>(&mut self, c: &WideColumns, row: &Row, sink: &mut S) -> ControlFlow<()> {
        let line = row.line;
        let width = c.width;
        if row.iter().skip(width).any(|f| !f.trim_ascii().is_empty()) {
            return self.reject(sink, line, format!("the row has {} fields, the header {width}", row.len()));
        }
        let effective = match self.times.parse("time", row.get(c.time).unwrap_or_default().trim_ascii()) {
            Ok(t) => t,
            Err(reason) => return self.reject(sink, line, reason),
        };
        for (i, convert) in &c.kinds {
            let cell = row.get(*i).unwrap_or_default();
            if cell.trim_ascii().is_empty() {
                continue;
            }
            let kind = convert.kind();
            let value = value_from(kind.as_str(), cell).and_then(|v| value_in_kind_unit(convert, v));
            match value {
                Ok(value) => sink.record(ParsedRecord { patient: None, kind, value, effective })?,
                Err(reason) => self.reject(sink, line, reason)?,
            }
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests;

//! File importers: pure parsers from bytes to records and rejections.
//!
//! Architecture invariant: a parser reads from a `BufRead` and reports to a [`RecordSink`]; it
//! never touches the store, the clock or the file system, and never panics on any input. The
//! import pipeline (`crate::workstation`) resolves patients, deduplicates and commits a file's
//! accepted records in one transaction; progress and cancellation wrap the reader and the sink.

pub mod apple_health;
pub mod fit;

use std::fmt;
use std::ops::ControlFlow;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::{Kind, ObservationValue, PatientRef, Sex};

pub mod csv;
pub mod detect;
pub mod fhir;
pub mod units;

pub use detect::{Format, detect};

/// Where in a file a record or a rejection came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The file name as the user gave it.
    pub file: String,
    /// 1-based line, where the format has lines.
    pub line: Option<u64>,
    /// The element, resource or record within the file (`Observation/bp-1 component[0]`,
    /// `Record #1234`, `hrv message 17`), where that says more than a line.
    pub element: Option<String>,
}

impl Location {
    /// A location at a line.
    pub fn line(file: &str, line: u64) -> Self {
        Self { file: file.to_owned(), line: Some(line), element: None }
    }

    /// A location at an element.
    pub fn element(file: &str, element: impl Into<String>) -> Self {
        Self { file: file.to_owned(), line: None, element: Some(element.into()) }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(element) = &self.element {
            write!(f, " {element}")?;
        }
        Ok(())
    }
}

/// A record that was not accepted, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// Where.
    pub location: Location,
    /// Why, in words that name the field and the offending value.
    pub reason: String,
}

/// One accepted reading, converted to the kind's unit and checked against [`Kind::plausible`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedRecord {
    /// The patient named by the file itself (a CSV `patient` column, a FHIR subject resolved to
    /// an MRN); `None` when the file does not say, and the import's `--patient` applies.
    pub patient: Option<PatientRef>,
    /// What.
    pub kind: Kind,
    /// The value in `kind.unit()`, or an explicit absence.
    pub value: ObservationValue,
    /// When, with the file's own UTC offset.
    pub effective: DateTime<FixedOffset>,
}

/// A patient described by the file (a FHIR Patient resource), matched or created by MRN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParsedPatient {
    /// The identifier used as MRN.
    pub mrn: String,
    /// Name, formatted "Given Family".
    pub name: String,
    /// Birth date.
    pub birth_date: Option<NaiveDate>,
    /// Administrative sex.
    pub sex: Sex,
}

/// Where a parser sends what it finds. Returning `ControlFlow::Break` from any call stops the
/// parse (cancellation); the parser then returns [`ParseError::Cancelled`].
pub trait RecordSink {
    /// An accepted reading.
    fn record(&mut self, record: ParsedRecord) -> ControlFlow<()>;
    /// A rejected one; parsing continues.
    fn reject(&mut self, rejection: Rejection) -> ControlFlow<()>;
    /// A patient described by the file.
    fn patient(&mut self, patient: ParsedPatient) -> ControlFlow<()> {
        let _ = patient;
        ControlFlow::Continue(())
    }
    /// Asked between resources while a parser reads without reporting (the FHIR importer's
    /// first reading of a file), so a cancel is heard there too.
    fn keep_going(&mut self) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
}

/// Why a whole file could not be parsed. Bad records are [`Rejection`]s, not errors; an error
/// means none of the file's records may be committed.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// Reading failed.
    #[error("{file}: read failed: {source}")]
    Io {
        /// File name.
        file: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not of the format, or its structure is broken beyond the record level.
    #[error("{location}: {reason}")]
    Malformed {
        /// Where the structure broke.
        location: Location,
        /// What was wrong.
        reason: String,
    },
    /// The sink asked to stop.
    #[error("cancelled")]
    Cancelled,
}

/// Choices a file cannot make itself, given by the person importing it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// For FIT files: which user of a shared weight scale.
    pub fit: fit::FitOptions,
}

/// Parses a whole file in `format`, reporting to `sink`. The reader is seekable because a zip
/// archive (Apple Health's `export.zip`) is read from its end.
pub fn parse<R, S>(format: Format, file: &str, reader: R, sink: &mut S) -> Result<(), ParseError>
where
    R: std::io::BufRead + std::io::Seek,
    S: RecordSink + ?Sized,
{
    parse_with(format, file, reader, &ParseOptions::default(), sink)
}

/// [`parse`] with the choices of [`ParseOptions`].
pub fn parse_with<R, S>(
    format: Format,
    file: &str,
    reader: R,
    options: &ParseOptions,
    sink: &mut S,
) -> Result<(), ParseError>
where
    R: std::io::BufRead + std::io::Seek,
    S: RecordSink + ?Sized,
{
    match format {
        Format::Csv => csv::parse(file, reader, sink),
        Format::Fhir => fhir::parse(file, reader, sink),
        Format::AppleHealth => {
            // A zip archive starts with "PK\x03\x04"; anything else is the XML itself.
            let mut reader = reader;
            let zipped = reader
                .fill_buf()
                .map_err(|source| ParseError::Io { file: file.to_owned(), source })?
                .starts_with(b"PK\x03\x04");
            if zipped {
                apple_health::parse_export_zip(reader, file, sink).map(drop)
            } else {
                apple_health::parse_export_xml(reader, file, sink).map(drop)
            }
        }
        Format::Fit => fit::parse_fit(reader, file, &options.fit, sink).map(drop),
    }
}

/// A sink that keeps everything in memory: for tests, `--dry-run` and small files.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct CollectingSink {
    /// Accepted records, in file order.
    pub records: Vec<ParsedRecord>,
    /// Rejections, in file order.
    pub rejections: Vec<Rejection>,
    /// Patients, in file order.
    pub patients: Vec<ParsedPatient>,
}

impl RecordSink for CollectingSink {
    fn record(&mut self, record: ParsedRecord) -> ControlFlow<()> {
        self.records.push(record);
        ControlFlow::Continue(())
    }
    fn reject(&mut self, rejection: Rejection) -> ControlFlow<()> {
        self.rejections.push(rejection);
        ControlFlow::Continue(())
    }
    fn patient(&mut self, patient: ParsedPatient) -> ControlFlow<()> {
        self.patients.push(patient);
        ControlFlow::Continue(())
    }
}

/// Characters of a file's value echoed in a reason; longer values are cut (a 150 MB attribute
/// must not become 150 MB of report).
pub const SHOWN_CHARS: usize = 60;

/// A value from a file as shown in a reason or on a terminal: lossy UTF-8, at most
/// [`SHOWN_CHARS`] characters (then `…`), control characters escaped (`\u{1b}`), so file
/// content can neither flood a report nor drive the terminal (retitle it, move the cursor).
pub fn shown(bytes: &[u8]) -> String {
    excerpt(bytes, SHOWN_CHARS)
}

/// [`shown`] with another length: for a message built by a library from the file's content
/// (an XML syntax error naming a tag), which may be longer than one value but not unbounded.
pub fn excerpt(bytes: &[u8], max_chars: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len().min(max_chars + 8));
    let mut chars = text.chars();
    for c in chars.by_ref().take(max_chars) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// Checks a converted value against the kind's plausible range; the error text is the
/// rejection reason every importer uses, so the same bad value reads the same in every format.
pub fn check_plausible(kind: Kind, value: f64) -> Result<ObservationValue, String> {
    if !value.is_finite() {
        return Err(format!("{kind}: value {value} is not a finite number"));
    }
    let range = kind.plausible();
    if !range.contains(&value) {
        return Err(format!(
            "{kind}: {value} {unit} is outside the plausible range {lo}..={hi} {unit}",
            unit = kind.unit(),
            lo = range.start(),
            hi = range.end()
        ));
    }
    Ok(ObservationValue::Quantity(value))
}

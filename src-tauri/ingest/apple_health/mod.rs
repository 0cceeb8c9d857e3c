//! Apple Health exports: `export.xml`, and the `export.zip` the Health app shares.
//!
//! The file is read as a stream of XML events (quick-xml) with one reused buffer: no DOM, no
//! per-attribute allocation, memory flat however large the export (real ones reach several GB).
//! Text between elements is skipped without being kept (Vigil reads none), and one piece of
//! markup may hold at most 1 MiB (`scan::MAX_MARKUP_BYTES`): a zip whose `export.xml` inflates
//! to gigabytes of white space, or a tag with a 150 MB attribute, costs no more memory than that.
//!
//! # What is imported, and how
//!
//! | `Record type=`                                 | kind               | units accepted                 |
//! |------------------------------------------------|--------------------|--------------------------------|
//! | `HKQuantityTypeIdentifierHeartRate`            | `heart_rate`       | `count/min`, `count/s`         |
//! | `HKQuantityTypeIdentifierHeartRateVariabilitySDNN` | `hrv_sdnn`     | `ms`, `s`                      |
//! | `HKQuantityTypeIdentifierOxygenSaturation`     | `spo2`             | `%` holding a fraction 0-1     |
//! | `HKQuantityTypeIdentifierRespiratoryRate`      | `respiratory_rate` | `count/min`, `count/s`         |
//! | `HKQuantityTypeIdentifierBodyMass`             | `body_weight`      | `kg`, `g`, `lb`, `st`, `oz`    |
//! | `HKQuantityTypeIdentifierBodyTemperature`      | `body_temperature` | `degC`, `degF`, `K`            |
//! | `HKQuantityTypeIdentifierBloodPressureSystolic` / `Diastolic` | `bp_systolic` / `bp_diastolic` | `mmHg`, `kPa` |
//! | `HKQuantityTypeIdentifierStepCount`            | `steps`            | `count`                        |
//!
//! - **Time.** `startDate` (`2019-03-21 08:15:00 -0700`) is the effective time, with its offset
//!   kept. `endDate` is not read: for instantaneous samples it equals `startDate`; for step
//!   counts it closes the interval the count covers, which a [`ParsedRecord`] cannot carry, so a
//!   step record stands at the start of its interval (daily sums are unaffected).
//! - **Oxygen saturation** is exported by HealthKit as a fraction with unit `%` (`value="0.97"`);
//!   it is multiplied by 100. A value above 1 is rejected, not guessed at.
//! - **Blood pressure.** The export's own DTD says: "Any Records that appear as children of a
//!   correlation also appear as top-level records in this document." Each systolic/diastolic
//!   reading is therefore emitted once: top-level records are emitted, and a record inside a
//!   `Correlation type="HKCorrelationTypeIdentifierBloodPressure"` is emitted only if no record
//!   with the same kind, instant and value was already seen (so a file written by a tool that
//!   puts readings only inside correlations still imports them). The set of seen readings is
//!   the only state that grows with the file, by 16 bytes per blood-pressure reading.
//! - **Beat-to-beat data.** An HRV record may hold a `HeartRateVariabilityMetadataList` of
//!   `<InstantaneousBeatsPerMinute bpm="78" time="8:15:02.34 AM"/>`. Each becomes an
//!   `rr_interval` of `60000 / bpm` ms (the interval ending at that beat): RR intervals are what
//!   HRV analysis needs. Apple writes `bpm` as a whole number, so each interval carries the
//!   rounding of the bpm (about ±5 ms at 75 bpm). `time` is a bare clock time in the exporting
//!   phone's locale and time zone, which need not be the record's offset (real exports show beats
//!   at 6:14 PM inside a record dated 19:14 -0400). A beat is therefore placed at the record's
//!   `startDate` plus its clock distance from the start's clock time, wrapped across midnight,
//!   less any whole quarter-hour zone difference, which is measured on the list's first beat.
//!   Beats of a record whose `startDate` is unusable are dropped with that record's rejection;
//!   a beat more than an hour from the start after that correction is rejected.
//! - **Everything else is skipped, not rejected**: the dozens of other record types (counted by
//!   type in [`AppleHealthSummary::skipped_types`]), `Workout`, `ActivitySummary`, `Me` (it
//!   names no patient: the import's `--patient` applies), and records nested anywhere but
//!   directly under `HealthData` or a blood-pressure correlation.
//! - **Rejections** name the line (lines are counted as the stream is consumed), the record as
//!   `Record #n <type>` (n counts every `Record` element from 1), the attribute and the value.
//! - **Whole-file errors**: a file that is not XML, whose root is not `HealthData`, that breaks
//!   XML syntax, or that ends before `</HealthData>` (a truncated copy) is
//!   [`ParseError::Malformed`]; none of its records may be committed.

mod scan;
mod values;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Seek};
use std::ops::ControlFlow;

use chrono::{DateTime, Duration, FixedOffset, Timelike};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use self::scan::{Attributes, Capped, LineCounter, MAX_MARKUP_BYTES};
use self::values::{DAY_MS, RecordType, parse_date, parse_number, parse_time_of_day};
use super::{Location, ParseError, ParsedRecord, RecordSink, Rejection, check_plausible, shown};
use crate::domain::{Kind, ObservationValue};

/// Where the Health app puts the export inside `export.zip`.
pub const EXPORT_XML_IN_ZIP: &str = "apple_health_export/export.xml";

/// What a parse saw besides the records and rejections it reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppleHealthSummary {
    /// `Record` elements examined, of every type: those directly under `HealthData` or inside a
    /// blood-pressure correlation.
    pub records_seen: u64,
    /// Records of types Vigil does not import, by HealthKit type identifier.
    pub skipped_types: BTreeMap<String, u64>,
    /// Blood-pressure records inside correlations that repeated a top-level record.
    pub correlation_duplicates: u64,
}

/// Parses an `export.xml` from a stream. Give it a large buffer (1 MiB is good): the parser
/// itself copies only one event at a time.
pub fn parse_export_xml<R, S>(reader: R, file: &str, sink: &mut S) -> Result<AppleHealthSummary, ParseError>
where
    R: BufRead,
    S: RecordSink + ?Sized,
{
    Parser::new(file, sink).run(reader)
}

/// Parses the `export.zip` the Health app shares: finds [`EXPORT_XML_IN_ZIP`] (or, failing
/// that, the entry named `export.xml` in another folder; never `export_cda.xml`) and streams it
/// decompressed. An archive with more than one entry named `export.xml` is refused: which is the
/// export would be a guess. Locations name the entry as `export.zip!/apple_health_export/export.xml`.
pub fn parse_export_zip<R, S>(reader: R, file: &str, sink: &mut S) -> Result<AppleHealthSummary, ParseError>
where
    R: Read + Seek,
    S: RecordSink + ?Sized,
{
    let archive = zip::ZipArchive::new(reader).map_err(|e| zip_error(file, e))?;
    // The zip crate keeps only the last of entries with one name, so two `export.xml` entries
    // are counted in the central directory itself.
    let directory = archive.central_directory_start();
    let mut reader = archive.into_inner();
    let exports = scan::export_xml_entries(&mut reader, directory).map_err(|e| zip_error(file, e.into()))?;
    if exports.len() > 1 {
        return Err(ParseError::Malformed {
            location: Location { file: file.to_owned(), line: None, element: None },
            reason: format!(
                "the archive holds {} entries named export.xml ({}): which one is the export is ambiguous",
                exports.len(),
                exports.iter().map(|n| shown(n.as_bytes())).collect::<Vec<_>>().join(", ")
            ),
        });
    }
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| zip_error(file, e))?;
    let index = archive
        .index_for_name(EXPORT_XML_IN_ZIP)
        .or_else(|| {
            (0..archive.len()).find(|&i| {
                archive.name_for_index(i).is_some_and(|n| n.rsplit('/').next() == Some("export.xml"))
            })
        })
        .ok_or_else(|| ParseError::Malformed {
            location: Location { file: file.to_owned(), line: None, element: None },
            reason: format!("the archive holds no {EXPORT_XML_IN_ZIP}: not an Apple Health export"),
        })?;
    let entry = archive.by_index(index).map_err(|e| zip_error(file, e))?;
    let name = format!("{file}!/{}", entry.name());
    parse_export_xml(BufReader::with_capacity(1 << 20, entry), &name, sink)
}

fn zip_error(file: &str, error: zip::result::ZipError) -> ParseError {
    match error {
        zip::result::ZipError::Io(source) if source.kind() != std::io::ErrorKind::InvalidData => {
            ParseError::Io { file: file.to_owned(), source }
        }
        other => ParseError::Malformed {
            location: Location { file: file.to_owned(), line: None, element: None },
            reason: format!("not a readable zip archive: {other}"),
        },
    }
}

/// An HRV record whose beat list is being read.
struct OpenHrv {
    /// Depth of the `Record` element.
    depth: u32,
    record_no: u64,
    /// `startDate`, if it parsed.
    start: Option<DateTime<FixedOffset>>,
    /// Zone difference between the beats' clock and `startDate`, set by the first beat.
    shift_ms: Option<i64>,
    beat_no: u64,
    in_list: bool,
}

/// The attributes of a `Record` that matter, as raw bytes.
#[derive(Default)]
struct RecordAttrs<'a> {
    unit: Option<&'a [u8]>,
    value: Option<&'a [u8]>,
    start: Option<&'a [u8]>,
}

struct Parser<'s, S: ?Sized> {
    file: &'s str,
    sink: &'s mut S,
    summary: AppleHealthSummary,
    skipped: HashMap<Vec<u8>, u64>,
    /// The last skipped type and how many of it were seen in a row, not yet in `skipped`.
    last_skipped: (Vec<u8>, u64),
    bp_seen: HashSet<(Kind, i64, u64)>,
    /// Depth of the element whose children the next event sits among (0: outside the root).
    depth: u32,
    root_seen: bool,
    /// Depth of an open blood-pressure `Correlation`.
    correlation: Option<u32>,
    hrv: Option<OpenHrv>,
    /// Line of the event being handled.
    line: u64,
}

/// Why the parse stops early.
enum Stop {
    /// The sink asked to.
    Cancelled,
    /// The document's structure is not an export's.
    Malformed(&'static str),
}

impl<'s, S: RecordSink + ?Sized> Parser<'s, S> {
    fn new(file: &'s str, sink: &'s mut S) -> Self {
        Self {
            file,
            sink,
            summary: AppleHealthSummary::default(),
            skipped: HashMap::new(),
            last_skipped: (Vec::new(), 0),
            bp_seen: HashSet::new(),
            depth: 0,
            root_seen: false,
            correlation: None,
            hrv: None,
            line: 1,
        }
    }

    fn run<R: BufRead>(mut self, reader: R) -> Result<AppleHealthSummary, ParseError> {
        let counter = LineCounter { inner: reader, newlines: 0 };
        let mut reader = Reader::from_reader(Capped { inner: counter, left: usize::MAX, exceeded: false });
        self.check_looks_like_xml(&mut reader.get_mut().inner)?;
        let mut buf = Vec::with_capacity(4096);
        // Text is skipped here, outside the XML reader, so quick-xml sees only markup; its byte
        // positions then miss the skipped bytes, which are added back for error messages.
        let mut skipped = 0u64;
        loop {
            let capped = reader.get_mut();
            match scan::skip_text(&mut capped.inner) {
                Ok(Ok(n)) => skipped += n,
                Ok(Err(reason)) => {
                    self.line = capped.inner.newlines + 1;
                    return Err(self.malformed(reason));
                }
                Err(e) => return Err(self.io_error(e)),
            }
            capped.left = MAX_MARKUP_BYTES;
            self.line = capped.inner.newlines + 1;
            let event = match reader.read_event_into(&mut buf) {
                Ok(event) => event,
                Err(_) if reader.get_ref().exceeded => {
                    return Err(self.malformed(&format!(
                        "an element is longer than {} MiB: the file is corrupt or not an export",
                        MAX_MARKUP_BYTES >> 20
                    )));
                }
                Err(error) => return Err(self.xml_error(error, reader.error_position() + skipped)),
            };
            let flow = match event {
                Event::Start(e) => {
                    let flow = self.element(&e, false);
                    self.depth += 1;
                    flow
                }
                Event::Empty(e) => self.element(&e, true),
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    self.close(self.depth);
                    Ok(())
                }
                Event::Eof => break,
                _ => Ok(()),
            };
            match flow {
                Ok(()) => {}
                Err(Stop::Cancelled) => return Err(ParseError::Cancelled),
                Err(Stop::Malformed(reason)) => return Err(self.malformed(reason)),
            }
            buf.clear();
        }
        if !self.root_seen {
            return Err(self.malformed("no <HealthData> element: not an Apple Health export"));
        }
        if self.depth > 0 {
            return Err(self.malformed("the file ends before </HealthData>: it is truncated"));
        }
        self.flush_skipped();
        let mut summary = self.summary;
        summary.skipped_types =
            self.skipped.into_iter().map(|(k, n)| (String::from_utf8_lossy(&k).into_owned(), n)).collect();
        Ok(summary)
    }

    /// Refuses at once a stream that does not start with markup (after a BOM and whitespace),
    /// rather than buffering a large binary file as one text node.
    fn check_looks_like_xml<R: BufRead>(&self, reader: &mut R) -> Result<(), ParseError> {
        loop {
            let buf = reader.fill_buf().map_err(|e| self.io_error(e))?;
            let Some(&first) = buf.first() else {
                return Err(self.malformed("the file is empty"));
            };
            if first.is_ascii_whitespace() {
                reader.consume(1);
                continue;
            }
            if buf.starts_with(b"\xEF\xBB\xBF") || first == b'<' {
                return Ok(());
            }
            return Err(self.malformed("the file does not start with XML markup: not an Apple Health export"));
        }
    }

    fn element(&mut self, e: &BytesStart<'_>, empty: bool) -> Result<(), Stop> {
        let name = e.local_name();
        let name = name.as_ref();
        if self.depth == 0 {
            if self.root_seen {
                return Err(Stop::Malformed("an element follows </HealthData>"));
            }
            if name != b"HealthData" {
                return Err(Stop::Malformed(
                    "the root element is not <HealthData>: not an Apple Health export",
                ));
            }
            self.root_seen = true;
            return Ok(());
        }
        if let Some(hrv) = &mut self.hrv {
            if self.depth == hrv.depth + 1 && name == b"HeartRateVariabilityMetadataList" && !empty {
                hrv.in_list = true;
                return Ok(());
            }
            if hrv.in_list && self.depth == hrv.depth + 2 && name == b"InstantaneousBeatsPerMinute" {
                return self.beat(e);
            }
            return Ok(());
        }
        match (self.depth, name) {
            (1, b"Record") => self.record(e, empty, false),
            (1, b"Correlation") if !empty => {
                let is_bp = Attributes::new(e.attributes_raw())
                    .flatten()
                    .any(|(k, v)| k == b"type" && v == b"HKCorrelationTypeIdentifierBloodPressure");
                if is_bp {
                    self.correlation = Some(1);
                }
                Ok(())
            }
            (2, b"Record") if self.correlation == Some(1) => self.record(e, empty, true),
            _ => Ok(()),
        }
    }

    /// An element at `depth` closed.
    fn close(&mut self, depth: u32) {
        if let Some(hrv) = &mut self.hrv {
            if depth == hrv.depth {
                self.hrv = None;
            } else if depth == hrv.depth + 1 {
                hrv.in_list = false;
            }
        }
        if self.correlation == Some(depth) {
            self.correlation = None;
        }
    }

    fn record(&mut self, e: &BytesStart<'_>, empty: bool, in_correlation: bool) -> Result<(), Stop> {
        self.summary.records_seen += 1;
        let record_no = self.summary.records_seen;
        let mut attrs = RecordAttrs::default();
        let mut record_type = None;
        for attr in Attributes::new(e.attributes_raw()) {
            let Ok((key, value)) = attr else {
                return self.reject_record(
                    record_no,
                    "?",
                    "the record's attributes are not well formed".into(),
                );
            };
            match key {
                b"type" => {
                    record_type = RecordType::from_identifier(value);
                    if record_type.is_none() {
                        // Most of a real export: skip at once, without reading the rest.
                        self.count_skipped(value);
                        return Ok(());
                    }
                }
                b"unit" => attrs.unit = Some(value),
                b"value" => attrs.value = Some(value),
                b"startDate" => attrs.start = Some(value),
                _ => {}
            }
        }
        let Some(record_type) = record_type else {
            return self.reject_record(record_no, "?", "type: missing".into());
        };
        let type_id = record_type.identifier();
        let start = attrs.start.map(parse_date);
        if record_type == RecordType::HeartRateVariabilitySdnn && !empty {
            self.hrv = Some(OpenHrv {
                depth: self.depth,
                record_no,
                start: start.flatten(),
                shift_ms: None,
                beat_no: 0,
                in_list: false,
            });
        }
        let effective = match (attrs.start, start.flatten()) {
            (None, _) => return self.reject_record(record_no, type_id, "startDate: missing".into()),
            (Some(raw), None) => {
                let reason =
                    format!("startDate: '{}' is not a date like '2019-03-21 08:15:00 -0700'", shown(raw));
                return self.reject_record(record_no, type_id, reason);
            }
            (Some(_), Some(date)) => date,
        };
        let Some(raw_value) = attrs.value else {
            return self.reject_record(record_no, type_id, "value: missing".into());
        };
        let Some(number) = parse_number(raw_value) else {
            let reason = format!("value: '{}' is not a number", shown(raw_value));
            return self.reject_record(record_no, type_id, reason);
        };
        let Some(unit) = attrs.unit else {
            return self.reject_record(record_no, type_id, "unit: missing".into());
        };
        let kind = record_type.kind();
        let value = match record_type.to_kind_unit(unit, number).and_then(|v| check_plausible(kind, v)) {
            Ok(value) => value,
            Err(reason) => return self.reject_record(record_no, type_id, reason),
        };
        if matches!(kind, Kind::BpSystolic | Kind::BpDiastolic) {
            let bits = match value {
                ObservationValue::Quantity(v) => v.to_bits(),
                _ => 0,
            };
            let fresh = self.bp_seen.insert((kind, effective.timestamp_millis(), bits));
            if !fresh && in_correlation {
                self.summary.correlation_duplicates += 1;
                return Ok(());
            }
        }
        self.emit(ParsedRecord { patient: None, kind, value, effective })
    }

    fn beat(&mut self, e: &BytesStart<'_>) -> Result<(), Stop> {
        let Some(hrv) = &mut self.hrv else { return Ok(()) };
        hrv.beat_no += 1;
        let (record_no, beat_no) = (hrv.record_no, hrv.beat_no);
        // Without a startDate the record was rejected already, and its beats cannot be placed.
        let Some(start) = hrv.start else { return Ok(()) };
        let (mut bpm, mut time) = (None, None);
        for (key, value) in Attributes::new(e.attributes_raw()).flatten() {
            match key {
                b"bpm" => bpm = Some(value),
                b"time" => time = Some(value),
                _ => {}
            }
        }
        let rr = match bpm {
            None => Err("bpm: missing".to_owned()),
            Some(raw) => match parse_number(raw) {
                Some(bpm) if bpm > 0.0 => check_plausible(Kind::RrInterval, 60_000.0 / bpm)
                    .map_err(|reason| format!("bpm: {} gives {reason}", shown(raw))),
                _ => Err(format!("bpm: '{}' is not a positive number", shown(raw))),
            },
        };
        let clock = match time {
            None => Err("time: missing".to_owned()),
            Some(raw) => parse_time_of_day(raw)
                .ok_or_else(|| format!("time: '{}' is not a clock time like '8:15:02.34 AM'", shown(raw))),
        };
        let placed = clock.and_then(|clock_ms| {
            let start_ms = i64::from(start.num_seconds_from_midnight()) * 1000;
            let offset = wrap_day(clock_ms - start_ms);
            let shift = *hrv.shift_ms.get_or_insert_with(|| round_to_quarter_hour(offset));
            let from_start = wrap_day(offset - shift);
            if from_start.abs() > 3_600_000 {
                return Err(format!(
                    "time: '{}' is more than an hour from the record's startDate",
                    shown(time.unwrap_or_default())
                ));
            }
            Ok(start + Duration::milliseconds(from_start))
        });
        match (rr, placed) {
            (Ok(value), Ok(effective)) => {
                self.emit(ParsedRecord { patient: None, kind: Kind::RrInterval, value, effective })
            }
            (Err(reason), _) | (_, Err(reason)) => {
                let location = Location {
                    file: self.file.to_owned(),
                    line: Some(self.line),
                    element: Some(format!(
                        "Record #{record_no} HKQuantityTypeIdentifierHeartRateVariabilitySDNN \
                         InstantaneousBeatsPerMinute #{beat_no}"
                    )),
                };
                self.reject(Rejection { location, reason })
            }
        }
    }

    /// Counts a record of a type Vigil does not import. Real exports group records by type, so
    /// a run of one type is counted without hashing.
    fn count_skipped(&mut self, type_id: &[u8]) {
        if self.last_skipped.0 != type_id {
            self.flush_skipped();
            self.last_skipped.0.clear();
            self.last_skipped.0.extend_from_slice(type_id);
        }
        self.last_skipped.1 += 1;
    }

    fn flush_skipped(&mut self) {
        let (type_id, n) = &mut self.last_skipped;
        if *n > 0 {
            match self.skipped.get_mut(type_id.as_slice()) {
                Some(total) => *total += *n,
                None => {
                    self.skipped.insert(type_id.clone(), *n);
                }
            }
            *n = 0;
        }
    }

    fn emit(&mut self, record: ParsedRecord) -> Result<(), Stop> {
        match self.sink.record(record) {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(()) => Err(Stop::Cancelled),
        }
    }

    fn reject(&mut self, rejection: Rejection) -> Result<(), Stop> {
        match self.sink.reject(rejection) {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(()) => Err(Stop::Cancelled),
        }
    }

    fn reject_record(&mut self, record_no: u64, type_id: &str, reason: String) -> Result<(), Stop> {
        let location = Location {
            file: self.file.to_owned(),
            line: Some(self.line),
            element: Some(format!("Record #{record_no} {type_id}")),
        };
        self.reject(Rejection { location, reason })
    }

    fn malformed(&self, reason: &str) -> ParseError {
        ParseError::Malformed { location: Location::line(self.file, self.line), reason: reason.to_owned() }
    }

    fn io_error(&self, source: std::io::Error) -> ParseError {
        use std::io::ErrorKind::{InvalidData, InvalidInput, UnexpectedEof};
        if matches!(source.kind(), InvalidData | InvalidInput | UnexpectedEof) {
            // A corrupt or cut compressed entry surfaces as one of these from the decompressor.
            ParseError::Malformed {
                location: Location::line(self.file, self.line),
                reason: format!("the data is corrupt: {source}"),
            }
        } else {
            ParseError::Io { file: self.file.to_owned(), source }
        }
    }

    fn xml_error(&self, error: quick_xml::Error, position: u64) -> ParseError {
        match error {
            quick_xml::Error::Io(source) => {
                self.io_error(std::io::Error::new(source.kind(), source.to_string()))
            }
            other => ParseError::Malformed {
                location: Location::line(self.file, self.line),
                // quick-xml's messages quote names from the file (up to 1 MiB each).
                reason: format!(
                    "XML syntax error at byte {position}: {}",
                    super::excerpt(other.to_string().as_bytes(), 300)
                ),
            },
        }
    }
}

/// Wraps a clock difference into (-12 h, +12 h].
fn wrap_day(ms: i64) -> i64 {
    let m = ms.rem_euclid(DAY_MS);
    if m > DAY_MS / 2 { m - DAY_MS } else { m }
}

fn round_to_quarter_hour(ms: i64) -> i64 {
    const QUARTER: i64 = 15 * 60 * 1000;
    (ms + QUARTER / 2).div_euclid(QUARTER) * QUARTER
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_differences_wrap_and_round() {
        assert_eq!(wrap_day(-86_360_000), 40_000);
        assert_eq!(wrap_day(3_600_000), 3_600_000);
        assert_eq!(round_to_quarter_hour(-3_598_060), -3_600_000);
        assert_eq!(round_to_quarter_hour(65_000), 0);
        assert_eq!(round_to_quarter_hour(-2_000), 0);
    }
}

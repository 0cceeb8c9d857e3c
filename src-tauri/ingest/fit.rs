//! Garmin FIT files (activities with heart rate and beat-to-beat data, weight-scale files).
//!
//! The binary layer (headers, definition messages, CRCs) is the `fitparser` crate's
//! `FitStreamProcessor`; this module reads the *raw* field values of the few messages it needs
//! (field numbers from the FIT SDK profile), so it never depends on the crate's conversion of
//! local times into the machine's own time zone.
//!
//! # What is imported, and how
//!
//! - **`record` (20)**: `heart_rate` (field 3, bpm) at the message's `timestamp` → `heart_rate`.
//!   A record without a heart rate (0xFF, no strap) is skipped.
//! - **`hrv` (78)**: `time` (field 0) holds up to five beat-to-beat intervals in ms (scale 1000
//!   on seconds); 0xFFFF entries pad the array and are skipped. Each interval becomes an
//!   `rr_interval`. Hrv messages carry no timestamp, so a beat's time is *derived*: a beat clock
//!   starts at the latest timestamp seen before the first hrv message (the timer-start event or
//!   first record of an activity) and advances by each interval, so a beat is stamped with the
//!   end of its interval. When a later message's timestamp is more than 5 s ahead of the beat
//!   clock (beats lost while the strap lost contact, or the timer was paused) the clock jumps to
//!   that timestamp ([`FitSummary::beat_clock_resyncs`] counts it). A clock running ahead of the
//!   timestamps is left alone. On the crate's real Edge 530 file the 2,705 intervals sum to
//!   1,074.0 s over a 1,076 s activity: the derived times stay within ~2 s of the device's.
//!   Implausible intervals are rejected but still advance the clock (the time did pass).
//! - **`weight_scale` (30)**: `weight` (field 0, kg ×100; 0xFFFE means "still calculating" and
//!   is rejected) at `timestamp` → `body_weight`. A scale shared by a household tags each reading
//!   with `user_profile_index` (field 12). With [`FitOptions::user_profile_index`] set, readings
//!   of other users are skipped (they are someone else's data, not errors: counted in
//!   [`FitSummary::other_users_skipped`]) and untagged readings are kept. Without it, a file with
//!   readings for more than one user has every reading rejected, naming the users, since
//!   importing them all into one patient would mix people.
//! - **Time zone.** FIT timestamps are UTC (seconds since 1989-12-31 00:00 UTC; values below
//!   0x10000000 are device-relative and rejected). The original offset is recovered from the
//!   first `activity` (34) message carrying both `timestamp` (253) and `local_timestamp` (5):
//!   their difference, rounded to a quarter hour and within ±14 h, is applied to every record
//!   of the file (a change of offset during one activity is not represented). Without one
//!   (weight-scale files, most non-activity files) the offset is +00:00. Since Garmin writes
//!   the activity message last, the parser holds a file's records until the end: FIT files are
//!   small (at most [`MAX_FIT_BYTES`] are accepted).
//! - **Whole-file errors** ([`ParseError::Malformed`]): no `.FIT` signature, a header or data
//!   CRC that does not match, a file cut short, or any other framing error, located at the
//!   byte where decoding stopped.

use std::io::Read;
use std::ops::ControlFlow;

use chrono::{DateTime, FixedOffset, Offset, Utc};
use fitparser::Value;
use fitparser::de::{FitObject, FitStreamProcessor};

use super::{Location, ParseError, ParsedRecord, RecordSink, Rejection, check_plausible};
use crate::domain::{Kind, ObservationValue};

/// Larger inputs are refused: a day-long activity is a few MB.
pub const MAX_FIT_BYTES: u64 = 256 << 20;

/// Choices the file itself cannot make.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FitOptions {
    /// In a multi-user weight-scale file, the user whose readings to import.
    pub user_profile_index: Option<u16>,
}

/// What a parse saw besides the records and rejections it reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FitSummary {
    /// The UTC offset applied to the file's records, from its activity message, in seconds.
    pub utc_offset_seconds: Option<i32>,
    /// Beat-to-beat intervals read (including rejected ones), padding excluded.
    pub rr_intervals: u64,
    /// Times the derived beat clock was moved forward to a message's timestamp.
    pub beat_clock_resyncs: u64,
    /// Weight readings skipped because they belong to another user than the one chosen.
    pub other_users_skipped: u64,
}

/// Seconds from the Unix epoch to the FIT epoch, 1989-12-31T00:00:00Z.
const FIT_EPOCH: i64 = 631_065_600;
/// FIT `date_time` values below this are seconds since the device powered on.
const MIN_ABSOLUTE_TIME: i64 = 0x1000_0000;
/// A beat clock further behind a message's timestamp than this is moved up to it.
const RESYNC_MS: i64 = 5_000;

const MESG_RECORD: u16 = 20;
const MESG_WEIGHT_SCALE: u16 = 30;
const MESG_ACTIVITY: u16 = 34;
const MESG_HRV: u16 = 78;
const FIELD_TIMESTAMP: u8 = 253;

/// Parses one FIT file (or several chained in one stream).
pub fn parse_fit<R, S>(
    reader: R,
    file: &str,
    options: &FitOptions,
    sink: &mut S,
) -> Result<FitSummary, ParseError>
where
    R: Read,
    S: RecordSink + ?Sized,
{
    let mut data = Vec::new();
    reader
        .take(MAX_FIT_BYTES + 1)
        .read_to_end(&mut data)
        .map_err(|source| ParseError::Io { file: file.to_owned(), source })?;
    if data.len() as u64 > MAX_FIT_BYTES {
        return Err(malformed(
            file,
            0,
            format!("larger than {MAX_FIT_BYTES} bytes: not a FIT file Vigil reads"),
        ));
    }
    check_header(&data).map_err(|reason| malformed(file, 0, reason))?;
    let mut scan = Scan::new(file, options);
    scan.run(&data)?;
    scan.finish(sink)
}

/// A FIT file header: size 12 or 14, `.FIT` at byte 8, all of it present.
fn check_header(bytes: &[u8]) -> Result<(), String> {
    let size = usize::from(*bytes.first().unwrap_or(&0));
    if bytes.len() < 12 || !(size == 12 || size == 14) || &bytes[8..12] != b".FIT" || bytes.len() < size {
        return Err("no FIT header (size 12 or 14, then '.FIT' at byte 8): not a FIT file".into());
    }
    Ok(())
}

fn malformed(file: &str, byte: usize, reason: String) -> ParseError {
    ParseError::Malformed { location: Location::element(file, format!("byte {byte}")), reason }
}

/// A reading waiting for the end of the file (the offset comes last).
enum Pending {
    Record { kind: Kind, value: ObservationValue, utc_ms: i64, location: Location },
    Weight { kg: ObservationValue, utc_ms: i64, user: Option<u16>, location: Location },
    Reject(Rejection),
}

struct Scan<'a> {
    file: &'a str,
    options: &'a FitOptions,
    pending: Vec<Pending>,
    summary: FitSummary,
    /// Latest timestamp seen, FIT seconds.
    last_timestamp: Option<i64>,
    /// Derived time of the last beat, Unix ms.
    beat_clock: Option<i64>,
    records: u64,
    hrvs: u64,
    weights: u64,
}

impl<'a> Scan<'a> {
    fn new(file: &'a str, options: &'a FitOptions) -> Self {
        Self {
            file,
            options,
            pending: Vec::new(),
            summary: FitSummary::default(),
            last_timestamp: None,
            beat_clock: None,
            records: 0,
            hrvs: 0,
            weights: 0,
        }
    }

    fn run(&mut self, data: &[u8]) -> Result<(), ParseError> {
        let mut processor = FitStreamProcessor::new();
        let mut rest = data;
        // Where the current file's messages end (header size + declared data size), mirroring
        // the processor's own bookkeeping, and whether its CRC has been read.
        let mut end: Option<usize> = None;
        let mut crc_read = false;
        while !rest.is_empty() {
            let at = data.len() - rest.len();
            match end {
                Some(end) if at <= end => {}
                Some(_) if !crc_read => {
                    let reason = "a message runs past the data size the header declares".into();
                    return Err(malformed(self.file, at, reason));
                }
                // A header comes next: check it here, since fitparser 0.11 trusts the size
                // byte of a chained header and can panic on a short or oversized one.
                _ => check_header(rest).map_err(|reason| malformed(self.file, at, reason))?,
            }
            let (next, object) =
                processor.deserialize_next(rest).map_err(|e| malformed(self.file, at, describe(&e)))?;
            match object {
                FitObject::DataMessage(message) => {
                    let timestamp =
                        self.timestamp(message.time_offset(), message.fields().get(&FIELD_TIMESTAMP));
                    self.message(message.global_message_number(), message.fields(), timestamp);
                }
                FitObject::Crc(_) => {
                    processor.reset();
                    crc_read = true;
                }
                FitObject::Header(header) => {
                    end = Some(at + usize::from(header.header_size()) + header.data_size() as usize);
                    crc_read = false;
                }
                FitObject::DefinitionMessage(_) => {}
            }
            rest = next;
        }
        Ok(())
    }

    /// The message's timestamp in FIT seconds: its own field 253, or a compressed-header
    /// offset applied to the last full timestamp (FIT protocol, "Compressed Timestamp Header").
    fn timestamp(&mut self, time_offset: Option<u8>, field: Option<&Value>) -> Option<i64> {
        let timestamp = match (time_offset, field.and_then(int)) {
            (_, Some(t)) => Some(t),
            (Some(offset), None) => self.last_timestamp.map(|last| {
                let offset = i64::from(offset & 0x1f);
                let mut t = (last & !0x1f) + offset;
                if offset < (last & 0x1f) {
                    t += 0x20;
                }
                t
            }),
            (None, None) => None,
        };
        if let Some(t) = timestamp {
            self.last_timestamp = Some(t);
            if let Some(clock) = self.beat_clock {
                let t_ms = (t + FIT_EPOCH) * 1000;
                if t_ms - clock > RESYNC_MS {
                    self.beat_clock = Some(t_ms);
                    self.summary.beat_clock_resyncs += 1;
                }
            }
        }
        timestamp
    }

    fn message(
        &mut self,
        number: u16,
        fields: &std::collections::HashMap<u8, Value>,
        timestamp: Option<i64>,
    ) {
        match number {
            MESG_RECORD => {
                self.records += 1;
                let Some(bpm) = fields.get(&3).and_then(int) else { return };
                let location = Location::element(self.file, format!("record message #{}", self.records));
                self.reading(Kind::HeartRate, bpm as f64, timestamp, location);
            }
            MESG_HRV => {
                self.hrvs += 1;
                self.hrv(fields.get(&0));
            }
            MESG_WEIGHT_SCALE => {
                self.weights += 1;
                let location =
                    Location::element(self.file, format!("weight_scale message #{}", self.weights));
                let user = fields.get(&12).and_then(int).and_then(|u| u16::try_from(u).ok());
                let kg = match fields.get(&0) {
                    Some(Value::Invalid) | None => Err("weight: no value".to_owned()),
                    Some(v) => match int(v) {
                        Some(0xFFFE) => Err("weight: the scale was still calculating (0xFFFE)".to_owned()),
                        Some(raw) => Ok(raw as f64 / 100.0),
                        None => Err(format!("weight: {v} is not an integer field")),
                    },
                };
                let checked = kg.and_then(|kg| check_plausible(Kind::BodyWeight, kg));
                match (checked, self.utc_ms(timestamp)) {
                    (Ok(kg), Ok(utc_ms)) => self.pending.push(Pending::Weight { kg, utc_ms, user, location }),
                    (Err(reason), _) | (_, Err(reason)) => {
                        self.pending.push(Pending::Reject(Rejection { location, reason }))
                    }
                }
            }
            MESG_ACTIVITY if self.summary.utc_offset_seconds.is_none() => {
                let local = fields.get(&5).and_then(int);
                if let (Some(utc), Some(local)) = (timestamp, local) {
                    let quarter = 15 * 60;
                    let offset = (local - utc + quarter / 2).div_euclid(quarter) * quarter;
                    if offset.abs() <= 14 * 3600 {
                        self.summary.utc_offset_seconds = i32::try_from(offset).ok();
                    }
                }
            }
            _ => {}
        }
    }

    fn hrv(&mut self, times: Option<&Value>) {
        let entries: &[Value] = match times {
            Some(Value::Array(values)) => values,
            Some(single) => std::slice::from_ref(single),
            None => return,
        };
        for (i, entry) in entries.iter().enumerate() {
            let Some(rr_ms) = int(entry).filter(|&ms| ms != 0xFFFF) else { continue };
            self.summary.rr_intervals += 1;
            let location = Location::element(self.file, format!("hrv message #{} time[{i}]", self.hrvs));
            let Some(clock) = self.beat_clock.or_else(|| self.last_timestamp.map(|t| (t + FIT_EPOCH) * 1000))
            else {
                let reason =
                    "time: no timestamp precedes this hrv message, so its beats cannot be placed".into();
                self.pending.push(Pending::Reject(Rejection { location, reason }));
                continue;
            };
            let clock = clock + rr_ms;
            self.beat_clock = Some(clock);
            match check_plausible(Kind::RrInterval, rr_ms as f64) {
                Ok(value) => self.pending.push(Pending::Record {
                    kind: Kind::RrInterval,
                    value,
                    utc_ms: clock,
                    location,
                }),
                Err(reason) => self.pending.push(Pending::Reject(Rejection { location, reason })),
            }
        }
    }

    fn reading(&mut self, kind: Kind, value: f64, timestamp: Option<i64>, location: Location) {
        let checked = check_plausible(kind, value).and_then(|value| Ok((value, self.utc_ms(timestamp)?)));
        match checked {
            Ok((value, utc_ms)) => self.pending.push(Pending::Record { kind, value, utc_ms, location }),
            Err(reason) => self.pending.push(Pending::Reject(Rejection { location, reason })),
        }
    }

    fn utc_ms(&self, timestamp: Option<i64>) -> Result<i64, String> {
        match timestamp {
            None => Err("timestamp: missing".into()),
            Some(t) if t < MIN_ABSOLUTE_TIME => {
                Err(format!("timestamp: {t} is device-relative (below 0x10000000), not a date"))
            }
            Some(t) => Ok((t + FIT_EPOCH) * 1000),
        }
    }

    /// Applies the offset and the user choice, and hands everything to the sink in file order.
    fn finish<S: RecordSink + ?Sized>(self, sink: &mut S) -> Result<FitSummary, ParseError> {
        let mut summary = self.summary;
        let offset = FixedOffset::east_opt(summary.utc_offset_seconds.unwrap_or(0)).unwrap_or(Utc.fix());
        let mut users: Vec<u16> = self
            .pending
            .iter()
            .filter_map(|p| match p {
                Pending::Weight { user: Some(u), .. } => Some(*u),
                _ => None,
            })
            .collect();
        users.sort_unstable();
        users.dedup();
        let ambiguous = self.options.user_profile_index.is_none() && users.len() > 1;
        if let Some(chosen) =
            self.options.user_profile_index.filter(|u| !users.is_empty() && !users.contains(u))
        {
            let list = users.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
            let reason =
                format!("user_profile_index: user {chosen} has no readings in this file (users {list})");
            let location = Location::element(self.file, "weight_scale");
            if sink.reject(Rejection { location, reason }).is_break() {
                return Err(ParseError::Cancelled);
            }
        }
        let at = |utc_ms: i64| DateTime::from_timestamp_millis(utc_ms).map(|t| t.with_timezone(&offset));
        for pending in self.pending {
            let flow = match pending {
                Pending::Record { kind, value, utc_ms, location } => match at(utc_ms) {
                    Some(effective) => emit(sink, kind, value, effective),
                    None => sink.reject(Rejection { location, reason: "timestamp: out of range".into() }),
                },
                Pending::Weight { kg, utc_ms, user, location } => {
                    let chosen = self.options.user_profile_index;
                    if ambiguous {
                        let list = users.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
                        let reason = format!(
                            "user_profile_index: this weight-scale file holds readings of users {list}; \
                             choose one user to import (vigil import --fit-user N)"
                        );
                        sink.reject(Rejection { location, reason })
                    } else if chosen.is_some() && user.is_some() && user != chosen {
                        summary.other_users_skipped += 1;
                        ControlFlow::Continue(())
                    } else {
                        match at(utc_ms) {
                            Some(effective) => emit(sink, Kind::BodyWeight, kg, effective),
                            None => {
                                sink.reject(Rejection { location, reason: "timestamp: out of range".into() })
                            }
                        }
                    }
                }
                Pending::Reject(rejection) => sink.reject(rejection),
            };
            if flow.is_break() {
                return Err(ParseError::Cancelled);
            }
        }
        Ok(summary)
    }
}

fn emit<S: RecordSink + ?Sized>(
    sink: &mut S,
    kind: Kind,
    value: ObservationValue,
    effective: DateTime<FixedOffset>,
) -> ControlFlow<()> {
    sink.record(ParsedRecord { patient: None, kind, value, effective })
}

/// An integer field value; `None` for the invalid marker and non-integers.
fn int(value: &Value) -> Option<i64> {
    Some(match *value {
        Value::Byte(v) | Value::Enum(v) | Value::UInt8(v) => i64::from(v),
        Value::UInt8z(v) if v != 0 => i64::from(v),
        Value::SInt8(v) => i64::from(v),
        Value::SInt16(v) => i64::from(v),
        Value::UInt16(v) => i64::from(v),
        Value::UInt16z(v) if v != 0 => i64::from(v),
        Value::SInt32(v) => i64::from(v),
        Value::UInt32(v) => i64::from(v),
        Value::UInt32z(v) if v != 0 => i64::from(v),
        Value::SInt64(v) => v,
        Value::UInt64(v) | Value::UInt64z(v) => i64::try_from(v).ok()?,
        _ => return None,
    })
}

/// A framing error in words.
fn describe(error: &fitparser::Error) -> String {
    use fitparser::ErrorKind;
    match error.as_ref() {
        ErrorKind::InvalidCrc(..) => format!("{error}: the file is corrupt"),
        ErrorKind::UnexpectedEof(_) => "the file ends in the middle of a message: it is truncated".into(),
        ErrorKind::ParseError(..) | ErrorKind::MissingDefinitionMessage(..) => {
            format!("not a well-formed FIT file: {error}")
        }
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_timestamps_roll_over_the_five_bit_offset() {
        let options = FitOptions::default();
        let mut scan = Scan::new("t.fit", &options);
        assert_eq!(scan.timestamp(Some(3), None), None, "no reference yet");
        assert_eq!(scan.timestamp(None, Some(&Value::UInt32(0x1000_003C))), Some(0x1000_003C));
        // Offset 0x1E is after 0x1C within the same 32 s window; 0x02 wraps into the next one.
        assert_eq!(scan.timestamp(Some(0x1E), None), Some(0x1000_003E));
        assert_eq!(scan.timestamp(Some(0x02), None), Some(0x1000_0042));
    }

    #[test]
    fn a_beat_clock_that_falls_behind_jumps_to_the_next_timestamp() {
        let options = FitOptions::default();
        let mut scan = Scan::new("t.fit", &options);
        let t0 = 1_000_000_000;
        scan.timestamp(None, Some(&Value::UInt32(t0)));
        scan.hrv(Some(&Value::Array(vec![Value::UInt16(1000), Value::Invalid])));
        // 60 s later (the strap lost contact), the next beat starts from the new timestamp.
        scan.timestamp(None, Some(&Value::UInt32(t0 + 60)));
        scan.hrv(Some(&Value::UInt16(800)));
        let times: Vec<i64> = scan
            .pending
            .iter()
            .map(|p| match p {
                Pending::Record { utc_ms, .. } => *utc_ms - (i64::from(t0) + FIT_EPOCH) * 1000,
                _ => panic!("unexpected rejection"),
            })
            .collect();
        assert_eq!(times, [1000, 60_800]);
        assert_eq!(scan.summary.beat_clock_resyncs, 1);
    }
}

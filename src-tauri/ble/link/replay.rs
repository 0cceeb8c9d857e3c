//! Recorded device sessions, replayed through the same pipeline as a live device.
//!
//! # The format (JSONL, one JSON object per line, UTF-8)
//! The first line describes the device:
//! ```json
//! {"vigil_ble_replay": 1, "device": {"name": "Polar H10 1A2B3C4D", "address": "F0:12:34:56:78:9A",
//!  "kind": "heart_rate_monitor", "manufacturer": "Polar Electro Oy", "model": "H10",
//!  "serial": "1A2B3C4D", "firmware": "5.0.0"},
//!  "reads": {"2a19": "5a"}}
//! ```
//! `reads` (optional) holds what reading a characteristic returns (hex). Every later line is
//! either a value or an event, `t` in seconds since the recording began, non-decreasing:
//! ```json
//! {"t": 0.0, "characteristic": "2a37", "value": "10 48 5c 03"}
//! {"t": 31.5, "event": "disconnect"}
//! ```
//! A characteristic is its 16-bit SIG number in hex or a full UUID; a value is hex, spaced,
//! colon-separated or run together. `disconnect` drops the link as a device walking out of
//! range would; the next connect succeeds, and values recorded meanwhile arrive after it (a
//! device that kept them). Blank lines and lines starting with `#` are ignored. A value is
//! received at the replay's start plus its `t` (divided by the speed), so two replays of one
//! file from one start store the same readings.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::time::Instant;
use uuid::Uuid;

use super::{Connected, Link, LinkError, Notification};

/// Recordings larger than this are refused before reading (a day at 1 Hz is about 5 MB).
pub const MAX_BYTES: u64 = 256 * 1024 * 1024;

/// The device a recording describes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedDevice {
    /// Advertised name.
    pub name: Option<String>,
    /// Address; recordings made up for demos use a locally administered one.
    pub address: String,
    /// A `DeviceKind` name ("heart_rate_monitor", ...).
    pub kind: String,
    /// Manufacturer Name String.
    pub manufacturer: Option<String>,
    /// Model Number String.
    pub model: Option<String>,
    /// Serial Number String.
    pub serial: Option<String>,
    /// Firmware Revision String.
    pub firmware: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    vigil_ble_replay: u32,
    device: RecordedDevice,
    #[serde(default)]
    reads: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    t: f64,
    characteristic: Option<String>,
    value: Option<String>,
    event: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Entry {
    Value { t: f64, characteristic: Uuid, value: Vec<u8> },
    Disconnect { t: f64 },
}

impl Entry {
    fn t(&self) -> f64 {
        match self {
            Entry::Value { t, .. } | Entry::Disconnect { t } => *t,
        }
    }
}

/// A parsed recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// The file's name, for messages.
    pub name: String,
    /// The device it describes.
    pub device: RecordedDevice,
    reads: BTreeMap<Uuid, Vec<u8>>,
    entries: Vec<Entry>,
}

impl Recording {
    /// Reads and checks a recording file.
    pub fn read(path: &Path) -> Result<Self, LinkError> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let fail = |problem: String| LinkError::Replay { file: name.clone(), line: 0, problem };
        let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
        if !meta.is_file() {
            return Err(fail("not a regular file".into()));
        }
        if meta.len() > MAX_BYTES {
            return Err(fail(format!(
                "{} bytes, more than the {MAX_BYTES} a recording may have",
                meta.len()
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        Self::parse(&name, &text)
    }

    /// Parses a recording's text; `name` names it in errors.
    pub fn parse(name: &str, text: &str) -> Result<Self, LinkError> {
        let err = |line: usize, problem: String| LinkError::Replay { file: name.to_owned(), line, problem };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
        let (first, header) = lines.next().ok_or_else(|| err(1, "empty recording: no header line".into()))?;
        let header: Header = serde_json::from_str(header).map_err(|e| err(first, format!("header: {e}")))?;
        if header.vigil_ble_replay != 1 {
            return Err(err(
                first,
                format!("format version {} (this Vigil reads 1)", header.vigil_ble_replay),
            ));
        }
        let mut reads = BTreeMap::new();
        for (c, v) in &header.reads {
            let uuid =
                parse_uuid(c).ok_or_else(|| err(first, format!("reads: '{c}' is not a characteristic")))?;
            reads.insert(uuid, parse_hex(v).map_err(|p| err(first, format!("reads {c}: {p}")))?);
        }
        let mut entries = Vec::new();
        let mut last_t = 0.0;
        for (n, text) in lines {
            let line: Line = serde_json::from_str(text).map_err(|e| err(n, e.to_string()))?;
            if !line.t.is_finite() || line.t < last_t {
                return Err(err(n, format!("t {} is not a time at or after the previous {last_t}", line.t)));
            }
            last_t = line.t;
            let entry = match (line.characteristic, line.value, line.event.as_deref()) {
                (Some(c), Some(v), None) => Entry::Value {
                    t: line.t,
                    characteristic: parse_uuid(&c).ok_or_else(|| {
                        err(
                            n,
                            format!("characteristic '{}' is not a UUID", crate::ingest::shown(c.as_bytes())),
                        )
                    })?,
                    value: parse_hex(&v).map_err(|p| err(n, format!("value: {p}")))?,
                },
                (None, None, Some("disconnect")) => Entry::Disconnect { t: line.t },
                (None, None, Some(other)) => {
                    return Err(err(
                        n,
                        format!(
                            "event '{}' is not one of: disconnect",
                            crate::ingest::shown(other.as_bytes())
                        ),
                    ));
                }
                _ => return Err(err(n, "a line is a characteristic with a value, or an event".into())),
            };
            entries.push(entry);
        }
        Ok(Self { name: name.to_owned(), device: header.device, reads, entries })
    }

    /// How long the recording lasts, seconds.
    pub fn duration_s(&self) -> f64 {
        self.entries.last().map(Entry::t).unwrap_or(0.0)
    }

    /// How many values it holds.
    pub fn values(&self) -> usize {
        self.entries.iter().filter(|e| matches!(e, Entry::Value { .. })).count()
    }
}

/// A 16-bit SIG number ("2a37", "0x2A37") on the Bluetooth base UUID, or a full UUID.
pub fn parse_uuid(text: &str) -> Option<Uuid> {
    let t = text.trim();
    let short = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    if short.len() == 4 {
        let n = u16::from_str_radix(short, 16).ok()?;
        return Some(sig_uuid(n));
    }
    Uuid::parse_str(t).ok()
}

/// The UUID of a 16-bit SIG-assigned number (Bluetooth Core, Vol 3, Part B, 2.5.1).
pub const fn sig_uuid(short: u16) -> Uuid {
    Uuid::from_u128(((short as u128) << 96) | 0x0000_0000_0000_1000_8000_0080_5f9b_34fb)
}

/// Hex bytes, spaced, colon-separated or run together.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
    if digits.len() % 2 != 0 {
        return Err(format!("{} hex digits: bytes need an even number", digits.len()));
    }
    hex::decode(&digits).map_err(|e| format!("not hex: {e}"))
}

/// A recording played as a device.
#[derive(Debug)]
pub struct ReplayLink {
    recording: Recording,
    /// Wall-clock time of `t = 0`.
    base: DateTime<Utc>,
    /// Playback speed: 1 is real time, 60 a minute per second; 0 or less as fast as possible.
    speed: f64,
    start: Option<Instant>,
    next: usize,
    connected: bool,
    subscribed: BTreeSet<Uuid>,
}

impl ReplayLink {
    /// Plays `recording` from `base` at `speed`.
    pub fn new(recording: Recording, base: DateTime<Utc>, speed: f64) -> Self {
        Self { recording, base, speed, start: None, next: 0, connected: false, subscribed: BTreeSet::new() }
    }

    /// The recording.
    pub fn recording(&self) -> &Recording {
        &self.recording
    }

    fn received(&self, t: f64) -> DateTime<Utc> {
        // `t` is finite and non-negative (checked when parsed).
        self.base + chrono::Duration::from_std(Duration::from_secs_f64(t)).unwrap_or_default()
    }
}

impl Link for ReplayLink {
    fn address(&self) -> &str {
        &self.recording.device.address
    }

    async fn connect(&mut self) -> Result<Connected, LinkError> {
        if self.next >= self.recording.entries.len() && self.start.is_some() {
            return Err(LinkError::Ended);
        }
        self.start.get_or_insert_with(Instant::now);
        self.connected = true;
        let mut notifying = BTreeSet::new();
        for e in &self.recording.entries {
            if let Entry::Value { characteristic, .. } = e {
                notifying.insert(*characteristic);
            }
        }
        let mut all: BTreeSet<Uuid> = self.recording.reads.keys().copied().collect();
        all.extend(notifying.iter().copied());
        Ok(Connected {
            characteristics: all.into_iter().collect(),
            notifying: notifying.into_iter().collect(),
        })
    }

    async fn subscribe(&mut self, characteristic: Uuid) -> Result<(), LinkError> {
        self.subscribed.insert(characteristic);
        Ok(())
    }

    async fn read(&mut self, characteristic: Uuid) -> Result<Vec<u8>, LinkError> {
        self.recording.reads.get(&characteristic).cloned().ok_or_else(|| LinkError::Connection {
            address: self.recording.device.address.clone(),
            problem: format!("characteristic {characteristic} cannot be read"),
        })
    }

    async fn write(&mut self, _characteristic: Uuid, _value: &[u8]) -> Result<(), LinkError> {
        Ok(())
    }

    async fn next(&mut self) -> Result<Notification, LinkError> {
        if !self.connected {
            return Err(LinkError::Connection {
                address: self.recording.device.address.clone(),
                problem: "not connected".into(),
            });
        }
        let start = *self.start.get_or_insert_with(Instant::now);
        loop {
            let Some(entry) = self.recording.entries.get(self.next).cloned() else {
                return Err(LinkError::Ended);
            };
            if self.speed > 0.0 {
                tokio::time::sleep_until(start + Duration::from_secs_f64(entry.t() / self.speed)).await;
            }
            self.next += 1;
            match entry {
                Entry::Value { t, characteristic, value } if self.subscribed.contains(&characteristic) => {
                    return Ok(Notification { characteristic, value, received: self.received(t) });
                }
                Entry::Value { .. } => {}
                Entry::Disconnect { .. } => {
                    self.connected = false;
                    self.subscribed.clear();
                    return Err(LinkError::Connection {
                        address: self.recording.device.address.clone(),
                        problem: "the recorded device dropped the link".into(),
                    });
                }
            }
        }
    }

    async fn disconnect(&mut self) {
        self.connected = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"vigil_ble_replay": 1, "device": {"address": "F0:00:00:00:00:01", "kind": "heart_rate_monitor"}, "reads": {"2a19": "5a"}}"#;

    #[test]
    fn short_numbers_sit_on_the_base_uuid() {
        assert_eq!(parse_uuid("2a37").unwrap().to_string(), "00002a37-0000-1000-8000-00805f9b34fb");
        assert_eq!(parse_uuid("0x2A37"), parse_uuid("00002a37-0000-1000-8000-00805f9b34fb"));
        assert_eq!(parse_uuid("2a3"), None);
        assert_eq!(parse_hex("16:48 00").unwrap(), vec![0x16, 0x48, 0x00]);
        assert!(parse_hex("164").unwrap_err().contains("even"));
    }

    #[test]
    fn a_malformed_line_is_named_by_file_and_line() {
        let text = format!(
            "{HEADER}\n{{\"t\": 0, \"characteristic\": \"2a37\", \"value\": \"00 48\"}}\n\n{{\"t\": 1, \"value\": \"zz\"}}\n"
        );
        let e = Recording::parse("hr.jsonl", &text).unwrap_err();
        assert!(matches!(e, LinkError::Replay { line: 4, .. }), "{e}");
        let text = format!(
            "{HEADER}\n{{\"t\": 2, \"characteristic\": \"2a37\", \"value\": \"00 48\"}}\n{{\"t\": 1, \"event\": \"disconnect\"}}"
        );
        let e = Recording::parse("hr.jsonl", &text).unwrap_err();
        assert_eq!(e.to_string(), "hr.jsonl, line 3: t 1 is not a time at or after the previous 2");
        let e = Recording::parse(
            "hr.jsonl",
            "{\"vigil_ble_replay\": 2, \"device\": {\"address\": \"a\", \"kind\": \"k\"}}",
        )
        .unwrap_err();
        assert!(e.to_string().contains("line 1: format version 2"), "{e}");
    }

    #[tokio::test(start_paused = true)]
    async fn values_arrive_at_their_time_and_a_disconnect_drops_the_link() {
        let text = format!(
            "{HEADER}\n{{\"t\": 0, \"characteristic\": \"2a37\", \"value\": \"00 48\"}}\n\
             {{\"t\": 1, \"characteristic\": \"2a38\", \"value\": \"01\"}}\n\
             {{\"t\": 2, \"event\": \"disconnect\"}}\n{{\"t\": 3, \"characteristic\": \"2a37\", \"value\": \"00 49\"}}"
        );
        let rec = Recording::parse("hr.jsonl", &text).unwrap();
        assert_eq!((rec.values(), rec.duration_s()), (3, 3.0));
        let base = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().to_utc();
        let mut link = ReplayLink::new(rec, base, 1.0);
        let found = link.connect().await.unwrap();
        assert_eq!(found.notifying.len(), 2);
        assert_eq!(link.read(sig_uuid(0x2a19)).await.unwrap(), vec![0x5a]);
        link.subscribe(sig_uuid(0x2a37)).await.unwrap();
        let t0 = Instant::now();
        let n = link.next().await.unwrap();
        assert_eq!((n.value, n.received), (vec![0, 0x48], base));
        // 0x2A38 is not subscribed: skipped; the disconnect at t = 2 ends the connection.
        assert!(matches!(link.next().await, Err(LinkError::Connection { .. })));
        assert_eq!(t0.elapsed(), Duration::from_secs(2));
        assert!(link.next().await.is_err(), "no values while disconnected");
        link.connect().await.unwrap();
        link.subscribe(sig_uuid(0x2a37)).await.unwrap();
        let n = link.next().await.unwrap();
        assert_eq!((n.value, n.received), (vec![0, 0x49], base + chrono::Duration::seconds(3)));
        assert_eq!(link.next().await, Err(LinkError::Ended));
        assert_eq!(link.connect().await, Err(LinkError::Ended));
    }
}

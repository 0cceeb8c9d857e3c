//! Reading a FHIR file one resource at a time, whatever its size (issue 12).
//!
//! A JSON document is decoded by serde_json straight from the reader. A Bundle's `entry` array
//! is walked element by element, and so is the `entry` of a Bundle nested in an entry, so what
//! is held at any moment is one entry (its resource decoded as a [`Value`]) plus the few other
//! fields of the Bundles around it. NDJSON is read one line at a time. [`Meter`] counts the
//! JSON text behind what is held; past [`MAX_RESOURCE_BYTES`] a document is refused
//! ([`ParseError::Malformed`] naming the entry, its line and the byte offset) and an NDJSON
//! line is rejected by its line number, skipped without being kept.
//!
//! Two shapes are held whole rather than walked, within the same bound: a Bundle whose `entry`
//! comes before its `resourceType` (serializers write `resourceType` first, and until it is read
//! nothing says the array holds Bundle entries rather than, say, a List's), and a Bundle that is
//! itself one NDJSON line. A nested Bundle whose `id` comes after its `entry` is named
//! `resource(Bundle)` in locations, without the id.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::ops::ControlFlow;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::json_type;
use super::strict_json::{self, Strict, StrictVisitor};
use crate::ingest::{Location, ParseError, Rejection};

/// The most JSON text held at once: one resource (a Bundle entry with all it nests, an NDJSON
/// line, a document that is not a Bundle), counted together with the other fields of the
/// Bundles around it. Vital signs are a few hundred bytes; the largest resources met in
/// practice (a DiagnosticReport or Binary carrying a PDF) are a few MiB.
pub const MAX_RESOURCE_BYTES: u64 = 16 << 20;

/// How a file's text is cut into resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// One JSON value.
    Document,
    /// One JSON value per line (FHIR Bulk Data).
    Ndjson,
}

/// A resource found in the file, and where.
#[derive(Debug)]
pub(super) struct Entry<'a> {
    pub(super) resource: &'a Value,
    pub(super) resource_type: &'a str,
    pub(super) id: Option<&'a str>,
    pub(super) full_url: Option<&'a str>,
    /// `Bundle.entry[3].resource(Observation/bp)`, or `Observation/bp` at the top level.
    pub(super) path: String,
    /// The NDJSON line.
    pub(super) line: Option<u64>,
}

impl Entry<'_> {
    pub(super) fn location(&self, file: &str, suffix: &str) -> Location {
        Location { file: file.to_owned(), line: self.line, element: Some(format!("{}{suffix}", self.path)) }
    }
}

/// What reading a file finds, in file order.
#[derive(Debug)]
pub(super) enum Event<'a> {
    /// An NDJSON line that is not one JSON value, or too long to hold.
    Broken(Rejection),
    /// Something where a resource belongs that is not one (a number, an entry without resource).
    Rejected(Rejection),
    /// A resource other than a Bundle (Bundles are walked, never handed over).
    Resource(Entry<'a>),
}

/// Where the events go; `Break` stops the reading (the caller's sink cancelled).
pub(super) type Emit<'e> = dyn for<'a> FnMut(Event<'a>) -> ControlFlow<()> + 'e;

/// How a document ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Ended {
    /// Whitespace at most after the value.
    Done,
    /// Another value follows: the file is NDJSON after all.
    MoreThanOneValue,
}

/// Reads the text from `reader` (positioned after any byte-order mark, `offset` bytes into the
/// file) and reports what it finds to `emit`.
pub(super) fn read<R: BufRead>(
    file: &str,
    mode: Mode,
    reader: R,
    offset: u64,
    emit: &mut Emit<'_>,
) -> Result<Ended, ParseError> {
    match mode {
        Mode::Document => document(file, reader, offset, emit),
        Mode::Ndjson => super::ndjson::read(file, reader, offset, emit).map(|()| Ended::Done),
    }
}

fn document<R: BufRead>(
    file: &str,
    reader: R,
    offset: u64,
    emit: &mut Emit<'_>,
) -> Result<Ended, ParseError> {
    let meter = Meter::starting_at(offset);
    let mut ctx = Ctx { file, meter: &meter, emit, at: String::new(), stopped: false };
    // serde_json reads a byte at a time, which std serves from a `BufReader`'s buffer without a
    // call (`Read::bytes`); so the meter sees 8 KiB reads, and marks an entry's start up to
    // 8 KiB early (what is held is counted in whole reads), which the 16 MiB bound does not
    // notice.
    let metered = io::BufReader::with_capacity(8 << 10, Metered { inner: reader, meter: &meter });
    let mut de = serde_json::Deserializer::from_reader(metered);
    let held = match (ResourceSeed { ctx: &mut ctx, prefix: "" }).deserialize(&mut de) {
        Ok(held) => held,
        Err(e) => return Err(ctx.fail(e)),
    };
    if let Some(value) = held
        && walk(file, &value, String::new(), None, None, ctx.emit).is_break()
    {
        return Err(ParseError::Cancelled);
    }
    meter.hold_from_here(0);
    match de.end() {
        Ok(()) => Ok(Ended::Done),
        Err(e) if e.is_io() => Err(ctx.fail(e)),
        Err(_) => Ok(Ended::MoreThanOneValue),
    }
}

/// Reports a resource held in memory, descending into a Bundle held whole.
///
/// `prefix` is the path of the entry holding the resource (empty at the top level).
pub(super) fn walk(
    file: &str,
    value: &Value,
    prefix: String,
    full_url: Option<&str>,
    line: Option<u64>,
    emit: &mut Emit<'_>,
) -> ControlFlow<()> {
    let reject = |emit: &mut Emit<'_>, element: String, reason: String| {
        let element = if element.is_empty() { None } else { Some(element) };
        emit(Event::Rejected(Rejection {
            location: Location { file: file.to_owned(), line, element },
            reason,
        }))
    };
    let Some(object) = value.as_object() else {
        return reject(
            emit,
            prefix,
            format!("expected a FHIR resource (a JSON object), found {}", json_type(value)),
        );
    };
    let Some(resource_type) = object.get("resourceType").and_then(Value::as_str) else {
        return reject(emit, prefix, "not a FHIR resource: no resourceType".into());
    };
    let id = object.get("id").and_then(Value::as_str);
    if resource_type != "Bundle" {
        let path = resource_path(&prefix, resource_type, id);
        return emit(Event::Resource(Entry { resource: value, resource_type, id, full_url, path, line }));
    }
    let path = bundle_path(&prefix, id);
    let entries = match object.get("entry") {
        None => return ControlFlow::Continue(()),
        Some(Value::Array(entries)) => entries,
        Some(other) => {
            return reject(emit, path, format!("Bundle.entry is {}, not an array", json_type(other)));
        }
    };
    for (i, entry) in entries.iter().enumerate() {
        let entry_path = format!("{path}.entry[{i}]");
        match entry.get("resource") {
            Some(resource) => {
                let full_url = entry.get("fullUrl").and_then(Value::as_str);
                walk(file, resource, entry_path, full_url, line, emit)?;
            }
            None => {
                let method = entry.pointer("/request/method").and_then(Value::as_str);
                if !matches!(method, Some("DELETE" | "GET" | "HEAD")) {
                    reject(emit, entry_path, "the entry has no resource".into())?;
                }
            }
        }
    }
    ControlFlow::Continue(())
}

/// `Observation/bp` at the top level, `<entry>.resource(Observation/bp)` in an entry.
fn resource_path(prefix: &str, resource_type: &str, id: Option<&str>) -> String {
    let label = match id {
        Some(id) => format!("{resource_type}/{id}"),
        None => resource_type.to_owned(),
    };
    if prefix.is_empty() { label } else { format!("{prefix}.resource({label})") }
}

/// A Bundle's path: `Bundle` at the top level.
fn bundle_path(prefix: &str, id: Option<&str>) -> String {
    if prefix.is_empty() { "Bundle".to_owned() } else { resource_path(prefix, "Bundle", id) }
}

/// Counts the bytes read and how many of them are held; refuses to read past the bound.
/// Counts are of the bytes handed to serde_json's buffer, a few KiB ahead of its parse.
#[derive(Debug)]
struct Meter {
    /// Bytes consumed from the file.
    offset: Cell<u64>,
    /// Newlines consumed.
    newlines: Cell<u64>,
    /// `offset - mark` is the text behind what is held.
    mark: Cell<u64>,
    /// Where the bound was passed: byte offset and line.
    tripped: Cell<Option<(u64, u64)>>,
}

impl Meter {
    fn starting_at(offset: u64) -> Self {
        Self {
            offset: Cell::new(offset),
            newlines: Cell::new(0),
            mark: Cell::new(offset),
            tripped: Cell::new(None),
        }
    }

    fn held(&self) -> u64 {
        self.offset.get().saturating_sub(self.mark.get())
    }

    /// From here on, what is held counts from `already` bytes.
    fn hold_from_here(&self, already: u64) {
        self.mark.set(self.offset.get().saturating_sub(already));
    }
}

/// The reader under serde_json, metered.
struct Metered<'m, R> {
    inner: R,
    meter: &'m Meter,
}

impl<R: BufRead> Read for Metered<'_, R> {
    /// Hands over what the file's buffer holds, never past the bound: it is passed exactly at
    /// `mark + MAX_RESOURCE_BYTES`, which the error then names.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let meter = self.meter;
        let room = MAX_RESOURCE_BYTES.saturating_sub(meter.held());
        if room == 0 {
            meter.tripped.set(Some((meter.offset.get(), meter.newlines.get() + 1)));
            return Err(io::Error::other("a resource holds more than the bound"));
        }
        let available = self.inner.fill_buf()?;
        let n = available.len().min(buf.len()).min(usize::try_from(room).unwrap_or(usize::MAX));
        let taken = &available[..n];
        buf[..n].copy_from_slice(taken);
        let newlines = taken.iter().filter(|&&b| b == b'\n').count();
        self.inner.consume(n);
        meter.offset.set(meter.offset.get() + n as u64);
        meter.newlines.set(meter.newlines.get() + newlines as u64);
        Ok(n)
    }
}

/// What the streaming visitors share.
struct Ctx<'c, 'e> {
    file: &'c str,
    meter: &'c Meter,
    emit: &'c mut Emit<'e>,
    /// The entry being read, for the error when it holds too much.
    at: String,
    /// `emit` asked to stop.
    stopped: bool,
}

impl Ctx<'_, '_> {
    fn send<E: de::Error>(&mut self, event: Event<'_>) -> Result<(), E> {
        if (self.emit)(event).is_break() {
            self.stopped = true;
            return Err(E::custom("cancelled"));
        }
        Ok(())
    }

    fn walk<E: de::Error>(&mut self, value: &Value, prefix: &str, full_url: Option<&str>) -> Result<(), E> {
        if walk(self.file, value, prefix.to_owned(), full_url, None, self.emit).is_break() {
            self.stopped = true;
            return Err(E::custom("cancelled"));
        }
        Ok(())
    }

    fn reject<E: de::Error>(&mut self, element: &str, reason: String) -> Result<(), E> {
        let location = Location::element(self.file, element);
        self.send(Event::Rejected(Rejection { location, reason }))
    }

    /// The error that stopped a document.
    fn fail(&self, e: serde_json::Error) -> ParseError {
        let file = self.file.to_owned();
        if self.stopped {
            return ParseError::Cancelled;
        }
        if let Some((offset, line)) = self.meter.tripped.get() {
            let element = Some(self.at.clone()).filter(|at| !at.is_empty());
            return ParseError::Malformed {
                location: Location { file, line: Some(line), element },
                reason: format!(
                    "more than {} MiB of JSON in one resource (the bound was passed at byte offset \
                     {offset}), the most one resource may hold: the file was not read",
                    MAX_RESOURCE_BYTES >> 20
                ),
            };
        }
        if e.is_io() {
            return ParseError::Io { file, source: e.into() };
        }
        let location = Location { file, line: Some(e.line() as u64), element: None };
        ParseError::Malformed { location, reason: format!("not valid JSON: {e}") }
    }
}

/// A value where a resource belongs. A Bundle's entries are walked as they are read (the
/// result is then `None`); anything else is decoded, held and returned for [`walk`].
struct ResourceSeed<'x, 'c, 'e> {
    ctx: &'x mut Ctx<'c, 'e>,
    /// The path of the entry holding it; empty at the top level.
    prefix: &'x str,
}

impl<'de> DeserializeSeed<'de> for ResourceSeed<'_, '_, '_> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Value>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// Decodes a scalar with [`StrictVisitor`] and hands it to the visitor's `$finish`.
macro_rules! scalars_then {
    ($finish:ident) => {
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            let value = StrictVisitor.visit_bool(v)?;
            self.$finish(value)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            let value = StrictVisitor.visit_i64(v)?;
            self.$finish(value)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            let value = StrictVisitor.visit_u64(v)?;
            self.$finish(value)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            let value = StrictVisitor.visit_f64(v)?;
            self.$finish(value)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            let value = StrictVisitor.visit_str(v)?;
            self.$finish(value)
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            let value = StrictVisitor.visit_string(v)?;
            self.$finish(value)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            let value = StrictVisitor.visit_unit()?;
            self.$finish(value)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            let value = StrictVisitor.visit_none()?;
            self.$finish(value)
        }
    };
}

impl ResourceSeed<'_, '_, '_> {
    /// Not an object: held, and [`walk`] rejects it.
    fn finish<E: de::Error>(self, value: Value) -> Result<Option<Value>, E> {
        Ok(Some(value))
    }
}

impl<'de> Visitor<'de> for ResourceSeed<'_, '_, '_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a FHIR resource")
    }

    scalars_then!(finish);

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<Value>, A::Error> {
        let value = StrictVisitor.visit_seq(seq)?;
        self.finish(value)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Option<Value>, A::Error> {
        let mut object = Map::new();
        let mut walked = false;
        while let Some(key) = access.next_key::<String>()? {
            if object.contains_key(&key) || (walked && key == "entry") {
                return Err(strict_json::duplicate(&key));
            }
            let bundle = object.get("resourceType").and_then(Value::as_str) == Some("Bundle");
            if key == "entry" && bundle {
                let path = bundle_path(self.prefix, object.get("id").and_then(Value::as_str));
                access.next_value_seed(EntriesSeed { ctx: &mut *self.ctx, path: &path })?;
                walked = true;
            } else {
                let Strict(value) = access.next_value()?;
                object.insert(key, value);
            }
        }
        Ok((!walked).then_some(Value::Object(object)))
    }
}

/// A Bundle's `entry`: each element read and reported before the next is read.
struct EntriesSeed<'x, 'c, 'e> {
    ctx: &'x mut Ctx<'c, 'e>,
    /// The Bundle's path.
    path: &'x str,
}

impl<'de> DeserializeSeed<'de> for EntriesSeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl EntriesSeed<'_, '_, '_> {
    /// `entry` is not an array: the Bundle's structure is broken there.
    fn not_an_array<E: de::Error>(self, value: Value) -> Result<(), E> {
        let reason = format!("Bundle.entry is {}, not an array", json_type(&value));
        self.ctx.reject(self.path, reason)
    }
}

impl<'de> Visitor<'de> for EntriesSeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a Bundle's entry array")
    }

    scalars_then!(not_an_array);

    fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<(), A::Error> {
        let value = StrictVisitor.visit_map(access)?;
        self.not_an_array(value)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let meter = self.ctx.meter;
        let around = meter.held();
        for i in 0usize.. {
            let path = format!("{}.entry[{i}]", self.path);
            meter.hold_from_here(around);
            self.ctx.at.clone_from(&path);
            if seq.next_element_seed(EntrySeed { ctx: &mut *self.ctx, path: &path })?.is_none() {
                break;
            }
        }
        meter.hold_from_here(around);
        self.path.clone_into(&mut self.ctx.at);
        Ok(())
    }
}

/// One element of a Bundle's `entry`.
struct EntrySeed<'x, 'c, 'e> {
    ctx: &'x mut Ctx<'c, 'e>,
    /// `Bundle.entry[3]`.
    path: &'x str,
}

impl<'de> DeserializeSeed<'de> for EntrySeed<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl EntrySeed<'_, '_, '_> {
    /// An entry that is not an object has no resource.
    fn finish<E: de::Error>(self, _: Value) -> Result<(), E> {
        self.ctx.reject(self.path, "the entry has no resource".into())
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a Bundle entry")
    }

    scalars_then!(finish);

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let value = StrictVisitor.visit_seq(seq)?;
        self.finish(value)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<(), A::Error> {
        let mut rest = Map::new();
        // `Some(None)`: the resource was a Bundle, walked as it was read.
        let mut resource: Option<Option<Value>> = None;
        while let Some(key) = access.next_key::<String>()? {
            if rest.contains_key(&key) || (key == "resource" && resource.is_some()) {
                return Err(strict_json::duplicate(&key));
            }
            if key == "resource" {
                resource =
                    Some(access.next_value_seed(ResourceSeed { ctx: &mut *self.ctx, prefix: self.path })?);
            } else {
                let Strict(value) = access.next_value()?;
                rest.insert(key, value);
            }
        }
        match resource {
            Some(Some(value)) => {
                let full_url = rest.get("fullUrl").and_then(Value::as_str);
                self.ctx.walk(&value, self.path, full_url)
            }
            Some(None) => Ok(()),
            None => {
                let method = rest.get("request").and_then(|r| r.get("method")).and_then(Value::as_str);
                if matches!(method, Some("DELETE" | "GET" | "HEAD")) {
                    return Ok(());
                }
                self.ctx.reject(self.path, "the entry has no resource".into())
            }
        }
    }
}

//! FHIR R4 (<http://hl7.org/fhir/R4>) vital-sign Observations and the Patients they name.
//!
//! Input: one JSON resource (an Observation, a Patient or a Bundle), or NDJSON with one resource
//! per line (FHIR Bulk Data). A file is NDJSON when it is named `.ndjson`/`.jsonl` or holds
//! more than one JSON value; a broken NDJSON line is one rejection, a broken JSON document is
//! [`ParseError::Malformed`]. Bundles of any type (collection, transaction, searchset, batch,
//! document, ...) are walked, and so are Bundles nested in entries. Entries without a resource
//! (a transaction's DELETE or GET) and resources other than Observation and Patient
//! (Encounter, OperationOutcome, ...) are passed over without a word.
//!
//! Observations, by LOINC code ([`Kind::loinc`](crate::domain::Kind::loinc), the FHIR vital-signs profile
//! <http://hl7.org/fhir/R4/observation-vitalsigns.html>):
//! - heart rate 8867-4, SpO2 2708-6 or 59408-5, respiratory rate 9279-1, body temperature
//!   8310-5, body weight 29463-7, HRV SDNN 80404-7, steps 55423-8, blood glucose 15074-8 (or
//!   2339-0, 41653-7, 14743-9; mg/dL converts to mmol/L): `valueQuantity`, converted
//!   from its UCUM `code` (or, without a code, its `unit` text) by [`super::units`];
//! - blood pressure panel 85354-9 (or the older 55284-4): `component`s 8480-6 (systolic) and
//!   8462-4 (diastolic); other components are rejected one by one;
//! - vital-signs panel 85353-1 (and any Observation with `hasMember`): yields no reading itself.
//!   Its members are Observations in their own right: a member that is also in the file is
//!   imported once, as itself; a contained member (`#id`) is imported through the panel, taking
//!   the panel's subject and time when it has none; a member that is not in the file is
//!   rejected ("not in this file"), so the report shows what is missing.
//! - `dataAbsentReason` (on the Observation or on a component) gives an explicit absence, never
//!   a number; a value and an absent reason together are rejected (FHIR invariant obs-6).
//! - An Observation with any other code is rejected as "unsupported code", so the import report
//!   shows what was left out. Status `entered-in-error`, `cancelled` and `registered` are
//!   rejected (no result); `final`, `amended`, `corrected`, `preliminary`, `unknown` or no
//!   status are accepted.
//!
//! Time: `effectiveDateTime`, `effectivePeriod.start` (else `.end`) or `effectiveInstant`.
//! A full date-time must have an offset; a date alone (`1999-07-02`, common in the official
//! examples) is taken as midnight UTC of that date; a year or year-month alone is rejected.
//!
//! Patients: a Patient resource becomes a [`ParsedPatient`](super::ParsedPatient) whose MRN is the identifier typed
//! `MR` (v2-0203), else the first identifier with a value; name "Given Family" from the
//! `official` name (else the first), or its `text` (empty when it has none: the import matches
//! by MRN); `birthDate` when it is a full date; `gender`. A Patient without identifier is
//! rejected. An Observation's `subject` that
//! references a Patient in the same file (by `Patient/<id>` or by the entry's `fullUrl`) gives
//! that patient's MRN; a `subject.identifier` gives its value as MRN; a reference to a Vigil
//! patient id (`Patient/<uuid>`, `urn:uuid:<uuid>`) that is not in the file is looked up in the
//! store by the import. Any other subject that is not in the file (`Patient/p3`, a contained
//! `#p`, another server's URL, a display text alone) is rejected with its reference: only an
//! Observation with no `subject` at all takes the import's `--patient`. A subject that is not a
//! Patient (`Group/..`, `Device/..`) is rejected.
//!
//! A key repeated within one JSON object is refused (`strict_json`): the whole file when it is
//! one document, the line in NDJSON.
//!
//! Locations name the element: `Bundle.entry[3].resource(Observation/bp) component[1]`; NDJSON
//! locations add the line. The sink hears, in order: structural rejections (broken NDJSON lines,
//! entries that are not resources), Patients, then Observations in file order. Each Observation
//! in the file is read once; one that appears twice (in two nested Bundles) gives its readings
//! twice, and the store's deduplication keeps one.
//!
//! Memory (issue 12) stays bounded whatever the file's size: the file is read as a stream
//! (`stream.rs`), holding one resource at a time (at most [`MAX_RESOURCE_BYTES`] of its JSON;
//! past that a document is refused naming the entry, line and byte offset, and an NDJSON line
//! is rejected) plus what must be known about the whole file, which grows with its Patients and
//! its distinct references, never with its Observations. Because an Observation's subject may be
//! a Patient that comes later in the file (and the import must see every Patient first to match
//! identities, `workstation/identity.rs`), the file is read more than once, which is why the
//! reader must be seekable:
//! 1. every resource is read and nothing is reported: the file's shape (one document or NDJSON)
//!    is settled, its Patients are read and kept with their `Type/id` and `fullUrl`, the
//!    references its Observations make (`subject`, `hasMember`) are collected, and its
//!    structural rejections are counted;
//! 2. only when needed: references that no Patient answers are looked for among the other
//!    resources (`hasMember` names an Observation, a subject names a Group), and the structural
//!    rejections are reported (broken NDJSON lines in a pass of their own when there are both
//!    kinds, to keep the order below);
//! 3. the Patients are reported, then every Observation is read and reported.
//!
//! So a Bundle of Observations whose Patients are in the file is read twice.

mod index;
mod ndjson;
mod observation;
mod patient;
mod stream;
mod strict_json;

use std::cell::RefCell;
use std::collections::HashSet;
use std::io::{BufRead, Seek, SeekFrom};
use std::ops::ControlFlow;

use serde_json::Value;

use super::{Location, ParseError, ParsedPatient, RecordSink, Rejection};
use index::Index;
use observation::{Found, Observations};
pub use stream::MAX_RESOURCE_BYTES;
use stream::{Emit, Ended, Event, Mode};

/// Parses a FHIR JSON or NDJSON file and reports every reading, patient and rejection to `sink`.
/// The reader is read from its position at the call, several times (module documentation).
pub fn parse<R, S>(file: &str, mut input: R, sink: &mut S) -> Result<(), ParseError>
where
    R: BufRead + Seek,
    S: RecordSink + ?Sized,
{
    let start = input.stream_position().map_err(|source| ParseError::Io { file: file.to_owned(), source })?;
    let lower = file.to_ascii_lowercase();
    let named_ndjson = lower.ends_with(".ndjson") || lower.ends_with(".jsonl");
    let mut mode = if named_ndjson { Mode::Ndjson } else { Mode::Document };

    // 1. Read everything, report nothing.
    let scan = loop {
        let mut scan = Scan::new(file);
        let ended = pass(file, mode, &mut input, start, &mut |event: Event<'_>| {
            scan.see(event);
            sink.keep_going()
        })?;
        match ended {
            // More than one JSON value: NDJSON whatever its name, read again as such.
            Ended::MoreThanOneValue => mode = Mode::Ndjson,
            Ended::Done => break scan,
        }
    };
    let Scan { patients, mut index, references, broken, rejected, .. } = scan;

    // 2. Find what Patients do not answer, and report the structural rejections.
    let wanted: HashSet<String> = references
        .into_inner()
        .into_iter()
        .filter(|reference| index.find(reference).is_none())
        .flat_map(|reference| {
            let derived = index::derived_key(&reference);
            std::iter::once(reference).chain(derived)
        })
        .collect();
    if !wanted.is_empty() || broken > 0 || rejected > 0 {
        once(file, mode, &mut input, start, &mut |event: Event<'_>| match event {
            Event::Resource(entry) => {
                if !wanted.is_empty() {
                    index.add_wanted(&entry, &wanted);
                }
                sink.keep_going()
            }
            Event::Broken(rejection) => sink.reject(rejection),
            Event::Rejected(rejection) if broken == 0 => sink.reject(rejection),
            Event::Rejected(_) => ControlFlow::Continue(()),
        })?;
    }
    if broken > 0 && rejected > 0 {
        once(file, mode, &mut input, start, &mut |event: Event<'_>| match event {
            Event::Rejected(rejection) => sink.reject(rejection),
            _ => ControlFlow::Continue(()),
        })?;
    }

    // 3. Patients, then Observations.
    for patient in patients {
        let flow = match patient {
            Ok(patient) => sink.patient(patient),
            Err(rejection) => sink.reject(rejection),
        };
        if flow.is_break() {
            return Err(ParseError::Cancelled);
        }
    }
    let mut observations = Observations::default();
    once(file, mode, &mut input, start, &mut |event: Event<'_>| match event {
        Event::Resource(entry) if entry.resource_type == "Observation" => {
            let subject = |value: &Value| index.subject(value);
            for found in observations.read(entry.resource, None, &subject) {
                match found {
                    Found::Record(record) => sink.record(record)?,
                    Found::Rejected { suffix, reason } => {
                        sink.reject(Rejection { location: entry.location(file, &suffix), reason })?;
                    }
                    Found::Member { suffix, reference } => {
                        if index.find(&reference).is_none() {
                            let reason = format!("hasMember '{reference}' is not in this file");
                            sink.reject(Rejection { location: entry.location(file, &suffix), reason })?;
                        }
                    }
                }
            }
            ControlFlow::Continue(())
        }
        _ => ControlFlow::Continue(()),
    })
}

/// One reading of the file from `start`, after a byte-order mark.
fn pass<R: BufRead + Seek>(
    file: &str,
    mode: Mode,
    input: &mut R,
    start: u64,
    emit: &mut Emit<'_>,
) -> Result<Ended, ParseError> {
    let io = |source| ParseError::Io { file: file.to_owned(), source };
    input.seek(SeekFrom::Start(start)).map_err(io)?;
    let bom = input.fill_buf().map_err(io)?.starts_with(b"\xEF\xBB\xBF");
    if bom {
        input.consume(3);
    }
    stream::read(file, mode, &mut *input, start + if bom { 3 } else { 0 }, emit)
}

/// A reading after the first, whose shape is settled.
fn once<R: BufRead + Seek>(
    file: &str,
    mode: Mode,
    input: &mut R,
    start: u64,
    emit: &mut Emit<'_>,
) -> Result<(), ParseError> {
    match pass(file, mode, input, start, emit)? {
        Ended::Done => Ok(()),
        Ended::MoreThanOneValue => Err(ParseError::Malformed {
            location: Location { file: file.to_owned(), line: None, element: None },
            reason: "the file changed while it was read".into(),
        }),
    }
}

/// What the first reading keeps: the Patients, the references to resolve, counts.
struct Scan<'f> {
    file: &'f str,
    /// The Patients, or why one was rejected, in file order.
    patients: Vec<Result<ParsedPatient, Rejection>>,
    /// Where each Patient is (`Patient/<id>`, `fullUrl`).
    index: Index,
    /// The distinct references the Observations make.
    references: RefCell<HashSet<String>>,
    /// Broken NDJSON lines.
    broken: u64,
    /// Other structural rejections.
    rejected: u64,
    observations: Observations,
}

impl<'f> Scan<'f> {
    fn new(file: &'f str) -> Self {
        Self {
            file,
            patients: Vec::new(),
            index: Index::default(),
            references: RefCell::default(),
            broken: 0,
            rejected: 0,
            observations: Observations::default(),
        }
    }

    fn see(&mut self, event: Event<'_>) {
        let entry = match event {
            Event::Broken(_) => {
                self.broken += 1;
                return;
            }
            Event::Rejected(_) => {
                self.rejected += 1;
                return;
            }
            Event::Resource(entry) => entry,
        };
        match entry.resource_type {
            "Patient" => match patient::read(entry.resource) {
                Ok(patient) => {
                    self.index.add_patient(&entry, Some(&patient.mrn));
                    self.patients.push(Ok(patient));
                }
                Err(reason) => {
                    self.index.add_patient(&entry, None);
                    self.patients.push(Err(Rejection { location: entry.location(self.file, ""), reason }));
                }
            },
            "Observation" => {
                // The same reading as the last pass, so every reference it will look up is here.
                let note = |reference: &str| {
                    let mut references = self.references.borrow_mut();
                    if !references.contains(reference) {
                        references.insert(reference.to_owned());
                    }
                };
                let subject = |value: &Value| {
                    if let Some(reference) = value.get("reference").and_then(Value::as_str) {
                        note(reference);
                    }
                    Ok(None)
                };
                for found in self.observations.read(entry.resource, None, &subject) {
                    if let Found::Member { reference, .. } = found {
                        note(&reference);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The JSON type of a value, for reasons.
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

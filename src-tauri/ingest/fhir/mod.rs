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
//!   8310-5, body weight 29463-7, HRV SDNN 80404-7, steps 55423-8: `valueQuantity`, converted
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
//! twice, and the store's deduplication keeps one. The whole file is held in memory.

mod observation;
mod patient;
mod strict_json;

use std::collections::HashMap;
use std::io::BufRead;
use std::ops::ControlFlow;

use serde_json::Value;

use super::{Location, ParseError, RecordSink, Rejection};
use crate::domain::PatientRef;
use observation::{Found, Observations};

/// Parses a FHIR JSON or NDJSON file and reports every reading, patient and rejection to `sink`.
pub fn parse<S: RecordSink + ?Sized>(
    file: &str,
    mut input: impl BufRead,
    sink: &mut S,
) -> Result<(), ParseError> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).map_err(|source| ParseError::Io { file: file.to_owned(), source })?;
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    let lower = file.to_ascii_lowercase();
    let named_ndjson = lower.ends_with(".ndjson") || lower.ends_with(".jsonl");
    let mut documents = Vec::new();
    let mut early = Vec::new();
    match strict_json::from_slice(text) {
        Ok(value) if !named_ndjson => documents.push((value, None)),
        Err(e) if !named_ndjson && !e.to_string().starts_with("trailing characters") => {
            let location = Location { file: file.to_owned(), line: Some(e.line() as u64), element: None };
            return Err(ParseError::Malformed { location, reason: format!("not valid JSON: {e}") });
        }
        _ => {
            for (i, line) in text.split(|&b| b == b'\n').enumerate() {
                let line_number = i as u64 + 1;
                let line = line.trim_ascii();
                if line.is_empty() {
                    continue;
                }
                match strict_json::from_slice(line) {
                    Ok(value) => documents.push((value, Some(line_number))),
                    Err(e) => early.push(Rejection {
                        location: Location { file: file.to_owned(), line: Some(line_number), element: None },
                        reason: format!("not valid JSON: {e}"),
                    }),
                }
            }
        }
    }
    let mut walk = Walk { file, entries: Vec::new(), rejections: early };
    for (value, line) in &documents {
        walk.resource(value, String::new(), None, *line);
    }
    let Walk { entries, rejections, .. } = walk;
    let flow = rejections.into_iter().try_for_each(|r| sink.reject(r));
    if flow.is_break() || Import::new(file, &entries).run(sink).is_break() {
        return Err(ParseError::Cancelled);
    }
    Ok(())
}

/// A resource found in the file, and where.
#[derive(Debug)]
struct Entry<'a> {
    resource: &'a Value,
    resource_type: &'a str,
    id: Option<&'a str>,
    full_url: Option<&'a str>,
    /// `Bundle.entry[3].resource(Observation/bp)`, or `Observation/bp` at the top level.
    path: String,
    /// The NDJSON line.
    line: Option<u64>,
}

impl Entry<'_> {
    fn location(&self, file: &str, suffix: &str) -> Location {
        Location { file: file.to_owned(), line: self.line, element: Some(format!("{}{suffix}", self.path)) }
    }
}

/// Collects the resources of the documents, descending into Bundles.
struct Walk<'f, 'a> {
    file: &'f str,
    entries: Vec<Entry<'a>>,
    rejections: Vec<Rejection>,
}

impl<'a> Walk<'_, 'a> {
    /// `prefix` is the path of the entry holding the resource (empty at the top level).
    fn resource(&mut self, value: &'a Value, prefix: String, full_url: Option<&'a str>, line: Option<u64>) {
        let reject = |this: &mut Self, element: String, reason: String| {
            let element = if element.is_empty() { None } else { Some(element) };
            this.rejections
                .push(Rejection { location: Location { file: this.file.to_owned(), line, element }, reason });
        };
        let Some(object) = value.as_object() else {
            return reject(
                self,
                prefix,
                format!("expected a FHIR resource (a JSON object), found {}", json_type(value)),
            );
        };
        let Some(resource_type) = object.get("resourceType").and_then(Value::as_str) else {
            return reject(self, prefix, "not a FHIR resource: no resourceType".into());
        };
        let id = object.get("id").and_then(Value::as_str);
        let label = match id {
            Some(id) => format!("{resource_type}/{id}"),
            None => resource_type.to_owned(),
        };
        let path = if prefix.is_empty() { label } else { format!("{prefix}.resource({label})") };
        if resource_type != "Bundle" {
            self.entries.push(Entry { resource: value, resource_type, id, full_url, path, line });
            return;
        }
        let path = if prefix.is_empty() { "Bundle".to_owned() } else { path };
        let entries = match object.get("entry") {
            None => return,
            Some(Value::Array(entries)) => entries,
            Some(other) => {
                return reject(self, path, format!("Bundle.entry is {}, not an array", json_type(other)));
            }
        };
        for (i, entry) in entries.iter().enumerate() {
            let entry_path = format!("{path}.entry[{i}]");
            match entry.get("resource") {
                Some(resource) => {
                    let full_url = entry.get("fullUrl").and_then(Value::as_str);
                    self.resource(resource, entry_path, full_url, line);
                }
                None => {
                    let method = entry.pointer("/request/method").and_then(Value::as_str);
                    if !matches!(method, Some("DELETE" | "GET" | "HEAD")) {
                        reject(self, entry_path, "the entry has no resource".into());
                    }
                }
            }
        }
    }
}

/// The second pass: patients first, then observations, with references resolved in the file.
struct Import<'f, 'e, 'a> {
    file: &'f str,
    entries: &'e [Entry<'a>],
    /// `Type/id` and `fullUrl` to the entry's index.
    index: HashMap<String, usize>,
    /// Each Patient entry's MRN, or `None` when the Patient was rejected.
    mrns: HashMap<usize, Option<String>>,
}

impl<'f, 'e, 'a> Import<'f, 'e, 'a> {
    fn new(file: &'f str, entries: &'e [Entry<'a>]) -> Self {
        let mut index = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            if let Some(id) = entry.id {
                index.entry(format!("{}/{id}", entry.resource_type)).or_insert(i);
            }
            if let Some(url) = entry.full_url {
                index.entry(url.to_owned()).or_insert(i);
            }
        }
        Self { file, entries, index, mrns: HashMap::new() }
    }

    fn run<S: RecordSink + ?Sized>(mut self, sink: &mut S) -> ControlFlow<()> {
        for (i, entry) in self.entries.iter().enumerate().filter(|(_, e)| e.resource_type == "Patient") {
            match patient::read(entry.resource) {
                Ok(patient) => {
                    self.mrns.insert(i, Some(patient.mrn.clone()));
                    sink.patient(patient)?;
                }
                Err(reason) => {
                    self.mrns.insert(i, None);
                    sink.reject(Rejection { location: entry.location(self.file, ""), reason })?;
                }
            }
        }
        let mut observations = Observations::default();
        for entry in self.entries.iter().filter(|e| e.resource_type == "Observation") {
            let subject = |value: &Value| self.subject(value);
            for found in observations.read(entry.resource, None, &subject) {
                match found {
                    Found::Record(record) => sink.record(record)?,
                    Found::Rejected { suffix, reason } => {
                        sink.reject(Rejection { location: entry.location(self.file, &suffix), reason })?
                    }
                    Found::Member { suffix, reference } => {
                        if self.find(&reference).is_none() {
                            let reason = format!("hasMember '{reference}' is not in this file");
                            sink.reject(Rejection { location: entry.location(self.file, &suffix), reason })?;
                        }
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// Finds a reference: a `fullUrl`, `Type/id`, or an absolute URL ending in `Type/id`
    /// (`_history` stripped).
    fn find(&self, reference: &str) -> Option<usize> {
        if let Some(&i) = self.index.get(reference) {
            return Some(i);
        }
        let trimmed = match reference.split_once("/_history/") {
            Some((head, _)) => head,
            None => reference,
        };
        let mut parts = trimmed.rsplit('/');
        let id = parts.next()?;
        let resource_type = parts.next()?;
        self.index.get(&format!("{resource_type}/{id}")).copied()
    }

    /// The patient an Observation's `subject` names; see the module documentation.
    fn subject(&self, subject: &Value) -> Result<Option<PatientRef>, String> {
        if let Some(reference) = subject.get("reference") {
            let reference = reference.as_str().ok_or("subject.reference is not a string")?;
            if let Some(i) = self.find(reference) {
                let Some(entry) = self.entries.get(i) else { return Ok(None) };
                if entry.resource_type != "Patient" {
                    return Err(format!("subject '{reference}' is a {}, not a Patient", entry.resource_type));
                }
                return match self.mrns.get(&i) {
                    Some(Some(mrn)) => Ok(Some(PatientRef::Mrn(mrn.clone()))),
                    _ => Err(format!("subject '{reference}' is a Patient without a usable identifier (MRN)")),
                };
            }
            // Not in this file. A Vigil patient id (`Patient/<uuid>`, or the `urn:uuid:<uuid>`
            // that Vigil's own export uses) may name a patient in the store: the import looks
            // it up and rejects the record when it is not there. Anything else (`Patient/p3`, a
            // contained `#p`, another server's URL) names somebody this import cannot find:
            // rejected here, never given to --patient, which is only for records naming nobody.
            let trimmed = reference.split_once("/_history/").map_or(reference, |(head, _)| head);
            let mut parts = trimmed.rsplit('/');
            let (id, resource_type) = (parts.next().unwrap_or(""), parts.next());
            if resource_type
                .is_some_and(|t| t != "Patient" && t.starts_with(|c: char| c.is_ascii_uppercase()))
            {
                return Err(format!("subject '{reference}' is not a Patient"));
            }
            let uuid = match trimmed.strip_prefix("urn:uuid:") {
                Some(uuid) => Some(uuid),
                None if resource_type == Some("Patient") => Some(id),
                None => None,
            };
            if let Some(PatientRef::Id(id)) = uuid.map(PatientRef::parse) {
                return Ok(Some(PatientRef::Id(id)));
            }
            return Err(format!(
                "subject '{reference}' names a patient that is not in this file and is not a Vigil \
                 patient id, so this record cannot be matched to anyone; it was not stored (--patient \
                 applies only to records that name nobody). Put the Patient resource in the file, or \
                 give the subject an MRN identifier"
            ));
        }
        if let Some(value) = subject.pointer("/identifier/value") {
            let value = value.as_str().ok_or("subject.identifier.value is not a string")?.trim();
            if !value.is_empty() {
                return Ok(Some(PatientRef::Mrn(value.to_owned())));
            }
        }
        // A subject that is there but names nobody we can find (a display text alone, an empty
        // identifier) still names somebody: never hand its records to --patient.
        Err("subject has neither a reference nor an identifier value, so this record cannot be matched \
             to a patient; it was not stored"
            .to_owned())
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

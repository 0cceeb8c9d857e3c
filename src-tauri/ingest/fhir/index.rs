//! The resources of a file that references can name: every Patient, and the other resources
//! only where a reference names them (module documentation of `fhir`, step 2), so the index
//! grows with the file's Patients and references, never with its Observations.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::stream::Entry;
use crate::domain::PatientRef;

/// What a key (`Type/id` or a `fullUrl`) names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// A Patient, with its MRN; `None` when the Patient was rejected.
    Patient(Option<String>),
    /// Another resource, by type.
    Other(String),
}

/// Keys to the resources they name; the first resource with a key keeps it.
#[derive(Debug, Default)]
pub(super) struct Index {
    targets: HashMap<String, Target>,
}

/// A resource's keys: `Type/id` and its entry's `fullUrl`.
fn keys(entry: &Entry<'_>) -> impl Iterator<Item = String> {
    let id = entry.id.map(|id| format!("{}/{id}", entry.resource_type));
    id.into_iter().chain(entry.full_url.map(str::to_owned))
}

/// The `Type/id` a reference ends in (an absolute URL, `_history` stripped).
pub(super) fn derived_key(reference: &str) -> Option<String> {
    let trimmed = reference.split_once("/_history/").map_or(reference, |(head, _)| head);
    let mut parts = trimmed.rsplit('/');
    let id = parts.next()?;
    let resource_type = parts.next()?;
    Some(format!("{resource_type}/{id}"))
}

impl Index {
    /// A Patient of the file, with its MRN when it was read.
    pub(super) fn add_patient(&mut self, entry: &Entry<'_>, mrn: Option<&str>) {
        for key in keys(entry) {
            self.targets.entry(key).or_insert_with(|| Target::Patient(mrn.map(str::to_owned)));
        }
    }

    /// Another resource, under those of its keys that a reference wants.
    pub(super) fn add_wanted(&mut self, entry: &Entry<'_>, wanted: &HashSet<String>) {
        if entry.resource_type == "Patient" {
            return;
        }
        for key in keys(entry).filter(|key| wanted.contains(key)) {
            self.targets.entry(key).or_insert_with(|| Target::Other(entry.resource_type.to_owned()));
        }
    }

    /// Finds a reference: a `fullUrl`, `Type/id`, or an absolute URL ending in `Type/id`
    /// (`_history` stripped).
    pub(super) fn find(&self, reference: &str) -> Option<&Target> {
        if let Some(target) = self.targets.get(reference) {
            return Some(target);
        }
        self.targets.get(&derived_key(reference)?)
    }

    /// The patient an Observation's `subject` names; see the module documentation.
    pub(super) fn subject(&self, subject: &Value) -> Result<Option<PatientRef>, String> {
        if let Some(reference) = subject.get("reference") {
            let reference = reference.as_str().ok_or("subject.reference is not a string")?;
            match self.find(reference) {
                Some(Target::Patient(Some(mrn))) => return Ok(Some(PatientRef::Mrn(mrn.clone()))),
                Some(Target::Patient(None)) => {
                    return Err(format!(
                        "subject '{reference}' is a Patient without a usable identifier (MRN)"
                    ));
                }
                Some(Target::Other(resource_type)) => {
                    return Err(format!("subject '{reference}' is a {resource_type}, not a Patient"));
                }
                None => {}
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

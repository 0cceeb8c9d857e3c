//! FHIR Observation → readings; the rules are in the module documentation of `fhir`.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use serde_json::{Map, Value};

use super::json_type;
use crate::domain::{AbsentReason, Kind, ObservationValue, PatientRef};
use crate::ingest::csv::{TimeParser, shown};
use crate::ingest::units::ToKind;
use crate::ingest::{ParsedRecord, check_plausible};

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";

/// What an Observation yields; a suffix (` component[1]`) locates it within the Observation.
#[derive(Debug)]
pub(super) enum Found {
    /// An accepted reading.
    Record(ParsedRecord),
    /// A rejected Observation, component or member.
    Rejected { suffix: String, reason: String },
    /// A `hasMember` reference to resolve in the file.
    Member { suffix: String, reference: String },
}

/// What a code means to Vigil.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    Reading(Kind),
    BloodPressurePanel,
    VitalSignsPanel,
}

fn code_of(loinc: &str) -> Option<Code> {
    match loinc {
        "85354-9" | "55284-4" => Some(Code::BloodPressurePanel),
        "85353-1" => Some(Code::VitalSignsPanel),
        "59408-5" => Some(Code::Reading(Kind::Spo2)),
        // Blood glucose by other LOINC codes: 2339-0 "Glucose [Mass/volume] in Blood", and the
        // glucometer's 41653-7 (mass) and 14743-9 (moles) "... in Capillary blood by
        // Glucometer". The unit converts to mmol/L (`units::ToKind`).
        "2339-0" | "41653-7" | "14743-9" => Some(Code::Reading(Kind::BloodGlucose)),
        other => Kind::ALL.into_iter().find(|k| k.loinc() == Some(other)).map(Code::Reading),
    }
}

/// Resolves an Observation's `subject` to a patient (see `Import::subject`).
pub(super) type Subject<'s> = dyn Fn(&Value) -> Result<Option<PatientRef>, String> + 's;

/// Reads Observations, keeping the time parser's cache between them.
#[derive(Debug, Default)]
pub(super) struct Observations {
    times: TimeParser,
}

impl Observations {
    /// Reads one Observation; `panel` is the Observation that contains it, when it is a
    /// contained member, whose subject and time it inherits.
    pub(super) fn read(&mut self, obs: &Value, panel: Option<&Value>, subject: &Subject<'_>) -> Vec<Found> {
        let mut found = Vec::new();
        if let Err(reason) = self.read_into(obs, panel, subject, &mut found) {
            found.push(Found::Rejected { suffix: String::new(), reason });
        }
        found
    }

    fn read_into(
        &mut self,
        obs: &Value,
        panel: Option<&Value>,
        subject: &Subject<'_>,
        found: &mut Vec<Found>,
    ) -> Result<(), String> {
        let object = obs.as_object().ok_or_else(|| format!("is {}, not an object", json_type(obs)))?;
        status(object)?;
        let code = code(object);
        let has_members = object.contains_key("hasMember");
        if has_members {
            self.members(obs, object, subject, found);
        }
        let code = match code {
            Ok(Code::VitalSignsPanel) => return Ok(()),
            Err(_) if has_members => return Ok(()),
            other => other?,
        };
        let inherited = |key: &str| object.get(key).or_else(|| panel.and_then(|p| p.get(key)));
        let patient = match inherited("subject") {
            Some(s) => subject(s)?,
            None => None,
        };
        let effective = match self.effective(object)? {
            Some(t) => t,
            None => match panel.and_then(Value::as_object) {
                Some(p) => self.effective(p)?.ok_or_else(no_time)?,
                None => return Err(no_time()),
            },
        };
        let record = |kind, value| ParsedRecord { patient: patient.clone(), kind, value, effective };
        match code {
            Code::Reading(kind) => found.push(Found::Record(record(kind, value(object, kind)?))),
            Code::BloodPressurePanel => match object.get("component") {
                Some(Value::Array(components)) if !components.is_empty() => {
                    for (i, component) in components.iter().enumerate() {
                        let suffix = format!(" component[{i}]");
                        match blood_pressure(component) {
                            Ok((kind, value)) => found.push(Found::Record(record(kind, value))),
                            Err(reason) => found.push(Found::Rejected { suffix, reason }),
                        }
                    }
                }
                Some(Value::Array(_)) | None => match object.get("dataAbsentReason") {
                    Some(dar) => {
                        let reason = absent_reason(dar)?;
                        for kind in [Kind::BpSystolic, Kind::BpDiastolic] {
                            found.push(Found::Record(record(kind, ObservationValue::Absent(reason))));
                        }
                    }
                    None => return Err("blood-pressure panel without component or dataAbsentReason".into()),
                },
                Some(other) => return Err(format!("component is {}, not an array", json_type(other))),
            },
            Code::VitalSignsPanel => {}
        }
        Ok(())
    }

    /// Contained members are read here; the others are left to the caller to resolve.
    fn members(
        &mut self,
        panel: &Value,
        object: &Map<String, Value>,
        subject: &Subject<'_>,
        found: &mut Vec<Found>,
    ) {
        let members = match object.get("hasMember") {
            Some(Value::Array(members)) => members,
            Some(other) => {
                let reason = format!("hasMember is {}, not an array", json_type(other));
                return found.push(Found::Rejected { suffix: String::new(), reason });
            }
            None => return,
        };
        let contained: HashMap<&str, &Value> = match object.get("contained") {
            Some(Value::Array(list)) => {
                list.iter().filter_map(|r| Some((r.get("id")?.as_str()?, r))).rev().collect()
            }
            _ => HashMap::new(),
        };
        for (i, member) in members.iter().enumerate() {
            let suffix = format!(" hasMember[{i}]");
            let Some(reference) = member.get("reference").and_then(Value::as_str) else {
                let reason = "has no reference (a string)".to_owned();
                found.push(Found::Rejected { suffix, reason });
                continue;
            };
            let Some(local) = reference.strip_prefix('#') else {
                found.push(Found::Member { suffix, reference: reference.to_owned() });
                continue;
            };
            let contained = contained.get(local).copied();
            match contained {
                Some(member) if member.get("resourceType").and_then(Value::as_str) == Some("Observation") => {
                    let prefix = format!("{suffix}({reference})");
                    for item in self.read(member, Some(panel), subject) {
                        found.push(match item {
                            Found::Rejected { suffix, reason } => {
                                Found::Rejected { suffix: format!("{prefix}{suffix}"), reason }
                            }
                            Found::Member { suffix, reference } => {
                                Found::Member { suffix: format!("{prefix}{suffix}"), reference }
                            }
                            record => record,
                        });
                    }
                }
                Some(_) => {
                    let reason = format!("hasMember '{}' is not an Observation", shown(reference.as_bytes()));
                    found.push(Found::Rejected { suffix, reason });
                }
                None => {
                    let reason = format!(
                        "hasMember '{}' is not among the contained resources",
                        shown(reference.as_bytes())
                    );
                    found.push(Found::Rejected { suffix, reason });
                }
            }
        }
    }

    fn effective(&mut self, object: &Map<String, Value>) -> Result<Option<DateTime<FixedOffset>>, String> {
        if let Some(v) = object.get("effectiveDateTime") {
            return self.date_time("effectiveDateTime", v).map(Some);
        }
        if let Some(period) = object.get("effectivePeriod") {
            let period =
                period.as_object().ok_or_else(|| format!("effectivePeriod is {}", json_type(period)))?;
            return match (period.get("start"), period.get("end")) {
                (Some(start), _) => self.date_time("effectivePeriod.start", start).map(Some),
                (None, Some(end)) => self.date_time("effectivePeriod.end", end).map(Some),
                (None, None) => Err("effectivePeriod has neither start nor end".into()),
            };
        }
        if let Some(v) = object.get("effectiveInstant") {
            return self.date_time("effectiveInstant", v).map(Some);
        }
        if object.contains_key("effectiveTiming") {
            return Err("effectiveTiming is not supported: a reading needs one time".into());
        }
        Ok(None)
    }

    fn date_time(&mut self, field: &str, value: &Value) -> Result<DateTime<FixedOffset>, String> {
        let text = value.as_str().ok_or_else(|| format!("{field} is {}, not a string", json_type(value)))?;
        let bytes = text.as_bytes();
        let partial = |n: usize| bytes.len() == n && bytes.iter().all(|b| b.is_ascii_digit() || *b == b'-');
        if partial(4) || partial(7) {
            return Err(format!(
                "{field}: '{text}' is only a year or year-month: too imprecise for a reading"
            ));
        }
        if bytes.len() == 10 {
            if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                return Ok(date.and_time(NaiveTime::MIN).and_utc().fixed_offset());
            }
        }
        self.times.parse(field, bytes)
    }
}

fn no_time() -> String {
    "no effective time (effectiveDateTime, effectivePeriod or effectiveInstant)".into()
}

fn status(object: &Map<String, Value>) -> Result<(), String> {
    match object.get("status") {
        None => Ok(()),
        Some(Value::String(s)) => match s.as_str() {
            "final" | "amended" | "corrected" | "preliminary" | "unknown" => Ok(()),
            "entered-in-error" | "cancelled" | "registered" => {
                Err(format!("status is '{s}': no result to import"))
            }
            other => Err(format!("status '{}' is not an Observation status", shown(other.as_bytes()))),
        },
        Some(other) => Err(format!("status is {}, not a string", json_type(other))),
    }
}

/// The first LOINC coding Vigil reads; else an "unsupported code" reason naming the first coding.
fn code(object: &Map<String, Value>) -> Result<Code, String> {
    let code = object.get("code").ok_or("code is missing")?;
    codes(code, "code")
}

fn codes(code: &Value, field: &str) -> Result<Code, String> {
    let codings = match code.get("coding") {
        Some(Value::Array(codings)) => codings.as_slice(),
        None => &[],
        Some(other) => return Err(format!("{field}.coding is {}, not an array", json_type(other))),
    };
    let supported = codings.iter().find_map(|c| {
        let system = c.get("system").and_then(Value::as_str);
        let code = c.get("code").and_then(Value::as_str);
        if system == Some(LOINC) { code.and_then(code_of) } else { None }
    });
    if let Some(found) = supported {
        return Ok(found);
    }
    let first = codings.first().map(|c| {
        let system = c.get("system").and_then(Value::as_str).unwrap_or_default();
        let code = c.get("code").and_then(Value::as_str).unwrap_or_default();
        let display = c.get("display").and_then(Value::as_str).map(|d| format!(" ({d})")).unwrap_or_default();
        shown(format!("{system}|{code}{display}").as_bytes())
    });
    let text = code.get("text").and_then(Value::as_str).map(|t| format!("'{}'", shown(t.as_bytes())));
    match first.or(text) {
        Some(described) => Err(format!("unsupported {field} {described}")),
        None => Err(format!("{field} has no coding")),
    }
}

fn blood_pressure(component: &Value) -> Result<(Kind, ObservationValue), String> {
    let object =
        component.as_object().ok_or_else(|| format!("is {}, not an object", json_type(component)))?;
    let code = object.get("code").ok_or("code is missing")?;
    match codes(code, "code")? {
        Code::Reading(kind @ (Kind::BpSystolic | Kind::BpDiastolic)) => Ok((kind, value(object, kind)?)),
        _ => Err("code is not systolic (8480-6) or diastolic (8462-4) blood pressure".into()),
    }
}

/// The value of an Observation or component, in `kind.unit()`, or its absent reason.
fn value(object: &Map<String, Value>, kind: Kind) -> Result<ObservationValue, String> {
    match (object.get("valueQuantity"), object.get("dataAbsentReason")) {
        (Some(_), Some(_)) => {
            Err("has both valueQuantity and dataAbsentReason (FHIR invariant obs-6)".into())
        }
        (None, Some(dar)) => absent_reason(dar).map(ObservationValue::Absent),
        (Some(quantity), None) => quantity_value(quantity, kind),
        (None, None) => match object.keys().find(|k| k.starts_with("value")) {
            Some(key) => {
                Err(format!("{} is not a quantity: {kind} needs valueQuantity", shown(key.as_bytes())))
            }
            None => Err("no valueQuantity and no dataAbsentReason".into()),
        },
    }
}

fn absent_reason(dar: &Value) -> Result<AbsentReason, String> {
    let code = dar
        .get("coding")
        .and_then(Value::as_array)
        .and_then(|codings| codings.iter().find_map(|c| c.get("code").and_then(Value::as_str)))
        .ok_or("dataAbsentReason has no coding with a code")?;
    code.parse::<AbsentReason>().map_err(|_| {
        format!("dataAbsentReason: '{}' is not a data-absent-reason code", shown(code.as_bytes()))
    })
}

fn quantity_value(quantity: &Value, kind: Kind) -> Result<ObservationValue, String> {
    let quantity = quantity
        .as_object()
        .ok_or_else(|| format!("valueQuantity is {}, not an object", json_type(quantity)))?;
    let text = |key: &str| -> Result<Option<&str>, String> {
        match quantity.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(format!("valueQuantity.{key} is {}, not a string", json_type(other))),
        }
    };
    if let Some(comparator) = text("comparator")? {
        return Err(format!(
            "valueQuantity.comparator '{}': not an exact value",
            shown(comparator.as_bytes())
        ));
    }
    let number = match quantity.get("value") {
        None => return Err("valueQuantity.value is missing".into()),
        Some(v) => {
            v.as_f64().ok_or_else(|| format!("valueQuantity.value is {}, not a number", json_type(v)))?
        }
    };
    let (field, unit) = match (text("code")?, text("system")?, text("unit")?) {
        (Some(code), None | Some(UCUM), _) => ("code", code),
        (Some(_), Some(system), _) => {
            return Err(format!("valueQuantity.system '{}' is not UCUM ({UCUM})", shown(system.as_bytes())));
        }
        (None, _, Some(unit)) => ("unit", unit),
        (None, _, None) => return Err("valueQuantity has no unit (code or unit)".into()),
    };
    let convert = ToKind::new(kind, unit).map_err(|e| {
        let e = e.strip_prefix("unit: ").unwrap_or(&e);
        format!("valueQuantity.{field}: {e}")
    })?;
    check_plausible(kind, convert.apply(number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glucose_codes_map_to_blood_glucose() {
        for loinc in ["15074-8", "2339-0", "41653-7", "14743-9"] {
            assert_eq!(code_of(loinc), Some(Code::Reading(Kind::BloodGlucose)), "{loinc}");
        }
    }
}

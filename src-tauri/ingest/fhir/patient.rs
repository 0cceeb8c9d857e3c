//! FHIR Patient → [`ParsedPatient`]; the rules are in the module documentation of `fhir`.

use chrono::NaiveDate;
use serde_json::Value;

use crate::domain::Sex;
use crate::ingest::ParsedPatient;

/// Reads a Patient resource; the error is a rejection reason.
pub(super) fn read(patient: &Value) -> Result<ParsedPatient, String> {
    let mrn = mrn(patient)?;
    let name = name(patient)?;
    let birth_date = match patient.get("birthDate") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.len() == 10 => {
            Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
                format!("birthDate: '{}' is not a date", crate::ingest::csv::shown(text.as_bytes()))
            })?)
        }
        // A year or year-month alone is valid FHIR but no birth date to match on.
        Some(Value::String(_)) => None,
        Some(other) => return Err(format!("birthDate is {}, not a string", super::json_type(other))),
    };
    let sex = match patient.get("gender") {
        None | Some(Value::Null) => Sex::Unknown,
        Some(Value::String(code)) => code.parse::<Sex>().map_err(|e| format!("gender: {}", e.problem))?,
        Some(other) => return Err(format!("gender is {}, not a string", super::json_type(other))),
    };
    Ok(ParsedPatient { mrn, name, birth_date, sex })
}

/// The identifier typed MR (HL7 v2 table 0203), else the first identifier with a value.
fn mrn(patient: &Value) -> Result<String, String> {
    let identifiers = match patient.get("identifier") {
        None | Some(Value::Null) => return Err("the Patient has no identifier to use as MRN".into()),
        Some(Value::Array(list)) => list,
        Some(other) => return Err(format!("identifier is {}, not an array", super::json_type(other))),
    };
    fn value(identifier: &Value) -> Option<&str> {
        identifier.get("value").and_then(Value::as_str).map(str::trim).filter(|v| !v.is_empty())
    }
    let is_mr = |identifier: &Value| {
        identifier.pointer("/type/coding").and_then(Value::as_array).is_some_and(|codings| {
            codings.iter().any(|c| c.get("code").and_then(Value::as_str) == Some("MR"))
        })
    };
    identifiers
        .iter()
        .filter(|i| is_mr(i))
        .find_map(value)
        .or_else(|| identifiers.iter().find_map(value))
        .map(str::to_owned)
        .ok_or_else(|| "the Patient has no identifier with a value to use as MRN".into())
}

/// "Given Family" from the official name, else the first; or the name's text.
fn name(patient: &Value) -> Result<String, String> {
    let names = match patient.get("name") {
        None | Some(Value::Null) => return Ok(String::new()),
        Some(Value::Array(list)) => list,
        Some(other) => return Err(format!("name is {}, not an array", super::json_type(other))),
    };
    let chosen = names
        .iter()
        .find(|n| n.get("use").and_then(Value::as_str) == Some("official"))
        .or_else(|| names.first());
    let Some(name) = chosen else { return Ok(String::new()) };
    let mut parts: Vec<&str> = Vec::new();
    if let Some(given) = name.get("given").and_then(Value::as_array) {
        parts.extend(given.iter().filter_map(Value::as_str));
    }
    if let Some(family) = name.get("family").and_then(Value::as_str) {
        parts.push(family);
    }
    let joined = parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ");
    if joined.is_empty() {
        return Ok(name.get("text").and_then(Value::as_str).unwrap_or_default().trim().to_owned());
    }
    Ok(joined)
}

//! FHIR R4 export: a `collection` Bundle holding the Patient and its Observations.
//!
//! Codes and units follow the FHIR R4 vital-signs profile
//! (<http://hl7.org/fhir/R4/observation-vitalsigns.html>): LOINC codes, UCUM units, category
//! `vital-signs`. Systolic and diastolic readings taken at the same instant from the same source
//! become one blood-pressure panel (85354-9) with components 8480-6 and 8462-4, as the profile
//! requires. Absent values carry `dataAbsentReason` and no value.

use std::collections::{HashMap, HashSet};

use serde_json::{Value, json};

use crate::domain::{AbsentReason, Kind, Observation, ObservationId, ObservationValue, Patient, SourceId};

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const DATA_ABSENT: &str = "http://terminology.hl7.org/CodeSystem/data-absent-reason";
const OBS_CATEGORY: &str = "http://terminology.hl7.org/CodeSystem/observation-category";
const BP_PANEL: &str = "85354-9";

/// The Bundle for one patient.
pub fn bundle(patient: &Patient, observations: &[Observation]) -> Value {
    let patient_url = format!("urn:uuid:{}", patient.id);
    let mut entries = vec![json!({ "fullUrl": patient_url, "resource": patient_resource(patient) })];

    // Pair blood pressures by (instant, source) before emitting anything: the store orders
    // rows by time then kind, so a diastolic comes before its systolic.
    let mut diastolic: HashMap<(i64, SourceId), &Observation> = observations
        .iter()
        .filter(|o| o.kind == Kind::BpDiastolic)
        .map(|o| ((o.effective.timestamp_millis(), o.source_id), o))
        .collect();
    let mut panels: HashMap<ObservationId, &Observation> = HashMap::new();
    let mut paired: HashSet<ObservationId> = HashSet::new();
    for sys in observations.iter().filter(|o| o.kind == Kind::BpSystolic) {
        if let Some(dia) = diastolic.remove(&(sys.effective.timestamp_millis(), sys.source_id)) {
            panels.insert(sys.id, dia);
            paired.insert(dia.id);
        }
    }
    for obs in observations {
        if paired.contains(&obs.id) {
            continue;
        }
        let resource = match panels.get(&obs.id) {
            Some(dia) => bp_panel(obs, dia, &patient_url),
            None => single(obs, &patient_url),
        };
        entries.push(json!({ "fullUrl": format!("urn:uuid:{}", obs.id), "resource": resource }));
    }
    json!({ "resourceType": "Bundle", "type": "collection", "entry": entries })
}

fn patient_resource(patient: &Patient) -> Value {
    let mut words: Vec<&str> = patient.name.split_whitespace().collect();
    let family = if words.len() > 1 { words.pop() } else { None };
    let mut name = json!({ "text": patient.name, "given": words });
    if let Some(family) = family {
        name["family"] = json!(family);
    }
    let mut resource = json!({
        "resourceType": "Patient",
        "id": patient.id.to_string(),
        "identifier": [{
            "type": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR" }] },
            "value": patient.mrn,
        }],
        "name": [name],
        "gender": patient.sex.as_str(),
    });
    if let Some(born) = patient.birth_date {
        resource["birthDate"] = json!(born.to_string());
    }
    resource
}

fn is_vital_sign(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::HeartRate
            | Kind::Spo2
            | Kind::RespiratoryRate
            | Kind::BpSystolic
            | Kind::BpDiastolic
            | Kind::BodyTemperature
            | Kind::BodyWeight
    )
}

fn code(kind: Kind) -> Value {
    match kind.loinc() {
        Some(loinc) => json!({
            "coding": [{ "system": LOINC, "code": loinc, "display": kind.display() }],
            "text": kind.display(),
        }),
        None => json!({
            "coding": [{ "system": Kind::VIGIL_CODE_SYSTEM, "code": kind.as_str(), "display": kind.display() }],
            "text": kind.display(),
        }),
    }
}

fn value_fields(target: &mut Value, kind: Kind, value: ObservationValue) {
    match value {
        ObservationValue::Quantity(v) => {
            target["valueQuantity"] =
                json!({ "value": v, "unit": kind.unit(), "system": UCUM, "code": kind.unit() });
        }
        ObservationValue::Absent(reason) => {
            target["dataAbsentReason"] = absent(reason);
        }
    }
}

fn absent(reason: AbsentReason) -> Value {
    // IEEE 11073 "not at this resolution" has no FHIR code: send `error` and say why.
    match reason {
        AbsentReason::NotAtThisResolution => json!({
            "coding": [{ "system": DATA_ABSENT, "code": "error" }],
            "text": "not at this resolution (IEEE 11073-20601)",
        }),
        other => json!({ "coding": [{ "system": DATA_ABSENT, "code": other.as_str() }] }),
    }
}

fn base(obs: &Observation, patient_url: &str, code_value: Value, vital: bool) -> Value {
    let mut resource = json!({
        "resourceType": "Observation",
        "id": obs.id.to_string(),
        "status": "final",
        "code": code_value,
        "subject": { "reference": patient_url },
        "effectiveDateTime": obs.effective.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
    });
    if vital {
        resource["category"] = json!([{
            "coding": [{ "system": OBS_CATEGORY, "code": "vital-signs", "display": "Vital Signs" }]
        }]);
    }
    resource
}

fn single(obs: &Observation, patient_url: &str) -> Value {
    let mut resource = base(obs, patient_url, code(obs.kind), is_vital_sign(obs.kind));
    value_fields(&mut resource, obs.kind, obs.value);
    resource
}

fn bp_panel(systolic: &Observation, diastolic: &Observation, patient_url: &str) -> Value {
    let panel_code = json!({
        "coding": [{ "system": LOINC, "code": BP_PANEL, "display": "Blood pressure panel with all children optional" }],
        "text": "Blood pressure",
    });
    let mut resource = base(systolic, patient_url, panel_code, true);
    let component = |obs: &Observation| {
        let mut c = json!({ "code": code(obs.kind) });
        value_fields(&mut c, obs.kind, obs.value);
        c
    };
    resource["component"] = json!([component(systolic), component(diastolic)]);
    resource
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn bundle_holds_the_patient_then_observations_with_loinc_and_ucum() {
        let (patient, observations) = sample();
        let b = bundle(&patient, &observations);
        assert_eq!(b["resourceType"], "Bundle");
        assert_eq!(b["type"], "collection");
        let entries = b["entry"].as_array().unwrap();
        // patient + heart rate + BP panel (two readings) + weight + absent SpO2
        assert_eq!(entries.len(), 5);
        let p = &entries[0]["resource"];
        assert_eq!(p["identifier"][0]["value"], "MRN-1");
        assert_eq!(p["name"][0]["family"], "Example");
        assert_eq!(p["birthDate"], "1948-03-14");

        let hr = &entries[1]["resource"];
        assert_eq!(hr["code"]["coding"][0]["code"], "8867-4");
        assert_eq!(hr["valueQuantity"]["code"], "/min");
        assert_eq!(hr["valueQuantity"]["value"], 72.0);
        assert_eq!(hr["effectiveDateTime"], "2026-11-20T08:00:00+01:00");
        assert_eq!(hr["subject"]["reference"], entries[0]["fullUrl"]);
        assert_eq!(hr["category"][0]["coding"][0]["code"], "vital-signs");

        let bp = &entries[2]["resource"];
        assert_eq!(bp["code"]["coding"][0]["code"], "85354-9");
        assert_eq!(bp["component"][0]["code"]["coding"][0]["code"], "8480-6");
        assert_eq!(bp["component"][0]["valueQuantity"]["value"], 128.0);
        assert_eq!(bp["component"][1]["code"]["coding"][0]["code"], "8462-4");
        assert_eq!(bp["component"][1]["valueQuantity"]["code"], "mm[Hg]");
        assert!(bp.get("valueQuantity").is_none());

        let weight = &entries[3]["resource"];
        assert_eq!(weight["code"]["coding"][0]["code"], "29463-7");
        assert_eq!(weight["valueQuantity"]["value"], 78.25);
        assert_eq!(weight["effectiveDateTime"], "2026-11-20T07:00:00.250+01:00");

        let spo2 = &entries[4]["resource"];
        assert!(spo2.get("valueQuantity").is_none());
        assert_eq!(spo2["dataAbsentReason"]["coding"][0]["code"], "error");
    }

    #[test]
    fn blood_pressure_pairs_when_the_diastolic_comes_first() {
        // The store's order: same instant, kinds alphabetical, so bp_diastolic first.
        let (patient, mut observations) = sample();
        observations.swap(1, 2);
        observations.truncate(3);
        let b = bundle(&patient, &observations);
        let entries = b["entry"].as_array().unwrap();
        assert_eq!(entries.len(), 3, "patient, heart rate, one BP panel");
        assert_eq!(entries[2]["resource"]["code"]["coding"][0]["code"], "85354-9");
        assert_eq!(entries[2]["resource"]["component"][1]["valueQuantity"]["value"], 79.0);
    }

    #[test]
    fn an_unpaired_diastolic_is_exported_alone() {
        let (patient, mut observations) = sample();
        observations.remove(1);
        let b = bundle(&patient, &observations);
        let dia = &b["entry"][2]["resource"];
        assert_eq!(dia["code"]["coding"][0]["code"], "8462-4");
        assert_eq!(dia["valueQuantity"]["value"], 79.0);
    }
}

//! Exports of one patient's record: CSV in the long import shape, and FHIR R4.
//!
//! Pure: domain values in, text out.

mod fhir;

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::domain::{Observation, ObservationValue, Patient};

pub use fhir::bundle as fhir_bundle;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// `patient,time,kind,value,unit`, one row per observation: the CSV import's long shape,
    /// so an export imports back unchanged.
    Csv,
    /// A FHIR R4 `collection` Bundle: the Patient and its Observations with LOINC codes and
    /// UCUM units.
    Fhir,
}

impl ExportFormat {
    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Fhir => "fhir",
        }
    }
}

/// Renders a patient's observations in `format`.
pub fn render(format: ExportFormat, patient: &Patient, observations: &[Observation]) -> String {
    match format {
        ExportFormat::Csv => csv(patient, observations),
        ExportFormat::Fhir => {
            let mut text = serde_json::to_string_pretty(&fhir::bundle(patient, observations))
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            text.push('\n');
            text
        }
    }
}

/// The long CSV shape. Absent values are written as an empty value with the reason in the unit
/// column's place would be ambiguous, so they are left out of CSV (FHIR keeps them).
fn csv(patient: &Patient, observations: &[Observation]) -> String {
    let mut out = String::with_capacity(64 + observations.len() * 64);
    out.push_str("patient,time,kind,value,unit\n");
    for obs in observations {
        if let ObservationValue::Quantity(value) = obs.value {
            let _ = writeln!(
                out,
                "{},{},{},{},{}",
                csv_field(&patient.mrn),
                obs.effective.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                obs.kind.as_str(),
                value,
                obs.kind.unit()
            );
        }
    }
    out
}

fn csv_field(text: &str) -> String {
    let text = neutralise_formula(text);
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.into_owned()
    }
}

/// The characters that make a spreadsheet read a cell as a formula (OWASP, "CSV Injection":
/// `=`, `+`, `-`, `@`, tab and carriage return).
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A text cell that a spreadsheet would run as a formula gets a leading `'`, which spreadsheets
/// show as text (OWASP, "CSV Injection": <https://owasp.org/www-community/attacks/CSV_Injection>).
/// A plain number (`-5.2`, `+3`, `1e-3`) is left alone: it is read as a number, not a formula.
/// A cell that already starts with `'` gets one more, so [`unneutralise_formula`] (the CSV
/// import) gives back exactly the text that was exported.
pub fn neutralise_formula(text: &str) -> std::borrow::Cow<'_, str> {
    let risky = text.starts_with(FORMULA_STARTS) && !is_plain_number(text);
    if risky || text.starts_with('\'') {
        std::borrow::Cow::Owned(format!("'{text}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// The inverse of [`neutralise_formula`]: a cell `'` followed by a formula character or by
/// another `'` loses its first `'`. Any other text (a lone `'abc` written by someone else) is
/// kept as it is.
pub fn unneutralise_formula(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_STARTS) || rest.starts_with('\'') => rest,
        _ => text,
    }
}

/// `[+-]digits[.digits][(e|E)[+-]digits]`, with at least one digit before the exponent.
fn is_plain_number(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next().unwrap_or("");
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Consent, Kind, ObservationId, PatientId, Sex, SourceId};
    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    pub(super) fn sample() -> (Patient, Vec<Observation>) {
        let patient = Patient {
            id: PatientId::from_uuid(Uuid::from_u128(1)),
            mrn: "MRN-1".into(),
            name: "Ada Example".into(),
            birth_date: chrono::NaiveDate::from_ymd_opt(1948, 3, 14),
            sex: Sex::Female,
            consent: Consent::default(),
            created_at: DateTime::<Utc>::from_timestamp(0, 0).unwrap(),
        };
        let obs = |n: u128, kind, value, at: &str| Observation {
            id: ObservationId::from_uuid(Uuid::from_u128(n)),
            patient_id: patient.id,
            kind,
            value,
            effective: DateTime::parse_from_rfc3339(at).unwrap(),
            source_id: SourceId::from_uuid(Uuid::from_u128(99)),
            ingested_at: DateTime::<Utc>::from_timestamp(0, 0).unwrap(),
        };
        let q = ObservationValue::Quantity;
        let observations = vec![
            obs(10, Kind::HeartRate, q(72.0), "2026-11-20T08:00:00+01:00"),
            obs(11, Kind::BpSystolic, q(128.0), "2026-11-20T08:05:00+01:00"),
            obs(12, Kind::BpDiastolic, q(79.0), "2026-11-20T08:05:00+01:00"),
            obs(13, Kind::BodyWeight, q(78.25), "2026-11-20T07:00:00.250+01:00"),
            obs(
                14,
                Kind::Spo2,
                ObservationValue::Absent(crate::domain::AbsentReason::Error),
                "2026-11-20T08:10:00+01:00",
            ),
        ];
        (patient, observations)
    }

    #[test]
    fn csv_export_uses_the_long_import_shape_with_original_offsets() {
        let (patient, observations) = sample();
        let text = render(ExportFormat::Csv, &patient, &observations);
        assert_eq!(
            text,
            "patient,time,kind,value,unit\n\
             MRN-1,2026-11-20T08:00:00+01:00,heart_rate,72,/min\n\
             MRN-1,2026-11-20T08:05:00+01:00,bp_systolic,128,mm[Hg]\n\
             MRN-1,2026-11-20T08:05:00+01:00,bp_diastolic,79,mm[Hg]\n\
             MRN-1,2026-11-20T07:00:00.250+01:00,body_weight,78.25,kg\n"
        );
    }

    #[test]
    fn csv_formula_injection() {
        // OWASP's examples and each formula character: neutralised with a leading quote.
        for (cell, written) in [
            ("=HYPERLINK(\"http://x\",\"y\")", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "\"'\r=1+1\""),
            ("'=1", "''=1"),
            ("-inf", "'-inf"),
            ("-", "'-"),
        ] {
            assert_eq!(csv_field(cell), written, "{cell:?}");
            assert_eq!(unneutralise_formula(&neutralise_formula(cell)), cell, "{cell:?}");
        }
        // Numbers are numbers; ordinary text is untouched.
        for cell in ["-5.2", "+3", "1e-3", "-.5", "72", "MRN-1", "a=b"] {
            assert_eq!(csv_field(cell), cell);
        }
        assert_eq!(unneutralise_formula("'abc"), "'abc", "a foreign quote is kept");
        // A patient whose MRN is a formula is exported neutralised.
        let (mut patient, observations) = sample();
        patient.mrn = "=1+1".into();
        let text = render(ExportFormat::Csv, &patient, &observations);
        assert!(text.lines().skip(1).all(|l| l.starts_with("'=1+1,")), "{text}");
    }

    #[test]
    fn csv_fields_with_commas_are_quoted() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        // RFC 4180: a field holding a double quote is quoted, its quotes doubled.
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(csv_field("q\",x"), "\"q\"\",x\"");
    }
}

//! Patients: who is monitored, and what they consented to.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{InvalidField, PatientId};

/// Administrative sex, with the codes of FHIR R4 `AdministrativeGender`
/// (<http://hl7.org/fhir/R4/valueset-administrative-gender.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    /// `female`
    Female,
    /// `male`
    Male,
    /// `other`
    Other,
    /// `unknown`
    Unknown,
}

impl Sex {
    /// The FHIR code, also the stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
            Sex::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Sex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Sex {
    type Err = InvalidField;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "female" | "f" => Ok(Sex::Female),
            "male" | "m" => Ok(Sex::Male),
            "other" | "o" => Ok(Sex::Other),
            "unknown" | "u" => Ok(Sex::Unknown),
            other => {
                Err(InvalidField::new("sex", format!("'{other}' is not one of female, male, other, unknown")))
            }
        }
    }
}

/// What the patient agreed to. Each flag is off until recorded as given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    /// Remote monitoring of their data at this workstation.
    pub monitoring: bool,
    /// Sending their data to the clinic server.
    pub clinic_sync: bool,
    /// Use of their de-identified data for research.
    pub research: bool,
}

impl Consent {
    /// Nothing consented (the default, and what a file's new Patient starts with).
    pub const NONE: Consent = Consent { monitoring: false, clinic_sync: false, research: false };
    /// Every flag given.
    pub const FULL: Consent = Consent { monitoring: true, clinic_sync: true, research: true };

    /// The 8 combinations of the three flags, in a fixed order.
    pub fn every() -> [Consent; 8] {
        std::array::from_fn(|i| Consent {
            monitoring: i & 1 != 0,
            clinic_sync: i & 2 != 0,
            research: i & 4 != 0,
        })
    }

    /// The names of the flags given (`monitoring`, `clinic_sync`, `research`), in that order.
    pub fn names(self) -> Vec<&'static str> {
        [("monitoring", self.monitoring), ("clinic_sync", self.clinic_sync), ("research", self.research)]
            .into_iter()
            .filter_map(|(name, on)| on.then_some(name))
            .collect()
    }

    /// Parses a comma-separated list of flags, or `none`: `monitoring,clinic_sync`. A hyphen
    /// may stand for the underscore (`clinic-sync`). Every flag not named is off.
    pub fn parse_list(text: &str) -> Result<Consent, InvalidField> {
        let mut consent = Consent::NONE;
        let mut none = false;
        for flag in text.split(',').map(|f| f.trim().to_ascii_lowercase().replace('-', "_")) {
            match flag.as_str() {
                "monitoring" => consent.monitoring = true,
                "clinic_sync" => consent.clinic_sync = true,
                "research" => consent.research = true,
                "none" => none = true,
                "" => {}
                other => {
                    return Err(InvalidField::new(
                        "consent",
                        format!("'{other}' is not one of monitoring, clinic_sync, research, none"),
                    ));
                }
            }
        }
        if none && consent != Consent::NONE {
            return Err(InvalidField::new("consent", "'none' cannot be given with other flags"));
        }
        if !none && consent == Consent::NONE {
            return Err(InvalidField::new(
                "consent",
                "no flag given: name the flags, or 'none' to withdraw all",
            ));
        }
        Ok(consent)
    }
}

impl fmt::Display for Consent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = self.names();
        if names.is_empty() { f.write_str("none") } else { f.write_str(&names.join(",")) }
    }
}

/// A patient as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Patient {
    /// UUIDv7.
    pub id: PatientId,
    /// Medical record number, unique in this store.
    pub mrn: String,
    /// Full name as the clinic writes it.
    pub name: String,
    /// Date of birth, when known.
    pub birth_date: Option<NaiveDate>,
    /// Administrative sex.
    pub sex: Sex,
    /// Consent flags.
    pub consent: Consent,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
}

/// The fields of a patient to be created, validated by [`NewPatient::new`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewPatient {
    mrn: String,
    name: String,
    birth_date: Option<NaiveDate>,
    sex: Sex,
    consent: Consent,
}

/// Longest MRN accepted; real MRNs are short, and a long one is a pasted mistake.
const MAX_MRN_LEN: usize = 64;
const MAX_NAME_LEN: usize = 200;

impl NewPatient {
    /// Validates the fields: MRN and name non-empty without control characters, MRN at most
    /// 64 characters, birth date not after `today`.
    pub fn new(
        mrn: &str,
        name: &str,
        birth_date: Option<NaiveDate>,
        sex: Sex,
        consent: Consent,
        today: NaiveDate,
    ) -> Result<Self, InvalidField> {
        let mrn = clean_text("mrn", mrn, MAX_MRN_LEN)?;
        if mrn.chars().any(char::is_whitespace) {
            return Err(InvalidField::new("mrn", format!("'{mrn}' contains white space")));
        }
        let name = clean_text("name", name, MAX_NAME_LEN)?;
        if let Some(born) = birth_date {
            if born > today {
                return Err(InvalidField::new("birth_date", format!("{born} is in the future")));
            }
        }
        Ok(Self { mrn, name, birth_date, sex, consent })
    }

    /// The medical record number.
    pub fn mrn(&self) -> &str {
        &self.mrn
    }
    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The birth date.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        self.birth_date
    }
    /// The sex.
    pub fn sex(&self) -> Sex {
        self.sex
    }
    /// The consent flags.
    pub fn consent(&self) -> Consent {
        self.consent
    }
}

fn clean_text(field: &'static str, raw: &str, max: usize) -> Result<String, InvalidField> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(InvalidField::new(field, "is empty"));
    }
    if text.chars().any(char::is_control) {
        return Err(InvalidField::new(field, "contains a control character"));
    }
    if text.chars().count() > max {
        return Err(InvalidField::new(field, format!("is longer than {max} characters")));
    }
    Ok(text.to_owned())
}

/// How a user names a patient on every interface: the id, or the MRN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatientRef {
    /// A UUID.
    Id(PatientId),
    /// A medical record number.
    Mrn(String),
}

impl PatientRef {
    /// A UUID-shaped text is an id; anything else is an MRN.
    pub fn parse(text: &str) -> Self {
        let text = text.trim();
        match text.parse::<PatientId>() {
            Ok(id) => PatientRef::Id(id),
            Err(_) => PatientRef::Mrn(text.to_owned()),
        }
    }
}

impl fmt::Display for PatientRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PatientRef::Id(id) => write!(f, "id {id}"),
            PatientRef::Mrn(mrn) => write!(f, "MRN {mrn}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
    }

    #[test]
    fn new_patient_trims_and_validates() {
        let p = NewPatient::new(" MRN-1 ", " Ada Lovelace ", None, Sex::Female, Consent::default(), today())
            .unwrap();
        assert_eq!(p.mrn(), "MRN-1");
        assert_eq!(p.name(), "Ada Lovelace");
    }

    #[test]
    fn new_patient_rejections_name_the_field() {
        let cases = [
            ("", "A", None, "mrn: is empty"),
            ("M 1", "A", None, "mrn: 'M 1' contains white space"),
            ("M1", "  ", None, "name: is empty"),
            ("M1", "A\u{7}", None, "name: contains a control character"),
            ("M1", "A", NaiveDate::from_ymd_opt(2030, 1, 1), "birth_date: 2030-01-01 is in the future"),
        ];
        for (mrn, name, born, expected) in cases {
            let err =
                NewPatient::new(mrn, name, born, Sex::Unknown, Consent::default(), today()).unwrap_err();
            assert_eq!(err.to_string(), expected);
        }
        let long = "X".repeat(65);
        let err = NewPatient::new(&long, "A", None, Sex::Male, Consent::default(), today()).unwrap_err();
        assert_eq!(err.to_string(), "mrn: is longer than 64 characters");
    }

    #[test]
    fn consent_lists_parse_print_and_cover_every_combination() {
        let every = Consent::every();
        for (i, a) in every.iter().enumerate() {
            assert!(every[i + 1..].iter().all(|b| b != a), "{a:?} twice");
            assert_eq!(Consent::parse_list(&a.to_string()).unwrap(), *a);
        }
        assert_eq!(
            Consent::parse_list(" Monitoring, clinic-sync ").unwrap(),
            Consent { monitoring: true, clinic_sync: true, research: false }
        );
        assert_eq!(
            Consent::parse_list("monitoring,x").unwrap_err().to_string(),
            "consent: 'x' is not one of monitoring, clinic_sync, research, none"
        );
        assert!(Consent::parse_list("none,research").is_err());
        assert!(Consent::parse_list("").is_err());
    }

    #[test]
    fn sex_parses_fhir_codes_and_rejects_others() {
        assert_eq!("Female".parse::<Sex>().unwrap(), Sex::Female);
        assert_eq!("u".parse::<Sex>().unwrap(), Sex::Unknown);
        assert_eq!(
            "x".parse::<Sex>().unwrap_err().to_string(),
            "sex: 'x' is not one of female, male, other, unknown"
        );
    }

    #[test]
    fn patient_ref_tells_ids_from_mrns() {
        let id = "01936f5e-0000-7000-8000-000000000001";
        assert!(matches!(PatientRef::parse(id), PatientRef::Id(_)));
        assert_eq!(PatientRef::parse(" MRN-7 "), PatientRef::Mrn("MRN-7".into()));
    }
}

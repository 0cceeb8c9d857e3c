//! Matching the patients a file describes (FHIR Patient resources) to the store, without ever
//! merging two people.
//!
//! A Patient is matched by its MRN. When the MRN is new, the patient is created; when it is
//! known, the file's name, birth date and sex must agree with the stored ones (a field the file
//! leaves out agrees with anything). A Patient that disagrees is refused with both identities
//! named, and so are two Patients in one file that give one MRN to different people: nothing is
//! merged and the records naming that MRN are held back, because whose they are is exactly what
//! is in doubt. A wrong patient's data in front of a clinician is the harm this prevents.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Sqlite, Transaction};

use super::Error;
use crate::domain::{Consent, NewPatient, Patient, PatientId, PatientRef, Sex};
use crate::ingest::ParsedPatient;

/// What settling a file's patients did.
#[derive(Debug, Default)]
pub(super) struct Settled {
    /// Patients created.
    pub(super) created: Vec<PatientId>,
    /// MRNs refused, with the reason naming both identities.
    pub(super) refused: Vec<(String, String)>,
}

/// One identity, as compared.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Identity {
    name: Option<String>,
    birth_date: Option<NaiveDate>,
    sex: Option<Sex>,
}

impl Identity {
    fn of_file(p: &ParsedPatient) -> Self {
        Self {
            name: Some(p.name.trim()).filter(|n| !n.is_empty()).map(str::to_owned),
            birth_date: p.birth_date,
            sex: Some(p.sex).filter(|s| *s != Sex::Unknown),
        }
    }

    fn of_store(p: &Patient) -> Self {
        Self {
            name: Some(p.name.clone()),
            birth_date: p.birth_date,
            sex: Some(p.sex).filter(|s| *s != Sex::Unknown),
        }
    }

    /// The fields both give and that differ: empty when the two can be the same person.
    fn conflicts(&self, other: &Identity) -> Vec<&'static str> {
        let mut fields = Vec::new();
        if let (Some(a), Some(b)) = (&self.name, &other.name)
            && fold(a) != fold(b)
        {
            fields.push("name");
        }
        if let (Some(a), Some(b)) = (self.birth_date, other.birth_date)
            && a != b
        {
            fields.push("birth date");
        }
        if let (Some(a), Some(b)) = (self.sex, other.sex)
            && a != b
        {
            fields.push("sex");
        }
        fields
    }

    fn describe(&self) -> String {
        let birth = self.birth_date.map_or("birth date not given".to_owned(), |d| format!("born {d}"));
        let sex = self.sex.map_or("sex not given", |s| s.as_str());
        format!("'{}', {birth}, {sex}", self.name.as_deref().unwrap_or("(no name)"))
    }
}

/// Case and spacing do not make two names different.
fn fold(name: &str) -> String {
    name.split_whitespace().map(str::to_lowercase).collect::<Vec<_>>().join(" ")
}

/// Matches or creates each described patient in the import's transaction.
pub(super) async fn settle(
    tx: &mut Transaction<'static, Sqlite>,
    described: Vec<ParsedPatient>,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Settled, Error> {
    let mut settled = Settled::default();
    // Group by MRN, keeping the file's order.
    let mut groups: Vec<(String, Vec<ParsedPatient>)> = Vec::new();
    for p in described {
        match groups.iter_mut().find(|(mrn, _)| *mrn == p.mrn) {
            Some((_, group)) => group.push(p),
            None => groups.push((p.mrn.clone(), vec![p])),
        }
    }
    for (mrn, group) in groups {
        let identities: Vec<Identity> = group.iter().map(Identity::of_file).collect();
        if let Some((a, b, fields)) = first_conflict(&identities) {
            let reason = format!(
                "this file gives MRN {mrn} to two different people ({}: {} and {}); neither was imported \
                 and nothing was merged",
                fields.join(", "),
                a.describe(),
                b.describe()
            );
            settled.refused.push((mrn, reason));
            continue;
        }
        let reference = PatientRef::Mrn(mrn.clone());
        let file = merged(&identities);
        match crate::store::find_patient(&mut **tx, &reference).await? {
            Some(stored) => {
                let fields = file.conflicts(&Identity::of_store(&stored));
                if !fields.is_empty() {
                    let reason = format!(
                        "the Patient with MRN {mrn} in this file ({}) does not match the stored patient with \
                         that MRN ({}): {} differ; not merged. Correct the file or the stored record",
                        file.describe(),
                        Identity::of_store(&stored).describe(),
                        fields.join(", ")
                    );
                    settled.refused.push((mrn, reason));
                }
            }
            None => {
                let Some(first) = group.first() else { continue };
                let name = file.name.clone().unwrap_or_else(|| format!("Patient {mrn}"));
                match NewPatient::new(
                    &mrn,
                    &name,
                    file.birth_date,
                    first.sex,
                    Consent::default(),
                    now.date_naive(),
                ) {
                    Ok(new) => {
                        // A file records no consent: every flag starts off (issue 12), so the
                        // patient's readings wait until a clinician records consent.
                        let created = crate::store::insert_patient(tx, &new, actor, now).await?;
                        settled.created.push(created.id);
                    }
                    Err(e) => settled.refused.push((mrn, e.to_string())),
                }
            }
        }
    }
    Ok(settled)
}

/// The first pair of identities in a group that cannot be the same person.
fn first_conflict(identities: &[Identity]) -> Option<(&Identity, &Identity, Vec<&'static str>)> {
    for (i, a) in identities.iter().enumerate() {
        for b in &identities[i + 1..] {
            let fields = a.conflicts(b);
            if !fields.is_empty() {
                return Some((a, b, fields));
            }
        }
    }
    None
}

/// The union of agreeing identities: each field from the first that gives it.
fn merged(identities: &[Identity]) -> Identity {
    Identity {
        name: identities.iter().find_map(|i| i.name.clone()),
        birth_date: identities.iter().find_map(|i| i.birth_date),
        sex: identities.iter().find_map(|i| i.sex),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(name: &str, birth: Option<&str>, sex: Option<Sex>) -> Identity {
        Identity {
            name: Some(name.to_owned()).filter(|n| !n.is_empty()),
            birth_date: birth.map(|b| b.parse().unwrap()),
            sex,
        }
    }

    #[test]
    fn missing_fields_agree_and_case_or_spacing_do_not_make_a_new_person() {
        let stored = id("Ada  Lovelace", Some("1815-12-10"), Some(Sex::Female));
        assert!(id("ada lovelace", None, None).conflicts(&stored).is_empty());
        assert!(id("", Some("1815-12-10"), Some(Sex::Female)).conflicts(&stored).is_empty());
    }

    #[test]
    fn each_differing_field_is_named() {
        let stored = id("Ada Lovelace", Some("1815-12-10"), Some(Sex::Female));
        assert_eq!(id("Ada Byron", Some("1815-12-10"), None).conflicts(&stored), ["name"]);
        assert_eq!(
            id("Ada Lovelace", Some("1816-12-10"), Some(Sex::Male)).conflicts(&stored),
            ["birth date", "sex"]
        );
    }
}

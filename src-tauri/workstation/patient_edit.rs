//! Editing a registered patient (issue 11): the window and `vigil patient edit`.

use crate::domain::access::Operation;
use chrono::{NaiveDate, Utc};

use super::{Error, Workstation};
use crate::domain::{Consent, NewPatient, Patient, PatientRef, Sex};
use crate::store::StoreError;

/// The fields to change; `None` keeps the stored value. The id never changes; a new MRN is
/// refused when another patient holds it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatientEdit {
    /// A corrected medical record number.
    pub mrn: Option<String>,
    /// The name.
    pub name: Option<String>,
    /// The birth date; `Some(None)` clears it.
    pub birth_date: Option<Option<NaiveDate>>,
    /// Administrative sex.
    pub sex: Option<Sex>,
    /// The consent flags, all three.
    pub consent: Option<Consent>,
}

impl PatientEdit {
    /// The names of the fields this edit changes on `patient` (for the audit trail: names,
    /// never values).
    fn changed(&self, patient: &Patient) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.mrn.as_deref().is_some_and(|m| m.trim() != patient.mrn) {
            out.push("mrn");
        }
        if self.name.as_deref().is_some_and(|n| n.trim() != patient.name) {
            out.push("name");
        }
        if self.birth_date.is_some_and(|b| b != patient.birth_date) {
            out.push("birth_date");
        }
        if self.sex.is_some_and(|s| s != patient.sex) {
            out.push("sex");
        }
        if self.consent.is_some_and(|c| c != patient.consent) {
            out.push("consent");
        }
        out
    }
}

impl Workstation {
    /// Changes a patient's record: validated like a new patient (`NewPatient::new`), stored
    /// with its outbox message and audit event (`patient.update`, naming the fields changed)
    /// in one transaction. Changed consent flags go through the consent path in that same
    /// transaction (a new version, `consent.change`, the outbox rules: `consent.rs`). An edit
    /// that changes nothing stores nothing and returns the patient.
    pub async fn update_patient(&self, reference: &PatientRef, edit: PatientEdit) -> Result<Patient, Error> {
        let principal = self.authorize(Operation::PatientEdit).await?;
        let now = Utc::now();
        let mut tx = self.store.begin().await?;
        let current = self.open_patient(&principal, &mut tx, reference).await?;
        let changed = edit.changed(&current);
        if changed.is_empty() {
            tx.commit().await.map_err(StoreError::from)?;
            return Ok(current);
        }
        let fields = NewPatient::new(
            edit.mrn.as_deref().unwrap_or(&current.mrn),
            edit.name.as_deref().unwrap_or(&current.name),
            edit.birth_date.unwrap_or(current.birth_date),
            edit.sex.unwrap_or(current.sex),
            // Consent changes only through `change_consent` below.
            current.consent,
            now.date_naive(),
        )?;
        let mut patient = current.clone();
        if changed.iter().any(|f| *f != "consent") {
            patient = crate::store::update_patient(&mut tx, current.id, &fields, now).await?;
            self.audit(&mut tx, "patient.update", Some(&patient), serde_json::json!({ "fields": changed }))
                .await?;
        }
        if let Some(consent) = edit.consent.filter(|c| *c != current.consent) {
            self.change_consent(&mut tx, &patient, consent, None, now).await?;
            patient.consent = consent;
        }
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(fields = ?changed, "patient record edited");
        Ok(patient)
    }
}

//! The window's manual-entry commands (issue 11): record spot vitals, register and edit a
//! patient. One facade call each; the forms' fields arrive as the screen holds them and the
//! facade's validation comes back in words.

use chrono::{DateTime, NaiveDate};
use serde::Deserialize;
use tauri::State;

use super::AppState;
use crate::analysis::news2::Spo2Scale;
use crate::domain::{Acvpu, Consent, NewPatient, PatientRef, Sex};
use crate::workstation::{Monitor, PatientEdit, SpotVitals, VitalsEntry};

type Reply<T> = Result<T, String>;

/// The "Record vitals" form: every field optional, numbers in the kind's unit.
#[derive(Debug, Clone, Default, Deserialize, specta::Type)]
pub(crate) struct VitalsForm {
    /// /min
    pub heart_rate: Option<f64>,
    /// %
    pub spo2: Option<f64>,
    /// 1 or 2
    pub spo2_scale: Option<u8>,
    /// `air` or `oxygen`
    pub oxygen: Option<String>,
    /// /min
    pub respiratory_rate: Option<f64>,
    /// mm[Hg]
    pub bp_systolic: Option<f64>,
    /// mm[Hg]
    pub bp_diastolic: Option<f64>,
    /// Cel
    pub temperature: Option<f64>,
    /// A, C, V, P or U
    pub consciousness: Option<String>,
    /// kg
    pub weight: Option<f64>,
    /// RFC 3339; now when absent
    pub at: Option<String>,
}

/// The "New patient" / "Edit patient" form.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub(crate) struct PatientForm {
    /// Medical record number.
    pub mrn: String,
    /// Full name.
    pub name: String,
    /// YYYY-MM-DD, or none.
    pub birth_date: Option<String>,
    /// female, male, other, unknown.
    pub sex: String,
    /// The consent flags (monitoring, clinic sync, research); `None` keeps what is recorded
    /// (the edit form does not show consent: the patient screen does not carry it).
    pub consent: Option<ConsentForm>,
}

/// The three consent flags.
#[derive(Debug, Clone, Copy, Deserialize, specta::Type)]
pub(crate) struct ConsentForm {
    /// Monitoring at this workstation.
    pub monitoring: bool,
    /// Sending data to the clinic server.
    pub clinic_sync: bool,
    /// Research use.
    pub research: bool,
}

impl VitalsForm {
    fn vitals(&self) -> Reply<SpotVitals> {
        let at = match self.at.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            None => None,
            Some(t) => Some(
                DateTime::parse_from_rfc3339(t)
                    .map_err(|_| format!("invalid at: '{t}' is not a date and time"))?,
            ),
        };
        let spo2_scale = match self.spo2_scale {
            None => None,
            Some(1) => Some(Spo2Scale::Scale1),
            Some(2) => Some(Spo2Scale::Scale2),
            Some(n) => return Err(format!("invalid spo2_scale: {n} is not 1 or 2")),
        };
        let on_oxygen = match self.oxygen.as_deref() {
            None | Some("") => None,
            Some("air") => Some(false),
            Some("oxygen") => Some(true),
            Some(other) => return Err(format!("invalid oxygen: '{other}' is not air or oxygen")),
        };
        let consciousness = match self.consciousness.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(c.parse::<Acvpu>().map_err(|e| format!("invalid {e}"))?),
        };
        Ok(SpotVitals {
            at,
            heart_rate: self.heart_rate,
            spo2: self.spo2,
            spo2_scale,
            on_oxygen,
            respiratory_rate: self.respiratory_rate,
            bp_systolic: self.bp_systolic,
            bp_diastolic: self.bp_diastolic,
            temperature: self.temperature,
            consciousness,
            weight: self.weight,
        })
    }
}

impl PatientForm {
    fn parts(&self) -> Reply<(Option<NaiveDate>, Sex, Option<Consent>)> {
        let birth = match self.birth_date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            None => None,
            Some(d) => {
                Some(d.parse().map_err(|_| format!("invalid birth_date: '{d}' is not a date YYYY-MM-DD"))?)
            }
        };
        let sex = self.sex.parse::<Sex>().map_err(|e| format!("invalid {e}"))?;
        let consent = self.consent.map(|c| Consent {
            monitoring: c.monitoring,
            clinic_sync: c.clinic_sync,
            research: c.research,
        });
        Ok((birth, sex, consent))
    }
}

/// Records spot vitals for a patient (id or MRN), assesses them at once and returns the NEWS2
/// they give.
#[tauri::command]
#[specta::specta]
pub(crate) async fn record_vitals(
    state: State<'_, AppState>,
    patient: String,
    form: VitalsForm,
) -> Reply<VitalsEntry> {
    let vitals = form.vitals()?;
    let orchestrator = state.orchestrator().await?;
    // A fresh monitor primes itself from the store (monitor.rs), so an entry is assessed the
    // same whether or not the window's own monitor has run.
    let mut monitor = Monitor::default();
    state
        .workstation()?
        .record_vitals(&PatientRef::parse(&patient), vitals, orchestrator, &mut monitor)
        .await
        .map_err(super::commands::words)
}

/// Registers a patient; returns the new id.
#[tauri::command]
#[specta::specta]
pub(crate) async fn add_patient(state: State<'_, AppState>, form: PatientForm) -> Reply<String> {
    let (birth, sex, consent) = form.parts()?;
    let today = chrono::Utc::now().date_naive();
    let new = NewPatient::new(&form.mrn, &form.name, birth, sex, consent.unwrap_or_default(), today)
        .map_err(|e| format!("invalid {e}"))?;
    let patient = state.workstation()?.add_patient(new).await.map_err(super::commands::words)?;
    Ok(patient.id.to_string())
}

/// Changes a patient's record (id or MRN); returns the id.
#[tauri::command]
#[specta::specta]
pub(crate) async fn update_patient(
    state: State<'_, AppState>,
    patient: String,
    form: PatientForm,
) -> Reply<String> {
    let (birth, sex, consent) = form.parts()?;
    let edit = PatientEdit {
        mrn: Some(form.mrn.clone()),
        name: Some(form.name.clone()),
        birth_date: Some(birth),
        sex: Some(sex),
        consent,
    };
    let edited = state
        .workstation()?
        .update_patient(&PatientRef::parse(&patient), edit)
        .await
        .map_err(super::commands::words)?;
    Ok(edited.id.to_string())
}

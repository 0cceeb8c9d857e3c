//! Manual entry (issue 11): a nurse records a set of spot vitals at the bedside. The entry is
//! validated like an import (plausible ranges, the clock bounds, the patient's birth), stored
//! as one batch from the `manual` source, audited, and assessed at once by the monitor, and the
//! NEWS2 of the patient's latest values (with the consciousness, oxygen and SpO2 scale the
//! nurse recorded) comes back with it.

use crate::domain::access::Operation;
use chrono::{DateTime, FixedOffset, Utc};

use super::monitor::{Monitor, RaisedAlert};
use super::views::worklist::{news2_view, readings_of, snapshot};
use super::views::{News2View, VitalReading, view};
use super::{Error, Workstation};
use crate::agents::Orchestrator;
use crate::analysis::news2::Spo2Scale;
use crate::domain::{Acvpu, InvalidField, Kind, NewObservation, ObservationValue, PatientRef, SourceKind};
use crate::store::StoreError;

/// One set of spot vitals as a nurse enters it. Every field is optional, but not all at once.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SpotVitals {
    /// When they were taken; now when `None`.
    pub at: Option<DateTime<FixedOffset>>,
    /// Heart rate, /min.
    pub heart_rate: Option<f64>,
    /// SpO2, %.
    pub spo2: Option<f64>,
    /// The NEWS2 SpO2 scale the clinician prescribed (scale 2 only for a 88-92 % target).
    pub spo2_scale: Option<Spo2Scale>,
    /// On supplemental oxygen (true) or breathing air (false).
    pub on_oxygen: Option<bool>,
    /// Respiratory rate, /min.
    pub respiratory_rate: Option<f64>,
    /// Systolic blood pressure, mm[Hg].
    pub bp_systolic: Option<f64>,
    /// Diastolic blood pressure, mm[Hg].
    pub bp_diastolic: Option<f64>,
    /// Body temperature, Cel.
    pub temperature: Option<f64>,
    /// ACVPU.
    pub consciousness: Option<Acvpu>,
    /// Body weight, kg.
    pub weight: Option<f64>,
}

impl SpotVitals {
    /// (field name on every interface, kind, value) of each value entered.
    fn values(&self) -> Vec<(&'static str, Kind, f64)> {
        let scale = self.spo2_scale.map(|s| match s {
            Spo2Scale::Scale1 => 1.0,
            Spo2Scale::Scale2 => 2.0,
        });
        [
            ("heart_rate", Kind::HeartRate, self.heart_rate),
            ("spo2", Kind::Spo2, self.spo2),
            ("spo2_scale", Kind::Spo2Scale, scale),
            ("oxygen", Kind::SupplementalOxygen, self.on_oxygen.map(|o| f64::from(u8::from(o)))),
            ("respiratory_rate", Kind::RespiratoryRate, self.respiratory_rate),
            ("bp_systolic", Kind::BpSystolic, self.bp_systolic),
            ("bp_diastolic", Kind::BpDiastolic, self.bp_diastolic),
            ("temperature", Kind::BodyTemperature, self.temperature),
            ("consciousness", Kind::Consciousness, self.consciousness.map(Acvpu::code)),
            ("weight", Kind::BodyWeight, self.weight),
        ]
        .into_iter()
        .filter_map(|(field, kind, v)| v.map(|v| (field, kind, v)))
        .collect()
    }
}

view! {
    /// What a manual entry stored and what it means now.
    pub struct VitalsEntry {
        /// The patient's id.
        pub patient_id: String,
        /// The readings entered, as stored (kind, unit, value, time).
        pub readings: Vec<VitalReading>,
        /// Readings stored now.
        pub inserted: u32,
        /// Readings that were already stored (the same entry saved twice).
        pub duplicates: u32,
        /// NEWS2 on the patient's latest values with what was recorded, when all five measured
        /// parameters have a value.
        pub news2: Option<News2View>,
        /// The measured NEWS2 parameters that have no value yet (why there is no NEWS2).
        pub news2_missing: Vec<String>,
        /// Alerts the assessment of this entry (and anything else new) raised.
        pub alerts: Vec<RaisedAlert>,
    }
}

impl Workstation {
    /// Records a nurse's spot vitals for `patient` (module docs). Nothing is stored when any
    /// value is refused; the error names the field. The monitor then runs a pass with the
    /// caller's orchestrator and monitor, so the entry is assessed (and alerted) at once.
    pub async fn record_vitals(
        &self,
        patient: &PatientRef,
        vitals: SpotVitals,
        orchestrator: &Orchestrator,
        monitor: &mut Monitor,
    ) -> Result<VitalsEntry, Error> {
        let principal = self.authorize(Operation::VitalsRecord).await?;
        let bounds = self.time_bounds().await?;
        let now = Utc::now();
        let at = vitals.at.unwrap_or_else(|| now.fixed_offset());
        let values = vitals.values();
        if values.is_empty() {
            return Err(InvalidField::new("vitals", "nothing was entered: record at least one value").into());
        }
        if let (Some(sys), Some(dia)) = (vitals.bp_systolic, vitals.bp_diastolic) {
            if dia >= sys {
                return Err(InvalidField::new(
                    "bp_diastolic",
                    format!("diastolic {dia} mm[Hg] is not below systolic {sys} mm[Hg]"),
                )
                .into());
            }
        }
        if vitals.spo2_scale.is_some() && vitals.spo2.is_none() {
            return Err(InvalidField::new("spo2_scale", "a scale was given without an SpO2 value").into());
        }
        let mut tx = self.store.begin().await?;
        let found = self.open_patient(&principal, &mut tx, patient).await?;
        if !found.consent.monitoring {
            // Issue 12: refused before anything is stored (the store would refuse the batch too).
            return Err(Error::NoMonitoringConsent { patient: found.id, refused: "readings refused" });
        }
        bounds.check(at, found.birth_date).map_err(|problem| InvalidField::new("at", problem))?;
        let mut batch = Vec::with_capacity(values.len());
        for (field, kind, v) in &values {
            let obs = NewObservation::new(found.id, *kind, ObservationValue::Quantity(*v), at)
                .map_err(|e| InvalidField::new(field, e.problem))?;
            batch.push(obs);
        }
        let report = crate::store::insert_observations(&mut tx, &SourceKind::Manual, &batch, now).await?;
        let detail = serde_json::json!({
            "source": "manual",
            "kinds": batch.iter().map(|o| o.kind.as_str()).collect::<Vec<_>>(),
            "inserted": report.inserted,
            "duplicates": report.duplicates,
        });
        self.audit(&mut tx, "vitals.record", Some(&found), detail).await?;
        tx.commit().await.map_err(StoreError::from)?;
        tracing::info!(readings = batch.len(), "manual vitals recorded");

        let pass = self.monitor_pass(orchestrator, monitor).await?;

        // NEWS2 as of the entry: the latest values at its time, never a later one.
        let until_ms = at.timestamp_millis().saturating_add(1).min(bounds.latest_ms());
        let mut tx = self.store.begin_read().await?;
        let snap = snapshot(&mut tx, &found, until_ms).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.audit_read("news2.read", Some(&found), serde_json::json!({ "by": "vitals.record" })).await;
        let measured =
            [Kind::RespiratoryRate, Kind::Spo2, Kind::BpSystolic, Kind::HeartRate, Kind::BodyTemperature];
        let news2_missing = measured
            .into_iter()
            .filter(|k| !snap.latest.iter().any(|(kind, _, _)| kind == k))
            .map(|k| k.as_str().to_owned())
            .collect();
        let at_ms = at.timestamp_millis();
        let entered: Vec<(Kind, i64, f64)> =
            batch.iter().filter_map(|o| o.value.quantity().map(|v| (o.kind, at_ms, v))).collect();
        Ok(VitalsEntry {
            patient_id: found.id.to_string(),
            readings: readings_of(&entered),
            inserted: u32::try_from(report.inserted).unwrap_or(u32::MAX),
            duplicates: u32::try_from(report.duplicates).unwrap_or(u32::MAX),
            news2: news2_view(&snap.latest, snap.recorded),
            news2_missing,
            alerts: pass.alerts.into_iter().filter(|a| a.patient_id == found.id.to_string()).collect(),
        })
    }
}

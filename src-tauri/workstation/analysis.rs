//! The analysis facade: the body-weight Kalman filter over its persisted state, and the pure
//! analyses (`crate::analysis`) run over a patient's stored observations.
//!
//! # Processing one weight ([`Workstation::process_weight`])
//! One `BEGIN IMMEDIATE` transaction: find the patient; if this reading (patient, instant,
//! value) was processed before, return the stored result and change nothing; otherwise load
//! the patient's saved [`FilterState`] (and nothing else of the filter's past), run
//! [`kalman::process`], read the accepted weights of the preceding window (3 days) from the
//! results table for the ESC/HFA rule, then save the new state and the result and write the
//! audit event. A rejected reading is stored with its reason; it leaves the estimate (level,
//! trend, covariance, time) where it was. An outlier is remembered in the state's
//! `rejected_run`, which is what lets a persistent shift become the new baseline.
//!
//! # Measurement noise per source
//! [`WeightMeasurement::class`] sets the [`SourceClass`] explicitly (e.g. `reported` for a
//! weight the patient gave by phone). Without it, the reading's provenance decides:
//! - typed in at the workstation (`manual`): `clinic` (staff weighed the patient on the
//!   clinic's scale);
//! - a registered device **not** assigned to a patient: `clinic` (the workstation's own scale);
//! - a device assigned to a patient: `home` (the patient's connected scale);
//! - a file import or demo data: `home` (exports from the patient's apps and devices).
//!
//! The heart-failure alerts returned with a result are the rules that *hold* at that reading
//! (both may hold on consecutive readings); `vigil analyze weight` reports them at onset.

use crate::domain::access::Operation;
use std::collections::BTreeMap;

use chrono::{DateTime, Duration, DurationRound, FixedOffset, Utc};
use serde::Serialize;

use super::{Error, Workstation};
use crate::analysis::heart_failure::{HeartFailureAlert, WeightPoint, rapid_gain, trend_alert};
use crate::analysis::hrv::{self, Correction, HrvReport};
use crate::analysis::io_window::{WindowReport, analyze_samples};
use crate::analysis::kalman::{self, FilterState, Measurement, SourceClass};
use crate::analysis::news2::{self, Consciousness, News2Input, News2Score, Spo2Scale};
use crate::analysis::report::{Location, WeightAnalysisConfig, WeightReport, WeightRow, analyze_weight_rows};
use crate::analysis::window::VitalSample;
use crate::domain::{AbsentReason, InvalidField, Kind, ObservationValue, PatientId, PatientRef, SourceKind};
use crate::store::{self, ObservationQuery, SourceOrigin, StoreError, TimeRange, WeightResult};

/// A body weight to run through the patient's filter.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightMeasurement {
    /// When it was measured, with the source's offset (kept to the millisecond, as stored).
    pub effective: DateTime<FixedOffset>,
    /// Kg, or why there is none. A non-finite number is taken as absent (`not-a-number`,
    /// `positive-infinity`, `negative-infinity`); a number outside the plausible range of body
    /// weight is an error, not a measurement.
    pub value: ObservationValue,
    /// Where it came from: sets the measurement noise unless `class` is given.
    pub source: SourceKind,
    /// The source class to use instead of the provenance rule (module docs).
    pub class: Option<SourceClass>,
}

impl WeightMeasurement {
    /// A weight in kg from `source`, its class decided by the provenance rule.
    pub fn kg(effective: DateTime<FixedOffset>, kg: f64, source: SourceKind) -> Self {
        Self { effective, value: ObservationValue::Quantity(kg), source, class: None }
    }
}

/// What processing one weight did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightOutcome {
    /// Whose filter.
    pub patient_id: PatientId,
    /// The stored result, with the alerts that hold at it.
    pub result: WeightResult,
    /// The reading had been processed before: this is the stored result, nothing changed.
    pub duplicate: bool,
}

/// What NEWS2 needs that is not an observation in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct News2Context {
    /// ACVPU, as assessed now.
    pub consciousness: Consciousness,
    /// On supplemental oxygen.
    pub on_oxygen: bool,
    /// The SpO2 scale prescribed.
    pub spo2_scale: Spo2Scale,
}

/// One value NEWS2 was computed from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UsedValue {
    /// The observation kind.
    pub kind: Kind,
    /// The value in the kind's unit.
    pub value: f64,
    /// When it was measured.
    pub effective: DateTime<FixedOffset>,
}

/// NEWS2 from the latest stored value of each vital sign.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatestNews2 {
    /// The values scored (the observations' own times show how fresh each is).
    pub used: Vec<UsedValue>,
    /// The whole input, including the context given.
    pub input: News2Input,
    /// The score.
    pub score: News2Score,
}

/// The vitals the window analysis reads, as stored kinds.
const WINDOW_KINDS: [Kind; 6] = [
    Kind::HeartRate,
    Kind::Spo2,
    Kind::RespiratoryRate,
    Kind::BodyTemperature,
    Kind::RrInterval,
    Kind::HrvSdnn,
];

/// The vitals NEWS2 scores, as stored kinds, in chart order.
const NEWS2_KINDS: [Kind; 5] =
    [Kind::RespiratoryRate, Kind::Spo2, Kind::BpSystolic, Kind::HeartRate, Kind::BodyTemperature];

impl Workstation {
    /// Runs one weight through the patient's filter with the default configuration, saving the
    /// new state and the result in one transaction (module docs).
    pub async fn process_weight(
        &self,
        patient: &PatientRef,
        measurement: &WeightMeasurement,
    ) -> Result<WeightOutcome, Error> {
        self.authorize(Operation::WeightProcess).await?;
        self.process_weight_with(patient, measurement, &WeightAnalysisConfig::default()).await
    }

    /// [`Workstation::process_weight`] with an explicit configuration.
    pub async fn process_weight_with(
        &self,
        patient: &PatientRef,
        m: &WeightMeasurement,
        cfg: &WeightAnalysisConfig,
    ) -> Result<WeightOutcome, Error> {
        let principal = self.authorize(Operation::WeightProcess).await?;
        cfg.kalman.validate().map_err(|e| InvalidField::new("config", e.to_string()))?;
        let mut tx = self.store.begin().await?;
        let patient = self.open_patient(&principal, &mut tx, patient).await?;
        let class = match m.class {
            Some(class) => class,
            None => class_of(origin(&mut tx, &m.source).await?),
        };
        let outcome = weight_step(&mut tx, patient.id, m.effective, m.value, class, cfg, Utc::now()).await?;
        let detail = serde_json::json!({ "duplicate": outcome.duplicate });
        self.audit(&mut tx, "weight.process", Some(&patient), detail).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(outcome)
    }

    /// The patient's saved filter state (upgraded to the current schema version), if any.
    pub async fn weight_state(&self, patient: &PatientRef) -> Result<Option<FilterState>, Error> {
        let principal = self.authorize(Operation::PatientRead).await?;
        let mut tx = self.store.begin_read().await?;
        let patient = self.open_patient(&principal, &mut tx, patient).await?;
        let state = store::load_weight_state(&mut *tx, patient.id).await?;
        let detail = serde_json::json!({ "steps": state.as_ref().map_or(0, |(_, steps)| *steps) });
        self.audit_read("weight_state.read", Some(&patient), detail).await;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(state.map(|(state, _)| state))
    }

    /// Every stored weight result of the patient, in processing order.
    pub async fn weight_results(&self, patient: &PatientRef) -> Result<Vec<WeightResult>, Error> {
        let principal = self.authorize(Operation::PatientRead).await?;
        let mut tx = self.store.begin_read().await?;
        let patient = self.open_patient(&principal, &mut tx, patient).await?;
        let results = store::weight_results(&mut *tx, patient.id).await?;
        self.audit_read("weight_results.read", Some(&patient), serde_json::json!({ "rows": results.len() }))
            .await;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(results)
    }

    /// The patient's stored body weights run through a fresh filter in memory, as
    /// `vigil analyze weight` does with text: nothing is saved. Each step's `at` is
    /// `item N`, the N-th stored weight in time order.
    pub async fn analyze_stored_weights(
        &self,
        patient: &PatientRef,
        cfg: &WeightAnalysisConfig,
    ) -> Result<WeightReport, Error> {
        let principal = self.authorize(Operation::PatientRead).await?;
        let mut tx = self.store.begin_read().await?;
        let patient = self.open_patient(&principal, &mut tx, patient).await?;
        let query = ObservationQuery { kinds: vec![Kind::BodyWeight], ..ObservationQuery::default() };
        let observations = store::query_observations(&mut *tx, patient.id, &query).await?;
        let origins = store::source_origins(&mut *tx).await?;
        self.audit_read("weight.analyze", Some(&patient), serde_json::json!({ "rows": observations.len() }))
            .await;
        tx.commit().await.map_err(StoreError::from)?;
        let rows = observations
            .iter()
            .enumerate()
            .map(|(i, o)| {
                let class = origins.get(&o.source_id).copied().map_or(SourceClass::Home, class_of);
                WeightRow {
                    at: Location::Item(i + 1),
                    time: o.effective,
                    measurement: Measurement { time: o.effective.to_utc(), value: o.value, source: class },
                }
            })
            .collect();
        analyze_weight_rows(rows, cfg).map_err(|e| InvalidField::new("config", e.to_string()).into())
    }

    /// Runs the patient's stored body weights, in time order, through the patient's persisted
    /// filter ([`Workstation::process_weight_with`], one transaction each, the class from the
    /// provenance rule). Readings processed before come back as duplicates; a reading older
    /// than the saved state is stored as rejected (out of order).
    pub async fn process_stored_weights(
        &self,
        patient: &PatientRef,
        cfg: &WeightAnalysisConfig,
    ) -> Result<Vec<WeightOutcome>, Error> {
        self.authorize(Operation::WeightProcess).await?;
        let observations =
            self.read_for_analysis(patient, &[Kind::BodyWeight], TimeRange::default(), "weight.read").await?;
        let origins = store::source_origins(self.store.pool()).await?;
        let mut out = Vec::with_capacity(observations.len());
        for o in observations {
            let class = origins.get(&o.source_id).copied().map_or(SourceClass::Home, class_of);
            // `class` is set, so `source` is not consulted.
            let m = WeightMeasurement {
                effective: o.effective,
                value: o.value,
                source: SourceKind::Manual,
                class: Some(class),
            };
            out.push(self.process_weight_with(&PatientRef::Id(o.patient_id), &m, cfg).await?);
        }
        Ok(out)
    }

    /// The sliding-window features over the patient's 1 Hz vitals in `range`: the stored
    /// heart rate, SpO2, respiratory rate, temperature, RR intervals and the devices' per-sample
    /// HRV (`hrv_sdnn`, used when there are no RR intervals), one sample per second
    /// (the last value of a kind within a second wins; absent values are empty cells).
    pub async fn analyze_stored_window(
        &self,
        patient: &PatientRef,
        range: TimeRange,
    ) -> Result<WindowReport, Error> {
        self.authorize(Operation::PatientRead).await?;
        let observations = self.read_for_analysis(patient, &WINDOW_KINDS, range, "window.analyze").await?;
        let mut seconds: BTreeMap<i64, (DateTime<FixedOffset>, VitalSample)> = BTreeMap::new();
        for o in observations {
            let second = o.effective.timestamp();
            let (_, sample) = seconds.entry(second).or_insert_with(|| {
                let empty = VitalSample { time: second, ..VitalSample::default() };
                (o.effective, empty)
            });
            let slot = match o.kind {
                Kind::HeartRate => &mut sample.heart_rate,
                Kind::Spo2 => &mut sample.spo2,
                Kind::RespiratoryRate => &mut sample.respiratory_rate,
                Kind::BodyTemperature => &mut sample.body_temperature,
                Kind::HrvSdnn => &mut sample.hrv_sdnn,
                Kind::RrInterval => &mut sample.rr_interval,
                _ => continue,
            };
            *slot = o.value.quantity();
        }
        Ok(analyze_samples(seconds.into_values().collect()))
    }

    /// HRV of the patient's stored RR intervals in `range`, in time order. Absent values are
    /// skipped (a stored absence is a beat the device could not time, not an interval).
    pub async fn analyze_stored_hrv(
        &self,
        patient: &PatientRef,
        range: TimeRange,
        correction: Correction,
    ) -> Result<HrvReport, Error> {
        self.authorize(Operation::PatientRead).await?;
        let observations = self.read_for_analysis(patient, &[Kind::RrInterval], range, "hrv.analyze").await?;
        let rr: Vec<f64> = observations.iter().filter_map(|o| o.value.quantity()).collect();
        hrv::analyze(&rr, correction).map_err(|e| InvalidField::new("rr_interval", e.to_string()).into())
    }

    /// NEWS2 from the latest stored value (before `until`) of each scored vital sign.
    pub async fn news2_latest(
        &self,
        patient: &PatientRef,
        until: DateTime<Utc>,
        context: News2Context,
    ) -> Result<LatestNews2, Error> {
        let principal = self.authorize(Operation::PatientRead).await?;
        let mut tx = self.store.begin_read().await?;
        let patient = self.open_patient(&principal, &mut tx, patient).await?;
        let mut used = Vec::with_capacity(NEWS2_KINDS.len());
        for kind in NEWS2_KINDS {
            let query = ObservationQuery {
                kinds: vec![kind],
                range: TimeRange { since: None, until: Some(until) },
                limit: Some(50),
            };
            let latest =
                store::query_observations(&mut *tx, patient.id, &query).await?.into_iter().rev().find_map(
                    |o| o.value.quantity().map(|value| UsedValue { kind, value, effective: o.effective }),
                );
            let problem = || format!("the patient has no {kind} value before {}", until.to_rfc3339());
            used.push(latest.ok_or_else(|| InvalidField::new("news2", problem()))?);
        }
        self.audit_read("news2.analyze", Some(&patient), serde_json::json!({ "rows": used.len() })).await;
        tx.commit().await.map_err(StoreError::from)?;
        let input = News2Input {
            respiration_rate: used[0].value,
            spo2: used[1].value,
            spo2_scale: context.spo2_scale,
            on_oxygen: context.on_oxygen,
            systolic_bp: used[2].value,
            pulse: used[3].value,
            consciousness: context.consciousness,
            temperature: used[4].value,
        };
        let score = news2::score(&input).map_err(|e| InvalidField::new("news2", e.to_string()))?;
        Ok(LatestNews2 { used, input, score })
    }

    async fn read_for_analysis(
        &self,
        patient: &PatientRef,
        kinds: &[Kind],
        range: TimeRange,
        action: &'static str,
    ) -> Result<Vec<crate::domain::Observation>, Error> {
        let principal = self.authorize(Operation::PatientRead).await?;
        let mut tx = self.store.begin_read().await?;
        let patient = self.open_patient(&principal, &mut tx, patient).await?;
        let query = ObservationQuery { kinds: kinds.to_vec(), range, limit: None };
        let observations = store::query_observations(&mut *tx, patient.id, &query).await?;
        self.audit_read(action, Some(&patient), serde_json::json!({ "rows": observations.len() })).await;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(observations)
    }
}

/// One weight through the patient's saved filter inside the caller's transaction: load the
/// state, step, save state and result (module docs). A reading processed before returns its
/// stored result and changes nothing. The monitor steps a source's whole backlog in one
/// transaction this way.
pub(super) async fn weight_step(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    patient: PatientId,
    effective: DateTime<FixedOffset>,
    value: ObservationValue,
    class: SourceClass,
    cfg: &WeightAnalysisConfig,
    now: DateTime<Utc>,
) -> Result<WeightOutcome, Error> {
    let effective = to_millis(effective);
    let value = checked_weight(value)?;
    if let Some(result) = store::find_weight_result(&mut **tx, patient, effective, value).await? {
        return Ok(WeightOutcome { patient_id: patient, result, duplicate: true });
    }
    let state = store::load_weight_state(&mut **tx, patient).await?.map(|(state, _)| state);
    let measurement = Measurement { time: effective.to_utc(), value, source: class };
    let (next, result) = kalman::process(state.as_ref(), measurement, &cfg.kalman);
    let mut alerts = Vec::new();
    if let Some(kg) = value.quantity().filter(|_| result.accepted) {
        let latest = WeightPoint { time: measurement.time, kg };
        // The same window as `rapid_gain`; `as` saturates, and a window longer than chrono can
        // subtract starts at the earliest time.
        #[allow(clippy::cast_possible_truncation, reason = "float to int `as` saturates (and NaN is 0)")]
        let window = Duration::milliseconds((cfg.heart_failure.window_days * 86_400_000.0).round() as i64);
        let since = latest.time.checked_sub_signed(window).unwrap_or(DateTime::<Utc>::MIN_UTC);
        let earlier = store::accepted_weights(&mut **tx, patient, since, latest.time).await?;
        alerts.extend(rapid_gain(&earlier, latest, &cfg.heart_failure).map(HeartFailureAlert::RapidGain));
    }
    if result.accepted {
        alerts.extend(trend_alert(&result, &cfg.heart_failure).map(HeartFailureAlert::TrendRise));
    }
    let stored = WeightResult { effective, value, source_class: class, result, alerts };
    store::save_weight_step(tx, patient, &next, &stored, now).await?;
    Ok(WeightOutcome { patient_id: patient, result: stored, duplicate: false })
}

/// The provenance rule (module docs).
pub(super) fn class_of(origin: SourceOrigin) -> SourceClass {
    match origin {
        SourceOrigin::Manual | SourceOrigin::Device { assigned: false } => SourceClass::Clinic,
        SourceOrigin::Device { assigned: true } | SourceOrigin::File | SourceOrigin::Demo => {
            SourceClass::Home
        }
    }
}

async fn origin(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    source: &SourceKind,
) -> Result<SourceOrigin, Error> {
    Ok(match source {
        SourceKind::File { .. } => SourceOrigin::File,
        SourceKind::Manual => SourceOrigin::Manual,
        SourceKind::Demo => SourceOrigin::Demo,
        // Pulled from another workstation: how it was taken there is not known here, so it
        // counts as a home reading (the wider measurement noise) like a file import.
        SourceKind::Clinic { .. } => SourceOrigin::File,
        SourceKind::Device { device_id } => {
            let assigned = store::device_assigned(&mut **tx, *device_id).await?;
            let missing =
                || InvalidField::new("source", format!("no device with id {device_id} in this store"));
            SourceOrigin::Device { assigned: assigned.ok_or_else(missing)? }
        }
    })
}

/// Truncated to the millisecond, the store's precision, so a result read back equals the one
/// returned.
fn to_millis(t: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    t.duration_trunc(Duration::milliseconds(1)).unwrap_or(t)
}

fn checked_weight(value: ObservationValue) -> Result<ObservationValue, InvalidField> {
    match value {
        ObservationValue::Quantity(v) if v.is_nan() => Ok(ObservationValue::Absent(AbsentReason::NotANumber)),
        ObservationValue::Quantity(v) if v == f64::INFINITY => {
            Ok(ObservationValue::Absent(AbsentReason::PositiveInfinity))
        }
        ObservationValue::Quantity(v) if v == f64::NEG_INFINITY => {
            Ok(ObservationValue::Absent(AbsentReason::NegativeInfinity))
        }
        ObservationValue::Quantity(v) if !Kind::BodyWeight.plausible().contains(&v) => {
            let range = Kind::BodyWeight.plausible();
            let (lo, hi) = (range.start(), range.end());
            Err(InvalidField::new(
                "value",
                format!("body_weight {v} kg is outside the plausible range {lo}..={hi} kg"),
            ))
        }
        other => Ok(other),
    }
}

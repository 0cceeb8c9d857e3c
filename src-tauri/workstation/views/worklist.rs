//! The worklist and the per-patient snapshot it and the patient screen are built from.

use crate::domain::access::Operation;
use std::time::Instant;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::SqliteConnection;

use super::convert::{assessment, name};
use super::{News2Parameter, News2View, VITAL_KINDS, VitalReading, Worklist, WorklistRow, label};
use crate::agents::alerting::AlertStatus;
use crate::agents::{Assessment, AssessmentContext, Orchestrator, RecordedNews2, review};
use crate::analysis::news2::{self, Consciousness, News2Input};
use crate::domain::{Kind, Patient};
use crate::store::{AlertQuery, StoreError, StoredAssessment, series};
use crate::workstation::{Error, Workstation};

/// Streamed kinds read for the five-minute window.
const STREAMED: [Kind; 5] =
    [Kind::HeartRate, Kind::Spo2, Kind::RespiratoryRate, Kind::BodyTemperature, Kind::RrInterval];

/// One patient's latest values and the assessment context built from lean reads: the latest
/// value of each vital, six minutes of streamed vitals before the newest (the window; no
/// 30-minute trend here), and every weight (daily data: small).
pub(crate) struct Snapshot {
    /// Latest value per kind.
    pub(crate) latest: Vec<(Kind, i64, f64)>,
    /// The context, when there is any value.
    pub(crate) context: Option<AssessmentContext>,
    /// The newest observation.
    pub(crate) last_ms: Option<i64>,
    /// Consciousness, oxygen and SpO2 scale recorded within 12 h before the newest vital.
    pub(crate) recorded: RecordedNews2,
}

/// The NEWS2 inputs a nurse records (manual entry) rather than a device measures.
pub(crate) const RECORDED_NEWS2_KINDS: [Kind; 3] =
    [Kind::Consciousness, Kind::SupplementalOxygen, Kind::Spo2Scale];

/// The patient's latest data at `until_ms` (exclusive): the clock plus the drift tolerance
/// ([`crate::domain::TimeBounds::latest_ms`]), so a reading dated in the future is never taken
/// as the latest.
pub(crate) async fn snapshot(
    db: &mut SqliteConnection,
    patient: &Patient,
    until_ms: i64,
) -> Result<Snapshot, StoreError> {
    let mut latest = Vec::new();
    for kind in VITAL_KINDS.into_iter().chain([Kind::RrInterval]) {
        if let Some((t, v)) = series::latest(&mut *db, patient.id, kind, until_ms).await? {
            latest.push((kind, t, v));
        }
    }
    let at = |ms: i64| Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    let mut values: Vec<(DateTime<Utc>, Kind, f64)> = Vec::new();
    let mut recorded_values = Vec::new();
    for kind in RECORDED_NEWS2_KINDS {
        if let Some((t, v)) = series::latest(&mut *db, patient.id, kind, until_ms).await? {
            recorded_values.push((at(t), kind, v));
        }
    }
    let newest_vital = latest.iter().map(|(_, t, _)| *t).max();
    let recorded = newest_vital.map_or_else(RecordedNews2::default, |t| {
        RecordedNews2::from_values(&recorded_values, at(t).max(recorded_newest(&recorded_values)))
    });
    values.extend(recorded_values.iter().copied());
    let last_ms = newest_vital.max(recorded_values.iter().map(|(t, _, _)| t.timestamp_millis()).max());
    let newest_streamed = latest.iter().filter(|(k, _, _)| STREAMED.contains(k)).map(|(_, t, _)| *t).max();
    if let Some(newest) = newest_streamed {
        for kind in STREAMED {
            for (t, v) in series::values(&mut *db, patient.id, kind, newest - 6 * 60_000, newest + 1).await? {
                values.push((at(t), kind, v));
            }
        }
    }
    for (kind, t, v) in &latest {
        if matches!(kind, Kind::BpSystolic | Kind::BpDiastolic) {
            values.push((at(*t), *kind, *v));
        }
    }
    for (t, v) in series::values(&mut *db, patient.id, Kind::BodyWeight, i64::MIN, until_ms).await? {
        values.push((at(t), Kind::BodyWeight, v));
    }
    values.sort_by_key(|(t, _, _)| *t);
    let context = review::context_from_values(&patient.id.to_string(), values);
    Ok(Snapshot { latest, context, last_ms, recorded })
}

/// The newest recorded input's time (a nurse may record consciousness after the vitals).
fn recorded_newest(values: &[(DateTime<Utc>, Kind, f64)]) -> DateTime<Utc> {
    values.iter().map(|(t, _, _)| *t).max().unwrap_or_default()
}

pub(crate) fn readings(latest: &[(Kind, i64, f64)]) -> Vec<VitalReading> {
    VITAL_KINDS
        .iter()
        .filter_map(|k| latest.iter().find(|(kind, _, _)| kind == k))
        .map(|(kind, t, v)| VitalReading {
            kind: kind.as_str().to_owned(),
            label: label(*kind).to_owned(),
            unit: kind.unit().to_owned(),
            value: *v,
            at_ms: *t as f64,
        })
        .collect()
}

/// Every reading given, in the order given, each with its screen label.
pub(crate) fn readings_of(values: &[(Kind, i64, f64)]) -> Vec<VitalReading> {
    values
        .iter()
        .map(|(kind, t, v)| VitalReading {
            kind: kind.as_str().to_owned(),
            label: label(*kind).to_owned(),
            unit: kind.unit().to_owned(),
            value: *v,
            at_ms: *t as f64,
        })
        .collect()
}

/// NEWS2 (RCP 2017 chart 1) from the latest values, when all five measured parameters have
/// one. Consciousness, air or oxygen and the SpO2 scale are the latest recorded within 12 h
/// ([`RecordedNews2`]); what was not recorded is scored as alert, air and scale 1, and said so.
pub(crate) fn news2_view(latest: &[(Kind, i64, f64)], recorded: RecordedNews2) -> Option<News2View> {
    let get = |k: Kind| latest.iter().find(|(kind, _, _)| *kind == k).map(|(_, _, v)| *v);
    let context = recorded.context();
    let input = News2Input {
        respiration_rate: get(Kind::RespiratoryRate)?,
        spo2: get(Kind::Spo2)?,
        spo2_scale: context.spo2_scale,
        on_oxygen: context.on_oxygen,
        systolic_bp: get(Kind::BpSystolic)?,
        pulse: get(Kind::HeartRate)?,
        consciousness: context.consciousness.unwrap_or(Consciousness::Alert),
        temperature: get(Kind::BodyTemperature)?,
    };
    let score = news2::score(&input).ok()?;
    Some(News2View {
        aggregate: u32::from(score.aggregate),
        band: name(&score.risk),
        response: name(&score.response),
        urgent_review: score.urgent_review,
        parameters: score
            .sub_scores
            .iter()
            .map(|s| News2Parameter {
                name: s.parameter.as_str().to_owned(),
                value: s.charted,
                score: u32::from(s.score),
            })
            .collect(),
        assumptions: recorded.assumptions(),
    })
}

impl Workstation {
    /// Every patient with the latest vitals, NEWS2, the assessment's risk (agents and models
    /// on the latest data; no alert is raised here), open alerts and the last data time;
    /// highest risk first (then NEWS2, open alerts, name). One audit event.
    pub async fn worklist(&self, orchestrator: &Orchestrator) -> Result<Worklist, Error> {
        let me = self.authorize(Operation::PatientList).await?;
        let started = Instant::now();
        let until_ms = self.time_bounds().await?.latest_ms();
        let mut tx = self.store.begin_read().await?;
        let patients = crate::store::list_patients(&mut *tx).await?;
        let mut snapshots = Vec::with_capacity(patients.len());
        for p in &patients {
            // A restricted record this user has not opened: its data is not even read.
            if self.withheld(&me, &mut tx, p.id).await? {
                snapshots.push(None);
                continue;
            }
            let snap = snapshot(&mut tx, p, until_ms).await?;
            // The monitor's latest assessment, when it covers the latest data: no re-assessment.
            let stored = crate::store::assessments::latest(&mut *tx, p.id, until_ms)
                .await?
                .filter(|a| snap.last_ms.is_some_and(|last| a.at.timestamp_millis() >= last));
            snapshots.push(Some((snap, stored)));
        }
        let open =
            AlertQuery { statuses: vec![AlertStatus::New, AlertStatus::Acknowledged], ..Default::default() };
        let alerts = crate::store::list_alerts(&mut *tx, &open).await?;
        let withheld = snapshots.iter().filter(|s| s.is_none()).count();
        let detail = serde_json::json!({ "patients": patients.len(), "restricted": withheld });
        self.audit_read("worklist.view", None, detail).await;
        tx.commit().await.map_err(StoreError::from)?;
        let demo = self.store.meta("demo").await?.as_deref() == Some("true");
        let mut rows = Vec::with_capacity(patients.len());
        for (p, snapshot) in patients.iter().zip(snapshots) {
            let open_alerts =
                u32::try_from(alerts.iter().filter(|a| a.patient_id == p.id).count()).unwrap_or(u32::MAX);
            let Some((snap, stored)) = snapshot else {
                rows.push(restricted_row(p, open_alerts));
                continue;
            };
            let assessed = match (stored, snap.context) {
                // Issue 12: a patient without monitoring consent is not assessed, nor shown as
                // assessed by an older stored assessment.
                _ if !p.consent.monitoring => None,
                (Some(stored), _) => Some((stored, "stored")),
                (None, Some(ctx)) => Some((StoredAssessment::of(&orchestrator.assess(ctx).await), "now")),
                (None, None) => None,
            };
            rows.push(WorklistRow {
                patient_id: p.id.to_string(),
                mrn: p.mrn.clone(),
                name: p.name.clone(),
                latest: readings(&snap.latest),
                news2: news2_view(&snap.latest, snap.recorded),
                risk_score: assessed.as_ref().map_or(0.0, |(a, _)| a.risk_score),
                risk_level: assessed.as_ref().map_or("low", |(a, _)| a.risk_level.as_str()).to_owned(),
                event: assessed.as_ref().and_then(|(a, _)| a.event.clone()),
                top_finding: assessed.as_ref().and_then(|(a, _)| a.top_finding.clone()),
                open_alerts,
                last_data_ms: snap.last_ms.map(|t| t as f64),
                needs_review: assessed
                    .as_ref()
                    .map(|(a, _)| a.needs_review.iter().map(|s| s.as_str().to_owned()).collect())
                    .unwrap_or_default(),
                assessed: match &assessed {
                    Some((_, how)) => how,
                    None if !p.consent.monitoring => "no_consent",
                    None => "none",
                }
                .to_owned(),
            });
        }
        self.persist_rollouts().await?;
        sort_by_risk(&mut rows);
        Ok(Worklist { rows, demo, took_ms: started.elapsed().as_secs_f64() * 1e3 })
    }

    pub(crate) fn assessment_view(&self, a: &Assessment) -> super::AssessmentView {
        let runtime = self.models.get().cloned();
        let demo = |model: &str| runtime.as_ref().is_some_and(|r| r.is_demonstration(model));
        assessment(a, &demo)
    }
}

/// The row of a restricted record the user has not opened: who it is (so that a clinician can
/// find it and break the glass) and how many alerts are open on it, never its values, risk or
/// alert text. Its risk is unknown to this user, so it sorts by name among the low-risk rows.
fn restricted_row(p: &Patient, open_alerts: u32) -> WorklistRow {
    WorklistRow {
        patient_id: p.id.to_string(),
        mrn: p.mrn.clone(),
        name: p.name.clone(),
        latest: Vec::new(),
        news2: None,
        risk_score: 0.0,
        risk_level: "restricted".to_owned(),
        event: None,
        top_finding: None,
        open_alerts,
        last_data_ms: None,
        needs_review: Vec::new(),
        assessed: "restricted".to_owned(),
    }
}

/// The lowest rank of a patient whose specialties could not all answer: the lower edge of the
/// moderate band, so such a patient sorts above every low-risk one.
pub(crate) const NEEDS_REVIEW_RANK: f64 = 0.30;

/// Highest risk first; ties by NEWS2 (missing lowest), open alerts, then name (a stable,
/// explainable order). A patient who needs review (a specialty could not answer) ranks at
/// least [`NEEDS_REVIEW_RANK`]. A score that is not a number (a failed computation) sorts last,
/// never first. The one place the worklist's order is decided: the window shows the rows as sent.
pub fn sort_by_risk(rows: &mut [WorklistRow]) {
    let risk = |r: &WorklistRow| {
        let score = if r.risk_score.is_nan() { f64::NEG_INFINITY } else { r.risk_score };
        if r.needs_review.is_empty() { score } else { score.max(NEEDS_REVIEW_RANK) }
    };
    rows.sort_by(|a, b| {
        risk(b)
            .total_cmp(&risk(a))
            .then_with(|| b.news2.as_ref().map(|n| n.aggregate).cmp(&a.news2.as_ref().map(|n| n.aggregate)))
            .then_with(|| b.open_alerts.cmp(&a.open_alerts))
            .then_with(|| a.name.cmp(&b.name))
    });
}

#[cfg(test)]
mod tests {
    use super::{WorklistRow, sort_by_risk};

    fn row(name: &str, risk_score: f64, open_alerts: u32) -> WorklistRow {
        WorklistRow {
            patient_id: name.to_owned(),
            mrn: name.to_owned(),
            name: name.to_owned(),
            latest: Vec::new(),
            news2: None,
            risk_score,
            risk_level: "low".to_owned(),
            event: None,
            top_finding: None,
            needs_review: Vec::new(),
            assessed: "now".to_owned(),
            open_alerts,
            last_data_ms: None,
        }
    }

    #[test]
    fn a_missing_score_sorts_last_never_first() {
        let mut rows = [row("N", f64::NAN, 3), row("L", 0.0, 0), row("H", 0.9, 0), row("M", -f64::NAN, 0)];
        sort_by_risk(&mut rows);
        let names: Vec<_> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["H", "L", "N", "M"]);
    }

    #[test]
    fn a_patient_whose_specialties_could_not_answer_sorts_above_every_low_risk_patient() {
        // Fallback findings score 0: without the review rank this patient sorted last.
        let mut unknown = row("U", 0.0, 0);
        unknown.needs_review = vec!["early_warning".to_owned()];
        let mut rows = [row("L", 0.25, 0), unknown, row("M", 0.45, 0), row("Z", 0.0, 0)];
        sort_by_risk(&mut rows);
        let names: Vec<_> = rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["M", "U", "L", "Z"]);
    }
}

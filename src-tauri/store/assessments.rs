//! Stored assessments: each patient's risk history (migration 0009). Derived data: no outbox.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Row, Sqlite, SqliteExecutor, Transaction};

use super::{StoreError, new_uuid, time};
use crate::agents::{Assessment, RiskLevel, Specialty};
use crate::domain::PatientId;

/// One specialty's part of a stored assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecialtyScore {
    /// The specialty.
    pub specialty: Specialty,
    /// Its score.
    pub risk_score: f64,
    /// Its band.
    pub risk_level: RiskLevel,
    /// `rules`, `model NAME VERSION`, or `unavailable`.
    pub method: String,
    /// The evidence that fired, strongest first (at most three): the top drivers.
    pub drivers: Vec<String>,
}

/// A stored assessment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAssessment {
    /// The instant assessed (event time).
    pub at: DateTime<Utc>,
    /// Overall band.
    pub risk_level: RiskLevel,
    /// Overall score.
    pub risk_score: f64,
    /// Specialties that could not answer: the patient needs a clinician's review, whatever the
    /// score of the others says.
    pub needs_review: Vec<Specialty>,
    /// The event class of the highest finding that has one (`hypoxia`, ...).
    pub event: Option<String>,
    /// The code of the highest finding.
    pub top_finding: Option<String>,
    /// Each specialty's score, method and drivers.
    pub specialties: Vec<SpecialtyScore>,
}

/// What the `detail` column holds.
#[derive(Debug, Serialize, Deserialize)]
struct Detail {
    event: Option<String>,
    top_finding: Option<String>,
    specialties: Vec<SpecialtyScore>,
}

impl StoredAssessment {
    /// What to keep of an assessment.
    pub fn of(assessment: &Assessment) -> Self {
        let specialties = assessment
            .findings
            .iter()
            .map(|f| SpecialtyScore {
                specialty: f.specialty,
                risk_score: f.risk_score,
                risk_level: f.risk_level,
                method: match &f.method {
                    crate::agents::Method::Rules => "rules".to_owned(),
                    crate::agents::Method::Model { name, version } => format!("model {name} {version}"),
                    crate::agents::Method::Fallback => "unavailable".to_owned(),
                },
                drivers: f.triggered_evidence().take(3).map(|e| e.feature.to_string()).collect(),
            })
            .collect();
        Self {
            at: assessment.time,
            risk_level: assessment.risk_level,
            risk_score: assessment.risk_score,
            needs_review: assessment.needs_review(),
            event: assessment.event.map(|e| e.as_str().to_owned()),
            top_finding: assessment.findings.first().map(|f| f.code.clone()),
            specialties,
        }
    }
}

/// Stores one assessment of `patient`.
pub(crate) async fn insert(
    tx: &mut Transaction<'static, Sqlite>,
    patient: PatientId,
    stored: &StoredAssessment,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let corrupt = |e: serde_json::Error| StoreError::Corrupt { what: "assessment", problem: e.to_string() };
    sqlx::query(
        "INSERT INTO assessments (id, patient_id, at_ms, risk_level, risk_score, needs_review, detail, created_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(new_uuid().as_bytes().as_slice())
    .bind(patient.as_bytes().as_slice())
    .bind(time::to_ms(stored.at))
    .bind(stored.risk_level.as_str())
    .bind(stored.risk_score.clamp(0.0, 1.0))
    .bind(serde_json::to_string(&stored.needs_review).map_err(corrupt)?)
    .bind(
        serde_json::to_string(&Detail {
            event: stored.event.clone(),
            top_finding: stored.top_finding.clone(),
            specialties: stored.specialties.clone(),
        })
        .map_err(corrupt)?,
    )
    .bind(time::to_ms(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn decode(row: &sqlx::sqlite::SqliteRow) -> Result<StoredAssessment, StoreError> {
    let corrupt = |e: String| StoreError::Corrupt { what: "assessment", problem: e };
    let level: String = row.get("risk_level");
    let detail: Detail = serde_json::from_str(row.get("detail")).map_err(|e| corrupt(e.to_string()))?;
    Ok(StoredAssessment {
        at: time::from_ms(row.get("at_ms"))?,
        risk_level: level.parse().map_err(|e: crate::agents::UnknownRiskLevel| corrupt(e.to_string()))?,
        risk_score: row.get("risk_score"),
        needs_review: serde_json::from_str(row.get("needs_review")).map_err(|e| corrupt(e.to_string()))?,
        event: detail.event,
        top_finding: detail.top_finding,
        specialties: detail.specialties,
    })
}

/// The patient's assessments in `[since_ms, until_ms)`, oldest first, at most `limit`.
pub(crate) async fn history(
    db: impl SqliteExecutor<'_>,
    patient: PatientId,
    since_ms: i64,
    until_ms: i64,
    limit: i64,
) -> Result<Vec<StoredAssessment>, StoreError> {
    let rows = sqlx::query(
        "SELECT at_ms, risk_level, risk_score, needs_review, detail FROM ( \
           SELECT * FROM assessments WHERE patient_id = ? AND at_ms >= ? AND at_ms < ? \
           ORDER BY at_ms DESC LIMIT ?) ORDER BY at_ms",
    )
    .bind(patient.as_bytes().as_slice())
    .bind(since_ms)
    .bind(until_ms)
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter().map(decode).collect()
}

/// The patient's newest assessment before `until_ms`.
pub(crate) async fn latest(
    db: impl SqliteExecutor<'_>,
    patient: PatientId,
    until_ms: i64,
) -> Result<Option<StoredAssessment>, StoreError> {
    Ok(history(db, patient, i64::MIN, until_ms, 1).await?.pop())
}

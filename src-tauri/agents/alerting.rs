//! From assessments to alert drafts: threshold, event classification, rate limiting. Pure;
//! the store keeps the alerts (`store::alerts`) and their lifecycle.
//!
//! Rate limiting is in **event time** (the assessment's instant, not the wall clock), so a
//! replay faster than real time limits exactly as the live stream would.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::{Assessment, EventClass, Evidence, RiskLevel};

/// When to alert.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlertPolicy {
    /// Alert when a finding's risk score reaches this (default 0.85).
    pub threshold: f64,
    /// At most one alert per patient and event within this time (default 5 minutes).
    pub rate_limit_seconds: i64,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        Self { threshold: 0.85, rate_limit_seconds: 300 }
    }
}

/// An alert about to be raised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertDraft {
    /// The patient (as in the assessment).
    pub patient: String,
    /// The event.
    pub event: EventClass,
    /// The assessed instant.
    pub time: DateTime<Utc>,
    /// The highest band among the findings for this event.
    pub risk_level: RiskLevel,
    /// The highest score among them.
    pub risk_score: f64,
    /// The assessment's combined confidence.
    pub confidence: f64,
    /// The fired evidence of every finding about this event, highest first.
    pub evidence: Vec<Evidence>,
    /// Their recommendations, without repeats.
    pub recommendations: Vec<String>,
    /// The codes of those findings.
    pub findings: Vec<String>,
    /// The assessment it came from.
    pub assessment_id: uuid::Uuid,
}

/// One draft per event that has a finding at or above the threshold (none when the overall
/// risk is below it).
pub fn drafts(policy: &AlertPolicy, assessment: &Assessment) -> Vec<AlertDraft> {
    if assessment.risk_score < policy.threshold {
        return Vec::new();
    }
    let mut out: Vec<AlertDraft> = Vec::new();
    for f in assessment.findings.iter().filter(|f| f.risk_score >= policy.threshold) {
        let Some(event) = f.event else { continue };
        if out.iter().any(|d| d.event == event) {
            continue;
        }
        // Every finding about this event contributes, whatever its score.
        let related: Vec<_> = assessment.findings.iter().filter(|g| g.event == Some(event)).collect();
        let mut recommendations: Vec<String> = Vec::new();
        for r in related.iter().flat_map(|g| &g.recommendations) {
            if !recommendations.contains(r) {
                recommendations.push(r.clone());
            }
        }
        out.push(AlertDraft {
            patient: assessment.patient.clone(),
            event,
            time: assessment.time,
            risk_level: f.risk_level,
            risk_score: f.risk_score,
            confidence: assessment.confidence,
            evidence: related.iter().flat_map(|g| g.triggered_evidence().cloned()).collect(),
            recommendations,
            findings: related.iter().map(|g| g.code.clone()).collect(),
            assessment_id: assessment.id,
        });
    }
    out
}

/// Remembers the alerts per patient and event, in event time. An alert is held back when
/// another of the same patient and event lies within the rate limit of it, before or after, so
/// replaying a stream that was already monitored raises nothing new.
#[derive(Debug, Clone, Default)]
pub struct RateLimiter {
    seen: HashMap<(String, EventClass), BTreeSet<i64>>,
}

impl RateLimiter {
    /// An empty limiter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers an alert raised earlier (e.g. one from the store).
    pub fn remember(&mut self, patient: &str, event: EventClass, at: DateTime<Utc>) {
        self.seen.entry((patient.to_owned(), event)).or_default().insert(at.timestamp_millis());
    }

    /// Whether `draft` may be raised; if so, it is remembered.
    pub fn admit(&mut self, policy: &AlertPolicy, draft: &AlertDraft) -> bool {
        let times = self.seen.entry((draft.patient.clone(), draft.event)).or_default();
        let t = draft.time.timestamp_millis();
        let limit = Duration::seconds(policy.rate_limit_seconds).num_milliseconds();
        if limit > 0 && times.range(t - limit + 1..t + limit).next().is_some() {
            return false;
        }
        times.insert(t);
        true
    }
}

/// Where an alert is in its lifecycle: new → acknowledged → resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Raised, nobody has looked yet.
    New,
    /// A clinician has seen it.
    Acknowledged,
    /// Dealt with.
    Resolved,
}

impl AlertStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertStatus::New => "new",
            AlertStatus::Acknowledged => "acknowledged",
            AlertStatus::Resolved => "resolved",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [AlertStatus::New, AlertStatus::Acknowledged, AlertStatus::Resolved]
            .into_iter()
            .find(|x| x.as_str() == s)
    }

    /// The status this one must be in for a transition to `self`.
    pub fn required_before(self) -> Option<AlertStatus> {
        match self {
            AlertStatus::New => None,
            AlertStatus::Acknowledged => Some(AlertStatus::New),
            AlertStatus::Resolved => Some(AlertStatus::Acknowledged),
        }
    }
}

/// Who moved an alert, when, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// The actor.
    pub by: String,
    /// When (wall clock).
    pub at: DateTime<Utc>,
    /// The clinician's note.
    pub note: String,
}

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// UUIDv7.
    pub id: uuid::Uuid,
    /// The patient.
    pub patient_id: crate::domain::PatientId,
    /// The event class.
    pub event: EventClass,
    /// Band.
    pub risk_level: RiskLevel,
    /// Score.
    pub risk_score: f64,
    /// Combined confidence.
    pub confidence: f64,
    /// Fired evidence.
    pub evidence: Vec<Evidence>,
    /// Recommendations.
    pub recommendations: Vec<String>,
    /// Finding codes.
    pub findings: Vec<String>,
    /// The assessment it came from.
    pub assessment_id: uuid::Uuid,
    /// The assessed instant (event time).
    pub event_time: DateTime<Utc>,
    /// When it was stored (wall clock).
    pub created_at: DateTime<Utc>,
    /// Lifecycle.
    pub status: AlertStatus,
    /// new → acknowledged.
    pub acknowledged: Option<Transition>,
    /// acknowledged → resolved.
    pub resolved: Option<Transition>,
}

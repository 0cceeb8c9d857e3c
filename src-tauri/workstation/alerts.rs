//! The facade's agents and alerts: the review workflow on stored data, a monitored replay into
//! the store, the alert lifecycle, the orchestrator's metrics. Every call that reads or changes
//! patient data writes its audit event in the same transaction (invariant 6); every alert change
//! writes its outbox message there too (invariant 5).

use crate::domain::access::Operation;
use chrono::Utc;
use serde::Serialize;

use super::{Error, Workstation};
use crate::agents::alerting::{self, Alert, AlertDraft, AlertPolicy, AlertStatus, RateLimiter, Transition};
use crate::agents::replay::{PatientStream, ReplayOptions, ReplaySummary};
use crate::agents::workflow::{REVIEW, Step};
use crate::agents::{Assessment, Orchestrator, review};
use crate::analysis::window::VitalSample;
use crate::domain::{Patient, PatientRef};
use crate::store::{AlertQuery, ObservationQuery, StoreError};

/// Options of [`Workstation::assess`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AssessOptions {
    /// Threshold and rate limit.
    pub policy: AlertPolicy,
}

/// What the review workflow did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewOutcome {
    /// The patient.
    pub patient: Patient,
    /// The workflow's steps that ran, in order (the emergency override drops some).
    pub steps: Vec<Step>,
    /// The assessment; `None` when the patient has no observations.
    pub assessment: Option<Assessment>,
    /// Alerts raised and stored.
    pub alerts: Vec<Alert>,
    /// Drafts the rate limit held back.
    pub rate_limited: usize,
    /// Observations read, per kind (the Summarise step; absent under the emergency override).
    pub summary: Option<std::collections::BTreeMap<&'static str, usize>>,
}

/// Options of [`Workstation::monitor`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MonitorOptions {
    /// Replay tuning.
    pub replay: ReplayOptions,
}

/// What a monitored replay into the store did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorReport {
    /// Counts.
    pub summary: ReplaySummary,
    /// Alerts stored.
    pub alerts: Vec<Alert>,
}

impl Workstation {
    /// The review workflow ([`REVIEW`]): load the patient's data, analyse, assess, summarise
    /// (skipped after a critical finding), raise and store alerts. The caller notifies.
    pub async fn assess(
        &self,
        orchestrator: &Orchestrator,
        reference: &PatientRef,
        options: &AssessOptions,
    ) -> Result<ReviewOutcome, Error> {
        let principal = self.authorize(Operation::Assess).await?;
        let mut steps = vec![Step::Load];
        // A read: no writer delays it. Nothing dated past the clock's tolerance is "latest".
        let until = self.time_bounds().await?.latest();
        let mut tx = self.store.begin_read().await?;
        let patient = self.open_patient(&principal, &mut tx, reference).await?;
        if !patient.consent.monitoring {
            return Err(Error::NoMonitoringConsent { patient: patient.id, refused: "not assessed" });
        }
        let query = ObservationQuery {
            range: crate::store::TimeRange { since: None, until: Some(until) },
            ..ObservationQuery::default()
        };
        let observations = crate::store::query_observations(&mut *tx, patient.id, &query).await?;
        // The heart-failure agent reads the saved filter (issue 11) when the monitor keeps one.
        let saved_weight = crate::store::saved_weight_context(&mut tx, patient.id).await?;
        let detail = serde_json::json!({ "workflow": REVIEW.name, "rows": observations.len() });
        self.audit_read("assessment.review", Some(&patient), detail).await;
        tx.commit().await.map_err(StoreError::from)?;

        steps.push(Step::Analyse);
        let label = patient.id.to_string();
        let ctx = review::context_from_observations(&label, &observations).map(|mut ctx| {
            if saved_weight.is_some() {
                ctx.weight = saved_weight;
            }
            ctx
        });
        let Some(ctx) = ctx else {
            return Ok(ReviewOutcome {
                patient,
                steps,
                assessment: None,
                alerts: Vec::new(),
                rate_limited: 0,
                summary: None,
            });
        };
        steps.push(Step::Assess);
        let assessment = orchestrator.assess(ctx).await;
        let mut outcome = ReviewOutcome {
            patient,
            steps: Vec::new(),
            assessment: None,
            alerts: Vec::new(),
            rate_limited: 0,
            summary: None,
        };
        for step in REVIEW.remaining(Step::Assess, assessment.is_critical()) {
            steps.push(step);
            match step {
                Step::Summarise => {
                    let mut counts = std::collections::BTreeMap::new();
                    for o in &observations {
                        *counts.entry(o.kind.as_str()).or_insert(0) += 1;
                    }
                    outcome.summary = Some(counts);
                }
                Step::Alert => {
                    let mut limiter = self.rate_limiter(&outcome.patient, &assessment.patient).await?;
                    for draft in alerting::drafts(&options.policy, &assessment) {
                        if limiter.admit(&options.policy, &draft) {
                            outcome.alerts.push(self.raise_alert(&outcome.patient, &draft).await?);
                        } else {
                            outcome.rate_limited += 1;
                        }
                    }
                }
                // Notify is the caller's (the CLI prints, the window shows).
                _ => {}
            }
        }
        outcome.steps = steps;
        outcome.assessment = Some(assessment);
        // Automatic promotions, rollbacks and canary counts of the model rollouts.
        self.persist_rollouts().await?;
        Ok(outcome)
    }

    /// Replays a patient's 1 Hz stream (in time order) through windows, agents and alerts,
    /// storing each alert as it fires and handing it to `on_alert`. The rate limit starts from
    /// the patient's stored alerts, in event time.
    pub async fn monitor(
        &self,
        orchestrator: &Orchestrator,
        reference: &PatientRef,
        samples: impl IntoIterator<Item = VitalSample>,
        options: &MonitorOptions,
        mut on_alert: impl FnMut(&Alert),
    ) -> Result<MonitorReport, Error> {
        self.authorize(Operation::Assess).await?;
        let patient = self.patient(reference).await?;
        if !patient.consent.monitoring {
            return Err(Error::NoMonitoringConsent { patient: patient.id, refused: "not assessed" });
        }
        let label = patient.id.to_string();
        let policy = options.replay.policy;
        let mut limiter = self.rate_limiter(&patient, &label).await?;
        let mut stream = PatientStream::new(label, options.replay);
        let mut summary = ReplaySummary::default();
        let mut alerts = Vec::new();
        for sample in samples {
            summary.samples += 1;
            let Some(ctx) = stream.push(&sample) else { continue };
            let assessment = orchestrator.assess(ctx).await;
            summary.assessments += 1;
            summary.fallbacks += assessment.findings.iter().filter(|f| f.is_fallback()).count() as u64;
            for draft in alerting::drafts(&policy, &assessment) {
                if limiter.admit(&policy, &draft) {
                    let alert = self.raise_alert(&patient, &draft).await?;
                    on_alert(&alert);
                    alerts.push(alert);
                    summary.alerts += 1;
                } else {
                    summary.rate_limited += 1;
                }
            }
        }
        summary.quality = stream.quality();
        self.persist_rollouts().await?;
        Ok(MonitorReport { summary, alerts })
    }

    /// A rate limiter that knows the patient's stored alerts (in event time).
    pub(super) async fn rate_limiter(&self, patient: &Patient, label: &str) -> Result<RateLimiter, Error> {
        let mut limiter = RateLimiter::new();
        let query = AlertQuery { patient: Some(patient.id), ..AlertQuery::default() };
        let alerts = crate::store::list_alerts(self.store.pool(), &query).await?;
        for alert in &alerts {
            limiter.remember(label, alert.event, alert.event_time);
        }
        // A read of the patient's alerts like any other: audited (invariant 6).
        let detail = serde_json::json!({ "purpose": "rate_limit", "count": alerts.len() });
        self.audit_read("alerts.list", Some(patient), detail).await;
        Ok(limiter)
    }

    async fn raise_alert(&self, patient: &Patient, draft: &AlertDraft) -> Result<Alert, Error> {
        let now = Utc::now();
        let mut tx = self.store.begin().await?;
        let alert = crate::store::insert_alert(&mut tx, patient.id, draft, now).await?;
        let detail = serde_json::json!({
            "alert_id": alert.id,
            "event": alert.event.as_str(),
            "risk_level": alert.risk_level.as_str(),
        });
        self.audit(&mut tx, "alert.raise", Some(patient), detail).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(alert)
    }

    /// Empties what a restricted patient's alerts say about them (evidence, findings,
    /// recommendations) for a user without a live break-the-glass grant: the alerts stay listed,
    /// so that someone can act on them, without the record's content (issue 12).
    pub(crate) async fn withhold_restricted(
        &self,
        principal: &super::access::Principal,
        tx: &mut sqlx::SqliteConnection,
        alerts: &mut [Alert],
    ) -> Result<(), Error> {
        let mut closed = std::collections::HashMap::new();
        for alert in alerts {
            let withheld = match closed.get(&alert.patient_id) {
                Some(withheld) => *withheld,
                None => {
                    let withheld = self.withheld(principal, tx, alert.patient_id).await?;
                    closed.insert(alert.patient_id, withheld);
                    withheld
                }
            };
            if withheld {
                alert.evidence.clear();
                alert.findings.clear();
                alert.recommendations.clear();
            }
        }
        Ok(())
    }

    /// Alerts, newest first.
    pub async fn alerts(&self, query: &AlertQuery) -> Result<Vec<Alert>, Error> {
        let principal = self.authorize(Operation::AlertsRead).await?;
        let mut tx = self.store.begin_read().await?;
        let mut alerts = crate::store::list_alerts(&mut *tx, query).await?;
        self.withhold_restricted(&principal, &mut tx, &mut alerts).await?;
        let detail = serde_json::json!({ "count": alerts.len() });
        self.audit_read_id("alerts.list", query.patient, detail).await;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(alerts)
    }

    /// new → acknowledged, recording who, when and the note (optional; trimmed).
    pub async fn acknowledge_alert(&self, id: &str, note: &str) -> Result<Alert, Error> {
        self.authorize(Operation::AlertAcknowledge).await?;
        self.move_alert(id, AlertStatus::Acknowledged, note).await
    }

    /// → resolved, recording who, when and the note, which is required (trimmed, it must say
    /// what was done). A new alert is acknowledged first, with the same note, actor and instant,
    /// in the same transaction: the record shows both steps or neither. Every caller gets these
    /// rules (the window, the CLI, scripts).
    pub async fn resolve_alert(&self, id: &str, note: &str) -> Result<Alert, Error> {
        self.authorize(Operation::AlertResolve).await?;
        self.move_alert(id, AlertStatus::Resolved, note).await
    }

    async fn move_alert(&self, id: &str, to: AlertStatus, note: &str) -> Result<Alert, Error> {
        let uuid = uuid::Uuid::parse_str(id.trim()).map_err(|_| Error::AlertNotFound(id.to_owned()))?;
        let note = note.trim();
        if to == AlertStatus::Resolved && note.is_empty() {
            return Err(Error::ResolveNoteRequired(id.trim().to_owned()));
        }
        let by = Transition { by: self.actor_name(), at: Utc::now(), note: note.to_owned() };
        let mut tx = self.store.begin().await?;
        let current = crate::store::find_alert(&mut *tx, uuid)
            .await?
            .ok_or_else(|| Error::AlertNotFound(id.to_owned()))?;
        let steps: &[AlertStatus] = match (current.status, to) {
            (AlertStatus::New, AlertStatus::Resolved) => &[AlertStatus::Acknowledged, AlertStatus::Resolved],
            _ => &[to],
        };
        let mut moved = current;
        for &step in steps {
            // Dropping `tx` on an error rolls back a step already taken.
            let Some(alert) = crate::store::transition_alert(&mut tx, uuid, step, &by).await? else {
                return Err(Error::AlertTransition {
                    id: id.to_owned(),
                    status: moved.status.as_str(),
                    required: step.required_before().map_or("", AlertStatus::as_str),
                    action: to.as_str(),
                });
            };
            let action =
                if step == AlertStatus::Acknowledged { "alert.acknowledge" } else { "alert.resolve" };
            let detail = serde_json::json!({ "alert_id": alert.id, "event": alert.event.as_str() });
            self.audit_id(&mut tx, action, Some(alert.patient_id), detail).await?;
            moved = alert;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(moved)
    }
}

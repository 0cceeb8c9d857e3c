//! [`ModelAgent`]: a specialty's rules with its model rollout beside them.
//!
//! The rules always run (their evidence and recommendations are the finding's substance). When
//! a model answers, its score joins the evidence as `model_risk`, and the finding's risk is the
//! higher of the rules' and the model's: a model can raise concern above the published rules,
//! never silence them (Vigil's safety convention). The finding's method then names the model
//! and version that produced the score.

use std::borrow::Cow;
use std::sync::Arc;

use super::features::Schema;
use super::rollout::{ModelSlot, Role};
use crate::agents::rules::{self, RULES_VERSION};
use crate::agents::{
    Agent, AgentError, AgentFuture, AssessmentContext, Evidence, Finding, Method, RiskLevel, Specialty,
};

/// The score at which the model's evidence counts as triggered (the high band).
const MODEL_EVIDENCE_THRESHOLD: f64 = 0.60;

/// The highest score a demonstration model may give a finding by itself: the top of the high
/// band, just below critical (0.85, [`RiskLevel::from_score`]).
pub const DEMONSTRATION_CEILING: f64 = 0.849;

/// A specialty's rules plus its model slot.
#[derive(Debug, Clone)]
pub struct ModelAgent {
    specialty: Specialty,
    name: String,
    slot: Arc<ModelSlot>,
    /// Why models are off (the runtime is missing), said in every finding.
    unavailable: Option<String>,
}

impl ModelAgent {
    /// The agent of `slot`'s specialty. `unavailable` is the runtime's one-line reason when
    /// models cannot run.
    pub fn new(slot: Arc<ModelSlot>, unavailable: Option<String>) -> Self {
        let specialty = slot.agent();
        Self { specialty, name: format!("{}-model", specialty.as_str()), slot, unavailable }
    }

    /// Assesses synchronously (inference takes microseconds).
    pub fn assess_now(&self, ctx: &AssessmentContext) -> Finding {
        let mut finding = rules::assess(self.specialty, ctx);
        finding.agent = self.name.clone();
        if let Some(reason) = &self.unavailable {
            finding.note = Some(format!("rules only: {reason}"));
            return finding;
        }
        if !self.slot.has_model() {
            return finding;
        }
        let schema = Schema::of(self.specialty);
        let features = schema.extract(ctx);
        if !features.usable() {
            finding.note = Some(format!(
                "rules only: {} of {} model inputs missing",
                features.imputed,
                features.values.len()
            ));
            return finding;
        }
        let Some(scored) = self.slot.evaluate(&features.values, finding.risk_score) else {
            finding.note = Some("rules only: the model did not answer (see the log)".to_owned());
            return finding;
        };
        let role = if scored.role == Role::Canary { " (canary)" } else { "" };
        finding.evidence.push(Evidence {
            feature: Cow::Borrowed("model_risk"),
            value: scored.score,
            threshold: MODEL_EVIDENCE_THRESHOLD,
            comparison: Cow::Borrowed(">="),
            triggered: scored.score >= MODEL_EVIDENCE_THRESHOLD,
            source: Cow::Owned(format!("{} {}{role}", scored.name, scored.version)),
        });
        let rules_score = finding.risk_score;
        // A demonstration model (not for clinical use) may raise concern, but never by itself
        // make a finding critical: alarm fatigue is a clinical hazard, and such a model has not
        // earned that weight. It is held just below the critical band.
        let model_score = if scored.demonstration && rules_score < DEMONSTRATION_CEILING {
            scored.score.min(DEMONSTRATION_CEILING)
        } else {
            scored.score
        };
        let mut notes = Vec::new();
        if model_score > rules_score {
            finding.risk_score = model_score;
            finding.risk_level = RiskLevel::from_score(model_score);
            notes.push(format!(
                "the model raised the risk from {rules_score:.2} (rules) to {model_score:.2}: {:.2} of it came from the model",
                model_score - rules_score
            ));
            if scored.score > model_score {
                notes.push(format!(
                    "held below critical: {} {} is a demonstration model and scored {:.2}",
                    scored.name, scored.version, scored.score
                ));
            }
            if model_score >= 0.30 {
                finding.recommendations.push(format!(
                    "Model {} {} estimates risk {:.2}: review the patient's trend",
                    scored.name, scored.version, model_score
                ));
            }
        } else {
            notes.push(format!(
                "the risk is the rules' ({rules_score:.2}); the model scored {:.2}",
                scored.score
            ));
        }
        if features.imputed > 0 {
            notes.push(format!("{} of {} model inputs imputed", features.imputed, features.values.len()));
        }
        finding.note = Some(notes.join("; "));
        finding.agent_version = scored.version.clone();
        finding.method = Method::Model { name: scored.name, version: scored.version };
        finding
    }
}

impl Agent for ModelAgent {
    fn name(&self) -> &str {
        &self.name
    }

    fn specialty(&self) -> Specialty {
        self.specialty
    }

    fn version(&self) -> &str {
        RULES_VERSION
    }

    fn assess<'a>(&'a self, ctx: &'a AssessmentContext) -> AgentFuture<'a, Result<Finding, AgentError>> {
        Box::pin(std::future::ready(Ok(self.assess_now(ctx))))
    }
}

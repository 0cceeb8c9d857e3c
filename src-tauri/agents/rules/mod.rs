//! The five specialties' rules: pure functions from an [`AssessmentContext`] to a [`Finding`].
//!
//! No I/O, no clock, deterministic (like `analysis`). Each rule cites its source beside it.
//!
//! **Scoring convention (Vigil's, not a published score).** Each rule that fires carries a
//! score in 0..=1 chosen so its clinical severity lands in the right band of
//! [`RiskLevel::from_score`]: advisory 0.3-0.6, urgent 0.6-0.85, emergency ≥ 0.85. A finding's
//! score is the highest fired rule's, plus 0.05 for each further rule that fired (agreeing
//! signals raise concern), capped at 1. Its code and event are the highest rule's. Its
//! confidence is the data's: the window's coverage (and, for NEWS2, the share of parameters
//! measured). Rules that did not fire stay in the evidence with `triggered: false`, so a low
//! finding still shows what was checked.

mod cardiology;
mod early_warning;
mod heart_failure;
mod infection;
mod pulmonary;

use super::{AssessmentContext, EventClass, Evidence, Finding, Method, RiskLevel, Specialty};

/// The version of the rule set, carried in every finding.
pub const RULES_VERSION: &str = "rules-1.0";

/// Runs the rules of `specialty`.
pub fn assess(specialty: Specialty, ctx: &AssessmentContext) -> Finding {
    let book = match specialty {
        Specialty::Cardiology => cardiology::assess(ctx),
        Specialty::Pulmonary => pulmonary::assess(ctx),
        Specialty::HeartFailure => heart_failure::assess(ctx),
        Specialty::EarlyWarning => early_warning::assess(ctx),
        Specialty::InfectionScreen => infection::assess(ctx),
    };
    book.finish(specialty)
}

/// How a value is compared with its threshold.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn symbol(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }

    fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Cmp::Lt => value < threshold,
            Cmp::Le => value <= threshold,
            Cmp::Gt => value > threshold,
            Cmp::Ge => value >= threshold,
        }
    }
}

/// One rule: if `feature cmp threshold`, the finding is at least `score`.
pub(crate) struct Rule {
    pub(crate) code: &'static str,
    pub(crate) feature: &'static str,
    pub(crate) cmp: Cmp,
    pub(crate) threshold: f64,
    pub(crate) score: f64,
    pub(crate) event: Option<EventClass>,
    pub(crate) source: &'static str,
    pub(crate) recommendation: &'static str,
}

/// The rules checked so far for one finding.
pub(crate) struct RuleBook {
    evidence: Vec<Evidence>,
    /// (score, code, event) of each fired rule.
    fired: Vec<(f64, &'static str, Option<EventClass>)>,
    recommendations: Vec<String>,
    confidence: f64,
    quiet_code: &'static str,
}

impl RuleBook {
    /// A book whose finding, when nothing fires, has code `quiet_code`.
    pub(crate) fn new(quiet_code: &'static str, confidence: f64) -> Self {
        Self {
            evidence: Vec::new(),
            fired: Vec::new(),
            recommendations: Vec::new(),
            confidence: confidence.clamp(0.0, 1.0),
            quiet_code,
        }
    }

    /// Checks `rule` against `value` (absent values are skipped: no evidence either way).
    pub(crate) fn check(&mut self, value: Option<f64>, rule: Rule) -> bool {
        let Some(value) = value.filter(|v| v.is_finite()) else { return false };
        let triggered = rule.cmp.holds(value, rule.threshold);
        self.evidence.push(Evidence {
            feature: rule.feature.into(),
            value,
            threshold: rule.threshold,
            comparison: rule.cmp.symbol().into(),
            triggered,
            source: rule.source.into(),
        });
        // A score of 0 marks a criterion that is counted elsewhere (SIRS), not a finding.
        if triggered && rule.score > 0.0 {
            self.fired.push((rule.score, rule.code, rule.event));
            if !self.recommendations.iter().any(|r| r == rule.recommendation) {
                self.recommendations.push(rule.recommendation.to_owned());
            }
        }
        triggered
    }

    /// Records a rule that fired for reasons computed elsewhere (NEWS2 bands, the heart-failure
    /// rules), with its evidence already made.
    pub(crate) fn fire(
        &mut self,
        evidence: Evidence,
        score: f64,
        code: &'static str,
        event: Option<EventClass>,
        recommendation: &str,
    ) {
        self.evidence.push(evidence);
        self.fired.push((score, code, event));
        if !self.recommendations.iter().any(|r| r == recommendation) {
            self.recommendations.push(recommendation.to_owned());
        }
    }

    /// Adds evidence that is context, not a rule (e.g. the NEWS2 aggregate when low).
    pub(crate) fn note(&mut self, evidence: Evidence) {
        self.evidence.push(evidence);
    }

    fn finish(mut self, specialty: Specialty) -> Finding {
        // Highest score first; ties keep rule order (a stable sort).
        self.fired.sort_by(|a, b| b.0.total_cmp(&a.0));
        let (score, code, event) = match self.fired.first() {
            Some(&(top, code, event)) => {
                let extra = 0.05 * (self.fired.len() - 1) as f64;
                ((top + extra).min(1.0), code, event)
            }
            None => (0.05, self.quiet_code, None),
        };
        if self.recommendations.is_empty() {
            self.recommendations.push("continue routine monitoring".to_owned());
        }
        Finding {
            code: format!("{}.{code}", specialty.as_str()),
            specialty,
            event,
            risk_level: RiskLevel::from_score(score),
            risk_score: score,
            confidence: self.confidence,
            evidence: self.evidence,
            recommendations: self.recommendations,
            agent: format!("{}-rules", specialty.as_str()),
            agent_version: RULES_VERSION.to_owned(),
            method: Method::Rules,
            note: None,
        }
    }
}

#[cfg(test)]
mod tests;

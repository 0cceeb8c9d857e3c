//! The five specialties' rules: pure functions from an [`AssessmentContext`] to a [`Finding`].
//!
//! No I/O, no clock, deterministic (like `analysis`). Each specialty declares its rules as one
//! `const` table ([`table`]; the semantics of a row are on [`Rule`]'s module) and evaluates it,
//! so the table is the rule; each module cites the sources of its rows.
//!
//! **Scoring convention (Vigil's, not a published score).** Each rule that fires carries a
//! score in 0..=1 chosen so its clinical severity lands in the right band of
//! [`RiskLevel::from_score`]: advisory 0.3-0.6, urgent 0.6-0.85, emergency ≥ 0.85. A finding's
//! score is the highest fired rule's, plus 0.05 for each further rule that fired (agreeing
//! signals raise concern; the grades of one rule, rows sharing a `group`, count once), capped at 1. Its code and event are the highest rule's. Its
//! confidence is the data's: the window's coverage (and, for NEWS2, the share of parameters
//! measured). Rules that did not fire stay in the evidence with `triggered: false`, so a low
//! finding still shows what was checked.

mod cardiology;
mod early_warning;
mod heart_failure;
mod infection;
mod pulmonary;
mod table;

pub use table::{Applies, Charting, Cmp, Feature, Rule};

use super::{AssessmentContext, EventClass, Evidence, Finding, Method, RiskLevel, Specialty};

/// The version of the rule set, carried in every finding.
pub const RULES_VERSION: &str = "rules-1.1";

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

/// The rule table of `specialty`, in evaluation order (the semantics of a row: [`Rule`]).
pub fn table(specialty: Specialty) -> &'static [Rule] {
    match specialty {
        Specialty::Cardiology => cardiology::RULES,
        Specialty::Pulmonary => pulmonary::RULES,
        Specialty::HeartFailure => heart_failure::RULES,
        Specialty::EarlyWarning => early_warning::RULES,
        Specialty::InfectionScreen => infection::RULES,
    }
}

/// A row that fired.
struct Fired {
    score: f64,
    code: &'static str,
    event: Option<EventClass>,
    group: Option<&'static str>,
    recommendation: &'static str,
}

/// The rules checked so far for one finding.
pub(crate) struct RuleBook {
    evidence: Vec<Evidence>,
    /// The codes of the rows that triggered (criteria included), for `requires` and counts.
    triggered: Vec<&'static str>,
    /// The rows that fired, in table order.
    fired: Vec<Fired>,
    /// Replaces the fired rows' event (NEWS2: the highest-scoring parameter's).
    event: Option<Option<EventClass>>,
    confidence: f64,
    quiet_code: &'static str,
}

impl RuleBook {
    /// A book whose finding, when nothing fires, has code `quiet_code`.
    pub(crate) fn new(quiet_code: &'static str, confidence: f64) -> Self {
        Self {
            evidence: Vec::new(),
            triggered: Vec::new(),
            fired: Vec::new(),
            event: None,
            confidence: confidence.clamp(0.0, 1.0),
            quiet_code,
        }
    }

    /// Evaluates `rules` in order against `ctx` ([`table`] for the semantics); `computed`
    /// gives the values of features an agent computes itself (NEWS2), and may return `None` for
    /// the others, which are read from `ctx`.
    pub(crate) fn apply(
        &mut self,
        rules: &[Rule],
        ctx: &AssessmentContext,
        computed: impl Fn(Feature) -> Option<f64>,
    ) {
        for rule in rules.iter().filter(|r| r.applies_to(ctx)) {
            let value = match rule.feature {
                Feature::CriteriaMet { groups, .. } => Some(
                    groups.iter().filter(|codes| codes.iter().any(|c| self.triggered.contains(c))).count()
                        as f64,
                ),
                f => computed(f).or_else(|| f.read(ctx)),
            };
            let Some(value) = value.filter(|v| v.is_finite()).map(|v| rule.charting.apply(v)) else {
                continue;
            };
            let required =
                rule.requires.is_empty() || rule.requires.iter().any(|c| self.triggered.contains(c));
            let triggered = rule.cmp.holds(value, rule.threshold) && required;
            self.evidence.push(Evidence {
                feature: rule.feature.name().into(),
                value,
                threshold: rule.threshold,
                comparison: rule.cmp.symbol().into(),
                triggered,
                source: rule.source.into(),
            });
            if !triggered {
                continue;
            }
            self.triggered.push(rule.code);
            if rule.score > 0.0 {
                self.fired.push(Fired {
                    score: rule.score,
                    code: rule.code,
                    event: rule.event,
                    group: rule.group,
                    recommendation: rule.recommendation,
                });
            }
        }
    }

    /// Adds evidence that is context, not a rule (e.g. the NEWS2 parameters that scored).
    pub(crate) fn note(&mut self, evidence: Evidence) {
        self.evidence.push(evidence);
    }

    /// The finding's event when a rule fires, whichever rule it is.
    pub(crate) fn set_event(&mut self, event: Option<EventClass>) {
        self.event = Some(event);
    }

    fn finish(self, specialty: Specialty) -> Finding {
        // Within a group only the highest-scoring fired row counts (the first in table order
        // on a tie).
        let mut counted: Vec<&Fired> = Vec::new();
        for f in &self.fired {
            match f.group.and_then(|g| counted.iter().position(|c| c.group == Some(g))) {
                Some(i) if counted[i].score < f.score => counted[i] = f,
                Some(_) => {}
                None => counted.push(f),
            }
        }
        // Highest score first; ties keep table order (the first maximum).
        let top = counted.iter().copied().reduce(|best, f| if f.score > best.score { f } else { best });
        let (score, code, event) = match top {
            Some(top) => {
                let extra = 0.05 * (counted.len() - 1) as f64;
                ((top.score + extra).min(1.0), top.code, self.event.unwrap_or(top.event))
            }
            None => (0.05, self.quiet_code, None),
        };
        let mut recommendations: Vec<String> = Vec::new();
        for f in &counted {
            if !recommendations.iter().any(|r| r == f.recommendation) {
                recommendations.push(f.recommendation.to_owned());
            }
        }
        if recommendations.is_empty() {
            recommendations.push("continue routine monitoring".to_owned());
        }
        Finding {
            code: format!("{}.{code}", specialty.as_str()),
            specialty,
            event,
            risk_level: RiskLevel::from_score(score),
            risk_score: score,
            confidence: self.confidence,
            evidence: self.evidence,
            recommendations,
            agent: format!("{}-rules", specialty.as_str()),
            agent_version: RULES_VERSION.to_owned(),
            method: Method::Rules,
            note: None,
        }
    }
}

#[cfg(test)]
mod tests;

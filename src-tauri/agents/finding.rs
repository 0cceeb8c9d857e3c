//! What an agent says: a [`Finding`], and the nouns it is made of.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// A clinical specialty, one agent pool each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Specialty {
    /// Heart rate, HRV, irregular RR, blood pressure.
    Cardiology,
    /// SpO2 level and trend, respiratory rate.
    Pulmonary,
    /// Weight trend (Kalman) and the ESC/HFA rapid-gain rule.
    HeartFailure,
    /// NEWS2.
    EarlyWarning,
    /// Temperature with heart and respiratory rate (a qSOFA/SIRS-style screen).
    InfectionScreen,
}

impl Specialty {
    /// Every specialty, in a stable order.
    pub const ALL: [Specialty; 5] = [
        Specialty::Cardiology,
        Specialty::Pulmonary,
        Specialty::HeartFailure,
        Specialty::EarlyWarning,
        Specialty::InfectionScreen,
    ];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Specialty::Cardiology => "cardiology",
            Specialty::Pulmonary => "pulmonary",
            Specialty::HeartFailure => "heart_failure",
            Specialty::EarlyWarning => "early_warning",
            Specialty::InfectionScreen => "infection_screen",
        }
    }
}

impl std::fmt::Display for Specialty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The risk band of a finding, from its score (see [`RiskLevel::from_score`]). The variants are
/// declared lowest first, so the derived `Ord` is the clinical order every filter and sort uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// Score below 0.30.
    Low,
    /// 0.30 to below 0.60.
    Moderate,
    /// 0.60 to below 0.85.
    High,
    /// 0.85 and above (the default alert threshold).
    Critical,
}

impl RiskLevel {
    /// Every band, lowest first (the `Ord` order).
    pub const ALL: [RiskLevel; 4] =
        [RiskLevel::Low, RiskLevel::Moderate, RiskLevel::High, RiskLevel::Critical];

    /// The bands at or above `self`, lowest first.
    pub fn and_above(self) -> impl Iterator<Item = RiskLevel> {
        Self::ALL.into_iter().filter(move |l| *l >= self)
    }

    /// The band of a score in 0..=1. Vigil's convention: the bands are chosen so that the
    /// default alert threshold (0.85) is exactly the critical band.
    pub fn from_score(score: f64) -> Self {
        if score >= 0.85 {
            RiskLevel::Critical
        } else if score >= 0.60 {
            RiskLevel::High
        } else if score >= 0.30 {
            RiskLevel::Moderate
        } else {
            RiskLevel::Low
        }
    }

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Moderate => "moderate",
            RiskLevel::High => "high",
            RiskLevel::Critical => "critical",
        }
    }
}

impl std::str::FromStr for RiskLevel {
    type Err = UnknownRiskLevel;

    /// The snake_case name; anything else is an error naming it and the valid names (never
    /// "every level").
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|l| l.as_str() == s).ok_or_else(|| UnknownRiskLevel(s.to_owned()))
    }
}

/// A risk level name that is not one of [`RiskLevel::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown risk level `{0}` (valid: low, moderate, high, critical)")]
pub struct UnknownRiskLevel(pub String);

/// The clinical event an alert is classified as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventClass {
    /// Heart-failure decompensation (weight gain, trend).
    PossibleDecompensation,
    /// Low oxygen saturation.
    Hypoxia,
    /// Raised or irregular breathing.
    RespiratoryDistress,
    /// Fever or hypothermia with tachycardia/tachypnoea.
    SepsisScreen,
    /// Irregular rhythm, tachy- or bradycardia.
    Arrhythmia,
}

impl EventClass {
    /// Every event class.
    pub const ALL: [EventClass; 5] = [
        EventClass::PossibleDecompensation,
        EventClass::Hypoxia,
        EventClass::RespiratoryDistress,
        EventClass::SepsisScreen,
        EventClass::Arrhythmia,
    ];

    /// The snake_case name (as stored).
    pub fn as_str(self) -> &'static str {
        match self {
            EventClass::PossibleDecompensation => "possible_decompensation",
            EventClass::Hypoxia => "hypoxia",
            EventClass::RespiratoryDistress => "respiratory_distress",
            EventClass::SepsisScreen => "sepsis_screen",
            EventClass::Arrhythmia => "arrhythmia",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// How a finding was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Method {
    /// The specialty's published rules (this module).
    Rules,
    /// An ONNX model from a model package (`crate::models`): its score was used.
    Model {
        /// The package's model name.
        name: String,
        /// Its version.
        version: String,
    },
    /// No agent answered: the orchestrator's fallback.
    Fallback,
}

/// One piece of evidence: a feature, its value, and the threshold it was compared with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The feature's name, as on every interface (`spo2_mean`, `hr_trend`, `news2_aggregate`...).
    pub feature: Cow<'static, str>,
    /// Its value.
    pub value: f64,
    /// The threshold of the rule.
    pub threshold: f64,
    /// How value and threshold compare when the rule fires: `<`, `<=`, `>`, `>=`.
    pub comparison: Cow<'static, str>,
    /// Whether the rule fired.
    pub triggered: bool,
    /// The rule's source, short (e.g. `NEWS2 RCP 2017`).
    pub source: Cow<'static, str>,
}

/// What one agent concluded about one patient at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// A stable code (`pulmonary.hypoxia`, `early_warning.news2_high`, ...).
    pub code: String,
    /// The specialty.
    pub specialty: Specialty,
    /// The event this finding points at, if any.
    pub event: Option<EventClass>,
    /// The band of `risk_score`.
    pub risk_level: RiskLevel,
    /// 0..=1.
    pub risk_score: f64,
    /// 0..=1: how much the data supports the finding (coverage, parameters present). 0 for a
    /// fallback.
    pub confidence: f64,
    /// The features the rules looked at; `triggered` marks those that fired.
    pub evidence: Vec<Evidence>,
    /// What the clinician should consider.
    pub recommendations: Vec<String>,
    /// The agent (or instance) that produced it.
    pub agent: String,
    /// The agent's version.
    pub agent_version: String,
    /// Rules, a model, or the fallback.
    pub method: Method,
    /// What the clinician should know about how it was reached, e.g. "rules only: ONNX Runtime
    /// not found" or "3 of 8 model inputs imputed".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Finding {
    /// The finding the orchestrator returns when no instance of `specialty` could answer:
    /// never a silent gap.
    pub fn unavailable(specialty: Specialty, reason: &str) -> Self {
        Finding {
            code: format!("{}.agent_unavailable", specialty.as_str()),
            specialty,
            event: None,
            risk_level: RiskLevel::Low,
            risk_score: 0.0,
            confidence: 0.0,
            evidence: Vec::new(),
            recommendations: vec![format!(
                "agent unavailable — manual review required ({} : {reason})",
                specialty.as_str()
            )],
            agent: "orchestrator".to_owned(),
            agent_version: env!("CARGO_PKG_VERSION").to_owned(),
            method: Method::Fallback,
            note: None,
        }
    }

    /// Whether this is the orchestrator's fallback.
    pub fn is_fallback(&self) -> bool {
        self.method == Method::Fallback
    }

    /// Only the evidence whose rule fired.
    pub fn triggered_evidence(&self) -> impl Iterator<Item = &Evidence> {
        self.evidence.iter().filter(|e| e.triggered)
    }
}

#[cfg(test)]
mod tests {
    use super::RiskLevel;

    #[test]
    fn risk_levels_parse_by_name_order_lowest_first_and_refuse_unknown_names() {
        for l in RiskLevel::ALL {
            assert_eq!(l.as_str().parse::<RiskLevel>(), Ok(l));
        }
        assert!(RiskLevel::ALL.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(RiskLevel::High.and_above().collect::<Vec<_>>(), [RiskLevel::High, RiskLevel::Critical]);
        let e = "urgent".parse::<RiskLevel>().unwrap_err();
        assert_eq!(e.to_string(), "unknown risk level `urgent` (valid: low, moderate, high, critical)");
        assert!("".parse::<RiskLevel>().is_err(), "an empty name is not \"every level\"");
    }
}

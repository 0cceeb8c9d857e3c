//! Infection screen: temperature with heart rate and respiratory rate.
//!
//! A screen, not a diagnosis: the Surviving Sepsis Campaign (Evans L. et al., Crit Care Med
//! 2021;49:e1063-e1143) recommends against qSOFA as a single screening tool, so the SIRS
//! criteria (Bone R.C. et al., Chest 1992;101:1644-1655) and qSOFA (Seymour C.W. et al., JAMA
//! 2016;315:762-774) are both counted and the recommendation is always a clinical review.
//!
//! Sources of the table below:
//! - SIRS (Bone 1992): temperature > 38 or < 36 °C, heart rate > 90/min, respiratory
//!   rate > 20/min. Two or more criteria with a temperature abnormality screen positive; all three
//!   score higher (Vigil's grading).
//! - qSOFA (Seymour 2016): respiratory rate >= 22/min, systolic <= 100 mmHg, altered mentation
//!   (here: ACVPU other than alert). Two or more with a temperature abnormality screen
//!   positive.
//! - A temperature spike within the window (> 1 °C in five minutes; a Vigil convention that
//!   flags a rigor or a new fever early).

use super::{Cmp, Feature, Rule, RuleBook};
use crate::agents::{AssessmentContext, EventClass};

const SEPSIS: Option<EventClass> = Some(EventClass::SepsisScreen);
const SIRS: &str = "Bone 1992 (SIRS)";
const QSOFA: &str = "Seymour 2016 (qSOFA)";
const LOOK: &str = "temperature or rate abnormal: look for a source of infection";
const TEMPERATURE_SIGN: &[&str] = &["fever", "hypothermia"];
const SIRS_CRITERIA: Feature = Feature::CriteriaMet {
    name: "sirs_criteria",
    groups: &[TEMPERATURE_SIGN, &["sirs_heart_rate"], &["sirs_respiratory_rate"]],
};
const SIRS_POSITIVE: &str =
    "SIRS criteria with a temperature abnormality: screen for infection, consider sepsis";

/// The infection-screen rules, in evaluation order.
pub(super) const RULES: &[Rule] = &[
    Rule::new("fever", Feature::TempMean, Cmp::Gt, 38.0, 0.3, SIRS).event(SEPSIS).recommend(LOOK),
    Rule::new("hypothermia", Feature::TempMean, Cmp::Lt, 36.0, 0.3, SIRS).event(SEPSIS).recommend(LOOK),
    Rule::new("sirs_heart_rate", Feature::HrMean, Cmp::Gt, 90.0, 0.0, SIRS),
    Rule::new("sirs_respiratory_rate", Feature::RrMean, Cmp::Gt, 20.0, 0.0, SIRS),
    Rule::new("temperature_spike", Feature::TempSpike, Cmp::Gt, 1.0, 0.3, "Vigil")
        .event(SEPSIS)
        .recommend(LOOK),
    Rule::new("qsofa_respiratory_rate", Feature::RrMean, Cmp::Ge, 22.0, 0.0, QSOFA),
    Rule::new("qsofa_systolic", Feature::BpSystolic, Cmp::Le, 100.0, 0.0, QSOFA),
    Rule::new("qsofa_mentation", Feature::AlteredMentation, Cmp::Ge, 1.0, 0.0, QSOFA),
    Rule::new(
        "qsofa_positive",
        Feature::CriteriaMet {
            name: "qsofa",
            groups: &[&["qsofa_respiratory_rate"], &["qsofa_systolic"], &["qsofa_mentation"]],
        },
        Cmp::Ge,
        2.0,
        0.9,
        QSOFA,
    )
    .requires(TEMPERATURE_SIGN)
    .event(SEPSIS)
    .recommend(
        "possible sepsis: immediate review, lactate and blood cultures, follow the local sepsis pathway",
    ),
    Rule::new("sirs_positive", SIRS_CRITERIA, Cmp::Ge, 3.0, 0.7, SIRS)
        .requires(TEMPERATURE_SIGN)
        .group("sirs")
        .event(SEPSIS)
        .recommend(SIRS_POSITIVE),
    Rule::new("sirs_positive", SIRS_CRITERIA, Cmp::Ge, 2.0, 0.5, SIRS)
        .requires(TEMPERATURE_SIGN)
        .group("sirs")
        .event(SEPSIS)
        .recommend(SIRS_POSITIVE),
];

pub(super) fn assess(ctx: &AssessmentContext) -> RuleBook {
    let mut book = RuleBook::new("screen_negative", ctx.coverage());
    book.apply(RULES, ctx, |_| None);
    book
}

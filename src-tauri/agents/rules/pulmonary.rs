//! Pulmonary: SpO2 level and trend, respiratory rate and its irregularity.
//!
//! Sources of the table below:
//! - SpO2 target ranges (BTS guideline for oxygen use, O'Driscoll B.R. et al., Thorax
//!   2017;72:ii1-ii90): 94-98 %, or 88-92 % with hypercapnic respiratory failure (NEWS2 scale 2,
//!   a clinician's choice). Below the target: check the probe and the airway, consider oxygen.
//!   Below 92 % (scale 1; 86 % on scale 2) the BTS guideline asks for oxygen and an urgent
//!   review; NEWS2 scores 3 at <= 91.
//! - Below 90 % (scale 1; 84 % on scale 2): hypoxaemia needing immediate treatment (WHO Pulse
//!   Oximetry Training Manual, 2011).
//! - A falling trend of 3 percentage points or more over the trend horizon: BTS 2017 asks for a
//!   fuller assessment after a fall of 3 % or more even within the target range.
//! - Respiratory rate bands of NEWS2 (RCP 2017): 21-24 scores 2, >= 25 and <= 8 score 3. These
//!   rows compare the rate as NEWS2 charts it (whole numbers).
//! - Irregular breathing: breath-rate changes second to second with a standard deviation over
//!   3 /min (Vigil convention, to be tuned against recorded data).

use super::{Applies, Cmp, Feature, Rule, RuleBook};
use crate::agents::{AssessmentContext, EventClass};
use crate::analysis::news2::Spo2Scale;

const HYPOXIA: Option<EventClass> = Some(EventClass::Hypoxia);
const DISTRESS: Option<EventClass> = Some(EventClass::RespiratoryDistress);
const SCALE1: Applies = Applies::Spo2Scale(Spo2Scale::Scale1);
const SCALE2: Applies = Applies::Spo2Scale(Spo2Scale::Scale2);
const BELOW_TARGET: &str = "SpO2 below the target range: check the probe and the airway, consider oxygen";
const HYPOXAEMIA: &str = "start or titrate oxygen to the target range; urgent clinical review";
const SEVERE: &str = "severe hypoxaemia: immediate review, oxygen, consider escalation";

/// The pulmonary rules, in evaluation order.
pub(super) const RULES: &[Rule] = &[
    Rule::new("below_target", Feature::Spo2Mean, Cmp::Lt, 94.0, 0.35, "BTS 2017")
        .applies(SCALE1)
        .event(HYPOXIA)
        .recommend(BELOW_TARGET),
    Rule::new("hypoxaemia", Feature::Spo2Mean, Cmp::Lt, 92.0, 0.7, "BTS 2017")
        .applies(SCALE1)
        .event(HYPOXIA)
        .recommend(HYPOXAEMIA),
    Rule::new("severe_hypoxaemia", Feature::Spo2Mean, Cmp::Lt, 90.0, 0.9, "WHO 2011 pulse oximetry")
        .applies(SCALE1)
        .event(HYPOXIA)
        .recommend(SEVERE),
    Rule::new("below_target", Feature::Spo2Mean, Cmp::Lt, 88.0, 0.35, "BTS 2017")
        .applies(SCALE2)
        .event(HYPOXIA)
        .recommend(BELOW_TARGET),
    Rule::new("hypoxaemia", Feature::Spo2Mean, Cmp::Lt, 86.0, 0.7, "BTS 2017")
        .applies(SCALE2)
        .event(HYPOXIA)
        .recommend(HYPOXAEMIA),
    Rule::new("severe_hypoxaemia", Feature::Spo2Mean, Cmp::Lt, 84.0, 0.9, "WHO 2011 pulse oximetry")
        .applies(SCALE2)
        .event(HYPOXIA)
        .recommend(SEVERE),
    Rule::new("spo2_falling", Feature::Spo2Change, Cmp::Le, -3.0, 0.45, "BTS 2017")
        .event(HYPOXIA)
        .recommend("SpO2 is falling: reassess breathing and oxygen delivery"),
    Rule::new("tachypnoea", Feature::RrMean, Cmp::Gt, 20.0, 0.4, "NEWS2 RCP 2017")
        .news2_charted()
        .event(DISTRESS)
        .recommend("raised respiratory rate: assess work of breathing"),
    Rule::new("severe_tachypnoea", Feature::RrMean, Cmp::Ge, 25.0, 0.8, "NEWS2 RCP 2017")
        .news2_charted()
        .event(DISTRESS)
        .recommend("respiratory distress: urgent clinical review"),
    Rule::new("bradypnoea", Feature::RrMean, Cmp::Le, 8.0, 0.8, "NEWS2 RCP 2017")
        .news2_charted()
        .event(DISTRESS)
        .recommend("low respiratory rate: check sedation/opioids and the airway"),
    Rule::new("irregular_breathing", Feature::RrIrregularity, Cmp::Gt, 3.0, 0.35, "Vigil")
        .event(DISTRESS)
        .recommend("irregular breathing pattern: observe the patient"),
];

pub(super) fn assess(ctx: &AssessmentContext) -> RuleBook {
    let mut book = RuleBook::new("no_concern", ctx.coverage());
    book.apply(RULES, ctx, |_| None);
    book
}

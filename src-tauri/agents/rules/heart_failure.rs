//! Heart failure: the ESC/HFA rapid-gain rule and the Kalman trend rule (both computed by
//! `analysis::heart_failure` on the weights; this agent grades them).
//!
//! Sources of the table below:
//! - ESC/HFA: more than 2 kg in 3 days (McDonagh T.A. et al., 2021 ESC HF guidelines, Eur Heart
//!   J 2021;42:3599-3726; Jaarsma T. et al., Eur J Heart Fail 2021;23:157-174). Its threshold is
//!   the analysis's own constant, so the two cannot drift apart.
//! - The trend rule (Chaudhry S.I. et al., Circulation 2007;116:1549-1554: weight rises over the
//!   week before an admission; rules of thumb catch ~1 in 5, Zhang J. et al. 2009): the Kalman
//!   trend above 1 kg/week and at least 1.645 standard deviations above zero (Vigil defaults,
//!   `analysis::heart_failure`).
//! - Both rules at once: the guideline rule and the trend agree, a decompensation is likely
//!   (Vigil's grading).

use super::{Cmp, Feature, Rule, RuleBook};
use crate::agents::{AssessmentContext, EventClass};
use crate::analysis::heart_failure::{RAPID_GAIN_KG, TREND_KG_PER_WEEK, TREND_MIN_Z};

const DECOMPENSATION: Option<EventClass> = Some(EventClass::PossibleDecompensation);
const TREND_SOURCE: &str = "Chaudhry 2007 (Kalman trend)";

/// The heart-failure rules, in evaluation order.
pub(super) const RULES: &[Rule] = &[
    Rule::new("rapid_weight_gain", Feature::WeightGainKg, Cmp::Gt, RAPID_GAIN_KG, 0.75, "ESC/HFA 2021")
        .event(DECOMPENSATION)
        .recommend("weight gain over 2 kg in 3 days: contact the heart-failure team; review diuretic dose"),
    Rule::new("weight_trend_sure", Feature::WeightTrendZ, Cmp::Ge, TREND_MIN_Z, 0.0, TREND_SOURCE),
    Rule::new(
        "weight_trend_rising",
        Feature::WeightTrendKgPerWeek,
        Cmp::Gt,
        TREND_KG_PER_WEEK,
        0.65,
        TREND_SOURCE,
    )
    .requires(&["weight_trend_sure"])
    .event(DECOMPENSATION)
    .recommend("weight is trending up: check for oedema and breathlessness; review fluid and diuretics"),
    Rule::new(
        "decompensation_likely",
        Feature::CriteriaMet {
            name: "weight_rules_concur",
            groups: &[&["rapid_weight_gain"], &["weight_trend_rising"]],
        },
        Cmp::Ge,
        2.0,
        0.85,
        "ESC/HFA 2021 + Kalman trend",
    )
    .event(DECOMPENSATION)
    .recommend("rapid gain and rising trend together: same-day heart-failure review"),
];

pub(super) fn assess(ctx: &AssessmentContext) -> RuleBook {
    let Some(weight) = &ctx.weight else { return RuleBook::new("no_weights", 0.0) };
    // Confidence: the filter's (0 while initialising; see analysis::kalman). Before the filter
    // tracks, the raw ESC rule still applies, at a modest confidence.
    let confidence = weight.latest.map_or(0.3, |s| s.confidence.max(0.3));
    let mut book = RuleBook::new("weight_stable", confidence);
    book.apply(RULES, ctx, |_| None);
    book
}

//! Early warning: NEWS2 (Royal College of Physicians, 2017) through `analysis::news2`.
//!
//! A monitor streams heart rate, SpO2, respiratory rate and temperature; blood pressure and
//! consciousness may be missing. A missing parameter is scored as normal (sub-score 0), so the
//! aggregate is a **lower bound**, and the confidence is the share of the seven parameters that
//! were measured (times the window's coverage). Air/oxygen and the SpO2 scale are clinician
//! inputs ([`crate::agents::News2Context`]).

use super::{Cmp, Feature, Rule, RuleBook};
use crate::agents::{AssessmentContext, EventClass, Evidence};
use crate::analysis::news2::{self, Consciousness, News2Input, Parameter};

const SOURCE: &str = "NEWS2 RCP 2017";
const BAND: &str = "news2_band";

/// The NEWS2 clinical-response bands (RCP 2017, chart 2 "NEWS thresholds and triggers" and
/// chart 3 "clinical response"): aggregate 7 or more high, 5-6 medium, a single parameter
/// scoring 3 (aggregate below 5) low-medium, 1-4 low. One rule graded: the highest band that
/// holds decides. `analysis::news2::score` computes the same bands (`ClinicalRisk`); a test
/// holds the two together.
pub(super) const RULES: &[Rule] = &[
    Rule::new("news2_high", Feature::News2Aggregate, Cmp::Ge, 7.0, 0.9, SOURCE)
        .group(BAND)
        .recommend("NEWS2 >= 7: emergency assessment by a critical-care team; continuous monitoring"),
    Rule::new("news2_medium", Feature::News2Aggregate, Cmp::Ge, 5.0, 0.7, SOURCE).group(BAND).recommend(
        "NEWS2 5-6: urgent review by a clinician competent in acute illness; at least hourly observations",
    ),
    Rule::new("news2_red_parameter", Feature::News2MaxSubScore, Cmp::Ge, 3.0, 0.5, SOURCE)
        .group(BAND)
        .recommend(
            "a single NEWS2 parameter scores 3: urgent ward-based review; at least hourly observations",
        ),
    Rule::new("news2_low_score", Feature::News2Aggregate, Cmp::Ge, 1.0, 0.3, SOURCE)
        .group(BAND)
        .recommend("NEWS2 1-4: registered nurse assessment; observations 4-6-hourly"),
];

pub(super) fn assess(ctx: &AssessmentContext) -> RuleBook {
    let measured =
        [ctx.respiratory_rate(), ctx.spo2(), ctx.latest.bp_systolic, ctx.heart_rate(), ctx.temperature()];
    // Air/oxygen is always known (an input); consciousness when assessed.
    let present =
        measured.iter().filter(|v| v.is_some()).count() + 1 + usize::from(ctx.news2.consciousness.is_some());
    let confidence = present as f64 / 7.0 * ctx.coverage();
    let mut book = RuleBook::new("news2_low", confidence);
    let input = News2Input {
        respiration_rate: measured[0].unwrap_or(16.0),
        spo2: measured[1].unwrap_or(97.0),
        spo2_scale: ctx.news2.spo2_scale,
        on_oxygen: ctx.news2.on_oxygen,
        systolic_bp: measured[2].unwrap_or(120.0),
        pulse: measured[3].unwrap_or(70.0),
        consciousness: ctx.news2.consciousness.unwrap_or(Consciousness::Alert),
        temperature: measured[4].unwrap_or(37.0),
    };
    let Ok(score) = news2::score(&input) else {
        return RuleBook::new("news2_unscorable", 0.0);
    };
    let aggregate = f64::from(score.aggregate);
    // The event: the parameter with the highest sub-score (ties: SpO2, respiration, pulse,
    // temperature, blood pressure).
    let order = [
        (Parameter::Spo2, Some(EventClass::Hypoxia)),
        (Parameter::RespirationRate, Some(EventClass::RespiratoryDistress)),
        (Parameter::Pulse, Some(EventClass::Arrhythmia)),
        (Parameter::Temperature, Some(EventClass::SepsisScreen)),
        (Parameter::SystolicBp, Some(EventClass::SepsisScreen)),
    ];
    let sub = |p: Parameter| score.sub_scores.iter().find(|s| s.parameter == p).map_or(0, |s| s.score);
    let event = order
        .iter()
        .filter(|(p, _)| sub(*p) > 0)
        .max_by_key(|(p, _)| (sub(*p), std::cmp::Reverse(order.iter().position(|(q, _)| q == p))))
        .and_then(|(_, e)| *e);
    for s in score.sub_scores.iter().filter(|s| s.score > 0) {
        book.note(Evidence {
            feature: format!("news2_{}", s.parameter.as_str()).into(),
            value: f64::from(s.score),
            threshold: 1.0,
            comparison: ">=".into(),
            triggered: true,
            source: SOURCE.into(),
        });
    }
    let max_sub = score.sub_scores.iter().map(|s| s.score).max().unwrap_or(0);
    book.set_event(event);
    book.apply(RULES, ctx, |f| match f {
        Feature::News2Aggregate => Some(aggregate),
        Feature::News2MaxSubScore => Some(f64::from(max_sub)),
        _ => None,
    });
    book
}

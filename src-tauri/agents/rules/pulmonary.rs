//! Pulmonary: SpO2 level and trend, respiratory rate and its irregularity.

use super::{Cmp, Rule, RuleBook};
use crate::agents::{AssessmentContext, EventClass};
use crate::analysis::news2::Spo2Scale;

const HYPOXIA: Option<EventClass> = Some(EventClass::Hypoxia);
const DISTRESS: Option<EventClass> = Some(EventClass::RespiratoryDistress);

pub(super) fn assess(ctx: &AssessmentContext) -> RuleBook {
    let mut book = RuleBook::new("no_concern", ctx.coverage());
    let spo2 = ctx.spo2();
    // Target ranges (BTS guideline for oxygen use, O'Driscoll B.R. et al., Thorax
    // 2017;72:ii1-ii90): 94-98 %, or 88-92 % with hypercapnic respiratory failure (NEWS2 scale 2).
    let scale2 = ctx.news2.spo2_scale == Spo2Scale::Scale2;
    let (target, urgent, critical) = if scale2 { (88.0, 86.0, 84.0) } else { (94.0, 92.0, 90.0) };
    book.check(
        spo2,
        Rule {
            code: "below_target",
            feature: "spo2_mean",
            cmp: Cmp::Lt,
            threshold: target,
            score: 0.35,
            event: HYPOXIA,
            source: "BTS 2017",
            recommendation: "SpO2 below the target range: check the probe and the airway, consider oxygen",
        },
    );
    // Below 92 % (scale 1) the BTS guideline asks for oxygen and an urgent review; NEWS2 scores
    // 3 at <= 91.
    book.check(
        spo2,
        Rule {
            code: "hypoxaemia",
            feature: "spo2_mean",
            cmp: Cmp::Lt,
            threshold: urgent,
            score: 0.7,
            event: HYPOXIA,
            source: "BTS 2017",
            recommendation: "start or titrate oxygen to the target range; urgent clinical review",
        },
    );
    // Below 90 %: hypoxaemia needing immediate treatment (WHO Pulse Oximetry Training Manual,
    // 2011).
    book.check(
        spo2,
        Rule {
            code: "severe_hypoxaemia",
            feature: "spo2_mean",
            cmp: Cmp::Lt,
            threshold: critical,
            score: 0.9,
            event: HYPOXIA,
            source: "WHO 2011 pulse oximetry",
            recommendation: "severe hypoxaemia: immediate review, oxygen, consider escalation",
        },
    );
    // A falling trend: 3 percentage points over the trend horizon (a Vigil convention: a fall
    // of this size crosses a BTS band from a normal baseline).
    book.check(
        ctx.trend.spo2_change,
        Rule {
            code: "spo2_falling",
            feature: "spo2_change",
            cmp: Cmp::Le,
            threshold: -3.0,
            score: 0.45,
            event: HYPOXIA,
            source: "Vigil (BTS 2017 bands)",
            recommendation: "SpO2 is falling: reassess breathing and oxygen delivery",
        },
    );
    let rr = ctx.respiratory_rate();
    // Respiratory rate bands of NEWS2 (RCP 2017): 21-24 scores 2, >= 25 and <= 8 score 3.
    book.check(
        rr,
        Rule {
            code: "tachypnoea",
            feature: "rr_mean",
            cmp: Cmp::Gt,
            threshold: 20.0,
            score: 0.4,
            event: DISTRESS,
            source: "NEWS2 RCP 2017",
            recommendation: "raised respiratory rate: assess work of breathing",
        },
    );
    book.check(
        rr,
        Rule {
            code: "severe_tachypnoea",
            feature: "rr_mean",
            cmp: Cmp::Ge,
            threshold: 25.0,
            score: 0.8,
            event: DISTRESS,
            source: "NEWS2 RCP 2017",
            recommendation: "respiratory distress: urgent clinical review",
        },
    );
    book.check(
        rr,
        Rule {
            code: "bradypnoea",
            feature: "rr_mean",
            cmp: Cmp::Le,
            threshold: 8.0,
            score: 0.8,
            event: DISTRESS,
            source: "NEWS2 RCP 2017",
            recommendation: "low respiratory rate: check sedation/opioids and the airway",
        },
    );
    // Irregular breathing: breath-rate changes second to second with a standard deviation over
    // 3 /min (Vigil convention, to be tuned against recorded data).
    book.check(
        ctx.window.and_then(|w| w.rr_irregularity),
        Rule {
            code: "irregular_breathing",
            feature: "rr_irregularity",
            cmp: Cmp::Gt,
            threshold: 3.0,
            score: 0.35,
            event: DISTRESS,
            source: "Vigil",
            recommendation: "irregular breathing pattern: observe the patient",
        },
    );
    book
}

//! Heart failure: the ESC/HFA rapid-gain rule and the Kalman trend rule (both computed by
//! `analysis::heart_failure`; this agent grades them).

use super::RuleBook;
use crate::agents::{AssessmentContext, EventClass, Evidence};

const DECOMPENSATION: Option<EventClass> = Some(EventClass::PossibleDecompensation);

pub(super) fn assess(ctx: &AssessmentContext) -> RuleBook {
    let Some(weight) = &ctx.weight else { return RuleBook::new("no_weights", 0.0) };
    // Confidence: the filter's (0 while initialising; see analysis::kalman). Before the filter
    // tracks, the raw ESC rule still applies, at a modest confidence.
    let confidence = weight.latest.map_or(0.3, |s| s.confidence.max(0.3));
    let mut book = RuleBook::new("weight_stable", confidence);
    // ESC/HFA: more than 2 kg in 3 days (McDonagh T.A. et al., 2021 ESC HF guidelines, Eur Heart
    // J 2021;42:3599-3726; Jaarsma T. et al., Eur J Heart Fail 2021;23:157-174).
    if let Some(g) = &weight.rapid_gain {
        book.fire(
            Evidence {
                feature: "weight_gain_kg".into(),
                value: g.gain_kg,
                threshold: g.threshold_kg,
                comparison: ">".into(),
                triggered: true,
                source: "ESC/HFA 2021".into(),
            },
            0.75,
            "rapid_weight_gain",
            DECOMPENSATION,
            "weight gain over 2 kg in 3 days: contact the heart-failure team; review diuretic dose",
        );
    }
    // The trend rule (Chaudhry S.I. et al., Circulation 2007;116:1549-1554: weight rises over
    // the week before an admission; rules of thumb catch ~1 in 5, Zhang J. et al. 2009).
    if let Some(t) = &weight.trend_rise {
        book.fire(
            Evidence {
                feature: "weight_trend_kg_per_week".into(),
                value: t.trend_kg_per_week,
                threshold: t.threshold_kg_per_week,
                comparison: ">".into(),
                triggered: true,
                source: "Chaudhry 2007 (Kalman trend)".into(),
            },
            0.65,
            "weight_trend_rising",
            DECOMPENSATION,
            "weight is trending up: check for oedema and breathlessness; review fluid and diuretics",
        );
    } else if let Some(trend) = weight.latest.and_then(|s| s.trend_kg_per_week) {
        book.note(Evidence {
            feature: "weight_trend_kg_per_week".into(),
            value: trend,
            threshold: 1.0,
            comparison: ">".into(),
            triggered: false,
            source: "Chaudhry 2007 (Kalman trend)".into(),
        });
    }
    // Both rules at once: the guideline rule and the trend agree, a decompensation is likely.
    if weight.rapid_gain.is_some() && weight.trend_rise.is_some() {
        book.fire(
            Evidence {
                feature: "weight_rules_concur".into(),
                value: 2.0,
                threshold: 2.0,
                comparison: ">=".into(),
                triggered: true,
                source: "ESC/HFA 2021 + Kalman trend".into(),
            },
            0.85,
            "decompensation_likely",
            DECOMPENSATION,
            "rapid gain and rising trend together: same-day heart-failure review",
        );
    }
    book
}

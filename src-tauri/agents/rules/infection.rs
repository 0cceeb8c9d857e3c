//! Infection screen: temperature with heart rate and respiratory rate.
//!
//! A screen, not a diagnosis: the Surviving Sepsis Campaign (Evans L. et al., Crit Care Med
//! 2021;49:e1063-e1143) recommends against qSOFA as a single screening tool, so the SIRS
//! criteria (Bone R.C. et al., Chest 1992;101:1644-1655) and qSOFA (Seymour C.W. et al., JAMA
//! 2016;315:762-774) are both counted and the recommendation is always a clinical review.

use super::{Cmp, Rule, RuleBook};
use crate::agents::{AssessmentContext, EventClass, Evidence};
use crate::analysis::news2::Consciousness;

const SEPSIS: Option<EventClass> = Some(EventClass::SepsisScreen);

pub(super) fn assess(ctx: &AssessmentContext) -> RuleBook {
    let mut book = RuleBook::new("screen_negative", ctx.coverage());
    let temp = ctx.temperature();
    // SIRS (Bone 1992): temperature > 38 or < 36 °C, heart rate > 90, respiratory rate > 20.
    let fever = book.check(temp, rule("fever", "temp_mean", Cmp::Gt, 38.0, 0.3, "Bone 1992 (SIRS)"));
    let hypothermia =
        book.check(temp, rule("hypothermia", "temp_mean", Cmp::Lt, 36.0, 0.3, "Bone 1992 (SIRS)"));
    let tachycardia = book
        .check(ctx.heart_rate(), rule("sirs_heart_rate", "hr_mean", Cmp::Gt, 90.0, 0.0, "Bone 1992 (SIRS)"));
    let tachypnoea = book.check(
        ctx.respiratory_rate(),
        rule("sirs_respiratory_rate", "rr_mean", Cmp::Gt, 20.0, 0.0, "Bone 1992 (SIRS)"),
    );
    // A temperature spike within the window (> 1 °C in five minutes; a Vigil convention that
    // flags a rigor or a new fever early).
    book.check(
        ctx.window.and_then(|w| w.temp_spike),
        rule("temperature_spike", "temp_spike", Cmp::Gt, 1.0, 0.3, "Vigil"),
    );
    let sirs = [fever || hypothermia, tachycardia, tachypnoea].iter().filter(|c| **c).count();
    // qSOFA (Seymour 2016): respiratory rate >= 22, systolic <= 100, altered mentation.
    let qsofa = [
        ctx.respiratory_rate().is_some_and(|r| r >= 22.0),
        ctx.latest.bp_systolic.is_some_and(|s| s <= 100.0),
        ctx.news2.consciousness.is_some_and(|c| c != Consciousness::Alert),
    ]
    .iter()
    .filter(|c| **c)
    .count();
    let infection_sign = fever || hypothermia;
    if infection_sign && qsofa >= 2 {
        book.fire(
            evidence("qsofa", qsofa as f64, 2.0, "Seymour 2016 (qSOFA)"),
            0.9,
            "qsofa_positive",
            SEPSIS,
            "possible sepsis: immediate review, lactate and blood cultures, follow the local sepsis pathway",
        );
    }
    if infection_sign && sirs >= 2 {
        let score = if sirs == 3 { 0.7 } else { 0.5 };
        book.fire(
            evidence("sirs_criteria", sirs as f64, 2.0, "Bone 1992 (SIRS)"),
            score,
            "sirs_positive",
            SEPSIS,
            "SIRS criteria with a temperature abnormality: screen for infection, consider sepsis",
        );
    }
    book
}

fn rule(
    code: &'static str,
    feature: &'static str,
    cmp: Cmp,
    threshold: f64,
    score: f64,
    source: &'static str,
) -> Rule {
    Rule {
        code,
        feature,
        cmp,
        threshold,
        score,
        event: SEPSIS,
        source,
        recommendation: "temperature or rate abnormal: look for a source of infection",
    }
}

fn evidence(feature: &str, value: f64, threshold: f64, source: &'static str) -> Evidence {
    Evidence {
        feature: feature.to_owned().into(),
        value,
        threshold,
        comparison: ">=".into(),
        triggered: true,
        source: source.into(),
    }
}

//! Early warning: NEWS2 (Royal College of Physicians, 2017) through `analysis::news2`.
//!
//! A monitor streams heart rate, SpO2, respiratory rate and temperature; blood pressure and
//! consciousness may be missing. A missing parameter is scored as normal (sub-score 0), so the
//! aggregate is a **lower bound**, and the confidence is the share of the seven parameters that
//! were measured (times the window's coverage). Air/oxygen and the SpO2 scale are clinician
//! inputs ([`crate::agents::News2Context`]).

use super::RuleBook;
use crate::agents::{AssessmentContext, EventClass, Evidence};
use crate::analysis::news2::{self, ClinicalRisk, Consciousness, News2Input, Parameter};

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
            source: "NEWS2 RCP 2017".into(),
        });
    }
    // Chart 2/3 bands: 7+ emergency, 5-6 urgent, a single 3 urgent ward-based, 1-4 ward-based.
    let (band_score, code, threshold, recommendation) = match score.risk {
        ClinicalRisk::High => (
            0.9,
            "news2_high",
            7.0,
            "NEWS2 >= 7: emergency assessment by a critical-care team; continuous monitoring",
        ),
        ClinicalRisk::Medium => (
            0.7,
            "news2_medium",
            5.0,
            "NEWS2 5-6: urgent review by a clinician competent in acute illness; at least hourly observations",
        ),
        ClinicalRisk::LowMedium => (
            0.5,
            "news2_red_parameter",
            3.0,
            "a single NEWS2 parameter scores 3: urgent ward-based review; at least hourly observations",
        ),
        ClinicalRisk::Low if score.aggregate > 0 => {
            (0.3, "news2_low_score", 1.0, "NEWS2 1-4: registered nurse assessment; observations 4-6-hourly")
        }
        ClinicalRisk::Low => {
            book.note(Evidence {
                feature: "news2_aggregate".into(),
                value: aggregate,
                threshold: 1.0,
                comparison: ">=".into(),
                triggered: false,
                source: "NEWS2 RCP 2017".into(),
            });
            return book;
        }
    };
    book.fire(
        Evidence {
            feature: "news2_aggregate".into(),
            value: aggregate,
            threshold,
            comparison: ">=".into(),
            triggered: true,
            source: "NEWS2 RCP 2017".into(),
        },
        band_score,
        code,
        event,
        recommendation,
    );
    book
}

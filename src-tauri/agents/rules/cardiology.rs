//! Cardiology: rate, rhythm irregularity, HRV fall, blood pressure.
//!
//! Sources of the table below:
//! - Tachycardia > 100/min: the conventional adult definition (ESC 2019 SVT guidelines,
//!   Brugada J. et al., Eur Heart J 2020;41:655-720). >= 131 is NEWS2's red band (RCP 2017).
//! - Bradycardia < 50/min (ESC 2021 pacing guidelines, Glikson M. et al., Eur Heart J
//!   2021;42:3427-3520); <= 40 is NEWS2's red band.
//! - Irregular RR: successive differences normalised by the mean RR interval; > 0.1 suggests
//!   atrial fibrillation (normalised RMSSD threshold of Dash S. et al., Ann Biomed Eng
//!   2009;37:1701-1709). `hrv_mean` is a 1 Hz approximation (window docs).
//! - HRV falling by more than half within the window (`hrv_decrease` > 0.5: it is positive
//!   when HRV falls), or by 40 % or more over the trend horizon (`hrv_change` <= -0.4): reduced
//!   HRV marks autonomic imbalance and risk (Task Force 1996, Circulation 93:1043-1065; the
//!   horizons and fractions are Vigil's).
//! - Blood pressure: systolic <= 90 is NEWS2's red band (RCP 2017); systolic >= 180 and/or
//!   diastolic >= 110 is grade 3 hypertension (ESC/ESH 2018, Williams B. et al., Eur Heart J
//!   2018;39:3021-3104, table 3): one rule, graded on either pressure.
//!
//! The NEWS2 rows compare the value as NEWS2 charts it (a whole number, half away from zero),
//! so they agree with the NEWS2 sub-score at every value: a mean pulse of 130.5 is charted 131.

use super::{Cmp, Feature, Rule, RuleBook};
use crate::agents::{AssessmentContext, EventClass};

const ARRHYTHMIA: Option<EventClass> = Some(EventClass::Arrhythmia);
const ECG: &str = "urgent clinical review and 12-lead ECG";
const HRV_FALL: &str = "beat-to-beat variability is falling: reassess the patient";
const GRADE3: &str = "grade 3 hypertension: repeat the measurement and look for organ damage";

/// The cardiology rules, in evaluation order.
pub(super) const RULES: &[Rule] = &[
    Rule::new("tachycardia", Feature::HrMean, Cmp::Gt, 100.0, 0.4, "ESC 2019 SVT")
        .event(ARRHYTHMIA)
        .recommend(
            "review the cause of the tachycardia (pain, fever, hypovolaemia, arrhythmia); 12-lead ECG",
        ),
    Rule::new("severe_tachycardia", Feature::HrMean, Cmp::Ge, 131.0, 0.75, "NEWS2 RCP 2017")
        .news2_charted()
        .event(ARRHYTHMIA)
        .recommend(ECG),
    Rule::new("bradycardia", Feature::HrMean, Cmp::Lt, 50.0, 0.4, "ESC 2021 pacing")
        .event(ARRHYTHMIA)
        .recommend("review rate-limiting drugs and conduction; 12-lead ECG"),
    Rule::new("severe_bradycardia", Feature::HrMean, Cmp::Le, 40.0, 0.8, "NEWS2 RCP 2017")
        .news2_charted()
        .event(ARRHYTHMIA)
        .recommend(ECG),
    Rule::new("irregular_rhythm", Feature::RrIntervalNrmssd, Cmp::Gt, 0.10, 0.7, "Dash 2009 (AF)")
        .event(ARRHYTHMIA)
        .recommend("irregular RR intervals: record a 12-lead ECG to look for atrial fibrillation"),
    Rule::new("hrv_decrease", Feature::HrvDecrease, Cmp::Gt, 0.5, 0.35, "Task Force 1996")
        .event(ARRHYTHMIA)
        .recommend(HRV_FALL),
    Rule::new("hrv_falling", Feature::HrvChange, Cmp::Le, -0.4, 0.35, "Task Force 1996")
        .event(ARRHYTHMIA)
        .recommend(HRV_FALL),
    Rule::new("hypotension", Feature::BpSystolic, Cmp::Le, 90.0, 0.75, "NEWS2 RCP 2017")
        .news2_charted()
        .recommend("hypotension: urgent review of perfusion and fluid status"),
    Rule::new("severe_hypertension", Feature::BpSystolic, Cmp::Ge, 180.0, 0.6, "ESC/ESH 2018")
        .group("grade3_hypertension")
        .recommend(GRADE3),
    Rule::new("severe_hypertension", Feature::BpDiastolic, Cmp::Ge, 110.0, 0.6, "ESC/ESH 2018")
        .group("grade3_hypertension")
        .recommend(GRADE3),
];

pub(super) fn assess(ctx: &AssessmentContext) -> RuleBook {
    let mut book = RuleBook::new("no_concern", ctx.coverage());
    book.apply(RULES, ctx, |_| None);
    book
}

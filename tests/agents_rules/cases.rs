//! The boundary cases, written by hand from the cited sources (see each specialty's module for
//! the citations) and from Vigil's scoring convention (`agents::rules`): a finding's score is
//! its highest fired rule's plus 0.05 per further rule (grades of one rule count once); bands
//! low < 0.30 <= moderate < 0.60 <= high < 0.85 <= critical. A quiet finding scores 0.05.
//!
//! `evidence`: 'T' the rule's evidence is there and triggered, 'F' there and not triggered,
//! '-' absent (the value it reads is absent).

use vigil::agents::{AssessmentContext, EventClass, RiskLevel, Specialty};
use vigil::analysis::news2::{Consciousness, Parameter, Spo2Scale};
use vigil::analysis::window::HrvSource;

use super::contexts::{at_news2, gain, news2_aggregate, trend, window};

use EventClass::{Arrhythmia, Hypoxia, PossibleDecompensation, RespiratoryDistress, SepsisScreen};
use RiskLevel::{Critical, High, Low, Moderate};
use Specialty::{Cardiology, EarlyWarning, HeartFailure, InfectionScreen, Pulmonary};

/// One rule and its boundary.
pub(crate) struct Case {
    pub(crate) specialty: Specialty,
    pub(crate) code: &'static str,
    pub(crate) feature: &'static str,
    pub(crate) cmp: &'static str,
    pub(crate) threshold: f64,
    /// Puts the value in a context.
    pub(crate) set: fn(&mut AssessmentContext, f64),
    pub(crate) points: Vec<Point>,
}

/// The expected outcome at one value.
pub(crate) struct Point {
    pub(crate) value: f64,
    pub(crate) evidence: char,
    pub(crate) code: &'static str,
    pub(crate) score: f64,
    pub(crate) level: RiskLevel,
    pub(crate) event: Option<EventClass>,
}

fn p(
    value: f64,
    evidence: char,
    code: &'static str,
    score: f64,
    level: RiskLevel,
    event: Option<EventClass>,
) -> Point {
    Point { value, evidence, code, score, level, event }
}

fn case(
    specialty: Specialty,
    code: &'static str,
    feature: &'static str,
    cmp: &'static str,
    threshold: f64,
    set: fn(&mut AssessmentContext, f64),
    points: Vec<Point>,
) -> Case {
    Case { specialty, code, feature, cmp, threshold, set, points }
}

const ARR: Option<EventClass> = Some(Arrhythmia);
const HYP: Option<EventClass> = Some(Hypoxia);
const RD: Option<EventClass> = Some(RespiratoryDistress);
const SEP: Option<EventClass> = Some(SepsisScreen);
const DEC: Option<EventClass> = Some(PossibleDecompensation);

fn hr(c: &mut AssessmentContext, v: f64) {
    c.latest.heart_rate = Some(v);
}
fn sbp(c: &mut AssessmentContext, v: f64) {
    c.latest.bp_systolic = Some(v);
}
fn spo2(c: &mut AssessmentContext, v: f64) {
    c.latest.spo2 = Some(v);
}
fn spo2_scale2(c: &mut AssessmentContext, v: f64) {
    c.news2.spo2_scale = Spo2Scale::Scale2;
    c.latest.spo2 = Some(v);
}
fn rr(c: &mut AssessmentContext, v: f64) {
    c.latest.respiratory_rate = Some(v);
}
fn temp(c: &mut AssessmentContext, v: f64) {
    c.latest.body_temperature = Some(v);
}
/// Fever (38.5 °C) with `v`.
fn fever_and(c: &mut AssessmentContext, set: fn(&mut AssessmentContext, f64), v: f64) {
    c.latest.body_temperature = Some(38.5);
    set(c, v);
}

pub(crate) fn cases() -> Vec<Case> {
    let mut all = cardiology();
    all.extend(pulmonary());
    all.extend(heart_failure());
    all.extend(early_warning());
    all.extend(infection());
    all
}

// The case lists are tables: one case, then one point a line.
#[rustfmt::skip]
fn cardiology() -> Vec<Case> {
    let quiet = "cardiology.no_concern";
    vec![
        // ESC 2019 SVT: tachycardia is a rate above 100/min.
        case(Cardiology, "tachycardia", "hr_mean", ">", 100.0, hr, vec![
            p(99.9, 'F', quiet, 0.05, Low, None),
            p(100.0, 'F', quiet, 0.05, Low, None),
            p(100.1, 'T', "cardiology.tachycardia", 0.4, Moderate, ARR),
        ]),
        // NEWS2: pulse >= 131 scores 3 (charted whole: 130.4 is 130). Tachycardia also fires.
        case(Cardiology, "severe_tachycardia", "hr_mean", ">=", 131.0, hr, vec![
            p(130.4, 'F', "cardiology.tachycardia", 0.4, Moderate, ARR),
            p(131.0, 'T', "cardiology.severe_tachycardia", 0.8, High, ARR),
            p(131.1, 'T', "cardiology.severe_tachycardia", 0.8, High, ARR),
        ]),
        // ESC 2021 pacing: bradycardia is a rate below 50/min.
        case(Cardiology, "bradycardia", "hr_mean", "<", 50.0, hr, vec![
            p(49.9, 'T', "cardiology.bradycardia", 0.4, Moderate, ARR),
            p(50.0, 'F', quiet, 0.05, Low, None),
            p(50.1, 'F', quiet, 0.05, Low, None),
        ]),
        // NEWS2: pulse <= 40 scores 3 (40.6 is charted 41). Bradycardia also fires.
        case(Cardiology, "severe_bradycardia", "hr_mean", "<=", 40.0, hr, vec![
            p(39.9, 'T', "cardiology.severe_bradycardia", 0.85, Critical, ARR),
            p(40.0, 'T', "cardiology.severe_bradycardia", 0.85, Critical, ARR),
            p(40.6, 'F', "cardiology.bradycardia", 0.4, Moderate, ARR),
        ]),
        // Dash 2009: normalised RMSSD above 0.1 suggests AF. At 60/min the mean RR is 1000 ms,
        // so hrv_mean 100 ms is exactly 0.1.
        case(Cardiology, "irregular_rhythm", "rr_interval_nrmssd", ">", 0.10, |c, v| {
            let w = window(c);
            w.hr_mean = Some(60.0);
            w.hrv_mean = Some(v * 1000.0);
            w.hrv_source = Some(HrvSource::RrIntervals);
        }, vec![
            p(0.099, 'F', quiet, 0.05, Low, None),
            p(0.10, 'F', quiet, 0.05, Low, None),
            p(0.101, 'T', "cardiology.irregular_rhythm", 0.7, High, ARR),
        ]),
        // Task Force 1996 (fractions Vigil's): HRV falling by more than half within the window.
        // hrv_decrease is positive when HRV fell (0.5: halved).
        case(Cardiology, "hrv_decrease", "hrv_decrease", ">", 0.5, |c, v| window(c).hrv_decrease = Some(v), vec![
            p(0.49, 'F', quiet, 0.05, Low, None),
            p(0.5, 'F', quiet, 0.05, Low, None),
            p(0.51, 'T', "cardiology.hrv_decrease", 0.35, Moderate, ARR),
        ]),
        // ... and down by 40 % or more over the trend horizon.
        case(Cardiology, "hrv_falling", "hrv_change", "<=", -0.4, |c, v| c.trend.hrv_change = Some(v), vec![
            p(-0.41, 'T', "cardiology.hrv_falling", 0.35, Moderate, ARR),
            p(-0.4, 'T', "cardiology.hrv_falling", 0.35, Moderate, ARR),
            p(-0.39, 'F', quiet, 0.05, Low, None),
        ]),
        // NEWS2: systolic <= 90 scores 3 (90.6 is charted 91).
        case(Cardiology, "hypotension", "bp_systolic", "<=", 90.0, sbp, vec![
            p(89.9, 'T', "cardiology.hypotension", 0.75, High, None),
            p(90.0, 'T', "cardiology.hypotension", 0.75, High, None),
            p(90.6, 'F', quiet, 0.05, Low, None),
        ]),
        // ESC/ESH 2018 (table 3): grade 3 hypertension is systolic >= 180 and/or diastolic
        // >= 110.
        case(Cardiology, "severe_hypertension", "bp_systolic", ">=", 180.0, sbp, vec![
            p(179.9, 'F', quiet, 0.05, Low, None),
            p(180.0, 'T', "cardiology.severe_hypertension", 0.6, High, None),
            p(180.1, 'T', "cardiology.severe_hypertension", 0.6, High, None),
        ]),
        case(Cardiology, "severe_hypertension", "bp_diastolic", ">=", 110.0, |c, v| {
            c.latest.bp_systolic = Some(170.0);
            c.latest.bp_diastolic = Some(v);
        }, vec![
            p(109.9, 'F', quiet, 0.05, Low, None),
            p(110.0, 'T', "cardiology.severe_hypertension", 0.6, High, None),
            p(110.1, 'T', "cardiology.severe_hypertension", 0.6, High, None),
        ]),
    ]
}

#[rustfmt::skip]
fn pulmonary() -> Vec<Case> {
    let quiet = "pulmonary.no_concern";
    let below = "pulmonary.below_target";
    let hypox = "pulmonary.hypoxaemia";
    let severe = "pulmonary.severe_hypoxaemia";
    vec![
        // BTS 2017: target 94-98 % (scale 1); urgent below 92; WHO 2011: severe below 90.
        case(Pulmonary, "below_target", "spo2_mean", "<", 94.0, spo2, vec![
            p(93.9, 'T', below, 0.35, Moderate, HYP),
            p(94.0, 'F', quiet, 0.05, Low, None),
            p(94.1, 'F', quiet, 0.05, Low, None),
        ]),
        case(Pulmonary, "hypoxaemia", "spo2_mean", "<", 92.0, spo2, vec![
            p(91.9, 'T', hypox, 0.75, High, HYP),
            p(92.0, 'F', below, 0.35, Moderate, HYP),
            p(92.1, 'F', below, 0.35, Moderate, HYP),
        ]),
        case(Pulmonary, "severe_hypoxaemia", "spo2_mean", "<", 90.0, spo2, vec![
            p(89.9, 'T', severe, 1.0, Critical, HYP),
            p(90.0, 'F', hypox, 0.75, High, HYP),
            p(90.1, 'F', hypox, 0.75, High, HYP),
        ]),
        // Scale 2 (hypercapnic failure): target 88-92 %, urgent below 86, severe below 84.
        case(Pulmonary, "below_target", "spo2_mean", "<", 88.0, spo2_scale2, vec![
            p(87.9, 'T', below, 0.35, Moderate, HYP),
            p(88.0, 'F', quiet, 0.05, Low, None),
            p(88.1, 'F', quiet, 0.05, Low, None),
        ]),
        case(Pulmonary, "hypoxaemia", "spo2_mean", "<", 86.0, spo2_scale2, vec![
            p(85.9, 'T', hypox, 0.75, High, HYP),
            p(86.0, 'F', below, 0.35, Moderate, HYP),
            p(86.1, 'F', below, 0.35, Moderate, HYP),
        ]),
        case(Pulmonary, "severe_hypoxaemia", "spo2_mean", "<", 84.0, spo2_scale2, vec![
            p(83.9, 'T', severe, 1.0, Critical, HYP),
            p(84.0, 'F', hypox, 0.75, High, HYP),
            p(84.1, 'F', hypox, 0.75, High, HYP),
        ]),
        // BTS 2017: a fall of 3 % or more needs a fuller assessment.
        case(Pulmonary, "spo2_falling", "spo2_change", "<=", -3.0, |c, v| c.trend.spo2_change = Some(v), vec![
            p(-3.1, 'T', "pulmonary.spo2_falling", 0.45, Moderate, HYP),
            p(-3.0, 'T', "pulmonary.spo2_falling", 0.45, Moderate, HYP),
            p(-2.9, 'F', quiet, 0.05, Low, None),
        ]),
        // NEWS2 respiration: 21-24 scores 2, >= 25 and <= 8 score 3 (charted whole).
        case(Pulmonary, "tachypnoea", "rr_mean", ">", 20.0, rr, vec![
            p(19.4, 'F', quiet, 0.05, Low, None),
            p(20.0, 'F', quiet, 0.05, Low, None),
            p(20.6, 'T', "pulmonary.tachypnoea", 0.4, Moderate, RD),
        ]),
        case(Pulmonary, "severe_tachypnoea", "rr_mean", ">=", 25.0, rr, vec![
            p(24.4, 'F', "pulmonary.tachypnoea", 0.4, Moderate, RD),
            p(25.0, 'T', "pulmonary.severe_tachypnoea", 0.85, Critical, RD),
            p(25.1, 'T', "pulmonary.severe_tachypnoea", 0.85, Critical, RD),
        ]),
        case(Pulmonary, "bradypnoea", "rr_mean", "<=", 8.0, rr, vec![
            p(7.9, 'T', "pulmonary.bradypnoea", 0.8, High, RD),
            p(8.0, 'T', "pulmonary.bradypnoea", 0.8, High, RD),
            p(8.6, 'F', quiet, 0.05, Low, None),
        ]),
        // Vigil: breath-to-breath rate changes with a standard deviation over 3/min.
        case(Pulmonary, "irregular_breathing", "rr_irregularity", ">", 3.0, |c, v| window(c).rr_irregularity = Some(v), vec![
            p(2.9, 'F', quiet, 0.05, Low, None),
            p(3.0, 'F', quiet, 0.05, Low, None),
            p(3.1, 'T', "pulmonary.irregular_breathing", 0.35, Moderate, RD),
        ]),
    ]
}

#[rustfmt::skip]
fn heart_failure() -> Vec<Case> {
    let quiet = "heart_failure.weight_stable";
    let rising = "heart_failure.weight_trend_rising";
    vec![
        // ESC/HFA 2021: a gain of more than 2 kg in 3 days. The analysis reports only a gain
        // that fired, so below and at the threshold there is no evidence.
        case(HeartFailure, "rapid_weight_gain", "weight_gain_kg", ">", 2.0, gain, vec![
            p(1.99, '-', quiet, 0.05, Low, None),
            p(2.0, '-', quiet, 0.05, Low, None),
            p(2.01, 'T', "heart_failure.rapid_weight_gain", 0.75, High, DEC),
        ]),
        // The Kalman trend above 1 kg/week (sd 0.1: surely above zero).
        case(HeartFailure, "weight_trend_rising", "weight_trend_kg_per_week", ">", 1.0, |c, v| trend(c, v, 0.1), vec![
            p(0.99, 'F', quiet, 0.05, Low, None),
            p(1.0, 'F', quiet, 0.05, Low, None),
            p(1.01, 'T', rising, 0.65, High, DEC),
        ]),
        // ... and at least 1.645 sd above zero (sd 1: the trend is its z).
        case(HeartFailure, "weight_trend_sure", "weight_trend_z", ">=", 1.645, |c, v| trend(c, v, 1.0), vec![
            p(1.644, '-', quiet, 0.05, Low, None),
            p(1.645, 'T', rising, 0.65, High, DEC),
            p(1.646, 'T', rising, 0.65, High, DEC),
        ]),
        // Both rules: 0.85 + 0.05 for each of the two others.
        case(HeartFailure, "decompensation_likely", "weight_rules_concur", ">=", 2.0, |c, v| {
            gain(c, if v >= 1.0 { 2.5 } else { 1.0 });
            trend(c, if v >= 2.0 { 1.5 } else { 0.5 }, 0.1);
        }, vec![
            p(0.0, 'F', quiet, 0.05, Low, None),
            p(1.0, 'F', "heart_failure.rapid_weight_gain", 0.75, High, DEC),
            p(2.0, 'T', "heart_failure.decompensation_likely", 0.95, Critical, DEC),
        ]),
    ]
}

#[rustfmt::skip]
fn early_warning() -> Vec<Case> {
    let quiet = "early_warning.news2_low";
    let low = "early_warning.news2_low_score";
    let medium = "early_warning.news2_medium";
    let high = "early_warning.news2_high";
    // RCP 2017 chart 2: 1-4 low, a single 3 low-medium, 5-6 medium, 7+ high. The event is the
    // parameter scoring highest (ties: SpO2, respiration, pulse, temperature, pressure).
    vec![
        case(EarlyWarning, "news2_high", "news2_aggregate", ">=", 7.0, news2_aggregate, vec![
            p(6.0, 'F', medium, 0.7, High, HYP),
            p(7.0, 'T', high, 0.9, Critical, HYP),
            p(8.0, 'T', high, 0.9, Critical, HYP),
        ]),
        case(EarlyWarning, "news2_medium", "news2_aggregate", ">=", 5.0, news2_aggregate, vec![
            p(4.0, 'F', low, 0.3, Moderate, RD),
            p(5.0, 'T', medium, 0.7, High, HYP),
            p(6.0, 'T', medium, 0.7, High, HYP),
        ]),
        // The highest single parameter: respiration 23 scores 2, 26 scores 3 (aggregate 2, 3).
        case(EarlyWarning, "news2_red_parameter", "news2_max_sub_score", ">=", 3.0, |c, v| {
            *c = at_news2(&[(Parameter::RespirationRate, if v >= 3.0 { 26.0 } else { 23.0 })]);
        }, vec![
            p(2.0, 'F', low, 0.3, Moderate, RD),
            p(3.0, 'T', "early_warning.news2_red_parameter", 0.5, Moderate, RD),
        ]),
        case(EarlyWarning, "news2_low_score", "news2_aggregate", ">=", 1.0, news2_aggregate, vec![
            p(0.0, 'F', quiet, 0.05, Low, None),
            p(1.0, 'T', low, 0.3, Moderate, SEP),
            p(2.0, 'T', low, 0.3, Moderate, ARR),
        ]),
    ]
}

#[rustfmt::skip]
fn infection() -> Vec<Case> {
    let quiet = "infection_screen.screen_negative";
    let fever = "infection_screen.fever";
    let sirs = "infection_screen.sirs_positive";
    let qsofa = "infection_screen.qsofa_positive";
    vec![
        // Bone 1992 (SIRS): temperature > 38 or < 36 °C.
        case(InfectionScreen, "fever", "temp_mean", ">", 38.0, temp, vec![
            p(37.9, 'F', quiet, 0.05, Low, None),
            p(38.0, 'F', quiet, 0.05, Low, None),
            p(38.1, 'T', fever, 0.3, Moderate, SEP),
        ]),
        case(InfectionScreen, "hypothermia", "temp_mean", "<", 36.0, temp, vec![
            p(35.9, 'T', "infection_screen.hypothermia", 0.3, Moderate, SEP),
            p(36.0, 'F', quiet, 0.05, Low, None),
            p(36.1, 'F', quiet, 0.05, Low, None),
        ]),
        // SIRS heart rate > 90 and respiratory rate > 20: criteria, counted with the fever.
        case(InfectionScreen, "sirs_heart_rate", "hr_mean", ">", 90.0, |c, v| fever_and(c, hr, v), vec![
            p(89.9, 'F', fever, 0.3, Moderate, SEP),
            p(90.0, 'F', fever, 0.3, Moderate, SEP),
            p(90.1, 'T', sirs, 0.55, Moderate, SEP),
        ]),
        case(InfectionScreen, "sirs_respiratory_rate", "rr_mean", ">", 20.0, |c, v| fever_and(c, rr, v), vec![
            p(19.9, 'F', fever, 0.3, Moderate, SEP),
            p(20.0, 'F', fever, 0.3, Moderate, SEP),
            p(20.1, 'T', sirs, 0.55, Moderate, SEP),
        ]),
        // Vigil: a spike of more than 1 °C within the window.
        case(InfectionScreen, "temperature_spike", "temp_spike", ">", 1.0, |c, v| window(c).temp_spike = Some(v), vec![
            p(0.9, 'F', quiet, 0.05, Low, None),
            p(1.0, 'F', quiet, 0.05, Low, None),
            p(1.1, 'T', "infection_screen.temperature_spike", 0.3, Moderate, SEP),
        ]),
        // Seymour 2016 (qSOFA), with fever and systolic 100: respiratory rate >= 22 makes two.
        // 21.9 is still a SIRS respiratory criterion: SIRS 2 with the fever.
        case(InfectionScreen, "qsofa_respiratory_rate", "rr_mean", ">=", 22.0, |c, v| {
            fever_and(c, rr, v);
            c.latest.bp_systolic = Some(100.0);
        }, vec![
            p(21.9, 'F', sirs, 0.55, Moderate, SEP),
            p(22.0, 'T', qsofa, 1.0, Critical, SEP),
            p(22.1, 'T', qsofa, 1.0, Critical, SEP),
        ]),
        // ... with fever and respiratory rate 22: systolic <= 100 makes two.
        case(InfectionScreen, "qsofa_systolic", "bp_systolic", "<=", 100.0, |c, v| {
            fever_and(c, sbp, v);
            c.latest.respiratory_rate = Some(22.0);
        }, vec![
            p(99.9, 'T', qsofa, 1.0, Critical, SEP),
            p(100.0, 'T', qsofa, 1.0, Critical, SEP),
            p(100.1, 'F', sirs, 0.55, Moderate, SEP),
        ]),
        // ... with fever and respiratory rate 22: responding to voice makes two.
        case(InfectionScreen, "qsofa_mentation", "altered_mentation", ">=", 1.0, |c, v| {
            fever_and(c, rr, 22.0);
            c.news2.consciousness = Some(if v >= 1.0 { Consciousness::Voice } else { Consciousness::Alert });
        }, vec![
            p(0.0, 'F', sirs, 0.55, Moderate, SEP),
            p(1.0, 'T', qsofa, 1.0, Critical, SEP),
        ]),
        // qSOFA >= 2 with a temperature sign: 0.9, + 0.05 for fever and for SIRS (fever and
        // respiratory rate 22 are two SIRS criteria).
        case(InfectionScreen, "qsofa_positive", "qsofa", ">=", 2.0, |c, v| {
            fever_and(c, rr, 22.0);
            c.latest.bp_systolic = Some(if v >= 2.0 { 95.0 } else { 120.0 });
            c.news2.consciousness = Some(if v >= 3.0 { Consciousness::Voice } else { Consciousness::Alert });
        }, vec![
            p(1.0, 'F', sirs, 0.55, Moderate, SEP),
            p(2.0, 'T', qsofa, 1.0, Critical, SEP),
            p(3.0, 'T', qsofa, 1.0, Critical, SEP),
        ]),
        // SIRS: two criteria with a temperature sign 0.5, all three 0.7 (one rule, graded),
        // + 0.05 for the fever.
        case(InfectionScreen, "sirs_positive", "sirs_criteria", ">=", 2.0, sirs_count, vec![
            p(1.0, 'F', fever, 0.3, Moderate, SEP),
            p(2.0, 'T', sirs, 0.55, Moderate, SEP),
            p(3.0, 'T', sirs, 0.75, High, SEP),
        ]),
        case(InfectionScreen, "sirs_positive", "sirs_criteria", ">=", 3.0, sirs_count, vec![
            p(2.0, 'F', sirs, 0.55, Moderate, SEP),
            p(3.0, 'T', sirs, 0.75, High, SEP),
        ]),
    ]
}

/// Fever, then heart rate 95 (2 criteria), then respiratory rate 21 (3).
fn sirs_count(c: &mut AssessmentContext, n: f64) {
    c.latest.body_temperature = Some(38.5);
    c.latest.heart_rate = Some(if n >= 2.0 { 95.0 } else { 80.0 });
    c.latest.respiratory_rate = Some(if n >= 3.0 { 21.0 } else { 16.0 });
}

//! Cardiology: rate, rhythm irregularity, HRV fall, blood pressure.

use super::{Cmp, Rule, RuleBook};
use crate::agents::{AssessmentContext, EventClass};

const ARRHYTHMIA: Option<EventClass> = Some(EventClass::Arrhythmia);

pub(super) fn assess(ctx: &AssessmentContext) -> RuleBook {
    let mut book = RuleBook::new("no_concern", ctx.coverage());
    let hr = ctx.heart_rate();
    // Tachycardia > 100/min: the conventional adult definition (ESC 2019 SVT guidelines,
    // Brugada J. et al., Eur Heart J 2020;41:655-720). >= 131 is NEWS2's red band (RCP 2017).
    book.check(hr, Rule {
        code: "tachycardia",
        feature: "hr_mean",
        cmp: Cmp::Gt,
        threshold: 100.0,
        score: 0.4,
        event: ARRHYTHMIA,
        source: "ESC 2019 SVT",
        recommendation: "review the cause of the tachycardia (pain, fever, hypovolaemia, arrhythmia); 12-lead ECG",
    });
    book.check(
        hr,
        Rule {
            code: "severe_tachycardia",
            feature: "hr_mean",
            cmp: Cmp::Ge,
            threshold: 131.0,
            score: 0.75,
            event: ARRHYTHMIA,
            source: "NEWS2 RCP 2017",
            recommendation: "urgent clinical review and 12-lead ECG",
        },
    );
    // Bradycardia < 50/min (ESC 2021 pacing guidelines, Glikson M. et al., Eur Heart J
    // 2021;42:3427-3520); <= 40 is NEWS2's red band.
    book.check(
        hr,
        Rule {
            code: "bradycardia",
            feature: "hr_mean",
            cmp: Cmp::Lt,
            threshold: 50.0,
            score: 0.4,
            event: ARRHYTHMIA,
            source: "ESC 2021 pacing",
            recommendation: "review rate-limiting drugs and conduction; 12-lead ECG",
        },
    );
    book.check(
        hr,
        Rule {
            code: "severe_bradycardia",
            feature: "hr_mean",
            cmp: Cmp::Le,
            threshold: 40.0,
            score: 0.8,
            event: ARRHYTHMIA,
            source: "NEWS2 RCP 2017",
            recommendation: "urgent clinical review and 12-lead ECG",
        },
    );
    if let Some(w) = ctx.window {
        // Irregular RR: successive differences normalised by the mean RR interval; > 0.1
        // suggests atrial fibrillation (normalised RMSSD threshold of Dash S. et al., Ann
        // Biomed Eng 2009;37:1701-1709). `hrv_mean` is a 1 Hz approximation (window docs).
        let nrmssd = match (w.hrv_mean, w.hr_mean) {
            (Some(h), Some(hr)) if hr > 0.0 => Some(h / (60_000.0 / hr)),
            _ => None,
        };
        book.check(nrmssd, Rule {
            code: "irregular_rhythm",
            feature: "rr_interval_nrmssd",
            cmp: Cmp::Gt,
            threshold: 0.10,
            score: 0.7,
            event: ARRHYTHMIA,
            source: "Dash 2009 (AF)",
            recommendation: "irregular RR intervals: record a 12-lead ECG to look for atrial fibrillation",
        });
        // HRV falling by more than half within the window: reduced HRV marks autonomic
        // imbalance and risk (Task Force 1996, Circulation 93:1043-1065).
        book.check(
            w.hrv_decrease,
            Rule {
                code: "hrv_decrease",
                feature: "hrv_decrease",
                cmp: Cmp::Lt,
                threshold: -0.5,
                score: 0.35,
                event: ARRHYTHMIA,
                source: "Task Force 1996",
                recommendation: "beat-to-beat variability is falling: reassess the patient",
            },
        );
    }
    // Over a longer horizon: HRV down by 40 % or more (Task Force 1996; horizon Vigil's).
    book.check(
        ctx.trend.hrv_change,
        Rule {
            code: "hrv_falling",
            feature: "hrv_change",
            cmp: Cmp::Le,
            threshold: -0.4,
            score: 0.35,
            event: ARRHYTHMIA,
            source: "Task Force 1996",
            recommendation: "beat-to-beat variability is falling: reassess the patient",
        },
    );
    // Blood pressure: systolic <= 90 is NEWS2's red band (RCP 2017); >= 180 is grade 3
    // hypertension (ESC/ESH 2018, Williams B. et al., Eur Heart J 2018;39:3021-3104).
    book.check(
        ctx.latest.bp_systolic,
        Rule {
            code: "hypotension",
            feature: "bp_systolic",
            cmp: Cmp::Le,
            threshold: 90.0,
            score: 0.75,
            event: None,
            source: "NEWS2 RCP 2017",
            recommendation: "hypotension: urgent review of perfusion and fluid status",
        },
    );
    book.check(
        ctx.latest.bp_systolic,
        Rule {
            code: "severe_hypertension",
            feature: "bp_systolic",
            cmp: Cmp::Ge,
            threshold: 180.0,
            score: 0.6,
            event: None,
            source: "ESC/ESH 2018",
            recommendation: "grade 3 hypertension: repeat the measurement and look for organ damage",
        },
    );
    book
}

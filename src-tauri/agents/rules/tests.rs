use chrono::{TimeZone, Utc};

use super::*;
use crate::analysis::window::{VitalSample, WindowState};

fn ctx_from(hr: f64, spo2: f64, rr: f64, temp: f64) -> AssessmentContext {
    let mut w = WindowState::new();
    for t in 0..300 {
        w.push(&VitalSample {
            time: t,
            heart_rate: Some(hr),
            spo2: Some(spo2),
            respiratory_rate: Some(rr),
            body_temperature: Some(temp),
            rr_interval: Some(60_000.0 / hr + if t % 2 == 0 { 5.0 } else { -5.0 }),
            hrv_sdnn: None,
        });
    }
    let mut ctx = AssessmentContext::new("p", Utc.timestamp_opt(299, 0).unwrap());
    ctx.window = w.features();
    ctx
}

#[test]
fn a_stable_patient_is_low_everywhere() {
    let ctx = ctx_from(72.0, 97.0, 14.0, 36.8);
    for s in ctx.supported_specialties() {
        let f = assess(s, &ctx);
        assert_eq!(f.risk_level, RiskLevel::Low, "{s}: {f:?}");
        assert_eq!(f.method, Method::Rules);
        assert!(f.confidence > 0.5, "{s}");
    }
    assert!(!ctx.supported_specialties().contains(&Specialty::HeartFailure));
}

#[test]
fn severe_hypoxaemia_is_critical_hypoxia_with_its_evidence() {
    let ctx = ctx_from(118.0, 87.0, 22.0, 36.9);
    let f = assess(Specialty::Pulmonary, &ctx);
    assert_eq!(f.code, "pulmonary.severe_hypoxaemia");
    assert_eq!(f.event, Some(EventClass::Hypoxia));
    assert_eq!(f.risk_level, RiskLevel::Critical);
    let e = f.triggered_evidence().find(|e| e.threshold == 90.0).unwrap();
    assert_eq!((&*e.feature, e.value, &*e.comparison), ("spo2_mean", 87.0, "<"));
    let news = assess(Specialty::EarlyWarning, &ctx);
    assert_eq!(news.event, Some(EventClass::Hypoxia));
    assert!(news.risk_score >= 0.7, "{news:?}");
}

#[test]
fn fever_with_tachycardia_and_tachypnoea_screens_positive() {
    let ctx = ctx_from(112.0, 96.0, 24.0, 39.2);
    let f = assess(Specialty::InfectionScreen, &ctx);
    assert_eq!(f.event, Some(EventClass::SepsisScreen));
    assert!(f.risk_level >= RiskLevel::High, "{f:?}");
}

#[test]
fn only_weights_route_only_to_heart_failure() {
    let mut ctx = AssessmentContext::new("p", Utc.timestamp_opt(0, 0).unwrap());
    ctx.weight =
        Some(crate::agents::WeightContext { weights: 3, latest: None, rapid_gain: None, trend_rise: None });
    assert_eq!(ctx.supported_specialties(), vec![Specialty::HeartFailure]);
    assert_eq!(assess(Specialty::HeartFailure, &ctx).risk_level, RiskLevel::Low);
}

/// Five minutes at a steady heart rate of 75/min (RR 800 ms) whose RR interval at second `t`
/// is `rr(t)`, the other vitals normal.
fn ctx_with_rr(rr: impl Fn(i64) -> f64) -> AssessmentContext {
    let mut w = WindowState::new();
    for t in 0..300 {
        w.push(&VitalSample {
            time: t,
            heart_rate: Some(75.0),
            spo2: Some(97.0),
            respiratory_rate: Some(14.0),
            body_temperature: Some(36.8),
            rr_interval: Some(rr(t)),
            hrv_sdnn: None,
        });
    }
    let mut ctx = AssessmentContext::new("p", Utc.timestamp_opt(299, 0).unwrap());
    ctx.window = w.features();
    ctx
}

fn alternating(t: i64, amplitude: f64) -> f64 {
    800.0 + if t % 2 == 0 { amplitude } else { -amplitude }
}

#[test]
fn irregular_rr_intervals_from_a_real_window_call_irregular_rhythm() {
    // RR 800 ± 60 ms: successive differences of 120 ms, 0.15 of the mean RR (> 0.1, Dash 2009).
    let f = assess(Specialty::Cardiology, &ctx_with_rr(|t| alternating(t, 60.0)));
    assert_eq!(
        (f.code.as_str(), f.risk_level, f.event),
        ("cardiology.irregular_rhythm", RiskLevel::High, Some(EventClass::Arrhythmia))
    );
    let e = f.triggered_evidence().find(|e| e.feature == "rr_interval_nrmssd").unwrap();
    assert!((e.value - 0.15).abs() < 1e-9, "{e:?}");
    // RR 800 ± 30 ms: 0.075, regular enough.
    let f = assess(Specialty::Cardiology, &ctx_with_rr(|t| alternating(t, 30.0)));
    assert_eq!(f.code, "cardiology.no_concern", "{f:?}");
}

#[test]
fn a_devices_hrv_stream_is_not_read_as_rr_irregularity() {
    // No RR intervals; the wearable's own HRV of 150 ms at 75/min would be 0.19 of the mean RR
    // interval if it were read as successive differences: far above Dash's 0.1.
    let mut w = WindowState::new();
    for t in 0..300 {
        w.push(&VitalSample {
            time: t,
            heart_rate: Some(75.0),
            spo2: Some(97.0),
            respiratory_rate: Some(14.0),
            body_temperature: Some(36.8),
            hrv_sdnn: Some(150.0),
            ..VitalSample::default()
        });
    }
    let mut ctx = AssessmentContext::new("p", Utc.timestamp_opt(299, 0).unwrap());
    ctx.window = w.features();
    assert_eq!(ctx.window.and_then(|w| w.hrv_mean), Some(150.0));
    let f = assess(Specialty::Cardiology, &ctx);
    assert_eq!(f.code, "cardiology.no_concern", "{f:?}");
    assert!(f.evidence.iter().all(|e| e.feature != "rr_interval_nrmssd"), "{f:?}");
}

#[test]
fn beat_to_beat_variability_falling_within_a_real_window_is_called() {
    // Successive differences of 40 ms in the first minute, 10 ms in the last: a fall of 75 %.
    let f = assess(Specialty::Cardiology, &ctx_with_rr(|t| alternating(t, if t < 240 { 20.0 } else { 5.0 })));
    let e = f.evidence.iter().find(|e| e.feature == "hrv_decrease").unwrap();
    assert!(e.triggered && e.value > 0.7, "{e:?}");
    assert_eq!((f.code.as_str(), f.risk_level), ("cardiology.hrv_decrease", RiskLevel::Moderate));
}

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

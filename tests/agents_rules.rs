//! Every clinical rule of every specialty at its boundary (issue 18).
//!
//! The cases in `agents_rules/cases.rs` are written by hand from the cited sources, not
//! derived from the rule tables: each names a rule (specialty, code, feature, comparison,
//! threshold) and, for a value just below, exactly at and just above the threshold, whether
//! the rule triggers and the finding that results (code, score, level, event). One test pins
//! the tables to the cases (a changed threshold or comparison fails it, and a rule without a
//! case fails it); another runs every case through `rules::assess`.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

#[path = "agents_rules/cases.rs"]
mod cases;
#[path = "agents_rules/contexts.rs"]
mod contexts;

use cases::{Case, cases};
use contexts::{at_news2, ctx};
use vigil::agents::rules::{self, Feature};
use vigil::agents::{AssessmentContext, EventClass, Finding, RiskLevel, Specialty};
use vigil::analysis::news2::{self, ClinicalRisk, Consciousness, News2Input, Parameter, Spo2Scale};

fn finding(case: &Case, value: f64) -> (AssessmentContext, Finding) {
    let mut c = ctx();
    (case.set)(&mut c, value);
    let f = rules::assess(case.specialty, &c);
    (c, f)
}

fn label(case: &Case) -> String {
    format!("{}.{} ({} {} {})", case.specialty, case.code, case.feature, case.cmp, case.threshold)
}

#[test]
fn every_rule_of_every_table_has_a_boundary_case_with_its_threshold_and_comparison() {
    let cases = cases();
    let mut missing = Vec::new();
    for specialty in Specialty::ALL {
        for rule in rules::table(specialty) {
            let n = cases
                .iter()
                .filter(|c| {
                    c.specialty == specialty
                        && c.code == rule.code
                        && c.feature == rule.feature.name()
                        && c.threshold == rule.threshold
                        && c.cmp == rule.cmp.symbol()
                })
                .count();
            if n != 1 {
                missing.push(format!(
                    "{specialty}.{} ({} {} {}): {n} cases",
                    rule.code,
                    rule.feature.name(),
                    rule.cmp.symbol(),
                    rule.threshold
                ));
            }
        }
    }
    assert!(missing.is_empty(), "rules without exactly one matching case: {missing:#?}");
    for case in &cases {
        let in_table = rules::table(case.specialty).iter().any(|r| {
            r.code == case.code && r.feature.name() == case.feature && r.threshold == case.threshold
        });
        assert!(in_table, "case {} matches no rule of its table", label(case));
    }
}

#[test]
fn every_rule_fires_exactly_as_its_source_says_below_at_and_above_its_threshold() {
    let mut failures = Vec::new();
    for case in cases() {
        let below = case.points.iter().any(|p| p.value < case.threshold);
        let at = case.points.iter().any(|p| p.value == case.threshold);
        assert!(below && at, "{}: needs a point below and one at the threshold", label(&case));
        for p in &case.points {
            let (_, f) = finding(&case, p.value);
            let e = f.evidence.iter().find(|e| e.feature == case.feature && e.threshold == case.threshold);
            let seen = match e {
                None => '-',
                Some(e) if e.triggered => 'T',
                Some(_) => 'F',
            };
            if let Some(e) = e.filter(|e| e.comparison != case.cmp) {
                failures.push(format!("{} at {}: compared with {}", label(&case), p.value, e.comparison));
            }
            let got = (seen, f.code.as_str(), f.risk_level, f.event);
            let want = (p.evidence, p.code, p.level, p.event);
            if got != want || (f.risk_score - p.score).abs() > 1e-9 {
                failures.push(format!(
                    "{} at {}: got {got:?} score {}, want {want:?} score {}",
                    label(&case),
                    p.value,
                    f.risk_score,
                    p.score
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{} boundary points wrong:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn the_tables_are_well_formed() {
    for specialty in Specialty::ALL {
        let table = rules::table(specialty);
        for (i, rule) in table.iter().enumerate() {
            let name = format!("{specialty}.{} (row {i})", rule.code);
            let earlier: Vec<_> = table[..i].iter().map(|r| r.code).collect();
            assert!((0.0..=1.0).contains(&rule.score), "{name}: score {}", rule.score);
            assert!(!rule.source.is_empty(), "{name}: no source");
            assert!(rule.score == 0.0 || !rule.recommendation.is_empty(), "{name}: no recommendation");
            for code in rule.requires {
                assert!(earlier.contains(code), "{name}: requires {code}, not an earlier row");
            }
            if let Feature::CriteriaMet { groups, .. } = rule.feature {
                for code in groups.iter().flat_map(|g| g.iter()) {
                    assert!(earlier.contains(code), "{name}: counts {code}, not an earlier row");
                }
            }
        }
    }
}

#[test]
fn a_condition_that_is_not_met_keeps_the_evidence_but_does_not_fire() {
    // qSOFA 2 (respiratory rate 22, systolic 100) without fever or hypothermia: the screen
    // stays negative (Seymour 2016 applies qSOFA to suspected infection), the evidence shows
    // the count that held.
    let mut c = ctx();
    c.latest.body_temperature = Some(37.0);
    c.latest.respiratory_rate = Some(22.0);
    c.latest.bp_systolic = Some(100.0);
    let f = rules::assess(Specialty::InfectionScreen, &c);
    assert_eq!((f.code.as_str(), f.risk_level), ("infection_screen.screen_negative", RiskLevel::Low));
    let q = f.evidence.iter().find(|e| e.feature == "qsofa").expect("qsofa evidence");
    assert_eq!((q.value, q.triggered), (2.0, false));
    // Scale-2 SpO2 rows do not apply on scale 1 and the reverse: no evidence for them.
    c.latest.spo2 = Some(89.0);
    let f = rules::assess(Specialty::Pulmonary, &c);
    assert!(f.evidence.iter().all(|e| e.feature != "spo2_mean" || [94.0, 92.0, 90.0].contains(&e.threshold)));
    c.news2.spo2_scale = Spo2Scale::Scale2;
    let f = rules::assess(Specialty::Pulmonary, &c);
    assert!(f.evidence.iter().all(|e| e.feature != "spo2_mean" || [88.0, 86.0, 84.0].contains(&e.threshold)));
    assert_eq!(f.code, "pulmonary.tachypnoea", "89 % is within the scale-2 target; 22/min is not");
}

#[test]
fn grades_of_one_rule_count_once() {
    // NEWS2 8 with a red parameter: only the highest band decides and recommends.
    let c = at_news2(&[
        (Parameter::RespirationRate, 26.0),
        (Parameter::Pulse, 115.0),
        (Parameter::Spo2, 93.0),
        (Parameter::Temperature, 38.5),
    ]);
    let f = rules::assess(Specialty::EarlyWarning, &c);
    assert_eq!(
        (f.code.as_str(), f.risk_score, f.risk_level),
        ("early_warning.news2_high", 0.9, RiskLevel::Critical)
    );
    assert_eq!(f.recommendations.len(), 1, "{:?}", f.recommendations);
    assert!(f.recommendations[0].starts_with("NEWS2 >= 7"));
    // A red parameter with an aggregate of 5 is the medium band (RCP 2017 chart 2).
    let c = at_news2(&[(Parameter::RespirationRate, 26.0), (Parameter::Pulse, 115.0)]);
    let f = rules::assess(Specialty::EarlyWarning, &c);
    assert_eq!((f.code.as_str(), f.risk_score), ("early_warning.news2_medium", 0.7));
    assert_eq!(f.event, Some(EventClass::RespiratoryDistress));
    // Grade 3 hypertension on both pressures is one finding of grade 3, not two.
    let mut c = ctx();
    c.latest.bp_systolic = Some(185.0);
    c.latest.bp_diastolic = Some(115.0);
    let f = rules::assess(Specialty::Cardiology, &c);
    assert_eq!((f.code.as_str(), f.risk_score), ("cardiology.severe_hypertension", 0.6));
    assert_eq!(f.triggered_evidence().count(), 2, "{:?}", f.evidence);
}

#[test]
fn the_early_warning_bands_agree_with_the_news2_score_everywhere() {
    // The agent's table and analysis::news2's band (chart 2) over a grid of observations; the
    // expected codes per band are written here.
    let mut checked = 0;
    for rr in [7.0, 10.0, 16.0, 22.0, 26.0] {
        for spo2 in [90.0, 93.0, 95.0, 98.0] {
            for sbp in [88.0, 95.0, 105.0, 130.0, 225.0] {
                for hr in [38.0, 45.0, 70.0, 100.0, 120.0, 135.0] {
                    for (temp, alert) in
                        [(34.9, true), (35.5, true), (37.0, true), (38.5, false), (39.5, true)]
                    {
                        let input = News2Input {
                            respiration_rate: rr,
                            spo2,
                            spo2_scale: Spo2Scale::Scale1,
                            on_oxygen: false,
                            systolic_bp: sbp,
                            pulse: hr,
                            consciousness: if alert { Consciousness::Alert } else { Consciousness::Voice },
                            temperature: temp,
                        };
                        let score = news2::score(&input).unwrap();
                        let want = match score.risk {
                            ClinicalRisk::High => "early_warning.news2_high",
                            ClinicalRisk::Medium => "early_warning.news2_medium",
                            ClinicalRisk::LowMedium => "early_warning.news2_red_parameter",
                            ClinicalRisk::Low if score.aggregate > 0 => "early_warning.news2_low_score",
                            ClinicalRisk::Low => "early_warning.news2_low",
                        };
                        let mut c = ctx();
                        c.latest.respiratory_rate = Some(rr);
                        c.latest.spo2 = Some(spo2);
                        c.latest.bp_systolic = Some(sbp);
                        c.latest.heart_rate = Some(hr);
                        c.latest.body_temperature = Some(temp);
                        c.news2.consciousness = Some(input.consciousness);
                        let f = rules::assess(Specialty::EarlyWarning, &c);
                        assert_eq!(f.code, want, "{input:?}: aggregate {}", score.aggregate);
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(checked, 5 * 4 * 5 * 6 * 5);
}

#[test]
fn rules_taken_from_the_news2_chart_agree_with_the_news2_sub_score_at_every_value() {
    // Each rule that cites the NEWS2 chart, and the NEWS2 condition it states (RCP 2017 chart
    // 1); the value is swept in steps of 0.01 across the boundary, including the values NEWS2
    // charts to the next whole number (130.5 is charted 131).
    type Row = (Specialty, &'static str, &'static str, Parameter, f64, fn(u8) -> bool);
    let rows: [Row; 6] = [
        (Specialty::Cardiology, "severe_tachycardia", "hr_mean", Parameter::Pulse, 131.0, |s| s == 3),
        (Specialty::Cardiology, "severe_bradycardia", "hr_mean", Parameter::Pulse, 40.0, |s| s == 3),
        (Specialty::Cardiology, "hypotension", "bp_systolic", Parameter::SystolicBp, 90.0, |s| s == 3),
        (Specialty::Pulmonary, "tachypnoea", "rr_mean", Parameter::RespirationRate, 20.0, |s| s >= 2),
        (Specialty::Pulmonary, "severe_tachypnoea", "rr_mean", Parameter::RespirationRate, 25.0, |s| s == 3),
        (Specialty::Pulmonary, "bradypnoea", "rr_mean", Parameter::RespirationRate, 8.0, |s| s == 3),
    ];
    let mut disagreements = Vec::new();
    for (specialty, code, feature, parameter, threshold, news2_says) in rows {
        let mut wrong: Vec<String> = Vec::new();
        for k in -100..=100 {
            let value = (threshold * 100.0 + f64::from(k)) / 100.0;
            let c = at_news2(&[(parameter, value)]);
            let sub = news2_sub_score(&c, parameter);
            let f = rules::assess(specialty, &c);
            let fired = f
                .evidence
                .iter()
                .find(|e| e.feature == feature && e.threshold == threshold)
                .is_some_and(|e| e.triggered);
            if fired != news2_says(sub) {
                wrong.push(format!("{value} (fired {fired}, NEWS2 sub-score {sub})"));
            }
        }
        if let (Some(first), Some(last)) = (wrong.first(), wrong.last()) {
            disagreements.push(format!("{specialty}.{code}: {} values, {first} to {last}", wrong.len()));
        }
    }
    assert!(disagreements.is_empty(), "rules disagreeing with NEWS2:\n{}", disagreements.join("\n"));
}

fn news2_sub_score(c: &AssessmentContext, parameter: Parameter) -> u8 {
    let input = News2Input {
        respiration_rate: c.latest.respiratory_rate.unwrap(),
        spo2: c.latest.spo2.unwrap(),
        spo2_scale: Spo2Scale::Scale1,
        on_oxygen: false,
        systolic_bp: c.latest.bp_systolic.unwrap(),
        pulse: c.latest.heart_rate.unwrap(),
        consciousness: Consciousness::Alert,
        temperature: c.latest.body_temperature.unwrap(),
    };
    let score = news2::score(&input).unwrap();
    score.sub_scores.iter().find(|s| s.parameter == parameter).unwrap().score
}

#[tokio::test]
async fn a_stored_diastolic_of_grade_3_reaches_the_cardiology_rule_through_the_facade() {
    use chrono::{DateTime, NaiveDate};
    use vigil::OpenOptions;
    use vigil::agents::workflow::Step;
    use vigil::agents::{Orchestrator, OrchestratorConfig};
    use vigil::domain::{
        Consent, Kind, NewObservation, NewPatient, ObservationValue, PatientRef, Sex, SourceKind,
    };
    use vigil::store::KeySource;
    use vigil::workstation::AssessOptions;

    let dir = tempfile::tempdir().unwrap();
    let options = OpenOptions {
        data_dir: dir.path().join("data"),
        key_source: Some(KeySource::File(dir.path().join("vigil.key"))),
        create: true,
        purpose: vigil::workstation::StorePurpose::Clinical,
    };
    let ws = common::open(options).await;
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let new =
        NewPatient::new("MRN-BP", "Pressure Patient", None, Sex::Unknown, Consent::FULL, today).unwrap();
    let patient = ws.add_patient(new).await.unwrap().id;
    let at = DateTime::parse_from_rfc3339("2026-11-23T08:00:00+01:00").unwrap();
    let batch: Vec<_> = [(Kind::HeartRate, 80.0), (Kind::BpSystolic, 172.0), (Kind::BpDiastolic, 112.0)]
        .into_iter()
        .map(|(kind, v)| NewObservation::new(patient, kind, ObservationValue::Quantity(v), at).unwrap())
        .collect();
    ws.record_observations(&SourceKind::Manual, &batch).await.unwrap();
    let orchestrator = Orchestrator::with_rules(&OrchestratorConfig::default());
    let outcome =
        ws.assess(&orchestrator, &PatientRef::Mrn("MRN-BP".into()), &AssessOptions::default()).await.unwrap();
    let a = outcome.assessment.as_ref().unwrap();
    assert_eq!(a.routed, [Specialty::Cardiology]);
    let f = &a.findings[0];
    assert_eq!(
        (f.code.as_str(), f.risk_score, f.risk_level),
        ("cardiology.severe_hypertension", 0.6, RiskLevel::High)
    );
    let e = f.triggered_evidence().map(|e| (&*e.feature, e.value, e.threshold)).collect::<Vec<_>>();
    assert_eq!(e, [("bp_diastolic", 112.0, 110.0)]);
    // High, not critical: no alert at the default threshold, and the summary runs.
    assert!(outcome.alerts.is_empty());
    assert!(outcome.steps.contains(&Step::Summarise));
    ws.close().await;
}

//! Every band edge of RCP 2017 chart 1, both sides, plus the aggregate and response rules.

use super::*;

/// A patient who scores 0 everywhere; tests change one parameter at a time.
fn normal() -> News2Input {
    News2Input {
        respiration_rate: 16.0,
        spo2: 97.0,
        spo2_scale: Spo2Scale::Scale1,
        on_oxygen: false,
        systolic_bp: 120.0,
        pulse: 70.0,
        consciousness: Consciousness::Alert,
        temperature: 37.0,
    }
}

fn sub(input: &News2Input, p: Parameter) -> u8 {
    score(input).unwrap().sub_scores.iter().find(|s| s.parameter == p).unwrap().score
}

fn check_edges(p: Parameter, set: fn(&mut News2Input, f64), table: &[(f64, u8)]) {
    for &(value, expected) in table {
        let mut input = normal();
        set(&mut input, value);
        assert_eq!(sub(&input, p), expected, "{p:?} {value}");
    }
}

#[test]
fn respiration_rate_edges() {
    let t = [
        (0.0, 3),
        (8.0, 3),
        (9.0, 1),
        (11.0, 1),
        (12.0, 0),
        (20.0, 0),
        (21.0, 2),
        (24.0, 2),
        (25.0, 3),
        (60.0, 3),
    ];
    check_edges(Parameter::RespirationRate, |i, v| i.respiration_rate = v, &t);
}

#[test]
fn spo2_scale_1_edges() {
    let t = [(70.0, 3), (91.0, 3), (92.0, 2), (93.0, 2), (94.0, 1), (95.0, 1), (96.0, 0), (100.0, 0)];
    check_edges(Parameter::Spo2, |i, v| i.spo2 = v, &t);
    // Scale 1 is the same on oxygen (oxygen scores in its own row).
    check_edges(
        Parameter::Spo2,
        |i, v| {
            i.spo2 = v;
            i.on_oxygen = true
        },
        &t,
    );
}

#[test]
fn spo2_scale_2_edges_on_air() {
    let t = [
        (80.0, 3),
        (83.0, 3),
        (84.0, 2),
        (85.0, 2),
        (86.0, 1),
        (87.0, 1),
        (88.0, 0),
        (92.0, 0),
        (93.0, 0),
        (97.0, 0),
        (100.0, 0),
    ];
    check_edges(
        Parameter::Spo2,
        |i, v| {
            i.spo2 = v;
            i.spo2_scale = Spo2Scale::Scale2
        },
        &t,
    );
}

#[test]
fn spo2_scale_2_edges_on_oxygen() {
    let t = [
        (83.0, 3),
        (84.0, 2),
        (85.0, 2),
        (86.0, 1),
        (87.0, 1),
        (88.0, 0),
        (92.0, 0),
        (93.0, 1),
        (94.0, 1),
        (95.0, 2),
        (96.0, 2),
        (97.0, 3),
        (100.0, 3),
    ];
    check_edges(
        Parameter::Spo2,
        |i, v| {
            i.spo2 = v;
            i.spo2_scale = Spo2Scale::Scale2;
            i.on_oxygen = true
        },
        &t,
    );
}

#[test]
fn air_or_oxygen() {
    let mut i = normal();
    assert_eq!(sub(&i, Parameter::AirOrOxygen), 0);
    i.on_oxygen = true;
    assert_eq!(sub(&i, Parameter::AirOrOxygen), 2);
}

#[test]
fn systolic_bp_edges() {
    let t = [
        (50.0, 3),
        (90.0, 3),
        (91.0, 2),
        (100.0, 2),
        (101.0, 1),
        (110.0, 1),
        (111.0, 0),
        (219.0, 0),
        (220.0, 3),
        (260.0, 3),
    ];
    check_edges(Parameter::SystolicBp, |i, v| i.systolic_bp = v, &t);
}

#[test]
fn pulse_edges() {
    let t = [
        (30.0, 3),
        (40.0, 3),
        (41.0, 1),
        (50.0, 1),
        (51.0, 0),
        (90.0, 0),
        (91.0, 1),
        (110.0, 1),
        (111.0, 2),
        (130.0, 2),
        (131.0, 3),
        (180.0, 3),
    ];
    check_edges(Parameter::Pulse, |i, v| i.pulse = v, &t);
}

#[test]
fn consciousness_acvpu() {
    use Consciousness::*;
    for (c, expected) in [(Alert, 0), (NewConfusion, 3), (Voice, 3), (Pain, 3), (Unresponsive, 3)] {
        let i = News2Input { consciousness: c, ..normal() };
        assert_eq!(sub(&i, Parameter::Consciousness), expected, "{c:?}");
    }
}

#[test]
fn temperature_edges() {
    let t = [
        (34.0, 3),
        (35.0, 3),
        (35.1, 1),
        (36.0, 1),
        (36.1, 0),
        (38.0, 0),
        (38.1, 1),
        (39.0, 1),
        (39.1, 2),
        (41.0, 2),
    ];
    check_edges(Parameter::Temperature, |i, v| i.temperature = v, &t);
}

#[test]
fn values_between_rows_are_rounded_to_chart_resolution_half_away_from_zero() {
    let t = [(35.04, 3), (35.05, 1), (36.04, 1), (36.05, 0), (38.04, 0), (38.05, 1), (39.05, 2)];
    check_edges(Parameter::Temperature, |i, v| i.temperature = v, &t);
    let t = [(8.4, 3), (8.5, 1), (20.49, 0), (20.5, 2), (24.5, 3)];
    check_edges(Parameter::RespirationRate, |i, v| i.respiration_rate = v, &t);
    let t = [(91.4, 3), (91.5, 2), (95.5, 0)];
    check_edges(Parameter::Spo2, |i, v| i.spo2 = v, &t);
    let t = [(90.4, 3), (90.5, 2), (219.4, 0), (219.5, 3)];
    check_edges(Parameter::SystolicBp, |i, v| i.systolic_bp = v, &t);
    let t = [(40.5, 1), (130.4, 2), (130.5, 3)];
    check_edges(Parameter::Pulse, |i, v| i.pulse = v, &t);
    let s = score(&News2Input { temperature: 35.05, ..normal() }).unwrap();
    assert_eq!(s.sub_scores[6].charted, 35.1);
}

#[test]
fn aggregate_bands_and_the_single_red_score_rule() {
    let all_zero = score(&normal()).unwrap();
    assert_eq!(
        (all_zero.aggregate, all_zero.risk, all_zero.response),
        (0, ClinicalRisk::Low, Response::Routine)
    );
    assert!(!all_zero.urgent_review);

    // 4 = RR 21 (2) + oxygen (2): low, ward-based.
    let s = score(&News2Input { respiration_rate: 21.0, on_oxygen: true, ..normal() }).unwrap();
    assert_eq!((s.aggregate, s.risk, s.response), (4, ClinicalRisk::Low, Response::WardBased));
    // 1 = pulse 91: low.
    let s = score(&News2Input { pulse: 91.0, ..normal() }).unwrap();
    assert_eq!((s.aggregate, s.risk), (1, ClinicalRisk::Low));

    // A single 3 with aggregate 3: low-medium, urgent ward-based, urgent review.
    let s = score(&News2Input { consciousness: Consciousness::NewConfusion, ..normal() }).unwrap();
    assert_eq!((s.aggregate, s.risk, s.response), (3, ClinicalRisk::LowMedium, Response::UrgentWardBased));
    assert!(s.urgent_review);
    assert_eq!(s.red_parameters, vec![Parameter::Consciousness]);
    // A single 3 plus 1 (aggregate 4): still low-medium.
    let s = score(&News2Input { systolic_bp: 85.0, temperature: 38.5, ..normal() }).unwrap();
    assert_eq!((s.aggregate, s.risk), (4, ClinicalRisk::LowMedium));

    // 5 and 6: medium. 5 = RR 25 (3) + oxygen (2): medium wins over low-medium, review still urgent.
    let s = score(&News2Input { respiration_rate: 25.0, on_oxygen: true, ..normal() }).unwrap();
    assert_eq!(
        (s.aggregate, s.risk, s.response, s.urgent_review),
        (5, ClinicalRisk::Medium, Response::Urgent, true)
    );
    let s = score(&News2Input { respiration_rate: 21.0, pulse: 111.0, on_oxygen: true, ..normal() }).unwrap();
    assert_eq!((s.aggregate, s.risk, s.urgent_review), (6, ClinicalRisk::Medium, false));

    // 7: high.
    let s = score(&News2Input {
        respiration_rate: 21.0,
        pulse: 111.0,
        on_oxygen: true,
        temperature: 38.5,
        ..normal()
    })
    .unwrap();
    assert_eq!((s.aggregate, s.risk, s.response), (7, ClinicalRisk::High, Response::Emergency));

    // Everything at its worst: 3+3+2+3+3+3+3 = 20, six red parameters.
    let worst = News2Input {
        respiration_rate: 30.0,
        spo2: 85.0,
        spo2_scale: Spo2Scale::Scale1,
        on_oxygen: true,
        systolic_bp: 80.0,
        pulse: 140.0,
        consciousness: Consciousness::Unresponsive,
        temperature: 34.0,
    };
    let s = score(&worst).unwrap();
    assert_eq!(s.aggregate, 20);
    assert_eq!(s.red_parameters.len(), 6);
}

#[test]
fn unscorable_values_name_the_parameter() {
    let e = score(&News2Input { spo2: 101.0, ..normal() }).unwrap_err();
    assert_eq!(e.parameter, Parameter::Spo2);
    let e = score(&News2Input { temperature: 98.6, ..normal() }).unwrap_err();
    assert_eq!(e.parameter, Parameter::Temperature);
    let e = score(&News2Input { pulse: f64::NAN, ..normal() }).unwrap_err();
    assert_eq!((e.parameter, e.problem), (Parameter::Pulse, "is not a number"));
    assert!(score(&News2Input { respiration_rate: -1.0, ..normal() }).is_err());
}

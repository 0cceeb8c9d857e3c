use chrono::{DateTime, Duration, Utc};

use super::*;

#[allow(clippy::cast_possible_truncation, reason = "test days are a few dozen")]
fn day(d: f64) -> DateTime<Utc> {
    let t0 = DateTime::parse_from_rfc3339("2026-01-01T07:30:00Z").unwrap().to_utc();
    t0 + Duration::milliseconds((d * 86_400_000.0).round() as i64)
}

fn home(d: f64, kg: f64) -> Measurement {
    Measurement::kg(day(d), kg, SourceClass::Home)
}

/// Runs a series from no state, returning the final state and every result.
fn run(ms: &[Measurement], cfg: &KalmanConfig) -> (Option<FilterState>, Vec<StepResult>) {
    let mut state: Option<FilterState> = None;
    let mut results = Vec::new();
    for m in ms {
        let (s, r) = process(state.as_ref(), *m, cfg);
        state = Some(s);
        results.push(r);
    }
    (state, results)
}

fn track(state: &FilterState) -> &Track {
    match &state.phase {
        Phase::Tracking(t) => t,
        Phase::Initializing { .. } => panic!("not tracking: {state:?}"),
    }
}

#[test]
fn three_points_over_two_days_start_tracking_with_a_least_squares_baseline() {
    let cfg = KalmanConfig::default();
    let (state, rs) = run(&[home(0.0, 80.0), home(1.0, 80.2), home(2.0, 80.4)], &cfg);
    assert!(rs[0].needs_initialization && rs[0].accepted && rs[0].filtered.is_none());
    assert!(rs[1].needs_initialization && rs[1].confidence == 0.0);
    assert!(!rs[2].needs_initialization && rs[2].accepted);
    let t = track(state.as_ref().unwrap());
    assert_eq!(t.time, day(2.0));
    assert!((t.x[0] - 80.4).abs() < 1e-12 && (t.x[1] - 0.2).abs() < 1e-12, "{t:?}");
    // A perfect line: chi2 = 0, so the covariance is the unscaled (A'WA)^-1 with W = 1/0.25:
    // t = [-2, -1, 0] gives var(level) = 0.25 * 5/6, var(trend) = 0.25 / 2.
    assert!((t.p[0][0] - 0.25 * 5.0 / 6.0).abs() < 1e-12 && (t.p[1][1] - 0.125).abs() < 1e-12);
    assert!((rs[2].trend_kg_per_week.unwrap() - 1.4).abs() < 1e-9);
}

#[test]
fn points_within_a_day_wait_for_the_span() {
    let cfg = KalmanConfig::default();
    let ms: Vec<_> = [0.0, 0.1, 0.2, 0.3, 1.9].map(|d| home(d, 80.0)).to_vec();
    let (state, rs) = run(&ms, &cfg);
    assert!(rs.iter().all(|r| r.needs_initialization && r.accepted));
    let (state, r) = process(state.as_ref(), home(2.05, 80.0), &cfg);
    assert!(!r.needs_initialization);
    assert!(matches!(state.phase, Phase::Tracking(_)));
}

#[test]
fn a_gap_of_more_than_thirty_days_restarts_initialization() {
    let cfg = KalmanConfig::default();
    let ms: Vec<_> = (0..10_i32).map(|d| home(f64::from(d), 80.0)).collect();
    let (state, _) = run(&ms, &cfg);
    let (s30, r) = process(state.as_ref(), home(39.0, 80.0), &cfg);
    assert!(r.reset.is_none() && !r.needs_initialization, "exactly 30 days is not a gap");
    let (s, r) = process(Some(&s30), home(69.01, 84.0), &cfg);
    assert!(r.accepted && r.needs_initialization, "{r:?}");
    assert!(matches!(r.reset, Some(ResetCause::Gap { days }) if (days - 30.01).abs() < 1e-9));
    assert_eq!(
        s.phase,
        Phase::Initializing {
            pending: vec![StoredPoint { time: day(69.01), value: 84.0, source: SourceClass::Home }]
        }
    );
}

#[test]
fn an_outlier_is_reported_and_moves_neither_the_state_nor_its_time() {
    let cfg = KalmanConfig::default();
    let ms: Vec<_> =
        (0..20_i32).map(|d| home(f64::from(d), 80.0 + 0.1 * (f64::from(d * 7 % 5) - 2.0))).collect();
    let (state, _) = run(&ms, &cfg);
    let before = state.unwrap();
    let (after, r) = process(Some(&before), home(20.0, 86.0), &cfg);
    assert!(!r.accepted);
    let Some(RejectReason::Outlier { normalized_error, gate_sigma }) = r.reason else { panic!("{r:?}") };
    assert!(normalized_error > 3.0 && gate_sigma == 3.0);
    assert!((r.prediction_error.unwrap() - (86.0 - r.filtered.unwrap())).abs() < 0.1);
    let (tb, ta) = (track(&before), track(&after));
    assert_eq!((ta.time, ta.x, ta.p), (tb.time, tb.x, tb.p));
    assert_eq!(ta.rejected_run.len(), 1);
    // Older than the gated-out measurement (though newer than the state's time): out of order,
    // so the run stays in time order.
    let (same, r) = process(Some(&after), home(19.5, 80.0), &cfg);
    assert_eq!(r.reason, Some(RejectReason::OutOfOrder { state_time: day(20.0) }));
    assert_eq!(same, after);
    // The next good weighing predicts over two days from the last accepted one.
    let (next, r) = process(Some(&after), home(21.0, 80.0), &cfg);
    assert!(r.accepted);
    let mut x = Vector2::new(tb.x[0], tb.x[1]);
    let mut p = Matrix2::new(tb.p[0][0], tb.p[0][1], tb.p[1][0], tb.p[1][1]);
    predict(&mut x, &mut p, 2.0, cfg.acceleration_psd);
    update(&mut x, &mut p, 80.0, 0.25);
    assert_eq!(track(&next).x, [x[0], x[1]]);
    assert!(track(&next).rejected_run.is_empty());
}

#[test]
fn persistent_outliers_become_the_new_baseline() {
    let cfg = KalmanConfig::default();
    let mut ms: Vec<_> = (0..20_i32).map(|d| home(f64::from(d), 80.0)).collect();
    ms.extend((20..23_i32).map(|d| home(f64::from(d), 90.0)));
    let (state, rs) = run(&ms, &cfg);
    assert!(!rs[20].accepted && !rs[21].accepted);
    assert!(rs[22].accepted && !rs[22].needs_initialization, "{:?}", rs[22]);
    assert_eq!(rs[22].reset, Some(ResetCause::PersistentOutliers { count: 3 }));
    assert!((track(state.as_ref().unwrap()).x[0] - 90.0).abs() < 1e-9);
}

#[test]
fn missing_nan_unknown_noise_and_out_of_order_leave_the_state_alone() {
    let mut cfg = KalmanConfig::default();
    cfg.measurement_variance.remove(&SourceClass::Reported);
    let ms: Vec<_> = (0..5_i32).map(|d| home(f64::from(d), 80.0)).collect();
    let (state, _) = run(&ms, &cfg);
    let state = state.unwrap();
    let absent = Measurement {
        time: day(5.0),
        value: ObservationValue::Absent(AbsentReason::Error),
        source: SourceClass::Home,
    };
    let bad = [
        (absent, RejectReason::Missing { absent: AbsentReason::Error }),
        (home(5.0, f64::NAN), RejectReason::NotFinite),
        (home(5.0, f64::INFINITY), RejectReason::NotFinite),
        (
            Measurement::kg(day(5.0), 80.0, SourceClass::Reported),
            RejectReason::NoMeasurementNoise { source: SourceClass::Reported },
        ),
        (home(3.5, 80.0), RejectReason::OutOfOrder { state_time: day(4.0) }),
    ];
    for (m, reason) in bad {
        let (after, r) = process(Some(&state), m, &cfg);
        assert_eq!(after, state);
        assert!(!r.accepted && !r.needs_initialization);
        assert_eq!(r.reason, Some(reason));
        assert_eq!(r.filtered, Some(track(&state).x[0]));
    }
    // Also while initializing, and with no state at all.
    let (s, r) = process(None, home(0.0, f64::NAN), &cfg);
    assert!(!r.accepted && r.needs_initialization && s == FilterState::initializing(vec![]));
}

#[test]
fn the_same_instant_is_a_zero_dt_update() {
    let cfg = KalmanConfig::default();
    let ms: Vec<_> = (0..5_i32).map(|d| home(f64::from(d), 80.0)).collect();
    let (state, _) = run(&ms, &cfg);
    let (s, r) = process(state.as_ref(), home(4.0, 80.5), &cfg);
    assert!(r.accepted && track(&s).time == day(4.0));
    assert!(track(&s).p[0][0] < track(state.as_ref().unwrap()).p[0][0]);
}

#[test]
fn a_steady_gain_is_tracked_and_confidence_grows() {
    let cfg = KalmanConfig::default();
    // +0.5 kg/week with a +-0.3 kg deterministic wobble.
    let ms: Vec<_> = (0..60_i32)
        .map(|d| {
            home(f64::from(d), 80.0 + 0.5 / 7.0 * f64::from(d) + 0.3 * (f64::from(d * 3 % 7) - 3.0) / 3.0)
        })
        .collect();
    let (_, rs) = run(&ms, &cfg);
    assert!(rs.iter().all(|r| r.accepted));
    let last = rs.last().unwrap();
    assert!((last.trend_kg_per_week.unwrap() - 0.5).abs() < 0.25, "{last:?}");
    assert!(last.confidence > rs[2].confidence && last.confidence > 0.6, "{last:?}");
}

#[test]
fn a_bad_config_is_named() {
    let mut cfg = KalmanConfig::default();
    assert_eq!(cfg.validate(), Ok(()));
    cfg.measurement_variance.insert(SourceClass::Clinic, -1.0);
    assert_eq!(cfg.validate().unwrap_err().field, "measurement_variance.clinic");
    let cfg = KalmanConfig { init_min_points: 2, ..KalmanConfig::default() };
    assert_eq!(cfg.validate().unwrap_err().field, "init_min_points");
}

#[test]
fn process_noise_is_additive_over_split_intervals() {
    // CWNA: predicting 0.5 + 0.5 days from a zero covariance equals predicting 1 day.
    let (mut x1, mut p1) = (Vector2::new(80.0, 0.1), Matrix2::zeros());
    predict(&mut x1, &mut p1, 0.5, 0.01);
    predict(&mut x1, &mut p1, 0.5, 0.01);
    let (mut x2, mut p2) = (Vector2::new(80.0, 0.1), Matrix2::zeros());
    predict(&mut x2, &mut p2, 1.0, 0.01);
    assert!((p1 - p2).abs().max() < 1e-15 && (x1 - x2).abs().max() < 1e-12);
}

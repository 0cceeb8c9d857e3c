//! The incremental window against a naive two-pass recomputation, over long random streams with
//! gaps, duplicates, late samples and missing channels.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use vigil::analysis::window::{
    HrvSource, PushOutcome, VitalSample, WINDOW_SECONDS, WindowFeatures, WindowState,
};

/// xorshift64*: a small deterministic generator (Vigna 2016), so the test needs no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn pstd(v: &[f64]) -> Option<f64> {
    let m = mean(v)?;
    Some((v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt())
}

fn min(v: &[f64]) -> Option<f64> {
    v.iter().copied().reduce(f64::min)
}

fn max(v: &[f64]) -> Option<f64> {
    v.iter().copied().reduce(f64::max)
}

/// The definitions in `analysis::window`'s docs, computed from scratch.
fn naive(samples: &[VitalSample], end: i64) -> WindowFeatures {
    let lo = end - WINDOW_SECONDS;
    let start = samples.partition_point(|s| s.time <= lo);
    let in_window: Vec<&VitalSample> = samples[start..].iter().filter(|s| s.time <= end).collect();
    let col = |f: fn(&VitalSample) -> Option<f64>| -> Vec<(i64, f64)> {
        in_window.iter().filter_map(|s| f(s).map(|x| (s.time, x))).collect()
    };
    let at = |t: i64| samples.binary_search_by_key(&t, |s| s.time).ok().map(|i| &samples[i]);
    let values = |v: &[(i64, f64)]| v.iter().map(|p| p.1).collect::<Vec<_>>();
    let hr = col(|s| s.heart_rate);
    let spo2 = values(&col(|s| s.spo2));
    let resp = col(|s| s.respiratory_rate);
    let temp = values(&col(|s| s.body_temperature));
    let resp_diff: Vec<f64> =
        resp.iter().filter_map(|&(t, x)| at(t - 1).and_then(|p| p.respiratory_rate).map(|p| x - p)).collect();
    let hrv: Vec<(i64, f64)> = col(|s| s.rr_interval)
        .into_iter()
        .filter_map(|(t, x)| at(t - 1).and_then(|p| p.rr_interval).map(|p| (t, (x - p).abs())))
        .collect();
    let slope = {
        let n = hr.len() as f64;
        let tm = hr.iter().map(|p| p.0 as f64).sum::<f64>() / n;
        let xm = hr.iter().map(|p| p.1).sum::<f64>() / n;
        let sxy: f64 = hr.iter().map(|p| (p.0 as f64 - tm) * (p.1 - xm)).sum();
        let sxx: f64 = hr.iter().map(|p| (p.0 as f64 - tm).powi(2)).sum();
        (hr.len() >= 2 && sxx > 0.0).then(|| sxy / sxx)
    };
    let pairs: Vec<(f64, f64)> =
        in_window.iter().filter_map(|s| Some((s.heart_rate?, s.respiratory_rate?))).collect();
    let corr = {
        let n = pairs.len() as f64;
        let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n;
        let my = pairs.iter().map(|p| p.1).sum::<f64>() / n;
        let cxy: f64 = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let cxx: f64 = pairs.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let cyy: f64 = pairs.iter().map(|p| (p.1 - my).powi(2)).sum();
        (pairs.len() >= 3 && cxx > 0.0 && cyy > 0.0).then(|| cxy / (cxx * cyy).sqrt())
    };
    let first: Vec<f64> = hrv.iter().filter(|p| p.0 <= lo + 60).map(|p| p.1).collect();
    let last: Vec<f64> = hrv.iter().filter(|p| p.0 > end - 60).map(|p| p.1).collect();
    let fall = |first: &[f64], last: &[f64]| match (mean(first), mean(last)) {
        (Some(f), Some(l)) if f != 0.0 => Some((f - l) / f),
        _ => None,
    };
    // RR intervals first; else the per-sample stream, its first and last 60 samples.
    let stream = values(&col(|s| s.hrv_sdnn));
    let (hrv, decrease, source) = if !hrv.is_empty() {
        (values(&hrv), fall(&first, &last), Some(HrvSource::RrIntervals))
    } else if !stream.is_empty() {
        let n = stream.len();
        let decrease = (n >= 120).then(|| fall(&stream[..60], &stream[n - 60..])).flatten();
        (stream, decrease, Some(HrvSource::HrvStream))
    } else {
        (Vec::new(), None, None)
    };
    let hrs = values(&hr);
    let resps = values(&resp);
    WindowFeatures {
        window_end: end,
        hr_mean: mean(&hrs),
        hr_std: pstd(&hrs),
        hr_min: min(&hrs),
        hr_max: max(&hrs),
        hr_trend: slope,
        hrv_mean: mean(&hrv),
        hrv_std: pstd(&hrv),
        hrv_decrease: decrease,
        hrv_source: source,
        spo2_mean: mean(&spo2),
        spo2_min: min(&spo2),
        spo2_variability: pstd(&spo2),
        rr_mean: mean(&resps),
        rr_irregularity: pstd(&resp_diff),
        temp_mean: mean(&temp),
        temp_spike: max(&temp).zip(min(&temp)).map(|(a, b)| a - b),
        hr_rr_correlation: corr,
        coverage: in_window.len() as f64 / WINDOW_SECONDS as f64,
        quality: Default::default(),
    }
}

fn check(name: &str, got: Option<f64>, want: Option<f64>, scale: f64, end: i64) {
    match (got, want) {
        (None, None) => {}
        (Some(g), Some(w)) => {
            let tol = 1e-9 * w.abs().max(scale);
            assert!((g - w).abs() <= tol, "{name} at {end}: incremental {g} vs naive {w} (tol {tol})");
        }
        _ => panic!("{name} at {end}: incremental {got:?} vs naive {want:?}"),
    }
}

fn compare(got: &WindowFeatures, want: &WindowFeatures) {
    let e = got.window_end;
    assert_eq!(got.window_end, want.window_end);
    assert_eq!(got.coverage, want.coverage, "coverage at {e}");
    assert_eq!(got.hrv_source, want.hrv_source, "hrv_source at {e}");
    // Scales: a quantity's natural size, so a near-zero result is judged against it.
    let fields = [
        ("hr_mean", got.hr_mean, want.hr_mean, 1.0),
        ("hr_std", got.hr_std, want.hr_std, 1e-3),
        ("hr_min", got.hr_min, want.hr_min, 1.0),
        ("hr_max", got.hr_max, want.hr_max, 1.0),
        ("hr_trend", got.hr_trend, want.hr_trend, 1e-4),
        ("hrv_mean", got.hrv_mean, want.hrv_mean, 1.0),
        ("hrv_std", got.hrv_std, want.hrv_std, 1e-3),
        ("hrv_decrease", got.hrv_decrease, want.hrv_decrease, 1e-3),
        ("spo2_mean", got.spo2_mean, want.spo2_mean, 1.0),
        ("spo2_min", got.spo2_min, want.spo2_min, 1.0),
        ("spo2_variability", got.spo2_variability, want.spo2_variability, 1e-3),
        ("rr_mean", got.rr_mean, want.rr_mean, 1.0),
        ("rr_irregularity", got.rr_irregularity, want.rr_irregularity, 1e-3),
        ("temp_mean", got.temp_mean, want.temp_mean, 1.0),
        ("temp_spike", got.temp_spike, want.temp_spike, 1e-3),
        ("hr_rr_correlation", got.hr_rr_correlation, want.hr_rr_correlation, 1e-3),
    ];
    for (name, g, w, scale) in fields {
        check(name, g, w, scale, e);
    }
}

/// A day of a drifting patient: random walks plus noise, 2 % missing seconds, 5 % missing
/// channels, bursts of silence, duplicates and late samples; RR intervals drop out for stretches
/// of about 15 minutes, during which the device's per-sample HRV (also 5 % missing) carries HRV.
fn stream(seed: u64, seconds: i64) -> Vec<VitalSample> {
    let mut rng = Rng(seed);
    let (mut hr, mut spo2, mut resp, mut temp, mut rr) = (75.0, 97.0, 16.0, 37.0, 800.0);
    let (mut hrv, mut rr_off) = (50.0, false);
    let mut out = Vec::new();
    let t0 = 1_767_225_600; // 2026-01-01T00:00:00Z
    let mut t = 0;
    while t < seconds {
        hr = f64::clamp(hr + (rng.unit() - 0.5) * 0.8, 40.0, 180.0);
        spo2 = f64::clamp(spo2 + (rng.unit() - 0.5) * 0.3, 85.0, 100.0);
        resp = f64::clamp(resp + (rng.unit() - 0.5) * 0.5, 6.0, 40.0);
        temp = f64::clamp(temp + (rng.unit() - 0.5) * 0.01, 35.0, 41.0);
        rr = f64::clamp(rr + (rng.unit() - 0.5) * 40.0, 350.0, 1500.0);
        hrv = f64::clamp(hrv + (rng.unit() - 0.5) * 2.0, 10.0, 200.0);
        if rng.chance(1.0 / 900.0) {
            rr_off = !rr_off;
        }
        let mut opt = |x: f64, noise: f64| (!rng.chance(0.05)).then(|| x + (rng.unit() - 0.5) * noise);
        let s = VitalSample {
            time: t0 + t,
            heart_rate: opt(hr, 4.0),
            spo2: opt(spo2, 1.0).map(|x: f64| x.min(100.0)),
            respiratory_rate: opt(resp, 2.0),
            body_temperature: opt(temp, 0.05),
            rr_interval: opt(rr, 30.0).filter(|_| !rr_off),
            hrv_sdnn: opt(hrv, 10.0),
        };
        if !rng.chance(0.02) {
            out.push(s);
        }
        if rng.chance(0.003) {
            out.push(s); // duplicate
        }
        if rng.chance(0.003) && t > 10 {
            out.push(VitalSample { time: t0 + t - 7, ..s }); // late
        }
        t += if rng.chance(0.0005) { 1 + i64::try_from(rng.next() % 400).unwrap() } else { 1 };
    }
    out
}

fn run(seed: u64, seconds: i64, every: i64) {
    let input = stream(seed, seconds);
    let mut state = WindowState::new();
    let mut accepted = Vec::new();
    let (mut dups, mut late, mut compared, mut from_stream) = (0, 0, 0, 0);
    for s in &input {
        match state.push(s) {
            PushOutcome::Accepted => accepted.push(*s),
            PushOutcome::Duplicate => dups += 1,
            PushOutcome::OutOfOrder => late += 1,
        }
        // Compare every `every` seconds, and every tick of the final hour.
        let last_hour = s.time > input.last().unwrap().time - 3600;
        if s.time % if last_hour { 5 } else { every } == 0 {
            let got = state.features().unwrap();
            compare(&got, &naive(&accepted, got.window_end));
            compared += 1;
            from_stream +=
                usize::from(got.hrv_source == Some(HrvSource::HrvStream) && got.hrv_decrease.is_some());
        }
    }
    let q = state.quality();
    assert_eq!((q.duplicates_dropped, q.out_of_order_dropped), (dups, late));
    assert_eq!(usize::try_from(q.accepted).unwrap(), accepted.len());
    assert!(dups > 0 && late > 0 && q.gaps > 0 && compared > 500, "{q:?} {compared}");
    assert!(from_stream > 20, "only {from_stream} of {compared} windows took HRV from the stream");
}

#[test]
fn a_day_of_sliding_agrees_with_a_recompute_to_1e_9() {
    run(0x5EED_0001, 86_400, 60);
}

#[test]
fn other_random_streams_agree_too() {
    for seed in 2..5 {
        run(seed * 7919, 3 * 3600, 5);
    }
}

fn sample(time: i64, hr: f64) -> VitalSample {
    VitalSample { time, heart_rate: Some(hr), ..VitalSample::default() }
}

#[test]
fn a_linear_heart_rate_has_its_slope_and_extremes() {
    let mut w = WindowState::new();
    for t in 0..600 {
        w.push(&sample(t, 60.0 + 0.1 * t as f64));
    }
    let f = w.features().unwrap();
    assert!((f.hr_trend.unwrap() - 0.1).abs() < 1e-12);
    assert_eq!((f.hr_min, f.hr_max), (Some(60.0 + 30.0), Some(60.0 + 59.9)));
    assert_eq!(f.coverage, 1.0);
    assert_eq!(f.spo2_mean, None);
}

#[test]
fn duplicates_late_samples_gaps_and_implausible_values_are_counted() {
    let mut w = WindowState::new();
    assert_eq!(w.push(&sample(100, 70.0)), PushOutcome::Accepted);
    assert_eq!(w.push(&sample(100, 71.0)), PushOutcome::Duplicate);
    assert_eq!(w.push(&sample(99, 71.0)), PushOutcome::OutOfOrder);
    assert_eq!(w.push(&sample(110, 400.0)), PushOutcome::Accepted); // 400 /min is implausible
    let f = w.features().unwrap();
    assert_eq!(f.hr_mean, Some(70.0));
    let q = f.quality;
    assert_eq!((q.duplicates_dropped, q.out_of_order_dropped, q.rejected_values), (1, 1, 1));
    assert_eq!((q.gaps, q.gap_seconds, q.samples_in_window, q.missing_seconds), (1, 9, 2, 298));
    assert_eq!(f.coverage, 2.0 / 300.0);
    // Silence longer than a window empties it.
    w.advance_to(1000);
    let f = w.features().unwrap();
    assert_eq!((f.hr_mean, f.coverage, f.window_end), (None, 0.0, 1000));
    assert_eq!(w.push(&sample(999, 70.0)), PushOutcome::OutOfOrder);
}

#[test]
fn hrv_decrease_compares_the_last_minute_with_the_first() {
    let mut w = WindowState::new();
    // Successive RR differences are 40 ms until second 238, then 20 ms.
    for t in 0..300 {
        let step = if t < 239 { 40.0 } else { 20.0 };
        let rr = if t % 2 == 0 { 800.0 } else { 800.0 + step };
        w.push(&VitalSample { time: t, rr_interval: Some(rr), ..VitalSample::default() });
    }
    let f = w.features().unwrap();
    // (40 − 20) / 40: positive, HRV fell by half.
    assert!((f.hrv_decrease.unwrap() - 0.5).abs() < 1e-12, "{f:?}");
    assert_eq!(f.hrv_source, Some(HrvSource::RrIntervals));
}

#[test]
fn features_serialise_with_the_agreed_names() {
    let mut w = WindowState::new();
    w.push(&sample(0, 70.0));
    let json = serde_json::to_value(w.features().unwrap()).unwrap();
    for name in [
        "hr_mean",
        "hr_std",
        "hr_min",
        "hr_max",
        "hr_trend",
        "hrv_mean",
        "hrv_std",
        "hrv_decrease",
        "spo2_mean",
        "spo2_min",
        "spo2_variability",
        "rr_mean",
        "rr_irregularity",
        "temp_mean",
        "temp_spike",
        "hr_rr_correlation",
        "coverage",
    ] {
        assert!(json.get(name).is_some(), "{name} missing from {json}");
    }
}

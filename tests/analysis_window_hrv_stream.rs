//! The per-sample HRV stream (`hrv_sdnn`, the reference design's `hrv_ms`) in the window, the
//! replay and `vigil monitor --replay`: values computed by hand, numpy's over random streams
//! (`scripts/reference/window_hrv_stream.py`, which needs numpy: `pip install -r
//! scripts/reference/requirements-signals.txt`), and RR intervals' precedence.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use vigil::agents::replay::{PatientStream, ReplayOptions};
use vigil::analysis::window::{
    HrvSource, PushOutcome, VitalSample, WINDOW_SECONDS, WindowFeatures, WindowState,
};

fn hrv(time: i64, ms: f64) -> VitalSample {
    VitalSample { time, hrv_sdnn: Some(ms), ..VitalSample::default() }
}

fn window(samples: impl IntoIterator<Item = VitalSample>) -> WindowFeatures {
    let mut w = WindowState::new();
    for s in samples {
        assert_eq!(w.push(&s), PushOutcome::Accepted);
    }
    w.features().unwrap()
}

#[track_caller]
fn close(got: Option<f64>, want: f64) {
    let g = got.unwrap_or_else(|| panic!("expected {want}, got None"));
    assert!((g - want).abs() <= 1e-12 * want.abs().max(1.0), "got {g}, want {want}");
}

#[test]
fn three_samples_by_hand() {
    // 40, 50, 60: mean 50; deviations −10, 0, 10, population variance 200 / 3, std 8.1649658...
    // Fewer than 120 samples: no first-60 / last-60 comparison.
    let f = window([hrv(0, 40.0), hrv(1, 50.0), hrv(2, 60.0)]);
    close(f.hrv_mean, 50.0);
    close(f.hrv_std, (200.0_f64 / 3.0).sqrt());
    assert_eq!((f.hrv_decrease, f.hrv_source), (None, Some(HrvSource::HrvStream)));
}

#[test]
fn a_full_window_that_falls_by_more_than_half_by_hand() {
    // 240 s at 50 ms, then 60 s at 20 ms. Mean (240·50 + 60·20) / 300 = 44; deviations 6 and
    // −24, variance (240·36 + 60·576) / 300 = 144, std 12. First 60 samples 50, last 60 20:
    // hrv_decrease (50 − 20) / 50 = 0.6, positive because HRV fell.
    let f = window((0..300).map(|t| hrv(t, if t < 240 { 50.0 } else { 20.0 })));
    close(f.hrv_mean, 44.0);
    close(f.hrv_std, 12.0);
    close(f.hrv_decrease, 0.6);
    assert_eq!(f.hrv_source, Some(HrvSource::HrvStream));
    // A rise is negative: 20 then 50 gives (20 − 50) / 20 = −1.5.
    let f = window((0..300).map(|t| hrv(t, if t < 240 { 20.0 } else { 50.0 })));
    close(f.hrv_decrease, -1.5);
}

#[test]
fn the_first_and_last_sixty_are_samples_not_seconds() {
    // 150 samples, one every other second (t = 2i), in five blocks of 30 samples:
    // 40, 20, 30, 10, 5 ms. The first 60 samples are 40 and 20 (mean 30), the last 60 are 10 and
    // 5 (mean 7.5): (30 − 7.5) / 30 = 0.75. (The first and last minutes of time would hold one
    // block each, 40 and 5: 0.875.) Mean 30·(40 + 20 + 30 + 10 + 5) / 150 = 21; deviations 19,
    // −1, 9, −11, −16, variance 30·(361 + 1 + 81 + 121 + 256) / 150 = 164.
    let blocks = [40.0, 20.0, 30.0, 10.0, 5.0];
    let f = window((0..150_usize).map(|i| hrv(2 * i64::try_from(i).unwrap(), blocks[i / 30])));
    close(f.hrv_mean, 21.0);
    close(f.hrv_std, 164.0_f64.sqrt());
    close(f.hrv_decrease, 0.75);
}

#[test]
fn the_first_sixty_follow_the_window_as_it_slides() {
    // 300 s at 50 ms, then 20 ms. At second 359 the window (59, 359] holds t 60..=359: its first
    // 60 samples (t 60..119) are 50, its last 60 (t 300..359) 20: (50 − 20) / 50 = 0.6.
    let mut w = WindowState::new();
    let value = |t: i64| if t < 300 { 50.0 } else { 20.0 };
    for t in 0..360 {
        w.push(&hrv(t, value(t)));
    }
    close(w.features().unwrap().hrv_decrease, 0.6);
    // At second 599 only 20 ms is left: no fall.
    for t in 360..600 {
        w.push(&hrv(t, value(t)));
    }
    let f = w.features().unwrap();
    close(f.hrv_decrease, 0.0);
    close(f.hrv_mean, 20.0);
}

#[test]
fn rr_intervals_keep_precedence_and_implausible_values_are_dropped() {
    // RR alternating 800 / 840 ms: successive differences of 40 ms, from RR intervals; the
    // stream's 50 → 20 is ignored.
    let f = window((0..300).map(|t| VitalSample {
        rr_interval: Some(if t % 2 == 0 { 800.0 } else { 840.0 }),
        ..hrv(t, if t < 240 { 50.0 } else { 20.0 })
    }));
    assert_eq!(f.hrv_source, Some(HrvSource::RrIntervals));
    close(f.hrv_mean, 40.0);
    close(f.hrv_decrease, 0.0);
    // RR intervals only every other second give no successive difference: the stream serves.
    let f =
        window((0..300).map(|t| VitalSample { rr_interval: (t % 2 == 0).then_some(800.0), ..hrv(t, 30.0) }));
    assert_eq!((f.hrv_source, f.hrv_mean), (Some(HrvSource::HrvStream), Some(30.0)));
    // Outside hrv_sdnn's plausible 1-1000 ms: absent and counted.
    let f = window([hrv(0, 0.0), hrv(1, 5000.0), hrv(2, f64::NAN), hrv(3, 42.0)]);
    assert_eq!((f.hrv_mean, f.quality.rejected_values), (Some(42.0), 3));
    // No HRV at all: no source.
    let f = window([VitalSample { time: 0, heart_rate: Some(70.0), ..VitalSample::default() }]);
    assert_eq!((f.hrv_mean, f.hrv_source), (None, None));
}

/// xorshift64* (Vigna 2016).
struct Rng(u64);
impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn numpy(windows: &[Vec<f64>]) -> Vec<Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/reference/window_hrv_stream.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 with numpy is required for the window reference ({e})"));
    child.stdin.take().unwrap().write_all(serde_json::to_string(windows).unwrap().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "window reference failed: {}", err.lines().last().unwrap_or("no message"));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn sliding_over_a_random_stream_agrees_with_numpy() {
    // Two hours of a drifting HRV with noise, 10 % of seconds missing, silences of up to 2
    // minutes, one in 50 values implausible (0 ms): a tick every 5 s.
    let mut rng = Rng(0x4852_5653);
    let mut w = WindowState::new();
    let (mut level, mut t) = (60.0, 1_767_225_600_i64);
    let mut kept: Vec<(i64, f64)> = Vec::new();
    let (mut ours, mut windows) = (Vec::new(), Vec::new());
    for i in 0..7200 {
        level = f64::clamp(level + (rng.unit() - 0.5) * 3.0, 15.0, 150.0);
        #[allow(clippy::cast_possible_truncation, reason = "a gap of 0..120 s, truncated to whole seconds")]
        let gap = (rng.unit() * 120.0) as i64;
        t += if rng.unit() < 0.002 { 1 + gap } else { 1 };
        if rng.unit() < 0.1 {
            continue;
        }
        let value = if rng.unit() < 0.02 { 0.0 } else { (level + (rng.unit() - 0.5) * 20.0).max(1.0) };
        w.push(&hrv(t, value));
        if value >= 1.0 {
            kept.push((t, value));
        }
        if i % 5 == 0 {
            let f = w.features().unwrap();
            let in_window: Vec<f64> =
                kept.iter().filter(|(s, _)| *s > t - WINDOW_SECONDS).map(|(_, v)| *v).collect();
            if !in_window.is_empty() {
                ours.push(f);
                windows.push(in_window);
            }
        }
    }
    let reference = numpy(&windows);
    assert_eq!(reference.len(), ours.len());
    let mut with_decrease = 0;
    for ((f, r), values) in ours.iter().zip(&reference).zip(&windows) {
        let at = f.window_end;
        for (name, got) in
            [("hrv_mean", f.hrv_mean), ("hrv_std", f.hrv_std), ("hrv_decrease", f.hrv_decrease)]
        {
            match (got, r[name].as_f64()) {
                (Some(g), Some(want)) => assert!(
                    (g - want).abs() <= 1e-9 * want.abs().max(1.0),
                    "{name} at {at} ({} values): vigil {g} vs numpy {want}",
                    values.len()
                ),
                (None, None) => {}
                (g, want) => {
                    panic!("{name} at {at} ({} values): vigil {g:?} vs numpy {want:?}", values.len())
                }
            }
        }
        assert_eq!(f.hrv_source, Some(HrvSource::HrvStream));
        with_decrease += usize::from(f.hrv_decrease.is_some());
    }
    assert!(
        ours.len() > 1000 && with_decrease > 1000,
        "{} windows, {with_decrease} with a decrease",
        ours.len()
    );
}

#[test]
fn the_replay_assesses_the_stream_and_keeps_trends_within_one_source() {
    // 40 minutes: RR intervals for 20, then only the device's HRV at 30 ms.
    let mut stream = PatientStream::new("p", ReplayOptions::default());
    let mut last = None;
    for t in 0..2400 {
        let mut s = VitalSample { time: t, heart_rate: Some(72.0), spo2: Some(97.0), ..hrv(t, 30.0) };
        if t < 1200 {
            s.rr_interval = Some(if t % 2 == 0 { 830.0 } else { 836.0 });
        }
        if let Some(ctx) = stream.push(&s) {
            last = Some(ctx);
        }
    }
    let ctx = last.unwrap();
    let window = ctx.window.unwrap();
    assert_eq!((window.hrv_source, window.hrv_mean), (Some(HrvSource::HrvStream), Some(30.0)));
    // The 30-minute reference (second 599) is RR-based (6 ms): no change across sources.
    assert_eq!(ctx.trend.hrv_change, None);
    assert_eq!(ctx.trend.hr_change, Some(0.0));
}

#[test]
fn monitor_replay_reads_hrv_ms_and_alerts_on_its_fall() {
    // 10 minutes of normal vitals whose device HRV falls from 60 to 20 ms in the 10th minute:
    // first 60 samples of the last window 60, last 60 samples 20, (60 − 20) / 60 = 0.67 > 0.5.
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("time,heart_rate,spo2,respiratory_rate,body_temperature,hrv_ms\n");
    for s in 0..600 {
        let ms = if s < 540 { 60 } else { 20 };
        csv += &format!("2026-01-01T08:{:02}:{:02}Z,72,97,14,36.8,{ms}\n", s / 60, s % 60);
    }
    let file = dir.path().join("ward.csv");
    std::fs::write(&file, csv).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(["--json", "monitor", "--replay"])
        .arg(&file)
        .args(["--threshold", "0.3"])
        .env("VIGIL_DATA_DIR", dir.path().join("data"))
        .env(vigil::store::KEY_FILE_ENV, dir.path().join("vigil.key"))
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let alerts: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let hrv = alerts
        .iter()
        .flat_map(|a| a["evidence"].as_array().unwrap())
        .find(|e| e["feature"] == "hrv_decrease" && e["triggered"] == true)
        .unwrap_or_else(|| panic!("no hrv_decrease alert in {alerts:?}; {stderr}"));
    assert!(hrv["value"].as_f64().unwrap() > 0.5, "{hrv}");
}

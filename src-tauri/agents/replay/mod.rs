//! Replays a 1 Hz vitals stream (the wide CSV of the import issue) through windows, agents and
//! alerts, as fast as the machine goes. Event time throughout: ticks, trends and the alert rate
//! limit follow the samples' timestamps, never the wall clock.
//!
//! Per patient a [`PatientStream`] keeps the five-minute [`WindowState`], a short history of
//! window means for the trends ([`VitalTrend`]), and yields an [`AssessmentContext`] at every
//! tick (the first accepted sample of each 5-second interval, as `vigil analyze window` does)
//! once the window's coverage reaches [`ReplayOptions::min_coverage`].
//!
//! The stream's `hrv_sdnn` column (the devices' per-sample HRV) feeds the window's `hrv_*` when a
//! window has no RR intervals (`analysis::window`, `hrv_source`). The HRV trend (`hrv_change`)
//! compares window means of the same source only: a switch between RR intervals and the stream
//! compares two different quantities, so no change is reported across it.

pub mod synthetic;

use std::collections::VecDeque;

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::{
    AlertDraft, AlertPolicy, AssessmentContext, LatestVitals, Orchestrator, RateLimiter, VitalTrend,
};
use crate::analysis::window::{
    HrvSource, PushOutcome, TICK_SECONDS, VitalSample, WindowQuality, WindowState,
};

/// How to replay.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReplayOptions {
    /// Alert threshold and rate limit.
    pub policy: AlertPolicy,
    /// Assess every this many seconds of event time (default 5, the window's cadence).
    pub tick_seconds: i64,
    /// The trend horizon, minutes (default 30).
    pub trend_minutes: i64,
    /// No assessment while the window holds less than this fraction of its samples (0.5).
    pub min_coverage: f64,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        Self {
            policy: AlertPolicy::default(),
            tick_seconds: TICK_SECONDS,
            trend_minutes: 30,
            min_coverage: 0.5,
        }
    }
}

/// What a replay did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplaySummary {
    /// Samples read.
    pub samples: u64,
    /// Assessments run.
    pub assessments: u64,
    /// Alerts raised (after the rate limit).
    pub alerts: u64,
    /// Alerts the rate limit held back.
    pub rate_limited: u64,
    /// Findings that were the orchestrator's fallback.
    pub fallbacks: u64,
    /// The window's counts over the stream.
    pub quality: WindowQuality,
}

#[derive(Debug, Clone, Copy)]
struct Means {
    time: i64,
    spo2: Option<f64>,
    hr: Option<f64>,
    hrv: Option<(HrvSource, f64)>,
}

/// One patient's stream state.
#[derive(Debug, Clone)]
pub struct PatientStream {
    patient: String,
    window: WindowState,
    history: VecDeque<Means>,
    next_tick: i64,
    latest: LatestVitals,
    options: ReplayOptions,
}

impl PatientStream {
    /// A new stream for `patient`.
    pub fn new(patient: impl Into<String>, options: ReplayOptions) -> Self {
        Self {
            patient: patient.into(),
            window: WindowState::new(),
            history: VecDeque::new(),
            next_tick: i64::MIN,
            latest: LatestVitals::default(),
            options,
        }
    }

    /// The window's counts so far.
    pub fn quality(&self) -> WindowQuality {
        self.window.quality()
    }

    /// Adds a sample; at a tick, returns the context to assess.
    pub fn push(&mut self, sample: &VitalSample) -> Option<AssessmentContext> {
        if self.window.push(sample) != PushOutcome::Accepted {
            return None;
        }
        let keep = |new: Option<f64>, old: Option<f64>| new.or(old);
        self.latest = LatestVitals {
            heart_rate: keep(sample.heart_rate, self.latest.heart_rate),
            spo2: keep(sample.spo2, self.latest.spo2),
            respiratory_rate: keep(sample.respiratory_rate, self.latest.respiratory_rate),
            body_temperature: keep(sample.body_temperature, self.latest.body_temperature),
            ..self.latest
        };
        if sample.time < self.next_tick {
            return None;
        }
        let tick = self.options.tick_seconds.max(1);
        self.next_tick = sample.time - sample.time.rem_euclid(tick) + tick;
        let features = self.window.features()?;
        let now = Means {
            time: sample.time,
            spo2: features.spo2_mean,
            hr: features.hr_mean,
            hrv: features.hrv_source.zip(features.hrv_mean),
        };
        let trend = self.trend(now);
        if features.coverage < self.options.min_coverage {
            return None;
        }
        let time = Utc.timestamp_opt(sample.time, 0).single()?;
        let mut ctx = AssessmentContext::new(self.patient.clone(), time);
        ctx.window = Some(features);
        ctx.latest = self.latest;
        ctx.trend = trend;
        Some(ctx)
    }

    /// Records `now` and returns the change since the oldest record at least the horizon old.
    fn trend(&mut self, now: Means) -> VitalTrend {
        let horizon = self.options.trend_minutes * 60;
        while self.history.len() >= 2 && self.history[1].time <= now.time - horizon {
            self.history.pop_front();
        }
        let reference = self.history.front().copied().filter(|m| m.time <= now.time - horizon);
        self.history.push_back(now);
        let diff = |a: Option<f64>, b: Option<f64>| Some(a? - b?);
        VitalTrend {
            minutes: horizon as f64 / 60.0,
            spo2_change: reference.and_then(|r| diff(now.spo2, r.spo2)),
            hr_change: reference.and_then(|r| diff(now.hr, r.hr)),
            hrv_change: reference.and_then(|r| match (now.hrv, r.hrv) {
                (Some((sn, n)), Some((so, o))) if sn == so && o > 0.0 => Some((n - o) / o),
                _ => None,
            }),
        }
    }
}

/// Replays one patient's samples (in time order) and calls `on_alert` for each alert as it
/// fires (after the rate limit). `limiter` carries the rate limit across calls (and patients).
pub async fn replay_patient(
    orchestrator: &Orchestrator,
    patient: &str,
    samples: impl IntoIterator<Item = VitalSample>,
    options: &ReplayOptions,
    limiter: &mut RateLimiter,
    mut on_alert: impl FnMut(&AlertDraft),
) -> ReplaySummary {
    let mut stream = PatientStream::new(patient, *options);
    let mut summary = ReplaySummary::default();
    for sample in samples {
        summary.samples += 1;
        let Some(ctx) = stream.push(&sample) else { continue };
        let assessment = orchestrator.assess(ctx).await;
        summary.assessments += 1;
        summary.fallbacks += assessment.findings.iter().filter(|f| f.is_fallback()).count() as u64;
        for draft in super::alerting::drafts(&options.policy, &assessment) {
            if limiter.admit(&options.policy, &draft) {
                summary.alerts += 1;
                on_alert(&draft);
            } else {
                summary.rate_limited += 1;
            }
        }
    }
    summary.quality = stream.quality();
    summary
}

/// The instant of a Unix second, for display.
pub fn instant(seconds: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(seconds, 0).single()
}

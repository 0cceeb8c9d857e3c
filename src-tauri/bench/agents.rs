//! `vigil bench agents`: the orchestrator's figures.
//!
//! 1. One patient, all five specialties, assessed sequentially: per-assessment p50/p99.
//! 2. Many patients at once (one tokio task each, several rounds): throughput and p99.
//! 3. A replay of `hours` of 1 Hz vitals for `patients` synthetic patients (one in ten
//!    deteriorating), concurrently: time taken, assessments, alerts raised.

use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use serde::Serialize;

use super::percentile;
use crate::agents::replay::synthetic::{Course, Scenario};
use crate::agents::replay::{PatientStream, ReplayOptions, replay_patient};
use crate::agents::review::weight_context;
use crate::agents::{AssessmentContext, Orchestrator, OrchestratorConfig, RateLimiter};

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct AgentsBenchOptions {
    /// Sequential single-patient assessments.
    pub single: usize,
    /// Patients assessed concurrently.
    pub concurrent: usize,
    /// Rounds of the concurrent test.
    pub rounds: usize,
    /// Patients replayed.
    pub replay_patients: usize,
    /// Hours replayed per patient.
    pub replay_hours: f64,
}

impl Default for AgentsBenchOptions {
    fn default() -> Self {
        Self { single: 20_000, concurrent: 1_000, rounds: 10, replay_patients: 100, replay_hours: 24.0 }
    }
}

/// The figures.
#[derive(Debug, Clone, Serialize)]
pub struct AgentsBenchReport {
    /// Single patient, five specialties: p50, ms.
    pub single_p50_ms: f64,
    /// p99, ms.
    pub single_p99_ms: f64,
    /// Specialties routed in the single test.
    pub single_specialties: usize,
    /// Concurrent: patients per round.
    pub concurrent_patients: usize,
    /// Assessments per second.
    pub concurrent_per_s: f64,
    /// Per-assessment latency p50, ms (queueing included).
    pub concurrent_p50_ms: f64,
    /// p99.
    pub concurrent_p99_ms: f64,
    /// Replay: patients.
    pub replay_patients: usize,
    /// Hours each.
    pub replay_hours: f64,
    /// Samples replayed.
    pub replay_samples: u64,
    /// Assessments run.
    pub replay_assessments: u64,
    /// Alerts raised.
    pub replay_alerts: u64,
    /// Of the deteriorating patients, how many raised an alert.
    pub replay_deteriorating_alerted: usize,
    /// Deteriorating patients.
    pub replay_deteriorating: usize,
    /// Alerts raised for stable patients (false alarms).
    pub replay_stable_alerts: u64,
    /// Seconds.
    pub replay_seconds: f64,
}

/// A context that routes to all five specialties: a full window plus a week of weights.
pub fn full_context(patient: &str) -> AssessmentContext {
    let scenario = Scenario { hours: 0.25, ..Scenario::new(Course::Stable, 7) };
    let mut stream = PatientStream::new(patient, ReplayOptions::default());
    let mut ctx = None;
    for s in scenario.samples() {
        if let Some(c) = stream.push(&s) {
            ctx = Some(c);
        }
    }
    let mut ctx = ctx.unwrap_or_else(|| AssessmentContext::new(patient, Utc::now()));
    let t0 = Utc.timestamp_opt(scenario.start, 0).single().unwrap_or_default() - Duration::days(10);
    let weights: Vec<_> = (0..10).map(|d| (t0 + Duration::days(d), 80.0 + 0.05 * d as f64)).collect();
    ctx.weight = Some(weight_context(&weights));
    ctx.latest.bp_systolic = Some(124.0);
    ctx
}

/// Runs the three measurements.
pub async fn agents_bench(options: &AgentsBenchOptions) -> AgentsBenchReport {
    let orchestrator = Arc::new(Orchestrator::with_rules(&OrchestratorConfig::default()));
    let ctx = full_context("bench");
    let specialties = ctx.supported_specialties().len();
    for _ in 0..200 {
        orchestrator.assess(ctx.clone()).await;
    }
    let mut single = Vec::with_capacity(options.single);
    for _ in 0..options.single {
        let t = Instant::now();
        orchestrator.assess(ctx.clone()).await;
        single.push(t.elapsed().as_secs_f64() * 1e3);
    }
    single.sort_by(f64::total_cmp);

    let mut latencies = Vec::with_capacity(options.concurrent * options.rounds);
    let started = Instant::now();
    for _ in 0..options.rounds {
        let mut set = tokio::task::JoinSet::new();
        for i in 0..options.concurrent {
            let (o, mut c) = (Arc::clone(&orchestrator), ctx.clone());
            c.patient = format!("p{i}");
            set.spawn(async move {
                let t = Instant::now();
                o.assess(c).await;
                t.elapsed().as_secs_f64() * 1e3
            });
        }
        while let Some(Ok(ms)) = set.join_next().await {
            latencies.push(ms);
        }
    }
    let concurrent_s = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);

    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for p in 0..options.replay_patients {
        let o = Arc::clone(&orchestrator);
        let course = if p % 10 == 0 { Course::Deteriorating } else { Course::Stable };
        let scenario = Scenario { hours: options.replay_hours, ..Scenario::new(course, p as u64) };
        set.spawn(async move {
            let mut limiter = RateLimiter::new();
            let s = replay_patient(
                &o,
                &format!("p{p}"),
                scenario.samples(),
                &ReplayOptions::default(),
                &mut limiter,
                |_| {},
            )
            .await;
            (course, s)
        });
    }
    let (mut samples, mut assessments, mut alerts, mut alerted, mut stable_alerts) = (0, 0, 0, 0, 0);
    while let Some(Ok((course, s))) = set.join_next().await {
        samples += s.samples;
        assessments += s.assessments;
        alerts += s.alerts;
        if course == Course::Deteriorating && s.alerts > 0 {
            alerted += 1;
        }
        if course == Course::Stable {
            stable_alerts += s.alerts;
        }
    }
    AgentsBenchReport {
        single_p50_ms: percentile(&single, 50.0),
        single_p99_ms: percentile(&single, 99.0),
        single_specialties: specialties,
        concurrent_patients: options.concurrent,
        concurrent_per_s: latencies.len() as f64 / concurrent_s,
        concurrent_p50_ms: percentile(&latencies, 50.0),
        concurrent_p99_ms: percentile(&latencies, 99.0),
        replay_patients: options.replay_patients,
        replay_hours: options.replay_hours,
        replay_samples: samples,
        replay_assessments: assessments,
        replay_alerts: alerts,
        replay_deteriorating_alerted: alerted,
        replay_deteriorating: options.replay_patients.div_ceil(10),
        replay_stable_alerts: stable_alerts,
        replay_seconds: started.elapsed().as_secs_f64(),
    }
}

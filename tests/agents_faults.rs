//! Fault injection into the orchestrator (issue 5): failing and slow instances, breakers,
//! fallbacks, and no assessment lost or duplicated. Paused tokio time keeps them deterministic.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use vigil::agents::replay::synthetic::{Course, Scenario};
use vigil::agents::replay::{PatientStream, ReplayOptions};
use vigil::agents::{
    Agent, AgentError, AgentFuture, AssessmentContext, BreakerConfig, BreakerState, Finding, Health, Method,
    Orchestrator, Pool, PoolConfig, Specialty, Strategy, rules,
};

/// What the test agent does on each call.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Answer,
    Fail,
    Sleep(Duration),
}

/// A real `Agent` whose behaviour the test switches: answers with the specialty's rules,
/// errors, or sleeps before answering.
struct TestAgent {
    specialty: Specialty,
    mode: Mutex<Mode>,
    calls: AtomicU64,
}

impl TestAgent {
    fn new(specialty: Specialty, mode: Mode) -> Arc<Self> {
        Arc::new(Self { specialty, mode: Mutex::new(mode), calls: AtomicU64::new(0) })
    }

    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn calls(&self) -> u64 {
        self.calls.load(Ordering::SeqCst)
    }
}

impl Agent for TestAgent {
    fn name(&self) -> &str {
        "test"
    }

    fn specialty(&self) -> Specialty {
        self.specialty
    }

    fn version(&self) -> &str {
        "test-1"
    }

    fn health(&self) -> AgentFuture<'_, Result<(), AgentError>> {
        let mode = *self.mode.lock().unwrap();
        Box::pin(async move {
            match mode {
                Mode::Fail => Err(AgentError::Failed("injected".into())),
                _ => Ok(()),
            }
        })
    }

    fn assess<'a>(&'a self, ctx: &'a AssessmentContext) -> AgentFuture<'a, Result<Finding, AgentError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mode = *self.mode.lock().unwrap();
        Box::pin(async move {
            match mode {
                Mode::Answer => Ok(rules::assess(self.specialty, ctx)),
                Mode::Fail => Err(AgentError::Failed("injected".into())),
                Mode::Sleep(d) => {
                    tokio::time::sleep(d).await;
                    Ok(rules::assess(self.specialty, ctx))
                }
            }
        })
    }
}

fn context(patient: &str) -> AssessmentContext {
    let scenario = Scenario { hours: 0.1, ..Scenario::new(Course::Stable, 3) };
    let mut stream = PatientStream::new(patient, ReplayOptions::default());
    let mut last = None;
    for s in scenario.samples() {
        if let Some(c) = stream.push(&s) {
            last = Some(c);
        }
    }
    last.unwrap_or_else(|| AssessmentContext::new(patient, Utc.timestamp_opt(0, 0).unwrap()))
}

fn pool(specialty: Specialty, config: PoolConfig, agents: &[Arc<TestAgent>]) -> Pool {
    Pool::new(specialty, config, agents.iter().map(|a| (Arc::clone(a) as Arc<dyn Agent>, 4)).collect())
}

#[tokio::test(start_paused = true)]
async fn traffic_moves_to_healthy_instances() {
    let s = Specialty::Pulmonary;
    let agents =
        [TestAgent::new(s, Mode::Fail), TestAgent::new(s, Mode::Answer), TestAgent::new(s, Mode::Answer)];
    let config = PoolConfig { strategy: Strategy::LeastConnections, ..PoolConfig::default() };
    let pool = pool(s, config, &agents);
    let ctx = context("p");
    let mut by_instance = std::collections::BTreeMap::new();
    for _ in 0..60 {
        let f = pool.call(&ctx).await;
        assert_ne!(f.method, Method::Fallback, "a retry on a healthy instance answers");
        *by_instance.entry(f.agent.clone()).or_insert(0) += 1;
    }
    assert!(!by_instance.contains_key("test#0"), "{by_instance:?}");
    // Three failures make #0 unhealthy; it gets no live traffic after that.
    assert_eq!(agents[0].calls(), 3);
    assert_eq!(agents[1].calls() + agents[2].calls(), 60);
    let m = pool.metrics();
    assert_eq!(m.instances[0].health, Health::Unhealthy);
    assert_eq!(m.instances[0].errors, 3);
    assert_eq!(m.fallbacks, 0);
}

#[tokio::test(start_paused = true)]
async fn a_slow_instance_times_out_and_the_fastest_takes_over() {
    let s = Specialty::Cardiology;
    let agents = [TestAgent::new(s, Mode::Sleep(Duration::from_secs(2))), TestAgent::new(s, Mode::Answer)];
    let config = PoolConfig {
        strategy: Strategy::FastestResponse,
        timeout: Duration::from_millis(200),
        ..PoolConfig::default()
    };
    let pool = pool(s, config, &agents);
    let ctx = context("p");
    for _ in 0..20 {
        let f = pool.call(&ctx).await;
        assert_eq!(f.agent, "test#1");
    }
    let m = pool.metrics();
    // Untried instances go first; the slow one timed out once and is the slowest since.
    assert_eq!(m.instances[0].timeouts, 1);
    assert_eq!(m.instances[0].health, Health::Degraded);
    assert_eq!(m.instances[1].calls, 20);
}

#[tokio::test(start_paused = true)]
async fn the_breaker_opens_and_recovers() {
    let s = Specialty::EarlyWarning;
    let agent = TestAgent::new(s, Mode::Fail);
    let breaker =
        BreakerConfig { window: 10, min_calls: 4, error_rate: 0.5, cool_down: Duration::from_secs(10) };
    let config = PoolConfig { breaker, unhealthy_after: 1000, max_attempts: 1, ..PoolConfig::default() };
    let pool = pool(s, config, std::slice::from_ref(&agent));
    let ctx = context("p");
    for _ in 0..4 {
        assert!(pool.call(&ctx).await.is_fallback());
    }
    assert_eq!(pool.metrics().instances[0].breaker, BreakerState::Open);
    // Open: refused without calling the agent.
    agent.set(Mode::Answer);
    assert!(pool.call(&ctx).await.is_fallback());
    assert_eq!(agent.calls(), 4);
    // After the cool-down one probe goes through and closes it.
    tokio::time::advance(Duration::from_secs(10)).await;
    assert_eq!(pool.metrics().instances[0].breaker, BreakerState::HalfOpen);
    let f = pool.call(&ctx).await;
    assert!(!f.is_fallback());
    let m = pool.metrics();
    assert_eq!((m.instances[0].breaker, m.instances[0].breaker_opened), (BreakerState::Closed, 1));
    assert_eq!(m.fallbacks, 5);
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_reopens_the_breaker() {
    let s = Specialty::EarlyWarning;
    let agent = TestAgent::new(s, Mode::Fail);
    let breaker =
        BreakerConfig { window: 10, min_calls: 2, error_rate: 0.5, cool_down: Duration::from_secs(5) };
    let config = PoolConfig { breaker, unhealthy_after: 1000, max_attempts: 1, ..PoolConfig::default() };
    let pool = pool(s, config, std::slice::from_ref(&agent));
    let ctx = context("p");
    pool.call(&ctx).await;
    pool.call(&ctx).await;
    tokio::time::advance(Duration::from_secs(5)).await;
    assert!(pool.call(&ctx).await.is_fallback());
    let m = pool.metrics();
    assert_eq!((m.instances[0].breaker, m.instances[0].breaker_opened), (BreakerState::Open, 2));
}

#[tokio::test(start_paused = true)]
async fn health_checks_mark_and_restore_instances() {
    let s = Specialty::InfectionScreen;
    let agents = [TestAgent::new(s, Mode::Fail), TestAgent::new(s, Mode::Answer)];
    let pool = pool(s, PoolConfig::default(), &agents);
    pool.check_health().await;
    assert_eq!(pool.metrics().instances[0].health, Health::Degraded);
    pool.check_health().await;
    pool.check_health().await;
    assert_eq!(pool.metrics().instances[0].health, Health::Unhealthy);
    agents[0].set(Mode::Answer);
    let orchestrator = Orchestrator::new(vec![pool]);
    let handle = orchestrator.spawn_health_checks(Duration::from_secs(5));
    tokio::time::sleep(Duration::from_secs(6)).await;
    handle.abort();
    assert_eq!(orchestrator.metrics()[0].instances[0].health, Health::Healthy);
}

#[tokio::test(start_paused = true)]
async fn the_fallback_appears_when_every_instance_is_down() {
    let down: Vec<_> = (0..3).map(|_| TestAgent::new(Specialty::Pulmonary, Mode::Fail)).collect();
    let pools: Vec<Pool> = Specialty::ALL
        .into_iter()
        .map(|s| {
            if s == Specialty::Pulmonary {
                pool(s, PoolConfig::default(), &down)
            } else {
                pool(s, PoolConfig::default(), &[TestAgent::new(s, Mode::Answer)])
            }
        })
        .collect();
    let orchestrator = Orchestrator::new(pools);
    let a = orchestrator.assess(context("p")).await;
    assert_eq!(a.findings.len(), a.routed.len());
    let fallback = a.findings.iter().find(|f| f.specialty == Specialty::Pulmonary).unwrap();
    assert!(fallback.is_fallback());
    assert_eq!(fallback.confidence, 0.0);
    assert!(fallback.recommendations[0].starts_with("agent unavailable — manual review required"));
    // The other specialties still answered.
    assert_eq!(a.findings.iter().filter(|f| f.is_fallback()).count(), 1);
}

#[tokio::test(start_paused = true)]
async fn no_assessment_is_lost_or_duplicated_under_faults() {
    let pools: Vec<Pool> = Specialty::ALL
        .into_iter()
        .map(|s| {
            let agents = [
                TestAgent::new(s, Mode::Fail),
                TestAgent::new(s, Mode::Sleep(Duration::from_millis(900))),
                TestAgent::new(s, Mode::Sleep(Duration::from_millis(3))),
                TestAgent::new(s, Mode::Answer),
            ];
            let strategy = match s {
                Specialty::Cardiology | Specialty::EarlyWarning => Strategy::LeastConnections,
                Specialty::Pulmonary => Strategy::FastestResponse,
                _ => Strategy::WeightedFreeCapacity,
            };
            pool(s, PoolConfig { strategy, max_attempts: 3, ..PoolConfig::default() }, &agents)
        })
        .collect();
    let orchestrator = Arc::new(Orchestrator::new(pools));
    let base = context("p");
    let mut set = tokio::task::JoinSet::new();
    for i in 0..500 {
        let o = Arc::clone(&orchestrator);
        let mut ctx = base.clone();
        ctx.patient = format!("patient-{i}");
        set.spawn(async move { o.assess(ctx).await });
    }
    let mut ids = HashSet::new();
    let mut patients = HashSet::new();
    while let Some(joined) = set.join_next().await {
        let a = joined.unwrap();
        assert!(ids.insert(a.id), "duplicate assessment id");
        assert!(patients.insert(a.patient.clone()), "patient assessed twice");
        let specialties: Vec<_> = a.findings.iter().map(|f| f.specialty).collect();
        let unique: HashSet<_> = specialties.iter().collect();
        assert_eq!(specialties.len(), a.routed.len(), "one finding per routed specialty");
        assert_eq!(unique.len(), a.routed.len());
    }
    assert_eq!((ids.len(), patients.len()), (500, 500));
    // Every call is accounted for: answered, or a visible fallback.
    for m in orchestrator.metrics() {
        assert!(m.instances.iter().all(|i| i.load == 0));
    }
}

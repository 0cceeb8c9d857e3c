//! An instance pool for one specialty: balancing, per-call timeout, retries on another
//! instance, circuit breakers, health, and the metrics the UI and IT read.
//!
//! Every call returns exactly one [`Finding`]: the agent's, or, when no instance could answer,
//! [`Finding::unavailable`] with confidence 0 (never a silent gap).
//!
//! # Health
//! An instance's health follows its consecutive failures (errors and timeouts of live calls and
//! of health checks): none healthy, [`PoolConfig::unhealthy_after`] or more unhealthy,
//! in between degraded. Any success makes it healthy again. Unhealthy instances get no live
//! traffic; the interval health checks ([`Pool::check_health`]) are how they come back.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::breaker::{Breaker, BreakerConfig, BreakerState};
use super::{Agent, AgentError, AssessmentContext, Finding, Specialty};

/// How a pool picks an instance among those that may take a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Smooth weighted round-robin (nginx's), each instance weighted by its free slots.
    WeightedFreeCapacity,
    /// The instance with the fewest calls in flight (relative to capacity).
    LeastConnections,
    /// The instance with the lowest moving-average latency (untried instances first).
    FastestResponse,
}

/// An instance's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// No recent failure.
    Healthy,
    /// Failing; still gets traffic.
    Degraded,
    /// Failing repeatedly; gets no traffic until a check or probe succeeds.
    Unhealthy,
}

/// A pool's tuning.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PoolConfig {
    /// The balancing strategy.
    pub strategy: Strategy,
    /// Per call.
    pub timeout: Duration,
    /// Instances tried per call before the fallback.
    pub max_attempts: usize,
    /// Consecutive failures that make an instance unhealthy.
    pub unhealthy_after: u32,
    /// Each instance's breaker.
    pub breaker: BreakerConfig,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            strategy: Strategy::LeastConnections,
            timeout: Duration::from_millis(500),
            max_attempts: 2,
            unhealthy_after: 3,
            breaker: BreakerConfig::default(),
        }
    }
}

/// One instance's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceMetrics {
    /// `name#index`.
    pub id: String,
    /// The agent's version.
    pub version: String,
    /// Calls in flight.
    pub load: u32,
    /// Most calls in flight at once.
    pub capacity: u32,
    /// Health.
    pub health: Health,
    /// Breaker.
    pub breaker: BreakerState,
    /// Times the breaker opened.
    pub breaker_opened: u64,
    /// Latency percentiles over the last calls, ms (`None` before any call).
    pub p50_ms: Option<f64>,
    /// 95th percentile.
    pub p95_ms: Option<f64>,
    /// 99th percentile.
    pub p99_ms: Option<f64>,
    /// Error rate (errors and timeouts) over the breaker's window.
    pub error_rate: f64,
    /// Calls since start.
    pub calls: u64,
    /// Failed calls since start (errors).
    pub errors: u64,
    /// Timed-out calls since start.
    pub timeouts: u64,
}

/// One specialty's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PoolMetrics {
    /// The specialty.
    pub specialty: Specialty,
    /// Its strategy.
    pub strategy: Strategy,
    /// Sum of instance loads.
    pub load: u32,
    /// Sum of instance capacities.
    pub capacity: u32,
    /// Calls answered by the fallback.
    pub fallbacks: u64,
    /// Each instance.
    pub instances: Vec<InstanceMetrics>,
}

const LATENCY_SAMPLES: usize = 1024;

struct Slot {
    agent: Arc<dyn Agent>,
    id: String,
    capacity: u32,
}

struct InstanceState {
    in_flight: u32,
    breaker: Breaker,
    failures: u32,
    health: Health,
    latencies_ms: Vec<f64>,
    next_latency: usize,
    ewma_ms: Option<f64>,
    swrr_weight: i64,
    calls: u64,
    errors: u64,
    timeouts: u64,
}

struct PoolState {
    instances: Vec<InstanceState>,
    fallbacks: u64,
}

/// The instances of one specialty.
pub struct Pool {
    specialty: Specialty,
    config: PoolConfig,
    slots: Vec<Slot>,
    state: Mutex<PoolState>,
    freed: Notify,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("specialty", &self.specialty)
            .field("instances", &self.slots.len())
            .finish()
    }
}

impl Pool {
    /// A pool of `instances` (agent, capacity) for `specialty`.
    pub fn new(specialty: Specialty, config: PoolConfig, instances: Vec<(Arc<dyn Agent>, u32)>) -> Self {
        let slots: Vec<Slot> = instances
            .into_iter()
            .enumerate()
            .map(|(i, (agent, capacity))| Slot {
                id: format!("{}#{i}", agent.name()),
                agent,
                capacity: capacity.max(1),
            })
            .collect();
        let instances = slots
            .iter()
            .map(|_| InstanceState {
                in_flight: 0,
                breaker: Breaker::new(config.breaker),
                failures: 0,
                health: Health::Healthy,
                latencies_ms: Vec::with_capacity(LATENCY_SAMPLES),
                next_latency: 0,
                ewma_ms: None,
                swrr_weight: 0,
                calls: 0,
                errors: 0,
                timeouts: 0,
            })
            .collect();
        Self {
            specialty,
            config,
            slots,
            state: Mutex::new(PoolState { instances, fallbacks: 0 }),
            freed: Notify::new(),
        }
    }

    /// The specialty.
    pub fn specialty(&self) -> Specialty {
        self.specialty
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // A panic while holding the lock leaves counters only; keep serving.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Assesses through one instance (retrying on another on failure), or the fallback.
    pub async fn call(&self, ctx: &AssessmentContext) -> Finding {
        let deadline = Instant::now() + self.config.timeout;
        let mut tried: Vec<usize> = Vec::new();
        let mut reason = "no instance available".to_owned();
        while tried.len() < self.config.max_attempts.max(1) {
            let Some(i) = self.acquire(&tried, deadline).await else { break };
            tried.push(i);
            let start = Instant::now();
            let outcome =
                match tokio::time::timeout(self.config.timeout, self.slots[i].agent.assess(ctx)).await {
                    Ok(result) => result,
                    // Saturates: a timeout past u64::MAX ms (584 million years) is reported as that.
                    Err(_) => Err(AgentError::Timeout(
                        u64::try_from(self.config.timeout.as_millis()).unwrap_or(u64::MAX),
                    )),
                };
            self.release(i, &outcome, start.elapsed());
            match outcome {
                Ok(mut finding) => {
                    finding.agent = self.slots[i].id.clone();
                    return finding;
                }
                Err(e) => reason = e.to_string(),
            }
        }
        self.lock().fallbacks += 1;
        Finding::unavailable(self.specialty, &reason)
    }

    /// Reserves a slot on an instance not yet tried. Waits for a free slot while some instance
    /// is usable but full; `None` when none is usable (or the deadline passes).
    async fn acquire(&self, tried: &[usize], deadline: Instant) -> Option<usize> {
        loop {
            let freed = self.freed.notified();
            let mut full = false;
            {
                let now = Instant::now();
                let mut state = self.lock();
                let mut candidates = Vec::with_capacity(self.slots.len());
                for (i, s) in state.instances.iter_mut().enumerate() {
                    if tried.contains(&i) || s.health == Health::Unhealthy || !s.breaker.allows(now) {
                        continue;
                    }
                    if s.in_flight >= self.slots[i].capacity {
                        full = true;
                        continue;
                    }
                    candidates.push(i);
                }
                if let Some(i) = self.pick(&mut state.instances, &candidates) {
                    let s = &mut state.instances[i];
                    s.in_flight += 1;
                    s.breaker.dispatched();
                    return Some(i);
                }
            }
            if !full {
                return None;
            }
            if tokio::time::timeout_at(deadline, freed).await.is_err() {
                return None;
            }
        }
    }

    fn pick(&self, instances: &mut [InstanceState], candidates: &[usize]) -> Option<usize> {
        match self.config.strategy {
            Strategy::LeastConnections => candidates.iter().copied().min_by(|&a, &b| {
                let load = |i: usize| f64::from(instances[i].in_flight) / f64::from(self.slots[i].capacity);
                load(a).total_cmp(&load(b))
            }),
            Strategy::FastestResponse => candidates.iter().copied().min_by(|&a, &b| {
                instances[a].ewma_ms.unwrap_or(0.0).total_cmp(&instances[b].ewma_ms.unwrap_or(0.0))
            }),
            Strategy::WeightedFreeCapacity => {
                // nginx's smooth weighted round-robin with weight = free slots.
                let mut total = 0;
                let mut best: Option<usize> = None;
                for &i in candidates {
                    let free = i64::from(self.slots[i].capacity - instances[i].in_flight);
                    total += free;
                    instances[i].swrr_weight += free;
                    if best.is_none_or(|b| instances[i].swrr_weight > instances[b].swrr_weight) {
                        best = Some(i);
                    }
                }
                if let Some(b) = best {
                    instances[b].swrr_weight -= total;
                }
                best
            }
        }
    }

    fn release(&self, i: usize, outcome: &Result<Finding, AgentError>, elapsed: Duration) {
        let now = Instant::now();
        let ms = elapsed.as_secs_f64() * 1e3;
        {
            let mut state = self.lock();
            let unhealthy_after = self.config.unhealthy_after;
            let s = &mut state.instances[i];
            s.in_flight -= 1;
            s.calls += 1;
            if s.latencies_ms.len() < LATENCY_SAMPLES {
                s.latencies_ms.push(ms);
            } else {
                s.latencies_ms[s.next_latency] = ms;
            }
            s.next_latency = (s.next_latency + 1) % LATENCY_SAMPLES;
            // A failure counts as a full timeout in the latency average, so a fast-failing
            // instance does not look fastest.
            let sample = if outcome.is_ok() { ms } else { self.config.timeout.as_secs_f64() * 1e3 };
            s.ewma_ms = Some(s.ewma_ms.map_or(sample, |e| 0.8 * e + 0.2 * sample));
            match outcome {
                Ok(_) => {}
                Err(AgentError::Timeout(_)) => s.timeouts += 1,
                Err(AgentError::Failed(_)) => s.errors += 1,
            }
            s.breaker.record(outcome.is_ok(), now);
            note_health(s, outcome.is_ok(), unhealthy_after);
        }
        self.freed.notify_waiters();
    }

    /// Runs every instance's health check (with the call timeout) and updates its health.
    pub async fn check_health(&self) {
        for (i, slot) in self.slots.iter().enumerate() {
            let ok =
                matches!(tokio::time::timeout(self.config.timeout, slot.agent.health()).await, Ok(Ok(())));
            let mut state = self.lock();
            note_health(&mut state.instances[i], ok, self.config.unhealthy_after);
        }
        self.freed.notify_waiters();
    }

    /// The pool's figures now.
    pub fn metrics(&self) -> PoolMetrics {
        let now = Instant::now();
        let mut state = self.lock();
        let fallbacks = state.fallbacks;
        let instances: Vec<InstanceMetrics> = state
            .instances
            .iter_mut()
            .zip(&self.slots)
            .map(|(s, slot)| {
                let mut sorted = s.latencies_ms.clone();
                sorted.sort_by(f64::total_cmp);
                let pct = |p: f64| (!sorted.is_empty()).then(|| crate::bench::percentile(&sorted, p));
                InstanceMetrics {
                    id: slot.id.clone(),
                    version: slot.agent.version().to_owned(),
                    load: s.in_flight,
                    capacity: slot.capacity,
                    health: s.health,
                    breaker: s.breaker.state(now),
                    breaker_opened: s.breaker.times_opened,
                    p50_ms: pct(50.0),
                    p95_ms: pct(95.0),
                    p99_ms: pct(99.0),
                    error_rate: s.breaker.error_rate(),
                    calls: s.calls,
                    errors: s.errors,
                    timeouts: s.timeouts,
                }
            })
            .collect();
        PoolMetrics {
            specialty: self.specialty,
            strategy: self.config.strategy,
            load: instances.iter().map(|i| i.load).sum(),
            capacity: instances.iter().map(|i| i.capacity).sum(),
            fallbacks,
            instances,
        }
    }
}

fn note_health(s: &mut InstanceState, ok: bool, unhealthy_after: u32) {
    s.failures = if ok { 0 } else { s.failures.saturating_add(1) };
    s.health = match s.failures {
        0 => Health::Healthy,
        n if n >= unhealthy_after => Health::Unhealthy,
        _ => Health::Degraded,
    };
}

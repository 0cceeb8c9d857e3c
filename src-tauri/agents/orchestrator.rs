//! The orchestrator: routes a patient to the specialties its data supports, runs them
//! concurrently on tokio through their pools, and synthesises one [`Assessment`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::task::JoinSet;

use super::pool::{Pool, PoolConfig, PoolMetrics, Strategy};
use super::{Agent, AssessmentContext, EventClass, Finding, RiskLevel, RulesAgent, Specialty};

/// The overall assessment of one patient at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// UUIDv7.
    pub id: uuid::Uuid,
    /// The patient.
    pub patient: String,
    /// The instant assessed (event time).
    pub time: DateTime<Utc>,
    /// The specialties the data supported, in order.
    pub routed: Vec<Specialty>,
    /// The highest finding's band.
    pub risk_level: RiskLevel,
    /// The highest finding's score.
    pub risk_score: f64,
    /// See [`synthesize`].
    pub confidence: f64,
    /// The event of the highest finding that has one.
    pub event: Option<EventClass>,
    /// Every finding, highest risk first (ties: specialty order), evidence kept.
    pub findings: Vec<Finding>,
}

impl Assessment {
    /// A finding at the critical band appeared (the workflows' emergency override).
    pub fn is_critical(&self) -> bool {
        self.risk_level == RiskLevel::Critical
    }

    /// The routed specialties that could not answer (every instance down: the fallback
    /// finding, confidence 0). Unknown must never look safe: such a patient needs a
    /// clinician's review whatever the other findings score.
    pub fn needs_review(&self) -> Vec<Specialty> {
        self.findings.iter().filter(|f| f.is_fallback()).map(|f| f.specialty).collect()
    }
}

/// Combines findings: risk is the highest score; findings are ordered by score (then
/// specialty); the combined confidence is the mean of the findings' confidences weighted by
/// their risk scores (at least 0.05 each), so the findings that drive the risk count most and
/// a fallback (confidence 0) pulls the confidence down. Vigil's convention.
pub fn synthesize(
    patient: String,
    time: DateTime<Utc>,
    routed: Vec<Specialty>,
    mut findings: Vec<Finding>,
) -> Assessment {
    findings.sort_by(|a, b| b.risk_score.total_cmp(&a.risk_score).then(a.specialty.cmp(&b.specialty)));
    let risk_score = findings.first().map_or(0.0, |f| f.risk_score);
    let (mut weighted, mut weights) = (0.0, 0.0);
    for f in &findings {
        let w = f.risk_score.max(0.05);
        weighted += w * f.confidence;
        weights += w;
    }
    Assessment {
        id: uuid::Uuid::now_v7(),
        patient,
        time,
        routed,
        risk_level: RiskLevel::from_score(risk_score),
        risk_score,
        confidence: if weights > 0.0 { weighted / weights } else { 0.0 },
        event: findings.iter().find_map(|f| f.event),
        findings,
    }
}

/// One pool's shape in an [`OrchestratorConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PoolShape {
    /// Instances.
    pub instances: usize,
    /// Calls in flight per instance.
    pub capacity: u32,
    /// The pool's tuning.
    pub config: PoolConfig,
}

/// The pools of the rules agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrchestratorConfig {
    /// One per specialty.
    pub pools: BTreeMap<Specialty, PoolShape>,
}

impl Default for OrchestratorConfig {
    /// Three instances of 64 per specialty; the strategies differ per specialty to suit the
    /// work (rules agents are all quick; a model-backed one would favour fastest response).
    fn default() -> Self {
        let shape = |strategy| PoolShape {
            instances: 3,
            capacity: 64,
            config: PoolConfig { strategy, ..PoolConfig::default() },
        };
        let pools = [
            (Specialty::Cardiology, shape(Strategy::LeastConnections)),
            (Specialty::Pulmonary, shape(Strategy::FastestResponse)),
            (Specialty::HeartFailure, shape(Strategy::WeightedFreeCapacity)),
            (Specialty::EarlyWarning, shape(Strategy::LeastConnections)),
            (Specialty::InfectionScreen, shape(Strategy::WeightedFreeCapacity)),
        ];
        Self { pools: pools.into_iter().collect() }
    }
}

/// Runs the specialties' pools.
#[derive(Debug, Clone)]
pub struct Orchestrator {
    pools: BTreeMap<Specialty, Arc<Pool>>,
}

impl Orchestrator {
    /// An orchestrator over the given pools (one per specialty; a specialty without a pool
    /// answers with the fallback when routed).
    pub fn new(pools: Vec<Pool>) -> Self {
        Self { pools: pools.into_iter().map(|p| (p.specialty(), Arc::new(p))).collect() }
    }

    /// The rules agents, shaped by `config`.
    pub fn with_rules(config: &OrchestratorConfig) -> Self {
        let pools = config
            .pools
            .iter()
            .map(|(&specialty, shape)| {
                let instances = (0..shape.instances.max(1))
                    .map(|_| (Arc::new(RulesAgent::new(specialty)) as Arc<dyn Agent>, shape.capacity))
                    .collect();
                Pool::new(specialty, shape.config, instances)
            })
            .collect();
        Self::new(pools)
    }

    /// Assesses one patient: routing, concurrent calls, synthesis. Always one finding per
    /// routed specialty.
    pub async fn assess(&self, ctx: AssessmentContext) -> Assessment {
        let routed = ctx.supported_specialties();
        let ctx = Arc::new(ctx);
        let mut set = JoinSet::new();
        for &specialty in &routed {
            let Some(pool) = self.pools.get(&specialty).cloned() else { continue };
            let ctx = Arc::clone(&ctx);
            set.spawn(async move { pool.call(&ctx).await });
        }
        let mut findings = Vec::with_capacity(routed.len());
        while let Some(joined) = set.join_next().await {
            if let Ok(finding) = joined {
                findings.push(finding);
            }
        }
        // A specialty without a pool, or whose task panicked, still gets its finding.
        for &specialty in &routed {
            if !findings.iter().any(|f| f.specialty == specialty) {
                findings.push(Finding::unavailable(specialty, "no pool answered"));
            }
        }
        let ctx = Arc::unwrap_or_clone(ctx);
        synthesize(ctx.patient, ctx.time, routed, findings)
    }

    /// Runs every pool's health checks once.
    pub async fn check_health(&self) {
        for pool in self.pools.values() {
            pool.check_health().await;
        }
    }

    /// Runs the health checks every `every` until the handle is aborted.
    pub fn spawn_health_checks(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                this.check_health().await;
            }
        })
    }

    /// Per specialty and instance: load, capacity, health, latency percentiles, error rate,
    /// breaker state.
    pub fn metrics(&self) -> Vec<PoolMetrics> {
        self.pools.values().map(|p| p.metrics()).collect()
    }
}

//! Specialty agents, their orchestration, and predictive alerts (issue 5).
//!
//! - [`rules`]: the five specialties as pure rules (no I/O, no clock), each citing its source.
//! - [`Agent`]: the trait every agent implements ([`RulesAgent`] here; model-backed agents
//!   later, say so in [`Method`]).
//! - [`pool`] and [`breaker`]: per-specialty instance pools with balancing, timeouts, circuit
//!   breakers, health and metrics.
//! - [`Orchestrator`]: routing, concurrent calls on tokio, synthesis into an [`Assessment`].
//! - [`alerting`]: threshold, event classes and the event-time rate limit.
//! - [`workflow`]: the workflows, as data.
//! - [`replay`]: a recorded 1 Hz stream through windows, agents and alerts; and the
//!   documented synthetic generator.

mod agent;
pub mod alerting;
pub mod breaker;
mod context;
mod finding;
mod orchestrator;
pub mod pool;
pub mod replay;
pub mod review;
pub mod rules;
pub mod workflow;

pub use agent::{Agent, AgentError, AgentFuture, RulesAgent};
pub use alerting::{AlertDraft, AlertPolicy, RateLimiter};
pub use breaker::{BreakerConfig, BreakerState};
pub use context::{
    AssessmentContext, LatestVitals, NEWS2_RECORDED_WITHIN_HOURS, News2Context, RecordedNews2, VitalTrend,
    WeightContext, consciousness_of,
};
pub use finding::{EventClass, Evidence, Finding, Method, RiskLevel, Specialty, UnknownRiskLevel};
pub use orchestrator::{Assessment, Orchestrator, OrchestratorConfig, PoolShape, synthesize};
pub use pool::{Health, InstanceMetrics, Pool, PoolConfig, PoolMetrics, Strategy};

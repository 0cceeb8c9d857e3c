//! The [`Agent`] trait and the rules agent that implements it for every specialty.

use std::future::Future;
use std::pin::Pin;

use super::{AssessmentContext, Finding, Method, Specialty, rules};

/// A boxed future, so agents can be held as `Arc<dyn Agent>` (a model-backed agent, a test
/// agent that sleeps, a remote one later).
pub type AgentFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why an agent could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgentError {
    /// The agent failed.
    #[error("agent failed: {0}")]
    Failed(String),
    /// The call took longer than the pool's timeout.
    #[error("agent timed out after {0} ms")]
    Timeout(u64),
}

/// A specialty agent.
pub trait Agent: Send + Sync + 'static {
    /// Its name (shown in findings and metrics).
    fn name(&self) -> &str;
    /// Its specialty.
    fn specialty(&self) -> Specialty;
    /// Its version (the rule set's or the model package's).
    fn version(&self) -> &str;
    /// Rules or a model.
    fn method(&self) -> Method {
        Method::Rules
    }
    /// A health check: `Ok` when the agent can answer. The pool calls it on an interval.
    fn health(&self) -> AgentFuture<'_, Result<(), AgentError>> {
        Box::pin(std::future::ready(Ok(())))
    }
    /// Assesses one patient.
    fn assess<'a>(&'a self, ctx: &'a AssessmentContext) -> AgentFuture<'a, Result<Finding, AgentError>>;
}

/// The rules of one specialty as an agent. Pure and synchronous inside: the future is ready
/// at once.
#[derive(Debug, Clone)]
pub struct RulesAgent {
    specialty: Specialty,
    name: String,
}

impl RulesAgent {
    /// The rules agent of `specialty`.
    pub fn new(specialty: Specialty) -> Self {
        Self { specialty, name: format!("{}-rules", specialty.as_str()) }
    }
}

impl Agent for RulesAgent {
    fn name(&self) -> &str {
        &self.name
    }

    fn specialty(&self) -> Specialty {
        self.specialty
    }

    fn version(&self) -> &str {
        rules::RULES_VERSION
    }

    fn assess<'a>(&'a self, ctx: &'a AssessmentContext) -> AgentFuture<'a, Result<Finding, AgentError>> {
        Box::pin(std::future::ready(Ok(rules::assess(self.specialty, ctx))))
    }
}

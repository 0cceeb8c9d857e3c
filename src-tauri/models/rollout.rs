//! One agent's model rollout: the active model, the previous one kept loaded for an instant
//! rollback, and a candidate in shadow or canary. Swaps are atomic ([`ArcSwap`]): an evaluation
//! takes one snapshot of the [`Deployment`] and finishes on it, whatever is swapped meanwhile,
//! and says which model produced its score.
//!
//! **Rollout rules (Vigil's).** A shadow candidate runs beside the active model on every
//! evaluation; its score is recorded and compared, never used. A canary candidate's score is
//! used for `percent` of evaluations (every evaluation whose sequence number modulo 100 is
//! below it). Either is compared with the reference (the active model's score, or the rules'
//! when no model is active): a *disagreement* is a difference above
//! [`RolloutPolicy::disagreement_margin`]. The candidate is rolled back at once when it errors,
//! returns a non-score (NaN, outside 0..=1) or exceeds the timeout (timed on the slot's
//! [`Clock`]: the monotonic clock in the product, one the test holds in tests, so a preempted
//! test thread cannot roll a canary back). Its disagreement share is
//! judged only against an active model (a model is expected to differ from the rules): after
//! [`RolloutPolicy::min_evaluations`] a clear breach (more than twice the limit) rolls it back
//! early; at [`RolloutPolicy::promote_after`] evaluations a canary within the limit is
//! promoted and one above it rolled back (a shadow above it is rolled back; within it, it waits
//! for a clinician's promote). A fixed early check at the limit itself would roll back good
//! candidates on the noise of a small sample. An evaluation whose
//! candidate failed uses the active model's score instead: no evaluation fails.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};

use super::runtime::LoadedModel;
use crate::agents::Specialty;

/// Thresholds of automatic promotion and rollback.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RolloutPolicy {
    /// Canary evaluations before automatic promotion.
    pub promote_after: u64,
    /// Evaluations before the disagreement share is judged.
    pub min_evaluations: u64,
    /// The largest acceptable share of disagreements.
    pub max_disagreement: f64,
    /// A score difference above this is a disagreement.
    pub disagreement_margin: f64,
    /// A candidate slower than this is rolled back.
    pub timeout: Duration,
}

impl Default for RolloutPolicy {
    fn default() -> Self {
        Self {
            promote_after: 200,
            min_evaluations: 50,
            max_disagreement: 0.05,
            disagreement_margin: 0.2,
            timeout: Duration::from_millis(50),
        }
    }
}

/// The clock a rollout times its candidate's inferences with: a monotonic reading from any fixed
/// origin. The product's is [`MonotonicClock`]; tests inject one they control, so that a thread
/// preempted on a busy machine cannot decide whether a canary is promoted or rolled back.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Time since the clock's origin; never decreases.
    fn now(&self) -> Duration;
}

/// The wall-clock monotonic time ([`Instant`]).
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    origin: Instant,
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self { origin: Instant::now() }
    }
}

impl Clock for MonotonicClock {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// How a candidate runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum CandidateMode {
    /// Beside the active model; recorded, not used.
    Shadow,
    /// Used for `percent` of evaluations (1..=100).
    Canary {
        /// The share, percent.
        percent: u8,
    },
}

/// A candidate's running counts.
#[derive(Debug, Default)]
pub struct CandidateStats {
    evaluations: AtomicU64,
    errors: AtomicU64,
    disagreements: AtomicU64,
}

/// A snapshot of [`CandidateStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsView {
    /// Successful evaluations.
    pub evaluations: u64,
    /// Errors, NaNs and timeouts.
    pub errors: u64,
    /// Evaluations that disagreed with the reference.
    pub disagreements: u64,
}

impl CandidateStats {
    /// Counts restored from the store.
    pub fn from_view(v: StatsView) -> Self {
        Self {
            evaluations: AtomicU64::new(v.evaluations),
            errors: AtomicU64::new(v.errors),
            disagreements: AtomicU64::new(v.disagreements),
        }
    }

    /// The counts now.
    pub fn view(&self) -> StatsView {
        StatsView {
            evaluations: self.evaluations.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            disagreements: self.disagreements.load(Ordering::Relaxed),
        }
    }
}

/// A candidate model in rollout.
#[derive(Debug)]
pub struct Candidate {
    /// The model.
    pub model: Arc<LoadedModel>,
    /// Shadow or canary.
    pub mode: CandidateMode,
    /// Its counts.
    pub stats: CandidateStats,
}

/// One agent's models at one instant.
#[derive(Debug, Default)]
pub struct Deployment {
    /// The model whose scores are used.
    pub active: Option<Arc<LoadedModel>>,
    /// The one before it, still loaded.
    pub previous: Option<Arc<LoadedModel>>,
    /// A candidate in shadow or canary.
    pub candidate: Option<Arc<Candidate>>,
}

/// Which model answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The active model.
    Active,
    /// The canary.
    Canary,
}

/// The score an evaluation used, and the model that produced it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// Model name.
    pub name: String,
    /// Model version.
    pub version: String,
    /// The score, 0..=1.
    pub score: f64,
    /// Active or canary.
    pub role: Role,
    /// The package is a demonstration model (not for clinical use).
    pub demonstration: bool,
}

/// What changed in a rollout (persisted and audited by the facade).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RolloutEvent {
    /// The agent.
    pub agent: Specialty,
    /// `promoted`, `rolled_back`, `activated`, `candidate`.
    pub kind: &'static str,
    /// The package concerned.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Why (automatic rule, or who).
    pub reason: String,
    /// Automatic (a rule fired) or manual.
    pub automatic: bool,
    /// The candidate's counts at the time.
    pub stats: StatsView,
}

/// One agent's rollout.
#[derive(Debug)]
pub struct ModelSlot {
    agent: Specialty,
    policy: RolloutPolicy,
    clock: Arc<dyn Clock>,
    deployment: ArcSwap<Deployment>,
    sequence: AtomicU64,
    /// Serialises transitions (evaluations never wait on it).
    transition: Mutex<()>,
    events: Mutex<Vec<RolloutEvent>>,
}

impl ModelSlot {
    /// An empty slot (rules only until a model is set), timing candidates on the monotonic clock.
    pub fn new(agent: Specialty, policy: RolloutPolicy) -> Self {
        Self::with_clock(agent, policy, Arc::new(MonotonicClock::default()))
    }

    /// An empty slot that times candidates on `clock`.
    pub fn with_clock(agent: Specialty, policy: RolloutPolicy, clock: Arc<dyn Clock>) -> Self {
        Self {
            agent,
            policy,
            clock,
            deployment: ArcSwap::from_pointee(Deployment::default()),
            sequence: AtomicU64::new(0),
            transition: Mutex::new(()),
            events: Mutex::new(Vec::new()),
        }
    }

    /// The agent.
    pub fn agent(&self) -> Specialty {
        self.agent
    }

    /// The deployment now.
    pub fn current(&self) -> Arc<Deployment> {
        self.deployment.load_full()
    }

    /// Whether any model is loaded.
    pub fn has_model(&self) -> bool {
        let d = self.deployment.load();
        d.active.is_some() || d.candidate.is_some()
    }

    /// Events since the last drain.
    pub fn drain_events(&self) -> Vec<RolloutEvent> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn event(
        &self,
        kind: &'static str,
        model: &LoadedModel,
        reason: String,
        automatic: bool,
        stats: StatsView,
    ) {
        let e = RolloutEvent {
            agent: self.agent,
            kind,
            name: model.manifest.name.clone(),
            version: model.manifest.version.clone(),
            reason,
            automatic,
            stats,
        };
        tracing::info!(agent = %self.agent, kind, model = %model.label(), automatic, "model rollout");
        self.events.lock().unwrap_or_else(|p| p.into_inner()).push(e);
    }

    /// Replaces the whole deployment (loading from the store).
    pub fn set(&self, deployment: Deployment) {
        let _g = self.transition.lock().unwrap_or_else(|p| p.into_inner());
        self.deployment.store(Arc::new(deployment));
    }

    /// Makes `model` active at once; the active one becomes previous. A candidate of the same
    /// model is cleared.
    pub fn activate(&self, model: Arc<LoadedModel>, reason: &str) {
        let _g = self.transition.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.deployment.load_full();
        let candidate = old.candidate.clone().filter(|c| c.model.sha256 != model.sha256);
        let previous =
            old.active.clone().filter(|a| a.sha256 != model.sha256).or_else(|| old.previous.clone());
        self.deployment.store(Arc::new(Deployment { active: Some(Arc::clone(&model)), previous, candidate }));
        self.event("activated", &model, reason.to_owned(), false, StatsView::default());
    }

    /// Starts `model` as the candidate (replacing any other).
    pub fn stage(&self, model: Arc<LoadedModel>, mode: CandidateMode, stats: StatsView) {
        let _g = self.transition.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.deployment.load_full();
        let label = match mode {
            CandidateMode::Shadow => "shadow".to_owned(),
            CandidateMode::Canary { percent } => format!("canary at {percent} %"),
        };
        self.deployment.store(Arc::new(Deployment {
            active: old.active.clone(),
            previous: old.previous.clone(),
            candidate: Some(Arc::new(Candidate {
                model: Arc::clone(&model),
                mode,
                stats: CandidateStats::from_view(stats),
            })),
        }));
        self.event("candidate", &model, label, false, stats);
    }

    /// Promotes the candidate: it becomes active, the active one previous. `None` when there
    /// is no candidate (or not `expected`, when given).
    pub fn promote(
        &self,
        expected: Option<&Arc<Candidate>>,
        reason: &str,
        automatic: bool,
    ) -> Option<String> {
        let _g = self.transition.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.deployment.load_full();
        let candidate = old.candidate.clone()?;
        if expected.is_some_and(|e| !Arc::ptr_eq(e, &candidate)) {
            return None;
        }
        self.deployment.store(Arc::new(Deployment {
            active: Some(Arc::clone(&candidate.model)),
            previous: old.active.clone().or_else(|| old.previous.clone()),
            candidate: None,
        }));
        self.event("promoted", &candidate.model, reason.to_owned(), automatic, candidate.stats.view());
        Some(candidate.model.label())
    }

    /// Rolls back: a candidate is dropped; without one, the previous model becomes active
    /// again (or none: rules only). Returns what was rolled back.
    pub fn rollback(&self, reason: &str, automatic: bool) -> Option<String> {
        let _g = self.transition.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.deployment.load_full();
        if let Some(c) = &old.candidate {
            self.deployment.store(Arc::new(Deployment {
                active: old.active.clone(),
                previous: old.previous.clone(),
                candidate: None,
            }));
            self.event("rolled_back", &c.model, reason.to_owned(), automatic, c.stats.view());
            return Some(c.model.label());
        }
        let active = old.active.clone()?;
        self.deployment.store(Arc::new(Deployment {
            active: old.previous.clone(),
            previous: None,
            candidate: None,
        }));
        self.event("rolled_back", &active, reason.to_owned(), automatic, StatsView::default());
        Some(active.label())
    }

    /// Rolls back the candidate only if it is still `expected` (an automatic rule fired on it).
    fn rollback_candidate(&self, expected: &Arc<Candidate>, reason: String) {
        let _g = self.transition.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.deployment.load_full();
        if !old.candidate.as_ref().is_some_and(|c| Arc::ptr_eq(c, expected)) {
            return;
        }
        self.deployment.store(Arc::new(Deployment {
            active: old.active.clone(),
            previous: old.previous.clone(),
            candidate: None,
        }));
        self.event("rolled_back", &expected.model, reason, true, expected.stats.view());
    }

    /// Evaluates one feature vector on one snapshot of the deployment. `reference` is the
    /// rules' score, the comparison when no model is active. `None`: no model answered (the
    /// caller keeps the rules' finding); never an error.
    pub fn evaluate(&self, features: &[f32], reference: f64) -> Option<Scored> {
        let dep = self.deployment.load_full();
        let n = self.sequence.fetch_add(1, Ordering::Relaxed);
        let active = dep.active.as_ref().and_then(|m| {
            m.score(features)
                .map_err(|e| tracing::warn!(agent = %self.agent, model = %m.label(), error = %e, "active model failed"))
                .ok()
                .map(|s| (m, s))
        });
        let scored = |m: &LoadedModel, score, role| Scored {
            name: m.manifest.name.clone(),
            version: m.manifest.version.clone(),
            score,
            role,
            demonstration: m.manifest.demonstration,
        };
        let mut used = active.map(|(m, s)| scored(m, s, Role::Active));
        if let Some(c) = &dep.candidate {
            let started = self.clock.now();
            let result = c.model.score(features);
            let took = self.clock.now().saturating_sub(started);
            match result {
                Err(e) => {
                    c.stats.errors.fetch_add(1, Ordering::Relaxed);
                    self.rollback_candidate(c, format!("candidate failed: {e}"));
                }
                Ok(_) if took > self.policy.timeout => {
                    c.stats.errors.fetch_add(1, Ordering::Relaxed);
                    self.rollback_candidate(
                        c,
                        format!(
                            "candidate took {} ms, over the {} ms timeout",
                            took.as_millis(),
                            self.policy.timeout.as_millis()
                        ),
                    );
                }
                Ok(score) => {
                    let evaluations = c.stats.evaluations.fetch_add(1, Ordering::Relaxed) + 1;
                    let against = active.map_or(reference, |(_, s)| s);
                    if (score - against).abs() > self.policy.disagreement_margin {
                        c.stats.disagreements.fetch_add(1, Ordering::Relaxed);
                    }
                    if let CandidateMode::Canary { percent } = c.mode {
                        if n % 100 < u64::from(percent) {
                            used = Some(scored(&c.model, score, Role::Canary));
                        }
                    }
                    self.judge(c, evaluations, active.is_some());
                }
            }
        }
        used
    }

    fn judge(&self, c: &Arc<Candidate>, evaluations: u64, against_model: bool) {
        let p = &self.policy;
        let share = c.stats.disagreements.load(Ordering::Relaxed) as f64 / evaluations as f64;
        let early_breach = evaluations >= p.min_evaluations && share > 2.0 * p.max_disagreement;
        let final_breach = evaluations >= p.promote_after && share > p.max_disagreement;
        if against_model && (early_breach || final_breach) {
            let reason = format!(
                "disagreement {:.1} % over {evaluations} evaluations, above the {:.1} % limit",
                share * 100.0,
                p.max_disagreement * 100.0
            );
            self.rollback_candidate(c, reason);
        } else if matches!(c.mode, CandidateMode::Canary { .. }) && evaluations >= p.promote_after {
            let reason = format!(
                "{evaluations} evaluations, 0 errors, disagreement {:.1} % (limit {:.1} %)",
                share * 100.0,
                p.max_disagreement * 100.0
            );
            self.promote(Some(c), &reason, true);
        }
    }
}

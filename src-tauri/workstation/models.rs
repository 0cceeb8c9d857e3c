//! The facade's model packages: install (verify, load, test, stage), list, promote, rollback,
//! trusted keys, and the loaded rollouts the agents use. Every change is audited and writes its
//! rollout event and outbox message in the same transaction; a refused package leaves only an
//! audit event naming why.

use crate::domain::access::Operation;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use serde::Serialize;

use super::{Error, Workstation};
use crate::agents::pool::Pool;
use crate::agents::{Agent, Orchestrator, OrchestratorConfig, Specialty};
use crate::models::rollout::{Candidate, CandidateStats};
use crate::models::trust::KeyOrigin;
use crate::models::{
    CandidateMode, Deployment, Discovery, LoadedModel, ModelAgent, ModelSlot, Package, RolloutEvent,
    RolloutPolicy, RuntimeStatus, StatsView, TrustSet, TrustedKey, VerifiedPackage,
};
use crate::store::models::{self as rows, KeyRow};
use crate::store::{DeploymentRow, EventRow, PackageRow, StoreError};

/// How a newly installed package is rolled out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rollout {
    /// Canary at this share (percent).
    Canary(u8),
    /// Shadow: run beside the active model, not used.
    Shadow,
    /// Active at once (the previous active one stays loaded for rollback).
    Activate,
}

/// What an install did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstallReport {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Agent.
    pub agent: Specialty,
    /// File SHA-256.
    pub sha256: String,
    /// Signer key id.
    pub signer: String,
    /// Test vectors passed.
    pub test_vectors: usize,
    /// Verify + load + warm-up + test vectors, ms.
    pub load_ms: f64,
    /// How it was rolled out.
    pub rollout: Rollout,
    /// `false` when this exact file was already installed.
    pub newly_stored: bool,
    /// A demonstration model.
    pub demonstration: bool,
}

/// A package's state in its agent's rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PackageState {
    /// Its scores are used.
    Active,
    /// The one before, kept for rollback.
    Previous,
    /// Candidate, canary.
    Canary,
    /// Candidate, shadow.
    Shadow,
    /// Installed, not deployed.
    Installed,
}

/// One installed version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PackageVersion {
    /// The stored row.
    #[serde(flatten)]
    pub row: PackageRow,
    /// Its state.
    pub state: PackageState,
    /// A demonstration model.
    pub demonstration: bool,
}

/// The models view: runtime, every version and state, deployments, recent events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PackagesView {
    /// ONNX Runtime loaded or not.
    pub runtime: RuntimeStatus,
    /// Every installed version.
    pub packages: Vec<PackageVersion>,
    /// Per agent.
    pub deployments: Vec<DeploymentRow>,
    /// Newest first.
    pub events: Vec<EventRow>,
    /// Models that could not be loaded at start (their agents answer with rules).
    pub problems: Vec<String>,
    /// The store's purpose (`purpose.rs`).
    pub purpose: super::StorePurpose,
    /// What the purpose means for models, when it limits them (a clinical store).
    pub note: Option<String>,
}

/// The loaded rollouts of this workstation: one slot per specialty, the models loaded so far
/// (by file SHA-256, so a previous version reactivates instantly), and the runtime's status.
#[derive(Debug)]
pub struct ModelRuntime {
    /// ONNX Runtime's state.
    pub status: RuntimeStatus,
    /// Where this store may load ONNX Runtime from (its purpose's).
    discovery: Discovery,
    slots: BTreeMap<Specialty, Arc<ModelSlot>>,
    loaded: Mutex<HashMap<String, Arc<LoadedModel>>>,
    problems: Mutex<Vec<String>>,
    /// Each agent's deployment as last written, so an unchanged one is not written again (a
    /// screen refresh must not queue behind an import for nothing).
    persisted: Mutex<HashMap<Specialty, DeploymentRow>>,
}

impl ModelRuntime {
    fn lock_persisted(&self) -> std::sync::MutexGuard<'_, HashMap<Specialty, DeploymentRow>> {
        self.persisted.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The slot of `agent`.
    pub fn slot(&self, agent: Specialty) -> &Arc<ModelSlot> {
        &self.slots[&agent]
    }

    /// The loaded model of a package file, if loaded.
    fn cached(&self, sha256: &str) -> Option<Arc<LoadedModel>> {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner()).get(sha256).cloned()
    }

    fn remember(&self, model: Arc<LoadedModel>) {
        self.loaded.lock().unwrap_or_else(|p| p.into_inner()).insert(model.sha256.clone(), model);
    }

    /// Whether the loaded model `name` (any role) is a demonstration model.
    pub fn is_demonstration(&self, name: &str) -> bool {
        self.loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .any(|m| m.manifest.name == name && m.manifest.demonstration)
    }

    /// Problems met while loading.
    pub fn problems(&self) -> Vec<String> {
        self.problems.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn unavailable(&self) -> Option<String> {
        match &self.status {
            RuntimeStatus::Loaded { .. } => None,
            RuntimeStatus::Unavailable { reason } => Some(reason.clone()),
        }
    }
}

fn refused(file: &str, reason: impl std::fmt::Display) -> Error {
    Error::PackageRefused { file: file.to_owned(), reason: reason.to_string() }
}

fn mode_of(row: &DeploymentRow) -> Option<CandidateMode> {
    match row.candidate_mode.as_deref() {
        Some("shadow") => Some(CandidateMode::Shadow),
        Some("canary") => {
            // Exact: clamped to 1..=100 first.
            let percent = u8::try_from(row.canary_percent.unwrap_or(10).clamp(1, 100)).unwrap_or(100);
            Some(CandidateMode::Canary { percent })
        }
        _ => None,
    }
}

fn stats_of(row: &DeploymentRow) -> StatsView {
    // Counts are never negative in the store; a negative one reads as 0, as `max(0)` did.
    StatsView {
        evaluations: u64::try_from(row.evaluations).unwrap_or(0),
        errors: u64::try_from(row.errors).unwrap_or(0),
        disagreements: u64::try_from(row.disagreements).unwrap_or(0),
    }
}

/// The row of a slot's deployment now.
fn row_of(agent: Specialty, d: &Deployment) -> DeploymentRow {
    let (mode, percent) = match d.candidate.as_ref().map(|c| c.mode) {
        Some(CandidateMode::Shadow) => (Some("shadow".to_owned()), None),
        Some(CandidateMode::Canary { percent }) => (Some("canary".to_owned()), Some(i64::from(percent))),
        None => (None, None),
    };
    let stats = d.candidate.as_ref().map(|c| c.stats.view()).unwrap_or_default();
    // Counts of evaluations never reach 2^63; saturating keeps an impossible one from going negative.
    DeploymentRow {
        agent: agent.as_str().to_owned(),
        active: d.active.as_ref().map(|m| m.sha256.clone()),
        previous: d.previous.as_ref().map(|m| m.sha256.clone()),
        candidate: d.candidate.as_ref().map(|c| c.model.sha256.clone()),
        candidate_mode: mode,
        canary_percent: percent,
        evaluations: i64::try_from(stats.evaluations).unwrap_or(i64::MAX),
        errors: i64::try_from(stats.errors).unwrap_or(i64::MAX),
        disagreements: i64::try_from(stats.disagreements).unwrap_or(i64::MAX),
    }
}

/// A clinical store's refusal of a development or demonstration package (`purpose.rs`).
fn admit(package: &VerifiedPackage, purpose: super::StorePurpose) -> Result<(), String> {
    match purpose {
        super::StorePurpose::Clinical => super::purpose::clinical_refusal(package).map_or(Ok(()), Err),
        super::StorePurpose::Demo => Ok(()),
    }
}

fn parse_agent(s: &str) -> Option<Specialty> {
    Specialty::ALL.into_iter().find(|a| a.as_str() == s)
}

impl Workstation {
    /// The keys trusted now: the system configuration file's, then the store's.
    pub async fn trust_set(&self) -> Result<TrustSet, Error> {
        self.authorize(Operation::AgentsRead).await?;
        let path = TrustSet::config_path();
        let mut keys = TrustSet::read_config(&path).map_err(|e| Error::Models(e.to_string()))?;
        for k in rows::list_keys(self.store.pool()).await? {
            let key = TrustedKey::parse(&k.public_key, &k.label, KeyOrigin::Store, "store")
                .map_err(|e| Error::Models(e.to_string()))?;
            if !keys.iter().any(|c| c.id == key.id) {
                keys.push(key);
            }
        }
        Ok(TrustSet { keys })
    }

    /// Trusts a public key (hex) in the store. Audited.
    pub async fn add_trusted_key(&self, public_key: &str, label: &str) -> Result<TrustedKey, Error> {
        self.authorize(Operation::PackagesManage).await?;
        if super::purpose::is_development_key(public_key)
            && self.purpose().await? == super::StorePurpose::Clinical
        {
            return Err(Error::Models(
                "the Vigil development key signs demonstration models only; a clinical store does not \
                 trust it (nothing was changed)"
                    .to_owned(),
            ));
        }
        let key = TrustedKey::parse(public_key, label, KeyOrigin::Store, "the key argument")
            .map_err(|e| Error::Models(e.to_string()))?;
        let mut tx = self.store.begin().await?;
        let row =
            KeyRow { id: key.id.clone(), public_key: hex::encode(key.public_key), label: key.label.clone() };
        let added = rows::insert_key(&mut tx, &row, &self.actor_name(), Utc::now()).await?;
        let detail = serde_json::json!({ "key_id": key.id, "label": key.label, "added": added });
        self.audit(&mut tx, "model.key_add", None, detail).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(key)
    }

    /// Stops trusting a store key (config keys are IT's file). Installed packages it signed
    /// stop loading at the next start. Audited.
    pub async fn remove_trusted_key(&self, id: &str) -> Result<(), Error> {
        self.authorize(Operation::PackagesManage).await?;
        let mut tx = self.store.begin().await?;
        if !rows::delete_key(&mut tx, id).await? {
            return Err(Error::Models(format!(
                "no key {id} in the store (`vigil packages keys list`; keys from {} are removed there)",
                TrustSet::config_path().display()
            )));
        }
        self.audit(&mut tx, "model.key_remove", None, serde_json::json!({ "key_id": id })).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Verifies and loads a stored package (through the runtime's cache).
    async fn load_stored(&self, runtime: &ModelRuntime, sha256: &str) -> Result<Arc<LoadedModel>, Error> {
        if let Some(m) = runtime.cached(sha256) {
            return Ok(m);
        }
        let bytes = rows::package_bytes(self.store.pool(), sha256).await?;
        let trust = self.trust_set().await?;
        let purpose = self.purpose().await?;
        let discovery = runtime.discovery;
        let model = tokio::task::spawn_blocking(move || -> Result<LoadedModel, String> {
            let verified = Package::verify(&bytes, &trust).map_err(|e| e.to_string())?;
            admit(&verified, purpose)?;
            LoadedModel::load_in(&verified, discovery).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
        .map_err(|e| Error::Models(format!("stored package {}: {e}", &sha256[..12])))?;
        let model = Arc::new(model);
        runtime.remember(Arc::clone(&model));
        Ok(model)
    }

    /// Builds an agent's deployment from its stored row.
    async fn apply_row(&self, runtime: &ModelRuntime, row: &DeploymentRow) -> Result<(), Error> {
        let Some(agent) = parse_agent(&row.agent) else { return Ok(()) };
        let mut d = Deployment::default();
        if let Some(sha) = &row.active {
            d.active = Some(self.load_stored(runtime, sha).await?);
        }
        if let Some(sha) = &row.previous {
            // The previous version is a convenience; failing to load it is not fatal.
            d.previous = self.load_stored(runtime, sha).await.ok();
        }
        if let (Some(sha), Some(mode)) = (&row.candidate, mode_of(row)) {
            let model = self.load_stored(runtime, sha).await?;
            d.candidate =
                Some(Arc::new(Candidate { model, mode, stats: CandidateStats::from_view(stats_of(row)) }));
        }
        runtime.slot(agent).set(d);
        Ok(())
    }

    /// The loaded rollouts, loaded from the store on first use. A model that no longer
    /// verifies or loads is left out (its agent answers with rules) and listed in `problems`.
    pub async fn model_runtime(&self) -> Result<Arc<ModelRuntime>, Error> {
        self.authorize(Operation::AgentsRead).await?;
        self.models
            .get_or_try_init(|| async {
                let discovery = self.purpose().await?.discovery();
                let status = tokio::task::spawn_blocking(move || crate::models::runtime::status(discovery))
                    .await
                    .map_err(|e| Error::Internal(e.to_string()))?;
                let policy = RolloutPolicy::default();
                let runtime = ModelRuntime {
                    status,
                    discovery,
                    slots: Specialty::ALL
                        .into_iter()
                        .map(|s| (s, Arc::new(ModelSlot::new(s, policy))))
                        .collect(),
                    persisted: Mutex::new(HashMap::new()),
                    loaded: Mutex::new(HashMap::new()),
                    problems: Mutex::new(Vec::new()),
                };
                if let RuntimeStatus::Unavailable { reason } = &runtime.status {
                    tracing::warn!("{reason}");
                } else {
                    for row in rows::deployments(self.store.pool()).await? {
                        if let Err(e) = self.apply_row(&runtime, &row).await {
                            tracing::warn!(agent = %row.agent, error = %e, "model not loaded; rules answer");
                            runtime
                                .problems
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push(format!("{}: {e}", row.agent));
                        }
                    }
                }
                Ok(Arc::new(runtime))
            })
            .await
            .cloned()
    }

    /// An orchestrator whose agents are the rules with this workstation's model rollouts.
    pub async fn orchestrator(&self, config: &OrchestratorConfig) -> Result<Orchestrator, Error> {
        self.authorize(Operation::AgentsRead).await?;
        let runtime = self.model_runtime().await?;
        let pools = config
            .pools
            .iter()
            .map(|(&specialty, shape)| {
                let agent = ModelAgent::new(Arc::clone(runtime.slot(specialty)), runtime.unavailable());
                let instances = (0..shape.instances.max(1))
                    .map(|_| (Arc::new(agent.clone()) as Arc<dyn Agent>, shape.capacity))
                    .collect();
                Pool::new(specialty, shape.config, instances)
            })
            .collect();
        Ok(Orchestrator::new(pools))
    }

    /// Installs a package file: verify against the trusted keys, load, warm up, run its test
    /// vectors, then store it and roll it out. Refused packages store nothing; the refusal is
    /// audited with its reason.
    pub async fn install_package(&self, file: &Path, rollout: Rollout) -> Result<InstallReport, Error> {
        self.authorize(Operation::PackagesManage).await?;
        let name = file.display().to_string();
        let bytes = std::fs::read(file).map_err(|e| refused(&name, format!("cannot read it: {e}")))?;
        self.install_package_bytes(&name, bytes, rollout).await
    }

    /// [`Workstation::install_package`] for bytes already in memory (`name` labels them).
    pub async fn install_package_bytes(
        &self,
        name: &str,
        bytes: Vec<u8>,
        rollout: Rollout,
    ) -> Result<InstallReport, Error> {
        self.authorize(Operation::PackagesManage).await?;
        let name = name.to_owned();
        let trust = self.trust_set().await?;
        let purpose = self.purpose().await?;
        let started = std::time::Instant::now();
        let checked = tokio::task::spawn_blocking(
            move || -> Result<(VerifiedPackage, LoadedModel, Vec<u8>), String> {
                let verified = Package::verify(&bytes, &trust).map_err(|e| e.to_string())?;
                admit(&verified, purpose)?;
                let model =
                    LoadedModel::load_in(&verified, purpose.discovery()).map_err(|e| e.to_string())?;
                Ok((verified, model, bytes))
            },
        )
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
        let (verified, model, bytes) = match checked {
            Ok(v) => v,
            Err(reason) => {
                let mut tx = self.store.begin().await?;
                let detail = serde_json::json!({ "file": name, "reason": reason });
                self.audit(&mut tx, "model.refused", None, detail).await?;
                tx.commit().await.map_err(StoreError::from)?;
                return Err(refused(&name, reason));
            }
        };
        let load_ms = started.elapsed().as_secs_f64() * 1e3;
        let m = &verified.package.manifest;
        let manifest_json = String::from_utf8_lossy(&verified.package.manifest_bytes).into_owned();
        let runtime = self.model_runtime().await?;
        let model = Arc::new(model);
        runtime.remember(Arc::clone(&model));
        let mut tx = self.store.begin().await?;
        let now = Utc::now();
        let newly_stored = rows::insert_package(
            &mut tx,
            &verified.sha256,
            m,
            &manifest_json,
            &verified.signer.id,
            &bytes,
            &self.actor_name(),
            now,
        )
        .await?;
        let slot = runtime.slot(m.agent);
        let reason = format!("installed by {}", self.actor_name());
        rows::insert_event(
            &mut tx,
            m.agent.as_str(),
            "installed",
            &m.name,
            &m.version,
            false,
            &reason,
            &self.actor_name(),
            now,
        )
        .await?;
        match rollout {
            Rollout::Activate => slot.activate(Arc::clone(&model), &reason),
            Rollout::Shadow => slot.stage(Arc::clone(&model), CandidateMode::Shadow, StatsView::default()),
            Rollout::Canary(p) => slot.stage(
                Arc::clone(&model),
                CandidateMode::Canary { percent: p.clamp(1, 100) },
                StatsView::default(),
            ),
        }
        self.persist_slot(&mut tx, slot).await?;
        let detail = serde_json::json!({
            "name": m.name, "version": m.version, "agent": m.agent, "sha256": verified.sha256,
            "signer": verified.signer.id, "rollout": rollout,
        });
        self.audit(&mut tx, "model.install", None, detail).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(InstallReport {
            name: m.name.clone(),
            version: m.version.clone(),
            agent: m.agent,
            sha256: verified.sha256.clone(),
            signer: verified.signer.id.clone(),
            test_vectors: verified.test_vectors.vectors.len(),
            load_ms,
            rollout,
            newly_stored,
            demonstration: m.demonstration,
        })
    }

    /// Writes a slot's deployment row, its drained events, and their outbox message.
    async fn persist_slot(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        slot: &ModelSlot,
    ) -> Result<(), Error> {
        let events = slot.drain_events();
        self.write_slot(tx, &events, &row_of(slot.agent(), &slot.current())).await
    }

    async fn write_slot(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        events: &[RolloutEvent],
        row: &DeploymentRow,
    ) -> Result<(), Error> {
        let now = Utc::now();
        for e in events {
            let me = self.actor_name();
            let actor = if e.automatic { "vigil" } else { me.as_str() };
            rows::insert_event(
                tx,
                e.agent.as_str(),
                e.kind,
                &e.name,
                &e.version,
                e.automatic,
                &e.reason,
                actor,
                now,
            )
            .await?;
        }
        rows::put_deployment(tx, row, now).await?;
        if !events.is_empty() {
            let payload = serde_json::json!({ "deployment": row, "events": events });
            crate::store::outbox_enqueue(tx, "model_deployment", None, None, "update", &payload, now).await?;
        }
        Ok(())
    }

    /// Persists what the rollouts did since the last call (automatic promotions and rollbacks,
    /// canary counts). The facade's assessment calls it; so can a long-running window. A
    /// deployment with no event and no change since it was last written is not written again.
    pub async fn persist_rollouts(&self) -> Result<usize, Error> {
        self.authorize(Operation::AgentsRead).await?;
        let Some(runtime) = self.models.get() else { return Ok(0) };
        let mut changed = 0;
        for slot in runtime.slots.values() {
            if !slot.has_model() {
                continue;
            }
            let events = slot.drain_events();
            let row = row_of(slot.agent(), &slot.current());
            let unchanged = runtime.lock_persisted().get(&slot.agent()) == Some(&row);
            if events.is_empty() && unchanged {
                continue;
            }
            let mut tx = self.store.begin().await?;
            self.write_slot(&mut tx, &events, &row).await?;
            if !events.is_empty() {
                let detail = serde_json::json!({ "agent": slot.agent(), "events": events.len() });
                self.audit(&mut tx, "model.rollout", None, detail).await?;
            }
            tx.commit().await.map_err(StoreError::from)?;
            runtime.lock_persisted().insert(slot.agent(), row);
            changed += events.len();
        }
        Ok(changed)
    }

    async fn package_rows(&self) -> Result<Vec<PackageRow>, Error> {
        Ok(rows::list_packages(self.store.pool()).await?)
    }

    /// Promotes `name` `version` to active for its agent (a candidate or any installed
    /// version). The active one becomes previous. Audited.
    pub async fn promote_package(&self, name: &str, version: &str) -> Result<String, Error> {
        self.authorize(Operation::PackagesManage).await?;
        let packages = self.package_rows().await?;
        let Some(p) = packages.iter().find(|p| p.name == name && p.version == version) else {
            return Err(Error::Models(format!(
                "no package {name} {version} installed (`vigil packages list`)"
            )));
        };
        let agent =
            parse_agent(&p.agent).ok_or_else(|| Error::Models(format!("unknown agent {}", p.agent)))?;
        let runtime = self.model_runtime().await?;
        if let Some(reason) = runtime.unavailable() {
            return Err(Error::Models(format!("cannot promote: {reason}")));
        }
        let model = self.load_stored(&runtime, &p.sha256).await?;
        let slot = runtime.slot(agent);
        let reason = format!("promoted by {}", self.actor_name());
        let is_candidate = slot.current().candidate.as_ref().is_some_and(|c| c.model.sha256 == p.sha256);
        if is_candidate {
            slot.promote(None, &reason, false);
        } else {
            slot.activate(model, &reason);
        }
        let mut tx = self.store.begin().await?;
        self.persist_slot(&mut tx, slot).await?;
        let detail = serde_json::json!({ "name": name, "version": version, "agent": agent });
        self.audit(&mut tx, "model.promote", None, detail).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(format!("{name} {version} is active for {agent}"))
    }

    /// Rolls back `name`: its candidate is dropped, or, when it is active, the previous version
    /// becomes active again (none: the agent's rules alone). Works without ONNX Runtime, on the
    /// stored rows. Audited.
    pub async fn rollback_package(&self, name: &str) -> Result<String, Error> {
        self.authorize(Operation::PackagesManage).await?;
        let packages = self.package_rows().await?;
        let mine: Vec<&PackageRow> = packages.iter().filter(|p| p.name == name).collect();
        let Some(first) = mine.first() else {
            return Err(Error::Models(format!("no package named {name} installed (`vigil packages list`)")));
        };
        let agent = parse_agent(&first.agent)
            .ok_or_else(|| Error::Models(format!("unknown agent {}", first.agent)))?;
        let is_mine =
            |sha: &Option<String>| sha.as_ref().is_some_and(|s| mine.iter().any(|p| &p.sha256 == s));
        let version_of = |sha: &Option<String>| {
            packages
                .iter()
                .find(|p| Some(&p.sha256) == sha.as_ref())
                .map(|p| p.version.clone())
                .unwrap_or_default()
        };
        let runtime = self.model_runtime().await?;
        let slot = runtime.slot(agent);
        let reason = format!("rolled back by {}", self.actor_name());
        let mut tx = self.store.begin().await?;
        let stored = rows::deployments(&mut *tx).await?;
        let mut row = stored.into_iter().find(|r| r.agent == agent.as_str()).unwrap_or_default();
        row.agent = agent.as_str().to_owned();
        let (what, version) = if is_mine(&row.candidate) {
            let v = version_of(&row.candidate);
            (row.candidate.take(), v)
        } else if is_mine(&row.active) {
            let v = version_of(&row.active);
            (std::mem::replace(&mut row.active, row.previous.take()), v)
        } else {
            return Err(Error::Models(format!(
                "{name} is neither active nor in rollout for {agent}; nothing to roll back"
            )));
        };
        if what.is_some() && row.candidate.is_none() {
            row.candidate_mode = None;
            row.canary_percent = None;
            (row.evaluations, row.errors, row.disagreements) = (0, 0, 0);
        }
        let now = Utc::now();
        rows::put_deployment(&mut tx, &row, now).await?;
        rows::insert_event(
            &mut tx,
            agent.as_str(),
            "rolled_back",
            name,
            &version,
            false,
            &reason,
            &self.actor_name(),
            now,
        )
        .await?;
        let payload =
            serde_json::json!({ "deployment": row, "rolled_back": { "name": name, "version": version } });
        crate::store::outbox_enqueue(&mut tx, "model_deployment", None, None, "update", &payload, now)
            .await?;
        let detail = serde_json::json!({ "name": name, "version": version, "agent": agent });
        self.audit(&mut tx, "model.rollback", None, detail).await?;
        tx.commit().await.map_err(StoreError::from)?;
        // The in-memory rollout follows the stored row (instant: the models are cached).
        if runtime.unavailable().is_none() {
            self.apply_row(&runtime, &row).await?;
            slot.drain_events();
        }
        let now_active = version_of(&row.active);
        Ok(if row.active.is_some() {
            format!("{name} {version} rolled back; {agent} runs {now_active}")
        } else {
            format!("{name} {version} rolled back; {agent} runs on its rules")
        })
    }

    /// Every package version with its state, the deployments, recent events and the runtime.
    pub async fn packages(&self) -> Result<PackagesView, Error> {
        self.authorize(Operation::AgentsRead).await?;
        let runtime = self.model_runtime().await?;
        let mut tx = self.store.begin().await?;
        let packages = rows::list_packages(&mut *tx).await?;
        let deployments = rows::deployments(&mut *tx).await?;
        let events = rows::list_events(&mut *tx, 50).await?;
        self.audit(&mut tx, "model.list", None, serde_json::json!({ "packages": packages.len() })).await?;
        tx.commit().await.map_err(StoreError::from)?;
        let state = |sha: &str| {
            let some = |s: &Option<String>| s.as_deref() == Some(sha);
            deployments
                .iter()
                .find_map(|d| {
                    if some(&d.active) {
                        Some(PackageState::Active)
                    } else if some(&d.candidate) {
                        Some(if d.candidate_mode.as_deref() == Some("shadow") {
                            PackageState::Shadow
                        } else {
                            PackageState::Canary
                        })
                    } else if some(&d.previous) {
                        Some(PackageState::Previous)
                    } else {
                        None
                    }
                })
                .unwrap_or(PackageState::Installed)
        };
        let packages = packages
            .into_iter()
            .map(|row| PackageVersion {
                state: state(&row.sha256),
                demonstration: row.manifest.get("demonstration").and_then(|d| d.as_bool()).unwrap_or(false),
                row,
            })
            .collect();
        let purpose = self.purpose().await?;
        Ok(PackagesView {
            runtime: runtime.status.clone(),
            packages,
            deployments,
            events,
            problems: runtime.problems(),
            purpose,
            note: purpose.models_note().map(str::to_owned),
        })
    }
}

//! Domain values into the screens' read models, and the agents-and-models view.

use serde::Serialize;

use super::{AlertView, AssessmentView, EvidenceView, FindingView, TransitionView, view};
use crate::agents::alerting::{Alert, Transition};
use crate::agents::{Assessment, Evidence, Finding, Method, PoolMetrics};
use crate::domain::Patient;
use crate::models::RuntimeStatus;
use crate::workstation::PackagesView;

/// A serde enum's snake_case name.
pub(crate) fn name<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

pub(crate) fn ms(t: chrono::DateTime<chrono::Utc>) -> f64 {
    t.timestamp_millis() as f64
}

pub(crate) fn evidence(e: &Evidence) -> EvidenceView {
    EvidenceView {
        feature: e.feature.to_string(),
        value: e.value,
        threshold: e.threshold,
        comparison: e.comparison.to_string(),
        triggered: e.triggered,
        source: e.source.to_string(),
    }
}

fn finding(f: &Finding, demonstration: &dyn Fn(&str) -> bool) -> FindingView {
    let (method, demo) = match &f.method {
        Method::Rules => ("Rules".to_owned(), false),
        Method::Fallback => ("Fallback".to_owned(), false),
        Method::Model { name, version } => (format!("Model {name} {version}"), demonstration(name)),
    };
    FindingView {
        code: f.code.clone(),
        specialty: f.specialty.as_str().to_owned(),
        risk_level: f.risk_level.as_str().to_owned(),
        risk_score: f.risk_score,
        confidence: f.confidence,
        method,
        demonstration_model: demo,
        note: f.note.clone(),
        evidence: f.evidence.iter().map(evidence).collect(),
        recommendations: f.recommendations.clone(),
    }
}

pub(crate) fn assessment(a: &Assessment, demonstration: &dyn Fn(&str) -> bool) -> AssessmentView {
    AssessmentView {
        time_ms: ms(a.time),
        risk_score: a.risk_score,
        risk_level: a.risk_level.as_str().to_owned(),
        confidence: a.confidence,
        event: a.event.map(|e| e.as_str().to_owned()),
        findings: a.findings.iter().map(|f| finding(f, demonstration)).collect(),
    }
}

fn transition(t: &Transition) -> TransitionView {
    TransitionView { by: t.by.clone(), at_ms: ms(t.at), note: t.note.clone() }
}

/// An alert for the inbox, with its patient's name and MRN.
pub fn alert_view(a: &Alert, patient: Option<&Patient>) -> AlertView {
    AlertView {
        id: a.id.to_string(),
        patient_id: a.patient_id.to_string(),
        mrn: patient.map(|p| p.mrn.clone()).unwrap_or_default(),
        name: patient.map(|p| p.name.clone()).unwrap_or_default(),
        event: a.event.as_str().to_owned(),
        risk_level: a.risk_level.as_str().to_owned(),
        risk_score: a.risk_score,
        confidence: a.confidence,
        status: a.status.as_str().to_owned(),
        created_ms: ms(a.created_at),
        event_ms: ms(a.event_time),
        evidence: a.evidence.iter().map(evidence).collect(),
        recommendations: a.recommendations.clone(),
        acknowledged: a.acknowledged.as_ref().map(transition),
        resolved: a.resolved.as_ref().map(transition),
    }
}

view! {
    /// One agent instance's live figures.
    pub struct InstanceView {
        /// Instance id.
        pub id: String,
        /// Calls in flight.
        pub load: u32,
        /// Capacity.
        pub capacity: u32,
        /// `healthy`, `degraded`, `unhealthy`.
        pub health: String,
        /// `closed`, `open`, `half_open`.
        pub breaker: String,
        /// Latency p50, ms.
        pub p50_ms: Option<f64>,
        /// p99, ms.
        pub p99_ms: Option<f64>,
        /// Share of calls that failed.
        pub error_rate: f64,
        /// Calls.
        pub calls: f64,
    }
}

view! {
    /// One specialty's pool.
    pub struct PoolView {
        /// Specialty.
        pub specialty: String,
        /// Balancing strategy.
        pub strategy: String,
        /// In flight.
        pub load: u32,
        /// Capacity.
        pub capacity: u32,
        /// Fallback findings given.
        pub fallbacks: f64,
        /// Instances.
        pub instances: Vec<InstanceView>,
        /// The model serving it (`rules only` when none).
        pub model: String,
    }
}

view! {
    /// One installed package version.
    pub struct PackageRowView {
        /// Name.
        pub name: String,
        /// Version.
        pub version: String,
        /// Agent.
        pub agent: String,
        /// `active`, `previous`, `canary`, `shadow`, `installed`.
        pub state: String,
        /// Demonstration model, not for clinical use.
        pub demonstration: bool,
        /// Signer key id.
        pub signer: String,
        /// Installed, UTC ms.
        pub installed_ms: f64,
        /// Installed by.
        pub installed_by: String,
    }
}

view! {
    /// A candidate in rollout.
    pub struct CandidateView {
        /// Agent.
        pub agent: String,
        /// `shadow` or `canary`.
        pub mode: String,
        /// Canary share, %.
        pub percent: Option<u32>,
        /// Evaluations.
        pub evaluations: f64,
        /// Errors.
        pub errors: f64,
        /// Disagreements.
        pub disagreements: f64,
    }
}

view! {
    /// A rollout event.
    pub struct ModelEventView {
        /// UTC ms.
        pub at_ms: f64,
        /// Agent.
        pub agent: String,
        /// `installed`, `candidate`, `activated`, `promoted`, `rolled_back`.
        pub kind: String,
        /// Package.
        pub name: String,
        /// Version.
        pub version: String,
        /// A rule did it.
        pub automatic: bool,
        /// Why.
        pub reason: String,
        /// Who.
        pub actor: String,
    }
}

view! {
    /// The agents-and-models screen.
    pub struct AgentsView {
        /// ONNX Runtime loaded.
        pub runtime_ok: bool,
        /// Its path, or why it is not there.
        pub runtime: String,
        /// Pools, per specialty.
        pub pools: Vec<PoolView>,
        /// Installed versions.
        pub packages: Vec<PackageRowView>,
        /// Candidates in rollout.
        pub candidates: Vec<CandidateView>,
        /// Newest first.
        pub events: Vec<ModelEventView>,
        /// Models that could not be loaded.
        pub problems: Vec<String>,
    }
}

/// The agents-and-models view from the pools' metrics and the packages.
pub fn agents_view(metrics: &[PoolMetrics], packages: &PackagesView) -> AgentsView {
    let (runtime_ok, runtime) = match &packages.runtime {
        RuntimeStatus::Loaded { path, source } => (true, format!("{path} ({source})")),
        RuntimeStatus::Unavailable { reason } => (false, reason.clone()),
    };
    let active = |agent: &str| {
        packages
            .packages
            .iter()
            .find(|p| p.row.agent == agent && p.state == crate::workstation::PackageState::Active)
            .map(|p| format!("{} {}", p.row.name, p.row.version))
    };
    AgentsView {
        runtime_ok,
        runtime,
        pools: metrics
            .iter()
            .map(|p| PoolView {
                specialty: p.specialty.as_str().to_owned(),
                strategy: name(&p.strategy),
                load: p.load,
                capacity: p.capacity,
                fallbacks: p.fallbacks as f64,
                instances: p
                    .instances
                    .iter()
                    .map(|i| InstanceView {
                        id: i.id.clone(),
                        load: i.load,
                        capacity: i.capacity,
                        health: name(&i.health),
                        breaker: name(&i.breaker),
                        p50_ms: i.p50_ms,
                        p99_ms: i.p99_ms,
                        error_rate: i.error_rate,
                        calls: i.calls as f64,
                    })
                    .collect(),
                model: if runtime_ok {
                    active(p.specialty.as_str()).unwrap_or_else(|| "rules only".to_owned())
                } else {
                    "rules only (no ONNX Runtime)".to_owned()
                },
            })
            .collect(),
        packages: packages
            .packages
            .iter()
            .map(|p| PackageRowView {
                name: p.row.name.clone(),
                version: p.row.version.clone(),
                agent: p.row.agent.clone(),
                state: name(&p.state),
                demonstration: p.demonstration,
                signer: p.row.signer_key_id.clone(),
                installed_ms: ms(p.row.installed_at),
                installed_by: p.row.installed_by.clone(),
            })
            .collect(),
        candidates: packages
            .deployments
            .iter()
            .filter(|d| d.candidate.is_some())
            .map(|d| CandidateView {
                agent: d.agent.clone(),
                mode: d.candidate_mode.clone().unwrap_or_default(),
                percent: d.canary_percent.and_then(|p| u32::try_from(p).ok()),
                evaluations: d.evaluations as f64,
                errors: d.errors as f64,
                disagreements: d.disagreements as f64,
            })
            .collect(),
        events: packages
            .events
            .iter()
            .map(|e| ModelEventView {
                at_ms: ms(e.at),
                agent: e.agent.clone(),
                kind: e.kind.clone(),
                name: e.name.clone(),
                version: e.version.clone(),
                automatic: e.automatic,
                reason: e.reason.clone(),
                actor: e.actor.clone(),
            })
            .collect(),
        problems: packages.problems.clone(),
    }
}

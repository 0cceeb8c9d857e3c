//! ONNX Runtime, loaded at run time (`ort` with `load-dynamic`, DESIGN.md section 2), and a
//! loaded, checked model.
//!
//! Where the library may come from depends on the store's purpose ([`Discovery`], `locate.rs`):
//! a clinical store loads only IT's configured file or the install directory's, each checked
//! against a SHA-256; a demo store may also use the Python venv. When it is nowhere, or refused,
//! [`status`] says so in one line and the agents keep answering with their rules.
//!
//! The library is loaded once per process (ort keeps it in a global). A process that loaded it
//! from a Python environment for a demo store does not use it for a clinical store.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::{TensorElementType, TensorRef};

use super::locate::{Found, Origin, Search};
use super::manifest::Manifest;
use super::package::VerifiedPackage;

pub use super::locate::Discovery;

/// The runtime's state, for `vigil agents status` and the window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RuntimeStatus {
    /// Loaded from `path`.
    Loaded {
        /// The library file.
        path: String,
        /// How it was found and checked (`install directory, SHA-256 verified`, ...).
        source: String,
    },
    /// Not found, refused or not loadable: models are off, rules answer.
    Unavailable {
        /// One line: what was tried and what failed.
        reason: String,
    },
}

/// The library loaded in this process, and where from.
static LOADED: OnceLock<(Environment, Found)> = OnceLock::new();
/// Why a search failed, per discovery, so a refused file is not hashed again at every call.
static FAILED: Mutex<Option<HashMap<Discovery, String>>> = Mutex::new(None);

/// The process's ONNX Runtime environment for a store searching with `discovery`, loaded on
/// first use.
pub fn runtime(discovery: Discovery) -> Result<&'static Environment, String> {
    loaded(discovery).map(|(env, _)| env)
}

/// Whether the runtime is there for `discovery`, and where from.
pub fn status(discovery: Discovery) -> RuntimeStatus {
    match loaded(discovery) {
        Ok((_, found)) => RuntimeStatus::Loaded {
            path: found.path.display().to_string(),
            source: found.origin.describe().to_owned(),
        },
        Err(reason) => RuntimeStatus::Unavailable { reason },
    }
}

fn loaded(discovery: Discovery) -> Result<&'static (Environment, Found), String> {
    if let Some(l) = LOADED.get() {
        return admit(l, discovery);
    }
    let mut failed = FAILED.lock().unwrap_or_else(|p| p.into_inner());
    // Another thread may have loaded it while this one waited for the lock.
    if let Some(l) = LOADED.get() {
        return admit(l, discovery);
    }
    if let Some(reason) = failed.as_ref().and_then(|f| f.get(&discovery)) {
        return Err(reason.clone());
    }
    match Search::from_env().locate(discovery).and_then(start) {
        Ok(pair) => {
            let l = LOADED.get_or_init(|| pair);
            admit(l, discovery)
        }
        Err(reason) => {
            tracing::warn!("{reason}");
            failed.get_or_insert_with(HashMap::new).insert(discovery, reason.clone());
            Err(reason)
        }
    }
}

/// A clinical store does not use a library loaded from a Python environment.
fn admit(
    l: &'static (Environment, Found),
    discovery: Discovery,
) -> Result<&'static (Environment, Found), String> {
    if discovery == Discovery::Trusted && l.1.origin == Origin::Development {
        return Err(format!(
            "ONNX Runtime in this process was loaded from a Python environment ({}) for a demo \
             store; a clinical store does not use it. Models are off, agents answer with their rules",
            l.1.path.display()
        ));
    }
    Ok(l)
}

fn start(found: Found) -> Result<(Environment, Found), String> {
    let path: PathBuf = found.path.clone();
    let env = ort::init_from(&path)
        .map_err(|e| format!("ONNX Runtime at {} does not load: {e}", path.display()))?
        .with_name("vigil")
        .with_logger(std::sync::Arc::new(ort_log))
        .build()
        .map_err(|e| format!("ONNX Runtime at {} does not start: {e}", path.display()))?;
    tracing::info!(path = %path.display(), source = found.origin.describe(), "ONNX Runtime loaded");
    Ok((env, found))
}

/// ONNX Runtime's own log, into `tracing` (its messages name operators and shapes, never
/// values). Its errors are the failures `LoadedModel::score` already reports, so they are warnings.
fn ort_log(level: ort::logging::LogLevel, category: &str, _id: &str, location: &str, message: &str) {
    use ort::logging::LogLevel;
    match level {
        LogLevel::Error | LogLevel::Fatal => {
            tracing::warn!(target: "onnxruntime", category, location, "{message}")
        }
        LogLevel::Warning => tracing::info!(target: "onnxruntime", category, "{message}"),
        LogLevel::Info | LogLevel::Verbose => tracing::debug!(target: "onnxruntime", category, "{message}"),
    }
}

/// Why a model cannot be loaded or did not answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    /// No runtime: see [`status`].
    #[error("{0}")]
    RuntimeUnavailable(String),
    /// ONNX Runtime refused the graph.
    #[error("the model does not load: {0}")]
    Load(String),
    /// The graph's opset is not the manifest's.
    #[error("the model's opset is {model}, the manifest says {manifest}")]
    OpsetMismatch {
        /// The manifest's.
        manifest: u32,
        /// The graph's.
        model: u32,
    },
    /// The graph's inputs or outputs are not what the manifest says.
    #[error("the model's interface does not match the manifest: {0}")]
    Interface(String),
    /// A test vector failed.
    #[error("test vector {index} fails: expected {expected}, the model gives {got} (tolerance {tolerance})")]
    TestVector {
        /// 1-based.
        index: usize,
        /// The vector's expected score.
        expected: f64,
        /// The model's.
        got: f64,
        /// The tolerance.
        tolerance: f64,
    },
    /// The package has no test vectors.
    #[error("the package has no test vectors")]
    NoTestVectors,
    /// Inference failed.
    #[error("inference failed: {0}")]
    Inference(String),
    /// The score is NaN, infinite or outside 0..=1.
    #[error("the model returned {0}, not a score in 0..=1")]
    BadScore(f64),
}

/// A model loaded from a verified package, warmed up, its test vectors passed.
#[derive(Debug)]
pub struct LoadedModel {
    /// Its manifest.
    pub manifest: Manifest,
    /// The package file's SHA-256.
    pub sha256: String,
    /// `Session::run` takes `&mut self` in ort rc.15; inference takes microseconds, so one
    /// session behind a mutex serves the pool.
    session: Mutex<Session>,
    /// How long loading, warm-up and the test vectors took.
    pub load_time: Duration,
}

impl LoadedModel {
    /// Loads `package` on the runtime a clinical store may use ([`Discovery::Trusted`]): see
    /// [`LoadedModel::load_in`].
    pub fn load(package: &VerifiedPackage) -> Result<LoadedModel, ModelError> {
        Self::load_in(package, Discovery::Trusted)
    }

    /// Loads `package` on the runtime `discovery` allows: creates the session (one thread),
    /// checks opset, input and output against the manifest, warms up, and runs every test vector.
    pub fn load_in(package: &VerifiedPackage, discovery: Discovery) -> Result<LoadedModel, ModelError> {
        let started = Instant::now();
        let env = runtime(discovery).map_err(ModelError::RuntimeUnavailable)?;
        let load_err = |e: ort::Error<_>| ModelError::Load(e.to_string());
        let session = Session::builder(env)
            .map_err(|e| ModelError::Load(e.to_string()))?
            .with_intra_threads(1)
            .map_err(load_err)?
            .with_inter_threads(1)
            .map_err(load_err)?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(load_err)?
            .commit_from_memory(&package.package.model)
            .map_err(|e| ModelError::Load(e.to_string()))?;
        let manifest = package.package.manifest.clone();
        if let Some(opset) = session.opset_for_domain("") {
            if opset != manifest.opset {
                return Err(ModelError::OpsetMismatch { manifest: manifest.opset, model: opset });
            }
        }
        check_interface(&session, &manifest)?;
        let model = LoadedModel {
            manifest,
            sha256: package.sha256.clone(),
            session: Mutex::new(session),
            load_time: Duration::ZERO,
        };
        let vectors = &package.test_vectors;
        if vectors.vectors.is_empty() {
            return Err(ModelError::NoTestVectors);
        }
        // Warm-up: the first run allocates; do it before anyone waits on one.
        for _ in 0..3 {
            model.score(&vectors.vectors[0].input)?;
        }
        for (i, v) in vectors.vectors.iter().enumerate() {
            let got = model.raw_score(&v.input)?;
            // NaN fails too: only a difference known to be within the tolerance passes.
            let within = (got - v.expected).abs().partial_cmp(&vectors.tolerance).is_some_and(|o| o.is_le());
            if !within {
                return Err(ModelError::TestVector {
                    index: i + 1,
                    expected: v.expected,
                    got,
                    tolerance: vectors.tolerance,
                });
            }
        }
        Ok(LoadedModel { load_time: started.elapsed(), ..model })
    }

    /// `name version`.
    pub fn label(&self) -> String {
        format!("{} {}", self.manifest.name, self.manifest.version)
    }

    fn raw_score(&self, input: &[f32]) -> Result<f64, ModelError> {
        let m = &self.manifest;
        if input.len() != m.features.len() {
            return Err(ModelError::Inference(format!(
                "{} inputs given, the model takes {}",
                input.len(),
                m.features.len()
            )));
        }
        let tensor = TensorRef::from_array_view(([1usize, input.len()], input))
            .map_err(|e| ModelError::Inference(e.to_string()))?;
        // A poisoned lock only means another thread panicked mid-call; the session is intact.
        let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
        let outputs = session
            .run(ort::inputs![m.input.name.as_str() => tensor])
            .map_err(|e| ModelError::Inference(e.to_string()))?;
        let value = outputs
            .get(&m.output.name)
            .ok_or_else(|| ModelError::Inference(format!("no output `{}`", m.output.name)))?;
        let (_, data) =
            value.try_extract_tensor::<f32>().map_err(|e| ModelError::Inference(e.to_string()))?;
        data.get(m.output.index).map(|&v| f64::from(v)).ok_or_else(|| {
            ModelError::Inference(format!("output `{}` has no column {}", m.output.name, m.output.index))
        })
    }

    /// The model's score for one feature vector: a number in 0..=1, or an error (NaN and
    /// out-of-range scores are errors, never findings).
    pub fn score(&self, input: &[f32]) -> Result<f64, ModelError> {
        let s = self.raw_score(input)?;
        if (0.0..=1.0).contains(&s) { Ok(s) } else { Err(ModelError::BadScore(s)) }
    }
}

fn check_interface(session: &Session, m: &Manifest) -> Result<(), ModelError> {
    let bad = |s: String| Err(ModelError::Interface(s));
    let Some(input) = session.inputs().iter().find(|i| i.name() == m.input.name) else {
        let names: Vec<_> = session.inputs().iter().map(|i| i.name().to_owned()).collect();
        return bad(format!("no input `{}` (the graph has {names:?})", m.input.name));
    };
    if session.inputs().len() != 1 {
        return bad(format!("the graph has {} inputs, a package's has one", session.inputs().len()));
    }
    if input.dtype().tensor_type() != Some(TensorElementType::Float32) {
        return bad(format!("input `{}` is not float32", m.input.name));
    }
    if let Some(shape) = input.dtype().tensor_shape() {
        let dims: Vec<i64> = shape.iter().copied().collect();
        // A manifest's few features fit i64; were they past it, no shape would match.
        let n = i64::try_from(m.features.len()).unwrap_or(i64::MAX);
        // A dynamic batch dimension (-1) is fine; the feature dimension must be n.
        if dims.len() != 2 || dims[1] != n || !(dims[0] == 1 || dims[0] == -1) {
            return bad(format!("input `{}` has shape {dims:?}, the manifest's is [1, {n}]", m.input.name));
        }
    }
    let Some(output) = session.outputs().iter().find(|o| o.name() == m.output.name) else {
        let names: Vec<_> = session.outputs().iter().map(|o| o.name().to_owned()).collect();
        return bad(format!("no output `{}` (the graph has {names:?})", m.output.name));
    };
    if output.dtype().tensor_type() != Some(TensorElementType::Float32) {
        return bad(format!("output `{}` is not float32", m.output.name));
    }
    Ok(())
}

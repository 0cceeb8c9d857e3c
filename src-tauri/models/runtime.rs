//! ONNX Runtime, loaded at run time (`ort` with `load-dynamic`, DESIGN.md section 2), and a
//! loaded, checked model.
//!
//! The library is looked for, in order: the file `VIGIL_ONNXRUNTIME` (or ort's own
//! `ORT_DYLIB_PATH`) names; `libonnxruntime.so*` beside the executable or in its `lib/`; the
//! `onnxruntime` wheel of Python (`VIGIL_PYTHON`, the project's venv, then `python3`). When it is
//! nowhere, [`runtime`] says so in one line and the agents keep answering with their rules.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::{TensorElementType, TensorRef};

use super::manifest::Manifest;
use super::package::VerifiedPackage;

/// The runtime's state, for `vigil agents status` and the window.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RuntimeStatus {
    /// Loaded from `path`.
    Loaded {
        /// The library file.
        path: String,
    },
    /// Not found or not loadable: models are off, rules answer.
    Unavailable {
        /// One line: what was tried and what failed.
        reason: String,
    },
}

static RUNTIME: OnceLock<Result<(Environment, PathBuf), String>> = OnceLock::new();

/// The process's ONNX Runtime environment, loaded on first use.
pub fn runtime() -> Result<&'static Environment, String> {
    RUNTIME.get_or_init(load).as_ref().map(|(env, _)| env).map_err(Clone::clone)
}

/// Whether the runtime is there, and where from.
pub fn status() -> RuntimeStatus {
    match RUNTIME.get_or_init(load) {
        Ok((_, path)) => RuntimeStatus::Loaded { path: path.display().to_string() },
        Err(reason) => RuntimeStatus::Unavailable { reason: reason.clone() },
    }
}

fn load() -> Result<(Environment, PathBuf), String> {
    let path = locate()?;
    let env = ort::init_from(&path)
        .map_err(|e| format!("ONNX Runtime at {} does not load: {e}", path.display()))?
        .with_name("vigil")
        .with_logger(std::sync::Arc::new(ort_log))
        .build()
        .map_err(|e| format!("ONNX Runtime at {} does not start: {e}", path.display()))?;
    tracing::info!(path = %path.display(), "ONNX Runtime loaded");
    Ok((env, path))
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

fn find_lib(dir: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with("libonnxruntime.so") || n == "libonnxruntime.dylib" || n == "onnxruntime.dll"
            })
        })
        .collect();
    // The longest name is the fully versioned file (libonnxruntime.so.1.32.0), not a symlink.
    found.sort_by_key(|p| std::cmp::Reverse(p.as_os_str().len()));
    found.into_iter().next()
}

fn python_wheel(python: &Path) -> Option<PathBuf> {
    let out = std::process::Command::new(python)
        .args(["-c", "import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let dir = String::from_utf8(out.stdout).ok()?;
    out.status.success().then(|| find_lib(&Path::new(dir.trim()).join("capi")))?
}

/// Finds the library file; the error lists what was tried.
pub fn locate() -> Result<PathBuf, String> {
    for var in ["VIGIL_ONNXRUNTIME", "ORT_DYLIB_PATH"] {
        if let Some(p) = std::env::var_os(var) {
            let p = PathBuf::from(p);
            return if p.is_file() {
                Ok(p)
            } else {
                Err(format!("ONNX Runtime not found: {var}={} is not a file", p.display()))
            };
        }
    }
    if let Some(dir) = std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)) {
        if let Some(p) = find_lib(&dir).or_else(|| find_lib(&dir.join("lib"))) {
            return Ok(p);
        }
    }
    // The project's venv (scripts/setup.sh): look for the wheel's file directly; starting
    // Python to import onnxruntime takes a few hundred milliseconds of the window's start.
    let venv = std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache/vigil/venv"));
    if let Some(lib) = venv.as_ref().and_then(|v| std::fs::read_dir(v.join("lib")).ok()) {
        for python in lib.filter_map(|e| e.ok()) {
            if let Some(p) = find_lib(&python.path().join("site-packages/onnxruntime/capi")) {
                return Ok(p);
            }
        }
    }
    let mut pythons: Vec<PathBuf> = std::env::var_os("VIGIL_PYTHON").map(PathBuf::from).into_iter().collect();
    if let Some(v) = &venv {
        pythons.push(v.join("bin/python3"));
    }
    pythons.push(PathBuf::from("python3"));
    for python in &pythons {
        if let Some(p) = python_wheel(python) {
            return Ok(p);
        }
    }
    Err("ONNX Runtime not found (set VIGIL_ONNXRUNTIME, put libonnxruntime.so beside vigil, or pip install \
         onnxruntime==1.32.0): models are off, agents answer with their rules"
        .to_owned())
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
    /// Loads `package`: creates the session (one thread), checks opset, input and output
    /// against the manifest, warms up, and runs every test vector.
    pub fn load(package: &VerifiedPackage) -> Result<LoadedModel, ModelError> {
        let started = Instant::now();
        let env = runtime().map_err(ModelError::RuntimeUnavailable)?;
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

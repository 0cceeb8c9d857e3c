//! A package's manifest and test vectors, as JSON; see `docs/model-packages.md` for the format.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::features::Schema;
use crate::agents::Specialty;

/// The container format this build reads and writes.
pub const FORMAT: &str = "vigil-model-package/1";

/// The default-domain (ai.onnx) opsets this build accepts. ONNX Runtime 1.31/1.32 implement up
/// to opset 23; below 13 the operators' semantics differ enough that we refuse to guess.
pub const SUPPORTED_OPSETS: std::ops::RangeInclusive<u32> = 13..=23;

/// One input feature: its name (as on every interface) and its UCUM unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeatureSpec {
    /// E.g. `hr_mean`.
    pub name: String,
    /// UCUM, e.g. `/min`.
    pub unit: String,
}

/// The ONNX graph's input: its name and shape (`[1, n]` of float32).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputSpec {
    /// The graph input's name.
    pub name: String,
    /// `[1, number of features]`.
    pub shape: Vec<i64>,
}

/// Where the risk score is in the graph's outputs, and what it means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// The graph output's name (a `[1, k]` float32 tensor).
    pub name: String,
    /// The column holding the score.
    pub index: usize,
    /// What the score means, for the clinician.
    pub meaning: String,
}

/// The manifest: everything about the package, and the SHA-256 of every other file. The
/// signature covers exactly these bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// The model's name, e.g. `early-warning-gbt`: lowercase letters, digits and `-`.
    pub name: String,
    /// Semantic version `MAJOR.MINOR.PATCH`.
    pub version: String,
    /// The agent (specialty) it serves, e.g. `early_warning`.
    pub agent: Specialty,
    /// The input features, in tensor order.
    pub features: Vec<FeatureSpec>,
    /// The graph input.
    pub input: InputSpec,
    /// The graph output holding the score.
    pub output: OutputSpec,
    /// The default-domain opset of the graph.
    pub opset: u32,
    /// The oldest Vigil that may run it.
    pub min_app_version: String,
    /// When it was made (RFC 3339).
    pub created: String,
    /// Free text for the clinician and IT.
    pub notes: String,
    /// A demonstration model: the UI labels it "demonstration model, not for clinical use".
    #[serde(default)]
    pub demonstration: bool,
    /// How it was trained (shown by `vigil packages show`); absent in hand-made packages.
    #[serde(default)]
    pub training: Option<Training>,
    /// SHA-256 (hex) of every other file in the package, by file name.
    pub files: BTreeMap<String, String>,
}

/// How a model was trained, as `scripts/models/train.py` writes it. Typed, like every other
/// part of the manifest, so an unknown or repeated field is refused here too, not only at the
/// top level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Training {
    /// The script and configuration that made it, e.g. `scripts/models/train.py vitals-v1`.
    pub generator: String,
    /// The random seed.
    pub seed: u64,
    /// Training samples.
    pub samples: u64,
    /// The libraries and versions used.
    pub libraries: String,
}

/// A semantic version, ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// Parses `MAJOR.MINOR.PATCH` (no pre-release suffix).
    pub fn parse(s: &str) -> Option<Self> {
        let mut it = s.split('.').map(|p| {
            if p.is_empty() || (p.len() > 1 && p.starts_with('0')) { None } else { p.parse::<u32>().ok() }
        });
        let v = Version(it.next()??, it.next()??, it.next()??);
        it.next().is_none().then_some(v)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// Why a manifest is not acceptable (before any model is loaded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// A field's value is invalid.
    #[error("manifest field `{field}`: {problem}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The opset is outside [`SUPPORTED_OPSETS`].
    #[error("unsupported ONNX opset {opset}: this build runs opsets {}..={}", SUPPORTED_OPSETS.start(), SUPPORTED_OPSETS.end())]
    UnsupportedOpset {
        /// The manifest's opset.
        opset: u32,
    },
    /// The features differ from the agent's.
    #[error("inputs do not match the {agent} agent's features: {problem}")]
    InputsMismatch {
        /// The agent.
        agent: Specialty,
        /// The first difference.
        problem: String,
    },
    /// The package needs a newer Vigil.
    #[error("needs Vigil {needed} or newer; this is {running}")]
    AppTooOld {
        /// `min_app_version`.
        needed: String,
        /// This build's version.
        running: String,
    },
}

impl Manifest {
    /// Checks every field that can be checked without the model: format, name, version, opset,
    /// app version, and the features against the agent's [`Schema`].
    pub fn check(&self) -> Result<(), ManifestError> {
        let field = |field, problem: String| Err(ManifestError::Field { field, problem });
        if self.format != FORMAT {
            return field("format", format!("`{}` is not `{FORMAT}`", self.format));
        }
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !name_ok {
            return field("name", format!("`{}` is not 1-64 of a-z, 0-9, -", self.name));
        }
        if Version::parse(&self.version).is_none() {
            return field("version", format!("`{}` is not MAJOR.MINOR.PATCH", self.version));
        }
        let Some(needed) = Version::parse(&self.min_app_version) else {
            return field("min_app_version", format!("`{}` is not MAJOR.MINOR.PATCH", self.min_app_version));
        };
        let running = Version::parse(env!("CARGO_PKG_VERSION")).unwrap_or(Version(0, 0, 0));
        if needed > running {
            return Err(ManifestError::AppTooOld {
                needed: needed.to_string(),
                running: running.to_string(),
            });
        }
        if chrono::DateTime::parse_from_rfc3339(&self.created).is_err() {
            return field("created", format!("`{}` is not an RFC 3339 time", self.created));
        }
        if !SUPPORTED_OPSETS.contains(&self.opset) {
            return Err(ManifestError::UnsupportedOpset { opset: self.opset });
        }
        for required in ["model.onnx", "test_vectors.json"] {
            match self.files.get(required) {
                Some(d) if d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()) => {}
                _ => return field("files", format!("no SHA-256 for `{required}`")),
            }
        }
        if self.files.len() != 2 {
            return field("files", "only model.onnx and test_vectors.json may be listed".to_owned());
        }
        let schema = Schema::of(self.agent);
        let mismatch = |problem: String| Err(ManifestError::InputsMismatch { agent: self.agent, problem });
        if self.features.len() != schema.features.len() {
            return mismatch(format!(
                "{} features given, the agent has {} ({})",
                self.features.len(),
                schema.features.len(),
                schema.names().join(", ")
            ));
        }
        for (i, (got, want)) in self.features.iter().zip(schema.features).enumerate() {
            if got.name != want.name || got.unit != want.unit {
                return mismatch(format!(
                    "feature {} is `{}` in `{}`, the agent's is `{}` in `{}`",
                    i + 1,
                    got.name,
                    got.unit,
                    want.name,
                    want.unit
                ));
            }
        }
        // A schema's few features fit i64; were they past it, no shape would match, as it should.
        let features = i64::try_from(schema.features.len()).unwrap_or(i64::MAX);
        if self.input.shape != [1, features] {
            return mismatch(format!(
                "input shape {:?}, the agent's is [1, {}]",
                self.input.shape,
                schema.features.len()
            ));
        }
        Ok(())
    }

    /// The parsed version (checked by [`Manifest::check`]).
    pub fn semver(&self) -> Version {
        Version::parse(&self.version).unwrap_or(Version(0, 0, 0))
    }
}

/// The package's own test vectors: inputs and the expected score, with a tolerance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestVectors {
    /// Absolute tolerance on the score.
    pub tolerance: f64,
    /// The vectors.
    pub vectors: Vec<TestVector>,
}

/// One test vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestVector {
    /// The features, in manifest order.
    pub input: Vec<f32>,
    /// The expected score.
    pub expected: f64,
}

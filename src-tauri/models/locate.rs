//! Where ONNX Runtime may be loaded from (issue 12). Loading a shared library runs its code
//! with the workstation's rights and the store's key in memory, so a clinical store loads only
//! a file it can vouch for:
//!
//! 1. the file IT configured, `VIGIL_ONNXRUNTIME`, whose SHA-256 IT gives in
//!    `VIGIL_ONNXRUNTIME_SHA256` (both or neither; a configured path that fails is not replaced
//!    by another one);
//! 2. else `libonnxruntime` in the install directory (beside the binary, or its `lib/`), whose
//!    SHA-256 must be one of [`KNOWN_DIGESTS`].
//!
//! A mismatch refuses to load, says which digest was found and which was expected, and the
//! agents answer with their rules. Only a demo store ([`Discovery::Development`]) also looks in
//! the project's Python venv and `python3`'s onnxruntime wheel, unverified: that is for
//! development on synthetic data. ort's own `ORT_DYLIB_PATH` is ignored. (OWASP ASVS 4.0
//! V10.3.2 and V14.2: integrity of loaded components; CWE-427, uncontrolled search path.)

use std::io::Read;
use std::path::{Path, PathBuf};

use ring::digest::{Context, SHA256};

/// The variable naming IT's ONNX Runtime library.
pub const CONFIGURED_ENV: &str = "VIGIL_ONNXRUNTIME";
/// The variable holding that library's SHA-256 (64 hex digits).
pub const DIGEST_ENV: &str = "VIGIL_ONNXRUNTIME_SHA256";

/// The libonnxruntime files this release knows, by SHA-256: what may be installed beside the
/// binary without IT configuring a digest.
pub const KNOWN_DIGESTS: [(&str, &str); 1] = [(
    "onnxruntime 1.32.0, the PyPI wheel's capi/libonnxruntime.so.1.32.0 (Linux x86_64, \
     scripts/models/requirements.txt)",
    "6c1585d1bbf45b0712ea4a21b705c5fcb4ba04ff2e30f1fbf81a49faf658638f",
)];

/// Which places a store may load ONNX Runtime from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Discovery {
    /// A clinical store: IT's configured file or the install directory, each checked against
    /// a SHA-256.
    Trusted,
    /// A demo store: those, then the Python venv and `python3`'s wheel (development).
    Development,
}

/// Where the library was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `VIGIL_ONNXRUNTIME`, its digest checked.
    Configured,
    /// Beside the binary, its digest one of [`KNOWN_DIGESTS`].
    InstallDir,
    /// A Python environment: development, demo stores only, not checked.
    Development,
}

impl Origin {
    /// How the status line describes it.
    pub fn describe(self) -> &'static str {
        match self {
            Origin::Configured => "VIGIL_ONNXRUNTIME, SHA-256 verified",
            Origin::InstallDir => "install directory, SHA-256 verified",
            Origin::Development => "Python environment: development, demo store only, not verified",
        }
    }
}

/// A library file found, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The file.
    pub path: PathBuf,
    /// Where it came from.
    pub origin: Origin,
}

/// The inputs of a search: the environment and the file system places, explicit so that tests
/// need not change the process's environment.
#[derive(Debug, Clone, Default)]
pub struct Search {
    /// `VIGIL_ONNXRUNTIME`.
    pub configured: Option<PathBuf>,
    /// `VIGIL_ONNXRUNTIME_SHA256`.
    pub configured_sha256: Option<String>,
    /// The directory of the running binary.
    pub install_dir: Option<PathBuf>,
    /// The project's venv (`~/.cache/vigil/venv`), development only.
    pub venv: Option<PathBuf>,
    /// Pythons to ask for their onnxruntime wheel, development only.
    pub pythons: Vec<PathBuf>,
    /// `ORT_DYLIB_PATH` is set (ignored; said in the not-found message).
    pub ort_dylib_path_set: bool,
}

impl Search {
    /// The search this process's environment describes.
    pub fn from_env() -> Search {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let venv = var("HOME").map(|home| Path::new(&home).join(".cache/vigil/venv"));
        let mut pythons: Vec<PathBuf> = var("VIGIL_PYTHON").map(PathBuf::from).into_iter().collect();
        if let Some(v) = &venv {
            pythons.push(v.join("bin/python3"));
        }
        pythons.push(PathBuf::from("python3"));
        Search {
            configured: var(CONFIGURED_ENV).map(PathBuf::from),
            configured_sha256: var(DIGEST_ENV).and_then(|v| v.into_string().ok()),
            install_dir: std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)),
            venv,
            pythons,
            ort_dylib_path_set: var("ORT_DYLIB_PATH").is_some(),
        }
    }

    /// Finds the library `discovery` allows; the error says what was refused or tried.
    pub fn locate(&self, discovery: Discovery) -> Result<Found, String> {
        if let Some(path) = &self.configured {
            return self.configured(path);
        }
        if let Some(dir) = &self.install_dir {
            if let Some(path) = find_lib(dir).or_else(|| find_lib(&dir.join("lib"))) {
                let got = file_sha256(&path)?;
                return match KNOWN_DIGESTS.iter().find(|(_, d)| *d == got) {
                    Some(_) => Ok(Found { path, origin: Origin::InstallDir }),
                    None => Err(format!(
                        "ONNX Runtime at {} is not loaded: its SHA-256 is {got}, which is not the \
                         digest of a release this Vigil knows ({}). Install that release, or have IT \
                         set {CONFIGURED_ENV} and {DIGEST_ENV}; agents answer with their rules",
                        path.display(),
                        KNOWN_DIGESTS
                            .iter()
                            .map(|(name, d)| format!("{d}: {name}"))
                            .collect::<Vec<_>>()
                            .join("; ")
                    )),
                };
            }
        }
        if discovery == Discovery::Development {
            if let Some(path) = self.development() {
                return Ok(Found { path, origin: Origin::Development });
            }
        }
        let ignored = if self.ort_dylib_path_set { " (ORT_DYLIB_PATH is ignored)" } else { "" };
        Err(match discovery {
            Discovery::Trusted => format!(
                "ONNX Runtime not found beside vigil, and {CONFIGURED_ENV} is not set{ignored}: put \
                 libonnxruntime from onnxruntime 1.32.0 beside the binary, or have IT set \
                 {CONFIGURED_ENV} and {DIGEST_ENV}. A clinical store never loads it from a Python \
                 environment. Models are off, agents answer with their rules"
            ),
            Discovery::Development => format!(
                "ONNX Runtime not found (set {CONFIGURED_ENV} and {DIGEST_ENV}, put libonnxruntime.so \
                 beside vigil, or pip install onnxruntime==1.32.0){ignored}: models are off, agents \
                 answer with their rules"
            ),
        })
    }

    fn configured(&self, path: &Path) -> Result<Found, String> {
        if !path.is_file() {
            return Err(format!(
                "ONNX Runtime not found: {CONFIGURED_ENV}={} is not a file; agents answer with their rules",
                path.display()
            ));
        }
        let Some(want) = self.configured_sha256.as_deref().map(str::trim) else {
            return Err(format!(
                "{CONFIGURED_ENV}={} is set without {DIGEST_ENV}: IT must give the library's \
                 SHA-256 (sha256sum) with it; ONNX Runtime is not loaded, agents answer with their rules",
                path.display()
            ));
        };
        let got = file_sha256(path)?;
        if !got.eq_ignore_ascii_case(want) {
            return Err(format!(
                "ONNX Runtime at {} is not loaded: its SHA-256 is {got}, {DIGEST_ENV} says {want}; \
                 agents answer with their rules",
                path.display()
            ));
        }
        Ok(Found { path: path.to_owned(), origin: Origin::Configured })
    }

    /// The project's venv (read directly: starting Python takes a few hundred milliseconds),
    /// then each Python's onnxruntime wheel.
    fn development(&self) -> Option<PathBuf> {
        if let Some(lib) = self.venv.as_ref().and_then(|v| std::fs::read_dir(v.join("lib")).ok()) {
            for python in lib.filter_map(|e| e.ok()) {
                if let Some(p) = find_lib(&python.path().join("site-packages/onnxruntime/capi")) {
                    return Some(p);
                }
            }
        }
        self.pythons.iter().find_map(|python| python_wheel(python))
    }
}

/// The SHA-256 of a file, hex; the error names the file.
pub fn file_sha256(path: &Path) -> Result<String, String> {
    let fail = |e: std::io::Error| format!("cannot read {} to check its SHA-256: {e}", path.display());
    let mut file = std::fs::File::open(path).map_err(fail)?;
    let mut context = Context::new(&SHA256);
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer).map_err(fail)?;
        if n == 0 {
            break;
        }
        context.update(&buffer[..n]);
    }
    Ok(hex::encode(context.finish()))
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

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "test helpers: a failed unwrap is the report")]
mod tests {
    use super::*;

    const LIB: &str = "libonnxruntime.so.1.32.0";

    /// A directory with a fake library (any bytes: only its digest is checked here).
    fn lib_in(dir: &Path, bytes: &[u8]) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join(LIB);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn sha(bytes: &[u8]) -> String {
        hex::encode(ring::digest::digest(&SHA256, bytes))
    }

    #[test]
    fn onnxruntime_loaded_from_an_unverified_path() {
        let root = tempfile::tempdir().unwrap();
        let missing = Search { configured: Some(root.path().join("nothing")), ..Search::default() };
        let err = missing.locate(Discovery::Trusted).unwrap_err();
        assert!(err.starts_with("ONNX Runtime not found: VIGIL_ONNXRUNTIME="), "{err}");
        let it = lib_in(&root.path().join("it"), b"IT's build");
        // IT's path without a digest, with a wrong one, with the right one.
        let mut search = Search { configured: Some(it.clone()), ..Search::default() };
        let err = search.locate(Discovery::Trusted).unwrap_err();
        assert!(err.contains("is set without VIGIL_ONNXRUNTIME_SHA256"), "{err}");
        search.configured_sha256 = Some("00".repeat(32));
        let err = search.locate(Discovery::Development).unwrap_err();
        assert!(err.contains(&format!("its SHA-256 is {}", sha(b"IT's build"))), "{err}");
        assert!(err.contains(&format!("VIGIL_ONNXRUNTIME_SHA256 says {}", "00".repeat(32))), "{err}");
        search.configured_sha256 = Some(sha(b"IT's build").to_uppercase());
        assert_eq!(
            search.locate(Discovery::Trusted).unwrap(),
            Found { path: it, origin: Origin::Configured }
        );

        // Beside the binary: only a known release.
        let install = root.path().join("install");
        lib_in(&install.join("lib"), b"something else");
        let search = Search { install_dir: Some(install), ..Search::default() };
        let err = search.locate(Discovery::Trusted).unwrap_err();
        assert!(err.contains(&format!("its SHA-256 is {}", sha(b"something else"))), "{err}");
        assert!(err.contains(KNOWN_DIGESTS[0].1), "{err}");
    }

    #[test]
    fn onnxruntime_from_a_python_venv_in_a_clinical_store() {
        let root = tempfile::tempdir().unwrap();
        let venv = root.path().join("venv");
        let lib = lib_in(&venv.join("lib/python3.11/site-packages/onnxruntime/capi"), b"wheel");
        let search = Search { venv: Some(venv), ort_dylib_path_set: true, ..Search::default() };
        let err = search.locate(Discovery::Trusted).unwrap_err();
        assert!(err.contains("never loads it from a Python environment"), "{err}");
        assert!(err.contains("ORT_DYLIB_PATH is ignored"), "{err}");
        assert_eq!(
            search.locate(Discovery::Development).unwrap(),
            Found { path: lib, origin: Origin::Development }
        );
    }
}

//! `vigil packages ...`: signed model packages (install, list, show, promote, rollback, keys),
//! and the vendor's side (keygen, build).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::render;
use crate::models::trust::{KeyId, generate_signing_key, read_signing_key};
use crate::models::{RuntimeStatus, package};
use crate::workstation::{PackagesView, Rollout, Workstation};

/// `vigil packages ...`.
#[derive(Debug, Subcommand)]
pub enum PackagesCommand {
    /// Verify, load, test and roll out a package file (canary at 10 % by default)
    Install(InstallArgs),
    /// Every installed version with its state (active, previous, canary, shadow, installed)
    List,
    /// One package's versions, manifests and rollout events
    Show {
        /// The package name
        name: String,
    },
    /// Make NAME VERSION active for its agent now (the active one stays loaded as previous)
    Promote {
        /// The package name
        name: String,
        /// The version
        version: String,
    },
    /// Drop NAME's candidate, or reactivate the version before the active NAME
    Rollback {
        /// The package name
        name: String,
    },
    /// The keys trusted to sign packages
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Make a new Ed25519 signing key (PKCS#8, owner-only file); prints its public key
    Keygen {
        /// Where to write the private key
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Sign a package directory (manifest.json, model.onnx, test_vectors.json) into a package
    Build {
        /// The directory
        dir: PathBuf,
        /// The PKCS#8 signing key
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The package file to write
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

/// `vigil packages install`.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The package file
    pub file: PathBuf,
    /// Canary share, percent of assessments (promoted automatically when it stays within limits)
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u8).range(1..=100), conflicts_with_all = ["shadow", "activate"])]
    pub canary: u8,
    /// Run in shadow: beside the active model, recorded and compared, never used
    #[arg(long, conflicts_with = "activate")]
    pub shadow: bool,
    /// Make it active at once (the active one stays loaded for rollback)
    #[arg(long)]
    pub activate: bool,
}

/// `vigil packages keys ...`.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Trust a public key (64 hex digits) in this store
    Add {
        /// The Ed25519 public key, hex
        public_key: String,
        /// Who it belongs to
        #[arg(long, default_value = "")]
        label: String,
    },
    /// The trusted keys: the system configuration file's and the store's
    List,
    /// Stop trusting a store key
    Remove {
        /// The key id
        id: String,
    },
}

pub(super) async fn run(cmd: PackagesCommand, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    match cmd {
        PackagesCommand::Keygen { out } => return keygen(&out, json),
        PackagesCommand::Build { dir, key, out } => return build(&dir, &key, &out, json),
        _ => {}
    }
    let ws = super::session::open(data_dir).await?;
    let result = run_store(cmd, &ws, json).await;
    ws.close().await;
    result
}

async fn run_store(cmd: PackagesCommand, ws: &Workstation, json: bool) -> anyhow::Result<()> {
    match cmd {
        PackagesCommand::Install(args) => {
            let rollout = if args.activate {
                Rollout::Activate
            } else if args.shadow {
                Rollout::Shadow
            } else {
                Rollout::Canary(args.canary)
            };
            let r = ws.install_package(&args.file, rollout).await?;
            if json {
                return render::json(&r);
            }
            let how = match r.rollout {
                Rollout::Activate => "active".to_owned(),
                Rollout::Shadow => "in shadow".to_owned(),
                Rollout::Canary(p) => format!("canary at {p} %"),
            };
            say!(
                "Installed {} {} for {} ({how}): signed by {}, {} test vectors passed, ready in {:.0} ms{}",
                r.name,
                r.version,
                r.agent,
                r.signer,
                r.test_vectors,
                r.load_ms,
                if r.demonstration { " — demonstration model, not for clinical use" } else { "" }
            );
        }
        PackagesCommand::List => {
            let view = ws.packages().await?;
            if json {
                return render::json(&view);
            }
            render::emit(&list_text(&view))?;
        }
        PackagesCommand::Show { name } => {
            let mut view = ws.packages().await?;
            view.packages.retain(|p| p.row.name == name);
            view.events.retain(|e| e.name == name);
            if view.packages.is_empty() {
                anyhow::bail!("no package named {name} installed (`vigil packages list`)");
            }
            if json {
                return render::json(&view);
            }
            let mut out = list_text(&view);
            for p in &view.packages {
                let _ = writeln!(out, "\n{} {} manifest:", p.row.name, p.row.version);
                let _ = writeln!(out, "{}", serde_json::to_string_pretty(&p.row.manifest)?);
            }
            let _ = writeln!(out, "\nEvents (newest first):");
            for e in &view.events {
                let by = if e.automatic { "automatic".to_owned() } else { e.actor.clone() };
                let _ =
                    writeln!(out, "  {} {} {} ({by}): {}", e.at.to_rfc3339(), e.kind, e.version, e.reason);
            }
            render::emit(&out)?;
        }
        PackagesCommand::Promote { name, version } => {
            let msg = ws.promote_package(&name, &version).await?;
            if json {
                return render::json(&serde_json::json!({ "result": msg }));
            }
            say!("{msg}");
        }
        PackagesCommand::Rollback { name } => {
            let msg = ws.rollback_package(&name).await?;
            if json {
                return render::json(&serde_json::json!({ "result": msg }));
            }
            say!("{msg}");
        }
        PackagesCommand::Keys(KeysCommand::Add { public_key, label }) => {
            let key = ws.add_trusted_key(&public_key, &label).await?;
            if json {
                return render::json(&key);
            }
            say!("Trusted key {} ({})", key.id, key.label);
        }
        PackagesCommand::Keys(KeysCommand::List) => {
            let trust = ws.trust_set().await?;
            if json {
                return render::json(&trust.keys);
            }
            if trust.keys.is_empty() {
                say!("No trusted keys: no package can be installed. Add one with `vigil packages keys add`.");
            }
            for k in &trust.keys {
                say!("{}  {:?}  {}  {}", k.id, k.origin, hex::encode(k.public_key), k.label);
            }
        }
        PackagesCommand::Keys(KeysCommand::Remove { id }) => {
            ws.remove_trusted_key(&id).await?;
            if json {
                return render::json(&serde_json::json!({ "removed": id }));
            }
            say!("Key {id} is no longer trusted");
        }
        PackagesCommand::Keygen { .. } | PackagesCommand::Build { .. } => {
            unreachable!("handled without a store")
        }
    }
    Ok(())
}

fn list_text(view: &PackagesView) -> String {
    let mut out = String::new();
    match &view.runtime {
        RuntimeStatus::Loaded { path, source } => {
            let _ = writeln!(out, "ONNX Runtime: {path} ({source})");
        }
        RuntimeStatus::Unavailable { reason } => {
            let _ = writeln!(out, "ONNX Runtime: {reason}");
        }
    }
    if let Some(note) = &view.note {
        let _ = writeln!(out, "{note}");
    }
    for p in &view.problems {
        let _ = writeln!(out, "not loaded: {p}");
    }
    if view.packages.is_empty() {
        let _ = writeln!(out, "No model packages installed; the agents answer with their rules.");
    }
    for p in &view.packages {
        let _ = writeln!(
            out,
            "{:<24} {:<9} {:<16} {:<9} signed {}  installed {}{}",
            p.row.name,
            p.row.version,
            p.row.agent,
            format!("{:?}", p.state).to_lowercase(),
            p.row.signer_key_id,
            p.row.installed_at.format("%Y-%m-%d %H:%M"),
            if p.demonstration { "  [demonstration model, not for clinical use]" } else { "" }
        );
    }
    for d in view.deployments.iter().filter(|d| d.candidate.is_some()) {
        let _ = writeln!(
            out,
            "{} candidate ({}{}): {} evaluations, {} errors, {} disagreements",
            d.agent,
            d.candidate_mode.as_deref().unwrap_or("?"),
            d.canary_percent.map(|p| format!(" {p} %")).unwrap_or_default(),
            d.evaluations,
            d.errors,
            d.disagreements
        );
    }
    out
}

fn keygen(out: &Path, json: bool) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let (pkcs8, public) = generate_signing_key()?;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .map_err(|e| anyhow::anyhow!("{}: {e} (an existing key is never overwritten)", out.display()))?;
    file.write_all(&pkcs8)?;
    let id = KeyId::of(&public).0;
    if json {
        return render::json(&serde_json::json!({ "key_id": id, "public_key": hex::encode(public) }));
    }
    say!("Wrote {} (keep it secret). Key id {id}, public key:\n{}", out.display(), hex::encode(public));
    Ok(())
}

fn build(dir: &Path, key: &Path, out: &Path, json: bool) -> anyhow::Result<()> {
    let read = |name: &str| {
        let p = dir.join(name);
        std::fs::read(&p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
    };
    let key = read_signing_key(key)?;
    let bytes =
        package::build(&read("manifest.json")?, &read("model.onnx")?, &read("test_vectors.json")?, &key)
            .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
    std::fs::write(out, &bytes).map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
    let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes));
    if json {
        return render::json(&serde_json::json!({ "file": out, "bytes": bytes.len(), "sha256": sha }));
    }
    say!("Wrote {} ({} bytes, SHA-256 {sha})", out.display(), bytes.len());
    Ok(())
}

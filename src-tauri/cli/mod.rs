//! The `vigil` command line: clap verbs, each a thin adapter over [`crate::Workstation`].
//!
//! Architecture invariant: only this module knows clap. Every verb prints a human-readable
//! result by default and JSON with `--json`; errors go to stderr naming what was wrong and
//! where, with exit status 1 (2 for usage errors).

/// `println!` that ends quietly on a closed pipe (`vigil ... | head`).
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::render::emit(&format!("{}\n", format_args!($($arg)*)))?
    };
}

mod agents;
mod analyze;
mod args;
mod bench;
mod import;
mod packages;
mod patients;
mod render;
mod settings;
mod vitals;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::workstation::{OpenOptions, Workstation};

pub use args::parse_instant;

/// Vigil, an offline-first clinical monitoring workstation. With no command, opens the window.
#[derive(Debug, Parser)]
#[command(name = "vigil", version, about, long_about = None)]
pub struct Cli {
    /// The data directory holding the store and the logs [default: the OS data directory]
    #[arg(long, global = true, env = "VIGIL_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print JSON for scripts instead of text
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do; none opens the desktop window
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The data directory to use.
    pub fn data_dir(&self) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(Workstation::default_data_dir)
    }
}

/// The headless verbs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the encrypted store (and its key) if there is none; show its state
    Init,
    /// Show the store's state: data directory, encryption, schema version, counts
    Status,
    /// Add, edit, list and show patients
    #[command(subcommand)]
    Patient(patients::PatientCommand),
    /// Record a patient's spot vitals (manual entry), assessed at once
    #[command(subcommand)]
    Vitals(vitals::VitalsCommand),
    /// List a patient's observations (PATIENT is the id or the MRN)
    Observations(patients::ObservationsArgs),
    /// Import files: CSV, FHIR R4, Apple Health export, Garmin FIT
    Import(import::ImportArgs),
    /// Export a patient's record as CSV or a FHIR R4 Bundle
    Export(patients::ExportArgs),
    /// Create a demo store holding synthetic DEMO patients (refuses a clinical store, even empty)
    Demo,
    /// Check the audit trail's hash chain
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Analyse weights, vitals windows, HRV or NEWS2 from stdin (CSV/JSON) or the store; prints JSON
    #[command(subcommand)]
    Analyze(analyze::AnalyzeCommand),
    /// Measure performance and print the figures
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Run the review workflow on a patient's stored data: every specialty, alerts
    Assess(agents::AssessArgs),
    /// Every patient, highest risk first: latest vitals, NEWS2, risk, open alerts (the window's worklist)
    Worklist,
    /// Replay a recorded 1 Hz stream through windows, agents and alerts, printing each alert
    Monitor(agents::MonitorArgs),
    /// The specialty agents' pools
    #[command(subcommand)]
    Agents(agents::AgentsCommand),
    /// List, acknowledge and resolve alerts
    #[command(subcommand)]
    Alerts(agents::AlertsCommand),
    /// Signed model packages for the agents: install, list, show, promote, rollback, keys
    #[command(subcommand)]
    Packages(packages::PackagesCommand),
    /// Show or change the workstation's settings (the clock tolerance for readings, ...)
    Settings {
        /// show (the default) or set NAME VALUE
        #[command(subcommand)]
        command: Option<settings::SettingsCommand>,
    },
}

/// Audit verbs.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the chain and report the first broken row, if any
    Verify,
}

/// Parses the command line (exits on `--help` or a usage error).
pub fn parse() -> Cli {
    Cli::parse()
}

/// Runs a headless verb to completion and returns the process exit status.
pub fn run(cli: Cli) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let data_dir = cli.data_dir();
    // Close every store, on error paths too, before the process exits.
    let (result, unaudited) = runtime.block_on(async {
        let result = dispatch(cli).await;
        (result, crate::store::close_all().await)
    });
    if unaudited > 0 {
        // Said, never dropped silently (the window keeps such events and writes them later).
        eprintln!(
            "warning: the audit events of {unaudited} read(s) in this command could not be written: {}",
            crate::workstation::disk::disk_full_message(&data_dir, None)
        );
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            match e.downcast_ref::<crate::Error>() {
                Some(error) if crate::workstation::disk::is_disk_full(error) => {
                    eprintln!(
                        "error: nothing of this change was stored: {}",
                        crate::workstation::disk::disk_full_message(&data_dir, None)
                    )
                }
                _ => eprintln!("error: {e:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let data_dir = cli.data_dir();
    let json = cli.json;
    let Some(command) = cli.command else {
        anyhow::bail!("no command given; run `vigil --help`");
    };
    match command {
        Command::Init => {
            let existed = data_dir.join(crate::workstation::STORE_FILE).exists();
            let ws = Workstation::open(OpenOptions::create(&data_dir)).await?;
            let status = ws.status().await?;
            if json {
                let mut value = serde_json::to_value(&status)?;
                value["created"] = serde_json::json!(!existed);
                render::json(&value)?;
            } else {
                say!(
                    "{} encrypted store at {}",
                    if existed { "Opened the existing" } else { "Created an" },
                    status.store_path
                );
                say!("Key kept in {}", status.key_source);
            }
            ws.close().await;
        }
        Command::Status => {
            let ws = Workstation::open(OpenOptions::existing(&data_dir)).await?;
            let status = ws.status().await?;
            if json {
                render::json(&status)?
            } else {
                render::emit(&render::status(&status))?
            }
            ws.close().await;
        }
        Command::Patient(cmd) => patients::run_patient(cmd, &data_dir, json).await?,
        Command::Vitals(cmd) => vitals::run(cmd, &data_dir, json).await?,
        Command::Observations(args) => patients::run_observations(args, &data_dir, json).await?,
        Command::Export(args) => patients::run_export(args, &data_dir).await?,
        Command::Import(args) => import::run(args, &data_dir, json).await?,
        Command::Demo => {
            let ws = Workstation::open(OpenOptions::demo(&data_dir)).await?;
            let report = ws.seed_demo(chrono::Utc::now()).await?;
            let status = ws.status().await?;
            if json {
                render::json(&serde_json::json!({ "seeded": report, "status": status }))?;
            } else if report.patients == 0 {
                say!("The demo store at {} is already seeded", status.store_path);
            } else {
                say!(
                    "Seeded {} DEMO patients and {} observations into {}",
                    report.patients,
                    report.observations,
                    status.store_path
                );
                if !report.models.is_empty() {
                    say!(
                        "Activated {} (demonstration models, not for clinical use)",
                        report.models.join(", ")
                    );
                }
                if let Some(why) = &report.models_skipped {
                    say!("No models activated: {why}");
                }
            }
            ws.close().await;
        }
        Command::Audit(AuditCommand::Verify) => {
            let ws = Workstation::open(OpenOptions::existing(&data_dir)).await?;
            let result = ws.verify_audit().await?;
            if json {
                render::json(&result)?;
            } else {
                match result.first_broken {
                    None => say!("Audit trail intact: {} events, chain verified", result.rows),
                    Some(seq) => say!("Audit trail BROKEN at event {seq} of {}", result.rows),
                }
                if result.spooled > 0 {
                    say!("{} read events wait in the spool: the next write chains them", result.spooled);
                }
            }
            ws.close().await;
            if result.first_broken.is_some() {
                anyhow::bail!("the audit trail's hash chain is broken");
            }
        }
        Command::Analyze(cmd) => analyze::run(cmd, &data_dir).await?,
        Command::Bench(cmd) => bench::run(cmd, json).await?,
        Command::Assess(args) => agents::run_assess(args, &data_dir, json).await?,
        Command::Worklist => agents::run_worklist(&data_dir, json).await?,
        Command::Monitor(args) => agents::run_monitor(args, &data_dir, json).await?,
        Command::Agents(cmd) => agents::run_agents(cmd, &data_dir, json).await?,
        Command::Packages(cmd) => packages::run(cmd, &data_dir, json).await?,
        Command::Alerts(cmd) => agents::run_alerts(cmd, &data_dir, json).await?,
        Command::Settings { command } => settings::run(command, &data_dir, json).await?,
    }
    Ok(())
}

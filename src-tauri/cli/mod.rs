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
mod audit;
mod bench;
mod ble;
mod ble_link;
mod import;
mod packages;
mod patients;
mod render;
pub mod session;
mod settings;
mod sync;
mod users;
mod vitals;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::workstation::{DEMO_PASSWORD, OpenOptions, Workstation};

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
    /// Act as the service account whose token is in this owner-only file (scripts, `vigil
    /// monitor` as a service) instead of the session `vigil login` opened
    #[arg(long, global = true, env = "VIGIL_TOKEN_FILE", value_name = "FILE")]
    pub token_file: Option<PathBuf>,
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
    /// Create the encrypted store (and its key) with its first administrator (password from the
    /// terminal, or one line of standard input)
    Init {
        /// The first administrator's account name (needed for a new store, or a store with no
        /// account yet)
        #[arg(long, value_name = "NAME")]
        admin: Option<String>,
    },
    /// Sign in: opens a session for this OS user and data directory, until `vigil logout` or
    /// the idle timeout (password from the terminal, or one line of standard input)
    Login {
        /// The account name
        name: String,
    },
    /// End the session `vigil login` opened
    Logout,
    /// Who is signed in, with which role
    Whoami,
    /// Accounts: add, list, disable, enable, role, passwd (administrators)
    #[command(subcommand)]
    User(users::UserCommand),
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
    /// Create a demo store holding synthetic DEMO patients and DEMO accounts (one per role,
    /// password `vigil-demo`); refuses a clinical store, even an empty one
    Demo,
    /// Verify, export and check the audit trail; list break-the-glass events
    #[command(subcommand)]
    Audit(audit::AuditCommand),
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
    /// Bluetooth LE health devices: decode a characteristic value
    #[command(subcommand)]
    Ble(ble::BleCommand),
    /// The clinic server: enrol, sync now, status
    #[command(subcommand)]
    Sync(sync::SyncCommand),
    /// Show or change the workstation's settings (the clock tolerance for readings, ...)
    Settings {
        /// show (the default) or set NAME VALUE
        #[command(subcommand)]
        command: Option<settings::SettingsCommand>,
    },
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
    let _ = session::TOKEN_FILE.set(cli.token_file.clone());
    let Some(command) = cli.command else {
        anyhow::bail!("no command given; run `vigil --help`");
    };
    match command {
        Command::Init { admin } => init(&data_dir, admin.as_deref(), json).await?,
        Command::Login { name } => users::login(&name, &data_dir, json).await?,
        Command::Logout => users::logout(&data_dir, json).await?,
        Command::Whoami => users::whoami(&data_dir, json).await?,
        Command::User(cmd) => users::run(cmd, &data_dir, json).await?,
        Command::Status => {
            let ws = session::open(&data_dir).await?;
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
            let accounts = ws.create_demo_accounts().await?;
            // The seed is IT's job (it installs the demonstration models too).
            ws.sign_in("it", crate::workstation::Secret::new(DEMO_PASSWORD.to_owned())).await?;
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
            if accounts && !json {
                say!("DEMO accounts: clinician, nurse, admin, it, auditor; password {DEMO_PASSWORD}");
            }
            ws.close().await;
        }
        Command::Audit(cmd) => audit::run(cmd, &data_dir, json).await?,
        Command::Analyze(cmd) => analyze::run(cmd, &data_dir).await?,
        Command::Bench(cmd) => bench::run(cmd, json).await?,
        Command::Assess(args) => agents::run_assess(args, &data_dir, json).await?,
        Command::Worklist => agents::run_worklist(&data_dir, json).await?,
        Command::Monitor(args) => agents::run_monitor(args, &data_dir, json).await?,
        Command::Agents(cmd) => agents::run_agents(cmd, &data_dir, json).await?,
        Command::Packages(cmd) => packages::run(cmd, &data_dir, json).await?,
        Command::Alerts(cmd) => agents::run_alerts(cmd, &data_dir, json).await?,
        Command::Settings { command } => settings::run(command, &data_dir, json).await?,
        Command::Sync(command) => sync::run(command, &data_dir, json).await?,
        Command::Ble(cmd) => ble::run(cmd, &data_dir, json).await?,
    }
    Ok(())
}

/// `vigil init [--admin NAME]`: a new store needs its first administrator; an existing store
/// with no account gets one; an existing store with accounts is only shown.
async fn init(data_dir: &std::path::Path, admin: Option<&str>, json: bool) -> anyhow::Result<()> {
    let existed = data_dir.join(crate::workstation::STORE_FILE).exists();
    if !existed && admin.is_none() {
        anyhow::bail!(
            "a new store needs its first administrator: `vigil init --admin NAME`; nothing was created"
        );
    }
    // Read the password before anything is created, so a refusal leaves nothing behind.
    let password = match admin {
        Some(name) => Some(session::read_new_password(&format!("Password for the administrator {name}"))?),
        None => None,
    };
    if let (Some(name), Some(password)) = (admin, &password) {
        crate::domain::access::validate_user_name(name)?;
        crate::domain::access::validate_password(name, password)?;
    }
    let ws = Workstation::open(OpenOptions::create(data_dir)).await?;
    let result = async {
        let has_users = ws.has_users().await?;
        let created_admin = match (admin, password) {
            (Some(name), Some(password)) if !has_users => {
                ws.create_first_admin(name, password).await?;
                true
            }
            (Some(_), _) => anyhow::bail!(
                "this store already has accounts: an administrator adds more with `vigil user add NAME --role ROLE`"
            ),
            _ => false,
        };
        let store_path = data_dir.join(crate::workstation::STORE_FILE);
        if json {
            render::json(&serde_json::json!({
                "store_path": store_path.display().to_string(),
                "created": !existed,
                "admin": admin.filter(|_| created_admin),
            }))?;
        } else {
            say!("{} encrypted store at {}", if existed { "Opened the existing" } else { "Created an" }, store_path.display());
            if let Some(name) = admin.filter(|_| created_admin) {
                say!("First administrator: {name}. Sign in with `vigil login {name}`");
            } else if !has_users {
                say!("This store has no account yet: `vigil init --admin NAME` creates its administrator");
            }
        }
        Ok(())
    }
    .await;
    ws.close().await;
    result
}

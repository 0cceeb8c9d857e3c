//! `vigil patient` (add, edit, consent, list, show, view), `vigil observations`, `vigil export`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use super::{args::parse_instant, render};
use crate::agents::OrchestratorConfig;
use crate::domain::{Consent, Kind, NewPatient, PatientRef, Sex};
use crate::export::ExportFormat;
use crate::store::{ObservationQuery, TimeRange};
use crate::workstation::PatientEdit;

/// Patient verbs.
#[derive(Debug, Subcommand)]
pub enum PatientCommand {
    /// Register a patient and print the new id
    Add(AddArgs),
    /// Change a patient's name, birth date, sex, consent or MRN (audited; sent to the clinic)
    Edit(EditArgs),
    /// Record a patient's consent (a new version, audited; withdrawing clinic sync removes their
    /// unsent messages) or list its versions
    Consent(ConsentArgs),
    /// List every patient
    List,
    /// Show one patient (by id or MRN)
    Show {
        /// The patient's id or MRN
        patient: String,
    },
    /// Mark a patient's record restricted (opening it then needs a reason), or lift it with --lift
    Restrict {
        /// The patient's id or MRN
        patient: String,
        /// Lift the restriction instead
        #[arg(long)]
        lift: bool,
    },
    /// Open a restricted record for 4 hours, giving the reason (break the glass; audited and
    /// listed by `vigil audit btg`)
    Open {
        /// The patient's id or MRN
        patient: String,
        /// Why you need the record now (at least 8 characters)
        #[arg(long)]
        reason: String,
    },
    /// The patient screen without the window: latest vitals, NEWS2, the assessment now, open
    /// alerts, HRV of the last 24 h, the weight filter and its flags (no alert is raised)
    View {
        /// The patient's id or MRN
        patient: String,
    },
}

/// Consent that can be recorded at registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ConsentFlag {
    /// Remote monitoring at this workstation
    Monitoring,
    /// Sending data to the clinic server
    ClinicSync,
    /// Research use of de-identified data
    Research,
}

/// `vigil patient add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Medical record number (unique)
    #[arg(long)]
    mrn: String,
    /// Full name
    #[arg(long)]
    name: String,
    /// Date of birth, YYYY-MM-DD
    #[arg(long, value_name = "YYYY-MM-DD")]
    birth_date: Option<String>,
    /// female, male, other or unknown
    #[arg(long, default_value = "unknown")]
    sex: String,
    /// Consent given (repeat or comma-separate)
    #[arg(long, value_enum, value_delimiter = ',')]
    consent: Vec<ConsentFlag>,
}

/// `vigil patient edit`: only the flags given change.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The patient's id or MRN
    patient: String,
    /// A corrected medical record number (refused when another patient has it)
    #[arg(long)]
    mrn: Option<String>,
    /// Full name
    #[arg(long)]
    name: Option<String>,
    /// Date of birth, YYYY-MM-DD, or `none` to clear it
    #[arg(long, value_name = "YYYY-MM-DD")]
    birth_date: Option<String>,
    /// female, male, other or unknown
    #[arg(long)]
    sex: Option<String>,
    /// The consent given, replacing what was recorded (comma-separate; `none` for none)
    #[arg(long, value_delimiter = ',')]
    consent: Option<Vec<String>>,
}

/// `vigil patient consent`: `--set` records, `--history` lists.
#[derive(Debug, Args)]
pub struct ConsentArgs {
    /// The patient's id or MRN
    patient: String,
    /// The consent now given, replacing what was recorded: comma-separated monitoring,
    /// clinic_sync, research, or `none` to withdraw all
    #[arg(long, value_name = "FLAGS", required_unless_present = "history", conflicts_with = "history")]
    set: Option<String>,
    /// What was signed or who gave it (kept with the version)
    #[arg(long, requires = "set", conflicts_with = "history")]
    note: Option<String>,
    /// List every version of the patient's consent, oldest first
    #[arg(long)]
    history: bool,
}

/// `vigil observations`.
#[derive(Debug, Args)]
pub struct ObservationsArgs {
    /// The patient's id or MRN
    patient: String,
    /// Only this kind (repeatable): heart_rate, spo2, body_weight, ...
    #[arg(long)]
    kind: Vec<String>,
    /// From this instant (RFC 3339 or YYYY-MM-DD), inclusive
    #[arg(long)]
    since: Option<String>,
    /// Up to this instant (RFC 3339 or YYYY-MM-DD), exclusive
    #[arg(long)]
    until: Option<String>,
    /// Only the most recent N (1-10000000)
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    limit: Option<u32>,
}

/// `vigil export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The patient's id or MRN
    patient: String,
    /// csv (the long import shape) or fhir (an R4 Bundle)
    #[arg(long, value_parser = ["csv", "fhir"])]
    format: String,
    /// Write to this file (owner-only, replaced whole) instead of standard output
    #[arg(long, short, visible_alias = "out")]
    output: Option<PathBuf>,
}

pub(super) async fn run_patient(cmd: PatientCommand, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let ws = super::session::open(data_dir).await?;
    match cmd {
        PatientCommand::Add(args) => {
            let birth_date = args
                .birth_date
                .as_deref()
                .map(|d| {
                    d.trim()
                        .parse()
                        .map_err(|_| anyhow::anyhow!("--birth-date: '{d}' is not a date YYYY-MM-DD"))
                })
                .transpose()?;
            let sex: Sex = args.sex.parse().map_err(|e| anyhow::anyhow!("--{e}"))?;
            let consent = Consent {
                monitoring: args.consent.contains(&ConsentFlag::Monitoring),
                clinic_sync: args.consent.contains(&ConsentFlag::ClinicSync),
                research: args.consent.contains(&ConsentFlag::Research),
            };
            let today = chrono::Utc::now().date_naive();
            let new = NewPatient::new(&args.mrn, &args.name, birth_date, sex, consent, today)
                .map_err(|e| anyhow::anyhow!("--{e}"))?;
            let patient = ws.add_patient(new).await?;
            if json { render::json(&patient)? } else { say!("{}", patient.id) }
        }
        PatientCommand::Edit(args) => {
            let patient = ws.update_patient(&PatientRef::parse(&args.patient), edit_of(&args)?).await?;
            if json { render::json(&patient)? } else { render::emit(&render::patient(&patient))? }
        }
        PatientCommand::Consent(args) => run_consent(&ws, &args, json).await?,
        PatientCommand::List => {
            let patients = ws.patients().await?;
            if json { render::json(&patients)? } else { render::emit(&render::patients(&patients))? }
        }
        PatientCommand::Show { patient } => {
            let patient = ws.patient(&PatientRef::parse(&patient)).await?;
            if json { render::json(&patient)? } else { render::emit(&render::patient(&patient))? }
        }
        PatientCommand::Restrict { patient, lift } => {
            let changed = ws.set_restricted(&PatientRef::parse(&patient), !lift).await?;
            if json {
                render::json(&serde_json::json!({ "restricted": !lift, "changed": changed }))?;
            } else {
                say!(
                    "{}{}",
                    if lift { "Restriction lifted" } else { "Record restricted" },
                    if changed { "" } else { " (already so)" }
                );
            }
        }
        PatientCommand::Open { patient, reason } => {
            let until = ws.break_glass(&PatientRef::parse(&patient), &reason).await?;
            if json {
                render::json(&serde_json::json!({ "until": until }))?;
            } else {
                say!("Restricted record opened until {until}; this access is audited and reviewed");
            }
        }
        PatientCommand::View { patient } => {
            let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await?;
            let view = ws.patient_view(&orchestrator, &PatientRef::parse(&patient)).await?;
            if json { render::json(&view)? } else { render::emit(&render::patient_view(&view))? }
        }
    }
    ws.close().await;
    Ok(())
}

async fn run_consent(
    ws: &crate::workstation::Workstation,
    args: &ConsentArgs,
    json: bool,
) -> anyhow::Result<()> {
    let patient = PatientRef::parse(&args.patient);
    match &args.set {
        Some(flags) => {
            let consent = Consent::parse_list(flags).map_err(|e| anyhow::anyhow!("--set: {}", e.problem))?;
            let change = ws.set_consent(&patient, consent, args.note.as_deref()).await?;
            if json {
                render::json(&change)?;
            } else if change.changed {
                let mut text =
                    format!("consent version {}: {} (was {})\n", change.version, change.after, change.before);
                if change.outbox_removed > 0 {
                    text.push_str(&format!(
                        "{} unsent message(s) to the clinic removed (clinic sync withdrawn)\n",
                        change.outbox_removed
                    ));
                }
                if change.outbox_queued > 0 {
                    text.push_str(&format!("{} message(s) queued for the clinic\n", change.outbox_queued));
                }
                render::emit(&text)?;
            } else {
                render::emit(&format!(
                    "consent unchanged: version {} is already {}\n",
                    change.version, change.after
                ))?;
            }
        }
        None => {
            let history = ws.consent_history(&patient).await?;
            if json {
                render::json(&history)?;
            } else {
                let mut text =
                    format!("{:<8}{:<34}{:<26}{:<20}NOTE\n", "VERSION", "CONSENT", "CHANGED (UTC)", "BY");
                for v in &history {
                    let note = v.note.as_deref().map(|n| n.replace('\n', " ")).unwrap_or_default();
                    text.push_str(&format!(
                        "{:<8}{:<34}{:<26}{:<20}{}\n",
                        v.version,
                        v.consent.to_string(),
                        v.changed_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        render::terminal_text(&v.changed_by),
                        render::terminal_text(&note)
                    ));
                }
                render::emit(&text)?;
            }
        }
    }
    Ok(())
}

fn edit_of(args: &EditArgs) -> anyhow::Result<PatientEdit> {
    let birth_date = match args.birth_date.as_deref().map(str::trim) {
        None => None,
        Some("none") => Some(None),
        Some(d) => Some(Some(
            d.parse().map_err(|_| anyhow::anyhow!("--birth-date: '{d}' is not a date YYYY-MM-DD or none"))?,
        )),
    };
    let sex = args.sex.as_deref().map(str::parse::<Sex>).transpose().map_err(|e| anyhow::anyhow!("--{e}"))?;
    let consent = args
        .consent
        .as_ref()
        .map(|flags| Consent::parse_list(&flags.join(",")))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--consent: {}", e.problem))?;
    Ok(PatientEdit { mrn: args.mrn.clone(), name: args.name.clone(), birth_date, sex, consent })
}

pub(super) async fn run_observations(
    args: ObservationsArgs,
    data_dir: &Path,
    json: bool,
) -> anyhow::Result<()> {
    let kinds = args
        .kind
        .iter()
        .flat_map(|k| k.split(','))
        .map(|k| k.trim().parse::<Kind>().map_err(|e| anyhow::anyhow!("--kind: {e}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let since =
        args.since.as_deref().map(|t| parse_instant("--since", t)).transpose().map_err(anyhow::Error::msg)?;
    let until =
        args.until.as_deref().map(|t| parse_instant("--until", t)).transpose().map_err(anyhow::Error::msg)?;
    let query = ObservationQuery { kinds, range: TimeRange { since, until }, limit: args.limit };
    let ws = super::session::open(data_dir).await?;
    let (_patient, observations) = ws.observations(&PatientRef::parse(&args.patient), &query).await?;
    let sources = ws.source_labels().await?;
    if json {
        render::json(&render::observation_rows(&observations, &sources))?;
    } else {
        render::emit(&render::observations(&observations, &sources))?;
    }
    ws.close().await;
    Ok(())
}

pub(super) async fn run_export(args: ExportArgs, data_dir: &Path) -> anyhow::Result<()> {
    let format = if args.format == "csv" { ExportFormat::Csv } else { ExportFormat::Fhir };
    let ws = super::session::open(data_dir).await?;
    let patient = PatientRef::parse(&args.patient);
    // The facade writes the file itself, so its audit event names the file and the digest.
    let result = match &args.output {
        Some(path) => ws.export_to(&patient, format, path).await.map(|_| None),
        None => ws.export(&patient, format).await.map(Some),
    };
    ws.close().await;
    if let Some(text) = result? {
        render::emit(&text)?;
    }
    Ok(())
}

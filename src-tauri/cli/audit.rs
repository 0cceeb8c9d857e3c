//! `vigil audit ...`: verify the chain and its anchor, export it, check an export offline, list
//! the break-the-glass events.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::{args::parse_instant, render};
use crate::domain::PatientRef;
use crate::store::{AnchorCheck, ServerHeadCheck};
use crate::workstation::{AuditSelection, Workstation};

/// Audit verbs.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the chain, report the first broken row, and check it against its anchor kept
    /// beside the key (an older copy of the store or a deleted tail fails)
    Verify,
    /// Write the audit trail as JSON lines (each event with its chain fields, then a head line),
    /// checkable offline with `vigil audit check`; the export is itself audited
    Export(ExportArgs),
    /// Check an export offline (no store needed): recompute every hash, name the first bad line
    Check {
        /// The export file
        file: PathBuf,
    },
    /// List break-the-glass events: time, actor, patient, reason, until
    Btg {
        /// Only events at or after this time (RFC 3339, or a date)
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
    },
}

/// `vigil audit export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Only events at or after this time (RFC 3339, or a date)
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only events by this user (`os:alice`, or `alice`)
    #[arg(long, value_name = "USER")]
    user: Option<String>,
    /// Only events about this patient (id or MRN)
    #[arg(long, value_name = "PATIENT")]
    patient: Option<String>,
    /// Write to this file (created owner-only, 0600) instead of stdout
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

fn since(text: Option<&str>) -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    text.map(|t| parse_instant("--since", t)).transpose().map_err(anyhow::Error::msg)
}

pub(super) async fn run(command: AuditCommand, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify => verify(data_dir, json).await,
        AuditCommand::Export(args) => export(args, data_dir, json).await,
        AuditCommand::Check { file } => check(&file, json),
        AuditCommand::Btg { since: text } => {
            let since = since(text.as_deref())?;
            let ws = super::session::open(data_dir).await?;
            let events = ws.break_glass_events(since).await?;
            ws.close().await;
            if json {
                return render::json(&events);
            }
            if events.is_empty() {
                say!("No break-the-glass events");
            }
            for e in &events {
                let until = e.until.map(|u| u.to_rfc3339()).unwrap_or_else(|| "?".to_owned());
                let patient = e.patient.map(|p| p.to_string()).unwrap_or_else(|| "-".to_owned());
                let reason = e.reason.as_deref().map(render::terminal_text).unwrap_or_default();
                say!(
                    "{}  {}  patient {patient}  until {until}  reason \"{reason}\"{}",
                    e.at.to_rfc3339(),
                    render::terminal_text(&e.actor),
                    e.problem.as_deref().map(|p| format!("  ({p})")).unwrap_or_default()
                );
            }
            Ok(())
        }
    }
}

async fn verify(data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let ws = super::session::open(data_dir).await?;
    let result = ws.verify_audit().await?;
    ws.close().await;
    if json {
        render::json(&result)?;
    } else {
        match (result.first_broken, &result.problem) {
            (None, _) => say!("Audit trail intact: {} events, chain verified", result.rows),
            (Some(seq), problem) => say!(
                "Audit trail BROKEN at event {seq} of {}: {}",
                result.rows,
                problem.as_deref().unwrap_or("the chain does not verify")
            ),
        }
        match &result.anchor {
            AnchorCheck::Matched { place, seq, at, head } => {
                say!(
                    "Anchor matches: event {seq}, anchored {} in {place}; now at event {head}",
                    at.to_rfc3339()
                )
            }
            AnchorCheck::Created { place, seq } => say!(
                "No anchor was kept for this store (first verify after an upgrade, or it was deleted): \
                 anchored event {seq} in {place}"
            ),
            AnchorCheck::NotKept { reason } => say!("No anchor: {reason}"),
            AnchorCheck::Failed { place, problem } => say!("Anchor FAILED ({place}): {problem}"),
        }
        match &result.server_head {
            ServerHeadCheck::None => {}
            ServerHeadCheck::Extends { seq } => {
                say!("Extends the head the clinic server acknowledged (event {seq})")
            }
            ServerHeadCheck::Broken { problem, .. } => say!("Clinic server head FAILED: {problem}"),
        }
        if result.spooled > 0 {
            say!("{} read events wait in the spool: the next write chains them", result.spooled);
        }
    }
    if let ServerHeadCheck::Broken { problem, .. } = &result.server_head {
        anyhow::bail!("the audit trail does not extend the head the clinic server acknowledged: {problem}");
    }
    if let AnchorCheck::Failed { problem, .. } = &result.anchor {
        anyhow::bail!("the audit trail does not match its anchor: {problem}");
    }
    if result.first_broken.is_some() {
        anyhow::bail!("the audit trail's hash chain is broken");
    }
    Ok(())
}

async fn export(args: ExportArgs, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let selection = AuditSelection {
        since: since(args.since.as_deref())?,
        user: args.user,
        patient: args.patient.as_deref().map(PatientRef::parse),
    };
    let ws = super::session::open(data_dir).await?;
    let report = match &args.out {
        Some(path) => ws.export_audit_to_file(&selection, path).await,
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout());
            ws.export_audit(&selection, &mut out, Path::new("stdout")).await
        }
    };
    ws.close().await;
    let report = report?;
    // With no --out the lines went to stdout: the summary goes to stderr.
    if args.out.is_none() {
        eprintln!("Exported {} audit events (SHA-256 {})", report.rows, report.sha256);
    } else if json {
        render::json(&report)?;
    } else {
        say!(
            "Exported {} audit events{} to {} (SHA-256 {})",
            report.rows,
            if report.complete { ", the whole chain," } else { " (filtered)" },
            report.destination,
            report.sha256
        );
    }
    Ok(())
}

fn check(file: &Path, json: bool) -> anyhow::Result<()> {
    match Workstation::check_audit_export(file)? {
        Ok(checked) => {
            if json {
                render::json(&checked)?;
            } else {
                say!(
                    "{}: {} events, every hash recomputed{}; chain head {}{}",
                    file.display(),
                    checked.events,
                    if checked.complete {
                        ", one unbroken chain from the first event"
                    } else {
                        " (a filtered export)"
                    },
                    checked.head_seq,
                    checked.anchor_seq.map(|a| format!(", anchor at event {a}")).unwrap_or_default()
                );
            }
            Ok(())
        }
        Err(fault) => anyhow::bail!("{}: {fault}", file.display()),
    }
}

//! `vigil import`: files in, a report out, with a progress bar on a terminal and Ctrl-C to
//! cancel (the file being imported then stores nothing).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use super::render;
use crate::domain::PatientRef;
use crate::ingest::Format;
use crate::workstation::{CancelToken, ImportOptions, ImportProgress, ImportReport};

/// `vigil import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files to import: CSV, FHIR R4 JSON/NDJSON, Apple Health export.xml/.zip, Garmin FIT
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The patient (id or MRN) for records whose file does not name one
    #[arg(long)]
    patient: Option<String>,
    /// csv, fhir, apple-health or fit (detected from the file when absent)
    #[arg(long)]
    format: Option<String>,
    /// Parse and count, store nothing
    #[arg(long)]
    dry_run: bool,
    /// For a Garmin weight-scale FIT file shared by several users: import only user N's readings
    /// (its user_profile_index, 0-65534)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(0..=65_534))]
    fit_user: Option<u16>,
}

pub(super) async fn run(args: ImportArgs, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let format = args
        .format
        .as_deref()
        .map(|f| f.parse::<Format>().map_err(|e| anyhow::anyhow!("--format: {e}")))
        .transpose()?;
    let options = ImportOptions {
        patient: args.patient.as_deref().map(PatientRef::parse),
        format,
        dry_run: args.dry_run,
        fit_user: args.fit_user,
    };
    let ws = super::session::open(data_dir).await?;
    let cancel = CancelToken::default();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        });
    }
    // Every reading that arrives is monitored: the agents assess what each file added.
    let orchestrator = if args.dry_run {
        None
    } else {
        Some(ws.orchestrator(&crate::agents::OrchestratorConfig::default()).await?)
    };
    let mut monitor = crate::workstation::Monitor::default();
    let mut entries = Vec::new();
    let mut failures = 0;
    for file in &args.files {
        let bar = ProgressBar::new(file, std::io::stderr().is_terminal() && !json);
        let result = match &orchestrator {
            Some(o) => {
                ws.import_and_monitor(file, &options, o, &mut monitor, &|p| bar.draw(p), &cancel).await
            }
            None => ws.import_file(file, &options, &|p| bar.draw(p), &cancel).await,
        };
        bar.finish();
        let (report, error) = match result {
            Ok(report) => {
                if !json {
                    render::emit(&human(&report))?;
                }
                let error = nothing_imported(&report);
                (Some(report), error)
            }
            Err(e) => (None, Some(e.to_string())),
        };
        if let Some(error) = &error {
            failures += 1;
            eprintln!("error: {}", render::terminal_text(error));
        }
        entries.push(json_entry(file, report.as_ref(), error, args.dry_run)?);
        if cancel.is_cancelled() {
            break;
        }
    }
    ws.close().await;
    if json {
        if entries.len() == 1 { render::json(&entries[0])? } else { render::json(&entries)? }
    }
    if failures > 0 {
        anyhow::bail!("{failures} of {} files were not imported", args.files.len());
    }
    Ok(())
}

/// Why a file that parsed still counts as not imported: it held records and none was accepted
/// (a wide CSV without `--patient`, a file of only bad lines). `None` when it imported.
fn nothing_imported(report: &ImportReport) -> Option<String> {
    if report.accepted > 0 || report.rejected_total == 0 {
        return None;
    }
    let first = report.rejected.first().map(|r| format!(" (first: {})", r.reason)).unwrap_or_default();
    Some(format!("{}: nothing imported, {} records rejected{first}", report.file, report.rejected_total))
}

/// One file in `--json`: the report's fields and `error` (null when the file imported). A file
/// that failed as a whole has the same fields, zero counts and its reason in `error`.
fn json_entry(
    file: &Path,
    report: Option<&ImportReport>,
    error: Option<String>,
    dry_run: bool,
) -> anyhow::Result<serde_json::Value> {
    let mut value = match report {
        Some(report) => serde_json::to_value(report)?,
        None => serde_json::json!({
            "file": file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            "format": null,
            "accepted": 0,
            "duplicates": 0,
            "added": 0,
            "rejected": [],
            "rejected_total": 0,
            "by_kind": {},
            "patients_created": 0,
            "dry_run": dry_run,
            "alerts": [],
        }),
    };
    value["error"] = serde_json::json!(error);
    Ok(value)
}

/// The text report. Every piece taken from the file (its name, locations, reasons) goes through
/// [`render::terminal_text`], so file content cannot drive the terminal.
fn human(r: &ImportReport) -> String {
    let mut out = format!(
        "{}: {} accepted ({} new, {} already stored), {} rejected{}\n",
        render::terminal_text(&r.file),
        r.accepted,
        r.added,
        r.duplicates,
        r.rejected_total,
        if r.dry_run { " [dry run: nothing stored]" } else { "" }
    );
    if r.patients_created > 0 {
        out.push_str(&format!("  {} patients created from the file\n", r.patients_created));
    }
    for a in &r.alerts {
        out.push_str(&format!(
            "  ALERT {} {} at {} (patient {})\n",
            a.risk_level, a.event, a.event_time, a.patient_id
        ));
    }
    for (kind, n) in &r.by_kind {
        out.push_str(&format!("  {kind:<18} {n}\n"));
    }
    for rejection in r.rejected.iter().take(20) {
        out.push_str(&format!(
            "  rejected {}: {}\n",
            render::terminal_text(&rejection.location.to_string()),
            render::terminal_text(&rejection.reason)
        ));
    }
    if r.rejected_total > 20 {
        out.push_str(&format!(
            "  ... and {} more rejections (--json lists up to 10,000)\n",
            r.rejected_total - 20
        ));
    }
    out
}

/// A one-line progress bar on stderr, redrawn at most ten times a second.
struct ProgressBar {
    name: String,
    enabled: bool,
    started: Instant,
    last: std::sync::Mutex<Option<Instant>>,
}

impl ProgressBar {
    fn new(file: &Path, enabled: bool) -> Self {
        let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        Self { name, enabled, started: Instant::now(), last: std::sync::Mutex::new(None) }
    }

    fn draw(&self, p: ImportProgress) {
        if !self.enabled {
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| t.elapsed().as_millis() < 100) && p.bytes_read < p.bytes_total {
            return;
        }
        *last = Some(Instant::now());
        let fraction = if p.bytes_total == 0 { 1.0 } else { p.bytes_read as f64 / p.bytes_total as f64 };
        // A fraction of 0..=1 (more if the file grew): 0..=30 cells, capped again below.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "see above")]
        let filled = (fraction * 30.0).round() as usize;
        let rate = p.records as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        eprint!(
            "\r{:<24} [{}{}] {:>3.0}% {:>10} records {:>9.0}/s",
            self.name,
            "=".repeat(filled),
            " ".repeat(30 - filled.min(30)),
            fraction * 100.0,
            p.records,
            rate
        );
    }

    fn finish(&self) {
        if self.enabled {
            eprintln!();
        }
    }
}

//! `vigil import`: files in, a report out, with a progress bar on a terminal and Ctrl-C to
//! cancel (the file being imported then stores nothing).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use super::render;
use crate::domain::PatientRef;
use crate::ingest::Format;
use crate::workstation::{
    CancelToken, ImportOptions, ImportProgress, ImportReport, OpenOptions, Workstation,
};

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
    };
    let ws = Workstation::open(OpenOptions::existing(data_dir)).await?;
    let cancel = CancelToken::default();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        });
    }
    let mut reports = Vec::new();
    let mut failures = 0;
    for file in &args.files {
        let bar = ProgressBar::new(file, std::io::stderr().is_terminal() && !json);
        let result = ws.import_file(file, &options, &|p| bar.draw(p), &cancel).await;
        bar.finish();
        match result {
            Ok(report) => {
                if !json {
                    render::emit(&human(&report))?;
                }
                reports.push(report);
            }
            Err(e) => {
                failures += 1;
                eprintln!("error: {e}");
            }
        }
        if cancel.is_cancelled() {
            break;
        }
    }
    ws.close().await;
    if json {
        if reports.len() == 1 { render::json(&reports[0])? } else { render::json(&reports)? }
    }
    if failures > 0 {
        anyhow::bail!("{failures} of {} files were not imported", args.files.len());
    }
    Ok(())
}

fn human(r: &ImportReport) -> String {
    let mut out = format!(
        "{}: {} accepted ({} new, {} already stored), {} rejected{}\n",
        r.file,
        r.accepted,
        r.added,
        r.duplicates,
        r.rejected_total,
        if r.dry_run { " [dry run: nothing stored]" } else { "" }
    );
    if r.patients_created > 0 {
        out.push_str(&format!("  {} patients created from the file\n", r.patients_created));
    }
    for (kind, n) in &r.by_kind {
        out.push_str(&format!("  {kind:<18} {n}\n"));
    }
    for rejection in r.rejected.iter().take(20) {
        out.push_str(&format!("  rejected {}: {}\n", rejection.location, rejection.reason));
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

//! `vigil assess`, `vigil monitor`, `vigil agents status`, `vigil alerts ...`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};

use super::render;
use crate::agents::alerting::{Alert, AlertDraft, AlertPolicy, AlertStatus, RateLimiter};
use crate::agents::replay::{self, ReplayOptions};
use crate::agents::{Evidence, Orchestrator, OrchestratorConfig, PoolMetrics, RiskLevel};
use crate::analysis::io_window::{InputFormat, parse_vitals};
use crate::domain::PatientRef;
use crate::store::AlertQuery;
use crate::workstation::{AssessOptions, MonitorOptions};

/// `vigil assess PATIENT`.
#[derive(Debug, Args)]
pub struct AssessArgs {
    /// The patient's id or MRN
    pub patient: String,
    /// Alert when a finding's risk score reaches this (0-1)
    #[arg(long, default_value_t = 0.85, value_parser = super::args::number_in(0.0, 1.0))]
    pub threshold: f64,
}

/// `vigil monitor --replay FILE`.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// Replay a recorded 1 Hz stream instead of watching the store: the wide CSV `time,heart_rate,
    /// spo2,respiratory_rate,body_temperature,rr_interval` (any of them after `time`), and
    /// `hrv_sdnn` (or `hrv_ms`): the device's per-sample HRV, ms
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
    /// Watching the store: seconds between passes (1-3600)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub interval: u64,
    /// Watching the store: one pass over what arrived, then exit (for scripts and tests)
    #[arg(long)]
    pub once: bool,
    /// Store the alerts for this patient (id or MRN); without it nothing is stored
    #[arg(long)]
    pub patient: Option<String>,
    /// Alert when a finding's risk score reaches this (0-1)
    #[arg(long, default_value_t = 0.85, value_parser = super::args::number_in(0.0, 1.0))]
    pub threshold: f64,
    /// At most one alert per patient and event within this many seconds of event time (0-604800, 7 days)
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(i64).range(0..=604_800))]
    pub rate_limit: i64,
}

/// `vigil monitor` without `--replay`: the monitoring service of a clinic box. Every reading
/// that reaches the store (from any process) is analysed, assessed and alerted; each alert is
/// printed as it is raised (a JSON line with `--json`). Runs until SIGTERM or Ctrl-C, then
/// finishes the pass in hand and stops cleanly.
async fn watch(args: MonitorArgs, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let ws = super::session::open(data_dir).await?;
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await?;
    let replay =
        ReplayOptions { policy: policy(args.threshold, args.rate_limit)?, ..ReplayOptions::default() };
    let mut monitor =
        crate::workstation::Monitor::new(crate::workstation::MonitorConfig { replay, ..Default::default() });
    let stop = shutdown_signal();
    tokio::pin!(stop);
    if !json && !args.once {
        eprintln!("watching {} (every {} s; Ctrl-C or SIGTERM stops)", data_dir.display(), args.interval);
    }
    let result = loop {
        let pass = match ws.monitor_pass(&orchestrator, &mut monitor).await {
            Ok(pass) => pass,
            Err(e) => break Err(anyhow::Error::from(e)),
        };
        for a in &pass.alerts {
            if json {
                render::emit(&format!("{}\n", serde_json::to_string(a)?))?;
            } else {
                say!("{} ALERT {} {} patient {}", a.event_time, a.risk_level, a.event, a.patient_id);
            }
        }
        if args.once {
            if !json {
                say!(
                    "{} observations of {} patients: {} assessments, {} alerts",
                    pass.observations,
                    pass.patients,
                    pass.assessments,
                    pass.alerts.len()
                );
            }
            break Ok(());
        }
        tokio::select! {
            _ = &mut stop => break Ok(()),
            _ = tokio::time::sleep(std::time::Duration::from_secs(args.interval)) => {}
        }
    };
    ws.close().await;
    result
}

/// SIGTERM (systemd stopping the service) or Ctrl-C.
pub(super) async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `vigil agents ...`.
#[derive(Debug, Subcommand)]
pub enum AgentsCommand {
    /// Run the health checks and probe assessments, then show each pool and instance: load,
    /// capacity, health, latency percentiles, error rate, breaker (this process's pools)
    Status {
        /// Probe assessments to run first (0-100000)
        #[arg(long, default_value_t = 50, value_parser = super::args::count(0, 100_000))]
        probes: usize,
    },
}

/// `vigil alerts ...`.
#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// List alerts, newest first
    List {
        /// Only this patient's (id or MRN)
        #[arg(long)]
        patient: Option<String>,
        /// Include resolved alerts
        #[arg(long)]
        all: bool,
        /// Only at or above this risk level: low, moderate, high, critical
        #[arg(long, value_name = "LEVEL", value_parser = |s: &str| s.parse::<RiskLevel>())]
        min_level: Option<RiskLevel>,
        /// At most this many (1-100000)
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(i64).range(1..=100_000))]
        limit: i64,
    },
    /// Acknowledge a new alert
    Ack {
        /// The alert's id
        id: String,
        /// What you saw or did
        #[arg(long)]
        note: String,
    },
    /// Resolve an alert (a new one is acknowledged first, with the same note)
    Resolve {
        /// The alert's id
        id: String,
        /// How it was resolved (required, not blank)
        #[arg(long)]
        note: String,
    },
}

fn policy(threshold: f64, rate_limit: i64) -> anyhow::Result<AlertPolicy> {
    if !(0.0..=1.0).contains(&threshold) {
        anyhow::bail!("--threshold: {threshold} is not between 0 and 1");
    }
    if rate_limit < 0 {
        anyhow::bail!("--rate-limit: {rate_limit} is negative");
    }
    Ok(AlertPolicy { threshold, rate_limit_seconds: rate_limit })
}

pub(super) async fn run_assess(args: AssessArgs, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let ws = super::session::open(data_dir).await?;
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await?;
    let options = AssessOptions { policy: policy(args.threshold, 300)? };
    let outcome = ws.assess(&orchestrator, &PatientRef::parse(&args.patient), &options).await?;
    ws.close().await;
    if json {
        return render::json(&outcome);
    }
    let Some(a) = &outcome.assessment else {
        say!("{} ({}) has no observations to assess", outcome.patient.name, outcome.patient.mrn);
        return Ok(());
    };
    say!(
        "{} ({}) at {}: {} risk {:.2}, confidence {:.2}{}",
        outcome.patient.name,
        outcome.patient.mrn,
        a.time.to_rfc3339(),
        a.risk_level.as_str().to_uppercase(),
        a.risk_score,
        a.confidence,
        a.event.map(|e| format!(", event {}", e.as_str())).unwrap_or_default()
    );
    for f in &a.findings {
        say!(
            "  {:<9} {:.2}  {:<40} conf {:.2}  [{}]",
            f.risk_level.as_str(),
            f.risk_score,
            f.code,
            f.confidence,
            f.agent
        );
        for e in f.triggered_evidence() {
            say!("            {}", evidence(e));
        }
        if f.risk_score >= 0.3 || f.is_fallback() {
            for r in &f.recommendations {
                say!("            -> {r}");
            }
        }
    }
    for alert in &outcome.alerts {
        say!(
            "ALERT {} {} ({:.2}) id {}",
            alert.event.as_str(),
            alert.risk_level.as_str(),
            alert.risk_score,
            alert.id
        );
    }
    if outcome.rate_limited > 0 {
        say!("{} alert(s) held back by the rate limit", outcome.rate_limited);
    }
    Ok(())
}

fn evidence(e: &Evidence) -> String {
    format!("{} = {:.2} ({} {}; {})", e.feature, e.value, e.comparison, e.threshold, e.source)
}

/// One alert as `vigil monitor --json` prints it (one object per line).
#[derive(serde::Serialize)]
struct AlertLine<'a> {
    time: String,
    patient: &'a str,
    event: &'a str,
    risk: f64,
    evidence: &'a [Evidence],
}

fn alert_line(
    time: chrono::DateTime<chrono::Utc>,
    patient: &str,
    (event, risk, evidence): (&str, f64, &[Evidence]),
) -> anyhow::Result<String> {
    Ok(serde_json::to_string(&AlertLine { time: time.to_rfc3339(), patient, event, risk, evidence })?)
}

pub(super) async fn run_worklist(data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let ws = super::session::open(data_dir).await?;
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await?;
    let list = ws.worklist(&orchestrator).await;
    ws.close().await;
    let list = list?;
    if json {
        return render::json(&list);
    }
    say!(
        "{:<9} {:>5} {:>5}  {:<12} {:<28} {:>6}  last data",
        "risk",
        "score",
        "NEWS2",
        "MRN",
        "name",
        "alerts"
    );
    for r in &list.rows {
        let news2 = r.news2.as_ref().map_or("-".to_owned(), |n| n.aggregate.to_string());
        // Whole milliseconds from an i64 (worklist.rs), exact in f64; `as` saturates, and a time
        // chrono cannot show is left blank.
        #[allow(clippy::cast_possible_truncation, reason = "an i64 time carried as f64 for the window")]
        let last = r.last_data_ms.map_or("-".to_owned(), |ms| {
            chrono::DateTime::from_timestamp_millis(ms as i64).map_or_else(String::new, |t| t.to_rfc3339())
        });
        // A restricted record the user has not opened has no score to show (only who it is).
        let score = if r.assessed == "restricted" { "-".to_owned() } else { format!("{:.2}", r.risk_score) };
        say!(
            "{:<9} {:>5} {:>5}  {:<12} {:<28} {:>6}  {last}",
            r.risk_level,
            score,
            news2,
            r.mrn,
            r.name,
            r.open_alerts
        );
    }
    Ok(())
}

pub(super) async fn run_monitor(args: MonitorArgs, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let Some(replay) = args.replay.clone() else { return watch(args, data_dir, json).await };
    let text = std::fs::read_to_string(&replay)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", replay.display()))?;
    let rows =
        parse_vitals(&text, InputFormat::Csv).map_err(|e| anyhow::anyhow!("{}: {e}", replay.display()))?;
    let samples: Vec<_> = rows.into_iter().map(|(_, s)| s).collect();
    let options =
        ReplayOptions { policy: policy(args.threshold, args.rate_limit)?, ..ReplayOptions::default() };
    let started = std::time::Instant::now();
    let summary = match &args.patient {
        Some(p) => {
            let ws = super::session::open(data_dir).await?;
            let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await?;
            let mut print = |a: &Alert| {
                let line = if json {
                    alert_line(
                        a.event_time,
                        &a.patient_id.to_string(),
                        (a.event.as_str(), a.risk_score, &a.evidence),
                    )
                } else {
                    Ok(text_line(
                        a.event_time,
                        &a.patient_id.to_string(),
                        a.event.as_str(),
                        a.risk_score,
                        &a.evidence,
                    ))
                };
                if let Ok(l) = line {
                    let _ = render::emit(&format!("{l}\n"));
                }
            };
            let report = ws
                .monitor(
                    &orchestrator,
                    &PatientRef::parse(p),
                    samples,
                    &MonitorOptions { replay: options },
                    &mut print,
                )
                .await?;
            ws.close().await;
            report.summary
        }
        None => {
            let orchestrator = Orchestrator::with_rules(&OrchestratorConfig::default());
            let label = replay.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let mut limiter = RateLimiter::new();
            let mut print = |d: &AlertDraft| {
                let line = if json {
                    alert_line(d.time, &d.patient, (d.event.as_str(), d.risk_score, &d.evidence))
                } else {
                    Ok(text_line(d.time, &d.patient, d.event.as_str(), d.risk_score, &d.evidence))
                };
                if let Ok(l) = line {
                    let _ = render::emit(&format!("{l}\n"));
                }
            };
            replay::replay_patient(&orchestrator, &label, samples, &options, &mut limiter, &mut print).await
        }
    };
    eprintln!(
        "replayed {} samples, {} assessments, {} alerts ({} rate-limited) in {:.2} s{}",
        summary.samples,
        summary.assessments,
        summary.alerts,
        summary.rate_limited,
        started.elapsed().as_secs_f64(),
        if args.patient.is_none() { "; nothing stored (no --patient)" } else { "" }
    );
    Ok(())
}

fn text_line(
    time: chrono::DateTime<chrono::Utc>,
    patient: &str,
    event: &str,
    risk: f64,
    evidence: &[Evidence],
) -> String {
    let mut out = format!("{} {patient} ALERT {event} risk {risk:.2}", time.to_rfc3339());
    for e in evidence {
        let _ = write!(out, "; {}", self::evidence(e));
    }
    out
}

pub(super) async fn run_agents(cmd: AgentsCommand, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let AgentsCommand::Status { probes } = cmd;
    // With a store, its model rollouts join the rules; without one, the rules alone.
    let ws = if data_dir.join(crate::workstation::STORE_FILE).exists() {
        Some(super::session::open(data_dir).await?)
    } else {
        None
    };
    let (orchestrator, models) = match &ws {
        Some(ws) => (ws.orchestrator(&OrchestratorConfig::default()).await?, Some(ws.model_runtime().await?)),
        None => (Orchestrator::with_rules(&OrchestratorConfig::default()), None),
    };
    orchestrator.check_health().await;
    let scenario = replay::synthetic::Scenario {
        hours: 0.5,
        ..replay::synthetic::Scenario::new(replay::synthetic::Course::Stable, 1)
    };
    let mut stream = replay::PatientStream::new("probe", ReplayOptions::default());
    let mut ran = 0;
    for s in scenario.samples() {
        if ran >= probes {
            break;
        }
        if let Some(ctx) = stream.push(&s) {
            orchestrator.assess(ctx).await;
            ran += 1;
        }
    }
    let metrics = orchestrator.metrics();
    let lines = model_lines(models.as_deref());
    if let Some(ws) = ws {
        ws.close().await;
    }
    if json {
        return render::json(&serde_json::json!({ "pools": metrics, "models": lines }));
    }
    render::emit(&format!("{}\n{}", lines.join("\n"), status_text(&metrics)))
}

/// One line for the runtime, then one per agent with a model (or "rules only").
fn model_lines(models: Option<&crate::workstation::ModelRuntime>) -> Vec<String> {
    let Some(m) = models else {
        return vec!["models: no store here, every agent answers with its rules".to_owned()];
    };
    let mut out = vec![match &m.status {
        crate::models::RuntimeStatus::Loaded { path, source } => {
            format!("models: ONNX Runtime {path} ({source})")
        }
        crate::models::RuntimeStatus::Unavailable { reason } => format!("models: rules only — {reason}"),
    }];
    out.extend(m.problems().into_iter().map(|p| format!("  not loaded: {p}")));
    for s in crate::agents::Specialty::ALL {
        let d = m.slot(s).current();
        let name = |x: &crate::models::LoadedModel| x.label();
        let mut line = format!("  {s}: ");
        match &d.active {
            Some(a) => line += &format!("model {}", name(a)),
            None => line += "rules only",
        }
        if let Some(c) = &d.candidate {
            let v = c.stats.view();
            line += &format!(
                ", candidate {} ({:?}: {} evaluations, {} errors, {} disagreements)",
                name(&c.model),
                c.mode,
                v.evaluations,
                v.errors,
                v.disagreements
            );
        }
        if let Some(p) = &d.previous {
            line += &format!(", previous {} loaded", name(p));
        }
        out.push(line);
    }
    out
}

fn status_text(metrics: &[PoolMetrics]) -> String {
    let mut out = String::new();
    for pool in metrics {
        let _ = writeln!(
            out,
            "{} ({:?}): load {}/{}, fallbacks {}",
            pool.specialty, pool.strategy, pool.load, pool.capacity, pool.fallbacks
        );
        for i in &pool.instances {
            let ms = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.3}"));
            let _ = writeln!(
                out,
                "  {:<26} {:>3}/{:<3} {:<9} breaker {:<9} p50 {} p95 {} p99 {} ms  errors {:.0}%  calls {}",
                i.id,
                i.load,
                i.capacity,
                format!("{:?}", i.health).to_lowercase(),
                format!("{:?}", i.breaker).to_lowercase(),
                ms(i.p50_ms),
                ms(i.p95_ms),
                ms(i.p99_ms),
                i.error_rate * 100.0,
                i.calls
            );
        }
    }
    out
}

pub(super) async fn run_alerts(cmd: AlertsCommand, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let ws = super::session::open(data_dir).await?;
    match cmd {
        AlertsCommand::List { patient, all, min_level, limit } => {
            let patient = match patient {
                Some(p) => Some(ws.patient(&PatientRef::parse(&p)).await?.id),
                None => None,
            };
            let statuses = if all { Vec::new() } else { vec![AlertStatus::New, AlertStatus::Acknowledged] };
            let query = AlertQuery { patient, statuses, min_level, limit: Some(limit), offset: 0 };
            let alerts = ws.alerts(&query).await?;
            if json {
                render::json(&alerts)?;
            } else if alerts.is_empty() {
                say!("No {}alerts", if all { "" } else { "open " });
            } else {
                for a in &alerts {
                    say!(
                        "{} {:<12} {:<23} {:<8} {:.2} patient {} at {}",
                        a.id,
                        a.status.as_str(),
                        a.event.as_str(),
                        a.risk_level.as_str(),
                        a.risk_score,
                        a.patient_id,
                        a.event_time.to_rfc3339()
                    );
                }
            }
        }
        AlertsCommand::Ack { id, note } => {
            let a = ws.acknowledge_alert(&id, &note).await?;
            if json {
                render::json(&a)?;
            } else {
                say!("Acknowledged alert {} ({})", a.id, a.event.as_str());
            }
        }
        AlertsCommand::Resolve { id, note } => {
            let a = ws.resolve_alert(&id, &note).await?;
            if json {
                render::json(&a)?;
            } else {
                say!("Resolved alert {} ({})", a.id, a.event.as_str());
            }
        }
    }
    ws.close().await;
    Ok(())
}

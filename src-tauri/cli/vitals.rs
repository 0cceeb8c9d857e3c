//! `vigil vitals record`: a nurse's spot vitals from the terminal (issue 11).

use std::fmt::Write as _;
use std::path::Path;

use clap::{Args, Subcommand, ValueEnum};

use super::args::{number_in, parse_instant};
use super::render;
use crate::agents::OrchestratorConfig;
use crate::analysis::news2::Spo2Scale;
use crate::domain::{Acvpu, PatientRef};
use crate::workstation::{Monitor, SpotVitals, VitalsEntry};

/// Vitals verbs.
#[derive(Debug, Subcommand)]
pub enum VitalsCommand {
    /// Record a set of spot vitals for a patient (stored from the `manual` source, assessed at
    /// once); prints the readings and the NEWS2 they give
    Record(RecordArgs),
}

/// Air or supplemental oxygen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Oxygen {
    /// Room air
    Air,
    /// Supplemental oxygen (any device)
    Oxygen,
}

/// `vigil vitals record`. The ranges are the store's plausible ranges (`Kind::plausible`).
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The patient's id or MRN
    patient: String,
    /// Heart rate, /min (20-300)
    #[arg(long, value_parser = number_in(20.0, 300.0))]
    heart_rate: Option<f64>,
    /// SpO2, % (50-100)
    #[arg(long, value_parser = number_in(50.0, 100.0))]
    spo2: Option<f64>,
    /// NEWS2 SpO2 scale: 1, or 2 when a 88-92 % target is prescribed
    #[arg(long, requires = "spo2", value_parser = clap::value_parser!(u8).range(1..=2))]
    spo2_scale: Option<u8>,
    /// Breathing air or on supplemental oxygen
    #[arg(long, value_enum)]
    oxygen: Option<Oxygen>,
    /// Respiratory rate, /min (2-80)
    #[arg(long, value_parser = number_in(2.0, 80.0))]
    resp_rate: Option<f64>,
    /// Blood pressure, systolic/diastolic mm[Hg] (e.g. 120/80)
    #[arg(long, value_name = "SYS/DIA", value_parser = blood_pressure)]
    bp: Option<(f64, f64)>,
    /// Body temperature, Cel (25-45)
    #[arg(long, value_parser = number_in(25.0, 45.0))]
    temperature: Option<f64>,
    /// Consciousness: A (alert), C (new confusion), V (voice), P (pain), U (unresponsive)
    #[arg(long, value_parser = acvpu)]
    consciousness: Option<Acvpu>,
    /// Body weight, kg (0.5-650)
    #[arg(long, value_parser = number_in(0.5, 650.0))]
    weight: Option<f64>,
    /// When they were taken (RFC 3339 or YYYY-MM-DD); now by default
    #[arg(long)]
    at: Option<String>,
}

fn acvpu(text: &str) -> Result<Acvpu, String> {
    text.parse::<Acvpu>().map_err(|e| e.problem)
}

/// `SYS/DIA`, each in its plausible range.
fn blood_pressure(text: &str) -> Result<(f64, f64), String> {
    let (sys, dia) = text.split_once('/').ok_or_else(|| format!("'{text}' is not SYS/DIA (e.g. 120/80)"))?;
    let sys = number_in(40.0, 300.0)(sys).map_err(|e| format!("systolic: {e}"))?;
    let dia = number_in(20.0, 200.0)(dia).map_err(|e| format!("diastolic: {e}"))?;
    Ok((sys, dia))
}

pub(super) async fn run(cmd: VitalsCommand, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let VitalsCommand::Record(args) = cmd;
    let at = args
        .at
        .as_deref()
        .map(|t| parse_instant("--at", t))
        .transpose()
        .map_err(anyhow::Error::msg)?
        .map(|t| t.fixed_offset());
    let vitals = SpotVitals {
        at,
        heart_rate: args.heart_rate,
        spo2: args.spo2,
        spo2_scale: args.spo2_scale.map(|s| if s == 2 { Spo2Scale::Scale2 } else { Spo2Scale::Scale1 }),
        on_oxygen: args.oxygen.map(|o| o == Oxygen::Oxygen),
        respiratory_rate: args.resp_rate,
        bp_systolic: args.bp.map(|b| b.0),
        bp_diastolic: args.bp.map(|b| b.1),
        temperature: args.temperature,
        consciousness: args.consciousness,
        weight: args.weight,
    };
    let ws = super::session::open(data_dir).await?;
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await?;
    let mut monitor = Monitor::default();
    let entry =
        ws.record_vitals(&PatientRef::parse(&args.patient), vitals, &orchestrator, &mut monitor).await;
    let entry = entry.map_err(|e| anyhow::anyhow!("{e} (nothing was stored)"))?;
    if json {
        render::json(&entry)?
    } else {
        render::emit(&text(&entry))?
    }
    ws.close().await;
    Ok(())
}

fn text(entry: &VitalsEntry) -> String {
    let mut out = format!("Recorded {} readings ({} already stored)\n", entry.inserted, entry.duplicates);
    for r in &entry.readings {
        let value = match r.kind.as_str() {
            "consciousness" => {
                Acvpu::from_code(r.value).map_or(r.value.to_string(), |a| a.letter().to_owned())
            }
            "supplemental_oxygen" => (if r.value == 1.0 { "oxygen" } else { "air" }).to_owned(),
            "spo2_scale" => format!("scale {}", r.value),
            _ => format!("{} {}", r.value, r.unit),
        };
        let _ = writeln!(out, "{:<22}{value}", r.label);
    }
    match &entry.news2 {
        Some(n) => {
            let _ = writeln!(out, "{:<22}{} ({}, {})", "NEWS2", n.aggregate, n.band, n.response);
            for a in &n.assumptions {
                let _ = writeln!(out, "{:<22}{a}", "");
            }
        }
        None => {
            let _ = writeln!(out, "{:<22}not scored: no {}", "NEWS2", entry.news2_missing.join(", "));
        }
    }
    for a in &entry.alerts {
        let _ = writeln!(out, "{:<22}{} ({})", "Alert raised", a.event, a.risk_level);
    }
    out
}

//! `vigil analyze weight|window|hrv|news2`: the analysis engine for scripts. Input is CSV or
//! JSON on stdin, or with `--patient` that patient's data in the store; output is always JSON
//! (pretty unless `--compact`). Reading stdin needs no store at all.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use chrono::{Duration, Utc};
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::{args::parse_instant, render};
use crate::analysis::hrv::Correction;
use crate::analysis::news2::{Consciousness, Spo2Scale};
use crate::analysis::report::{self, WeightAnalysisConfig};
use crate::analysis::{io_hrv, io_window};
use crate::domain::PatientRef;
use crate::store::TimeRange;
use crate::workstation::News2Context;

const WEIGHT_HELP: &str = "\
INPUT (stdin), one row per weighing; CSV with a header row, or a JSON array of objects:
  time      required  RFC 3339 with an offset, e.g. 2026-01-02T07:21:00+01:00
  value_kg  optional  kg; empty/null is a missing value, NaN a not-a-number one (both rejected);
                      an input with no value_kg column at all is an error naming its columns
  source    optional  clinic | home (default) | reported: sets the measurement noise
Rows are processed in time order from no state. Output: summary, alerts (ESC/HFA > 2 kg in
3 days and the Kalman trend rule, at onset), one step per row, and the final filter state.
With --patient: the patient's stored body_weight observations (manual entry and unassigned
devices count as clinic scales, everything else as home); --save also runs them through the
patient's persisted filter and prints the stored results.

  printf 'time,value_kg\\n2026-01-01T07:00:00Z,80.1\\n' | vigil analyze weight";

const WINDOW_HELP: &str = "\
INPUT (stdin), one row per second, in time order; CSV with a header row, or a JSON array of
objects. Columns (an unknown column is an error):
  time              required  RFC 3339, floored to the second
  heart_rate        /min      spo2  %      respiratory_rate  /min
  body_temperature  Cel       rr_interval  ms           (empty/null: absent)
  hrv_sdnn          ms        the device's per-sample HRV (also read as hrv_ms)
Output: a tick of window features (5-minute window) every 5 s, and the data quality counts.
hrv_mean, hrv_std and hrv_decrease (positive when HRV fell) come from successive RR-interval
differences, else from the hrv_sdnn stream; each tick's hrv_source says which.
With --patient: the patient's stored vitals of the --minutes before --until.";

const HRV_HELP: &str = "\
INPUT (stdin), RR intervals in ms: CSV with a header row holding an rr_ms column (others are
ignored), one beat per row; or a JSON array of numbers, e.g. [812, 790, 805].
Output: artefacts, time domain (SDNN with n-1, RMSSD, SDSD, pNN50...) and frequency domain
(Welch PSD at 4 Hz: VLF, LF, HF, LF/HF).
With --patient: the patient's stored rr_interval observations in [--since, --until).";

const NEWS2_HELP: &str = "\
INPUT (stdin), one set of observations per row; CSV with a header row, or a JSON array:
  time              optional  RFC 3339, echoed
  respiration_rate  /min      spo2  %      spo2_scale  1 (default) | 2
  air_or_oxygen     air | oxygen           systolic_bp  mmHg       pulse  /min
  consciousness     alert | new_confusion | voice | pain | unresponsive (or A C V P U)
  temperature       Cel
Output: each row's sub-scores, aggregate, risk band and response.
With --patient: the latest stored value of each vital before --at; consciousness, oxygen and
the SpO2 scale come from the flags.";

/// The analyses.
#[derive(Debug, Subcommand)]
pub enum AnalyzeCommand {
    /// Body weights through the Kalman filter and the heart-failure rules
    #[command(after_long_help = WEIGHT_HELP)]
    Weight(WeightArgs),
    /// Sliding-window features over 1 Hz vitals
    #[command(after_long_help = WINDOW_HELP)]
    Window(WindowArgs),
    /// Heart-rate variability from RR intervals
    #[command(after_long_help = HRV_HELP)]
    Hrv(HrvArgs),
    /// NEWS2 (Royal College of Physicians, 2017)
    #[command(after_long_help = NEWS2_HELP)]
    News2(News2Args),
}

/// What every analysis takes.
#[derive(Debug, Args)]
pub(super) struct InputArgs {
    /// Format of stdin; auto: JSON when the first non-space character is [ or {, else CSV
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    format: FormatArg,
    /// Read this patient's data (id or MRN) from the store instead of stdin
    #[arg(long, value_name = "PATIENT")]
    patient: Option<String>,
    /// Print JSON on one line instead of pretty-printed
    #[arg(long)]
    compact: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Auto,
    Csv,
    Json,
}

/// `vigil analyze weight`.
#[derive(Debug, Args)]
pub struct WeightArgs {
    #[command(flatten)]
    input: InputArgs,
    /// A JSON file with the tuning: {"kalman": {...}, "heart_failure": {...}} (defaults otherwise)
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// With --patient: also process the stored weights through the patient's saved filter
    #[arg(long, requires = "patient")]
    save: bool,
}

/// `vigil analyze window`.
#[derive(Debug, Args)]
pub struct WindowArgs {
    #[command(flatten)]
    input: InputArgs,
    /// With --patient: the minutes of data before --until (1-10080, 7 days)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=10_080))]
    minutes: u32,
    /// With --patient: the end of the data, exclusive (RFC 3339 or YYYY-MM-DD) [default: now]
    #[arg(long)]
    until: Option<String>,
}

/// `vigil analyze hrv`.
#[derive(Debug, Args)]
pub struct HrvArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Artefact correction: none only counts them
    #[arg(long, value_enum, default_value_t = CorrectArg::Interpolate)]
    correct: CorrectArg,
    /// With --patient: from this instant, inclusive [default: 24 h before --until]
    #[arg(long)]
    since: Option<String>,
    /// With --patient: up to this instant, exclusive [default: now]
    #[arg(long)]
    until: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CorrectArg {
    None,
    Delete,
    Interpolate,
}

/// `vigil analyze news2`.
#[derive(Debug, Args)]
pub struct News2Args {
    #[command(flatten)]
    input: InputArgs,
    /// With --patient: ACVPU now
    #[arg(long, value_enum, default_value_t = ConsciousnessArg::Alert)]
    consciousness: ConsciousnessArg,
    /// With --patient: the patient is on supplemental oxygen
    #[arg(long)]
    oxygen: bool,
    /// With --patient: the prescribed SpO2 scale (2: hypercapnic respiratory failure)
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    spo2_scale: u8,
    /// With --patient: score the latest values before this instant [default: now]
    #[arg(long)]
    at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ConsciousnessArg {
    Alert,
    NewConfusion,
    Voice,
    Pain,
    Unresponsive,
}

pub(super) async fn run(cmd: AnalyzeCommand, data_dir: &Path) -> anyhow::Result<()> {
    match cmd {
        AnalyzeCommand::Weight(a) => {
            let cfg: WeightAnalysisConfig = match &a.config {
                Some(path) => {
                    let text = std::fs::read_to_string(path)
                        .with_context(|| format!("cannot read --config {}", path.display()))?;
                    serde_json::from_str(&text).with_context(|| format!("--config {}", path.display()))?
                }
                None => WeightAnalysisConfig::default(),
            };
            match patient(&a.input) {
                None => {
                    let (text, json) = stdin(a.input.format)?;
                    let format = if json { report::InputFormat::Json } else { report::InputFormat::Csv };
                    print(&report::analyze_weight_with(&text, format, &cfg)?, a.input.compact)
                }
                Some(p) => {
                    let ws = super::session::open(data_dir).await?;
                    let report = ws.analyze_stored_weights(&p, &cfg).await?;
                    let out = if a.save {
                        let saved = ws.process_stored_weights(&p, &cfg).await?;
                        serde_json::json!({ "report": report, "saved": saved })
                    } else {
                        serde_json::to_value(&report)?
                    };
                    ws.close().await;
                    print(&out, a.input.compact)
                }
            }
        }
        AnalyzeCommand::Window(a) => match patient(&a.input) {
            None => {
                let (text, json) = stdin(a.input.format)?;
                print(&io_window::analyze_window(&text, io_format(json))?, a.input.compact)
            }
            Some(p) => {
                let until = instant("--until", a.until.as_deref())?;
                let since = until - Duration::minutes(i64::from(a.minutes));
                let range = TimeRange { since: Some(since), until: Some(until) };
                let ws = super::session::open(data_dir).await?;
                let report = ws.analyze_stored_window(&p, range).await;
                ws.close().await;
                print(&report?, a.input.compact)
            }
        },
        AnalyzeCommand::Hrv(a) => {
            let correction = match a.correct {
                CorrectArg::None => Correction::None,
                CorrectArg::Delete => Correction::Delete,
                CorrectArg::Interpolate => Correction::Interpolate,
            };
            match patient(&a.input) {
                None => {
                    let (text, json) = stdin(a.input.format)?;
                    print(&io_hrv::analyze_hrv(&text, io_format(json), correction)?, a.input.compact)
                }
                Some(p) => {
                    let until = instant("--until", a.until.as_deref())?;
                    let since = match a.since.as_deref() {
                        Some(s) => parse_instant("--since", s).map_err(anyhow::Error::msg)?,
                        None => until - Duration::hours(24),
                    };
                    let range = TimeRange { since: Some(since), until: Some(until) };
                    let ws = super::session::open(data_dir).await?;
                    let report = ws.analyze_stored_hrv(&p, range, correction).await;
                    ws.close().await;
                    print(&report?, a.input.compact)
                }
            }
        }
        AnalyzeCommand::News2(a) => match patient(&a.input) {
            None => {
                let (text, json) = stdin(a.input.format)?;
                let format = if json { report::InputFormat::Json } else { report::InputFormat::Csv };
                print(&report::analyze_news2(&text, format)?, a.input.compact)
            }
            Some(p) => {
                let context = News2Context {
                    consciousness: match a.consciousness {
                        ConsciousnessArg::Alert => Consciousness::Alert,
                        ConsciousnessArg::NewConfusion => Consciousness::NewConfusion,
                        ConsciousnessArg::Voice => Consciousness::Voice,
                        ConsciousnessArg::Pain => Consciousness::Pain,
                        ConsciousnessArg::Unresponsive => Consciousness::Unresponsive,
                    },
                    on_oxygen: a.oxygen,
                    spo2_scale: if a.spo2_scale == 2 { Spo2Scale::Scale2 } else { Spo2Scale::Scale1 },
                };
                let at = instant("--at", a.at.as_deref())?;
                let ws = super::session::open(data_dir).await?;
                let result = ws.news2_latest(&p, at, context).await;
                ws.close().await;
                print(&result?, a.input.compact)
            }
        },
    }
}

fn patient(input: &InputArgs) -> Option<PatientRef> {
    input.patient.as_deref().map(PatientRef::parse)
}

fn instant(flag: &str, text: Option<&str>) -> anyhow::Result<chrono::DateTime<Utc>> {
    text.map_or(Ok(Utc::now()), |t| parse_instant(flag, t).map_err(anyhow::Error::msg))
}

fn io_format(json: bool) -> io_window::InputFormat {
    if json { io_window::InputFormat::Json } else { io_window::InputFormat::Csv }
}

/// All of stdin, and whether it is JSON.
fn stdin(format: FormatArg) -> anyhow::Result<(String, bool)> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).context("cannot read stdin")?;
    let json = match format {
        FormatArg::Json => true,
        FormatArg::Csv => false,
        FormatArg::Auto => matches!(text.trim_start().chars().next(), Some('[' | '{')),
    };
    Ok((text, json))
}

fn print<T: Serialize>(value: &T, compact: bool) -> anyhow::Result<()> {
    if compact { render::emit(&format!("{}\n", serde_json::to_string(value)?)) } else { render::json(value) }
}

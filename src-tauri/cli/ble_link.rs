//! `vigil ble devices|scan|pair|assign|unassign|user|replay|connect`: the device link verbs
//! (issue 13). `decode` is in `ble.rs`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde_json::json;
use tokio::sync::{mpsc, watch};

use super::render;
use crate::agents::OrchestratorConfig;
use crate::ble::link::Link;
use crate::ble::link::bluez::{self, Bluetooth};
use crate::ble::link::replay::{Recording, ReplayLink};
use crate::domain::{DeviceKind, NewDevice, PatientRef};
use crate::store::{DeviceRecord, DeviceRef};
use crate::workstation::{
    DeviceFeed, FlushReport, Monitor, Workstation, health_session, run_device_feed, spawn_link,
};

/// `vigil ble scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// How long to listen, seconds (1-120)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=120))]
    pub seconds: u64,
}

/// `vigil ble pair ADDRESS`.
#[derive(Debug, Args)]
pub struct PairArgs {
    /// The device's address (`vigil ble scan` lists it)
    pub address: String,
    /// How long to wait for the device, seconds (5-300)
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(5..=300))]
    pub timeout: u64,
}

/// `vigil ble assign DEVICE PATIENT`.
#[derive(Debug, Args)]
pub struct AssignArgs {
    /// The device: its id or BLE address
    pub device: String,
    /// The patient: id or MRN
    pub patient: String,
}

/// `vigil ble user DEVICE INDEX [PATIENT]`.
#[derive(Debug, Args)]
pub struct UserArgs {
    /// The device: its id or BLE address
    pub device: String,
    /// The device's user index (0-254, as the scale or cuff numbers its users)
    #[arg(value_parser = clap::value_parser!(u8).range(0..=254))]
    pub index: u8,
    /// The patient (id or MRN); without it the mapping is removed
    pub patient: Option<String>,
}

/// `vigil ble replay FILE`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// A recorded session (JSONL; the format is documented in `ble/link/replay.rs` and the README)
    pub file: PathBuf,
    /// Assign the device to this patient (id or MRN) first
    #[arg(long)]
    pub patient: Option<String>,
    /// Playback speed: 1 is real time, 60 a minute a second, 0 as fast as possible (0-10000)
    #[arg(long, default_value_t = 1.0, value_parser = super::args::number_in(0.0, 10_000.0))]
    pub speed: f64,
}

/// `vigil ble connect ADDRESS`.
#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// The device's address
    pub address: String,
    /// Assign the device to this patient (id or MRN) first
    #[arg(long)]
    pub patient: Option<String>,
    /// Stop after this many seconds (default: until Ctrl-C or SIGTERM)
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub seconds: Option<u64>,
}

fn record_json(r: &DeviceRecord) -> serde_json::Value {
    json!({
        "id": r.device.id,
        "kind": r.device.kind.as_str(),
        "make": r.device.make,
        "model": r.device.model,
        "serial": r.device.serial,
        "address": r.device.ble_address,
        "name": r.name,
        "patient": r.device.patient_id,
        "firmware": r.firmware,
        "battery_pct": r.battery_pct,
        "last_seen": r.last_seen_ms.and_then(chrono::DateTime::from_timestamp_millis).map(|t| t.to_rfc3339()),
        "clock_offset_ms": r.clock_offset_ms,
        "users": r.users.iter().map(|(i, p)| json!({ "user": i, "patient": p })).collect::<Vec<_>>(),
    })
}

/// `vigil ble devices`.
pub(super) async fn devices(data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let ws = super::session::open(data_dir).await?;
    let records = ws.device_records().await;
    ws.close().await;
    let records = records?;
    if json {
        return render::json(&records.iter().map(record_json).collect::<Vec<_>>());
    }
    if records.is_empty() {
        return render::emit(
            "no devices registered (`vigil ble scan`, then `vigil ble connect ADDRESS --patient P`)\n",
        );
    }
    let mut out = String::new();
    for r in &records {
        let battery = r.battery_pct.map(|b| format!("{b}%")).unwrap_or_else(|| "-".into());
        let seen = r.last_seen_ms.and_then(chrono::DateTime::from_timestamp_millis).map(|t| t.to_rfc3339());
        out.push_str(&format!(
            "{}  {}  {} {}  {}  battery {}  patient {}  last value {}\n",
            r.device.ble_address.as_deref().unwrap_or("-"),
            r.device.kind,
            render::terminal_text(&r.device.make),
            render::terminal_text(&r.device.model),
            r.device.id,
            battery,
            r.device.patient_id.map(|p| p.to_string()).unwrap_or_else(|| "none".into()),
            seen.as_deref().unwrap_or("never"),
        ));
    }
    render::emit(&out)
}

/// `vigil ble scan`.
pub(super) async fn scan(args: &ScanArgs, json: bool) -> anyhow::Result<()> {
    let bt = Bluetooth::open().await?;
    let found = bt.scan(Duration::from_secs(args.seconds)).await?;
    if json {
        return render::json(&found);
    }
    if found.is_empty() {
        return render::emit(
            "no health devices found: is the device on, awake and not connected to a phone?\n",
        );
    }
    let mut out = String::new();
    for a in &found {
        let kinds: Vec<&str> = a.kinds().iter().map(|k| k.as_str()).collect();
        out.push_str(&format!(
            "{}  {}  {}  {}\n",
            a.address,
            a.rssi.map(|r| format!("{r} dBm")).unwrap_or_else(|| "-".into()),
            kinds.join(","),
            render::terminal_text(a.name.as_deref().unwrap_or("(no name)")),
        ));
    }
    render::emit(&out)
}

/// `vigil ble pair ADDRESS`.
pub(super) async fn pair(args: &PairArgs, json: bool) -> anyhow::Result<()> {
    bluez::pair(&args.address, Duration::from_secs(args.timeout)).await?;
    if json {
        render::json(&json!({ "address": args.address.to_ascii_uppercase(), "paired": true }))
    } else {
        render::emit(&format!("paired with {}\n", args.address.to_ascii_uppercase()))
    }
}

/// `vigil ble assign|unassign`.
pub(super) async fn assign(
    data_dir: &Path,
    device: &str,
    patient: Option<&str>,
    json: bool,
) -> anyhow::Result<()> {
    let ws = super::session::open(data_dir).await?;
    let reference: DeviceRef = device.parse().unwrap_or(DeviceRef::Address(device.to_owned()));
    let result = ws.assign_device(&reference, patient.map(PatientRef::parse).as_ref()).await;
    ws.close().await;
    let device = result?;
    if json {
        render::json(&json!({ "id": device.id, "patient": device.patient_id }))
    } else {
        match device.patient_id {
            Some(p) => render::emit(&format!("device {} assigned to patient {p}\n", device.id)),
            None => render::emit(&format!("device {} is assigned to nobody\n", device.id)),
        }
    }
}

/// `vigil ble user DEVICE INDEX [PATIENT]`.
pub(super) async fn user(data_dir: &Path, args: &UserArgs) -> anyhow::Result<()> {
    let ws = super::session::open(data_dir).await?;
    let reference: DeviceRef = args.device.parse().unwrap_or(DeviceRef::Address(args.device.clone()));
    let result = ws
        .set_device_user(&reference, args.index, args.patient.as_deref().map(PatientRef::parse).as_ref())
        .await;
    ws.close().await;
    result?;
    render::emit(&match &args.patient {
        Some(p) => {
            format!("user {} of {} is patient {}\n", args.index, args.device, render::terminal_text(p))
        }
        None => format!("user {} of {} is mapped to nobody\n", args.index, args.device),
    })
}

/// Registers the device (if new) and assigns it to `patient` (when given and not already).
async fn prepare(ws: &Workstation, new: NewDevice, patient: Option<&str>) -> anyhow::Result<DeviceRecord> {
    let record = ws.device_for_link(new).await?;
    let Some(patient) = patient else {
        if record.device.patient_id.is_none() && record.users.is_empty() {
            anyhow::bail!(
                "device {} is not assigned to a patient: give --patient P (or `vigil ble assign`)",
                record.device.id
            );
        }
        return Ok(record);
    };
    let wanted = ws.patient(&PatientRef::parse(patient)).await?;
    if record.device.patient_id != Some(wanted.id) {
        ws.assign_device(&DeviceRef::Id(record.device.id), Some(&PatientRef::Id(wanted.id))).await?;
    }
    Ok(ws.device_record(&DeviceRef::Id(record.device.id)).await?)
}

/// `vigil ble replay FILE`.
pub(super) async fn replay(data_dir: &Path, args: &ReplayArgs, json: bool) -> anyhow::Result<()> {
    let recording = Recording::read(&args.file)?;
    let header = recording.device.clone();
    let kind: DeviceKind =
        header.kind.parse().map_err(|e| anyhow::anyhow!("{}: device kind: {e}", args.file.display()))?;
    let new = NewDevice {
        kind,
        make: header.manufacturer.clone().unwrap_or_else(|| "unknown".into()),
        model: header.model.clone().unwrap_or_else(|| "unknown".into()),
        serial: header.serial.clone(),
        ble_address: Some(header.address.clone()),
        patient_id: None,
    };
    let ws = super::session::open(data_dir).await?;
    let result = async {
        let record = prepare(&ws, new, args.patient.as_deref()).await?;
        // In real time the recording is live; faster, it is laid out to end now, so no reading
        // lands in the future and the monitor sees it as a backlog in event time.
        let ahead = if args.speed == 1.0 { 0.0 } else { recording.duration_s() };
        let base = chrono::Utc::now()
            - chrono::Duration::from_std(std::time::Duration::from_secs_f64(ahead)).unwrap_or_default();
        let link = ReplayLink::new(recording, base, args.speed);
        stream(&ws, record, link, None, json).await
    }
    .await;
    ws.close().await;
    result
}

/// `vigil ble connect ADDRESS`.
pub(super) async fn connect(data_dir: &Path, args: &ConnectArgs, json: bool) -> anyhow::Result<()> {
    let bt = Bluetooth::open().await?;
    let link = bt.link(&args.address, Duration::from_secs(10)).await?;
    let advert = link.advert().await;
    let new = advert.new_device().map_err(anyhow::Error::msg)?;
    let ws = super::session::open(data_dir).await?;
    let result = async {
        let record = prepare(&ws, new, args.patient.as_deref()).await?;
        stream(&ws, record, link, args.seconds.map(Duration::from_secs), json).await
    }
    .await;
    ws.close().await;
    result
}

/// Streams one device into the store, running a monitor pass after each second that stored
/// something, until the link ends, `limit` passes, or Ctrl-C / SIGTERM.
async fn stream(
    ws: &Workstation,
    record: DeviceRecord,
    link: impl Link + 'static,
    limit: Option<Duration>,
    json: bool,
) -> anyhow::Result<()> {
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await?;
    let mut monitor = Monitor::default();
    let mut feed = DeviceFeed::default();
    feed.watch(&record);
    let (tx, rx) = mpsc::channel(1024);
    let (stop_tx, stop) = watch::channel(false);
    let session = spawn_link(link, record.device.id, health_session(), tx, stop);
    tokio::spawn(async move {
        let deadline = async {
            match limit {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = deadline => {}
            _ = super::agents::shutdown_signal() => {}
        }
        let _ = stop_tx.send(true);
    });
    let started = std::time::Instant::now();
    let mut alerts = 0usize;
    let total: FlushReport = run_device_feed(ws, &mut feed, rx, async |_, _| {
        let pass = ws.monitor_pass(&orchestrator, &mut monitor).await?;
        alerts += pass.alerts.len();
        for a in &pass.alerts {
            if json {
                let _ = render::emit(&format!("{}\n", serde_json::to_string(a).unwrap_or_default()));
            } else {
                let _ = render::emit(&format!(
                    "{} ALERT {} {} patient {}\n",
                    a.event_time, a.risk_level, a.event, a.patient_id
                ));
            }
        }
        Ok(())
    })
    .await?;
    let ended = session.await.map_err(|e| anyhow::anyhow!("the device session failed: {e}"))?;
    let live = feed.live().into_iter().next();
    let mut latencies = total.latencies_ms.clone();
    latencies.sort_unstable();
    let p99 = latencies.get((latencies.len() * 99 / 100).min(latencies.len().saturating_sub(1))).copied();
    let summary = json!({
        "device": record.device.id,
        "values": live.as_ref().map(|l| l.values),
        "stored": total.stored,
        "duplicates": total.duplicates,
        "held": live.as_ref().map(|l| l.held),
        "alerts": alerts,
        "problem": live.as_ref().and_then(|l| l.problem.clone()),
        "p99_commit_ms": p99,
        "seconds": started.elapsed().as_secs_f64(),
    });
    if json {
        render::json(&summary)?;
    } else {
        say!(
            "{} values: {} readings stored, {} already stored, {} held back, {} alerts in {:.1} s{}",
            summary["values"],
            total.stored,
            total.duplicates,
            summary["held"],
            alerts,
            started.elapsed().as_secs_f64(),
            live.and_then(|l| l.problem).map(|p| format!(" (last problem: {p})")).unwrap_or_default()
        );
    }
    ended?;
    Ok(())
}

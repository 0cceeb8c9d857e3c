//! `vigil bench monitor` (issue 11): the monitoring engine on an encrypted store.
//! - Live: `patients` streaming 1 Hz heart rate, SpO2, respiratory rate and RR intervals (one
//!   patient in ten deteriorating), each second stored as one batch and followed by a pass:
//!   wall and CPU time per second of data, and the latency from a second's arrival to its alerts
//!   being visible (the pass committed), p50/p99; alerts per patient-day of the stable patients.
//! - Weights: daily weights through the saved filters, batched in one pass, per weight, beside
//!   `process_weight` one transaction each (the reference, measured in the same run).
//! - Backlog: 30 days of spot vitals every 15 minutes and a daily weight for 20 patients,
//!   imported alone and imported then monitored: what monitoring adds.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use chrono::{Duration, SecondsFormat, Utc};
use serde::Serialize;

use super::{bench_patient, bench_store as store, cpu_ms, summary};
use crate::agents::OrchestratorConfig;
use crate::agents::replay::synthetic::{Course, Scenario};
use crate::domain::{Kind, NewObservation, ObservationValue, PatientRef, SourceKind};
use crate::store::StoreError;
use crate::workstation::{CancelToken, Error, ImportOptions, Monitor, WeightMeasurement};

/// The figures.
#[derive(Debug, Clone, Serialize)]
pub struct MonitorBenchReport {
    /// Patients streaming.
    pub patients: usize,
    /// Seconds of 1 Hz data.
    pub seconds: usize,
    /// Wall time to store and monitor one second of every patient's data, ms (mean).
    pub wall_per_second_ms: f64,
    /// Of which storing the batch alone, ms (mean): the reference.
    pub store_per_second_ms: f64,
    /// Process CPU time per second of data, ms (user + system).
    pub cpu_per_second_ms: f64,
    /// From a second's arrival to its pass committed (its alerts visible): p50, p99, max (ms).
    pub arrival_to_visible_ms: [f64; 3],
    /// The same, only for the seconds that raised an alert: p50, p99 (ms), and their count.
    pub arrival_to_alert_ms: [f64; 3],
    /// Alerts raised for the deteriorating patients.
    pub alerts_deteriorating: usize,
    /// Alerts raised for the stable patients, per patient-day of data.
    pub stable_alerts_per_patient_day: f64,
    /// Weights through the saved filters in one pass: per weight, ms (the pass's time / weights).
    pub batched_weight_ms: f64,
    /// Weights in that pass.
    pub batched_weights: usize,
    /// `process_weight`, one transaction each: p50, p99 (ms), the reference.
    pub single_weight_ms: [f64; 2],
    /// Rows of the 30-day backlog.
    pub backlog_rows: u64,
    /// Importing it alone, s.
    pub backlog_import_s: f64,
    /// Importing it and monitoring it, s.
    pub backlog_import_and_monitor_s: f64,
}

/// Runs the benchmark in temporary encrypted stores.
pub async fn monitor_bench(patients: usize, seconds: usize) -> Result<MonitorBenchReport, Error> {
    let tmp = tempfile::Builder::new()
        .prefix("vigil-bench-monitor-")
        .tempdir()
        .map_err(|e| Error::Internal(e.to_string()))?;
    let dir = tmp.path();
    let today = Utc::now().date_naive();

    // ---- live streams ------------------------------------------------------------------
    let ws = store(dir, "live").await?;
    let mut ids = Vec::with_capacity(patients);
    for n in 0..patients {
        ids.push(ws.add_patient(bench_patient(n as u64, today)?).await?.id);
    }
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await?;
    let mut monitor = Monitor::default();
    let start = Utc::now().timestamp() - i64::try_from(seconds).unwrap_or(i64::MAX / 2) - 60;
    let deteriorating = |n: usize| n % 10 == 0;
    let streams: Vec<Vec<crate::analysis::window::VitalSample>> = (0..patients)
        .map(|n| {
            let course = if deteriorating(n) { Course::Deteriorating } else { Course::Stable };
            let s = Scenario { hours: seconds as f64 / 3600.0, start, ..Scenario::new(course, n as u64) };
            s.samples().collect()
        })
        .collect();
    let (mut wall, mut stored_ms, mut visible, mut alerted) = (0.0, 0.0, Vec::new(), Vec::new());
    let (mut alerts_sick, mut alerts_stable) = (0usize, 0u32);
    let cpu0 = cpu_ms();
    for second in 0..seconds {
        let arrival = Instant::now();
        let mut batch = Vec::with_capacity(patients * 4);
        for (stream, id) in streams.iter().zip(&ids) {
            let s = stream[second];
            let at = chrono::DateTime::from_timestamp(s.time, 0).unwrap_or_default().fixed_offset();
            for (kind, v) in [
                (Kind::HeartRate, s.heart_rate),
                (Kind::Spo2, s.spo2),
                (Kind::RespiratoryRate, s.respiratory_rate),
                (Kind::RrInterval, s.rr_interval),
            ] {
                if let Some(v) = v {
                    batch.push(NewObservation::new(*id, kind, ObservationValue::Quantity(v), at)?);
                }
            }
        }
        ws.record_observations(&SourceKind::Manual, &batch).await?;
        stored_ms += arrival.elapsed().as_secs_f64() * 1e3;
        let pass = ws.monitor_pass(&orchestrator, &mut monitor).await?;
        let ms = arrival.elapsed().as_secs_f64() * 1e3;
        wall += ms;
        visible.push(ms);
        if !pass.alerts.is_empty() {
            alerted.push(ms);
        }
        for a in &pass.alerts {
            let n = ids.iter().position(|id| id.to_string() == a.patient_id).unwrap_or(0);
            if deteriorating(n) { alerts_sick += 1 } else { alerts_stable += 1 }
        }
    }
    let cpu = cpu_ms() - cpu0;
    let stable_days = (patients - patients.div_ceil(10)) as f64 * seconds as f64 / 86_400.0;
    let alert_count = alerted.len() as f64;
    let [a50, a99, _] = summary(alerted);
    ws.close().await;

    // ---- weights: batched in a pass vs one transaction each ----------------------------
    let weights_ws = store(dir, "weights").await?;
    let single_ws = store(dir, "single").await?;
    let mut csv = String::from("patient,time,kind,value,unit\n");
    let days: i64 = 100;
    let weight_patients: u64 = 20;
    let mut single = Vec::new();
    for n in 0..weight_patients {
        let p = bench_patient(n, today)?;
        weights_ws.add_patient(p.clone()).await?;
        single_ws.add_patient(p).await?;
        for d in 0..days {
            let t = Utc::now() - Duration::days(days - d) + Duration::minutes(i64::try_from(n).unwrap_or(0));
            let wobble = (d * 7 + i64::try_from(n).unwrap_or(0)) % 5;
            let kg = 80.0 + 0.01 * d as f64 + 0.3 * wobble as f64 / 5.0;
            csv += &format!(
                "BENCH-{n:04},{},body_weight,{kg:.2},kg\n",
                t.to_rfc3339_opts(SecondsFormat::Secs, true)
            );
            if d < 10 {
                let m = WeightMeasurement::kg(t.fixed_offset(), kg, SourceKind::Manual);
                let started = Instant::now();
                single_ws.process_weight(&PatientRef::Mrn(format!("BENCH-{n:04}")), &m).await?;
                single.push(started.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    let io = |e: std::io::Error| Error::Store(StoreError::Io { path: dir.to_owned(), source: e });
    let weights_csv = dir.join("weights.csv");
    std::fs::write(&weights_csv, csv).map_err(io)?;
    let weights_orchestrator = weights_ws.orchestrator(&OrchestratorConfig::default()).await?;
    weights_ws.import_file(&weights_csv, &ImportOptions::default(), &|_| {}, &CancelToken::default()).await?;
    let started = Instant::now();
    let pass = weights_ws.monitor_pass(&weights_orchestrator, &mut Monitor::default()).await?;
    let batched = started.elapsed().as_secs_f64() * 1e3 / pass.weights.max(1) as f64;
    let single = summary(single);
    weights_ws.close().await;
    single_ws.close().await;

    // ---- a 30-day backlog ----------------------------------------------------------------
    let backlog = dir.join("backlog.csv");
    let rows = write_backlog(&backlog, 20, 30).map_err(io)?;
    let mut times = [0.0; 2];
    for (i, name) in ["backlog-alone", "backlog-monitored"].into_iter().enumerate() {
        let ws = store(dir, name).await?;
        for n in 0..20 {
            ws.add_patient(bench_patient(n, today)?).await?;
        }
        let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await?;
        let started = Instant::now();
        if i == 0 {
            ws.import_file(&backlog, &ImportOptions::default(), &|_| {}, &CancelToken::default()).await?;
        } else {
            let mut monitor = Monitor::default();
            let cancel = CancelToken::default();
            ws.import_and_monitor(
                &backlog,
                &ImportOptions::default(),
                &orchestrator,
                &mut monitor,
                &|_| {},
                &cancel,
            )
            .await?;
        }
        times[i] = started.elapsed().as_secs_f64();
        ws.close().await;
    }

    Ok(MonitorBenchReport {
        patients,
        seconds,
        wall_per_second_ms: wall / seconds as f64,
        store_per_second_ms: stored_ms / seconds as f64,
        cpu_per_second_ms: cpu / seconds as f64,
        arrival_to_visible_ms: summary(visible),
        arrival_to_alert_ms: [a50, a99, alert_count],
        alerts_deteriorating: alerts_sick,
        stable_alerts_per_patient_day: if stable_days > 0.0 {
            f64::from(alerts_stable) / stable_days
        } else {
            0.0
        },
        batched_weight_ms: batched,
        batched_weights: usize::try_from(pass.weights).unwrap_or(usize::MAX),
        single_weight_ms: [single[0], single[1]],
        backlog_rows: rows,
        backlog_import_s: times[0],
        backlog_import_and_monitor_s: times[1],
    })
}

/// Spot vitals every 15 minutes and a daily weight, `days` days for `patients` patients.
fn write_backlog(path: &Path, patients: u64, days: i64) -> std::io::Result<u64> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "patient,time,kind,value,unit")?;
    let start = Utc::now() - Duration::days(days + 1);
    let mut rows = 0;
    for n in 0..patients {
        for round in 0..days * 96 {
            let t = (start + Duration::minutes(15 * round)).to_rfc3339_opts(SecondsFormat::Secs, true);
            let wobble = ((round * 13 + i64::try_from(n).unwrap_or(0)) % 7) as f64;
            for (kind, v) in [
                ("heart_rate", 70.0 + wobble),
                ("spo2", 96.0 + wobble / 7.0),
                ("respiratory_rate", 14.0 + wobble / 3.0),
                ("body_temperature", 36.7 + wobble / 20.0),
                ("bp_systolic", 122.0 + wobble),
                ("bp_diastolic", 78.0 + wobble / 2.0),
            ] {
                writeln!(out, "BENCH-{n:04},{t},{kind},{v:.1},")?;
                rows += 1;
            }
            if round % 96 == 28 {
                writeln!(out, "BENCH-{n:04},{t},body_weight,{:.2},kg", 80.0 + wobble / 10.0)?;
                rows += 1;
            }
        }
    }
    out.flush()?;
    Ok(rows)
}

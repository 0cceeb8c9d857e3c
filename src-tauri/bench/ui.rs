//! `vigil bench ui`: the clinician screens' backend figures on a seeded store, and the store a
//! window benchmark (`scripts/bench-ui.sh`) opens.
//!
//! The store: `streamed` patients with 24 h of 1 Hz heart rate, SpO2 and respiratory rate (and
//! a temperature a minute), and `daily` patients with 90 days of one daily weight, blood
//! pressure and spot vitals. Measured: the worklist (every patient assessed); the patient
//! screen; all six charts per range, each beside the reference of reading the same 24 h as full
//! observation rows (the store's general query) in the same run.

use std::path::Path;
use std::time::Instant;

use chrono::{Duration, FixedOffset, Offset, Utc};
use serde::Serialize;

use super::{bench_patient, percentile};
use crate::agents::OrchestratorConfig;
use crate::domain::{Kind, NewObservation, ObservationValue, PatientRef, SourceKind};
use crate::store::{KeySource, ObservationQuery, TimeRange};
use crate::synthetic::SplitMix64;
use crate::workstation::views::{ChartKind, ChartRequest};
use crate::workstation::{OpenOptions, Workstation};

/// The figures (ms).
#[derive(Debug, Clone, Serialize)]
pub struct UiBenchReport {
    /// Patients with 24 h at 1 Hz.
    pub streamed: u64,
    /// Patients with 90 days of daily data.
    pub daily: u64,
    /// Observations in the store.
    pub observations: i64,
    /// Seconds to seed (0 when the store was there).
    pub seed_s: f64,
    /// Worklist, p50 and max of 5.
    pub worklist_ms: [f64; 2],
    /// Patient screen (no charts), p50 and p99 over the streamed patients.
    pub patient_ms: [f64; 2],
    /// Six charts of a streamed patient per range: `(range, p50, p99)`.
    pub charts_ms: Vec<(String, f64, f64)>,
    /// Reference: one 24 h heart-rate read as full rows, p50.
    pub full_rows_24h_ms: f64,
    /// Rows it returned.
    pub full_rows: usize,
}

async fn seed(ws: &Workstation, streamed: u64, daily: u64) -> anyhow::Result<()> {
    let today = Utc::now().date_naive();
    let end = Utc::now().timestamp() - Utc::now().timestamp() % 60;
    let offset = FixedOffset::east_opt(3600).unwrap_or(Utc.fix());
    let mut rng = SplitMix64::new(20261123);
    let at = |s: i64| chrono::DateTime::from_timestamp(s, 0).unwrap_or_default().with_timezone(&offset);
    for n in 0..streamed + daily {
        let p = ws.add_patient(bench_patient(n, today)?).await?.id;
        let mut batch = Vec::with_capacity(60_000);
        let push = |batch: &mut Vec<NewObservation>, kind, v: f64, t| -> anyhow::Result<()> {
            batch.push(NewObservation::new(
                p,
                kind,
                ObservationValue::Quantity((v * 10.0).round() / 10.0),
                at(t),
            )?);
            Ok(())
        };
        if n < streamed {
            let sick = n % 5 == 0;
            for s in (end - 86_400)..end {
                let x = (s % 86_400) as f64 / 86_400.0 * std::f64::consts::TAU;
                let hr = 72.0 + 8.0 * x.sin() + rng.range(-3.0, 3.0) + if sick { 25.0 } else { 0.0 };
                push(&mut batch, Kind::HeartRate, hr, s)?;
                push(
                    &mut batch,
                    Kind::Spo2,
                    (97.0 + rng.range(-1.5, 1.5) - if sick { 6.0 } else { 0.0 }).min(100.0),
                    s,
                )?;
                push(
                    &mut batch,
                    Kind::RespiratoryRate,
                    15.0 + rng.range(-2.0, 2.0) + if sick { 7.0 } else { 0.0 },
                    s,
                )?;
                if s % 60 == 0 {
                    push(&mut batch, Kind::BodyTemperature, 36.8 + rng.range(-0.2, 0.2), s)?;
                }
                if batch.len() >= 50_000 {
                    ws.record_observations(&SourceKind::Manual, &batch).await?;
                    batch.clear();
                }
            }
        }
        for d in 0..90 {
            let s = end - (90 - d) * 86_400 + 3600;
            push(&mut batch, Kind::BodyWeight, 80.0 + rng.range(-0.6, 0.6), s)?;
            push(&mut batch, Kind::BpSystolic, 128.0 + rng.range(-8.0, 8.0), s)?;
            push(&mut batch, Kind::BpDiastolic, 78.0 + rng.range(-5.0, 5.0), s)?;
            if n >= streamed {
                push(&mut batch, Kind::HeartRate, 70.0 + rng.range(-6.0, 6.0), s)?;
                push(&mut batch, Kind::Spo2, 97.0 + rng.range(-1.0, 1.0), s)?;
                push(&mut batch, Kind::RespiratoryRate, 15.0 + rng.range(-2.0, 2.0), s)?;
                push(&mut batch, Kind::BodyTemperature, 36.8 + rng.range(-0.3, 0.3), s)?;
            }
        }
        ws.record_observations(&SourceKind::Manual, &batch).await?;
    }
    Ok(())
}

fn p50_p99(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (percentile(&v, 50.0), percentile(&v, 99.0))
}

/// Seeds `dir` (when it holds no store) and measures.
pub async fn ui_bench(dir: &Path, streamed: u64, daily: u64) -> anyhow::Result<UiBenchReport> {
    let fresh = !dir.join(crate::workstation::STORE_FILE).exists();
    let options = OpenOptions {
        data_dir: dir.to_owned(),
        key_source: Some(KeySource::File(dir.join("bench.key"))),
        create: true,
        purpose: crate::workstation::StorePurpose::Demo,
    };
    let ws = Workstation::open(options).await?;
    super::sign_in_as(&ws, crate::domain::access::Role::Clinician).await?;
    let started = Instant::now();
    if fresh {
        seed(&ws, streamed, daily).await?;
    }
    let seed_s = if fresh { started.elapsed().as_secs_f64() } else { 0.0 };
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await?;
    let mut worklist = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        ws.worklist(&orchestrator).await?;
        worklist.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let ids: Vec<String> = ws
        .patients()
        .await?
        .iter()
        .take(usize::try_from(streamed).unwrap_or(usize::MAX))
        .map(|p| p.id.to_string())
        .collect();
    let mut patient = Vec::new();
    for id in &ids {
        let t = Instant::now();
        ws.patient_view(&orchestrator, &PatientRef::parse(id)).await?;
        patient.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let all = vec![
        ChartKind::HeartRate,
        ChartKind::Spo2,
        ChartKind::RespiratoryRate,
        ChartKind::BodyTemperature,
        ChartKind::BloodPressure,
        ChartKind::Weight,
    ];
    let mut charts_ms = Vec::new();
    for range in ["1h", "24h", "7d", "30d"] {
        let mut times = Vec::new();
        for id in &ids {
            let request = ChartRequest {
                patient: id.clone(),
                charts: all.clone(),
                range: range.to_owned(),
                width: 900,
                height: 220,
                utc_offset_s: 3600,
                until_ms: None,
            };
            let t = Instant::now();
            let got = ws.charts(&request).await?;
            if std::env::var_os("VIGIL_BENCH_DEBUG").is_some() {
                eprintln!(
                    "{range}: {:?}",
                    got.iter()
                        .map(|c| (c.chart, c.points_in, (c.took_ms * 10.0).round() / 10.0))
                        .collect::<Vec<_>>()
                );
            }
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let (p50, p99) = p50_p99(times);
        charts_ms.push((range.to_owned(), p50, p99));
    }
    let mut full = Vec::new();
    let mut full_rows = 0;
    for id in ids.iter().take(5) {
        let query = ObservationQuery {
            kinds: vec![Kind::HeartRate],
            range: TimeRange { since: Some(Utc::now() - Duration::hours(24)), until: None },
            limit: None,
        };
        let t = Instant::now();
        full_rows = ws.observations(&PatientRef::parse(id), &query).await?.1.len();
        full.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let observations = ws.status().await?.observations;
    ws.close().await;
    let (w50, _) = p50_p99(worklist.clone());
    let (pa50, pa99) = p50_p99(patient);
    Ok(UiBenchReport {
        streamed,
        daily,
        observations,
        seed_s,
        worklist_ms: [w50, worklist.iter().copied().fold(0.0, f64::max)],
        patient_ms: [pa50, pa99],
        charts_ms,
        full_rows_24h_ms: p50_p99(full).0,
        full_rows,
    })
}

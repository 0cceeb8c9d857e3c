//! Continuous monitoring (issue 11): every reading that reaches the store is analysed, assessed
//! and, when it matters, alerted, whatever wrote it (an import, a device, manual entry, a pull
//! from the clinic server). One entry point, [`Workstation::monitor_pass`]: the window runs it
//! after each change and on a timer, `vigil monitor` runs it in a loop, `vigil import` runs it
//! once after its files.
//!
//! A pass reads the observations after the monitor's cursor (`store_meta.monitor_seq`, the
//! highest `seq` processed) in pages, groups them by patient, and processes each patient's new
//! readings **in event time**:
//! - every new body weight, whatever its source, steps the patient's saved Kalman filter (load
//!   state, step, save; never a history query), all of a pass's weights in its transaction;
//! - streamed vitals go through the same five-minute [`PatientStream`] as a replay: at each
//!   5-second tick the orchestrator assesses and the alert policy decides, the rate limit in
//!   event time, so a 30-day backlog raises what the same data would have raised live;
//! - spot readings (blood pressure, a temperature, a weight, vitals too sparse for a window)
//!   get one assessment at the newest of them, on the latest data as `vigil assess` sees it.
//!
//! The heart-failure agent reads the saved filter (`store::saved_weight_context`). The streams
//! stay in memory between passes; when another process moved the cursor, or after a restart,
//! a patient's stream is primed from the 35 minutes of stored vitals before its new readings.
//! Everything a pass writes (filter steps, alerts with their outbox and audit rows, stored
//! assessments) commits with the cursor, so a crash repeats a pass and never skips or doubles
//! one.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Offset, TimeZone, Utc};
use serde::Serialize;
use sqlx::Row;

use super::analysis::{class_of, weight_step};
use super::{Error, Workstation};
use crate::agents::alerting::{self, Alert};
use crate::agents::replay::{PatientStream, ReplayOptions};
use crate::agents::{AlertPolicy, Assessment, Orchestrator, RateLimiter, RecordedNews2, review};
use crate::analysis::report::WeightAnalysisConfig;
use crate::analysis::window::VitalSample;
use crate::domain::{Kind, ObservationValue, Patient, PatientId, PatientRef, SourceId};
use crate::store::{self, StoreError, StoredAssessment};

/// The store_meta key of the cursor (migration 0009).
const CURSOR: &str = "monitor_seq";
/// Vitals that arrive as 1 Hz streams and go through the window.
const STREAMED: [Kind; 5] =
    [Kind::HeartRate, Kind::Spo2, Kind::RespiratoryRate, Kind::BodyTemperature, Kind::RrInterval];
/// How much stored history primes a stream: the trend's 30 minutes and the window's 5.
const PRIME_MS: i64 = 35 * 60_000;

/// How the monitor assesses and alerts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MonitorConfig {
    /// Windows, ticks and the alert policy (threshold, rate limit).
    pub replay: ReplayOptions,
    /// Observations read per page.
    pub page_rows: i64,
    /// A tick's assessment is stored at most once per this many seconds of event time per
    /// patient, and always when its band changes or it raised an alert.
    pub store_every_s: i64,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self { replay: ReplayOptions::default(), page_rows: 100_000, store_every_s: 60 }
    }
}

/// A patient's monitoring state between passes.
#[derive(Debug)]
struct Watched {
    stream: PatientStream,
    /// The newest reading pushed into the stream, ms.
    newest_ms: i64,
    /// The last stored assessment: (event time ms, band).
    stored: Option<(i64, crate::agents::RiskLevel)>,
}

/// The monitor's memory: one per process that watches (the window, `vigil monitor`).
#[derive(Debug, Default)]
pub struct Monitor {
    config: MonitorConfig,
    watched: HashMap<PatientId, Watched>,
    /// The cursor the in-memory streams are valid for.
    cursor: Option<i64>,
}

impl Monitor {
    /// A monitor with `config`.
    pub fn new(config: MonitorConfig) -> Self {
        Self { config, watched: HashMap::new(), cursor: None }
    }
}

/// An alert a pass raised, for the import report and the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "desktop", derive(specta::Type))]
pub struct RaisedAlert {
    /// The alert's id.
    pub id: String,
    /// Whose (the patient's id).
    pub patient_id: String,
    /// The event class (`hypoxia`, ...).
    pub event: String,
    /// The band.
    pub risk_level: String,
    /// When, in event time (RFC 3339).
    pub event_time: String,
}

impl RaisedAlert {
    fn of(alert: &Alert) -> Self {
        Self {
            id: alert.id.to_string(),
            patient_id: alert.patient_id.to_string(),
            event: alert.event.as_str().to_owned(),
            risk_level: alert.risk_level.as_str().to_owned(),
            event_time: alert.event_time.to_rfc3339(),
        }
    }
}

impl Workstation {
    /// The patient's stored assessments (the risk history), oldest first, since `since` (the
    /// last 30 days by default), at most 10,000. Audited.
    pub async fn risk_history(
        &self,
        reference: &PatientRef,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<StoredAssessment>, Error> {
        let since = since.unwrap_or_else(|| Utc::now() - chrono::Duration::days(30));
        let mut tx = self.store.begin_read().await?;
        let patient = super::find(&mut tx, reference).await?;
        let history =
            store::assessments::history(&mut *tx, patient.id, since.timestamp_millis(), i64::MAX, 10_000)
                .await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.audit_read("risk_history.read", Some(&patient), serde_json::json!({ "rows": history.len() }))
            .await;
        Ok(history)
    }
}

/// What a pass did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MonitorPass {
    /// Observations processed.
    pub observations: u64,
    /// Patients with new readings.
    pub patients: u64,
    /// Weights stepped through the saved filters.
    pub weights: u64,
    /// Assessments run (window ticks and spot assessments).
    pub assessments: u64,
    /// Assessments stored in the risk history.
    pub stored_assessments: u64,
    /// Alerts raised, in event time.
    pub alerts: Vec<RaisedAlert>,
    /// Drafts the rate limit held back.
    pub rate_limited: u64,
    /// The cursor after the pass.
    pub cursor: i64,
}

/// One new reading, as a pass reads it.
#[derive(Debug, Clone, Copy)]
struct Reading {
    kind: Kind,
    effective_ms: i64,
    offset_s: i32,
    value: Option<f64>,
    source: SourceId,
}

impl Workstation {
    /// Processes every observation that arrived since the last pass (module docs) and returns
    /// what it did. Safe to call from several processes: passes serialise on the write lock and
    /// each reads the cursor inside its transaction.
    pub async fn monitor_pass(
        &self,
        orchestrator: &Orchestrator,
        monitor: &mut Monitor,
    ) -> Result<MonitorPass, Error> {
        let mut pass = MonitorPass::default();
        let analysis = WeightAnalysisConfig::default();
        loop {
            let now = Utc::now();
            let mut tx = self.store.begin().await?;
            let cursor: i64 = store_cursor(&mut tx).await?;
            if monitor.cursor != Some(cursor) {
                // Another process (or nobody yet) moved it: the streams may have missed readings.
                monitor.watched.clear();
            }
            let rows = sqlx::query(
                "SELECT seq, patient_id, kind, effective_ms, offset_s, value, source_id FROM observations \
                 WHERE seq > ? ORDER BY seq LIMIT ?",
            )
            .bind(cursor)
            .bind(monitor.config.page_rows)
            .fetch_all(&mut *tx)
            .await
            .map_err(StoreError::from)?;
            let Some(last) = rows.last().map(|r| r.get::<i64, _>("seq")) else {
                tx.commit().await.map_err(StoreError::from)?;
                pass.cursor = cursor;
                monitor.cursor = Some(cursor);
                break;
            };
            let mut by_patient: BTreeMap<PatientId, Vec<Reading>> = BTreeMap::new();
            for row in &rows {
                let Some(reading) = decode(row) else { continue };
                let patient = store::patient_id_of(row.get::<&[u8], _>("patient_id"))?;
                by_patient.entry(patient).or_default().push(reading);
            }
            pass.observations += rows.len() as u64;
            let origins = store::source_origins(&mut *tx).await?;
            for (patient_id, mut readings) in by_patient {
                readings.sort_by_key(|r| r.effective_ms);
                let Some(patient) = store::find_patient(&mut *tx, &PatientRef::Id(patient_id)).await? else {
                    continue;
                };
                pass.patients += 1;
                // Weights first: the assessments below read the saved filter.
                for r in readings.iter().filter(|r| r.kind == Kind::BodyWeight) {
                    let value = r.value.map_or(
                        ObservationValue::Absent(crate::domain::AbsentReason::Unknown),
                        ObservationValue::Quantity,
                    );
                    let class = origins
                        .get(&r.source)
                        .copied()
                        .map_or(crate::analysis::kalman::SourceClass::Home, class_of);
                    let offset = chrono::FixedOffset::east_opt(r.offset_s).unwrap_or_else(|| Utc.fix());
                    let effective =
                        offset.timestamp_millis_opt(r.effective_ms).single().ok_or_else(|| {
                            Error::Internal(format!("stored time {} ms is out of range", r.effective_ms))
                        })?;
                    weight_step(&mut tx, patient.id, effective, value, class, &analysis, now).await?;
                    pass.weights += 1;
                }
                self.watch_patient(&mut tx, orchestrator, monitor, &patient, &readings, now, &mut pass)
                    .await?;
            }
            store::Store::set_meta(&mut tx, CURSOR, &last.to_string()).await?;
            tx.commit().await.map_err(StoreError::from)?;
            monitor.cursor = Some(last);
            pass.cursor = last;
        }
        if !pass.alerts.is_empty() || pass.assessments > 0 {
            self.persist_rollouts().await?;
        }
        Ok(pass)
    }

    /// One patient's new readings through the stream and the assessments.
    #[allow(clippy::too_many_arguments)]
    async fn watch_patient(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        orchestrator: &Orchestrator,
        monitor: &mut Monitor,
        patient: &Patient,
        readings: &[Reading],
        now: DateTime<Utc>,
        pass: &mut MonitorPass,
    ) -> Result<(), Error> {
        let config = monitor.config;
        let label = patient.id.to_string();
        let policy = config.replay.policy;
        let mut limiter = self.rate_limiter(patient, &label).await?;
        let weight = store::saved_weight_context(tx, patient.id).await?;
        let samples = samples_of(readings.iter().filter(|r| STREAMED.contains(&r.kind)));
        let mut ticked = false;
        if let Some(first) = samples.keys().next().copied() {
            if let std::collections::hash_map::Entry::Vacant(e) = monitor.watched.entry(patient.id) {
                let primed = self.primed(tx, &label, patient.id, first * 1000, config.replay).await?;
                e.insert(primed);
            }
            let watched =
                monitor.watched.get_mut(&patient.id).ok_or_else(|| Error::Internal("stream".into()))?;
            let latest_bp = latest_pressures(tx, patient.id, readings).await?;
            let recorded = recorded_news2(tx, patient.id, readings).await?;
            for sample in samples.values() {
                watched.newest_ms = watched.newest_ms.max(sample.time * 1000);
                let Some(mut ctx) = watched.stream.push(sample) else { continue };
                ticked = true;
                ctx.news2 = RecordedNews2::from_values(&recorded, ctx.time).context();
                ctx.latest.bp_systolic = latest_bp.0;
                ctx.latest.bp_diastolic = latest_bp.1;
                ctx.weight = weight.clone();
                let assessment = orchestrator.assess(ctx).await;
                let raised = self.decide(tx, patient, &assessment, &policy, &mut limiter, now, pass).await?;
                let band = assessment.risk_level;
                let due = watched.stored.is_none_or(|(at, level)| {
                    level != band || sample.time * 1000 - at >= config.store_every_s * 1000
                });
                if due || raised {
                    store::assessments::insert(tx, patient.id, &StoredAssessment::of(&assessment), now)
                        .await?;
                    watched.stored = Some((sample.time * 1000, band));
                    pass.stored_assessments += 1;
                }
            }
        }
        let spot = readings.iter().any(|r| !STREAMED.contains(&r.kind));
        if spot || !ticked {
            // One assessment at the newest new reading, on the latest data (as `vigil assess`).
            let Some(newest) = readings.iter().map(|r| r.effective_ms).max() else { return Ok(()) };
            let values = recent_values(tx, patient.id, newest).await?;
            let Some(mut ctx) = review::context_from_values(&label, values) else { return Ok(()) };
            if weight.is_some() {
                ctx.weight = weight;
            }
            let assessment = orchestrator.assess(ctx).await;
            self.decide(tx, patient, &assessment, &policy, &mut limiter, now, pass).await?;
            store::assessments::insert(tx, patient.id, &StoredAssessment::of(&assessment), now).await?;
            pass.stored_assessments += 1;
            if let Some(watched) = monitor.watched.get_mut(&patient.id) {
                watched.stored = Some((newest, assessment.risk_level));
            }
        }
        Ok(())
    }

    /// Counts the assessment and raises what the policy and the rate limit admit, in the
    /// pass's transaction. Returns whether an alert was raised.
    #[allow(clippy::too_many_arguments)]
    async fn decide(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        patient: &Patient,
        assessment: &Assessment,
        policy: &AlertPolicy,
        limiter: &mut RateLimiter,
        now: DateTime<Utc>,
        pass: &mut MonitorPass,
    ) -> Result<bool, Error> {
        pass.assessments += 1;
        let mut raised = false;
        for draft in alerting::drafts(policy, assessment) {
            if !limiter.admit(policy, &draft) {
                pass.rate_limited += 1;
                continue;
            }
            let alert = store::insert_alert(tx, patient.id, &draft, now).await?;
            let detail = serde_json::json!({
                "alert_id": alert.id, "event": alert.event.as_str(), "risk_level": alert.risk_level.as_str(),
                "by": "monitor",
            });
            self.audit(tx, "alert.raise", Some(patient), detail).await?;
            tracing::info!(
                event = alert.event.as_str(),
                level = alert.risk_level.as_str(),
                "the monitor raised an alert"
            );
            pass.alerts.push(RaisedAlert::of(&alert));
            raised = true;
        }
        Ok(raised)
    }

    /// A stream primed with the stored vitals of the 35 minutes before `first_ms`.
    async fn primed(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        label: &str,
        patient: PatientId,
        first_ms: i64,
        options: ReplayOptions,
    ) -> Result<Watched, Error> {
        let mut stream = PatientStream::new(label, options);
        let mut samples: BTreeMap<i64, VitalSample> = BTreeMap::new();
        for kind in STREAMED {
            for (t, v) in
                store::series::values(&mut **tx, patient, kind, first_ms - PRIME_MS, first_ms).await?
            {
                set(samples.entry(t.div_euclid(1000)).or_insert_with(|| blank(t.div_euclid(1000))), kind, v);
            }
        }
        let mut newest_ms = i64::MIN;
        for s in samples.values() {
            // Ticks of the past were assessed when their readings arrived: only the state counts.
            let _ = stream.push(s);
            newest_ms = s.time * 1000;
        }
        let stored = store::assessments::latest(&mut **tx, patient, i64::MAX)
            .await?
            .map(|a| (a.at.timestamp_millis(), a.risk_level));
        Ok(Watched { stream, newest_ms, stored })
    }
}

async fn store_cursor(tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>) -> Result<i64, Error> {
    let value: Option<String> = sqlx::query_scalar("SELECT value FROM store_meta WHERE key = ?")
        .bind(CURSOR)
        .fetch_optional(&mut **tx)
        .await
        .map_err(StoreError::from)?;
    Ok(value.and_then(|v| v.parse().ok()).unwrap_or(0))
}

fn decode(row: &sqlx::sqlite::SqliteRow) -> Option<Reading> {
    let kind: String = row.get("kind");
    Some(Reading {
        kind: kind.parse().ok()?,
        effective_ms: row.get("effective_ms"),
        offset_s: row.get("offset_s"),
        value: row.get::<Option<f64>, _>("value").filter(|v| v.is_finite()),
        source: store::source_id_of(row.get::<&[u8], _>("source_id")).ok()?,
    })
}

fn blank(second: i64) -> VitalSample {
    VitalSample { time: second, ..VitalSample::default() }
}

fn set(sample: &mut VitalSample, kind: Kind, value: f64) {
    match kind {
        Kind::HeartRate => sample.heart_rate = Some(value),
        Kind::Spo2 => sample.spo2 = Some(value),
        Kind::RespiratoryRate => sample.respiratory_rate = Some(value),
        Kind::BodyTemperature => sample.body_temperature = Some(value),
        Kind::RrInterval => sample.rr_interval = Some(value),
        _ => {}
    }
}

/// Readings merged into one sample per second, in time order.
fn samples_of<'a>(readings: impl Iterator<Item = &'a Reading>) -> BTreeMap<i64, VitalSample> {
    let mut samples = BTreeMap::new();
    for r in readings {
        let Some(v) = r.value else { continue };
        let second = r.effective_ms.div_euclid(1000);
        set(samples.entry(second).or_insert_with(|| blank(second)), r.kind, v);
    }
    samples
}

/// The newest blood pressures at or before the newest new reading.
async fn latest_pressures(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    patient: PatientId,
    readings: &[Reading],
) -> Result<(Option<f64>, Option<f64>), Error> {
    let until = readings.iter().map(|r| r.effective_ms).max().unwrap_or(i64::MAX).saturating_add(1);
    let sys = store::series::latest(&mut **tx, patient, Kind::BpSystolic, until).await?.map(|(_, v)| v);
    let dia = store::series::latest(&mut **tx, patient, Kind::BpDiastolic, until).await?.map(|(_, v)| v);
    Ok((sys, dia))
}

/// The latest recorded consciousness, oxygen and SpO2 scale at or before the newest new
/// reading, for the stream's ticks ([`RecordedNews2::from_values`] keeps those of the 12 h
/// before each tick).
async fn recorded_news2(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    patient: PatientId,
    readings: &[Reading],
) -> Result<Vec<(DateTime<Utc>, Kind, f64)>, Error> {
    let until = readings.iter().map(|r| r.effective_ms).max().unwrap_or(i64::MAX).saturating_add(1);
    let mut values = Vec::new();
    for kind in super::views::RECORDED_NEWS2_KINDS {
        if let Some((t, v)) = store::series::latest(&mut **tx, patient, kind, until).await? {
            values.extend(Utc.timestamp_millis_opt(t).single().map(|t| (t, kind, v)));
        }
    }
    Ok(values)
}

/// The values `vigil assess` builds its context from, ending at `newest_ms`: streamed vitals
/// of the last 35 minutes and the latest spot values (weights come from the saved filter).
async fn recent_values(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    patient: PatientId,
    newest_ms: i64,
) -> Result<Vec<(DateTime<Utc>, Kind, f64)>, Error> {
    let at = |ms: i64| Utc.timestamp_millis_opt(ms).single();
    let mut values = Vec::new();
    for kind in STREAMED {
        for (t, v) in
            store::series::values(&mut **tx, patient, kind, newest_ms - PRIME_MS, newest_ms + 1).await?
        {
            values.extend(at(t).map(|t| (t, kind, v)));
        }
    }
    for kind in [Kind::BpSystolic, Kind::BpDiastolic, Kind::BodyWeight]
        .into_iter()
        .chain(super::views::RECORDED_NEWS2_KINDS)
    {
        if let Some((t, v)) = store::series::latest(&mut **tx, patient, kind, newest_ms + 1).await? {
            values.extend(at(t).map(|t| (t, kind, v)));
        }
    }
    values.sort_by_key(|(t, _, _)| *t);
    Ok(values)
}

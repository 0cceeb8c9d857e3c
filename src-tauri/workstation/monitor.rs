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

use crate::domain::access::Operation;
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Offset, TimeZone, Utc};
use serde::Serialize;
use sqlx::Row;

use super::analysis::{class_of, weight_step};
use super::{Error, Workstation};
use crate::agents::alerting::{self, Alert};
use crate::agents::replay::{PatientStream, ReplayOptions};
use crate::agents::{AlertPolicy, Assessment, AssessmentContext, Orchestrator, RateLimiter, RecordedNews2};
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
    /// The latest value of each kind, in event time.
    latest: HashMap<Kind, f64>,
    /// The heart-failure agent's view of the saved filter, following each weight stepped.
    weight: Option<crate::agents::WeightContext>,
    /// The latest recorded consciousness, oxygen and SpO2 scale (time, kind, code): NEWS2 uses
    /// those of the 12 h before each assessment ([`RecordedNews2::from_values`]).
    recorded: Vec<(DateTime<Utc>, Kind, f64)>,
}

impl Watched {
    fn record(&mut self, at_ms: i64, kind: Kind, value: f64) {
        let Some(at) = Utc.timestamp_millis_opt(at_ms).single() else { return };
        self.recorded.retain(|(t, k, _)| *k != kind || *t > at);
        if !self.recorded.iter().any(|(_, k, _)| *k == kind) {
            self.recorded.push((at, kind, value));
        }
    }
}

/// What every patient's walk in a pass shares.
struct Walk<'a> {
    origins: &'a HashMap<SourceId, crate::store::SourceOrigin>,
    analysis: &'a WeightAnalysisConfig,
    now: DateTime<Utc>,
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
        let principal = self.authorize(Operation::PatientRead).await?;
        let since = since.unwrap_or_else(|| Utc::now() - chrono::Duration::days(30));
        let mut tx = self.store.begin_read().await?;
        let patient = self.open_patient(&principal, &mut tx, reference).await?;
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
    /// Patients with new readings not assessed: no monitoring consent (issue 12).
    pub not_consented: u64,
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
        self.authorize(Operation::MonitorPass).await?;
        let mut pass = MonitorPass::default();
        let analysis = WeightAnalysisConfig::default();
        // Nothing new: answer from a read, without queueing for the write lock (the window and
        // `vigil monitor` call this every second or two, also while an import writes).
        let (cursor, newest): (Option<String>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT value FROM store_meta WHERE key = ?), (SELECT MAX(seq) FROM observations)",
        )
        .bind(CURSOR)
        .fetch_one(self.store.pool())
        .await
        .map_err(StoreError::from)?;
        let cursor = cursor.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        if newest.unwrap_or(0) <= cursor {
            if monitor.cursor != Some(cursor) {
                monitor.watched.clear();
                monitor.cursor = Some(cursor);
            }
            pass.cursor = cursor;
            return Ok(pass);
        }
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
                // Readings stored before monitoring consent was withdrawn: never assessed.
                if !patient.consent.monitoring {
                    monitor.watched.remove(&patient_id);
                    pass.not_consented += 1;
                    continue;
                }
                self.watch_patient(
                    &mut tx,
                    orchestrator,
                    monitor,
                    &patient,
                    &readings,
                    &Walk { origins: &origins, analysis: &analysis, now },
                    &mut pass,
                )
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

    /// One patient's new readings, walked in event time: each weight steps the saved filter,
    /// streamed vitals go through the window (an assessment at each tick), and each minute with
    /// new readings that no tick assessed gets one assessment on the latest values. A backlog
    /// and the same readings arriving live are assessed at the same instants.
    #[allow(clippy::too_many_arguments)]
    async fn watch_patient(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        orchestrator: &Orchestrator,
        monitor: &mut Monitor,
        patient: &Patient,
        readings: &[Reading],
        walk: &Walk<'_>,
        pass: &mut MonitorPass,
    ) -> Result<(), Error> {
        let Some(first) = readings.first() else { return Ok(()) };
        let config = monitor.config;
        let label = patient.id.to_string();
        let policy = config.replay.policy;
        let mut limiter = self.rate_limiter(patient, &label).await?;
        let query = crate::store::AlertQuery {
            patient: Some(patient.id),
            statuses: vec![
                crate::agents::alerting::AlertStatus::New,
                crate::agents::alerting::AlertStatus::Acknowledged,
            ],
            ..Default::default()
        };
        let mut open: std::collections::HashSet<crate::agents::EventClass> =
            store::list_alerts(&mut **tx, &query).await?.iter().map(|a| a.event).collect();
        let mut watched = match monitor.watched.remove(&patient.id) {
            Some(watched) => watched,
            None => self.primed(tx, &label, patient.id, first.effective_ms, config.replay).await?,
        };
        // Readings of one second are one sample; seconds in order.
        let mut i = 0;
        let mut pending_minute: Option<i64> = None;
        let mut tick_minute: Option<i64> = None;
        loop {
            // A minute of spot readings that the window did not tick through gets one spot
            // assessment when the readings move past it, or when they end.
            let second = readings.get(i).map(|r| r.effective_ms.div_euclid(1000));
            let minute = second.map(|s| s.div_euclid(60));
            if let Some(m) = pending_minute.filter(|m| Some(*m) != minute) {
                if tick_minute != Some(m) {
                    self.spot(
                        tx,
                        orchestrator,
                        patient,
                        &mut watched,
                        (m + 1) * 60_000 - 1,
                        &policy,
                        &mut limiter,
                        &mut open,
                        walk,
                        pass,
                    )
                    .await?;
                }
                pending_minute = None;
            }
            let (Some(second), Some(minute)) = (second, minute) else { break };
            let mut sample = blank(second);
            let mut streamed = false;
            while i < readings.len() && readings[i].effective_ms.div_euclid(1000) == second {
                let r = readings[i];
                i += 1;
                watched.newest_ms = watched.newest_ms.max(r.effective_ms);
                if r.kind == Kind::BodyWeight {
                    self.step_weight(tx, patient, &r, &mut watched, walk).await?;
                    pass.weights += 1;
                } else if let Some(v) = r.value {
                    watched.latest.insert(r.kind, v);
                    if super::views::RECORDED_NEWS2_KINDS.contains(&r.kind) {
                        watched.record(r.effective_ms, r.kind, v);
                    }
                    if STREAMED.contains(&r.kind) {
                        set(&mut sample, r.kind, v);
                        streamed = true;
                    }
                }
                pending_minute = Some(minute);
            }
            if !streamed {
                continue;
            }
            let Some(mut ctx) = watched.stream.push(&sample) else { continue };
            tick_minute = Some(minute);
            ctx.news2 = RecordedNews2::from_values(&watched.recorded, ctx.time).context();
            ctx.latest.bp_systolic = watched.latest.get(&Kind::BpSystolic).copied();
            ctx.latest.bp_diastolic = watched.latest.get(&Kind::BpDiastolic).copied();
            ctx.latest.body_weight = watched.latest.get(&Kind::BodyWeight).copied();
            ctx.weight = watched.weight.clone();
            let assessment = orchestrator.assess(ctx).await;
            let raised = self
                .decide(tx, patient, &assessment, &policy, &mut limiter, &mut open, false, walk.now, pass)
                .await?;
            self.keep(tx, patient, &mut watched, &assessment, raised, config.store_every_s, walk.now, pass)
                .await?;
        }
        monitor.watched.insert(patient.id, watched);
        Ok(())
    }

    /// One weight through the saved filter; the walk's weight context follows it.
    async fn step_weight(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        patient: &Patient,
        r: &Reading,
        watched: &mut Watched,
        walk: &Walk<'_>,
    ) -> Result<(), Error> {
        let value = r.value.map_or(
            ObservationValue::Absent(crate::domain::AbsentReason::Unknown),
            ObservationValue::Quantity,
        );
        let class =
            walk.origins.get(&r.source).copied().map_or(crate::analysis::kalman::SourceClass::Home, class_of);
        let offset = chrono::FixedOffset::east_opt(r.offset_s).unwrap_or_else(|| Utc.fix());
        let effective = offset
            .timestamp_millis_opt(r.effective_ms)
            .single()
            .ok_or_else(|| Error::Internal(format!("stored time {} ms is out of range", r.effective_ms)))?;
        let outcome = weight_step(tx, patient.id, effective, value, class, walk.analysis, walk.now).await?;
        if let Some(kg) = r.value {
            watched.latest.insert(Kind::BodyWeight, kg);
        }
        let step = outcome.result.result;
        let context = watched.weight.get_or_insert(crate::agents::WeightContext {
            weights: 0,
            latest: None,
            rapid_gain: None,
            trend_rise: None,
        });
        context.weights += 1;
        if step.accepted && step.filtered.is_some() {
            context.latest = Some(step);
            context.rapid_gain = None;
            context.trend_rise = None;
            for alert in &outcome.result.alerts {
                match alert {
                    crate::analysis::heart_failure::HeartFailureAlert::RapidGain(g) => {
                        context.rapid_gain = Some(*g)
                    }
                    crate::analysis::heart_failure::HeartFailureAlert::TrendRise(t) => {
                        context.trend_rise = Some(*t)
                    }
                }
            }
        }
        Ok(())
    }

    /// An assessment at `at_ms` on the walk's latest values (a minute of spot readings).
    #[allow(clippy::too_many_arguments)]
    async fn spot(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        orchestrator: &Orchestrator,
        patient: &Patient,
        watched: &mut Watched,
        at_ms: i64,
        policy: &AlertPolicy,
        limiter: &mut RateLimiter,
        open: &mut std::collections::HashSet<crate::agents::EventClass>,
        walk: &Walk<'_>,
        pass: &mut MonitorPass,
    ) -> Result<(), Error> {
        let Some(at) = Utc.timestamp_millis_opt(at_ms.min(watched.newest_ms.max(at_ms - 59_999))).single()
        else {
            return Ok(());
        };
        let mut ctx = AssessmentContext::new(patient.id.to_string(), at);
        let get = |k: Kind| watched.latest.get(&k).copied();
        ctx.latest.heart_rate = get(Kind::HeartRate);
        ctx.latest.spo2 = get(Kind::Spo2);
        ctx.latest.respiratory_rate = get(Kind::RespiratoryRate);
        ctx.latest.body_temperature = get(Kind::BodyTemperature);
        ctx.latest.bp_systolic = get(Kind::BpSystolic);
        ctx.latest.bp_diastolic = get(Kind::BpDiastolic);
        ctx.latest.body_weight = get(Kind::BodyWeight);
        ctx.weight = watched.weight.clone();
        ctx.news2 = RecordedNews2::from_values(&watched.recorded, at).context();
        let assessment = orchestrator.assess(ctx).await;
        let raised =
            self.decide(tx, patient, &assessment, policy, limiter, open, true, walk.now, pass).await?;
        // A spot assessment is always kept: spot readings are few.
        self.keep(tx, patient, watched, &assessment, raised, 0, walk.now, pass).await
    }

    /// Stores the assessment in the risk history when due: at most once per `every_s` of
    /// event time, and always when the band changes or an alert was raised.
    #[allow(clippy::too_many_arguments)]
    async fn keep(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        patient: &Patient,
        watched: &mut Watched,
        assessment: &Assessment,
        raised: bool,
        every_s: i64,
        now: DateTime<Utc>,
        pass: &mut MonitorPass,
    ) -> Result<(), Error> {
        let at = assessment.time.timestamp_millis();
        let band = assessment.risk_level;
        let due = watched.stored.is_none_or(|(last, level)| level != band || at - last >= every_s * 1000);
        if due || raised {
            store::assessments::insert(tx, patient.id, &StoredAssessment::of(assessment), now).await?;
            watched.stored = Some((at, band));
            pass.stored_assessments += 1;
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
        open: &mut std::collections::HashSet<crate::agents::EventClass>,
        spot: bool,
        now: DateTime<Utc>,
        pass: &mut MonitorPass,
    ) -> Result<bool, Error> {
        pass.assessments += 1;
        let mut raised = false;
        for draft in alerting::drafts(policy, assessment) {
            // A spot reading (hours apart, unlike a 1 Hz stream) does not raise again an event
            // that is still open (new or acknowledged) for this patient: a heart-failure weight
            // gain held for days would otherwise alert at every blood pressure taken meanwhile.
            // Once resolved, the event may alert again (rate limit permitting).
            if spot && open.contains(&draft.event) {
                pass.rate_limited += 1;
                continue;
            }
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
            open.insert(alert.event);
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
        let mut latest = HashMap::new();
        for kind in STREAMED.into_iter().chain([Kind::BpSystolic, Kind::BpDiastolic, Kind::BodyWeight]) {
            if let Some((_, v)) = store::series::latest(&mut **tx, patient, kind, first_ms).await? {
                latest.insert(kind, v);
            }
        }
        let weight = store::saved_weight_context(tx, patient).await?;
        let mut recorded = Vec::new();
        for kind in super::views::RECORDED_NEWS2_KINDS {
            if let Some((t, v)) = store::series::latest(&mut **tx, patient, kind, first_ms).await? {
                recorded.extend(Utc.timestamp_millis_opt(t).single().map(|t| (t, kind, v)));
            }
        }
        Ok(Watched { stream, newest_ms, stored, latest, weight, recorded })
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

//! The patient screen (all but the charts).

use crate::domain::access::Operation;
use chrono::{TimeZone, Utc};

use super::convert::alert_view;
use super::worklist::{news2_view, readings, snapshot};
use super::{ConsentView, HrvView, PatientView, RISK_TIMELINE_MAX, RiskPoint, WeightView};
use crate::agents::alerting::AlertStatus;
use crate::agents::{Orchestrator, review};
use crate::analysis::hrv::{self, Correction};
use crate::domain::{Kind, PatientRef};
use crate::store::{AlertQuery, StoreError, series};
use crate::workstation::{Error, Workstation};

impl Workstation {
    /// The patient screen: latest vitals, NEWS2, the assessment now (agents and models; no
    /// alert raised), open alerts, HRV of the last 24 h of RR intervals, the weight filter. One
    /// audit event.
    pub async fn patient_view(
        &self,
        orchestrator: &Orchestrator,
        reference: &PatientRef,
    ) -> Result<PatientView, Error> {
        let principal = self.authorize(Operation::PatientRead).await?;
        let until_ms = self.time_bounds().await?.latest_ms();
        let mut tx = self.store.begin_read().await?;
        let patient = self.open_patient(&principal, &mut tx, reference).await?;
        let snap = snapshot(&mut tx, &patient, until_ms).await?;
        let rr_newest = snap.latest.iter().find(|(k, _, _)| *k == Kind::RrInterval).map(|(_, t, _)| *t);
        let rr = match rr_newest {
            Some(t) => series::values(&mut *tx, patient.id, Kind::RrInterval, t - 86_400_000, t + 1).await?,
            None => Vec::new(),
        };
        let weights = series::values(&mut *tx, patient.id, Kind::BodyWeight, i64::MIN, until_ms).await?;
        let open = AlertQuery {
            patient: Some(patient.id),
            statuses: vec![AlertStatus::New, AlertStatus::Acknowledged],
            limit: Some(50),
            ..Default::default()
        };
        let alerts = crate::store::list_alerts(&mut *tx, &open).await?;
        let history =
            crate::store::assessments::history(&mut *tx, patient.id, i64::MIN, i64::MAX, RISK_TIMELINE_MAX)
                .await?;
        let consent = crate::store::consent::latest(&mut *tx, patient.id).await?;
        self.audit_read("patient.view", Some(&patient), serde_json::json!({ "rr": rr.len() })).await;
        tx.commit().await.map_err(StoreError::from)?;

        // Without monitoring consent the patient is not assessed (issue 12).
        let assessment = match snap.context {
            Some(ctx) if patient.consent.monitoring => Some(orchestrator.assess(ctx).await),
            _ => None,
        };
        self.persist_rollouts().await?;
        let (hrv, hrv_absent) = if rr.is_empty() {
            (None, Some("No RR intervals recorded".to_owned()))
        } else {
            let ms: Vec<f64> = rr.iter().map(|(_, v)| *v).collect();
            match hrv::analyze(&ms, Correction::Interpolate) {
                Ok(r) => (
                    Some(HrvView {
                        // Shown counts; saturate (never reached: 4e9 beats is a century).
                        beats: u32::try_from(r.input_count).unwrap_or(u32::MAX),
                        minutes: r.duration_s / 60.0,
                        sdnn_ms: r.time_domain.sdnn_ms,
                        rmssd_ms: r.time_domain.rmssd_ms,
                        pnn50: r.time_domain.pnn50_percent,
                        mean_hr: r.time_domain.mean_hr_bpm,
                        lf_hf: r.frequency_domain.map(|f| f.lf_hf),
                        artefacts: u32::try_from(r.artefact_count).unwrap_or(u32::MAX),
                    }),
                    None,
                ),
                Err(e) => (None, Some(format!("HRV not computed: {e}"))),
            }
        };
        let weight = weight_view(&weights);
        Ok(PatientView {
            patient_id: patient.id.to_string(),
            mrn: patient.mrn.clone(),
            name: patient.name.clone(),
            birth_date: patient.birth_date.map(|d| d.to_string()),
            sex: patient.sex.as_str().to_owned(),
            latest: readings(&snap.latest),
            news2: news2_view(&snap.latest, snap.recorded),
            assessment: assessment.as_ref().map(|a| self.assessment_view(a)),
            open_alerts: alerts.iter().map(|a| alert_view(a, Some(&patient))).collect(),
            hrv,
            hrv_absent,
            weight,
            last_data_ms: snap.last_ms.map(|t| t as f64),
            needs_review: assessment
                .as_ref()
                .map(|a| a.needs_review().iter().map(|s| s.as_str().to_owned()).collect())
                .unwrap_or_default(),
            risk_history: history
                .iter()
                .map(|a| RiskPoint {
                    at_ms: a.at.timestamp_millis() as f64,
                    risk_score: a.risk_score,
                    risk_level: a.risk_level.as_str().to_owned(),
                    needs_review: a.needs_review.iter().map(|s| s.as_str().to_owned()).collect(),
                    event: a.event.clone(),
                })
                .collect(),
            consent: ConsentView {
                monitoring: patient.consent.monitoring,
                clinic_sync: patient.consent.clinic_sync,
                research: patient.consent.research,
                version: consent.as_ref().map_or(0, |c| c.version),
                changed_at_ms: consent.as_ref().map(|c| c.changed_at.timestamp_millis() as f64),
                changed_by: consent.map(|c| c.changed_by),
            },
        })
    }
}

fn weight_view(weights: &[(i64, f64)]) -> Option<WeightView> {
    let at = |ms: i64| Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    let series: Vec<_> = weights.iter().map(|(t, v)| (at(*t), *v)).collect();
    let track = review::weight_track(&series);
    let last = track.last()?;
    let newest = track.iter().rev().find(|p| p.step.accepted && p.step.filtered.is_some());
    let last_accepted = track.iter().rev().find(|p| p.step.accepted);
    let mut flags = Vec::new();
    if let Some(g) = last_accepted.and_then(|p| p.rapid_gain) {
        flags.push(format!(
            "Gain {:+.1} kg in {:.0} days (ESC/HFA > {:.0} kg)",
            g.gain_kg, g.window_days, g.threshold_kg
        ));
    }
    if let Some(t) = last_accepted.and_then(|p| p.trend_rise) {
        flags.push(format!(
            "Rising trend {:+.2} kg/week (> {:.1})",
            t.trend_kg_per_week, t.threshold_kg_per_week
        ));
    }
    Some(WeightView {
        weights: u32::try_from(track.len()).unwrap_or(u32::MAX),
        latest_kg: last.kg,
        level_kg: newest.and_then(|p| p.step.filtered),
        level_sd_kg: newest.and_then(|p| p.level_sd),
        trend_kg_per_week: newest.and_then(|p| p.step.trend_kg_per_week),
        trend_sd_kg_per_week: newest.and_then(|p| p.step.trend_sd_kg_per_week),
        flags,
    })
}

//! Consent (issue 12) on a real encrypted store with the real agents: readings of a patient
//! without monitoring consent are never stored nor assessed, nothing of a patient without
//! clinic-sync consent is ever in the outbox, and every change is a version with its audit
//! event. The enumeration walks all 8 x 8 changes between flag combinations with readings,
//! edits and alerts before and after, and checks both rules after every step.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use sqlx::Connection;
use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use vigil::agents::OrchestratorConfig;
use vigil::domain::{
    Acvpu, Consent, DeviceKind, Kind, NewDevice, NewObservation, NewPatient, ObservationValue, PatientId,
    PatientRef, Sex, SourceKind,
};
use vigil::store::{AlertQuery, KeySource, ObservationQuery, StoreKey};
use vigil::workstation::{CancelToken, ImportOptions, Monitor, PatientEdit, STORE_FILE, SpotVitals};
use vigil::{OpenOptions, Workstation};

async fn workstation(dir: &Path) -> Workstation {
    common::open(OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create: true,
        purpose: vigil::workstation::StorePurpose::Clinical,
    })
    .await
}

async fn add(ws: &Workstation, mrn: &str, consent: Consent) -> PatientId {
    let today = Utc::now().date_naive();
    let new = NewPatient::new(mrn, &format!("Consent {mrn}"), None, Sex::Unknown, consent, today).unwrap();
    ws.add_patient(new).await.unwrap().id
}

fn heart_rates(patient: PatientId, start: DateTime<FixedOffset>, n: i64) -> Vec<NewObservation> {
    (0..n)
        .map(|i| {
            let value = ObservationValue::Quantity(70.0 + i as f64);
            NewObservation::new(patient, Kind::HeartRate, value, start + Duration::seconds(i)).unwrap()
        })
        .collect()
}

/// Spot vitals that score high on NEWS2 (RCP 2017): the early-warning agent alerts on them.
fn alarming(at: DateTime<FixedOffset>) -> SpotVitals {
    SpotVitals {
        at: Some(at),
        heart_rate: Some(135.0),
        spo2: Some(86.0),
        on_oxygen: Some(true),
        respiratory_rate: Some(30.0),
        bp_systolic: Some(88.0),
        bp_diastolic: Some(50.0),
        temperature: Some(39.4),
        consciousness: Some(Acvpu::V),
        ..SpotVitals::default()
    }
}

fn refused(patient: PatientId) -> String {
    format!("patient {patient} has not consented to monitoring")
}

/// Rule 2, checked on every pending message: a message that carries patient data names its
/// patient, that patient has clinic-sync consent now, and the payload is that patient's.
async fn assert_outbox_is_consented(ws: &Workstation, step: &str) {
    let consent: HashMap<PatientId, Consent> =
        ws.patients().await.unwrap().into_iter().map(|p| (p.id, p.consent)).collect();
    for m in as_role!(&ws, Auditor, ws.pending_outbox(1_000_000).await).unwrap() {
        if matches!(m.entity.as_str(), "patient" | "observations" | "alert") {
            assert!(m.patient_id.is_some(), "{step}: a {} message names no patient: {m:?}", m.entity);
        }
        let Some(p) = m.patient_id else { continue };
        assert!(
            consent[&p].clinic_sync,
            "{step}: outbox holds {} of {p} without clinic-sync consent",
            m.entity
        );
        let named = match (m.entity.as_str(), m.op.as_str()) {
            ("patient", _) => m.payload["id"].as_str(),
            ("observations", _) | ("device", _) | ("alert", "insert") => m.payload["patient_id"].as_str(),
            _ => Some(""),
        };
        if named != Some("") {
            assert_eq!(named, Some(p.to_string().as_str()), "{step}: payload of another patient: {m:?}");
        }
    }
}

async fn stored(ws: &Workstation, p: PatientId) -> usize {
    ws.observations(&PatientRef::Id(p), &ObservationQuery::default()).await.unwrap().1.len()
}

/// Assessments stored for the patient plus alerts raised for them: what "assessed" left behind.
async fn assessed(ws: &Workstation, p: PatientId) -> usize {
    let history = ws.risk_history(&PatientRef::Id(p), Some(DateTime::UNIX_EPOCH)).await.unwrap();
    let alerts = ws.alerts(&AlertQuery { patient: Some(p), ..AlertQuery::default() }).await.unwrap();
    history.len() + alerts.len()
}

async fn pending_of(ws: &Workstation, p: PatientId) -> Vec<vigil::store::OutboxMessage> {
    as_role!(&ws, Auditor, ws.pending_outbox(1_000_000).await)
        .unwrap()
        .into_iter()
        .filter(|m| m.patient_id == Some(p))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consent_flags_stored_but_never_checked() {
    // Issue 12: the flags were stored and nothing read them. A patient who consented to
    // nothing had their file imported, their device readings stored, their vitals assessed and
    // alerted on, and everything queued for the clinic.
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await.unwrap();
    let mut monitor = Monitor::default();
    let nothing = add(&ws, "NONE-1", Consent::NONE).await;
    let local = add(&ws, "LOCAL-1", Consent { monitoring: true, clinic_sync: false, research: false }).await;
    let full = add(&ws, "FULL-1", Consent::FULL).await;
    let now = Utc::now();
    let at = |min: i64| (now - Duration::minutes(90) + Duration::minutes(min)).fixed_offset();

    // Import: each of NONE-1's records is rejected with the reason and counted; the others land.
    let file = dir.path().join("mixed.csv");
    let mut csv = String::from("patient,time,kind,value,unit\n");
    for (i, mrn) in (0i64..).zip(["NONE-1", "FULL-1", "NONE-1", "LOCAL-1", "NONE-1"]) {
        csv += &format!("{mrn},{},heart_rate,{},/min\n", at(i).to_rfc3339(), 70 + i);
    }
    std::fs::write(&file, csv).unwrap();
    let report =
        ws.import_file(&file, &ImportOptions::default(), &|_| {}, &CancelToken::default()).await.unwrap();
    assert_eq!((report.accepted, report.added, report.rejected_total), (2, 2, 3), "{report:?}");
    assert!(report.rejected.iter().all(|r| r.reason == refused(nothing)), "{:?}", report.rejected);
    assert_eq!((stored(&ws, nothing).await, stored(&ws, full).await, stored(&ws, local).await), (0, 1, 1));

    // A device batch holding NONE-1 is refused whole, naming them: not even FULL-1's reading.
    let mut batch = heart_rates(full, at(10), 2);
    batch.extend(heart_rates(nothing, at(10), 2));
    let err = ws.record_observations(&SourceKind::Manual, &batch).await.unwrap_err().to_string();
    assert!(err.contains(&refused(nothing)) && err.contains("nothing of this batch was stored"), "{err}");
    assert_eq!(stored(&ws, full).await, 1);

    // Manual entry is refused before anything is stored; assess and the replay refuse.
    let err = ws.record_vitals(&PatientRef::Id(nothing), alarming(at(20)), &orchestrator, &mut monitor).await;
    assert!(err.unwrap_err().to_string().contains(&refused(nothing)));
    let err = ws.assess(&orchestrator, &PatientRef::Id(nothing), &Default::default()).await.unwrap_err();
    assert!(err.to_string().contains("not assessed"), "{err}");
    assert_eq!(stored(&ws, nothing).await, 0);

    // LOCAL-1 is monitored (assessed, alerted) but nothing of theirs goes to the clinic.
    let entry = ws
        .record_vitals(&PatientRef::Id(local), alarming(at(30)), &orchestrator, &mut monitor)
        .await
        .unwrap();
    assert!(!entry.alerts.is_empty(), "the alarming vitals raise an alert");
    assert!(assessed(&ws, local).await > 0);
    assert!(pending_of(&ws, local).await.is_empty());
    assert!(pending_of(&ws, nothing).await.is_empty());
    assert!(pending_of(&ws, full).await.iter().any(|m| m.entity == "observations"));
    assert_outbox_is_consented(&ws, "after the first readings").await;

    // Readings stored while FULL-1 consented, then monitoring withdrawn before the monitor ran:
    // the monitor skips them; the screens show no risk.
    ws.record_observations(&SourceKind::Manual, &heart_rates(full, at(40), 3)).await.unwrap();
    let before = assessed(&ws, full).await;
    let change =
        ws.set_consent(&PatientRef::Id(full), Consent::NONE, Some("withdrawn by phone")).await.unwrap();
    assert!(change.changed && change.outbox_removed >= 2, "{change:?}");
    let pass = ws.monitor_pass(&orchestrator, &mut monitor).await.unwrap();
    assert_eq!((pass.not_consented, pass.assessments), (1, 0), "{pass:?}");
    assert_eq!(assessed(&ws, full).await, before);
    assert!(pending_of(&ws, full).await.is_empty(), "withdrawal removed the unsent messages");
    let view = ws.patient_view(&orchestrator, &PatientRef::Id(full)).await.unwrap();
    assert!(view.assessment.is_none());
    assert_eq!((view.consent.monitoring, view.consent.clinic_sync, view.consent.version), (false, false, 2));
    let worklist = ws.worklist(&orchestrator).await.unwrap();
    for row in &worklist.rows {
        let expected = if row.mrn == "LOCAL-1" { "stored" } else { "no_consent" };
        assert_eq!(row.assessed, expected, "{}", row.mrn);
    }
    assert_outbox_is_consented(&ws, "after the withdrawal").await;

    // The change is a version with its actor and note, and an audit event with both flag sets.
    let history = ws.consent_history(&PatientRef::Id(full)).await.unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!((history[0].consent, history[0].note.as_deref()), (Consent::FULL, Some("at registration")));
    assert_eq!((history[1].consent, history[1].note.as_deref()), (Consent::NONE, Some("withdrawn by phone")));
    assert_eq!(history[1].changed_by, ws.actor());
    let audit = as_role!(&ws, Auditor, ws.recent_audit(50).await).unwrap();
    assert!(audit.iter().any(|(_, _, action, who)| action == "consent.change" && *who == Some(full)));
    ws.close().await;
    let key = KeySource::File(dir.path().join("vigil.key")).load().unwrap().unwrap();
    let mut conn = common::raw_connection(&dir.path().join("data").join(STORE_FILE), &key, false).await;
    let (detail,): (String,) = sqlx::query_as("SELECT detail FROM audit WHERE action = 'consent.change'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["before"]["clinic_sync"], true);
    assert_eq!(detail["after"]["clinic_sync"], false);
    assert_eq!(detail["version"], 2);
    // Below the facade too: the history is append-only, and the flags cannot change without it.
    for sql in ["UPDATE consent_history SET monitoring = 1", "DELETE FROM consent_history"] {
        let err = sqlx::query(sql).execute(&mut conn).await.unwrap_err().to_string();
        assert!(err.contains("consent history is append-only"), "{sql}: {err}");
    }
    let err =
        sqlx::query("UPDATE patients SET consent_clinic_sync = 1").execute(&mut conn).await.unwrap_err();
    assert!(err.to_string().contains("must be recorded in consent_history"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_consent_change_keeps_readings_assessments_and_the_outbox_within_consent() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await.unwrap();
    let mut monitor = Monitor::default();
    let every = Consent::every();
    let now = Utc::now();
    let mut total = 0usize;
    let mut alerts_seen = 0usize;
    for (i, &a) in every.iter().enumerate() {
        for (j, &b) in every.iter().enumerate() {
            let step = |what: &str| format!("{a} -> {b}: {what}");
            let at = |min: i64| (now - Duration::minutes(60) + Duration::minutes(min)).fixed_offset();
            let p = add(&ws, &format!("E-{i}{j}"), a).await;
            let pr = PatientRef::Id(p);
            let mut expected = 0usize;
            assert_outbox_is_consented(&ws, &step("registered")).await;
            let device = NewDevice {
                kind: DeviceKind::HeartRateMonitor,
                make: "Acme".into(),
                model: "HR-1".into(),
                serial: None,
                ble_address: None,
                patient_id: Some(p),
            };
            let device = ws.add_device(device).await.unwrap();
            let from_device = SourceKind::Device { device_id: device.id };

            // Before the change, under `a`: a device batch, manual entry (assessed at once),
            // readings left for the monitor, an edit.
            for (source, start) in [(&from_device, 0), (&SourceKind::Manual, 2)] {
                let result = ws.record_observations(source, &heart_rates(p, at(start), 3)).await;
                match result {
                    Ok(r) if a.monitoring => expected += usize::try_from(r.inserted).unwrap(),
                    Err(e) if !a.monitoring => assert!(e.to_string().contains(&refused(p)), "{e}"),
                    other => panic!("{}: {other:?}", step("readings under a")),
                }
                if start == 0 {
                    let entry = ws.record_vitals(&pr, alarming(at(1)), &orchestrator, &mut monitor).await;
                    match entry {
                        Ok(e) if a.monitoring => {
                            expected += usize::try_from(e.inserted).unwrap();
                            alerts_seen += e.alerts.len();
                        }
                        Err(e) if !a.monitoring => assert!(e.to_string().contains(&refused(p)), "{e}"),
                        other => panic!("{}: {other:?}", step("vitals under a")),
                    }
                }
                assert_outbox_is_consented(&ws, &step("readings under a")).await;
            }
            let edit = PatientEdit { name: Some(format!("Before {i}{j}")), ..PatientEdit::default() };
            ws.update_patient(&pr, edit).await.unwrap();
            assert_outbox_is_consented(&ws, &step("edit under a")).await;
            if !a.monitoring {
                assert_eq!(assessed(&ws, p).await, 0, "{}", step("never assessed under a"));
            }
            let mine_before = pending_of(&ws, p).await;
            assert_eq!(!mine_before.is_empty(), a.clinic_sync, "{}", step("queued under a"));
            let assessed_before = assessed(&ws, p).await;

            // The change.
            let change = ws.set_consent(&pr, b, Some("consent form")).await.unwrap();
            assert_eq!(change.changed, a != b, "{}", step("changed"));
            assert_outbox_is_consented(&ws, &step("the change")).await;
            let mine = pending_of(&ws, p).await;
            if a.clinic_sync && !b.clinic_sync {
                assert_eq!(change.outbox_removed, mine_before.len() as u64, "{}", step("removed"));
                assert!(mine.is_empty(), "{}", step("withdrawal removes the unsent messages"));
            }
            if !a.clinic_sync && b.clinic_sync {
                assert!(mine.iter().any(|m| m.entity == "patient"), "{}", step("grant queues the record"));
                let backfill = mine.iter().filter(|m| m.op == "backfill").count();
                assert_eq!(backfill, if expected > 0 { 2 } else { 0 }, "{}", step("one backfill per source"));
            }
            let history = ws.consent_history(&pr).await.unwrap();
            assert_eq!(history.len(), if a == b { 1 } else { 2 }, "{}", step("versions"));
            assert_eq!(history.last().unwrap().consent, b);

            // The monitor runs over the readings left for it: skipped without monitoring consent.
            let pass = ws.monitor_pass(&orchestrator, &mut monitor).await.unwrap();
            if !b.monitoring {
                assert_eq!(assessed(&ws, p).await, assessed_before, "{}", step("skipped by the monitor"));
                assert_eq!(pass.not_consented, u64::from(a.monitoring), "{}", step("counted as skipped"));
            }

            // After the change, under `b`: readings, vitals, alerts acknowledged, an edit.
            let result = ws.record_observations(&from_device, &heart_rates(p, at(3), 3)).await;
            match result {
                Ok(r) if b.monitoring => expected += usize::try_from(r.inserted).unwrap(),
                Err(e) if !b.monitoring => assert!(e.to_string().contains(&refused(p)), "{e}"),
                other => panic!("{}: {other:?}", step("readings under b")),
            }
            let entry = ws.record_vitals(&pr, alarming(at(4)), &orchestrator, &mut monitor).await;
            match entry {
                Ok(e) if b.monitoring => expected += usize::try_from(e.inserted).unwrap(),
                Err(e) if !b.monitoring => assert!(e.to_string().contains(&refused(p)), "{e}"),
                other => panic!("{}: {other:?}", step("vitals under b")),
            }
            for alert in ws.alerts(&AlertQuery { patient: Some(p), ..AlertQuery::default() }).await.unwrap() {
                if alert.status == vigil::agents::alerting::AlertStatus::New {
                    ws.acknowledge_alert(&alert.id.to_string(), "seen").await.unwrap();
                }
            }
            let edit = PatientEdit { name: Some(format!("After {i}{j}")), ..PatientEdit::default() };
            ws.update_patient(&pr, edit).await.unwrap();
            assert_outbox_is_consented(&ws, &step("after the change")).await;
            if !b.monitoring {
                assert_eq!(assessed(&ws, p).await, assessed_before, "{}", step("never assessed under b"));
            }
            if !a.monitoring && !b.monitoring {
                assert_eq!(assessed(&ws, p).await, 0);
            }
            assert_eq!(stored(&ws, p).await, expected, "{}", step("readings stored only with consent"));
            total += expected;
            assert_eq!(ws.status().await.unwrap().observations, i64::try_from(total).unwrap());
        }
    }
    assert!(alerts_seen >= 32, "the alarming vitals alert under every monitored start ({alerts_seen})");
    assert!(as_role!(&ws, Auditor, ws.verify_audit().await).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_patient_changes_consent_through_the_same_path() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    let local = Consent { monitoring: true, clinic_sync: false, research: false };
    let p = add(&ws, "EDIT-1", local).await;
    let pr = PatientRef::Id(p);
    ws.record_observations(&SourceKind::Manual, &heart_rates(p, (Utc::now() - Duration::hours(1)).into(), 4))
        .await
        .unwrap();
    assert!(pending_of(&ws, p).await.is_empty());
    // Name and consent in one edit: one transaction, a new version, both audit events.
    let edit =
        PatientEdit { name: Some("Edited Name".into()), consent: Some(Consent::FULL), ..Default::default() };
    let edited = ws.update_patient(&pr, edit).await.unwrap();
    assert_eq!((edited.name.as_str(), edited.consent), ("Edited Name", Consent::FULL));
    let history = ws.consent_history(&pr).await.unwrap();
    assert_eq!(
        history.iter().map(|v| (v.version, v.consent)).collect::<Vec<_>>(),
        [(1, local), (2, Consent::FULL)]
    );
    let audit = as_role!(&ws, Auditor, ws.recent_audit(20).await).unwrap();
    for action in ["patient.update", "consent.change"] {
        assert!(audit.iter().any(|(_, _, a, who)| a == action && *who == Some(p)), "{action}: {audit:?}");
    }
    // The grant queued the record as it now is and the stored readings (one source: manual).
    let mine = pending_of(&ws, p).await;
    let record = mine.iter().rev().find(|m| m.entity == "patient").unwrap();
    assert_eq!(
        (record.payload["name"].as_str(), record.payload["consent"]["clinic_sync"].as_bool()),
        (Some("Edited Name"), Some(true))
    );
    let backfill: Vec<_> = mine.iter().filter(|m| m.op == "backfill").collect();
    assert_eq!(backfill.len(), 1);
    assert_eq!(backfill[0].payload["count"], 4);
    // The same flags again record nothing.
    let again = ws.set_consent(&pr, Consent::FULL, None).await.unwrap();
    assert_eq!((again.changed, again.version), (false, 2));
    assert_eq!(ws.consent_history(&pr).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_store_from_before_consent_keeps_only_what_may_be_sent() {
    // A store at migration 9 whose outbox was filled without consent: a batch message over two
    // patients' rows, one of whom never consented to clinic sync.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data").join(STORE_FILE);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let key = StoreKey::generate().unwrap();
    KeySource::File(dir.path().join("vigil.key")).save_new(&key).unwrap();
    let mut conn = common::raw_connection(&path, &key, true).await;
    sqlx::query("PRAGMA journal_mode = WAL").execute(&mut conn).await.unwrap();
    vigil::store::MIGRATOR.run_to(9, &mut conn).await.unwrap();
    let (synced, unsynced, source) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    for (id, mrn, sync) in [(synced, "OLD-S", 1), (unsynced, "OLD-U", 0)] {
        sqlx::query(
            "INSERT INTO patients (id, mrn, name, sex, consent_monitoring, consent_clinic_sync, created_ms, \
             updated_ms) VALUES (?, ?, 'Older Vigil', 'unknown', 1, ?, 0, 0)",
        )
        .bind(id.as_bytes().as_slice())
        .bind(mrn)
        .bind(sync)
        .execute(&mut conn)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO outbox (id, entity, entity_id, op, payload, created_ms) VALUES (?, 'patient', ?, 'insert', ?, 0)",
        )
        .bind(uuid::Uuid::now_v7().as_bytes().as_slice())
        .bind(id.as_bytes().as_slice())
        .bind(serde_json::json!({ "id": id, "mrn": mrn }).to_string())
        .execute(&mut conn)
        .await
        .unwrap();
    }
    sqlx::query("INSERT INTO sources (id, kind, created_ms) VALUES (?, 'manual', 0)")
        .bind(source.as_bytes().as_slice())
        .execute(&mut conn)
        .await
        .unwrap();
    // Rows 1..=5 alternate between the two patients; one message names the whole batch.
    for seq in 1..=5i64 {
        let patient = if seq % 2 == 1 { synced } else { unsynced };
        sqlx::query(
            "INSERT INTO observations (seq, id, patient_id, kind, effective_ms, offset_s, value, value_key, \
             source_id, ingested_ms) VALUES (?, ?, ?, 'heart_rate', ?, 0, 70, ?, ?, 0)",
        )
        .bind(seq)
        .bind(uuid::Uuid::now_v7().as_bytes().as_slice())
        .bind(patient.as_bytes().as_slice())
        .bind(1_700_000_000_000 + seq * 1000)
        .bind(seq)
        .bind(source.as_bytes().as_slice())
        .execute(&mut conn)
        .await
        .unwrap();
    }
    sqlx::query(
        "INSERT INTO outbox (id, entity, entity_id, op, payload, created_ms) VALUES (?, 'observations', ?, 'insert', ?, 0)",
    )
    .bind(uuid::Uuid::now_v7().as_bytes().as_slice())
    .bind(source.as_bytes().as_slice())
    .bind(serde_json::json!({ "source_id": source, "from_seq": 1, "to_seq": 5, "count": 5 }).to_string())
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();

    let ws = common::open(OpenOptions {
        data_dir: dir.path().join("data"),
        key_source: Some(KeySource::File(dir.path().join("vigil.key"))),
        create: false,
        purpose: vigil::workstation::StorePurpose::Clinical,
    })
    .await;
    let synced_id: PatientId = synced.to_string().parse().unwrap();
    let outbox = as_role!(&ws, Auditor, ws.pending_outbox(100).await).unwrap();
    assert_eq!(outbox.len(), 2, "{outbox:#?}");
    assert!(outbox.iter().all(|m| m.patient_id == Some(synced_id)), "{outbox:#?}");
    let observations = outbox.iter().find(|m| m.entity == "observations").unwrap();
    assert_eq!(observations.payload["patient_id"], synced.to_string());
    assert_eq!(observations.payload["source_id"], source.to_string());
    assert_eq!(
        (&observations.payload["from_seq"], &observations.payload["to_seq"], &observations.payload["count"]),
        (&serde_json::json!(1), &serde_json::json!(5), &serde_json::json!(3))
    );
    assert_outbox_is_consented(&ws, "migrated").await;
    for p in ws.patients().await.unwrap() {
        let history = ws.consent_history(&PatientRef::Id(p.id)).await.unwrap();
        assert_eq!(history.iter().map(|v| (v.version, v.consent)).collect::<Vec<_>>(), [(1, p.consent)]);
        assert_eq!(history[0].changed_by, "migration 0011");
    }
}

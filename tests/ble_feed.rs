//! Live devices into a real encrypted store (issue 13): recorded sessions go through the same
//! link, session, feed and store as a real device. A reconnect that resends stored records adds
//! nothing; a patient without monitoring consent gets nothing stored; a multi-user scale's
//! unmapped user is held back until mapped; the monitor assesses what arrived.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::path::Path;

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
use tokio::sync::{mpsc, watch};
use vigil::agents::OrchestratorConfig;
use vigil::ble::link::replay::{Recording, ReplayLink};
use vigil::domain::{Consent, DeviceKind, Kind, NewDevice, NewPatient, PatientRef, Sex};
use vigil::store::{DeviceRecord, DeviceRef, KeySource, ObservationQuery};
use vigil::workstation::{
    DeviceFeed, FlushReport, LiveDevice, Monitor, health_session, run_device_feed, spawn_link,
};
use vigil::{OpenOptions, Workstation};

async fn workstation(dir: &Path) -> Workstation {
    let ws = common::open(OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create: true,
        purpose: vigil::workstation::StorePurpose::Demo,
    })
    .await;
    let today = Utc::now().date_naive();
    for mrn in ["BLE-1", "BLE-2"] {
        ws.add_patient(
            NewPatient::new(mrn, "Device Example", None, Sex::Unknown, Consent::FULL, today).unwrap(),
        )
        .await
        .unwrap();
    }
    ws
}

fn header(address: &str, kind: &str) -> String {
    format!(
        r#"{{"vigil_ble_replay": 1, "device": {{"address": "{address}", "kind": "{kind}"}}, "reads": {{"2a19": "40"}}}}"#
    )
}

fn line(t: f64, characteristic: &str, bytes: &[u8]) -> String {
    format!(r#"{{"t": {t}, "characteristic": "{characteristic}", "value": "{}"}}"#, hex::encode(bytes))
}

/// The 7-byte Date Time (GSS 3.70) of `at` in the workstation's zone.
fn date_time(at: DateTime<Utc>) -> Vec<u8> {
    let l = at.with_timezone(&chrono::Local);
    let y = u16::try_from(l.year()).unwrap().to_le_bytes();
    let b = |n: u32| u8::try_from(n).unwrap();
    vec![y[0], y[1], b(l.month()), b(l.day()), b(l.hour()), b(l.minute()), b(l.second())]
}

/// Blood Pressure Measurement (GSS 3.31): mmHg, time stamp present; SFLOATs with exponent 0.
fn blood_pressure(systolic: u16, diastolic: u16, at: DateTime<Utc>) -> Vec<u8> {
    let mut v = vec![0x02];
    for x in [systolic, diastolic, (systolic + 2 * diastolic) / 3] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.extend(date_time(at));
    v
}

async fn register(ws: &Workstation, recording: &Recording) -> DeviceRecord {
    let d = &recording.device;
    ws.device_for_link(NewDevice {
        kind: d.kind.parse::<DeviceKind>().unwrap(),
        make: "Test".into(),
        model: "Replay".into(),
        serial: None,
        ble_address: Some(d.address.clone()),
        patient_id: None,
    })
    .await
    .unwrap()
}

/// Plays `recording` as fast as possible through the feed; runs a monitor pass at the end.
async fn play(ws: &Workstation, recording: Recording) -> (FlushReport, LiveDevice, u64) {
    let record = ws.device_record(&DeviceRef::Address(recording.device.address.clone())).await.unwrap();
    let mut feed = DeviceFeed::default();
    feed.watch(&record);
    let (tx, rx) = mpsc::channel(1024);
    let (_stop_tx, stop) = watch::channel(false);
    let mut config = health_session();
    config.first_backoff = std::time::Duration::from_millis(10);
    let session = spawn_link(
        ReplayLink::new(recording, Utc::now() - Duration::minutes(30), 0.0),
        record.device.id,
        config,
        tx,
        stop,
    );
    let total = run_device_feed(ws, &mut feed, rx, async |_, _| Ok(())).await.unwrap();
    session.await.unwrap().unwrap();
    let orchestrator = ws.orchestrator(&OrchestratorConfig::default()).await.unwrap();
    let pass = ws.monitor_pass(&orchestrator, &mut Monitor::default()).await.unwrap();
    (total, feed.live().remove(0), pass.observations)
}

async fn count(ws: &Workstation, mrn: &str, kind: Kind) -> usize {
    let query = ObservationQuery { kinds: vec![kind], ..Default::default() };
    ws.observations(&PatientRef::Mrn(mrn.into()), &query).await.unwrap().1.len()
}

#[tokio::test]
async fn a_reconnect_that_resends_stored_records_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    let now = Utc::now();
    let readings: Vec<_> =
        (0..6).map(|i| blood_pressure(120 + i, 80, now - Duration::hours(6 - i64::from(i)))).collect();
    let mut text = vec![header("F0:00:00:00:00:10", "blood_pressure_monitor")];
    // Five records, a drop, then the cuff sends all it holds again and one new.
    text.extend(readings[..5].iter().enumerate().map(|(i, r)| line(i as f64, "2a35", r)));
    text.push(r#"{"t": 5, "event": "disconnect"}"#.into());
    text.extend(readings.iter().enumerate().map(|(i, r)| line(6.0 + i as f64, "2a35", r)));
    let recording = Recording::parse("cuff.jsonl", &text.join("\n")).unwrap();
    register(&ws, &recording).await;
    ws.assign_device(&DeviceRef::Address("F0:00:00:00:00:10".into()), Some(&PatientRef::Mrn("BLE-1".into())))
        .await
        .unwrap();

    let (total, live, assessed) = play(&ws, recording).await;
    assert_eq!((total.stored, total.duplicates), (12, 10), "6 readings x (systolic, diastolic), 5 resent");
    assert_eq!(count(&ws, "BLE-1", Kind::BpSystolic).await, 6);
    assert_eq!(count(&ws, "BLE-1", Kind::HeartRate).await, 0, "no pulse rate in these records");
    assert_eq!((live.values, live.held), (11 + 2, 0), "11 indications and a battery read on each connection");
    assert_eq!(live.battery_pct, Some(0x40));
    assert!(assessed >= 12, "the monitor saw the stored readings ({assessed})");

    // The device registry kept the battery, the last value and the clock's offset; the trail
    // has both connections and the drop.
    let record = ws.device_record(&DeviceRef::Address("f0:00:00:00:00:10".into())).await.unwrap();
    assert_eq!(record.battery_pct, Some(0x40));
    assert!(record.last_seen_ms.is_some());
    let offset = record.clock_offset_ms.unwrap();
    // Received 30 min ago (the replay's start) plus t; the newest record is an hour old.
    assert!((1_800_000..=1_800_000 + 60_000).contains(&offset), "{offset}");
    let trail = as_role!(&ws, Auditor, ws.recent_audit(1000).await).unwrap();
    let events: Vec<String> = trail.into_iter().map(|(_, _, action, _)| action).collect();
    assert_eq!(events.iter().filter(|a| *a == "device.connected").count(), 2, "{events:?}");
    assert!(events.iter().any(|a| a == "device.disconnected"));
    ws.close().await;
}

#[tokio::test]
async fn heart_rate_with_rr_intervals_streams_and_no_contact_is_not_a_reading() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    let mut text = vec![header("F0:00:00:00:00:11", "heart_rate_monitor")];
    for i in 0..30u8 {
        // Contact supported and detected (0x06), RR present (0x10): rate, one RR of 1 s.
        text.push(line(f64::from(i), "2a37", &[0x16, 60 + i, 0x00, 0x04]));
    }
    // Contact supported, not detected (0x04): the strap is off the chest.
    text.push(line(30.0, "2a37", &[0x04, 0]));
    let recording = Recording::parse("hr.jsonl", &text.join("\n")).unwrap();
    register(&ws, &recording).await;
    ws.assign_device(&DeviceRef::Address("F0:00:00:00:00:11".into()), Some(&PatientRef::Mrn("BLE-2".into())))
        .await
        .unwrap();
    let (total, live, _) = play(&ws, recording).await;
    assert_eq!(total.stored, 60, "30 rates and 30 RR intervals");
    assert_eq!(live.held, 1, "the notification without skin contact");
    assert!(live.problem.unwrap().contains("contact"));
    assert_eq!(count(&ws, "BLE-2", Kind::HeartRate).await, 30);
    assert_eq!(count(&ws, "BLE-2", Kind::RrInterval).await, 30);
    ws.close().await;
}

#[tokio::test]
async fn no_monitoring_consent_stores_nothing_and_an_unmapped_scale_user_waits() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workstation(dir.path()).await;
    // A weight scale: 70 kg (14000 x 0.005) for user 3 (flags 0x04: user id present).
    let weight = [0x04, 0xB0, 0x36, 3];
    let text = [header("F0:00:00:00:00:12", "weight_scale"), line(0.0, "2a9d", &weight)].join("\n");
    let recording = Recording::parse("scale.jsonl", &text).unwrap();
    register(&ws, &recording).await;
    let scale = DeviceRef::Address("F0:00:00:00:00:12".into());
    ws.assign_device(&scale, Some(&PatientRef::Mrn("BLE-1".into()))).await.unwrap();

    let (total, live, _) = play(&ws, recording.clone()).await;
    assert_eq!(total.stored, 0);
    assert!(live.problem.unwrap().contains("user 3"), "held for the unmapped user, not given to BLE-1");
    assert_eq!(count(&ws, "BLE-1", Kind::BodyWeight).await, 0);

    ws.set_device_user(&scale, 3, Some(&PatientRef::Mrn("BLE-2".into()))).await.unwrap();
    let (total, _, _) = play(&ws, recording.clone()).await;
    assert_eq!(total.stored, 1);
    assert_eq!(count(&ws, "BLE-2", Kind::BodyWeight).await, 1);

    // BLE-2 withdraws monitoring consent: the next reading is refused whole, with the reason.
    ws.set_consent(&PatientRef::Mrn("BLE-2".into()), Consent { monitoring: false, ..Consent::FULL }, None)
        .await
        .unwrap();
    let heavier = [0x04, 0xB4, 0x36, 3];
    let text = [header("F0:00:00:00:00:12", "weight_scale"), line(0.0, "2a9d", &heavier)].join("\n");
    let (total, live, _) = play(&ws, Recording::parse("scale.jsonl", &text).unwrap()).await;
    assert_eq!((total.stored, live.held), (0, 1));
    assert!(live.problem.unwrap().contains("consent"));
    // And a patient without consent cannot be given a device.
    let refused = ws.assign_device(&scale, Some(&PatientRef::Mrn("BLE-2".into()))).await.unwrap_err();
    assert!(refused.to_string().contains("has not consented to monitoring"), "{refused}");
    ws.close().await;
}

//! The encrypted store, through the public facade: what the foundation issue promises.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use sqlx::Connection;
use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use vigil::domain::{
    Consent, Kind, NewObservation, NewPatient, ObservationValue, PatientRef, Sex, SourceKind,
};
use vigil::store::{KeySource, ObservationQuery, StoreError, StoreKey};
use vigil::workstation::STORE_FILE;
use vigil::{Error, OpenOptions, Workstation};

fn options(dir: &Path, create: bool) -> OpenOptions {
    OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create,
        purpose: vigil::workstation::StorePurpose::Clinical,
    }
}

/// A store made for the demo (`vigil demo`).
fn demo_options(dir: &Path) -> OpenOptions {
    OpenOptions { purpose: vigil::workstation::StorePurpose::Demo, ..options(dir, true) }
}

fn patient(mrn: &str) -> NewPatient {
    let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    NewPatient::new(
        mrn,
        "Ada Example",
        NaiveDate::from_ymd_opt(1948, 3, 14),
        Sex::Female,
        Consent::FULL,
        today,
    )
    .unwrap()
}

fn heart_rates(patient: vigil::domain::PatientId, n: i64) -> Vec<NewObservation> {
    let start = DateTime::parse_from_rfc3339("2026-11-23T08:00:00+01:00").unwrap();
    (0..n)
        .map(|i| {
            let value = ObservationValue::Quantity(60.0 + (i % 40) as f64);
            NewObservation::new(patient, Kind::HeartRate, value, start + Duration::seconds(i)).unwrap()
        })
        .collect()
}

#[tokio::test]
async fn the_file_header_is_not_plaintext_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let ws = common::open(options(dir.path(), true)).await;
    let p = ws.add_patient(patient("MRN-1")).await.unwrap();
    ws.record_observations(&SourceKind::Manual, &heart_rates(p.id, 100)).await.unwrap();
    ws.close().await;
    let bytes = std::fs::read(dir.path().join("data").join(STORE_FILE)).unwrap();
    assert_ne!(&bytes[..16], b"SQLite format 3\0", "the header must be ciphertext");
    // Neither the MRN nor the name appears anywhere in the file.
    for needle in [&b"MRN-1"[..], b"Ada Example", b"heart_rate"] {
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle),
            "{:?} found in plaintext",
            String::from_utf8_lossy(needle)
        );
    }
}

fn entries(dir: &Path) -> Vec<std::ffi::OsString> {
    let mut names: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_wrong_key_fails_at_open_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    common::open(options(dir.path(), true)).await.close().await;
    let store = dir.path().join("data").join(STORE_FILE);
    let before = std::fs::read(&store).unwrap();
    let entries_before = entries(&dir.path().join("data"));

    let wrong = dir.path().join("wrong.key");
    KeySource::File(wrong.clone()).save_new(&StoreKey::generate().unwrap()).unwrap();
    for create in [false, true] {
        let opts =
            OpenOptions { key_source: Some(KeySource::File(wrong.clone())), ..options(dir.path(), create) };
        let err = Workstation::open(opts).await.unwrap_err();
        assert!(matches!(err, Error::Store(StoreError::WrongKey { .. })), "{err:?}");
        let text = err.to_string();
        assert!(text.contains(&store.display().to_string()), "names the store: {text}");
        assert!(text.contains("this key does not open it"), "{text}");
        assert!(text.contains("no new store was created"), "{text}");
    }
    assert_eq!(entries(&dir.path().join("data")), entries_before, "no file was created beside the store");
    assert_eq!(std::fs::read(&store).unwrap(), before, "the store file is untouched");
}

#[tokio::test]
async fn a_missing_key_is_an_error_not_a_new_store() {
    let dir = tempfile::tempdir().unwrap();
    common::open(options(dir.path(), true)).await.close().await;
    std::fs::rename(dir.path().join("vigil.key"), dir.path().join("elsewhere.key")).unwrap();
    let err = Workstation::open(options(dir.path(), true)).await.unwrap_err();
    assert!(matches!(err, Error::Store(StoreError::KeyMissing { .. })), "{err:?}");
    assert!(err.to_string().contains("holds no key for it"), "{err}");
    assert!(!dir.path().join("vigil.key").exists(), "no new key was made");
}

#[tokio::test]
async fn verbs_other_than_init_refuse_a_missing_store() {
    let dir = tempfile::tempdir().unwrap();
    let err = Workstation::open(options(dir.path(), false)).await.unwrap_err();
    assert!(err.to_string().starts_with("no Vigil store at "), "{err}");
    assert!(!dir.path().join("data").join(STORE_FILE).exists());
    assert!(!dir.path().join("vigil.key").exists());
}

#[tokio::test]
async fn data_survives_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let ws = common::open(options(dir.path(), true)).await;
    let p = ws.add_patient(patient("MRN-7")).await.unwrap();
    ws.record_observations(&SourceKind::Manual, &heart_rates(p.id, 1000)).await.unwrap();
    ws.close().await;

    let ws = common::open(options(dir.path(), false)).await;
    let again = ws.patient(&PatientRef::Mrn("MRN-7".into())).await.unwrap();
    assert_eq!(again, p);
    let (_, obs) = ws.observations(&PatientRef::Id(p.id), &ObservationQuery::default()).await.unwrap();
    assert_eq!(obs.len(), 1000);
    assert_eq!(obs[0].value, ObservationValue::Quantity(60.0));
    assert_eq!(obs[0].effective.to_rfc3339(), "2026-11-23T08:00:00+01:00", "the source's offset is kept");
    assert_eq!(obs[999].effective.to_rfc3339(), "2026-11-23T08:16:39+01:00");
    let status = ws.status().await.unwrap();
    assert_eq!((status.patients, status.observations, status.encrypted), (1, 1000, true));
    assert_eq!(status.schema_version, vigil::store::MIGRATOR.iter().map(|m| m.version).max().unwrap());
}

#[tokio::test]
async fn storing_the_same_readings_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ws = common::open(options(dir.path(), true)).await;
    let p = ws.add_patient(patient("MRN-2")).await.unwrap();
    let batch = heart_rates(p.id, 600);
    let first = ws.record_observations(&SourceKind::Manual, &batch).await.unwrap();
    assert_eq!((first.inserted, first.duplicates), (600, 0));
    let outbox_before = as_role!(&ws, Auditor, ws.pending_outbox(1000).await).unwrap();
    let second = ws.record_observations(&SourceKind::Manual, &batch).await.unwrap();
    assert_eq!((second.inserted, second.duplicates), (0, 600));
    assert_eq!(ws.status().await.unwrap().observations, 600);
    assert_eq!(
        as_role!(&ws, Auditor, ws.pending_outbox(1000).await).unwrap(),
        outbox_before,
        "no outbox message for nothing"
    );

    // Same instant, different value: a different reading, kept.
    let mut other = batch[0];
    other.value = ObservationValue::Quantity(99.0);
    let third = ws.record_observations(&SourceKind::Manual, &[other]).await.unwrap();
    assert_eq!(third.inserted, 1);
}

#[tokio::test]
async fn changes_write_their_outbox_and_audit_rows_in_the_same_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let ws = common::open(options(dir.path(), true)).await;
    let p = ws.add_patient(patient("MRN-3")).await.unwrap();
    ws.record_observations(&SourceKind::Manual, &heart_rates(p.id, 10)).await.unwrap();
    let outbox = as_role!(&ws, Auditor, ws.pending_outbox(100).await).unwrap();
    assert_eq!(outbox.len(), 2);
    assert_eq!((outbox[0].entity.as_str(), outbox[0].payload["mrn"].as_str()), ("patient", Some("MRN-3")));
    assert_eq!(outbox[1].entity, "observations");
    assert_eq!(outbox[1].payload["count"], 10);
    assert_eq!(
        outbox[1].payload["to_seq"].as_i64().unwrap() - outbox[1].payload["from_seq"].as_i64().unwrap(),
        9
    );

    // A batch that fails (unknown patient) leaves neither rows nor messages behind.
    let stranger = vigil::domain::PatientId::from_uuid(uuid::Uuid::now_v7());
    let mut bad = heart_rates(p.id, 5);
    bad.extend(heart_rates(stranger, 1));
    let err = ws.record_observations(&SourceKind::Manual, &bad).await.unwrap_err();
    assert!(err.to_string().starts_with("no patient with id"), "{err}");
    assert_eq!(ws.status().await.unwrap().observations, 10);
    assert_eq!(as_role!(&ws, Auditor, ws.pending_outbox(100).await).unwrap().len(), 2);

    // Reads are audited too (through the spool, chained by the next write; verifying chains
    // them first), and the chain verifies.
    ws.observations(&PatientRef::Id(p.id), &ObservationQuery::default()).await.unwrap();
    let verified = as_role!(&ws, Auditor, ws.verify_audit().await).unwrap();
    assert_eq!((verified.first_broken, verified.spooled), (None, 0));
    let audit = as_role!(&ws, Auditor, ws.recent_audit(100).await).unwrap();
    // Sign-ins and accounts (the test switches roles to read the outbox) aside:
    let audit: Vec<_> = audit
        .into_iter()
        .filter(|(_, _, action, _)| !["session.", "user.", "access."].iter().any(|p| action.starts_with(p)))
        .collect();
    let actions: Vec<&str> = audit.iter().map(|(_, _, action, _)| action.as_str()).collect();
    // Reading the outbox is audited too (it carries patient data); the failed batch left nothing.
    // The second, identical read of the outbox within ten minutes is counted, not written
    // (store/audit_coalesce.rs).
    assert_eq!(
        actions,
        ["observations.read", "outbox.read", "observations.record", "patient.create", "store.create"]
    );
    // The actor is the signed-in account, never an environment variable.
    let actors: Vec<&str> = audit.iter().map(|(_, actor, _, _)| actor.as_str()).collect();
    assert_eq!(
        actors,
        [
            "user:test-clinician",
            "user:test-auditor",
            "user:test-clinician",
            "user:test-clinician",
            "system:vigil"
        ]
    );
    assert_eq!(audit[0].3, Some(p.id));
}

#[tokio::test]
async fn an_edited_audit_row_breaks_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let ws = common::open(options(dir.path(), true)).await;
    ws.add_patient(patient("MRN-4")).await.unwrap();
    ws.patients().await.unwrap();
    ws.close().await;
    // Tamper below the facade, the way an attacker with the key would: drop the append-only
    // trigger and rewrite an actor.
    let key = KeySource::File(dir.path().join("vigil.key")).load().unwrap().unwrap();
    let path = dir.path().join("data").join(STORE_FILE);
    let mut conn = common::raw_connection(&path, &key, false).await;
    let refused = sqlx::query("UPDATE audit SET actor = 'os:mallory' WHERE seq = 2").execute(&mut conn).await;
    assert!(refused.unwrap_err().to_string().contains("append-only"));
    sqlx::query("DROP TRIGGER audit_no_update").execute(&mut conn).await.unwrap();
    sqlx::query("UPDATE audit SET actor = 'os:mallory' WHERE seq = 2").execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let ws = common::open(options(dir.path(), false)).await;
    let verified = as_role!(&ws, Auditor, ws.verify_audit().await).unwrap();
    assert_eq!(verified.first_broken, Some(2));
}

#[tokio::test]
async fn observations_cannot_be_updated_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let ws = common::open(options(dir.path(), true)).await;
    let p = ws.add_patient(patient("MRN-5")).await.unwrap();
    ws.record_observations(&SourceKind::Manual, &heart_rates(p.id, 3)).await.unwrap();
    ws.close().await;
    let key = KeySource::File(dir.path().join("vigil.key")).load().unwrap().unwrap();
    let mut conn = common::raw_connection(&dir.path().join("data").join(STORE_FILE), &key, false).await;
    let err = sqlx::query("UPDATE observations SET value = 1").execute(&mut conn).await.unwrap_err();
    assert!(err.to_string().contains("observations are immutable"), "{err}");
    conn.close().await.unwrap();
}

#[tokio::test]
async fn observations_cannot_be_deleted() {
    // The outbox names batches by seq range (invariant 5): a deleted row would change what an
    // already-sent range names. Migration 0008's trigger refuses it below the facade.
    let dir = tempfile::tempdir().unwrap();
    let ws = common::open(options(dir.path(), true)).await;
    let p = ws.add_patient(patient("MRN-7")).await.unwrap();
    ws.record_observations(&SourceKind::Manual, &heart_rates(p.id, 3)).await.unwrap();
    ws.close().await;
    let key = KeySource::File(dir.path().join("vigil.key")).load().unwrap().unwrap();
    let mut conn = common::raw_connection(&dir.path().join("data").join(STORE_FILE), &key, false).await;
    for sql in ["DELETE FROM observations", "DELETE FROM observations WHERE seq = 2"] {
        let err = sqlx::query(sql).execute(&mut conn).await.unwrap_err();
        assert!(err.to_string().contains("observations are append-only"), "{sql}: {err}");
    }
    let (rows,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM observations").fetch_one(&mut conn).await.unwrap();
    assert_eq!(rows, 3, "nothing was deleted");
    conn.close().await.unwrap();
}

#[tokio::test]
async fn a_store_made_by_every_older_schema_migrates_forward() {
    let migrations: Vec<_> = vigil::store::MIGRATOR.iter().collect();
    let latest = migrations.last().unwrap().version;
    for upto in 1..migrations.len() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join(STORE_FILE);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let key = StoreKey::generate().unwrap();
        KeySource::File(dir.path().join("vigil.key")).save_new(&key).unwrap();
        // An older Vigil: only the first `upto` migrations, and a patient written then.
        let old_version = migrations[upto - 1].version;
        let mut conn = common::raw_connection(&path, &key, true).await;
        sqlx::query("PRAGMA journal_mode = WAL").execute(&mut conn).await.unwrap();
        vigil::store::MIGRATOR.run_to(old_version, &mut conn).await.unwrap();
        let id = uuid::Uuid::now_v7();
        sqlx::query(
            "INSERT INTO patients (id, mrn, name, sex, consent_monitoring, created_ms, updated_ms) \
             VALUES (?, 'OLD-1', 'Written By An Older Vigil', 'unknown', 1, 0, 0)",
        )
        .bind(id.as_bytes().as_slice())
        .execute(&mut conn)
        .await
        .unwrap();
        if old_version >= 11 {
            // From 0011 on, a Vigil writes a patient's first consent version with the patient.
            sqlx::query(
                "INSERT INTO consent_history (patient_id, version, monitoring, clinic_sync, research, changed_ms, changed_by) \
                 VALUES (?, 1, 1, 0, 0, 0, 'an older vigil')",
            )
            .bind(id.as_bytes().as_slice())
            .execute(&mut conn)
            .await
            .unwrap();
        }
        conn.close().await.unwrap();

        let ws = common::open(options(dir.path(), false)).await;
        let status = ws.status().await.unwrap();
        assert_eq!(status.schema_version, latest, "migrated from version {old_version}");
        let p = ws.patient(&PatientRef::Mrn("OLD-1".into())).await.unwrap();
        assert_eq!(p.name, "Written By An Older Vigil");
        // Migration 0011 makes the flags as stored version 1 of the patient's consent.
        let history = ws.consent_history(&PatientRef::Id(p.id)).await.unwrap();
        assert_eq!(history.len(), 1, "migrated from version {old_version}");
        assert_eq!((history[0].version, history[0].consent), (1, p.consent));
        ws.record_observations(&SourceKind::Manual, &heart_rates(p.id, 3)).await.unwrap();
        assert_eq!(ws.status().await.unwrap().observations, 3);
    }
}

#[tokio::test]
async fn a_store_from_a_newer_vigil_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    common::open(options(dir.path(), true)).await.close().await;
    let key = KeySource::File(dir.path().join("vigil.key")).load().unwrap().unwrap();
    let mut conn = common::raw_connection(&dir.path().join("data").join(STORE_FILE), &key, false).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
         VALUES (999, 'from the future', CURRENT_TIMESTAMP, 1, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let err = Workstation::open(options(dir.path(), false)).await.unwrap_err();
    assert!(err.to_string().contains("has schema version 999, newer than this Vigil knows"), "{err}");
}

#[tokio::test]
async fn the_demo_seed_refuses_a_store_with_real_patients() {
    let dir = tempfile::tempdir().unwrap();
    let ws = common::open(demo_options(dir.path())).await;
    ws.add_patient(patient("REAL-1")).await.unwrap();
    let err = as_role!(&ws, It, ws.seed_demo(Utc::now()).await).unwrap_err();
    assert!(err.to_string().contains("holds patients that are not demo data"), "{err}");
    assert_eq!(ws.status().await.unwrap().patients, 1);

    let dir = tempfile::tempdir().unwrap();
    let ws = common::open(demo_options(dir.path())).await;
    let seeded = as_role!(&ws, It, ws.seed_demo(Utc::now()).await).unwrap();
    let status = ws.status().await.unwrap();
    assert!(status.demo);
    let (patients, observations) =
        (u64::try_from(status.patients).unwrap(), u64::try_from(status.observations).unwrap());
    assert_eq!((patients, observations), (seeded.patients, seeded.observations));
    assert!(ws.patients().await.unwrap().iter().all(|p| p.mrn.starts_with("DEMO-")));
}

/// Polls `future` until it has answered `Pending` `polls` times, then drops it: the seed of a
/// `vigil demo` interrupted there (Ctrl-C, a crash, a failed write). `None` when it was cut.
async fn interrupted<F: std::future::Future>(future: F, polls: usize) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut pending = 0;
    std::future::poll_fn(|cx| match future.as_mut().poll(cx) {
        std::task::Poll::Ready(out) => std::task::Poll::Ready(Some(out)),
        std::task::Poll::Pending if pending == polls => std::task::Poll::Ready(None),
        std::task::Poll::Pending => {
            pending += 1;
            std::task::Poll::Pending
        }
    })
    .await
}

#[tokio::test]
async fn a_demo_seed_cut_anywhere_leaves_an_empty_store_or_a_whole_demo() {
    // Cut the seed after 1, 2, 4, ... polls, until one runs to the end: every cut leaves a
    // store that `vigil demo` seeds again (never patients without the demo mark).
    let mut polls = 1;
    loop {
        let dir = tempfile::tempdir().unwrap();
        let ws = common::open(demo_options(dir.path())).await;
        common::sign_in_as(&ws, vigil::domain::access::Role::It).await;
        let now = Utc::now();
        let finished = interrupted(ws.seed_demo(now), polls).await;
        let status = ws.status().await.unwrap();
        let cut = format!("cut after {polls} polls");
        if let Some(result) = &finished {
            assert!(result.is_ok(), "{cut}: {result:?}");
        }
        assert!(
            (status.patients, status.observations, status.demo) == (0, 0, false)
                || (status.demo && status.patients == 8),
            "{cut}: {} patients, {} observations, demo {}",
            status.patients,
            status.observations,
            status.demo
        );
        let again = as_role!(&ws, It, ws.seed_demo(now).await)
            .unwrap_or_else(|e| panic!("{cut}: seeding again: {e}"));
        let status = ws.status().await.unwrap();
        assert!(status.demo && status.patients == 8, "{cut}: {again:?}");
        assert_eq!(as_role!(&ws, Auditor, ws.verify_audit().await).unwrap().first_broken, None, "{cut}");
        ws.close().await;
        if finished.is_some() {
            break;
        }
        polls *= 2;
    }
}

#[tokio::test]
async fn devices_are_registered_once_per_ble_address() {
    use vigil::domain::{DeviceKind, NewDevice};
    let dir = tempfile::tempdir().unwrap();
    let ws = common::open(options(dir.path(), true)).await;
    let p = ws.add_patient(patient("MRN-6")).await.unwrap();
    let oximeter = NewDevice {
        kind: DeviceKind::PulseOximeter,
        make: "Nonin".into(),
        model: "3230".into(),
        serial: Some("SN-42".into()),
        ble_address: Some("aa:bb:cc:dd:ee:ff".into()),
        patient_id: Some(p.id),
    };
    let device = ws.add_device(oximeter.clone()).await.unwrap();
    assert_eq!(device.ble_address.as_deref(), Some("AA:BB:CC:DD:EE:FF"));
    let err = ws.add_device(oximeter).await.unwrap_err();
    assert_eq!(err.to_string(), "a device with BLE address AA:BB:CC:DD:EE:FF already exists");
    assert_eq!(ws.devices().await.unwrap(), vec![device.clone()]);
    let outbox = as_role!(&ws, Auditor, ws.pending_outbox(10).await).unwrap();
    assert_eq!(outbox.last().unwrap().entity, "device");
}

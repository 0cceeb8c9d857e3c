//! Sync under faults (issue 14), seeded and replayable: a proxy that cuts connections at random
//! byte offsets, the server killed with SIGKILL and restarted, a workstation process killed
//! mid-push, duplicated and reordered requests, and a week offline. After settling, the server
//! and every workstation hold exactly the same rows: nothing lost, nothing twice.
//! `VIGIL_FAULT_SEED` replays a run (the seed is printed).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, NaiveDate};
use common::clinic::Server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vigil::Workstation;
use vigil::domain::access::Role;
use vigil::domain::{
    Consent, Kind, NewObservation, NewPatient, ObservationValue, PatientRef, Sex, SourceKind,
};
use vigil::store::ObservationQuery;
use vigil_protocol::wire::paths;
use vigil_protocol::wire::push::{Position, PushAck, PushBatch, PushItem, WireObservation};
use vigil_protocol::wire::sign::DeviceKey;

const START: i64 = 1_793_001_600;

/// A tiny seeded generator (xorshift64*), so a failing run can be replayed exactly.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn seed() -> u64 {
    let seed = std::env::var("VIGIL_FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        u64::try_from(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
                % 1_000_000_007,
        )
        .unwrap()
            | 1
    });
    eprintln!("VIGIL_FAULT_SEED={seed}");
    seed
}

/// Copies `from` to `to` until EOF, or until the connection's shared byte budget runs out:
/// then it passes what was left of the budget, cuts, and tells the other direction to stop.
async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    left: Arc<std::sync::atomic::AtomicI64>,
    stop: Arc<tokio::sync::Notify>,
) -> bool {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            () = stop.notified() => return false,
            read = from.read(&mut buf) => match read {
                Ok(0) | Err(_) => {
                    let _ = to.shutdown().await;
                    return false;
                }
                Ok(n) => n,
            },
        };
        let size = i64::try_from(n).unwrap();
        let before = left.fetch_sub(size, Ordering::SeqCst);
        if before <= size {
            let keep = usize::try_from(before.max(0)).unwrap();
            let _ = to.write_all(&buf[..keep]).await;
            stop.notify_one();
            return true;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return false;
        }
    }
}

/// A TCP proxy in front of the server that cuts one connection in `cut_one_in` after a random
/// number of bytes (both directions counted). Returns its address and the count of cuts.
async fn cutting_proxy(target: String, seed: u64, cut_one_in: u64) -> (String, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let cuts = Arc::new(AtomicU64::new(0));
    let counted = Arc::clone(&cuts);
    tokio::spawn(async move {
        let mut rng = Rng(seed);
        loop {
            let Ok((client, _)) = listener.accept().await else { return };
            let budget =
                if rng.below(cut_one_in) == 0 { i64::try_from(rng.below(60_000)).unwrap() } else { i64::MAX };
            let target = target.clone();
            let counted = Arc::clone(&counted);
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(&target).await else { return };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                let left = Arc::new(std::sync::atomic::AtomicI64::new(budget));
                let stop = Arc::new(tokio::sync::Notify::new());
                let up = tokio::spawn(pipe(cr, sw, Arc::clone(&left), Arc::clone(&stop)));
                let down = tokio::spawn(pipe(sr, cw, left, stop));
                let (up, down) = (up.await.unwrap_or(false), down.await.unwrap_or(false));
                if up || down {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
    });
    (addr, cuts)
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
}

async fn readings(ws: &Workstation, mrn: &str, kind: Kind, from: i64, n: i64, step: i64) {
    let patient = match ws.patient(&PatientRef::Mrn(mrn.into())).await {
        Ok(p) => p,
        Err(_) => ws
            .add_patient(
                NewPatient::new(mrn, "Fault Patient", None, Sex::Male, Consent::FULL, today()).unwrap(),
            )
            .await
            .unwrap(),
    };
    let batch: Vec<NewObservation> = (0..n)
        .map(|i| {
            let at = DateTime::from_timestamp(from + i * step, 0).unwrap().fixed_offset();
            let base = if kind == Kind::RespiratoryRate { 12.0 } else { 90.0 };
            NewObservation::new(patient.id, kind, ObservationValue::Quantity(base + (i % 9) as f64), at)
                .unwrap()
        })
        .collect();
    ws.record_observations(&SourceKind::Manual, &batch).await.unwrap();
}

/// Syncs until a pass succeeds (a cut connection fails a pass; the next resumes).
async fn settle(ws: &Workstation) -> u32 {
    for attempt in 1..=300 {
        if ws.sync_now().await.is_ok() {
            return attempt;
        }
    }
    panic!("no pass succeeded in 300 attempts");
}

async fn rows(ws: &Workstation, mrn: &str) -> usize {
    ws.observations(&PatientRef::Mrn(mrn.into()), &ObservationQuery::default()).await.unwrap().1.len()
}

fn server_rows(server: &Server) -> i64 {
    let out = Command::new("psql")
        .arg(&server.database)
        .args(["-Atc", "SELECT count(*) FROM observations"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_connections_a_killed_server_and_a_week_offline_lose_nothing_and_duplicate_nothing() {
    let seed = seed();
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&common::clinic::fresh_database(), &dir.path().join("server"));
    let clinic = server.clinic("Faulty");
    let (proxy, cuts) = cutting_proxy(server.listen(), seed, 2).await;
    let via_proxy = format!("https://{proxy}");
    let a = common::clinic::workstation(dir.path(), "a").await;
    let b = common::clinic::workstation(dir.path(), "b").await;
    for ws in [&a, &b] {
        common::sign_in_as(ws, Role::It).await;
        ws.sync_enroll(&server.url, &server.code(&clinic)).await.unwrap();
        common::sign_in_as(ws, Role::Clinician).await;
    }
    // Both talk through the cutting proxy from now on (same certificate, another address).
    for ws in [&a, &b] {
        common::clinic::set_server(ws, &via_proxy).await;
    }

    // Readings on both sides, some the same (a shared patient measured on both).
    readings(&a, "MRN-F1", Kind::HeartRate, START, 30_000, 1).await;
    readings(&b, "MRN-F2", Kind::Spo2, START, 8_000, 1).await;
    let a_tries = settle(&a).await;
    let b_tries = settle(&b).await;
    settle(&a).await;

    // The server killed mid-life: a week offline on A, then the server back and a sync.
    server.kill();
    for day in 0..7 {
        readings(&a, "MRN-F1", Kind::RespiratoryRate, START + 86_400 * day, 1_440, 60).await;
    }
    assert!(a.sync_now().await.is_err());
    server.restart();
    settle(&a).await;
    settle(&b).await;
    eprintln!("cuts: {}, passes needed: a {a_tries}, b {b_tries}", cuts.load(Ordering::SeqCst));

    let expected_f1 = 30_000 + 7 * 1_440;
    for ws in [&a, &b] {
        assert_eq!(rows(ws, "MRN-F1").await, expected_f1, "seed {seed}");
        assert_eq!(rows(ws, "MRN-F2").await, 8_000, "seed {seed}");
        assert_eq!(ws.sync_status().await.unwrap().pending, 0);
    }
    assert_eq!(server_rows(&server), i64::try_from(expected_f1 + 8_000).unwrap(), "seed {seed}");
    a.close().await;
    b.close().await;
}

fn batch(after: Position, message: i64, patient: uuid::Uuid, first: i64, n: i64) -> PushBatch {
    let rows: Vec<WireObservation> = (0..n)
        .map(|i| {
            WireObservation(uuid::Uuid::now_v7(), Kind::HeartRate, (first + i) * 1000, 0, Some(70.0), None)
        })
        .collect();
    PushBatch {
        after,
        items: vec![PushItem {
            message,
            id: uuid::Uuid::now_v7(),
            entity: "observations".into(),
            entity_id: None,
            op: "insert".into(),
            patient_id: Some(patient),
            payload: serde_json::json!({}),
            rows,
            row: message * 100,
        }],
        app_version: "test".into(),
        models: Default::default(),
        audit_head: None,
        pending: 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_and_reordered_pushes_are_applied_once_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&common::clinic::fresh_database(), &dir.path().join("server"));
    let clinic = server.clinic("Replay");
    let a = common::clinic::workstation(dir.path(), "a").await;
    common::sign_in_as(&a, Role::It).await;
    a.sync_enroll(&server.url, &server.code(&clinic)).await.unwrap();
    let status = a.sync_status().await.unwrap();
    let mut pin = [0u8; 32];
    hex::decode_to_slice(status.fingerprint.unwrap(), &mut pin).unwrap();
    let link = vigil::sync::link::Link::new(&server.url, pin, std::time::Duration::from_secs(30)).unwrap();
    let signer = vigil::sync::link::Signer {
        clinic: status.clinic_id.unwrap(),
        workstation: a.status().await.unwrap().store_id.parse().unwrap(),
        key: DeviceKey::from_pkcs8(&common::clinic::device_key(&a).await).unwrap(),
    };
    let patient = uuid::Uuid::now_v7();
    let first = batch(Position::START, 1, patient, START, 500);
    let second = batch(first.upto(), 2, patient, START + 500, 300);
    let send = |b: &PushBatch| link.post::<PushAck>(&signer, paths::PUSH, serde_json::to_vec(b).unwrap());

    // The second before the first: refused with the server's position, nothing stored.
    let early = send(&second).await.unwrap_err().to_string();
    assert!(early.contains("409"), "{early}");
    assert_eq!(server_rows(&server), 0);
    // The first, twice: applied once, acknowledged twice.
    let once = send(&first).await.unwrap();
    let twice = send(&first).await.unwrap();
    assert_eq!((once.inserted, twice.inserted), (500, 0));
    assert_eq!(once.acknowledged, twice.acknowledged);
    // Then the second, twice.
    assert_eq!(send(&second).await.unwrap().inserted, 300);
    assert_eq!(send(&second).await.unwrap().inserted, 0);
    assert_eq!(server_rows(&server), 800);
    a.close().await;
}

#[test]
fn a_workstation_killed_mid_push_resumes_and_applies_nothing_twice() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("a");
    let (data, key) = (root.join("data"), root.join("vigil.key"));
    let server = Server::start(&common::clinic::fresh_database(), &dir.path().join("server"));
    let clinic = server.clinic("Killed");
    runtime.block_on(async {
        let a = common::clinic::workstation(dir.path(), "a").await;
        common::sign_in_as(&a, Role::It).await;
        a.sync_enroll(&server.url, &server.code(&clinic)).await.unwrap();
        common::sign_in_as(&a, Role::Clinician).await;
        readings(&a, "MRN-K", Kind::HeartRate, START, 100_000, 1).await;
        a.close().await;
    });
    common::cli_login(&data, &key, Role::Clinician);
    // `vigil sync now` killed (SIGKILL) at several moments of its push.
    for delay_ms in [150, 400, 800] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(["sync", "now"])
            .env("VIGIL_DATA_DIR", &data)
            .env("VIGIL_KEY_FILE", &key)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
    }
    let out = common::cli(&data, &key, &["sync", "now", "--json"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["pending"], 0, "{report}");
    assert_eq!(server_rows(&server), 100_000);
}

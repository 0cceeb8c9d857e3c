//! The lockout through the facade, on a clock the test moves (issue 12): five wrong passwords
//! within 15 minutes lock the account for 15 minutes, the right password is refused meanwhile
//! with the time it ends, and it works again once that time has passed; wrong passwords spread
//! over more than 15 minutes lock nothing; every failure and the lockout are in the audit trail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use vigil::domain::access::Role;
use vigil::store::KeySource;
use vigil::workstation::{AuditSelection, Clock, Error, Secret, StorePurpose};
use vigil::{OpenOptions, Workstation};

fn options(dir: &Path) -> OpenOptions {
    OpenOptions {
        data_dir: dir.join("data"),
        key_source: Some(KeySource::File(dir.join("vigil.key"))),
        create: true,
        purpose: StorePurpose::Clinical,
    }
}

/// A clock that stands still until the test moves it.
#[derive(Clone)]
struct TestClock(Arc<Mutex<DateTime<Utc>>>);

impl TestClock {
    fn new() -> Self {
        let start = DateTime::parse_from_rfc3339("2026-11-23T08:00:00Z").unwrap().with_timezone(&Utc);
        TestClock(Arc::new(Mutex::new(start)))
    }
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
    fn clock(&self) -> Clock {
        let inner = self.0.clone();
        Clock::from_fn(move || *inner.lock().unwrap())
    }
}

/// A store with `test-admin` and `test-clinician`, on the test's clock, signed out.
async fn store(dir: &Path, clock: &TestClock) -> Workstation {
    let ws = Workstation::open(options(dir)).await.unwrap().with_clock(clock.clock());
    common::sign_in_as(&ws, Role::Clinician).await;
    ws.sign_out().await;
    ws
}

fn wrong() -> Secret {
    Secret::new("not the password at all".to_owned())
}

/// Every audit event, in order, as (actor, action, detail), read by an auditor (the test then
/// signs out again).
async fn events(ws: &Workstation) -> Vec<(String, String, serde_json::Value)> {
    common::sign_in_as(ws, Role::Auditor).await;
    ws.verify_audit().await.unwrap(); // folds the spooled sign-in events into the chain
    let mut out = Vec::new();
    ws.export_audit(&AuditSelection::default(), &mut out, Path::new("memory")).await.unwrap();
    ws.sign_out().await;
    std::str::from_utf8(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e.get("action").is_some())
        .map(|e| {
            let detail = serde_json::from_str(e["detail"].as_str().unwrap_or("null")).unwrap();
            (e["actor"].as_str().unwrap().to_owned(), e["action"].as_str().unwrap().to_owned(), detail)
        })
        .collect()
}

#[tokio::test]
async fn five_wrong_passwords_within_15_minutes_lock_the_account_for_15_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::new();
    let ws = store(dir.path(), &clock).await;
    let before = events(&ws).await.len();

    // Four wrong passwords, three minutes apart: refused as wrong, not locked.
    for _ in 0..4 {
        assert!(matches!(ws.sign_in("test-clinician", wrong()).await, Err(Error::SignInFailed)));
        clock.advance(Duration::minutes(3));
    }
    // The fifth, twelve minutes after the first, locks the account for 15 minutes from now.
    let locked_at = clock.now();
    let until = (locked_at + Duration::minutes(15)).to_rfc3339();
    match ws.sign_in("test-clinician", wrong()).await {
        Err(Error::AccountLocked { until: said }) => assert_eq!(said, until),
        other => panic!("expected the account locked, got {other:?}"),
    }
    // The right password is refused now, and a minute before the end, saying until when.
    for later in [1, 13] {
        clock.advance(Duration::minutes(later));
        let refused = ws.sign_in("test-clinician", common::password()).await.unwrap_err();
        assert!(matches!(&refused, Error::AccountLocked { until: said } if *said == until), "{refused:?}");
        let message = refused.to_string();
        assert!(message.contains("locked") && message.contains(&until), "{message}");
        assert!(ws.session_info().is_none(), "nobody is signed in");
    }
    // 16 minutes after the lockout the right password works.
    clock.advance(Duration::minutes(2));
    assert_eq!(clock.now() - locked_at, Duration::minutes(16));
    let info = ws.sign_in("test-clinician", common::password()).await.unwrap();
    assert_eq!((info.user.as_str(), info.role), ("test-clinician", Role::Clinician));
    ws.patients().await.unwrap();
    ws.sign_out().await;
    // A success clears the count: four more wrong passwords do not lock.
    for _ in 0..4 {
        assert!(matches!(ws.sign_in("test-clinician", wrong()).await, Err(Error::SignInFailed)));
    }
    ws.sign_in("test-clinician", common::password()).await.unwrap();
    ws.sign_out().await;

    // The trail: five failures, the lockout right after the fifth, two refusals while locked,
    // the sign-in, then four failures and the next sign-in.
    let trail: Vec<_> = events(&ws)
        .await
        .into_iter()
        .skip(before)
        .filter(|(actor, action, _)| {
            actor == "user:test-clinician"
                && (action.starts_with("session.login") || action.starts_with("user.lockout"))
        })
        .collect();
    let actions: Vec<&str> = trail.iter().map(|(_, action, _)| action.as_str()).collect();
    let failed = "session.login_failed";
    let mut expected = vec![failed; 5];
    expected.extend(["user.lockout", failed, failed, "session.login"]);
    expected.extend([failed; 4]);
    expected.push("session.login");
    assert_eq!(actions, expected);
    let whys: Vec<&str> =
        trail.iter().filter(|(_, a, _)| a == failed).map(|(_, _, d)| d["why"].as_str().unwrap()).collect();
    assert_eq!(whys[..5], ["wrong password"; 5]);
    assert_eq!(whys[5..7], ["locked out"; 2]);
    assert_eq!(trail[5].2["until"].as_str(), Some(until.as_str()), "the lockout says until when");
    ws.close().await;
}

#[tokio::test]
async fn wrong_passwords_spread_over_more_than_15_minutes_do_not_lock() {
    let dir = tempfile::tempdir().unwrap();
    let clock = TestClock::new();
    let ws = store(dir.path(), &clock).await;
    let before = events(&ws).await.len();
    // Eight wrong passwords four minutes apart: any five of them span at least 16 minutes.
    for _ in 0..8 {
        let refused = ws.sign_in("test-clinician", wrong()).await.unwrap_err();
        assert!(matches!(refused, Error::SignInFailed), "{refused:?}");
        clock.advance(Duration::minutes(4));
    }
    ws.sign_in("test-clinician", common::password()).await.unwrap();
    ws.sign_out().await;
    let actions: Vec<String> = events(&ws)
        .await
        .into_iter()
        .skip(before)
        .filter(|(actor, _, _)| actor == "user:test-clinician")
        .map(|(_, action, _)| action)
        .collect();
    assert_eq!(actions.iter().filter(|a| *a == "session.login_failed").count(), 8, "{actions:?}");
    assert!(!actions.iter().any(|a| a == "user.lockout"), "{actions:?}");
    assert_eq!(actions.last().map(String::as_str), Some("session.logout"));
    ws.close().await;
}

#[tokio::test]
async fn a_lockout_refuses_the_right_password_from_the_command_line_too() {
    // The same account, locked through the facade, is refused by `vigil login` with the time.
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("vigil.key");
    common::cli_login(&dir.path().join("data"), &key, Role::Clinician);
    let line = "not the password at all\n";
    for n in 0..5 {
        let out = common::cli(&dir.path().join("data"), &key, &["login", "test-clinician"], line);
        assert!(!out.status.success(), "wrong password {n} accepted");
    }
    let right = format!("{}\n", common::PASSWORD);
    let out = common::cli(&dir.path().join("data"), &key, &["login", "test-clinician"], &right);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a locked account signed in");
    assert!(stderr.contains("locked") && stderr.contains("until"), "{stderr}");
}

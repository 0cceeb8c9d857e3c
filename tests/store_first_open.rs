//! The first SQLCipher connections a process makes, made at once from many threads, all work.
//!
//! SQLite finishes SQLCipher's initialisation after it has marked itself initialised, so a
//! thread that keyed a connection in that window was refused ("sqlcipher not initialized",
//! then "An error occurred with PRAGMA key", CI stop 21) or crashed. This binary holds one
//! test so that its opens are the process's first: the race exists only then.
//! `vigil::store::sqlite_ready` closes it. Without it this test failed 1 to 2 runs in 100
//! on this machine (one a SIGSEGV); with it, 0 in 100.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::str::FromStr;
use std::sync::{Arc, Barrier};

use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use vigil::store::KeySource;
use vigil::workstation::StorePurpose;
use vigil::{OpenOptions, Workstation};

/// Half the threads open a workstation's store; the other half key a raw in-memory
/// connection the way other SQLite users in the process must, after `sqlite_ready`.
async fn open(i: usize, root: &std::path::Path) -> Result<(), String> {
    if i % 2 == 0 {
        let ws = Workstation::open(OpenOptions {
            data_dir: root.join("data"),
            key_source: Some(KeySource::File(root.join("vigil.key"))),
            create: true,
            purpose: StorePurpose::Clinical,
        })
        .await
        .map_err(|e| format!("store {i}: {e}"))?;
        ws.close().await;
    } else {
        let options = SqliteConnectOptions::from_str("sqlite::memory:").unwrap().pragma("key", "'k'");
        vigil::store::sqlite_ready().await.map_err(|e| format!("ready {i}: {e}"))?;
        let mut conn = SqliteConnection::connect_with(&options).await.map_err(|e| format!("raw {i}: {e}"))?;
        sqlx::query("CREATE TABLE t (x)").execute(&mut conn).await.map_err(|e| format!("raw {i}: {e}"))?;
        conn.close().await.map_err(|e| format!("raw {i}: {e}"))?;
    }
    Ok(())
}

#[test]
fn sqlcipher_connections_made_at_once_by_a_new_process_all_work() {
    const THREADS: usize = 32;
    let dir = tempfile::tempdir().unwrap();
    let start = Arc::new(Barrier::new(THREADS));
    let opened: Vec<_> = (0..THREADS)
        .map(|i| {
            let root = dir.path().join(format!("ws-{i}"));
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                start.wait();
                runtime.block_on(open(i, &root))
            })
        })
        .collect();
    let failed: Vec<String> = opened.into_iter().filter_map(|t| t.join().unwrap().err()).collect();
    assert!(failed.is_empty(), "{failed:?}");
}

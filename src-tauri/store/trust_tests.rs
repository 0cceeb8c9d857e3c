//! Issue 12 regressions of the store's files and SQLCipher settings.
#![allow(clippy::unwrap_used, reason = "test helpers: a failed unwrap is the report")]

use super::*;

async fn open_store(dir: &Path) -> Store {
    let key = StoreKey::generate().unwrap();
    let store = Store::create(&dir.join("data/vigil.db"), Encryption::Key(key)).await.unwrap();
    // A write and a read audit event, so that the WAL, the shared memory and the spool exist.
    let mut tx = store.begin().await.unwrap();
    Store::set_meta(&mut tx, "probe", "1").await.unwrap();
    tx.commit().await.unwrap();
    let event = AuditEvent {
        actor: "test".into(),
        action: "probe.read",
        patient: None,
        detail: serde_json::json!({}),
    };
    assert_eq!(store.spool_audit(&event, chrono::Utc::now()).await, Spooled::Recorded);
    store
}

#[cfg(unix)]
#[tokio::test]
async fn store_files_were_world_readable() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let root = tempfile::tempdir().unwrap();
    let store = open_store(root.path()).await;
    let db = store.path().to_owned();
    let spool = audit_spool::Spool::path_for(&db);
    let files = [
        db.clone(),
        files::side_file(&db, "-wal"),
        files::side_file(&db, "-shm"),
        spool.clone(),
        files::side_file(&spool, "-wal"),
        files::side_file(&spool, "-shm"),
    ];
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    assert_eq!(mode(&root.path().join("data")), 0o700);
    store.close().await;

    // A store left open to others by an older version is tightened when opened.
    let key_dir = root.path().join("data");
    std::fs::set_permissions(&key_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&spool, std::fs::Permissions::from_mode(0o664)).unwrap();
    let err = Store::open(&db, Encryption::Key(StoreKey::generate().unwrap()), "test").await.unwrap_err();
    assert!(matches!(err, StoreError::WrongKey { .. }), "{err}");
    assert_eq!((mode(&key_dir), mode(&db)), (0o700, 0o600), "tightened before the key is tried");
}

#[tokio::test]
#[ignore = "memory security is off until processes wait for closing connections (store::MEMORY_SECURITY)"]
async fn sqlcipher_memory_security_was_off() {
    let root = tempfile::tempdir().unwrap();
    let store = open_store(root.path()).await;
    // SQLCipher answers 1 only when the setting is on and its allocator has run.
    let on: String =
        sqlx::query_scalar("PRAGMA cipher_memory_security").fetch_one(store.pool()).await.unwrap();
    assert_eq!(on, "1", "store connection");
    let spool = store.spool.pool.as_ref().unwrap();
    let on: String = sqlx::query_scalar("PRAGMA cipher_memory_security").fetch_one(spool).await.unwrap();
    assert_eq!(on, "1", "spool connection");
    store.close().await;
}

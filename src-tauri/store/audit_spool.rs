//! The audit spool: where reads record their audit events without taking the store's write
//! lock, so that a clinician can read while an import, the monitor or a device writes.
//!
//! A read runs in a deferred transaction (a WAL snapshot) on the main store, which a writer
//! never blocks; its audit event is then appended here, to a small SQLCipher database beside
//! the store (`vigil.db-spool`, same key) whose write lock only other reads' appends contend
//! for, each for well under a millisecond. The event is durable (`synchronous = FULL`) before
//! the read returns its data.
//!
//! Every write transaction on the main store first folds the spooled events into the
//! hash-chained `audit` table ([`Spool::fold`]) and records how far it got in `store_meta`
//! (`audit_spool_folded`, `<spool id>:<event id>`) in that same transaction. A spooled event is
//! therefore chained exactly once: rows at or below the committed watermark are deleted from
//! the spool by a later fold, never before their fold has committed.
//!
//! When the spool cannot be written (a full disk, or a spool this key cannot open), events wait
//! in this process's memory (the backlog) and are written with the next append that succeeds.
//! The caller hears how many are waiting, so it can say so: nothing is dropped silently.
//!
//! Identical reads (same actor, action and patient) within ten minutes are coalesced before
//! they reach the spool (`audit_coalesce.rs`): one event, and a count written with the next.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};
use sqlx::{ConnectOptions, Row, Sqlite, Transaction};

use super::audit_coalesce::{Admit, Coalescer, Count};
use super::{AuditEvent, Encryption, StoreError, time};

/// The store_meta key of the fold watermark.
const WATERMARK: &str = "audit_spool_folded";

const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS pending_audit (
         id INTEGER PRIMARY KEY AUTOINCREMENT,
         at_ms INTEGER NOT NULL,
         actor TEXT NOT NULL,
         action TEXT NOT NULL,
         patient_id BLOB,
         detail TEXT NOT NULL
     )",
    "CREATE TABLE IF NOT EXISTS spool_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
];

/// An event waiting to be chained.
#[derive(Debug, Clone)]
struct Pending {
    at_ms: i64,
    actor: String,
    action: String,
    patient: Option<Vec<u8>>,
    detail: String,
}

impl Pending {
    /// A read's event; `before` is the count of identical reads coalesced since the last one
    /// written, which goes into its detail.
    fn new(event: &AuditEvent, at_ms: i64, patient: Option<Vec<u8>>, before: Option<&Count>) -> Self {
        let mut detail = event.detail.clone();
        if let Some(count) = before {
            match &mut detail {
                serde_json::Value::Object(members) => {
                    members.insert("coalesced".to_owned(), count.detail());
                }
                other => {
                    detail = serde_json::json!({ "value": other.take(), "coalesced": count.detail() });
                }
            }
        }
        Self {
            at_ms,
            actor: event.actor.clone(),
            action: event.action.to_owned(),
            patient,
            detail: detail.to_string(),
        }
    }

    /// A count of coalesced reads that no later identical read carried: an event of its own,
    /// at the last read it counts.
    fn counted(count: &Count) -> Self {
        Self {
            at_ms: count.last_ms,
            actor: count.actor.clone(),
            action: count.action.clone(),
            patient: count.patient.clone(),
            detail: serde_json::json!({ "coalesced": count.detail() }).to_string(),
        }
    }
}

/// What became of a read's audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spooled {
    /// Durably spooled.
    Recorded,
    /// Identical to a read recorded less than ten minutes ago (same actor, action and patient):
    /// counted, and the count is written with a later event (`audit_coalesce.rs`).
    Coalesced,
    /// Held in this process's memory: the spool could not be written.
    Held {
        /// Events now waiting in memory, this one included.
        waiting: usize,
        /// Why the spool could not be written.
        reason: String,
    },
}

/// The spool of one store.
#[derive(Debug)]
pub(crate) struct Spool {
    path: PathBuf,
    /// `None` when the spool could not be opened: events then wait in the backlog.
    pub(super) pool: Option<SqlitePool>,
    /// This spool file's identity; the watermark names it, so a new spool file starts at zero.
    id: String,
    /// Events that could not be written yet, oldest first.
    backlog: Mutex<Vec<Pending>>,
    /// The highest event id known to be chained (a cache of the committed watermark).
    folded: AtomicI64,
    /// Identical reads counted, not yet written.
    coalescer: Coalescer,
}

impl Spool {
    /// The spool's file beside the store's.
    pub(crate) fn path_for(store: &Path) -> PathBuf {
        let mut name = store.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push("-spool");
        store.with_file_name(name)
    }

    /// Opens (creating when needed) the spool of the store at `store`. Never fails: a spool that
    /// cannot be opened leaves the events of this process in memory, and says so in a warning.
    pub(crate) async fn open(store: &Path, encryption: &Encryption) -> Self {
        let path = Self::path_for(store);
        match Self::connect(&path, encryption).await {
            Ok((pool, id)) => Self {
                path,
                pool: Some(pool),
                id,
                backlog: Mutex::new(Vec::new()),
                folded: AtomicI64::new(0),
                coalescer: Coalescer::default(),
            },
            Err(e) => {
                tracing::warn!(spool = %path.display(), error = %e, "the audit spool cannot be opened: read events wait in memory");
                Self {
                    path,
                    pool: None,
                    id: String::new(),
                    backlog: Mutex::new(Vec::new()),
                    folded: AtomicI64::new(0),
                    coalescer: Coalescer::default(),
                }
            }
        }
    }

    async fn connect(path: &Path, encryption: &Encryption) -> Result<(SqlitePool, String), sqlx::Error> {
        // Owner-only before SQLite opens it: its -wal and -shm take the main file's mode.
        super::files::private_file(path)?;
        super::files::tighten_side_files(path)?;
        super::sqlite_ready().await?;
        let mut options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .disable_statement_logging();
        if let Encryption::Key(key) = encryption {
            options = super::keyed(options, key).pragma("cipher_log_level", "NONE");
        }
        let pool = super::pool_options(2).connect_with(options).await?;
        for statement in SCHEMA {
            sqlx::query(statement).execute(&pool).await?;
        }
        let fresh = super::new_uuid().to_string();
        sqlx::query("INSERT INTO spool_meta (key, value) VALUES ('id', ?) ON CONFLICT (key) DO NOTHING")
            .bind(&fresh)
            .execute(&pool)
            .await?;
        let id: String =
            sqlx::query_scalar("SELECT value FROM spool_meta WHERE key = 'id'").fetch_one(&pool).await?;
        Ok((pool, id))
    }

    /// Appends a read's event, with any backlog before it, in one spool transaction; an event
    /// identical to one recorded in the last ten minutes is only counted.
    pub(crate) async fn append(&self, event: &AuditEvent, at: chrono::DateTime<chrono::Utc>) -> Spooled {
        let at_ms = time::to_ms(at);
        let patient = event.patient.map(|p| p.as_bytes().to_vec());
        let (admit, closed) = self.coalescer.admit(&event.actor, event.action, patient.as_deref(), at_ms);
        let mut batch = std::mem::take(&mut *self.lock_backlog());
        batch.extend(closed.iter().map(Pending::counted));
        let coalesced = match admit {
            Admit::Write(before) => {
                batch.push(Pending::new(event, at_ms, patient, before.as_ref()));
                false
            }
            Admit::Counted => true,
        };
        if batch.is_empty() {
            return Spooled::Coalesced;
        }
        self.write_batch(batch, coalesced).await
    }

    async fn write_batch(&self, batch: Vec<Pending>, coalesced: bool) -> Spooled {
        let result = match &self.pool {
            Some(pool) => write(pool, &batch).await.map_err(|e| e.to_string()),
            None => Err(format!("the audit spool {} could not be opened", self.path.display())),
        };
        match result {
            Ok(()) if coalesced => Spooled::Coalesced,
            Ok(()) => Spooled::Recorded,
            Err(reason) => {
                let mut backlog = self.lock_backlog();
                // Appends that raced this one stay after it: order is kept.
                let later = std::mem::replace(&mut *backlog, batch);
                backlog.extend(later);
                tracing::warn!(
                    waiting = backlog.len(),
                    "an audit event could not be spooled; it waits in memory"
                );
                Spooled::Held { waiting: backlog.len(), reason }
            }
        }
    }

    /// Events waiting in memory.
    pub(crate) fn waiting(&self) -> usize {
        self.lock_backlog().len()
    }

    /// Spooled events not yet in the chain, and events waiting in memory.
    pub(crate) async fn pending(&self) -> Result<(i64, usize), StoreError> {
        let spooled = match &self.pool {
            Some(pool) => {
                let floor = self.folded.load(Ordering::Acquire);
                sqlx::query_scalar("SELECT COUNT(*) FROM pending_audit WHERE id > ?")
                    .bind(floor)
                    .fetch_one(pool)
                    .await?
            }
            None => 0,
        };
        Ok((spooled, self.waiting()))
    }

    /// Chains every spooled event inside the caller's write transaction on the main store, and
    /// moves the watermark in that transaction. Cheap when there is nothing to fold: one query
    /// on the spool.
    pub(crate) async fn fold(&self, tx: &mut Transaction<'static, Sqlite>) -> Result<(), StoreError> {
        let Some(pool) = &self.pool else { return Ok(()) };
        if !self.lock_backlog().is_empty() {
            // The spool may be writable again: write the backlog first, so it folds now.
            let batch = std::mem::take(&mut *self.lock_backlog());
            if write(pool, &batch).await.is_err() {
                let mut backlog = self.lock_backlog();
                let later = std::mem::replace(&mut *backlog, batch);
                backlog.extend(later);
            }
        }
        let newest: Option<i64> =
            match sqlx::query_scalar("SELECT MAX(id) FROM pending_audit").fetch_one(pool).await {
                Ok(newest) => newest,
                Err(e) => {
                    tracing::warn!(error = %e, "the audit spool cannot be read; its events fold later");
                    return Ok(());
                }
            };
        let Some(newest) = newest else { return Ok(()) };
        if newest <= self.folded.load(Ordering::Acquire) {
            return Ok(());
        }
        // The committed watermark: another process may have folded since this one looked.
        let committed = self.committed_watermark(tx).await?;
        if committed > 0 {
            // Folded by a committed transaction: safe to forget.
            let _ =
                sqlx::query("DELETE FROM pending_audit WHERE id <= ?").bind(committed).execute(pool).await;
        }
        let rows = match sqlx::query(
            "SELECT id, at_ms, actor, action, patient_id, detail FROM pending_audit WHERE id > ? ORDER BY id",
        )
        .bind(committed)
        .fetch_all(pool)
        .await
        {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "the audit spool cannot be read; its events fold later");
                return Ok(());
            }
        };
        let mut last = committed;
        for row in &rows {
            let pending = Pending {
                at_ms: row.get("at_ms"),
                actor: row.get("actor"),
                action: row.get("action"),
                patient: row.get("patient_id"),
                detail: row.get("detail"),
            };
            super::audit::append(
                tx,
                pending.at_ms,
                &pending.actor,
                &pending.action,
                pending.patient.as_deref(),
                &pending.detail,
            )
            .await?;
            last = row.get("id");
        }
        super::Store::set_meta(tx, WATERMARK, &format!("{}:{last}", self.id)).await?;
        // A cache only: if this transaction rolls back, the next fold reads the committed value.
        self.folded.store(last, Ordering::Release);
        Ok(())
    }

    async fn committed_watermark(&self, tx: &mut Transaction<'static, Sqlite>) -> Result<i64, StoreError> {
        let value: Option<String> = sqlx::query_scalar("SELECT value FROM store_meta WHERE key = ?")
            .bind(WATERMARK)
            .fetch_optional(&mut **tx)
            .await?;
        Ok(value
            .as_deref()
            .and_then(|v| v.split_once(':'))
            .filter(|(spool, _)| *spool == self.id)
            .and_then(|(_, n)| n.parse().ok())
            .unwrap_or(0))
    }

    /// Writes the counts of coalesced reads still open, then closes the spool's connections.
    /// Closing twice is harmless.
    pub(crate) async fn close(&self) {
        let counts = self.coalescer.drain();
        if !counts.is_empty() {
            let mut batch = std::mem::take(&mut *self.lock_backlog());
            batch.extend(counts.iter().map(Pending::counted));
            self.write_batch(batch, false).await;
        }
        if let Some(pool) = &self.pool {
            pool.close().await;
        }
    }

    fn lock_backlog(&self) -> std::sync::MutexGuard<'_, Vec<Pending>> {
        self.backlog.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn write(pool: &SqlitePool, batch: &[Pending]) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for event in batch {
        sqlx::query(
            "INSERT INTO pending_audit (at_ms, actor, action, patient_id, detail) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(event.at_ms)
        .bind(&event.actor)
        .bind(&event.action)
        .bind(&event.patient)
        .bind(&event.detail)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await
}

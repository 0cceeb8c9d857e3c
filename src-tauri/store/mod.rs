//! The encrypted local store: SQLCipher through sqlx, schema in `migrations/`, WAL.
//!
//! Architecture invariant: all persistence goes through this module. One module per aggregate
//! (`patients`, `observations`, ...); each writes its outbox and audit rows inside the caller's
//! transaction, so a change, its outbox message and its audit event commit together or not at all.

mod alerts;
pub(crate) mod assessments;
mod audit;
mod audit_anchor;
mod audit_check;
mod audit_coalesce;
mod audit_export;
mod audit_spool;
pub(crate) mod consent;
mod devices;
mod files;
mod key;
pub(crate) mod models;
mod observations;
mod outbox;
mod patients;
pub(crate) mod series;
mod sources;
mod sync;
mod sync_alerts;
mod sync_pull;
mod time;
mod weight_filter;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, Sqlite, Transaction};

use audit_spool::Spool;

pub use alerts::AlertQuery;
pub(crate) use alerts::{
    count_by_status as count_alerts_by_status, find as find_alert, insert as insert_alert,
    list as list_alerts, transition as transition_alert,
};
pub use assessments::{SpecialtyScore, StoredAssessment};
pub(crate) use audit::record as audit_record;
pub use audit::{AuditEvent, AuditVerification, ServerHeadCheck};
pub use audit_anchor::{Anchor, AnchorCheck, AnchorPlace, REFRESH_EVERY as AUDIT_ANCHOR_REFRESH};
pub use audit_check::{CheckedExport, ExportFault, check_export};
pub use audit_coalesce::WINDOW as AUDIT_COALESCE_WINDOW;
pub use audit_export::{
    AuditFilter, BREAK_GLASS, BreakGlassEvent, EXPORT_FORMAT, ExportHead, ExportWritten, ExportedEvent,
};
pub use audit_spool::Spooled;
pub use consent::ConsentVersion;
pub use devices::{DeviceRecord, DeviceRef, LinkReport};
pub(crate) use devices::{
    assign as assign_device, insert as insert_device, list as list_devices, note_link,
    record as device_record, records as device_records, set_user as set_device_user,
};
pub use files::owner_only_umask;
pub(crate) use files::{private_dir, private_file};
pub use key::{KEY_FILE_ENV, KEYRING_SERVICE, KeyError, KeySource, StoreKey};
pub use models::{DeploymentRow, EventRow, PackageRow};
pub use observations::{InsertReport, ObservationQuery, TimeRange};
pub(crate) use observations::{
    insert_batch as insert_observations, query as query_observations,
    ranges_by_source as observation_ranges_by_source,
};
pub use outbox::OutboxMessage;
pub(crate) use outbox::{enqueue as outbox_enqueue, pending_for as outbox_pending_for};
pub(crate) mod users;
pub(crate) use patients::patient_id as patient_id_of;
pub(crate) use patients::{
    find as find_patient, insert as insert_patient, list as list_patients, update as update_patient,
};
pub(crate) use sources::{labels as source_labels, source_id as source_id_of};
pub(crate) use sync::Enrolment as SyncEnrolment;
pub use sync::SyncState;
pub use sync_pull::PullReport;
pub(crate) use sync_pull::open_conflicts as sync_open_conflicts;
pub use weight_filter::WeightResult;
pub(crate) use weight_filter::{
    SourceOrigin, accepted_weights, device_assigned, find_result as find_weight_result,
    list_results as weight_results, load_state as load_weight_state, save_step as save_weight_step,
    saved_context as saved_weight_context, source_origins,
};

/// Every pool this process opened, so that [`close_all`] can close them before the process
/// exits: a connection still closing on sqlx's worker thread while the process runs its exit
/// handlers has crashed the process (seen under load in desktop builds).
static OPEN_POOLS: std::sync::Mutex<Vec<SqlitePool>> = std::sync::Mutex::new(Vec::new());

/// Closes every store this process opened and waits until their connections are closed. Call
/// it before exiting; closing twice is harmless. Returns the number of read audit events that
/// could not be written (a full disk): the caller must say so, since they end with the process.
pub async fn close_all() -> usize {
    // The anchors first, while their pools are open: the chain's head as this process leaves it.
    let anchors = std::mem::take(&mut *OPEN_ANCHORS.lock().unwrap_or_else(|e| e.into_inner()));
    for (keeper, pool) in anchors {
        if !pool.is_closed() {
            if let Err(e) = keeper.advance(&pool).await {
                tracing::warn!(error = %e, "the audit anchor could not be moved at exit");
            }
        }
    }
    let pools = std::mem::take(&mut *OPEN_POOLS.lock().unwrap_or_else(|e| e.into_inner()));
    for pool in pools {
        pool.close().await;
    }
    let spools = std::mem::take(&mut *OPEN_SPOOLS.lock().unwrap_or_else(|e| e.into_inner()));
    let mut waiting = 0;
    for spool in spools {
        // Closing writes the counts of coalesced reads; what it could not write is waiting.
        spool.close().await;
        waiting += spool.waiting();
    }
    waiting
}

/// The audit anchors this process keeps, moved to their chain's head before the pools close.
type OpenAnchor = (std::sync::Arc<audit_anchor::AnchorKeeper>, SqlitePool);
static OPEN_ANCHORS: std::sync::Mutex<Vec<OpenAnchor>> = std::sync::Mutex::new(Vec::new());

/// The audit spools this process opened, closed with the pools.
static OPEN_SPOOLS: std::sync::Mutex<Vec<std::sync::Arc<Spool>>> = std::sync::Mutex::new(Vec::new());

/// The schema migrations, embedded at compile time from `migrations/`.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How the database file is protected.
#[derive(Debug, Clone)]
pub enum Encryption {
    /// SQLCipher with this key: the only mode the application uses.
    Key(StoreKey),
    /// Plain SQLite, for the benchmark's baseline only.
    Plain,
}

/// Why the store could not be opened or used. Each message names the store and what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// There is no store at the path.
    #[error("no Vigil store at {0}: run `vigil init` to create one, or pass --data-dir")]
    NotFound(PathBuf),
    /// `create` found a file already there.
    #[error("a store already exists at {0}")]
    AlreadyExists(PathBuf),
    /// The key does not decrypt the file.
    #[error(
        "the store at {path} cannot be opened with the key from {key_source}: this key does not \
         open it (or the file is not a Vigil store). Restore the key this store was created \
         with; nothing was changed and no new store was created"
    )]
    WrongKey {
        /// The store file.
        path: PathBuf,
        /// Where the key came from.
        key_source: String,
    },
    /// The store exists but its key is nowhere to be found.
    #[error(
        "the store at {path} exists but {key_source} holds no key for it. Restore the key from \
         your backup (a new key cannot open this store); nothing was changed"
    )]
    KeyMissing {
        /// The store file.
        path: PathBuf,
        /// Where the key was looked for.
        key_source: String,
    },
    /// Reading or keeping the key failed.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The store was written by a newer Vigil.
    #[error(
        "the store at {path} has schema version {found}, newer than this Vigil knows ({known}); update Vigil"
    )]
    NewerSchema {
        /// The store file.
        path: PathBuf,
        /// The store's version.
        found: i64,
        /// This build's latest version.
        known: i64,
    },
    /// A migration failed; the transaction of that migration was rolled back.
    #[error("migrating the store at {path} failed: {source}")]
    Migrate {
        /// The store file.
        path: PathBuf,
        /// The migration error.
        source: sqlx::migrate::MigrateError,
    },
    /// Creating the data directory failed.
    #[error("cannot create the data directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A store file or the data directory could not be made owner-only.
    #[error("cannot make {path} readable by its owner only: {source}")]
    Permissions {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A database error.
    #[error("store error: {0}")]
    Database(#[from] sqlx::Error),
    /// Observations name a patient the store does not have.
    #[error("no patient with id {0} in this store")]
    UnknownPatient(crate::domain::PatientId),
    /// The patient has not consented to what was asked (issue 12); nothing was stored.
    #[error("patient {patient} has not consented to {purpose}; nothing of this batch was stored")]
    NotConsented {
        /// The patient.
        patient: crate::domain::PatientId,
        /// `monitoring`.
        purpose: &'static str,
    },
    /// A unique value is already taken.
    #[error("{what} {value} already exists")]
    Duplicate {
        /// What (`a patient with MRN`).
        what: &'static str,
        /// The value.
        value: String,
    },
    /// A stored value did not decode (a corrupt or foreign row).
    #[error("store holds an invalid {what}: {problem}")]
    Corrupt {
        /// The kind of value.
        what: &'static str,
        /// What was wrong.
        problem: String,
    },
}

/// How long a writer waits for another writer (a long import, another process) before it
/// gives up. Readers never wait for writers (`begin_read`).
const WRITER_PATIENCE: Duration = Duration::from_secs(600);

/// An open store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
    path: PathBuf,
    encrypted: bool,
    /// Where reads record their audit events (`audit_spool.rs`).
    spool: std::sync::Arc<Spool>,
    /// The audit chain's anchor outside the data directory (`audit_anchor.rs`).
    anchor: std::sync::Arc<audit_anchor::Slot>,
}

impl Store {
    /// Creates a new store at `path` (its directory is created too) and applies the schema.
    /// Refuses when a file is already there.
    pub async fn create(path: &Path, encryption: Encryption) -> Result<Self, StoreError> {
        if path.exists() {
            return Err(StoreError::AlreadyExists(path.to_owned()));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            files::private_dir(dir).map_err(|source| StoreError::Io { path: dir.to_owned(), source })?;
        }
        // 0600 before SQLite opens it: SQLite gives -wal and -shm the main file's mode.
        files::private_file(path)
            .map_err(|source| StoreError::Permissions { path: path.to_owned(), source })?;
        Self::connect(path, encryption, true, "a new key").await
    }

    /// Opens an existing store and migrates it forward. `key_source` only names the key's
    /// origin in errors.
    pub async fn open(path: &Path, encryption: Encryption, key_source: &str) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::NotFound(path.to_owned()));
        }
        // A store made before issue 12, or a directory IT created with a loose mode.
        let tighten = |p: &Path, r: std::io::Result<()>| {
            r.map_err(|source| StoreError::Permissions { path: p.to_owned(), source })
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            tighten(dir, files::private_dir(dir))?;
        }
        tighten(path, files::private_file(path))?;
        tighten(path, files::tighten_side_files(path))?;
        Self::connect(path, encryption, false, key_source).await
    }

    async fn connect(
        path: &Path,
        encryption: Encryption,
        create: bool,
        key_source: &str,
    ) -> Result<Self, StoreError> {
        let mut options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(create)
            // WAL makes a wrong key fail here, at connect, with SQLITE_NOTADB.
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a committed transaction survives a power cut, not only a crash.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // sqlx logs every statement at debug (slow ones at warn), `PRAGMA key` among them:
            // the key must never reach a log.
            .disable_statement_logging()
            // 32 MiB of page cache per connection (the default is 2 MiB): under SQLCipher a
            // cache miss costs a page decryption, so index inserts and range reads gain most.
            .pragma("cache_size", "-32768");
        let encrypted = matches!(encryption, Encryption::Key(_));
        sqlite_ready().await?;
        if let Encryption::Key(key) = &encryption {
            options = keyed(options, key);
        }
        // Probe the key on one connection first, so a wrong key fails at once instead of inside
        // the pool's retry loop. SQLCipher's own log would print decryption failures to stderr
        // before our error says the same in words: its log level is process-wide, set it here.
        let mut probe = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(create)
            .disable_statement_logging();
        if let Encryption::Key(key) = &encryption {
            probe = keyed(probe, key).pragma("cipher_log_level", "NONE");
        }
        let probed = async {
            let mut conn = SqliteConnection::connect_with(&probe).await?;
            sqlx::query("SELECT count(*) FROM sqlite_master").execute(&mut conn).await?;
            conn.close().await
        };
        match probed.await {
            Ok(()) => {}
            Err(e) if is_not_a_database(&e) => {
                return Err(StoreError::WrongKey {
                    path: path.to_owned(),
                    key_source: key_source.to_owned(),
                });
            }
            Err(e) => return Err(e.into()),
        }
        let pool = pool_options(4).connect_with(options).await?;
        OPEN_POOLS.lock().unwrap_or_else(|e| e.into_inner()).push(pool.clone());
        let spool = std::sync::Arc::new(Spool::open(path, &encryption).await);
        OPEN_SPOOLS.lock().unwrap_or_else(|e| e.into_inner()).push(spool.clone());
        let key = match &encryption {
            Encryption::Key(key) => Some(key),
            Encryption::Plain => None,
        };
        let anchor = std::sync::Arc::new(audit_anchor::Slot::new(key));
        let store = Self { pool, path: path.to_owned(), encrypted, spool, anchor };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let known = MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0);
        let found = self.schema_version().await.unwrap_or(0);
        if found > known {
            return Err(StoreError::NewerSchema { path: self.path.clone(), found, known });
        }
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|source| StoreError::Migrate { path: self.path.clone(), source })
    }

    /// The highest applied migration; 0 for an empty database.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok(version.unwrap_or(0))
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether SQLCipher encryption is on.
    pub fn encrypted(&self) -> bool {
        self.encrypted
    }

    /// Size of the database and its WAL on disk, in bytes.
    pub fn size_bytes(&self) -> u64 {
        let wal = PathBuf::from(format!("{}-wal", self.path.display()));
        [&self.path, &wal].iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum()
    }

    /// Begins a write transaction. `IMMEDIATE` takes the write lock at once, so two writers
    /// queue instead of failing when a read snapshot turns stale; a writer waits for another
    /// (a long import) up to [`WRITER_PATIENCE`]. The transaction first chains the read events
    /// that the spool holds (`audit_spool.rs`).
    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        let started = std::time::Instant::now();
        let mut told = false;
        let mut tx = loop {
            match self.pool.begin_with("BEGIN IMMEDIATE").await {
                Ok(tx) => break tx,
                Err(e) if is_busy(&e) && started.elapsed() < WRITER_PATIENCE => {
                    if !told {
                        tracing::info!("another writer holds the store; waiting for it to finish");
                        told = true;
                    }
                }
                Err(e) => return Err(e.into()),
            }
        };
        self.spool.fold(&mut tx).await?;
        Ok(tx)
    }

    /// Begins a read: a deferred transaction, one consistent WAL snapshot that never takes the
    /// write lock, so no writer delays it. Its audit event goes to [`Store::spool_audit`].
    pub(crate) async fn begin_read(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// Records a read's audit event durably without the write lock (`audit_spool.rs`).
    pub(crate) async fn spool_audit(&self, event: &AuditEvent, at: chrono::DateTime<chrono::Utc>) -> Spooled {
        self.spool.append(event, at).await
    }

    /// Read events this process holds in memory because the spool could not be written.
    pub fn audit_events_waiting(&self) -> usize {
        self.spool.waiting()
    }

    /// Runs `PRAGMA integrity_check`; `Ok(())` when it answers "ok".
    pub async fn integrity_check(&self) -> Result<(), StoreError> {
        let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check").fetch_all(&self.pool).await?;
        if rows == ["ok"] {
            Ok(())
        } else {
            Err(StoreError::Corrupt { what: "database file", problem: rows.join("; ") })
        }
    }

    /// A value from `store_meta`.
    pub async fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar("SELECT value FROM store_meta WHERE key = ?")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Sets a `store_meta` value inside a transaction.
    pub(crate) async fn set_meta(
        tx: &mut Transaction<'static, Sqlite>,
        key: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO store_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
            .bind(key)
            .bind(value)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    /// Row counts: (patients, observations).
    pub async fn counts(&self) -> Result<(i64, i64), StoreError> {
        let patients: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM patients").fetch_one(&self.pool).await?;
        // Kept by the batch insert (migration 0007): counting 5 M rows takes half a second.
        let observations: i64 = sqlx::query_scalar("SELECT n FROM counters WHERE name = 'observations'")
            .fetch_one(&self.pool)
            .await?;
        Ok((patients, observations))
    }

    /// Keeps the audit chain's anchor beside the store's key (`audit_anchor.rs`): from now on it
    /// follows the chain's head while the store is open (every [`AUDIT_ANCHOR_REFRESH`]), at
    /// close and after `verify`. Does nothing for a store without a key or without a store id
    /// (`verify` then says no anchor is kept), or when called twice.
    pub async fn keep_audit_anchor(&self, key_source: &KeySource) -> Result<(), StoreError> {
        let Some(store_id) = self.meta("store_id").await? else { return Ok(()) };
        // The id names a file: only a well-formed UUID may.
        if uuid::Uuid::parse_str(&store_id).is_err() {
            return Err(StoreError::Corrupt {
                what: "store_id",
                problem: format!("'{store_id}' is not a UUID"),
            });
        }
        let place = AnchorPlace::beside(key_source, &store_id);
        if let Some(keeper) = self.anchor.keep(place, &store_id) {
            OPEN_ANCHORS.lock().unwrap_or_else(|e| e.into_inner()).push((keeper.clone(), self.pool.clone()));
            audit_anchor::spawn_refresh(keeper, self.pool.clone());
        }
        Ok(())
    }

    /// Closes every connection, checkpointing the WAL, after moving the audit anchor to the
    /// chain's head and writing the counts of coalesced reads.
    pub async fn close(self) {
        if let Some(keeper) = self.anchor.keeper() {
            if !self.pool.is_closed() {
                if let Err(e) = keeper.advance(&self.pool).await {
                    tracing::warn!(error = %e, "the audit anchor could not be moved at close");
                }
            }
        }
        self.pool.close().await;
        self.spool.close().await;
    }

    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

/// Turns SQLCipher's memory security on for this process, once, before any connection is keyed.
///
/// Makes the process's first SQLite connection alone, and makes every other open wait for it.
///
/// SQLite runs SQLCipher's initialisation (`SQLITE_EXTRA_INIT=sqlcipher_extra_init`) at the end
/// of `sqlite3_initialize`, *after* it has marked the library initialised and released its
/// mutexes (`sqlite3.c`, `sqlite3_initialize`). A second thread that opens a database in that
/// window sees an initialised SQLite, keys its connection, and SQLCipher refuses the key:
/// "sqlcipherCodecAttach: sqlcipher not initialized", surfacing as "An error occurred with
/// PRAGMA key or rekey". Tests that open stores on parallel threads hit it (CI, stop 21), and so
/// could the window, whose monitor and commands open connections at once. Every SQLite open in
/// this crate (stores, the audit spool) awaits this first; code opening SQLite on its own (the
/// integration tests' raw connections) must too.
///
/// The same first connection switches on `cipher_memory_security` when [`MEMORY_SECURITY`]
/// is set: that makes SQLCipher lock its allocations in RAM (no swap) and overwrite every
/// allocation it frees, so page plaintext and key material do not linger in freed memory.
/// SQLCipher 4.5 turned it off by default; its API documentation says it must be set before
/// the database is keyed (<https://www.zetetic.net/sqlcipher/sqlcipher-api/#cipher_memory_security>).
/// sqlx always runs `PRAGMA key` first on a connection, so the pragma runs here on a plain
/// in-memory connection: the setting is process-wide (a global in SQLCipher, which can only be
/// switched on), and every store and spool connection then repeats it ([`keyed`]).
///
/// # Errors
/// When SQLite cannot open an in-memory database, or SQLCipher refuses the pragma.
pub async fn sqlite_ready() -> Result<(), sqlx::Error> {
    static READY: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    READY
        .get_or_try_init(|| async {
            let options = SqliteConnectOptions::from_str("sqlite::memory:")?.disable_statement_logging();
            let mut conn = SqliteConnection::connect_with(&options).await?;
            // Returns once `sqlite3_open_v2` has, and with it `sqlcipher_extra_init`.
            let _version: Option<String> =
                sqlx::query_scalar("PRAGMA cipher_version").fetch_optional(&mut conn).await?;
            if MEMORY_SECURITY {
                sqlx::query("PRAGMA cipher_memory_security = ON").execute(&mut conn).await?;
            }
            conn.close().await
        })
        .await?;
    Ok(())
}

/// Whether SQLCipher's memory security is switched on. Off for now: with it on, SQLCipher's
/// exit handler (`sqlcipher_atexit`) scrubs its allocations while a connection that sqlx is
/// still closing on its worker thread frees the same codec context, and the process dies with
/// SIGSEGV at exit (seen in `tests/analysis_store.rs`, about 1 run in 8, core dump:
/// `sqlcipher_extra_shutdown` against `sqlite3FreeCodecArg`). Every process must first wait for
/// its connections to finish closing (issue 12's note).
const MEMORY_SECURITY: bool = false;

/// `options` keyed with `key`, with SQLCipher's memory security on when [`MEMORY_SECURITY`] is.
pub(crate) fn keyed(options: SqliteConnectOptions, key: &StoreKey) -> SqliteConnectOptions {
    let options = if MEMORY_SECURITY { options.pragma("cipher_memory_security", "ON") } else { options };
    options.pragma("key", key.pragma_value())
}

/// Pool settings shared by the store and its audit spool. A connection that comes back still
/// inside a transaction is closed, not reused: when a COMMIT fails on a full disk SQLite has
/// already rolled back, sqlx's own ROLLBACK then fails, and the connection would refuse every
/// later `BEGIN` ("non-zero transaction depth") after the disk has room again.
pub(crate) fn pool_options(max: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new().max_connections(max).after_release(|conn, _| {
        Box::pin(async move {
            // The ping runs after any rollback queued by a dropped transaction.
            conn.ping().await?;
            Ok(!conn.is_in_transaction())
        })
    })
}

/// SQLITE_BUSY (5): another connection holds the lock past the busy timeout.
fn is_busy(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("5"))
}

fn is_not_a_database(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => {
            db.code().as_deref() == Some("26") || db.message().contains("file is not a database")
        }
        _ => false,
    }
}

/// A new UUIDv7. The store owns id generation because v7 ids read the clock.
pub(crate) fn new_uuid() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

#[cfg(test)]
mod trust_tests;

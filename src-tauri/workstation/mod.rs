//! The one public facade. The CLI and the desktop window call these methods and nothing below
//! them; each method that reads or changes patient data writes its audit event in the same
//! transaction (ARCHITECTURE.md, invariant 6).

pub mod access;
mod alerts;
mod analysis;
mod audit_trail;
mod consent;
mod demo;
mod device_feed;
mod devices;
pub mod disk;
mod error;
mod export_file;
mod identity;
mod import;
mod models;
mod monitor;
mod patient_edit;
mod purpose;
mod settings;
mod users;
pub mod views;
mod vitals;

use crate::domain::access::Operation;
use std::path::{Path, PathBuf};

use chrono::Utc;
use serde::Serialize;

pub use access::{Clock, Secret, SessionInfo, UserSummary};
pub use alerts::{AssessOptions, MonitorOptions, MonitorReport, ReviewOutcome};
pub use analysis::{LatestNews2, News2Context, UsedValue, WeightMeasurement, WeightOutcome};
pub use audit_trail::{AuditExportReport, AuditSelection};
pub use consent::ConsentChange;
pub use demo::{DEMO_PASSWORD, DemoReport};
pub use device_feed::{
    DeviceFeed, FlushReport, LinkState, LiveDevice, health_session, run as run_device_feed, spawn_link,
};
pub use devices::{BatchOutcome, DeviceBatch};
pub use error::Error;
pub use export_file::ExportReceipt;
pub use import::{CancelToken, ImportOptions, ImportProgress, ImportReport};
pub use models::{InstallReport, ModelRuntime, PackageState, PackageVersion, PackagesView, Rollout};
pub use monitor::{Monitor, MonitorConfig, MonitorPass, RaisedAlert};
pub use patient_edit::PatientEdit;
pub use purpose::StorePurpose;
pub use settings::{SETTINGS, SettingSpec, SettingValue};
pub use vitals::{SpotVitals, VitalsEntry};

use crate::domain::{
    Device, NewDevice, NewObservation, NewPatient, Observation, Patient, PatientRef, SourceKind,
};
use crate::export::ExportFormat;
use crate::store::{
    AuditEvent, AuditVerification, Encryption, InsertReport, KeySource, ObservationQuery, Store, StoreError,
};

/// The database file's name inside the data directory.
pub const STORE_FILE: &str = "vigil.db";

/// How to open a workstation.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// The data directory (store, logs).
    pub data_dir: PathBuf,
    /// Where the key is; `None` means `VIGIL_KEY_FILE` or else the OS keyring.
    pub key_source: Option<KeySource>,
    /// Create the store (and its key) when there is none. Only `vigil init`, `vigil demo` and
    /// the desktop's first run do; every other verb refuses to open a store that is not there.
    pub create: bool,
    /// The purpose a store created now is given (`purpose.rs`). An existing store keeps the
    /// purpose it was made with, whatever this says.
    pub purpose: StorePurpose,
}

impl OpenOptions {
    /// Open an existing store in `data_dir`.
    pub fn existing(data_dir: impl Into<PathBuf>) -> Self {
        Self { data_dir: data_dir.into(), key_source: None, create: false, purpose: StorePurpose::Clinical }
    }

    /// Open the store in `data_dir`, creating a clinical one when absent.
    pub fn create(data_dir: impl Into<PathBuf>) -> Self {
        Self { data_dir: data_dir.into(), key_source: None, create: true, purpose: StorePurpose::Clinical }
    }

    /// Open the store in `data_dir`, creating a demo one when absent (`vigil demo`).
    pub fn demo(data_dir: impl Into<PathBuf>) -> Self {
        Self { data_dir: data_dir.into(), key_source: None, create: true, purpose: StorePurpose::Demo }
    }
}

/// The store's state, as the first window and `vigil status` show it. (The `specta(type)`
/// attributes only shape the generated TypeScript: integers travel as JSON numbers, exact below
/// 2^53, which these counts never reach.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "desktop", derive(specta::Type))]
pub struct StoreStatus {
    /// The data directory.
    pub data_dir: String,
    /// The database file.
    pub store_path: String,
    /// The highest applied schema migration.
    #[cfg_attr(feature = "desktop", specta(type = u32))]
    pub schema_version: i64,
    /// SQLCipher encryption on.
    pub encrypted: bool,
    /// Where the key is kept (no key material).
    pub key_source: String,
    /// Number of patients.
    #[cfg_attr(feature = "desktop", specta(type = u32))]
    pub patients: i64,
    /// Number of observations.
    #[cfg_attr(feature = "desktop", specta(type = u32))]
    pub observations: i64,
    /// The store holds synthetic demo data.
    pub demo: bool,
    /// What the store is for, fixed when it was made.
    pub purpose: StorePurpose,
    /// Database and WAL size in bytes.
    #[cfg_attr(feature = "desktop", specta(type = u32))]
    pub size_bytes: u64,
    /// This store's id (the workstation's identity towards the clinic server).
    pub store_id: String,
    /// The application's version.
    pub app_version: String,
}

/// An open workstation: the store plus who is acting. Clones share the session (the window's
/// commands all act as whoever is signed in).
#[derive(Debug, Clone)]
pub struct Workstation {
    pub(crate) store: Store,
    data_dir: PathBuf,
    key_source: KeySource,
    /// Who is signed in (`access.rs`).
    session: std::sync::Arc<std::sync::Mutex<access::SessionState>>,
    /// Minutes of inactivity that lock the session (the `idle_lock_minutes` setting).
    idle_minutes: std::sync::Arc<std::sync::atomic::AtomicI64>,
    /// Every authorized call counts as activity (the command line); the window instead reports
    /// the person's input with [`Workstation::touch`], so its timers never keep a session open.
    activity_from_calls: bool,
    /// Time for sessions, lockout and grants.
    clock: Clock,
    /// The model rollouts, loaded on first use (`models.rs`).
    models: tokio::sync::OnceCell<std::sync::Arc<ModelRuntime>>,
}

impl Workstation {
    /// The operating system's data directory for Vigil (e.g. `~/.local/share/vigil` on Linux).
    pub fn default_data_dir() -> PathBuf {
        directories::ProjectDirs::from("org", "Vigil", "vigil")
            .map(|dirs| dirs.data_dir().to_owned())
            .unwrap_or_else(|| PathBuf::from("vigil-data"))
    }

    /// Opens (and with `create`, first creates) the store. A store that exists is never
    /// replaced: a missing or wrong key is an error that names the store and the key's place.
    pub async fn open(options: OpenOptions) -> Result<Self, Error> {
        let path = options.data_dir.join(STORE_FILE);
        let key_source = options.key_source.unwrap_or_else(|| KeySource::from_env(&path));
        let actor = "system:vigil".to_owned();
        let store = if path.exists() {
            let key = load_key(key_source.clone()).await?.ok_or_else(|| StoreError::KeyMissing {
                path: path.clone(),
                key_source: key_source.to_string(),
            })?;
            Store::open(&path, Encryption::Key(key), &key_source.to_string()).await?
        } else if options.create {
            let key = match load_key(key_source.clone()).await? {
                // IT may provision the key before the first start.
                Some(key) => key,
                None => {
                    let key = crate::store::StoreKey::generate().map_err(StoreError::from)?;
                    save_key(key_source.clone(), key.clone()).await?;
                    key
                }
            };
            let store = Store::create(&path, Encryption::Key(key)).await?;
            let mut tx = store.begin().await?;
            Store::set_meta(&mut tx, "store_id", &crate::store::new_uuid().to_string()).await?;
            Store::set_meta(&mut tx, "created_at", &Utc::now().to_rfc3339()).await?;
            Store::set_meta(&mut tx, purpose::PURPOSE_KEY, options.purpose.as_str()).await?;
            let event = AuditEvent {
                actor: actor.clone(),
                action: "store.create",
                patient: None,
                detail: serde_json::json!({ "purpose": options.purpose.as_str() }),
            };
            crate::store::audit_record(&mut tx, &event, Utc::now()).await?;
            tx.commit().await.map_err(StoreError::from)?;
            tracing::info!(path = %path.display(), "created a new encrypted store");
            store
        } else {
            return Err(StoreError::NotFound(path).into());
        };
        // The audit chain's head, kept beside the key (store/audit_anchor.rs).
        if let Err(e) = store.keep_audit_anchor(&key_source).await {
            tracing::warn!(error = %e, "the audit anchor is not kept for this store");
        }
        Ok(Self {
            store,
            data_dir: options.data_dir,
            key_source,
            session: std::sync::Arc::default(),
            idle_minutes: std::sync::Arc::new(std::sync::atomic::AtomicI64::new(
                crate::domain::access::DEFAULT_IDLE_MINUTES,
            )),
            activity_from_calls: true,
            clock: Clock::system(),
            models: tokio::sync::OnceCell::new(),
        })
    }

    /// For the window: only the person's input (`touch`) counts as activity, not its calls.
    pub fn idle_by_input(mut self) -> Self {
        self.activity_from_calls = false;
        self
    }

    /// Reads time from `clock` (tests of lockout and idle time).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The underlying store, for the crate's own unit tests only: everything a user reaches
    /// goes through the facade's audited methods.
    #[cfg(test)]
    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The newest chained audit events, newest first: (at, actor, action, patient). Reading
    /// the trail is itself audited (`audit.read`).
    pub async fn recent_audit(
        &self,
        limit: i64,
    ) -> Result<Vec<(chrono::DateTime<Utc>, String, String, Option<crate::domain::PatientId>)>, Error> {
        self.authorize(Operation::AuditRead).await?;
        let events = self.store.recent_audit(limit).await?;
        self.audit_read_id("audit.read", None, serde_json::json!({ "rows": events.len() })).await;
        Ok(events)
    }

    /// Outbox messages not yet sent to the clinic server, oldest first. They carry patient
    /// data: audited (`outbox.read`).
    pub async fn pending_outbox(&self, limit: i64) -> Result<Vec<crate::store::OutboxMessage>, Error> {
        self.authorize(Operation::OutboxRead).await?;
        let messages = self.store.pending_outbox(limit).await?;
        self.audit_read_id("outbox.read", None, serde_json::json!({ "rows": messages.len() })).await;
        Ok(messages)
    }

    /// SQLite's integrity check of the store file (no patient data).
    pub async fn integrity_check(&self) -> Result<(), Error> {
        self.authorize(Operation::IntegrityCheck).await?;
        Ok(self.store.integrity_check().await?)
    }

    /// Who is acting, as the audit trail names them (`user:NAME`, `service:NAME`,
    /// `system:monitor`, or `anonymous`).
    pub fn actor(&self) -> String {
        self.actor_name()
    }

    /// The store's state. Counts only: no patient data, so not audited.
    pub async fn status(&self) -> Result<StoreStatus, Error> {
        self.authorize(Operation::Status).await?;
        let (patients, observations) = self.store.counts().await?;
        Ok(StoreStatus {
            data_dir: self.data_dir.display().to_string(),
            store_path: self.store.path().display().to_string(),
            schema_version: self.store.schema_version().await?,
            encrypted: self.store.encrypted(),
            key_source: self.key_source.to_string(),
            patients,
            observations,
            demo: self.store.meta("demo").await?.as_deref() == Some("true"),
            purpose: self.purpose().await?,
            size_bytes: self.store.size_bytes(),
            store_id: self.store.meta("store_id").await?.unwrap_or_default(),
            app_version: env!("CARGO_PKG_VERSION").to_owned(),
        })
    }

    /// Registers a patient.
    pub async fn add_patient(&self, new: NewPatient) -> Result<Patient, Error> {
        self.authorize(Operation::PatientCreate).await?;
        let now = Utc::now();
        let mut tx = self.store.begin().await?;
        let patient = crate::store::insert_patient(&mut tx, &new, &self.actor_name(), now).await?;
        self.audit(&mut tx, "patient.create", Some(&patient), serde_json::json!({})).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(patient)
    }

    /// Registers a device, optionally assigned to a patient.
    pub async fn add_device(&self, new: NewDevice) -> Result<Device, Error> {
        self.authorize(Operation::DeviceAdd).await?;
        let new = new.validated()?;
        let now = Utc::now();
        let mut tx = self.store.begin().await?;
        let device = crate::store::insert_device(&mut tx, &new, now).await?;
        let detail = serde_json::json!({ "device_id": device.id, "kind": device.kind.as_str() });
        self.audit_id(&mut tx, "device.create", device.patient_id, detail).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(device)
    }

    /// Every registered device. Audited: a device names the patient it is assigned to.
    pub async fn devices(&self) -> Result<Vec<Device>, Error> {
        self.authorize(Operation::DevicesRead).await?;
        let devices = crate::store::list_devices(self.store.pool()).await?;
        self.audit_read_id("device.list", None, serde_json::json!({ "count": devices.len() })).await;
        Ok(devices)
    }

    /// Every patient, by name.
    pub async fn patients(&self) -> Result<Vec<Patient>, Error> {
        self.authorize(Operation::PatientList).await?;
        let mut tx = self.store.begin_read().await?;
        let patients = crate::store::list_patients(&mut *tx).await?;
        self.audit_read("patient.list", None, serde_json::json!({ "count": patients.len() })).await;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(patients)
    }

    /// One patient, by id or MRN.
    pub async fn patient(&self, reference: &PatientRef) -> Result<Patient, Error> {
        let principal = self.authorize(Operation::PatientRead).await?;
        let mut tx = self.store.begin_read().await?;
        let patient = self.open_patient(&principal, &mut tx, reference).await?;
        self.audit_read("patient.read", Some(&patient), serde_json::json!({})).await;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(patient)
    }

    /// A patient's observations in time order.
    pub async fn observations(
        &self,
        reference: &PatientRef,
        query: &ObservationQuery,
    ) -> Result<(Patient, Vec<Observation>), Error> {
        let principal = self.authorize(Operation::PatientRead).await?;
        let mut tx = self.store.begin_read().await?;
        let patient = self.open_patient(&principal, &mut tx, reference).await?;
        let observations = crate::store::query_observations(&mut *tx, patient.id, query).await?;
        let detail = serde_json::json!({
            "kinds": query.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            "rows": observations.len(),
        });
        self.audit_read("observations.read", Some(&patient), detail).await;
        tx.commit().await.map_err(StoreError::from)?;
        Ok((patient, observations))
    }

    /// Stores readings from one source in one transaction: all of them or, on error, none.
    /// Readings already stored are counted as duplicates and left alone.
    pub async fn record_observations(
        &self,
        source: &SourceKind,
        batch: &[NewObservation],
    ) -> Result<InsertReport, Error> {
        self.authorize(Operation::ObservationsRecord).await?;
        if matches!(source, SourceKind::Clinic { .. }) {
            // Those rows skip the outbox: only sync may store them.
            return Err(crate::domain::InvalidField::new(
                "source",
                "readings from the clinic arrive by sync only",
            )
            .into());
        }
        let bounds = self.time_bounds().await?;
        for (i, o) in batch.iter().enumerate() {
            // Births are checked by the import, which reads each patient; here the clock bounds.
            bounds.check(o.effective, None).map_err(|problem| {
                crate::domain::InvalidField::new("time", format!("reading {} ({}): {problem}", i + 1, o.kind))
            })?;
        }
        let now = Utc::now();
        let mut tx = self.store.begin().await?;
        let report = crate::store::insert_observations(&mut tx, source, batch, now).await?;
        let patients: std::collections::BTreeSet<_> = batch.iter().map(|o| o.patient_id).collect();
        for patient in patients {
            let detail = serde_json::json!({
                "source": source_tag(source),
                "inserted": report.inserted,
                "duplicates": report.duplicates,
            });
            self.audit_id(&mut tx, "observations.record", Some(patient), detail).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(report)
    }

    /// A patient's record as CSV (the long import shape) or a FHIR R4 Bundle, for the caller to
    /// print on standard output: audited with the destination `stdout` and the text's SHA-256.
    /// To write a file, use [`Workstation::export_to`] (`export_file.rs`).
    pub async fn export(&self, reference: &PatientRef, format: ExportFormat) -> Result<String, Error> {
        self.authorize(Operation::Export).await?;
        let (patient, text, rows) = self.read_for_export(reference, format).await?;
        let receipt = export_file::receipt("stdout".to_owned(), text.as_bytes(), rows);
        self.audit_read("patient.export", Some(&patient), export_file::detail(format, &receipt)).await;
        Ok(text)
    }

    /// A label for every source (file name, device, `manual`, `demo`). Provenance, not
    /// patient data.
    pub async fn source_labels(
        &self,
    ) -> Result<std::collections::HashMap<crate::domain::SourceId, String>, Error> {
        self.authorize(Operation::PatientList).await?;
        Ok(crate::store::source_labels(self.store.pool()).await?)
    }

    /// Checks the audit trail's hash chain, then its anchor outside the data directory (an older
    /// copy of the store or a deleted tail fails), and moves the anchor to the head when both hold.
    pub async fn verify_audit(&self) -> Result<AuditVerification, Error> {
        self.authorize(Operation::AuditVerify).await?;
        // The clinic server's word on the last head it acknowledged, when it answers: a copy of
        // the store put back carries its own, older record (`sync/mod.rs`).
        self.refresh_server_audit_head().await;
        Ok(self.store.verify_audit().await?)
    }

    /// Closes the store cleanly.
    pub async fn close(self) {
        self.store.close().await;
    }

    /// Records a read's audit event through the spool (`store/audit_spool.rs`): durable before
    /// the data is returned, and without the write lock, so a writer never delays a read. It
    /// never fails the read: an event the spool cannot take (a full disk) waits in memory, and
    /// [`Workstation::audit_events_waiting`] says how many do.
    async fn audit_read(&self, action: &'static str, patient: Option<&Patient>, detail: serde_json::Value) {
        self.audit_read_id(action, patient.map(|p| p.id), detail).await;
    }

    async fn audit_read_id(
        &self,
        action: &'static str,
        patient: Option<crate::domain::PatientId>,
        detail: serde_json::Value,
    ) {
        let event = AuditEvent { actor: self.actor_name(), action, patient, detail };
        self.store.spool_audit(&event, Utc::now()).await;
    }

    /// Audit events of reads that this process could not write yet (the disk is full) and holds
    /// in memory; they are written with the next read or write that succeeds.
    pub fn audit_events_waiting(&self) -> usize {
        self.store.audit_events_waiting()
    }

    async fn audit(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        action: &'static str,
        patient: Option<&Patient>,
        detail: serde_json::Value,
    ) -> Result<(), Error> {
        self.audit_id(tx, action, patient.map(|p| p.id), detail).await
    }

    async fn audit_id(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        action: &'static str,
        patient: Option<crate::domain::PatientId>,
        detail: serde_json::Value,
    ) -> Result<(), Error> {
        let event = AuditEvent { actor: self.actor_name(), action, patient, detail };
        crate::store::audit_record(tx, &event, Utc::now()).await?;
        Ok(())
    }
}

pub(crate) async fn find(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    reference: &PatientRef,
) -> Result<Patient, Error> {
    crate::store::find_patient(&mut **tx, reference)
        .await?
        .ok_or_else(|| Error::PatientNotFound(reference.clone()))
}

fn source_tag(source: &SourceKind) -> &'static str {
    match source {
        SourceKind::File { .. } => "file",
        SourceKind::Device { .. } => "device",
        SourceKind::Manual => "manual",
        SourceKind::Demo => "demo",
        SourceKind::Clinic { .. } => "clinic",
    }
}

/// The keyring talks D-Bus synchronously: keep it off the async workers.
async fn load_key(source: KeySource) -> Result<Option<crate::store::StoreKey>, Error> {
    tokio::task::spawn_blocking(move || source.load())
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
        .map_err(|e| StoreError::from(e).into())
}

async fn save_key(source: KeySource, key: crate::store::StoreKey) -> Result<(), Error> {
    tokio::task::spawn_blocking(move || source.save_new(&key))
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
        .map_err(|e| StoreError::from(e).into())
}

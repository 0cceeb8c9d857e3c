//! The workstation's side of sync with the clinic server (issue 14; the protocol is
//! `vigil_protocol::wire`, one page of it in ARCHITECTURE.md "Sync").
//!
//! - `enroll`: a one-time code from IT pins the server's certificate; the workstation makes an
//!   Ed25519 key pair, registers the public half, and starts from where the server says its
//!   outbox stands (a re-enrolled or restored workstation re-sends nothing it already has).
//! - `now`: push the outbox from the acknowledged position, in batches of at most
//!   `MAX_ROWS_PER_REQUEST` rows, each acknowledged before the next; then pull pages after the
//!   cursor, each applied with its cursor in one transaction. A cut anywhere resumes from the
//!   last acknowledgement and the last saved cursor.

pub mod link;

use std::time::Duration;

use serde::Serialize;
use sqlx::Row as _;
use uuid::Uuid;
use vigil_protocol::wire::enroll::{EnrollCode, EnrollRequest, Enrolled};
use vigil_protocol::wire::pull::PullPage;
use vigil_protocol::wire::push::{AuditHead, Position, PushAck, PushBatch};
use vigil_protocol::wire::sign::DeviceKey;
use vigil_protocol::wire::{MAX_ROWS_PER_REQUEST, paths};

pub use link::LinkError;
use link::{Link, Signer};

use crate::domain::access::Operation;
use crate::store::{AuditEvent, PullReport, SyncEnrolment, SyncState};
use crate::workstation::{Error, Workstation};

/// How long one request may take (a push of 20 000 rows on a slow link included).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Outbox messages per push, at most.
const MESSAGES_PER_PUSH: usize = 2_000;

/// What `vigil sync enroll` did.
#[derive(Debug, Clone, Serialize)]
pub struct EnrollOutcome {
    /// The server.
    pub server: String,
    /// The clinic joined.
    pub clinic_id: Uuid,
    /// Its name.
    pub clinic_name: String,
    /// This workstation's id.
    pub workstation_id: Uuid,
    /// Where the server's acknowledgement of this outbox stands.
    pub acknowledged: Position,
}

/// What one sync pass did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// Push requests sent.
    pub pushes: u64,
    /// Outbox messages (or parts of them) the server acknowledged.
    pub pushed_items: u64,
    /// Observation rows sent.
    pub pushed_rows: u64,
    /// Of those, rows new to the clinic.
    pub inserted: u64,
    /// Rows the clinic already held.
    pub duplicates: u64,
    /// Where the acknowledgement stands now.
    pub acknowledged: Position,
    /// Pull pages applied.
    pub pages: u64,
    /// What the pull stored.
    pub pulled: PullReport,
    /// The pull cursor now.
    pub cursor: i64,
    /// Outbox messages still waiting.
    pub pending: u64,
}

/// `vigil sync status`.
#[derive(Debug, Clone, Serialize)]
pub struct SyncStatus {
    /// Whether this workstation is enrolled.
    pub enrolled: bool,
    /// The server, when enrolled.
    pub server: Option<String>,
    /// The clinic.
    pub clinic_id: Option<Uuid>,
    /// Its name.
    pub clinic_name: Option<String>,
    /// The pinned certificate's SHA-256.
    pub fingerprint: Option<String>,
    /// The last complete push and pull.
    pub last_success: Option<chrono::DateTime<chrono::Utc>>,
    /// The last attempt.
    pub last_attempt: Option<chrono::DateTime<chrono::Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Outbox messages not yet acknowledged.
    pub pending: u64,
    /// The acknowledged outbox position.
    pub acknowledged: Position,
    /// The pull cursor.
    pub cursor: i64,
    /// Pulled changes kept for review (same field edited on two workstations).
    pub conflicts: u64,
}

/// A pulled change kept for review: both values, neither dropped.
#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    /// `patient`.
    pub entity: String,
    /// Which one.
    pub entity_id: Uuid,
    /// The field.
    pub field: String,
    /// The value here.
    pub local: Option<String>,
    /// The value from the clinic.
    pub remote: Option<String>,
}

fn sync_error(message: impl Into<String>) -> Error {
    Error::Sync(message.into())
}

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "workstation".into())
}

impl Workstation {
    async fn workstation_id(&self) -> Result<Uuid, Error> {
        let id = self.store.meta("store_id").await?.unwrap_or_default();
        Uuid::parse_str(&id).map_err(|_| sync_error(format!("this store's id '{id}' is not a UUID")))
    }

    /// Enrols this workstation with the clinic server at `server` using IT's one-time `code`.
    pub async fn sync_enroll(&self, server: &str, code: &str) -> Result<EnrollOutcome, Error> {
        let principal = self.authorize(Operation::SyncEnroll).await?;
        let code: EnrollCode =
            code.parse().map_err(|e: vigil_protocol::wire::enroll::BadCode| sync_error(e.to_string()))?;
        let workstation = self.workstation_id().await?;
        let (pkcs8, key) =
            DeviceKey::generate(&ring::rand::SystemRandom::new()).map_err(|e| sync_error(e.to_string()))?;
        let link = Link::new(server, code.fingerprint, REQUEST_TIMEOUT)?;
        let request = EnrollRequest {
            secret: hex::encode(code.secret),
            public_key: key.public_key_hex(),
            workstation_id: workstation,
            name: host_name(),
            app_version: env!("CARGO_PKG_VERSION").into(),
        };
        let body = serde_json::to_vec(&request).map_err(|e| Error::Internal(e.to_string()))?;
        let enrolled: Enrolled = link.post_unsigned(paths::ENROLL, body).await?;
        let fingerprint = hex::encode(code.fingerprint);
        let now = chrono::Utc::now();
        let mut tx = self.store.begin().await?;
        let enrolment = SyncEnrolment {
            server_url: server.trim_end_matches('/'),
            fingerprint: &fingerprint,
            clinic_id: enrolled.clinic_id,
            clinic_name: &enrolled.clinic_name,
            device_key: &pkcs8,
        };
        self.store.save_enrolment(&mut tx, &enrolment, now).await?;
        let event = AuditEvent {
            actor: principal.actor(),
            action: "sync.enroll",
            patient: None,
            detail: serde_json::json!({ "server": enrolment.server_url, "clinic": enrolled.clinic_id, "fingerprint": fingerprint }),
        };
        crate::store::audit_record(&mut tx, &event, now).await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        let signer = Signer { clinic: enrolled.clinic_id, workstation, key };
        let ack: PushAck = link.get(&signer, paths::POSITION).await?;
        self.store.acknowledge(ack.acknowledged, ack.audit_head.as_ref()).await?;
        tracing::info!(clinic = %enrolled.clinic_id, "enrolled with the clinic server");
        Ok(EnrollOutcome {
            server: enrolment.server_url.to_owned(),
            clinic_id: enrolled.clinic_id,
            clinic_name: enrolled.clinic_name,
            workstation_id: workstation,
            acknowledged: ack.acknowledged,
        })
    }

    /// Pushes the outbox, then pulls the clinic's changes (module docs).
    pub async fn sync_now(&self) -> Result<SyncReport, Error> {
        let principal = self.authorize(Operation::SyncRun).await?;
        self.sync_pass(&principal.actor()).await
    }

    /// One pass on behalf of `actor` (the window's background sync names itself).
    pub(crate) async fn sync_pass(&self, actor: &str) -> Result<SyncReport, Error> {
        let Some(state) = self.store.sync_state().await? else {
            return Err(sync_error(
                "this workstation is not enrolled: `vigil sync enroll --server URL --code CODE`",
            ));
        };
        let outcome = self.push_and_pull(&state, actor).await;
        let error = outcome.as_ref().err().map(ToString::to_string);
        self.store.record_sync_attempt(error.as_deref()).await?;
        outcome
    }

    async fn push_and_pull(&self, state: &SyncState, actor: &str) -> Result<SyncReport, Error> {
        let mut fingerprint = [0u8; 32];
        hex::decode_to_slice(&state.fingerprint, &mut fingerprint)
            .map_err(|_| sync_error("the pinned fingerprint is not SHA-256 hex"))?;
        let link = Link::new(&state.server_url, fingerprint, REQUEST_TIMEOUT)?;
        let key = DeviceKey::from_pkcs8(&state.device_key).map_err(|e| sync_error(e.to_string()))?;
        let signer = Signer { clinic: state.clinic_id, workstation: self.workstation_id().await?, key };
        let mut report = SyncReport {
            acknowledged: state.acknowledged,
            cursor: state.pull_cursor,
            ..SyncReport::default()
        };
        self.push(&link, &signer, &mut report).await?;
        self.pull(&link, &signer, actor, &mut report).await?;
        report.pending = self.store.outbox_pending_count().await?;
        Ok(report)
    }

    async fn push(&self, link: &Link, signer: &Signer, report: &mut SyncReport) -> Result<(), Error> {
        // Start where the server stands, not where this store last heard it stood: after the
        // server's database was restored from a backup it is behind, and this pass re-sends
        // what it lost; after a lost answer it is ahead, and nothing is sent twice.
        let server: PushAck = link.get(signer, paths::POSITION).await?;
        if server.acknowledged != report.acknowledged {
            tracing::info!(
                server = ?server.acknowledged,
                here = ?report.acknowledged,
                "the server's acknowledgement differs from the one recorded here; following the server"
            );
            self.store.acknowledge(server.acknowledged, server.audit_head.as_ref()).await?;
            report.acknowledged = server.acknowledged;
        }
        let mut conflicts = 0;
        // The next batch is read and cut while the server applies this one: the two sides
        // overlap instead of taking turns (measured by scripts/bench-sync.sh).
        let mut next: Option<(Vec<vigil_protocol::wire::push::PushItem>, u64)> = None;
        loop {
            let (items, pending) = match next.take() {
                Some(prepared) => prepared,
                None => {
                    self.store
                        .push_items(report.acknowledged, MAX_ROWS_PER_REQUEST, MESSAGES_PER_PUSH)
                        .await?
                }
            };
            if items.is_empty() {
                return Ok(());
            }
            let batch = PushBatch {
                after: report.acknowledged,
                items,
                app_version: env!("CARGO_PKG_VERSION").into(),
                models: self.active_model_versions().await,
                audit_head: self.audit_head().await?,
                pending,
            };
            let (rows, count, upto) = (batch.rows() as u64, batch.items.len() as u64, batch.upto());
            let body = serde_json::to_vec(&batch).map_err(|e| Error::Internal(e.to_string()))?;
            report.pushes += 1;
            let (sent, prepared) = tokio::join!(
                link.post::<PushAck>(signer, paths::PUSH, body),
                self.store.push_items(upto, MAX_ROWS_PER_REQUEST, MESSAGES_PER_PUSH)
            );
            let ack = match sent {
                Ok(ack) => {
                    report.pushed_items += count;
                    report.pushed_rows += rows;
                    report.inserted += ack.inserted;
                    report.duplicates += ack.duplicates;
                    ack
                }
                // Not where the server stands (an acknowledgement lost on the way, a server
                // restored from a backup): continue from the server's position.
                Err(LinkError::Refused { status: 409, message }) => {
                    conflicts += 1;
                    if conflicts > 3 {
                        return Err(sync_error("the server keeps refusing the push position; see its log"));
                    }
                    serde_json::from_str(&message)
                        .map_err(|e| sync_error(format!("a 409 without a position: {e}")))?
                }
                Err(e) => return Err(e.into()),
            };
            self.store.acknowledge(ack.acknowledged, ack.audit_head.as_ref()).await?;
            report.acknowledged = ack.acknowledged;
            if ack.acknowledged == upto {
                next = Some(prepared?);
            }
        }
    }

    async fn pull(
        &self,
        link: &Link,
        signer: &Signer,
        actor: &str,
        report: &mut SyncReport,
    ) -> Result<(), Error> {
        loop {
            let query = format!("{}?after={}&limit={MAX_ROWS_PER_REQUEST}", paths::PULL, report.cursor);
            let page: PullPage = link.get(signer, &query).await?;
            if page.cursor < report.cursor {
                return Err(sync_error(format!(
                    "the server's clinic version {} is behind this workstation's cursor {}: was its database restored? Ask IT",
                    page.cursor, report.cursor
                )));
            }
            let applied = self.store.apply_pull_page(&page, actor).await?;
            report.pulled.add(applied);
            report.pages += 1;
            report.cursor = page.cursor;
            if !page.more {
                return Ok(());
            }
        }
    }

    /// Asks the server for the audit head it acknowledged from this workstation and records it,
    /// so `vigil audit verify` checks the chain against the server's record rather than the
    /// store's own (an older copy of the store put back carries an older one). Offline or not
    /// enrolled: nothing changes, and the check uses the last head recorded here.
    pub(crate) async fn refresh_server_audit_head(&self) {
        let Ok(Some(state)) = self.store.sync_state().await else { return };
        let mut fingerprint = [0u8; 32];
        if hex::decode_to_slice(&state.fingerprint, &mut fingerprint).is_err() {
            return;
        }
        let (Ok(link), Ok(key), Ok(workstation)) = (
            Link::new(&state.server_url, fingerprint, Duration::from_secs(5)),
            DeviceKey::from_pkcs8(&state.device_key),
            self.workstation_id().await,
        ) else {
            return;
        };
        let signer = Signer { clinic: state.clinic_id, workstation, key };
        match link.get::<PushAck>(&signer, paths::POSITION).await {
            Ok(ack) => {
                if let Err(e) = self.store.record_server_audit_head(ack.audit_head.as_ref()).await {
                    tracing::warn!(error = %e, "could not record the server's audit head");
                }
            }
            Err(e) => {
                tracing::info!(error = %e, "the clinic server did not answer; the audit head recorded here is used")
            }
        }
    }

    async fn audit_head(&self) -> Result<Option<AuditHead>, Error> {
        let row = sqlx::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
            .fetch_optional(self.store.pool())
            .await
            .map_err(crate::store::StoreError::from)?;
        Ok(row.map(|r| AuditHead { seq: r.get("seq"), hash: hex::encode(r.get::<Vec<u8>, _>("hash")) }))
    }

    async fn active_model_versions(&self) -> std::collections::BTreeMap<String, String> {
        std::collections::BTreeMap::new()
    }

    /// Pulled changes kept for review.
    pub async fn sync_conflicts(&self) -> Result<Vec<Conflict>, Error> {
        self.authorize(Operation::PatientList).await?;
        let rows = crate::store::sync_open_conflicts(self.store.pool()).await?;
        Ok(rows
            .into_iter()
            .map(|(entity, entity_id, field, local, remote)| Conflict {
                entity,
                entity_id,
                field,
                local,
                remote,
            })
            .collect())
    }

    /// `None` when this workstation is not enrolled, else the outbox messages waiting: what
    /// the window's background sync checks every few seconds (counts only, so no role).
    #[cfg(feature = "desktop")]
    pub(crate) async fn sync_pending(&self) -> Result<Option<u64>, Error> {
        if self.store.sync_state().await?.is_none() {
            return Ok(None);
        }
        Ok(Some(self.store.outbox_pending_count().await?))
    }

    /// Where sync stands.
    pub async fn sync_status(&self) -> Result<SyncStatus, Error> {
        self.authorize(Operation::SyncStatus).await?;
        let state = self.store.sync_state().await?;
        let pending = self.store.outbox_pending_count().await?;
        let conflicts = crate::store::sync_open_conflicts(self.store.pool()).await?.len() as u64;
        Ok(SyncStatus {
            enrolled: state.is_some(),
            server: state.as_ref().map(|s| s.server_url.clone()),
            clinic_id: state.as_ref().map(|s| s.clinic_id),
            clinic_name: state.as_ref().map(|s| s.clinic_name.clone()),
            fingerprint: state.as_ref().map(|s| s.fingerprint.clone()),
            last_success: state.as_ref().and_then(|s| s.last_success),
            last_attempt: state.as_ref().and_then(|s| s.last_attempt),
            last_error: state.as_ref().and_then(|s| s.last_error.clone()),
            pending,
            acknowledged: state.as_ref().map_or(Position::START, |s| s.acknowledged),
            cursor: state.as_ref().map_or(0, |s| s.pull_cursor),
            conflicts,
        })
    }
}

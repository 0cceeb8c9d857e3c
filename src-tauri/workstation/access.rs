//! Who is at the keyboard: sign-in, sessions, the idle lock, lockout, and the one choke point
//! every facade method passes, [`Workstation::authorize`], which consults the permission matrix
//! (`domain::access::PERMISSIONS`) and writes `access.denied` when it refuses.
//!
//! Passwords are hashed with Argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane: OWASP
//! Password Storage Cheat Sheet) on a blocking thread. A wrong name and a wrong password get the
//! same answer and cost the same time (a dummy hash), so sign-in does not tell who has an account.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use zeroize::Zeroizing;

use super::{Error, Workstation};
use crate::domain::PatientId;
use crate::domain::access::{self, LockoutPolicy, Operation, Role};
use crate::store::{AuditEvent, StoreError, users};

/// A password or token in memory: wiped when dropped.
pub type Secret = Zeroizing<String>;

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Principal {
    /// The account's id (nil for the window's own monitor).
    pub id: uuid::Uuid,
    /// The account's name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// A service account or the window's own monitor: never idles out.
    pub service: bool,
}

impl Principal {
    /// The audit trail's actor: `user:NAME`, `service:NAME`, or `system:monitor`.
    pub(crate) fn actor(&self) -> String {
        if self.id.is_nil() {
            format!("system:{}", self.name)
        } else if self.service {
            format!("service:{}", self.name)
        } else {
            format!("user:{}", self.name)
        }
    }
}

/// The session's state.
#[derive(Debug, Clone, Default)]
pub(crate) enum SessionState {
    /// Nobody is signed in.
    #[default]
    SignedOut,
    /// Signed in; `last_activity` is the last time the person did something.
    Active { principal: Principal, started: DateTime<Utc>, last_activity: DateTime<Utc> },
    /// Locked (idle or by hand): only the same person's password, or another sign-in, goes on.
    Locked { principal: Principal },
}

impl SessionState {
    /// Whether an active person's session has been idle past `idle` at `now` (services never
    /// idle out).
    fn idle_out(&self, now: DateTime<Utc>, idle: Duration) -> bool {
        matches!(self, SessionState::Active { principal, last_activity, .. }
            if !principal.service && now - *last_activity >= idle)
    }

    /// Locks an active session; returns whom it locked (none when it was not active).
    fn lock_active(&mut self) -> Option<Principal> {
        let SessionState::Active { principal, .. } = self else { return None };
        let principal = principal.clone();
        *self = SessionState::Locked { principal: principal.clone() };
        Some(principal)
    }
}

/// The time source for sessions, lockout and grants (a test holds it still or moves it).
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    /// The wall clock.
    pub fn system() -> Self {
        Clock(Arc::new(Utc::now))
    }

    /// A clock that reads `f`.
    pub fn from_fn(f: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        Clock(Arc::new(f))
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// The session as the window and `vigil whoami` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "desktop", derive(specta::Type))]
pub struct SessionInfo {
    /// The account's name.
    pub user: String,
    /// Its role.
    pub role: Role,
    /// A service account.
    pub service: bool,
    /// Locked: the next step is unlock or switch user.
    pub locked: bool,
    /// When the session began (RFC 3339).
    pub since: String,
    /// Minutes of inactivity after which the session locks (0 for service accounts).
    #[cfg_attr(feature = "desktop", specta(type = u32))]
    pub idle_lock_minutes: i64,
}

/// An account as `vigil user list` shows it (no hash, no token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "desktop", derive(specta::Type))]
pub struct UserSummary {
    /// The name.
    pub name: String,
    /// The role.
    pub role: Role,
    /// A service account.
    pub service: bool,
    /// Disabled.
    pub disabled: bool,
    /// Locked out by wrong passwords until then (RFC 3339).
    pub locked_until: Option<String>,
    /// When it was made (RFC 3339), and by whom.
    pub created_at: String,
    /// Who made it.
    pub created_by: String,
}

/// The OWASP minimum for Argon2id: m = 19 MiB, t = 2, p = 1.
fn argon2() -> Result<argon2::Argon2<'static>, Error> {
    let params = argon2::Params::new(19 * 1024, 2, 1, None).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params))
}

/// Hashes a password into a PHC string, on a blocking thread.
pub(crate) async fn hash_password(password: Secret) -> Result<String, Error> {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let mut salt = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
            .map_err(|_| Error::Internal("no system randomness for a salt".into()))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(argon2()?
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| Error::Internal(e.to_string()))?
            .to_string())
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

/// Checks a password against a PHC string (or, for an unknown user, against a dummy hash so
/// the answer takes as long).
async fn verify_password(password: Secret, hash: Option<String>) -> Result<bool, Error> {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let known = hash.is_some();
        let text = match hash {
            Some(text) => text,
            None => dummy_hash()?,
        };
        let parsed =
            PasswordHash::new(&text).map_err(|e| Error::Internal(format!("stored password hash: {e}")))?;
        let ok = argon2()?.verify_password(password.as_bytes(), &parsed).is_ok();
        Ok(known && ok)
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

/// A hash that no password matches, made once, so that an unknown name costs a sign-in as
/// much time as a known one.
fn dummy_hash() -> Result<String, Error> {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(hash) = DUMMY.get() {
        return Ok(hash.clone());
    }
    use argon2::password_hash::{PasswordHasher, SaltString};
    let salt = SaltString::encode_b64(b"vigil-dummy-salt").map_err(|e| Error::Internal(e.to_string()))?;
    let hash =
        argon2()?.hash_password(b"\0no password\0", &salt).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(DUMMY.get_or_init(|| hash.to_string()).clone())
}

/// A new random token (256 bits), as text.
fn new_token(prefix: &str) -> Result<Secret, Error> {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| Error::Internal("no system randomness for a token".into()))?;
    Ok(Zeroizing::new(format!("{prefix}{}", hex::encode(bytes))))
}

/// The hex SHA-256 of a token: what the store keeps.
pub(crate) fn token_digest(token: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, token.trim().as_bytes()))
}

impl Workstation {
    /// The one choke point: the signed-in principal, if its role may perform `operation` and
    /// its session is live. A refusal is audited (`access.denied`) and explained.
    pub(crate) async fn authorize(&self, operation: Operation) -> Result<Principal, Error> {
        let now = self.clock.now();
        let idle = self.idle_limit();
        let refusal = {
            let mut state = self.session.lock().unwrap_or_else(|e| e.into_inner());
            if state.idle_out(now, idle) {
                Err((state.lock_active(), Error::SessionIdle { minutes: idle.num_minutes() }))
            } else {
                match &mut *state {
                    SessionState::SignedOut => Err((None, Error::NotSignedIn)),
                    SessionState::Locked { principal, .. } => {
                        Err((Some(principal.clone()), Error::SessionLocked))
                    }
                    SessionState::Active { principal, last_activity, .. } => {
                        if !access::allowed(principal.role, operation) {
                            Err((
                                Some(principal.clone()),
                                Error::AccessDenied { role: principal.role, operation },
                            ))
                        } else {
                            if self.activity_from_calls {
                                *last_activity = now;
                            }
                            Ok(principal.clone())
                        }
                    }
                }
            }
        };
        match refusal {
            Ok(principal) => Ok(principal),
            Err((principal, error)) => {
                if let Error::SessionIdle { .. } = error {
                    self.audit_access(
                        "session.lock",
                        principal.as_ref(),
                        serde_json::json!({ "reason": "idle" }),
                    )
                    .await;
                }
                let detail = serde_json::json!({
                    "operation": operation.as_str(),
                    "role": principal.as_ref().map(|p| p.role.as_str()),
                    "why": match &error {
                        Error::AccessDenied { .. } => "role",
                        Error::NotSignedIn => "signed out",
                        _ => "locked",
                    },
                });
                self.audit_access("access.denied", principal.as_ref(), detail).await;
                Err(error)
            }
        }
    }

    /// Refuses a restricted patient's record to whoever has no live break-the-glass grant on it.
    pub(crate) async fn check_restricted(
        &self,
        principal: &Principal,
        executor: &mut sqlx::SqliteConnection,
        patient: PatientId,
    ) -> Result<(), Error> {
        if !self.withheld(principal, executor, patient).await? {
            return Ok(());
        }
        let detail = serde_json::json!({ "operation": "patient.read", "why": "restricted" });
        self.audit_access_patient("access.denied", Some(principal), Some(patient), detail).await;
        Err(Error::Restricted(patient))
    }

    /// Whether `patient`'s record is closed to `principal`: restricted, and no live
    /// break-the-glass grant of theirs on it. Lists show such a patient without their data.
    pub(crate) async fn withheld(
        &self,
        principal: &Principal,
        executor: &mut sqlx::SqliteConnection,
        patient: PatientId,
    ) -> Result<bool, Error> {
        // Services (the monitor, device feeds) assess every patient: restriction is about
        // people opening a record.
        if principal.service || !users::is_restricted(&mut *executor, patient).await? {
            return Ok(false);
        }
        let grant = users::live_grant(&mut *executor, principal.id, patient, self.clock.now()).await?;
        Ok(grant.is_none())
    }

    /// Finds a patient for `principal`: a restricted record needs a live break-the-glass grant.
    pub(crate) async fn open_patient(
        &self,
        principal: &Principal,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        reference: &crate::domain::PatientRef,
    ) -> Result<crate::domain::Patient, Error> {
        let patient = super::find(tx, reference).await?;
        self.check_restricted(principal, tx, patient.id).await?;
        Ok(patient)
    }

    /// The audit actor: the signed-in principal, or `anonymous`.
    pub(crate) fn actor_name(&self) -> String {
        match &*self.session.lock().unwrap_or_else(|e| e.into_inner()) {
            SessionState::Active { principal, .. } | SessionState::Locked { principal, .. } => {
                principal.actor()
            }
            SessionState::SignedOut => "anonymous".to_owned(),
        }
    }

    fn idle_limit(&self) -> Duration {
        Duration::minutes(self.idle_minutes.load(std::sync::atomic::Ordering::Relaxed))
    }

    async fn audit_access(
        &self,
        action: &'static str,
        principal: Option<&Principal>,
        detail: serde_json::Value,
    ) {
        self.audit_access_patient(action, principal, None, detail).await;
    }

    async fn audit_access_patient(
        &self,
        action: &'static str,
        principal: Option<&Principal>,
        patient: Option<PatientId>,
        detail: serde_json::Value,
    ) {
        let actor = principal.map_or_else(|| "anonymous".to_owned(), Principal::actor);
        let event = AuditEvent { actor, action, patient, detail };
        self.store.spool_audit(&event, self.clock.now()).await;
    }

    /// Whether the store has any account (a new store asks for its first administrator).
    pub async fn has_users(&self) -> Result<bool, Error> {
        Ok(users::count(self.store.pool()).await? > 0)
    }

    /// Creates the first administrator of a store that has no account yet (`vigil init
    /// --admin`, the window's first run). Refused once any account exists.
    pub async fn create_first_admin(&self, name: &str, password: Secret) -> Result<(), Error> {
        let name = access::validate_user_name(name)?;
        access::validate_password(&name, &password)?;
        let hash = hash_password(password).await?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        if users::count(&mut *tx).await? > 0 {
            return Err(Error::Access(
                "this store already has users: an administrator adds more with `vigil user add`".into(),
            ));
        }
        let actor = format!("user:{name}");
        users::insert(&mut tx, &name, Role::Admin, users::Credential::Password(&hash), &actor, now).await?;
        let detail = serde_json::json!({ "user": name, "role": "admin", "first": true });
        let event = AuditEvent { actor, action: "user.create", patient: None, detail };
        crate::store::audit_record(&mut tx, &event, now).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Checks a person's password, with the lockout rule; audits success, failure and lockout.
    pub(crate) async fn check_credentials(
        &self,
        name: &str,
        password: Secret,
    ) -> Result<users::UserRow, Error> {
        let now = self.clock.now();
        let user = users::by_name(self.store.pool(), name.trim()).await?;
        let person = user.filter(|u| !u.service);
        if let Some(until) = person.as_ref().and_then(|u| u.failed.locked_at(now)) {
            let p = person.as_ref().map(principal_of);
            self.audit_access("session.login_failed", p.as_ref(), serde_json::json!({ "why": "locked out" }))
                .await;
            return Err(Error::AccountLocked { until: until.to_rfc3339() });
        }
        let ok = verify_password(password, person.as_ref().and_then(|u| u.password_hash.clone())).await?;
        let Some(user) = person else {
            self.audit_access("session.login_failed", None, serde_json::json!({ "why": "unknown user" }))
                .await;
            return Err(Error::SignInFailed);
        };
        if !ok {
            let failed = user.failed.clone().after_failure(now, &LockoutPolicy::default());
            let mut tx = self.store.begin().await?;
            users::save_failures(&mut tx, user.id, &failed).await?;
            let actor = principal_of(&user).actor();
            let event = AuditEvent {
                actor: actor.clone(),
                action: "session.login_failed",
                patient: None,
                detail: serde_json::json!({ "why": "wrong password" }),
            };
            crate::store::audit_record(&mut tx, &event, now).await?;
            if let Some(until) = failed.locked_at(now) {
                let detail = serde_json::json!({ "until": until.to_rfc3339() });
                let event = AuditEvent { actor, action: "user.lockout", patient: None, detail };
                crate::store::audit_record(&mut tx, &event, now).await?;
                tx.commit().await.map_err(StoreError::from)?;
                tracing::warn!("an account was locked after repeated wrong passwords");
                return Err(Error::AccountLocked { until: until.to_rfc3339() });
            }
            tx.commit().await.map_err(StoreError::from)?;
            return Err(Error::SignInFailed);
        }
        if user.disabled {
            self.audit_access(
                "session.login_failed",
                Some(&principal_of(&user)),
                serde_json::json!({ "why": "disabled" }),
            )
            .await;
            return Err(Error::AccountDisabled(user.name));
        }
        if !user.failed.is_clear() {
            let mut tx = self.store.begin().await?;
            users::save_failures(&mut tx, user.id, &access::FailedLogins::default()).await?;
            tx.commit().await.map_err(StoreError::from)?;
        }
        Ok(user)
    }

    /// Signs a person in (the window; `vigil login` goes through [`Workstation::start_cli_session`]).
    /// Replaces whoever was signed in (switch user).
    pub async fn sign_in(&self, name: &str, password: Secret) -> Result<SessionInfo, Error> {
        let user = self.check_credentials(name, password).await?;
        self.load_idle_limit().await?;
        let now = self.clock.now();
        let principal = principal_of(&user);
        let (previous, info) = self.activate(&principal, now, now);
        if let Some(previous) = previous.filter(|p| p.id != principal.id) {
            self.audit_access(
                "session.logout",
                Some(&previous),
                serde_json::json!({ "reason": "switch user" }),
            )
            .await;
        }
        self.audit_access("session.login", Some(&principal), serde_json::json!({ "via": self.via() })).await;
        Ok(info)
    }

    /// Signs a service account in with its token (`vigil monitor`, IT's scripts).
    pub async fn sign_in_token(&self, token: &str) -> Result<SessionInfo, Error> {
        let user = users::by_token(self.store.pool(), &token_digest(token)).await?;
        let Some(user) = user else {
            self.audit_access("session.login_failed", None, serde_json::json!({ "why": "unknown token" }))
                .await;
            return Err(Error::SignInFailed);
        };
        if user.disabled {
            self.audit_access(
                "session.login_failed",
                Some(&principal_of(&user)),
                serde_json::json!({ "why": "disabled" }),
            )
            .await;
            return Err(Error::AccountDisabled(user.name));
        }
        let now = self.clock.now();
        let principal = principal_of(&user);
        let (_, info) = self.activate(&principal, now, now);
        self.audit_access("session.login", Some(&principal), serde_json::json!({ "via": "token" })).await;
        Ok(info)
    }

    /// Ends the session (logout).
    pub async fn sign_out(&self) {
        if let Some(previous) = self.replace_session(SessionState::SignedOut) {
            self.audit_access("session.logout", Some(&previous), serde_json::json!({})).await;
        }
    }

    /// Locks the session by hand (the window's lock button); the idle timeout locks it too.
    pub async fn lock(&self) {
        self.lock_now("by hand").await;
    }

    /// Locks an active session and audits why (`session.lock`).
    async fn lock_now(&self, reason: &'static str) {
        let locked = self.session.lock().unwrap_or_else(|e| e.into_inner()).lock_active();
        if let Some(p) = locked {
            self.audit_access("session.lock", Some(&p), serde_json::json!({ "reason": reason })).await;
        }
    }

    /// Unlocks a locked session with the same person's password.
    pub async fn unlock(&self, password: Secret) -> Result<SessionInfo, Error> {
        let locked = match &*self.session.lock().unwrap_or_else(|e| e.into_inner()) {
            SessionState::Locked { principal, .. } => Some(principal.clone()),
            SessionState::Active { principal, started, .. } => {
                return Ok(info_of(principal, false, Some(*started), self));
            }
            SessionState::SignedOut => None,
        };
        let principal = locked.ok_or(Error::NotSignedIn)?;
        let user = self.check_credentials(&principal.name, password).await?;
        let now = self.clock.now();
        let principal = principal_of(&user);
        let (_, info) = self.activate(&principal, now, now);
        self.audit_access("session.unlock", Some(&principal), serde_json::json!({})).await;
        Ok(info)
    }

    /// The person did something (a key, a click): the idle timer starts again. The window calls
    /// it on input; timers that refresh screens do not, so they never keep a session alive.
    pub fn touch(&self) {
        let now = self.clock.now();
        let idle = self.idle_limit();
        let mut state = self.session.lock().unwrap_or_else(|e| e.into_inner());
        if state.idle_out(now, idle) {
            return;
        }
        if let SessionState::Active { last_activity, .. } = &mut *state {
            *last_activity = now;
        }
    }

    /// Who is signed in, if anyone; `locked` says whether the session is locked (or idle past
    /// its limit, which locks it).
    pub fn session_info(&self) -> Option<SessionInfo> {
        let now = self.clock.now();
        let idle = self.idle_limit();
        let state = self.session.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let idle_out = state.idle_out(now, idle);
        match state {
            SessionState::SignedOut => None,
            SessionState::Locked { principal, .. } => Some(info_of(&principal, true, None, self)),
            SessionState::Active { principal, started, .. } => {
                Some(info_of(&principal, idle_out, Some(started), self))
            }
        }
    }

    /// [`Workstation::session_info`], and a session found idle past its limit is locked now
    /// (audited), so a screen polling it learns at once that it must forget what it shows.
    pub async fn session_status(&self) -> Option<SessionInfo> {
        let info = self.session_info()?;
        if info.locked {
            self.lock_now("idle").await;
        }
        Some(info)
    }

    /// Starts a command-line session (`vigil login`): returns the token the CLI keeps in the
    /// data directory's session file. Its idle timer is the file's age (`resume_cli_session`).
    pub async fn start_cli_session(
        &self,
        name: &str,
        password: Secret,
        os_user: &str,
    ) -> Result<Secret, Error> {
        let user = self.check_credentials(name, password).await?;
        let token = new_token("vgs_")?;
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        users::insert_session(&mut tx, &token_digest(&token), user.id, os_user, now).await?;
        let principal = principal_of(&user);
        let event = AuditEvent {
            actor: principal.actor(),
            action: "session.login",
            patient: None,
            detail: serde_json::json!({ "via": "cli", "os_user": os_user }),
        };
        crate::store::audit_record(&mut tx, &event, now).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.load_idle_limit().await?;
        self.activate(&principal, now, now);
        Ok(token)
    }

    /// Resumes a command-line session from its token; `last_activity` is when the session file
    /// was last used. An idle or ended session is refused (and ended, when idle).
    pub async fn resume_cli_session(
        &self,
        token: &str,
        last_activity: DateTime<Utc>,
    ) -> Result<SessionInfo, Error> {
        let digest = token_digest(token);
        let found = users::find_session(self.store.pool(), &digest).await?;
        let Some((user_id, started)) = found else { return Err(Error::NotSignedIn) };
        let user = users::by_id(self.store.pool(), user_id).await?.ok_or(Error::NotSignedIn)?;
        let principal = principal_of(&user);
        self.load_idle_limit().await?;
        let now = self.clock.now();
        if user.disabled {
            return Err(Error::AccountDisabled(user.name));
        }
        if now - last_activity >= self.idle_limit() {
            let mut tx = self.store.begin().await?;
            users::end_session(&mut tx, &digest, now).await?;
            let detail = serde_json::json!({ "reason": "idle", "via": "cli" });
            let event =
                AuditEvent { actor: principal.actor(), action: "session.logout", patient: None, detail };
            crate::store::audit_record(&mut tx, &event, now).await?;
            tx.commit().await.map_err(StoreError::from)?;
            return Err(Error::SessionIdle { minutes: self.idle_limit().num_minutes() });
        }
        Ok(self.activate(&principal, started, now).1)
    }

    /// Ends a command-line session (`vigil logout`).
    pub async fn end_cli_session(&self, token: &str) -> Result<bool, Error> {
        let now = self.clock.now();
        // The session's own account signs out (not `anonymous`, which this handle is until now).
        let actor = match users::find_session(self.store.pool(), &token_digest(token)).await? {
            Some((user_id, _)) => users::by_id(self.store.pool(), user_id)
                .await?
                .map_or_else(|| "anonymous".to_owned(), |u| principal_of(&u).actor()),
            None => self.actor_name(),
        };
        let mut tx = self.store.begin().await?;
        let ended = users::end_session(&mut tx, &token_digest(token), now).await?;
        if ended {
            let event = AuditEvent {
                actor,
                action: "session.logout",
                patient: None,
                detail: serde_json::json!({ "via": "cli" }),
            };
            crate::store::audit_record(&mut tx, &event, now).await?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        self.replace_session(SessionState::SignedOut);
        Ok(ended)
    }

    /// The window's own monitor: a handle on the same store acting as `system:monitor` (role
    /// `monitor`), so the window watches while it is locked or nobody is signed in. Only the
    /// application itself holds one; no user can sign in as it.
    #[cfg(feature = "desktop")]
    pub(crate) fn monitor_handle(&self) -> Workstation {
        let principal =
            Principal { id: uuid::Uuid::nil(), name: "monitor".into(), role: Role::Monitor, service: true };
        let now = self.clock.now();
        let mut handle = self.clone();
        handle.session = Arc::new(std::sync::Mutex::new(SessionState::Active {
            principal,
            started: now,
            last_activity: now,
        }));
        handle
    }

    /// Unit tests inside the crate act as `role` without an account (integration tests sign in
    /// for real: tests/common).
    #[cfg(test)]
    pub(crate) fn act_as_for_tests(self, role: Role) -> Workstation {
        let principal =
            Principal { id: uuid::Uuid::now_v7(), name: format!("test-{role}"), role, service: false };
        let now = self.clock.now();
        *self.session.lock().unwrap_or_else(|e| e.into_inner()) =
            SessionState::Active { principal, started: now, last_activity: now };
        self
    }

    /// Reads the idle-lock setting into the session (at sign-in and resume).
    async fn load_idle_limit(&self) -> Result<(), Error> {
        let minutes = self.setting_i64("idle_lock_minutes").await?.unwrap_or(access::DEFAULT_IDLE_MINUTES);
        self.idle_minutes.store(minutes, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Makes `principal` the active session; returns who was signed in before, and the session.
    fn activate(
        &self,
        principal: &Principal,
        started: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> (Option<Principal>, SessionInfo) {
        let active = SessionState::Active { principal: principal.clone(), started, last_activity: now };
        (self.replace_session(active), info_of(principal, false, Some(started), self))
    }

    fn replace_session(&self, next: SessionState) -> Option<Principal> {
        let mut state = self.session.lock().unwrap_or_else(|e| e.into_inner());
        let previous = std::mem::replace(&mut *state, next);
        match previous {
            SessionState::Active { principal, .. } | SessionState::Locked { principal, .. } => {
                Some(principal)
            }
            SessionState::SignedOut => None,
        }
    }

    fn via(&self) -> &'static str {
        if self.activity_from_calls { "cli" } else { "window" }
    }
}

pub(crate) fn principal_of(user: &users::UserRow) -> Principal {
    Principal { id: user.id, name: user.name.clone(), role: user.role, service: user.service }
}

fn info_of(
    principal: &Principal,
    locked: bool,
    since: Option<DateTime<Utc>>,
    ws: &Workstation,
) -> SessionInfo {
    SessionInfo {
        user: principal.name.clone(),
        role: principal.role,
        service: principal.service,
        locked,
        since: since.map(|t| t.to_rfc3339()).unwrap_or_default(),
        idle_lock_minutes: if principal.service { 0 } else { ws.idle_limit().num_minutes() },
    }
}

pub(crate) fn new_service_token() -> Result<Secret, Error> {
    new_token("vgt_")
}

pub(crate) use hash_password as hash;

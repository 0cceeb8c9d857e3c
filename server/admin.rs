//! What IT does to the server's database: clinics, enrolment codes, workstations, packages.
//! The CLI verbs (`main.rs`) call these; each needs the database alone.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgPool, Row};
use uuid::Uuid;
use vigil_protocol::wire::enroll::EnrollCode;

/// What went wrong, in words IT can act on.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A precondition is missing.
    #[error("{0}")]
    Refused(String),
}

/// Creates a clinic; returns its id.
///
/// # Errors
/// An empty name, or the database.
pub async fn create_clinic(pool: &PgPool, name: &str) -> Result<Uuid, AdminError> {
    if name.trim().is_empty() {
        return Err(AdminError::Refused("a clinic needs a name".into()));
    }
    let id = Uuid::now_v7();
    sqlx::query("INSERT INTO clinics (id, name) VALUES ($1, $2)")
        .bind(id)
        .bind(name.trim())
        .execute(pool)
        .await?;
    Ok(id)
}

/// Makes a one-time enrolment code for `clinic`, valid for `ttl`, carrying the fingerprint of
/// the certificate a server instance last recorded at its start.
///
/// # Errors
/// An unknown clinic; no server started yet (no fingerprint); the database.
pub async fn enroll_code(
    pool: &PgPool,
    clinic: Uuid,
    ttl: chrono::Duration,
) -> Result<(EnrollCode, DateTime<Utc>), AdminError> {
    let known: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM clinics WHERE id = $1").bind(clinic).fetch_optional(pool).await?;
    if known.is_none() {
        return Err(AdminError::NotFound(format!(
            "no clinic {clinic} (`vigil-server clinic list` shows them)"
        )));
    }
    let fingerprint: Option<String> =
        sqlx::query_scalar("SELECT fingerprint FROM server_certificates ORDER BY last_seen DESC LIMIT 1")
            .fetch_optional(pool)
            .await?;
    let Some(fingerprint) = fingerprint else {
        return Err(AdminError::Refused(
            "no server certificate is recorded yet: start `vigil-server serve` once, so the code can carry its fingerprint"
                .into(),
        ));
    };
    let mut pinned = [0u8; 32];
    hex::decode_to_slice(&fingerprint, &mut pinned)
        .map_err(|_| AdminError::Refused(format!("recorded fingerprint {fingerprint} is not SHA-256 hex")))?;
    let mut secret = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut secret)
        .map_err(|_| AdminError::Refused("the system's random source failed".into()))?;
    let expires = Utc::now() + ttl;
    sqlx::query(
        "INSERT INTO enroll_codes (clinic_id, secret_sha256, fingerprint, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(clinic)
    .bind(ring::digest::digest(&ring::digest::SHA256, &secret).as_ref())
    .bind(&fingerprint)
    .bind(expires)
    .execute(pool)
    .await?;
    Ok((EnrollCode { secret, fingerprint: pinned }, expires))
}

/// A clinic, for `clinic list`.
#[derive(Debug, Serialize)]
pub struct ClinicInfo {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its version counter (the newest change).
    pub version: i64,
}

/// Every clinic.
///
/// # Errors
/// The database.
pub async fn clinics(pool: &PgPool) -> Result<Vec<ClinicInfo>, AdminError> {
    let rows = sqlx::query("SELECT id, name, version FROM clinics ORDER BY name").fetch_all(pool).await?;
    Ok(rows
        .iter()
        .map(|r| ClinicInfo { id: r.get("id"), name: r.get("name"), version: r.get("version") })
        .collect())
}

/// A workstation as `workstations --json` shows it.
#[derive(Debug, Serialize)]
pub struct WorkstationInfo {
    /// Its id (its store's id).
    pub id: Uuid,
    /// Its clinic.
    pub clinic_id: Uuid,
    /// The name it gave at enrolment.
    pub name: String,
    /// When it enrolled.
    pub enrolled_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
    /// Its last signed request.
    pub last_seen: Option<DateTime<Utc>>,
    /// The last outbox position the server acknowledged: `{"message", "row"}`.
    pub acknowledged: vigil_protocol::wire::push::Position,
    /// Messages its outbox still held at its last push.
    pub pending: Option<i64>,
    /// Clinic versions it has not pulled yet.
    pub lag_versions: i64,
    /// Seconds since it was last seen.
    pub lag_seconds: Option<i64>,
    /// Its app version.
    pub app_version: Option<String>,
    /// Its active model packages: name -> version.
    pub models: serde_json::Value,
}

/// The workstations, of one clinic or all.
///
/// # Errors
/// The database.
pub async fn workstations(pool: &PgPool, clinic: Option<Uuid>) -> Result<Vec<WorkstationInfo>, AdminError> {
    let rows = sqlx::query(
        "SELECT w.*, c.version AS clinic_version FROM workstations w JOIN clinics c ON c.id = w.clinic_id \
         WHERE $1::uuid IS NULL OR w.clinic_id = $1 ORDER BY w.clinic_id, w.name, w.id",
    )
    .bind(clinic)
    .fetch_all(pool)
    .await?;
    let now = Utc::now();
    Ok(rows
        .iter()
        .map(|r| {
            let last_seen: Option<DateTime<Utc>> = r.get("last_seen");
            let clinic_version: i64 = r.get("clinic_version");
            let pulled: i64 = r.get("pulled_version");
            WorkstationInfo {
                id: r.get("id"),
                clinic_id: r.get("clinic_id"),
                name: r.get("name"),
                enrolled_at: r.get("enrolled_at"),
                revoked_at: r.get("revoked_at"),
                last_seen,
                acknowledged: vigil_protocol::wire::push::Position {
                    message: r.get("acked_message"),
                    row: r.get("acked_row"),
                },
                pending: r.get("pending"),
                lag_versions: (clinic_version - pulled).max(0),
                lag_seconds: last_seen.map(|t| (now - t).num_seconds()),
                app_version: r.get("app_version"),
                models: r.get("models"),
            }
        })
        .collect())
}

/// Revokes a workstation: its signed requests are refused from now on (403), what it pushed
/// stays. Enrolling it again needs a new code.
///
/// # Errors
/// An unknown workstation; the database.
pub async fn revoke(pool: &PgPool, workstation: Uuid) -> Result<(), AdminError> {
    let done = sqlx::query("UPDATE workstations SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1")
        .bind(workstation)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AdminError::NotFound(format!(
            "no workstation {workstation} (`vigil-server workstations` lists them)"
        )));
    }
    Ok(())
}

/// Publishes a model package file to a clinic; returns its SHA-256. The server does not check
/// the package's signature: each workstation verifies it against its own trusted keys.
///
/// # Errors
/// An unknown clinic, an unreadable file, the database.
pub async fn publish_package(
    pool: &PgPool,
    file: &std::path::Path,
    clinic: Uuid,
) -> Result<String, AdminError> {
    let bytes = std::fs::read(file).map_err(|e| AdminError::Refused(format!("{}: {e}", file.display())))?;
    let sha = hex::encode(ring::digest::digest(&ring::digest::SHA256, &bytes).as_ref());
    let name = file.file_name().map_or_else(|| "package".to_owned(), |n| n.to_string_lossy().into_owned());
    let done = sqlx::query(
        "INSERT INTO packages (clinic_id, sha256, file_name, bytes) SELECT id, $2, $3, $4 FROM clinics WHERE id = $1 \
         ON CONFLICT (clinic_id, sha256) DO NOTHING",
    )
    .bind(clinic)
    .bind(&sha)
    .bind(&name)
    .bind(&bytes)
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        let exists: Option<String> =
            sqlx::query_scalar("SELECT sha256 FROM packages WHERE clinic_id = $1 AND sha256 = $2")
                .bind(clinic)
                .bind(&sha)
                .fetch_optional(pool)
                .await?;
        if exists.is_none() {
            return Err(AdminError::NotFound(format!("no clinic {clinic}")));
        }
    }
    Ok(sha)
}

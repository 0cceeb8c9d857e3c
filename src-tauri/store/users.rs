//! Accounts, command-line sessions, restricted records and break-the-glass grants (migration
//! 0010). Rows only: the rules (roles, lockout, password policy) live in `domain::access` and
//! the facade's `workstation/access.rs`.

use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, SqliteExecutor, Transaction};

use super::{StoreError, new_uuid, time};
use crate::domain::PatientId;
use crate::domain::access::{FailedLogins, Role};

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UserRow {
    /// Its id.
    pub id: uuid::Uuid,
    /// Its name, as given when it was made.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// A service account (token) rather than a person (password).
    pub service: bool,
    /// The Argon2id PHC string (people).
    pub password_hash: Option<String>,
    /// The SHA-256 of the token, hex (service accounts).
    pub token_sha256: Option<String>,
    /// Disabled: cannot sign in.
    pub disabled: bool,
    /// Its wrong-password record.
    pub failed: FailedLogins,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Who made it.
    pub created_by: String,
}

const COLUMNS: &str = "id, name, role, kind, password_hash, token_sha256, disabled, recent_failures, \
                       locked_until_ms, created_ms, created_by";

fn from_row(row: &SqliteRow) -> Result<UserRow, StoreError> {
    let corrupt = |problem: String| StoreError::Corrupt { what: "user", problem };
    let id: Vec<u8> = row.get("id");
    let role: String = row.get("role");
    let kind: String = row.get("kind");
    let opt_time = |column: &str| -> Result<Option<DateTime<Utc>>, StoreError> {
        row.get::<Option<i64>, _>(column).map(time::from_ms).transpose()
    };
    Ok(UserRow {
        id: uuid::Uuid::from_slice(&id).map_err(|e| corrupt(e.to_string()))?,
        name: row.get("name"),
        role: Role::parse(&role).map_err(|e| corrupt(e.to_string()))?,
        service: kind == "service",
        password_hash: row.get("password_hash"),
        token_sha256: row.get("token_sha256"),
        disabled: row.get::<i64, _>("disabled") != 0,
        failed: FailedLogins {
            recent: row
                .get::<String, _>("recent_failures")
                .split(',')
                .filter(|t| !t.is_empty())
                .map(|t| t.parse::<i64>().map_err(|e| corrupt(e.to_string())).and_then(time::from_ms))
                .collect::<Result<_, _>>()?,
            locked_until: opt_time("locked_until_ms")?,
        },
        created_at: time::from_ms(row.get("created_ms"))?,
        created_by: row.get("created_by"),
    })
}

/// How many accounts exist (0 before the first administrator).
pub(crate) async fn count(executor: impl SqliteExecutor<'_>) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(executor).await?)
}

/// The account with this name (any case).
pub(crate) async fn by_name(
    executor: impl SqliteExecutor<'_>,
    name: &str,
) -> Result<Option<UserRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE name = ?");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(name)
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The account with this id.
pub(crate) async fn by_id(
    executor: impl SqliteExecutor<'_>,
    id: uuid::Uuid,
) -> Result<Option<UserRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = ?");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id.as_bytes().as_slice())
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// The service account holding this token digest.
pub(crate) async fn by_token(
    executor: impl SqliteExecutor<'_>,
    token_sha256: &str,
) -> Result<Option<UserRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE kind = 'service' AND token_sha256 = ?");
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(token_sha256)
        .fetch_optional(executor)
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

/// Every account, by name.
pub(crate) async fn list(executor: impl SqliteExecutor<'_>) -> Result<Vec<UserRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY name COLLATE NOCASE");
    sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(executor).await?.iter().map(from_row).collect()
}

/// A new account's credential.
pub(crate) enum Credential<'a> {
    /// A person's Argon2id PHC string.
    Password(&'a str),
    /// A service account's token digest.
    Token(&'a str),
}

/// Adds an account. A name already taken (any case) is a [`StoreError::Duplicate`].
pub(crate) async fn insert(
    tx: &mut Transaction<'static, Sqlite>,
    name: &str,
    role: Role,
    credential: Credential<'_>,
    created_by: &str,
    at: DateTime<Utc>,
) -> Result<uuid::Uuid, StoreError> {
    let id = new_uuid();
    let (kind, hash, token) = match credential {
        Credential::Password(hash) => ("person", Some(hash), None),
        Credential::Token(token) => ("service", None, Some(token)),
    };
    let result = sqlx::query(
        "INSERT INTO users (id, name, role, kind, password_hash, token_sha256, created_ms, created_by, \
         password_set_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id.as_bytes().as_slice())
    .bind(name)
    .bind(role.as_str())
    .bind(kind)
    .bind(hash)
    .bind(token)
    .bind(time::to_ms(at))
    .bind(created_by)
    .bind(time::to_ms(at))
    .execute(&mut **tx)
    .await;
    match result {
        Ok(_) => Ok(id),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            Err(StoreError::Duplicate { what: "a user named", value: name.to_owned() })
        }
        Err(e) => Err(e.into()),
    }
}

/// Saves a user's wrong-password record.
pub(crate) async fn save_failures(
    tx: &mut Transaction<'static, Sqlite>,
    id: uuid::Uuid,
    failed: &FailedLogins,
) -> Result<(), StoreError> {
    let recent: Vec<String> = failed.recent.iter().map(|t| time::to_ms(*t).to_string()).collect();
    sqlx::query(
        "UPDATE users SET recent_failures = ?, failed_count = ?, failed_since_ms = ?, locked_until_ms = ? WHERE id = ?",
    )
    .bind(recent.join(","))
    .bind(i64::try_from(failed.recent.len()).unwrap_or(i64::MAX))
    .bind(failed.recent.first().copied().map(time::to_ms))
    .bind(failed.locked_until.map(time::to_ms))
        .bind(id.as_bytes().as_slice())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets a person's password hash (and clears a lockout: an administrator reset it).
pub(crate) async fn set_password(
    tx: &mut Transaction<'static, Sqlite>,
    id: uuid::Uuid,
    hash: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE users SET password_hash = ?, password_set_ms = ?, failed_count = 0, failed_since_ms = NULL, \
         recent_failures = '', locked_until_ms = NULL WHERE id = ? AND kind = 'person'",
    )
    .bind(hash)
    .bind(time::to_ms(at))
    .bind(id.as_bytes().as_slice())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Enables or disables an account.
pub(crate) async fn set_disabled(
    tx: &mut Transaction<'static, Sqlite>,
    id: uuid::Uuid,
    disabled: bool,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET disabled = ? WHERE id = ?")
        .bind(disabled)
        .bind(id.as_bytes().as_slice())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Changes an account's role.
pub(crate) async fn set_role(
    tx: &mut Transaction<'static, Sqlite>,
    id: uuid::Uuid,
    role: Role,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE users SET role = ? WHERE id = ?")
        .bind(role.as_str())
        .bind(id.as_bytes().as_slice())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// How many enabled administrators there are (the last one may not be disabled or demoted).
pub(crate) async fn enabled_admins(executor: impl SqliteExecutor<'_>) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND kind = 'person'",
    )
    .fetch_one(executor)
    .await?)
}

/// Opens a command-line session.
pub(crate) async fn insert_session(
    tx: &mut Transaction<'static, Sqlite>,
    token_sha256: &str,
    user: uuid::Uuid,
    os_user: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO sessions (token_sha256, user_id, os_user, created_ms) VALUES (?, ?, ?, ?)")
        .bind(token_sha256)
        .bind(user.as_bytes().as_slice())
        .bind(os_user)
        .bind(time::to_ms(at))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A live command-line session: its user and when it began.
pub(crate) async fn find_session(
    executor: impl SqliteExecutor<'_>,
    token_sha256: &str,
) -> Result<Option<(uuid::Uuid, DateTime<Utc>)>, StoreError> {
    let row =
        sqlx::query("SELECT user_id, created_ms FROM sessions WHERE token_sha256 = ? AND ended_ms IS NULL")
            .bind(token_sha256)
            .fetch_optional(executor)
            .await?;
    let Some(row) = row else { return Ok(None) };
    let id: Vec<u8> = row.get("user_id");
    let id = uuid::Uuid::from_slice(&id)
        .map_err(|e| StoreError::Corrupt { what: "session", problem: e.to_string() })?;
    Ok(Some((id, time::from_ms(row.get("created_ms"))?)))
}

/// Ends a command-line session (logout, idle, a disabled user).
pub(crate) async fn end_session(
    tx: &mut Transaction<'static, Sqlite>,
    token_sha256: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE sessions SET ended_ms = ? WHERE token_sha256 = ? AND ended_ms IS NULL")
        .bind(time::to_ms(at))
        .bind(token_sha256)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Ends every live session of a user (disabled, or its password reset).
pub(crate) async fn end_sessions_of(
    tx: &mut Transaction<'static, Sqlite>,
    user: uuid::Uuid,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sessions SET ended_ms = ? WHERE user_id = ? AND ended_ms IS NULL")
        .bind(time::to_ms(at))
        .bind(user.as_bytes().as_slice())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Whether a patient's record is restricted.
pub(crate) async fn is_restricted(
    executor: impl SqliteExecutor<'_>,
    patient: PatientId,
) -> Result<bool, StoreError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT 1 FROM patient_restrictions WHERE patient_id = ?")
        .bind(patient.as_bytes().as_slice())
        .fetch_optional(executor)
        .await?;
    Ok(found.is_some())
}

/// Marks a record restricted or lifts it; returns whether anything changed.
pub(crate) async fn set_restricted(
    tx: &mut Transaction<'static, Sqlite>,
    patient: PatientId,
    restricted: bool,
    actor: &str,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = if restricted {
        sqlx::query(
            "INSERT OR IGNORE INTO patient_restrictions (patient_id, since_ms, by_actor) VALUES (?, ?, ?)",
        )
        .bind(patient.as_bytes().as_slice())
        .bind(time::to_ms(at))
        .bind(actor)
        .execute(&mut **tx)
        .await?
    } else {
        sqlx::query("DELETE FROM patient_restrictions WHERE patient_id = ?")
            .bind(patient.as_bytes().as_slice())
            .execute(&mut **tx)
            .await?
    };
    Ok(done.rows_affected() > 0)
}

/// Records a break-the-glass grant.
pub(crate) async fn insert_grant(
    tx: &mut Transaction<'static, Sqlite>,
    user: uuid::Uuid,
    patient: PatientId,
    reason: &str,
    at: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO break_glass (id, user_id, patient_id, reason, at_ms, until_ms) VALUES (?, ?, ?, ?, ?, ?)")
        .bind(new_uuid().as_bytes().as_slice())
        .bind(user.as_bytes().as_slice())
        .bind(patient.as_bytes().as_slice())
        .bind(reason)
        .bind(time::to_ms(at))
        .bind(time::to_ms(until))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Until when a user's grant on a patient lasts, if one is live at `now`.
pub(crate) async fn live_grant(
    executor: impl SqliteExecutor<'_>,
    user: uuid::Uuid,
    patient: PatientId,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    let until: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(until_ms) FROM break_glass WHERE user_id = ? AND patient_id = ? AND until_ms > ?",
    )
    .bind(user.as_bytes().as_slice())
    .bind(patient.as_bytes().as_slice())
    .bind(time::to_ms(now))
    .fetch_one(executor)
    .await?;
    until.map(time::from_ms).transpose()
}

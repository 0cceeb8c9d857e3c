//! Model packages, their per-agent deployments, rollout events and trusted keys. Rows only;
//! verification and loading are `crate::models`', audit and outbox the facade's.

use sqlx::{Row, Sqlite, SqliteExecutor, Transaction};

use super::{StoreError, time};

/// A stored package (without its bytes).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PackageRow {
    /// SHA-256 of the file.
    pub sha256: String,
    /// Model name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Agent.
    pub agent: String,
    /// The manifest JSON.
    pub manifest: serde_json::Value,
    /// Signer.
    pub signer_key_id: String,
    /// When installed.
    pub installed_at: chrono::DateTime<chrono::Utc>,
    /// By whom.
    pub installed_by: String,
}

/// An agent's deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DeploymentRow {
    /// Agent.
    pub agent: String,
    /// Active package.
    pub active: Option<String>,
    /// Previous package.
    pub previous: Option<String>,
    /// Candidate package.
    pub candidate: Option<String>,
    /// `shadow` or `canary`.
    pub candidate_mode: Option<String>,
    /// Canary share.
    pub canary_percent: Option<i64>,
    /// Candidate counts.
    pub evaluations: i64,
    /// Candidate counts.
    pub errors: i64,
    /// Candidate counts.
    pub disagreements: i64,
}

/// A rollout event as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EventRow {
    /// Order.
    pub seq: i64,
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
    /// Agent.
    pub agent: String,
    /// `installed`, `candidate`, `activated`, `promoted`, `rolled_back`.
    pub kind: String,
    /// Package name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Whether a rule did it.
    pub automatic: bool,
    /// Why.
    pub reason: String,
    /// Who (the OS user; `vigil` for automatic changes).
    pub actor: String,
}

/// A trusted key as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyRow {
    /// Id.
    pub id: String,
    /// Hex public key.
    pub public_key: String,
    /// Label.
    pub label: String,
}

fn corrupt(what: &'static str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt { what, problem: e.to_string() }
}

/// Stores a verified package; `false` when the same file is already there. A different file
/// under the same name and version is refused.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_package(
    tx: &mut Transaction<'static, Sqlite>,
    sha256: &str,
    manifest: &crate::models::Manifest,
    manifest_json: &str,
    signer: &str,
    bytes: &[u8],
    actor: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, StoreError> {
    let existing: Option<String> =
        sqlx::query_scalar("SELECT sha256 FROM model_packages WHERE name = ? AND version = ?")
            .bind(&manifest.name)
            .bind(&manifest.version)
            .fetch_optional(&mut **tx)
            .await?;
    match existing {
        Some(s) if s == sha256 => return Ok(false),
        Some(s) => {
            return Err(StoreError::Duplicate {
                what: "a different model package file named",
                value: format!(
                    "{} {} (SHA-256 {s}); give the new one a new version",
                    manifest.name, manifest.version
                ),
            });
        }
        None => {}
    }
    sqlx::query(
        "INSERT INTO model_packages (sha256, name, version, agent, manifest, signer_key_id, package, installed_ms, \
         installed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(sha256)
    .bind(&manifest.name)
    .bind(&manifest.version)
    .bind(manifest.agent.as_str())
    .bind(manifest_json)
    .bind(signer)
    .bind(bytes)
    .bind(time::to_ms(at))
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    Ok(true)
}

fn package_row(row: &sqlx::sqlite::SqliteRow) -> Result<PackageRow, StoreError> {
    let manifest: &str = row.get("manifest");
    Ok(PackageRow {
        sha256: row.get("sha256"),
        name: row.get("name"),
        version: row.get("version"),
        agent: row.get("agent"),
        manifest: serde_json::from_str(manifest).map_err(|e| corrupt("model_packages.manifest", e))?,
        signer_key_id: row.get("signer_key_id"),
        installed_at: time::from_ms(row.get("installed_ms"))?,
        installed_by: row.get("installed_by"),
    })
}

/// Every package, by name then install time.
pub(crate) async fn list_packages(db: impl SqliteExecutor<'_>) -> Result<Vec<PackageRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT sha256, name, version, agent, manifest, signer_key_id, installed_ms, installed_by \
         FROM model_packages ORDER BY name, installed_ms",
    )
    .fetch_all(db)
    .await?;
    rows.iter().map(package_row).collect()
}

/// A package file's bytes.
pub(crate) async fn package_bytes(db: impl SqliteExecutor<'_>, sha256: &str) -> Result<Vec<u8>, StoreError> {
    sqlx::query_scalar("SELECT package FROM model_packages WHERE sha256 = ?")
        .bind(sha256)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| corrupt("model_packages", format!("no package {sha256}")))
}

/// Every agent's deployment.
pub(crate) async fn deployments(db: impl SqliteExecutor<'_>) -> Result<Vec<DeploymentRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT agent, active_sha256, previous_sha256, candidate_sha256, candidate_mode, canary_percent, \
         evaluations, errors, disagreements FROM model_deployments ORDER BY agent",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .iter()
        .map(|r| DeploymentRow {
            agent: r.get("agent"),
            active: r.get("active_sha256"),
            previous: r.get("previous_sha256"),
            candidate: r.get("candidate_sha256"),
            candidate_mode: r.get("candidate_mode"),
            canary_percent: r.get("canary_percent"),
            evaluations: r.get("evaluations"),
            errors: r.get("errors"),
            disagreements: r.get("disagreements"),
        })
        .collect())
}

/// Writes an agent's deployment.
pub(crate) async fn put_deployment(
    tx: &mut Transaction<'static, Sqlite>,
    d: &DeploymentRow,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO model_deployments (agent, active_sha256, previous_sha256, candidate_sha256, candidate_mode, \
         canary_percent, evaluations, errors, disagreements, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (agent) DO UPDATE SET active_sha256 = excluded.active_sha256, \
         previous_sha256 = excluded.previous_sha256, candidate_sha256 = excluded.candidate_sha256, \
         candidate_mode = excluded.candidate_mode, canary_percent = excluded.canary_percent, \
         evaluations = excluded.evaluations, errors = excluded.errors, disagreements = excluded.disagreements, \
         updated_ms = excluded.updated_ms",
    )
    .bind(&d.agent)
    .bind(&d.active)
    .bind(&d.previous)
    .bind(&d.candidate)
    .bind(&d.candidate_mode)
    .bind(d.canary_percent)
    .bind(d.evaluations)
    .bind(d.errors)
    .bind(d.disagreements)
    .bind(time::to_ms(at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Appends a rollout event.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_event(
    tx: &mut Transaction<'static, Sqlite>,
    agent: &str,
    kind: &str,
    name: &str,
    version: &str,
    automatic: bool,
    reason: &str,
    actor: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO model_events (at_ms, agent, kind, name, version, automatic, reason, actor) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(time::to_ms(at))
    .bind(agent)
    .bind(kind)
    .bind(name)
    .bind(version)
    .bind(automatic)
    .bind(reason)
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The newest events first.
pub(crate) async fn list_events(
    db: impl SqliteExecutor<'_>,
    limit: i64,
) -> Result<Vec<EventRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT seq, at_ms, agent, kind, name, version, automatic, reason, actor FROM model_events \
         ORDER BY seq DESC LIMIT ?",
    )
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(EventRow {
                seq: r.get("seq"),
                at: time::from_ms(r.get("at_ms"))?,
                agent: r.get("agent"),
                kind: r.get("kind"),
                name: r.get("name"),
                version: r.get("version"),
                automatic: r.get("automatic"),
                reason: r.get("reason"),
                actor: r.get("actor"),
            })
        })
        .collect()
}

/// Trusts a key; `false` when it already was.
pub(crate) async fn insert_key(
    tx: &mut Transaction<'static, Sqlite>,
    key: &KeyRow,
    actor: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO trusted_keys (id, public_key, label, added_ms, added_by) VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT DO NOTHING",
    )
    .bind(&key.id)
    .bind(&key.public_key)
    .bind(&key.label)
    .bind(time::to_ms(at))
    .bind(actor)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a key; `false` when there was none.
pub(crate) async fn delete_key(tx: &mut Transaction<'static, Sqlite>, id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM trusted_keys WHERE id = ?").bind(id).execute(&mut **tx).await?;
    Ok(done.rows_affected() == 1)
}

/// The store's trusted keys.
pub(crate) async fn list_keys(db: impl SqliteExecutor<'_>) -> Result<Vec<KeyRow>, StoreError> {
    let rows =
        sqlx::query("SELECT id, public_key, label FROM trusted_keys ORDER BY added_ms").fetch_all(db).await?;
    Ok(rows
        .iter()
        .map(|r| KeyRow { id: r.get("id"), public_key: r.get("public_key"), label: r.get("label") })
        .collect())
}

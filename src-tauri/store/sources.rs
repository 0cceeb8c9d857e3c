//! Provenance rows: one per file content, device or kind of entry.

use sqlx::{Row, Sqlite, Transaction};

use super::{StoreError, new_uuid, time};
use crate::domain::{SourceId, SourceKind};

/// A source's columns: kind, file name, file SHA-256, device id, workstation id.
type Columns<'a> = (&'static str, Option<&'a str>, Option<&'a str>, Option<Vec<u8>>, Option<Vec<u8>>);

/// Finds the source row for `kind`, creating it on first use: the same file content or device
/// always maps to the same source, so re-imports stay attributed to their first arrival.
pub(crate) async fn find_or_create(
    tx: &mut Transaction<'static, Sqlite>,
    kind: &SourceKind,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<SourceId, StoreError> {
    let (tag, file_name, sha, device, workstation): Columns<'_> = match kind {
        SourceKind::File { name, sha256 } => ("file", Some(name), Some(sha256), None, None),
        SourceKind::Device { device_id } => ("device", None, None, Some(device_id.as_bytes().to_vec()), None),
        SourceKind::Manual => ("manual", None, None, None, None),
        SourceKind::Demo => ("demo", None, None, None, None),
        SourceKind::Clinic { workstation_id } => {
            ("clinic", None, None, None, Some(workstation_id.as_bytes().to_vec()))
        }
    };
    let existing = sqlx::query(
        "SELECT id FROM sources WHERE kind = ?1 AND (file_sha256 IS ?2) AND (device_id IS ?3) \
         AND (workstation_id IS ?4) LIMIT 1",
    )
    .bind(tag)
    .bind(sha)
    .bind(device.as_deref())
    .bind(workstation.as_deref())
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(row) = existing {
        let id: Vec<u8> = row.get("id");
        return source_id(&id);
    }
    let id = SourceId::from_uuid(new_uuid());
    sqlx::query(
        "INSERT INTO sources (id, kind, file_name, file_sha256, device_id, workstation_id, created_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(id.as_bytes().as_slice())
    .bind(tag)
    .bind(file_name)
    .bind(sha)
    .bind(device)
    .bind(workstation)
    .bind(time::to_ms(at))
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

pub(crate) fn source_id(bytes: &[u8]) -> Result<SourceId, StoreError> {
    uuid::Uuid::from_slice(bytes)
        .map(SourceId::from_uuid)
        .map_err(|e| StoreError::Corrupt { what: "source id", problem: e.to_string() })
}

/// A short label per source: the file name, `device:<id>`, `manual` or `demo`.
pub(crate) async fn labels(
    executor: impl sqlx::SqliteExecutor<'_>,
) -> Result<std::collections::HashMap<SourceId, String>, StoreError> {
    let rows = sqlx::query("SELECT id, kind, file_name, device_id, workstation_id FROM sources")
        .fetch_all(executor)
        .await?;
    rows.iter()
        .map(|row| {
            let id: Vec<u8> = row.get("id");
            let kind: String = row.get("kind");
            let file_name: Option<String> = row.get("file_name");
            let device: Option<Vec<u8>> = row.get("device_id");
            let workstation: Option<Vec<u8>> = row.get("workstation_id");
            let label = match (kind.as_str(), file_name, device, workstation) {
                ("file", Some(name), _, _) => name,
                ("device", _, Some(dev), _) => {
                    format!("device:{}", uuid::Uuid::from_slice(&dev).unwrap_or_default())
                }
                ("clinic", _, _, Some(ws)) => {
                    format!("clinic:{}", uuid::Uuid::from_slice(&ws).unwrap_or_default())
                }
                (other, _, _, _) => other.to_owned(),
            };
            Ok((source_id(&id)?, label))
        })
        .collect()
}

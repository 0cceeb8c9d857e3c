//! Exports written by the facade itself (issue 12): the file is written owner-only (0600)
//! under a temporary name beside the destination, flushed, audited, then renamed into place,
//! so a reader never sees half an export and the audit trail says where each export went and
//! which bytes left (`patient.export` with `destination` and the SHA-256 of the bytes).
//!
//! Why the facade writes the file rather than the CLI: the audit event can then name the file
//! and the digest of exactly what was written, and every caller gets the same file mode.
//! An export printed on standard output ([`Workstation::export`]) is audited with the
//! destination `stdout` and its digest.

use std::io::Write;
use std::path::{Path, PathBuf};

use ring::digest::{SHA256, digest};
use serde::Serialize;

use super::{Error, Workstation};
use crate::domain::{Patient, PatientRef};
use crate::export::{self, ExportFormat};
use crate::store::{ObservationQuery, StoreError};

/// What an export wrote, as its audit event records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportReceipt {
    /// The file written (absolute when it could be resolved), or `stdout`.
    pub destination: String,
    /// The SHA-256 of the exported bytes, hex.
    pub sha256: String,
    /// How many bytes.
    pub bytes: u64,
    /// Observations read for it.
    pub rows: usize,
}

impl Workstation {
    /// Writes a patient's record in `format` to the file `destination` (replacing a file there),
    /// owner-only. Audited as `patient.export` with the destination and the bytes' SHA-256,
    /// recorded before the file appears under its name.
    pub async fn export_to(
        &self,
        reference: &PatientRef,
        format: ExportFormat,
        destination: &Path,
    ) -> Result<ExportReceipt, Error> {
        let shown = destination.display().to_string();
        let fail = |problem: String| Error::Export { path: shown.clone(), problem };
        let name = destination.file_name().ok_or_else(|| fail("the destination names no file".to_owned()))?;
        let dir = match destination.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(fail(format!("the directory {} does not exist", dir.display())));
        }
        let (patient, text, rows) = self.read_for_export(reference, format).await?;
        let final_path = dir.canonicalize().map(|d| d.join(name)).unwrap_or_else(|_| destination.to_owned());
        let receipt = receipt(final_path.display().to_string(), text.as_bytes(), rows);
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.part", crate::store::new_uuid().simple()));
        let temp = dir.join(temp_name);
        let written = tokio::task::spawn_blocking({
            let temp = temp.clone();
            move || write_private(&temp, text.as_bytes())
        })
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(fail(e.to_string()));
        }
        self.audit_read("patient.export", Some(&patient), detail(format, &receipt)).await;
        if let Err(e) = std::fs::rename(&temp, destination) {
            let _ = std::fs::remove_file(&temp);
            return Err(fail(e.to_string()));
        }
        Ok(receipt)
    }

    /// Reads a patient and their observations in one snapshot and renders them.
    pub(super) async fn read_for_export(
        &self,
        reference: &PatientRef,
        format: ExportFormat,
    ) -> Result<(Patient, String, usize), Error> {
        let principal = self.authorize(crate::domain::access::Operation::Export).await?;
        let mut tx = self.store.begin_read().await?;
        let patient = self.open_patient(&principal, &mut tx, reference).await?;
        let observations =
            crate::store::query_observations(&mut *tx, patient.id, &ObservationQuery::default()).await?;
        tx.commit().await.map_err(StoreError::from)?;
        let text = export::render(format, &patient, &observations);
        Ok((patient, text, observations.len()))
    }
}

/// The receipt of `bytes` sent to `destination`.
pub(super) fn receipt(destination: String, bytes: &[u8], rows: usize) -> ExportReceipt {
    ExportReceipt {
        destination,
        sha256: hex::encode(digest(&SHA256, bytes)),
        bytes: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
        rows,
    }
}

/// The `patient.export` audit detail.
pub(super) fn detail(format: ExportFormat, receipt: &ExportReceipt) -> serde_json::Value {
    serde_json::json!({
        "format": format.as_str(),
        "rows": receipt.rows,
        "destination": receipt.destination,
        "sha256": receipt.sha256,
        "bytes": receipt.bytes,
    })
}

/// Writes `bytes` to a new file `path`, owner-only, and flushes it to disk.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

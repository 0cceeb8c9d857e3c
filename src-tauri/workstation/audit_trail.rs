//! The audit trail for reviewers: an export that can be checked offline, the offline check,
//! and the break-the-glass events. (Verification and the anchor: `Workstation::verify_audit`,
//! `store/audit.rs`, `store/audit_anchor.rs`.)

use crate::domain::access::Operation;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Error, Workstation};
use crate::domain::PatientRef;
use crate::store::{AuditFilter, BreakGlassEvent, CheckedExport, ExportFault, StoreError};

/// Which events to export; none set exports the whole trail (a complete export).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditSelection {
    /// Events at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Events by this user: the actor (`os:alice`) or the name after its colon (`alice`).
    pub user: Option<String>,
    /// Events about this patient (id or MRN).
    pub patient: Option<PatientRef>,
}

/// What an export wrote (and what its `audit.export` event records).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditExportReport {
    /// Event lines written.
    pub rows: u64,
    /// The chain's head when exported.
    pub head_seq: i64,
    /// No filter: every event, checkable as one chain.
    pub complete: bool,
    /// Where it went (a path, or `stdout`).
    pub destination: String,
    /// SHA-256 of the bytes written.
    pub sha256: String,
}

impl Workstation {
    /// Writes the selected audit events as JSON lines, then a head line, to `path`: a new
    /// owner-only (0600) file that replaces any file there only once it is whole and its
    /// `audit.export` event (filters, rows, destination, SHA-256) is recorded.
    pub async fn export_audit_to_file(
        &self,
        selection: &AuditSelection,
        path: &Path,
    ) -> Result<AuditExportReport, Error> {
        self.authorize(Operation::AuditExport).await?;
        let io = |source| Error::Store(StoreError::Io { path: path.to_owned(), source });
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        // tempfile creates the file 0600 on Unix (O_EXCL, owner read and write only).
        let mut tmp = tempfile::Builder::new().prefix(".vigil-audit-export-").tempfile_in(dir).map_err(io)?;
        let report = {
            let mut out = std::io::BufWriter::new(tmp.as_file_mut());
            let report = self.export_audit(selection, &mut out, path).await?;
            out.flush().map_err(io)?;
            report
        };
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(path).map_err(|e| io(e.error))?;
        Ok(report)
    }

    /// Writes the selected audit events, then the head line, to `out`; `destination` names it
    /// in errors and in the `audit.export` event. Streams from one snapshot without the write
    /// lock; the event is recorded once everything is written (its SHA-256 needs the bytes).
    pub async fn export_audit<W: Write + Send>(
        &self,
        selection: &AuditSelection,
        out: &mut W,
        destination: &Path,
    ) -> Result<AuditExportReport, Error> {
        self.authorize(Operation::AuditExport).await?;
        let patient = match &selection.patient {
            Some(reference) => {
                let mut tx = self.store.begin_read().await?;
                let found = super::find(&mut tx, reference).await?;
                tx.commit().await.map_err(StoreError::from)?;
                Some(found.id)
            }
            None => None,
        };
        let filter = AuditFilter { since: selection.since, user: selection.user.clone(), patient };
        let written = self.store.export_audit(&filter, out, destination).await?;
        let destination = destination.display().to_string();
        let detail = serde_json::json!({
            "filters": filter,
            "rows": written.rows,
            "head_seq": written.head_seq,
            "complete": written.complete,
            "destination": destination,
            "sha256": written.sha256,
        });
        self.audit_read_id("audit.export", patient, detail).await;
        Ok(AuditExportReport {
            rows: written.rows,
            head_seq: written.head_seq,
            complete: written.complete,
            destination,
            sha256: written.sha256,
        })
    }

    /// Checks an audit export offline: no store and no key needed (so nothing to audit). The
    /// outer error is a file that cannot be read; the inner one names the first bad line.
    pub fn check_audit_export(path: &Path) -> Result<Result<CheckedExport, ExportFault>, Error> {
        let file = std::fs::File::open(path)
            .map_err(|source| Error::Store(StoreError::Io { path: path.to_owned(), source }))?;
        Ok(crate::store::check_export(std::io::BufReader::new(file)))
    }

    /// The break-the-glass events (`patient.break_glass`) at or after `since`, oldest first.
    /// They name patients: audited (`audit.break_glass`).
    pub async fn break_glass_events(
        &self,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<BreakGlassEvent>, Error> {
        self.authorize(Operation::AuditRead).await?;
        let events = self.store.break_glass_events(since).await?;
        let detail = serde_json::json!({ "since": since, "rows": events.len() });
        self.audit_read_id("audit.break_glass", None, detail).await;
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{AuditEvent, KeySource};
    use crate::workstation::OpenOptions;

    #[tokio::test]
    async fn break_glass_events_list_time_actor_patient_reason_and_until_and_are_audited() {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workstation::open(OpenOptions {
            data_dir: dir.path().join("data"),
            key_source: Some(KeySource::File(dir.path().join("vigil.key"))),
            create: true,
            purpose: crate::workstation::StorePurpose::Clinical,
        })
        .await
        .unwrap()
        .act_as_for_tests(crate::domain::access::Role::Auditor);
        let patient = crate::domain::PatientId::from_uuid(uuid::Uuid::now_v7());
        let at = DateTime::parse_from_rfc3339("2026-12-02T10:00:00Z").unwrap().with_timezone(&Utc);
        let mut tx = ws.store().begin().await.unwrap();
        for (minutes, detail) in [
            (0, serde_json::json!({ "reason": "unconscious in ED", "until": "2026-12-02T12:00:00Z" })),
            (30, serde_json::json!({ "until": "later" })),
        ] {
            let event = AuditEvent {
                actor: "user:dr.ward".into(),
                action: "patient.break_glass",
                patient: Some(patient),
                detail,
            };
            crate::store::audit_record(&mut tx, &event, at + chrono::Duration::minutes(minutes))
                .await
                .unwrap();
        }
        let other = AuditEvent {
            actor: "os:x".into(),
            action: "patient.read",
            patient: None,
            detail: serde_json::json!({}),
        };
        crate::store::audit_record(&mut tx, &other, at).await.unwrap();
        tx.commit().await.unwrap();

        let all = ws.break_glass_events(None).await.unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!((all[0].at, all[0].actor.as_str(), all[0].patient), (at, "user:dr.ward", Some(patient)));
        assert_eq!(all[0].reason.as_deref(), Some("unconscious in ED"));
        assert_eq!(all[0].until.map(|u| u.to_rfc3339()), Some("2026-12-02T12:00:00+00:00".to_owned()));
        assert_eq!(all[1].problem.as_deref(), Some("no reason, until 'later' is not an RFC 3339 time"));
        let later = ws.break_glass_events(Some(at + chrono::Duration::minutes(10))).await.unwrap();
        assert_eq!(later.iter().map(|e| e.seq).collect::<Vec<_>>(), [all[1].seq]);
        assert!(ws.verify_audit().await.unwrap().intact());
        let recent = ws.recent_audit(5).await.unwrap();
        assert!(recent.iter().any(|(_, _, action, _)| action == "audit.break_glass"), "{recent:?}");
    }
}

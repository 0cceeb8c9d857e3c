//! Consent (issue 12): what each patient agreed to is versioned, audited and enforced.
//!
//! - **Monitoring.** Without it, the patient's readings are refused wherever they come from (an
//!   import rejects each record with the reason, `record_observations` and manual entry fail
//!   whole; `store::observations` checks every batch), and the patient is never assessed: the
//!   monitor skips them, `assess` and `monitor --replay` refuse, the screens show no risk.
//! - **Clinic sync.** Without it, nothing of the patient enters the outbox (`store::outbox`
//!   leaves the message out, a trigger refuses one that slips past). Withdrawing it removes the
//!   patient's unsent messages in the same transaction. Granting it enqueues the patient's
//!   current record and their stored observations as one `backfill` message per source (each
//!   names the patient and a `seq` range of immutable rows, so the queue grows by the number of
//!   sources, not of rows; rows the server already has are deduplicated there by observation id).
//!   Alerts and device assignments from before the grant are not sent.
//! - **Research** is recorded and versioned; nothing in Vigil uses research data yet.
//!
//! Every change is a new version in `consent_history` (who, when, an optional note) with a
//! `consent.change` audit event carrying the flags before and after, in one transaction.
//! `update_patient` with changed flags goes through the same path.

use crate::domain::access::Operation;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Error, Workstation};
use crate::domain::{Consent, InvalidField, Patient, PatientRef};
use crate::store::{self, ConsentVersion, StoreError};

/// What a consent change did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsentChange {
    /// The patient's id.
    pub patient_id: String,
    /// The flags before.
    pub before: Consent,
    /// The flags now.
    pub after: Consent,
    /// The version now in force (unchanged when the flags were already these).
    pub version: u32,
    /// Whether a new version was recorded.
    pub changed: bool,
    /// Unsent outbox messages removed (clinic-sync consent withdrawn).
    pub outbox_removed: u64,
    /// Outbox messages queued (clinic-sync consent granted, or changed flags sent on).
    pub outbox_queued: u64,
}

impl Workstation {
    /// Records `consent` as the patient's new consent (module docs). Flags equal to the current
    /// ones record nothing. `note` (trimmed, at most 1,000 characters, no control characters but
    /// line breaks) says what was signed or who gave it.
    pub async fn set_consent(
        &self,
        reference: &PatientRef,
        consent: Consent,
        note: Option<&str>,
    ) -> Result<ConsentChange, Error> {
        let principal = self.authorize(Operation::ConsentChange).await?;
        let note = clean_note(note)?;
        let now = Utc::now();
        let mut tx = self.store.begin().await?;
        let current = self.open_patient(&principal, &mut tx, reference).await?;
        let change = self.change_consent(&mut tx, &current, consent, note.as_deref(), now).await?;
        tx.commit().await.map_err(StoreError::from)?;
        if change.changed {
            tracing::info!(version = change.version, removed = change.outbox_removed, "consent changed");
        }
        Ok(change)
    }

    /// Every version of the patient's consent, oldest first. Audited (`consent.read`).
    pub async fn consent_history(&self, reference: &PatientRef) -> Result<Vec<ConsentVersion>, Error> {
        let principal = self.authorize(Operation::ConsentRead).await?;
        let mut tx = self.store.begin_read().await?;
        let patient = self.open_patient(&principal, &mut tx, reference).await?;
        let history = store::consent::history(&mut *tx, patient.id).await?;
        self.audit_read("consent.read", Some(&patient), serde_json::json!({ "versions": history.len() }))
            .await;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(history)
    }

    /// The one path of every consent change, inside the caller's transaction: history row,
    /// flags, outbox (removed on withdrawal, queued on grant), audit event.
    pub(super) async fn change_consent(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        current: &Patient,
        consent: Consent,
        note: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ConsentChange, Error> {
        let before = current.consent;
        let mut change = ConsentChange {
            patient_id: current.id.to_string(),
            before,
            after: consent,
            version: 0,
            changed: false,
            outbox_removed: 0,
            outbox_queued: 0,
        };
        if consent == before {
            change.version = store::consent::latest(&mut **tx, current.id).await?.map_or(0, |v| v.version);
            return Ok(change);
        }
        let withdrawn = before.clinic_sync && !consent.clinic_sync;
        if withdrawn {
            change.outbox_removed = store::outbox_pending_for(tx, current.id).await?;
        }
        change.version =
            store::consent::record(tx, current.id, consent, &self.actor_name(), note, now).await?;
        // Withdrawing clinic sync deletes the unsent messages here (trigger of migration 0011).
        store::consent::apply(tx, current.id, consent, now).await?;
        if withdrawn && store::outbox_pending_for(tx, current.id).await? != 0 {
            return Err(Error::Internal(
                "unsent outbox messages survived a withdrawal of clinic sync".into(),
            ));
        }
        if consent.clinic_sync {
            change.outbox_queued = self.queue_on_sync(tx, current, consent, !before.clinic_sync, now).await?;
        }
        let flags = |c: Consent| serde_json::json!({ "monitoring": c.monitoring, "clinic_sync": c.clinic_sync, "research": c.research });
        let detail = serde_json::json!({
            "before": flags(before),
            "after": flags(consent),
            "version": change.version,
            "outbox_removed": change.outbox_removed,
            "outbox_queued": change.outbox_queued,
            "note": note.is_some(),
        });
        self.audit(tx, "consent.change", Some(current), detail).await?;
        change.changed = true;
        Ok(change)
    }

    /// With clinic sync on: the patient's record as it now is (the server upserts a patient by
    /// id) and, when sync was just granted, their observations as one `backfill` message per
    /// source. Returns the messages queued.
    async fn queue_on_sync(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
        current: &Patient,
        consent: Consent,
        granted: bool,
        now: DateTime<Utc>,
    ) -> Result<u64, Error> {
        let patient = Patient { consent, ..current.clone() };
        let payload = serde_json::to_value(&patient)
            .map_err(|e| StoreError::Corrupt { what: "patient", problem: e.to_string() })?;
        let mut queued = 0;
        let id = Some(patient.id);
        if store::outbox_enqueue(tx, "patient", Some(patient.id.as_bytes()), id, "update", &payload, now)
            .await?
        {
            queued += 1;
        }
        if !granted {
            return Ok(queued);
        }
        for (source, from_seq, to_seq, count) in store::observation_ranges_by_source(tx, patient.id).await? {
            let payload = serde_json::json!({
                "source_id": source,
                "patient_id": patient.id,
                "from_seq": from_seq,
                "to_seq": to_seq,
                "count": count,
            });
            let entity = Some(source.as_bytes().as_slice());
            if store::outbox_enqueue(tx, "observations", entity, id, "backfill", &payload, now).await? {
                queued += 1;
            }
        }
        Ok(queued)
    }
}

/// A consent note as kept: trimmed, empty is none, bounded, no control characters but line
/// breaks and tabs (it is shown in a terminal).
fn clean_note(note: Option<&str>) -> Result<Option<String>, InvalidField> {
    let Some(text) = note.map(str::trim).filter(|t| !t.is_empty()) else { return Ok(None) };
    if text.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t')) {
        return Err(InvalidField::new("note", "contains a control character"));
    }
    if text.chars().count() > store::consent::MAX_NOTE_CHARS {
        return Err(InvalidField::new(
            "note",
            format!("is longer than {} characters", store::consent::MAX_NOTE_CHARS),
        ));
    }
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(clean_note(None).unwrap(), None);
        assert_eq!(clean_note(Some("  ")).unwrap(), None);
        assert_eq!(clean_note(Some(" form B\nsigned ")).unwrap().as_deref(), Some("form B\nsigned"));
        assert_eq!(
            clean_note(Some("a\u{1b}[2J")).unwrap_err().to_string(),
            "note: contains a control character"
        );
        let long = "x".repeat(1_001);
        assert_eq!(clean_note(Some(&long)).unwrap_err().to_string(), "note: is longer than 1000 characters");
    }
}

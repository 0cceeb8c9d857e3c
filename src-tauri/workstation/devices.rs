//! The device registry's verbs (issue 13): assign a device to a patient, map a multi-user
//! device's users, list devices with their link state, and store what a live device sent.
//! The running feed that calls [`Workstation::record_device_values`] is `device_feed.rs`.

use chrono::Utc;

use super::{Error, Workstation};
use crate::domain::access::Operation;
use crate::domain::{Device, NewDevice, NewObservation, PatientId, PatientRef, SourceKind};
use crate::store::{self, DeviceRecord, DeviceRef, InsertReport, LinkReport, StoreError};

/// One device's values of one flush.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceBatch {
    /// The device.
    pub device: crate::domain::DeviceId,
    /// Its readings, already placed in time and checked.
    pub observations: Vec<NewObservation>,
    /// What its link reported.
    pub report: LinkReport,
}

/// What one flush did for one device.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchOutcome {
    /// Stored (duplicates by content counted, not stored again).
    Stored(InsertReport),
    /// Refused whole, with the reason: a patient of the batch has not consented to monitoring
    /// (issue 12), or a reading's time is outside what the store accepts (a device clock far
    /// ahead).
    Refused(String),
}

impl Workstation {
    /// Every device with what its links last reported. Audited like [`Workstation::devices`].
    pub async fn device_records(&self) -> Result<Vec<DeviceRecord>, Error> {
        self.authorize(Operation::DevicesRead).await?;
        let mut tx = self.store.begin_read().await?;
        let records = store::device_records(&mut tx).await?;
        tx.commit().await.map_err(StoreError::from)?;
        self.audit_read_id("device.list", None, serde_json::json!({ "count": records.len() })).await;
        Ok(records)
    }

    /// One device, by id or address.
    pub async fn device_record(&self, device: &DeviceRef) -> Result<DeviceRecord, Error> {
        self.authorize(Operation::DevicesRead).await?;
        let mut tx = self.store.begin_read().await?;
        let record = store::device_record(&mut tx, device).await?;
        tx.commit().await.map_err(StoreError::from)?;
        record.ok_or_else(|| Error::DeviceNotFound(device.to_string()))
    }

    /// The device at a BLE address, registering it first from what a scan or a recording says
    /// about it.
    pub async fn device_for_link(&self, new: NewDevice) -> Result<DeviceRecord, Error> {
        let address = new.ble_address.clone().ok_or_else(|| {
            crate::domain::InvalidField::new("ble_address", "a linked device needs its BLE address")
        })?;
        let reference = DeviceRef::Address(address.to_ascii_uppercase());
        match self.device_record(&reference).await {
            Err(Error::DeviceNotFound(_)) => {
                self.add_device(new).await?;
                self.device_record(&reference).await
            }
            other => other,
        }
    }

    /// Assigns a device to a patient (`Some`) or takes it off its patient (`None`). A patient
    /// without monitoring consent cannot be given a device: its readings would be refused.
    pub async fn assign_device(
        &self,
        device: &DeviceRef,
        patient: Option<&PatientRef>,
    ) -> Result<Device, Error> {
        let principal = self.authorize(Operation::DeviceAssign).await?;
        let mut tx = self.store.begin().await?;
        let record = store::device_record(&mut tx, device)
            .await?
            .ok_or_else(|| Error::DeviceNotFound(device.to_string()))?;
        let patient = match patient {
            Some(reference) => {
                let found = self.open_patient(&principal, &mut tx, reference).await?;
                if !found.consent.monitoring {
                    return Err(Error::NoMonitoringConsent {
                        patient: found.id,
                        refused: "no device assigned",
                    });
                }
                Some(found.id)
            }
            None => None,
        };
        let previous = record.device.patient_id;
        let updated = store::assign_device(&mut tx, &record.device, patient, Utc::now()).await?;
        let detail = serde_json::json!({
            "device_id": updated.id,
            "kind": updated.kind.as_str(),
            "previous_patient": previous,
        });
        let action = if patient.is_some() { "device.assign" } else { "device.unassign" };
        self.audit_id(&mut tx, action, patient.or(previous), detail).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(updated)
    }

    /// Maps a multi-user device's user index to a patient (`None` removes the mapping).
    pub async fn set_device_user(
        &self,
        device: &DeviceRef,
        user_index: u8,
        patient: Option<&PatientRef>,
    ) -> Result<(), Error> {
        let principal = self.authorize(Operation::DeviceAssign).await?;
        if user_index == 0xFF {
            return Err(crate::domain::InvalidField::new(
                "user",
                "255 means \"unknown user\" and maps to nobody",
            )
            .into());
        }
        let mut tx = self.store.begin().await?;
        let record = store::device_record(&mut tx, device)
            .await?
            .ok_or_else(|| Error::DeviceNotFound(device.to_string()))?;
        let patient = match patient {
            Some(reference) => Some(self.open_patient(&principal, &mut tx, reference).await?.id),
            None => None,
        };
        store::set_device_user(&mut tx, record.device.id, user_index, patient).await?;
        let detail = serde_json::json!({ "device_id": record.device.id, "user_index": user_index });
        self.audit_id(&mut tx, "device.user", patient, detail).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Stores one flush of live devices in one transaction: each device's readings under its
    /// own source, deduplicated by content (a reconnect that resends adds nothing), and what
    /// its link reported. A batch whose patient has not consented to monitoring is refused
    /// whole and the others are stored. Not audited per flush (one a second per device would
    /// drown the trail): the feed audits each connection and its counts
    /// (`device.connected`, `device.disconnected`), and every row keeps its source.
    pub async fn record_device_values(&self, batches: &[DeviceBatch]) -> Result<Vec<BatchOutcome>, Error> {
        self.authorize(Operation::ObservationsRecord).await?;
        let bounds = self.time_bounds().await?;
        let now = Utc::now();
        let mut tx = self.store.begin().await?;
        let mut outcomes = Vec::with_capacity(batches.len());
        'batches: for batch in batches {
            for o in &batch.observations {
                if let Err(problem) = bounds.check(o.effective, None) {
                    outcomes.push(BatchOutcome::Refused(format!("{}: {problem}", o.kind)));
                    continue 'batches;
                }
            }
            let patients: std::collections::BTreeSet<PatientId> =
                batch.observations.iter().map(|o| o.patient_id).collect();
            for p in patients {
                let found = super::find(&mut tx, &PatientRef::Id(p)).await?;
                if !found.consent.monitoring {
                    let reason = "the patient has not consented to monitoring: readings refused";
                    outcomes.push(BatchOutcome::Refused(reason.to_owned()));
                    continue 'batches;
                }
            }
            let source = SourceKind::Device { device_id: batch.device };
            let report = store::insert_observations(&mut tx, &source, &batch.observations, now).await?;
            store::note_link(&mut tx, batch.device, &batch.report).await?;
            outcomes.push(BatchOutcome::Stored(report));
        }
        tx.commit().await.map_err(StoreError::from)?;
        Ok(outcomes)
    }

    /// Audits a device link's connection or disconnection, with its counts.
    pub async fn audit_device_link(
        &self,
        device: &Device,
        action: &'static str,
        detail: serde_json::Value,
    ) -> Result<(), Error> {
        self.authorize(Operation::ObservationsRecord).await?;
        let mut tx = self.store.begin().await?;
        let mut detail = detail;
        if let Some(map) = detail.as_object_mut() {
            map.insert("device_id".into(), serde_json::json!(device.id));
            map.insert("kind".into(), serde_json::json!(device.kind.as_str()));
        }
        self.audit_id(&mut tx, action, device.patient_id, detail).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }
}

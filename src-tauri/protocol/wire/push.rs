//! Push: the workstation's outbox, in order, in batches.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{AbsentReason, InvalidField, Kind, NewObservation, ObservationValue, PatientId};

/// How far the server has applied a workstation's outbox: every message before `message`, and
/// of message `message` the observations up to local sequence number `row` (0 for a message
/// that carries no rows, and for an observation message once all its rows are in). Ordered by
/// `message`, then `row`. A new workstation starts at [`Position::START`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
pub struct Position {
    /// The outbox sequence number of the last message applied (in full or in part).
    pub message: i64,
    /// Of that message, the last observation applied (its local `seq`), or 0.
    pub row: i64,
}

impl Position {
    /// Nothing applied yet.
    pub const START: Position = Position { message: 0, row: 0 };
}

/// One observation on the wire, as a JSON array: `[id, kind, time_ms, offset_s, value, absent]`
/// (a quarter of the bytes of an object with names; a push of a million rows is all of them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WireObservation(
    /// The id the first workstation gave it.
    pub Uuid,
    /// What.
    pub Kind,
    /// When: milliseconds since the Unix epoch, UTC.
    pub i64,
    /// The source's UTC offset, seconds.
    pub i32,
    /// The value in the kind's unit, or null when absent.
    pub Option<f64>,
    /// Why it is absent (FHIR data-absent-reason), or null.
    pub Option<AbsentReason>,
);

impl WireObservation {
    /// The value: a quantity or an absence, exactly one of them.
    ///
    /// # Errors
    /// Both or neither given.
    pub fn value(&self) -> Result<ObservationValue, InvalidField> {
        match (self.4, self.5) {
            (Some(v), None) => Ok(ObservationValue::Quantity(v)),
            (None, Some(reason)) => Ok(ObservationValue::Absent(reason)),
            (Some(_), Some(_)) => Err(InvalidField::new("value", "both a value and an absent reason")),
            (None, None) => Err(InvalidField::new("value", "neither a value nor an absent reason")),
        }
    }

    /// Validates the row for `patient` as any importer's row is validated (finite, plausible,
    /// a time that exists).
    ///
    /// # Errors
    /// The field and what was wrong with it.
    pub fn validate(&self, patient: PatientId) -> Result<NewObservation, InvalidField> {
        let offset = chrono::FixedOffset::east_opt(self.3)
            .ok_or_else(|| InvalidField::new("offset_s", format!("{} s is not a UTC offset", self.3)))?;
        let instant = chrono::DateTime::from_timestamp_millis(self.2)
            .ok_or_else(|| InvalidField::new("time_ms", format!("{} is not a time", self.2)))?;
        NewObservation::new(patient, self.1, self.value()?, instant.with_timezone(&offset))
    }

    /// The row for an observation.
    pub fn from_parts(id: Uuid, kind: Kind, time_ms: i64, offset_s: i32, value: ObservationValue) -> Self {
        match value {
            ObservationValue::Quantity(v) => Self(id, kind, time_ms, offset_s, Some(v), None),
            ObservationValue::Absent(reason) => Self(id, kind, time_ms, offset_s, None, Some(reason)),
        }
    }
}

/// One outbox message, or for a large observation message the part of its rows that fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushItem {
    /// The message's outbox sequence number.
    pub message: i64,
    /// The message's id (its idempotency key for the clinic).
    pub id: Uuid,
    /// `patient`, `device`, `alert`, `observations`, ...
    pub entity: String,
    /// The entity's id, when it has one.
    pub entity_id: Option<Uuid>,
    /// `insert`, `update`, ...
    pub op: String,
    /// Whose data this carries, if anyone's.
    pub patient_id: Option<Uuid>,
    /// The message as the workstation wrote it.
    pub payload: serde_json::Value,
    /// For `observations`: the rows of this part, in local order (none when the part only
    /// closes the message's range).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<WireObservation>,
    /// For `observations`: the local sequence number of this part's last row (0 otherwise).
    #[serde(default)]
    pub row: i64,
}

impl PushItem {
    /// Where the outbox stands once this item is applied.
    pub fn position(&self) -> Position {
        Position { message: self.message, row: self.row }
    }
}

/// The workstation's audit-chain head, signed with the request: the server keeps the last
/// one it acknowledged, so a chain later truncated or rolled back no longer extends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    /// The number of the last audit event.
    pub seq: i64,
    /// Its chain hash, hex.
    pub hash: String,
}

/// POST /v1/push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushBatch {
    /// Where the server's acknowledgement stood when the batch was cut: the server applies the
    /// batch only from there.
    pub after: Position,
    /// The items, in outbox order, all after `after`.
    pub items: Vec<PushItem>,
    /// The app's version.
    pub app_version: String,
    /// Installed model packages: name -> active version.
    #[serde(default)]
    pub models: BTreeMap<String, String>,
    /// The audit head at the time of the batch.
    pub audit_head: Option<AuditHead>,
    /// Messages the outbox still holds after this batch (IT sees it as lag).
    #[serde(default)]
    pub pending: u64,
}

impl PushBatch {
    /// Where the outbox stands once the whole batch is applied.
    pub fn upto(&self) -> Position {
        self.items.last().map_or(self.after, PushItem::position)
    }

    /// Observation rows in the batch.
    pub fn rows(&self) -> usize {
        self.items.iter().map(|i| i.rows.len()).sum()
    }

    /// Checks the batch's shape: items strictly after `after` and in order, observation parts
    /// with rows, other messages without. The error names the item by its index.
    ///
    /// # Errors
    /// The first problem found.
    pub fn check(&self) -> Result<(), String> {
        let mut last = self.after;
        for (i, item) in self.items.iter().enumerate() {
            let position = item.position();
            if position <= last {
                return Err(format!(
                    "items[{i}]: position {}/{} is not after {}/{}",
                    position.message, position.row, last.message, last.row
                ));
            }
            if item.entity == "observations" {
                // A part may be empty when it only closes its message's range.
                if item.row <= 0 {
                    return Err(format!("items[{i}]: an observations part without its last row number"));
                }
                if item.patient_id.is_none() {
                    return Err(format!("items[{i}]: observations without patient_id"));
                }
            } else if !item.rows.is_empty() || item.row != 0 {
                return Err(format!("items[{i}]: a {} message carries observation rows", item.entity));
            }
            last = position;
        }
        Ok(())
    }
}

/// The server's acknowledgement (also the 409 body when a batch does not start at it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushAck {
    /// Everything up to here is applied and durable on the server.
    pub acknowledged: Position,
    /// Observation rows this request added (0 for a batch sent again).
    pub inserted: u64,
    /// Observation rows this request carried that the clinic already held.
    pub duplicates: u64,
    /// The last audit head the server acknowledged from this workstation.
    pub audit_head: Option<AuditHead>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(message: i64, row: i64) -> PushItem {
        PushItem {
            message,
            id: Uuid::nil(),
            entity: if row > 0 { "observations" } else { "patient" }.into(),
            entity_id: None,
            op: "insert".into(),
            patient_id: Some(Uuid::nil()),
            payload: serde_json::json!({}),
            rows: if row > 0 {
                vec![WireObservation(Uuid::nil(), Kind::HeartRate, 0, 0, Some(70.0), None)]
            } else {
                vec![]
            },
            row,
        }
    }

    #[test]
    fn positions_order_by_message_then_row() {
        assert!(Position { message: 2, row: 0 } > Position { message: 1, row: 900 });
        assert!(Position { message: 2, row: 5 } > Position { message: 2, row: 4 });
    }

    #[test]
    fn a_batch_must_run_forward_from_where_it_starts() {
        let batch = |after, items| PushBatch {
            after,
            items,
            app_version: "t".into(),
            models: BTreeMap::new(),
            audit_head: None,
            pending: 0,
        };
        let ok = batch(Position { message: 1, row: 10 }, vec![item(1, 20), item(2, 0), item(3, 7)]);
        assert_eq!(ok.check(), Ok(()));
        assert_eq!(ok.upto(), Position { message: 3, row: 7 });
        let back = batch(Position { message: 2, row: 0 }, vec![item(1, 20)]);
        assert!(back.check().unwrap_err().starts_with("items[0]"));
        let mut rowless = item(4, 0);
        rowless.entity = "observations".into();
        assert!(batch(Position::START, vec![rowless]).check().unwrap_err().contains("last row number"));
    }

    #[test]
    fn a_row_is_an_array_and_refuses_implausible_values() {
        let row = WireObservation(Uuid::nil(), Kind::HeartRate, 1_767_254_400_000, 3600, Some(72.0), None);
        let text = serde_json::to_string(&row).unwrap();
        assert!(
            text.starts_with(
                "[\"00000000-0000-0000-0000-000000000000\",\"heart_rate\",1767254400000,3600,72.0,null]"
            ),
            "{text}"
        );
        let patient = PatientId(Uuid::nil());
        assert!(row.validate(patient).is_ok());
        let wild = WireObservation(Uuid::nil(), Kind::HeartRate, 0, 0, Some(9_000.0), None);
        assert_eq!(wild.validate(patient).unwrap_err().field, "value");
        let both =
            WireObservation(Uuid::nil(), Kind::HeartRate, 0, 0, Some(60.0), Some(AbsentReason::Masked));
        assert!(both.validate(patient).is_err());
    }
}

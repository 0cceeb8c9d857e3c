//! Pull: the clinic's changes from its other workstations, after a cursor.
//!
//! The cursor is a clinic version. Every transaction that writes a clinic's rows on the
//! server first takes the next version from the clinic's one counter row (`UPDATE ... SET
//! version = version + 1`), and holds that row's lock until it commits, so versions become
//! visible in the order they were taken: when version `v` is visible, every version below it
//! is committed too, and "after my cursor" can never step over a commit that lands later. A
//! sequence would not do: its numbers are taken in one order and committed in another.
//!
//! A page holds whole versions (a version is one pushed batch, at most
//! [`super::MAX_ROWS_PER_REQUEST`] rows), so a cursor is always between versions; a
//! workstation saves its cursor after applying each page and resumes from it after a cut, which
//! also makes a new workstation's first pull (the clinic's history from version 0) a resumable
//! snapshot.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::push::WireObservation;

/// One change another workstation pushed (anything but observations).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PulledChange {
    /// The clinic version that carried it.
    pub version: i64,
    /// The workstation that pushed it.
    pub workstation_id: Uuid,
    /// The outbox message's id.
    pub id: Uuid,
    /// As pushed.
    pub entity: String,
    /// As pushed.
    pub entity_id: Option<Uuid>,
    /// As pushed.
    pub op: String,
    /// As pushed.
    pub patient_id: Option<Uuid>,
    /// As pushed.
    pub payload: serde_json::Value,
}

/// Observations another workstation pushed for one patient in one version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PulledObservations {
    /// The clinic version that carried them.
    pub version: i64,
    /// The workstation that pushed them.
    pub workstation_id: Uuid,
    /// Whose.
    pub patient_id: Uuid,
    /// The rows.
    pub rows: Vec<WireObservation>,
}

/// GET /v1/pull?after=CURSOR&limit=N.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PullPage {
    /// Changes in version order.
    pub changes: Vec<PulledChange>,
    /// Observations in version order.
    pub observations: Vec<PulledObservations>,
    /// The cursor to save once this page is applied: the last version it holds in full.
    pub cursor: i64,
    /// Whether versions after `cursor` are waiting (ask again at once).
    pub more: bool,
}

//! What the window watches between screens (issue 11): the count badge (new alerts), the
//! critical alerts the banner holds until they are acknowledged, and which of those are
//! escalated: a critical alert left new (unacknowledged) for the `escalation_minutes` setting
//! is escalated, notified again and marked.
//!
//! Escalation is derived, never stored: an alert is escalated exactly when it is still new and
//! older than the delay, so every screen and every process agrees without a write. The window
//! remembers which escalations it has already notified ([`escalations_due`]).
//!
//! [`AlertWatch`] carries ids, classes, bands and times only (no names, no values), so the window
//! can poll it every few seconds without writing a read audit event each time; the banner's
//! names come from the (audited) inbox.

use crate::domain::access::Operation;
use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::view;
use crate::agents::RiskLevel;
use crate::agents::alerting::AlertStatus;
use crate::store::{AlertQuery, StoreError};
use crate::workstation::{Error, Workstation};

/// The most critical alerts the banner holds.
pub const BANNER_MAX: i64 = 200;

view! {
    /// A critical alert still new (unacknowledged): the banner holds it.
    pub struct CriticalAlert {
        /// The alert's id.
        pub id: String,
        /// Whose (the patient's id).
        pub patient_id: String,
        /// The event class.
        pub event: String,
        /// Raised, UTC ms (the clock the escalation delay runs on).
        pub created_ms: f64,
        /// Unacknowledged for longer than the delay.
        pub escalated: bool,
    }
}

view! {
    /// The window's live alert state.
    pub struct AlertWatch {
        /// New (unacknowledged) alerts at every level: the badge.
        pub new_alerts: u32,
        /// Critical alerts still new, newest first.
        pub critical: Vec<CriticalAlert>,
        /// The escalation delay in force, minutes.
        pub escalation_minutes: u32,
        /// When this was computed, UTC ms.
        pub at_ms: f64,
    }
}

/// Whether an alert raised at `created_ms`, still new at `now_ms`, is escalated: it has waited
/// for `delay_minutes` or longer (issue 11: "one left unacknowledged for a configurable time
/// (default 5 min) is escalated").
pub fn is_escalated(created_ms: f64, now_ms: f64, delay_minutes: u32) -> bool {
    now_ms - created_ms >= f64::from(delay_minutes) * 60_000.0
}

/// The escalated alerts of `critical` not yet in `notified` (the ids already notified again),
/// in the order given: the ones to notify now.
pub fn escalations_due<'a>(
    critical: &'a [CriticalAlert],
    notified: &HashSet<String>,
) -> Vec<&'a CriticalAlert> {
    critical.iter().filter(|a| a.escalated && !notified.contains(&a.id)).collect()
}

impl Workstation {
    /// The badge count, the critical alerts still new and which are escalated at `now` (the
    /// `escalation_minutes` setting). Ids and times only: not audited (module docs).
    pub async fn alert_watch(&self, now: DateTime<Utc>) -> Result<AlertWatch, Error> {
        self.authorize(Operation::AlertWatch).await?;
        let delay = self.escalation_minutes().await?;
        let critical = AlertQuery {
            statuses: vec![AlertStatus::New],
            min_level: Some(RiskLevel::Critical),
            limit: Some(BANNER_MAX),
            ..Default::default()
        };
        let mut tx = self.store.begin_read().await?;
        let counts = crate::store::count_alerts_by_status(&mut *tx, &AlertQuery::default()).await?;
        let alerts = crate::store::list_alerts(&mut *tx, &critical).await?;
        tx.commit().await.map_err(StoreError::from)?;
        let now_ms = now.timestamp_millis() as f64;
        let new_alerts = counts
            .iter()
            .find(|(s, _)| *s == AlertStatus::New)
            .map_or(0, |(_, n)| u32::try_from(*n).unwrap_or(u32::MAX));
        Ok(AlertWatch {
            new_alerts,
            critical: alerts
                .iter()
                .map(|a| {
                    let created_ms = a.created_at.timestamp_millis() as f64;
                    CriticalAlert {
                        id: a.id.to_string(),
                        patient_id: a.patient_id.to_string(),
                        event: a.event.as_str().to_owned(),
                        created_ms,
                        escalated: is_escalated(created_ms, now_ms, delay),
                    }
                })
                .collect(),
            escalation_minutes: delay,
            at_ms: now_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: f64 = 60_000.0;

    fn critical(id: &str, created_ms: f64, now_ms: f64, delay: u32) -> CriticalAlert {
        CriticalAlert {
            id: id.to_owned(),
            patient_id: "p".to_owned(),
            event: "hypoxia".to_owned(),
            created_ms,
            escalated: is_escalated(created_ms, now_ms, delay),
        }
    }

    #[test]
    fn an_alert_escalates_when_it_has_waited_the_whole_delay_and_not_a_millisecond_before() {
        let raised = 1_000_000.0;
        assert!(!is_escalated(raised, raised, 5));
        assert!(!is_escalated(raised, raised + 5.0 * MINUTE - 1.0, 5));
        assert!(is_escalated(raised, raised + 5.0 * MINUTE, 5));
        assert!(is_escalated(raised, raised + 60.0 * MINUTE, 5));
        // The delay is the setting's, not a constant.
        assert!(!is_escalated(raised, raised + 6.0 * MINUTE, 10));
        assert!(is_escalated(raised, raised + 1.0 * MINUTE, 1));
    }

    #[test]
    fn escalations_due_are_the_escalated_ones_not_yet_notified_in_order() {
        let now = 100.0 * MINUTE;
        let alerts = vec![
            critical("fresh", now - MINUTE, now, 5),
            critical("old", now - 30.0 * MINUTE, now, 5),
            critical("notified", now - 20.0 * MINUTE, now, 5),
            critical("just", now - 5.0 * MINUTE, now, 5),
        ];
        let notified: HashSet<String> = ["notified".to_owned()].into();
        let due: Vec<&str> = escalations_due(&alerts, &notified).iter().map(|a| a.id.as_str()).collect();
        assert_eq!(due, ["old", "just"]);
        assert!(escalations_due(&alerts[..1], &HashSet::new()).is_empty());
    }
}

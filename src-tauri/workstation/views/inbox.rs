//! The alerts inbox: one page of the alerts in the chosen statuses at or above a risk level,
//! filtered and paged by the store query (so an old critical alert is never pushed off the
//! screen by newer, lesser ones), with how many match and each status's count at that level.

use super::convert::alert_view;
use super::{AlertView, view};
use crate::agents::RiskLevel;
use crate::agents::alerting::AlertStatus;
use crate::domain::InvalidField;
use crate::domain::access::Operation;
use crate::store::{AlertQuery, StoreError};
use crate::workstation::{Error, Workstation};

/// The most alerts one page holds.
pub const INBOX_PAGE_MAX: u32 = 500;

/// Which page of the inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxRequest {
    /// Only in these statuses (all when empty).
    pub statuses: Vec<AlertStatus>,
    /// Only at or above this level (the [`RiskLevel`] order); `None`: every level.
    pub min_level: Option<RiskLevel>,
    /// Skip this many of the newest first.
    pub offset: u32,
    /// At most this many, 1 to [`INBOX_PAGE_MAX`].
    pub limit: u32,
}

view! {
    /// Alerts per status at or above the inbox's level (the tabs' counts).
    pub struct StatusCounts {
        /// New.
        pub new: u32,
        /// Acknowledged.
        pub acknowledged: u32,
        /// Resolved.
        pub resolved: u32,
    }
}

view! {
    /// One page of the alerts inbox, newest first (event time).
    pub struct AlertsInbox {
        /// The page.
        pub alerts: Vec<AlertView>,
        /// Alerts matching the statuses and the level, on every page.
        pub total: u32,
        /// Where the page starts among them.
        pub offset: u32,
        /// Each status's count at or above the level.
        pub counts: StatusCounts,
    }
}

impl Workstation {
    /// The alerts inbox: one page of alerts in `request.statuses` at or above
    /// `request.min_level`, newest first, with each patient's name, the total that match and
    /// each status's count at that level. One audit event.
    pub async fn alerts_inbox(&self, request: &InboxRequest) -> Result<AlertsInbox, Error> {
        let principal = self.authorize(Operation::AlertsRead).await?;
        if !(1..=INBOX_PAGE_MAX).contains(&request.limit) {
            let problem = format!("{} alerts a page is outside 1..={INBOX_PAGE_MAX}", request.limit);
            return Err(InvalidField::new("limit", problem).into());
        }
        let query = AlertQuery {
            patient: None,
            statuses: request.statuses.clone(),
            min_level: request.min_level,
            limit: Some(i64::from(request.limit)),
            offset: i64::from(request.offset),
        };
        let mut tx = self.store.begin_read().await?;
        let mut alerts = crate::store::list_alerts(&mut *tx, &query).await?;
        self.withhold_restricted(&principal, &mut tx, &mut alerts).await?;
        let counts = crate::store::count_alerts_by_status(&mut *tx, &query).await?;
        let patients = crate::store::list_patients(&mut *tx).await?;
        let detail = serde_json::json!({
            "alerts": alerts.len(),
            "offset": request.offset,
            "min_level": request.min_level.map(RiskLevel::as_str),
        });
        self.audit_read("alert.list", None, detail).await;
        tx.commit().await.map_err(StoreError::from)?;
        let wanted = |s: &AlertStatus| request.statuses.is_empty() || request.statuses.contains(s);
        // SQL counts are not negative; past u32::MAX alerts they saturate rather than wrap.
        let fits = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        let count = |s: AlertStatus| counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| fits(*n));
        Ok(AlertsInbox {
            alerts: alerts
                .iter()
                .map(|a| alert_view(a, patients.iter().find(|p| p.id == a.patient_id)))
                .collect(),
            total: counts
                .iter()
                .filter(|(s, _)| wanted(s))
                .map(|(_, n)| fits(*n))
                .fold(0, u32::saturating_add),
            offset: request.offset,
            counts: StatusCounts {
                new: count(AlertStatus::New),
                acknowledged: count(AlertStatus::Acknowledged),
                resolved: count(AlertStatus::Resolved),
            },
        })
    }
}

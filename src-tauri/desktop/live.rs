//! The window watches by itself (issue 11): a monitor pass every 2 s (and right after the
//! window's own import), then the alert watch; when something changed, a typed event
//! ([`AlertsChanged`]) tells the screens to refresh, a new critical alert raises a desktop
//! notification, and one left unacknowledged past the `escalation_minutes` setting is notified
//! again (the library decides which: `views::escalations_due`).
//!
//! Notifications never carry a name or a value (a lock screen is not private) and fail
//! quietly: without a notification daemon (Xvfb) the banner in the window still holds the alert.

use std::collections::HashSet;
use std::time::Duration;

use chrono::Utc;
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;
use tauri_specta::Event;

use super::AppState;
use crate::workstation::RaisedAlert;
use crate::workstation::views::{AlertWatch, escalations_due};

/// How often the window runs a pass.
const EVERY: Duration = Duration::from_secs(2);

/// Sent to the window when alerts were raised, acknowledged elsewhere, or escalated.
#[derive(Debug, Clone, serde::Serialize, specta::Type, Event)]
pub(crate) struct AlertsChanged {
    /// Alerts this window's pass raised (other processes' appear in `watch`).
    pub raised: Vec<RaisedAlert>,
    /// The badge count and the banner's critical alerts.
    pub watch: AlertWatch,
    /// Ids escalated (and notified again) just now.
    pub escalated: Vec<String>,
}

/// What the window has already announced.
#[derive(Debug, Default)]
pub(crate) struct Announced {
    /// Critical alerts already notified (or present when the window opened).
    critical: HashSet<String>,
    /// Escalations already notified.
    escalated: HashSet<String>,
    /// The last watch sent: (badge count, critical ids).
    last: Option<(u32, Vec<String>)>,
}

/// What to do after a watch: notify these new critical alerts (event classes), these
/// escalations (ids, event classes), and whether the window must be told.
#[derive(Debug, Default, PartialEq)]
struct Announcement {
    critical: Vec<String>,
    escalated: Vec<(String, String)>,
    changed: bool,
}

impl Announced {
    /// Records `watch` and says what is new in it. The critical alerts present at the first
    /// watch were raised before the window opened: the banner shows them, no notification.
    fn take(&mut self, watch: &AlertWatch) -> Announcement {
        let first = self.last.is_none();
        let ids: Vec<String> = watch.critical.iter().map(|a| a.id.clone()).collect();
        let mut out = Announcement::default();
        for a in &watch.critical {
            if self.critical.insert(a.id.clone()) && !first {
                out.critical.push(a.event.clone());
            }
        }
        for a in escalations_due(&watch.critical, &self.escalated) {
            out.escalated.push((a.id.clone(), a.event.clone()));
        }
        self.escalated.extend(out.escalated.iter().map(|(id, _)| id.clone()));
        let now = (watch.new_alerts, ids);
        out.changed = self.last.as_ref() != Some(&now) || !out.escalated.is_empty();
        self.last = Some(now);
        out
    }
}

/// Runs a pass every [`EVERY`] until the window closes. A pass skipped (the window's import
/// holds the monitor) or failed is retried at the next tick; a failure is logged once per run
/// of failures.
pub(crate) async fn watch(handle: AppHandle) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tick.tick().await;
        match pass(&handle).await {
            Ok(()) => failing = false,
            Err(e) if !failing => {
                tracing::warn!(error = %e, "the window's monitor pass failed; retrying every 2 s");
                failing = true;
            }
            Err(_) => {}
        }
    }
}

/// One pass (unless the window's import holds the monitor, which runs its own), then the watch.
pub(super) async fn pass(handle: &AppHandle) -> Result<(), String> {
    let state = handle.state::<AppState>();
    let ws = state.service()?;
    let orchestrator = state.orchestrator().await?;
    let raised = match state.monitor.try_lock() {
        Ok(mut monitor) => {
            ws.monitor_pass(orchestrator, &mut monitor).await.map_err(|e| e.to_string())?.alerts
        }
        Err(_) => return Ok(()),
    };
    announce(handle, raised).await
}

/// Reads the watch and tells the window and the desktop what changed.
pub(crate) async fn announce(handle: &AppHandle, raised: Vec<RaisedAlert>) -> Result<(), String> {
    let state = handle.state::<AppState>();
    let watch = state.service()?.alert_watch(Utc::now()).await.map_err(|e| e.to_string())?;
    let what = state.announced.lock().map_err(|e| e.to_string())?.take(&watch);
    for event in &what.critical {
        notify(handle, "Critical alert", &format!("{event}: open Vigil to acknowledge"));
    }
    for (_, event) in &what.escalated {
        let minutes = watch.escalation_minutes;
        notify(
            handle,
            "Escalated: critical alert unacknowledged",
            &format!("{event}: unacknowledged for {minutes} minutes or more"),
        );
    }
    if what.changed || !raised.is_empty() {
        let escalated = what.escalated.into_iter().map(|(id, _)| id).collect();
        let event = AlertsChanged { raised, watch, escalated };
        if let Err(e) = event.emit(handle) {
            tracing::warn!(error = %e, "the window could not be told of new alerts");
        }
    }
    Ok(())
}

/// A desktop notification; without a notification service it fails quietly (logged at debug).
fn notify(handle: &AppHandle, title: &str, body: &str) {
    if let Err(e) = handle.notification().builder().title(title).body(body).show() {
        tracing::debug!(error = %e, "no desktop notification (the window's banner still shows the alert)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workstation::views::CriticalAlert;

    fn watch(new_alerts: u32, critical: &[(&str, bool)]) -> AlertWatch {
        AlertWatch {
            new_alerts,
            critical: critical
                .iter()
                .map(|(id, escalated)| CriticalAlert {
                    id: (*id).to_owned(),
                    patient_id: "p".to_owned(),
                    event: format!("event-{id}"),
                    created_ms: 0.0,
                    escalated: *escalated,
                })
                .collect(),
            escalation_minutes: 5,
            at_ms: 0.0,
        }
    }

    #[test]
    fn each_critical_alert_and_each_escalation_is_announced_once() {
        let mut announced = Announced::default();
        // Present when the window opened: shown, not notified; an old escalation is notified.
        let first = announced.take(&watch(2, &[("old", true)]));
        assert_eq!(first.critical, Vec::<String>::new());
        assert_eq!(first.escalated, vec![("old".to_owned(), "event-old".to_owned())]);
        assert!(first.changed);
        // Nothing new: nothing to say.
        assert_eq!(announced.take(&watch(2, &[("old", true)])), Announcement::default());
        // A new critical alert: notified once, the window told.
        let raised = announced.take(&watch(3, &[("new", false), ("old", true)]));
        assert_eq!(raised.critical, vec!["event-new".to_owned()]);
        assert!(raised.changed && raised.escalated.is_empty());
        // It escalates: notified again, once.
        let escalated = announced.take(&watch(3, &[("new", true), ("old", true)]));
        assert_eq!(escalated.escalated, vec![("new".to_owned(), "event-new".to_owned())]);
        assert!(escalated.critical.is_empty() && escalated.changed);
        assert_eq!(announced.take(&watch(3, &[("new", true), ("old", true)])), Announcement::default());
        // Acknowledged elsewhere (the CLI): the badge falls, the window is told.
        let acknowledged = announced.take(&watch(2, &[("old", true)]));
        assert!(acknowledged.changed && acknowledged.critical.is_empty());
    }
}

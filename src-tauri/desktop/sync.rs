//! The window syncs by itself (issue 14): while the store is enrolled, one task pushes the
//! outbox and pulls the clinic's changes every 30 s, and within a few seconds of a change here
//! (it looks at the outbox's pending count every 3 s). While the server cannot be reached it
//! backs off exponentially, with jitter, up to about 5 minutes. It is the only caller of the
//! pass in the window, and awaits each one, so two passes never run at once.
//!
//! It acts as the window's own `system:sync` (the pass asks no role, like the monitor's), so
//! it keeps working while the session is locked or nobody is signed in. A failed pass is
//! recorded by the pass itself (`last_error`); the log says only that sync failed (the
//! reason at debug). After each pass [`SyncChanged`] tells the status bar, and whether the
//! pass stored the clinic's changes (the open screen reads again through its own commands).

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tauri::{AppHandle, Manager, State};
use tauri_specta::Event;
use tokio::time::Instant;

use super::AppState;
use super::commands::words;

/// The audit trail's name for the window's background sync.
const ACTOR: &str = "system:sync";
/// A pass this often while online.
const EVERY: Duration = Duration::from_secs(30);
/// How often the outbox's pending count is looked at (a change is pushed at the next look).
const LOOK: Duration = Duration::from_secs(3);
/// The first retry after a failure (before jitter); it doubles with each failure...
const BACKOFF_FIRST: Duration = Duration::from_secs(5);
/// ... up to this.
const BACKOFF_CAP: Duration = Duration::from_secs(300);

/// Where sync stands, for the status bar: counts and times only, no patient data.
#[derive(Debug, Clone, PartialEq, serde::Serialize, specta::Type)]
pub(crate) struct SyncView {
    /// Whether this workstation is enrolled with a clinic server.
    pub enrolled: bool,
    /// The clinic's name, when enrolled.
    pub clinic_name: Option<String>,
    /// Enrolled and the last attempt (if any) succeeded.
    pub online: bool,
    /// The last complete push and pull (ms since the epoch).
    pub last_success_ms: Option<f64>,
    /// Since when passes fail: the first failure this window saw, else the last attempt.
    pub offline_since_ms: Option<f64>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Outbox messages not yet acknowledged by the server.
    pub pending: u32,
    /// Pulled changes kept for review.
    pub conflicts: u32,
}

/// Sent to the window after each background pass.
#[derive(Debug, Clone, serde::Serialize, specta::Type, Event)]
pub(crate) struct SyncChanged {
    /// Where sync stands now.
    pub status: SyncView,
    /// The pass stored patients or readings from the clinic.
    pub pulled: bool,
}

/// What the window remembers of its background sync between passes.
#[derive(Debug, Default)]
pub(crate) struct SyncMemory {
    /// When the current run of failures began (none while passes succeed).
    offline_since: Mutex<Option<DateTime<Utc>>>,
}

impl SyncMemory {
    fn offline_since(&self) -> Option<DateTime<Utc>> {
        self.offline_since.lock().map(|o| *o).unwrap_or(None)
    }

    fn record(&self, ok: bool, now: DateTime<Utc>) {
        if let Ok(mut since) = self.offline_since.lock() {
            *since = if ok { None } else { Some(since.unwrap_or(now)) };
        }
    }
}

/// Where sync stands (the status bar asks every few seconds; no role, no patient data).
#[tauri::command]
#[specta::specta]
pub(crate) async fn sync_status(state: State<'_, AppState>) -> Result<SyncView, String> {
    view(&state).await
}

async fn view(state: &AppState) -> Result<SyncView, String> {
    let status = state.service()?.sync_status().await.map_err(words)?;
    let ms = |t: DateTime<Utc>| t.timestamp_millis() as f64;
    let online = status.enrolled && status.last_error.is_none();
    let offline_since =
        if online || !status.enrolled { None } else { state.sync.offline_since().or(status.last_attempt) };
    Ok(SyncView {
        enrolled: status.enrolled,
        clinic_name: status.clinic_name,
        online,
        last_success_ms: status.last_success.map(ms),
        offline_since_ms: offline_since.map(ms),
        last_error: status.last_error,
        pending: u32::try_from(status.pending).unwrap_or(u32::MAX),
        conflicts: u32::try_from(status.conflicts).unwrap_or(u32::MAX),
    })
}

/// When the next pass is due.
#[derive(Debug)]
struct Schedule {
    due: Instant,
    /// Failed passes in a row.
    failures: u32,
    /// The pending count after the last pass: a larger one is a change to push.
    pending: u64,
}

impl Schedule {
    fn new(now: Instant) -> Self {
        Self { due: now, failures: 0, pending: 0 }
    }

    /// Whether a pass is due at `now` with `pending` outbox messages. A change is pushed at
    /// once while online; while offline the backoff holds.
    fn due(&mut self, now: Instant, pending: u64) -> bool {
        if self.failures == 0 && pending > self.pending {
            self.due = self.due.min(now);
        }
        now >= self.due
    }

    fn passed(&mut self, now: Instant, pending: u64) {
        *self = Self { due: now + EVERY, failures: 0, pending };
    }

    /// `jitter` in [0, 1].
    fn failed(&mut self, now: Instant, pending: u64, jitter: f64) {
        self.failures = self.failures.saturating_add(1);
        self.due = now + backoff(self.failures, jitter);
        self.pending = pending;
    }
}

/// The wait after `failures` failures in a row: 5 s doubled each time up to 5 minutes, of
/// which a random half (`jitter` in [0, 1]) is dropped, so that a clinic's workstations do not
/// all come back at the same second after an outage.
fn backoff(failures: u32, jitter: f64) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    let full = BACKOFF_FIRST.saturating_mul(1 << doublings).min(BACKOFF_CAP);
    full.mul_f64(1.0 - 0.5 * jitter.clamp(0.0, 1.0))
}

/// A number in [0, 1] from the system's randomness (0.5 without it).
fn jitter() -> f64 {
    let mut bytes = [0u8; 4];
    match ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX),
        Err(_) => 0.5,
    }
}

/// The background sync: runs until the window closes (module docs).
pub(crate) async fn run(handle: AppHandle) {
    let state = handle.state::<AppState>();
    let Ok(ws) = state.service() else { return };
    let mut schedule = Schedule::new(Instant::now());
    let mut tick = tokio::time::interval(LOOK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let pending = match ws.sync_pending().await {
            Ok(Some(pending)) => pending,
            // Not enrolled (yet: IT may enrol from the command line while the window is open).
            Ok(None) => {
                schedule = Schedule::new(Instant::now());
                continue;
            }
            Err(e) => {
                tracing::debug!(error = %e, "the sync state could not be read");
                continue;
            }
        };
        if !schedule.due(Instant::now(), pending) {
            continue;
        }
        let outcome = ws.sync_pass(ACTOR).await;
        let pulled = match &outcome {
            Ok(report) => {
                if schedule.failures > 0 {
                    tracing::info!("sync: the clinic server is reachable again");
                }
                tracing::debug!(
                    pushed_rows = report.pushed_rows,
                    pulled_patients = report.pulled.patients_added + report.pulled.patients_updated,
                    pulled_rows = report.pulled.observations.inserted,
                    pending = report.pending,
                    "sync pass"
                );
                schedule.passed(Instant::now(), report.pending);
                report.pulled.patients_added
                    + report.pulled.patients_updated
                    + report.pulled.observations.inserted
                    > 0
            }
            Err(e) => {
                if schedule.failures == 0 {
                    tracing::warn!("sync failed; retrying with backoff (`vigil sync status` says why)");
                }
                tracing::debug!(error = %e, failures = schedule.failures + 1, "sync pass failed");
                schedule.failed(Instant::now(), pending, jitter());
                false
            }
        };
        state.sync.record(outcome.is_ok(), Utc::now());
        match view(&state).await {
            Ok(status) => {
                if let Err(e) = (SyncChanged { status, pulled }).emit(&handle) {
                    tracing::debug!(error = %e, "the window could not be told of the sync pass");
                }
            }
            Err(e) => tracing::debug!(error = %e, "no sync status after the pass"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_five_minutes_and_jitter_takes_at_most_half() {
        assert_eq!(backoff(1, 0.0), Duration::from_secs(5));
        assert_eq!(backoff(2, 0.0), Duration::from_secs(10));
        assert_eq!(backoff(4, 0.0), Duration::from_secs(40));
        assert_eq!(backoff(7, 0.0), BACKOFF_CAP);
        assert_eq!(backoff(u32::MAX, 0.0), BACKOFF_CAP);
        assert_eq!(backoff(1, 1.0), Duration::from_millis(2_500));
        assert_eq!(backoff(20, 1.0), Duration::from_secs(150));
        assert_eq!(backoff(20, 7.0), Duration::from_secs(150));
    }

    #[test]
    fn a_pass_every_30_s_a_change_at_once_while_online_and_backoff_while_offline() {
        let start = Instant::now();
        let mut s = Schedule::new(start);
        assert!(s.due(start, 0), "the first pass runs at once");
        s.passed(start, 0);
        assert!(!s.due(start + LOOK, 0));
        assert!(s.due(start + EVERY, 0));
        // A change (the pending count grew) is pushed at the next look.
        assert!(s.due(start + LOOK, 2));
        s.passed(start + LOOK, 0);
        // Offline: the backoff holds, a change included, and grows.
        let t = start + LOOK;
        s.failed(t, 3, 0.0);
        assert!(!s.due(t + LOOK, 9));
        assert!(s.due(t + Duration::from_secs(5), 9));
        s.failed(t, 9, 0.0);
        assert!(!s.due(t + Duration::from_secs(9), 9));
        assert!(s.due(t + Duration::from_secs(10), 9));
        // Back online: 30 s again.
        s.passed(t, 0);
        assert_eq!((s.failures, s.due), (0, t + EVERY));
    }

    #[test]
    fn offline_since_is_the_first_failure_of_a_run() {
        let memory = SyncMemory::default();
        let t0 = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let t1 = DateTime::from_timestamp(1_800_000_060, 0).unwrap();
        memory.record(false, t0);
        memory.record(false, t1);
        assert_eq!(memory.offline_since(), Some(t0));
        memory.record(true, t1);
        assert_eq!(memory.offline_since(), None);
    }
}

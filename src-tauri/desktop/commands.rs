//! The window's commands: each calls one facade method and turns its error into words for
//! the screen (never swallowed: the UI shows the message).

use std::path::PathBuf;

use tauri::State;
use tauri::ipc::Channel;

use super::AppState;
use crate::agents::RiskLevel;
use crate::agents::alerting::AlertStatus;
use crate::domain::PatientRef;
use crate::workstation::views::{
    AgentsView, AlertView, AlertWatch, AlertsInbox, ChartRequest, ChartView, ImportProgressView,
    ImportReportView, InboxRequest, PatientView, Worklist, agents_view, alert_view,
};
use crate::workstation::{CancelToken, ImportOptions, StoreStatus};

type Reply<T> = Result<T, String>;

/// The window's data directory, for messages that must name its disk.
pub(crate) static DATA_DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

pub(super) fn words(e: impl std::fmt::Display) -> String {
    let text = e.to_string();
    match DATA_DIR.get() {
        // SQLite names no path: say which disk is full and how much to free.
        Some(dir) if text.contains("database or disk is full") => format!(
            "Nothing of this change was stored: {}",
            crate::workstation::disk::disk_full_message(dir, None)
        ),
        _ => text,
    }
}

/// The store's state for the settings screen.
#[tauri::command]
#[specta::specta]
pub(crate) async fn store_status(state: State<'_, AppState>) -> Reply<StoreStatus> {
    state.workstation()?.status().await.map_err(words)
}

/// The worklist, highest risk first.
#[tauri::command]
#[specta::specta]
pub(crate) async fn worklist(state: State<'_, AppState>) -> Reply<Worklist> {
    state.workstation()?.worklist(state.orchestrator().await?).await.map_err(words)
}

/// The patient screen (id or MRN).
#[tauri::command]
#[specta::specta]
pub(crate) async fn patient_view(state: State<'_, AppState>, patient: String) -> Reply<PatientView> {
    state
        .workstation()?
        .patient_view(state.orchestrator().await?, &PatientRef::parse(&patient))
        .await
        .map_err(words)
}

/// The patient's charts over one range.
#[tauri::command]
#[specta::specta]
pub(crate) async fn charts(state: State<'_, AppState>, request: ChartRequest) -> Reply<Vec<ChartView>> {
    state.workstation()?.charts(&request).await.map_err(words)
}

fn statuses(names: &[String]) -> Reply<Vec<AlertStatus>> {
    names
        .iter()
        .map(|n| match n.as_str() {
            "new" => Ok(AlertStatus::New),
            "acknowledged" => Ok(AlertStatus::Acknowledged),
            "resolved" => Ok(AlertStatus::Resolved),
            other => Err(format!("unknown alert status `{other}` (new, acknowledged, resolved)")),
        })
        .collect()
}

/// One page of the alerts inbox: `statuses` (all when empty), at or above `min_level` (`low`,
/// `moderate`, `high`, `critical`; none: every level; anything else is an error naming it).
#[tauri::command]
#[specta::specta]
pub(crate) async fn alerts(
    state: State<'_, AppState>,
    statuses: Vec<String>,
    min_level: Option<String>,
    offset: u32,
    limit: u32,
) -> Reply<AlertsInbox> {
    let request = InboxRequest {
        statuses: self::statuses(&statuses)?,
        min_level: min_level.map(|l| l.parse::<RiskLevel>()).transpose().map_err(words)?,
        offset,
        limit,
    };
    state.workstation()?.alerts_inbox(&request).await.map_err(words)
}

/// Acknowledges an alert with a note.
#[tauri::command]
#[specta::specta]
pub(crate) async fn acknowledge_alert(
    state: State<'_, AppState>,
    id: String,
    note: String,
) -> Reply<AlertView> {
    let alert = state.workstation()?.acknowledge_alert(&id, &note).await.map_err(words)?;
    Ok(alert_view(&alert, None))
}

/// Resolves an alert with a note (required); a new alert is acknowledged first, in the same
/// transaction (the facade's rule).
#[tauri::command]
#[specta::specta]
pub(crate) async fn resolve_alert(state: State<'_, AppState>, id: String, note: String) -> Reply<AlertView> {
    let alert = state.workstation()?.resolve_alert(&id, &note).await.map_err(words)?;
    Ok(alert_view(&alert, None))
}

/// Imports files one after the other, streaming progress; a file that fails stores nothing
/// and its report says why; the others go on. `cancel_import` stops the file in hand.
#[tauri::command]
#[specta::specta]
pub(crate) async fn import_files(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    paths: Vec<String>,
    patient: Option<String>,
    on_progress: Channel<ImportProgressView>,
) -> Reply<Vec<ImportReportView>> {
    let ws = state.workstation()?;
    let files = u32::try_from(paths.len())
        .map_err(|_| format!("{} files are more than one import takes", paths.len()))?;
    let orchestrator = state.orchestrator().await?;
    // Held for the whole import: the background pass skips its ticks, so each file's report
    // lists the alerts its readings raised.
    let mut monitor = state.monitor.lock().await;
    let cancel = CancelToken::default();
    *state.import.lock().map_err(words)? = Some(cancel.clone());
    let options = ImportOptions {
        patient: patient.filter(|p| !p.trim().is_empty()).map(|p| PatientRef::parse(&p)),
        ..Default::default()
    };
    let mut reports = Vec::with_capacity(paths.len());
    for (path, i) in paths.iter().zip(0..files) {
        let name =
            PathBuf::from(path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let channel = on_progress.clone();
        let progress = move |p: crate::workstation::ImportProgress| {
            let _ = channel.send(ImportProgressView {
                file_index: i,
                files,
                file: name.clone(),
                bytes_read: p.bytes_read as f64,
                bytes_total: p.bytes_total as f64,
                records: p.records as f64,
            });
        };
        let file = std::path::Path::new(path);
        let imported = ws.import_and_monitor(file, &options, orchestrator, &mut monitor, &progress, &cancel);
        let report = match imported.await {
            Ok(r) => ImportReportView::from_report(&r),
            Err(e) => ImportReportView::failed(path, e.to_string()),
        };
        reports.push(report);
        if cancel.is_cancelled() {
            break;
        }
    }
    *state.import.lock().map_err(words)? = None;
    drop(monitor);
    let raised = reports.iter().flat_map(|r| r.alerts.iter().cloned()).collect();
    if let Err(e) = super::live::announce(&app, raised).await {
        tracing::warn!(error = %e, "the import's alerts could not be announced");
    }
    Ok(reports)
}

/// Cancels the import in progress (its current file stores nothing).
#[tauri::command]
#[specta::specta]
pub(crate) async fn cancel_import(state: State<'_, AppState>) -> Reply<bool> {
    let token = state.import.lock().map_err(words)?.clone();
    Ok(token.map(|t| t.cancel()).is_some())
}

/// The badge count and the banner's critical alerts (which are escalated), now.
#[tauri::command]
#[specta::specta]
pub(crate) async fn alert_watch(state: State<'_, AppState>) -> Reply<AlertWatch> {
    state.workstation()?.alert_watch(chrono::Utc::now()).await.map_err(words)
}

/// The agents' live figures and the model packages.
#[tauri::command]
#[specta::specta]
pub(crate) async fn agents(state: State<'_, AppState>) -> Reply<AgentsView> {
    let packages = state.workstation()?.packages().await.map_err(words)?;
    Ok(agents_view(&state.orchestrator().await?.metrics(), &packages))
}

/// Promotes a package version to active (behind the UI's confirmation).
#[tauri::command]
#[specta::specta]
pub(crate) async fn promote_package(
    state: State<'_, AppState>,
    name: String,
    version: String,
) -> Reply<String> {
    state.workstation()?.promote_package(&name, &version).await.map_err(words)
}

/// Rolls a package back (behind the UI's confirmation).
#[tauri::command]
#[specta::specta]
pub(crate) async fn rollback_package(state: State<'_, AppState>, name: String) -> Reply<String> {
    state.workstation()?.rollback_package(&name).await.map_err(words)
}

/// One row of the audit trail, for the auditor's screen.
#[derive(Debug, Clone, serde::Serialize, specta::Type)]
pub(crate) struct AuditEntryView {
    /// When (UTC ms).
    pub at_ms: f64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// Who (`user:NAME`, `service:NAME`, `system:monitor`, `anonymous`).
    pub actor: String,
    /// What (`patient.read`, `session.login`, `access.denied`, ...).
    pub action: String,
    /// Whose record, when the event concerns a patient (the id only).
    pub patient_id: Option<String>,
}

/// The newest `limit` events of the audit trail, newest first (the auditor's role).
#[tauri::command]
#[specta::specta]
pub(crate) async fn audit_trail(state: State<'_, AppState>, limit: u32) -> Reply<Vec<AuditEntryView>> {
    let events = state.workstation()?.recent_audit(i64::from(limit.clamp(1, 10_000))).await.map_err(words)?;
    Ok(events
        .into_iter()
        .map(|(at, actor, action, patient)| AuditEntryView {
            at_ms: at.timestamp_millis() as f64,
            at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            actor,
            action,
            patient_id: patient.map(|p| p.to_string()),
        })
        .collect())
}

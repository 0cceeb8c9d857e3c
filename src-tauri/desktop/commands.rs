//! The window's commands: each calls one facade method.

use tauri::State;

use super::AppState;
use crate::workstation::StoreStatus;

/// The store's state for the first window.
#[tauri::command]
#[specta::specta]
pub(crate) async fn store_status(state: State<'_, AppState>) -> Result<StoreStatus, String> {
    let workstation = state.workstation.as_ref().map_err(Clone::clone)?;
    workstation.status().await.map_err(|e| e.to_string())
}

//! The window's sign-in, lock and switch-user commands, and break-the-glass. The window's
//! session is in its memory; the facade locks it after the idle limit, and the page then drops
//! every patient datum it held (ui/src/session.ts).

use serde::Serialize;
use tauri::State;

use super::AppState;
use super::commands::words;
use crate::domain::PatientRef;
use crate::workstation::{DEMO_PASSWORD, Secret, SessionInfo, StorePurpose};

type Reply<T> = Result<T, String>;

/// What the login screen needs to know.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub(crate) struct SessionView {
    /// The store has no account: the first run asks for its administrator.
    pub first_run: bool,
    /// A DEMO store: the login screen shows the demonstration accounts and their password.
    pub demo_password: Option<String>,
    /// Who is signed in (locked or not), if anyone.
    pub session: Option<SessionInfo>,
}

/// The session's state; an idle session is locked by this call (timers may poll it: it is not
/// activity and writes no audit row unless it locks the session).
#[tauri::command]
#[specta::specta]
pub(crate) async fn session_state(state: State<'_, AppState>) -> Reply<SessionView> {
    let ws = state.workstation()?;
    let first_run = !ws.has_users().await.map_err(words)?;
    let demo = ws.purpose().await.map_err(words)? == StorePurpose::Demo;
    Ok(SessionView {
        first_run,
        demo_password: demo.then(|| DEMO_PASSWORD.to_owned()),
        session: ws.session_status().await,
    })
}

/// The first run: creates the store's administrator and signs them in.
#[tauri::command]
#[specta::specta]
pub(crate) async fn create_admin(
    state: State<'_, AppState>,
    name: String,
    password: String,
) -> Reply<SessionInfo> {
    let ws = state.workstation()?;
    ws.create_first_admin(&name, Secret::new(password.clone())).await.map_err(words)?;
    ws.sign_in(&name, Secret::new(password)).await.map_err(words)
}

/// Signs in (also: switch user, from the lock screen).
#[tauri::command]
#[specta::specta]
pub(crate) async fn sign_in(
    state: State<'_, AppState>,
    name: String,
    password: String,
) -> Reply<SessionInfo> {
    state.workstation()?.sign_in(&name, Secret::new(password)).await.map_err(words)
}

/// Signs out.
#[tauri::command]
#[specta::specta]
pub(crate) async fn sign_out(state: State<'_, AppState>) -> Reply<()> {
    state.workstation()?.sign_out().await;
    Ok(())
}

/// Locks the session now (the lock button).
#[tauri::command]
#[specta::specta]
pub(crate) async fn lock_session(state: State<'_, AppState>) -> Reply<()> {
    state.workstation()?.lock().await;
    Ok(())
}

/// Unlocks with the signed-in person's password.
#[tauri::command]
#[specta::specta]
pub(crate) async fn unlock(state: State<'_, AppState>, password: String) -> Reply<SessionInfo> {
    state.workstation()?.unlock(Secret::new(password)).await.map_err(words)
}

/// The person did something (input in the page, throttled by the page): the idle timer starts
/// again.
#[tauri::command]
#[specta::specta]
pub(crate) async fn user_activity(state: State<'_, AppState>) -> Reply<()> {
    state.workstation()?.touch();
    Ok(())
}

/// Opens a restricted record with a reason (break the glass); returns until when (RFC 3339).
#[tauri::command]
#[specta::specta]
pub(crate) async fn break_glass(
    state: State<'_, AppState>,
    patient: String,
    reason: String,
) -> Reply<String> {
    state.workstation()?.break_glass(&PatientRef::parse(&patient), &reason).await.map_err(words)
}

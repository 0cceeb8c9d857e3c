//! The desktop window (Tauri 2), behind the `desktop` feature.
//!
//! Architecture invariant: only this module knows Tauri. Commands are thin: they call the
//! facade and convert its errors to words for the screen. The TypeScript side of every command
//! and type is generated into `ui/src/bindings.ts` by [`bindings`]; a test fails when the
//! committed file is stale (`VIGIL_BLESS=1 cargo test bindings` rewrites it).

mod commands;
mod device_commands;
mod devices;
mod entry;
mod live;
mod session;
mod sync;

use std::path::PathBuf;
use std::process::ExitCode;

use std::sync::Mutex;

use crate::agents::{Orchestrator, OrchestratorConfig};
use crate::workstation::{CancelToken, Monitor, OpenOptions, Workstation};

/// What the window's commands share: the open workstation (or why it could not be opened),
/// the orchestrator of its agents and models, the import in progress, the monitor and what the
/// window has announced of its alerts.
pub(crate) struct AppState {
    /// The signed-in person's handle: every command acts as them.
    workstation: Result<Workstation, String>,
    /// The window's own monitor (`system:monitor`): it watches and runs the agents whoever is
    /// signed in, and while the session is locked.
    service: Result<Workstation, String>,
    /// Built in the background while the window starts (loading ONNX Runtime and the models
    /// takes a moment); the first command that needs it waits for it.
    orchestrator: tokio::sync::OnceCell<Result<Orchestrator, String>>,
    import: Mutex<Option<CancelToken>>,
    /// The window's monitor: the background pass and the window's own import share it.
    monitor: tokio::sync::Mutex<Monitor>,
    announced: Mutex<live::Announced>,
    /// The window's device feed (`devices.rs`).
    devices: devices::Devices,
    /// What the window's background sync remembers (`sync.rs`).
    sync: sync::SyncMemory,
}

impl AppState {
    fn workstation(&self) -> Result<&Workstation, String> {
        self.workstation.as_ref().map_err(Clone::clone)
    }

    fn service(&self) -> Result<&Workstation, String> {
        self.service.as_ref().map_err(Clone::clone)
    }

    /// The agents with this store's model rollouts, health-checked every 10 s.
    async fn orchestrator(&self) -> Result<&Orchestrator, String> {
        let ws = self.service()?;
        self.orchestrator
            .get_or_init(|| async {
                let o = ws.orchestrator(&OrchestratorConfig::default()).await.map_err(|e| e.to_string())?;
                o.check_health().await;
                let checks = o.clone();
                tauri::async_runtime::spawn(async move {
                    let _ = checks.spawn_health_checks(std::time::Duration::from_secs(10)).await;
                });
                Ok(o)
            })
            .await
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The command registry; also the source of the TypeScript bindings.
pub fn bindings() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(tauri_specta::collect_commands![
            commands::store_status,
            commands::worklist,
            commands::patient_view,
            commands::charts,
            commands::alerts,
            commands::acknowledge_alert,
            commands::resolve_alert,
            commands::import_files,
            commands::cancel_import,
            commands::agents,
            commands::promote_package,
            commands::rollback_package,
            entry::record_vitals,
            entry::add_patient,
            entry::update_patient,
            commands::alert_watch,
            commands::audit_trail,
            session::session_state,
            session::create_admin,
            session::sign_in,
            session::sign_out,
            session::lock_session,
            session::unlock,
            session::user_activity,
            session::break_glass,
            device_commands::devices_state,
            device_commands::scan_devices,
            device_commands::pair_device,
            device_commands::connect_device,
            device_commands::disconnect_device,
            device_commands::assign_device,
            device_commands::unassign_device,
            sync::sync_status,
        ])
        .events(tauri_specta::collect_events![
            live::AlertsChanged,
            devices::DevicesChanged,
            sync::SyncChanged
        ])
        .error_handling(tauri_specta::ErrorHandlingMode::Throw)
}

/// The TypeScript exporter configuration used for `ui/src/bindings.ts`.
pub fn typescript() -> specta_typescript::Typescript {
    specta_typescript::Typescript::default()
        .header("// Generated from the Rust types by `VIGIL_BLESS=1 cargo test bindings`. Do not edit.\n")
}

/// Opens the window on the store in `data_dir` (creating an empty store on first run) and runs
/// until the window closes. A store that cannot be opened is shown in the window, in words.
pub fn run(data_dir: PathBuf) -> ExitCode {
    let _ = commands::DATA_DIR.set(data_dir.clone());
    let opened = tauri::async_runtime::block_on(Workstation::open(OpenOptions::create(&data_dir)));
    let workstation = opened.map(Workstation::idle_by_input).map_err(|e| {
        tracing::error!(error = %e, "the store could not be opened");
        e.to_string()
    });
    let service = workstation.as_ref().map(Workstation::monitor_handle).map_err(Clone::clone);
    let builder = bindings();
    let handler = builder.invoke_handler();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .manage(AppState {
            workstation,
            service,
            orchestrator: tokio::sync::OnceCell::new(),
            import: Mutex::new(None),
            monitor: tokio::sync::Mutex::new(Monitor::default()),
            announced: Mutex::new(live::Announced::default()),
            devices: devices::Devices::default(),
            sync: sync::SyncMemory::default(),
        })
        .setup(move |app| {
            builder.mount_events(app);
            // Load ONNX Runtime and the models while WebKit starts the page.
            let handle = tauri::Manager::app_handle(app).clone();
            tauri::async_runtime::spawn(async move {
                let state = tauri::Manager::state::<AppState>(&handle);
                if let Err(e) = state.orchestrator().await {
                    tracing::warn!(error = %e, "the agents could not start");
                }
            });
            // The window watches by itself: new readings from any process raise their alerts.
            tauri::async_runtime::spawn(live::watch(tauri::Manager::app_handle(app).clone()));
            // Live devices stream into the store (and the DEMO strap on a demo store).
            tauri::async_runtime::spawn(devices::run(tauri::Manager::app_handle(app).clone()));
            // An enrolled store syncs with the clinic server, also while the session is locked.
            tauri::async_runtime::spawn(sync::run(tauri::Manager::app_handle(app).clone()));
            Ok(())
        })
        .invoke_handler(handler)
        .build(tauri::generate_context!());
    match app {
        Ok(app) => {
            app.run(|_, event| {
                if let tauri::RunEvent::Exit = event {
                    // Connections finish closing before the process runs its exit handlers.
                    let _ = tauri::async_runtime::block_on(crate::store::close_all());
                }
            });
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: the window could not start: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bindings_are_current() {
        let committed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/bindings.ts");
        let fresh = tempfile::NamedTempFile::new().unwrap();
        super::bindings().export(super::typescript(), fresh.path()).unwrap();
        let fresh = std::fs::read_to_string(fresh.path()).unwrap();
        if std::env::var_os("VIGIL_BLESS").is_some() {
            std::fs::write(&committed, &fresh).unwrap();
        }
        let current = std::fs::read_to_string(&committed).unwrap_or_default();
        assert!(
            current == fresh,
            "ui/src/bindings.ts is stale: run `VIGIL_BLESS=1 cargo test bindings` and commit the result"
        );
    }
}

//! The desktop window (Tauri 2), behind the `desktop` feature.
//!
//! Architecture invariant: only this module knows Tauri. Commands are thin: they call the
//! facade and convert its errors to words for the screen. The TypeScript side of every command
//! and type is generated into `ui/src/bindings.ts` by [`bindings`]; a test fails when the
//! committed file is stale (`VIGIL_BLESS=1 cargo test bindings` rewrites it).

mod commands;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::workstation::{OpenOptions, Workstation};

/// What the window's commands share: the open workstation, or why it could not be opened.
pub(crate) struct AppState {
    workstation: Result<Workstation, String>,
}

/// The command registry; also the source of the TypeScript bindings.
pub fn bindings() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(tauri_specta::collect_commands![commands::store_status])
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
    let opened = tauri::async_runtime::block_on(Workstation::open(OpenOptions::create(&data_dir)));
    let workstation = opened.map_err(|e| {
        tracing::error!(error = %e, "the store could not be opened");
        e.to_string()
    });
    let builder = bindings();
    let app = tauri::Builder::default()
        .manage(AppState { workstation })
        .invoke_handler(builder.invoke_handler())
        .build(tauri::generate_context!());
    match app {
        Ok(app) => {
            app.run(|_, event| {
                if let tauri::RunEvent::Exit = event {
                    // Connections finish closing before the process runs its exit handlers.
                    tauri::async_runtime::block_on(crate::store::close_all());
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

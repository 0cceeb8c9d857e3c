//! The `vigil` binary: with no command it opens the desktop window; with a command it runs
//! headless.

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = vigil::cli::parse();
    let _log = vigil::logging::init(&cli.data_dir(), cli.command.is_none());
    match cli.command {
        Some(_) => vigil::cli::run(cli),
        None => open_window(cli.data_dir()),
    }
}

#[cfg(feature = "desktop")]
fn open_window(data_dir: std::path::PathBuf) -> ExitCode {
    vigil::desktop::run(data_dir)
}

#[cfg(not(feature = "desktop"))]
fn open_window(_data_dir: std::path::PathBuf) -> ExitCode {
    eprintln!(
        "error: this build has no desktop window (built without the `desktop` feature); run `vigil --help`"
    );
    ExitCode::from(2)
}

//! Logging through `tracing`: a daily-rotated file in the data directory's `logs/` and stderr.
//!
//! Never log patient data (names, values) at info level or above: log ids, counts and kinds.
//! `VIGIL_LOG` (an `EnvFilter` directive such as `vigil=debug`) overrides the levels.
//!
//! The logs name patients' ids and what was done to them: `logs/` is 0700 and its files 0600.
//! tracing-appender creates each day's file itself with the process's umask, so [`init`] sets the
//! umask to 077 first ([`crate::store::owner_only_umask`]) and tightens files an older version
//! left open.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, fmt};

/// Log files kept (one a day).
const KEEP_DAYS: usize = 14;

/// Starts logging. The file layer is added only when the data directory already exists, so a
/// mistyped `--data-dir` does not leave a new directory behind. Keep the guard alive until exit:
/// dropping it flushes the file.
pub fn init(data_dir: &Path, desktop: bool) -> Option<WorkerGuard> {
    let directive =
        |default: &str| EnvFilter::try_from_env("VIGIL_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    // The CLI keeps stderr for warnings so scripts see clean output; the window logs more.
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_filter(directive(if desktop { "info,sqlx=error" } else { "warn,sqlx=error" }));
    crate::store::owner_only_umask();
    let logs = data_dir.join("logs");
    let (file, guard) = if data_dir.is_dir() && private_logs(&logs).is_ok() {
        match tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix("vigil")
            .filename_suffix("log")
            .max_log_files(KEEP_DAYS)
            .build(&logs)
        {
            Ok(appender) => {
                let (writer, guard) = tracing_appender::non_blocking(appender);
                let layer = fmt::layer()
                    .with_writer(writer)
                    .with_ansi(false)
                    .with_filter(directive("info,sqlx=warn"));
                (Some(layer), Some(guard))
            }
            Err(_) => (None, None),
        }
    } else {
        (None, None)
    };
    let _ = tracing_subscriber::registry().with(stderr).with(file).try_init();
    guard
}

/// Makes `logs` an owner-only directory whose existing files are owner-only.
fn private_logs(logs: &Path) -> std::io::Result<()> {
    crate::store::private_dir(logs)?;
    for entry in std::fs::read_dir(logs)? {
        let path = entry?.path();
        if path.is_file() {
            crate::store::private_file(&path)?;
        }
    }
    Ok(())
}

//! A full disk, said in words: which disk, how much room it has, how much is needed.
//!
//! SQLite answers "database or disk is full" (SQLITE_FULL, 13) without a path. Reads keep
//! working on a full disk (they take no write lock and their audit events wait in memory,
//! `store/audit_spool.rs`); a write fails whole, and the adapters (CLI, window) turn its error
//! into this message so the clinician or IT knows what to free.

use std::path::Path;

use super::Error;
use crate::store::StoreError;

/// Room the store needs to take a few small writes (audit events, one reading) after a full disk.
pub const MIN_FREE_BYTES: u64 = 16 << 20;

/// Whether `error` is SQLite's "database or disk is full", or the OS's "no space left".
pub fn is_disk_full(error: &Error) -> bool {
    match error {
        Error::Store(StoreError::Database(sqlx::Error::Database(db))) => {
            db.code().as_deref() == Some("13") || db.message().contains("disk is full")
        }
        Error::Store(StoreError::Database(sqlx::Error::Io(io)))
        | Error::Store(StoreError::Io { source: io, .. }) => io.raw_os_error() == Some(28),
        other => other.to_string().contains("database or disk is full"),
    }
}

/// Bytes free for an unprivileged writer on the file system holding `path`.
pub fn free_bytes(path: &Path) -> Option<u64> {
    let probe = path.ancestors().find(|p| p.exists())?;
    let stat = rustix::fs::statvfs(probe).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// Which disk is full, how much room it has and how much to free: for a write that failed on a
/// full disk under `data_dir`, or for reads whose audit events could not be written. `needed` is
/// what the failed operation needs, when known.
pub fn disk_full_message(data_dir: &Path, needed: Option<u64>) -> String {
    let free = free_bytes(data_dir).map_or_else(|| "unknown".to_owned(), human);
    let needed = human(needed.unwrap_or(0).max(MIN_FREE_BYTES));
    format!(
        "the disk holding {} is full ({free} free): free at least {needed} there; reading keeps working meanwhile",
        data_dir.display()
    )
}

fn human(bytes: u64) -> String {
    const MIB: f64 = (1u64 << 20) as f64;
    const GIB: f64 = (1u64 << 30) as f64;
    let b = bytes as f64;
    if b >= GIB {
        format!("{:.1} GiB", b / GIB)
    } else if b >= MIB {
        format!("{:.1} MiB", b / MIB)
    } else {
        format!("{} KiB", bytes / 1024)
    }
}

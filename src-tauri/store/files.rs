//! Owner-only files and directories: the data directory is 0700, and the store, its WAL and
//! shared-memory files, the audit spool and its own, 0600 (issue 12). Patient data at rest is
//! encrypted, but the files still reveal sizes and times, and a group-writable store can be
//! replaced or truncated by another account (OWASP ASVS 4.0, V12.3.1 and V14.1: "files are
//! stored with the least privilege"; SQLCipher's design notes: encryption protects content, not
//! the file's existence or integrity against a writer).
//!
//! SQLite creates `-wal` and `-shm` with the permissions of the main database file
//! (`robust_open` in `os_unix.c`: "the same permissions as the database file"), so the main files
//! are created 0600 before SQLite opens them and the side files follow.

use std::io;
use std::path::{Path, PathBuf};

/// The side files SQLite keeps beside a database.
const SIDE_FILES: [&str; 2] = ["-wal", "-shm"];

/// Creates `dir` (and missing parents) owner-only (0700 on Unix). An existing directory that
/// its group or others may enter is tightened to 0700, with a warning naming it.
pub(crate) fn private_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if !dir.exists() {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        }
        let mode = std::fs::metadata(dir)?.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
            tracing::warn!(
                dir = %dir.display(),
                was = %format!("{mode:04o}"),
                "the data directory was open to other accounts; it is now owner-only (0700)"
            );
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        // On Windows the profile directory's ACL is already the user's; IT sets others.
        std::fs::create_dir_all(dir)
    }
}

/// Creates `path` empty and owner-only (0600) when it does not exist, so that SQLite, which
/// keeps an existing file's mode, opens it as such; an existing file that others may read or
/// write is tightened to 0600 with a warning.
pub(crate) fn private_file(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        tighten(path, std::fs::metadata(path)?.permissions().mode())
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

/// Tightens an existing file with `mode` to 0600 when its group or others have any access.
#[cfg(unix)]
fn tighten(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = mode & 0o7777;
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        tracing::warn!(
            file = %path.display(),
            was = %format!("{mode:04o}"),
            "a store file was open to other accounts; it is now owner-only (0600)"
        );
    }
    Ok(())
}

/// Tightens the SQLite side files of `database` that exist (a store written before this rule,
/// or files another program made).
pub(crate) fn tighten_side_files(database: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for suffix in SIDE_FILES {
            let side = side_file(database, suffix);
            match std::fs::metadata(&side) {
                Ok(m) => tighten(&side, m.permissions().mode())?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    #[cfg(not(unix))]
    let _ = database;
    Ok(())
}

/// `<database><suffix>`, e.g. `vigil.db-wal`.
pub(crate) fn side_file(database: &Path, suffix: &str) -> PathBuf {
    let mut name = database.as_os_str().to_os_string();
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes every file and directory this process creates from now on owner-only by default
/// (umask 077), a second line behind the explicit modes above: log files rotated by
/// tracing-appender, exports, SQLite's temporary files. Returns the previous mask.
#[cfg(unix)]
pub fn owner_only_umask() -> u32 {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077)).as_raw_mode()
}

/// No umask outside Unix.
#[cfg(not(unix))]
pub fn owner_only_umask() -> u32 {
    0
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used, reason = "test helpers: a failed unwrap is the report")]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn data_directory_open_to_others_is_tightened() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn store_file_open_to_others_is_tightened_and_new_ones_are_owner_only() {
        let root = tempfile::tempdir().unwrap();
        let db = root.path().join("x.db");
        private_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        let wal = side_file(&db, "-wal");
        std::fs::write(&wal, b"").unwrap();
        std::fs::set_permissions(&wal, std::fs::Permissions::from_mode(0o666)).unwrap();
        private_file(&db).unwrap();
        tighten_side_files(&db).unwrap();
        assert_eq!((mode(&db), mode(&wal)), (0o600, 0o600));
    }
}

//! Who runs a command: the data directory's session file (`vigil login`), or a service
//! account's token file (`--token-file`, `VIGIL_TOKEN_FILE`), and how passwords are read.
//!
//! The session file holds a random token whose SHA-256 the store keeps; the file's modification
//! time is the session's last activity, so a verb that only reads never needs the store's write
//! lock to keep a session alive. The data directory is the OS user's own (0700), so the session
//! belongs to this OS user and this data directory.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Context;

use crate::workstation::{Error, OpenOptions, Secret, Workstation};

/// The service token file given with `--token-file` (set once by `cli::dispatch`).
pub(super) static TOKEN_FILE: OnceLock<Option<PathBuf>> = OnceLock::new();

/// The session file's name in the data directory.
pub const SESSION_FILE: &str = "session";

/// The session file of a data directory.
pub fn session_file(data_dir: &Path) -> PathBuf {
    data_dir.join(SESSION_FILE)
}

/// Opens the store in `data_dir` as whoever this command runs for: the service account of
/// `--token-file`, else the session `vigil login` opened. Neither is an error that says what to do.
pub async fn open(data_dir: &Path) -> anyhow::Result<Workstation> {
    let ws = Workstation::open(OpenOptions::existing(data_dir)).await?;
    if let Some(Some(file)) = TOKEN_FILE.get() {
        let token = read_token_file(file)?;
        ws.sign_in_token(&token).await.with_context(|| format!("the service token in {}", file.display()))?;
        return Ok(ws);
    }
    let file = session_file(data_dir);
    let Ok(text) = std::fs::read_to_string(&file) else {
        anyhow::bail!(
            "nobody is signed in for {}: run `vigil login NAME` first (or give a service account's --token-file)",
            data_dir.display()
        );
    };
    let token: Secret = Secret::new(text.trim().to_owned());
    let modified =
        std::fs::metadata(&file).and_then(|m| m.modified()).map_err(|e| Error::Internal(e.to_string()))?;
    match ws.resume_cli_session(&token, chrono::DateTime::<chrono::Utc>::from(modified)).await {
        Ok(_) => {
            // The session file's time is its last activity.
            if let Ok(f) = std::fs::File::options().append(true).open(&file) {
                let _ = f.set_modified(std::time::SystemTime::now());
            }
            Ok(ws)
        }
        Err(e @ (Error::SessionIdle { .. } | Error::NotSignedIn | Error::AccountDisabled(_))) => {
            let _ = std::fs::remove_file(&file);
            ws.close().await;
            Err(anyhow::anyhow!("{e}; run `vigil login NAME`"))
        }
        Err(e) => Err(e.into()),
    }
}

/// Writes a secret to a new owner-only file (the session token, a service token).
pub fn write_secret_file(path: &Path, secret: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::File::options();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn read_token_file(file: &Path) -> anyhow::Result<Secret> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file)
            .with_context(|| format!("cannot read the token file {}", file.display()))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            anyhow::bail!(
                "the token file {} is readable by others (mode {:o}): `chmod 600` it; a token is a password",
                file.display(),
                mode & 0o777
            );
        }
    }
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the token file {}", file.display()))?;
    Ok(Secret::new(text.trim().to_owned()))
}

/// Reads a password the one way every verb does: from the terminal without echo, or, when
/// standard input is not a terminal (a script, IT's provisioning), its first line.
pub fn read_password(prompt: &str) -> anyhow::Result<Secret> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = Secret::new(String::new());
        stdin.lock().read_line(&mut line).context("cannot read the password from standard input")?;
        let trimmed = line.trim_end_matches(['\n', '\r']).to_owned();
        return Ok(Secret::new(trimmed));
    }
    eprint!("{prompt}: ");
    let _ = std::io::stderr().flush();
    let fd = std::io::stdin();
    let saved = rustix::termios::tcgetattr(&fd).context("cannot read the terminal's settings")?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
    rustix::termios::tcsetattr(&fd, rustix::termios::OptionalActions::Now, &quiet)
        .context("cannot turn the terminal's echo off")?;
    let mut line = Secret::new(String::new());
    let read = stdin.lock().read_line(&mut line);
    let _ = rustix::termios::tcsetattr(&fd, rustix::termios::OptionalActions::Now, &saved);
    eprintln!();
    read.context("cannot read the password")?;
    Ok(Secret::new(line.trim_end_matches(['\n', '\r']).to_owned()))
}

/// Reads a new password: on a terminal twice, and they must match.
pub fn read_new_password(prompt: &str) -> anyhow::Result<Secret> {
    let first = read_password(prompt)?;
    if std::io::stdin().is_terminal() {
        let again = read_password("Again")?;
        if *again != *first {
            anyhow::bail!("the two passwords differ; nothing was changed");
        }
    }
    Ok(first)
}

/// The OS user running this command (recorded with a CLI session, never used as the actor).
pub fn os_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".to_owned())
}

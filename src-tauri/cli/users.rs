//! `vigil login|logout|whoami` and `vigil user ...`: accounts and sessions.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::render;
use super::session::{self, read_new_password, read_password};
use crate::domain::access::Role;
use crate::workstation::{OpenOptions, SessionInfo, UserSummary, Workstation};

/// Account verbs (administrators; `passwd` for everyone).
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a person (password from the terminal, or one line of standard input) or, with
    /// --service, a service account whose token is printed once (or written to --token-out)
    Add {
        /// The account's name (letters, digits, '.', '_', '-')
        name: String,
        /// clinician, nurse, admin, it, auditor or monitor
        #[arg(long)]
        role: String,
        /// A service account (a token instead of a password), for `vigil monitor` and scripts
        #[arg(long)]
        service: bool,
        /// Write the service token to this new owner-only file instead of printing it
        #[arg(long, value_name = "FILE", requires = "service")]
        token_out: Option<PathBuf>,
    },
    /// Every account: name, role, disabled, locked out
    List,
    /// Disable an account (it cannot sign in; its command-line sessions end)
    Disable {
        /// The account
        name: String,
    },
    /// Enable a disabled account
    Enable {
        /// The account
        name: String,
    },
    /// Change an account's role
    Role {
        /// The account
        name: String,
        /// The new role
        role: String,
    },
    /// Change your own password (asks the current one), or, as an administrator, another's
    Passwd {
        /// The account [default: your own]
        name: Option<String>,
    },
}

/// `vigil login NAME`: opens a session for this OS user and data directory.
pub(super) async fn login(name: &str, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let ws = Workstation::open(OpenOptions::existing(data_dir)).await?;
    let password = read_password(&format!("Password for {name}"))?;
    let token = ws.start_cli_session(name, password, &session::os_user()).await?;
    session::write_secret_file(&session::session_file(data_dir), &token)?;
    let info = ws.session_info();
    ws.close().await;
    if let Some(info) = info {
        show_session(&info, json)?;
    }
    Ok(())
}

/// `vigil logout`.
pub(super) async fn logout(data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let file = session::session_file(data_dir);
    let Ok(token) = std::fs::read_to_string(&file) else {
        if json {
            render::json(&serde_json::json!({ "ended": false }))?;
        } else {
            say!("Nobody was signed in");
        }
        return Ok(());
    };
    let ws = Workstation::open(OpenOptions::existing(data_dir)).await?;
    let ended = ws.end_cli_session(token.trim()).await?;
    std::fs::remove_file(&file)?;
    ws.close().await;
    if json {
        render::json(&serde_json::json!({ "ended": ended }))?;
    } else {
        say!("Signed out");
    }
    Ok(())
}

/// `vigil whoami`.
pub(super) async fn whoami(data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let ws = session::open(data_dir).await?;
    let info = ws.session_info();
    ws.close().await;
    match info {
        Some(info) => show_session(&info, json),
        None => anyhow::bail!("nobody is signed in"),
    }
}

fn show_session(info: &SessionInfo, json: bool) -> anyhow::Result<()> {
    if json {
        render::json(info)?;
    } else if info.service {
        say!("{} (service account, role {})", info.user, info.role);
    } else {
        say!(
            "{} (role {}), signed in since {}; the session ends after {} minutes idle",
            info.user,
            info.role,
            info.since,
            info.idle_lock_minutes
        );
    }
    Ok(())
}

pub(super) async fn run(cmd: UserCommand, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let ws = session::open(data_dir).await?;
    let result = run_with(&ws, cmd, json).await;
    ws.close().await;
    result
}

async fn run_with(ws: &Workstation, cmd: UserCommand, json: bool) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add { name, role, service, token_out } => {
            let role = Role::parse(&role)?;
            if service {
                let (user, token) = ws.add_service_account(&name, role).await?;
                match token_out {
                    Some(path) => {
                        session::write_secret_file(&path, &token)?;
                        show_user(&user, json)?;
                        if !json {
                            say!("Token written to {} (owner-only); it is not shown again", path.display());
                        }
                    }
                    None if json => {
                        render::json(&serde_json::json!({ "user": user, "token": token.as_str() }))?
                    }
                    None => {
                        show_user(&user, false)?;
                        say!("Token (shown once; keep it in an owner-only file for --token-file):");
                        say!("{}", token.as_str());
                    }
                }
            } else {
                let password = read_new_password(&format!("Password for {name}"))?;
                let user = ws.add_user(&name, role, password).await?;
                show_user(&user, json)?;
            }
        }
        UserCommand::List => {
            let users = ws.users().await?;
            if json {
                render::json(&users)?;
            } else {
                for u in &users {
                    show_user(u, false)?;
                }
            }
        }
        UserCommand::Disable { name } => show_user(&ws.set_user_disabled(&name, true).await?, json)?,
        UserCommand::Enable { name } => show_user(&ws.set_user_disabled(&name, false).await?, json)?,
        UserCommand::Role { name, role } => {
            show_user(&ws.set_user_role(&name, Role::parse(&role)?).await?, json)?
        }
        UserCommand::Passwd { name } => {
            let me = ws.session_info().map(|s| s.user).unwrap_or_default();
            let name = name.unwrap_or_else(|| me.clone());
            let own = name.eq_ignore_ascii_case(&me);
            // One line each from standard input when it is not a terminal: current (own), new.
            let current = if own { Some(read_password("Current password")?) } else { None };
            let new = read_new_password(&format!("New password for {name}"))?;
            ws.set_password(&name, current, new).await?;
            if json {
                render::json(&serde_json::json!({ "user": name, "changed": true }))?;
            } else {
                say!("Password changed for {name}");
            }
        }
    }
    Ok(())
}

fn show_user(user: &UserSummary, json: bool) -> anyhow::Result<()> {
    if json {
        return render::json(user);
    }
    let mut flags = Vec::new();
    if user.service {
        flags.push("service".to_owned());
    }
    if user.disabled {
        flags.push("DISABLED".to_owned());
    }
    if let Some(until) = &user.locked_until {
        flags.push(format!("locked out until {until}"));
    }
    say!("{:<20} {:<10} {}", user.name, user.role.as_str(), flags.join(", "));
    Ok(())
}

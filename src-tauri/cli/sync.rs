//! `vigil sync enroll|now|status|conflicts`: the clinic server, from the terminal.

use std::path::Path;

use clap::Subcommand;

use super::render;

/// Sync verbs.
#[derive(Debug, Subcommand)]
pub enum SyncCommand {
    /// Enrol this workstation with a clinic server, with IT's one-time code
    Enroll {
        /// The server, https://host:port
        #[arg(long)]
        server: String,
        /// The code `vigil-server enroll-code` printed (VGL1-...)
        #[arg(long)]
        code: String,
    },
    /// Push the outbox, then pull the clinic's changes; prints the counts
    Now,
    /// Server, last success, pending messages, last error
    Status,
    /// Pulled changes kept for review (the same field edited on two workstations)
    Conflicts,
}

pub(super) async fn run(command: SyncCommand, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let ws = super::session::open(data_dir).await?;
    let result = async {
        match command {
            SyncCommand::Enroll { server, code } => {
                let done = ws.sync_enroll(&server, &code).await?;
                if json {
                    render::json(&done)?;
                } else {
                    say!(
                        "enrolled in clinic {} ({}) at {}; this workstation is {}",
                        done.clinic_name,
                        done.clinic_id,
                        done.server,
                        done.workstation_id
                    );
                }
            }
            SyncCommand::Now => {
                let report = ws.sync_now().await?;
                if json {
                    render::json(&report)?;
                } else {
                    say!(
                        "pushed {} items ({} observations, {} new to the clinic) in {} requests; pulled {} pages: \
                         {} observations, {} patients added, {} updated, {} conflicts; {} messages pending",
                        report.pushed_items,
                        report.pushed_rows,
                        report.inserted,
                        report.pushes,
                        report.pages,
                        report.pulled.observations.inserted,
                        report.pulled.patients_added,
                        report.pulled.patients_updated,
                        report.pulled.conflicts,
                        report.pending
                    );
                }
            }
            SyncCommand::Status => {
                let status = ws.sync_status().await?;
                if json {
                    render::json(&status)?;
                } else if !status.enrolled {
                    say!("not enrolled: `vigil sync enroll --server URL --code CODE`");
                } else {
                    let when = |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or_else(|| "never".to_owned(), |t| t.to_rfc3339());
                    say!("server: {}", status.server.unwrap_or_default());
                    say!("clinic: {} ({})", status.clinic_name.unwrap_or_default(), status.clinic_id.unwrap_or_default());
                    say!("last success: {}", when(status.last_success));
                    say!("pending messages: {}", status.pending);
                    say!("conflicts to review: {}", status.conflicts);
                    if let Some(error) = status.last_error {
                        say!("last error: {error}");
                    }
                }
            }
            SyncCommand::Conflicts => {
                let conflicts = ws.sync_conflicts().await?;
                if json {
                    render::json(&conflicts)?;
                } else if conflicts.is_empty() {
                    say!("no conflicts to review");
                } else {
                    for c in &conflicts {
                        say!("{} {} {}: here {:?}, from the clinic {:?}", c.entity, c.entity_id, c.field, c.local, c.remote);
                    }
                }
            }
        }
        Ok::<(), anyhow::Error>(())
    }
    .await;
    ws.close().await;
    result
}

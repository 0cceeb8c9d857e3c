//! `vigil settings`: show each setting's effective value and where it came from; set one.

use std::path::Path;

use clap::Subcommand;

use super::render;
use crate::workstation::SETTINGS;

/// Settings verbs; with none, `show`.
#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Every setting, its value, and whether it is the default or set in this store
    Show,
    /// Set NAME to VALUE (checked against its range; audited)
    Set {
        /// The setting's name (see `vigil settings show`)
        name: String,
        /// The new value
        value: String,
    },
}

pub(super) async fn run(command: Option<SettingsCommand>, data_dir: &Path, json: bool) -> anyhow::Result<()> {
    let ws = super::session::open(data_dir).await?;
    let result = async {
        match command.unwrap_or(SettingsCommand::Show) {
            SettingsCommand::Show => {
                let values = ws.settings().await?;
                if json {
                    render::json(&values)?;
                } else {
                    for v in &values {
                        let range = SETTINGS.iter().find(|s| s.name == v.name).map(|s| (s.min, s.max));
                        let range = range.map_or(String::new(), |(lo, hi)| format!(" [{lo}..={hi}]"));
                        say!("{} = {} ({}){range}: {}", v.name, v.value, v.origin, v.about);
                    }
                }
            }
            SettingsCommand::Set { name, value } => {
                let v = ws.set_setting(&name, &value).await?;
                if json {
                    render::json(&v)?;
                } else {
                    say!("{} = {}", v.name, v.value);
                }
            }
        }
        Ok::<(), anyhow::Error>(())
    }
    .await;
    ws.close().await;
    result
}

//! Provenance: where a batch of observations came from.

use serde::{Deserialize, Serialize};

use super::{DeviceId, SourceId};

/// The origin of a batch of observations, kept with every observation it produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SourceKind {
    /// A file import: the file's name (not its path, which may hold a user name) and the
    /// SHA-256 of its bytes.
    File {
        /// File name.
        name: String,
        /// Hex SHA-256 of the content.
        sha256: String,
    },
    /// Readings received from a registered device.
    Device {
        /// The device.
        device_id: DeviceId,
    },
    /// Entered by hand at the workstation.
    Manual,
    /// Synthetic data made by `vigil demo`; never real patient data.
    Demo,
    /// Pulled from the clinic server: readings another workstation of the clinic stored.
    Clinic {
        /// The workstation that pushed them first.
        workstation_id: uuid::Uuid,
    },
}

impl SourceKind {
    /// A short label for lists and exports: the file name, `device`, `manual`, `demo` or `clinic`.
    pub fn label(&self) -> String {
        match self {
            SourceKind::File { name, .. } => name.clone(),
            SourceKind::Device { device_id } => format!("device:{device_id}"),
            SourceKind::Manual => "manual".into(),
            SourceKind::Demo => "demo".into(),
            SourceKind::Clinic { workstation_id } => format!("clinic:{workstation_id}"),
        }
    }
}

/// A stored source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// UUIDv7.
    pub id: SourceId,
    /// What it is.
    pub kind: SourceKind,
}

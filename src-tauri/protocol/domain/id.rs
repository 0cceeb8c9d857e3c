//! Typed identifiers. Every id is a UUIDv7: time-ordered, so new rows append to the store's indexes,
//! and globally unique, so many workstations can sync into one clinic server without collisions.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// Wraps an existing UUID (a new one is made by the store, which owns the clock).
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The 16 bytes as stored.
            pub fn as_bytes(&self) -> &[u8; 16] {
                self.0.as_bytes()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    };
}

id_type!(
    /// Identifies a patient.
    PatientId
);
id_type!(
    /// Identifies a device (a BLE sensor, a scale, a wearable).
    DeviceId
);
id_type!(
    /// Identifies one stored observation.
    ObservationId
);
id_type!(
    /// Identifies where a batch of observations came from (a file, a device session, the demo seed).
    SourceId
);

//! Vigil: an offline-first clinical monitoring workstation.
//!
//! The library is one facade, [`Workstation`], over pure modules (`domain`, later `analysis`) and
//! the I/O modules beneath it (`store`). The CLI (`cli`) and the desktop window (`desktop`) are
//! thin adapters over the facade. See `ARCHITECTURE.md` for the map and its invariants.

pub mod agents;
pub mod analysis;
pub mod ble;
/// Clinical charts rendered to SVG (plotters), decimated to the pixel width.
pub mod charts;
pub use vigil_protocol::domain;
pub mod export;
pub mod ingest;
pub mod models;
pub mod store;
pub mod sync;
pub mod synthetic;
pub mod workstation;

pub use workstation::{Error, OpenOptions, StoreStatus, Workstation};
pub mod bench;
pub mod cli;
#[cfg(feature = "desktop")]
pub mod desktop;
pub mod logging;

//! Bluetooth LE health devices (issue 13).
//!
//! - `gatt`: the pure decoders of the Bluetooth SIG characteristics Vigil understands: bytes
//!   in, readings in the store's units out, with no I/O, clock or async, and no panic on any
//!   input.
//! - `assemble`: pure too; places a decoded value's readings in time (the device's clock
//!   against ours) and gives them to their patient.
//! - `link`: the I/O: a device link (btleplug or a recorded replay) and the session that
//!   connects, subscribes and reconnects.
//!
//! The workstation's device feed (`workstation/device_feed.rs`) joins them to the store.

pub mod assemble;
pub mod gatt;
pub mod link;

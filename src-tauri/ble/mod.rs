//! Bluetooth LE health devices (issue 13).
//!
//! `gatt` holds the pure decoders of the Bluetooth SIG characteristics Vigil understands: bytes
//! in, readings in the store's units out, with no I/O, clock or async, and no panic on any
//! input. The device link (scanning, connecting, replay) sits beside it and calls
//! [`gatt::decode`] on every value a device sends.

pub mod gatt;

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

/// The DEMO heart-rate strap's recording (`ble/demo/heart_rate.jsonl`, made from pyhrv's real
/// NN series): `vigil demo` registers the strap from its header, and the window replays it in a
/// loop on a demo store so the demo shows live data.
pub const DEMO_RECORDING: &str = include_str!("demo/heart_rate.jsonl");

/// The DEMO strap's recording, parsed (the test below checks that it parses).
pub fn demo_recording() -> Result<link::replay::Recording, link::LinkError> {
    link::replay::Recording::parse("DEMO heart-rate strap", DEMO_RECORDING)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_recording_parses_and_names_a_heart_rate_strap() {
        let r = super::demo_recording().unwrap();
        assert_eq!(r.device.kind, "heart_rate_monitor");
        assert_eq!(r.device.address, "02:56:49:47:49:4C");
        assert!(r.values() > 500);
    }
}

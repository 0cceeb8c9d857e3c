//! Arbitrary bytes into every Bluetooth LE GATT decoder and the RACP response decoder: none
//! may panic, and a success holds only plausible readings (`src-tauri/ble/gatt/mod.rs`). The
//! first byte picks the characteristic, the rest is its value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil::ble::gatt::{Characteristic, decode, decode_racp};
use vigil::domain::ObservationValue;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, value)) = data.split_first() else { return };
    let characteristic = Characteristic::ALL[usize::from(pick) % Characteristic::ALL.len()];
    match decode(characteristic, value) {
        Ok(decoded) => {
            for r in &decoded.readings {
                if let ObservationValue::Quantity(v) = r.value {
                    assert!(r.kind.plausible().contains(&v));
                }
            }
        }
        Err(e) => assert!(e.offset <= value.len()),
    }
    let _ = decode_racp(value);
});

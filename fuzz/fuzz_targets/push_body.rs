//! The clinic server's decoding of a push body (JSON, shape, size, every row validated) must
//! refuse with a message, never panic, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = vigil_server::decode_push(data);
});

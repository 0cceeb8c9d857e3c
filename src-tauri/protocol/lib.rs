//! What a Vigil workstation and its clinic server both speak, with one definition of each:
//! the domain's nouns ([`domain`]) and the sync messages that carry them ([`wire`]).
//!
//! Pure data and pure functions: no I/O, no async, no clock, and nothing that links WebKit,
//! SQLCipher or ONNX Runtime, so the server (`server/`) depends on this crate and not on the
//! workstation's.

pub mod domain;
pub mod wire;

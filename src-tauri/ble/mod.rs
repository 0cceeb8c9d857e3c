//! Bluetooth LE health devices (issue 13).

pub mod link;

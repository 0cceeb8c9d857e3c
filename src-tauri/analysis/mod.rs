//! Pure clinical math: filters, windows, HRV, rolling features and early-warning scores.
//!
//! Architecture invariant: no I/O, no async, no clock reads. Inputs in, results out,
//! deterministic; every method cites its source.

pub mod heart_failure;
pub mod hrv;
pub mod io_hrv;
mod io_input;
pub mod io_window;
pub mod kalman;
pub mod news2;
pub mod report;
pub mod rolling;
pub mod window;

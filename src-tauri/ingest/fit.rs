//! Garmin FIT files (placeholder).

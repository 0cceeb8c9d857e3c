//! Which measurement times a reading may carry.
//!
//! A reading dated in the future would be taken as the patient's latest and hide the real
//! current vitals (a 2031 "heart rate 70, SpO2 98" made a hypoxic, tachycardic patient look low
//! risk). Device clocks drift and are sometimes never set: the HL7 Personal Health Device
//! implementation guide (<http://hl7.org/fhir/uv/phd/>, "Time and time synchronization") keeps
//! the device's own timestamp and treats an unset clock (the epoch, or a date before the
//! device could exist) as unknown rather than as a time. So a reading is refused when it is more
//! than a tolerance ahead of the moment it was received (a setting, default
//! [`TimeBounds::DEFAULT_TOLERANCE_MINUTES`]), before [`TimeBounds::floor`], or before the
//! patient's birth date. Pure: the caller passes the moment of receipt.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};

/// The window a reading's time must fall in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeBounds {
    /// When the reading was received (the workstation's clock).
    pub received: DateTime<Utc>,
    /// How far ahead of `received` a device clock may run.
    pub tolerance: Duration,
}

impl TimeBounds {
    /// The default tolerance for device clocks running ahead, in minutes.
    pub const DEFAULT_TOLERANCE_MINUTES: u32 = 5;
    /// The largest tolerance a setting may give (one day), in minutes.
    pub const MAX_TOLERANCE_MINUTES: u32 = 1440;

    /// Bounds for readings received at `received`, allowing `tolerance_minutes` of clock drift.
    pub fn new(received: DateTime<Utc>, tolerance_minutes: u32) -> Self {
        Self { received, tolerance: Duration::minutes(i64::from(tolerance_minutes)) }
    }

    /// No measurement in this store is older than this: 1900-01-01T00:00:00Z. Times before it
    /// are unset clocks or parse accidents (0001-01-01, Apple Health's year 0000).
    pub fn floor() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).single().unwrap_or_default()
    }

    /// The newest instant a reading may carry.
    pub fn latest(&self) -> DateTime<Utc> {
        self.received + self.tolerance
    }

    /// The newest instant, as the store's UTC milliseconds: every "latest value" read is
    /// bounded by it, so a future reading stored before this check existed is never "latest".
    pub fn latest_ms(&self) -> i64 {
        self.latest().timestamp_millis()
    }

    /// Checks one reading's time; the error says which bound it broke and by how much.
    /// `born` is the patient's birth date, when known.
    pub fn check(&self, effective: DateTime<FixedOffset>, born: Option<NaiveDate>) -> Result<(), String> {
        let at = effective.with_timezone(&Utc);
        if at > self.latest() {
            return Err(format!(
                "time {} is {} ahead of this workstation's clock ({}); readings more than {} ahead are \
                 refused (is the device's clock wrong?)",
                effective.to_rfc3339(),
                span(at - self.received),
                self.received.format("%Y-%m-%dT%H:%M:%SZ"),
                span(self.tolerance)
            ));
        }
        if at < Self::floor() {
            return Err(format!(
                "time {} is before 1900-01-01: not a plausible measurement time (a device clock that \
                 was never set?)",
                effective.to_rfc3339()
            ));
        }
        // A day's slack: the birth date is a local date, the reading an instant.
        if let Some(born) = born.and_then(|d| d.pred_opt()) {
            if effective.date_naive() < born {
                return Err(format!(
                    "time {} is before the patient's birth date {} (a device clock that was never set?)",
                    effective.to_rfc3339(),
                    born.succ_opt().unwrap_or(born)
                ));
            }
        }
        Ok(())
    }
}

/// A duration in the largest whole unit that says it: "3 min", "5 h", "4 years".
fn span(d: Duration) -> String {
    let minutes = d.num_minutes();
    if minutes < 1 {
        return format!("{} s", d.num_seconds());
    }
    if minutes < 120 {
        return format!("{minutes} min");
    }
    let hours = d.num_hours();
    if hours < 48 {
        return format!("{hours} h");
    }
    let days = d.num_days();
    if days < 730 { format!("{days} days") } else { format!("{} years", days / 365) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn bounds() -> TimeBounds {
        TimeBounds::new(at("2026-12-02T08:00:00Z").with_timezone(&Utc), 5)
    }

    #[test]
    fn a_reading_within_the_tolerance_is_accepted_and_one_beyond_it_refused() {
        let b = bounds();
        assert_eq!(b.check(at("2026-12-02T08:05:00Z"), None), Ok(()));
        // The same instant written with another offset is the same instant.
        assert_eq!(b.check(at("2026-12-02T09:05:00+01:00"), None), Ok(()));
        let err = b.check(at("2026-12-02T08:05:01Z"), None).unwrap_err();
        assert!(err.contains("5 min ahead") && err.contains("more than 5 min"), "{err}");
        let err = b.check(at("2031-01-01T00:00:00Z"), None).unwrap_err();
        assert!(err.starts_with("time 2031-01-01T00:00:00+00:00 is 4 years ahead"), "{err}");
        assert!(b.check(at("9999-12-31T23:59:59Z"), None).is_err());
    }

    #[test]
    fn unset_clocks_and_times_before_birth_are_refused() {
        let b = bounds();
        assert!(b.check(at("0001-01-01T00:00:00Z"), None).unwrap_err().contains("before 1900-01-01"));
        assert!(b.check(at("1899-12-31T23:59:59Z"), None).is_err());
        assert_eq!(b.check(at("1900-01-01T00:00:00Z"), None), Ok(()));
        let born = NaiveDate::from_ymd_opt(1980, 5, 1);
        let err = b.check(at("1970-01-01T00:00:00Z"), born).unwrap_err();
        assert!(err.contains("before the patient's birth date 1980-05-01"), "{err}");
        // The day before the birth date is allowed as slack for time zones; two days is not.
        assert_eq!(b.check(at("1980-04-30T23:00:00-05:00"), born), Ok(()));
        assert!(b.check(at("1980-04-29T12:00:00Z"), born).is_err());
    }

    #[test]
    fn latest_is_the_clock_plus_the_tolerance() {
        let b = bounds();
        assert_eq!(b.latest_ms(), at("2026-12-02T08:05:00Z").timestamp_millis());
    }
}

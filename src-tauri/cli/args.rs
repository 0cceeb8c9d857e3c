//! Parsing of command-line values, with errors that name the flag and show the expected shape.

use chrono::{DateTime, NaiveDate, Utc};

/// An instant given as RFC 3339 (`2026-11-23T08:00:00+01:00`) or as a date (`2026-11-23`, the
/// start of that day in UTC).
pub fn parse_instant(flag: &str, text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = text.trim().parse::<NaiveDate>() {
        if let Some(t) = d.and_hms_opt(0, 0, 0) {
            return Ok(t.and_utc());
        }
    }
    Err(format!(
        "{flag}: '{text}' is not an RFC 3339 time (e.g. 2026-11-23T08:00:00+01:00) or a date (2026-11-23)"
    ))
}

/// A clap parser for a count in `min..=max`: the message names the range.
pub(super) fn count(min: u64, max: u64) -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::<usize>::new().range(min..=max)
}

/// A clap parser for a finite number in `min..=max` (NaN and infinities refused), with a
/// message naming the range.
pub(super) fn number_in(min: f64, max: f64) -> impl Fn(&str) -> Result<f64, String> + Clone {
    move |text: &str| {
        let value: f64 = text.trim().parse().map_err(|_| format!("'{text}' is not a number"))?;
        if !value.is_finite() || !(min..=max).contains(&value) {
            return Err(format!("{value} is not in {min}..={max}"));
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_accept_rfc3339_and_dates_and_name_the_flag() {
        assert_eq!(
            parse_instant("--since", "2026-11-23T08:00:00+01:00").unwrap().to_rfc3339(),
            "2026-11-23T07:00:00+00:00"
        );
        assert_eq!(parse_instant("--since", "2026-11-23").unwrap().to_rfc3339(), "2026-11-23T00:00:00+00:00");
        assert_eq!(
            parse_instant("--until", "yesterday").unwrap_err(),
            "--until: 'yesterday' is not an RFC 3339 time (e.g. 2026-11-23T08:00:00+01:00) or a date (2026-11-23)"
        );
    }
}

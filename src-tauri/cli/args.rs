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

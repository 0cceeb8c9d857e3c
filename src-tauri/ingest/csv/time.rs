//! RFC 3339 date-times (<https://www.rfc-editor.org/rfc/rfc3339#section-5.6>) with a mandatory
//! offset, as every importer of text formats needs them.
//!
//! The common fixed-width shape `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)` is parsed by hand, and
//! the date of the previous call is reused when it repeats (a file's rows share dates); anything
//! else goes to chrono's `DateTime::parse_from_rfc3339`, whose results the fast path is tested to
//! equal exactly.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};

/// Parses RFC 3339 date-times, remembering the last date it saw.
#[derive(Debug, Default)]
pub(crate) struct TimeParser {
    last_date: Option<([u8; 10], NaiveDate)>,
}

impl TimeParser {
    /// Parses one date-time; the error is a reason naming `field` and the value.
    pub(crate) fn parse(&mut self, field: &str, text: &[u8]) -> Result<DateTime<FixedOffset>, String> {
        if let Some(t) = self.fast(text) {
            return Ok(t);
        }
        let s = std::str::from_utf8(text).map_err(|_| format!("{field}: is not UTF-8 text"))?;
        let s = s.trim();
        DateTime::parse_from_rfc3339(s).map_err(|_| time_error(field, s))
    }

    /// The fast path: `None` means "not the common shape, ask chrono".
    fn fast(&mut self, b: &[u8]) -> Option<DateTime<FixedOffset>> {
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        let date_bytes: [u8; 10] = b[..10].try_into().ok()?;
        let date = match self.last_date {
            Some((bytes, date)) if bytes == date_bytes => date,
            _ => {
                let date = NaiveDate::from_ymd_opt(
                    i32::from(digits(b, 0, 4)?),
                    u32::from(digits(b, 5, 2)?),
                    u32::from(digits(b, 8, 2)?),
                )?;
                self.last_date = Some((date_bytes, date));
                date
            }
        };
        let hour = digits(b, 11, 2)?;
        let minute = digits(b, 14, 2)?;
        let second = digits(b, 17, 2)?;
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let mut i = 19;
        let mut nanos = 0u32;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
                if i - start < 9 {
                    nanos = nanos * 10 + u32::from(d - b'0');
                }
                i += 1;
            }
            let n = i - start;
            if n == 0 || n > 9 {
                return None;
            }
            nanos *= 10u32.pow(u32::try_from(9 - n).ok()?);
        }
        let offset_seconds = match b.get(i..)? {
            b"Z" => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let h = digits(&[*h1, *h2], 0, 2)?;
                let m = digits(&[*m1, *m2], 0, 2)?;
                if h > 23 || m > 59 {
                    return None;
                }
                let s = i32::from(h) * 3600 + i32::from(m) * 60;
                if *sign == b'-' { -s } else { s }
            }
            _ => return None,
        };
        let offset = FixedOffset::east_opt(offset_seconds)?;
        let time =
            NaiveTime::from_hms_nano_opt(u32::from(hour), u32::from(minute), u32::from(second), nanos)?;
        NaiveDateTime::new(date, time).and_local_timezone(offset).single()
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u16> {
    let mut v = 0u16;
    for d in b.get(at..at + n)? {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u16::from(d - b'0');
    }
    Some(v)
}

/// Why `text` is not an RFC 3339 date-time with an offset, in words.
pub(crate) fn time_error(field: &str, text: &str) -> String {
    let shown = super::shown(text.as_bytes());
    let local = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"];
    if local.iter().any(|f| NaiveDateTime::parse_from_str(text, f).is_ok()) {
        format!("{field}: '{shown}' has no UTC offset (add Z or ±HH:MM, e.g. 2024-03-01T08:00:00+01:00)")
    } else if NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() {
        format!("{field}: '{shown}' is a date without a time and UTC offset")
    } else {
        format!("{field}: '{shown}' is not an RFC 3339 date-time (e.g. 2024-03-01T08:00:00+01:00)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono(s: &[u8]) -> Option<DateTime<FixedOffset>> {
        DateTime::parse_from_rfc3339(std::str::from_utf8(s).ok()?.trim()).ok()
    }

    /// The fast path agrees with chrono exactly, and whenever it answers, chrono does too.
    fn check(p: &mut TimeParser, s: &[u8]) {
        let fast = p.fast(s);
        let expected = chrono(s);
        if let Some(f) = fast {
            assert_eq!(Some(f), expected, "fast path on {:?}", String::from_utf8_lossy(s));
            assert_eq!(f.offset(), expected.unwrap().offset());
        }
        assert_eq!(p.parse("time", s).ok(), expected, "{:?}", String::from_utf8_lossy(s));
    }

    #[test]
    fn fast_path_matches_chrono_on_typical_and_edge_cases() {
        let mut p = TimeParser::default();
        let cases: &[&str] = &[
            "2024-03-01T08:00:00Z",
            "2024-03-01T08:00:00+01:00",
            "2024-03-01T08:00:00-05:30",
            "2024-03-01T08:00:00.5Z",
            "2024-03-01T08:00:00.123+02:00",
            "2024-03-01T08:00:00.123456789Z",
            "2024-03-01T08:00:00.1234567891Z",
            "2024-03-01T08:00:00.Z",
            "2024-02-29T23:59:59+23:59",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-00-01T00:00:00Z",
            "2024-01-32T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T23:60:00Z",
            "2016-12-31T23:59:60Z",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00-00:00",
            "2024-01-01T00:00:00+0100",
            "2024-01-01t00:00:00z",
            "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59-23:59",
            " 2024-01-01T00:00:00Z ",
            "2024-01-01T00:00:00Z ",
            "+024-01-01T00:00:00Z",
            "2024-01-01T00:00:00.+01:00",
            "2024-01-01T00:00:00+01:0a",
            "",
        ];
        for c in cases {
            check(&mut p, c.as_bytes());
        }
    }

    #[test]
    #[allow(clippy::cast_possible_truncation, reason = "random bits made into indices")]
    fn fast_path_matches_chrono_on_many_generated_cases() {
        let mut p = TimeParser::default();
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"0123456789-:TZ+.tz 9";
        for n in 0..200_000u64 {
            let r = next();
            let base = format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{}",
                1900 + r % 200,
                1 + (r >> 8) % 13,
                1 + (r >> 12) % 31,
                (r >> 17) % 25,
                (r >> 22) % 61,
                (r >> 28) % 61,
                [".", ".1", ".123", ".123456", ".123456789", ".1234567890", "", ""][(r >> 34) as usize % 8],
                ["Z", "+01:00", "-09:30", "+23:59", "-24:00", "+05:45", "", "z"][(r >> 37) as usize % 8]
            );
            let mut bytes = base.into_bytes();
            // Every fourth case gets one random byte changed.
            if n % 4 == 0 && !bytes.is_empty() {
                let at = (next() as usize) % bytes.len();
                bytes[at] = alphabet[(next() as usize) % alphabet.len()];
            }
            check(&mut p, &bytes);
        }
    }

    #[test]
    fn errors_name_the_field_and_say_what_is_missing() {
        let mut p = TimeParser::default();
        assert_eq!(
            p.parse("time", b"2024-03-01T08:00:00").unwrap_err(),
            "time: '2024-03-01T08:00:00' has no UTC offset (add Z or ±HH:MM, e.g. 2024-03-01T08:00:00+01:00)"
        );
        assert_eq!(
            p.parse("time", b"2024-03-01").unwrap_err(),
            "time: '2024-03-01' is a date without a time and UTC offset"
        );
        assert_eq!(
            p.parse("when", b"yesterday").unwrap_err(),
            "when: 'yesterday' is not an RFC 3339 date-time (e.g. 2024-03-01T08:00:00+01:00)"
        );
        assert_eq!(p.parse("time", b"\xff").unwrap_err(), "time: is not UTF-8 text");
    }
}

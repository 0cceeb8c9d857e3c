//! Attribute values of an Apple Health export: record types, units, dates, beat times.
//!
//! Everything here works on the raw attribute bytes, so the hot path allocates nothing unless a
//! value is rejected (the reason is a `String`).

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};

use crate::domain::Kind;

/// The record types Vigil imports, by their HealthKit identifier
/// (<https://developer.apple.com/documentation/healthkit/hkquantitytypeidentifier>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RecordType {
    HeartRate,
    HeartRateVariabilitySdnn,
    OxygenSaturation,
    RespiratoryRate,
    BodyMass,
    BodyTemperature,
    BloodPressureSystolic,
    BloodPressureDiastolic,
    StepCount,
}

impl RecordType {
    /// The type named by a `Record`'s `type` attribute, or `None` for the dozens of types
    /// Vigil does not import (active energy, distance, sleep, ...).
    pub(super) fn from_identifier(id: &[u8]) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.identifier().as_bytes() == id)
    }

    const ALL: [RecordType; 9] = [
        RecordType::HeartRate,
        RecordType::HeartRateVariabilitySdnn,
        RecordType::OxygenSaturation,
        RecordType::RespiratoryRate,
        RecordType::BodyMass,
        RecordType::BodyTemperature,
        RecordType::BloodPressureSystolic,
        RecordType::BloodPressureDiastolic,
        RecordType::StepCount,
    ];

    /// The HealthKit identifier, as in the `type` attribute.
    pub(super) fn identifier(self) -> &'static str {
        match self {
            RecordType::HeartRate => "HKQuantityTypeIdentifierHeartRate",
            RecordType::HeartRateVariabilitySdnn => "HKQuantityTypeIdentifierHeartRateVariabilitySDNN",
            RecordType::OxygenSaturation => "HKQuantityTypeIdentifierOxygenSaturation",
            RecordType::RespiratoryRate => "HKQuantityTypeIdentifierRespiratoryRate",
            RecordType::BodyMass => "HKQuantityTypeIdentifierBodyMass",
            RecordType::BodyTemperature => "HKQuantityTypeIdentifierBodyTemperature",
            RecordType::BloodPressureSystolic => "HKQuantityTypeIdentifierBloodPressureSystolic",
            RecordType::BloodPressureDiastolic => "HKQuantityTypeIdentifierBloodPressureDiastolic",
            RecordType::StepCount => "HKQuantityTypeIdentifierStepCount",
        }
    }

    /// The observation kind the record becomes.
    pub(super) fn kind(self) -> Kind {
        match self {
            RecordType::HeartRate => Kind::HeartRate,
            RecordType::HeartRateVariabilitySdnn => Kind::HrvSdnn,
            RecordType::OxygenSaturation => Kind::Spo2,
            RecordType::RespiratoryRate => Kind::RespiratoryRate,
            RecordType::BodyMass => Kind::BodyWeight,
            RecordType::BodyTemperature => Kind::BodyTemperature,
            RecordType::BloodPressureSystolic => Kind::BpSystolic,
            RecordType::BloodPressureDiastolic => Kind::BpDiastolic,
            RecordType::StepCount => Kind::Steps,
        }
    }

    /// Converts a value in the export's `unit` to the kind's unit.
    ///
    /// The export writes each type in the unit the phone displays (`HKUnit` unit strings):
    /// body mass in `kg`, `lb` or `st` depending on region, temperature in `degC` or `degF`.
    /// Oxygen saturation is the exception that trips importers: HealthKit's `%` unit is a
    /// *fraction*, so a reading of 97 % is exported as `unit="%" value="0.97"`. A value above 1
    /// is therefore not a valid export value and is rejected rather than guessed at.
    pub(super) fn to_kind_unit(self, unit: &[u8], value: f64) -> Result<f64, String> {
        let converted = match (self, unit) {
            (RecordType::HeartRate | RecordType::RespiratoryRate, b"count/min") => Some(value),
            (RecordType::HeartRate | RecordType::RespiratoryRate, b"count/s") => Some(value * 60.0),
            (RecordType::HeartRateVariabilitySdnn, b"ms") => Some(value),
            (RecordType::HeartRateVariabilitySdnn, b"s") => Some(value * 1000.0),
            (RecordType::OxygenSaturation, b"%") => {
                if !(0.0..=1.0).contains(&value) {
                    return Err(format!(
                        "value: {value} is not a fraction; Apple Health exports oxygen saturation as \
                         0-1 with unit '%' (0.97 means 97 %)"
                    ));
                }
                Some(value * 100.0)
            }
            (RecordType::BodyMass, b"kg") => Some(value),
            (RecordType::BodyMass, b"g") => Some(value / 1000.0),
            (RecordType::BodyMass, b"lb") => Some(value * 0.453_592_37),
            (RecordType::BodyMass, b"st") => Some(value * 6.350_293_18),
            (RecordType::BodyMass, b"oz") => Some(value * 0.028_349_523_125),
            (RecordType::BodyTemperature, b"degC") => Some(value),
            (RecordType::BodyTemperature, b"degF") => Some((value - 32.0) * 5.0 / 9.0),
            (RecordType::BodyTemperature, b"K") => Some(value - 273.15),
            (RecordType::BloodPressureSystolic | RecordType::BloodPressureDiastolic, b"mmHg") => Some(value),
            // 1 kPa = 7.500 616 827 mmHg.
            (RecordType::BloodPressureSystolic | RecordType::BloodPressureDiastolic, b"kPa") => {
                Some(value * 7.500_616_827)
            }
            (RecordType::StepCount, b"count") => Some(value),
            _ => None,
        };
        converted.ok_or_else(|| {
            format!(
                "unit: '{}' is not a unit Vigil converts to {} for {}",
                crate::ingest::shown(unit),
                self.kind().unit(),
                self.kind()
            )
        })
    }
}

/// Parses a decimal number (`72`, `0.97`, `36.85`).
pub(super) fn parse_number(raw: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(raw).ok()?;
    let value: f64 = text.trim().parse().ok()?;
    value.is_finite().then_some(value)
}

/// Parses an export date, `2019-03-21 08:15:00 -0700`, keeping its offset. The space before the
/// offset is optional (seen in files written by third-party tools).
pub(super) fn parse_date(raw: &[u8]) -> Option<DateTime<FixedOffset>> {
    let (datetime, zone) = match raw.len() {
        25 if raw[19] == b' ' => (&raw[..19], &raw[20..]),
        24 => (&raw[..19], &raw[19..]),
        _ => return None,
    };
    if datetime[4] != b'-' || datetime[7] != b'-' || datetime[10] != b' ' {
        return None;
    }
    if datetime[13] != b':' || datetime[16] != b':' {
        return None;
    }
    let year = digits(&datetime[0..4])?;
    let month = digits(&datetime[5..7])?;
    let day = digits(&datetime[8..10])?;
    let hour = digits(&datetime[11..13])?;
    let minute = digits(&datetime[14..16])?;
    let second = digits(&datetime[17..19])?;
    let sign = match zone[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let offset_hours = digits(&zone[1..3])?;
    let offset_minutes = digits(&zone[3..5])?;
    if offset_minutes >= 60 {
        return None;
    }
    let offset =
        FixedOffset::east_opt(sign * i32::try_from(offset_hours * 3600 + offset_minutes * 60).ok()?)?;
    let naive =
        NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?.and_hms_opt(hour, minute, second)?;
    offset.from_local_datetime(&naive).single()
}

/// ASCII digits to a number; `None` if any byte is not a digit.
fn digits(raw: &[u8]) -> Option<u32> {
    raw.iter().try_fold(0u32, |acc, &b| b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0')))
}

/// Milliseconds in a day.
pub(super) const DAY_MS: i64 = 86_400_000;

/// Parses the clock time of an `InstantaneousBeatsPerMinute` into milliseconds after midnight.
///
/// The export writes it as the exporting phone formats a time in its locale: `8:15:02.34 AM`
/// (en_US; iOS 16+ puts U+202F NARROW NO-BREAK SPACE before the marker), `08:15:02,34` (24 h
/// locales with a decimal comma), `20:15:02.34`. A leading or trailing AM/PM marker from a
/// small table of locales is understood; anything else is rejected, not guessed.
pub(super) fn parse_time_of_day(raw: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(raw).ok()?;
    let text = text.trim_matches(is_separator_space);
    let clock_start = text.find(|c: char| c.is_ascii_digit())?;
    let clock_len = text[clock_start..]
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.' || c == ','))
        .unwrap_or(text.len() - clock_start);
    let clock = &text[clock_start..clock_start + clock_len];
    let marker = format_marker(&text[..clock_start], &text[clock_start + clock_len..])?;

    let mut parts = clock.splitn(3, ':');
    let hour: i64 = parts.next()?.parse().ok()?;
    let minute: i64 = parts.next()?.parse().ok()?;
    let seconds_text = parts.next()?;
    let (whole, fraction) = match seconds_text.find(['.', ',']) {
        Some(i) => (&seconds_text[..i], &seconds_text[i + 1..]),
        None => (seconds_text, ""),
    };
    if whole.len() != 2 || minute > 59 || fraction.len() > 6 || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let second: i64 = whole.parse().ok()?;
    if second > 60 {
        return None;
    }
    // Milliseconds from the fraction, rounded: "34" -> 340, "5" -> 500, "1234" -> 123.
    let mut millis = 0i64;
    for (i, b) in fraction.bytes().chain(std::iter::repeat(b'0')).take(4).enumerate() {
        let digit = i64::from(b - b'0');
        if i < 3 {
            millis = millis * 10 + digit;
        } else if digit >= 5 {
            millis += 1;
        }
    }
    let hour = match marker {
        Meridiem::None if hour <= 23 => hour,
        Meridiem::Am if (1..=12).contains(&hour) => hour % 12,
        Meridiem::Pm if (1..=12).contains(&hour) => hour % 12 + 12,
        _ => return None,
    };
    Some(((hour * 60 + minute) * 60 + second) * 1000 + millis)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Meridiem {
    None,
    Am,
    Pm,
}

/// Spaces a locale may put around the clock: ASCII, NO-BREAK (U+00A0), NARROW NO-BREAK (U+202F).
fn is_separator_space(c: char) -> bool {
    c == ' ' || c == '\u{a0}' || c == '\u{202f}'
}

/// Reads the AM/PM marker before or after the clock (at most one of them may be non-empty).
fn format_marker(before: &str, after: &str) -> Option<Meridiem> {
    let before = before.trim_matches(is_separator_space);
    let after = after.trim_matches(is_separator_space);
    let marker = match (before.is_empty(), after.is_empty()) {
        (true, true) => return Some(Meridiem::None),
        (true, false) => after,
        (false, true) => before,
        (false, false) => return None,
    };
    const AM: [&str; 6] = ["AM", "am", "a.m.", "午前", "上午", "오전"];
    const PM: [&str; 6] = ["PM", "pm", "p.m.", "午後", "下午", "오후"];
    if AM.contains(&marker) {
        Some(Meridiem::Am)
    } else if PM.contains(&marker) {
        Some(Meridiem::Pm)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_keep_their_offset() {
        let d = parse_date(b"2019-03-21 08:15:00 -0700").unwrap();
        assert_eq!(d.to_rfc3339(), "2019-03-21T08:15:00-07:00");
        let d = parse_date(b"2026-01-15 08:00:00+0530").unwrap();
        assert_eq!(d.to_rfc3339(), "2026-01-15T08:00:00+05:30");
        for bad in [
            &b"2019-02-30 08:15:00 -0700"[..],
            b"2019-03-21T08:15:00 -0700",
            b"2019-03-21 08:15:00",
            b"2019-03-21 08:15:00 -07:00",
            b"2019-03-21 25:15:00 -0700",
            b"2019-03-21 08:15:00 *0700",
            b"",
        ] {
            assert_eq!(parse_date(bad), None, "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn beat_times_in_the_locales_seen_in_real_exports() {
        let ms = |h: i64, m: i64, s: i64, f: i64| ((h * 60 + m) * 60 + s) * 1000 + f;
        assert_eq!(parse_time_of_day(b"6:14:48.94 PM"), Some(ms(18, 14, 48, 940)));
        assert_eq!(parse_time_of_day("3:10:01.12\u{202f}AM".as_bytes()), Some(ms(3, 10, 1, 120)));
        assert_eq!(parse_time_of_day(b"12:00:00.00 AM"), Some(0));
        assert_eq!(parse_time_of_day(b"12:30:00.5 PM"), Some(ms(12, 30, 0, 500)));
        assert_eq!(parse_time_of_day(b"08:33:44,67"), Some(ms(8, 33, 44, 670)));
        assert_eq!(parse_time_of_day(b"17:07:00,29"), Some(ms(17, 7, 0, 290)));
        assert_eq!(parse_time_of_day(b"00:00:00.001"), Some(1));
        assert_eq!(parse_time_of_day("午後 3:10:01.12".as_bytes()), Some(ms(15, 10, 1, 120)));
        for bad in ["13:00:00.00 PM", "8:15 AM", "25:00:00", "8:15:02.34 XM", "AM 8:15:02 PM", "", "::"] {
            assert_eq!(parse_time_of_day(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn units_convert_to_the_kinds_unit() {
        let c = |t: RecordType, u: &str, v: f64| t.to_kind_unit(u.as_bytes(), v);
        assert_eq!(c(RecordType::OxygenSaturation, "%", 0.97).unwrap(), 97.0);
        assert!(c(RecordType::OxygenSaturation, "%", 97.0).unwrap_err().contains("not a fraction"));
        assert!((c(RecordType::BodyMass, "lb", 200.0).unwrap() - 90.718_474).abs() < 1e-9);
        assert!((c(RecordType::BodyTemperature, "degF", 98.6).unwrap() - 37.0).abs() < 1e-9);
        assert_eq!(
            c(RecordType::HeartRate, "mmHg", 70.0).unwrap_err(),
            "unit: 'mmHg' is not a unit Vigil converts to /min for heart_rate"
        );
    }
}

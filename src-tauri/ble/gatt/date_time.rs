//! The Date Time characteristic 0x2A08 (GSS 3.70 "Date Time"), 7 bytes carried inside many
//! measurements: year (uint16, 1582..=9999, 0 "not known"), month (1..=12, 0 not known), day
//! (1..=31, 0 not known), hours (0..=23), minutes (0..=59), seconds (0..=59). There is no UTC
//! offset: devices keep local time.

use chrono::NaiveDate;

use super::DeviceTime;

/// Parses the 7 bytes. A year, month or day of 0 means the device does not know the date: its
/// clock is not set ([`DeviceTime::NotSet`]). A field outside its range is an error.
pub(super) fn parse(raw: [u8; 7]) -> Result<DeviceTime, String> {
    let [y0, y1, month, day, hours, minutes, seconds] = raw;
    let year = u16::from_le_bytes([y0, y1]);
    if year != 0 && !(1582..=9999).contains(&year) {
        return Err(format!("year {year} is not 0 (not known) or 1582..=9999"));
    }
    if month > 12 {
        return Err(format!("month {month} is not 0 (not known) or 1..=12"));
    }
    if day > 31 {
        return Err(format!("day {day} is not 0 (not known) or 1..=31"));
    }
    if hours > 23 || minutes > 59 || seconds > 59 {
        return Err(format!("time {hours:02}:{minutes:02}:{seconds:02} is not a time of day"));
    }
    if year == 0 || month == 0 || day == 0 {
        return Ok(DeviceTime::NotSet);
    }
    let date = NaiveDate::from_ymd_opt(i32::from(year), u32::from(month), u32::from(day))
        .ok_or_else(|| format!("{year:04}-{month:02}-{day:02} is not a date"))?;
    date.and_hms_opt(u32::from(hours), u32::from(minutes), u32::from(seconds))
        .map(DeviceTime::At)
        .ok_or_else(|| format!("time {hours:02}:{minutes:02}:{seconds:02} is not a time of day"))
}

/// The 7 bytes of a time (tests only).
#[cfg(test)]
pub(crate) fn encode(t: chrono::NaiveDateTime) -> [u8; 7] {
    use chrono::{Datelike, Timelike};
    let year = u16::try_from(t.year()).unwrap_or(0).to_le_bytes();
    let b = |v: u32| u8::try_from(v).unwrap_or(0);
    [year[0], year[1], b(t.month()), b(t.day()), b(t.hour()), b(t.minute()), b(t.second())]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DeviceTime {
        DeviceTime::At(NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, s).unwrap())
    }

    #[test]
    fn nordic_vectors() {
        // Nordic Android-BLE-Common-Library, DateTimeDataCallbackTest.onDateTimeReceived_today.
        assert_eq!(parse([0xE2, 0x07, 4, 17, 15, 51, 0]), Ok(at(2018, 4, 17, 15, 51, 0)));
        // ...onDateTimeReceived_dateNotKnown: year, month and day 0.
        assert_eq!(parse([0, 0, 0, 0, 18, 26, 32]), Ok(DeviceTime::NotSet));
    }

    #[test]
    fn any_zero_date_field_is_not_set_and_bad_fields_are_named() {
        assert_eq!(parse([0xE2, 0x07, 0, 17, 15, 51, 0]), Ok(DeviceTime::NotSet));
        assert_eq!(parse([0xE2, 0x07, 4, 0, 15, 51, 0]), Ok(DeviceTime::NotSet));
        assert_eq!(
            parse([0xE2, 0x07, 13, 1, 0, 0, 0]).unwrap_err(),
            "month 13 is not 0 (not known) or 1..=12"
        );
        assert_eq!(parse([0xE2, 0x07, 2, 30, 0, 0, 0]).unwrap_err(), "2018-02-30 is not a date");
        assert_eq!(parse([0xE2, 0x07, 2, 3, 24, 0, 0]).unwrap_err(), "time 24:00:00 is not a time of day");
        assert_eq!(
            parse([0x01, 0x00, 2, 3, 0, 0, 0]).unwrap_err(),
            "year 1 is not 0 (not known) or 1582..=9999"
        );
    }

    #[test]
    fn encode_round_trips() {
        let t = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap().and_hms_opt(8, 5, 59).unwrap();
        assert_eq!(parse(encode(t)), Ok(DeviceTime::At(t)));
    }
}

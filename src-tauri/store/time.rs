//! Instants as stored: UTC milliseconds, with the source's offset in seconds beside them.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};

use super::StoreError;

pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .ok_or_else(|| StoreError::Corrupt { what: "instant", problem: format!("{ms} ms is out of range") })
}

pub(crate) fn with_offset(ms: i64, offset_s: i64) -> Result<DateTime<FixedOffset>, StoreError> {
    let offset = i32::try_from(offset_s).ok().and_then(FixedOffset::east_opt).ok_or_else(|| {
        StoreError::Corrupt { what: "UTC offset", problem: format!("{offset_s} s is not a valid offset") }
    })?;
    Ok(from_ms(ms)?.with_timezone(&offset))
}

//! From a decoded value to readings placed in time and given to a patient (pure).
//!
//! Time follows the HL7 Personal Health Device implementation guide (PHD IG, "Time" section):
//! keep the device's own timestamp, estimate and record the offset of its clock against the
//! receiving workstation's, and use the receive time when the device says its clock is not
//! set. Here:
//! - a value with no timestamp (a heart-rate or continuous oximetry notification) happened
//!   when it was received; each RR interval is placed by its `offset_ms` before that;
//! - a value with a timestamp: the device's local date and time (the SIG Date Time has no
//!   zone) read in the workstation's zone. The clock's offset is estimated as the smallest
//!   "received minus device time" seen (a stored record sent later only adds age, so the
//!   smallest is the nearest to live) and recorded with the device. The device's time is kept,
//!   as the guide asks, unless the clock is shown wrong: ahead of ours by more than
//!   [`TRUSTED_SKEW_MS`] (no reading comes from the future), or behind by more than
//!   [`RESET_CLOCK_MS`] (a clock back at its factory date after a battery change). Then the
//!   time is the device's plus the offset, which keeps the sequence and spacing of its
//!   readings. A clock a few minutes slow cannot be told from a record a few minutes old
//!   without the device's Current Time (0x2A2B, not read yet), so it is kept and its offset
//!   shown on the Devices screen. Never after the receive time;
//! - "device clock not set": the receive time, and the status says so.
//!
//! A multi-user device's user index names the patient ([`Assignment::user`]); a reading for a
//! user nobody mapped is held back with a reason, never given to the device's own patient.

use std::collections::HashMap;

use chrono::{DateTime, Duration, FixedOffset, Local, NaiveDateTime, Offset, TimeZone, Utc};

use super::gatt::{Decoded, DeviceTime};
use crate::domain::{NewObservation, PatientId};

/// A device clock within this of the workstation's is taken as right (two minutes: the PHD
/// IG leaves the threshold to the manager; consumer devices drift seconds a week).
pub const TRUSTED_SKEW_MS: i64 = 120_000;
/// A device clock behind ours by more than a year was reset, not left with old records.
pub const RESET_CLOCK_MS: i64 = 366 * 86_400_000;

/// One device's clock, as estimated so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceClock {
    /// Received minus device time, ms: the smallest seen.
    pub offset_ms: Option<i64>,
}

/// How a reading's time was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// No timestamp: the receive time.
    Received,
    /// The device's timestamp, its clock within the trusted skew.
    DeviceTime,
    /// The device's timestamp corrected by its clock's offset.
    Corrected,
    /// The device says its clock is not set: the receive time.
    ClockNotSet,
}

impl DeviceClock {
    /// Where a value with `device_time` received at `received` belongs.
    pub fn place(
        &mut self,
        device_time: Option<DeviceTime>,
        received: DateTime<Utc>,
    ) -> (DateTime<Utc>, Placement) {
        let at = match device_time {
            None => return (received, Placement::Received),
            Some(DeviceTime::NotSet) => return (received, Placement::ClockNotSet),
            Some(DeviceTime::At(naive)) => local(naive),
        };
        let raw = (received - at).num_milliseconds();
        let offset = self.offset_ms.map_or(raw, |o| o.min(raw));
        self.offset_ms = Some(offset);
        if (-TRUSTED_SKEW_MS..=RESET_CLOCK_MS).contains(&offset) {
            (at.min(received), Placement::DeviceTime)
        } else {
            ((at + Duration::milliseconds(offset)).min(received), Placement::Corrected)
        }
    }
}

fn local(naive: NaiveDateTime) -> DateTime<Utc> {
    Local.from_local_datetime(&naive).earliest().map_or_else(|| naive.and_utc(), |t| t.to_utc())
}

/// Who a device's readings belong to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Assignment {
    /// The device's patient.
    pub patient: Option<PatientId>,
    /// A multi-user device's users.
    pub users: HashMap<u8, PatientId>,
}

impl Assignment {
    /// The patient of a reading for `user` (none named: the device's patient).
    pub fn user(&self, user: Option<u8>) -> Result<PatientId, String> {
        match user {
            Some(index) => self.users.get(&index).copied().ok_or_else(|| {
                format!("user {index} of this device is not mapped to a patient (`vigil ble user DEVICE {index} PATIENT`)")
            }),
            None => self.patient.ok_or_else(|| "the device is not assigned to a patient".to_owned()),
        }
    }
}

/// What one decoded value gives the store.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assembled {
    /// Readings to store.
    pub observations: Vec<NewObservation>,
    /// Readings held back, each with its reason.
    pub held: Vec<String>,
}

/// Places `decoded`'s readings in time and gives them to their patient. A reading outside
/// [`NewObservation::new`]'s checks is held back with the reason.
pub fn assemble(
    decoded: &Decoded,
    received: DateTime<Utc>,
    clock: &mut DeviceClock,
    assignment: &Assignment,
) -> Assembled {
    let mut out = Assembled::default();
    out.held.extend(decoded.rejected.iter().map(|r| format!("{}: {}", r.kind, r.reason)));
    if decoded.readings.is_empty() {
        return out;
    }
    let patient = match assignment.user(decoded.user) {
        Ok(p) => p,
        Err(reason) => {
            out.held.extend(decoded.readings.iter().map(|r| format!("{}: {reason}", r.kind)));
            return out;
        }
    };
    let (at, _) = clock.place(decoded.device_time, received);
    let zone: FixedOffset = Local.offset_from_utc_datetime(&at.naive_utc()).fix();
    for r in &decoded.readings {
        let effective = (at + Duration::milliseconds(r.offset_ms)).with_timezone(&zone);
        match NewObservation::new(patient, r.kind, r.value, effective) {
            Ok(o) => out.observations.push(o),
            Err(e) => out.held.push(e.to_string()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ble::gatt::{Characteristic, decode};

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn naive(s: &str) -> NaiveDateTime {
        local_naive(utc(s))
    }

    fn local_naive(t: DateTime<Utc>) -> NaiveDateTime {
        t.with_timezone(&Local).naive_local()
    }

    #[test]
    fn a_right_clock_keeps_its_time_a_wrong_one_is_corrected_by_its_smallest_offset() {
        let mut clock = DeviceClock::default();
        // A stored reading an hour old, then a live one 3 s old: the offset settles at 3 s and
        // both keep their device time.
        let received = utc("2026-03-01T10:00:00Z");
        let old = naive("2026-03-01T09:00:00Z");
        assert_eq!(
            clock.place(Some(DeviceTime::At(old)), received),
            (utc("2026-03-01T09:00:00Z"), Placement::DeviceTime)
        );
        let live = naive("2026-03-01T09:59:57Z");
        assert_eq!(clock.place(Some(DeviceTime::At(live)), received).0, utc("2026-03-01T09:59:57Z"));
        assert_eq!(clock.offset_ms, Some(3_000));

        // A clock ten minutes ahead: corrected, and a reading resent later lands on the same time.
        let mut fast = DeviceClock::default();
        let device = naive("2026-03-01T10:10:00Z");
        let first = fast.place(Some(DeviceTime::At(device)), received);
        assert_eq!(first, (received, Placement::Corrected));
        let again = fast.place(Some(DeviceTime::At(device)), received + Duration::minutes(5));
        assert_eq!(again.0, first.0, "a resend deduplicates by content");
        // Ten minutes slow, or a record ten minutes old: kept, and the offset recorded.
        let mut slow = DeviceClock::default();
        let device = naive("2026-03-01T09:50:00Z");
        assert_eq!(slow.place(Some(DeviceTime::At(device)), received).1, Placement::DeviceTime);
        assert_eq!(slow.offset_ms, Some(600_000));
        // A clock back at 2000-01-01: corrected to the receive time.
        let mut reset = DeviceClock::default();
        let device = naive("2000-01-01T00:00:00Z");
        assert_eq!(reset.place(Some(DeviceTime::At(device)), received), (received, Placement::Corrected));

        assert_eq!(clock.place(Some(DeviceTime::NotSet), received), (received, Placement::ClockNotSet));
        assert_eq!(clock.place(None, received), (received, Placement::Received));
        // A device clock a little ahead of ours never puts a reading in the future.
        let mut ahead = DeviceClock::default();
        assert_eq!(ahead.place(Some(DeviceTime::At(naive("2026-03-01T10:00:30Z"))), received).0, received);
    }

    #[test]
    fn rr_intervals_end_at_the_notification_and_unmapped_users_are_held_back() {
        let patient = PatientId::from_uuid(uuid::Uuid::now_v7());
        let assignment = Assignment { patient: Some(patient), users: HashMap::new() };
        // Heart Rate Measurement: flags 0x10 (RR present, u8 HR), 72 /min, RR 1024 and 512 (1/1024 s).
        let decoded =
            decode(Characteristic::HeartRateMeasurement, &[0x10, 72, 0x00, 0x04, 0x00, 0x02]).unwrap();
        let received = utc("2026-03-01T10:00:00Z");
        let out = assemble(&decoded, received, &mut DeviceClock::default(), &assignment);
        let times: Vec<_> =
            out.observations.iter().map(|o| (o.kind.as_str(), o.effective.to_utc())).collect();
        assert_eq!(
            times,
            vec![
                ("heart_rate", received),
                ("rr_interval", received - Duration::milliseconds(500)),
                ("rr_interval", received),
            ]
        );
        assert!(out.held.is_empty(), "{:?}", out.held);

        // A weight for scale user 2, whom nobody mapped: held back, not given to the device's patient.
        let mut weight = decode(Characteristic::WeightMeasurement, &[0x00, 0x50, 0x46]).unwrap();
        weight.user = Some(2);
        let out = assemble(&weight, received, &mut DeviceClock::default(), &assignment);
        assert!(out.observations.is_empty());
        assert!(out.held[0].contains("user 2"), "{:?}", out.held);
        let mapped = Assignment { patient: None, users: HashMap::from([(2, patient)]) };
        let out = assemble(&weight, received, &mut DeviceClock::default(), &mapped);
        assert_eq!(out.observations.len(), 1);
        assert_eq!(out.observations[0].patient_id, patient);
    }
}

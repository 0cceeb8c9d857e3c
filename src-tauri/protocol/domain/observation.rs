//! Observations: one measured (or explicitly absent) value of one kind, for one patient, at one
//! instant.
//!
//! Each kind has exactly one unit in the store (UCUM, <https://ucum.org>); importers convert
//! before constructing an observation. Times keep the source's original UTC offset beside the
//! instant, as the HL7 Personal Health Device IG and Tidepool do, so "08:00 at home" survives a
//! round trip.

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};

use super::{InvalidField, ObservationId, PatientId, SourceId};

/// What was measured. The snake_case name is used on every interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Heart rate, /min.
    HeartRate,
    /// Beat-to-beat (RR) interval, ms.
    RrInterval,
    /// Oxygen saturation by pulse oximetry, %.
    Spo2,
    /// Respiratory rate, /min.
    RespiratoryRate,
    /// Systolic blood pressure, mm[Hg].
    BpSystolic,
    /// Diastolic blood pressure, mm[Hg].
    BpDiastolic,
    /// Body temperature, Cel.
    BodyTemperature,
    /// Body weight, kg.
    BodyWeight,
    /// Step count over the sample's period, {steps}.
    Steps,
    /// Heart-rate variability as SDNN, ms.
    HrvSdnn,
    /// Level of consciousness on the ACVPU scale, a coded value (LOINC 67775-7 "Level of
    /// responsiveness"), unit `{ACVPU}`. See [`Acvpu`] for the code table.
    ///
    /// Why a number: every kind has one unit and a quantity or an absence (invariant 4), and the
    /// store, the per-minute rollup and the dedup key are all built on `f64`. ACVPU is an
    /// ordinal five-point scale, so a small integer in a UCUM annotation unit keeps every
    /// existing path (import, export, series reads) working, and the code table lives in one
    /// place, [`Acvpu`].
    Consciousness,
    /// Breathing supplemental oxygen (any device) rather than room air, unit `{O2}`: 1 oxygen,
    /// 0 air. This is the NEWS2 "air or oxygen?" row (RCP 2017, chart 1), which scores the fact
    /// of oxygen, not its dose; a nurse at the bedside records the fact. No LOINC code says just
    /// this (3150-0 and 3151-8 are the concentration and the flow rate, which a spot entry does
    /// not have), so it exports under [`Kind::VIGIL_CODE_SYSTEM`].
    SupplementalOxygen,
    /// The NEWS2 SpO2 scale in use, unit `{scale}`: 1 or 2 (RCP 2017, chart 1; scale 2 only for
    /// a prescribed 88-92 % target in hypercapnic respiratory failure). Recorded with an SpO2 so
    /// a later reader scores that SpO2 on the scale the clinician chose. No LOINC code:
    /// exported under [`Kind::VIGIL_CODE_SYSTEM`].
    Spo2Scale,
    /// Blood glucose, mmol/L (LOINC 15074-8 "Glucose [Moles/volume] in Blood"). The SI unit:
    /// Bluetooth meters send kg/L or mol/L (GLS 3.106.2.5), both convert to it exactly up to
    /// the molar mass, and mmol/L is what SI-reporting laboratories and the WHO diabetes
    /// thresholds use; files in mg/dL convert at 180.156 g/mol (18.0156 mg/dL per mmol/L).
    BloodGlucose,
}

/// The code table of [`Kind::Consciousness`] values: ACVPU (RCP 2017, NEWS2 chart 1 and
/// section "Level of consciousness"). The value is the position in the scale, from the best
/// response to the worst; NEWS2 scores 0 for alert and 3 for any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Acvpu {
    /// 0: alert.
    A = 0,
    /// 1: new confusion (or new disorientation or agitation).
    C = 1,
    /// 2: responds to voice.
    V = 2,
    /// 3: responds to pain.
    P = 3,
    /// 4: unresponsive.
    U = 4,
}

impl Acvpu {
    /// Every level, best first; the position is the stored code.
    pub const ALL: [Acvpu; 5] = [Acvpu::A, Acvpu::C, Acvpu::V, Acvpu::P, Acvpu::U];

    /// The stored value.
    pub const fn code(self) -> f64 {
        self as u8 as f64
    }

    /// The level of a stored value, if it is one of the codes.
    pub fn from_code(value: f64) -> Option<Acvpu> {
        Acvpu::ALL.into_iter().find(|a| a.code() == value)
    }

    /// The letter.
    pub const fn letter(self) -> &'static str {
        match self {
            Acvpu::A => "A",
            Acvpu::C => "C",
            Acvpu::V => "V",
            Acvpu::P => "P",
            Acvpu::U => "U",
        }
    }

    /// A short description.
    pub const fn description(self) -> &'static str {
        match self {
            Acvpu::A => "alert",
            Acvpu::C => "new confusion",
            Acvpu::V => "responds to voice",
            Acvpu::P => "responds to pain",
            Acvpu::U => "unresponsive",
        }
    }
}

impl FromStr for Acvpu {
    type Err = InvalidField;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Acvpu::ALL
            .into_iter()
            .find(|a| a.letter().eq_ignore_ascii_case(t) || a.description().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                InvalidField::new("consciousness", format!("'{t}' is not one of A, C, V, P, U (ACVPU)"))
            })
    }
}

/// A kind name that Vigil does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a known observation kind (known: {known})", known = Kind::names())]
pub struct UnknownKind(pub String);

impl Kind {
    /// Every kind, in a stable order.
    pub const ALL: [Kind; 14] = [
        Kind::HeartRate,
        Kind::RrInterval,
        Kind::Spo2,
        Kind::RespiratoryRate,
        Kind::BpSystolic,
        Kind::BpDiastolic,
        Kind::BodyTemperature,
        Kind::BodyWeight,
        Kind::Steps,
        Kind::HrvSdnn,
        Kind::Consciousness,
        Kind::SupplementalOxygen,
        Kind::Spo2Scale,
        Kind::BloodGlucose,
    ];

    /// The name used on every interface and in the store.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::HeartRate => "heart_rate",
            Kind::RrInterval => "rr_interval",
            Kind::Spo2 => "spo2",
            Kind::RespiratoryRate => "respiratory_rate",
            Kind::BpSystolic => "bp_systolic",
            Kind::BpDiastolic => "bp_diastolic",
            Kind::BodyTemperature => "body_temperature",
            Kind::BodyWeight => "body_weight",
            Kind::Steps => "steps",
            Kind::HrvSdnn => "hrv_sdnn",
            Kind::Consciousness => "consciousness",
            Kind::SupplementalOxygen => "supplemental_oxygen",
            Kind::Spo2Scale => "spo2_scale",
            Kind::BloodGlucose => "blood_glucose",
        }
    }

    /// The UCUM code of the one unit this kind is stored in.
    pub const fn unit(self) -> &'static str {
        match self {
            Kind::HeartRate | Kind::RespiratoryRate => "/min",
            Kind::RrInterval | Kind::HrvSdnn => "ms",
            Kind::Spo2 => "%",
            Kind::BpSystolic | Kind::BpDiastolic => "mm[Hg]",
            Kind::BodyTemperature => "Cel",
            Kind::BodyWeight => "kg",
            Kind::Steps => "{steps}",
            Kind::Consciousness => "{ACVPU}",
            Kind::SupplementalOxygen => "{O2}",
            Kind::Spo2Scale => "{scale}",
            Kind::BloodGlucose => "mmol/L",
        }
    }

    /// The LOINC code (<https://loinc.org>), where one is established for this measurement.
    ///
    /// Vital signs follow the FHIR R4 vital-signs profile
    /// (<http://hl7.org/fhir/R4/observation-vitalsigns.html>); 80404-7 is "R-R interval.standard
    /// deviation (Heart rate variability)"; 55423-8 is "Number of steps in unspecified time
    /// Pedometer"; 67775-7 is "Level of responsiveness" (ACVPU). Single RR intervals, the
    /// air/oxygen flag and the SpO2 scale have no LOINC code we rely on: they export under
    /// [`Kind::VIGIL_CODE_SYSTEM`].
    pub const fn loinc(self) -> Option<&'static str> {
        match self {
            Kind::HeartRate => Some("8867-4"),
            Kind::RrInterval => None,
            Kind::Spo2 => Some("2708-6"),
            Kind::RespiratoryRate => Some("9279-1"),
            Kind::BpSystolic => Some("8480-6"),
            Kind::BpDiastolic => Some("8462-4"),
            Kind::BodyTemperature => Some("8310-5"),
            Kind::BodyWeight => Some("29463-7"),
            Kind::Steps => Some("55423-8"),
            Kind::HrvSdnn => Some("80404-7"),
            Kind::Consciousness => Some("67775-7"),
            Kind::SupplementalOxygen | Kind::Spo2Scale => None,
            Kind::BloodGlucose => Some("15074-8"),
        }
    }

    /// g/mol of glucose (C6H12O6: 6 × 12.011 + 12 × 1.008 + 6 × 15.999, IUPAC standard atomic
    /// weights), to convert [`Kind::BloodGlucose`] from mass concentrations: 1 mmol/L =
    /// 18.0156 mg/dL.
    pub const GLUCOSE_MOLAR_MASS: f64 = 180.156;

    /// The code system for kinds without a LOINC code; the code is the kind's name.
    pub const VIGIL_CODE_SYSTEM: &'static str = "urn:vigil:observation-kind";

    /// A short human name.
    pub const fn display(self) -> &'static str {
        match self {
            Kind::HeartRate => "Heart rate",
            Kind::RrInterval => "RR interval",
            Kind::Spo2 => "Oxygen saturation",
            Kind::RespiratoryRate => "Respiratory rate",
            Kind::BpSystolic => "Systolic blood pressure",
            Kind::BpDiastolic => "Diastolic blood pressure",
            Kind::BodyTemperature => "Body temperature",
            Kind::BodyWeight => "Body weight",
            Kind::Steps => "Steps",
            Kind::HrvSdnn => "HRV (SDNN)",
            Kind::Consciousness => "Level of consciousness (ACVPU)",
            Kind::SupplementalOxygen => "Supplemental oxygen",
            Kind::Spo2Scale => "NEWS2 SpO2 scale",
            Kind::BloodGlucose => "Blood glucose",
        }
    }

    /// Values outside this range are physiologically implausible for an adult or a measurement
    /// artefact, and are rejected rather than stored. The bounds are deliberately wide: they
    /// catch unit mix-ups and sensor garbage (heart rate 0 or 400, SpO2 above 100 %, a weight of
    /// 5,000 kg), not clinical abnormality, which is the analysis engine's job.
    pub fn plausible(self) -> RangeInclusive<f64> {
        match self {
            Kind::HeartRate => 20.0..=300.0,
            Kind::RrInterval => 200.0..=3000.0,
            Kind::Spo2 => 50.0..=100.0,
            Kind::RespiratoryRate => 2.0..=80.0,
            Kind::BpSystolic => 40.0..=300.0,
            Kind::BpDiastolic => 20.0..=200.0,
            Kind::BodyTemperature => 25.0..=45.0,
            Kind::BodyWeight => 0.5..=650.0,
            Kind::Steps => 0.0..=100_000.0,
            Kind::HrvSdnn => 1.0..=1000.0,
            Kind::Consciousness => 0.0..=4.0,
            Kind::SupplementalOxygen => 0.0..=1.0,
            Kind::Spo2Scale => 1.0..=2.0,
            // Meters read about 0.6-33.3 mmol/L (10-600 mg/dL) and show "LO"/"HI" beyond;
            // hyperosmolar states rarely pass 55 mmol/L. 60 also catches most values sent in
            // mg/dL by mistake (a normal 70-200 mg/dL is above it).
            Kind::BloodGlucose => 0.5..=60.0,
        }
    }

    /// A coded kind takes only whole numbers (its codes); the rest take any finite number.
    pub const fn is_coded(self) -> bool {
        matches!(self, Kind::Consciousness | Kind::SupplementalOxygen | Kind::Spo2Scale)
    }

    fn names() -> String {
        Kind::ALL.map(Kind::as_str).join(", ")
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = UnknownKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

/// Why a value is absent. The FHIR R4 `data-absent-reason` codes
/// (<http://hl7.org/fhir/R4/codesystem-data-absent-reason.html>) plus the IEEE 11073-20601
/// "not at this resolution" special value that Bluetooth health devices send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[allow(missing_docs)] // each variant is the FHIR code of the same name
pub enum AbsentReason {
    Unknown,
    AskedUnknown,
    TempUnknown,
    NotAsked,
    AskedDeclined,
    Masked,
    NotApplicable,
    Unsupported,
    AsText,
    Error,
    NotANumber,
    NegativeInfinity,
    PositiveInfinity,
    NotPerformed,
    NotPermitted,
    /// IEEE 11073 SFLOAT 0x0800 / FLOAT 0x00800000: not at this resolution.
    NotAtThisResolution,
}

impl AbsentReason {
    /// Every reason, in a stable order; the position is part of the stored dedup key, so
    /// append only.
    pub const ALL: [AbsentReason; 16] = [
        AbsentReason::Unknown,
        AbsentReason::AskedUnknown,
        AbsentReason::TempUnknown,
        AbsentReason::NotAsked,
        AbsentReason::AskedDeclined,
        AbsentReason::Masked,
        AbsentReason::NotApplicable,
        AbsentReason::Unsupported,
        AbsentReason::AsText,
        AbsentReason::Error,
        AbsentReason::NotANumber,
        AbsentReason::NegativeInfinity,
        AbsentReason::PositiveInfinity,
        AbsentReason::NotPerformed,
        AbsentReason::NotPermitted,
        AbsentReason::NotAtThisResolution,
    ];

    /// The code (FHIR's, or `not-at-this-resolution`).
    pub const fn as_str(self) -> &'static str {
        match self {
            AbsentReason::Unknown => "unknown",
            AbsentReason::AskedUnknown => "asked-unknown",
            AbsentReason::TempUnknown => "temp-unknown",
            AbsentReason::NotAsked => "not-asked",
            AbsentReason::AskedDeclined => "asked-declined",
            AbsentReason::Masked => "masked",
            AbsentReason::NotApplicable => "not-applicable",
            AbsentReason::Unsupported => "unsupported",
            AbsentReason::AsText => "as-text",
            AbsentReason::Error => "error",
            AbsentReason::NotANumber => "not-a-number",
            AbsentReason::NegativeInfinity => "negative-infinity",
            AbsentReason::PositiveInfinity => "positive-infinity",
            AbsentReason::NotPerformed => "not-performed",
            AbsentReason::NotPermitted => "not-permitted",
            AbsentReason::NotAtThisResolution => "not-at-this-resolution",
        }
    }
}

impl FromStr for AbsentReason {
    type Err = InvalidField;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AbsentReason::ALL.into_iter().find(|r| r.as_str() == s).ok_or_else(|| {
            InvalidField::new("absent_reason", format!("'{s}' is not a data-absent-reason code"))
        })
    }
}

/// A measured quantity in the kind's unit, or an explicit absence. Never a NaN.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObservationValue {
    /// A finite number in [`Kind::unit`].
    Quantity(f64),
    /// No value, with the reason the source gave.
    Absent(AbsentReason),
}

impl ObservationValue {
    /// The number, if there is one.
    pub fn quantity(self) -> Option<f64> {
        match self {
            ObservationValue::Quantity(v) => Some(v),
            ObservationValue::Absent(_) => None,
        }
    }

    /// A 64-bit key that identifies the value exactly, for deduplication: the IEEE-754 bits of a
    /// quantity (bijective, since quantities are finite and `-0.0` is folded into `0.0`), and for
    /// an absence a quiet-NaN pattern carrying the reason's position, which no quantity can have.
    #[allow(clippy::cast_possible_wrap, reason = "the key is the bits, reinterpreted, not a number")]
    pub fn dedup_key(self) -> i64 {
        match self {
            ObservationValue::Quantity(v) => {
                let v = if v == 0.0 { 0.0 } else { v };
                v.to_bits() as i64
            }
            ObservationValue::Absent(reason) => {
                let index = AbsentReason::ALL.iter().position(|r| *r == reason).unwrap_or(0);
                (0x7FF8_0000_0000_0000_u64 | (1 << 32) | index as u64) as i64
            }
        }
    }
}

/// An observation before it is stored: validated, but without id, source or ingestion time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NewObservation {
    /// Whose.
    pub patient_id: PatientId,
    /// What.
    pub kind: Kind,
    /// How much, in the kind's unit.
    pub value: ObservationValue,
    /// When it was measured, with the source's own UTC offset. Stored at millisecond precision.
    pub effective: DateTime<FixedOffset>,
}

impl NewObservation {
    /// Checks that a quantity is finite and within [`Kind::plausible`]; the error names the
    /// kind, the value and the accepted range.
    pub fn new(
        patient_id: PatientId,
        kind: Kind,
        value: ObservationValue,
        effective: DateTime<FixedOffset>,
    ) -> Result<Self, InvalidField> {
        if let ObservationValue::Quantity(v) = value {
            if !v.is_finite() {
                return Err(InvalidField::new("value", format!("{kind} value {v} is not a finite number")));
            }
            if kind.is_coded() && v.fract() != 0.0 {
                return Err(InvalidField::new(
                    "value",
                    format!("{kind} {v} is not one of its codes (whole numbers; see Kind::{kind:?})"),
                ));
            }
            let range = kind.plausible();
            if !range.contains(&v) {
                return Err(InvalidField::new(
                    "value",
                    format!(
                        "{kind} {v} {unit} is outside the plausible range {lo}..={hi} {unit}",
                        unit = kind.unit(),
                        lo = range.start(),
                        hi = range.end()
                    ),
                ));
            }
        }
        Ok(Self { patient_id, kind, value, effective })
    }
}

/// An observation as stored. Immutable: there is no update path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// UUIDv7.
    pub id: ObservationId,
    /// Whose.
    pub patient_id: PatientId,
    /// What.
    pub kind: Kind,
    /// How much, in `kind.unit()`.
    pub value: ObservationValue,
    /// When, with the source's own offset.
    pub effective: DateTime<FixedOffset>,
    /// Where it came from.
    pub source_id: SourceId,
    /// When this workstation stored it.
    pub ingested_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn every_kind_round_trips_by_name_and_has_one_unit() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>().unwrap(), kind);
            assert!(!kind.unit().is_empty());
        }
        let err = "pulse".parse::<Kind>().unwrap_err().to_string();
        assert!(err.starts_with("'pulse' is not a known observation kind (known: heart_rate,"), "{err}");
    }

    #[test]
    fn implausible_values_are_rejected_with_the_range() {
        let p = PatientId::from_uuid(Uuid::nil());
        let t = at("2026-01-01T08:00:00+01:00");
        let q = ObservationValue::Quantity;
        let err = NewObservation::new(p, Kind::HeartRate, q(400.0), t).unwrap_err();
        assert_eq!(
            err.to_string(),
            "value: heart_rate 400 /min is outside the plausible range 20..=300 /min"
        );
        assert!(NewObservation::new(p, Kind::HeartRate, q(0.0), t).is_err());
        assert!(NewObservation::new(p, Kind::Spo2, q(100.5), t).is_err());
        assert!(NewObservation::new(p, Kind::BodyWeight, q(5000.0), t).is_err());
        assert!(NewObservation::new(p, Kind::BodyWeight, q(f64::NAN), t).is_err());
        assert!(NewObservation::new(p, Kind::Spo2, q(100.0), t).is_ok());
        let absent = ObservationValue::Absent(AbsentReason::Masked);
        assert!(NewObservation::new(p, Kind::Spo2, absent, t).is_ok());
        assert!(NewObservation::new(p, Kind::Consciousness, q(2.0), t).is_ok());
        assert!(NewObservation::new(p, Kind::Consciousness, q(1.5), t).is_err());
        assert!(NewObservation::new(p, Kind::Consciousness, q(5.0), t).is_err());
        assert!(NewObservation::new(p, Kind::Spo2Scale, q(3.0), t).is_err());
        assert!(NewObservation::new(p, Kind::SupplementalOxygen, q(1.0), t).is_ok());
    }

    #[test]
    fn acvpu_codes_round_trip_and_letters_parse() {
        for a in Acvpu::ALL {
            assert_eq!(Acvpu::from_code(a.code()), Some(a));
            assert_eq!(a.letter().parse::<Acvpu>().unwrap(), a);
        }
        assert_eq!("v".parse::<Acvpu>().unwrap(), Acvpu::V);
        assert_eq!(Acvpu::from_code(2.5), None);
        let err = "X".parse::<Acvpu>().unwrap_err().to_string();
        assert_eq!(err, "consciousness: 'X' is not one of A, C, V, P, U (ACVPU)");
    }

    #[test]
    fn dedup_keys_separate_values_and_absences() {
        let keys: Vec<i64> = [
            ObservationValue::Quantity(0.0),
            ObservationValue::Quantity(72.0),
            ObservationValue::Quantity(72.000_000_000_001),
            ObservationValue::Absent(AbsentReason::Unknown),
            ObservationValue::Absent(AbsentReason::Masked),
        ]
        .map(ObservationValue::dedup_key)
        .to_vec();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len());
        assert_eq!(ObservationValue::Quantity(-0.0).dedup_key(), ObservationValue::Quantity(0.0).dedup_key());
    }

    #[test]
    fn absent_reasons_round_trip() {
        for reason in AbsentReason::ALL {
            assert_eq!(reason.as_str().parse::<AbsentReason>().unwrap(), reason);
        }
    }
}

//! A rule as data: what it reads, how it compares, what it contributes, and where it comes from.
//!
//! Each specialty declares its rules as one `const` table of [`Rule`]s ([`super::table`]) and
//! [`super::RuleBook::apply`] evaluates the table in order, so the table is the rule: there is
//! no second copy of a threshold in code. The semantics of a row:
//!
//! - **Comparison.** The rule *holds* when `value cmp threshold`, with `cmp` exactly as written
//!   (`<` and `>` exclusive, `<=` and `>=` inclusive). An absent or non-finite value is skipped:
//!   no evidence either way.
//! - **Charting.** A rule taken from the NEWS2 chart ([`Charting::News2Whole`]) compares the
//!   value as NEWS2 charts it: rounded to a whole number, half away from zero (RCP 2017; see
//!   `analysis::news2`), so the rule and the NEWS2 sub-score agree at every value. The evidence
//!   then shows the charted value. Other rules compare the raw value.
//! - **Applies.** A row that does not apply to the patient (an SpO2 row of the other scale) is
//!   skipped entirely.
//! - **Requires.** A row with `requires` triggers only when, in addition, one of the named
//!   earlier rows triggered (e.g. SIRS counts only with a temperature abnormality). Its
//!   evidence is still recorded, with `triggered: false`.
//! - **Score.** A triggered row with a score above 0 fires: it contributes its score, code,
//!   event and recommendation to the finding. A score of 0 marks a criterion counted by a later
//!   row ([`Feature::CriteriaMet`]), not a finding of its own.
//! - **Group.** Rows sharing a `group` are grades of one rule (the NEWS2 bands, SIRS with 2 or
//!   3 criteria): only the highest-scoring fired row of the group counts in the finding. Every
//!   row's evidence stays.

use crate::agents::{AssessmentContext, EventClass};
use crate::analysis::news2::{self, Consciousness, Spo2Scale};
use crate::analysis::window::HrvSource;

/// How a value is compared with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    /// Strictly below.
    Lt,
    /// Below or equal.
    Le,
    /// Strictly above.
    Gt,
    /// Above or equal.
    Ge,
}

impl Cmp {
    /// `<`, `<=`, `>` or `>=`, as in the evidence.
    pub fn symbol(self) -> &'static str {
        match self {
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }

    /// Whether `value cmp threshold`.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Cmp::Lt => value < threshold,
            Cmp::Le => value <= threshold,
            Cmp::Gt => value > threshold,
            Cmp::Ge => value >= threshold,
        }
    }
}

/// At what resolution the value is compared (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charting {
    /// The value as measured.
    Raw,
    /// Rounded to a whole number, half away from zero, as on the NEWS2 chart.
    News2Whole,
}

impl Charting {
    /// The value as compared.
    pub fn apply(self, value: f64) -> f64 {
        match self {
            Charting::Raw => value,
            Charting::News2Whole => news2::charted(value, 0),
        }
    }
}

/// Which patients a row applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// Everyone.
    Always,
    /// Patients on this NEWS2 SpO2 scale (the clinician's choice, [`crate::agents::News2Context`]).
    Spo2Scale(Spo2Scale),
}

impl Applies {
    fn to(self, ctx: &AssessmentContext) -> bool {
        match self {
            Applies::Always => true,
            Applies::Spo2Scale(scale) => ctx.news2.spo2_scale == scale,
        }
    }
}

/// What a rule reads. Names are the evidence's `feature`, the same on every interface.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Feature {
    /// Heart rate: the window's mean, else the latest, /min.
    HrMean,
    /// The window's successive RR differences over the mean RR interval (`hrv_mean` over
    /// 60000 / `hr_mean`); only when `hrv_mean` came from RR intervals (a device's per-sample
    /// HRV is not a successive difference).
    RrIntervalNrmssd,
    /// The window's relative HRV fall, first minute to last (`hrv_decrease`, positive when HRV
    /// fell; from RR intervals or the per-sample HRV stream).
    HrvDecrease,
    /// The relative change of the HRV window mean over the trend horizon.
    HrvChange,
    /// The latest systolic pressure, mmHg.
    BpSystolic,
    /// The latest diastolic pressure, mmHg.
    BpDiastolic,
    /// SpO2: the window's mean, else the latest, %.
    Spo2Mean,
    /// Change of the SpO2 window mean over the trend horizon, percentage points.
    Spo2Change,
    /// Respiratory rate: the window's mean, else the latest, /min.
    RrMean,
    /// The window's standard deviation of second-to-second respiratory-rate changes.
    RrIrregularity,
    /// Temperature: the window's mean, else the latest, Cel.
    TempMean,
    /// The window's temperature max − min, Cel.
    TempSpike,
    /// 1 when consciousness was assessed and is not alert (new confusion, V, P or U), 0 when
    /// alert; absent when not assessed.
    AlteredMentation,
    /// The ESC/HFA rapid gain, kg (present only when `analysis::heart_failure::rapid_gain`
    /// found one).
    WeightGainKg,
    /// The Kalman trend, kg/week: the trend rule's step, else the latest tracking step.
    WeightTrendKgPerWeek,
    /// The trend rule's trend over its standard deviation (present when the rule held).
    WeightTrendZ,
    /// The NEWS2 aggregate score (computed by the early-warning agent).
    News2Aggregate,
    /// The highest single NEWS2 parameter score (computed by the early-warning agent).
    News2MaxSubScore,
    /// How many of the groups of earlier rules have a triggered rule (a group: any of its
    /// codes), under the evidence name `name`.
    CriteriaMet {
        /// The evidence's feature name.
        name: &'static str,
        /// Each criterion: the codes of the rows that satisfy it.
        groups: &'static [&'static [&'static str]],
    },
}

impl Feature {
    /// The evidence's feature name.
    pub fn name(self) -> &'static str {
        match self {
            Feature::HrMean => "hr_mean",
            Feature::RrIntervalNrmssd => "rr_interval_nrmssd",
            Feature::HrvDecrease => "hrv_decrease",
            Feature::HrvChange => "hrv_change",
            Feature::BpSystolic => "bp_systolic",
            Feature::BpDiastolic => "bp_diastolic",
            Feature::Spo2Mean => "spo2_mean",
            Feature::Spo2Change => "spo2_change",
            Feature::RrMean => "rr_mean",
            Feature::RrIrregularity => "rr_irregularity",
            Feature::TempMean => "temp_mean",
            Feature::TempSpike => "temp_spike",
            Feature::AlteredMentation => "altered_mentation",
            Feature::WeightGainKg => "weight_gain_kg",
            Feature::WeightTrendKgPerWeek => "weight_trend_kg_per_week",
            Feature::WeightTrendZ => "weight_trend_z",
            Feature::News2Aggregate => "news2_aggregate",
            Feature::News2MaxSubScore => "news2_max_sub_score",
            Feature::CriteriaMet { name, .. } => name,
        }
    }

    /// The feature's value in `ctx`. `None` when absent, and for the features computed by an
    /// agent (NEWS2) or by the book (criteria counts).
    pub fn read(self, ctx: &AssessmentContext) -> Option<f64> {
        let window = ctx.window;
        let weight = ctx.weight.as_ref();
        match self {
            Feature::HrMean => ctx.heart_rate(),
            Feature::RrIntervalNrmssd => match window.map(|w| (w.hrv_source, w.hrv_mean, w.hr_mean)) {
                Some((Some(HrvSource::RrIntervals), Some(h), Some(hr))) if hr > 0.0 => {
                    Some(h / (60_000.0 / hr))
                }
                _ => None,
            },
            Feature::HrvDecrease => window.and_then(|w| w.hrv_decrease),
            Feature::HrvChange => ctx.trend.hrv_change,
            Feature::BpSystolic => ctx.latest.bp_systolic,
            Feature::BpDiastolic => ctx.latest.bp_diastolic,
            Feature::Spo2Mean => ctx.spo2(),
            Feature::Spo2Change => ctx.trend.spo2_change,
            Feature::RrMean => ctx.respiratory_rate(),
            Feature::RrIrregularity => window.and_then(|w| w.rr_irregularity),
            Feature::TempMean => ctx.temperature(),
            Feature::TempSpike => window.and_then(|w| w.temp_spike),
            Feature::AlteredMentation => {
                ctx.news2.consciousness.map(|c| f64::from(u8::from(c != Consciousness::Alert)))
            }
            Feature::WeightGainKg => weight.and_then(|w| w.rapid_gain).map(|g| g.gain_kg),
            Feature::WeightTrendKgPerWeek => weight.and_then(|w| {
                w.trend_rise.map(|t| t.trend_kg_per_week).or(w.latest.and_then(|s| s.trend_kg_per_week))
            }),
            Feature::WeightTrendZ => weight
                .and_then(|w| w.trend_rise)
                .filter(|t| t.trend_sd_kg_per_week > 0.0)
                .map(|t| t.trend_kg_per_week / t.trend_sd_kg_per_week),
            Feature::News2Aggregate | Feature::News2MaxSubScore | Feature::CriteriaMet { .. } => None,
        }
    }
}

/// One row of a specialty's table (module docs for the semantics).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// The finding's code when this row decides it (`<specialty>.<code>`).
    pub code: &'static str,
    /// What it reads.
    pub feature: Feature,
    /// How the value compares with `threshold` when the rule holds.
    pub cmp: Cmp,
    /// The threshold, in the feature's unit.
    pub threshold: f64,
    /// The value's resolution for the comparison.
    pub charting: Charting,
    /// The score it contributes when it fires (Vigil's scoring convention, [`super`]); 0 for a
    /// criterion.
    pub score: f64,
    /// The clinical event it points at.
    pub event: Option<EventClass>,
    /// Which patients it applies to.
    pub applies: Applies,
    /// Earlier rows of which one must have triggered (empty: none needed).
    pub requires: &'static [&'static str],
    /// Rows sharing a group are grades of one rule.
    pub group: Option<&'static str>,
    /// Its source, short, as in the evidence (the module beside the table has the full
    /// citation).
    pub source: &'static str,
    /// What the clinician should consider when it fires.
    pub recommendation: &'static str,
}

impl Rule {
    /// A row comparing the raw value, for everyone, with no event, requirement or group.
    pub const fn new(
        code: &'static str,
        feature: Feature,
        cmp: Cmp,
        threshold: f64,
        score: f64,
        source: &'static str,
    ) -> Self {
        Rule {
            code,
            feature,
            cmp,
            threshold,
            charting: Charting::Raw,
            score,
            event: None,
            applies: Applies::Always,
            requires: &[],
            group: None,
            source,
            recommendation: "",
        }
    }

    /// With this event.
    pub const fn event(self, event: Option<EventClass>) -> Self {
        Rule { event, ..self }
    }

    /// Compared as NEWS2 charts the value (whole numbers).
    pub const fn news2_charted(self) -> Self {
        Rule { charting: Charting::News2Whole, ..self }
    }

    /// Only for these patients.
    pub const fn applies(self, applies: Applies) -> Self {
        Rule { applies, ..self }
    }

    /// Triggers only when one of these earlier rows triggered.
    pub const fn requires(self, requires: &'static [&'static str]) -> Self {
        Rule { requires, ..self }
    }

    /// A grade of the rule `group`.
    pub const fn group(self, group: &'static str) -> Self {
        Rule { group: Some(group), ..self }
    }

    /// With this recommendation.
    pub const fn recommend(self, recommendation: &'static str) -> Self {
        Rule { recommendation, ..self }
    }

    /// Whether the row applies to `ctx`'s patient.
    pub fn applies_to(&self, ctx: &AssessmentContext) -> bool {
        self.applies.to(ctx)
    }
}

//! NEWS2, the National Early Warning Score 2.
//!
//! Source: Royal College of Physicians, *National Early Warning Score (NEWS) 2: Standardising
//! the assessment of acute-illness severity in the NHS*, updated report of a working party,
//! London: RCP, 2017. Chart 1 ("The NEWS scoring system") gives the sub-scores, chart 2
//! ("NEWS thresholds and triggers") the risk bands, chart 3 the clinical response.
//!
//! | parameter          | 3        | 2         | 1         | 0          | 1         | 2         | 3      |
//! |--------------------|----------|-----------|-----------|------------|-----------|-----------|--------|
//! | respiration /min   | <= 8     |           | 9-11      | 12-20      |           | 21-24     | >= 25  |
//! | SpO2 scale 1 %     | <= 91    | 92-93     | 94-95     | >= 96      |           |           |        |
//! | SpO2 scale 2 %     | <= 83    | 84-85     | 86-87     | 88-92, >=93 on air | 93-94 on O2 | 95-96 on O2 | >= 97 on O2 |
//! | air or oxygen      |          | oxygen    |           | air        |           |           |        |
//! | systolic BP mmHg   | <= 90    | 91-100    | 101-110   | 111-219    |           |           | >= 220 |
//! | pulse /min         | <= 40    |           | 41-50     | 51-90      | 91-110    | 111-130   | >= 131 |
//! | consciousness      |          |           |           | alert      |           |           | new confusion, V, P or U |
//! | temperature Cel    | <= 35.0  |           | 35.1-36.0 | 36.1-38.0  | 38.1-39.0 | >= 39.1   |        |
//!
//! SpO2 scale 2 is only for patients with hypercapnic respiratory failure whose target range
//! (88-92 %) a clinician has prescribed; otherwise scale 1. The choice is an input, never
//! inferred.
//!
//! **Values between chart rows.** The chart is written at charting resolution: whole numbers for
//! respiration, SpO2, blood pressure and pulse, one decimal for temperature. A value is first
//! rounded to that resolution, half away from zero (the way it would be written on the chart),
//! then looked up: temperature 35.05 is charted 35.1 and scores 1, 35.04 is charted 35.0 and
//! scores 3; a respiration rate of 20.5 is 21 and scores 2. The charted value is reported in
//! each sub-score so the rounding is visible.
//!
//! **Response** (chart 2/3): aggregate 0 low (routine, at least 12-hourly); 1-4 low (ward-based
//! response, at least 4-6-hourly); a 3 in any single parameter with an aggregate below 5
//! low-medium (urgent ward-based response, at least hourly); 5-6 medium (urgent response, at
//! least hourly); 7 or more high (emergency response, continuous monitoring). Independently of
//! the aggregate, any single parameter scoring 3 needs an urgent review by a clinician
//! ([`News2Score::urgent_review`]).

use serde::{Deserialize, Serialize};

/// Which SpO2 scale the patient is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Spo2Scale {
    /// The default scale.
    Scale1,
    /// Hypercapnic respiratory failure with a prescribed 88-92 % target.
    Scale2,
}

/// ACVPU. A new confusion (or new disorientation or agitation) scores like V, P and U.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Consciousness {
    /// Alert.
    Alert,
    /// New confusion.
    NewConfusion,
    /// Responds to voice.
    Voice,
    /// Responds to pain.
    Pain,
    /// Unresponsive.
    Unresponsive,
}

/// One set of observations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct News2Input {
    /// Respiration rate, /min.
    pub respiration_rate: f64,
    /// SpO2, %.
    pub spo2: f64,
    /// The SpO2 scale in use.
    pub spo2_scale: Spo2Scale,
    /// Breathing supplemental oxygen (any device), rather than air.
    pub on_oxygen: bool,
    /// Systolic blood pressure, mmHg.
    pub systolic_bp: f64,
    /// Pulse, /min.
    pub pulse: f64,
    /// ACVPU.
    pub consciousness: Consciousness,
    /// Temperature, Cel.
    pub temperature: f64,
}

/// A NEWS2 parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parameter {
    /// Respiration rate.
    RespirationRate,
    /// SpO2 on the chosen scale.
    Spo2,
    /// Air or oxygen.
    AirOrOxygen,
    /// Systolic blood pressure.
    SystolicBp,
    /// Pulse.
    Pulse,
    /// Consciousness.
    Consciousness,
    /// Temperature.
    Temperature,
}

impl Parameter {
    /// The snake_case name used on every interface (its serde name, and the CSV column of
    /// `vigil analyze news2`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Parameter::RespirationRate => "respiration_rate",
            Parameter::Spo2 => "spo2",
            Parameter::AirOrOxygen => "air_or_oxygen",
            Parameter::SystolicBp => "systolic_bp",
            Parameter::Pulse => "pulse",
            Parameter::Consciousness => "consciousness",
            Parameter::Temperature => "temperature",
        }
    }
}

/// One parameter's score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SubScore {
    /// Which parameter.
    pub parameter: Parameter,
    /// The value as charted (rounded to chart resolution); 1/0 for oxygen/air and for
    /// not-alert/alert.
    pub charted: f64,
    /// 0 to 3.
    pub score: u8,
}

/// The clinical risk band (chart 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClinicalRisk {
    /// Aggregate 0-4 with no single 3.
    Low,
    /// A single parameter scoring 3, aggregate below 5.
    LowMedium,
    /// Aggregate 5-6.
    Medium,
    /// Aggregate 7 or more.
    High,
}

/// The clinical response and minimum monitoring frequency (chart 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Response {
    /// Aggregate 0: continue routine monitoring, at least every 12 hours.
    Routine,
    /// Aggregate 1-4: a registered nurse assesses and decides; at least every 4-6 hours.
    WardBased,
    /// A single 3: urgent ward-based response, the medical team is informed; at least hourly.
    UrgentWardBased,
    /// Aggregate 5-6: urgent response by a clinician competent in acute illness; at least hourly.
    Urgent,
    /// Aggregate 7 or more: emergency response by a critical-care team; continuous monitoring.
    Emergency,
}

/// A scored set of observations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct News2Score {
    /// One per parameter, in chart order.
    pub sub_scores: [SubScore; 7],
    /// Sum of the sub-scores, 0-20.
    pub aggregate: u8,
    /// The band.
    pub risk: ClinicalRisk,
    /// What to do.
    pub response: Response,
    /// The parameters scoring 3 ("red scores").
    pub red_parameters: Vec<Parameter>,
    /// A single parameter scored 3: needs an urgent review whatever the aggregate.
    pub urgent_review: bool,
}

/// An input that cannot be scored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{parameter:?} {value}: {problem}")]
pub struct News2Error {
    /// Which parameter.
    pub parameter: Parameter,
    /// The value given.
    pub value: f64,
    /// What is wrong.
    pub problem: &'static str,
}

/// Rounds to `decimals` places, half away from zero: the charted value.
pub(crate) fn charted(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

/// Score of `v` against ascending upper bounds: the first `(upper, score)` with `v <= upper`.
fn by_upper_bounds(v: f64, rows: &[(f64, u8)], above: u8) -> u8 {
    rows.iter().find(|(upper, _)| v <= *upper).map_or(above, |(_, s)| *s)
}

fn respiration_score(rr: f64) -> u8 {
    by_upper_bounds(rr, &[(8.0, 3), (11.0, 1), (20.0, 0), (24.0, 2)], 3)
}

fn spo2_score(spo2: f64, scale: Spo2Scale, on_oxygen: bool) -> u8 {
    match scale {
        Spo2Scale::Scale1 => by_upper_bounds(spo2, &[(91.0, 3), (93.0, 2), (95.0, 1)], 0),
        Spo2Scale::Scale2 if spo2 <= 92.0 || !on_oxygen => {
            by_upper_bounds(spo2, &[(83.0, 3), (85.0, 2), (87.0, 1)], 0)
        }
        Spo2Scale::Scale2 => by_upper_bounds(spo2, &[(94.0, 1), (96.0, 2)], 3),
    }
}

fn systolic_score(sbp: f64) -> u8 {
    by_upper_bounds(sbp, &[(90.0, 3), (100.0, 2), (110.0, 1), (219.0, 0)], 3)
}

fn pulse_score(pulse: f64) -> u8 {
    by_upper_bounds(pulse, &[(40.0, 3), (50.0, 1), (90.0, 0), (110.0, 1), (130.0, 2)], 3)
}

fn temperature_score(t: f64) -> u8 {
    by_upper_bounds(t, &[(35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1)], 2)
}

fn check(parameter: Parameter, value: f64, range: (f64, f64)) -> Result<f64, News2Error> {
    if !value.is_finite() {
        return Err(News2Error { parameter, value, problem: "is not a number" });
    }
    if value < range.0 || value > range.1 {
        return Err(News2Error { parameter, value, problem: "is outside the range NEWS2 can score" });
    }
    Ok(value)
}

/// Scores one set of observations (module docs for the chart and the rounding).
///
/// Rejected: non-finite or negative values, SpO2 above 100 %, and temperatures outside
/// 25-45 Cel (a Fahrenheit value, most likely).
pub fn score(input: &News2Input) -> Result<News2Score, News2Error> {
    use Parameter as P;
    let rr = charted(check(P::RespirationRate, input.respiration_rate, (0.0, 200.0))?, 0);
    let spo2 = charted(check(P::Spo2, input.spo2, (0.0, 100.0))?, 0);
    let sbp = charted(check(P::SystolicBp, input.systolic_bp, (0.0, 400.0))?, 0);
    let pulse = charted(check(P::Pulse, input.pulse, (0.0, 400.0))?, 0);
    let temp = charted(check(P::Temperature, input.temperature, (25.0, 45.0))?, 1);
    let alert = input.consciousness == Consciousness::Alert;
    let sub_scores = [
        SubScore { parameter: P::RespirationRate, charted: rr, score: respiration_score(rr) },
        SubScore {
            parameter: P::Spo2,
            charted: spo2,
            score: spo2_score(spo2, input.spo2_scale, input.on_oxygen),
        },
        SubScore {
            parameter: P::AirOrOxygen,
            charted: f64::from(u8::from(input.on_oxygen)),
            score: if input.on_oxygen { 2 } else { 0 },
        },
        SubScore { parameter: P::SystolicBp, charted: sbp, score: systolic_score(sbp) },
        SubScore { parameter: P::Pulse, charted: pulse, score: pulse_score(pulse) },
        SubScore {
            parameter: P::Consciousness,
            charted: f64::from(u8::from(!alert)),
            score: if alert { 0 } else { 3 },
        },
        SubScore { parameter: P::Temperature, charted: temp, score: temperature_score(temp) },
    ];
    let aggregate = sub_scores.iter().map(|s| s.score).sum();
    let red_parameters: Vec<_> = sub_scores.iter().filter(|s| s.score == 3).map(|s| s.parameter).collect();
    let urgent_review = !red_parameters.is_empty();
    let (risk, response) = match aggregate {
        7.. => (ClinicalRisk::High, Response::Emergency),
        5..=6 => (ClinicalRisk::Medium, Response::Urgent),
        _ if urgent_review => (ClinicalRisk::LowMedium, Response::UrgentWardBased),
        0 => (ClinicalRisk::Low, Response::Routine),
        _ => (ClinicalRisk::Low, Response::WardBased),
    };
    Ok(News2Score { sub_scores, aggregate, risk, response, red_parameters, urgent_review })
}

#[cfg(test)]
mod tests;

//! Heart-rate variability from RR intervals: artefacts, time domain, frequency domain.
//!
//! Reference: Task Force of the European Society of Cardiology and the North American Society of
//! Pacing and Electrophysiology, "Heart rate variability: standards of measurement, physiological
//! interpretation and clinical use", Circulation 93:1043–1065 (1996).
//!
//! # Conventions (time domain, over the NN series after artefact handling)
//! - `mean_nn_ms`: mean NN interval.
//! - `sdnn_ms`: standard deviation of NN intervals, **sample** estimator (divides by n − 1).
//! - `rmssd_ms`: square root of the mean of squared successive differences (divides by the number
//!   of differences).
//! - `sdsd_ms`: standard deviation of the **signed** successive differences, sample estimator
//!   (n − 1), as the Task Force defines it. pyhrv 0.5 computes it from the *absolute* differences,
//!   which gives a smaller number (see `tests/analysis_hrv_pyhrv.rs`).
//! - `nn50`: successive differences with |ΔNN| > 50 ms (strictly); `pnn50_percent`: NN50 divided by
//!   the **number of differences**, × 100.
//! - `mean_hr_bpm`: mean of the instantaneous heart rates `60000 / NN` (pyhrv's convention; note
//!   it is not `60000 / mean_nn`, which is smaller by Jensen's inequality).
//!
//! "Successive" means adjacent in the recording: with [`Correction::Delete`], a difference across
//! a deleted beat is not used. Artefact rules are in [`artefact`]; the spectrum's in [`spectrum`].
//!
//! # Inputs
//! RR intervals in milliseconds. An empty series, a value that is not finite, and a value that is
//! zero or negative are errors ([`HrvError`]): they are not physiology that a filter may judge,
//! they are broken input; so are an interval over [`MAX_RR_MS`] and a series longer than
//! [`MAX_RECORDING_SECONDS`], refused before anything is sized by them. Positive but
//! implausible intervals below that are artefacts. The frequency domain
//! needs [`MIN_SPECTRAL_SECONDS`] of recording and is `None` below.

pub mod artefact;
pub mod spectrum;

use serde::{Deserialize, Serialize};

pub use artefact::Correction;
pub use spectrum::{FrequencyDomain, Taper, WelchParams};

/// Shortest recording for which the frequency domain is reported, seconds (Task Force: 2 minutes
/// for LF; VLF wants longer).
pub const MIN_SPECTRAL_SECONDS: f64 = 120.0;

/// The longest interval accepted, ms. A pause of a minute is no heart rhythm to analyse but a
/// gap in the recording (the Task Force's edited recordings hold intervals of about 0.3-2 s);
/// longer values are broken input, and bounding them bounds what the spectrum allocates.
pub const MAX_RR_MS: f64 = 60_000.0;

/// The longest recording analysed at once, s: 7 days. The Task Force's long-term recordings are
/// 24 h; the spectrum resamples at 4 Hz, so 7 days is 2.4 million samples (19 MB per series).
pub const MAX_RECORDING_SECONDS: f64 = 7.0 * 86_400.0;

/// Why HRV could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "error")]
pub enum HrvError {
    /// No intervals at all.
    #[error("no RR intervals")]
    Empty,
    /// An interval is NaN or infinite.
    #[error("RR interval #{index} is not a finite number")]
    NotFinite {
        /// 0-based position in the input.
        index: usize,
    },
    /// An interval is zero or negative.
    #[error("RR interval #{index} is {value} ms: intervals must be positive")]
    NotPositive {
        /// 0-based position in the input.
        index: usize,
        /// The value.
        value: f64,
    },
    /// An interval longer than [`MAX_RR_MS`]: not a beat-to-beat interval at all.
    #[error("RR interval #{index} is {value:e} ms: longer than {max} ms is not a beat-to-beat interval", max = MAX_RR_MS)]
    TooLong {
        /// 0-based position in the input.
        index: usize,
        /// The value.
        value: f64,
    },
    /// The intervals add up to more than [`MAX_RECORDING_SECONDS`].
    #[error(
        "the RR intervals add up to {seconds} s, more than the {max} s (7 days) one analysis takes",
        max = MAX_RECORDING_SECONDS
    )]
    RecordingTooLong {
        /// Their sum, s.
        seconds: f64,
    },
    /// Too few intervals survive artefact handling.
    #[error("{got} usable RR intervals after artefact handling; at least {needed} are needed")]
    TooFew {
        /// Intervals needed.
        needed: usize,
        /// Intervals usable.
        got: usize,
    },
}

/// Time-domain results (conventions in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimeDomain {
    /// NN intervals used.
    pub nn_count: usize,
    /// Successive differences used.
    pub diff_count: usize,
    /// Mean NN, ms.
    pub mean_nn_ms: f64,
    /// Shortest NN, ms.
    pub min_nn_ms: f64,
    /// Longest NN, ms.
    pub max_nn_ms: f64,
    /// SDNN (n − 1), ms.
    pub sdnn_ms: f64,
    /// RMSSD, ms.
    pub rmssd_ms: f64,
    /// SDSD of signed differences (n − 1), ms; `None` with fewer than two differences.
    pub sdsd_ms: Option<f64>,
    /// Differences with |ΔNN| > 50 ms.
    pub nn50: usize,
    /// NN50 / number of differences × 100.
    pub pnn50_percent: f64,
    /// Mean of 60000 / NN, /min.
    pub mean_hr_bpm: f64,
}

/// The full report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HrvReport {
    /// Intervals given.
    pub input_count: usize,
    /// Intervals flagged as artefacts (whatever the correction).
    pub artefact_count: usize,
    /// What was done with them.
    pub correction: Correction,
    /// Recording length, the sum of all given intervals, s.
    pub duration_s: f64,
    /// Time domain.
    pub time_domain: TimeDomain,
    /// Frequency domain; `None` for recordings shorter than [`MIN_SPECTRAL_SECONDS`].
    pub frequency_domain: Option<FrequencyDomain>,
}

/// HRV with the default spectral parameters ([`WelchParams::default`]).
pub fn analyze(rr_ms: &[f64], correction: Correction) -> Result<HrvReport, HrvError> {
    analyze_with(rr_ms, correction, &WelchParams::default())
}

/// HRV with explicit spectral parameters.
pub fn analyze_with(
    rr_ms: &[f64],
    correction: Correction,
    params: &WelchParams,
) -> Result<HrvReport, HrvError> {
    validate(rr_ms)?;
    let flags = artefact::detect(rr_ms);
    let artefact_count = flags.iter().filter(|&&a| a).count();
    // Beat times from the original intervals, first beat at 0 (see `spectrum`).
    let mut times = Vec::with_capacity(rr_ms.len());
    let mut acc = 0.0;
    for &x in rr_ms {
        acc += x;
        times.push((acc - rr_ms[0]) / 1000.0);
    }
    // (time, value, adjacent to the previous kept interval)
    let (t, nn, adjacent): (Vec<f64>, Vec<f64>, Vec<bool>) = match correction {
        Correction::None => (times, rr_ms.to_vec(), vec![true; rr_ms.len()]),
        Correction::Interpolate => {
            let nn = artefact::interpolate(rr_ms, &flags).ok_or(HrvError::TooFew { needed: 3, got: 0 })?;
            (times, nn, vec![true; rr_ms.len()])
        }
        Correction::Delete => {
            let keep: Vec<usize> = (0..rr_ms.len()).filter(|&i| !flags[i]).collect();
            let adjacent = keep.iter().enumerate().map(|(k, &i)| k > 0 && keep[k - 1] + 1 == i).collect();
            (keep.iter().map(|&i| times[i]).collect(), keep.iter().map(|&i| rr_ms[i]).collect(), adjacent)
        }
    };
    let diffs: Vec<f64> = (1..nn.len()).filter(|&i| adjacent[i]).map(|i| nn[i] - nn[i - 1]).collect();
    if nn.len() < 3 || diffs.is_empty() {
        return Err(HrvError::TooFew { needed: 3, got: nn.len() });
    }
    let duration_s = rr_ms.iter().sum::<f64>() / 1000.0;
    let frequency_domain = (duration_s >= MIN_SPECTRAL_SECONDS && nn.len() >= 4)
        .then(|| spectrum::frequency_domain(&t, &nn, params));
    Ok(HrvReport {
        input_count: rr_ms.len(),
        artefact_count,
        correction,
        duration_s,
        time_domain: time_domain(&nn, &diffs),
        frequency_domain,
    })
}

fn validate(rr_ms: &[f64]) -> Result<(), HrvError> {
    if rr_ms.is_empty() {
        return Err(HrvError::Empty);
    }
    for (index, &value) in rr_ms.iter().enumerate() {
        if !value.is_finite() {
            return Err(HrvError::NotFinite { index });
        }
        if value <= 0.0 {
            return Err(HrvError::NotPositive { index, value });
        }
        if value > MAX_RR_MS {
            return Err(HrvError::TooLong { index, value });
        }
    }
    // Each term is at most a minute, so the sum is finite; checked before anything is sized.
    let seconds = rr_ms.iter().sum::<f64>() / 1000.0;
    if seconds > MAX_RECORDING_SECONDS {
        return Err(HrvError::RecordingTooLong { seconds });
    }
    Ok(())
}

/// Two-pass mean and sum of squared deviations (exact enough for 10^5 values of ~10^3).
fn mean_ss(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    (m, x.iter().map(|v| (v - m) * (v - m)).sum())
}

/// The Task Force time-domain measures of `nn` with the successive differences `diffs`.
fn time_domain(nn: &[f64], diffs: &[f64]) -> TimeDomain {
    let (mean_nn, ss) = mean_ss(nn);
    let nd = diffs.len();
    let (_, ssd) = mean_ss(diffs);
    let nn50 = diffs.iter().filter(|d| d.abs() > 50.0).count();
    TimeDomain {
        nn_count: nn.len(),
        diff_count: nd,
        mean_nn_ms: mean_nn,
        min_nn_ms: nn.iter().copied().fold(f64::INFINITY, f64::min),
        max_nn_ms: nn.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        sdnn_ms: (ss / (nn.len() - 1) as f64).sqrt(),
        rmssd_ms: (diffs.iter().map(|d| d * d).sum::<f64>() / nd as f64).sqrt(),
        sdsd_ms: (nd >= 2).then(|| (ssd / (nd - 1) as f64).sqrt()),
        nn50,
        pnn50_percent: 100.0 * nn50 as f64 / nd as f64,
        mean_hr_bpm: nn.iter().map(|x| 60_000.0 / x).sum::<f64>() / nn.len() as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_inputs_are_named() {
        assert_eq!(analyze(&[], Correction::None), Err(HrvError::Empty));
        assert_eq!(analyze(&[800.0, f64::NAN], Correction::None), Err(HrvError::NotFinite { index: 1 }));
        assert_eq!(
            analyze(&[800.0, 810.0, -5.0], Correction::None),
            Err(HrvError::NotPositive { index: 2, value: -5.0 })
        );
        assert!(matches!(analyze(&[800.0, 0.0], Correction::None), Err(HrvError::NotPositive { .. })));
        assert_eq!(analyze(&[800.0, 810.0], Correction::None), Err(HrvError::TooFew { needed: 3, got: 2 }));
        let err = analyze(&[5000.0, 5000.0, 100.0], Correction::Delete).unwrap_err();
        assert_eq!(err.to_string(), "0 usable RR intervals after artefact handling; at least 3 are needed");
    }

    #[test]
    fn a_hand_computed_series() {
        // diffs: +20, -40, +60, -20 -> RMSSD sqrt(6000/4), NN50 = 1 (60 > 50), pNN50 25 %.
        let r = analyze(&[800.0, 820.0, 780.0, 840.0, 820.0], Correction::None).unwrap();
        let td = r.time_domain;
        assert_eq!(td.mean_nn_ms, 812.0);
        assert!((td.sdnn_ms - (2080.0f64 / 4.0).sqrt()).abs() < 1e-12);
        assert!((td.rmssd_ms - 1500.0f64.sqrt()).abs() < 1e-12);
        // mean diff 5: SS = 225 + 2025 + 3025 + 625 = 5900, over 3.
        assert!((td.sdsd_ms.unwrap() - (5900.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!((td.nn50, td.pnn50_percent), (1, 25.0));
        assert!(r.frequency_domain.is_none());
    }

    #[test]
    fn deletion_does_not_difference_across_a_removed_beat() {
        let mut rr = vec![800.0; 20];
        rr[10] = 1600.0; // a missed beat
        let del = analyze(&rr, Correction::Delete).unwrap();
        assert_eq!((del.artefact_count, del.time_domain.nn_count, del.time_domain.diff_count), (1, 19, 17));
        assert_eq!(del.time_domain.rmssd_ms, 0.0);
        let none = analyze(&rr, Correction::None).unwrap();
        assert_eq!((none.artefact_count, none.time_domain.nn_count), (1, 20));
        assert!(none.time_domain.rmssd_ms > 200.0);
        let interp = analyze(&rr, Correction::Interpolate).unwrap();
        assert_eq!(interp.time_domain.sdnn_ms, 0.0);
    }
}

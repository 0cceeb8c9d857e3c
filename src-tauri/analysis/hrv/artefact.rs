//! Artefact detection and correction for RR-interval series.
//!
//! Detection is threshold based, in two passes:
//! 1. Range: an interval outside [`MIN_RR_MS`]..=[`MAX_RR_MS`] (300–2000 ms, i.e. 200–30 /min)
//!    is an artefact: a missed or extra beat, or sensor garbage.
//! 2. Local median: an interval that differs by more than [`MAX_RELATIVE_CHANGE`] (20 %) from the
//!    median of the in-range intervals in a centred window of [`MEDIAN_WINDOW`] (11) beats is an
//!    artefact (ectopic beats). The median, not the previous beat, is the reference, so one
//!    artefact does not condemn its neighbour. This follows the "percentage filter" family
//!    reviewed by Peltola, "Role of editing of R–R intervals in the analysis of heart rate
//!    variability", Front. Physiol. 3:148 (2012); Kubios uses a comparable local-median threshold
//!    (Tarvainen et al., Comput. Methods Programs Biomed. 113:210, 2014).
//!
//! Correction ([`Correction`]):
//! - `None`: artefacts are counted and reported, the series is analysed as given.
//! - `Delete`: artefacts are removed. Successive differences are taken only between intervals that
//!   were adjacent in the recording, and the spectrum's time axis keeps the true beat times.
//! - `Interpolate`: each artefact is replaced by linear interpolation (by beat index) between the
//!   nearest accepted intervals on either side; at an edge, by the nearest accepted interval.

use serde::{Deserialize, Serialize};

/// Shortest plausible RR interval, ms (200 /min).
pub const MIN_RR_MS: f64 = 300.0;
/// Longest plausible RR interval, ms (30 /min).
pub const MAX_RR_MS: f64 = 2000.0;
/// Largest accepted relative deviation from the local median.
pub const MAX_RELATIVE_CHANGE: f64 = 0.20;
/// Beats in the centred local-median window.
pub const MEDIAN_WINDOW: usize = 11;

/// What to do with detected artefacts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    /// Detect and count, but analyse the series unchanged.
    None,
    /// Remove artefacts (differences across a removed beat are not used).
    Delete,
    /// Replace artefacts by linear interpolation between accepted neighbours.
    #[default]
    Interpolate,
}

/// Flags each interval that is an artefact.
pub(crate) fn detect(rr: &[f64]) -> Vec<bool> {
    let in_range: Vec<bool> = rr.iter().map(|&x| (MIN_RR_MS..=MAX_RR_MS).contains(&x)).collect();
    let half = MEDIAN_WINDOW / 2;
    let mut buf = Vec::with_capacity(MEDIAN_WINDOW);
    (0..rr.len())
        .map(|i| {
            if !in_range[i] {
                return true;
            }
            buf.clear();
            let lo = i.saturating_sub(half);
            let hi = (i + half + 1).min(rr.len());
            buf.extend((lo..hi).filter(|&j| in_range[j]).map(|j| rr[j]));
            let mid = buf.len() / 2;
            let (_, &mut m, _) = buf.select_nth_unstable_by(mid, f64::total_cmp);
            (rr[i] - m).abs() > MAX_RELATIVE_CHANGE * m
        })
        .collect()
}

/// Replaces flagged intervals by linear interpolation between accepted neighbours. Returns `None`
/// when no interval was accepted.
pub(crate) fn interpolate(rr: &[f64], artefact: &[bool]) -> Option<Vec<f64>> {
    let accepted: Vec<usize> = (0..rr.len()).filter(|&i| !artefact[i]).collect();
    let (&first, &last) = (accepted.first()?, accepted.last()?);
    let mut out = rr.to_vec();
    let mut k = 0; // accepted[k] is the last accepted index <= i
    for i in 0..rr.len() {
        if !artefact[i] {
            while accepted[k] < i {
                k += 1;
            }
            continue;
        }
        out[i] = if i < first {
            rr[first]
        } else if i > last {
            rr[last]
        } else {
            let (a, b) = (accepted[k], accepted[k + 1]);
            let w = (i - a) as f64 / (b - a) as f64;
            rr[a] + w * (rr[b] - rr[a])
        };
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_and_local_median_artefacts_are_flagged() {
        let mut rr = vec![800.0; 30];
        rr[5] = 250.0; // too short
        rr[10] = 1100.0; // +37 %: ectopic/missed beat
        rr[20] = 850.0; // +6 %: normal
        let flags = detect(&rr);
        let flagged: Vec<usize> = (0..30).filter(|&i| flags[i]).collect();
        assert_eq!(flagged, vec![5, 10]);
    }

    #[test]
    fn interpolation_fills_between_accepted_neighbours() {
        let rr = [800.0, 2500.0, 2500.0, 830.0, 100.0];
        let flags = [false, true, true, false, true];
        assert_eq!(interpolate(&rr, &flags).unwrap(), vec![800.0, 810.0, 820.0, 830.0, 830.0]);
        assert_eq!(interpolate(&rr, &[true; 5]), None);
    }
}

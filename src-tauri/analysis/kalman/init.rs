//! The baseline that starts a filter: a weighted least-squares line through the buffered points.
//!
//! Model `z_i = level + trend * t_i + e_i`, `t_i` in days relative to the newest point (so the
//! fitted level is the level at the newest point's time), `e_i ~ N(0, R_i)` with `R_i` the
//! source's measurement variance. The estimate is `x = (A' W A)^-1 A' W z` with `W = diag(1/R_i)`
//! and its covariance `(A' W A)^-1`, scaled up by the reduced chi-square `chi2 / (n - 2)` when
//! the points scatter more than their noise model says (the "Birge ratio"; Press et al.,
//! Numerical Recipes 3rd ed. section 15.2 and 15.4: the covariance of a least-squares fit,
//! rescaled when the goodness of fit shows the errors were underestimated). It is never scaled
//! down: three points that happen to lie on a line do not make the baseline surer than its
//! scales are.

use chrono::{DateTime, Utc};

use super::{KalmanConfig, state::StoredPoint, state::Track};

/// Fits the baseline, or `None` while the points are too few or span too little time.
pub(super) fn baseline(points: &[StoredPoint], cfg: &KalmanConfig) -> Option<Track> {
    let newest = points.last()?;
    let span = days_between(points[0].time, newest.time);
    if points.len() < cfg.init_min_points.max(3) || span < cfg.init_min_span_days {
        return None;
    }
    // Normal equations of the weighted fit.
    let (mut sw, mut swt, mut swtt, mut swz, mut swtz) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for p in points {
        let w = 1.0 / cfg.measurement_variance(p.source);
        let t = -days_between(p.time, newest.time);
        sw += w;
        swt += w * t;
        swtt += w * t * t;
        swz += w * p.value;
        swtz += w * t * p.value;
    }
    let det = sw * swtt - swt * swt;
    if det.is_nan() || det <= 0.0 {
        return None;
    }
    // (A' W A)^-1 for the 2x2 normal matrix [[sw, swt], [swt, swtt]].
    let inv = [[swtt / det, -swt / det], [-swt / det, sw / det]];
    let level = inv[0][0] * swz + inv[0][1] * swtz;
    let trend = inv[1][0] * swz + inv[1][1] * swtz;
    let chi2: f64 = points
        .iter()
        .map(|p| {
            let t = -days_between(p.time, newest.time);
            let r = p.value - level - trend * t;
            r * r / cfg.measurement_variance(p.source)
        })
        .sum();
    let scale = (chi2 / (points.len() - 2) as f64).max(1.0);
    let p = [[scale * inv[0][0], scale * inv[0][1]], [scale * inv[1][0], scale * inv[1][1]]];
    let finite = [level, trend].iter().chain(p.iter().flatten()).all(|v| v.is_finite());
    finite.then(|| Track { time: newest.time, x: [level, trend], p, rejected_run: Vec::new() })
}

/// `later - earlier` in days, from whole milliseconds (the store's precision).
pub(super) fn days_between(earlier: DateTime<Utc>, later: DateTime<Utc>) -> f64 {
    (later - earlier).num_milliseconds() as f64 / 86_400_000.0
}

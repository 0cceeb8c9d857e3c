//! Frequency-domain HRV: cubic-spline resampling, Welch's PSD and band powers.
//!
//! Pipeline (Task Force 1996, Circulation 93:1043, section "Frequency domain methods"):
//! 1. The NN series is a function of beat time: interval i sits at the cumulative time of the
//!    recording up to its end, shifted so the first sits at 0 (as pyhrv does). Beat times come
//!    from the *original* intervals, so deleting an artefact leaves a hole, not a shifted clock.
//! 2. Resampled at `fs` (4 Hz) on the grid `0, 1/fs, ...` strictly before the last beat, by a
//!    cubic spline with **not-a-knot** end conditions (the third derivative is continuous at the
//!    second and penultimate knots) — the spline that SciPy's `interp1d(kind="cubic")` builds,
//!    which pyhrv uses.
//! 3. Detrended by subtracting the mean of the resampled series; then each Welch segment has its
//!    own mean removed (SciPy's `welch(detrend="constant")` default).
//! 4. Welch's method (Welch, IEEE Trans. Audio Electroacoust. 15:70, 1967): segments of
//!    `segment` samples overlapping by `overlap`, each multiplied by a periodic window (Hann or
//!    Hamming, as SciPy's `get_window` returns them), zero-padded to `nfft`, and their one-sided
//!    periodograms averaged. Scaling is a density: `|X(f)|² / (fs · Σw²)`, doubled except at DC
//!    and Nyquist, so the PSD is in ms²/Hz and integrates to the variance. A series shorter than one
//!    segment is one segment of its own length (as SciPy does).
//! 5. Band power is the rectangle-rule integral `Σ PSD(f_k) · Δf` over the bins with
//!    `lo <= f_k <= hi` (pyhrv's rule). LF/HF is the ratio of the two; normalised units are
//!    `LF / (LF + HF)` and `HF / (LF + HF)` in %.
//!
//! Default parameters ([`WelchParams::default`]): 4 Hz, 256-s Hann segments (1024 samples) with
//! 50 % overlap and no zero-padding (Δf = 1/256 Hz, fine enough to place 0.003 Hz), the Kubios
//! defaults; bands VLF 0.003–0.04, LF 0.04–0.15, HF 0.15–0.4 Hz (Task Force).

use realfft::RealFftPlanner;
use serde::{Deserialize, Serialize};

/// A spectral window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Taper {
    /// Periodic Hann: `0.5 − 0.5 cos(2πn/N)`.
    Hann,
    /// Periodic Hamming: `0.54 − 0.46 cos(2πn/N)`.
    Hamming,
}

/// Parameters of the spectral estimate. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WelchParams {
    /// Resampling frequency, Hz.
    pub resample_hz: f64,
    /// Samples per Welch segment.
    pub segment: usize,
    /// Samples shared by consecutive segments.
    pub overlap: usize,
    /// FFT length (>= segment; longer zero-pads).
    pub nfft: usize,
    /// Window applied to each segment.
    pub taper: Taper,
    /// Very low frequency band, Hz, inclusive.
    pub vlf: (f64, f64),
    /// Low frequency band, Hz, inclusive.
    pub lf: (f64, f64),
    /// High frequency band, Hz, inclusive.
    pub hf: (f64, f64),
}

impl Default for WelchParams {
    fn default() -> Self {
        Self {
            resample_hz: 4.0,
            segment: 1024,
            overlap: 512,
            nfft: 1024,
            taper: Taper::Hann,
            vlf: (0.003, 0.04),
            lf: (0.04, 0.15),
            hf: (0.15, 0.4),
        }
    }
}

impl WelchParams {
    /// The parameters of pyhrv 0.5's `welch_psd` defaults, for a recording of `duration_s`:
    /// Hamming, nfft 4096, segments of 4096 samples below 300 s and of 300 samples (75 s) above,
    /// 50 % overlap, VLF from 0 Hz.
    pub fn pyhrv(duration_s: f64) -> Self {
        let segment = if duration_s < 300.0 { 4096 } else { 300 };
        Self {
            segment,
            overlap: segment / 2,
            nfft: 4096,
            taper: Taper::Hamming,
            vlf: (0.0, 0.04),
            ..Self::default()
        }
    }
}

/// Frequency-domain results.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FrequencyDomain {
    /// Power in the VLF band, ms².
    pub vlf_ms2: f64,
    /// Power in the LF band, ms².
    pub lf_ms2: f64,
    /// Power in the HF band, ms².
    pub hf_ms2: f64,
    /// VLF + LF + HF, ms².
    pub total_ms2: f64,
    /// LF / HF.
    pub lf_hf: f64,
    /// LF / (LF + HF), %.
    pub lf_nu: f64,
    /// HF / (LF + HF), %.
    pub hf_nu: f64,
    /// Frequency of the largest PSD bin in the LF band, Hz.
    pub lf_peak_hz: f64,
    /// Frequency of the largest PSD bin in the HF band, Hz.
    pub hf_peak_hz: f64,
    /// Welch segments averaged.
    pub segments: usize,
    /// The parameters used.
    pub params: WelchParams,
}

/// A one-sided power spectral density.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Psd {
    pub(crate) df: f64,
    pub(crate) power: Vec<f64>,
    pub(crate) segments: usize,
}

/// Second derivatives of the not-a-knot cubic spline through (x, y); needs 4 or more knots.
fn not_a_knot_moments(x: &[f64], y: &[f64]) -> Vec<f64> {
    let n = x.len();
    let h: Vec<f64> = x.windows(2).map(|w| w[1] - w[0]).collect();
    let m = n - 2; // unknowns M_1..M_{n-2}
    let (mut sub, mut diag, mut sup, mut rhs) = (vec![0.0; m], vec![0.0; m], vec![0.0; m], vec![0.0; m]);
    for k in 0..m {
        let i = k + 1;
        sub[k] = h[i - 1];
        diag[k] = 2.0 * (h[i - 1] + h[i]);
        sup[k] = h[i];
        rhs[k] = 6.0 * ((y[i + 1] - y[i]) / h[i] - (y[i] - y[i - 1]) / h[i - 1]);
    }
    // Not-a-knot: M_0 = M_1 (1 + h0/h1) − M_2 h0/h1, and symmetrically at the end; substituted
    // into the first and last equations, which keeps the system tridiagonal.
    let (h0, h1) = (h[0], h[1]);
    diag[0] += h0 * (1.0 + h0 / h1);
    sup[0] -= h0 * h0 / h1;
    let (ha, hb) = (h[n - 3], h[n - 2]);
    diag[m - 1] += hb * (1.0 + hb / ha);
    sub[m - 1] -= hb * hb / ha;
    // Thomas algorithm.
    for k in 1..m {
        let w = sub[k] / diag[k - 1];
        diag[k] -= w * sup[k - 1];
        rhs[k] -= w * rhs[k - 1];
    }
    let mut mm = vec![0.0; n];
    mm[m] = rhs[m - 1] / diag[m - 1];
    for k in (0..m - 1).rev() {
        mm[k + 1] = (rhs[k] - sup[k] * mm[k + 2]) / diag[k];
    }
    mm[0] = mm[1] * (1.0 + h0 / h1) - mm[2] * h0 / h1;
    mm[n - 1] = mm[n - 2] * (1.0 + hb / ha) - mm[n - 3] * hb / ha;
    mm
}

/// Samples the not-a-knot spline through (x, y) at `x[0] + k/fs` for every such time `< x[last]`.
pub(crate) fn resample(x: &[f64], y: &[f64], fs: f64) -> Vec<f64> {
    let n = x.len();
    let mm = not_a_knot_moments(x, y);
    // x is increasing (the caller's RR times), so the count is not negative; `as` saturates.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a sample count")]
    let count = ((x[n - 1] - x[0]) * fs).ceil() as usize;
    let mut out = Vec::with_capacity(count);
    let mut j = 0;
    for k in 0..count {
        let t = x[0] + k as f64 / fs;
        if t >= x[n - 1] {
            break;
        }
        while x[j + 1] <= t {
            j += 1;
        }
        let h = x[j + 1] - x[j];
        let (a, b) = (x[j + 1] - t, t - x[j]);
        out.push(
            (mm[j] * a * a * a + mm[j + 1] * b * b * b) / (6.0 * h)
                + (y[j] / h - mm[j] * h / 6.0) * a
                + (y[j + 1] / h - mm[j + 1] * h / 6.0) * b,
        );
    }
    out
}

/// Welch's PSD of an evenly sampled series (see the module docs for the conventions).
pub(crate) fn welch(signal: &[f64], fs: f64, p: &WelchParams) -> Psd {
    let (segment, overlap) =
        if signal.len() < p.segment { (signal.len(), 0) } else { (p.segment, p.overlap.min(p.segment - 1)) };
    let nfft = p.nfft.max(segment);
    let window: Vec<f64> = (0..segment)
        .map(|i| {
            let c = (2.0 * std::f64::consts::PI * i as f64 / segment as f64).cos();
            match p.taper {
                Taper::Hann => 0.5 - 0.5 * c,
                Taper::Hamming => 0.54 - 0.46 * c,
            }
        })
        .collect();
    let scale = 1.0 / (fs * window.iter().map(|w| w * w).sum::<f64>());
    let step = segment - overlap;
    let segments = (signal.len() - overlap) / step;
    let fft = RealFftPlanner::<f64>::new().plan_fft_forward(nfft);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut power = vec![0.0; nfft / 2 + 1];
    for s in 0..segments {
        let seg = &signal[s * step..s * step + segment];
        let mean = seg.iter().sum::<f64>() / segment as f64;
        input.fill(0.0);
        for (i, (&x, &w)) in seg.iter().zip(&window).enumerate() {
            input[i] = (x - mean) * w;
        }
        // realfft fails only on buffers of the wrong length; both come from this plan above.
        #[allow(clippy::expect_used, reason = "the buffers were made by `fft` itself")]
        fft.process(&mut input, &mut spectrum).expect("buffers sized by the plan");
        for (p, c) in power.iter_mut().zip(&spectrum) {
            *p += c.norm_sqr();
        }
    }
    let last = power.len() - 1;
    for (k, p) in power.iter_mut().enumerate() {
        let one_sided = if k == 0 || (k == last && nfft % 2 == 0) { 1.0 } else { 2.0 };
        *p *= one_sided * scale / segments as f64;
    }
    Psd { df: fs / nfft as f64, power, segments }
}

impl Psd {
    fn band(&self, (lo, hi): (f64, f64)) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.power
            .iter()
            .enumerate()
            .map(|(k, &p)| (k as f64 * self.df, p))
            .filter(move |&(f, _)| f >= lo && f <= hi)
    }

    pub(crate) fn band_power(&self, band: (f64, f64)) -> f64 {
        self.band(band).map(|(_, p)| p).sum::<f64>() * self.df
    }

    fn peak(&self, band: (f64, f64)) -> f64 {
        self.band(band)
            .fold((f64::NAN, f64::NEG_INFINITY), |best, (f, p)| if p > best.1 { (f, p) } else { best })
            .0
    }
}

/// Runs steps 2–5 on beat times `t_s` (seconds from the first) and NN values (ms).
pub(crate) fn frequency_domain(t_s: &[f64], nn: &[f64], params: &WelchParams) -> FrequencyDomain {
    let mut x = resample(t_s, nn, params.resample_hz);
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    x.iter_mut().for_each(|v| *v -= mean);
    let psd = welch(&x, params.resample_hz, params);
    let (vlf, lf, hf) = (psd.band_power(params.vlf), psd.band_power(params.lf), psd.band_power(params.hf));
    FrequencyDomain {
        vlf_ms2: vlf,
        lf_ms2: lf,
        hf_ms2: hf,
        total_ms2: vlf + lf + hf,
        lf_hf: lf / hf,
        lf_nu: 100.0 * lf / (lf + hf),
        hf_nu: 100.0 * hf / (lf + hf),
        lf_peak_hz: psd.peak(params.lf),
        hf_peak_hz: psd.peak(params.hf),
        segments: psd.segments,
        params: *params,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_a_knot_reproduces_a_cubic_exactly() {
        let x: Vec<f64> = [0.0, 0.7, 1.5, 2.1, 3.0, 3.8, 5.0].to_vec();
        let f = |t: f64| 2.0 - t + 0.5 * t * t - 0.1 * t * t * t;
        let y: Vec<f64> = x.iter().map(|&t| f(t)).collect();
        let r = resample(&x, &y, 4.0);
        assert_eq!(r.len(), 20);
        for (k, v) in r.iter().enumerate() {
            assert!((v - f(k as f64 / 4.0)).abs() < 1e-12, "{k}: {v}");
        }
    }

    #[test]
    fn a_sine_puts_its_variance_in_its_band() {
        // 0.25 Hz, amplitude 10 ms: variance 50 ms², all in HF.
        let fs = 4.0;
        let x: Vec<f64> = (0..4096_i32)
            .map(|i| 10.0 * (2.0 * std::f64::consts::PI * 0.25 * f64::from(i) / fs).sin())
            .collect();
        let p = WelchParams::default();
        let psd = welch(&x, fs, &p);
        let total = psd.power.iter().sum::<f64>() * psd.df;
        assert!((total - 50.0).abs() < 0.5, "{total}");
        assert!(psd.band_power(p.hf) / total > 0.99);
        assert_eq!(psd.segments, 7);
    }
}

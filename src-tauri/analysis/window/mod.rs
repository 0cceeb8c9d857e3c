//! Sliding five-minute windows over 1 Hz vitals, updated in O(1) per sample.
//!
//! A [`WindowState`] holds one patient's last [`WINDOW_SECONDS`] seconds. Each accepted
//! [`VitalSample`] adds its values to running accumulators and removes the values that fall out of
//! the window; [`WindowState::features`] then reads the [`WindowFeatures`] off the accumulators
//! without touching the samples. Analysing every [`TICK_SECONDS`] is the caller's cadence: the state
//! does not care how often it is read.
//!
//! # The window
//! The window ending at second `T` holds the samples with time in `(T − 300, T]`: at most 300, one
//! per whole second. Times are integer Unix seconds; an adapter that reads fractional timestamps
//! floors them. The window's end moves with the newest accepted sample, or explicitly with
//! [`WindowState::advance_to`] (a scheduler ticking while a device is silent).
//!
//! # Samples that do not fit
//! - A sample whose second equals the newest accepted one is a duplicate: dropped, counted.
//! - A sample older than the window's end is out of order: dropped, counted (inserting into the
//!   past would break the O(1) min/max deques; at 1 Hz a late sample is rare and stale).
//! - Missing seconds are gaps: nothing is invented. Statistics are over the samples present;
//!   [`WindowFeatures::coverage`] is the fraction of the 300 expected samples that are present, and
//!   [`WindowQuality`] counts the rest. A jump of more than a window empties it.
//! - A value that is not finite or is outside [`Kind::plausible`] is treated as absent and counted
//!   in `rejected_values`.
//!
//! # What each feature is computed from (decided here, documented on every interface)
//! - `hr_*`: heart rate, /min. `hr_trend` is the least-squares slope against time, in /min per
//!   second.
//! - `rr_*` is **respiratory rate** (breaths/min), the natural reading next to SpO2 and
//!   temperature: `rr_mean` its mean, `rr_irregularity` the population standard deviation of its
//!   successive differences (between samples one second apart), and `hr_rr_correlation` Pearson's
//!   r between heart rate and respiratory rate over the seconds where both are present.
//! - `hrv_*` is a **short-term beat-to-beat variability series** derived from the `rr_interval`
//!   column (the latest RR interval, ms, that a monitor or a Bluetooth heart-rate strap reports with
//!   each sample): `hrv(t) = |RR(t) − RR(t−1)|`, in ms, defined when both seconds carry an RR
//!   interval. Its window mean is the mean absolute successive difference, a short-term index close
//!   to RMSSD. It is an approximation for trending at 1 Hz, not Task Force HRV: for that, run
//!   [`crate::analysis::hrv`] over the full beat series. `hrv_decrease` is
//!   `(mean of the first minute − mean of the last minute) / mean of the first minute`, where the
//!   first minute is `(T − 300, T − 240]` and the last `(T − 60, T]`: **positive when HRV falls**
//!   (0.5: halved), as the name says and as the reference design defines it.
//! - When no RR-based `hrv_*` is defined in the window (no two consecutive seconds carry an RR
//!   interval), the `hrv_*` features come from the **per-sample HRV stream** instead: the
//!   `hrv_sdnn` value (ms) a wearable sends with each reading (`hrv_ms` in the reference design;
//!   the store's `hrv_sdnn` kind, LOINC 80404-7). `hrv_mean` and `hrv_std` are the mean and the
//!   population standard deviation of the window's stream values, and `hrv_decrease` is
//!   `(mean of the first 60 − mean of the last 60) / mean of the first 60` over the window's
//!   stream samples in time order (samples, not seconds: the reference design's definition),
//!   positive when HRV falls, defined from 120 samples on (so the two means share no sample).
//!   RR intervals keep precedence: a window with RR-based HRV never mixes in the stream.
//!   [`WindowFeatures::hrv_source`] says which source the three came from (`rr_intervals`,
//!   `hrv_stream`, or `None` when neither).
//! - `spo2_variability` is the population standard deviation of SpO2, in percentage points.
//! - `temp_spike` is max − min of body temperature in the window, °C.
//!
//! Every standard deviation is the population one (divides by n). A feature is `None` when it is
//! undefined: no samples, fewer than two for a trend, fewer than three pairs or a constant series
//! for a correlation, an empty or zero first minute for `hrv_decrease`.
//!
//! # Precision
//! See `accum`: double-double running sums with shifted origins, so a window that slides for days
//! agrees with a two-pass recomputation to ~1e-12 relative (tested over 24 h at 1e-9).

mod accum;

use serde::{Deserialize, Serialize};

use crate::domain::Kind;
use accum::{EdgeMeans, Extremum, Moments, Pairs, Regression};

/// Length of the window, seconds (5 minutes at 1 Hz).
pub const WINDOW_SECONDS: i64 = 300;
/// The analysis cadence the window is designed for, seconds.
pub const TICK_SECONDS: i64 = 5;
const MINUTE: i64 = 60;
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "300, a const")]
const SLOTS: usize = WINDOW_SECONDS as usize;

// Columns of the ring buffer. The derived series are stored so they can be removed exactly.
const HR: usize = 0;
const SPO2: usize = 1;
const RESP: usize = 2;
const TEMP: usize = 3;
const HRV: usize = 4;
const RESP_DIFF: usize = 5;
const HRV_STREAM: usize = 6;
const COLUMNS: usize = 7;
/// Samples at each end of the window that the stream's `hrv_decrease` compares.
const HRV_STREAM_EDGE: usize = 60;

/// One 1 Hz sample of vitals. Absent values are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct VitalSample {
    /// Unix time, whole seconds (UTC).
    pub time: i64,
    /// Heart rate, /min.
    pub heart_rate: Option<f64>,
    /// SpO2, %.
    pub spo2: Option<f64>,
    /// Respiratory rate, /min.
    pub respiratory_rate: Option<f64>,
    /// Body temperature, °C.
    pub body_temperature: Option<f64>,
    /// The latest beat-to-beat (RR) interval, ms.
    pub rr_interval: Option<f64>,
    /// The device's own HRV value sent with the reading, ms (the store's `hrv_sdnn`; `hrv_ms` in
    /// the reference design). Used only when the window has no RR-based HRV.
    #[serde(default)]
    pub hrv_sdnn: Option<f64>,
}

/// Where a window's `hrv_*` features came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HrvSource {
    /// Successive differences of the `rr_interval` column.
    RrIntervals,
    /// The per-sample `hrv_sdnn` stream (no RR-based HRV in the window).
    HrvStream,
}

/// What [`WindowState::push`] did with a sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushOutcome {
    /// Added to the window.
    Accepted,
    /// Same second as the newest accepted sample: dropped.
    Duplicate,
    /// Older than the window's end: dropped.
    OutOfOrder,
}

/// Counts of what did not fit, since the state was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowQuality {
    /// Samples (rows) present in the current window.
    pub samples_in_window: u32,
    /// Expected seconds of the current window with no sample: `300 − samples_in_window`.
    pub missing_seconds: u32,
    /// Samples accepted since the start.
    pub accepted: u64,
    /// Samples dropped because their second was already filled.
    pub duplicates_dropped: u64,
    /// Samples dropped because they were older than the window's end.
    pub out_of_order_dropped: u64,
    /// Values that were not finite or outside the kind's plausible range, treated as absent.
    pub rejected_values: u64,
    /// Gaps between consecutive accepted samples (a jump of more than one second).
    pub gaps: u64,
    /// Seconds missing inside those gaps.
    pub gap_seconds: u64,
}

/// The features of one window. Names are the same on every interface; see the module docs for
/// the definitions and units.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)] // each field is defined in the module documentation
pub struct WindowFeatures {
    /// The window's end, Unix seconds: the window is `(window_end − 300, window_end]`.
    pub window_end: i64,
    pub hr_mean: Option<f64>,
    pub hr_std: Option<f64>,
    pub hr_min: Option<f64>,
    pub hr_max: Option<f64>,
    pub hr_trend: Option<f64>,
    pub hrv_mean: Option<f64>,
    pub hrv_std: Option<f64>,
    pub hrv_decrease: Option<f64>,
    /// Which series `hrv_mean`, `hrv_std` and `hrv_decrease` came from; `None` when neither.
    #[serde(default)]
    pub hrv_source: Option<HrvSource>,
    pub spo2_mean: Option<f64>,
    pub spo2_min: Option<f64>,
    pub spo2_variability: Option<f64>,
    pub rr_mean: Option<f64>,
    pub rr_irregularity: Option<f64>,
    pub temp_mean: Option<f64>,
    pub temp_spike: Option<f64>,
    pub hr_rr_correlation: Option<f64>,
    /// Fraction of the window's 300 expected samples that are present, 0..=1.
    pub coverage: f64,
    /// Counts of gaps, drops and rejections.
    pub quality: WindowQuality,
}

/// One patient's sliding window. About 15 KB; [`WindowState::push`] and
/// [`WindowState::features`] are O(1) (a gap of k seconds costs O(min(k, 300)) once).
#[derive(Debug, Clone)]
pub struct WindowState {
    /// The window's end (newest second covered), once anything arrived.
    end: Option<i64>,
    /// Newest accepted sample's second.
    last_sample: Option<i64>,
    ring: Box<[[f64; COLUMNS]]>,
    rows: [u64; SLOTS.div_ceil(64)],
    hr: Moments,
    hr_trend: Regression,
    hr_min: Extremum<false>,
    hr_max: Extremum<true>,
    spo2: Moments,
    spo2_min: Extremum<false>,
    resp: Moments,
    resp_diff: Moments,
    temp: Moments,
    temp_min: Extremum<false>,
    temp_max: Extremum<true>,
    hrv: Moments,
    hrv_first: Moments,
    hrv_last: Moments,
    hrv_stream: Moments,
    hrv_stream_edges: EdgeMeans<HRV_STREAM_EDGE>,
    hr_resp: Pairs,
    prev_rr: Option<(i64, f64)>,
    quality: WindowQuality,
}

impl Default for WindowState {
    fn default() -> Self {
        Self::new()
    }
}

#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "rem_euclid is in 0..300")]
fn slot(t: i64) -> usize {
    t.rem_euclid(WINDOW_SECONDS) as usize
}

fn present(x: f64) -> Option<f64> {
    (!x.is_nan()).then_some(x)
}

impl WindowState {
    /// An empty window.
    pub fn new() -> Self {
        Self {
            end: None,
            last_sample: None,
            ring: vec![[f64::NAN; COLUMNS]; SLOTS].into_boxed_slice(),
            rows: [0; SLOTS.div_ceil(64)],
            hr: Moments::default(),
            hr_trend: Regression::default(),
            hr_min: Extremum::default(),
            hr_max: Extremum::default(),
            spo2: Moments::default(),
            spo2_min: Extremum::default(),
            resp: Moments::default(),
            resp_diff: Moments::default(),
            temp: Moments::default(),
            temp_min: Extremum::default(),
            temp_max: Extremum::default(),
            hrv: Moments::default(),
            hrv_first: Moments::default(),
            hrv_last: Moments::default(),
            hrv_stream: Moments::default(),
            hrv_stream_edges: EdgeMeans::default(),
            hr_resp: Pairs::default(),
            prev_rr: None,
            quality: WindowQuality::default(),
        }
    }

    /// Adds one sample; O(1), plus O(k) once for a gap of k ≤ 300 seconds.
    pub fn push(&mut self, sample: &VitalSample) -> PushOutcome {
        let t = sample.time;
        if self.last_sample == Some(t) {
            self.quality.duplicates_dropped += 1;
            return PushOutcome::Duplicate;
        }
        if self.end.is_some_and(|end| t < end) || self.last_sample.is_some_and(|last| t < last) {
            self.quality.out_of_order_dropped += 1;
            return PushOutcome::OutOfOrder;
        }
        if let Some(last) = self.last_sample
            && t - last > 1
        {
            self.quality.gaps += 1;
            self.quality.gap_seconds += (t - last - 1).unsigned_abs(); // t - last > 1 here
        }
        self.advance_to(t);
        self.write(t, sample);
        self.last_sample = Some(t);
        self.quality.accepted += 1;
        PushOutcome::Accepted
    }

    /// Moves the window's end to `t` without a sample, evicting what falls out. Earlier times are
    /// ignored.
    pub fn advance_to(&mut self, t: i64) {
        let Some(end) = self.end else {
            self.end = Some(t);
            return;
        };
        if t <= end {
            return;
        }
        if t - end >= WINDOW_SECONDS {
            self.clear_window();
        } else {
            for s in end + 1..=t {
                self.step(s);
            }
        }
        self.end = Some(t);
    }

    /// The features of the window ending at the current end; `None` before anything arrived.
    pub fn features(&self) -> Option<WindowFeatures> {
        let end = self.end?;
        let spike = match (self.temp_max.value(), self.temp_min.value()) {
            (Some(hi), Some(lo)) => Some(hi - lo),
            _ => None,
        };
        let (hrv_mean, hrv_std, hrv_decrease, hrv_source) = self.hrv_features();
        let samples = self.rows.iter().map(|w| w.count_ones()).sum::<u32>();
        Some(WindowFeatures {
            window_end: end,
            hr_mean: self.hr.mean(),
            hr_std: self.hr.std(),
            hr_min: self.hr_min.value(),
            hr_max: self.hr_max.value(),
            hr_trend: self.hr_trend.slope(&self.hr),
            hrv_mean,
            hrv_std,
            hrv_decrease,
            hrv_source,
            spo2_mean: self.spo2.mean(),
            spo2_min: self.spo2_min.value(),
            spo2_variability: self.spo2.std(),
            rr_mean: self.resp.mean(),
            rr_irregularity: self.resp_diff.std(),
            temp_mean: self.temp.mean(),
            temp_spike: spike,
            hr_rr_correlation: self.hr_resp.correlation(),
            coverage: f64::from(samples) / WINDOW_SECONDS as f64,
            quality: WindowQuality {
                samples_in_window: samples,
                missing_seconds: u32::try_from(SLOTS).unwrap_or(u32::MAX) - samples,
                ..self.quality
            },
        })
    }

    /// `hrv_mean`, `hrv_std`, `hrv_decrease` and their source: RR intervals first, else the stream
    /// (module docs).
    fn hrv_features(&self) -> (Option<f64>, Option<f64>, Option<f64>, Option<HrvSource>) {
        if self.hrv.count() > 0 {
            let decrease = relative_fall(self.hrv_first.mean(), self.hrv_last.mean());
            (self.hrv.mean(), self.hrv.std(), decrease, Some(HrvSource::RrIntervals))
        } else if self.hrv_stream.count() > 0 {
            let edges = &self.hrv_stream_edges;
            let decrease = (edges.len() >= 2 * HRV_STREAM_EDGE)
                .then(|| relative_fall(edges.first_mean(), edges.last_mean()))
                .flatten();
            (self.hrv_stream.mean(), self.hrv_stream.std(), decrease, Some(HrvSource::HrvStream))
        } else {
            (None, None, None, None)
        }
    }

    /// Counts since the state was created.
    pub fn quality(&self) -> WindowQuality {
        self.quality
    }

    fn accept(&mut self, kind: Kind, value: Option<f64>) -> f64 {
        match value {
            None => f64::NAN,
            Some(v) if v.is_finite() && kind.plausible().contains(&v) => v,
            Some(_) => {
                self.quality.rejected_values += 1;
                f64::NAN
            }
        }
    }

    fn write(&mut self, t: i64, s: &VitalSample) {
        let hr = self.accept(Kind::HeartRate, s.heart_rate);
        let spo2 = self.accept(Kind::Spo2, s.spo2);
        let resp = self.accept(Kind::RespiratoryRate, s.respiratory_rate);
        let temp = self.accept(Kind::BodyTemperature, s.body_temperature);
        let rr = self.accept(Kind::RrInterval, s.rr_interval);
        let hrv_stream = self.accept(Kind::HrvSdnn, s.hrv_sdnn);
        let prev_resp = self.ring[slot(t - 1)][RESP];
        let i = slot(t);
        let mut row = [f64::NAN; COLUMNS];
        if let Some(x) = present(hr) {
            self.hr.add(x);
            self.hr_trend.add(t, x, &self.hr);
            self.hr_min.push(t, x);
            self.hr_max.push(t, x);
            row[HR] = x;
        }
        if let Some(x) = present(spo2) {
            self.spo2.add(x);
            self.spo2_min.push(t, x);
            row[SPO2] = x;
        }
        if let Some(x) = present(resp) {
            self.resp.add(x);
            row[RESP] = x;
            if let Some(p) = present(prev_resp) {
                let d = x - p;
                self.resp_diff.add(d);
                row[RESP_DIFF] = d;
            }
        }
        if let Some(x) = present(temp) {
            self.temp.add(x);
            self.temp_min.push(t, x);
            self.temp_max.push(t, x);
            row[TEMP] = x;
        }
        if let Some(x) = present(rr) {
            if let Some((pt, p)) = self.prev_rr
                && pt == t - 1
            {
                let h = (x - p).abs();
                self.hrv.add(h);
                self.hrv_last.add(h);
                row[HRV] = h;
            }
            self.prev_rr = Some((t, x));
        }
        if let Some(x) = present(hrv_stream) {
            self.hrv_stream.add(x);
            self.hrv_stream_edges.push(t, x);
            row[HRV_STREAM] = x;
        }
        if let (Some(x), Some(y)) = (present(hr), present(resp)) {
            self.hr_resp.add(x, y);
        }
        self.ring[i] = row;
        self.rows[i / 64] |= 1 << (i % 64);
    }

    /// Moves the end from `s − 1` to `s`: the second `s − 300` leaves the window, `s − 60` leaves
    /// the last minute and `s − 240` enters the first minute.
    fn step(&mut self, s: i64) {
        let e = s - WINDOW_SECONDS;
        let i = slot(e);
        let row = self.ring[i];
        if let Some(x) = present(row[HR]) {
            self.hr_trend.remove(e, x, &self.hr);
            self.hr.remove(x);
        }
        self.hr_min.evict(e);
        self.hr_max.evict(e);
        if let Some(x) = present(row[SPO2]) {
            self.spo2.remove(x);
        }
        self.spo2_min.evict(e);
        if let Some(x) = present(row[RESP]) {
            self.resp.remove(x);
        }
        if let Some(d) = present(row[RESP_DIFF]) {
            self.resp_diff.remove(d);
        }
        if let Some(x) = present(row[TEMP]) {
            self.temp.remove(x);
        }
        self.temp_min.evict(e);
        self.temp_max.evict(e);
        if let Some(h) = present(row[HRV]) {
            self.hrv.remove(h);
            self.hrv_first.remove(h);
        }
        if let Some(x) = present(row[HRV_STREAM]) {
            self.hrv_stream.remove(x);
            self.hrv_stream_edges.evict(e);
        }
        if let (Some(x), Some(y)) = (present(row[HR]), present(row[RESP])) {
            self.hr_resp.remove(x, y);
        }
        if let Some(h) = present(self.ring[slot(s - MINUTE)][HRV]) {
            self.hrv_last.remove(h);
        }
        if let Some(h) = present(self.ring[slot(s - 4 * MINUTE)][HRV]) {
            self.hrv_first.add(h);
        }
        self.ring[i] = [f64::NAN; COLUMNS];
        self.rows[i / 64] &= !(1 << (i % 64));
    }

    fn clear_window(&mut self) {
        let quality = self.quality;
        let last_sample = self.last_sample;
        *self = Self { ring: std::mem::take(&mut self.ring), ..Self::new() };
        self.ring.fill([f64::NAN; COLUMNS]);
        self.quality = quality;
        self.last_sample = last_sample;
    }
}

/// `(first − last) / first`: the relative fall from the first mean to the last, positive when the
/// value fell (0.5: halved); `None` when either is missing or the first is zero.
fn relative_fall(first: Option<f64>, last: Option<f64>) -> Option<f64> {
    match (first, last) {
        (Some(first), Some(last)) if first != 0.0 => Some((first - last) / first),
        _ => None,
    }
}

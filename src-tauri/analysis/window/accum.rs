//! Incremental accumulators that a sliding window adds to and removes from in O(1).
//!
//! Drift is the enemy of a window that slides for days: a plain `f64` running sum that adds each
//! value once and subtracts it 300 seconds later accumulates one rounding error per operation, and
//! after 24 h (172,800 operations per channel) the sum no longer describes the window. Two measures
//! keep it exact enough:
//!
//! 1. Every running sum is a double-double ([`Dd`]): the error-free transformation `TwoSum`
//!    (Knuth, TAOCP vol. 2, 4.2.2; Dekker 1971) keeps each addition's rounding error in `lo`, so
//!    removing a term later cancels what was added to about 2^-104 relative. The terms themselves
//!    (`x`, `x * x`, `t * x`) are rounded once to `f64`; the same rounded term is subtracted when the
//!    sample leaves, so per-term rounding does not accumulate.
//! 2. Values are shifted by a constant `K` (the first value seen since the accumulator was last
//!    empty) and times by an origin, so the sums hold small numbers and the variance formula
//!    `n·Σx² − (Σx)²` does not cancel catastrophically (Chan, Golub & LeVeque, "Algorithms for
//!    computing the sample variance", Am. Stat. 37(3), 1983). The final combinations are evaluated
//!    in double-double too (Dekker's `TwoProduct` with Veltkamp splitting, so no FMA is needed).

use std::collections::VecDeque;

/// An unevaluated sum `hi + lo` with |lo| <= ulp(hi)/2: about 106 significant bits.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Dd {
    hi: f64,
    lo: f64,
}

fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

fn quick_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

fn split(a: f64) -> (f64, f64) {
    // Veltkamp: 2^27 + 1.
    let c = 134_217_729.0 * a;
    let hi = c - (c - a);
    (hi, a - hi)
}

fn two_prod(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
}

impl Dd {
    pub(crate) const ZERO: Dd = Dd { hi: 0.0, lo: 0.0 };

    pub(crate) fn from_f64(x: f64) -> Dd {
        Dd { hi: x, lo: 0.0 }
    }

    pub(crate) fn add_f64(self, x: f64) -> Dd {
        let (s, e) = two_sum(self.hi, x);
        let (hi, lo) = quick_two_sum(s, e + self.lo);
        Dd { hi, lo }
    }

    pub(crate) fn add(self, o: Dd) -> Dd {
        let (s, e) = two_sum(self.hi, o.hi);
        let (hi, lo) = quick_two_sum(s, e + self.lo + o.lo);
        Dd { hi, lo }
    }

    pub(crate) fn neg(self) -> Dd {
        Dd { hi: -self.hi, lo: -self.lo }
    }

    pub(crate) fn sub(self, o: Dd) -> Dd {
        self.add(o.neg())
    }

    pub(crate) fn mul(self, o: Dd) -> Dd {
        let (p, e) = two_prod(self.hi, o.hi);
        let (hi, lo) = quick_two_sum(p, e + self.hi * o.lo + self.lo * o.hi);
        Dd { hi, lo }
    }

    pub(crate) fn mul_f64(self, b: f64) -> Dd {
        self.mul(Dd::from_f64(b))
    }

    pub(crate) fn to_f64(self) -> f64 {
        self.hi + self.lo
    }
}

/// Count, shifted sum and shifted sum of squares of one channel.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Moments {
    n: u32,
    shift: f64,
    s1: Dd,
    s2: Dd,
}

impl Moments {
    pub(crate) fn add(&mut self, x: f64) {
        if self.n == 0 {
            *self = Moments { n: 0, shift: x, s1: Dd::ZERO, s2: Dd::ZERO };
        }
        let d = x - self.shift;
        self.n += 1;
        self.s1 = self.s1.add_f64(d);
        self.s2 = self.s2.add_f64(d * d);
    }

    /// Removes a value that was added earlier (the caller guarantees it was).
    pub(crate) fn remove(&mut self, x: f64) {
        let d = x - self.shift;
        self.n -= 1;
        if self.n == 0 {
            *self = Moments::default();
        } else {
            self.s1 = self.s1.add_f64(-d);
            self.s2 = self.s2.add_f64(-(d * d));
        }
    }

    pub(crate) fn count(&self) -> u32 {
        self.n
    }

    pub(crate) fn mean(&self) -> Option<f64> {
        (self.n > 0).then(|| self.shift + self.s1.to_f64() / f64::from(self.n))
    }

    /// Population variance (divides by n). Exactly 0 for one value: the sums' rounding would
    /// otherwise leave ~1e-16·(x − K)², which the square root lifts to ~1e-8 in the std.
    pub(crate) fn variance(&self) -> Option<f64> {
        match self.n {
            0 => return None,
            1 => return Some(0.0),
            _ => {}
        }
        let n = f64::from(self.n);
        let num = self.s2.mul_f64(n).sub(self.s1.mul(self.s1)).to_f64();
        Some((num / (n * n)).max(0.0))
    }

    pub(crate) fn std(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }

    fn shift(&self) -> f64 {
        self.shift
    }

    fn s1(&self) -> Dd {
        self.s1
    }
}

/// Sums of t, t² and t·(x − K) for a least-squares slope against time, beside a [`Moments`] of the
/// same values (whose shift K it uses). Times are integer seconds from `origin`, kept in `i128` so
/// their sums are exact.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Regression {
    origin: i64,
    st: i128,
    stt: i128,
    stx: Dd,
}

impl Regression {
    /// The origin moves to the newest time when it is this far behind, so t·(x − K) stays small.
    const REBASE_AFTER: i64 = 1 << 12;

    /// Adds (t, x); `m` is the moments accumulator *after* it has added x.
    pub(crate) fn add(&mut self, t: i64, x: f64, m: &Moments) {
        if m.count() == 1 {
            *self = Regression { origin: t, ..Regression::default() };
        } else if t - self.origin > Self::REBASE_AFTER {
            self.rebase(t, m, x);
        }
        let tr = i128::from(t - self.origin);
        self.st += tr;
        self.stt += tr * tr;
        self.stx = self.stx.add_f64(tr as f64 * (x - m.shift()));
    }

    /// Moves the origin to `t` exactly for the integer sums and to ~2^-104 for Σ t·(x − K). The
    /// sample (t, x) has been added to `m` but not yet to these sums, so it is excluded from Σx.
    fn rebase(&mut self, t: i64, m: &Moments, x: f64) {
        let delta = t - self.origin;
        let n_prev = i128::from(m.count() - 1);
        let sx_prev = m.s1().add_f64(-(x - m.shift()));
        let d = i128::from(delta);
        self.stt = self.stt - 2 * d * self.st + n_prev * d * d;
        self.st -= n_prev * d;
        self.stx = self.stx.sub(sx_prev.mul_f64(delta as f64));
        self.origin = t;
    }

    /// Removes (t, x); `m` is the moments accumulator *before* it removes x.
    pub(crate) fn remove(&mut self, t: i64, x: f64, m: &Moments) {
        if m.count() == 1 {
            *self = Regression::default();
            return;
        }
        let tr = i128::from(t - self.origin);
        self.st -= tr;
        self.stt -= tr * tr;
        self.stx = self.stx.add_f64(-(tr as f64 * (x - m.shift())));
    }

    /// Least-squares slope of x against t (units of x per second); needs two distinct times.
    pub(crate) fn slope(&self, m: &Moments) -> Option<f64> {
        let n = i128::from(m.count());
        let den = n * self.stt - self.st * self.st;
        if n < 2 || den == 0 {
            return None;
        }
        let num = self.stx.mul_f64(n as f64).sub(m.s1().mul_f64(self.st as f64));
        Some(num.to_f64() / den as f64)
    }
}

/// Joint sums of paired values (x, y), for Pearson's r.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Pairs {
    n: u32,
    kx: f64,
    ky: f64,
    sx: Dd,
    sy: Dd,
    sxx: Dd,
    syy: Dd,
    sxy: Dd,
}

impl Pairs {
    pub(crate) fn add(&mut self, x: f64, y: f64) {
        if self.n == 0 {
            *self = Pairs { kx: x, ky: y, ..Pairs::default() };
        }
        self.n += 1;
        self.accumulate(x - self.kx, y - self.ky, 1.0);
    }

    pub(crate) fn remove(&mut self, x: f64, y: f64) {
        self.n -= 1;
        if self.n == 0 {
            *self = Pairs::default();
        } else {
            self.accumulate(x - self.kx, y - self.ky, -1.0);
        }
    }

    fn accumulate(&mut self, dx: f64, dy: f64, sign: f64) {
        self.sx = self.sx.add_f64(sign * dx);
        self.sy = self.sy.add_f64(sign * dy);
        self.sxx = self.sxx.add_f64(sign * (dx * dx));
        self.syy = self.syy.add_f64(sign * (dy * dy));
        self.sxy = self.sxy.add_f64(sign * (dx * dy));
    }

    /// Pearson's r; `None` with fewer than 3 pairs or when either series is constant.
    pub(crate) fn correlation(&self) -> Option<f64> {
        if self.n < 3 {
            return None;
        }
        let n = f64::from(self.n);
        let cxy = self.sxy.mul_f64(n).sub(self.sx.mul(self.sy)).to_f64();
        let cxx = self.sxx.mul_f64(n).sub(self.sx.mul(self.sx)).to_f64();
        let cyy = self.syy.mul_f64(n).sub(self.sy.mul(self.sy)).to_f64();
        if cxx <= 0.0 || cyy <= 0.0 {
            return None;
        }
        Some((cxy / (cxx.sqrt() * cyy.sqrt())).clamp(-1.0, 1.0))
    }
}

/// Sliding minimum or maximum: a monotonic deque of (time, value), amortised O(1) per sample
/// (the "ascending minima" algorithm; Lemire, "Streaming maximum-minimum filter using no more
/// than three comparisons per element", 2006).
#[derive(Debug, Clone, Default)]
pub(crate) struct Extremum<const MAX: bool> {
    q: VecDeque<(i64, f64)>,
}

impl<const MAX: bool> Extremum<MAX> {
    fn dominates(a: f64, b: f64) -> bool {
        if MAX { a >= b } else { a <= b }
    }

    /// Adds a sample; times must increase.
    pub(crate) fn push(&mut self, t: i64, x: f64) {
        while self.q.back().is_some_and(|&(_, v)| Self::dominates(x, v)) {
            self.q.pop_back();
        }
        self.q.push_back((t, x));
    }

    /// Drops the sample at time `t` if it is still the front.
    pub(crate) fn evict(&mut self, t: i64) {
        if self.q.front().is_some_and(|&(ft, _)| ft <= t) {
            self.q.pop_front();
        }
    }

    pub(crate) fn value(&self) -> Option<f64> {
        self.q.front().map(|&(_, v)| v)
    }
}

/// The means of the first and of the last `K` values of a sliding sequence (values enter at the
/// back in time order and leave at the front), updated in amortised O(1): each value enters and
/// leaves each half at most once. Holds at most the window's values (≤ 300 at 1 Hz). When fewer
/// than `2K` values are held the two halves overlap, as numpy's `x[:K]` and `x[-K:]` do.
#[derive(Debug, Clone, Default)]
pub(crate) struct EdgeMeans<const K: usize> {
    q: VecDeque<(i64, f64)>,
    first: Moments,
    last: Moments,
}

impl<const K: usize> EdgeMeans<K> {
    /// Adds a value at the back; times must increase.
    pub(crate) fn push(&mut self, t: i64, x: f64) {
        self.q.push_back((t, x));
        let n = self.q.len();
        self.last.add(x);
        if n > K {
            // The value that was the oldest of the last K.
            if let Some(&(_, old)) = self.q.get(n - 1 - K) {
                self.last.remove(old);
            }
        } else {
            self.first.add(x);
        }
    }

    /// Drops the front value if its time is `t` or earlier.
    pub(crate) fn evict(&mut self, t: i64) {
        if self.q.front().is_none_or(|&(ft, _)| ft > t) {
            return;
        }
        let n = self.q.len();
        let Some((_, x)) = self.q.pop_front() else { return };
        self.first.remove(x);
        if n > K {
            // The value that was K-th from the front now enters the first K.
            if let Some(&(_, y)) = self.q.get(K - 1) {
                self.first.add(y);
            }
        } else {
            self.last.remove(x);
        }
    }

    /// How many values are held.
    pub(crate) fn len(&self) -> usize {
        self.q.len()
    }

    /// The mean of the first K values (all of them when fewer are held).
    pub(crate) fn first_mean(&self) -> Option<f64> {
        self.first.mean()
    }

    /// The mean of the last K values (all of them when fewer are held).
    pub(crate) fn last_mean(&self) -> Option<f64> {
        self.last.mean()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_double_sum_cancels_what_it_added() {
        let xs = [1e8 + 0.1, 3.3, -7.7e-3, 12345.678, 0.1];
        let mut s = Dd::ZERO;
        for x in xs {
            s = s.add_f64(x);
        }
        for x in xs.iter().rev() {
            s = s.add_f64(-x);
        }
        assert_eq!(s.to_f64(), 0.0);
    }

    #[test]
    fn two_prod_is_exact() {
        let (p, e) = two_prod(0.1, 0.3);
        // 0.1 * 0.3 in exact binary arithmetic, checked against a wider computation.
        let exact = Dd { hi: p, lo: e };
        assert!(((exact.to_f64()) - 0.1 * 0.3).abs() < 1e-17);
        assert!(e != 0.0);
    }

    #[test]
    fn extremum_follows_the_window() {
        let mut mx = Extremum::<true>::default();
        let mut mn = Extremum::<false>::default();
        for (t, x) in [(0, 3.0), (1, 1.0), (2, 2.0), (3, 0.5)] {
            mx.push(t, x);
            mn.push(t, x);
        }
        assert_eq!((mx.value(), mn.value()), (Some(3.0), Some(0.5)));
        mx.evict(0);
        mn.evict(0);
        assert_eq!(mx.value(), Some(2.0));
    }

    #[test]
    fn edge_means_follow_the_front_and_the_back() {
        let mut e = EdgeMeans::<2>::default();
        e.push(0, 1.0);
        assert_eq!((e.first_mean(), e.last_mean()), (Some(1.0), Some(1.0)));
        for (t, x) in [(1, 3.0), (2, 5.0), (3, 7.0), (4, 9.0)] {
            e.push(t, x);
        }
        // 1 3 5 7 9: first two 1, 3 (mean 2); last two 7, 9 (mean 8).
        assert_eq!((e.len(), e.first_mean(), e.last_mean()), (5, Some(2.0), Some(8.0)));
        e.evict(0);
        e.evict(0); // already gone: nothing happens
        // 3 5 7 9: first 3, 5 (4); last 7, 9 (8).
        assert_eq!((e.len(), e.first_mean(), e.last_mean()), (4, Some(4.0), Some(8.0)));
        e.evict(1);
        // 5 7 9: first 5, 7 (6); last 7, 9 (8): the halves overlap.
        assert_eq!((e.len(), e.first_mean(), e.last_mean()), (3, Some(6.0), Some(8.0)));
        e.evict(2);
        assert_eq!((e.len(), e.first_mean(), e.last_mean()), (2, Some(8.0), Some(8.0)));
        e.evict(9); // one value per call: 7 leaves, then 9
        e.evict(9);
        assert_eq!((e.len(), e.first_mean(), e.last_mean()), (0, None, None));
    }
}

//! Min/max decimation to pixel columns, and where a line must break across a gap.

/// Min/max decimation: at most two points per pixel column, the picture unchanged.
///
/// `[t0, t1]` is divided into `columns` equal columns (`t1` falls in the last). For each
/// column that holds a point, the point with the smallest value and the one with the largest
/// are kept, in the order they occurred (one point when they are the same; the earliest on
/// ties). The first and last points in the range are always kept, so the line reaches its
/// true ends. Points outside `[t0, t1]` and non-finite values are skipped. The output is in
/// time order and holds at most `2 * columns + 2` points. `columns` 0 is taken as 1; when
/// `t1 <= t0` every point at `t0` falls in the one column.
///
/// `points` must be sorted by time (checked in debug builds): the range is found by binary
/// search and the rest is one pass.
pub fn decimate_min_max(points: &[(i64, f64)], t0: i64, t1: i64, columns: u32) -> Vec<(i64, f64)> {
    decimate_indices(points, t0, t1, columns).into_iter().map(|i| points[i]).collect()
}

/// [`decimate_min_max`], returning indices into `points` (increasing).
pub(crate) fn decimate_indices(points: &[(i64, f64)], t0: i64, t1: i64, columns: u32) -> Vec<usize> {
    debug_assert!(points.windows(2).all(|w| w[0].0 <= w[1].0), "points must be sorted by time");
    let in_range = in_range(points, t0, t1);
    let offset = in_range.start;
    let columns = i128::from(columns.max(1));
    let span = i128::from(t1.saturating_sub(t0).max(1));
    let column_of = |t: i64| ((i128::from(t) - i128::from(t0)) * columns / span).min(columns - 1);
    // The first instant of the column after column `c`: the points are sorted, so a point
    // before it is in the same column, one comparison instead of a 128-bit division.
    let next_column_start = |c: i128| {
        if c + 1 >= columns {
            return i64::MAX;
        }
        let start = i128::from(t0) + ((c + 1) * span + columns - 1) / columns;
        i64::try_from(start).unwrap_or(i64::MAX)
    };

    let mut out: Vec<usize> = Vec::new();
    let push = |out: &mut Vec<usize>, i: usize| {
        if out.last() != Some(&i) {
            out.push(i);
        }
    };
    let flush = |out: &mut Vec<usize>, min: usize, max: usize| {
        push(out, min.min(max));
        push(out, min.max(max));
    };
    // The end of the column being scanned (`None` before the first point), and the indices of
    // its minimum and maximum so far.
    let mut column_end: Option<i64> = None;
    let (mut min, mut max) = (0, 0);
    let mut last = None;
    for (k, &(t, v)) in points[in_range].iter().enumerate() {
        if !v.is_finite() {
            continue;
        }
        let i = offset + k;
        match column_end {
            Some(end) if t < end => {
                if v < points[min].1 {
                    min = i;
                }
                if v > points[max].1 {
                    max = i;
                }
            }
            previous => {
                match previous {
                    Some(_) => flush(&mut out, min, max),
                    // The first point: kept whatever its column's extremes are.
                    None => out.push(i),
                }
                column_end = Some(next_column_start(column_of(t)));
                (min, max) = (i, i);
            }
        }
        last = Some(i);
    }
    if let Some(last) = last {
        flush(&mut out, min, max);
        push(&mut out, last);
    }
    out
}

/// The indices of `points` (sorted by time) with `t0 <= t <= t1`.
pub(crate) fn in_range<T>(points: &[(i64, T)], t0: i64, t1: i64) -> std::ops::Range<usize> {
    let start = points.partition_point(|p| p.0 < t0);
    let end = points.partition_point(|p| p.0 <= t1).max(start);
    start..end
}

/// The longest interval between two consecutive points that a line may span, ms: the larger
/// of `min_gap_ms` (5 pixel columns) and 3 times the median interval between the finite
/// points of `points` (which should be the points in range).
pub(crate) fn gap_threshold(points: &[(i64, f64)], min_gap_ms: f64) -> f64 {
    let mut intervals: Vec<i64> = Vec::new();
    let mut previous = None;
    for &(t, _) in points.iter().filter(|p| p.1.is_finite()) {
        if let Some(p) = previous {
            intervals.push(t - p);
        }
        previous = Some(t);
    }
    if intervals.is_empty() {
        return min_gap_ms;
    }
    let mid = intervals.len() / 2;
    let (_, median, _) = intervals.select_nth_unstable(mid);
    min_gap_ms.max(3.0 * *median as f64)
}

/// Splits `kept` (increasing indices into `points`, e.g. from [`decimate_indices`]) into the
/// runs a line may join: a run ends where the finite points of `points` have an interval
/// longer than `threshold_ms` between two kept points. Each run is a range of `kept`.
pub(crate) fn split_at_gaps(
    points: &[(i64, f64)],
    kept: &[usize],
    threshold_ms: f64,
) -> Vec<std::ops::Range<usize>> {
    let mut runs = Vec::new();
    let Some(&first) = kept.first() else { return runs };
    // Indices of the points that follow a gap, in increasing order.
    let mut gap_ends = Vec::new();
    let mut previous: Option<i64> = None;
    let last = *kept.last().unwrap_or(&first);
    for (i, &(t, v)) in points.iter().enumerate().take(last + 1).skip(first) {
        if !v.is_finite() {
            continue;
        }
        if previous.is_some_and(|p| (t - p) as f64 > threshold_ms) {
            gap_ends.push(i);
        }
        previous = Some(t);
    }
    let mut start = 0;
    let mut next_gap = gap_ends.iter().peekable();
    for k in 1..kept.len() {
        let mut broken = false;
        while let Some(&&g) = next_gap.peek() {
            if g > kept[k] {
                break;
            }
            // A gap ends after kept[k - 1] and no later than kept[k].
            broken |= g > kept[k - 1];
            next_gap.next();
        }
        if broken {
            runs.push(start..k);
            start = k;
        }
    }
    runs.push(start..kept.len());
    runs
}

//! Min/max decimation: the extremes of every column survive, in order, within the bound.

use super::*;

/// The true extremes of each column, computed the slow way: for every column, the earliest
/// point with the smallest value and the earliest with the largest.
fn column_extremes(points: &[(i64, f64)], t0: i64, t1: i64, columns: u32) -> Vec<((i64, f64), (i64, f64))> {
    let mut by_column: Vec<Vec<(i64, f64)>> = vec![Vec::new(); columns as usize];
    for &p in points.iter().filter(|p| p.1.is_finite() && (t0..=t1).contains(&p.0)) {
        let c =
            (i128::from(p.0 - t0) * i128::from(columns) / i128::from(t1 - t0)).min(i128::from(columns) - 1);
        by_column[usize::try_from(c).unwrap()].push(p);
    }
    by_column
        .into_iter()
        .filter(|c| !c.is_empty())
        .map(|c| {
            let min = c.iter().copied().reduce(|a, b| if b.1 < a.1 { b } else { a }).unwrap();
            let max = c.iter().copied().reduce(|a, b| if b.1 > a.1 { b } else { a }).unwrap();
            (min, max)
        })
        .collect()
}

#[test]
fn a_day_at_1_hz_keeps_every_columns_min_and_max_in_order() {
    let t0 = at("2024-03-05T00:00:00Z");
    let points = heart_rate(t0, 86_400, 3);
    let t1 = t0 + DAY;
    let out = decimate_min_max(&points, t0, t1, 800);
    assert!(out.len() <= 1602, "{} points", out.len());
    assert!(out.len() > 1000, "min and max of most columns differ: {} points", out.len());
    assert!(out.windows(2).all(|w| w[0].0 < w[1].0), "time order");
    assert_eq!(out.first(), points.first());
    assert_eq!(out.last(), points.last());
    let extremes = column_extremes(&points, t0, t1, 800);
    assert_eq!(extremes.len(), 800);
    for (min, max) in extremes {
        assert!(out.contains(&min), "column minimum {min:?} missing");
        assert!(out.contains(&max), "column maximum {max:?} missing");
    }
    // Every output point is an input point.
    assert!(out.iter().all(|p| points.binary_search_by_key(&p.0, |q| q.0).is_ok_and(|i| points[i] == *p)));
}

#[test]
fn the_spikes_survive_decimation() {
    let t0 = 0;
    let points = heart_rate(t0, 86_400, 3);
    let out = decimate_min_max(&points, t0, t0 + DAY, 400);
    let max_in = points.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    let min_in = points.iter().map(|p| p.1).fold(f64::MAX, f64::min);
    assert_eq!(out.iter().map(|p| p.1).fold(f64::MIN, f64::max), max_in);
    assert_eq!(out.iter().map(|p| p.1).fold(f64::MAX, f64::min), min_in);
    assert_eq!(out.iter().filter(|p| p.1 > 100.0).count(), points.iter().filter(|p| p.1 > 100.0).count());
}

#[test]
fn non_finite_values_are_skipped_and_the_first_finite_point_is_kept() {
    let mut points: Vec<(i64, f64)> = (0..1000).map(|i| (i * 1000, (i % 17) as f64)).collect();
    points[0].1 = f64::NAN;
    points[1].1 = f64::INFINITY;
    points[500].1 = f64::NEG_INFINITY;
    points[999].1 = f64::NAN;
    let out = decimate_min_max(&points, 0, 999_000, 10);
    assert!(out.iter().all(|p| p.1.is_finite()));
    assert_eq!(out.first(), Some(&points[2]));
    assert_eq!(out.last(), Some(&points[998]));
    assert!(out.len() <= 22);
    // All NaN: nothing.
    assert!(decimate_min_max(&[(0, f64::NAN), (1, f64::NAN)], 0, 10, 5).is_empty());
}

#[test]
fn empty_single_and_out_of_range_inputs() {
    assert!(decimate_min_max(&[], 0, 1000, 100).is_empty());
    assert_eq!(decimate_min_max(&[(5, 1.0)], 0, 1000, 100), vec![(5, 1.0)]);
    assert!(decimate_min_max(&[(-5, 1.0), (2000, 2.0)], 0, 1000, 100).is_empty());
    // The range's ends are inside it.
    assert_eq!(decimate_min_max(&[(0, 1.0), (1000, 2.0)], 0, 1000, 100), vec![(0, 1.0), (1000, 2.0)]);
    // Zero columns is one column: first, min, max, last.
    let points: Vec<(i64, f64)> = (0..100).map(|i| (i, ((i * 37) % 101) as f64)).collect();
    let out = decimate_min_max(&points, 0, 99, 0);
    assert!(out.len() <= 4 && out.len() >= 3, "{out:?}");
    assert_eq!(out.first(), Some(&(0, 0.0)));
    assert_eq!(out.last(), Some(&(99, f64::from((99 * 37) % 101))));
}

#[test]
fn decimation_never_exceeds_two_points_per_column_plus_the_ends() {
    let mut rng = SplitMix64::new(42);
    for case in 0..200 {
        let n = rng.below(5000);
        let mut t = rng.int(-50_000, 50_000);
        let mut points = Vec::with_capacity(n);
        for _ in 0..n {
            t += rng.int(0, 2000);
            let v = if rng.below(20) == 0 { f64::NAN } else { rng.range(-100.0, 100.0) };
            points.push((t, v));
        }
        let columns = u32::try_from(rng.int(0, 900)).unwrap();
        let (t0, t1) = (rng.int(-20_000, 20_000), rng.int(20_001, 5_000_000));
        let out = decimate_min_max(&points, t0, t1, columns);
        assert!(out.len() <= 2 * columns.max(1) as usize + 2, "case {case}: {} > 2x{columns}+2", out.len());
        assert!(out.windows(2).all(|w| w[0].0 <= w[1].0), "case {case}: order");
        assert!(out.iter().all(|p| p.1.is_finite() && (t0..=t1).contains(&p.0)), "case {case}");
    }
}

//! Small NaN-aware statistics shared by the analysis modules. Missing values are NaN and are
//! skipped, never counted as zero.

/// Finite values of `values`, sorted ascending.
pub fn sorted_finite(values: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Quantile `q` (0..=1) of already sorted values, linear interpolation; None when empty.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let frac = pos - lo as f64;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

/// As [`quantile_sorted`] on the sorted finite values, by selection (O(n)) instead of a sort.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    if n == 0 {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let frac = pos - lo as f64;
    let (_, &mut at_lo, above) = v.select_nth_unstable_by(lo, f64::total_cmp);
    // The next order statistic is the smallest value above the lo-th.
    let at_hi = above
        .iter()
        .copied()
        .min_by(f64::total_cmp)
        .unwrap_or(at_lo);
    Some(at_lo + (at_hi - at_lo) * frac)
}

pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// Median and the MAD scaled to a normal standard deviation (1.4826 x MAD).
pub fn median_and_mad_sigma(values: &[f64]) -> Option<(f64, f64)> {
    let m = median(values)?;
    let dev: Vec<f64> = values
        .iter()
        .filter(|x| x.is_finite())
        .map(|x| (x - m).abs())
        .collect();
    let mad = median(&dev)?;
    Some((m, 1.4826 * mad))
}

/// Mean and population variance of the finite values. Two passes (sum, then squared
/// deviations) rather than Welford's running update: no division per value, and as accurate
/// for the series sizes seen here.
pub fn mean_var(values: &[f64]) -> Option<(f64, f64)> {
    let (mut sum, mut n) = (0.0, 0usize);
    for &x in values {
        if x.is_finite() {
            sum += x;
            n += 1;
        }
    }
    if n == 0 {
        return None;
    }
    let mean = sum / n as f64;
    let ss: f64 = values
        .iter()
        .filter(|x| x.is_finite())
        .map(|x| (x - mean) * (x - mean))
        .sum();
    Some((mean, ss / n as f64))
}

/// Population variance of `a[i] + b[i]` over the indices where both are finite, without
/// building the sum.
pub fn variance_of_sum(a: &[f64], b: &[f64]) -> Option<f64> {
    let pairs = || {
        a.iter()
            .zip(b)
            .map(|(x, y)| x + y)
            .filter(|v| v.is_finite())
    };
    let (mut sum, mut n) = (0.0, 0usize);
    for v in pairs() {
        sum += v;
        n += 1;
    }
    if n == 0 {
        return None;
    }
    let mean = sum / n as f64;
    Some(pairs().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n as f64)
}

pub fn mean(values: &[f64]) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0usize);
    for &x in values {
        if x.is_finite() {
            sum += x;
            n += 1;
        }
    }
    (n > 0).then(|| sum / n as f64)
}

pub fn variance(values: &[f64]) -> Option<f64> {
    mean_var(values).map(|(_, v)| v)
}

pub fn finite_count(values: &[f64]) -> usize {
    values.iter().filter(|x| x.is_finite()).count()
}

/// Linear interpolation over NaN gaps; leading/trailing gaps take the nearest value. All-NaN
/// input stays all-NaN.
pub fn fill_gaps(values: &[f64]) -> Vec<f64> {
    let mut out = values.to_vec();
    let Some(first) = out.iter().position(|x| x.is_finite()) else {
        return out;
    };
    let first_value = out[first];
    out[..first].iter_mut().for_each(|x| *x = first_value);
    let mut last = first;
    for i in first + 1..out.len() {
        if out[i].is_finite() {
            if i > last + 1 {
                let (a, b) = (out[last], out[i]);
                let span = (i - last) as f64;
                for (j, slot) in out[last + 1..i].iter_mut().enumerate() {
                    *slot = a + (b - a) * (j + 1) as f64 / span;
                }
            }
            last = i;
        }
    }
    let last_value = out[last];
    out[last + 1..].iter_mut().for_each(|x| *x = last_value);
    out
}

/// Centered moving average of width `window` (an even width uses the classic 2xW form so the
/// window stays centered). NaNs are skipped; where the full window does not fit (the edges) the
/// result is NaN when `strict`, else the mean of what fits.
pub fn centered_moving_average(values: &[f64], window: usize, strict: bool) -> Vec<f64> {
    let n = values.len();
    let window = window.max(1);
    let h = window / 2;
    // A strict average is NaN where the full window does not fit: i < h or i + h >= n.
    let range = if strict { h..n.saturating_sub(h) } else { 0..n };
    // Prefix sums (gaps add nothing); filled by index with a register accumulator, which is
    // several times faster than pushing (the hottest loop of the decomposition).
    let mut sum = vec![0.0; n + 1];
    let mut acc = 0.0;
    for (slot, &x) in sum[1..].iter_mut().zip(values) {
        acc += if x.is_finite() { x } else { 0.0 };
        *slot = acc;
    }
    let gaps = values.iter().any(|x| !x.is_finite());
    let mut out = vec![f64::NAN; n];
    if !gaps {
        // Gap-free (most calls: the decomposition fills gaps first): counts are widths, and
        // the interior needs no bounds logic.
        let mean = |lo: usize, hi: usize| (sum[hi] - sum[lo]) / (hi - lo) as f64;
        if window % 2 == 1 {
            let inv = 1.0 / window as f64;
            for i in range {
                out[i] = if i >= h && i + h < n {
                    (sum[i + h + 1] - sum[i - h]) * inv
                } else {
                    mean(i.saturating_sub(h), (i + h + 1).min(n))
                };
            }
        } else {
            let inv = 0.5 / window as f64;
            for i in range {
                out[i] = if i >= h && i + h < n {
                    (sum[i + h] - sum[i - h] + sum[i + h + 1] - sum[i + 1 - h]) * inv
                } else {
                    // An empty range is 0 / 0 = NaN, as with gaps.
                    let a = mean(i.saturating_sub(h), (i + h).min(n));
                    let b = mean((i + 1).saturating_sub(h), (i + h + 1).min(n));
                    match (a.is_finite(), b.is_finite()) {
                        (true, true) => 0.5 * (a + b),
                        (true, false) => a,
                        (false, true) => b,
                        _ => f64::NAN,
                    }
                };
            }
        }
        return out;
    }
    let mut cnt = Vec::with_capacity(n + 1);
    let mut c = 0u32;
    cnt.push(c);
    for &x in values {
        c += u32::from(x.is_finite());
        cnt.push(c);
    }
    let range_mean = |lo: usize, hi: usize| -> f64 {
        // [lo, hi)
        let c = cnt[hi] - cnt[lo];
        if c == 0 {
            f64::NAN
        } else {
            (sum[hi] - sum[lo]) / f64::from(c)
        }
    };
    // Where the window is whole and gap-free (most of a series), one multiplication by the
    // reciprocal replaces the divisions: the same mean to within a few ulps (~1e-15 relative).
    let full = |lo: usize, hi: usize, w: usize| hi <= n && cnt[hi] - cnt[lo] == w as u32;
    if window % 2 == 1 {
        let inv = 1.0 / window as f64;
        for i in range {
            out[i] = if i >= h && full(i - h, i + h + 1, window) {
                (sum[i + h + 1] - sum[i - h]) * inv
            } else {
                range_mean(i.saturating_sub(h), (i + h + 1).min(n))
            };
        }
    } else {
        let inv = 0.5 / window as f64;
        // 2xW: mean of the windows [i-h, i+h) and [i-h+1, i+h+1).
        for i in range {
            if i >= h && full(i - h, i + h + 1, window + 1) {
                out[i] = (sum[i + h] - sum[i - h] + sum[i + h + 1] - sum[i + 1 - h]) * inv;
                continue;
            }
            let a = range_mean(i.saturating_sub(h), (i + h).min(n));
            let b = range_mean((i + 1).saturating_sub(h), (i + h + 1).min(n));
            out[i] = match (a.is_finite(), b.is_finite()) {
                (true, true) => 0.5 * (a + b),
                (true, false) => a,
                (false, true) => b,
                _ => f64::NAN,
            };
        }
    }
    out
}

/// Block means of `factor` consecutive values (NaN-aware); a block with no data is NaN.
pub fn block_means(values: &[f64], factor: usize) -> Vec<f64> {
    let factor = factor.max(1);
    values
        .chunks(factor)
        .map(|c| mean(c).unwrap_or(f64::NAN))
        .collect()
}

/// Theil–Sen slope and intercept only (no band): the medians by selection, O(n^2) instead
/// of the sort's O(n^2 log n). The same figures as [`theil_sen`].
pub fn theil_sen_line(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    if pts.len() < 3 {
        return None;
    }
    let mut slopes = Vec::with_capacity(pts.len() * (pts.len() - 1) / 2);
    for (i, a) in pts.iter().enumerate() {
        for b in &pts[i + 1..] {
            let dx = b.0 - a.0;
            if dx != 0.0 {
                slopes.push((b.1 - a.1) / dx);
            }
        }
    }
    let slope = median(&slopes)?;
    let intercepts: Vec<f64> = pts.iter().map(|(x, y)| y - slope * x).collect();
    Some((slope, median(&intercepts)?))
}

/// Theil–Sen slope of (x, y) pairs with Sen's confidence band at ~95% (z = 1.96).
/// Returns (slope, lower, upper, intercept) or None with fewer than 3 points.
pub fn theil_sen(points: &[(f64, f64)]) -> Option<(f64, f64, f64, f64)> {
    let pts: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .collect();
    let n = pts.len();
    if n < 3 {
        return None;
    }
    let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            let dx = pts[j].0 - pts[i].0;
            if dx != 0.0 {
                slopes.push((pts[j].1 - pts[i].1) / dx);
            }
        }
    }
    slopes.sort_by(f64::total_cmp);
    let slope = quantile_sorted(&slopes, 0.5)?;
    let big_n = slopes.len() as f64;
    let nf = n as f64;
    let c = 1.96 * (nf * (nf - 1.0) * (2.0 * nf + 5.0) / 18.0).sqrt();
    let lo_rank = ((big_n - c) / 2.0).floor().max(0.0) as usize;
    let hi_rank = ((big_n + c) / 2.0).ceil().min(big_n - 1.0).max(0.0) as usize;
    let lower = slopes[lo_rank.min(slopes.len() - 1)];
    let upper = slopes[hi_rank.min(slopes.len() - 1)];
    let intercepts: Vec<f64> = pts.iter().map(|(x, y)| y - slope * x).collect();
    let intercept = median(&intercepts)?;
    Some((slope, lower, upper, intercept))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_mad() {
        let v = [1.0, f64::NAN, 3.0, 2.0, 100.0];
        assert_eq!(median(&v), Some(2.5));
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        assert_eq!(quantile(&v, 1.0), Some(100.0));
        let (m, s) = median_and_mad_sigma(&[1.0, 2.0, 3.0, 4.0, 1000.0]).unwrap();
        assert_eq!(m, 3.0);
        assert!(
            (s - 1.4826).abs() < 1e-9,
            "one outlier does not move the MAD"
        );
        assert_eq!(median(&[f64::NAN]), None);
    }

    #[test]
    fn gaps_are_interpolated() {
        let v = fill_gaps(&[f64::NAN, 1.0, f64::NAN, f64::NAN, 4.0, f64::NAN]);
        assert_eq!(v, vec![1.0, 1.0, 2.0, 3.0, 4.0, 4.0]);
        assert!(fill_gaps(&[f64::NAN, f64::NAN]).iter().all(|x| x.is_nan()));
    }

    #[test]
    fn moving_average_is_centered() {
        let v: Vec<f64> = (0..10).map(f64::from).collect();
        let odd = centered_moving_average(&v, 3, true);
        assert!(odd[0].is_nan());
        assert_eq!(odd[5], 5.0);
        let even = centered_moving_average(&v, 4, true);
        assert_eq!(even[5], 5.0, "2x4 MA of a line is the line");
    }

    #[test]
    fn theil_sen_ignores_an_outlier() {
        let mut pts: Vec<(f64, f64)> = (0..20)
            .map(|i| (f64::from(i), 2.0 * f64::from(i) + 1.0))
            .collect();
        pts[10].1 = 1e6;
        let (slope, lo, hi, icpt) = theil_sen(&pts).unwrap();
        assert!((slope - 2.0).abs() < 1e-9);
        assert!(lo <= slope && slope <= hi);
        assert!((icpt - 1.0).abs() < 1e-9);
        assert_eq!(theil_sen_line(&pts), Some((slope, icpt)));
    }
}

//! Prediction intervals from backtest residuals, split-conformal style.
//!
//! The residuals come from forecast origins spaced more closely than the horizon (see
//! `backtest::calibration_origins`): each origin forecasts up to the horizon or the end of the
//! history, so short leads are seen from many origins and the longest from a few. Each lead
//! gets an error scale: the median absolute residual of nearby leads from every origin (errors
//! grow with the lead time and differ by time of day). A residual is divided by the scale the
//! *other* origins give its lead (cross-fitted, as the future's error is divided by a scale it
//! took no part in; a residual normalised by a scale it helped make is too small, and bands
//! built from those undercover), and these ratios are pooled over every lead and origin, so
//! the tail quantiles rest on the whole backtest rather than the few values one lead has;
//! offset = scale x quantile. The quantile level carries the finite-sample conformal
//! correction, (1 + 1/n), for the pool's *effective* size: neighbouring residuals of one
//! origin are strongly correlated (one bad day is many bad steps), so n is the count shrunk
//! by the lag-1 autocorrelation, the AR(1) variance-inflation factor (1 - rho) / (1 + rho),
//! and by how often overlapping origins scored the same time. A pool too small for a level
//! takes its largest value. Each lead's scale is its own only where the origins are whole
//! days apart, so a lead is one time of day (night errors small, evening errors large);
//! otherwise a lead mixes times of day, and the few windows behind it would give each lead the
//! accident of where those windows' spikes fell: there the scales are made non-decreasing in
//! the lead (isotonic regression; errors do not shrink the further ahead one looks), and the
//! bands widen smoothly instead of swinging from lead to lead. Beyond the backtested horizon the last offsets widen with the
//! square root of the lead time. Coverage is checked on each full-horizon origin with bands
//! built only from origins whose windows do not overlap it.

/// Pooled residuals wanted per lead for its scale.
const MIN_POOL: usize = 40;
/// Autocorrelation used at most (a pool is never worth less than 1/199 of its count).
const MAX_RHO: f64 = 0.99;

/// One origin's residuals: actual - forecast at leads 1.., NaN where not scored.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// History length at the origin (the index of the first forecast step).
    pub origin: usize,
    pub residuals: Vec<f64>,
}

impl Row {
    fn end(&self) -> usize {
        self.origin + self.residuals.len()
    }

    fn overlaps(&self, other: &Row) -> bool {
        self.origin < other.end() && other.origin < self.end()
    }
}

/// Offsets from the mean forecast, per step.
#[derive(Debug, Clone, PartialEq)]
pub struct Offsets {
    pub lo80: Vec<f64>,
    pub hi80: Vec<f64>,
    pub lo95: Vec<f64>,
    pub hi95: Vec<f64>,
}

/// Offsets for `horizon` steps from `rows` (of any lengths), for a series with a daily cycle
/// of `daily` steps if it has one. None when no residual is usable.
pub fn offsets(rows: &[Row], horizon: usize, daily: Option<usize>) -> Option<Offsets> {
    let kept: Vec<&Row> = rows.iter().collect();
    offsets_from(&kept, horizon, daily)
}

fn offsets_from(kept: &[&Row], horizon: usize, daily: Option<usize>) -> Option<Offsets> {
    let tested = kept
        .iter()
        .map(|r| r.residuals.len())
        .max()
        .filter(|&h| h > 0)?;
    let sums = LeadSums::new(kept, tested, leads_keep_time_of_day(kept, daily));
    let scales = sums.scales(None)?;
    let (mut z, n_eff) = normalised_pool(kept, &sums, &scales);
    let mut out = Offsets {
        lo80: Vec::with_capacity(horizon),
        hi80: Vec::with_capacity(horizon),
        lo95: Vec::with_capacity(horizon),
        hi95: Vec::with_capacity(horizon),
    };
    // Every scale zero (a perfect backtest): the bands collapse onto the mean.
    let q = if z.is_empty() {
        [0.0; 4]
    } else {
        z.sort_by(f64::total_cmp);
        let (lo80, hi80) = band(&z, 0.80, n_eff);
        let (lo95, hi95) = band(&z, 0.95, n_eff);
        [lo80, hi80, lo95, hi95]
    };
    for j in 0..horizon {
        let s = scales[j.min(tested - 1)];
        // Past the backtested lead times the error keeps growing; sqrt is the random-walk rate.
        let widen = if j >= tested {
            ((j + 1) as f64 / tested as f64).sqrt()
        } else {
            1.0
        };
        out.lo80.push(q[0] * s * widen);
        out.hi80.push(q[1] * s * widen);
        out.lo95.push(q[2] * s * widen);
        out.hi95.push(q[3] * s * widen);
    }
    Some(out)
}

/// Absolute residuals by row and the number of rows covering each lead, so a lead's scale
/// can be taken with or without one row.
struct LeadSums<'a> {
    kept: &'a [&'a Row],
    /// Rows covering each lead (with a finite residual).
    rows: Vec<usize>,
    /// Every lead is one time of day: its scale stands alone; else scales rise with the lead.
    by_time_of_day: bool,
}

/// Whether every origin is a whole number of days from the others, so that a lead falls at
/// the same time of day from each.
fn leads_keep_time_of_day(kept: &[&Row], daily: Option<usize>) -> bool {
    let (Some(d), Some(first)) = (daily.filter(|&d| d > 1), kept.first()) else {
        return false;
    };
    kept.iter()
        .all(|r| r.origin.abs_diff(first.origin) % d == 0)
}

impl<'a> LeadSums<'a> {
    fn new(kept: &'a [&'a Row], tested: usize, by_time_of_day: bool) -> Self {
        let mut rows = vec![0usize; tested];
        for r in kept {
            for (j, e) in r.residuals.iter().enumerate() {
                if e.is_finite() {
                    rows[j] += 1;
                }
            }
        }
        LeadSums {
            kept,
            rows,
            by_time_of_day,
        }
    }

    /// Median absolute residual per lead over a window of neighbouring leads wide enough to
    /// hold about [`MIN_POOL`] residuals, leaving `without` out. The median, not the mean: one
    /// origin's incident (an event echoed a week later by a seasonal model) would otherwise
    /// widen every lead it touches, for every origin. Leads with no residual take the scale of
    /// the nearest scored leads (an incident masked from the backtest never leaves a lead
    /// bandless); None when no lead has one.
    fn scales(&self, without: Option<&Row>) -> Option<Vec<f64>> {
        let tested = self.rows.len();
        let mut buf = Vec::new();
        let scales: Vec<f64> = (0..tested)
            .map(|j| {
                let here = self.rows[j]
                    - usize::from(
                        without.is_some_and(|r| r.residuals.get(j).is_some_and(|e| e.is_finite())),
                    );
                // Origins at this lead: the window's half width holds MIN_POOL across them.
                let half = MIN_POOL.div_ceil(here.max(1)).saturating_sub(1).div_ceil(2);
                let lo = j.saturating_sub(half);
                let hi = (j + half + 1).min(tested);
                buf.clear();
                for r in self.kept {
                    if without.is_some_and(|w| std::ptr::eq(w, *r)) {
                        continue;
                    }
                    let end = hi.min(r.residuals.len());
                    if lo < end {
                        buf.extend(
                            r.residuals[lo..end]
                                .iter()
                                .filter(|e| e.is_finite())
                                .map(|e| e.abs()),
                        );
                    }
                }
                if buf.is_empty() {
                    return f64::NAN;
                }
                let mean = buf.iter().sum::<f64>() / buf.len() as f64;
                let mid = buf.len() / 2;
                let (_, &mut median, _) = buf.select_nth_unstable_by(mid, f64::total_cmp);
                // Mostly exact hits (a flat stretch): the mean still sees the misses.
                if median > 0.0 {
                    median
                } else {
                    mean
                }
            })
            .collect();
        if !scales.iter().any(|s| s.is_finite()) {
            return None;
        }
        let filled = crate::engine::analysis::stats::fill_gaps(&scales);
        Some(if self.by_time_of_day {
            filled
        } else {
            let weights: Vec<f64> = self.rows.iter().map(|&c| c.max(1) as f64).collect();
            non_decreasing(&filled, &weights)
        })
    }
}

/// The weighted least-squares non-decreasing fit to `values` (pool adjacent violators).
fn non_decreasing(values: &[f64], weights: &[f64]) -> Vec<f64> {
    // Blocks of (mean, weight, length), merged while a block is below the one before it.
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(values.len());
    for (&v, &w) in values.iter().zip(weights) {
        let mut cur = (v, w, 1usize);
        while let Some(&(m, bw, len)) = blocks.last() {
            if m <= cur.0 {
                break;
            }
            blocks.pop();
            let tw = bw + cur.1;
            cur = ((m * bw + cur.0 * cur.1) / tw, tw, len + cur.2);
        }
        blocks.push(cur);
    }
    blocks
        .into_iter()
        .flat_map(|(m, _, len)| std::iter::repeat_n(m, len))
        .collect()
}

/// Residuals over their lead's scale, pooled, and the pool's effective size. Each row is
/// divided by the scale the other rows give where they cover its lead, else by `scales`.
fn normalised_pool(kept: &[&Row], sums: &LeadSums, scales: &[f64]) -> (Vec<f64>, f64) {
    let mut z = Vec::new();
    let mut runs: Vec<(usize, usize)> = Vec::with_capacity(kept.len());
    for r in kept {
        let others = if kept.len() > 1 {
            sums.scales(Some(*r))
        } else {
            None
        };
        let mut begin = z.len();
        for (j, (e, &s)) in r.residuals.iter().zip(scales).enumerate() {
            let s = match &others {
                Some(o) if sums.rows[j] > 1 && o[j] > 0.0 => o[j],
                _ => s,
            };
            if e.is_finite() && s > 0.0 {
                z.push(e / s);
            } else {
                // A gap breaks the run: the values either side are not neighbours.
                runs.push((begin, z.len()));
                begin = z.len();
            }
        }
        runs.push((begin, z.len()));
    }
    let m = z.len();
    if m == 0 {
        return (z, 0.0);
    }
    let mean = z.iter().sum::<f64>() / m as f64;
    let (mut num, mut den) = (0.0, 0.0);
    for &(b, e) in &runs {
        let run = &z[b..e];
        for w in run.windows(2) {
            num += (w[0] - mean) * (w[1] - mean);
        }
        den += run.iter().map(|v| (v - mean).powi(2)).sum::<f64>();
    }
    let rho = if den > 0.0 {
        (num / den).clamp(0.0, MAX_RHO)
    } else {
        0.0
    };
    // Overlapping origins score the same times again: count each time once.
    let distinct = covered_times(kept) as f64;
    let overlap = (distinct / m as f64).min(1.0);
    (z, (m as f64 * overlap * (1.0 - rho) / (1.0 + rho)).max(1.0))
}

/// How many distinct times the rows' windows cover together.
fn covered_times(kept: &[&Row]) -> usize {
    let mut spans: Vec<(usize, usize)> = kept.iter().map(|r| (r.origin, r.end())).collect();
    spans.sort_unstable();
    let (mut total, mut reach) = (0, 0);
    for (b, e) in spans {
        let b = b.max(reach);
        if e > b {
            total += e - b;
            reach = e;
        }
    }
    total
}

/// Lower and upper quantiles of sorted `z` for a central `level` band, each tail's level
/// raised by the conformal correction for `n_eff` values (at most the pool's extremes).
fn band(sorted: &[f64], level: f64, n_eff: f64) -> (f64, f64) {
    let m = sorted.len();
    let inner = (1.0 - (1.0 - level) / 2.0) * (1.0 + 1.0 / n_eff.max(1.0));
    let inner = inner.min(1.0);
    let hi = ((inner * m as f64).ceil() as usize).clamp(1, m) - 1;
    let lo = (((1.0 - inner) * m as f64).floor() as usize).min(m - 1);
    (sorted[lo], sorted[hi])
}

/// Empirical coverage of the 80% and 95% bands on the rows whose origins are in `scored`
/// (the full-horizon backtest origins), each against bands built from the rows whose windows
/// do not overlap it. None when no scored row has such rows.
pub fn cross_validated_coverage(
    rows: &[Row],
    scored: &[usize],
    daily: Option<usize>,
) -> Option<(f64, f64)> {
    let (mut in80, mut in95, mut n) = (0usize, 0usize, 0usize);
    for r in rows.iter().filter(|r| scored.contains(&r.origin)) {
        let others: Vec<&Row> = rows.iter().filter(|o| !o.overlaps(r)).collect();
        if others.is_empty() {
            continue;
        }
        let Some(off) = offsets_from(&others, r.residuals.len(), daily) else {
            continue;
        };
        for (j, e) in r.residuals.iter().enumerate() {
            if !e.is_finite() {
                continue;
            }
            n += 1;
            in80 += usize::from(off.lo80[j] <= *e && *e <= off.hi80[j]);
            in95 += usize::from(off.lo95[j] <= *e && *e <= off.hi95[j]);
        }
    }
    (n > 0).then(|| (in80 as f64 / n as f64, in95 as f64 / n as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn independent_residuals_cover_near_nominal() {
        // Deterministic, roughly uniform residuals in [-1, 1] over 8 origins x 50 steps.
        let residuals: Vec<Row> = (0..8)
            .map(|o| Row {
                origin: o * 50,
                residuals: (0..50)
                    .map(|j| (((o * 50 + j) * 7919) % 1000) as f64 / 500.0 - 1.0)
                    .collect(),
            })
            .collect();
        let origins: Vec<usize> = residuals.iter().map(|r| r.origin).collect();
        let (c80, c95) =
            cross_validated_coverage(&residuals, &origins, None).expect("two origins or more");
        assert!((c80 - 0.8).abs() < 0.08, "80% band covered {c80}");
        assert!((c95 - 0.95).abs() < 0.05, "95% band covered {c95}");
        let off = offsets(&residuals, 100, None).expect("offsets");
        assert!(
            off.hi95[99] > off.hi95[49] * 1.3,
            "widened past the tested horizon"
        );
        assert!(off.lo95[0] <= off.lo80[0] && off.hi80[0] <= off.hi95[0]);
    }

    #[test]
    fn correlated_residuals_widen_and_a_masked_stretch_keeps_its_band() {
        // One origin whose errors drift slowly (a random walk): few independent values, so
        // the bands reach the pool's extremes.
        let mut e = 0.0;
        let mut walk: Vec<f64> = (0..200)
            .map(|j| {
                e += if (j * 7919) % 13 < 6 { 0.1 } else { -0.1 };
                e
            })
            .collect();
        let row = Row {
            origin: 0,
            residuals: walk.clone(),
        };
        let kept = [&row];
        let sums = LeadSums::new(&kept, 200, false);
        let scales = sums.scales(None).expect("scales");
        let (_, n_eff) = normalised_pool(&kept, &sums, &scales);
        // 200 values worth fewer than 39 independent ones: 0.975 x (1 + 1/39) = 1.
        assert!(n_eff < 39.0, "effective size {n_eff}");
        // The 95% level is beyond what that pool supports: the band is the pool's extremes,
        // so it holds every backtest residual.
        let off = offsets(&[row], 200, None).expect("offsets");
        for (j, e) in walk.iter().enumerate() {
            assert!(
                off.lo95[j] - 1e-9 <= *e && *e <= off.hi95[j] + 1e-9,
                "step {j}: {e} outside [{}, {}]",
                off.lo95[j],
                off.hi95[j]
            );
        }
        // 60 unscored steps in a row (an incident masked out of the backtest).
        walk[70..130].iter_mut().for_each(|v| *v = f64::NAN);
        let off = offsets(
            &[Row {
                origin: 0,
                residuals: walk,
            }],
            200,
            None,
        )
        .expect("a band for every step");
        assert!(off.hi95.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn scales_rise_with_the_lead_unless_each_lead_is_one_time_of_day() {
        // Pool adjacent violators on a worked example: 1, 3, 2, 4 with equal weights pools
        // (3, 2) into 2.5; weight 3 on the 2 pulls the pool to 2.25.
        assert_eq!(
            non_decreasing(&[1.0, 3.0, 2.0, 4.0], &[1.0; 4]),
            vec![1.0, 2.5, 2.5, 4.0]
        );
        assert_eq!(
            non_decreasing(&[1.0, 3.0, 2.0, 4.0], &[1.0, 1.0, 3.0, 1.0]),
            vec![1.0, 2.25, 2.25, 4.0]
        );
        // Errors large at leads 20..40 of 60 from three origins 5 steps apart: a lead is not a
        // time of day, so the band does not narrow again after them.
        let sign = |k: usize| if k % 2 == 0 { 1.0 } else { -1.0 };
        let rows: Vec<Row> = (0..3)
            .map(|o| Row {
                origin: 100 + 5 * o,
                residuals: (0..60)
                    .map(|j| if (20..40).contains(&j) { 9.0 } else { 1.0 } * sign(o + j))
                    .collect(),
            })
            .collect();
        let off = offsets(&rows, 60, Some(10)).expect("offsets");
        assert!(off.hi95.windows(2).all(|w| w[1] >= w[0] - 1e-12));
        // The same rows whole days (10 steps) apart: each lead keeps its own scale.
        let aligned: Vec<Row> = rows
            .iter()
            .enumerate()
            .map(|(k, r)| Row {
                origin: 100 + 10 * k,
                residuals: r.residuals.clone(),
            })
            .collect();
        let off = offsets(&aligned, 60, Some(10)).expect("offsets");
        assert!(off.hi95.windows(2).any(|w| w[1] < w[0]));
    }
}

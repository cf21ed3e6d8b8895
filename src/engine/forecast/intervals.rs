//! Prediction intervals from backtest residuals, split-conformal style.
//!
//! Each horizon step gets an error scale: the mean absolute residual of nearby steps from every
//! origin (errors grow with the lead time and differ by time of day). Residuals divided by
//! their step's scale are pooled over every step and origin, so the tail quantiles rest on the
//! whole backtest rather than the few dozen values one step has; offset = scale x quantile.
//! The quantile level carries the finite-sample conformal correction, (1 + 1/n), for the pool's
//! *effective* size: neighbouring residuals of one origin are strongly correlated (one bad day
//! is many bad steps), so n is the count shrunk by the lag-1 autocorrelation, the AR(1)
//! variance-inflation factor (1 - rho) / (1 + rho). A pool too small for a level takes its
//! largest value. Beyond the backtested horizon the last offsets widen with the square root of
//! the lead time. Coverage is checked leaving each origin out in turn.

/// Pooled residuals wanted per step for its scale.
const MIN_POOL: usize = 40;
/// Autocorrelation used at most (a pool is never worth less than 1/199 of its count).
const MAX_RHO: f64 = 0.99;

/// Offsets from the mean forecast, per step.
#[derive(Debug, Clone, PartialEq)]
pub struct Offsets {
    pub lo80: Vec<f64>,
    pub hi80: Vec<f64>,
    pub lo95: Vec<f64>,
    pub hi95: Vec<f64>,
}

/// Offsets for `horizon` steps from `residuals[origin][step]` (NaN = not scored), leaving
/// origin `skip` out. None when no residual is usable.
pub fn offsets(residuals: &[Vec<f64>], horizon: usize, skip: Option<usize>) -> Option<Offsets> {
    let kept: Vec<&[f64]> = residuals
        .iter()
        .enumerate()
        .filter(|(o, _)| Some(*o) != skip)
        .map(|(_, r)| r.as_slice())
        .collect();
    let tested = kept.iter().map(|r| r.len()).min().filter(|&h| h > 0)?;
    let scales = step_scales(&kept, tested)?;
    let (mut z, n_eff) = normalised_pool(&kept, &scales);
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

/// Mean absolute residual per step over a window of neighbouring steps wide enough to hold
/// about [`MIN_POOL`] residuals across the origins. None when no step has a residual.
fn step_scales(kept: &[&[f64]], tested: usize) -> Option<Vec<f64>> {
    let half = MIN_POOL
        .div_ceil(kept.len().max(1))
        .saturating_sub(1)
        .div_ceil(2);
    // Prefix sums of |e| and counts over steps, pooled across origins.
    let mut sum = vec![0.0; tested + 1];
    let mut count = vec![0usize; tested + 1];
    for j in 0..tested {
        let (s, c) = kept
            .iter()
            .map(|r| r[j])
            .filter(|e| e.is_finite())
            .fold((0.0, 0), |(s, c), e| (s + e.abs(), c + 1));
        sum[j + 1] = sum[j] + s;
        count[j + 1] = count[j] + c;
    }
    let scales: Vec<f64> = (0..tested)
        .map(|j| {
            let lo = j.saturating_sub(half);
            let hi = (j + half + 1).min(tested);
            let c = count[hi] - count[lo];
            if c > 0 {
                (sum[hi] - sum[lo]) / c as f64
            } else {
                f64::NAN
            }
        })
        .collect();
    // Steps inside a long unscored stretch (an incident masked from the backtest) take the
    // scale of the nearest scored steps, so one masked incident never leaves a step bandless.
    scales
        .iter()
        .any(|s| s.is_finite())
        .then(|| crate::engine::analysis::stats::fill_gaps(&scales))
}

/// Residuals over their step's scale, pooled, and the pool's effective size.
fn normalised_pool(kept: &[&[f64]], scales: &[f64]) -> (Vec<f64>, f64) {
    let mut z = Vec::new();
    let mut runs: Vec<(usize, usize)> = Vec::with_capacity(kept.len());
    for r in kept {
        let mut begin = z.len();
        for (e, &s) in r.iter().zip(scales) {
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
    (z, (m as f64 * (1.0 - rho) / (1.0 + rho)).max(1.0))
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

/// Empirical coverage of the 80% and 95% bands, each origin scored against bands built from
/// the other origins. None with fewer than two origins.
pub fn cross_validated_coverage(residuals: &[Vec<f64>]) -> Option<(f64, f64)> {
    if residuals.len() < 2 {
        return None;
    }
    let (mut in80, mut in95, mut n) = (0usize, 0usize, 0usize);
    for (o, r) in residuals.iter().enumerate() {
        let Some(off) = offsets(residuals, r.len(), Some(o)) else {
            continue;
        };
        for (j, e) in r.iter().enumerate() {
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
        let residuals: Vec<Vec<f64>> = (0..8)
            .map(|o| {
                (0..50)
                    .map(|j| (((o * 50 + j) * 7919) % 1000) as f64 / 500.0 - 1.0)
                    .collect()
            })
            .collect();
        let (c80, c95) = cross_validated_coverage(&residuals).expect("two origins or more");
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
        let scales = step_scales(&[&walk], 200).expect("scales");
        let (_, n_eff) = normalised_pool(&[&walk], &scales);
        // 200 values worth fewer than 39 independent ones: 0.975 x (1 + 1/39) = 1.
        assert!(n_eff < 39.0, "effective size {n_eff}");
        // The 95% level is beyond what that pool supports: the band is the pool's extremes,
        // so it holds every backtest residual.
        let off = offsets(&[walk.clone()], 200, None).expect("offsets");
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
        let off = offsets(&[walk], 200, None).expect("a band for every step");
        assert!(off.hi95.iter().all(|v| v.is_finite()));
    }
}

//! Prediction intervals from backtest residuals: for each horizon step, the residuals of
//! nearby steps from every origin are pooled and their split-conformal quantiles become the
//! 80% and 95% offsets. Beyond the backtested horizon the last offsets widen with the square
//! root of the lead time. Coverage is checked leaving each origin out in turn.

/// Pooled residuals wanted per step.
const MIN_POOL: usize = 40;

/// Offsets from the mean forecast, per step.
#[derive(Debug, Clone, PartialEq)]
pub struct Offsets {
    pub lo80: Vec<f64>,
    pub hi80: Vec<f64>,
    pub lo95: Vec<f64>,
    pub hi95: Vec<f64>,
}

/// Offsets for `horizon` steps from `residuals[origin][step]`, leaving origin `skip` out.
/// None when no residual is usable.
pub fn offsets(residuals: &[Vec<f64>], horizon: usize, skip: Option<usize>) -> Option<Offsets> {
    let kept: Vec<&Vec<f64>> = residuals
        .iter()
        .enumerate()
        .filter(|(o, _)| Some(*o) != skip)
        .map(|(_, r)| r)
        .collect();
    let tested = kept.iter().map(|r| r.len()).min().filter(|&h| h > 0)?;
    let half = (MIN_POOL.div_ceil(kept.len().max(1)))
        .saturating_sub(1)
        .div_ceil(2);
    let mut out = Offsets {
        lo80: Vec::with_capacity(horizon),
        hi80: Vec::with_capacity(horizon),
        lo95: Vec::with_capacity(horizon),
        hi95: Vec::with_capacity(horizon),
    };
    let mut pool = Vec::new();
    let mut cached: Option<(usize, [f64; 4])> = None;
    for j in 0..horizon {
        let at = j.min(tested - 1);
        let q = match cached {
            Some((c, q)) if c == at => q,
            _ => {
                pool.clear();
                let lo = at.saturating_sub(half);
                let hi = (at + half + 1).min(tested);
                for r in &kept {
                    pool.extend(r[lo..hi].iter().copied().filter(|x| x.is_finite()));
                }
                if pool.is_empty() {
                    return None;
                }
                pool.sort_by(f64::total_cmp);
                let q = [
                    lower(&pool, 0.10),
                    upper(&pool, 0.90),
                    lower(&pool, 0.025),
                    upper(&pool, 0.975),
                ];
                cached = Some((at, q));
                q
            }
        };
        // Past the backtested lead times the error keeps growing; sqrt is the random-walk rate.
        let widen = if j >= tested {
            ((j + 1) as f64 / tested as f64).sqrt()
        } else {
            1.0
        };
        out.lo80.push(q[0] * widen);
        out.hi80.push(q[1] * widen);
        out.lo95.push(q[2] * widen);
        out.hi95.push(q[3] * widen);
    }
    Some(out)
}

/// Split-conformal upper quantile of sorted values: the ceil((m+1)q)-th smallest.
fn upper(sorted: &[f64], q: f64) -> f64 {
    let m = sorted.len();
    let k = ((m + 1) as f64 * q).ceil() as usize;
    sorted[k.clamp(1, m) - 1]
}

/// Split-conformal lower quantile: the floor((m+1)q)-th smallest.
fn lower(sorted: &[f64], q: f64) -> f64 {
    let m = sorted.len();
    let k = ((m + 1) as f64 * q).floor() as usize;
    sorted[k.clamp(1, m) - 1]
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
    fn gaussian_like_residuals_cover_near_nominal() {
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
}

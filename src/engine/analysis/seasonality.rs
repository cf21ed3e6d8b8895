//! Which seasonal periods a series has, and how strong each is. Candidates come from peaks of
//! the autocorrelation (computed by FFT on a decimated, detrended, outlier-clipped copy) plus
//! the calendar day and week; each is then tested, shortest first, on what the periods already
//! accepted leave unexplained, with the share of variance corrected for how much noise a
//! per-phase mean absorbs by chance. Reports nothing when nothing passes.

use serde::Serialize;

use super::{fft, stats};

pub const HOUR_SECONDS: i64 = 3600;
pub const DAY_SECONDS: i64 = 86_400;
pub const WEEK_SECONDS: i64 = 7 * DAY_SECONDS;

/// Periods users name; an ACF peak within 4% of one is snapped to it.
const CALENDAR_PERIODS_SECONDS: [i64; 9] = [
    HOUR_SECONDS,
    2 * HOUR_SECONDS,
    3 * HOUR_SECONDS,
    4 * HOUR_SECONDS,
    6 * HOUR_SECONDS,
    8 * HOUR_SECONDS,
    12 * HOUR_SECONDS,
    DAY_SECONDS,
    WEEK_SECONDS,
];
const SNAP_TOLERANCE: f64 = 0.04;
/// Detection works on at most about this many points (decimated by block means).
const DETECTION_POINTS: usize = 4096;
/// ACF peaks below this are not candidates.
const MIN_ACF_PEAK: f64 = 0.1;
const MAX_ACF_CANDIDATES: usize = 8;
/// A period is accepted when it explains at least this share of what is left...
const MIN_RESIDUAL_SHARE: f64 = 0.1;
/// ...and at least this share of the whole detrended variance.
const MIN_TOTAL_SHARE: f64 = 0.02;
/// A period that is not a calendar one needs more evidence: cycles seen and ACF height.
const MIN_CYCLES_UNNAMED: f64 = 4.0;
const MIN_ACF_UNNAMED: f64 = 0.2;
/// Fewer finite points than this: no verdict.
const MIN_POINTS: usize = 24;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    pub period_seconds: i64,
    /// The period in steps of the analysed series.
    pub period_steps: usize,
    /// Share of the detrended variance this period explains beyond chance (0..1), at detection.
    pub strength: f64,
    /// Autocorrelation of the detrended series at this lag.
    pub acf: f64,
}

/// Detects seasonal periods in `values` (one per `step_seconds`, NaN = missing).
pub fn detect(values: &[f64], step_seconds: i64) -> Vec<Period> {
    let n = values.len();
    if step_seconds <= 0 || stats::finite_count(values) < MIN_POINTS {
        return Vec::new();
    }
    let factor = decimation_factor(n, step_seconds);
    let dstep = step_seconds * factor as i64;
    let coarse = stats::block_means(values, factor);
    let Some(z) = prepared(&coarse) else {
        return Vec::new();
    };
    let Some(total_var) = stats::variance(&z).filter(|v| *v > 0.0) else {
        return Vec::new();
    };
    let m = z.len();
    let acf = fft::autocorrelation(&z, m / 2);
    let candidates = candidate_lags(&acf, m, dstep);

    let mut residual = z.clone();
    let mut found = Vec::new();
    for (lag, calendar) in candidates {
        let cycles = m as f64 / lag as f64;
        let acf_at = acf.get(lag).copied().unwrap_or(0.0);
        if !calendar && (cycles < MIN_CYCLES_UNNAMED || acf_at < MIN_ACF_UNNAMED) {
            continue;
        }
        let Some((explained, share)) = beyond_null(&residual, lag) else {
            continue;
        };
        if share >= MIN_RESIDUAL_SHARE && explained / total_var >= MIN_TOTAL_SHARE {
            let means = phase_means(&residual, lag);
            for (i, r) in residual.iter_mut().enumerate() {
                *r -= means[i % lag];
            }
            let period_seconds = lag as i64 * dstep;
            found.push(Period {
                period_seconds,
                period_steps: (period_seconds / step_seconds) as usize,
                strength: (explained / total_var).clamp(0.0, 1.0),
                acf: acf_at,
            });
        }
    }
    found
}

/// Decimate so detection sees at most ~DETECTION_POINTS points, keeping calendar periods whole
/// numbers of coarse steps where the step allows it.
fn decimation_factor(n: usize, step_seconds: i64) -> usize {
    let need = n.div_ceil(DETECTION_POINTS).max(1);
    if step_seconds > 0 && DAY_SECONDS % step_seconds == 0 {
        let per_day = (DAY_SECONDS / step_seconds) as usize;
        if let Some(f) = (need..=per_day).find(|f| per_day % f == 0) {
            return f;
        }
    }
    need
}

/// Linearly detrended (Theil–Sen), clipped at 5 robust sigmas, then gap-filled (in that order,
/// so an outlier next to a gap is not smeared across it): a trend or a few outliers neither
/// masquerade as a period nor hide one.
fn prepared(coarse: &[f64]) -> Option<Vec<f64>> {
    if stats::finite_count(coarse) < MIN_POINTS / 2 {
        return None;
    }
    // Theil–Sen on a thinned copy keeps the pairwise slopes affordable.
    let stride = (coarse.len() / 200).max(1);
    let pts: Vec<(f64, f64)> = coarse
        .iter()
        .enumerate()
        .step_by(stride)
        .filter(|(_, y)| y.is_finite())
        .map(|(i, &y)| (i as f64, y))
        .collect();
    let (slope, icpt) = stats::theil_sen_line(&pts)?;
    let detrended: Vec<f64> = coarse
        .iter()
        .enumerate()
        .map(|(i, y)| y - (icpt + slope * i as f64))
        .collect();
    let (med, sigma) = stats::median_and_mad_sigma(&detrended)?;
    let limit = if sigma > 0.0 {
        5.0 * sigma
    } else {
        f64::INFINITY
    };
    // Gaps are bridged between ordinary points only; outliers come back clipped afterwards.
    let ordinary: Vec<f64> = detrended
        .iter()
        .map(|&x| {
            if (x - med).abs() <= limit {
                x - med
            } else {
                f64::NAN
            }
        })
        .collect();
    let mut out = stats::fill_gaps(&ordinary);
    for (slot, x) in out.iter_mut().zip(&detrended) {
        if x.is_finite() && (x - med).abs() > limit {
            *slot = (x - med).clamp(-limit, limit);
        }
    }
    Some(out)
}

/// Local ACF maxima (top few), plus the day and the week, as (lag in coarse steps, is a
/// calendar period), ascending.
fn candidate_lags(acf: &[f64], m: usize, dstep: i64) -> Vec<(usize, bool)> {
    let mut peaks: Vec<(usize, f64)> = Vec::new();
    for lag in 2..acf.len().saturating_sub(1) {
        let w = (lag / 10).max(1);
        let lo = lag.saturating_sub(w);
        let hi = (lag + w).min(acf.len() - 1);
        let a = acf[lag];
        if a >= MIN_ACF_PEAK && (lo..=hi).all(|j| acf[j] <= a) {
            peaks.push((lag, a));
        }
    }
    peaks.sort_by(|x, y| y.1.total_cmp(&x.1));
    peaks.truncate(MAX_ACF_CANDIDATES);
    let mut lags: Vec<(usize, bool)> = peaks.into_iter().map(|(lag, _)| snap(lag, dstep)).collect();
    for cal in [DAY_SECONDS, WEEK_SECONDS] {
        if cal % dstep == 0 {
            lags.push(((cal / dstep) as usize, true));
        }
    }
    // Two full cycles at least, so a period is seen to repeat.
    lags.retain(|&(l, _)| l >= 2 && 2 * l <= m);
    lags.sort_unstable();
    lags.dedup_by_key(|x| x.0);
    lags
}

fn snap(lag: usize, dstep: i64) -> (usize, bool) {
    let secs = lag as f64 * dstep as f64;
    CALENDAR_PERIODS_SECONDS
        .iter()
        .filter(|&&c| c % dstep == 0)
        .find(|&&c| ((secs - c as f64) / c as f64).abs() <= SNAP_TOLERANCE)
        .map_or((lag, false), |&c| ((c / dstep) as usize, true))
}

/// [`phase_share`] less what off-period lags (P(1 +- 1/k), whose phases drift a whole cycle
/// over the data) explain: red noise has power at every low frequency, a true period only at
/// its own. Needs k >= 4 cycles; with fewer the off-period lags are near harmonics.
fn beyond_null(r: &[f64], p: usize) -> Option<(f64, f64)> {
    // One variance of `r` for the three phase shares below (it was recomputed in each).
    let total = stats::variance(r)?;
    let (explained, _) = phase_share(r, p, total)?;
    let k = r.len() as f64 / p as f64;
    let null = if k >= 4.0 {
        let d = (p as f64 / k).round().max(1.0) as usize;
        [p.saturating_sub(d), p + d]
            .iter()
            .filter(|&&q| q >= 2)
            .filter_map(|&q| phase_share(r, q, total).map(|x| x.0))
            .fold(0.0, f64::max)
    } else {
        0.0
    };
    let explained = (explained - null).max(0.0);
    (total > 0.0).then(|| (explained, explained / total))
}

fn phase_means(r: &[f64], p: usize) -> Vec<f64> {
    phase_sums(r, p).means
}

/// Per-phase sums of `r` (period `p`), and the phase means less the overall mean.
struct PhaseSums {
    means: Vec<f64>,
    counts: Vec<f64>,
}

fn phase_sums(r: &[f64], p: usize) -> PhaseSums {
    let mut sum = vec![0.0; p];
    let mut counts = vec![0.0; p];
    for chunk in r.chunks(p) {
        for (j, &x) in chunk.iter().enumerate() {
            sum[j] += x;
            counts[j] += 1.0;
        }
    }
    let mean_all = sum.iter().sum::<f64>() / r.len().max(1) as f64;
    let means = sum
        .iter()
        .zip(&counts)
        .map(|(s, c)| if *c > 0.0 { s / c - mean_all } else { 0.0 })
        .collect();
    PhaseSums { means, counts }
}

/// Variance a per-phase mean of period `p` explains in `r` beyond chance, and that as a share
/// of `r`'s variance. With k cycles a phase mean soaks up about 1/k of the noise; the correction
/// subtracts that expectation, and a result within three sampling errors of chance counts as
/// zero (the error grows when the leftover noise is autocorrelated: fewer independent phases).
/// `total` is `stats::variance(r)`.
fn phase_share(r: &[f64], p: usize, total: f64) -> Option<(f64, f64)> {
    let n = r.len();
    let k = n as f64 / p as f64;
    if k < 2.0 || total <= 0.0 {
        return None;
    }
    let PhaseSums { means, counts } = phase_sums(r, p);
    // The fitted values are the phase means repeated: their mean and variance follow from the
    // counts in O(p). What they leave has mean (mean of r) - (mean of the fit), and its
    // variance and lag-1 autocorrelation come from one pass.
    let nf = n as f64;
    let fit_mean = means.iter().zip(&counts).map(|(m, c)| m * c).sum::<f64>() / nf;
    let s = means
        .iter()
        .zip(&counts)
        .map(|(m, c)| c * (m - fit_mean) * (m - fit_mean))
        .sum::<f64>()
        / nf;
    let rest_mean = r.iter().sum::<f64>() / nf - fit_mean;
    let (rem, lag1) = rest_moments(r, &means, p, rest_mean);
    let chance = rem / (k - 1.0);
    let rho = if rem > 0.0 && n >= 2 {
        (lag1 / (rem * nf)).clamp(0.0, 0.999)
    } else {
        0.0
    };
    let independent_phases = (p as f64 * (1.0 - rho) / (1.0 + rho)).max(1.0);
    let sampling_error = chance * (2.0 / independent_phases).sqrt();
    let explained = s - chance;
    let explained = if explained > 3.0 * sampling_error {
        explained
    } else {
        0.0
    };
    Some((explained, explained / total))
}

/// Population variance of `r` less its phase means (whose mean is `m`), and the lag-1
/// cross-product sum of the same centred values.
fn rest_moments(r: &[f64], means: &[f64], p: usize, m: f64) -> (f64, f64) {
    let (mut ss, mut c) = (0.0, 0.0);
    let mut prev = 0.0;
    for chunk in r.chunks(p) {
        for (&x, &f) in chunk.iter().zip(means) {
            let cur = x - f - m;
            ss += cur * cur;
            c += prev * cur;
            prev = cur;
        }
    }
    (ss / r.len().max(1) as f64, c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, Normal};
    use std::f64::consts::PI;

    fn noise(n: usize, phi: f64, seed: u64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let normal = Normal::new(0.0, 1.0).unwrap_or_else(|_| unreachable!());
        let mut x = 0.0;
        (0..n)
            .map(|_| {
                x = phi * x + normal.sample(&mut rng);
                x
            })
            .collect()
    }

    #[test]
    fn finds_a_twelve_hour_period() {
        // 7 days at 5 minutes; 12 h sine under noise and a trend.
        let n = 7 * 288;
        let e = noise(n, 0.5, 1);
        let x: Vec<f64> = (0..n)
            .map(|i| {
                50.0 + 0.01 * i as f64 + 10.0 * (2.0 * PI * i as f64 / 144.0).sin() + 3.0 * e[i]
            })
            .collect();
        let p = detect(&x, 300);
        let secs: Vec<i64> = p.iter().map(|p| p.period_seconds).collect();
        assert_eq!(secs, vec![12 * HOUR_SECONDS], "{p:?}");
        assert!(p[0].strength > 0.5);
    }

    #[test]
    fn ar1_noise_has_no_season() {
        for (seed, phi) in [(2, 0.5), (3, 0.9), (4, 0.98)] {
            let x = noise(14 * 288, phi, seed);
            let p = detect(&x, 300);
            assert!(p.is_empty(), "phi {phi}: {p:?}");
        }
    }

    #[test]
    fn daily_and_weekly_with_gaps_and_outliers() {
        let n = 28 * 288;
        let e = noise(n, 0.7, 5);
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let mut x: Vec<f64> = (0..n)
            .map(|i| {
                let day = (i / 288) % 7;
                let weekend = if day >= 5 { 1.3 } else { 1.0 };
                (100.0 + 40.0 * (2.0 * PI * i as f64 / 288.0).sin()) * weekend + 4.0 * e[i]
            })
            .collect();
        for v in x.iter_mut().skip(3000).take(400) {
            *v = f64::NAN;
        }
        for _ in 0..20 {
            let i = rng.random_range(0..n);
            x[i] = 5000.0;
        }
        let secs: Vec<i64> = detect(&x, 300).iter().map(|p| p.period_seconds).collect();
        assert_eq!(secs, vec![DAY_SECONDS, WEEK_SECONDS]);
    }

    #[test]
    fn too_little_or_flat_data_reports_none() {
        assert!(detect(&[], 60).is_empty());
        assert!(detect(&[1.0; 5000], 60).is_empty());
        assert!(detect(&[f64::NAN; 5000], 60).is_empty());
        assert!(detect(&[1.0, 2.0], 60).is_empty());
        assert!(detect(&[1.0; 100], 0).is_empty());
    }
}

//! MSTL-style multi-seasonal decomposition: values = trend plus one seasonal component per
//! period plus remainder. Periods are fitted shortest first, each on the series minus the others, a few
//! rounds; a robust pass then refits with gross outliers set aside so one incident does not
//! bend the seasonal shape. Outliers are points beyond 5 robust sigmas of the remainder, or of
//! the deseasoned series about a running median three trend windows wide: the moving-average
//! trend would otherwise follow an event about as long as its window (a day-long Black Friday). Missing values (NaN) are tolerated everywhere; the remainder is NaN
//! where the input was.
//!
//! This is the one decomposition of scaletop (CONTRACTS.md): forecasting reuses it.

use serde::Serialize;

use super::stats;

/// One seasonal component.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeasonalComponent {
    pub period_steps: usize,
    pub period_seconds: i64,
    /// The component at every input index (defined at gaps too).
    pub values: Vec<f64>,
    /// The component by phase over the final cycle: the value at index `i` (also `i >= len`,
    /// for forecasting) is `profile[i % period_steps]`.
    pub profile: Vec<f64>,
}

impl SeasonalComponent {
    /// Seasonal value at any index, past or future (repeats the last fitted cycle).
    pub fn at(&self, index: usize) -> f64 {
        self.profile
            .get(index % self.period_steps.max(1))
            .copied()
            .unwrap_or(0.0)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decomposition {
    pub step_seconds: i64,
    /// Smooth level; gaps interpolated, so finite wherever the series has any data.
    pub trend: Vec<f64>,
    /// Ascending by period.
    pub seasonal: Vec<SeasonalComponent>,
    pub remainder: Vec<f64>,
    /// Points the robust pass set aside as outliers (true = outlier).
    pub outliers: Vec<bool>,
}

impl Decomposition {
    /// Trend plus all seasonal components at `index` (the model's expectation).
    pub fn expected(&self, index: usize) -> f64 {
        self.trend.get(index).copied().unwrap_or(f64::NAN) + self.seasonal_sum(index)
    }

    pub fn seasonal_sum(&self, index: usize) -> f64 {
        self.seasonal
            .iter()
            .map(|s| s.values.get(index).copied().unwrap_or(0.0))
            .sum()
    }

    /// Seasonal strength of component `k` (Hyndman: 1 - var(R) / var(S_k + R), floored at 0).
    pub fn strength(&self, k: usize) -> f64 {
        let Some(s) = self.seasonal.get(k) else {
            return 0.0;
        };
        strength_of(
            stats::variance(&self.remainder),
            stats::variance_of_sum(&s.values, &self.remainder),
        )
    }

    /// Share of the detrended variance the seasonal components explain together
    /// (1 - var(R) / var(S + R)).
    pub fn seasonal_share(&self) -> f64 {
        let total: Vec<f64> = (0..self.remainder.len())
            .map(|i| self.seasonal_sum(i))
            .collect();
        strength_of(
            stats::variance(&self.remainder),
            stats::variance_of_sum(&total, &self.remainder),
        )
    }
}

fn strength_of(remainder_var: Option<f64>, with_seasonal_var: Option<f64>) -> f64 {
    match (remainder_var, with_seasonal_var) {
        (Some(r), Some(t)) if t > 0.0 => (1.0 - r / t).clamp(0.0, 1.0),
        _ => 0.0,
    }
}

/// Tuning of [`decompose_with`]; the defaults follow MSTL (seasonal window of 7 cycles, two
/// rounds) plus one robust pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecomposeOptions {
    /// Cycles averaged per phase (odd); the seasonal shape may drift over longer spans.
    pub seasonal_window_cycles: usize,
    pub rounds: usize,
    /// Refit once with points beyond this many robust sigmas of the remainder set aside.
    pub robust_sigmas: Option<f64>,
}

impl Default for DecomposeOptions {
    fn default() -> Self {
        Self {
            seasonal_window_cycles: 7,
            rounds: 2,
            robust_sigmas: Some(5.0),
        }
    }
}

/// Decomposes `values` (one per `step_seconds`, NaN = missing) with seasonal `periods` given in
/// steps. Periods shorter than 2 steps or without two full cycles in the data are dropped.
pub fn decompose(values: &[f64], step_seconds: i64, periods: &[usize]) -> Decomposition {
    decompose_with(values, step_seconds, periods, &DecomposeOptions::default())
}

pub fn decompose_with(
    values: &[f64],
    step_seconds: i64,
    periods: &[usize],
    options: &DecomposeOptions,
) -> Decomposition {
    let n = values.len();
    let mut periods: Vec<usize> = periods
        .iter()
        .copied()
        .filter(|&p| p >= 2 && 2 * p <= n)
        .collect();
    periods.sort_unstable();
    periods.dedup();

    let mut outliers = vec![false; n];
    let mut fit = fit_once(values, &periods, options);
    if let Some(k) = options.robust_sigmas {
        let mut any = flag_beyond(&fit.remainder, k, 0.0, &mut outliers);
        // The moving-average trend follows an event about as long as its window (a day-long
        // Black Friday under a one-day window is mostly "trend"), so the remainder alone misses
        // it. A running median three windows wide does not follow anything shorter than one
        // and a half windows: what stands out from it is set aside too.
        let deseasoned: Vec<f64> = (0..n).map(|i| fit.trend[i] + fit.remainder[i]).collect();
        let wide = running_median(&deseasoned, 3 * trend_window(&periods, n));
        let off: Vec<f64> = deseasoned.iter().zip(&wide).map(|(d, m)| d - m).collect();
        // On a clean series `off` is interpolation dust whose MAD is ~0: only a departure of
        // a few percent of the level counts as an event.
        let level =
            stats::median_and_mad_sigma(&deseasoned.iter().map(|v| v.abs()).collect::<Vec<f64>>())
                .map_or(0.0, |(m, _)| m);
        any |= flag_beyond(
            &off,
            OFF_SIGMAS_FACTOR * k,
            OFF_SIGMA_FLOOR * level,
            &mut outliers,
        );
        if any {
            let cleaned: Vec<f64> = values
                .iter()
                .zip(&outliers)
                .map(|(&x, &o)| if o { f64::NAN } else { x })
                .collect();
            let refit = fit_once(&cleaned, &periods, options);
            // The remainder is against the original values, outliers included.
            let remainder = (0..n)
                .map(|i| values[i] - refit.trend[i] - refit.seasonal_sum(i))
                .collect();
            fit = Fit { remainder, ..refit };
        }
    }
    let seasonal = periods
        .iter()
        .zip(fit.seasonal)
        .map(|(&p, values)| {
            let profile = last_cycle_profile(&values, p);
            SeasonalComponent {
                period_steps: p,
                period_seconds: p as i64 * step_seconds,
                values,
                profile,
            }
        })
        .collect();
    Decomposition {
        step_seconds,
        trend: fit.trend,
        seasonal,
        remainder: fit.remainder,
        outliers,
    }
}

struct Fit {
    trend: Vec<f64>,
    seasonal: Vec<Vec<f64>>,
    remainder: Vec<f64>,
}

impl Fit {
    fn seasonal_sum(&self, i: usize) -> f64 {
        self.seasonal.iter().map(|s| s[i]).sum()
    }
}

fn fit_once(values: &[f64], periods: &[usize], options: &DecomposeOptions) -> Fit {
    let n = values.len();
    let mut seasonal: Vec<Vec<f64>> = periods.iter().map(|_| vec![0.0; n]).collect();
    let mut others = vec![0.0; n];
    for _ in 0..options.rounds.max(1) {
        for k in 0..periods.len() {
            // The series less every other component (plain loops: this runs 2 x periods
            // times per fit).
            others.copy_from_slice(values);
            for (j, s) in seasonal.iter().enumerate() {
                if j != k {
                    others.iter_mut().zip(s).for_each(|(o, x)| *o -= x);
                }
            }
            seasonal[k] = seasonal_component(&others, periods[k], options.seasonal_window_cycles);
        }
    }
    let mut deseasoned = values.to_vec();
    for s in &seasonal {
        deseasoned.iter_mut().zip(s).for_each(|(d, x)| *d -= x);
    }
    let trend = stats::fill_gaps(&stats::centered_moving_average(
        &deseasoned,
        trend_window(periods, n),
        false,
    ));
    let remainder = (0..n).map(|i| deseasoned[i] - trend[i]).collect();
    Fit {
        trend,
        seasonal,
        remainder,
    }
}

/// The trend's moving-average window: the longest period; without seasonal periods a light
/// smoother (about 1% of the series, odd) at least.
fn trend_window(periods: &[usize], n: usize) -> usize {
    periods
        .last()
        .copied()
        .unwrap_or(0)
        .max((n / 100).max(1) | 1)
}

/// Smallest robust sigma, as a share of the level, when judging departures from the running
/// median.
const OFF_SIGMA_FLOOR: f64 = 0.01;
/// Departures from the running median must be this many times further out than remainder
/// outliers: the median also differs from the trend where the seasonal fit is imperfect, and
/// setting those points aside costs the forecast accuracy (ecommerce MASE 0.098 -> 0.126 at
/// 1x); a day-long 4x event is far beyond either.
const OFF_SIGMAS_FACTOR: f64 = 2.0;

/// Sets `flags` where `x` is more than `k` robust sigmas (at least `min_sigma`) from its
/// median; true if any was set.
fn flag_beyond(x: &[f64], k: f64, min_sigma: f64, flags: &mut [bool]) -> bool {
    let Some((med, sigma)) = stats::median_and_mad_sigma(x) else {
        return false;
    };
    let sigma = sigma.max(min_sigma);
    if sigma <= 0.0 {
        return false;
    }
    let mut any = false;
    for (flag, r) in flags.iter_mut().zip(x) {
        if r.is_finite() && (r - med).abs() > k * sigma {
            *flag = true;
            any = true;
        }
    }
    any
}

/// Centered running median of about `window` points (truncated at the ends), NaN-aware. It is
/// taken over block means of ~1/48 of the window and interpolated back, which keeps it O(n)
/// for week-long windows at fine steps; a block is short next to any event it must ignore.
fn running_median(x: &[f64], window: usize) -> Vec<f64> {
    let n = x.len();
    let block = (window / 48).max(1);
    let means = stats::block_means(x, block);
    let m = means.len();
    let half = (window / block / 2).max(1);
    let mut buf = Vec::with_capacity(2 * half + 1);
    let med: Vec<f64> = (0..m)
        .map(|b| {
            buf.clear();
            let hi = (b + half + 1).min(m);
            buf.extend(
                means[b.saturating_sub(half)..hi]
                    .iter()
                    .filter(|v| v.is_finite()),
            );
            if buf.is_empty() {
                return f64::NAN;
            }
            let mid = buf.len() / 2;
            let (_, &mut v, _) = buf.select_nth_unstable_by(mid, f64::total_cmp);
            v
        })
        .collect();
    if block == 1 {
        return stats::fill_gaps(&med);
    }
    // Block b stands for its centre, (b + 0.5) * block - 0.5; interpolate between centres.
    let med = stats::fill_gaps(&med);
    (0..n)
        .map(|i| {
            let pos = ((i as f64 + 0.5) / block as f64 - 0.5).max(0.0);
            let lo = (pos.floor() as usize).min(m - 1);
            let hi = (lo + 1).min(m - 1);
            let frac = pos - lo as f64;
            med[lo] + (med[hi] - med[lo]) * frac.min(1.0)
        })
        .collect()
}

/// One seasonal component of period `p`: detrend with a centered moving average of one
/// period, average each phase over neighbouring cycles, smooth lightly across phases, and
/// remove what is left of the level so the component sums to ~0 over a cycle.
fn seasonal_component(y: &[f64], p: usize, window_cycles: usize) -> Vec<f64> {
    let n = y.len();
    let level = stats::centered_moving_average(y, p, true);
    let detrended: Vec<f64> = y.iter().zip(&level).map(|(a, b)| a - b).collect();
    let cycles = n.div_ceil(p);
    let half = window_cycles.max(1) / 2;
    let mut s = vec![f64::NAN; n];
    // Prefix sums over one phase's cycle subseries (buffers reused across phases).
    let mut sum = vec![0.0; cycles + 1];
    let mut cnt = vec![0u32; cycles + 1];
    for phase in 0..p {
        for c in 0..cycles {
            let i = c * p + phase;
            let x = if i < n { detrended[i] } else { f64::NAN };
            let ok = x.is_finite();
            sum[c + 1] = sum[c] + if ok { x } else { 0.0 };
            cnt[c + 1] = cnt[c] + u32::from(ok);
        }
        for c in 0..cycles {
            let i = c * p + phase;
            if i >= n {
                break;
            }
            // Keep the window full near the ends by shifting it inside.
            let width = (2 * half + 1).min(cycles);
            let lo = c.saturating_sub(half).min(cycles - width);
            let hi = lo + width;
            let k = cnt[hi] - cnt[lo];
            let m = if k > 0 {
                (sum[hi] - sum[lo]) / f64::from(k)
            } else {
                // No data for this phase nearby: the phase mean over all cycles.
                let all = cnt[cycles];
                if all > 0 {
                    sum[cycles] / f64::from(all)
                } else {
                    f64::NAN
                }
            };
            s[i] = m;
        }
    }
    let s = stats::fill_gaps(&s);
    if s.iter().all(|x| x.is_nan()) {
        return vec![0.0; n];
    }
    // Light smoothing across phases (about 1% of the period) damps noise at fine steps.
    let smooth = (p / 100).max(1) | 1;
    let s = if smooth > 1 {
        stats::centered_moving_average(&s, smooth, false)
    } else {
        s
    };
    // Low-pass removal: what a one-period average still sees is level, not season.
    let low = stats::fill_gaps(&stats::centered_moving_average(&s, p, false));
    s.iter()
        .zip(&low)
        .map(|(a, b)| {
            let v = a - b;
            if v.is_finite() {
                v
            } else {
                0.0
            }
        })
        .collect()
}

/// The final full cycle of a component, indexed by phase (`i % p`).
fn last_cycle_profile(values: &[f64], p: usize) -> Vec<f64> {
    let n = values.len();
    let mut profile = vec![0.0; p];
    if n < p || p == 0 {
        return profile;
    }
    for i in n - p..n {
        profile[i % p] = values[i];
    }
    profile
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn daily_weekly(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        // 1-hour steps: daily (24) and weekly (168) components and a linear trend.
        let d: Vec<f64> = (0..n)
            .map(|i| 10.0 * (2.0 * PI * i as f64 / 24.0).sin())
            .collect();
        let w: Vec<f64> = (0..n)
            .map(|i| if (i / 24) % 7 >= 5 { 6.0 } else { -2.4 })
            .collect();
        let x = (0..n)
            .map(|i| 100.0 + 0.01 * i as f64 + d[i] + w[i])
            .collect();
        (x, d, w)
    }

    #[test]
    fn recovers_two_planted_components() {
        let n = 24 * 7 * 6;
        let (x, d, _) = daily_weekly(n);
        let dec = decompose(&x, 3600, &[24, 168]);
        assert_eq!(dec.seasonal.len(), 2);
        // Interior error of the daily component is small next to its amplitude of 10.
        let err: f64 = (200..n - 200)
            .map(|i| (dec.seasonal[0].values[i] - d[i]).abs())
            .fold(0.0, f64::max);
        assert!(err < 1.5, "daily component off by {err}");
        assert!(
            dec.strength(0) > 0.9 && dec.strength(1) > 0.8,
            "{} {}",
            dec.strength(0),
            dec.strength(1)
        );
        for (i, xi) in x.iter().enumerate() {
            let sum = dec.trend[i] + dec.seasonal_sum(i) + dec.remainder[i];
            assert!((sum - xi).abs() < 1e-9, "components add up");
        }
        // The profile repeats the last cycle.
        assert_eq!(dec.seasonal[0].at(n - 1), dec.seasonal[0].values[n - 1]);
    }

    #[test]
    fn gaps_and_outliers_do_not_bend_the_shape() {
        let n = 24 * 7 * 4;
        let (mut x, d, _) = daily_weekly(n);
        for v in x.iter_mut().skip(100).take(30) {
            *v = f64::NAN;
        }
        x[300] = 1e6;
        let dec = decompose(&x, 3600, &[24]);
        assert!(dec.outliers[300]);
        assert!(dec.remainder[110].is_nan());
        assert!(dec.remainder[300] > 1e5);
        let err: f64 = (200..n - 200)
            .map(|i| (dec.seasonal[0].values[i] - d[i]).abs())
            .fold(0.0, f64::max);
        assert!(err < 5.0, "daily off by {err} despite the outlier");
    }

    #[test]
    fn a_day_long_event_lands_in_the_remainder() {
        // 14 days hourly, a daily cycle, and one day at 4x from hour 24 * 9 (with 3-hour
        // ramps): as long as the trend's one-day window, so a plain moving average follows it.
        let n = 24 * 14;
        let (base, _, _) = daily_weekly(n);
        let (start, end) = (24 * 9, 24 * 10);
        let x: Vec<f64> = base
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let ramp = (i as f64 + 4.0 - start as f64)
                    .min(end as f64 + 3.0 - i as f64)
                    .clamp(0.0, 4.0)
                    / 4.0;
                v * (1.0 + 3.0 * ramp)
            })
            .collect();
        let dec = decompose(&x, 3600, &[24]);
        let ordinary = |i: usize| base[i] - dec.seasonal[0].values[i];
        let trend_off = (start..end)
            .map(|i| (dec.trend[i] - ordinary(i)).abs())
            .fold(0.0, f64::max);
        // The trend stays near the ordinary level; the event is remainder.
        assert!(trend_off < 10.0, "trend off by {trend_off} in the event");
        assert!((start..end).all(|i| dec.remainder[i] > 2.0 * base[i] && dec.outliers[i]));
        // Ordinary days keep a small remainder (the daily shape is not bent by the event).
        let worst = (0..24 * 7)
            .map(|i| dec.remainder[i].abs())
            .fold(0.0, f64::max);
        assert!(worst < 10.0, "ordinary remainder up to {worst}");
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let dec = decompose(&[], 60, &[24]);
        assert!(dec.trend.is_empty() && dec.seasonal.is_empty());
        let dec = decompose(&[f64::NAN; 50], 60, &[10]);
        assert_eq!(dec.remainder.len(), 50);
        let dec = decompose(&[3.0], 60, &[24]);
        assert_eq!(dec.trend, vec![3.0]);
        let dec = decompose(&[5.0; 100], 60, &[10]);
        assert!(dec.remainder.iter().all(|r| r.abs() < 1e-9));
        assert_eq!(dec.strength(0), 0.0);
    }
}

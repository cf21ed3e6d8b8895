//! Double-seasonal additive Holt-Winters in the manner of Taylor (2003): level, damped trend,
//! one seasonal index per period (daily and weekly), and a first-order autoregressive
//! adjustment of the one-step error. Parameters are fitted with Nelder-Mead by minimising the
//! in-sample squared error of forecasts over the whole horizon the caller asked for, from
//! origins spread through the training data: one-step fitting picks smoothing gains that
//! chase noise and then do badly a day or a week ahead.

use crate::engine::forecast::optimize::{bounded, nelder_mead, unbounded};

/// Smoothing parameters (all in the bounds of [`BOUNDS`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub alpha: f64,
    pub beta: f64,
    pub phi: f64,
    /// One per period, shortest first (unused entries ignored).
    pub gamma: [f64; 2],
    /// AR(1) coefficient of the one-step error (Taylor's adjustment).
    pub lambda: f64,
}

/// (lo, hi) of alpha, beta, phi, gamma_daily, gamma_weekly, lambda. The trend gain stays small:
/// a hot trend chases noise on hourly demand.
const BOUNDS: [(f64, f64); 6] = [
    (0.001, 0.9),
    (0.0, 0.05),
    (0.8, 0.995),
    (0.0, 0.6),
    (0.0, 0.6),
    (0.0, 0.95),
];
const START: [f64; 6] = [0.1, 0.005, 0.95, 0.1, 0.1, 0.5];
const MAX_EVALS: usize = 300;

impl Params {
    fn from_free(x: &[f64]) -> Params {
        let p = |k: usize| bounded(x.get(k).copied().unwrap_or(0.0), BOUNDS[k].0, BOUNDS[k].1);
        Params {
            alpha: p(0),
            beta: p(1),
            phi: p(2),
            gamma: [p(3), p(4)],
            lambda: p(5),
        }
    }
}

/// The filter's state after the last observation.
struct State {
    level: f64,
    trend: f64,
    seasonal: Vec<Vec<f64>>,
    last_error: f64,
}

/// In-sample origins wanted for the multi-step objective.
const FIT_ORIGINS: usize = 24;
/// Leads scored per origin at most (a week of hours; 5-minute weeks are subsampled).
const MAX_SCORED_LEADS: usize = 168;

/// Fits the parameters on `y` (no missing values) with seasonal `periods` (at most two used)
/// for forecasts `horizon` steps ahead (1 = the classic one-step fit).
pub fn fit(y: &[f64], periods: &[usize], horizon: usize) -> Params {
    let periods = usable(periods, y.len());
    let x0: Vec<f64> = START
        .iter()
        .zip(BOUNDS)
        .map(|(s, (lo, hi))| unbounded(*s, lo, hi))
        .collect();
    let origins = fit_origins(y.len(), &periods, horizon);
    let mut sse = |x: &[f64]| {
        let p = Params::from_free(x);
        if origins.is_empty() {
            run(y, &periods, &p, &[], 0).1
        } else {
            run(y, &periods, &p, &origins, horizon).1
        }
    };
    Params::from_free(&nelder_mead(&mut sse, &x0, MAX_EVALS))
}

/// Origins (indices before which the filter forecasts) for the multi-step objective: after a
/// burn-in of one longest cycle, evenly spread so that each has `horizon` actuals after it.
/// Empty for one-step fitting or when no origin fits.
fn fit_origins(n: usize, periods: &[usize], horizon: usize) -> Vec<usize> {
    let burn_in = periods.last().copied().unwrap_or(0).min(n / 2).max(1);
    if horizon <= 1 || n < burn_in + horizon {
        return Vec::new();
    }
    let room = n - horizon - burn_in;
    let stride = (room / FIT_ORIGINS).max(1);
    (burn_in..=n - horizon).step_by(stride).collect()
}

/// Forecasts `horizon` steps after `y` with fitted `params`.
pub fn forecast(y: &[f64], periods: &[usize], params: &Params, horizon: usize) -> Vec<f64> {
    let periods = usable(periods, y.len());
    let (state, _) = run(y, &periods, params, &[], 0);
    let mut out = Vec::with_capacity(horizon);
    ahead(&state, &periods, params, y.len(), horizon, 1, |_, f| {
        out.push(f)
    });
    out
}

/// The `horizon` forecasts from `state` (which has seen indices before `at`), in order;
/// with `stride` > 1 only every stride-th lead is produced (the recursion still runs).
fn ahead(
    state: &State,
    periods: &[usize],
    params: &Params,
    at: usize,
    horizon: usize,
    stride: usize,
    mut each: impl FnMut(usize, f64),
) {
    let mut damp = 0.0;
    let mut phi_h = 1.0;
    let mut ar = 1.0;
    // Seasonal phases advance by counters: a modulo per step and period was most of the
    // multi-step fit's time at 5-minute steps.
    let mut phase: Vec<usize> = periods.iter().map(|p| at % p).collect();
    let mut until_scored = 1;
    for h in 1..=horizon {
        phi_h *= params.phi;
        damp += phi_h;
        ar *= params.lambda;
        until_scored -= 1;
        if until_scored == 0 {
            until_scored = stride.max(1);
            let seasonal: f64 = state.seasonal.iter().zip(&phase).map(|(s, &k)| s[k]).sum();
            each(
                h,
                state.level + damp * state.trend + seasonal + ar * state.last_error,
            );
        }
        for (k, p) in phase.iter_mut().zip(periods) {
            *k += 1;
            if *k == *p {
                *k = 0;
            }
        }
    }
}

/// Periods with two full cycles in the data, shortest first, at most two.
fn usable(periods: &[usize], n: usize) -> Vec<usize> {
    let mut p: Vec<usize> = periods
        .iter()
        .copied()
        .filter(|&p| p >= 2 && 2 * p <= n)
        .collect();
    p.sort_unstable();
    p.truncate(2);
    p
}

/// Initial level and seasonal indices from the first cycle of the longest period: the level
/// is its mean, the shortest period's index the mean deviation per phase, the next one what
/// is left per phase.
fn initial_state(y: &[f64], periods: &[usize]) -> State {
    let span = periods
        .last()
        .copied()
        .unwrap_or(1)
        .clamp(1, y.len().max(1));
    let first = &y[..span.min(y.len())];
    let level = if first.is_empty() {
        0.0
    } else {
        first.iter().sum::<f64>() / first.len() as f64
    };
    let mut seasonal: Vec<Vec<f64>> = Vec::with_capacity(periods.len());
    for (k, &p) in periods.iter().enumerate() {
        let mut sum = vec![0.0; p];
        let mut count = vec![0usize; p];
        for (i, v) in first.iter().enumerate() {
            let before: f64 = seasonal
                .iter()
                .zip(&periods[..k])
                .map(|(s, q)| s[i % q])
                .sum();
            sum[i % p] += v - level - before;
            count[i % p] += 1;
        }
        seasonal.push(
            sum.iter()
                .zip(&count)
                .map(|(s, &c)| if c > 0 { s / c as f64 } else { 0.0 })
                .collect(),
        );
    }
    State {
        level,
        trend: 0.0,
        seasonal,
        last_error: 0.0,
    }
}

/// Runs the filter over `y`; returns the final state and the squared error the fit
/// minimises: with `origins`, of the `horizon` forecasts made before each origin index;
/// without, of every one-step forecast after a burn-in of one longest cycle (the initial
/// state is read from it).
fn run(
    y: &[f64],
    periods: &[usize],
    p: &Params,
    origins: &[usize],
    horizon: usize,
) -> (State, f64) {
    let mut s = initial_state(y, periods);
    let burn_in = periods.last().copied().unwrap_or(0).min(y.len() / 2);
    // Long horizons are scored on an even subsample of leads (an unbiased estimate of the
    // same objective at a fraction of the cost).
    let stride = horizon.div_ceil(MAX_SCORED_LEADS).max(1);
    let mut sse = 0.0;
    let mut next_origin = origins.iter().peekable();
    let mut phase = vec![0usize; periods.len()];
    for (i, &yi) in y.iter().enumerate() {
        if next_origin.next_if(|&&o| o == i).is_some() {
            ahead(&s, periods, p, i, horizon, stride, |h, f| {
                if let Some(a) = y.get(i + h - 1) {
                    sse += (a - f) * (a - f);
                }
            });
        }
        let seasonal: f64 = s.seasonal.iter().zip(&phase).map(|(v, &k)| v[k]).sum();
        let base = s.level + p.phi * s.trend + seasonal;
        let error = yi - base;
        if origins.is_empty() && i >= burn_in {
            let e = error - p.lambda * s.last_error;
            sse += e * e;
        }
        s.level += p.phi * s.trend + p.alpha * error;
        s.trend = p.phi * s.trend + p.beta * error;
        for (((v, k), q), g) in s
            .seasonal
            .iter_mut()
            .zip(&mut phase)
            .zip(periods)
            .zip(p.gamma)
        {
            v[*k] += g * error;
            *k += 1;
            if *k == *q {
                *k = 0;
            }
        }
        s.last_error = error;
    }
    (s, sse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_pure_double_seasonal_series() {
        // Hourly: daily sine plus a weekend lift, four weeks; forecast the next day.
        let f = |i: usize| {
            let d = (2.0 * std::f64::consts::PI * i as f64 / 24.0).sin() * 10.0;
            let w = if (i / 24) % 7 >= 5 { 8.0 } else { 0.0 };
            100.0 + d + w
        };
        let n = 24 * 7 * 4;
        let y: Vec<f64> = (0..n).map(f).collect();
        let params = fit(&y, &[24, 168], 48);
        let fc = forecast(&y, &[24, 168], &params, 48);
        let worst = (0..48)
            .map(|h| (fc[h] - f(n + h)).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1.0, "worst error {worst} on a noiseless series");
    }
}

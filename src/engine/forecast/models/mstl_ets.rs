//! MSTL decomposition (the analysis engine's, not a second one) plus a damped-trend
//! exponential smoothing model (ETS(A,Ad,N)) of the deseasonalised series; the seasonal
//! components are repeated forward from their last cycle.

use crate::engine::analysis::decompose;
use crate::engine::forecast::optimize::{bounded, nelder_mead, unbounded};

/// Smoothing parameters of the trend model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub alpha: f64,
    pub beta: f64,
    pub phi: f64,
}

const BOUNDS: [(f64, f64); 3] = [(0.001, 0.99), (0.0, 0.2), (0.8, 0.995)];
const START: [f64; 3] = [0.3, 0.01, 0.95];
const MAX_EVALS: usize = 200;

impl Params {
    fn from_free(x: &[f64]) -> Params {
        let p = |k: usize| bounded(x.get(k).copied().unwrap_or(0.0), BOUNDS[k].0, BOUNDS[k].1);
        Params {
            alpha: p(0),
            beta: p(1),
            phi: p(2),
        }
    }
}

/// Values minus every seasonal component, and the decomposition they came from.
fn deseasonalise(
    y: &[f64],
    step_seconds: i64,
    periods: &[usize],
) -> (Vec<f64>, decompose::Decomposition) {
    let dec = decompose::decompose(y, step_seconds, periods);
    let ds = y
        .iter()
        .enumerate()
        .map(|(i, v)| v - dec.seasonal_sum(i))
        .collect();
    (ds, dec)
}

/// Fits the trend model's gains on the deseasonalised `y` for forecasts `horizon` steps
/// ahead: on the squared error of every forecast up to the horizon from origins through the
/// data, as Holt-Winters is fitted (see there). One-step fitting follows whatever daily wiggle
/// the decomposition left in the deseasonalised series (alpha near 1), and the level it
/// carries forward is then the last hour's, not the day's: on a strongly seasonal series the
/// whole horizon sat 15-20% low.
pub fn fit(y: &[f64], step_seconds: i64, periods: &[usize], horizon: usize) -> Params {
    let (ds, _) = deseasonalise(y, step_seconds, periods);
    let x0: Vec<f64> = START
        .iter()
        .zip(BOUNDS)
        .map(|(s, (lo, hi))| unbounded(*s, lo, hi))
        .collect();
    let burn_in = periods
        .last()
        .copied()
        .unwrap_or(1)
        .min(ds.len() / 2)
        .max(1);
    let origins = fit_origins(ds.len(), burn_in, horizon);
    let mut sse = |x: &[f64]| {
        let p = Params::from_free(x);
        if origins.is_empty() {
            holt(&ds, &p).2
        } else {
            multi_step_sse(&ds, &p, &origins, horizon)
        }
    };
    Params::from_free(&nelder_mead(&mut sse, &x0, MAX_EVALS))
}

/// In-sample origins for the multi-step objective, and leads scored per origin at most.
const FIT_ORIGINS: usize = 24;
const MAX_SCORED_LEADS: usize = 168;

/// Origins after `burn_in`, evenly spread so each has `horizon` actuals after it; empty for
/// one-step fitting or when none fits.
fn fit_origins(n: usize, burn_in: usize, horizon: usize) -> Vec<usize> {
    if horizon <= 1 || n < burn_in + horizon {
        return Vec::new();
    }
    let stride = ((n - horizon - burn_in) / FIT_ORIGINS).max(1);
    (burn_in..=n - horizon).step_by(stride).collect()
}

/// Squared error of the damped-trend forecasts up to `horizon` steps from each origin (long
/// horizons on an even subsample of leads).
fn multi_step_sse(y: &[f64], p: &Params, origins: &[usize], horizon: usize) -> f64 {
    let stride = horizon.div_ceil(MAX_SCORED_LEADS).max(1);
    let (mut level, mut trend) = (y[0], 0.0);
    let mut next_origin = origins.iter().peekable();
    let mut sse = 0.0;
    for (i, &v) in y.iter().enumerate().skip(1) {
        if next_origin.next_if(|&&o| o == i).is_some() {
            let (mut damp, mut phi_h) = (0.0, 1.0);
            for h in 1..=horizon {
                phi_h *= p.phi;
                damp += phi_h;
                if (h - 1) % stride == 0 {
                    if let Some(a) = y.get(i + h - 1) {
                        let e = a - (level + damp * trend);
                        sse += e * e;
                    }
                }
            }
        }
        let pred = level + p.phi * trend;
        let e = v - pred;
        level = pred + p.alpha * e;
        trend = p.phi * trend + p.alpha * p.beta * e;
    }
    sse
}

pub fn forecast(
    y: &[f64],
    step_seconds: i64,
    periods: &[usize],
    params: &Params,
    horizon: usize,
) -> Vec<f64> {
    let (ds, dec) = deseasonalise(y, step_seconds, periods);
    let (level, trend, _) = holt(&ds, params);
    let n = y.len();
    let mut damp = 0.0;
    let mut phi_h = 1.0;
    (1..=horizon)
        .map(|h| {
            phi_h *= params.phi;
            damp += phi_h;
            let seasonal: f64 = dec.seasonal.iter().map(|s| s.at(n + h - 1)).sum();
            level + damp * trend + seasonal
        })
        .collect()
}

/// Damped Holt filter: final level, final trend, one-step squared error.
fn holt(y: &[f64], p: &Params) -> (f64, f64, f64) {
    let Some(&first) = y.first() else {
        return (0.0, 0.0, 0.0);
    };
    let (mut level, mut trend, mut sse) = (first, 0.0, 0.0);
    for &v in &y[1..] {
        let pred = level + p.phi * trend;
        let e = v - pred;
        sse += e * e;
        level = pred + p.alpha * e;
        trend = p.phi * trend + p.alpha * p.beta * e;
    }
    (level, trend, sse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_a_trend_under_a_daily_cycle() {
        let f = |i: usize| {
            50.0 + 0.1 * i as f64 + 5.0 * (2.0 * std::f64::consts::PI * i as f64 / 24.0).cos()
        };
        let n = 24 * 14;
        let y: Vec<f64> = (0..n).map(f).collect();
        let p = fit(&y, 3600, &[24], 24);
        let fc = forecast(&y, 3600, &[24], &p, 24);
        let worst = (0..24)
            .map(|h| (fc[h] - f(n + h)).abs())
            .fold(0.0, f64::max);
        assert!(worst < 2.0, "worst error {worst}");
    }
}

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

pub fn fit(y: &[f64], step_seconds: i64, periods: &[usize]) -> Params {
    let (ds, _) = deseasonalise(y, step_seconds, periods);
    let x0: Vec<f64> = START
        .iter()
        .zip(BOUNDS)
        .map(|(s, (lo, hi))| unbounded(*s, lo, hi))
        .collect();
    let mut sse = |x: &[f64]| holt(&ds, &Params::from_free(x)).2;
    Params::from_free(&nelder_mead(&mut sse, &x0, MAX_EVALS))
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
        let p = fit(&y, 3600, &[24]);
        let fc = forecast(&y, 3600, &[24], &p, 24);
        let worst = (0..24)
            .map(|h| (fc[h] - f(n + h)).abs())
            .fold(0.0, f64::max);
        assert!(worst < 2.0, "worst error {worst}");
    }
}

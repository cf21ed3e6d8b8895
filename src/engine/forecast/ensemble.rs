//! The ensemble: a weighted mean of the other models' forecasts, weights on the simplex
//! (non-negative, summing to one) minimising the squared error of the combination. Weights are
//! only ever chosen on origins before the ones they are scored on: in the backtest, origin k is
//! forecast with weights fitted on origins 0..k (at the first, a fixed prior: equal weights
//! on weekly naive, seasonal mean and Holt-Winters), so the
//! ensemble's backtest figures are as honest as any single model's; the final forecast uses
//! weights fitted on every backtest origin, all of which precede it. Only members whose mean
//! absolute error on those same earlier origins is within [`TRIM`] of the best take part:
//! least squares over a few origins otherwise gives weight to a poor model whose errors
//! happen to offset the others' there, which does not carry forward.

use super::backtest::{self, ModelRun, Plan};
use super::models::ModelKind;
use super::prepare::Prepared;

const ITERATIONS: usize = 3000;
/// Before any origin has been scored: equal weights on these (those that ran).
const PRIOR: [ModelKind; 3] = [
    ModelKind::SeasonalNaiveWeekly,
    ModelKind::SeasonalMean,
    ModelKind::HoltWinters,
];
/// Members within this factor of the best member's MAE are combined.
const TRIM: f64 = 1.25;

/// The ensemble's backtest, and its final weights (one per member, in member order).
pub struct EnsembleRun {
    pub run: ModelRun,
    pub members: Vec<ModelKind>,
    pub weights: Vec<f64>,
}

/// Builds the ensemble from the backtests of `members` (at least two, same plan). None
/// with fewer than two members.
pub fn run(
    members: &[&ModelRun],
    prep: &Prepared,
    plan: &Plan,
    scale: Option<f64>,
) -> Option<EnsembleRun> {
    if members.len() < 2 {
        return None;
    }
    let origins = plan.origins.len();
    if members.iter().any(|m| m.forecasts.len() != origins) {
        return None;
    }
    let actual: Vec<&[f64]> = plan
        .origins
        .iter()
        .map(|&o| prep.scored.get(o..o + plan.horizon))
        .collect::<Option<_>>()?;
    let mut forecasts = Vec::with_capacity(origins);
    for k in 0..origins {
        let w = weights(members, &actual, k);
        forecasts.push(combine(
            members.iter().map(|m| m.forecasts[k].as_slice()),
            &w,
        ));
    }
    let run = backtest::score(ModelKind::Ensemble, prep, plan, forecasts, scale)?;
    Some(EnsembleRun {
        run,
        members: members.iter().map(|m| m.kind).collect(),
        weights: weights(members, &actual, origins),
    })
}

/// Weights for a forecast from history length `origin` (a calibration origin): fitted on the
/// backtest origins whose whole horizon precedes it, as in the backtest. None when the
/// members do not match the plan.
pub fn weights_at(
    members: &[&ModelRun],
    prep: &Prepared,
    plan: &Plan,
    origin: usize,
) -> Option<Vec<f64>> {
    if members
        .iter()
        .any(|m| m.forecasts.len() != plan.origins.len())
    {
        return None;
    }
    let actual: Vec<&[f64]> = plan
        .origins
        .iter()
        .map(|&o| prep.scored.get(o..o + plan.horizon))
        .collect::<Option<_>>()?;
    let upto = plan
        .origins
        .iter()
        .filter(|&&o| o + plan.horizon <= origin)
        .count();
    Some(weights(members, &actual, upto))
}

/// The weighted mean of equally long forecasts.
pub fn combine<'a>(forecasts: impl Iterator<Item = &'a [f64]>, weights: &[f64]) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    for (f, &w) in forecasts.zip(weights) {
        if out.is_empty() {
            out = vec![0.0; f.len()];
        }
        for (o, v) in out.iter_mut().zip(f) {
            *o += w * v;
        }
    }
    out
}

/// Equal weights on the [`PRIOR`] members that ran, else on every member.
fn prior(members: &[&ModelRun]) -> Vec<f64> {
    let inside = |r: &ModelRun| PRIOR.contains(&r.kind);
    let count = members.iter().filter(|r| inside(r)).count();
    members
        .iter()
        .map(|r| match count {
            0 => 1.0 / members.len() as f64,
            c if inside(r) => 1.0 / c as f64,
            _ => 0.0,
        })
        .collect()
}

/// Simplex weights fitted on the first `upto` origins ([`prior`] when there are none), zero
/// for members trimmed on those origins.
fn weights(members: &[&ModelRun], actual: &[&[f64]], upto: usize) -> Vec<f64> {
    let all = members.len();
    let mut mae = vec![0.0; all];
    let mut rows = 0usize;
    for (k, a) in actual.iter().enumerate().take(upto) {
        for (j, &y) in a.iter().enumerate() {
            if !y.is_finite() || members.iter().any(|r| !r.forecasts[k][j].is_finite()) {
                continue;
            }
            rows += 1;
            for (e, r) in mae.iter_mut().zip(members) {
                *e += (y - r.forecasts[k][j]).abs();
            }
        }
    }
    if rows == 0 {
        return prior(members);
    }
    let best = mae.iter().copied().fold(f64::INFINITY, f64::min);
    let kept: Vec<usize> = (0..all).filter(|&i| mae[i] <= TRIM * best).collect();
    let m = kept.len();
    let mut gram = vec![0.0; m * m];
    let mut cross = vec![0.0; m];
    for (k, a) in actual.iter().enumerate().take(upto) {
        for (j, &y) in a.iter().enumerate() {
            let f: Vec<f64> = kept.iter().map(|&i| members[i].forecasts[k][j]).collect();
            if !y.is_finite() || f.iter().any(|v| !v.is_finite()) {
                continue;
            }
            for p in 0..m {
                cross[p] += y * f[p];
                for q in 0..m {
                    gram[p * m + q] += f[p] * f[q];
                }
            }
        }
    }
    let fitted = simplex_least_squares(&gram, &cross, m).unwrap_or(vec![1.0 / m as f64; m]);
    let mut out = vec![0.0; all];
    for (&i, w) in kept.iter().zip(fitted) {
        out[i] = w;
    }
    out
}

/// Minimises w'Gw - 2 b'w over the probability simplex by projected gradient descent.
fn simplex_least_squares(gram: &[f64], cross: &[f64], m: usize) -> Option<Vec<f64>> {
    // Step 1/L, L = 2 x the largest eigenvalue of G (the gradient's Lipschitz constant),
    // found by power iteration.
    let mut v = vec![1.0; m];
    let mut lambda = 0.0;
    for _ in 0..100 {
        let gv: Vec<f64> = (0..m)
            .map(|p| (0..m).map(|q| gram[p * m + q] * v[q]).sum())
            .collect();
        let norm = gv.iter().map(|x| x * x).sum::<f64>().sqrt();
        if !(norm > 0.0 && norm.is_finite()) {
            return None;
        }
        lambda = norm / v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v = gv.iter().map(|x| x / norm).collect();
    }
    let step = 1.0 / (2.0 * lambda * 1.01);
    let mut w = vec![1.0 / m as f64; m];
    let mut grad = vec![0.0; m];
    for _ in 0..ITERATIONS {
        for p in 0..m {
            grad[p] = 2.0 * ((0..m).map(|q| gram[p * m + q] * w[q]).sum::<f64>() - cross[p]);
        }
        for p in 0..m {
            w[p] -= step * grad[p];
        }
        w = project_to_simplex(&w);
    }
    w.iter().all(|v| v.is_finite()).then_some(w)
}

/// Euclidean projection onto { w >= 0, sum w = 1 } (Held, Wolfe & Crowder; Duchi et al. 2008).
fn project_to_simplex(v: &[f64]) -> Vec<f64> {
    let mut u = v.to_vec();
    u.sort_by(|a, b| b.total_cmp(a));
    let mut sum = 0.0;
    let mut theta = 0.0;
    for (i, x) in u.iter().enumerate() {
        sum += x;
        let t = (sum - 1.0) / (i + 1) as f64;
        if x - t > 0.0 {
            theta = t;
        }
    }
    v.iter().map(|x| (x - theta).max(0.0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_and_weights() {
        let p = project_to_simplex(&[0.5, 0.5, 0.5]);
        assert!(p.iter().all(|x| (x - 1.0 / 3.0).abs() < 1e-12));
        assert_eq!(project_to_simplex(&[2.0, 0.0]), vec![1.0, 0.0]);
        // y = 0.25 a + 0.75 b exactly: the weights recover it.
        let a = [1.0, 3.0, 2.0, 5.0, 4.0];
        let b = [2.0, 1.0, 4.0, 3.0, 7.0];
        let y: Vec<f64> = a.iter().zip(&b).map(|(a, b)| 0.25 * a + 0.75 * b).collect();
        let mut g = vec![0.0; 4];
        let mut c = vec![0.0; 2];
        for i in 0..5 {
            let f = [a[i], b[i]];
            for p in 0..2 {
                c[p] += y[i] * f[p];
                for q in 0..2 {
                    g[p * 2 + q] += f[p] * f[q];
                }
            }
        }
        let w = simplex_least_squares(&g, &c, 2).expect("weights");
        assert!(
            (w[0] - 0.25).abs() < 0.02 && (w[1] - 0.75).abs() < 0.02,
            "{w:?}"
        );
    }
}

//! A small Nelder-Mead simplex minimiser for the few smoothing parameters the models fit, and
//! the logistic map that keeps each parameter inside its bounds while the search is free.

/// Minimises `f` from `x0`; returns the best point found within `max_evals` evaluations.
pub fn nelder_mead(f: &mut dyn FnMut(&[f64]) -> f64, x0: &[f64], max_evals: usize) -> Vec<f64> {
    let d = x0.len();
    if d == 0 {
        return Vec::new();
    }
    let value = |f: &mut dyn FnMut(&[f64]) -> f64, x: &[f64]| {
        let v = f(x);
        if v.is_finite() {
            v
        } else {
            f64::INFINITY
        }
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(d + 1);
    simplex.push((x0.to_vec(), value(f, x0)));
    for k in 0..d {
        let mut x = x0.to_vec();
        x[k] += 1.0;
        let v = value(f, &x);
        simplex.push((x, v));
    }
    let mut evals = d + 1;
    while evals < max_evals {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[d].1);
        if (worst - best).abs() <= 1e-10 * (best.abs() + 1e-12) {
            break;
        }
        let centroid: Vec<f64> = (0..d)
            .map(|j| simplex[..d].iter().map(|p| p.0[j]).sum::<f64>() / d as f64)
            .collect();
        let along = |t: f64, worst: &[f64]| -> Vec<f64> {
            centroid
                .iter()
                .zip(worst)
                .map(|(c, w)| c + t * (w - c))
                .collect()
        };
        let xw = simplex[d].0.clone();
        let xr = along(-1.0, &xw);
        let vr = value(f, &xr);
        evals += 1;
        if vr < simplex[0].1 {
            let xe = along(-2.0, &xw);
            let ve = value(f, &xe);
            evals += 1;
            simplex[d] = if ve < vr { (xe, ve) } else { (xr, vr) };
        } else if vr < simplex[d - 1].1 {
            simplex[d] = (xr, vr);
        } else {
            let t = if vr < simplex[d].1 { -0.5 } else { 0.5 };
            let xc = along(t, &xw);
            let vc = value(f, &xc);
            evals += 1;
            if vc < simplex[d].1.min(vr) {
                simplex[d] = (xc, vc);
            } else {
                // Shrink towards the best point.
                let x0 = simplex[0].0.clone();
                for p in simplex.iter_mut().skip(1) {
                    for (xi, bi) in p.0.iter_mut().zip(&x0) {
                        *xi = bi + 0.5 * (*xi - bi);
                    }
                    p.1 = value(f, &p.0);
                    evals += 1;
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex.swap_remove(0).0
}

/// Maps a free value into (lo, hi).
pub fn bounded(x: f64, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) / (1.0 + (-x).exp())
}

/// The free value that [`bounded`] maps to `p` (clamped just inside the bounds).
pub fn unbounded(p: f64, lo: f64, hi: f64) -> f64 {
    let u = ((p - lo) / (hi - lo)).clamp(1e-6, 1.0 - 1e-6);
    (u / (1.0 - u)).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_a_bowl() {
        let mut f = |x: &[f64]| (x[0] - 3.0).powi(2) + 2.0 * (x[1] + 1.0).powi(2);
        let x = nelder_mead(&mut f, &[0.0, 0.0], 500);
        assert!(
            (x[0] - 3.0).abs() < 1e-3 && (x[1] + 1.0).abs() < 1e-3,
            "{x:?}"
        );
        let p = bounded(unbounded(0.3, 0.0, 1.0), 0.0, 1.0);
        assert!((p - 0.3).abs() < 1e-9);
    }
}

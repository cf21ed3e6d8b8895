//! The learned model: ridge regression (closed form, Cholesky) of a value on calendar Fourier
//! terms (time of day, time of week) and its values whole seasons back. Only lags at least as
//! long as the horizon are used, so every forecast step reads observed history, never the
//! model's own earlier predictions (a recursive forecast accumulates its errors); with several
//! weeks back the fit learns how to average them.

/// Fourier harmonics of the daily and weekly cycles.
const DAILY_HARMONICS: usize = 8;
const WEEKLY_HARMONICS: usize = 4;
/// Fit on at most this many recent rows (the level and shape drift).
const MAX_ROWS: usize = 6 * 7 * 24 * 12;
/// Ridge penalty per row, on standardised features.
const PENALTY_PER_ROW: f64 = 1e-3;

const DAY_SECONDS: f64 = 86_400.0;
const WEEK_SECONDS: f64 = 604_800.0;

/// Seasonal lags used at most.
const MAX_LAGS: usize = 4;
/// Rows wanted after the longest lag, in units of the longest period.
const MIN_ROW_PERIODS: usize = 2;

/// Which features exist, fixed at fit time.
#[derive(Debug, Clone, PartialEq)]
struct Spec {
    start_unix: i64,
    step_seconds: i64,
    /// Lags in steps, each >= the horizon.
    lags: Vec<usize>,
    daily_harmonics: usize,
    weekly_harmonics: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    spec: Spec,
    means: Vec<f64>,
    scales: Vec<f64>,
    coef: Vec<f64>,
    y_mean: f64,
}

impl Spec {
    fn new(
        start_unix: i64,
        step_seconds: i64,
        periods: &[usize],
        horizon: usize,
        n: usize,
    ) -> Spec {
        let daily = periods.first().copied();
        let weekly = periods.get(1).copied();
        let horizon = horizon.max(1);
        // The day before, when the horizon allows, then whole seasons of the longest period
        // that reach past the horizon, while enough rows remain to fit them.
        let mut lags: Vec<usize> = daily.filter(|&d| d >= horizon).into_iter().collect();
        if let Some(p) = weekly.or(daily) {
            let first = horizon.div_ceil(p).max(1);
            for k in first..first + MAX_LAGS {
                let lag = k * p;
                if lags.len() >= MAX_LAGS || lag + MIN_ROW_PERIODS * p > n {
                    break;
                }
                if !lags.contains(&lag) {
                    lags.push(lag);
                }
            }
        }
        Spec {
            start_unix,
            step_seconds,
            lags,
            daily_harmonics: daily.map_or(0, |d| DAILY_HARMONICS.min(d / 2)),
            weekly_harmonics: if weekly.is_some() {
                WEEKLY_HARMONICS
            } else {
                0
            },
        }
    }

    fn longest_lag(&self) -> usize {
        self.lags.iter().copied().max().unwrap_or(0)
    }

    /// Features of index `i`; lags read `y` (history, then predictions).
    fn features(&self, i: usize, y: &[f64], out: &mut Vec<f64>) {
        out.clear();
        let t = (self.start_unix + i as i64 * self.step_seconds) as f64;
        for (harmonics, period) in [
            (self.daily_harmonics, DAY_SECONDS),
            (self.weekly_harmonics, WEEK_SECONDS),
        ] {
            if harmonics == 0 {
                continue;
            }
            // Harmonic k+1 from k by the angle-addition rule: one sin/cos per row, not one
            // per harmonic (they were most of a 5-minute fit's time).
            let phase = 2.0 * std::f64::consts::PI * t.rem_euclid(period) / period;
            let (s1, c1) = phase.sin_cos();
            let (mut s, mut c) = (s1, c1);
            for _ in 0..harmonics {
                out.push(s);
                out.push(c);
                (s, c) = (s * c1 + c * s1, c * c1 - s * s1);
            }
        }
        for &lag in &self.lags {
            out.push(
                i.checked_sub(lag)
                    .and_then(|j| y.get(j))
                    .copied()
                    .unwrap_or(0.0),
            );
        }
    }
}

/// Fits on `y` (no missing values) for forecasts up to `horizon` steps ahead, with as many
/// seasonal lags as `structure_len` points of history support (capped at `y.len()`); None
/// when there are too few rows for the features.
pub fn fit(
    y: &[f64],
    start_unix: i64,
    step_seconds: i64,
    periods: &[usize],
    horizon: usize,
    structure_len: usize,
) -> Option<Model> {
    let spec = Spec::new(
        start_unix,
        step_seconds,
        periods,
        horizon,
        structure_len.min(y.len()),
    );
    let first = spec.longest_lag().max(y.len().saturating_sub(MAX_ROWS));
    let rows: Vec<usize> = (first..y.len()).collect();
    let mut x = Vec::new();
    spec.features(first, y, &mut x);
    let p = x.len();
    if rows.len() < 2 * p + 2 {
        return None;
    }
    let mut table: Vec<Vec<f64>> = Vec::with_capacity(rows.len());
    for &i in &rows {
        spec.features(i, y, &mut x);
        table.push(x.clone());
    }
    let m = rows.len() as f64;
    let y_mean = rows.iter().map(|&i| y[i]).sum::<f64>() / m;
    let means: Vec<f64> = (0..p)
        .map(|j| table.iter().map(|r| r[j]).sum::<f64>() / m)
        .collect();
    let scales: Vec<f64> = (0..p)
        .map(|j| {
            let v = table.iter().map(|r| (r[j] - means[j]).powi(2)).sum::<f64>() / m;
            if v > 0.0 {
                v.sqrt()
            } else {
                1.0
            }
        })
        .collect();
    // Normal equations on standardised features.
    let mut a = vec![0.0; p * p];
    let mut b = vec![0.0; p];
    let mut z = vec![0.0; p];
    for (r, &i) in table.iter().zip(&rows) {
        for j in 0..p {
            z[j] = (r[j] - means[j]) / scales[j];
        }
        let yc = y[i] - y_mean;
        for j in 0..p {
            b[j] += z[j] * yc;
            for k in 0..=j {
                a[j * p + k] += z[j] * z[k];
            }
        }
    }
    for j in 0..p {
        for k in 0..j {
            a[k * p + j] = a[j * p + k];
        }
        a[j * p + j] += PENALTY_PER_ROW * m;
    }
    let coef = cholesky_solve(&mut a, &b, p)?;
    Some(Model {
        spec,
        means,
        scales,
        coef,
        y_mean,
    })
}

impl Model {
    /// Forecasts `horizon` steps after `history` (which starts where the fit data started).
    /// Steps beyond the fitted horizon read earlier predictions for their shortest lags.
    pub fn forecast(&self, history: &[f64], horizon: usize) -> Vec<f64> {
        let n = history.len();
        let mut y = history.to_vec();
        let mut x = Vec::new();
        for i in n..n + horizon {
            self.spec.features(i, &y, &mut x);
            let pred = self.y_mean
                + x.iter()
                    .zip(&self.means)
                    .zip(&self.scales)
                    .zip(&self.coef)
                    .map(|(((v, m), s), c)| c * (v - m) / s)
                    .sum::<f64>();
            y.push(pred);
        }
        y.split_off(n)
    }
}

/// Solves A x = b for symmetric positive definite A (row-major p x p, overwritten).
fn cholesky_solve(a: &mut [f64], b: &[f64], p: usize) -> Option<Vec<f64>> {
    for j in 0..p {
        let mut d = a[j * p + j];
        for k in 0..j {
            d -= a[j * p + k] * a[j * p + k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j * p + j] = d;
        for i in j + 1..p {
            let mut s = a[i * p + j];
            for k in 0..j {
                s -= a[i * p + k] * a[j * p + k];
            }
            a[i * p + j] = s / d;
        }
    }
    let mut x = b.to_vec();
    for i in 0..p {
        for k in 0..i {
            x[i] -= a[i * p + k] * x[k];
        }
        x[i] /= a[i * p + i];
    }
    for i in (0..p).rev() {
        for k in i + 1..p {
            x[i] -= a[k * p + i] * x[k];
        }
        x[i] /= a[i * p + i];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_a_calendar_shape() {
        // Hourly from a Monday midnight UTC; weekday evening peak, flat weekends.
        let start = 1_704_067_200; // 2024-01-01 (Monday)
        let f = |i: usize| {
            let hour = i % 24;
            let weekend = (i / 24) % 7 >= 5;
            let peak = if (18..22).contains(&hour) { 30.0 } else { 0.0 };
            100.0 + if weekend { 10.0 } else { peak }
        };
        let n = 24 * 7 * 4;
        let y: Vec<f64> = (0..n).map(f).collect();
        let m = fit(&y, start, 3600, &[24, 168], 168, y.len()).expect("enough rows");
        let fc = m.forecast(&y, 168);
        let wape: f64 = (0..168).map(|h| (fc[h] - f(n + h)).abs()).sum::<f64>()
            / (0..168).map(|h| f(n + h)).sum::<f64>();
        assert!(wape < 0.02, "wape {wape}");
    }
}

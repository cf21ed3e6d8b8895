//! Anomaly windows from the decomposition remainder: a robust score (distance from the median
//! remainder in MAD-sigmas), runs above a threshold merged into windows, each sized against
//! what the model expected, and split into one-off anomalies and recurring events (windows
//! that come back at the same time of day on several days, or the same time of week).

use serde::Serialize;

use super::decompose::Decomposition;
use super::stats;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AnomalyOptions {
    /// Robust sigmas of the remainder beyond which a point is anomalous.
    pub threshold_sigmas: f64,
    /// Runs closer than this are one window.
    pub merge_gap_seconds: i64,
}

impl Default for AnomalyOptions {
    fn default() -> Self {
        Self {
            threshold_sigmas: 5.0,
            merge_gap_seconds: 1800,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnomalyWindow {
    /// Unix seconds of the first and last anomalous point (inclusive).
    pub start: i64,
    pub end: i64,
    /// Largest |robust z| inside the window.
    pub score: f64,
    /// "above" or "below" what was expected.
    pub direction: &'static str,
    pub observed: f64,
    pub expected: f64,
    /// observed / expected at the most extreme point (None when expected <= 0).
    pub size_vs_expected: Option<f64>,
    /// Comes back at the same time of day or week: an event, not a one-off.
    pub recurring: bool,
}

/// Robust z-score of each remainder point (NaN where the remainder is missing).
pub fn robust_scores(remainder: &[f64]) -> Vec<f64> {
    let Some((med, sigma)) = stats::median_and_mad_sigma(remainder) else {
        return vec![f64::NAN; remainder.len()];
    };
    // A flat remainder (MAD 0) still lets a real jump show: fall back to the mean deviation.
    let sigma = if sigma > 0.0 {
        sigma
    } else {
        let dev: Vec<f64> = remainder.iter().map(|r| (r - med).abs()).collect();
        stats::mean(&dev).unwrap_or(0.0) * 1.2533
    };
    remainder
        .iter()
        .map(|r| {
            if !r.is_finite() {
                f64::NAN
            } else if sigma > 0.0 {
                (r - med) / sigma
            } else {
                0.0
            }
        })
        .collect()
}

/// True where the point is anomalous; the forecasting work masks these before fitting.
pub fn anomaly_mask(dec: &Decomposition, threshold_sigmas: f64) -> Vec<bool> {
    robust_scores(&dec.remainder)
        .iter()
        .map(|z| z.abs() > threshold_sigmas)
        .collect()
}

/// Anomaly windows of a series that starts at `start_unix` with `step_seconds` spacing.
pub fn anomaly_windows(
    start_unix: i64,
    step_seconds: i64,
    values: &[f64],
    dec: &Decomposition,
    options: &AnomalyOptions,
) -> Vec<AnomalyWindow> {
    let step = step_seconds.max(1);
    let z = robust_scores(&dec.remainder);
    let gap = (options.merge_gap_seconds / step).max(1) as usize;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, s) in z.iter().enumerate() {
        if s.abs() > options.threshold_sigmas {
            match runs.last_mut() {
                Some(last) if i - last.1 <= gap => last.1 = i,
                _ => runs.push((i, i)),
            }
        }
    }
    let mut windows: Vec<AnomalyWindow> = runs
        .into_iter()
        .map(|(a, b)| {
            let worst = (a..=b)
                .filter(|&i| z[i].is_finite())
                .max_by(|&i, &j| z[i].abs().total_cmp(&z[j].abs()))
                .unwrap_or(a);
            let expected = dec.expected(worst);
            let observed = values.get(worst).copied().unwrap_or(f64::NAN);
            AnomalyWindow {
                start: start_unix + a as i64 * step,
                end: start_unix + b as i64 * step,
                score: z[worst].abs(),
                direction: if z[worst] >= 0.0 { "above" } else { "below" },
                observed,
                expected,
                size_vs_expected: (expected > 0.0 && observed.is_finite())
                    .then(|| observed / expected),
                recurring: false,
            }
        })
        .collect();
    mark_recurring(&mut windows);
    windows
}

/// A window recurs when at least two others start within an hour of it modulo a day (on other
/// days), or within an hour modulo a week.
fn mark_recurring(windows: &mut [AnomalyWindow]) {
    const DAY: i64 = 86_400;
    const WEEK: i64 = 7 * DAY;
    const TOLERANCE: i64 = 3600;
    let starts: Vec<i64> = windows.iter().map(|w| w.start).collect();
    let near = |a: i64, b: i64, modulo: i64| {
        let d = (a - b).rem_euclid(modulo);
        d.min(modulo - d) <= TOLERANCE
    };
    for (i, w) in windows.iter_mut().enumerate() {
        let same_time = |modulo: i64| {
            starts
                .iter()
                .enumerate()
                .filter(|&(j, &s)| {
                    j != i && (s - starts[i]).abs() > TOLERANCE && near(s, starts[i], modulo)
                })
                .count()
        };
        w.recurring = same_time(DAY) >= 2 || same_time(WEEK) >= 1 && same_time(DAY) >= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::analysis::decompose::decompose;

    #[test]
    fn one_spike_is_one_window() {
        let mut x: Vec<f64> = (0..2000)
            .map(|i| {
                100.0
                    + 10.0 * ((i % 100) as f64 / 100.0 * std::f64::consts::TAU).sin()
                    + ((i * 7919) % 13) as f64 * 0.3
            })
            .collect();
        x[1000] = 400.0;
        x[1001] = 380.0;
        let dec = decompose(&x, 60, &[100]);
        let w = anomaly_windows(0, 60, &x, &dec, &AnomalyOptions::default());
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!((w[0].start, w[0].end), (60_000, 60_060));
        assert_eq!(w[0].direction, "above");
        assert!(w[0].size_vs_expected.unwrap_or(0.0) > 3.0);
        assert!(!w[0].recurring);
    }

    #[test]
    fn same_time_every_day_is_recurring() {
        // 1-hour steps, 10 days; a jump at 03:00 every day that the daily model does not fit
        // because it varies in height.
        let mut x: Vec<f64> = (0..240)
            .map(|i| 50.0 + ((i * 31) % 7) as f64 * 0.2)
            .collect();
        for d in 0..10 {
            x[d * 24 + 3] += 30.0 + 40.0 * (d % 3) as f64;
        }
        let dec = decompose(&x, 3600, &[]);
        let w = anomaly_windows(0, 3600, &x, &dec, &AnomalyOptions::default());
        assert!(w.len() >= 5, "{w:?}");
        assert!(w.iter().all(|w| w.recurring));
    }
}

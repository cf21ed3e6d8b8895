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

/// The spread a score is measured in is never below this share of the series' typical level
/// (median |expected|). On a smooth series the remainder's MAD is tiny, and a spike read
/// against it scores in the hundreds of sigmas ("171σ") — a figure that says nothing. With
/// the floor, 5σ means at least a 10% deviation from what was expected.
pub const SPREAD_FLOOR_OF_LEVEL: f64 = 0.02;

/// Robust z-score of each remainder point (NaN where the remainder is missing).
pub fn robust_scores(remainder: &[f64]) -> Vec<f64> {
    robust_scores_floored(remainder, 0.0)
}

/// [`robust_scores`] of a decomposition, the spread floored at [`SPREAD_FLOOR_OF_LEVEL`] of the
/// series' typical level.
pub fn decomposition_scores(dec: &Decomposition) -> Vec<f64> {
    let level: Vec<f64> = (0..dec.remainder.len())
        .map(|i| dec.expected(i).abs())
        .collect();
    let floor = stats::median(&level).unwrap_or(0.0) * SPREAD_FLOOR_OF_LEVEL;
    robust_scores_floored(&dec.remainder, floor)
}

/// Robust z-scores with the spread at least `floor`.
pub fn robust_scores_floored(remainder: &[f64], floor: f64) -> Vec<f64> {
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
    let sigma = if floor.is_finite() {
        sigma.max(floor)
    } else {
        sigma
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
    decomposition_scores(dec)
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
    let z = decomposition_scores(dec);
    anomaly_windows_scored(start_unix, step_seconds, values, dec, &z, options)
}

/// As [`anomaly_windows`] with the [`decomposition_scores`] `z` already computed (the caller
/// also builds the mask from them).
pub fn anomaly_windows_scored(
    start_unix: i64,
    step_seconds: i64,
    values: &[f64],
    dec: &Decomposition,
    z: &[f64],
    options: &AnomalyOptions,
) -> Vec<AnomalyWindow> {
    let step = step_seconds.max(1);
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
/// days), or within an hour modulo a week. Only windows within a few cycles count: on a long
/// history, two one-off events months apart that happen to start at local midnight (Black
/// Friday, Cyber Monday) do not make a daily pattern, nor do windows of very different size.
fn mark_recurring(windows: &mut [AnomalyWindow]) {
    const DAY: i64 = 86_400;
    const WEEK: i64 = 7 * DAY;
    const TOLERANCE: i64 = 3600;
    /// How far apart (in cycles) windows may be and still count as one recurring pattern.
    const CYCLES: i64 = 4;
    /// Windows more unlike in size than this are not one pattern: the small bumps of the
    /// week before Black Friday do not make Black Friday a daily event.
    const SCORE_RATIO: f64 = 3.0;
    let starts: Vec<i64> = windows.iter().map(|w| w.start).collect();
    let scores: Vec<f64> = windows.iter().map(|w| w.score.abs()).collect();
    let alike = |a: f64, b: f64| a.max(b) <= SCORE_RATIO * a.min(b);
    let near = |a: i64, b: i64, modulo: i64| {
        let d = (a - b).rem_euclid(modulo);
        d.min(modulo - d) <= TOLERANCE && (a - b).abs() <= CYCLES * modulo + TOLERANCE
    };
    for (i, w) in windows.iter_mut().enumerate() {
        let same_time = |modulo: i64| {
            starts
                .iter()
                .enumerate()
                .filter(|&(j, &s)| {
                    j != i
                        && (s - starts[i]).abs() > TOLERANCE
                        && near(s, starts[i], modulo)
                        && alike(scores[j], scores[i])
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
    fn a_spike_on_a_smooth_series_scores_against_the_level_floor() {
        // A noiseless daily cycle around 1000 with a 3x spike: the remainder's MAD is ~0, so
        // without a floor the spike scores in the thousands of sigmas.
        let mut x: Vec<f64> = (0..24 * 14)
            .map(|i| 1000.0 + 300.0 * (i as f64 * std::f64::consts::TAU / 24.0).sin())
            .collect();
        let expected_at_spike = x[200];
        x[200] *= 3.0;
        let dec = decompose(&x, 3600, &[24]);
        let raw = robust_scores(&dec.remainder)[200];
        let windows = anomaly_windows(0, 3600, &x, &dec, &AnomalyOptions::default());
        // (The decomposition's edges can add windows of their own; the spike is one window.)
        let w: Vec<_> = windows
            .iter()
            .filter(|w| w.start <= 200 * 3600 && w.end >= 200 * 3600)
            .collect();
        assert_eq!(w.len(), 1, "{windows:?}");
        // Remainder ~ 2 x expected; floor = 2% of the ~1000 level = 20.
        let bound = 2.0 * expected_at_spike / (SPREAD_FLOOR_OF_LEVEL * 1000.0);
        assert!(
            w[0].score <= bound * 1.15 && w[0].score >= bound * 0.5,
            "score {} vs about {bound:.0} (unfloored {raw:.0})",
            w[0].score
        );
        assert!(raw > 2.0 * w[0].score, "the floor bites: unfloored {raw}");
        // A 5% wiggle is not an anomaly on a smooth series any more.
        let mut y: Vec<f64> = (0..24 * 14)
            .map(|i| 1000.0 + 300.0 * (i as f64 * std::f64::consts::TAU / 24.0).sin())
            .collect();
        y[100] *= 1.05;
        let dec = decompose(&y, 3600, &[24]);
        let windows = anomaly_windows(0, 3600, &y, &dec, &AnomalyOptions::default());
        assert!(
            !windows
                .iter()
                .any(|w| w.start <= 100 * 3600 && w.end >= 100 * 3600),
            "{windows:?}"
        );
        assert!(
            robust_scores(&dec.remainder)[100].abs() > 5.0,
            "without the floor the wiggle would be an anomaly"
        );
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

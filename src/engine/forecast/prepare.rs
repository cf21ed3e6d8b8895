//! From a raw regular series (NaN = missing) to what the models fit: the seasonal calendar,
//! anomalies masked with the analysis engine's mask (so one incident does not poison the
//! seasonal profile) and every gap filled from the decomposition's expectation. The scored
//! copy keeps missing and anomalous points out of the backtest figures.

use super::events::{self, KnownEvent, Learned};
use super::models::SeriesContext;
use super::ForecastError;
use crate::engine::analysis::{anomaly_mask, decompose, stats};

const DAY_SECONDS: i64 = 86_400;
/// Fewer finite points than this cannot be forecast.
pub const MIN_POINTS: usize = 8;
/// Robust sigmas of the decomposition remainder beyond which a point is masked.
const ANOMALY_SIGMAS: f64 = 5.0;

#[derive(Debug, Clone)]
pub struct Prepared {
    pub ctx: SeriesContext,
    /// Cleaned, gap-free values the models fit.
    pub values: Vec<f64>,
    /// The observed values, NaN where missing or masked as anomalous.
    pub scored: Vec<f64>,
    pub missing: usize,
    pub anomalies: usize,
    /// Points inside known events, kept out of the fit like missing ones.
    pub event_points: usize,
    /// What each known event in the history did (observed over expected).
    pub learned: Vec<Learned>,
    /// Every observation is >= 0 (demand): forecasts and bands are floored at zero.
    pub nonnegative: bool,
    pub notes: Vec<String>,
}

/// Prepares `values` (index 0 at `start_unix`, `step_seconds` apart) for a forecast of
/// `horizon_steps`. Leading and trailing missing points are dropped.
pub fn prepare(
    values: &[f64],
    start_unix: i64,
    step_seconds: i64,
    horizon_steps: usize,
) -> Result<Prepared, ForecastError> {
    prepare_with_events(values, start_unix, step_seconds, horizon_steps, &[])
}

/// [`prepare`] with a calendar: points inside known events are treated as missing before the
/// decomposition (so neither the seasonal profile nor the anomaly mask sees them), filled
/// from the expectation, and their observed / expected ratio is kept as the event's uplift.
pub fn prepare_with_events(
    values: &[f64],
    start_unix: i64,
    step_seconds: i64,
    horizon_steps: usize,
    known: &[KnownEvent],
) -> Result<Prepared, ForecastError> {
    if step_seconds <= 0 {
        return Err(ForecastError::BadStep(step_seconds));
    }
    let first = values.iter().position(|v| v.is_finite());
    let last = values.iter().rposition(|v| v.is_finite());
    let (Some(first), Some(last)) = (first, last) else {
        return Err(ForecastError::NoData);
    };
    let observed = &values[first..=last];
    let start_unix = start_unix + first as i64 * step_seconds;
    let in_event = events::mask(known, start_unix, step_seconds, observed.len());
    let event_points = observed
        .iter()
        .zip(&in_event)
        .filter(|(v, &e)| e && v.is_finite())
        .count();
    let raw: Vec<f64> = observed
        .iter()
        .zip(&in_event)
        .map(|(&v, &e)| if e { f64::NAN } else { v })
        .collect();
    let raw = raw.as_slice();
    let finite = stats::finite_count(raw);
    if finite < MIN_POINTS {
        return Err(ForecastError::TooFewPoints {
            found: finite,
            needed: MIN_POINTS,
        });
    }
    let n = raw.len();
    let mut notes = Vec::new();
    let per_day = (DAY_SECONDS % step_seconds == 0)
        .then_some((DAY_SECONDS / step_seconds) as usize)
        .filter(|&d| d >= 2);
    let daily = per_day.filter(|&d| n >= 2 * d);
    if per_day.is_some() && daily.is_none() {
        notes.push(
            "history shorter than two days: no daily cycle; models run without seasons (Holt-Winters as a damped trend)".into(),
        );
    }
    // The weekly cycle needs two weeks to fit plus room for at least one backtest origin.
    let weekly = daily
        .map(|d| 7 * d)
        .filter(|&w| n >= 2 * w + horizon_steps.min(w).max(1));
    if daily.is_some() && weekly.is_none() {
        notes.push("history too short for a weekly cycle (needs two weeks plus the horizon): daily cycle only".into());
    }
    let ctx = SeriesContext {
        start_unix,
        step_seconds,
        daily,
        weekly,
        positive: raw.iter().filter(|v| v.is_finite()).all(|&v| v > 0.0),
        horizon: horizon_steps.max(1),
        structure_len: n,
    };
    let dec = decompose(raw, step_seconds, &ctx.periods());
    let mask = anomaly_mask(&dec, ANOMALY_SIGMAS);
    let mut scored = raw.to_vec();
    let mut anomalies = 0;
    for (s, &m) in scored.iter_mut().zip(&mask) {
        if m && s.is_finite() {
            *s = f64::NAN;
            anomalies += 1;
        }
    }
    let missing = n - finite - event_points;
    let filled: Vec<f64> = scored
        .iter()
        .enumerate()
        .map(|(i, &v)| if v.is_finite() { v } else { dec.expected(i) })
        .collect();
    // The expectation can itself be missing (no trend nearby): interpolate what is left.
    let mut values = stats::fill_gaps(&filled);
    // A fill from an additive expectation can dip below zero; logs need it positive.
    if ctx.positive {
        let floor = raw
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(f64::INFINITY, f64::min);
        values.iter_mut().for_each(|v| *v = v.max(floor));
    }
    let learned = events::learn(known, start_unix, step_seconds, observed, &values);
    if event_points > 0 {
        notes.push(format!(
            "{event_points} points inside known events kept out of the fit and the anomaly mask"
        ));
    }
    if missing > 0 {
        notes.push(format!(
            "{missing} missing points filled from the decomposition"
        ));
    }
    if anomalies > 0 {
        notes.push(format!(
            "{anomalies} anomalous points masked before fitting and left out of the backtest"
        ));
    }
    Ok(Prepared {
        ctx,
        values,
        scored,
        missing,
        anomalies,
        event_points,
        learned,
        nonnegative: raw.iter().filter(|v| v.is_finite()).all(|&v| v >= 0.0),
        notes,
    })
}

/// Means over whole blocks of `target_seconds`, aligned to multiples of it in Unix time
/// (whole hours, whole UTC days). Returns the new start and values; a partial block at either
/// end is dropped.
pub fn aggregate(
    values: &[f64],
    start_unix: i64,
    step_seconds: i64,
    target_seconds: i64,
) -> (i64, Vec<f64>) {
    if step_seconds <= 0 || target_seconds % step_seconds != 0 {
        return (start_unix, values.to_vec());
    }
    let factor = (target_seconds / step_seconds) as usize;
    let skip_seconds = (target_seconds - start_unix.rem_euclid(target_seconds)) % target_seconds;
    let skip = (skip_seconds / step_seconds) as usize;
    let body = values.get(skip..).unwrap_or(&[]);
    let whole = body.len() / factor * factor;
    (
        start_unix + skip_seconds,
        stats::block_means(&body[..whole], factor),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_on_hour_boundaries() {
        // Starts 10 minutes past the hour at 5-minute steps.
        let v: Vec<f64> = (0..40).map(|i| i as f64).collect();
        let (start, h) = aggregate(&v, 600, 300, 3600);
        assert_eq!(start, 3600);
        // First whole hour is points 10..22.
        assert_eq!(h.len(), 2);
        assert!((h[0] - 15.5).abs() < 1e-12);
    }

    #[test]
    fn masks_an_incident_and_fills_gaps() {
        let mut v: Vec<f64> = (0..24 * 14)
            .map(|i| 100.0 + 20.0 * (i as f64 * std::f64::consts::PI / 12.0).sin())
            .collect();
        v[200] = 5000.0;
        v[100] = f64::NAN;
        let p = prepare(&v, 0, 3600, 24).expect("prepared");
        assert!(p.scored[200].is_nan() && p.scored[100].is_nan());
        assert!(p.values.iter().all(|x| x.is_finite()));
        assert!(
            (p.values[200] - 100.0 - 20.0 * (200.0 * std::f64::consts::PI / 12.0).sin()).abs()
                < 5.0
        );
        assert_eq!(p.ctx.daily, Some(24));
        assert_eq!(
            p.ctx.weekly, None,
            "two weeks exactly leaves no room to backtest"
        );
    }
}

//! Rolling-origin backtest: each model is fitted once on the data before the earliest origin,
//! then forecasts the requested horizon from several origins; its errors there give the MASE
//! it is selected by and the residuals its intervals are built from.

use super::intervals::Row;
use super::metrics;
use super::models::{self, Fitted, ModelKind};
use super::prepare::Prepared;

/// Backtest residuals wanted in total (origins x horizon) before origins stop being added.
const WANTED_RESIDUALS: usize = 200;
const MIN_ORIGINS: usize = 4;
const MAX_ORIGINS: usize = 24;
/// Shortest training prefix, whatever the periods.
const MIN_TRAIN: usize = 16;
/// Calibration origins per horizon (their spacing is the horizon over this, or whole days).
const CALIBRATION_PER_HORIZON: usize = 4;
/// Calibration origins at most (the spacing grows beyond).
const MAX_CALIBRATION: usize = 48;

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Forecast origins (history length at each), ascending.
    pub origins: Vec<usize>,
    /// Steps forecast from each origin (the requested horizon, or less when the history is
    /// too short for it).
    pub horizon: usize,
}

/// Origins `horizon` apart ending at the last point; None when not even one fits.
pub fn plan(n: usize, horizon: usize, longest_period: usize) -> Option<Plan> {
    let min_train = (2 * longest_period).max(MIN_TRAIN);
    let room = n.checked_sub(min_train).filter(|&r| r > 0)?;
    let h = horizon.clamp(1, room);
    let wanted = WANTED_RESIDUALS.div_ceil(h).clamp(MIN_ORIGINS, MAX_ORIGINS);
    let fit = 1 + (room - h) / h;
    let k = wanted.min(fit);
    let latest = n - h;
    let origins = (0..k).rev().map(|i| latest - i * h).collect();
    Some(Plan {
        origins,
        horizon: h,
    })
}

/// Origins for calibrating the bands: the plan's, and more between them, from the earliest
/// to the last point, each forecasting the horizon or up to the end of the history. A few per
/// horizon, in whole days when a day is no longer than the spacing (so each lead keeps the
/// time of day it has in the final forecast). The MASE stays on the plan's full-horizon
/// origins alone: shorter leads are easier and would flatter it.
pub fn calibration_origins(plan: &Plan, n: usize, daily: Option<usize>) -> Vec<usize> {
    let Some(&earliest) = plan.origins.first() else {
        return Vec::new();
    };
    let mut stride = (plan.horizon / CALIBRATION_PER_HORIZON).max(1);
    if let Some(d) = daily.filter(|&d| d <= stride) {
        stride = stride / d * d;
    }
    let span = n.saturating_sub(earliest);
    let count = span.div_ceil(stride);
    if count > MAX_CALIBRATION {
        stride *= count.div_ceil(MAX_CALIBRATION);
    }
    let mut origins: Vec<usize> = (earliest..n).step_by(stride).collect();
    origins.extend_from_slice(&plan.origins);
    origins.sort_unstable();
    origins.dedup();
    origins
}

/// Residuals of `forecast(origin, steps)` from each origin, up to `horizon` steps or the end
/// of the history; origins whose forecast fails are left out.
pub fn calibration_rows(
    prep: &Prepared,
    origins: &[usize],
    horizon: usize,
    forecast: impl Fn(usize, usize) -> Option<Vec<f64>>,
) -> Vec<Row> {
    let n = prep.scored.len();
    origins
        .iter()
        .filter_map(|&o| {
            let steps = horizon.min(n.checked_sub(o)?);
            let actual = prep.scored.get(o..o + steps)?;
            let fc = forecast(o, steps).filter(|f| f.len() == steps)?;
            Some(Row {
                origin: o,
                residuals: actual.iter().zip(&fc).map(|(a, f)| a - f).collect(),
            })
        })
        .collect()
}

/// One model's backtest.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRun {
    pub kind: ModelKind,
    /// The model fitted on the data before the earliest origin (None for the ensemble).
    pub fitted: Option<Fitted>,
    /// actual - forecast, per origin and step (NaN where the actual is not scored).
    pub residuals: Vec<Vec<f64>>,
    /// The forecasts, per origin and step.
    pub forecasts: Vec<Vec<f64>>,
    pub mase: Option<f64>,
    pub mae: Option<f64>,
    pub wape: Option<f64>,
    pub mape: Option<f64>,
}

/// Backtests `kind`; None when it does not apply or fails to forecast from an origin.
pub fn run(kind: ModelKind, prep: &Prepared, plan: &Plan, scale: Option<f64>) -> Option<ModelRun> {
    let earliest = *plan.origins.first()?;
    let fitted = models::fit(kind, &prep.values[..earliest], &prep.ctx)?;
    let forecasts = plan
        .origins
        .iter()
        .map(|&o| fitted.forecast_from(&prep.values[..o], &prep.ctx, plan.horizon))
        .collect();
    let mut run = score(kind, prep, plan, forecasts, scale)?;
    run.fitted = Some(fitted);
    Some(run)
}

/// Scores `forecasts[origin][step]` against the actuals; None when one has the wrong length.
pub fn score(
    kind: ModelKind,
    prep: &Prepared,
    plan: &Plan,
    forecasts: Vec<Vec<f64>>,
    scale: Option<f64>,
) -> Option<ModelRun> {
    let mut actual_all = Vec::new();
    let mut forecast_all = Vec::new();
    let mut residuals = Vec::with_capacity(plan.origins.len());
    for (&o, fc) in plan.origins.iter().zip(&forecasts) {
        let actual = prep.scored.get(o..o + plan.horizon)?;
        if fc.len() != actual.len() {
            return None;
        }
        residuals.push(actual.iter().zip(fc).map(|(a, f)| a - f).collect());
        actual_all.extend_from_slice(actual);
        forecast_all.extend_from_slice(fc);
    }
    Some(ModelRun {
        kind,
        fitted: None,
        residuals,
        forecasts,
        mase: scale.and_then(|s| metrics::mase(&actual_all, &forecast_all, s)),
        mae: metrics::mae(&actual_all, &forecast_all),
        wape: metrics::wape(&actual_all, &forecast_all),
        mape: metrics::mape(&actual_all, &forecast_all),
    })
}

/// The run with the lowest MASE (MAE when MASE is undefined, e.g. a constant history);
/// ties go to the earlier, simpler model.
pub fn best(runs: &[ModelRun]) -> Option<&ModelRun> {
    let key = |r: &ModelRun| r.mase.or(r.mae).unwrap_or(f64::INFINITY);
    runs.iter()
        .fold(None, |best: Option<&ModelRun>, r| match best {
            Some(b) if key(b) <= key(r) => Some(b),
            _ => Some(r),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_end_at_the_last_point() {
        let p = plan(1000, 100, 24).expect("fits");
        assert_eq!(p.horizon, 100);
        assert_eq!(p.origins, vec![600, 700, 800, 900]);
        // A short series: the horizon shrinks to what fits after the training prefix.
        let p = plan(60, 200, 24).expect("fits");
        assert_eq!((p.horizon, p.origins.clone()), (12, vec![48]));
        assert!(plan(40, 10, 24).is_none());
        // Short horizons get more origins for their intervals.
        assert_eq!(plan(5000, 1, 24).map(|p| p.origins.len()), Some(24));
    }
}

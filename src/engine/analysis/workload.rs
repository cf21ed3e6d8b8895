//! One (group, metric) series analysed end to end: seasonality, decomposition, anomalies,
//! peaks, variability, predictability and growth, as one plain result struct.

use serde::Serialize;

use super::anomalies::{self, AnomalyOptions, AnomalyWindow};
use super::decompose::{decompose, Decomposition};
use super::growth::{growth_at, Growth, GrowthUncertainty, DEFAULT_HORIZON_DAYS};
use super::peaks::{peaks, PeakWindow};
use super::seasonality::{self, DAY_SECONDS};
use super::stats;

/// Seasonal strength below which a detected period is dropped from the final model.
const MIN_FINAL_STRENGTH: f64 = 0.05;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeasonalityEntry {
    pub period_seconds: i64,
    /// Seasonal strength in the final decomposition, 0..1 (1 - var(R) / var(S + R)).
    pub strength: f64,
    /// "hourly", "daily", "weekly" or e.g. "12h".
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkloadAnalysis {
    /// Unix seconds of the first point, and the grid step.
    pub start: i64,
    pub step_seconds: i64,
    pub points: usize,
    pub missing_points: usize,
    /// Empty means none found (or too little data: see `note`).
    pub seasonality: Vec<SeasonalityEntry>,
    pub baseline: Option<f64>,
    pub peak: Option<f64>,
    pub peak_to_baseline: Option<f64>,
    pub weekend_to_weekday: Option<f64>,
    pub mean: Option<f64>,
    /// Coefficient of variation (std / mean) of the raw series.
    pub cv: Option<f64>,
    /// p99.9 of observed / expected by the model: 1 = never above the pattern, 100 = 100x
    /// bursts. High burstiness says "react fast"; high predictability says "predict".
    pub burstiness: Option<f64>,
    /// Share of the detrended variance the seasonal model explains, 0..1.
    pub predictability: f64,
    pub growth_pct_per_month: Option<f64>,
    /// ~95% band of the growth figure.
    pub growth_band_pct_per_month: Option<[f64; 2]>,
    /// "year_over_year" (52 weeks + 4 of history) or "theil_sen".
    pub growth_method: Option<&'static str>,
    /// Change over 52 weeks, where the history covers it.
    pub growth_yoy_pct: Option<f64>,
    /// Whether the growth figure can be trusted over a month, and why not, with figures.
    pub growth_uncertainty: Option<GrowthUncertainty>,
    pub anomalies: Vec<AnomalyWindow>,
    pub peak_windows: Vec<PeakWindow>,
    /// Mean by UTC hour of day over the baseline.
    pub hour_of_day_to_baseline: Vec<Option<f64>>,
    /// Why some figures are missing (constant series, too few points...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Analyses one regular series (NaN = missing) that starts at `start_unix`.
pub fn analyze_workload(start_unix: i64, step_seconds: i64, values: &[f64]) -> WorkloadAnalysis {
    analyze_workload_full(start_unix, step_seconds, values).0
}

/// As [`analyze_workload`], also returning the decomposition (for charts and forecasting).
pub fn analyze_workload_full(
    start_unix: i64,
    step_seconds: i64,
    values: &[f64],
) -> (WorkloadAnalysis, Decomposition) {
    let step = step_seconds.max(1);
    let finite = stats::finite_count(values);
    let periods = seasonality::detect(values, step);
    let steps: Vec<usize> = periods.iter().map(|p| p.period_steps).collect();
    let mut dec = decompose(values, step, &steps);
    // A period the joint fit leaves (almost) nothing to is not reported; refit without it.
    let kept: Vec<usize> = (0..dec.seasonal.len())
        .filter(|&k| dec.strength(k) >= MIN_FINAL_STRENGTH)
        .map(|k| dec.seasonal[k].period_steps)
        .collect();
    if kept.len() < dec.seasonal.len() {
        dec = decompose(values, step, &kept);
    }
    let options = AnomalyOptions::default();
    // One set of scores for the windows and the mask (what `anomaly_mask` computes).
    let z = anomalies::decomposition_scores(&dec);
    let anomalies = if finite >= 3 {
        anomalies::anomaly_windows_scored(start_unix, step, values, &dec, &z, &options)
    } else {
        Vec::new()
    };
    let despiked: Vec<f64> = values
        .iter()
        .zip(&z)
        .map(|(&v, z)| {
            if z.abs() > options.threshold_sigmas {
                f64::NAN
            } else {
                v
            }
        })
        .collect();
    let seasonality: Vec<SeasonalityEntry> = dec
        .seasonal
        .iter()
        .enumerate()
        .map(|(k, s)| SeasonalityEntry {
            period_seconds: s.period_seconds,
            strength: dec.strength(k),
            label: period_label(s.period_seconds),
        })
        .collect();
    let has_daily = seasonality.iter().any(|s| s.period_seconds == DAY_SECONDS);
    let pk = peaks(start_unix, step, &despiked, has_daily);

    let (mean, var) = stats::mean_var(values).unzip();
    let cv = match (mean, var) {
        (Some(m), Some(v)) if m.abs() > f64::EPSILON * v.sqrt().max(1.0) => {
            Some(v.sqrt() / m.abs())
        }
        _ => None,
    };
    let burst_ratios: Vec<f64> = values
        .iter()
        .enumerate()
        .filter_map(|(i, &v)| {
            let e = dec.expected(i);
            (v.is_finite() && e > 0.0).then(|| v / e)
        })
        .collect();
    let burstiness = stats::quantile(&burst_ratios, 0.999);
    let predictability = if dec.seasonal.is_empty() {
        0.0
    } else {
        dec.seasonal_share()
    };
    let level: Vec<f64> = (0..values.len())
        .map(|i| despiked[i] - dec.seasonal_sum(i))
        .collect();
    let g: Option<Growth> = growth_at(start_unix, step, &level, values, DEFAULT_HORIZON_DAYS);

    let note = if values.is_empty() {
        Some("no data".to_string())
    } else if finite == 0 {
        Some("all values are missing".to_string())
    } else if finite < 24 {
        Some(format!(
            "only {finite} points: too few for seasonality or anomalies"
        ))
    } else if var.is_some_and(|v| v == 0.0) {
        Some("constant series: no pattern, no anomalies".to_string())
    } else {
        None
    };
    let analysis = WorkloadAnalysis {
        start: start_unix,
        step_seconds: step,
        points: values.len(),
        missing_points: values.len() - finite,
        seasonality,
        baseline: pk.baseline,
        peak: pk.peak,
        peak_to_baseline: pk.peak_to_baseline,
        weekend_to_weekday: pk.weekend_to_weekday,
        mean,
        cv,
        burstiness,
        predictability,
        growth_pct_per_month: g.as_ref().map(|g| g.pct_per_month),
        growth_band_pct_per_month: g
            .as_ref()
            .map(|g| [g.lower_pct_per_month, g.upper_pct_per_month]),
        growth_method: g.as_ref().map(|g| g.method),
        growth_yoy_pct: g.as_ref().and_then(|g| g.yoy_pct),
        growth_uncertainty: g.map(|g| g.uncertainty),
        anomalies,
        peak_windows: pk.peak_windows,
        hour_of_day_to_baseline: pk.hour_of_day_to_baseline,
        note,
    };
    (analysis, dec)
}

pub fn period_label(period_seconds: i64) -> String {
    match period_seconds {
        3600 => "hourly".into(),
        86_400 => "daily".into(),
        604_800 => "weekly".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

//! Growth in % per month. With 52 weeks + 4 of history it is year-over-year: the last four
//! weeks of the level against the same four weeks a year (364 days, same weekdays) earlier,
//! which cancels yearly seasonality. Otherwise a Theil–Sen line through daily (or, for short
//! series, hourly) means of the de-seasonalized, de-spiked series, with Sen's ~95% band.
//! Robust to an event day or an incident; honest (None) when the span is too short or the level
//! is not positive; and it says when the figure is not to be trusted (history short against the
//! horizon, residuals that swamp the trend, a level shift), with the figures.

use serde::Serialize;

use super::stats;

const DAY_SECONDS: i64 = 86_400;
const DAYS_PER_MONTH: f64 = 30.4375;
/// Fewer blocks than this: no growth figure.
const MIN_BLOCKS: usize = 5;
/// Year-over-year: compare this many days, 364 days apart (52 weeks: same weekdays).
const YOY_WINDOW_DAYS: i64 = 28;
const YOY_LAG_DAYS: i64 = 364;
/// The horizon a growth figure is read over when the caller does not say: one month, the
/// unit it is given in.
pub const DEFAULT_HORIZON_DAYS: f64 = DAYS_PER_MONTH;
/// Residual spread (robust sigma of the block means about the line) above this share of the
/// level swamps any monthly trend.
const MAX_RESIDUAL_SPREAD: f64 = 0.10;
/// A ~95% band wider than this (percentage points per month) says little.
const MAX_BAND_WIDTH_PCT: f64 = 4.0;
/// A level shift: medians either side of a break differ by this share of the level and by
/// this many robust sigmas of the block-to-block noise.
const SHIFT_MIN_SHARE: f64 = 0.05;
const SHIFT_MIN_SIGMAS: f64 = 4.0;
/// Blocks needed either side of a break, and compared either side of it (a week of days).
const SHIFT_MIN_SIDE: usize = 3;
const SHIFT_WINDOW: usize = 7;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Growth {
    pub pct_per_month: f64,
    pub lower_pct_per_month: f64,
    pub upper_pct_per_month: f64,
    /// "year_over_year" or "theil_sen".
    pub method: &'static str,
    /// Change over 52 weeks, where the history covers 52 weeks + 4.
    pub yoy_pct: Option<f64>,
    pub uncertainty: GrowthUncertainty,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GrowthUncertainty {
    /// False when any reason below applies.
    pub trustworthy: bool,
    /// Each reason with its figures; empty when the figure can be trusted.
    pub reasons: Vec<String>,
    pub history_days: f64,
    pub horizon_days: f64,
    /// Robust spread of the block means about the trend line, % of the level.
    pub residual_spread_pct: f64,
    /// Largest step in the level (% of the level) and when (Unix seconds), if one was found.
    pub level_shift_pct: Option<f64>,
    pub level_shift_at: Option<i64>,
}

/// `level_series`: the series with seasonal components removed and anomalies set to NaN.
/// Start at 0 and the default one-month horizon; see [`growth_at`].
pub fn growth(step_seconds: i64, level_series: &[f64]) -> Option<Growth> {
    growth_at(
        0,
        step_seconds,
        level_series,
        level_series,
        DEFAULT_HORIZON_DAYS,
    )
}

/// Growth of a level series starting at `start_unix`, judged for a forecast `horizon_days`
/// ahead. `observed` (the series as measured) is what year-over-year compares: four whole weeks
/// hold whole daily and weekly cycles, and a multiplicative season cancels in the ratio where
/// an additive decomposition would not remove it cleanly.
pub fn growth_at(
    start_unix: i64,
    step_seconds: i64,
    level_series: &[f64],
    observed: &[f64],
    horizon_days: f64,
) -> Option<Growth> {
    let step = step_seconds.max(1);
    let span = level_series.len() as i64 * step;
    let block_seconds = if span >= 7 * DAY_SECONDS {
        DAY_SECONDS
    } else {
        3600
    };
    let per_block = (block_seconds / step).max(1) as usize;
    let means = stats::block_means(level_series, per_block);
    let days_per_block = (per_block as i64 * step) as f64 / DAY_SECONDS as f64;
    // Blocks with under half their points are left out.
    let pts: Vec<(f64, f64)> = level_series
        .chunks(per_block)
        .zip(&means)
        .enumerate()
        .filter(|(_, (c, m))| m.is_finite() && 2 * stats::finite_count(c) >= c.len())
        .map(|(i, (_, &m))| (i as f64 * days_per_block, m))
        .collect();
    if pts.len() < MIN_BLOCKS {
        return None;
    }
    let (slope, lo, hi, icpt) = stats::theil_sen(&pts)?;
    let mid_x = (pts[0].0 + pts[pts.len() - 1].0) / 2.0;
    let level = icpt + slope * mid_x;
    if level <= 0.0 || !level.is_finite() {
        return None;
    }
    let pct = |s: f64| s * DAYS_PER_MONTH / level * 100.0;
    let yoy = year_over_year(step, observed);

    let residuals: Vec<f64> = pts.iter().map(|(x, y)| y - (icpt + slope * x)).collect();
    let spread = stats::median_and_mad_sigma(&residuals).map_or(0.0, |(_, s)| s) / level;
    let daily_blocks = per_block as i64 * step >= DAY_SECONDS;
    let shift = significant(level_shift(&residuals), level)
        .filter(|&(k, d)| {
            !daily_blocks || observed_steps(observed, per_block, days_per_block, &pts, k, d)
        })
        .map(|(k, d)| {
            let at = start_unix + (pts[k].0 * DAY_SECONDS as f64).round() as i64;
            (d / level, at)
        });
    let (pct_month, lower, upper, method) = match &yoy {
        Some(y) => (
            y.monthly,
            y.lower_monthly,
            y.upper_monthly,
            "year_over_year",
        ),
        None => (pct(slope), pct(lo), pct(hi), "theil_sen"),
    };
    let history_days = span as f64 / DAY_SECONDS as f64;
    let mut reasons = Vec::new();
    if history_days < horizon_days {
        reasons.push(format!(
            "history {history_days:.1} d is shorter than the {horizon_days:.0}-day horizon"
        ));
    }
    // Year over year, the line is not the model (yearly seasonality scatters about it); the
    // band of week-by-week ratios carries the uncertainty instead.
    if yoy.is_none() && spread > MAX_RESIDUAL_SPREAD {
        reasons.push(format!(
            "{}-level means scatter {:.0}% about the trend (over {:.0}%)",
            if per_block as i64 * step >= DAY_SECONDS {
                "daily"
            } else {
                "hourly"
            },
            spread * 100.0,
            MAX_RESIDUAL_SPREAD * 100.0
        ));
    }
    if upper - lower > MAX_BAND_WIDTH_PCT {
        reasons.push(format!(
            "the ~95% band {lower:+.1}..{upper:+.1} %/month is {:.1} points wide",
            upper - lower
        ));
    }
    if let Some((share, at)) = shift {
        let when = chrono::DateTime::from_timestamp(at, 0)
            .map_or(at.to_string(), |t| t.format("%Y-%m-%d").to_string());
        reasons.push(format!(
            "the level shifts {:+.0}% around {when}: a step, not a trend",
            share * 100.0
        ));
    }
    Some(Growth {
        pct_per_month: pct_month,
        lower_pct_per_month: lower,
        upper_pct_per_month: upper,
        method,
        yoy_pct: yoy.map(|y| y.yoy_pct),
        uncertainty: GrowthUncertainty {
            trustworthy: reasons.is_empty(),
            reasons,
            history_days,
            horizon_days,
            residual_spread_pct: spread * 100.0,
            level_shift_pct: shift.map(|s| s.0 * 100.0),
            level_shift_at: shift.map(|s| s.1),
        },
    })
}

struct YearOverYear {
    yoy_pct: f64,
    monthly: f64,
    lower_monthly: f64,
    upper_monthly: f64,
}

/// The last [`YOY_WINDOW_DAYS`] against the same days 364 earlier, as the ratio of the medians
/// of their daily means (an event day or two, or masking that takes more from one window than
/// the other, do not move a median); the band is the range of the four week-by-week ratios.
fn year_over_year(step: i64, series: &[f64]) -> Option<YearOverYear> {
    let per_day = (DAY_SECONDS / step).max(1) as usize;
    let window = YOY_WINDOW_DAYS as usize * per_day;
    let lag = YOY_LAG_DAYS as usize * per_day;
    let n = series.len();
    if n < lag + window {
        return None;
    }
    let daily = |c: &[f64]| -> Vec<f64> {
        c.chunks(per_day)
            .map(|d| {
                if 2 * stats::finite_count(d) >= d.len() {
                    stats::mean(d).unwrap_or(f64::NAN)
                } else {
                    f64::NAN
                }
            })
            .collect()
    };
    let now = daily(&series[n - window..]);
    let then = daily(&series[n - window - lag..n - lag]);
    let ratio = |a: &[f64], b: &[f64]| {
        let (x, y) = (stats::median(a)?, stats::median(b)?);
        (y > 0.0 && x.is_finite()).then_some(x / y)
    };
    let r = ratio(&now, &then)?;
    let weekly: Vec<f64> = now
        .chunks(7)
        .zip(then.chunks(7))
        .filter_map(|(a, b)| ratio(a, b))
        .collect();
    let monthly = |r: f64| (r.powf(1.0 / 12.0) - 1.0) * 100.0;
    let lo = weekly.iter().copied().fold(r, f64::min);
    let hi = weekly.iter().copied().fold(r, f64::max);
    Some(YearOverYear {
        yoy_pct: (r - 1.0) * 100.0,
        monthly: monthly(r),
        lower_monthly: monthly(lo),
        upper_monthly: monthly(hi),
    })
}

/// The break (index of the first block after it) with the largest difference between the
/// medians of the [`SHIFT_WINDOW`] blocks either side, when it stands out from the
/// block-to-block noise: (index, shift). Local windows keep a slow curve (yearly seasonality,
/// a bend in the trend) from reading as a step.
fn level_shift(residuals: &[f64]) -> Option<(usize, f64)> {
    let n = residuals.len();
    if n < 2 * SHIFT_MIN_SIDE {
        return None;
    }
    let w = SHIFT_WINDOW.min(n / 2);
    // Noise from first differences: a single step barely moves their MAD.
    let diffs: Vec<f64> = residuals.windows(2).map(|w| w[1] - w[0]).collect();
    let sigma = stats::median_and_mad_sigma(&diffs)?.1 / std::f64::consts::SQRT_2;
    let (k, d) = (SHIFT_MIN_SIDE..=n - SHIFT_MIN_SIDE)
        .filter_map(|k| {
            let before = &residuals[k.saturating_sub(w)..k];
            let after = &residuals[k..(k + w).min(n)];
            Some((k, stats::median(after)? - stats::median(before)?))
        })
        .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()))?;
    (d.abs() > SHIFT_MIN_SIGMAS * sigma).then_some((k, d))
}

/// Whether the series as measured steps the same way at break `k` of `pts` (block starts in
/// days), by at least half of `d`. The level series has anomalies masked: when the mask takes
/// the peak hours of some days and not of others (an under-fitted season), its daily means
/// step although the measured ones do not. A real step shows in both.
fn observed_steps(
    observed: &[f64],
    per_block: usize,
    days_per_block: f64,
    pts: &[(f64, f64)],
    k: usize,
    d: f64,
) -> bool {
    let means = stats::block_means(observed, per_block);
    let at = |j: usize| -> f64 {
        let block = (pts[j].0 / days_per_block).round() as usize;
        means.get(block).copied().unwrap_or(f64::NAN)
    };
    let w = SHIFT_WINDOW.min(pts.len() / 2);
    let before: Vec<f64> = (k.saturating_sub(w)..k).map(at).collect();
    let after: Vec<f64> = (k..(k + w).min(pts.len())).map(at).collect();
    match (stats::median(&before), stats::median(&after)) {
        (Some(b), Some(a)) => (a - b) * d.signum() >= 0.5 * d.abs(),
        _ => false,
    }
}

/// Applies the minimum share of the level to a shift found by [`level_shift`].
fn significant(shift: Option<(usize, f64)>, level: f64) -> Option<(usize, f64)> {
    shift.filter(|(_, d)| d.abs() >= SHIFT_MIN_SHARE * level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_percent_a_month() {
        // Hourly, 60 days, +10%/month linear around level 100 at the middle, one event day.
        let n = 24 * 60;
        let mut x: Vec<f64> = (0..n)
            .map(|i| {
                let day = i as f64 / 24.0;
                100.0 * (1.0 + 0.1 * (day - 29.5) / DAYS_PER_MONTH)
            })
            .collect();
        for v in x.iter_mut().skip(24 * 40).take(24) {
            *v *= 5.0;
        }
        let g = growth(3600, &x).unwrap();
        assert!((g.pct_per_month - 10.0).abs() < 0.5, "{g:?}");
        assert!(
            g.lower_pct_per_month <= g.pct_per_month && g.pct_per_month <= g.upper_pct_per_month
        );
        assert_eq!(g.method, "theil_sen");
        assert!(g.uncertainty.trustworthy, "{:?}", g.uncertainty);
        assert!(
            growth(3600, &x[..48]).is_some(),
            "hourly blocks for short spans"
        );
        assert!(growth(3600, &x[..3]).is_none());
        assert!(
            growth(3600, &vec![0.0; 500]).is_none(),
            "level 0: no percentage"
        );
    }

    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed | 1;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s % 10_000) as f64 / 10_000.0 - 0.5
            })
            .collect()
    }

    #[test]
    fn short_history_is_flagged_with_its_figures() {
        // 10 days of a clean +5%/month trend, read for a 30-day horizon.
        let x: Vec<f64> = (0..240)
            .map(|i| 100.0 * (1.0 + 0.05 * (i as f64 / 24.0) / DAYS_PER_MONTH))
            .collect();
        let g = growth_at(0, 3600, &x, &x, 30.0).unwrap();
        assert!(!g.uncertainty.trustworthy);
        assert!(
            g.uncertainty.reasons[0].contains("history 10.0 d")
                && g.uncertainty.reasons[0].contains("30-day"),
            "{:?}",
            g.uncertainty.reasons
        );
        assert!(
            growth_at(0, 3600, &x, &x, 7.0)
                .unwrap()
                .uncertainty
                .trustworthy
        );
    }

    #[test]
    fn noisy_level_is_flagged() {
        // 60 daily blocks whose means scatter ±30% around a flat level.
        let nz = noise(60, 3);
        let x: Vec<f64> = (0..60 * 24)
            .map(|i| 100.0 * (1.0 + 0.6 * nz[i / 24]))
            .collect();
        let g = growth(3600, &x).unwrap();
        assert!(!g.uncertainty.trustworthy);
        assert!(g.uncertainty.residual_spread_pct > 10.0, "{g:?}");
        assert!(
            g.uncertainty
                .reasons
                .iter()
                .any(|r| r.contains("scatter") || r.contains("band")),
            "{:?}",
            g.uncertainty.reasons
        );
    }

    #[test]
    fn level_shift_is_a_step_not_a_trend() {
        // Flat at 100 for 30 days, then 130 for 30 days (a migration), 1% noise.
        let nz = noise(60 * 24, 9);
        let x: Vec<f64> = (0..60 * 24)
            .map(|i| if i < 30 * 24 { 100.0 } else { 130.0 } * (1.0 + 0.02 * nz[i]))
            .collect();
        let start = 1_700_000_000 - 1_700_000_000 % DAY_SECONDS;
        let g = growth_at(start, 3600, &x, &x, 30.0).unwrap();
        assert!(!g.uncertainty.trustworthy);
        let shift = g.uncertainty.level_shift_pct.unwrap();
        assert!(shift > 15.0, "{g:?}");
        let at = g.uncertainty.level_shift_at.unwrap();
        assert!(
            (at - (start + 30 * DAY_SECONDS)).abs() <= DAY_SECONDS,
            "{at}"
        );
        // A smooth trend of the same total change has no shift.
        let y: Vec<f64> = (0..60 * 24)
            .map(|i| 100.0 * (1.0 + 0.3 * i as f64 / (60.0 * 24.0)) * (1.0 + 0.02 * nz[i]))
            .collect();
        let g = growth_at(start, 3600, &y, &y, 30.0).unwrap();
        assert!(g.uncertainty.level_shift_pct.is_none(), "{g:?}");
        assert!(g.uncertainty.trustworthy, "{:?}", g.uncertainty.reasons);
    }

    #[test]
    fn masked_peak_hours_are_not_a_level_shift() {
        // 60 days hourly, a daily cycle, flat level. From day 30 the anomaly mask takes the six
        // peak hours of each day (an under-fitted season): the level's daily means drop ~15%,
        // the measured series does not step at all.
        let nz = noise(60 * 24, 4);
        let observed: Vec<f64> = (0..60 * 24)
            .map(|i| {
                let h = (i % 24) as f64;
                100.0 * (1.0 + 0.5 * (std::f64::consts::TAU * (h - 12.0) / 24.0).cos()) + nz[i]
            })
            .collect();
        let level: Vec<f64> = observed
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let peak = (9..15).contains(&(i % 24));
                if i >= 30 * 24 && peak {
                    f64::NAN
                } else {
                    v
                }
            })
            .collect();
        let g = growth_at(0, 3600, &level, &observed, 30.0).unwrap();
        assert!(
            g.uncertainty.level_shift_pct.is_none(),
            "{:?}",
            g.uncertainty
        );
        // The same drop in the measured series is a step.
        let g = growth_at(0, 3600, &level, &level, 30.0).unwrap();
        assert!(
            g.uncertainty.level_shift_pct.is_some_and(|s| s < -10.0),
            "{:?}",
            g.uncertainty
        );
    }

    #[test]
    fn year_over_year_cancels_yearly_seasonality() {
        // 400 days hourly: +20% a year compounded, a ±10% yearly cycle that would tilt a line.
        let x: Vec<f64> = (0..400 * 24)
            .map(|i| {
                let d = i as f64 / 24.0;
                100.0
                    * 1.2f64.powf(d / 365.25)
                    * (1.0 + 0.1 * (std::f64::consts::TAU * (d - 40.0) / 365.25).cos())
            })
            .collect();
        let g = growth(3600, &x).unwrap();
        assert_eq!(g.method, "year_over_year");
        let yoy = g.yoy_pct.unwrap();
        // 364 days of +20%/365.25 d, and the cycle's tiny 1.25-day phase offset.
        assert!((yoy - 20.0).abs() < 1.0, "{g:?}");
        let monthly = (1.2f64.powf(1.0 / 12.0) - 1.0) * 100.0;
        assert!((g.pct_per_month - monthly).abs() < 0.1, "{g:?}");
    }
}

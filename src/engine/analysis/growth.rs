//! Growth in % per month: a Theil–Sen line through daily (or, for short series, hourly) means
//! of the de-seasonalized, de-spiked series, with Sen's ~95% band. Robust to an event day or
//! an incident; honest (None) when the span is too short or the level is not positive.

use serde::Serialize;

use super::stats;

const DAY_SECONDS: i64 = 86_400;
const DAYS_PER_MONTH: f64 = 30.4375;
/// Fewer blocks than this: no growth figure.
const MIN_BLOCKS: usize = 5;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Growth {
    pub pct_per_month: f64,
    pub lower_pct_per_month: f64,
    pub upper_pct_per_month: f64,
}

/// `level_series`: the series with seasonal components removed and anomalies set to NaN.
pub fn growth(step_seconds: i64, level_series: &[f64]) -> Option<Growth> {
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
    Some(Growth {
        pct_per_month: pct(slope),
        lower_pct_per_month: pct(lo),
        upper_pct_per_month: pct(hi),
    })
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
}

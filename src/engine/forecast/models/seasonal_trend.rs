//! Seasonal profile on a straight trend line: the growth model. Demand that grows a little
//! every week is invisible to a two-day backtest but decides a 90-day capacity plan; the other
//! models either copy the last season forward (naive, seasonal mean) or damp their trend away
//! within days (Holt-Winters, MSTL + ETS), so without this one a growing series is forecast
//! flat. It competes in the same backtest, so it is chosen only where growth shows there.
//!
//! The trend is a robust line through the series' moving average over one season (which cancels
//! the season itself): Theil-Sen, the median of pairwise slopes, so one anomalous week or an
//! event left in the data tilts it little. The season is the mean ratio (or difference, for a
//! series that is not all positive) of the last few seasons to that line, so its amplitude grows
//! with the level as demand's does.

/// Seasons averaged into the profile at most (as the seasonal mean model).
const PROFILE_SEASONS: usize = 4;
/// Trend points the Theil-Sen slope is taken over at most (pairs grow with the square).
const MAX_TREND_POINTS: usize = 160;

/// The next `horizon` values of `history` (no missing values) with a season of `period`
/// steps (1 = no season: a robust straight line). The season's swing grows with the level as
/// far as the history shows it does (see [`level_elasticity`]); `positive` says a
/// multiplicative season is possible at all. Empty when the history holds fewer than two
/// seasons (no trend can be told from the season).
pub fn forecast(history: &[f64], period: usize, positive: bool, horizon: usize) -> Vec<f64> {
    let p = period.max(1);
    let n = history.len();
    if n < 2 * p || n < 3 {
        return Vec::new();
    }
    let Some((a, b)) = trend_line(history, p) else {
        return Vec::new();
    };
    let line = |t: f64| a + b * t;
    let scales = positive && (0..n).all(|i| line(i as f64) > 0.0);
    let e = if scales {
        level_elasticity(history, p, &line).unwrap_or(1.0)
    } else {
        0.0
    };
    // Deviations from the line in units of line^e: e = 1 is a multiplicative season, 0 additive.
    // A declining line that reaches zero ahead takes the season with it (a negative level has
    // no fractional power: NaN would discard the whole forecast).
    let unit = |t: f64| {
        if e > 0.0 {
            line(t).max(0.0).powf(e)
        } else {
            1.0
        }
    };
    let k = (n / p).min(PROFILE_SEASONS);
    let profile: Vec<f64> = (0..p)
        .map(|ph| {
            let j = n - p + ph;
            let sum: f64 = (0..k)
                .map(|c| {
                    let t = (j - c * p) as f64;
                    (history[j - c * p] - line(t)) / unit(t)
                })
                .sum();
            sum / k as f64
        })
        .collect();
    (0..horizon)
        .map(|h| {
            let t = (n + h) as f64;
            line(t) + profile[h % p] * unit(t)
        })
        .collect()
}

/// How the season's swing scales with the level: the slope of log swing on log level over
/// the whole seasons of the history (swing = mean absolute deviation from the trend line),
/// clamped to 0 (additive) ..= 1 (multiplicative). None when the level moved too little to
/// tell (then demand's usual multiplicative shape is assumed) or there is no swing.
fn level_elasticity(y: &[f64], p: usize, line: &impl Fn(f64) -> f64) -> Option<f64> {
    if p < 2 {
        return None;
    }
    let n = y.len();
    let start = n % p;
    let seasons: Vec<(f64, f64)> = (start..n)
        .step_by(p)
        .filter_map(|s| {
            let level = (s..s + p).map(|i| line(i as f64)).sum::<f64>() / p as f64;
            let swing = (s..s + p)
                .map(|i| (y[i] - line(i as f64)).abs())
                .sum::<f64>()
                / p as f64;
            (level > 0.0 && swing > 0.0).then(|| (level.ln(), swing.ln()))
        })
        .collect();
    let m = seasons.len() as f64;
    if m < 2.0 {
        return None;
    }
    let (mx, my) = seasons
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x / m, b + y / m));
    let sxx: f64 = seasons.iter().map(|(x, _)| (x - mx).powi(2)).sum();
    let sxy: f64 = seasons.iter().map(|(x, y)| (x - mx) * (y - my)).sum();
    let spread = seasons
        .iter()
        .map(|s| s.0)
        .fold(f64::NEG_INFINITY, f64::max)
        - seasons.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    // Under 10% of level change, noise in the swings decides the slope.
    if spread < 0.1 || sxx <= 0.0 {
        return None;
    }
    Some((sxy / sxx).clamp(0.0, 1.0))
}

/// Intercept and slope (per step) of the Theil-Sen line through the season-long moving
/// average, each average placed at the centre of its window.
fn trend_line(y: &[f64], p: usize) -> Option<(f64, f64)> {
    let n = y.len();
    let mut points: Vec<(f64, f64)> = Vec::with_capacity(n + 1 - p);
    let mut sum: f64 = y[..p].iter().sum();
    let centre = (p as f64 - 1.0) / 2.0;
    points.push((centre, sum / p as f64));
    for i in p..n {
        sum += y[i] - y[i - p];
        points.push(((i + 1 - p) as f64 + centre, sum / p as f64));
    }
    // Evenly thinned: the moving average is smooth, so neighbours add pairs, not information.
    let stride = points.len().div_ceil(MAX_TREND_POINTS).max(1);
    let pts: Vec<(f64, f64)> = points.into_iter().step_by(stride).collect();
    let mut slopes = Vec::with_capacity(pts.len() * pts.len() / 2);
    for (i, &(ti, yi)) in pts.iter().enumerate() {
        for &(tj, yj) in &pts[i + 1..] {
            slopes.push((yj - yi) / (tj - ti));
        }
    }
    let slope = if slopes.is_empty() {
        0.0
    } else {
        median(&mut slopes)?
    };
    let mut intercepts: Vec<f64> = pts.iter().map(|&(t, v)| v - slope * t).collect();
    let intercept = median(&mut intercepts)?;
    (intercept.is_finite() && slope.is_finite()).then_some((intercept, slope))
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() || v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let mid = v.len() / 2;
    let (_, m, _) = v.select_nth_unstable_by(mid, f64::total_cmp);
    let m = *m;
    if v.len() % 2 == 1 {
        Some(m)
    } else {
        let below = v[..mid].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some((m + below) / 2.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_straight_line_is_extended() {
        // 2, 5, 8, ... with no season: the line continues exactly.
        let y: Vec<f64> = (0..10).map(|i| 2.0 + 3.0 * i as f64).collect();
        let fc = forecast(&y, 1, false, 3);
        assert_eq!(fc.len(), 3);
        for (h, v) in fc.iter().enumerate() {
            assert!((v - (2.0 + 3.0 * (10 + h) as f64)).abs() < 1e-9, "{fc:?}");
        }
    }

    #[test]
    fn a_season_rides_on_the_growing_level() {
        // Level 100 + 1 per step, season x (1.2, 0.8) of period 2: the season's amplitude
        // grows with the level, and the forecast keeps both.
        let truth = |i: usize| (100.0 + i as f64) * if i % 2 == 0 { 1.2 } else { 0.8 };
        let y: Vec<f64> = (0..40).map(truth).collect();
        let fc = forecast(&y, 2, true, 6);
        for (h, v) in fc.iter().enumerate() {
            let want = truth(40 + h);
            assert!((v - want).abs() / want < 0.01, "lead {h}: {v} vs {want}");
        }
    }

    #[test]
    fn a_season_of_fixed_size_stays_fixed_as_the_level_grows() {
        // Level 100 + 1 per step, season +-20 whatever the level: the forecast keeps +-20.
        let truth = |i: usize| 100.0 + i as f64 + if i % 2 == 0 { 20.0 } else { -20.0 };
        let y: Vec<f64> = (0..40).map(truth).collect();
        let fc = forecast(&y, 2, true, 6);
        for (h, v) in fc.iter().enumerate() {
            assert!((v - truth(40 + h)).abs() < 0.5, "lead {h}: {v}");
        }
    }

    #[test]
    fn one_outlier_season_barely_tilts_the_line() {
        // Flat at 50 with a season of 4, one season spiked x 10: the slope stays ~0.
        let mut y: Vec<f64> = (0..48)
            .map(|i| 50.0 + [5.0, -5.0, 3.0, -3.0][i % 4])
            .collect();
        for v in &mut y[20..24] {
            *v *= 10.0;
        }
        let (_, slope) = trend_line(&y, 4).expect("line");
        assert!(slope.abs() < 0.5, "slope {slope}");
    }

    #[test]
    fn a_decline_through_zero_stays_a_number() {
        // Level 400 falling 10 per step, a season of period 2 whose swing grows with the square
        // root of the level (elasticity 0.5): 60 steps ahead the line is below zero, where a
        // fractional power has no value; the forecast stays finite (the caller floors at 0).
        let y: Vec<f64> = (0..16)
            .map(|i| {
                let level = 400.0 - 10.0 * i as f64;
                level + if i % 2 == 0 { 2.0 } else { -2.0 } * level.sqrt()
            })
            .collect();
        let fc = forecast(&y, 2, true, 60);
        assert_eq!(fc.len(), 60);
        assert!(fc.iter().all(|v| v.is_finite()), "{fc:?}");
        // Ahead, while the line is still positive, the forecast follows the truth.
        let want = 400.0 - 10.0 * 16.0 + 2.0 * (240.0f64).sqrt();
        assert!((fc[0] - want).abs() < 1.0, "{} vs {want}", fc[0]);
    }

    #[test]
    fn too_short_for_two_seasons_gives_nothing() {
        assert!(forecast(&[1.0, 2.0, 3.0], 2, false, 2).is_empty());
        assert!(forecast(&[1.0, 2.0], 1, false, 2).is_empty());
    }
}

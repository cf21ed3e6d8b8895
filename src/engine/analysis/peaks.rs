//! Baseline, typical peak and the recurring peak windows ("weekdays 18:00–21:00 UTC, 3.9x
//! baseline"). Works on the de-spiked series (anomalies masked) so one incident does not set
//! the peak. Times are UTC: the input's timestamps carry no zone.

use serde::Serialize;

use super::stats;

const DAY_SECONDS: i64 = 86_400;
/// Baseline: this low percentile of the de-spiked series.
const BASELINE_QUANTILE: f64 = 0.1;
/// Hours whose mean is in the top 30% of the profile's range form a peak window.
const PEAK_WINDOW_LEVEL: f64 = 0.7;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeakWindow {
    /// "daily", "weekdays" or "weekends".
    pub days: &'static str,
    /// UTC hours, [start, end), end may wrap past midnight (e.g. 22 -> 2).
    pub start_hour: u32,
    pub end_hour: u32,
    /// Mean level in the window over the baseline.
    pub peak_to_baseline: Option<f64>,
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Peaks {
    pub baseline: Option<f64>,
    /// Median of the daily maxima (p95 when the series is shorter than a day).
    pub peak: Option<f64>,
    pub peak_to_baseline: Option<f64>,
    /// Mean weekend level over mean weekday level (None without both).
    pub weekend_to_weekday: Option<f64>,
    /// Mean by UTC hour of day over the baseline, 24 entries (None for hours without data).
    pub hour_of_day_to_baseline: Vec<Option<f64>>,
    pub peak_windows: Vec<PeakWindow>,
}

/// `despiked`: the series with anomalies set to NaN. `has_daily_cycle`: whether seasonality
/// found a daily period (peak windows are only reported then).
pub fn peaks(start_unix: i64, step_seconds: i64, despiked: &[f64], has_daily_cycle: bool) -> Peaks {
    let step = step_seconds.max(1);
    // Order statistics by selection (O(n)); the same figures a full sort would give.
    let baseline = stats::quantile(despiked, BASELINE_QUANTILE);
    let p95 = || stats::quantile(despiked, 0.95);
    let span = despiked.len() as i64 * step;
    let peak = if span >= DAY_SECONDS {
        let per_day = (DAY_SECONDS / step).max(1) as usize;
        let offset = (DAY_SECONDS - start_unix.rem_euclid(DAY_SECONDS)) / step;
        let offset = (offset as usize) % per_day;
        // Whole UTC days with at least half their points.
        let maxima: Vec<f64> = despiked[offset.min(despiked.len())..]
            .chunks(per_day)
            .filter(|c| 2 * stats::finite_count(c) >= per_day)
            .filter_map(|c| stats::quantile(c, 1.0))
            .collect();
        stats::median(&maxima).or_else(p95)
    } else {
        p95()
    };
    let ratio = |x: f64| baseline.filter(|b| *b > 0.0).map(|b| x / b);

    let mut hour = [[(0.0f64, 0u32); 24]; 2]; // [weekday, weekend][hour] = (sum, count)
    for (i, &v) in despiked.iter().enumerate() {
        if !v.is_finite() {
            continue;
        }
        let (weekend, h) = weekend_and_hour(start_unix + i as i64 * step);
        let slot = &mut hour[weekend][h];
        slot.0 += v;
        slot.1 += 1;
    }
    let mean_of = |slots: &[(f64, u32)]| -> Option<f64> {
        let (s, c) = slots
            .iter()
            .fold((0.0, 0u32), |acc, x| (acc.0 + x.0, acc.1 + x.1));
        (c > 0).then(|| s / f64::from(c))
    };
    let weekend_to_weekday = match (mean_of(&hour[0]), mean_of(&hour[1])) {
        (Some(wd), Some(we)) if wd > 0.0 => Some(we / wd),
        _ => None,
    };
    let profile = |k: Option<usize>| -> Vec<Option<f64>> {
        (0..24)
            .map(|h| {
                let (s, c) = match k {
                    Some(k) => hour[k][h],
                    None => (hour[0][h].0 + hour[1][h].0, hour[0][h].1 + hour[1][h].1),
                };
                (c > 0).then(|| s / f64::from(c))
            })
            .collect()
    };
    let all = profile(None);
    let hour_of_day_to_baseline = all.iter().map(|m| m.and_then(ratio)).collect();

    let mut peak_windows = Vec::new();
    if has_daily_cycle {
        let weekday = windows_of(&profile(Some(0)));
        let weekend_profile = profile(Some(1));
        let weekend_seen = weekend_profile.iter().flatten().count() >= 12;
        let weekend = windows_of(&weekend_profile);
        let same = !weekday.is_empty()
            && weekday.len() == weekend.len()
            && weekday
                .iter()
                .zip(&weekend)
                .all(|(a, b)| hour_distance(a.0, b.0) <= 1 && hour_distance(a.1, b.1) <= 1);
        let sets: Vec<(&'static str, Vec<HourWindow>)> = if same || !weekend_seen {
            vec![("daily", windows_of(&all))]
        } else if weekend.is_empty() {
            vec![("weekdays", weekday)]
        } else if weekday.is_empty() {
            vec![("weekends", weekend)]
        } else {
            vec![("weekdays", weekday), ("weekends", weekend)]
        };
        for (days, ws) in sets {
            for (start_hour, end_hour, level) in ws {
                let r = ratio(level);
                let label = format!(
                    "{days} {start_hour:02}:00–{end_hour:02}:00 UTC{}",
                    r.map(|r| format!(", {r:.1}x baseline")).unwrap_or_default()
                );
                peak_windows.push(PeakWindow {
                    days,
                    start_hour,
                    end_hour,
                    peak_to_baseline: r,
                    label,
                });
            }
        }
    }
    Peaks {
        baseline,
        peak,
        peak_to_baseline: peak.and_then(ratio),
        weekend_to_weekday,
        hour_of_day_to_baseline,
        peak_windows,
    }
}

/// (1 on Saturday and Sunday else 0, UTC hour) of Unix seconds `t`, by arithmetic: chrono's
/// calendar conversion per point was a measurable share of the analysis.
fn weekend_and_hour(t: i64) -> (usize, usize) {
    let day = t.div_euclid(DAY_SECONDS);
    // 1970-01-01 was a Thursday: weekday 0 = Monday.
    let weekday = (day + 3).rem_euclid(7);
    let hour = t.rem_euclid(DAY_SECONDS) / 3600;
    (usize::from(weekday >= 5), hour as usize)
}

/// (start hour, end hour, mean level).
type HourWindow = (u32, u32, f64);

fn hour_distance(a: u32, b: u32) -> u32 {
    let d = a.abs_diff(b) % 24;
    d.min(24 - d)
}

/// Contiguous (circular) runs of hours in the top of the profile: (start, end, mean level).
fn windows_of(profile: &[Option<f64>]) -> Vec<HourWindow> {
    let known: Vec<f64> = profile.iter().flatten().copied().collect();
    if known.len() < 12 {
        return Vec::new();
    }
    let lo = known.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = known.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if hi <= lo {
        return Vec::new();
    }
    let level = lo + PEAK_WINDOW_LEVEL * (hi - lo);
    let high: Vec<bool> = profile
        .iter()
        .map(|m| m.is_some_and(|v| v >= level))
        .collect();
    if high.iter().all(|h| *h) {
        return Vec::new();
    }
    // Start scanning just after a low hour so a window across midnight stays whole.
    let Some(first_low) = high.iter().position(|h| !h) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut run: Option<(usize, f64, u32)> = None; // (start, sum, count)
    for k in 1..=24 {
        let h = (first_low + k) % 24;
        if high[h] {
            let v = profile[h].unwrap_or(0.0);
            run = Some(match run {
                Some((s, sum, c)) => (s, sum + v, c + 1),
                None => (h, v, 1),
            });
        } else if let Some((s, sum, c)) = run.take() {
            out.push((s as u32, h as u32, sum / f64::from(c)));
        }
    }
    out.sort_by_key(|w| w.0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weekend_and_hour_match_chrono() {
        use chrono::{DateTime, Datelike, Timelike};
        let mut t = -3 * 86_400 * 365;
        while t < 2_000_000_000 {
            let c = DateTime::from_timestamp(t, 0).unwrap();
            let want = (
                usize::from(c.weekday().number_from_monday() >= 6),
                c.hour() as usize,
            );
            assert_eq!(weekend_and_hour(t), want, "{c}");
            t += 86_400 * 3 + 3_599;
        }
    }

    #[test]
    fn evening_peak_on_weekdays() {
        // 2024-01-01 is a Monday. Hourly, 3 weeks; weekdays 18-21 at 4x, weekends flat.
        let start = 1_704_067_200;
        let x: Vec<f64> = (0..24 * 21)
            .map(|i| {
                let day = (i / 24) % 7;
                let h = i % 24;
                if day < 5 && (18..21).contains(&h) {
                    400.0
                } else {
                    100.0
                }
            })
            .collect();
        let p = peaks(start, 3600, &x, true);
        assert_eq!(p.baseline, Some(100.0));
        assert_eq!(p.peak, Some(400.0));
        assert_eq!(p.peak_windows.len(), 1, "{:?}", p.peak_windows);
        let w = &p.peak_windows[0];
        assert_eq!((w.days, w.start_hour, w.end_hour), ("weekdays", 18, 21));
        assert_eq!(w.label, "weekdays 18:00–21:00 UTC, 4.0x baseline");
        assert!(p.weekend_to_weekday.unwrap_or(1.0) < 1.0);
    }

    #[test]
    fn window_across_midnight_and_no_cycle() {
        let x: Vec<f64> = (0..24 * 7)
            .map(|i| {
                if matches!(i % 24, 23 | 0 | 1) {
                    300.0
                } else {
                    100.0
                }
            })
            .collect();
        let p = peaks(0, 3600, &x, true);
        assert_eq!(p.peak_windows.len(), 1);
        assert_eq!(
            (p.peak_windows[0].start_hour, p.peak_windows[0].end_hour),
            (23, 2)
        );
        assert!(peaks(0, 3600, &x, false).peak_windows.is_empty());
        let empty = peaks(0, 60, &[], true);
        assert_eq!(empty.baseline, None);
    }
}

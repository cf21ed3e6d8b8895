//! Seasonal naive: every future step repeats the value one season back (the last value when
//! the season is one step). The baseline every other model must beat.

/// The next `horizon` values of `history` under the seasonal naive rule with `period` steps.
/// Empty when the history is shorter than one season.
pub fn seasonal_naive(history: &[f64], period: usize, horizon: usize) -> Vec<f64> {
    let p = period.max(1);
    let n = history.len();
    if n < p {
        return Vec::new();
    }
    (0..horizon).map(|h| history[n - p + h % p]).collect()
}

/// Seasons averaged at most by [`seasonal_mean`].
pub const MEAN_SEASONS: usize = 4;

/// Seasonal mean: each future step is the mean of the same phase over the last `seasons`
/// seasons (fewer when the history is shorter), shifted to the level of the latest season.
/// It keeps weekly naive's shape but averages away the noise of any one week, which weekly
/// naive copies forward. Empty when the history is shorter than one season.
pub fn seasonal_mean(history: &[f64], period: usize, seasons: usize, horizon: usize) -> Vec<f64> {
    let p = period.max(1);
    let n = history.len();
    let k = (n / p).min(seasons.max(1));
    if k == 0 {
        return Vec::new();
    }
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len().max(1) as f64;
    let shift = mean(&history[n - p..]) - mean(&history[n - k * p..]);
    (0..horizon)
        .map(|h| {
            let j = n - p + h % p;
            (0..k).map(|c| history[j - c * p]).sum::<f64>() / k as f64 + shift
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_the_last_season() {
        let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(seasonal_naive(&y, 3, 5), vec![4.0, 5.0, 6.0, 4.0, 5.0]);
        assert_eq!(seasonal_naive(&y, 1, 2), vec![6.0, 6.0]);
        assert!(seasonal_naive(&y, 7, 2).is_empty());
    }

    #[test]
    fn averages_seasons_at_the_latest_level() {
        // Period 2, three seasons: (1, 3), (3, 5), (5, 7); phase means 3 and 5, overall 4,
        // latest season's mean 6: forecast (3, 5) + 2.
        let y = [1.0, 3.0, 3.0, 5.0, 5.0, 7.0];
        assert_eq!(seasonal_mean(&y, 2, 4, 3), vec![5.0, 7.0, 5.0]);
        // One season: weekly naive.
        assert_eq!(seasonal_mean(&y, 2, 1, 2), vec![5.0, 7.0]);
        assert!(seasonal_mean(&y, 7, 4, 2).is_empty());
    }
}

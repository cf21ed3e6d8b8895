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
}

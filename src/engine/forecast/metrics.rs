//! Forecast error measures (CONTRACTS.md "Accuracy"): WAPE, MAPE, MASE and interval coverage.
//! Points whose actual is missing (NaN) are skipped, never scored as zero.

/// Weighted absolute percentage error: sum |a - f| / sum |a|. None when nothing is scored or
/// the actuals sum to zero.
pub fn wape(actual: &[f64], forecast: &[f64]) -> Option<f64> {
    let (mut err, mut total) = (0.0, 0.0);
    for (a, f) in scored(actual, forecast) {
        err += (a - f).abs();
        total += a.abs();
    }
    (total > 0.0).then(|| err / total)
}

/// Accuracy as the brief defines it: 1 - WAPE.
pub fn accuracy(actual: &[f64], forecast: &[f64]) -> Option<f64> {
    wape(actual, forecast).map(|w| 1.0 - w)
}

/// Mean absolute percentage error over points whose actual is not zero.
pub fn mape(actual: &[f64], forecast: &[f64]) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0usize);
    for (a, f) in scored(actual, forecast) {
        if a != 0.0 {
            sum += ((a - f) / a).abs();
            n += 1;
        }
    }
    (n > 0).then(|| sum / n as f64)
}

/// Mean absolute error of the scored points.
pub fn mae(actual: &[f64], forecast: &[f64]) -> Option<f64> {
    let (mut sum, mut n) = (0.0, 0usize);
    for (a, f) in scored(actual, forecast) {
        sum += (a - f).abs();
        n += 1;
    }
    (n > 0).then(|| sum / n as f64)
}

/// MAE divided by `scale` (the in-sample seasonal-naive MAE, see [`naive_scale`]).
pub fn mase(actual: &[f64], forecast: &[f64], scale: f64) -> Option<f64> {
    let m = mae(actual, forecast)?;
    (scale > 0.0 && scale.is_finite()).then(|| m / scale)
}

/// In-sample MAE of the seasonal naive forecast with period `season` (1 = last value):
/// the MASE denominator of Hyndman & Koehler (2006).
pub fn naive_scale(history: &[f64], season: usize) -> Option<f64> {
    let m = season.max(1);
    if history.len() <= m {
        return None;
    }
    let (mut sum, mut n) = (0.0, 0usize);
    for i in m..history.len() {
        let d = history[i] - history[i - m];
        if d.is_finite() {
            sum += d.abs();
            n += 1;
        }
    }
    (n > 0).then(|| sum / n as f64)
}

/// Share of scored actuals inside [lo, hi].
pub fn coverage(actual: &[f64], lo: &[f64], hi: &[f64]) -> Option<f64> {
    let (mut inside, mut n) = (0usize, 0usize);
    for ((a, l), h) in actual.iter().zip(lo).zip(hi) {
        if a.is_finite() && l.is_finite() && h.is_finite() {
            n += 1;
            if (*l..=*h).contains(a) {
                inside += 1;
            }
        }
    }
    (n > 0).then(|| inside as f64 / n as f64)
}

fn scored<'a>(actual: &'a [f64], forecast: &'a [f64]) -> impl Iterator<Item = (f64, f64)> + 'a {
    actual
        .iter()
        .zip(forecast)
        .filter(|(a, f)| a.is_finite() && f.is_finite())
        .map(|(a, f)| (*a, *f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_values() {
        let a = [10.0, 20.0, f64::NAN, 0.0];
        let f = [12.0, 18.0, 5.0, 1.0];
        // |2| + |2| + |1| over 30.
        assert!((wape(&a, &f).unwrap() - 5.0 / 30.0).abs() < 1e-12);
        // Zero actual skipped by MAPE: (0.2 + 0.1) / 2.
        assert!((mape(&a, &f).unwrap() - 0.15).abs() < 1e-12);
        assert!((mase(&a, &f, 2.0).unwrap() - (5.0 / 3.0) / 2.0).abs() < 1e-12);
        assert_eq!(naive_scale(&[1.0, 2.0, 4.0], 1), Some(1.5));
        assert_eq!(coverage(&[1.0, 5.0], &[0.0, 0.0], &[2.0, 2.0]), Some(0.5));
        assert_eq!(wape(&[0.0], &[1.0]), None);
        assert_eq!(mase(&a, &f, 0.0), None);
    }
}

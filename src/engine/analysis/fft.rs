//! Autocorrelation through a real-input FFT (O(n log n)) and the naive O(n x lags) form it
//! replaces, kept for the benchmark baseline and as the test oracle.

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;
use std::cell::RefCell;

thread_local! {
    static PLANNER: RefCell<RealFftPlanner<f64>> = RefCell::new(RealFftPlanner::new());
}

/// Sample autocorrelation of a gap-free series for lags 0..=max_lag (biased estimator, as in
/// `acf` of R/statsmodels). A constant series gives all zeros after lag 0. Wiener–Khinchin:
/// the inverse FFT of the power spectrum, zero-padded so lags up to `max_lag` do not wrap;
/// real-input transforms (realfft) do half the work of complex ones.
pub fn autocorrelation(values: &[f64], max_lag: usize) -> Vec<f64> {
    let n = values.len();
    if n == 0 {
        return Vec::new();
    }
    let max_lag = max_lag.min(n - 1);
    let mean = values.iter().sum::<f64>() / n as f64;
    // Any size >= n + max_lag avoids circular overlap; powers of two are the fastest plans.
    let size = (n + max_lag + 1).next_power_of_two();
    // Plans hold twiddle tables that cost more to build than a transform: one planner per
    // thread keeps them across series.
    let (forward, inverse) = PLANNER.with(|p| {
        let mut p = p.borrow_mut();
        (p.plan_fft_forward(size), p.plan_fft_inverse(size))
    });
    let mut signal = forward.make_input_vec();
    for (slot, &x) in signal.iter_mut().zip(values) {
        *slot = x - mean;
    }
    let mut spectrum = forward.make_output_vec();
    if forward.process(&mut signal, &mut spectrum).is_err() {
        return autocorrelation_naive(values, max_lag);
    }
    for c in spectrum.iter_mut() {
        *c = Complex::new(c.norm_sqr(), 0.0);
    }
    let mut lags = inverse.make_output_vec();
    if inverse.process(&mut spectrum, &mut lags).is_err() {
        return autocorrelation_naive(values, max_lag);
    }
    let c0 = lags[0];
    if c0.abs() < f64::MIN_POSITIVE {
        let mut out = vec![0.0; max_lag + 1];
        out[0] = 1.0;
        return out;
    }
    lags[..=max_lag].iter().map(|c| c / c0).collect()
}

/// The same autocorrelation computed directly: O(n x max_lag).
pub fn autocorrelation_naive(values: &[f64], max_lag: usize) -> Vec<f64> {
    let n = values.len();
    if n == 0 {
        return Vec::new();
    }
    let max_lag = max_lag.min(n - 1);
    let mean = values.iter().sum::<f64>() / n as f64;
    let c = |lag: usize| -> f64 {
        (0..n - lag)
            .map(|i| (values[i] - mean) * (values[i + lag] - mean))
            .sum()
    };
    let c0 = c(0);
    if c0.abs() < f64::MIN_POSITIVE {
        let mut out = vec![0.0; max_lag + 1];
        out[0] = 1.0;
        return out;
    }
    (0..=max_lag).map(|lag| c(lag) / c0).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fft_matches_naive() {
        let v: Vec<f64> = (0..300)
            .map(|i| (f64::from(i) * 0.3).sin() + 0.01 * f64::from(i % 7))
            .collect();
        let a = autocorrelation(&v, 100);
        let b = autocorrelation_naive(&v, 100);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-9, "{x} vs {y}");
        }
        assert_eq!(autocorrelation(&[5.0; 10], 3), vec![1.0, 0.0, 0.0, 0.0]);
    }
}

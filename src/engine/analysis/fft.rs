//! Autocorrelation through a radix-2 FFT (O(n log n)) and the naive O(n x lags) form it
//! replaces, kept for the benchmark baseline and as the test oracle.

use std::f64::consts::PI;

/// In-place iterative radix-2 FFT; `re.len()` must be a power of two.
fn fft_in_place(re: &mut [f64], im: &mut [f64], inverse: bool) {
    let n = re.len();
    let mut j = 0;
    for i in 1..n {
        let mut bit = n >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let sign = if inverse { 1.0 } else { -1.0 };
    let mut len = 2;
    while len <= n {
        let ang = sign * 2.0 * PI / len as f64;
        let (w_re, w_im) = (ang.cos(), ang.sin());
        for start in (0..n).step_by(len) {
            let (mut cur_re, mut cur_im) = (1.0, 0.0);
            for k in 0..len / 2 {
                let (a, b) = (start + k, start + k + len / 2);
                let t_re = re[b] * cur_re - im[b] * cur_im;
                let t_im = re[b] * cur_im + im[b] * cur_re;
                re[b] = re[a] - t_re;
                im[b] = im[a] - t_im;
                re[a] += t_re;
                im[a] += t_im;
                let next_re = cur_re * w_re - cur_im * w_im;
                cur_im = cur_re * w_im + cur_im * w_re;
                cur_re = next_re;
            }
        }
        len <<= 1;
    }
}

/// Sample autocorrelation of a gap-free series for lags 0..=max_lag (biased estimator, as in
/// `acf` of R/statsmodels). A constant series gives all zeros after lag 0.
pub fn autocorrelation(values: &[f64], max_lag: usize) -> Vec<f64> {
    let n = values.len();
    if n == 0 {
        return Vec::new();
    }
    let max_lag = max_lag.min(n - 1);
    let mean = values.iter().sum::<f64>() / n as f64;
    let size = (2 * n).next_power_of_two();
    let mut re = vec![0.0; size];
    let mut im = vec![0.0; size];
    for (slot, &x) in re.iter_mut().zip(values) {
        *slot = x - mean;
    }
    fft_in_place(&mut re, &mut im, false);
    for (r, i) in re.iter_mut().zip(im.iter_mut()) {
        *r = *r * *r + *i * *i;
        *i = 0.0;
    }
    fft_in_place(&mut re, &mut im, true);
    let c0 = re[0];
    if c0.abs() < f64::MIN_POSITIVE {
        let mut out = vec![0.0; max_lag + 1];
        out[0] = 1.0;
        return out;
    }
    re[..=max_lag].iter().map(|c| c / c0).collect()
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

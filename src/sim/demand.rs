//! Demand generator of one group: a deterministic shape (daily, weekly and yearly seasonality,
//! growth, dated events) times shared random spikes times correlated log-normal noise.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::spec::{DemandSpec, EventSpec};

pub const SECONDS_PER_DAY: f64 = 86_400.0;
const SECONDS_PER_YEAR: f64 = 365.2425 * SECONDS_PER_DAY;

/// Deterministic part of demand: everything but spikes and noise.
#[derive(Debug, Clone)]
pub struct DemandShape {
    spec: DemandSpec,
    utc_offset_seconds: f64,
    start_unix: f64,
}

impl DemandShape {
    pub fn new(spec: &DemandSpec, utc_offset_seconds: f64, start_unix: f64) -> Self {
        Self {
            spec: spec.clone(),
            utc_offset_seconds,
            start_unix,
        }
    }

    pub fn base_rps(&self) -> f64 {
        self.spec.base_rps
    }

    /// Expected demand (req/s) at Unix time `t`, without spikes and noise.
    pub fn rps_at(&self, t: f64) -> f64 {
        self.spec.base_rps * self.seasonal_factor(t) * self.event_factor(t) * self.growth(t)
    }

    /// Daily x weekly x yearly factor at `t`.
    pub fn seasonal_factor(&self, t: f64) -> f64 {
        let local = t + self.utc_offset_seconds;
        let day = (local / SECONDS_PER_DAY).floor();
        let hour = (local - day * SECONDS_PER_DAY) / 3600.0;
        // 1970-01-01 was a Thursday; index 0 = Monday.
        let weekday = ((day as i64 + 3).rem_euclid(7)) as usize;
        let yearly = if self.spec.yearly_amplitude != 0.0 {
            let phase = (t / SECONDS_PER_DAY - (self.spec.yearly_peak_day - 1.0))
                / (SECONDS_PER_YEAR / SECONDS_PER_DAY);
            1.0 + self.spec.yearly_amplitude * (std::f64::consts::TAU * phase).cos()
        } else {
            1.0
        };
        daily_factor(&self.spec.daily, hour) * self.spec.weekly[weekday] * yearly
    }

    pub fn growth(&self, t: f64) -> f64 {
        if self.spec.growth_per_year == 0.0 {
            return 1.0;
        }
        (1.0 + self.spec.growth_per_year).powf((t - self.start_unix) / SECONDS_PER_YEAR)
    }

    pub fn event_factor(&self, t: f64) -> f64 {
        self.spec
            .events
            .iter()
            .map(|e| event_factor(e, t))
            .product()
    }
}

/// Piecewise-linear daily profile at local `hour`; a profile without points is flat.
pub fn daily_factor(points: &[[f64; 2]], hour: f64) -> f64 {
    match points {
        [] => 1.0,
        [only] => only[1],
        _ => {
            let first = points[0];
            let last = points[points.len() - 1];
            if hour < first[0] || hour >= last[0] {
                // Wrap around midnight between the last and the first point.
                let span = first[0] + 24.0 - last[0];
                let x = if hour >= last[0] {
                    hour - last[0]
                } else {
                    hour + 24.0 - last[0]
                };
                return if span <= 0.0 {
                    first[1]
                } else {
                    last[1] + (first[1] - last[1]) * x / span
                };
            }
            let i = points.partition_point(|p| p[0] <= hour).max(1);
            let (a, b) = (points[i - 1], points[i]);
            if b[0] <= a[0] {
                return a[1];
            }
            a[1] + (b[1] - a[1]) * (hour - a[0]) / (b[0] - a[0])
        }
    }
}

/// 1 outside the event, `multiplier` inside, linear ramps of `ramp_hours` either side.
pub fn event_factor(e: &EventSpec, t: f64) -> f64 {
    let start = e.start.timestamp() as f64;
    let end = start + e.duration_hours * 3600.0;
    let ramp = e.ramp_hours * 3600.0;
    let w = if t >= start && t < end {
        1.0
    } else if ramp > 0.0 && t >= start - ramp && t < start {
        (t - (start - ramp)) / ramp
    } else if ramp > 0.0 && t >= end && t < end + ramp {
        1.0 - (t - end) / ramp
    } else {
        0.0
    };
    1.0 + (e.multiplier - 1.0) * w
}

/// Correlated log-normal noise with mean 1: an AR(1) process in log space.
#[derive(Debug, Clone)]
pub struct NoiseProcess {
    sigma: f64,
    correlation_seconds: f64,
    log_value: f64,
    rng: ChaCha8Rng,
}

impl NoiseProcess {
    pub fn new(sigma: f64, correlation_seconds: f64, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let z: f64 = StandardNormal.sample(&mut rng);
        Self {
            sigma,
            correlation_seconds: correlation_seconds.max(1e-3),
            log_value: sigma * z,
            rng,
        }
    }

    /// Advances by `dt_seconds` and returns the multiplier.
    pub fn step(&mut self, dt_seconds: f64) -> f64 {
        if self.sigma == 0.0 {
            return 1.0;
        }
        let phi = (-dt_seconds / self.correlation_seconds).exp();
        let z: f64 = StandardNormal.sample(&mut self.rng);
        self.log_value = phi * self.log_value + (1.0 - phi * phi).sqrt() * self.sigma * z;
        (self.log_value - 0.5 * self.sigma * self.sigma).exp()
    }

    /// Additive version for percentage-point jitter: returns the current N(0, sigma) value.
    pub fn step_additive(&mut self, dt_seconds: f64) -> f64 {
        if self.sigma == 0.0 {
            return 0.0;
        }
        let phi = (-dt_seconds / self.correlation_seconds).exp();
        let z: f64 = StandardNormal.sample(&mut self.rng);
        self.log_value = phi * self.log_value + (1.0 - phi * phi).sqrt() * self.sigma * z;
        self.log_value
    }
}

/// Independent seeds for independent random streams (SplitMix64 finaliser).
pub fn mix_seed(seed: u64, parts: &[u64]) -> u64 {
    let mut h = seed ^ 0x9E37_79B9_7F4A_7C15;
    for &p in parts {
        h ^= p
            .wrapping_add(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(h << 6)
            .wrapping_add(h >> 2);
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_profile_interpolates_and_wraps() {
        let p = [[3.0, 1.0], [9.0, 2.0], [19.0, 4.0], [23.0, 2.0]];
        assert_eq!(daily_factor(&p, 9.0), 2.0);
        assert_eq!(daily_factor(&p, 6.0), 1.5);
        assert_eq!(daily_factor(&p, 19.0), 4.0);
        // 23:00 -> 03:00 wraps: at 01:00 halfway from 2 to 1.
        assert!((daily_factor(&p, 1.0) - 1.5).abs() < 1e-12);
        assert_eq!(daily_factor(&[], 5.0), 1.0);
    }

    #[test]
    fn noise_has_mean_one_and_is_deterministic() {
        let mut a = NoiseProcess::new(0.2, 600.0, 7);
        let mut b = NoiseProcess::new(0.2, 600.0, 7);
        let n = 200_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let x = a.step(60.0);
            assert_eq!(x, b.step(60.0));
            sum += x;
        }
        let mean = sum / f64::from(n);
        assert!((mean - 1.0).abs() < 0.02, "mean {mean}");
    }

    #[test]
    fn weekday_index_is_monday_based() {
        let spec = DemandSpec {
            base_rps: 1.0,
            daily: vec![],
            weekly: [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
            yearly_amplitude: 0.0,
            yearly_peak_day: 0.0,
            growth_per_year: 0.0,
            noise: 0.0,
            noise_correlation_seconds: 1.0,
            events: vec![],
        };
        let shape = DemandShape::new(&spec, 0.0, 0.0);
        // 2025-11-28 (Black Friday) is a Friday.
        let t = chrono::DateTime::parse_from_rfc3339("2025-11-28T12:00:00Z")
            .map(|d| d.timestamp() as f64)
            .unwrap_or_default();
        assert_eq!(shape.rps_at(t), 5.0);
    }
}

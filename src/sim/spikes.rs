//! Random demand spikes (viral streams, batch storms): a Poisson process per UTC day, seeded by
//! (seed, process, day) so any day's spikes are known without simulating the days before it —
//! the ground truth lists them and the live simulator reproduces them.

use chrono::{DateTime, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};
use serde::Serialize;

use super::demand::{mix_seed, SECONDS_PER_DAY};
use super::spec::SpikeProcessSpec;

/// Stream tag so spike seeds never collide with other random streams.
const SPIKE_STREAM: u64 = 0x5350_494b;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spike {
    /// Unix seconds when the rise begins.
    pub start_unix: i64,
    pub multiplier: f64,
}

impl Spike {
    pub fn start(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.start_unix, 0).unwrap_or_default()
    }
}

/// Seconds from a spike's start until its effect is negligible.
pub fn spike_extent_seconds(p: &SpikeProcessSpec) -> f64 {
    p.rise_seconds + p.hold_seconds + 6.0 * p.decay_seconds
}

/// Spikes beginning on UTC day `day` (days since the Unix epoch).
pub fn spikes_on_day(
    p: &SpikeProcessSpec,
    process_index: usize,
    seed: u64,
    day: i64,
) -> Vec<Spike> {
    let mut rng = ChaCha8Rng::seed_from_u64(mix_seed(
        seed,
        &[SPIKE_STREAM, process_index as u64, day as u64],
    ));
    let count = match Poisson::new(p.rate_per_day) {
        Ok(d) if p.rate_per_day > 0.0 => d.sample(&mut rng) as usize,
        _ => 0,
    };
    let mut spikes: Vec<Spike> = (0..count)
        .map(|_| {
            let offset = rng.random::<f64>() * SECONDS_PER_DAY;
            let u = rng.random::<f64>();
            let multiplier = p.multiplier_min * (p.multiplier_max / p.multiplier_min).powf(u);
            Spike {
                start_unix: day * SECONDS_PER_DAY as i64 + offset as i64,
                multiplier,
            }
        })
        .collect();
    spikes.sort_by_key(|s| s.start_unix);
    spikes
}

/// Spikes of a process that start within [from, to).
pub fn spikes_between(
    p: &SpikeProcessSpec,
    process_index: usize,
    seed: u64,
    from_unix: i64,
    to_unix: i64,
) -> Vec<Spike> {
    let day_seconds = SECONDS_PER_DAY as i64;
    (from_unix.div_euclid(day_seconds)..=to_unix.div_euclid(day_seconds))
        .flat_map(|d| spikes_on_day(p, process_index, seed, d))
        .filter(|s| s.start_unix >= from_unix && s.start_unix < to_unix)
        .collect()
}

/// Multiplier of one spike at time `t`: linear rise, hold, exponential decay.
pub fn spike_factor(p: &SpikeProcessSpec, s: &Spike, t: f64) -> f64 {
    let dt = t - s.start_unix as f64;
    if dt < 0.0 || dt > spike_extent_seconds(p) {
        return 1.0;
    }
    let w = if dt < p.rise_seconds {
        dt / p.rise_seconds
    } else if dt < p.rise_seconds + p.hold_seconds {
        1.0
    } else {
        (-(dt - p.rise_seconds - p.hold_seconds) / p.decay_seconds.max(1.0)).exp()
    };
    1.0 + (s.multiplier - 1.0) * w
}

/// The spikes of one process near the current time, refreshed per day as time advances.
#[derive(Debug, Clone)]
pub struct SpikeTimeline {
    process: SpikeProcessSpec,
    process_index: usize,
    seed: u64,
    loaded_day: Option<i64>,
    spikes: Vec<Spike>,
}

impl SpikeTimeline {
    pub fn new(process: &SpikeProcessSpec, process_index: usize, seed: u64) -> Self {
        Self {
            process: process.clone(),
            process_index,
            seed,
            loaded_day: None,
            spikes: Vec::new(),
        }
    }

    /// Combined multiplier of all spikes active at `t`.
    pub fn factor_at(&mut self, t: f64) -> f64 {
        let day = (t / SECONDS_PER_DAY).floor() as i64;
        if self.loaded_day != Some(day) {
            let lookback = (spike_extent_seconds(&self.process) / SECONDS_PER_DAY).ceil() as i64;
            self.spikes = (day - lookback..=day)
                .flat_map(|d| spikes_on_day(&self.process, self.process_index, self.seed, d))
                .collect();
            self.loaded_day = Some(day);
        }
        self.spikes
            .iter()
            .map(|s| spike_factor(&self.process, s, t))
            .fold(1.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process() -> SpikeProcessSpec {
        SpikeProcessSpec {
            name: "viral".into(),
            groups: vec![],
            rate_per_day: 2.0,
            multiplier_min: 10.0,
            multiplier_max: 100.0,
            rise_seconds: 240.0,
            hold_seconds: 1800.0,
            decay_seconds: 1800.0,
        }
    }

    #[test]
    fn same_seed_same_spikes_and_timeline_peaks_at_them() {
        let p = process();
        let a = spikes_between(&p, 0, 42, 0, 30 * 86_400);
        assert_eq!(a, spikes_between(&p, 0, 42, 0, 30 * 86_400));
        assert_ne!(a, spikes_between(&p, 0, 43, 0, 30 * 86_400));
        assert!(a.len() > 30 && a.len() < 100, "{} spikes", a.len());
        let mut tl = SpikeTimeline::new(&p, 0, 42);
        for s in &a {
            let peak = tl.factor_at(s.start_unix as f64 + 300.0);
            assert!(peak >= s.multiplier * 0.999, "{peak} < {}", s.multiplier);
        }
    }

    #[test]
    fn spike_shape_rises_holds_and_decays() {
        let p = process();
        let s = Spike {
            start_unix: 1000,
            multiplier: 50.0,
        };
        assert_eq!(spike_factor(&p, &s, 999.0), 1.0);
        assert!((spike_factor(&p, &s, 1120.0) - 25.5).abs() < 1e-9);
        assert_eq!(spike_factor(&p, &s, 2000.0), 50.0);
        assert!(spike_factor(&p, &s, 1000.0 + 2040.0 + 1800.0) < 20.0);
    }
}

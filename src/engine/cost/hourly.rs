//! Capacity per clock hour from any replay (or observed replica series): the unit commitments,
//! spot plans and monthly figures are computed on.

use serde::Serialize;

use crate::engine::replay::Replay;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HourlyCapacity {
    /// Unix seconds of the first hour's start.
    pub start_unix: i64,
    /// Mean instances provisioned in each hour (NaN: no data that hour).
    pub instances: Vec<f64>,
}

impl HourlyCapacity {
    /// Means per clock hour of a series at `step_seconds` starting at `start_unix`; NaN values
    /// are missing. Steps longer than an hour are spread over the hours they cover.
    pub fn from_series(start_unix: i64, step_seconds: i64, values: &[f64]) -> HourlyCapacity {
        let step = step_seconds.max(1);
        let hour0 = start_unix.div_euclid(3600) * 3600;
        let mut sums: Vec<(f64, f64)> = Vec::new();
        for (i, &v) in values.iter().enumerate() {
            if !v.is_finite() {
                continue;
            }
            let t0 = start_unix + i as i64 * step;
            let mut t = t0;
            while t < t0 + step {
                let h = ((t - hour0) / 3600) as usize;
                let end = ((hour0 + (h as i64 + 1) * 3600).min(t0 + step)) as f64;
                let w = end - t as f64;
                if sums.len() <= h {
                    sums.resize(h + 1, (0.0, 0.0));
                }
                sums[h].0 += v * w;
                sums[h].1 += w;
                t = end as i64;
            }
        }
        HourlyCapacity {
            start_unix: hour0,
            instances: sums
                .into_iter()
                .map(|(s, w)| if w > 0.0 { s / w } else { f64::NAN })
                .collect(),
        }
    }

    /// Provisioned (desired) replicas of a replay, per hour.
    pub fn from_replay(r: &Replay) -> HourlyCapacity {
        let Some(first) = r.steps.first() else {
            return HourlyCapacity {
                start_unix: 0,
                instances: Vec::new(),
            };
        };
        let step = r
            .steps
            .get(1)
            .map(|s| (s.timestamp - first.timestamp).num_seconds())
            .unwrap_or(3600);
        let values: Vec<f64> = r.steps.iter().map(|s| f64::from(s.replicas)).collect();
        Self::from_series(first.timestamp.timestamp(), step, &values)
    }

    /// Hours with data.
    pub fn hours(&self) -> usize {
        self.instances.iter().filter(|v| v.is_finite()).count()
    }

    pub fn finite(&self) -> Vec<f64> {
        self.instances
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect()
    }

    /// Mean instances over the hours with data.
    pub fn mean(&self) -> f64 {
        let f = self.finite();
        if f.is_empty() {
            0.0
        } else {
            f.iter().sum::<f64>() / f.len() as f64
        }
    }

    /// Cost of a 730-hour month at this mean capacity and `usd_per_hour` per instance.
    pub fn monthly_usd(&self, usd_per_hour: f64) -> f64 {
        self.mean() * usd_per_hour * super::HOURS_PER_MONTH
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_steps_average_into_clock_hours() {
        // 90 minutes from 00:30: hour 0 sees 30 min of 2, hour 1 sees 60 min of 4.
        let mut v = vec![2.0; 30];
        v.extend(vec![4.0; 60]);
        let h = HourlyCapacity::from_series(1800, 60, &v);
        assert_eq!(h.start_unix, 0);
        assert_eq!(h.instances, vec![2.0, 4.0]);
        // 10 instances all month at m5.xlarge's $0.192/h: 10 x 0.192 x 730 = $1,401.60.
        let flat = HourlyCapacity::from_series(0, 3600, &[10.0; 48]);
        assert!((flat.monthly_usd(0.192) - 1401.6).abs() < 1e-9);
    }
}

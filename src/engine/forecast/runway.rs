//! Capacity runway: when the forecast's upper band first needs more than the group's maximum
//! capacity (max replicas x per-replica capacity at the target utilization), and how many
//! replicas its peak needs.

use serde::Serialize;

use super::{ser_time, ser_time_opt, ForecastPoint};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Runway {
    /// Demand the group can serve at its maximum, in the series' units.
    pub capacity: f64,
    /// First time the 95% upper band exceeds the capacity (None: not within the horizon).
    #[serde(serialize_with = "ser_time_opt")]
    pub first_crossing: Option<i64>,
    /// First time the mean forecast exceeds it.
    #[serde(serialize_with = "ser_time_opt")]
    pub first_crossing_mean: Option<i64>,
    /// Highest 95% upper band in the horizon and when.
    pub peak_upper: f64,
    #[serde(serialize_with = "ser_time")]
    pub peak_at: i64,
    /// (capacity - peak_upper) / capacity x 100; negative when the peak does not fit.
    pub headroom_pct: f64,
    /// Replicas the peak needs, when the per-replica capacity is known.
    pub replicas_needed: Option<u64>,
}

/// The runway of `points` against `capacity`; None without points or a positive capacity.
pub fn runway(points: &[ForecastPoint], capacity: f64, per_replica: Option<f64>) -> Option<Runway> {
    if !(capacity > 0.0 && capacity.is_finite()) {
        return None;
    }
    let peak = points.iter().max_by(|a, b| a.hi95.total_cmp(&b.hi95))?;
    Some(Runway {
        capacity,
        first_crossing: points
            .iter()
            .find(|p| p.hi95 > capacity)
            .map(|p| p.timestamp),
        first_crossing_mean: points
            .iter()
            .find(|p| p.mean > capacity)
            .map(|p| p.timestamp),
        peak_upper: peak.hi95,
        peak_at: peak.timestamp,
        headroom_pct: (capacity - peak.hi95) / capacity * 100.0,
        replicas_needed: per_replica
            .filter(|c| *c > 0.0 && c.is_finite())
            .map(|c| (peak.hi95 / c).ceil().max(0.0) as u64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t: i64, mean: f64) -> ForecastPoint {
        ForecastPoint {
            timestamp: t,
            mean,
            lo80: mean - 5.0,
            hi80: mean + 5.0,
            lo95: mean - 10.0,
            hi95: mean + 10.0,
        }
    }

    #[test]
    fn upper_band_crosses_before_the_mean() {
        let pts: Vec<ForecastPoint> = (0..10)
            .map(|i| point(i * 3600, 80.0 + 3.0 * i as f64))
            .collect();
        let r = runway(&pts, 100.0, Some(10.0)).expect("runway");
        // hi95 = 90 + 3i > 100 from i = 4; mean = 80 + 3i > 100 from i = 7.
        assert_eq!(r.first_crossing, Some(4 * 3600));
        assert_eq!(r.first_crossing_mean, Some(7 * 3600));
        assert_eq!(r.peak_at, 9 * 3600);
        assert_eq!(r.replicas_needed, Some(12));
        assert!(r.headroom_pct < 0.0);
        assert!(runway(&pts, 1000.0, None).is_some_and(|r| r.first_crossing.is_none()));
        assert!(runway(&pts, 0.0, None).is_none());
    }
}

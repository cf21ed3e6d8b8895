//! Provisioned-but-unused capacity in $ a month, split by cause:
//! - idle off-hours: instances the minimum-replica floor keeps while demand needs fewer
//!   (scale-to-zero or a scheduled scale-down would remove them);
//! - over-conservative scaling: instances above both need and floor (a low target, a long
//!   scale-down delay);
//! - oversizing: what a better-fitting instance type saves (from the instance-type choice).
//!
//! Need = demand / (capacity per instance × target utilization), unrounded.

use serde::Serialize;

use super::HOURS_PER_MONTH;

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Waste {
    pub idle_off_hours_usd_month: f64,
    pub over_conservative_usd_month: f64,
    pub oversizing_usd_month: f64,
    pub total_usd_month: f64,
    /// total / current monthly cost.
    pub share: f64,
}

pub fn split(
    provisioned: &[f64],
    needed: &[f64],
    min_replicas: f64,
    usd_per_hour: f64,
    oversizing_usd_month: f64,
) -> Waste {
    let (mut floor, mut policy, mut total, mut n) = (0.0, 0.0, 0.0, 0.0);
    for (p, need) in provisioned.iter().zip(needed) {
        if !(p.is_finite() && need.is_finite()) {
            continue;
        }
        floor += (p.min(min_replicas) - need).max(0.0);
        policy += (p - need.max(min_replicas)).max(0.0);
        total += p;
        n += 1.0;
    }
    if n == 0.0 {
        return Waste::default();
    }
    let month = |x: f64| x / n * usd_per_hour * HOURS_PER_MONTH;
    let w = Waste {
        idle_off_hours_usd_month: month(floor),
        over_conservative_usd_month: month(policy),
        oversizing_usd_month: oversizing_usd_month.max(0.0),
        total_usd_month: 0.0,
        share: 0.0,
    };
    let sum = w.idle_off_hours_usd_month + w.over_conservative_usd_month + w.oversizing_usd_month;
    let current = month(total);
    Waste {
        total_usd_month: sum,
        share: if current > 0.0 { sum / current } else { 0.0 },
        ..w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_and_policy_waste_are_separated() {
        // Night: 10 kept by a floor of 10, 3 needed -> 7 idle off-hours.
        // Day: 30 kept, 20 needed -> 10 over-conservative.
        let p = [10.0, 30.0];
        let need = [3.0, 20.0];
        let w = split(&p, &need, 10.0, 0.1, 5.0);
        assert!((w.idle_off_hours_usd_month - 3.5 * 0.1 * 730.0).abs() < 1e-9);
        assert!((w.over_conservative_usd_month - 5.0 * 0.1 * 730.0).abs() < 1e-9);
        assert!((w.total_usd_month - (255.5 + 365.0 + 5.0)).abs() < 1e-9);
    }
}

//! Provisioned vs needed replicas over time. Needed = demand / (capacity per replica x 70%
//! target), rounded up, at least one; capacity per replica comes from the bottleneck fit.
//! Waste is replica-hours kept but not needed; saturation is time the binding resource spent
//! at or above 90%.

use serde::Serialize;

/// Utilization a group should run at (the waste yardstick).
pub const TARGET_UTILIZATION: f64 = 0.7;
const SATURATED_PCT: f64 = 90.0;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provisioning {
    pub capacity_rps_per_replica: f64,
    pub provisioned_replicas_mean: f64,
    pub needed_replicas_mean: f64,
    /// Replica-hours kept beyond what was needed, over the whole span.
    pub waste_replica_hours: f64,
    /// waste / provisioned replica-hours, 0..1.
    pub waste_share: f64,
    /// Replica-hours short of what was needed (undersized).
    pub shortfall_replica_hours: f64,
    /// Minutes the binding resource was at or above 90%.
    pub saturated_minutes: f64,
    /// "over-provisioned", "under-provisioned" or "right-sized".
    pub verdict: &'static str,
}

pub fn provisioning(
    step_seconds: i64,
    demand_rps: &[f64],
    replicas: &[f64],
    binding_util_pct: Option<&[f64]>,
    capacity_rps_per_replica: f64,
    max_replicas: Option<f64>,
) -> Option<Provisioning> {
    if !(capacity_rps_per_replica.is_finite() && capacity_rps_per_replica > 0.0) {
        return None;
    }
    let hours = step_seconds as f64 / 3600.0;
    let per_replica = capacity_rps_per_replica * TARGET_UTILIZATION;
    let (mut kept, mut needed_sum, mut waste, mut short, mut n) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (d, r) in demand_rps.iter().zip(replicas) {
        if !(d.is_finite() && r.is_finite()) {
            continue;
        }
        let mut needed = (d.max(0.0) / per_replica).ceil().max(1.0);
        if let Some(m) = max_replicas.filter(|m| m.is_finite() && *m >= 1.0) {
            needed = needed.min(m);
        }
        kept += r;
        needed_sum += needed;
        waste += (r - needed).max(0.0) * hours;
        short += (needed - r).max(0.0) * hours;
        n += 1.0;
    }
    if n == 0.0 || kept <= 0.0 {
        return None;
    }
    let saturated_minutes = binding_util_pct.map_or(0.0, |u| {
        u.iter().filter(|&&x| x >= SATURATED_PCT).count() as f64 * step_seconds as f64 / 60.0
    });
    let share = waste / (kept * hours);
    let verdict = if short > waste || saturated_minutes > 60.0 && share < 0.1 {
        "under-provisioned"
    } else if share >= 0.1 {
        "over-provisioned"
    } else {
        "right-sized"
    };
    Some(Provisioning {
        capacity_rps_per_replica,
        provisioned_replicas_mean: kept / n,
        needed_replicas_mean: needed_sum / n,
        waste_replica_hours: waste,
        waste_share: share,
        shortfall_replica_hours: short,
        saturated_minutes,
        verdict,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_kept_one_needed() {
        let demand = vec![20.0; 60];
        let replicas = vec![12.0; 60];
        let p = provisioning(60, &demand, &replicas, None, 150.0, Some(30.0)).unwrap();
        assert_eq!(p.needed_replicas_mean, 1.0);
        assert!((p.waste_share - 11.0 / 12.0).abs() < 1e-9);
        assert!((p.waste_replica_hours - 11.0).abs() < 1e-9);
        assert_eq!(p.verdict, "over-provisioned");
        assert!(provisioning(60, &demand, &replicas, None, 0.0, None).is_none());
    }
}

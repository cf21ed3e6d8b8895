//! A capacity model for an Auto Scaling group from what the APIs give, so its live policy can
//! be replayed; or exactly what is missing.
//!
//! - Requests one instance serves at 100% CPU: the utilization law (U = X * S, so X / U is the
//!   throughput at U = 1) over CloudWatch periods that have both the group's average
//!   `CPUUtilization` and its ALB target groups' `RequestCountPerTarget`; the median of
//!   the periods, so a few odd ones (deploys, cold caches) do not set it.
//! - Concurrency: the instance type's vCPUs (CPU-bound requests, one per vCPU at a time), and
//!   the on-demand price, from the pricing catalog (assets/pricing/aws-ec2.toml). The type is
//!   the one most running instances have, else the mixed instances policy's first override or
//!   the launch configuration's.
//! - Startup: the median duration of the group's successful "Launching a new EC2 instance"
//!   activities (start to end = until InService); without any, the health check grace period.
//! - Warm-up: the group's default instance warmup, else the target tracking policy's estimated
//!   instance warmup (the time before a new instance's metrics count, EC2 Auto Scaling User
//!   Guide "Set the default instance warmup").
//! - Bounds and warm pool from the group; requests waiting longer than the ALB's default idle
//!   timeout (60 s) count as dropped.

use std::collections::BTreeMap;

use crate::model::CapacityModel;
use crate::pricing::{Catalog, PriceStatus};

/// Periods below this CPU say more about idle overhead than about request cost.
const MIN_CPU_PERCENT: f64 = 5.0;
/// The ALB's default idle timeout, seconds.
const ALB_IDLE_TIMEOUT_MS: f64 = 60_000.0;
/// Observations kept per group (a day of 5-minute periods).
pub const MAX_OBSERVATIONS: usize = 288;

/// What the Auto Scaling API says about a group that bears on its capacity.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CapacityFacts {
    pub region: String,
    /// Instance types the group runs or launches, the most used first.
    pub instance_types: Vec<String>,
    /// Where the types came from when no instance runs (for the message when none is known).
    pub launch_template: Option<String>,
    pub min: u32,
    pub max: u32,
    pub warm_pool_size: u32,
    pub health_check_grace_seconds: u32,
    pub default_instance_warmup: Option<u32>,
    pub target_tracking_warmup: Option<u32>,
    /// Seconds from launch to InService of recent successful launches.
    pub launch_seconds: Vec<u32>,
    /// The group sits behind ALB target groups (RequestCountPerTarget exists).
    pub has_target_groups: bool,
}

/// Per period: (CPU %, requests per second per in-service instance).
pub type Observations = BTreeMap<i64, (f64, f64)>;

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The model, with a line saying what it rests on; or what is missing.
pub fn derive(
    facts: &CapacityFacts,
    obs: &Observations,
    catalog: &Catalog,
) -> Result<(CapacityModel, String), String> {
    let Some(instance_type) = facts.instance_types.first() else {
        let lt = facts
            .launch_template
            .as_deref()
            .map(|lt| format!(" (launch template {lt}: scaletop does not read launch template versions, which need EC2 DescribeLaunchTemplateVersions)"))
            .unwrap_or_default();
        return Err(format!(
            "instance type unknown: no running instance, no mixed instances override and no launch configuration names one{lt}"
        ));
    };
    let (_, spec) = catalog.instance(instance_type).map_err(|e| {
        format!("vCPUs of {instance_type} unknown: {e} (not in the pricing catalog)")
    })?;
    let price = catalog
        .on_demand(instance_type, &facts.region)
        .map_err(|e| format!("price unknown: {e}"))?;
    if !facts.has_target_groups {
        return Err("requests per instance unknown: the group is behind no ALB target group, so CloudWatch has no RequestCountPerTarget to set against its CPUUtilization".into());
    }
    let ratios: Vec<f64> = obs
        .values()
        .filter(|(cpu, rps)| *cpu >= MIN_CPU_PERCENT && rps.is_finite() && *rps > 0.0)
        .map(|(cpu, rps)| rps / (cpu / 100.0))
        .collect();
    let periods = ratios.len();
    let Some(capacity) = median(ratios) else {
        return Err(format!(
            "requests per instance unknown: no CloudWatch period yet with both CPUUtilization (at least {MIN_CPU_PERCENT}%) and RequestCountPerTarget"
        ));
    };
    let launches = median(facts.launch_seconds.iter().map(|s| f64::from(*s)).collect());
    let (startup, startup_basis) = match launches {
        Some(s) => (
            s.round() as u32,
            format!("median of {} launches", facts.launch_seconds.len()),
        ),
        None => (
            facts.health_check_grace_seconds,
            "health check grace period (no launch activity seen)".to_string(),
        ),
    };
    let warmup = facts
        .default_instance_warmup
        .or(facts.target_tracking_warmup)
        .unwrap_or(0);
    let model = CapacityModel {
        capacity_per_replica_rps: capacity,
        concurrency_per_replica: spec.vcpu.max(1),
        startup_seconds: startup,
        warmup_seconds: warmup,
        min_replicas: facts.min,
        max_replicas: facts.max.max(facts.min),
        warm_pool_size: facts.warm_pool_size,
        // Warm instances are already booted: only the grace period before InService is left.
        warm_pool_startup_seconds: facts.health_check_grace_seconds.min(startup),
        usd_per_replica_hour: price.usd_per_hour,
        timeout_ms: ALB_IDLE_TIMEOUT_MS,
    };
    let status = match price.status {
        PriceStatus::Verified => "verified",
        PriceStatus::Unverified => "unverified",
    };
    let basis = format!(
        "{capacity:.1} req/s per instance at 100% CPU (median of {periods} CloudWatch periods), {} vCPU {instance_type} at ${:.4}/h ({status}), startup {startup}s ({startup_basis})",
        spec.vcpu, price.usd_per_hour
    );
    Ok((model, basis))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> CapacityFacts {
        CapacityFacts {
            region: "us-east-1".into(),
            instance_types: vec!["m5.large".into()],
            min: 2,
            max: 10,
            health_check_grace_seconds: 300,
            target_tracking_warmup: Some(120),
            launch_seconds: vec![95, 110, 400],
            has_target_groups: true,
            ..Default::default()
        }
    }

    #[test]
    fn utilization_law_vcpus_price_and_launch_times() {
        let catalog = Catalog::built_in().unwrap();
        // 20 req/s per instance at 40% CPU: 50 req/s at 100%. 30 at 60%: also 50. An idle
        // period (2% CPU) is left out; 45 at 100% CPU would be the odd one out the median drops.
        let obs: Observations = [
            (0, (40.0, 20.0)),
            (300, (60.0, 30.0)),
            (600, (2.0, 5.0)),
            (900, (90.0, 40.5)),
        ]
        .into_iter()
        .collect();
        let (m, basis) = derive(&facts(), &obs, &catalog).unwrap();
        assert_eq!(m.capacity_per_replica_rps, 50.0);
        // m5.large: 2 vCPU, $0.096/h in us-east-1 (aws-ec2.toml).
        assert_eq!(m.concurrency_per_replica, 2);
        assert_eq!(m.usd_per_replica_hour, 0.096);
        assert_eq!(m.startup_seconds, 110);
        assert_eq!(m.warmup_seconds, 120);
        assert_eq!((m.min_replicas, m.max_replicas), (2, 10));
        assert_eq!(m.timeout_ms, 60_000.0);
        // 2 requests in flight at 50 req/s: 40 ms each.
        assert_eq!(m.service_time_ms(), 40.0);
        assert!(basis.starts_with("50.0 req/s per instance at 100% CPU (median of 3 CloudWatch periods), 2 vCPU m5.large at $0.0960/h (verified)"), "{basis}");
    }

    #[test]
    fn each_missing_piece_is_named() {
        let catalog = Catalog::built_in().unwrap();
        let obs: Observations = [(0, (40.0, 20.0))].into_iter().collect();
        let mut f = facts();
        f.instance_types.clear();
        f.launch_template = Some("web:$Latest".into());
        let e = derive(&f, &obs, &catalog).unwrap_err();
        assert!(
            e.starts_with("instance type unknown") && e.contains("web:$Latest"),
            "{e}"
        );
        let mut f = facts();
        f.instance_types = vec!["x9z.huge".into()];
        let e = derive(&f, &obs, &catalog).unwrap_err();
        assert!(e.starts_with("vCPUs of x9z.huge unknown"), "{e}");
        let mut f = facts();
        f.has_target_groups = false;
        let e = derive(&f, &obs, &catalog).unwrap_err();
        assert!(e.contains("no ALB target group"), "{e}");
        let e = derive(&facts(), &Observations::new(), &catalog).unwrap_err();
        assert!(e.contains("no CloudWatch period yet"), "{e}");
        // Without launches the grace period stands in for startup.
        let mut f = facts();
        f.launch_seconds.clear();
        assert_eq!(derive(&f, &obs, &catalog).unwrap().0.startup_seconds, 300);
    }
}

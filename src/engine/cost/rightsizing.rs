//! Instance-type choice for a group from its resource profile: the cheapest type of the same
//! cloud and region that carries the same CPU work (the autoscaler holds CPU near its target,
//! so vCPUs are what the fleet needs) with the peak memory and network per instance plus 15%
//! headroom. x86 and ARM are ranked separately; ARM comes with a compatibility caveat.

use serde::Serialize;

use super::savings::{saving, Saving};
use super::HOURS_PER_MONTH;
use crate::pricing::{Arch, InstanceClass, InstanceSpec, PriceStatus};

/// Headroom on peak memory and network (VPA's margin).
pub const HEADROOM: f64 = 0.15;

pub const ARM_CAVEAT: &str = "ARM64 (Graviton / Axion / Ampere): every image and native dependency needs an arm64 build, and per-vCPU throughput differs from x86; the saving assumes equal work per vCPU, so load-test before switching";

/// What one current instance of the group uses at its busiest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct InstanceLoad {
    /// p95 CPU utilization of the instance, 0-1.
    pub cpu_p95: f64,
    /// Peak memory utilization, 0-1.
    pub memory_peak: f64,
    /// Peak network per instance, Gbps (None: not measured).
    pub network_peak_gbps: Option<f64>,
}

/// A priced candidate type.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate<'a> {
    pub spec: &'a InstanceSpec,
    pub usd_per_hour: f64,
    pub status: PriceStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TypeChoice {
    pub name: String,
    pub arch: Arch,
    pub class: InstanceClass,
    pub usd_per_hour: f64,
    /// Instances of this type per current instance.
    pub instances_per_current: f64,
    pub monthly_usd: f64,
    pub price_status: PriceStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceTypeAdvice {
    pub current: TypeChoice,
    pub best_x86: Option<TypeChoice>,
    pub best_arm: Option<TypeChoice>,
    /// The cheaper of the two, when it beats the current type.
    pub recommended: Option<TypeChoice>,
    pub saving: Option<Saving>,
    /// "oversized" (memory mostly idle), "undersized" (memory near full) or "fits".
    pub verdict: &'static str,
    pub caveat: Option<&'static str>,
}

/// Burstable types run on CPU credits and are no home for sustained load.
pub fn is_burstable(name: &str) -> bool {
    let b = name.as_bytes();
    (b.len() > 2 && b[0] == b't' && b[1].is_ascii_digit() && !name.contains('-'))
        || name.starts_with("Standard_B")
}

fn ratio(current: &InstanceSpec, load: &InstanceLoad, cand: &InstanceSpec) -> f64 {
    let cpu = f64::from(current.vcpu) / f64::from(cand.vcpu);
    let mem = current.memory_gib * load.memory_peak * (1.0 + HEADROOM) / cand.memory_gib;
    let net = match (load.network_peak_gbps, cand.network_gbps()) {
        (Some(n), c) if c > 0.0 => n * (1.0 + HEADROOM) / c,
        _ => 0.0,
    };
    cpu.max(mem).max(net)
}

fn monthly(hourly: &[f64], per_current: f64, usd: f64, round_up: bool) -> f64 {
    let f: Vec<f64> = hourly.iter().copied().filter(|v| v.is_finite()).collect();
    if f.is_empty() {
        return 0.0;
    }
    let n: f64 = f
        .iter()
        .map(|p| {
            let x = p * per_current;
            if round_up {
                x.ceil().max(1.0)
            } else {
                x
            }
        })
        .sum();
    n / f.len() as f64 * usd * HOURS_PER_MONTH
}

pub fn choose(
    hourly: &[f64],
    current: &Candidate,
    load: &InstanceLoad,
    candidates: &[Candidate],
) -> InstanceTypeAdvice {
    let choice = |c: &Candidate, per: f64, round_up: bool| TypeChoice {
        name: c.spec.name.clone(),
        arch: c.spec.arch,
        class: c.spec.class,
        usd_per_hour: c.usd_per_hour,
        instances_per_current: per,
        monthly_usd: monthly(hourly, per, c.usd_per_hour, round_up),
        price_status: c.status,
    };
    let cur = choice(current, 1.0, false);
    let best = |arch: Arch| {
        candidates
            .iter()
            .filter(|c| c.spec.arch == arch && !is_burstable(&c.spec.name))
            .map(|c| choice(c, ratio(current.spec, load, c.spec), true))
            // Near-ties (within 0.5%) go to the fewer, larger instances.
            .min_by(|a, b| {
                let tie = (a.monthly_usd - b.monthly_usd).abs()
                    <= 0.005 * a.monthly_usd.max(b.monthly_usd);
                if tie {
                    a.instances_per_current.total_cmp(&b.instances_per_current)
                } else {
                    a.monthly_usd.total_cmp(&b.monthly_usd)
                }
            })
    };
    let best_x86 = best(Arch::X86_64);
    let best_arm = best(Arch::Arm64);
    let recommended = [best_x86.clone(), best_arm.clone()]
        .into_iter()
        .flatten()
        .filter(|c| c.monthly_usd < cur.monthly_usd * 0.98 && c.name != cur.name)
        .min_by(|a, b| a.monthly_usd.total_cmp(&b.monthly_usd));
    let verdict = if load.memory_peak > 0.9 {
        "undersized"
    } else if load.memory_peak < 0.4 && load.cpu_p95 < 0.5 {
        "oversized"
    } else {
        "fits"
    };
    InstanceTypeAdvice {
        saving: recommended
            .as_ref()
            .map(|r| saving(cur.monthly_usd, r.monthly_usd, 0.0)),
        caveat: recommended
            .as_ref()
            .filter(|r| r.arch != current.spec.arch)
            .map(|_| ARM_CAVEAT),
        current: cur,
        best_x86,
        best_arm,
        recommended,
        verdict,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::Catalog;

    fn cand<'a>(c: &'a Catalog, name: &str) -> Candidate<'a> {
        let (_, spec) = c.instance(name).unwrap();
        let p = c.on_demand(name, "us-east-1").unwrap();
        Candidate {
            spec,
            usd_per_hour: p.usd_per_hour,
            status: p.status,
        }
    }

    #[test]
    fn cpu_bound_fleet_on_memory_optimized_moves_to_compute_and_arm_is_cheapest() {
        let c = Catalog::built_in().unwrap();
        let current = cand(&c, "r5.xlarge");
        // 4 vCPU / 32 GiB, memory peaks at 20% (6.4 GiB): a c-family 4 vCPU / 8 GiB type fits
        // (6.4 x 1.15 = 7.36 GiB).
        let load = InstanceLoad {
            cpu_p95: 0.65,
            memory_peak: 0.2,
            network_peak_gbps: None,
        };
        let names = [
            "r5.xlarge",
            "m5.xlarge",
            "c5.xlarge",
            "c6g.xlarge",
            "m6g.xlarge",
            "t3.xlarge",
        ];
        let cands: Vec<Candidate> = names.iter().map(|n| cand(&c, n)).collect();
        let a = choose(&[10.0; 720], &current, &load, &cands);
        assert_eq!(a.best_x86.as_ref().unwrap().name, "c5.xlarge");
        assert_eq!(a.best_arm.as_ref().unwrap().name, "c6g.xlarge");
        let r = a.recommended.unwrap();
        assert_eq!(r.name, "c6g.xlarge");
        // 10 x r5.xlarge $0.252 -> 10 x c6g.xlarge $0.136: $1,839.60 -> $992.80 a month.
        assert!((a.current.monthly_usd - 1839.6).abs() < 1e-6);
        assert!((r.monthly_usd - 992.8).abs() < 1e-6);
        assert_eq!(a.caveat, Some(ARM_CAVEAT));
        assert!(is_burstable("t3.xlarge") && !is_burstable("t2a-standard-4"));
    }

    #[test]
    fn memory_heavy_fleet_keeps_memory() {
        let c = Catalog::built_in().unwrap();
        let current = cand(&c, "m5.xlarge");
        let load = InstanceLoad {
            cpu_p95: 0.5,
            memory_peak: 0.95,
            network_peak_gbps: None,
        };
        let cands: Vec<Candidate> = ["m5.xlarge", "c5.xlarge", "r5.xlarge"]
            .iter()
            .map(|n| cand(&c, n))
            .collect();
        let a = choose(&[4.0; 100], &current, &load, &cands);
        assert_eq!(a.verdict, "undersized");
        // c5.xlarge (8 GiB) would need 16 x 0.95 x 1.15 / 8 = 2.185 per instance: not cheaper.
        assert_ne!(a.best_x86.unwrap().name, "c5.xlarge");
    }
}

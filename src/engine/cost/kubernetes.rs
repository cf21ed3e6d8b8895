//! Kubernetes workloads costed from their nodes' prices, OpenCost-style: a node's hourly price
//! is split into a per-vCPU and a per-GiB rate (in the proportion of OpenCost's default
//! resource prices), each workload pays for max(request, usage) of CPU and memory, and what the
//! nodes hold beyond every workload's allocation is idle, shown on its own.

use serde::Serialize;

/// OpenCost's default relative prices of one vCPU-hour and one GiB-hour (its default custom
/// pricing: CPU $0.031611, RAM $0.004237), used to split a node price between CPU and RAM.
pub const CPU_WEIGHT: f64 = 0.031611;
pub const RAM_WEIGHT: f64 = 0.004237;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NodeRates {
    pub usd_per_vcpu_hour: f64,
    pub usd_per_gib_hour: f64,
}

pub fn node_rates(node_usd_per_hour: f64, vcpu: f64, memory_gib: f64) -> NodeRates {
    let weight = vcpu * CPU_WEIGHT + memory_gib * RAM_WEIGHT;
    let k = if weight > 0.0 {
        node_usd_per_hour / weight
    } else {
        0.0
    };
    NodeRates {
        usd_per_vcpu_hour: CPU_WEIGHT * k,
        usd_per_gib_hour: RAM_WEIGHT * k,
    }
}

/// One workload's pods in one hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PodHour {
    pub pods: f64,
    pub cpu_request: f64,
    pub memory_request_gib: f64,
    /// Mean usage per pod.
    pub cpu_usage: f64,
    pub memory_usage_gib: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct Allocation {
    /// What the workload is charged: max(request, usage) of each resource.
    pub allocated_usd: f64,
    /// The part of it backed by usage.
    pub used_usd: f64,
    /// Requested but unused (allocated − used): the workload's own slack.
    pub reserved_unused_usd: f64,
    pub cpu_core_hours: f64,
    pub memory_gib_hours: f64,
}

pub fn allocate(hours: &[PodHour], r: &NodeRates) -> Allocation {
    let mut a = Allocation::default();
    for h in hours {
        let cpu = h.cpu_request.max(h.cpu_usage) * h.pods;
        let mem = h.memory_request_gib.max(h.memory_usage_gib) * h.pods;
        let cost = cpu * r.usd_per_vcpu_hour + mem * r.usd_per_gib_hour;
        let used = h.cpu_usage * h.pods * r.usd_per_vcpu_hour
            + h.memory_usage_gib * h.pods * r.usd_per_gib_hour;
        a.allocated_usd += cost;
        a.used_usd += used;
        a.cpu_core_hours += cpu;
        a.memory_gib_hours += mem;
    }
    a.reserved_unused_usd = a.allocated_usd - a.used_usd;
    a
}

/// Nodes needed to hold the allocations of one hour (bin-packing bound: the larger of the
/// CPU and memory quotients, rounded up).
pub fn nodes_needed(cpu: f64, memory_gib: f64, node_vcpu: f64, node_memory_gib: f64) -> f64 {
    (cpu / node_vcpu).max(memory_gib / node_memory_gib).ceil()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opencost_split_and_max_of_request_and_usage() {
        // An n2-standard-4 (4 vCPU, 16 GiB) at $0.194236/h splits exactly into OpenCost's
        // default rates: 4 x 0.031611 + 16 x 0.004237 = 0.194236.
        let r = node_rates(0.194236, 4.0, 16.0);
        assert!((r.usd_per_vcpu_hour - 0.031611).abs() < 1e-12);
        assert!((r.usd_per_gib_hour - 0.004237).abs() < 1e-12);
        // A pod requesting 1 vCPU / 2 GiB that uses 0.3 vCPU and 3 GiB pays for 1 vCPU and
        // 3 GiB: 0.031611 + 3 x 0.004237 = 0.044322 $/h.
        let a = allocate(
            &[PodHour {
                pods: 1.0,
                cpu_request: 1.0,
                memory_request_gib: 2.0,
                cpu_usage: 0.3,
                memory_usage_gib: 3.0,
            }],
            &r,
        );
        assert!((a.allocated_usd - 0.044322).abs() < 1e-12);
        assert!((a.reserved_unused_usd - 0.7 * 0.031611).abs() < 1e-12);
        assert_eq!(nodes_needed(9.0, 10.0, 4.0, 16.0), 3.0);
    }
}

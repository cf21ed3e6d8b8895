//! One simulated group from tick to tick: demand in, replicas (starting, warming, ready, spot
//! interruptions) and the group's policy acting on them, metrics out.

use std::collections::VecDeque;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::demand::{mix_seed, DemandShape, NoiseProcess};
use super::platform_policy::PlatformPolicy;
use super::policy::{self, Observation, PolicyState};
use super::scenario::SimGroup;
use super::spec::GroupKind;
use crate::engine::latency::LatencyTable;
use crate::engine::serverless::{Environments, FunctionStep, LambdaPrices, ProvisionedNow};
use crate::model::MetricKind;

pub const METRIC_COUNT: usize = MetricKind::ALL.len();

/// Values of one tick (or one output step), indexed by `MetricKind as usize`; NaN = not
/// reported by this group.
pub type MetricValues = [f64; METRIC_COUNT];

/// Random stream tags per group.
const NOISE_STREAM: u64 = 1;
const JITTER_STREAM: u64 = 2;
const SPOT_STREAM: u64 = 3;
const USAGE_STREAM: u64 = 4;

/// Spread of one invocation's CPU time around the tier's mean (coefficient of variation): the
/// step's mean over n invocations varies by this / sqrt(n).
const CPU_TIME_CV: f64 = 0.3;

/// Share of full capacity a replica delivers while warming up (cold caches, JIT).
const WARMING_CAPACITY_SHARE: f64 = 0.5;

/// Metrics a group reports.
pub fn reported_metrics(g: &SimGroup) -> Vec<MetricKind> {
    use MetricKind::*;
    let mut m = match g.kind {
        GroupKind::Instances => vec![
            RequestRate,
            CpuUtilization,
            MemoryUtilization,
            NetworkMbps,
            DiskIops,
            LatencyP95Ms,
            LatencyP99Ms,
            ErrorRate,
            ReplicasDesired,
            ReplicasReady,
            ReplicasMin,
            ReplicasMax,
            CostUsdPerHour,
            DroppedRate,
        ],
        GroupKind::Serverless => vec![
            RequestRate,
            Invocations,
            Concurrency,
            Throttles,
            ColdStarts,
            LatencyP95Ms,
            LatencyP99Ms,
            ErrorRate,
            ReplicasDesired,
            ReplicasReady,
            ReplicasMin,
            ReplicasMax,
            CostUsdPerHour,
            DurationMs,
        ],
    };
    if let Some(s) = &g.serverless {
        if s.memory_used_mb.is_some() {
            m.push(MaxMemoryUsedMb);
        }
        if s.cpu_time_ms.is_some() {
            m.push(CpuTotalTimeMs);
        }
    }
    if g.queue {
        m.push(QueueDepth);
    }
    if g.resources.connections_per_rps.is_some() {
        m.push(Connections);
    }
    m.sort();
    m
}

/// Whether an output step reports the last tick's value (gauges of counts) rather than the mean.
pub fn is_last_value(m: MetricKind) -> bool {
    matches!(
        m,
        MetricKind::ReplicasDesired
            | MetricKind::ReplicasReady
            | MetricKind::ReplicasMin
            | MetricKind::ReplicasMax
    )
}

/// Whether an output step reports the largest tick value (a maximum over invocations).
pub fn is_max_value(m: MetricKind) -> bool {
    m == MetricKind::MaxMemoryUsedMb
}

/// Per-invocation means that a tick without invocations leaves out (NaN) rather than voiding
/// the whole step.
pub fn is_mean_of_reported(m: MetricKind) -> bool {
    matches!(m, MetricKind::CpuTotalTimeMs | MetricKind::DurationMs)
}

/// Replicas at the start: what the scenario says for fixed groups; for autoscaled groups
/// enough for the opening demand at 60% utilization, so a run does not open with an overload.
fn initial_replicas(g: &SimGroup, opening_demand_rps: f64) -> u32 {
    match (&g.policy, g.kind) {
        (crate::model::PolicyModel::TargetTracking(_), GroupKind::Instances) => {
            let needed = (opening_demand_rps / (0.6 * g.capacity.capacity_per_replica_rps)).ceil();
            (needed.max(0.0) as u32)
                .max(g.initial_replicas)
                .clamp(g.capacity.min_replicas, g.capacity.max_replicas)
        }
        _ => g.initial_replicas,
    }
}

/// A desired-replica change decided during a tick.
#[derive(Debug, Clone)]
pub struct TickDecision {
    pub from_replicas: u32,
    pub to_replicas: u32,
    pub reason: String,
    pub demand_rps: f64,
}

#[derive(Debug, Clone)]
pub struct GroupSim {
    pub group: SimGroup,
    shape: DemandShape,
    noise: NoiseProcess,
    cpu_jitter: NoiseProcess,
    spot_rng: ChaCha8Rng,
    /// Serverless: draws of memory used and CPU time per invocation.
    usage_rng: ChaCha8Rng,
    policy_state: PolicyState,
    desired: u32,
    ready: u32,
    /// Ready times of replicas still starting, ascending.
    starting: VecDeque<f64>,
    /// End of warm-up of recently ready replicas, ascending.
    warming_until: VecDeque<f64>,
    /// Queue-backed groups: requests waiting beyond what the servers hold.
    backlog_requests: f64,
    /// Serverless: execution environments kept warm.
    environments: Environments,
    latency_table: LatencyTable,
    pub spot_interruptions: u64,
}

impl GroupSim {
    pub fn new(group: &SimGroup, index: usize, seed: u64, start_unix: f64) -> Self {
        let i = index as u64;
        let shape = DemandShape::new(&group.demand, group.utc_offset_seconds, start_unix);
        let initial = initial_replicas(group, shape.rps_at(start_unix));
        Self {
            group: group.clone(),
            shape,
            noise: NoiseProcess::new(
                group.demand.noise,
                group.demand.noise_correlation_seconds,
                mix_seed(seed, &[NOISE_STREAM, i]),
            ),
            cpu_jitter: NoiseProcess::new(
                group.resources.cpu_jitter_percent,
                group.resources.cpu_jitter_correlation_seconds,
                mix_seed(seed, &[JITTER_STREAM, i]),
            ),
            spot_rng: ChaCha8Rng::seed_from_u64(mix_seed(seed, &[SPOT_STREAM, i])),
            usage_rng: ChaCha8Rng::seed_from_u64(mix_seed(seed, &[USAGE_STREAM, i])),
            policy_state: PolicyState::with_platform(PlatformPolicy::for_group(
                group.info.id.platform,
                group.name(),
                &group.policy,
                group.capacity.min_replicas,
                group.capacity.max_replicas,
                group.capacity.capacity_per_replica_rps,
            )),
            desired: initial,
            ready: initial,
            starting: VecDeque::new(),
            warming_until: VecDeque::new(),
            backlog_requests: 0.0,
            environments: Environments::new(f64::from(group.initial_replicas)),
            latency_table: LatencyTable::default(),
            spot_interruptions: 0,
        }
    }

    pub fn shape(&self) -> &DemandShape {
        &self.shape
    }

    /// Simulates [t, t + dt) with the given spike multiplier; writes the tick's metrics.
    pub fn tick(
        &mut self,
        t: f64,
        dt: f64,
        spike_factor: f64,
        out: &mut MetricValues,
    ) -> Option<TickDecision> {
        let demand = self.shape.rps_at(t) * spike_factor * self.noise.step(dt);
        match self.group.kind {
            GroupKind::Instances => self.tick_instances(t, dt, demand, out),
            GroupKind::Serverless => {
                self.tick_serverless(dt, demand, out);
                None
            }
        }
    }

    fn spot_replicas(&self, total: u32) -> u32 {
        match &self.group.spot {
            Some(s) => {
                (f64::from(total.saturating_sub(s.on_demand_base)) * s.spot_share_above_base)
                    .floor() as u32
            }
            None => 0,
        }
    }

    fn interrupt_spot(&mut self, t: f64, dt: f64) {
        let Some(spot) = &self.group.spot else {
            return;
        };
        let p = (spot.interruptions_per_instance_hour * dt / 3600.0).clamp(0.0, 1.0);
        let spot_ready = self.spot_replicas(self.ready);
        let mut lost = 0;
        for _ in 0..spot_ready {
            if self.spot_rng.random::<f64>() < p {
                lost += 1;
            }
        }
        if lost == 0 {
            return;
        }
        // The instances vanish; the group launches replacements to keep desired capacity.
        self.ready -= lost;
        self.spot_interruptions += u64::from(lost);
        let ready_at = t + f64::from(self.group.capacity.startup_seconds);
        for _ in 0..lost {
            self.starting.push_back(ready_at);
        }
        self.starting
            .make_contiguous()
            .sort_by(|a, b| a.total_cmp(b));
    }

    fn tick_instances(
        &mut self,
        t: f64,
        dt: f64,
        demand: f64,
        out: &mut MetricValues,
    ) -> Option<TickDecision> {
        let warmup_seconds = f64::from(self.group.capacity.warmup_seconds);
        while self.starting.front().is_some_and(|&r| r <= t) {
            let ready_at = self.starting.pop_front().unwrap_or(t);
            self.ready += 1;
            self.warming_until.push_back(ready_at + warmup_seconds);
        }
        while self.warming_until.front().is_some_and(|&w| w <= t) {
            self.warming_until.pop_front();
        }
        self.interrupt_spot(t, dt);
        let cap = &self.group.capacity;
        let res = &self.group.resources;
        let warming = (self.warming_until.len() as u32).min(self.ready);

        let effective_replicas =
            f64::from(self.ready) - (1.0 - WARMING_CAPACITY_SHARE) * f64::from(warming);
        let servers = (effective_replicas * f64::from(cap.concurrency_per_replica)).round() as u32;
        let service_time_ms = cap.service_time_ms();
        let capacity_rps = f64::from(servers) * 1000.0 / service_time_ms;

        let offered = demand + self.backlog_requests / dt;
        let lat = self
            .latency_table
            .get(offered, servers, service_time_ms, cap.timeout_ms);
        let served = (offered - lat.dropped_rps).max(0.0);
        let (dropped, backlog_rps) = if self.group.queue {
            (0.0, lat.dropped_rps)
        } else {
            (lat.dropped_rps, 0.0)
        };
        self.backlog_requests = backlog_rps * dt;

        let rho = if capacity_rps > 0.0 {
            (served / capacity_rps).min(1.0)
        } else {
            0.0
        };
        let jitter = self.cpu_jitter.step_additive(dt);
        let cpu = if self.ready > 0 {
            (res.cpu_idle_percent
                + (res.cpu_percent_at_capacity - res.cpu_idle_percent) * rho
                + jitter)
                .clamp(0.0, 100.0)
        } else {
            f64::NAN
        };
        let memory = if self.ready > 0 {
            (res.memory_base_percent
                + (res.memory_percent_at_capacity - res.memory_base_percent) * rho)
                .clamp(0.0, 100.0)
        } else {
            f64::NAN
        };
        let oom_share = if memory > res.memory_errors_above_percent {
            0.5 * (memory - res.memory_errors_above_percent)
                / (100.0 - res.memory_errors_above_percent).max(1.0)
        } else {
            0.0
        };
        let error_rate = if demand > 0.0 {
            ((dropped + served * (res.base_error_rate + oom_share)) / offered.max(demand)).min(1.0)
        } else {
            0.0
        };
        let queue_depth = {
            let u = lat.utilization.min(0.999);
            self.backlog_requests + lat.wait_probability * u / (1.0 - u)
        };
        let connections = res.connections_per_rps.map(|k| demand * k);
        let in_flight = served * service_time_ms / 1000.0;

        let billed = self.ready + self.starting.len() as u32;
        let spot = self.spot_replicas(billed);
        let spot_price = self.group.spot.as_ref().map_or(0.0, |s| s.usd_per_hour);
        let cost =
            f64::from(billed - spot) * cap.usd_per_replica_hour + f64::from(spot) * spot_price;

        use MetricKind::*;
        out[RequestRate as usize] = demand;
        out[CpuUtilization as usize] = cpu;
        out[MemoryUtilization as usize] = memory;
        out[NetworkMbps as usize] = demand * res.network_kb_per_request * 8.0 / 1000.0;
        out[DiskIops as usize] = served * res.disk_ops_per_request;
        out[LatencyP95Ms as usize] = lat.p95_ms;
        out[LatencyP99Ms as usize] = lat.p99_ms;
        out[ErrorRate as usize] = error_rate;
        out[QueueDepth as usize] = queue_depth;
        out[Connections as usize] = connections.unwrap_or(f64::NAN);
        out[ReplicasReady as usize] = f64::from(self.ready);
        out[ReplicasMin as usize] = f64::from(cap.min_replicas);
        out[ReplicasMax as usize] = f64::from(cap.max_replicas);
        out[CostUsdPerHour as usize] = cost;
        out[DroppedRate as usize] = dropped;

        let obs = Observation {
            now_seconds: t,
            ready_replicas: self.ready,
            desired_replicas: self.desired,
            min_replicas: cap.min_replicas,
            max_replicas: cap.max_replicas,
            cpu_utilization: cpu,
            memory_utilization: memory,
            request_rate_rps: demand,
            queue_depth,
            concurrency: in_flight,
            connections: connections.unwrap_or(f64::NAN),
        };
        let decision = policy::decide(&self.group.policy, &mut self.policy_state, &obs);
        let event = decision.map(|d| {
            let from = self.desired;
            self.set_desired(t, d.desired_replicas);
            TickDecision {
                from_replicas: from,
                to_replicas: d.desired_replicas,
                reason: d.reason,
                demand_rps: demand,
            }
        });
        out[ReplicasDesired as usize] = f64::from(self.desired);
        event
    }

    fn set_desired(&mut self, t: f64, to: u32) {
        let cap = &self.group.capacity;
        if to > self.desired {
            let add = to - self.desired;
            for k in 0..add {
                let startup = if k < cap.warm_pool_size {
                    cap.warm_pool_startup_seconds
                } else {
                    cap.startup_seconds
                };
                self.starting.push_back(t + f64::from(startup));
            }
            self.starting
                .make_contiguous()
                .sort_by(|a, b| a.total_cmp(b));
        } else {
            let mut remove = self.desired - to;
            // Cancel launches that have not finished first, then terminate ready replicas.
            while remove > 0 && self.starting.pop_back().is_some() {
                remove -= 1;
            }
            let from_ready = remove.min(self.ready);
            self.ready -= from_ready;
            for _ in 0..from_ready {
                if self.warming_until.pop_back().is_none() {
                    break;
                }
            }
        }
        self.desired = to;
    }

    fn tick_serverless(&mut self, dt: f64, demand: f64, out: &mut MetricValues) {
        let Some(fs) = &self.group.serverless else {
            return;
        };
        let cap = &self.group.capacity;
        let provisioned = f64::from(fs.provisioned_concurrency);
        let step = self.environments.step(
            &fs.function_model(),
            LambdaPrices::built_in_x86(),
            ProvisionedNow::steady(provisioned),
            dt,
            demand,
            &mut self.latency_table,
        );
        let FunctionStep {
            concurrency,
            served_rps: served,
            throttled_rps: throttled,
            cold_starts_per_second,
            p95_ms: p95,
            p99_ms: p99,
            cost_usd_per_hour: cost,
            ..
        } = step;
        let error_rate = if demand > 0.0 {
            (throttled + served * self.group.resources.base_error_rate) / demand
        } else {
            0.0
        };
        let environments = concurrency.ceil().max(provisioned);
        // Invocations served this tick (all functions of the tier).
        let n = served * dt;
        let (max_memory, cpu_time, duration) = if n >= 0.5 {
            let (memory_used, cpu_mean, duration_ms, skew) = (
                fs.memory_used_mb,
                fs.cpu_time_ms,
                fs.duration_ms,
                fs.memory_used_skew,
            );
            let share_ms = duration_ms * crate::engine::serverless::vcpus(f64::from(fs.memory_mb));
            (
                memory_used.map_or(f64::NAN, |[lo, hi]| {
                    max_memory_used(lo, hi, skew, n, self.usage_rng.random::<f64>())
                }),
                cpu_mean.map_or(f64::NAN, |c| {
                    let z: f64 = self.usage_rng.sample(rand_distr::StandardNormal);
                    (c * (1.0 + CPU_TIME_CV * z / n.sqrt())).clamp(0.0, share_ms)
                }),
                duration_ms,
            )
        } else {
            (f64::NAN, f64::NAN, f64::NAN)
        };

        use MetricKind::*;
        out[RequestRate as usize] = demand;
        out[Invocations as usize] = demand;
        out[Concurrency as usize] = concurrency;
        out[Throttles as usize] = throttled;
        out[ColdStarts as usize] = cold_starts_per_second;
        out[LatencyP95Ms as usize] = p95;
        out[LatencyP99Ms as usize] = p99;
        out[ErrorRate as usize] = error_rate;
        out[ReplicasDesired as usize] = environments;
        out[ReplicasReady as usize] = environments;
        out[ReplicasMin as usize] = f64::from(cap.min_replicas);
        out[ReplicasMax as usize] = f64::from(cap.max_replicas);
        out[CostUsdPerHour as usize] = cost;
        out[QueueDepth as usize] = 0.0;
        out[Connections as usize] = f64::NAN;
        out[MaxMemoryUsedMb as usize] = max_memory;
        out[CpuTotalTimeMs as usize] = cpu_time;
        out[DurationMs as usize] = duration;
    }
}

/// The largest memory used by `n` invocations, each using lo + (hi - lo) x U^skew: that share
/// X has P(X <= x) = x^(1/skew), so the largest of n has P = x^(n/skew), drawn from one
/// uniform `v` as v^(skew/n) (no need to draw every invocation).
pub fn max_memory_used(lo: f64, hi: f64, skew: f64, n: f64, v: f64) -> f64 {
    lo + (hi - lo) * v.clamp(0.0, 1.0).powf(skew / n.max(1.0))
}

#[cfg(test)]
mod tests {
    use super::max_memory_used;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn largest_of_n_drawn_at_once_matches_drawing_every_invocation() {
        // Invocations use 100 + 200 x U^2 MB. The largest of 20, drawn invocation by
        // invocation, against one draw of the closed form: the share's maximum has CDF
        // x^(20/2), mean 10/11, so the mean largest is 100 + 200 x 10/11 = 281.8 MB.
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let trials = 20_000;
        let (mut explicit, mut closed) = (0.0, 0.0);
        for _ in 0..trials {
            explicit += (0..20)
                .map(|_| 100.0 + 200.0 * rng.random::<f64>().powi(2))
                .fold(0.0, f64::max);
            closed += max_memory_used(100.0, 300.0, 2.0, 20.0, rng.random::<f64>());
        }
        let expect = 100.0 + 200.0 * 10.0 / 11.0;
        for got in [explicit / trials as f64, closed / trials as f64] {
            assert!((got - expect).abs() < 1.0, "{got} vs {expect}");
        }
        // One invocation is the distribution itself; the bounds hold at the ends.
        assert_eq!(max_memory_used(100.0, 300.0, 1.0, 1.0, 0.5), 200.0);
        assert_eq!(max_memory_used(100.0, 300.0, 3.0, 50.0, 0.0), 100.0);
        assert_eq!(max_memory_used(100.0, 300.0, 3.0, 50.0, 1.0), 300.0);
    }
}

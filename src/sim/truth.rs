//! The planted ground truth of a scenario over an export span (`sim export --truth`): periods,
//! dated events, spike times, pitfalls, waste and unmeetable targets, all derived from the
//! scenario definition (never from simulated output) so tests can check the product against it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::demand::DemandShape;
use super::export::ExportSpec;
use super::scenario::{Scenario, SimGroup};
use super::spec::{CommitmentSpec, GroupKind, RegionLatency, SpotSpec};
use super::spikes::{spike_extent_seconds, spikes_between};
use crate::model::{GroupId, MetricKind, PolicyModel};

pub const TRUTH_SCHEMA: &str = "scaletop.sim-truth/v1";
const DAY_SECONDS: u64 = 86_400;
const WEEK_SECONDS: u64 = 7 * DAY_SECONDS;
const YEAR_SECONDS: u64 = 31_556_952;
/// Utilization a group needs to stay under when its policy does not say (for waste figures).
const DEFAULT_TARGET_UTILIZATION: f64 = 0.7;
const HOURS_PER_MONTH: f64 = 730.0;

#[derive(Debug, Clone, Serialize)]
pub struct Truth {
    pub schema: &'static str,
    pub scenario: String,
    pub title: String,
    pub seed: u64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub step_seconds: u64,
    /// Seasonal periods planted in the demand.
    pub periods_seconds: Vec<u64>,
    pub groups: Vec<GroupTruth>,
    /// Dated events within the span.
    pub events: Vec<EventTruth>,
    /// Random spikes within the span (they depend on the seed).
    pub spikes: Vec<SpikeTruth>,
    pub pitfalls: Vec<PitfallTruth>,
    pub waste: Vec<WasteTruth>,
    pub unmet_targets: Vec<UnmetTarget>,
    pub commitments: Vec<CommitmentSpec>,
    pub region_latency_ms: Vec<RegionLatency>,
    pub goals: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupTruth {
    pub group: String,
    pub id: GroupId,
    pub kind: GroupKind,
    pub instance_type: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub utc_offset_hours: f64,
    /// Off-peak demand the daily profile is relative to, req/s.
    pub base_rps: f64,
    /// `[local_hour, factor]` points of the daily cycle.
    pub daily_profile: Vec<[f64; 2]>,
    /// Local hour of the daily maximum of the profile.
    pub daily_peak_local_hour: f64,
    /// Monday..Sunday.
    pub weekly_factors: [f64; 7],
    pub yearly_amplitude: f64,
    pub growth_per_year: f64,
    pub noise: f64,
    /// Expected (noise-free) demand over the span, req/s.
    pub expected_mean_rps: f64,
    pub expected_peak_rps: f64,
    /// Highest spike multiplier that can hit this group.
    pub max_spike_multiplier: f64,
    /// What saturates first: cpu, memory or concurrency.
    pub bottleneck: String,
    pub scaling_metrics: Vec<MetricKind>,
    pub max_capacity_rps: f64,
    pub planted: Vec<String>,
    pub spot: Option<SpotSpec>,
    /// Serverless tiers: what the invocations use, from the scenario's definition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_usage: Option<FunctionUsageTruth>,
}

/// A serverless tier's memory and CPU ground truth (what memory rightsizing must find).
#[derive(Debug, Clone, Serialize)]
pub struct FunctionUsageTruth {
    pub memory_mb: u32,
    /// [least, most] memory an invocation uses, MB.
    pub memory_used_mb: Option<[f64; 2]>,
    pub cpu_time_ms: Option<f64>,
    pub duration_ms: f64,
    /// cpu_time_ms / duration_ms.
    pub vcpus_used: Option<f64>,
    /// vCPUs memory_mb allocates (1,769 MB = 1 vCPU).
    pub vcpus_allocated: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventTruth {
    pub name: String,
    pub group: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub multiplier: f64,
    pub expected_peak_rps: f64,
    /// Expected peak over the group's base (off-peak) demand.
    pub peak_to_baseline: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SpikeTruth {
    pub process: String,
    pub groups: Vec<String>,
    pub start: DateTime<Utc>,
    /// End of the rise: the spike's full height is reached here.
    pub peak_at: DateTime<Utc>,
    /// Effect below a few percent of the peak after this.
    pub end: DateTime<Utc>,
    pub multiplier: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PitfallTruth {
    pub group: String,
    pub kind: String,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WasteTruth {
    pub group: String,
    /// Replicas the policy keeps at least (min, or the fixed count).
    pub floor_replicas: u32,
    /// Mean replicas the expected demand needs at the target utilization.
    pub needed_replicas_mean: f64,
    /// Mean replicas kept: max(floor, needed).
    pub provisioned_replicas_mean: f64,
    /// Share of provisioned replica-hours not needed.
    pub waste_share: f64,
    pub waste_usd_month: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnmetTarget {
    pub group: String,
    pub target: String,
    pub reason: String,
}

/// Computes the ground truth of `s` over the export span of `spec`.
pub fn truth(s: &Scenario, spec: &ExportSpec) -> Truth {
    let start = s.start();
    let start_unix = start.timestamp();
    let end_unix = start_unix + (spec.steps() * spec.step_seconds) as i64;
    let groups = s.sim_groups();

    let spikes: Vec<SpikeTruth> = s
        .spike_processes()
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            let affected: Vec<String> = groups
                .iter()
                .filter(|g| g.spike_processes.contains(&i))
                .map(|g| g.name().to_string())
                .collect();
            spikes_between(p, i, spec.seed, start_unix, end_unix)
                .into_iter()
                .map(move |sp| SpikeTruth {
                    process: p.name.clone(),
                    groups: affected.clone(),
                    start: sp.start(),
                    peak_at: at(sp.start_unix + p.rise_seconds as i64),
                    end: at(sp.start_unix + spike_extent_seconds(p) as i64),
                    multiplier: sp.multiplier,
                })
        })
        .collect();

    let stride = spec.step_seconds.max(600) as i64;
    let mut group_truths = Vec::new();
    let mut events = Vec::new();
    let mut pitfalls = Vec::new();
    let mut waste = Vec::new();
    let mut unmet = Vec::new();
    for g in groups {
        let shape = DemandShape::new(&g.demand, g.utc_offset_seconds, start_unix as f64);
        let (mean, peak) = mean_and_peak(&shape, start_unix, end_unix, stride);
        let max_spike = g
            .spike_processes
            .iter()
            .map(|&i| s.spike_processes()[i].multiplier_max)
            .fold(1.0, f64::max);
        for e in &g.demand.events {
            let (es, ee) = (
                e.start.timestamp(),
                e.start.timestamp() + (e.duration_hours * 3600.0) as i64,
            );
            if ee <= start_unix || es >= end_unix {
                continue;
            }
            let (_, event_peak) = mean_and_peak(&shape, es, ee, 300);
            events.push(EventTruth {
                name: e.name.clone(),
                group: g.name().to_string(),
                start: e.start,
                end: at(ee),
                multiplier: e.multiplier,
                expected_peak_rps: event_peak,
                peak_to_baseline: event_peak / g.demand.base_rps.max(f64::MIN_POSITIVE),
            });
        }
        let max_capacity_rps =
            f64::from(g.capacity.max_replicas) * g.capacity.capacity_per_replica_rps;
        let bottleneck = bottleneck(g);
        let scaling_metrics = scaling_metrics(&g.policy);
        pitfalls.extend(planted_pitfalls(g, &bottleneck, &scaling_metrics));
        unmet.extend(unmet_targets(g, peak, max_spike, max_capacity_rps));
        if g.kind == GroupKind::Instances {
            waste.push(waste_of(g, &shape, start_unix, end_unix, stride));
        }
        group_truths.push(GroupTruth {
            group: g.name().to_string(),
            id: g.info.id.clone(),
            kind: g.kind,
            instance_type: g.info.instance_type.clone(),
            labels: g.info.labels.clone(),
            utc_offset_hours: g.utc_offset_seconds / 3600.0,
            base_rps: g.demand.base_rps,
            daily_profile: g.demand.daily.clone(),
            daily_peak_local_hour: g
                .demand
                .daily
                .iter()
                .fold((0.0, f64::MIN), |best, p| {
                    if p[1] > best.1 {
                        (p[0], p[1])
                    } else {
                        best
                    }
                })
                .0,
            weekly_factors: g.demand.weekly,
            yearly_amplitude: g.demand.yearly_amplitude,
            growth_per_year: g.demand.growth_per_year,
            noise: g.demand.noise,
            expected_mean_rps: mean,
            expected_peak_rps: peak,
            max_spike_multiplier: max_spike,
            bottleneck,
            scaling_metrics,
            max_capacity_rps,
            planted: g.planted.clone(),
            spot: g.spot.clone(),
            function_usage: g.serverless.as_ref().map(|f| FunctionUsageTruth {
                memory_mb: f.memory_mb,
                memory_used_mb: f.memory_used_mb,
                cpu_time_ms: f.cpu_time_ms,
                duration_ms: f.duration_ms,
                vcpus_used: f.cpu_time_ms.map(|c| c / f.duration_ms),
                vcpus_allocated: crate::engine::serverless::vcpus(f64::from(f.memory_mb)),
            }),
        });
    }

    let mut periods = Vec::new();
    if groups.iter().any(|g| g.demand.daily.len() > 1) {
        periods.push(DAY_SECONDS);
    }
    if groups
        .iter()
        .any(|g| g.demand.weekly.iter().any(|&w| w != g.demand.weekly[0]))
    {
        periods.push(WEEK_SECONDS);
    }
    if groups.iter().any(|g| g.demand.yearly_amplitude != 0.0) {
        periods.push(YEAR_SECONDS);
    }

    Truth {
        schema: TRUTH_SCHEMA,
        scenario: s.name().to_string(),
        title: s.title().to_string(),
        seed: spec.seed,
        start,
        end: at(end_unix),
        step_seconds: spec.step_seconds,
        periods_seconds: periods,
        groups: group_truths,
        events,
        spikes,
        pitfalls,
        waste,
        unmet_targets: unmet,
        commitments: s.commitments().to_vec(),
        region_latency_ms: s.region_latency().to_vec(),
        goals: s.goals().to_vec(),
    }
}

fn at(unix: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix, 0).unwrap_or_default()
}

fn mean_and_peak(shape: &DemandShape, from: i64, to: i64, stride: i64) -> (f64, f64) {
    let (mut sum, mut n, mut peak) = (0.0, 0u64, 0.0f64);
    let mut t = from;
    while t < to {
        let v = shape.rps_at(t as f64);
        sum += v;
        n += 1;
        peak = peak.max(v);
        t += stride;
    }
    (if n > 0 { sum / n as f64 } else { 0.0 }, peak)
}

fn bottleneck(g: &SimGroup) -> String {
    match g.kind {
        GroupKind::Serverless => "concurrency".into(),
        GroupKind::Instances
            if g.resources.memory_percent_at_capacity > g.resources.cpu_percent_at_capacity =>
        {
            "memory".into()
        }
        GroupKind::Instances => "cpu".into(),
    }
}

fn scaling_metrics(p: &PolicyModel) -> Vec<MetricKind> {
    match p {
        PolicyModel::TargetTracking(tt) => tt.targets.iter().map(|t| t.metric).collect(),
        _ => Vec::new(),
    }
}

/// Utilization (share of replica capacity) the policy aims for.
fn target_utilization(g: &SimGroup) -> f64 {
    let r = &g.resources;
    match &g.policy {
        PolicyModel::TargetTracking(tt) => tt
            .targets
            .iter()
            .filter_map(|t| match t.metric {
                MetricKind::CpuUtilization => Some(
                    (t.target - r.cpu_idle_percent)
                        / (r.cpu_percent_at_capacity - r.cpu_idle_percent),
                ),
                MetricKind::MemoryUtilization => Some(
                    (t.target - r.memory_base_percent)
                        / (r.memory_percent_at_capacity - r.memory_base_percent),
                ),
                MetricKind::RequestRate => Some(t.target / g.capacity.capacity_per_replica_rps),
                _ => None,
            })
            .map(|u| u.clamp(0.05, 1.0))
            .fold(None, |acc: Option<f64>, u| {
                Some(acc.map_or(u, |a| a.min(u)))
            })
            .unwrap_or(DEFAULT_TARGET_UTILIZATION),
        _ => DEFAULT_TARGET_UTILIZATION,
    }
}

fn waste_of(g: &SimGroup, shape: &DemandShape, from: i64, to: i64, stride: i64) -> WasteTruth {
    let floor = match &g.policy {
        PolicyModel::Fixed { replicas } => *replicas,
        _ => g.capacity.min_replicas,
    };
    // Waste is judged against a sensible target (70%), whatever the policy's own target.
    let per_replica = g.capacity.capacity_per_replica_rps * DEFAULT_TARGET_UTILIZATION;
    let (mut needed_sum, mut kept_sum, mut n) = (0.0, 0.0, 0.0);
    let mut t = from;
    while t < to {
        let needed = (shape.rps_at(t as f64) / per_replica).ceil().max(1.0);
        let kept = needed
            .max(f64::from(floor))
            .min(f64::from(g.capacity.max_replicas));
        needed_sum += needed.min(f64::from(g.capacity.max_replicas));
        kept_sum += kept;
        n += 1.0;
        t += stride;
    }
    let (needed_mean, kept_mean) = if n > 0.0 {
        (needed_sum / n, kept_sum / n)
    } else {
        (0.0, 0.0)
    };
    let share = if kept_mean > 0.0 {
        (1.0 - needed_mean / kept_mean).max(0.0)
    } else {
        0.0
    };
    WasteTruth {
        group: g.name().to_string(),
        floor_replicas: floor,
        needed_replicas_mean: needed_mean,
        provisioned_replicas_mean: kept_mean,
        waste_share: share,
        waste_usd_month: (kept_mean - needed_mean)
            * g.capacity.usd_per_replica_hour
            * HOURS_PER_MONTH,
    }
}

fn planted_pitfalls(g: &SimGroup, bottleneck: &str, scaling: &[MetricKind]) -> Vec<PitfallTruth> {
    let mut out: Vec<PitfallTruth> = g
        .planted
        .iter()
        .map(|tag| PitfallTruth {
            group: g.name().to_string(),
            kind: tag.clone(),
            detail: describe_planted(tag, g),
        })
        .collect();
    let wrong_metric = bottleneck == "memory"
        && !scaling.is_empty()
        && !scaling.contains(&MetricKind::MemoryUtilization);
    if wrong_metric && !g.planted.iter().any(|t| t == "wrong_metric") {
        out.push(PitfallTruth {
            group: g.name().to_string(),
            kind: "wrong_metric".into(),
            detail: "memory saturates first but the policy scales on CPU".into(),
        });
    }
    out
}

fn describe_planted(tag: &str, g: &SimGroup) -> String {
    let policy = g.policy.summary();
    match tag {
        "thrash" => format!(
            "CPU jitter of {} points against {policy} with a short scale-down window reverses scaling within minutes",
            g.resources.cpu_jitter_percent
        ),
        "memory_bound" => format!(
            "memory reaches {}% at capacity while CPU reaches {}%; {policy} never sees the pressure",
            g.resources.memory_percent_at_capacity, g.resources.cpu_percent_at_capacity
        ),
        "control" => "same demand and policy as its planted neighbour, CPU-bound: scaling on CPU is right".into(),
        "over_provisioned" => format!(
            "min replicas {} far above what demand needs",
            g.capacity.min_replicas
        ),
        "cold_start" => "cold starts add latency on bursts".into(),
        "throttling" => "bursts exceed the concurrency limit and are throttled".into(),
        "slow_scale_up" => format!(
            "replicas take {} s to start and the policy steps slowly",
            g.capacity.startup_seconds
        ),
        "premature_scale_down" => "scale-down window shorter than the gaps between bursts".into(),
        "spot" => "spot replicas are reclaimed at random; replacements take a full startup".into(),
        "fixed_capacity" => format!("{policy}: sized for its own peak, idle off-peak"),
        "hand_scaled" => format!("{policy}: scaled by hand, not by load"),
        other => other.to_string(),
    }
}

fn unmet_targets(
    g: &SimGroup,
    peak_rps: f64,
    max_spike: f64,
    max_capacity_rps: f64,
) -> Vec<UnmetTarget> {
    let mut out = Vec::new();
    let name = g.name().to_string();
    let slo_scale = g
        .info
        .slo
        .as_ref()
        .map(|s| s.max_time_to_scale_seconds)
        .unwrap_or(u32::MAX);
    let fastest_start = if g.capacity.warm_pool_size > 0 {
        g.capacity
            .warm_pool_startup_seconds
            .min(g.capacity.startup_seconds)
    } else {
        g.capacity.startup_seconds
    };
    if g.kind == GroupKind::Instances && fastest_start > slo_scale {
        out.push(UnmetTarget {
            group: name.clone(),
            target: format!("scale up within {slo_scale} s"),
            reason: format!("a replica takes {fastest_start} s to provision and start"),
        });
    }
    let worst = peak_rps * max_spike;
    if worst > max_capacity_rps {
        out.push(UnmetTarget {
            group: name.clone(),
            target: "serve the expected peak".into(),
            reason: format!(
                "expected peak {:.0} req/s exceeds capacity at max replicas ({:.0} req/s)",
                worst, max_capacity_rps
            ),
        });
    } else if g.kind == GroupKind::Instances {
        let u = target_utilization(g);
        if worst > max_capacity_rps * u && !matches!(g.policy, PolicyModel::Fixed { .. }) {
            out.push(UnmetTarget {
                group: name,
                target: format!(
                    "hold the target utilization ({:.0}% of capacity) at peak",
                    u * 100.0
                ),
                reason: format!(
                    "expected peak {:.0} req/s needs more than max replicas {} at the target",
                    worst, g.capacity.max_replicas
                ),
            });
        }
    }
    out
}

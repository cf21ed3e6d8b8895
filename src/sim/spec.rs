//! The scenario file format (`assets/scenarios/*.toml`), parsed with serde. Unknown fields are
//! errors so a typo in a scenario never silently changes what it simulates.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{MetricKind, Platform};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    pub name: String,
    pub title: String,
    pub description: String,
    pub platform: Platform,
    /// Default scope of the groups (namespace, account/region, ...).
    pub scope: String,
    /// First simulated instant; exports and the live demo start here.
    pub start: DateTime<Utc>,
    #[serde(default)]
    pub commitments: Vec<CommitmentSpec>,
    /// Random demand spikes shared by several groups (viral streams, batch storms).
    #[serde(default)]
    pub spikes: Vec<SpikeProcessSpec>,
    /// Round-trip latency between regions (multi-region scenarios).
    #[serde(default)]
    pub region_latency: Vec<RegionLatency>,
    /// Extra goals the brief states that the product must check (and flag when unmeetable).
    #[serde(default)]
    pub goals: Vec<String>,
    pub groups: Vec<GroupSpec>,
}

/// An existing reserved instance / savings plan / reserved DB instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommitmentSpec {
    /// `reserved_instance`, `savings_plan` or `reserved_db_instance`.
    pub kind: String,
    #[serde(default)]
    pub instance_type: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub count: Option<u32>,
    /// Savings plans: committed spend per hour.
    #[serde(default)]
    pub commitment_usd_per_hour: Option<f64>,
    /// Effective hourly price per committed instance (reserved instances).
    #[serde(default)]
    pub effective_usd_per_hour: Option<f64>,
    pub term_months: u32,
    /// `no_upfront`, `partial_upfront` or `all_upfront`.
    pub payment: String,
    pub starts: DateTime<Utc>,
    pub ends: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionLatency {
    pub from: String,
    pub to: String,
    pub rtt_ms: f64,
}

/// A Poisson process of spikes: `rate_per_day` on average, each multiplying the demand of
/// `groups` by a factor drawn log-uniformly from [multiplier_min, multiplier_max].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpikeProcessSpec {
    pub name: String,
    /// Group names affected (empty: all groups).
    #[serde(default)]
    pub groups: Vec<String>,
    pub rate_per_day: f64,
    pub multiplier_min: f64,
    pub multiplier_max: f64,
    pub rise_seconds: f64,
    pub hold_seconds: f64,
    /// Time constant of the exponential fall after the hold.
    pub decay_seconds: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// VMs / pods / DB replicas behind a scaling policy.
    #[default]
    Instances,
    /// Lambda-style functions: one execution environment per concurrent request.
    Serverless,
}

/// One group, or a template of several (`names`) that share everything but the name and a
/// deterministic spread of the base demand (`vary`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub names: Vec<String>,
    /// Relative spread of base demand across a template's groups (0.5: 0.5x-1.5x).
    #[serde(default)]
    pub vary: f64,
    #[serde(default)]
    pub kind: GroupKind,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub instance_type: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Offset of the group's local time from UTC (drives the daily/weekly cycle).
    #[serde(default)]
    pub utc_offset_hours: f64,
    pub demand: DemandSpec,
    #[serde(default)]
    pub capacity: Option<CapacitySpec>,
    #[serde(default)]
    pub serverless: Option<ServerlessSpec>,
    #[serde(default)]
    pub resources: ResourceSpec,
    #[serde(default)]
    pub policy: Option<PolicySpec>,
    #[serde(default)]
    pub slo: SloSpec,
    #[serde(default)]
    pub spot: Option<SpotSpec>,
    /// What the product must find in this group (truth), e.g. "thrash", "memory_bound".
    #[serde(default)]
    pub planted: Vec<String>,
    /// Whether the group reports queue depth (queue-backed workers keep a backlog instead of
    /// dropping requests).
    #[serde(default)]
    pub queue: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemandSpec {
    /// Off-peak (night) request rate, req/s.
    pub base_rps: f64,
    /// Daily profile: `[local_hour, factor]` points, linear in between, wrapping at 24.
    #[serde(default)]
    pub daily: Vec<[f64; 2]>,
    /// Factors Monday..Sunday.
    #[serde(default = "ones7")]
    pub weekly: [f64; 7],
    #[serde(default)]
    pub yearly_amplitude: f64,
    /// Day of year (1-366) of the yearly maximum.
    #[serde(default)]
    pub yearly_peak_day: f64,
    /// Compound growth per year (0.2 = +20%/year).
    #[serde(default)]
    pub growth_per_year: f64,
    /// Relative demand noise (log-normal AR(1)).
    #[serde(default = "default_noise")]
    pub noise: f64,
    #[serde(default = "default_noise_correlation")]
    pub noise_correlation_seconds: f64,
    #[serde(default)]
    pub events: Vec<EventSpec>,
}

fn ones7() -> [f64; 7] {
    [1.0; 7]
}
fn default_noise() -> f64 {
    0.03
}
fn default_noise_correlation() -> f64 {
    900.0
}

/// A dated event (Black Friday, a launch): demand x `multiplier` from `start` for
/// `duration_hours`, ramping linearly over `ramp_hours` on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    pub name: String,
    pub start: DateTime<Utc>,
    pub duration_hours: f64,
    pub multiplier: f64,
    #[serde(default)]
    pub ramp_hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapacitySpec {
    pub capacity_per_replica_rps: f64,
    pub concurrency_per_replica: u32,
    pub startup_seconds: u32,
    #[serde(default)]
    pub warmup_seconds: u32,
    pub min_replicas: u32,
    pub max_replicas: u32,
    #[serde(default)]
    pub warm_pool_size: u32,
    #[serde(default)]
    pub warm_pool_startup_seconds: u32,
    pub usd_per_replica_hour: f64,
    pub timeout_ms: f64,
    /// Replicas running when the simulation starts (default: min).
    #[serde(default)]
    pub initial_replicas: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerlessSpec {
    /// Functions represented by this tier.
    pub functions: u32,
    pub memory_mb: u32,
    pub duration_ms: f64,
    pub cold_start_ms: f64,
    /// Concurrent executions available to the tier (account default share or reserved).
    pub concurrency_limit: u32,
    #[serde(default)]
    pub provisioned_concurrency: u32,
    pub timeout_ms: f64,
    /// Seconds an idle execution environment is kept warm.
    #[serde(default = "default_keep_warm")]
    pub keep_warm_seconds: f64,
    /// Ground truth of the memory the invocations actually use, MB: [least, most]. Each
    /// invocation uses least + (most - least) x U^memory_used_skew (U uniform), so a skew above
    /// 1 makes the large invocations rare. Absent: the tier reports no memory used.
    #[serde(default)]
    pub memory_used_mb: Option<[f64; 2]>,
    #[serde(default = "default_skew")]
    pub memory_used_skew: f64,
    /// Ground truth of CPU time (user + system) per invocation, ms, mean. Absent: the tier
    /// reports no CPU time (as a function without Lambda Insights).
    #[serde(default)]
    pub cpu_time_ms: Option<f64>,
}

fn default_keep_warm() -> f64 {
    600.0
}

fn default_skew() -> f64 {
    1.0
}

impl ServerlessSpec {
    /// The tier as the shared function model (engine::serverless).
    pub fn function_model(&self) -> crate::engine::serverless::FunctionModel {
        crate::engine::serverless::FunctionModel {
            memory_mb: self.memory_mb,
            duration_ms: self.duration_ms,
            cold_start_ms: self.cold_start_ms,
            concurrency_limit: self.concurrency_limit,
            timeout_ms: self.timeout_ms,
            keep_warm_seconds: self.keep_warm_seconds,
        }
    }
}

/// How demand turns into CPU, memory, network and disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResourceSpec {
    pub cpu_idle_percent: f64,
    /// CPU of a replica serving at its full capacity (100 for CPU-bound services; lower when
    /// memory or I/O is what limits the replica).
    pub cpu_percent_at_capacity: f64,
    /// Load-independent CPU noise (GC, background jobs), percentage points.
    pub cpu_jitter_percent: f64,
    pub cpu_jitter_correlation_seconds: f64,
    pub memory_base_percent: f64,
    pub memory_percent_at_capacity: f64,
    /// Above this memory utilization requests start failing (OOM kills, evictions).
    pub memory_errors_above_percent: f64,
    pub network_kb_per_request: f64,
    pub disk_ops_per_request: f64,
    pub base_error_rate: f64,
    /// Open connections per req/s (e.g. concurrent players per request rate).
    pub connections_per_rps: Option<f64>,
}

impl Default for ResourceSpec {
    fn default() -> Self {
        ResourceSpec {
            cpu_idle_percent: 5.0,
            cpu_percent_at_capacity: 100.0,
            cpu_jitter_percent: 1.0,
            cpu_jitter_correlation_seconds: 120.0,
            memory_base_percent: 30.0,
            memory_percent_at_capacity: 60.0,
            memory_errors_above_percent: 95.0,
            network_kb_per_request: 8.0,
            disk_ops_per_request: 0.05,
            base_error_rate: 0.0005,
            connections_per_rps: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum PolicySpec {
    TargetTracking {
        targets: Vec<TargetSpec>,
        #[serde(default = "default_tolerance")]
        tolerance: f64,
        #[serde(default)]
        scale_up_cooldown_seconds: u32,
        #[serde(default = "default_stabilization")]
        scale_down_stabilization_seconds: u32,
    },
    Fixed {
        replicas: u32,
    },
}

fn default_tolerance() -> f64 {
    0.1
}
fn default_stabilization() -> u32 {
    300
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    pub metric: MetricKind,
    pub target: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SloSpec {
    pub p95_latency_ms: f64,
    pub p99_latency_ms: Option<f64>,
    pub error_rate: f64,
    pub availability: f64,
    pub max_time_to_scale_seconds: u32,
}

impl Default for SloSpec {
    fn default() -> Self {
        let d = crate::model::Slo::default();
        SloSpec {
            p95_latency_ms: d.p95_latency_ms,
            p99_latency_ms: d.p99_latency_ms,
            error_rate: d.error_rate,
            availability: d.availability,
            max_time_to_scale_seconds: d.max_time_to_scale_seconds,
        }
    }
}

/// Spot usage of an instance group: replicas above `on_demand_base` run
/// `spot_share_above_base` on spot, priced at `usd_per_hour`, each interrupted at
/// `interruptions_per_instance_hour` (the ASG launches a replacement).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpotSpec {
    pub on_demand_base: u32,
    pub spot_share_above_base: f64,
    pub usd_per_hour: f64,
    pub interruptions_per_instance_hour: f64,
}

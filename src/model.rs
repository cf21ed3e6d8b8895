//! Shared domain types (../shared/CONTRACTS.md). One definition of each; other modules extend
//! these rather than fork them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a group lives. Joins the same group seen through Prometheus labels and a platform API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    K8s,
    Aws,
    Gcp,
    Azure,
    Sim,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::K8s => "k8s",
            Platform::Aws => "aws",
            Platform::Gcp => "gcp",
            Platform::Azure => "azure",
            Platform::Sim => "sim",
        }
    }
}

impl FromStr for Platform {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "k8s" | "kubernetes" => Ok(Platform::K8s),
            "aws" => Ok(Platform::Aws),
            "gcp" => Ok(Platform::Gcp),
            "azure" => Ok(Platform::Azure),
            "sim" => Ok(Platform::Sim),
            other => Err(format!(
                "unknown platform '{other}' (expected k8s, aws, gcp, azure or sim)"
            )),
        }
    }
}

/// Identity of a scaling group: platform, scope (namespace / account+region / project+zone /
/// subscription+resource group) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupId {
    pub platform: Platform,
    pub scope: String,
    pub name: String,
}

impl GroupId {
    pub fn new(platform: Platform, scope: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            platform,
            scope: scope.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.platform.as_str(), self.scope, self.name)
    }
}

/// The metrics scaletop knows by meaning. Names (`as_str`) are the `metric` column of long-form
/// CSV and stay stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// Requests per second arriving at the group (demand).
    RequestRate,
    /// Mean CPU utilization of ready replicas, percent of the request (0-100+).
    CpuUtilization,
    /// Mean memory utilization of ready replicas, percent of the request.
    MemoryUtilization,
    /// Network throughput of the group, megabits per second.
    NetworkMbps,
    /// Disk operations per second of the group.
    DiskIops,
    LatencyP95Ms,
    LatencyP99Ms,
    /// Share of requests failing (0-1).
    ErrorRate,
    QueueDepth,
    Connections,
    ReplicasDesired,
    ReplicasReady,
    ReplicasMin,
    ReplicasMax,
    CostUsdPerHour,
    /// Serverless: invocations per second, concurrent executions, throttles/s, cold starts/s.
    Invocations,
    Concurrency,
    Throttles,
    ColdStarts,
    /// Requests per second dropped because capacity was exhausted.
    DroppedRate,
    /// Serverless: the largest memory any invocation of the step used, MB (Lambda's REPORT
    /// line "Max Memory Used"; Lambda Insights `used_memory_max`). A step reports its maximum.
    MaxMemoryUsedMb,
    /// Serverless: CPU time (user + system) per invocation, ms, mean over the step (Lambda
    /// Insights `cpu_total_time`).
    #[serde(rename = "cpu_total_time")]
    CpuTotalTimeMs,
    /// Serverless: run time per invocation, ms, mean over the step (Lambda's `Duration`).
    #[serde(rename = "duration")]
    DurationMs,
}

impl MetricKind {
    pub const ALL: [MetricKind; 23] = [
        MetricKind::RequestRate,
        MetricKind::CpuUtilization,
        MetricKind::MemoryUtilization,
        MetricKind::NetworkMbps,
        MetricKind::DiskIops,
        MetricKind::LatencyP95Ms,
        MetricKind::LatencyP99Ms,
        MetricKind::ErrorRate,
        MetricKind::QueueDepth,
        MetricKind::Connections,
        MetricKind::ReplicasDesired,
        MetricKind::ReplicasReady,
        MetricKind::ReplicasMin,
        MetricKind::ReplicasMax,
        MetricKind::CostUsdPerHour,
        MetricKind::Invocations,
        MetricKind::Concurrency,
        MetricKind::Throttles,
        MetricKind::ColdStarts,
        MetricKind::DroppedRate,
        MetricKind::MaxMemoryUsedMb,
        MetricKind::CpuTotalTimeMs,
        MetricKind::DurationMs,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::RequestRate => "request_rate",
            MetricKind::CpuUtilization => "cpu_utilization",
            MetricKind::MemoryUtilization => "memory_utilization",
            MetricKind::NetworkMbps => "network_mbps",
            MetricKind::DiskIops => "disk_iops",
            MetricKind::LatencyP95Ms => "latency_p95_ms",
            MetricKind::LatencyP99Ms => "latency_p99_ms",
            MetricKind::ErrorRate => "error_rate",
            MetricKind::QueueDepth => "queue_depth",
            MetricKind::Connections => "connections",
            MetricKind::ReplicasDesired => "replicas_desired",
            MetricKind::ReplicasReady => "replicas_ready",
            MetricKind::ReplicasMin => "replicas_min",
            MetricKind::ReplicasMax => "replicas_max",
            MetricKind::CostUsdPerHour => "cost_usd_per_hour",
            MetricKind::Invocations => "invocations",
            MetricKind::Concurrency => "concurrency",
            MetricKind::Throttles => "throttles",
            MetricKind::ColdStarts => "cold_starts",
            MetricKind::DroppedRate => "dropped_rate",
            MetricKind::MaxMemoryUsedMb => "max_memory_used_mb",
            MetricKind::CpuTotalTimeMs => "cpu_total_time",
            MetricKind::DurationMs => "duration",
        }
    }

    /// Short unit label for display.
    pub fn unit(self) -> &'static str {
        match self {
            MetricKind::RequestRate | MetricKind::DroppedRate => "req/s",
            MetricKind::CpuUtilization | MetricKind::MemoryUtilization => "%",
            MetricKind::NetworkMbps => "Mb/s",
            MetricKind::DiskIops => "IOPS",
            MetricKind::LatencyP95Ms | MetricKind::LatencyP99Ms => "ms",
            MetricKind::ErrorRate => "ratio",
            MetricKind::CostUsdPerHour => "$/h",
            MetricKind::MaxMemoryUsedMb => "MB",
            MetricKind::CpuTotalTimeMs | MetricKind::DurationMs => "ms",
            MetricKind::Invocations | MetricKind::Throttles | MetricKind::ColdStarts => "/s",
            _ => "",
        }
    }
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MetricKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MetricKind::ALL
            .iter()
            .copied()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| format!("unknown metric '{s}'"))
    }
}

/// Direction of a scaling action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScaleDirection {
    Up,
    Down,
}

/// One change of desired replicas, as logged by a platform or produced by a replay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalingEvent {
    pub at: DateTime<Utc>,
    pub group: GroupId,
    pub from_replicas: u32,
    pub to_replicas: u32,
    /// Human reason, e.g. "cpu 91% above target 70%".
    pub reason: String,
    /// Demand (request rate) when the decision was taken; used by the thrash definition.
    pub demand: Option<f64>,
    /// Set by [`crate::engine::events::mark_thrash`].
    #[serde(default)]
    pub thrash: bool,
    /// Who says this event happened: the platform's own record (with its reason) or scaletop,
    /// which derived it from a replica series, a replay or the simulator.
    #[serde(default)]
    pub origin: EventOrigin,
}

/// Source of a [`ScalingEvent`]; the Events tab shows the platform's reasons next to scaletop's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventOrigin {
    /// Derived by scaletop (replica series change, replay, simulator).
    #[default]
    Derived,
    /// Reported by the platform API (Kubernetes Event, ASG scaling activity, autoscaler log).
    Platform,
}

impl EventOrigin {
    pub fn label(self) -> &'static str {
        match self {
            EventOrigin::Derived => "scaletop",
            EventOrigin::Platform => "platform",
        }
    }
}

impl ScalingEvent {
    pub fn direction(&self) -> Option<ScaleDirection> {
        use std::cmp::Ordering::*;
        match self.to_replicas.cmp(&self.from_replicas) {
            Greater => Some(ScaleDirection::Up),
            Less => Some(ScaleDirection::Down),
            Equal => None,
        }
    }
}

/// Where the current policy of a group came from, highest precedence first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyProvenance {
    PlatformApi,
    PolicyFile,
    InferredFromMetrics,
    SimulatorScenario,
}

impl PolicyProvenance {
    pub fn label(self) -> &'static str {
        match self {
            PolicyProvenance::PlatformApi => "platform API (live)",
            PolicyProvenance::PolicyFile => "policy file",
            PolicyProvenance::InferredFromMetrics => "inferred from metrics",
            PolicyProvenance::SimulatorScenario => "simulator scenario",
        }
    }
}

/// One target of a target-tracking style policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricTarget {
    pub metric: MetricKind,
    /// Target value in the metric's unit (e.g. 70 for 70% CPU, or req/s per replica).
    pub target: f64,
}

/// The simple target-tracking rule the simulator starts with: one replica count proportional
/// to the metric/target ratio, with a tolerance and cooldowns. The policy-replay work adds the
/// exact platform algorithms as further variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetTrackingPolicy {
    pub targets: Vec<MetricTarget>,
    /// Relative band around the target inside which nothing happens (HPA default 0.1).
    pub tolerance: f64,
    pub scale_up_cooldown_seconds: u32,
    /// How long a lower recommendation must persist before scaling down.
    pub scale_down_stabilization_seconds: u32,
}

/// One enum with a variant per platform policy. Each variant reads and writes the platform's
/// own format (added by the policy-replay and emit work); `Unknown` is honest about a group whose
/// policy we do not know.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PolicyModel {
    TargetTracking(TargetTrackingPolicy),
    /// Fixed capacity, no autoscaling (e.g. hand-scaled replicas, fixed regions).
    Fixed {
        replicas: u32,
    },
    /// The platform's own policy document as its API returned it: an HPA or KEDA manifest, an
    /// ASG scaling configuration, a GCP autoscaler or an Azure autoscale setting. Read by
    /// [`crate::engine::policy::parse_policy`], so a live policy replays exactly as a policy
    /// file with the same text would.
    Native {
        text: String,
    },
    Unknown,
}

impl PolicyModel {
    pub fn summary(&self) -> String {
        match self {
            PolicyModel::TargetTracking(p) => {
                let t: Vec<String> = p
                    .targets
                    .iter()
                    .map(|t| format!("{} {}{}", t.metric, t.target, t.metric.unit()))
                    .collect();
                format!("target tracking: {}", t.join(", "))
            }
            PolicyModel::Fixed { replicas } => format!("fixed at {replicas} replicas"),
            PolicyModel::Native { text } => match crate::engine::policy::parse_policy(text) {
                Ok(a) => a.describe(),
                Err(e) => format!("unreadable platform policy: {e}"),
            },
            PolicyModel::Unknown => "unknown".to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentPolicy {
    pub model: PolicyModel,
    pub provenance: PolicyProvenance,
}

/// Capacity and latency model of one group (CONTRACTS.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityModel {
    /// Requests per second one ready replica serves at 100% utilization.
    pub capacity_per_replica_rps: f64,
    /// Concurrent requests one replica works on (M/M/c servers per replica).
    pub concurrency_per_replica: u32,
    /// Seconds from a scale-up decision until the replica is ready (boot + startup).
    pub startup_seconds: u32,
    /// Seconds after ready during which metrics of the new replica are not trusted (warm-up).
    pub warmup_seconds: u32,
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// Pre-initialised instances that start in `warm_pool_startup_seconds` instead.
    pub warm_pool_size: u32,
    pub warm_pool_startup_seconds: u32,
    pub usd_per_replica_hour: f64,
    /// Requests waiting longer than this are counted as dropped (timeouts).
    pub timeout_ms: f64,
}

impl CapacityModel {
    /// Mean service time of one request, milliseconds.
    pub fn service_time_ms(&self) -> f64 {
        1000.0 * f64::from(self.concurrency_per_replica.max(1)) / self.capacity_per_replica_rps
    }
}

/// Service-level objective of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    pub p95_latency_ms: f64,
    #[serde(default)]
    pub p99_latency_ms: Option<f64>,
    /// Highest acceptable error ratio (0-1).
    pub error_rate: f64,
    /// e.g. 0.999.
    pub availability: f64,
    /// Maximum time to scale, seconds.
    pub max_time_to_scale_seconds: u32,
}

impl Default for Slo {
    fn default() -> Self {
        Slo {
            p95_latency_ms: 200.0,
            p99_latency_ms: None,
            error_rate: 0.001,
            availability: 0.999,
            max_time_to_scale_seconds: 300,
        }
    }
}

/// Static description of a group, as registered in the store by a source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupInfo {
    pub id: GroupId,
    /// e.g. "m5.xlarge", "lambda-1024mb".
    pub instance_type: Option<String>,
    /// team/service labels for cost allocation.
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    pub policy: Option<CurrentPolicy>,
    pub capacity: Option<CapacityModel>,
    pub slo: Option<Slo>,
}

impl GroupInfo {
    pub fn new(id: GroupId) -> Self {
        Self {
            id,
            instance_type: None,
            labels: Default::default(),
            policy: None,
            capacity: None,
            slo: None,
        }
    }
}

/// Kinds of recommendation (CONTRACTS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecommendationKind {
    Policy,
    Metric,
    Sizing,
    InstanceType,
    Spot,
    Commitment,
    Schedule,
    Concurrency,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    Low,
    Medium,
    High,
}

pub const RECOMMENDATION_SCHEMA: &str = "scaletop.recommendation/v1";

/// A recommendation, serialised as versioned JSON (`schema` = [`RECOMMENDATION_SCHEMA`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub schema: String,
    pub id: String,
    pub kind: RecommendationKind,
    pub group: GroupId,
    pub title: String,
    /// Human-readable evidence lines (figures with their source).
    pub evidence: Vec<String>,
    pub saving_usd_month: Option<f64>,
    pub risk: Risk,
    /// The proposed change in machine form: an [`crate::artifact::Artifact`] as JSON.
    pub artifact: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_round_trip() {
        for m in MetricKind::ALL {
            assert_eq!(m.as_str().parse::<MetricKind>(), Ok(m));
        }
        assert!("cpu".parse::<MetricKind>().is_err());
    }

    #[test]
    fn a_native_policy_replays_through_the_platform_parser() {
        let text = include_str!("../tests/fixtures/hpa-cpu70.yaml").to_string();
        let model = PolicyModel::Native { text };
        assert!(model.summary().starts_with("HPA"), "{}", model.summary());
        let a = crate::sim::replayable_autoscaler(Platform::K8s, "web", &model, 1, 10);
        assert!(a.is_ok());
        let bad = PolicyModel::Native {
            text: "kind: Nonsense".into(),
        };
        assert!(bad.summary().starts_with("unreadable platform policy"));
        assert!(crate::sim::replayable_autoscaler(Platform::K8s, "web", &bad, 1, 10).is_err());
    }

    #[test]
    fn event_direction() {
        let g = GroupId::new(Platform::Sim, "demo", "web");
        let mut e = ScalingEvent {
            at: DateTime::<Utc>::UNIX_EPOCH,
            group: g,
            from_replicas: 3,
            to_replicas: 5,
            reason: String::new(),
            demand: None,
            thrash: false,
            origin: Default::default(),
        };
        assert_eq!(e.direction(), Some(ScaleDirection::Up));
        e.to_replicas = 2;
        assert_eq!(e.direction(), Some(ScaleDirection::Down));
    }
}

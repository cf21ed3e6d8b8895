//! Built-in scenarios: embedded TOML, parsed, validated and expanded into simulated groups.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::spec::{
    CapacitySpec, CommitmentSpec, DemandSpec, GroupKind, GroupSpec, PolicySpec, RegionLatency,
    ResourceSpec, ScenarioSpec, ServerlessSpec, SpikeProcessSpec, SpotSpec,
};
use super::SimError;
use crate::model::{
    CapacityModel, CurrentPolicy, GroupId, GroupInfo, MetricKind, MetricTarget, PolicyModel,
    PolicyProvenance, Slo, TargetTrackingPolicy,
};

/// The scenario files shipped in the binary, in catalog order.
const BUILT_IN: [(&str, &str); 6] = [
    (
        "ecommerce",
        include_str!("../../assets/scenarios/ecommerce.toml"),
    ),
    (
        "microservices",
        include_str!("../../assets/scenarios/microservices.toml"),
    ),
    (
        "database",
        include_str!("../../assets/scenarios/database.toml"),
    ),
    (
        "serverless",
        include_str!("../../assets/scenarios/serverless.toml"),
    ),
    (
        "multiregion",
        include_str!("../../assets/scenarios/multiregion.toml"),
    ),
    ("game", include_str!("../../assets/scenarios/game.toml")),
];

/// Names of the built-in scenarios.
pub fn built_in_names() -> Vec<&'static str> {
    BUILT_IN.iter().map(|(n, _)| *n).collect()
}

/// One line for the catalog (`scaletop sim list`).
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioSummary {
    pub name: String,
    pub title: String,
    pub groups: usize,
    pub description: String,
}

/// All built-in scenarios. A scenario that fails to parse (a packaging bug the tests catch) is
/// listed with its error as description rather than hidden.
pub fn catalog() -> Vec<ScenarioSummary> {
    BUILT_IN
        .iter()
        .map(|(name, _)| match Scenario::load(name) {
            Ok(s) => ScenarioSummary {
                name: s.name().to_string(),
                title: s.spec.title.clone(),
                groups: s.groups.len(),
                description: s.spec.description.trim().to_string(),
            },
            Err(e) => ScenarioSummary {
                name: name.to_string(),
                title: "(invalid scenario)".to_string(),
                groups: 0,
                description: e.to_string(),
            },
        })
        .collect()
}

/// A simulated group, fully resolved from the scenario file.
#[derive(Debug, Clone)]
pub struct SimGroup {
    pub info: GroupInfo,
    pub kind: GroupKind,
    pub demand: DemandSpec,
    pub utc_offset_seconds: f64,
    pub capacity: CapacityModel,
    pub initial_replicas: u32,
    pub resources: ResourceSpec,
    pub policy: PolicyModel,
    pub serverless: Option<ServerlessSpec>,
    pub spot: Option<SpotSpec>,
    pub planted: Vec<String>,
    pub queue: bool,
    /// Indexes into the scenario's spike processes that affect this group.
    pub spike_processes: Vec<usize>,
}

impl SimGroup {
    pub fn name(&self) -> &str {
        &self.info.id.name
    }
}

/// A loaded, validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    spec: ScenarioSpec,
    groups: Vec<SimGroup>,
}

impl Scenario {
    /// Loads a built-in scenario by name.
    pub fn load(name: &str) -> Result<Scenario, SimError> {
        let (_, text) =
            BUILT_IN
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| SimError::UnknownScenario {
                    name: name.to_string(),
                    known: built_in_names().join(", "),
                })?;
        Scenario::from_toml(text, &format!("{name}.toml"))
    }

    /// Parses and validates a scenario file; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Scenario, SimError> {
        let spec: ScenarioSpec = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| {
                text.as_bytes()[..s.start.min(text.len())]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1
            });
            SimError::Parse {
                origin: origin.to_string(),
                line,
                message: e.message().trim().replace('\n', " "),
            }
        })?;
        let invalid = |message: String| SimError::Invalid {
            origin: origin.to_string(),
            message,
        };
        let groups = expand_groups(&spec).map_err(invalid)?;
        Ok(Scenario { spec, groups })
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn title(&self) -> &str {
        &self.spec.title
    }

    pub fn description(&self) -> &str {
        &self.spec.description
    }

    /// First simulated instant.
    pub fn start(&self) -> DateTime<Utc> {
        self.spec.start
    }

    /// The groups as the store registers them.
    pub fn groups(&self) -> Vec<GroupInfo> {
        self.groups.iter().map(|g| g.info.clone()).collect()
    }

    pub fn sim_groups(&self) -> &[SimGroup] {
        &self.groups
    }

    pub fn spike_processes(&self) -> &[SpikeProcessSpec] {
        &self.spec.spikes
    }

    /// Existing reserved instances and savings plans.
    pub fn commitments(&self) -> &[CommitmentSpec] {
        &self.spec.commitments
    }

    pub fn region_latency(&self) -> &[RegionLatency] {
        &self.spec.region_latency
    }

    pub fn goals(&self) -> &[String] {
        &self.spec.goals
    }
}

fn expand_groups(spec: &ScenarioSpec) -> Result<Vec<SimGroup>, String> {
    if spec.groups.is_empty() {
        return Err("a scenario needs at least one [[groups]] entry".into());
    }
    let mut out: Vec<SimGroup> = Vec::new();
    for g in &spec.groups {
        let names: Vec<String> = match (&g.name, g.names.is_empty()) {
            (Some(n), true) => vec![n.clone()],
            (None, false) => g.names.clone(),
            _ => return Err("each [[groups]] entry needs exactly one of name or names".into()),
        };
        for name in names {
            let spread = 1.0 + g.vary * (2.0 * unit_hash(&name) - 1.0);
            out.push(resolve_group(spec, g, &name, spread)?);
        }
    }
    let mut seen = std::collections::HashSet::new();
    for g in &out {
        if !seen.insert(g.name().to_string()) {
            return Err(format!("group name '{}' is used twice", g.name()));
        }
    }
    for (i, p) in spec.spikes.iter().enumerate() {
        if !(p.multiplier_min >= 1.0 && p.multiplier_max >= p.multiplier_min) {
            return Err(format!(
                "spike process '{}': need 1 <= multiplier_min <= multiplier_max",
                p.name
            ));
        }
        for name in &p.groups {
            if !out.iter().any(|g| g.name() == name) {
                return Err(format!(
                    "spike process '{}' names unknown group '{name}'",
                    p.name
                ));
            }
        }
        for g in out.iter_mut() {
            if p.groups.is_empty() || p.groups.iter().any(|n| n == g.name()) {
                g.spike_processes.push(i);
            }
        }
    }
    Ok(out)
}

/// Deterministic value in [0, 1) from a name (FNV-1a), for template spreads.
fn unit_hash(name: &str) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h >> 11) as f64 / (1u64 << 53) as f64
}

fn resolve_group(
    spec: &ScenarioSpec,
    g: &GroupSpec,
    name: &str,
    spread: f64,
) -> Result<SimGroup, String> {
    let ctx = |m: &str| format!("group '{name}': {m}");
    let mut demand = g.demand.clone();
    demand.base_rps *= spread;
    if !(demand.base_rps.is_finite() && demand.base_rps >= 0.0) {
        return Err(ctx("demand.base_rps must be >= 0"));
    }
    if demand
        .daily
        .iter()
        .any(|[h, f]| !(0.0..=24.0).contains(h) || *f < 0.0)
    {
        return Err(ctx("demand.daily points must be [hour 0-24, factor >= 0]"));
    }
    if demand.daily.windows(2).any(|w| w[1][0] < w[0][0]) {
        return Err(ctx("demand.daily hours must be ascending"));
    }
    if demand.noise < 0.0 || demand.noise_correlation_seconds <= 0.0 {
        return Err(ctx("demand.noise must be >= 0 and its correlation > 0"));
    }
    let (capacity, initial_replicas, policy) = match (g.kind, &g.capacity, &g.serverless) {
        (GroupKind::Instances, Some(c), None) => {
            let cap = instance_capacity(c).map_err(|m| ctx(&m))?;
            let policy = match &g.policy {
                Some(p) => policy_model(p).map_err(|m| ctx(&m))?,
                None => return Err(ctx("instance groups need a [policy]")),
            };
            let initial = match &policy {
                PolicyModel::Fixed { replicas } => *replicas,
                _ => c.initial_replicas.unwrap_or(c.min_replicas),
            }
            .clamp(cap.min_replicas, cap.max_replicas);
            (cap, initial, policy)
        }
        (GroupKind::Serverless, None, Some(s)) => {
            if g.policy.is_some() {
                return Err(ctx("serverless groups scale per request; remove [policy]"));
            }
            let cap = serverless_capacity(s).map_err(|m| ctx(&m))?;
            (cap, s.provisioned_concurrency, serverless_policy())
        }
        (GroupKind::Instances, _, _) => {
            return Err(ctx("instance groups need [capacity] and no [serverless]"))
        }
        (GroupKind::Serverless, _, _) => {
            return Err(ctx("serverless groups need [serverless] and no [capacity]"))
        }
    };
    if let Some(spot) = &g.spot {
        if !(0.0..=1.0).contains(&spot.spot_share_above_base) {
            return Err(ctx("spot.spot_share_above_base must be within 0-1"));
        }
    }
    let id = GroupId::new(
        spec.platform,
        g.scope.clone().unwrap_or_else(|| spec.scope.clone()),
        name,
    );
    let mut labels = g.labels.clone();
    labels
        .entry("service".to_string())
        .or_insert_with(|| name.to_string());
    let slo = Slo {
        p95_latency_ms: g.slo.p95_latency_ms,
        p99_latency_ms: g.slo.p99_latency_ms,
        error_rate: g.slo.error_rate,
        availability: g.slo.availability,
        max_time_to_scale_seconds: g.slo.max_time_to_scale_seconds,
    };
    let info = GroupInfo {
        id,
        instance_type: g.instance_type.clone(),
        labels,
        policy: Some(CurrentPolicy {
            model: policy.clone(),
            provenance: PolicyProvenance::SimulatorScenario,
        }),
        capacity: Some(capacity.clone()),
        slo: Some(slo),
    };
    Ok(SimGroup {
        info,
        kind: g.kind,
        demand,
        utc_offset_seconds: g.utc_offset_hours * 3600.0,
        capacity,
        initial_replicas,
        resources: g.resources.clone(),
        policy,
        serverless: g.serverless.clone(),
        spot: g.spot.clone(),
        planted: g.planted.clone(),
        queue: g.queue,
        spike_processes: Vec::new(),
    })
}

/// A finite number above zero (NaN is not).
fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

fn instance_capacity(c: &CapacitySpec) -> Result<CapacityModel, String> {
    if !positive(c.capacity_per_replica_rps) || c.concurrency_per_replica == 0 {
        return Err("capacity_per_replica_rps and concurrency_per_replica must be > 0".into());
    }
    if c.min_replicas > c.max_replicas || c.max_replicas == 0 {
        return Err(format!(
            "min_replicas {} must be <= max_replicas {} (and max > 0)",
            c.min_replicas, c.max_replicas
        ));
    }
    if !positive(c.timeout_ms) {
        return Err("timeout_ms must be > 0".into());
    }
    Ok(CapacityModel {
        capacity_per_replica_rps: c.capacity_per_replica_rps,
        concurrency_per_replica: c.concurrency_per_replica,
        startup_seconds: c.startup_seconds,
        warmup_seconds: c.warmup_seconds,
        min_replicas: c.min_replicas,
        max_replicas: c.max_replicas,
        warm_pool_size: c.warm_pool_size,
        warm_pool_startup_seconds: c.warm_pool_startup_seconds,
        usd_per_replica_hour: c.usd_per_replica_hour,
        timeout_ms: c.timeout_ms,
    })
}

/// A function tier as a capacity model: a "replica" is one execution environment serving one
/// request at a time; starting one is a cold start.
fn serverless_capacity(s: &ServerlessSpec) -> Result<CapacityModel, String> {
    if !positive(s.duration_ms) || s.concurrency_limit == 0 || s.memory_mb == 0 {
        return Err("serverless duration_ms, memory_mb and concurrency_limit must be > 0".into());
    }
    validate_usage(s)?;
    Ok(CapacityModel {
        capacity_per_replica_rps: 1000.0 / s.duration_ms,
        concurrency_per_replica: 1,
        startup_seconds: (s.cold_start_ms / 1000.0).ceil() as u32,
        warmup_seconds: 0,
        min_replicas: s.provisioned_concurrency,
        max_replicas: s.concurrency_limit,
        warm_pool_size: s.provisioned_concurrency,
        warm_pool_startup_seconds: 0,
        usd_per_replica_hour: f64::from(s.memory_mb) / 1024.0
            * 3600.0
            * crate::engine::serverless::LambdaPrices::built_in_x86().usd_per_gb_second,
        timeout_ms: s.timeout_ms,
    })
}

/// The tier's memory and CPU ground truth must be something Lambda could run: memory used
/// within what is configured (beyond it the invocation is killed), and no more CPU than the
/// memory setting allocates (1,769 MB = 1 vCPU).
fn validate_usage(s: &ServerlessSpec) -> Result<(), String> {
    if let Some([lo, hi]) = s.memory_used_mb {
        if !(positive(lo) && lo <= hi && hi <= f64::from(s.memory_mb)) {
            return Err(format!(
                "serverless memory_used_mb = [{lo}, {hi}] must satisfy 0 < least <= most <= memory_mb ({})",
                s.memory_mb
            ));
        }
    }
    if !positive(s.memory_used_skew) {
        return Err(format!(
            "serverless memory_used_skew must be > 0, got {}",
            s.memory_used_skew
        ));
    }
    if let Some(cpu) = s.cpu_time_ms {
        let share = crate::engine::serverless::vcpus(f64::from(s.memory_mb));
        if !(cpu.is_finite() && cpu >= 0.0 && cpu <= s.duration_ms * share) {
            return Err(format!(
                "serverless cpu_time_ms {cpu} must be 0 or more and at most duration_ms x the vCPUs {} MB allocates ({:.0} ms)",
                s.memory_mb,
                s.duration_ms * share
            ));
        }
    }
    Ok(())
}

/// Lambda's own scaling expressed as target tracking: one environment per concurrent request,
/// immediately, up to the concurrency limit.
fn serverless_policy() -> PolicyModel {
    PolicyModel::TargetTracking(TargetTrackingPolicy {
        targets: vec![MetricTarget {
            metric: MetricKind::Concurrency,
            target: 1.0,
        }],
        tolerance: 0.0,
        scale_up_cooldown_seconds: 0,
        scale_down_stabilization_seconds: 0,
    })
}

fn policy_model(p: &PolicySpec) -> Result<PolicyModel, String> {
    Ok(match p {
        PolicySpec::Fixed { replicas } => PolicyModel::Fixed {
            replicas: *replicas,
        },
        PolicySpec::TargetTracking {
            targets,
            tolerance,
            scale_up_cooldown_seconds,
            scale_down_stabilization_seconds,
        } => {
            if targets.is_empty() || targets.iter().any(|t| !positive(t.target)) {
                return Err("target_tracking needs targets with target > 0".into());
            }
            if let Some(t) = targets.iter().find(|t| !super::policy::supports(t.metric)) {
                return Err(format!("policy metric '{}' is not simulated", t.metric));
            }
            PolicyModel::TargetTracking(TargetTrackingPolicy {
                targets: targets
                    .iter()
                    .map(|t| MetricTarget {
                        metric: t.metric,
                        target: t.target,
                    })
                    .collect(),
                tolerance: *tolerance,
                scale_up_cooldown_seconds: *scale_up_cooldown_seconds,
                scale_down_stabilization_seconds: *scale_down_stabilization_seconds,
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
name = "tiny"
title = "Tiny"
description = "one group"
platform = "sim"
scope = "test"
start = "2026-01-05T00:00:00Z"

[[groups]]
name = "web"
labels = { team = "t" }

[groups.demand]
base_rps = 100.0

[groups.capacity]
capacity_per_replica_rps = 50.0
concurrency_per_replica = 4
startup_seconds = 60
min_replicas = 1
max_replicas = 10
usd_per_replica_hour = 0.1
timeout_ms = 1000.0

[groups.policy]
kind = "target_tracking"
targets = [{ metric = "cpu_utilization", target = 70.0 }]
"#;

    #[test]
    fn every_built_in_scenario_parses_and_validates() {
        for name in built_in_names() {
            let s = Scenario::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s.name(), name);
            assert!(!s.groups().is_empty());
        }
        assert_eq!(catalog().len(), 6);
        assert!(catalog().iter().all(|c| c.groups > 0));
    }

    #[test]
    fn a_minimal_scenario_resolves_defaults() {
        let s = Scenario::from_toml(MINIMAL, "tiny.toml").expect("valid");
        let g = &s.groups()[0];
        assert_eq!(g.labels.get("service").map(String::as_str), Some("web"));
        assert_eq!(
            g.policy.as_ref().map(|p| p.provenance),
            Some(PolicyProvenance::SimulatorScenario)
        );
    }

    #[test]
    fn unknown_field_is_named_with_its_line() {
        let text = MINIMAL.replace("base_rps = 100.0", "base_rps = 100.0\nbase_rsp = 3.0");
        let e = Scenario::from_toml(&text, "tiny.toml").expect_err("typo rejected");
        let msg = e.to_string();
        assert!(
            msg.contains("base_rsp") && msg.contains("tiny.toml line 15"),
            "{msg}"
        );
        assert!(!msg.contains('\n'), "one line: {msg}");
    }

    #[test]
    fn wrong_type_and_bad_values_are_clear() {
        let text = MINIMAL.replace("max_replicas = 10", "max_replicas = \"ten\"");
        let msg = Scenario::from_toml(&text, "tiny.toml")
            .expect_err("type")
            .to_string();
        assert!(
            msg.contains("tiny.toml line") && !msg.contains('\n'),
            "{msg}"
        );
        let text = MINIMAL.replace("max_replicas = 10", "max_replicas = 0");
        let msg = Scenario::from_toml(&text, "tiny.toml")
            .expect_err("range")
            .to_string();
        assert!(
            msg.contains("group 'web'") && msg.contains("max_replicas"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_scenario_lists_the_known_ones() {
        let msg = Scenario::load("nope").expect_err("unknown").to_string();
        assert_eq!(
            msg,
            "unknown scenario 'nope' (known: ecommerce, microservices, database, serverless, multiregion, game)"
        );
    }
}

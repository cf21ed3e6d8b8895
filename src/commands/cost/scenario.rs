//! A built-in scenario as cost inputs: each group's history from the simulator, its capacity
//! under the current policy from a replay (the observed replicas when the policy cannot be
//! replayed), its billing from its instance type, and the scenario's commitments.

use std::collections::BTreeMap;

use crate::artifact::{PolicyArtifact, PolicyFormat};
use crate::engine::cost::offhours::{self, FixedReplicas};
use crate::engine::cost::plan::{
    slo_instances, Billing, ClusterSpec, ExistingCommitment, GroupData, LambdaMetrics, OffHours,
};
use crate::engine::policy::Autoscaler;
use crate::engine::replay::{self, ExtraSeries, ReplayInput};
use crate::model::{CapacityModel, GroupId, PolicyModel, Slo};
use crate::model::{MetricKind, Platform};
use crate::pricing::{Arch, Catalog};
use crate::sim::asg_config;
use crate::sim::{replayable_autoscaler, Scenario, SimGroup, Simulator};

/// Metrics kept per group, by `MetricKind` index.
const KEPT: [MetricKind; 12] = [
    MetricKind::CostUsdPerHour,
    MetricKind::RequestRate,
    MetricKind::ReplicasDesired,
    MetricKind::CpuUtilization,
    MetricKind::MemoryUtilization,
    MetricKind::NetworkMbps,
    MetricKind::Concurrency,
    MetricKind::QueueDepth,
    MetricKind::Connections,
    MetricKind::MaxMemoryUsedMb,
    MetricKind::CpuTotalTimeMs,
    MetricKind::DurationMs,
];

pub struct History {
    pub start: i64,
    pub step: i64,
    /// Per group, per KEPT metric.
    pub series: Vec<Vec<Vec<f64>>>,
}

impl History {
    pub fn get(&self, g: usize, m: MetricKind) -> &[f64] {
        let i = KEPT.iter().position(|k| *k == m).unwrap_or(0);
        &self.series[g][i]
    }
}

pub fn simulate(s: &Scenario, seed: u64, duration_s: u64, step_s: u64) -> History {
    let mut sim = Simulator::new(s, seed);
    let mut frame = sim.new_frame();
    let n = s.sim_groups().len();
    let steps = (duration_s / step_s.max(1)) as usize;
    let mut series = vec![vec![Vec::with_capacity(steps); KEPT.len()]; n];
    for _ in 0..steps {
        sim.advance_frame(step_s, &mut frame);
        for (g, values) in frame.values.iter().enumerate() {
            for (k, m) in KEPT.iter().enumerate() {
                series[g][k].push(values[*m as usize]);
            }
        }
    }
    History {
        start: s.start().timestamp(),
        step: step_s as i64,
        series,
    }
}

fn region_of(g: &SimGroup, s: &Scenario) -> Option<String> {
    if let Some(r) = g.info.labels.get("region") {
        return Some(r.clone());
    }
    if let Some((_, r)) = g.info.id.scope.split_once('/') {
        return Some(r.to_string());
    }
    s.commitments().iter().find_map(|c| c.region.clone())
}

/// "lambda-512mb" -> 512: a Lambda function's memory setting written as an instance type,
/// optionally with its runtime after it ("lambda-1536mb-java").
pub fn lambda_memory_mb(t: &str) -> Option<f64> {
    let (mb, rest) = t.strip_prefix("lambda-")?.split_once("mb")?;
    if !(rest.is_empty() || rest.starts_with('-')) {
        return None;
    }
    mb.parse()
        .ok()
        .filter(|mb: &f64| mb.is_finite() && *mb > 0.0)
}

/// "pod-2cpu-4gi" -> (2, 4).
pub fn pod_shape(t: &str) -> Option<(f64, f64)> {
    let rest = t.strip_prefix("pod-")?;
    let (cpu, mem) = rest.split_once('-')?;
    Some((
        cpu.strip_suffix("cpu")?.parse().ok()?,
        mem.strip_suffix("gi")?.parse().ok()?,
    ))
}

/// The cluster's node type and region for pod groups: --node-type / --region, else the
/// scenario's node commitment, else a "<type>-pod" group's type.
pub fn cluster(
    s: &Scenario,
    node_type: Option<&str>,
    region: Option<&str>,
    catalog: &Catalog,
    assumptions: &mut Vec<String>,
) -> Option<ClusterSpec> {
    if s.sim_groups().iter().all(|g| {
        g.info
            .instance_type
            .as_deref()
            .and_then(pod_shape)
            .is_none()
    }) {
        return None;
    }
    let commit = s.commitments().iter().find(|c| {
        c.instance_type
            .as_deref()
            .is_some_and(|t| catalog.instance(t).is_ok())
    });
    let whole = s.sim_groups().iter().find_map(|g| {
        g.info
            .instance_type
            .as_deref()
            .and_then(|t| t.strip_suffix("-pod"))
            .map(str::to_string)
    });
    let node = node_type
        .map(str::to_string)
        .or_else(|| commit.and_then(|c| c.instance_type.clone()))
        .or(whole)?;
    let region = region
        .map(str::to_string)
        .or_else(|| commit.and_then(|c| c.region.clone()))
        .unwrap_or_else(|| {
            let r = catalog
                .regions_of(&node)
                .into_iter()
                .next()
                .unwrap_or_default();
            assumptions.push(format!(
                "cluster region not given: priced in {r} (use --region)"
            ));
            r
        });
    assumptions.push(format!("pods run on {node} nodes in {region}"));
    Some(ClusterSpec {
        node_type: node,
        region,
    })
}

pub fn existing(s: &Scenario) -> Vec<ExistingCommitment> {
    s.commitments()
        .iter()
        .map(|c| ExistingCommitment {
            kind: c.kind.clone(),
            instance_type: c.instance_type.clone(),
            region: c.region.clone(),
            count: c.count,
            commitment_usd_per_hour: c.commitment_usd_per_hour,
            effective_usd_per_hour: c.effective_usd_per_hour,
            starts: Some(c.starts),
            ends: Some(c.ends),
        })
        .collect()
}

/// Cost inputs of every group, capacity from the current policy's replay.
pub fn groups(
    s: &Scenario,
    h: &History,
    region_flag: Option<&str>,
    assumptions: &mut Vec<String>,
) -> Result<Vec<GroupData>, String> {
    let mut out = Vec::new();
    for (i, g) in s.sim_groups().iter().enumerate() {
        let name = g.name().to_string();
        let demand = h.get(i, MetricKind::RequestRate).to_vec();
        let observed = h.get(i, MetricKind::ReplicasDesired).to_vec();
        let t = g.info.instance_type.clone().unwrap_or_default();
        let slo = g.info.slo.clone().unwrap_or_default();
        let cap = &g.capacity;
        let billing = if let Some(sl) = &g.serverless {
            Billing::Lambda {
                memory_mb: f64::from(sl.memory_mb),
                functions: g
                    .info
                    .labels
                    .get("functions")
                    .and_then(|f| f.parse().ok())
                    .unwrap_or(sl.functions),
                arch: Arch::X86_64,
            }
        } else if let Some((cpu, mem)) = pod_shape(&t) {
            Billing::Pods {
                cpu_request: cpu,
                memory_request_gib: mem,
            }
        } else {
            let instance_type = t.strip_suffix("-pod").unwrap_or(&t).to_string();
            let region = match region_flag.map(str::to_string).or_else(|| region_of(g, s)) {
                Some(r) => r,
                None => {
                    assumptions.push(format!(
                        "{name}: no region in the scenario; priced in us-east-1 (use --region)"
                    ));
                    "us-east-1".to_string()
                }
            };
            Billing::Instances {
                instance_type,
                region,
            }
        };
        // Capacity under the current policy: replayed where the platform model exists.
        let (capacity, source, target) = if g.serverless.is_some() {
            (
                h.get(i, MetricKind::Concurrency).to_vec(),
                "observed concurrency".to_string(),
                1.0,
            )
        } else {
            match replayable_autoscaler(
                g.info.id.platform,
                &name,
                &g.policy,
                cap.min_replicas,
                cap.max_replicas,
            ) {
                Ok(mut a) => {
                    let input = replay_input(h, i, &demand);
                    let target = a.target_utilization();
                    let desc = a.describe();
                    let initial = observed.first().copied().filter(|v| v.is_finite());
                    match replay::replay(
                        a.as_mut(),
                        &input,
                        cap,
                        &slo,
                        initial.map(|v| v as u32),
                        &g.info.id,
                    ) {
                        Ok(r) => (
                            r.steps.iter().map(|s| f64::from(s.replicas)).collect(),
                            format!("replay of the current policy ({desc})"),
                            target,
                        ),
                        Err(e) => (
                            observed.clone(),
                            format!("observed replicas (replay failed: {e})"),
                            0.7,
                        ),
                    }
                }
                Err(why) => (observed.clone(), format!("observed replicas ({why})"), 0.7),
            }
        };
        let required = if g.serverless.is_some() {
            Vec::new()
        } else {
            demand
                .iter()
                .map(|d| slo_instances(*d, cap, &slo))
                .collect()
        };
        let needed = demand
            .iter()
            .map(|d| d / (cap.capacity_per_replica_rps * target))
            .collect();
        let stateless = !t.starts_with("db.") && g.info.id.platform != Platform::Sim;
        out.push(GroupData {
            name,
            labels: g.info.labels.clone(),
            billing,
            start_unix: h.start,
            step_seconds: h.step,
            demand,
            capacity,
            capacity_source: source,
            required,
            needed_at_target: needed,
            // A hand-fixed count is the group's floor.
            min_replicas: match &g.policy {
                PolicyModel::Fixed { replicas } => f64::from(*replicas),
                _ => f64::from(cap.min_replicas),
            },
            cpu_utilization: h.get(i, MetricKind::CpuUtilization).to_vec(),
            memory_utilization: h.get(i, MetricKind::MemoryUtilization).to_vec(),
            network_mbps: h.get(i, MetricKind::NetworkMbps).to_vec(),
            concurrency: h.get(i, MetricKind::Concurrency).to_vec(),
            provisioned_concurrency: g
                .serverless
                .as_ref()
                .map_or(0.0, |s| f64::from(s.provisioned_concurrency)),
            stateless,
            startup_seconds: cap.startup_seconds,
            spot_now: g
                .spot
                .as_ref()
                .map(|s| (s.on_demand_base, s.spot_share_above_base)),
            lambda_metrics: LambdaMetrics {
                max_memory_used_mb: h.get(i, MetricKind::MaxMemoryUsedMb).to_vec(),
                cpu_total_time_ms: h.get(i, MetricKind::CpuTotalTimeMs).to_vec(),
                duration_ms: h.get(i, MetricKind::DurationMs).to_vec(),
            },
        });
    }
    Ok(out)
}

/// The replay input of group `i`: its demand and the extra series policies read.
fn replay_input<'a>(h: &'a History, i: usize, demand: &'a [f64]) -> ReplayInput<'a> {
    let extra_names = [
        ("memory_utilization", MetricKind::MemoryUtilization),
        ("queue_depth", MetricKind::QueueDepth),
        ("concurrency", MetricKind::Concurrency),
        ("connections", MetricKind::Connections),
    ];
    ReplayInput {
        start: h.start,
        step_seconds: h.step,
        demand_rps: demand,
        extra: extra_names
            .iter()
            .map(|(n, m)| ExtraSeries {
                name: n.to_string(),
                values: h.get(i, *m),
            })
            .collect(),
    }
}

/// One group's inputs to the off-hours search: from a scenario's history (`scaletop cost`) or
/// from the live store (the Cost tab), searched by the same [`off_hours_of`].
pub struct OffHoursGroup<'a> {
    pub id: &'a GroupId,
    pub policy: &'a PolicyModel,
    pub cap: &'a CapacityModel,
    pub slo: Slo,
    /// The group's local clock (hours east of UTC) the windows are found in.
    pub utc_offset_hours: i32,
    pub input: ReplayInput<'a>,
}

/// Per instance or Kubernetes group: the off-hours schedule that replaying its policy with a
/// scheduled minimum finds (or why none), and the platform document applying it where scaletop
/// writes one (an ASG's scheduled actions, a KEDA ScaledObject). Functions are scheduled by the
/// cost engine's provisioned-concurrency plan instead.
pub fn off_hours(s: &Scenario, h: &History, groups: &[GroupData]) -> BTreeMap<String, OffHours> {
    let mut out = BTreeMap::new();
    for (i, (g, data)) in s.sim_groups().iter().zip(groups).enumerate() {
        let og = OffHoursGroup {
            id: &g.info.id,
            policy: &g.policy,
            cap: &g.capacity,
            slo: g.info.slo.clone().unwrap_or_default(),
            utc_offset_hours: (g.utc_offset_seconds / 3600.0).round() as i32,
            input: replay_input(h, i, &data.demand),
        };
        if let Some(o) = off_hours_of(&og, data) {
            out.insert(data.name.clone(), o);
        }
    }
    out
}

/// The off-hours search for one group (None for pods and functions).
pub fn off_hours_of(g: &OffHoursGroup, data: &GroupData) -> Option<OffHours> {
    match (&data.billing, g.policy, g.id.platform) {
        (Billing::Instances { .. }, _, _) => {}
        (Billing::Pods { .. }, PolicyModel::TargetTracking(tt), Platform::K8s) => {
            return Some(pod_off_hours(g, data, tt))
        }
        _ => return None,
    }
    let cap = g.cap;
    let name = g.id.name.as_str();
    let (day_floor, fixed) = match g.policy {
        PolicyModel::Fixed { replicas } => (*replicas, true),
        _ => (cap.min_replicas, false),
    };
    let make = |floor: u32| -> Result<Box<dyn Autoscaler + Send>, String> {
        if fixed {
            Ok(Box::new(FixedReplicas {
                replicas: floor,
                max: cap.max_replicas.max(day_floor),
            }))
        } else {
            replayable_autoscaler(g.id.platform, name, g.policy, floor, cap.max_replicas)
        }
    };
    let needed = needed_of(data);
    let initial = data
        .capacity
        .first()
        .copied()
        .filter(|v| v.is_finite())
        .map(|v| v as u32);
    let finding = offhours::find(
        &offhours::GroupReplay {
            input: &g.input,
            cap,
            slo: &g.slo,
            group: g.id,
            initial,
        },
        &needed,
        g.utc_offset_hours,
        day_floor,
        &make,
    );
    let document = match (&finding, g.policy, g.id.platform) {
        (Ok(f), PolicyModel::TargetTracking(tt), Platform::Aws) => {
            asg_config(name, tt, day_floor, cap.max_replicas).map(|mut doc| {
                doc["ScheduledActions"] = serde_json::json!([
                    {"ScheduledActionName": format!("{name}-off-hours"),
                     "Recurrence": f.window.start_cron(),
                     "TimeZone": f.window.time_zone,
                     "MinSize": f.window.floor},
                    {"ScheduledActionName": format!("{name}-business-hours"),
                     "Recurrence": f.window.end_cron(),
                     "TimeZone": f.window.time_zone,
                     "MinSize": day_floor},
                ]);
                PolicyArtifact {
                    format: PolicyFormat::AwsAsg,
                    document: doc,
                }
            })
        }
        _ => None,
    };
    Some(OffHours { finding, document })
}

/// What the search compares a schedule's replay against: the larger of the need at the
/// policy's target and the SLO's need, per step.
fn needed_of(data: &GroupData) -> Vec<f64> {
    data.needed_at_target
        .iter()
        .zip(&data.required)
        .map(|(a, b)| a.max(*b))
        .collect()
}

/// A Kubernetes group's off-hours schedule as KEDA writes it: a ScaledObject with the HPA's
/// own triggers, `minReplicaCount` at the off-hours floor and a `cron` trigger (timezone, start,
/// end, desiredReplicas) holding the day floor outside the window. The window is found like an
/// ASG's (floor at least 1: KEDA scales a CPU/memory-only object to zero whenever its cron is
/// inactive, whatever the load), then the ScaledObject itself is replayed by KEDA's model and
/// that replay is what is costed.
fn pod_off_hours(
    g: &OffHoursGroup,
    data: &GroupData,
    tt: &crate::model::TargetTrackingPolicy,
) -> OffHours {
    let cap = g.cap;
    let name = g.id.name.as_str();
    let day_floor = cap.min_replicas;
    let make =
        |floor: u32| replayable_autoscaler(g.id.platform, name, g.policy, floor, cap.max_replicas);
    let initial = data
        .capacity
        .first()
        .copied()
        .filter(|v| v.is_finite())
        .map(|v| v as u32);
    let replay_group = offhours::GroupReplay {
        input: &g.input,
        cap,
        slo: &g.slo,
        group: g.id,
        initial,
    };
    let finding = offhours::find_above(
        &replay_group,
        &needed_of(data),
        g.utc_offset_hours,
        day_floor,
        1,
        &make,
    );
    let checked = finding.and_then(|mut f| {
        let doc = keda_schedule(name, g.id, tt, &f.window, cap.max_replicas)?;
        let so: crate::engine::policy::keda::ScaledObject =
            serde_json::from_value(doc.clone()).map_err(|e| format!("KEDA document: {e}"))?;
        let mut keda = crate::engine::policy::keda::KedaAutoscaler::new(so)
            .map_err(|e| format!("KEDA ScaledObject: {e}"))?;
        let r = replay::replay(&mut keda, &g.input, cap, &g.slo, initial, g.id)
            .map_err(|e| format!("KEDA ScaledObject replay: {e}"))?;
        let span_h = g.input.demand_rps.len() as f64 * g.input.step_seconds as f64 / 3600.0;
        let month = |x: f64| x / span_h.max(1e-9) * crate::engine::cost::HOURS_PER_MONTH;
        if month(r.summary.sla_violation_minutes - f.sla_violation_minutes_baseline) > 1.0
            || r.summary.replica_hours >= f.replica_hours_baseline
        {
            return Err(format!(
                "the KEDA ScaledObject for {} replays to {:.0} replica-hours and {:.0} SLA-violation minutes (without it {:.0} and {:.0}): not recommended",
                f.window.describe(),
                r.summary.replica_hours,
                r.summary.sla_violation_minutes,
                f.replica_hours_baseline,
                f.sla_violation_minutes_baseline
            ));
        }
        f.scheduled_capacity = r.steps.iter().map(|s| f64::from(s.replicas)).collect();
        f.replica_hours_scheduled = r.summary.replica_hours;
        f.sla_violation_minutes_scheduled = r.summary.sla_violation_minutes;
        Ok((f, doc))
    });
    match checked {
        Ok((f, doc)) => OffHours {
            finding: Ok(f),
            document: Some(PolicyArtifact {
                format: PolicyFormat::KedaScaledObject,
                document: doc,
            }),
        },
        Err(why) => OffHours {
            finding: Err(why),
            document: None,
        },
    }
}

/// The ScaledObject applying an off-hours window to an HPA-scaled Deployment: the HPA's
/// metrics as KEDA triggers (the emitter's own conversion), `minReplicaCount` = the window's
/// floor, and a cron trigger active outside the window (from the window's end to its start)
/// asking for the day floor.
pub fn keda_schedule(
    name: &str,
    id: &GroupId,
    tt: &crate::model::TargetTrackingPolicy,
    w: &offhours::OffHoursWindow,
    max: u32,
) -> Result<serde_json::Value, String> {
    let hpa = crate::sim::hpa_manifest(name, tt, w.day_floor, max)
        .ok_or_else(|| format!("{name}: the policy has a metric an HPA cannot scale on"))?;
    let (mut so, _) =
        crate::emit::keda::hpa_to_keda(&hpa, id, &crate::emit::EmitContext::default())?;
    so.spec.min_replica_count = Some(w.floor);
    let mut meta = BTreeMap::new();
    meta.insert("timezone".to_string(), w.time_zone.clone());
    meta.insert("start".to_string(), w.end_cron());
    meta.insert("end".to_string(), w.start_cron());
    meta.insert("desiredReplicas".to_string(), w.day_floor.to_string());
    so.spec.triggers.push(crate::engine::policy::keda::Trigger {
        kind: "cron".into(),
        name: Some(format!("{name}-business-hours")),
        metric_type: None,
        metadata: meta,
    });
    serde_json::to_value(&so).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_types_name_their_memory() {
        assert_eq!(lambda_memory_mb("lambda-512mb"), Some(512.0));
        assert_eq!(lambda_memory_mb("lambda-1536mb-java"), Some(1536.0));
        assert_eq!(lambda_memory_mb("lambda-512mbx"), None);
        assert_eq!(lambda_memory_mb("lambda-0mb"), None);
        assert_eq!(lambda_memory_mb("m5.xlarge"), None);
    }

    /// The ASG document a schedule recommendation carries replays, through the EC2 Auto
    /// Scaling model's own scheduled actions, to the capacity the schedule search found.
    #[test]
    fn storefront_schedule_document_replays_to_the_found_capacity() {
        let s = Scenario::load("ecommerce").unwrap();
        let h = simulate(&s, 7, 4 * 86_400, 300);
        let mut notes = Vec::new();
        let groups = groups(&s, &h, None, &mut notes).unwrap();
        let found = off_hours(&s, &h, &groups);
        let o = &found["storefront"];
        let f = o
            .finding
            .as_ref()
            .expect("a night window on the storefront");
        assert!(
            f.window.floor < 20 && f.window.day_floor == 20,
            "{:?}",
            f.window
        );
        assert!(f.replica_hours_scheduled < f.replica_hours_baseline);
        let doc = o.document.as_ref().expect("an ASG document");
        assert_eq!(doc.format, PolicyFormat::AwsAsg);
        let mut asg =
            crate::engine::policy::parse_policy(&doc.document.to_string()).expect("parses");
        let i = 0;
        let g = &s.sim_groups()[i];
        let r = replay::replay(
            asg.as_mut(),
            &replay_input(&h, i, &groups[i].demand),
            &g.capacity,
            &g.info.slo.clone().unwrap_or_default(),
            Some(groups[i].capacity[0] as u32),
            &g.info.id,
        )
        .unwrap();
        let diff = (r.summary.replica_hours - f.replica_hours_scheduled).abs();
        assert!(
            diff <= 0.01 * f.replica_hours_scheduled,
            "document {} vs search {}",
            r.summary.replica_hours,
            f.replica_hours_scheduled
        );
    }

    /// A Kubernetes group's schedule is a KEDA ScaledObject whose replay by KEDA's own model
    /// (cron scaler and all) agrees with the search's replay of the HPA under a scheduled
    /// floor, and its cron trigger carries KEDA's documented fields.
    #[test]
    fn over_provisioned_pods_get_a_keda_cron_schedule_that_replays_like_the_search() {
        let s = Scenario::load("microservices").unwrap();
        let h = simulate(&s, 7, 4 * 86_400, 300);
        let mut notes = Vec::new();
        let groups = groups(&s, &h, None, &mut notes).unwrap();
        let found = off_hours(&s, &h, &groups);
        let i = s
            .sim_groups()
            .iter()
            .position(|g| g.name() == "legacy-auth")
            .unwrap();
        let g = &s.sim_groups()[i];
        let o = &found["legacy-auth"];
        let f = o
            .finding
            .as_ref()
            .expect("a window on an over-provisioned group");
        assert_eq!(f.window.day_floor, 12);
        assert!(f.window.floor >= 1 && f.window.floor < 12, "{:?}", f.window);
        assert_eq!(f.window.time_zone, "Etc/GMT-1");
        let doc = o.document.as_ref().expect("a KEDA document");
        assert_eq!(doc.format, PolicyFormat::KedaScaledObject);
        let spec = &doc.document["spec"];
        assert_eq!(spec["minReplicaCount"], f.window.floor);
        let cron = spec["triggers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "cron")
            .expect("cron trigger");
        // Active outside the window: from its end (business hours start) to its start.
        assert_eq!(cron["metadata"]["start"], f.window.end_cron());
        assert_eq!(cron["metadata"]["end"], f.window.start_cron());
        assert_eq!(cron["metadata"]["timezone"], "Etc/GMT-1");
        assert_eq!(cron["metadata"]["desiredReplicas"], "12");
        assert!(spec["triggers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["type"] == "cpu"));
        // The search's own model: the HPA with its minimum lowered in the window.
        let input = replay_input(&h, i, &groups[i].demand);
        let slo = g.info.slo.clone().unwrap_or_default();
        let hpa = replayable_autoscaler(
            g.info.id.platform,
            g.name(),
            &g.policy,
            f.window.floor,
            g.capacity.max_replicas,
        )
        .unwrap();
        let span = input.demand_rps.len() as i64 * input.step_seconds;
        let mut floor = offhours::ScheduledFloor::new(hpa, &f.window, input.start, span).unwrap();
        let initial = groups[i].capacity.first().map(|v| *v as u32);
        let r = replay::replay(&mut floor, &input, &g.capacity, &slo, initial, &g.info.id).unwrap();
        let diff = (r.summary.replica_hours - f.replica_hours_scheduled).abs();
        assert!(
            diff <= 0.02 * r.summary.replica_hours,
            "KEDA {} vs scheduled floor {}",
            f.replica_hours_scheduled,
            r.summary.replica_hours
        );
        assert!(f.replica_hours_scheduled < f.replica_hours_baseline);
    }

    #[test]
    fn a_group_whose_need_never_drops_below_its_floor_gets_no_schedule() {
        // The database writer is fixed at 1, its only instance: no hour needs fewer.
        let s = Scenario::load("database").unwrap();
        let h = simulate(&s, 7, 4 * 86_400, 300);
        let mut notes = Vec::new();
        let groups = groups(&s, &h, None, &mut notes).unwrap();
        let found = off_hours(&s, &h, &groups);
        let writer = found["aurora-writer"].finding.as_ref().unwrap_err();
        assert!(writer.contains("no window"), "{writer}");
        // The readers, fixed at 4 by hand with analytics 09-17 only, have idle nights.
        let readers = found["aurora-readers"]
            .finding
            .as_ref()
            .expect("readers window");
        assert!(readers.window.floor < 4);
    }
}

//! The Cost tab's engine work (issue 8), off the UI thread: each group's history copied out of
//! the store, priced from the built-in catalog and planned by `engine::cost::plan` — the same
//! code `scaletop cost` runs, off-hours schedule search included (`commands::cost::
//! off_hours_of`, replaying the group's own policy). Capacity is the observed replicas (what
//! runs now); groups that cannot be priced are listed with the reason, never shown as $0.
//! Pod groups are priced from the nodes they run on: the config's `[cost] node_type` /
//! `region`, else the demo scenario's cluster, as `scaletop cost --scenario` finds it.

use std::collections::BTreeMap;

use crate::commands::cost::scenario::{lambda_memory_mb, pod_shape};
use crate::commands::cost::{off_hours_of, OffHoursGroup};
use crate::engine::cost::plan::{
    self, slo_instances, Billing, ClusterSpec, CostReport, ExistingCommitment, GroupData, OffHours,
    Options,
};
use crate::engine::replay::{ExtraSeries, ReplayInput};
use crate::model::{GroupInfo, MetricKind};
use crate::pricing::{Arch, Catalog};
use crate::store::Store;

/// Series by the name a policy reads them under.
pub type NamedSeries = Vec<(&'static str, Vec<f64>)>;

#[derive(Debug)]
pub struct CostJob {
    pub groups: Vec<GroupData>,
    /// The id of each group in `groups`.
    pub ids: Vec<crate::model::GroupId>,
    /// Per group in `groups`: what the off-hours search replays (its description with policy,
    /// capacity model and SLO, and the extra series its policy may read).
    pub replay: Vec<(GroupInfo, NamedSeries)>,
    /// The demo simulator's scenario when it is the source: it gives each group's local clock
    /// (otherwise windows are found in UTC).
    pub demo_scenario: Option<String>,
    /// Groups left out, with why.
    pub skipped: Vec<String>,
    /// The nodes pod groups are priced on (None: no pod group, or the node type is unknown).
    pub cluster: Option<ClusterSpec>,
    /// Assumptions made to price them (the region when none was given).
    pub assumptions: Vec<String>,
    /// `[cost] availability_zones`: the zones groups span today.
    pub availability_zones: BTreeMap<String, u32>,
    /// Commitments held today: the demo scenario's, else the config's (as `scaletop cost`
    /// takes them), so the tab's figures are net of what is already reserved.
    pub existing: Vec<ExistingCommitment>,
}

/// What the config says about the fleet that the store cannot: the nodes pod groups run on,
/// and the availability zones each group spans today (the spot plan's starting spread).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostSettings {
    pub node_type: Option<String>,
    pub region: Option<String>,
    pub availability_zones: BTreeMap<String, u32>,
    /// `[cost] commitments`: reservations and savings plans held today.
    pub commitments: Vec<ExistingCommitment>,
}

impl CostSettings {
    pub fn from_config(c: &crate::config::CostConfig) -> CostSettings {
        let set = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        CostSettings {
            node_type: set(&c.node_type),
            region: set(&c.region),
            availability_zones: c.availability_zones.clone(),
            commitments: c.commitments.clone(),
        }
    }
}

/// The cluster pod groups are priced on: the demo scenario's (with the hint's overrides), as
/// `scaletop cost --scenario` finds it, else the hint's node type, in its region or the type's
/// first catalog region.
fn cluster_of(
    hint: &CostSettings,
    demo_scenario: Option<&crate::sim::Scenario>,
    catalog: &Catalog,
    assumptions: &mut Vec<String>,
) -> Option<ClusterSpec> {
    if let Some(s) = demo_scenario {
        if let Some(c) = crate::commands::cost::scenario::cluster(
            s,
            hint.node_type.as_deref(),
            hint.region.as_deref(),
            catalog,
            assumptions,
        ) {
            return Some(c);
        }
    }
    let node = hint.node_type.clone()?;
    let region = match &hint.region {
        Some(r) => r.clone(),
        None => {
            let r = catalog.regions_of(&node).into_iter().next()?;
            assumptions.push(format!(
                "node region not given: priced in {r} (set [cost] region)"
            ));
            r
        }
    };
    assumptions.push(format!("pods run on {node} nodes in {region}"));
    Some(ClusterSpec {
        node_type: node,
        region,
    })
}

#[derive(Debug, Clone, PartialEq)]
pub struct CostOutcome {
    pub report: Result<CostReport, String>,
    /// The cost plans as recommendations, for the recommendations pane.
    pub recommendations: Vec<crate::model::Recommendation>,
    pub skipped: Vec<String>,
}

fn billing(
    info: &GroupInfo,
    catalog: &Catalog,
    cluster: Option<&ClusterSpec>,
) -> Result<Billing, String> {
    let t = info
        .instance_type
        .as_deref()
        .ok_or("no instance type reported")?;
    if let Some(mb) = lambda_memory_mb(t) {
        return Ok(Billing::Lambda {
            memory_mb: mb,
            functions: info
                .labels
                .get("functions")
                .and_then(|f| f.parse().ok())
                .unwrap_or(1),
            arch: Arch::X86_64,
        });
    }
    if let Some((cpu, mem)) = pod_shape(t) {
        if cluster.is_none() {
            return Err(format!(
                "{t}: pods are priced from their nodes; the node type is not known (set [cost] node_type in the config)"
            ));
        }
        return Ok(Billing::Pods {
            cpu_request: cpu,
            memory_request_gib: mem,
        });
    }
    let name = t.strip_suffix("-pod").unwrap_or(t);
    let region = info
        .labels
        .get("region")
        .cloned()
        .or_else(|| info.id.scope.split_once('/').map(|(_, r)| r.to_string()))
        .ok_or("no region in the group's scope or labels")?;
    catalog
        .on_demand(name, &region)
        .map_err(|e| e.to_string())?;
    Ok(Billing::Instances {
        instance_type: name.to_string(),
        region,
    })
}

pub fn job(store: &Store) -> CostJob {
    job_with_demo(store, None, &CostSettings::default())
}

/// [`job`], with the demo simulator's scenario when it is the source and what the config
/// says of the fleet.
pub fn job_with_demo(
    store: &Store,
    demo_scenario: Option<&str>,
    settings: &CostSettings,
) -> CostJob {
    let catalog = Catalog::built_in().ok();
    let scenario = demo_scenario.and_then(|n| crate::sim::Scenario::load(n).ok());
    let mut assumptions = Vec::new();
    let any_pods = store
        .groups()
        .iter()
        .any(|g| g.instance_type.as_deref().and_then(pod_shape).is_some());
    let cluster = catalog
        .as_ref()
        .filter(|_| any_pods)
        .and_then(|c| cluster_of(settings, scenario.as_ref(), c, &mut assumptions));
    let mut groups = Vec::new();
    let mut ids = Vec::new();
    let mut replay = Vec::new();
    let mut skipped = Vec::new();
    for (g, info) in store.groups().iter().enumerate() {
        let Some(catalog) = catalog.as_ref() else {
            skipped.push("the built-in pricing catalog does not load".into());
            break;
        };
        let billing = match billing(info, catalog, cluster.as_ref()) {
            Ok(b) => b,
            Err(why) => {
                skipped.push(format!("{}: {why}", info.id.name));
                continue;
            }
        };
        let read = |m| super::history(store, g, m);
        let Some((start, demand)) = read(MetricKind::RequestRate) else {
            skipped.push(format!("{}: no request rate yet", info.id.name));
            continue;
        };
        let series = |m| read(m).map(|(_, v)| v).unwrap_or_default();
        let is_lambda = matches!(billing, Billing::Lambda { .. });
        let capacity = if is_lambda {
            series(MetricKind::Concurrency)
        } else {
            series(MetricKind::ReplicasDesired)
        };
        if capacity.iter().all(|v| !v.is_finite()) {
            skipped.push(format!("{}: no replica counts yet", info.id.name));
            continue;
        }
        // The policy's own target, as the CLI's replay uses it (0.7 when it cannot be replayed).
        let target = super::policies::autoscaler_for(info)
            .map(|a| a.target_utilization())
            .unwrap_or(0.7);
        let (required, needed, min, startup) = match (&info.capacity, &info.slo) {
            (Some(cap), slo) if !is_lambda => {
                let slo = slo.clone().unwrap_or_default();
                (
                    demand
                        .iter()
                        .map(|d| slo_instances(*d, cap, &slo))
                        .collect(),
                    demand
                        .iter()
                        .map(|d| d / (cap.capacity_per_replica_rps * target))
                        .collect(),
                    f64::from(cap.min_replicas),
                    cap.startup_seconds,
                )
            }
            _ => (Vec::new(), Vec::new(), 0.0, 120),
        };
        let t = info.instance_type.clone().unwrap_or_default();
        ids.push(info.id.clone());
        let extra = super::policies::EXTRA_SERIES
            .iter()
            .filter(|(_, m)| store.series(g, *m).is_some())
            .map(|(name, m)| (*name, series(*m)))
            .collect();
        replay.push((info.clone(), extra));
        groups.push(GroupData {
            name: info.id.name.clone(),
            labels: info.labels.clone(),
            billing,
            start_unix: start,
            step_seconds: store.step_seconds(),
            demand,
            capacity,
            capacity_source: "observed replicas".into(),
            required,
            needed_at_target: needed,
            min_replicas: min,
            cpu_utilization: series(MetricKind::CpuUtilization),
            memory_utilization: series(MetricKind::MemoryUtilization),
            network_mbps: series(MetricKind::NetworkMbps),
            concurrency: series(MetricKind::Concurrency),
            provisioned_concurrency: 0.0,
            stateless: !t.starts_with("db."),
            startup_seconds: startup,
            spot_now: None,
            lambda_metrics: crate::engine::cost::plan::LambdaMetrics {
                max_memory_used_mb: series(MetricKind::MaxMemoryUsedMb),
                cpu_total_time_ms: series(MetricKind::CpuTotalTimeMs),
                duration_ms: series(MetricKind::DurationMs),
            },
        });
    }
    CostJob {
        groups,
        ids,
        replay,
        demo_scenario: demo_scenario.map(str::to_string),
        skipped,
        cluster,
        assumptions,
        availability_zones: settings.availability_zones.clone(),
        existing: scenario
            .as_ref()
            .map(crate::commands::cost::scenario::existing)
            .unwrap_or_else(|| settings.commitments.clone()),
    }
}

/// Each instance group's off-hours schedule, searched exactly as `scaletop cost` does.
fn off_hours(job: &CostJob) -> BTreeMap<String, OffHours> {
    let scenario = job
        .demo_scenario
        .as_deref()
        .and_then(|n| crate::sim::Scenario::load(n).ok());
    let mut out = BTreeMap::new();
    for (data, (info, extra)) in job.groups.iter().zip(&job.replay) {
        let (Some(policy), Some(cap)) = (&info.policy, &info.capacity) else {
            continue;
        };
        let offset = scenario
            .as_ref()
            .and_then(|s| {
                s.sim_groups()
                    .iter()
                    .find(|g| g.info.id == info.id)
                    .map(|g| (g.utc_offset_seconds / 3600.0).round() as i32)
            })
            .unwrap_or(0);
        let g = OffHoursGroup {
            id: &info.id,
            policy: &policy.model,
            cap,
            slo: info.slo.clone().unwrap_or_default(),
            utc_offset_hours: offset,
            input: ReplayInput {
                start: data.start_unix,
                step_seconds: data.step_seconds,
                demand_rps: &data.demand,
                extra: extra
                    .iter()
                    .map(|(n, v)| ExtraSeries {
                        name: n.to_string(),
                        values: v,
                    })
                    .collect(),
            },
        };
        if let Some(o) = off_hours_of(&g, data) {
            out.insert(data.name.clone(), o);
        }
    }
    out
}

pub fn run(job: CostJob) -> CostOutcome {
    let report = Catalog::built_in()
        .map_err(|e| e.to_string())
        .and_then(|c| {
            plan::analyze(
                &job.groups,
                &job.existing,
                &c,
                &Options {
                    cluster: job.cluster.clone(),
                    terms: vec![1, 3],
                    source: "live store".into(),
                    off_hours: off_hours(&job),
                    availability_zones: job.availability_zones.clone(),
                },
            )
            .map_err(|e| e.to_string())
        })
        .map(|mut r| {
            r.assumptions.extend(job.assumptions.iter().cloned());
            r
        });
    let recommendations = report.as_ref().map_or_else(
        |_| Vec::new(),
        |r| {
            let mut recs = crate::commands::cost::recommendations(r, &job.groups);
            // Each recommendation carries its group's real id (platform and scope).
            for rec in &mut recs {
                if let Some(id) = job.ids.iter().find(|id| id.name == rec.group.name) {
                    rec.group = id.clone();
                }
            }
            recs
        },
    );
    CostOutcome {
        report,
        recommendations,
        skipped: job.skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GroupId, Platform};
    use crate::sources::{Sample, Update};
    use chrono::DateTime;

    #[test]
    fn live_groups_are_priced_and_unpriceable_ones_say_why() {
        let mut store = Store::new(60, 1440);
        let mut web = GroupInfo::new(GroupId::new(Platform::Aws, "123/us-east-1", "web"));
        web.instance_type = Some("m5.xlarge".into());
        let mut pods = GroupInfo::new(GroupId::new(Platform::K8s, "ns", "api"));
        pods.instance_type = Some("pod-1cpu-2gi".into());
        let ids = [web.id.clone(), pods.id.clone()];
        store.apply(Update::Group(Box::new(web)));
        store.apply(Update::Group(Box::new(pods)));
        for i in 0..120 {
            let at = DateTime::from_timestamp(1_700_000_040 + i * 60, 0).unwrap();
            let mut samples = Vec::new();
            for id in &ids {
                samples.push(Sample {
                    group: id.clone(),
                    metric: MetricKind::RequestRate,
                    value: 100.0,
                });
                samples.push(Sample {
                    group: id.clone(),
                    metric: MetricKind::ReplicasDesired,
                    value: 10.0,
                });
            }
            store.apply(Update::Samples { at, samples });
        }
        let out = run(job(&store));
        let r = out.report.expect("priced");
        assert_eq!(r.groups.len(), 1);
        // 10 x m5.xlarge at $0.192: $1,401.60 a month.
        assert!((r.totals.current_usd_month - 1401.6).abs() < 1e-6);
        assert_eq!(out.skipped.len(), 1);
        assert!(out.skipped[0].contains("node type"), "{:?}", out.skipped);

        // With the config's node type the pods are priced OpenCost-style: m5.xlarge ($0.192/h,
        // 4 vCPU, 16 GiB) under OpenCost's default weights (0.031611 per vCPU, 0.004237 per
        // GiB) is $0.0312465/vCPU-h and $0.00418816/GiB-h; 10 pods of 1 vCPU + 2 GiB (usage
        // unknown, so the requests) are $0.396228/h, $289.25 a month.
        let settings = CostSettings {
            node_type: Some("m5.xlarge".into()),
            region: Some("us-east-1".into()),
            ..Default::default()
        };
        let out = run(job_with_demo(&store, None, &settings));
        assert!(out.skipped.is_empty(), "{:?}", out.skipped);
        let r = out.report.expect("priced");
        let api = r
            .groups
            .iter()
            .find(|g| g.group == "api")
            .expect("pods priced");
        let k: f64 = 0.192 / (4.0 * 0.031611 + 16.0 * 0.004237);
        let per_pod = k * (0.031611 + 2.0 * 0.004237);
        assert!((per_pod * 10.0 - 0.396228).abs() < 1e-5, "{per_pod}");
        assert!(
            (api.current_usd_month - per_pod * 10.0 * 730.0).abs() < 0.01,
            "{}",
            api.current_usd_month
        );
        assert!(r
            .assumptions
            .iter()
            .any(|a| a.contains("m5.xlarge nodes in us-east-1")));

        // The config's reservations are part of the picture: 5 m5.xlarge reserved under a
        // steady 10 are all used and cover half of the group's hours.
        let settings = CostSettings {
            commitments: vec![ExistingCommitment {
                kind: "reserved_instance".into(),
                instance_type: Some("m5.xlarge".into()),
                region: Some("us-east-1".into()),
                count: Some(5),
                commitment_usd_per_hour: None,
                effective_usd_per_hour: None,
                starts: None,
                ends: None,
            }],
            ..Default::default()
        };
        let r = run(job_with_demo(&store, None, &settings))
            .report
            .expect("priced");
        let row = r.inventory.first().expect("the reservation is inventoried");
        assert!((row.utilization_now.expect("utilization") - 1.0).abs() < 1e-9);
        assert!((row.coverage_now.expect("coverage") - 0.5).abs() < 1e-9);
    }

    #[test]
    fn live_lambda_memory_metrics_reach_the_memory_plan() {
        // 1,024 MB; Max Memory Used 300 MB, 40 ms CPU in 200 ms (0.2 vCPU):
        // max(300 x 1.2, 0.2 x 1.2 x 1769 = 424.56) -> 425 MB, as `scaletop cost` finds it.
        let mut store = Store::new(60, 1440);
        let mut f = GroupInfo::new(GroupId::new(Platform::Aws, "123/us-east-1", "fn"));
        f.instance_type = Some("lambda-1024mb".into());
        let id = f.id.clone();
        store.apply(Update::Group(Box::new(f)));
        for i in 0..120 {
            let at = DateTime::from_timestamp(1_700_000_040 + i * 60, 0).unwrap();
            let samples = [
                (MetricKind::RequestRate, 10.0),
                (MetricKind::Concurrency, 2.0),
                (MetricKind::MaxMemoryUsedMb, 300.0),
                (MetricKind::CpuTotalTimeMs, 40.0),
                (MetricKind::DurationMs, 200.0),
            ]
            .into_iter()
            .map(|(metric, value)| Sample {
                group: id.clone(),
                metric,
                value,
            })
            .collect();
            store.apply(Update::Samples { at, samples });
        }
        let out = run(job(&store));
        let r = out.report.expect("priced");
        let m = r.plans[0].memory.as_ref().expect("memory plan");
        assert_eq!((m.needed_mb, m.lower), (425, true));
        assert!(out
            .recommendations
            .iter()
            .any(|r| r.artifact["memory_size_mb"] == 425));
    }
}

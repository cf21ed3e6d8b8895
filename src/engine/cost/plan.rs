//! The whole cost analysis of a set of groups: what each costs now and with the cost
//! recommendations applied (instance type, then spot above an SLO-safe base, then a commitment
//! on what stays on demand: each saving is counted once, in that order), waste, Kubernetes
//! allocation with idle shown apart, serverless concurrency, and the existing commitments'
//! utilization now and under the recommendations.

use std::collections::BTreeMap;

use serde::Serialize;

use super::breakdown::{by_label, GroupCost, LabelCost};
use super::commitment::{self, CommitmentOption, CommitmentPlan};
use super::existing::{Covered, Pools};
use super::hourly::HourlyCapacity;
use super::kubernetes::{self, Allocation, NodeRates, PodHour};
use super::lambda_memory::{self, MemoryPlan, MemoryUsage};
use super::lambda_schedule;
use super::offhours;
use super::rightsizing::{self, Candidate, InstanceLoad, InstanceTypeAdvice};
use super::savings::{saving, Saving};
use super::serverless::{self, ConcurrencyPlan, FunctionUsage};
use super::spot::{self, SpotInputs, SpotPlan};
use super::stranded;
use super::waste::{self, Waste};
use super::HOURS_PER_MONTH;
use crate::artifact::CommitmentType;
use crate::engine::latency::latency;
use crate::model::{CapacityModel, Slo};
use crate::pricing::{Arch, Catalog, Cloud, InstanceSpec, Price, PriceStatus, PricingError};

/// Availability zones a group is taken to span today when `[cost] availability_zones` does not
/// say (spot pools = types x zones); the spot plan also tries all of the region's zones.
pub const SPOT_AVAILABILITY_ZONES: u32 = 3;

/// How a group is billed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "billing", rename_all = "snake_case")]
pub enum Billing {
    /// VMs (or DB instances) of one type in one region.
    Instances {
        instance_type: String,
        region: String,
    },
    /// Kubernetes pods with requests, on nodes of the cluster's node type.
    Pods {
        cpu_request: f64,
        memory_request_gib: f64,
    },
    /// Lambda functions: `functions` share the tier's invocations evenly.
    Lambda {
        memory_mb: f64,
        functions: u32,
        arch: Arch,
    },
}

/// One group's history on one grid, as plain data.
#[derive(Debug, Clone)]
pub struct GroupData {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub billing: Billing,
    pub start_unix: i64,
    pub step_seconds: i64,
    /// Requests per second (NaN: missing).
    pub demand: Vec<f64>,
    /// Instances / pods provisioned per step under the policy being costed.
    pub capacity: Vec<f64>,
    /// Where `capacity` came from, e.g. "replay of the current policy (HPA cpu 70%)".
    pub capacity_source: String,
    /// Instances that carry the SLO per step (latency model); empty when unknown.
    pub required: Vec<f64>,
    /// Instances needed at the policy's target utilization per step (unrounded).
    pub needed_at_target: Vec<f64>,
    pub min_replicas: f64,
    /// Percent of the request / instance (NaN: missing).
    pub cpu_utilization: Vec<f64>,
    pub memory_utilization: Vec<f64>,
    pub network_mbps: Vec<f64>,
    pub concurrency: Vec<f64>,
    pub provisioned_concurrency: f64,
    pub stateless: bool,
    pub startup_seconds: u32,
    /// Spot already in use: (on-demand base, share of capacity above the base on spot).
    pub spot_now: Option<(u32, f64)>,
    /// Lambda: the functions' memory and CPU metrics (empty where not reported).
    pub lambda_metrics: LambdaMetrics,
}

/// Lambda: what the functions' invocations use, per step (NaN: missing), for memory
/// rightsizing. All functions of a tier alike.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LambdaMetrics {
    /// Max Memory Used per invocation, the step's largest, MB.
    pub max_memory_used_mb: Vec<f64>,
    /// Lambda Insights `cpu_total_time` per invocation, ms.
    pub cpu_total_time_ms: Vec<f64>,
    /// `Duration` per invocation, ms.
    pub duration_ms: Vec<f64>,
}

/// Cluster facts for pod groups.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterSpec {
    pub node_type: String,
    pub region: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub cluster: Option<ClusterSpec>,
    /// Commitment terms to consider (years).
    pub terms: Vec<u32>,
    pub source: String,
    /// Per group name: the off-hours schedule its replay found (or why none), when the group's
    /// policy can be replayed.
    pub off_hours: BTreeMap<String, OffHours>,
    /// Per group name: the availability zones its instances span today (`[cost]
    /// availability_zones`); a group not listed spans [`SPOT_AVAILABILITY_ZONES`].
    pub availability_zones: BTreeMap<String, u32>,
}

/// An off-hours schedule found by replaying a group, and the platform document that applies
/// it (None where the platform has no scheduled-minimum form scaletop writes).
#[derive(Debug, Clone, PartialEq)]
pub struct OffHours {
    pub finding: Result<offhours::ScheduleFinding, String>,
    pub document: Option<crate::artifact::PolicyArtifact>,
}

/// An existing reserved instance / savings plan / CUD (from a scenario, or `[cost]
/// commitments` in the config).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExistingCommitment {
    /// `reserved_instance`, `reserved_db_instance`, `savings_plan` (or `committed_use`).
    pub kind: String,
    #[serde(default)]
    pub instance_type: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default)]
    pub commitment_usd_per_hour: Option<f64>,
    /// What a reservation costs an hour per instance, all fees spread (None: the catalog's
    /// 1-year rate).
    #[serde(default)]
    pub effective_usd_per_hour: Option<f64>,
    /// When it started and ends: it covers only the hours in between, and a change that
    /// leaves it unused loses its value until the end.
    #[serde(default)]
    pub starts: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    pub ends: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InventoryRow {
    #[serde(flatten)]
    pub commitment: ExistingCommitment,
    pub utilization_now: Option<f64>,
    pub coverage_now: Option<f64>,
    pub utilization_projected: Option<f64>,
    pub coverage_projected: Option<f64>,
    /// What it saves against on-demand a month now and under the recommendations (negative:
    /// it costs more than the usage it covers).
    pub saving_usd_month_now: Option<f64>,
    pub saving_usd_month_projected: Option<f64>,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KubeCost {
    pub node_type: String,
    pub region: String,
    pub node_usd_per_hour: f64,
    pub rates: NodeRates,
    pub nodes_mean: f64,
    pub nodes_usd_month: f64,
    pub allocated_usd_month: f64,
    /// Node capacity no workload is allocated: shown apart, not spread over workloads.
    pub idle_usd_month: f64,
    pub commitment: Option<CommitmentPlan>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupPlans {
    pub group: String,
    pub instance_type: Option<InstanceTypeAdvice>,
    pub spot: Option<SpotPlan>,
    /// Options compared, best net saving first.
    pub commitments: Vec<CommitmentPlan>,
    pub concurrency: Option<ConcurrencyPlan>,
    pub waste: Option<Waste>,
    /// The replayed off-hours schedule (the idle off-hours waste it recovers).
    pub schedule: Option<offhours::ScheduleFinding>,
    /// Why no schedule is recommended, when one was looked for.
    pub schedule_note: Option<String>,
    /// The platform document applying the schedule, where scaletop writes one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule_document: Option<crate::artifact::PolicyArtifact>,
    /// Lambda: provisioned concurrency per function by UTC hour of day, when a schedule beats
    /// the constant level (a recurring burst provisioned only while it runs).
    pub concurrency_by_hour_utc: Option<Vec<u32>>,
    /// Lambda: the Application Auto Scaling scheduled actions applying that schedule (per
    /// function), read back step by step to the costed levels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency_schedule_document: Option<serde_json::Value>,
    /// Lambda: saving of moving the functions to arm64 (Graviton).
    pub lambda_arm_saving_usd_month: Option<f64>,
    /// Lambda: the memory setting the functions' use supports (recommended when lower).
    pub memory: Option<MemoryPlan>,
    /// Existing reservations a change leaves unused until they end, and what that takes off
    /// the change's saving.
    pub stranded: Vec<super::stranded::Stranded>,
    /// When the recommended commitment should start, where a type move waits for an existing
    /// reservation's end (the commitment is for the new type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commitment_starts: Option<String>,
    /// Saving of each step as applied in order (instance_type, spot, commitment, concurrency).
    pub applied: BTreeMap<String, f64>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mix {
    pub on_demand_share: f64,
    pub spot_share: f64,
    pub committed_share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub current_usd_month: f64,
    pub projected_usd_month: f64,
    pub saving: Saving,
    pub savings_by_kind: BTreeMap<String, f64>,
    pub waste_usd_month: f64,
    pub mix_now: Mix,
    pub mix_projected: Mix,
    pub usd_per_million_requests_now: Option<f64>,
    pub usd_per_million_requests_projected: Option<f64>,
    /// Per day of history: (day start, $ per million requests at the current policy).
    pub usd_per_million_requests_by_day: Vec<(i64, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CostReport {
    pub schema: &'static str,
    pub source: String,
    pub hours: f64,
    pub totals: Totals,
    pub groups: Vec<GroupCost>,
    pub by_team: Vec<LabelCost>,
    pub kubernetes: Option<KubeCost>,
    pub inventory: Vec<InventoryRow>,
    pub plans: Vec<GroupPlans>,
    /// Prices the figures rest on that are not verified.
    pub unverified_prices: Vec<String>,
    pub assumptions: Vec<String>,
}

fn hourly(g: &GroupData, v: &[f64]) -> Vec<f64> {
    HourlyCapacity::from_series(g.start_unix, g.step_seconds, v).instances
}

/// Per-hour maximum (the SLO must hold in every step of the hour).
fn hourly_max(g: &GroupData, v: &[f64]) -> Vec<f64> {
    let per_hour = (3600 / g.step_seconds.max(1)).max(1) as usize;
    let offset = (g.start_unix.rem_euclid(3600) / g.step_seconds.max(1)) as usize;
    let mut out = Vec::new();
    let mut i = 0;
    let mut first = per_hour.saturating_sub(offset).max(1);
    while i < v.len() {
        let end = (i + first).min(v.len());
        out.push(
            v[i..end]
                .iter()
                .copied()
                .filter(|x| x.is_finite())
                .fold(f64::NAN, f64::max),
        );
        i = end;
        first = per_hour;
    }
    out
}

/// A pod group's hours for the OpenCost split: pods provisioned, and per-pod usage from the
/// utilization of the request (a missing hour counts as the full request).
pub fn pod_hours(g: &GroupData, cpu_request: f64, memory_request_gib: f64) -> Vec<PodHour> {
    pod_hours_with(g, &g.capacity, cpu_request, memory_request_gib)
}

/// [`pod_hours`] for another pod count per step (a schedule's): the same work spread over
/// those pods, so each pod's usage grows as the count shrinks.
pub fn pod_hours_with(
    g: &GroupData,
    pods_per_step: &[f64],
    cpu_request: f64,
    memory_request_gib: f64,
) -> Vec<PodHour> {
    let now = hourly(g, &g.capacity);
    // A utilization series that was never reported is unknown at every hour (usage = the
    // request), not zero hours: an empty series must not cut the pods' hours to nothing.
    let or_unknown = |v: Vec<f64>| v.into_iter().chain(std::iter::repeat(f64::NAN));
    hourly(g, pods_per_step)
        .iter()
        .zip(&now)
        .zip(or_unknown(hourly(g, &g.cpu_utilization)))
        .zip(or_unknown(hourly(g, &g.memory_utilization)))
        .map(|(((pods, before), cpu), mem)| {
            let pods = if pods.is_finite() { *pods } else { 0.0 };
            let spread = if pods > 0.0 && before.is_finite() && *before > 0.0 {
                before / pods
            } else {
                1.0
            };
            PodHour {
                pods,
                cpu_request,
                memory_request_gib,
                cpu_usage: cpu_request * spread * if cpu.is_finite() { cpu / 100.0 } else { 1.0 },
                memory_usage_gib: memory_request_gib
                    * spread
                    * if mem.is_finite() { mem / 100.0 } else { 1.0 },
            }
        })
        .collect()
}

/// Monthly cost of an instance fleet (hourly counts) at on-demand `od`, with today's spot mix
/// (on-demand base, share above it on spot at `spot_usd`) where there is one; and its spot part.
fn fleet_month(h: &[f64], od: f64, spot_usd: f64, spot_now: Option<(u32, f64)>) -> (f64, f64) {
    let mean = finite_mean(h).unwrap_or(0.0);
    match spot_now {
        None => (mean * od * HOURS_PER_MONTH, 0.0),
        Some((base, share)) => {
            let b = f64::from(base);
            let spot_h = finite_mean(
                &h.iter()
                    .map(|c| (c - b).max(0.0) * share)
                    .collect::<Vec<_>>(),
            )
            .unwrap_or(0.0);
            (
                ((mean - spot_h) * od + spot_h * spot_usd) * HOURS_PER_MONTH,
                spot_h * spot_usd * HOURS_PER_MONTH,
            )
        }
    }
}

fn finite_mean(v: &[f64]) -> Option<f64> {
    let f: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    (!f.is_empty()).then(|| f.iter().sum::<f64>() / f.len() as f64)
}

fn requests_per_month(g: &GroupData) -> Option<f64> {
    finite_mean(&g.demand).map(|rps| rps * 3600.0 * HOURS_PER_MONTH)
}

struct Ctx<'a> {
    catalog: &'a Catalog,
    unverified: std::collections::BTreeSet<String>,
}

impl Ctx<'_> {
    fn price(&mut self, name: &str, region: &str) -> Result<Price, PricingError> {
        let p = self.catalog.on_demand(name, region)?;
        if p.status == PriceStatus::Unverified {
            self.unverified.insert(format!(
                "{name} in {region}: ${} ({})",
                p.usd_per_hour, p.source
            ));
        }
        Ok(p)
    }
}

fn options_for(
    catalog: &Catalog,
    name: &str,
    terms: &[u32],
) -> Result<Vec<CommitmentOption>, PricingError> {
    let (cat, _) = catalog.instance(name)?;
    let r = catalog.class_rates(name)?;
    let mut out = Vec::new();
    for &t in terms {
        let pick = |one: Option<f64>, three: Option<f64>| if t >= 3 { three } else { one };
        let ri_kind = match (cat.cloud, cat.service.as_str()) {
            (Cloud::Gcp, _) => CommitmentType::CommittedUse,
            (Cloud::Azure, _) => CommitmentType::AzureReservation,
            _ => CommitmentType::ReservedInstance,
        };
        let ri_flex = match ri_kind {
            CommitmentType::CommittedUse => "machine series and region (resource-based CUD)",
            _ => "instance type (size-flexible in family) and region",
        };
        let mut push = |kind, d: Option<f64>, flexibility| {
            if let Some(d) = d.filter(|d| *d > 0.0) {
                out.push(CommitmentOption {
                    kind,
                    term_years: t,
                    discount: d,
                    flexibility,
                    status: r.status,
                });
            }
        };
        push(
            ri_kind,
            pick(Some(r.reserved_1y), Some(r.reserved_3y)),
            ri_flex,
        );
        push(
            CommitmentType::ComputeSavingsPlan,
            pick(r.compute_savings_plan_1y, r.compute_savings_plan_3y),
            "any family, size, region (and Lambda/Fargate on AWS)",
        );
        push(
            CommitmentType::Ec2InstanceSavingsPlan,
            pick(r.instance_savings_plan_1y, r.instance_savings_plan_3y),
            "instance family and region, any size",
        );
    }
    Ok(out)
}

/// Costs every group and plans the recommendations.
pub fn analyze(
    groups: &[GroupData],
    existing: &[ExistingCommitment],
    catalog: &Catalog,
    opts: &Options,
) -> Result<CostReport, PricingError> {
    let mut ctx = Ctx {
        catalog,
        unverified: Default::default(),
    };
    let mut costs = Vec::new();
    let mut plans = Vec::new();
    let mut assumptions = vec![
        "monthly figures: mean hourly cost x 730 h".to_string(),
        "savings are counted once, in order: instance type, then spot above an SLO-safe on-demand base, then a commitment on what stays on demand".to_string(),
        "commitments: no-upfront rates; discounts are the catalog's class rates".to_string(),
        "new commitments are sized on each group's usage as if nothing were committed yet: an existing reservation or savings plan covering the same usage (see the inventory) reduces what to buy".to_string(),
        "Lambda: a Compute Savings Plan covers duration and provisioned concurrency (not requests), sized in $ of on-demand spend an hour".to_string(),
        format!("spot: a spot pool is one instance type in one zone; each group spans the zones [cost] availability_zones gives it, else {SPOT_AVAILABILITY_ZONES}, and the plan also tries spreading spot over all of its region's zones (the catalog's count), kept where that raises the SLO-safe saving"),
        format!("Lambda: savings in order arm64, memory, provisioned concurrency, Compute Savings Plan on the spend left; memory = the smallest setting holding peak Max Memory Used x {} and peak vCPUs (cpu_total_time / duration) x {} x {} MB, at unchanged duration", lambda_memory::MEMORY_HEADROOM, lambda_memory::CPU_HEADROOM, crate::engine::serverless::MB_PER_VCPU),
    ];
    let mut by_kind: BTreeMap<String, f64> = BTreeMap::new();
    let (mut od_now, mut od_proj, mut spot_proj, mut committed_proj) = (0.0, 0.0, 0.0, 0.0);
    let mut spot_now = 0.0;
    // Hourly instances per (type, region) now, for the inventory.
    let mut usage_now: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    // Per pod group: its hours now and under its schedule (the same when it has none).
    let mut pod_hours: Vec<(String, Vec<PodHour>, Vec<PodHour>)> = Vec::new();
    let mut daily: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
    let hours = groups
        .iter()
        .map(|g| g.capacity.len() as f64 * g.step_seconds as f64 / 3600.0)
        .fold(0.0, f64::max);
    let history_hours = hours.floor() as usize;
    let terms: Vec<u32> = opts
        .terms
        .iter()
        .copied()
        .filter(|t| {
            let ok = history_hours >= commitment::required_history_hours(*t);
            if !ok {
                assumptions.push(format!(
                    "{t}-year commitments not sized: {history_hours} h of history, {} h needed",
                    commitment::required_history_hours(*t)
                ));
            }
            ok
        })
        .collect();

    // The inventory, consumed by the projected on-demand usage as the groups are planned.
    let n_hours = groups
        .iter()
        .map(|g| hourly(g, &g.capacity).len())
        .max()
        .unwrap_or(0);
    // Hourly series start on the hour of the earliest group; "now" is the end of the history.
    let first_hour = groups
        .iter()
        .map(|g| g.start_unix - g.start_unix.rem_euclid(3600))
        .min();
    let history_end = groups
        .iter()
        .map(|g| g.start_unix + g.capacity.len() as i64 * g.step_seconds)
        .max()
        .unwrap_or(0);
    let mut inventory_left = Pools::new_at(existing, n_hours, first_hour);
    // Reservations only, taken by today's usage group by group: what each group's changes can
    // leave unused.
    let reservations: Vec<ExistingCommitment> = existing
        .iter()
        .filter(|e| e.instance_type.is_some() && e.region.is_some() && e.count.is_some())
        .cloned()
        .collect();
    let mut strand_pools = Pools::new_at(&reservations, n_hours, first_hour);
    // Lambda spend a savings plan can cover ($/h on demand), now and projected.
    let mut lambda_now: Vec<f64> = Vec::new();
    let mut lambda_proj: Vec<f64> = Vec::new();
    for g in groups {
        let cap_h = hourly(g, &g.capacity);
        let mut p = GroupPlans {
            group: g.name.clone(),
            instance_type: None,
            spot: None,
            commitments: Vec::new(),
            concurrency: None,
            waste: None,
            schedule: None,
            schedule_note: None,
            schedule_document: None,
            concurrency_by_hour_utc: None,
            concurrency_schedule_document: None,
            lambda_arm_saving_usd_month: None,
            memory: None,
            stranded: Vec::new(),
            commitment_starts: None,
            applied: BTreeMap::new(),
            notes: vec![format!("capacity: {}", g.capacity_source)],
        };
        let (priced_as, usd_now_h, current, projected, status, source) = match &g.billing {
            Billing::Instances {
                instance_type,
                region,
            } => {
                let price = ctx.price(instance_type, region)?;
                let od = price.usd_per_hour;
                let spot_price_now = od * (1.0 - catalog.class_rates(instance_type)?.spot_discount);
                let (current, spot_part_now) = fleet_month(&cap_h, od, spot_price_now, g.spot_now);
                spot_now += spot_part_now;
                // 0. Off-hours schedule: the replayed capacity replaces the current one.
                let mut base_h = cap_h.clone();
                // The same fleet per input step, for the spot plan's SLO check.
                let mut base_steps: &[f64] = &g.capacity;
                match opts.off_hours.get(&g.name).map(|o| &o.finding) {
                    Some(Ok(f)) => {
                        let sched_h = hourly(g, &f.scheduled_capacity);
                        // At the group's own mix (on demand, or its spot share today).
                        let s = current - fleet_month(&sched_h, od, spot_price_now, g.spot_now).0;
                        if s > 0.0 {
                            p.applied.insert("schedule".into(), s);
                            base_h = sched_h;
                            base_steps = &f.scheduled_capacity;
                            p.schedule = Some(f.clone());
                            p.schedule_document =
                                opts.off_hours.get(&g.name).and_then(|o| o.document.clone());
                        } else {
                            p.schedule_note = Some(format!(
                                "the replayed schedule ({}) saves nothing against the current capacity",
                                f.window.describe()
                            ));
                        }
                    }
                    Some(Err(why)) => p.schedule_note = Some(why.clone()),
                    None => {}
                }
                // 1. Instance type.
                let (_, spec) = catalog.instance(instance_type)?;
                let load = InstanceLoad {
                    cpu_p95: super::quantile(&g.cpu_utilization, 0.95).unwrap_or(60.0) / 100.0,
                    memory_peak: super::quantile(&g.memory_utilization, 1.0).unwrap_or(60.0)
                        / 100.0,
                    network_peak_gbps: None,
                };
                let mut fleet_h = base_h.clone();
                let mut type_ratio = 1.0;
                let mut req_h: Vec<f64> = if g.required.is_empty() {
                    Vec::new()
                } else {
                    hourly_max(g, &g.required)
                };
                let mut od_type = (instance_type.clone(), od, spec.clone(), price.status);
                let is_db = instance_type.starts_with("db.");
                if !is_db {
                    let (cat, _) = catalog.instance(instance_type)?;
                    let cands: Vec<(InstanceSpec, Price)> = cat
                        .instances
                        .iter()
                        .filter_map(|s| {
                            catalog
                                .on_demand(&s.name, region)
                                .ok()
                                .map(|pr| (s.clone(), pr))
                        })
                        .collect();
                    let cand_refs: Vec<Candidate> = cands
                        .iter()
                        .map(|(s, pr)| Candidate {
                            spec: s,
                            usd_per_hour: pr.usd_per_hour,
                            status: pr.status,
                        })
                        .collect();
                    let current_c = Candidate {
                        spec,
                        usd_per_hour: od,
                        status: price.status,
                    };
                    let advice = rightsizing::choose(&base_h, &current_c, &load, &cand_refs);
                    if let (Some(r), Some(s)) = (&advice.recommended, &advice.saving) {
                        if let Some((rs, rp)) = cands.iter().find(|(s2, _)| s2.name == r.name) {
                            if rp.status == PriceStatus::Unverified {
                                ctx.unverified.insert(format!(
                                    "{} in {region}: ${} ({})",
                                    rs.name, rp.usd_per_hour, rp.source
                                ));
                            }
                            let k = r.instances_per_current;
                            type_ratio = k;
                            fleet_h = base_h.iter().map(|c| (c * k).ceil().max(1.0)).collect();
                            req_h = req_h.iter().map(|c| (c * k).ceil()).collect();
                            od_type = (rs.name.clone(), rp.usd_per_hour, rs.clone(), rp.status);
                            p.applied.insert("instance_type".into(), s.saving_usd_month);
                        }
                    }
                    p.instance_type = Some(advice);
                }
                let after_type = finite_mean(&fleet_h).unwrap_or(0.0) * od_type.1 * HOURS_PER_MONTH;
                // 2. Spot above an SLO-safe base.
                let rates = catalog.class_rates(&od_type.0)?.clone();
                let family = |n: &str| n.split(['.', '-']).next().unwrap_or(n).to_string();
                let size = |n: &str| n.split_once('.').map(|x| x.1.to_string());
                let mut pools: Vec<String> = vec![od_type.0.clone()];
                if let Some(sz) = size(&od_type.0) {
                    let (cat, _) = catalog.instance(&od_type.0)?;
                    for s in &cat.instances {
                        if pools.len() >= 4 {
                            break;
                        }
                        if s.name != od_type.0
                            && size(&s.name).as_deref() == Some(sz.as_str())
                            && s.arch == od_type.2.arch
                            && s.vcpu == od_type.2.vcpu
                            && s.memory_gib >= od_type.2.memory_gib
                            && family(&s.name) != family(&od_type.0)
                            && !rightsizing::is_burstable(&s.name)
                            && catalog.on_demand(&s.name, region).is_ok()
                        {
                            pools.push(s.name.clone());
                        }
                    }
                }
                let required = if req_h.is_empty() {
                    fleet_h.clone()
                } else {
                    req_h.clone()
                };
                // Step by step: an hourly mean fleet against the hour's largest need would
                // mistake a ramp for a shortage.
                let fleet_steps: Vec<f64> = base_steps
                    .iter()
                    .map(|c| (c * type_ratio).ceil().max(1.0))
                    .collect();
                let required_steps: Vec<f64> =
                    g.required.iter().map(|c| (c * type_ratio).ceil()).collect();
                let by_steps = !g.required.is_empty() && g.required.len() == base_steps.len();
                let zones_now = opts
                    .availability_zones
                    .get(&g.name)
                    .copied()
                    .unwrap_or(SPOT_AVAILABILITY_ZONES);
                let region_zones = catalog.zones(&od_type.0, region).map(|z| z.0);
                let mut sp = spot::plan_over_zones(
                    &SpotInputs {
                        provisioned: &fleet_h,
                        required: &required,
                        steps: by_steps
                            .then_some((fleet_steps.as_slice(), required_steps.as_slice())),
                        on_demand_usd: od_type.1,
                        spot_discount: rates.spot_discount,
                        interruptions_per_instance_month: rates
                            .interruption_rate_per_month()
                            .unwrap_or(0.0),
                        pools,
                        availability_zones: zones_now,
                        stateless: g.stateless && !is_db,
                        startup_seconds: g.startup_seconds,
                    },
                    region_zones,
                );
                if let Some(z) = sp.spread.as_mut() {
                    z.region = region.to_string();
                    let cloud = catalog.instance(&od_type.0)?.0.cloud.as_str();
                    z.caveat = spot::spread_caveat(cloud, region, z.region_zones);
                }
                if let Some(b) = sp.binding.as_mut() {
                    b.at_unix = Some(if by_steps {
                        g.start_unix + b.index as i64 * g.step_seconds
                    } else {
                        g.start_unix - g.start_unix.rem_euclid(3600) + b.index as i64 * 3600
                    });
                }
                if let Some((b, share)) = g.spot_now {
                    p.notes.push(format!(
                        "already on spot: base {b}, {:.0}% of capacity above it on spot",
                        share * 100.0
                    ));
                    // Today's mix against the same rule the plan follows: does it carry the
                    // SLO after losing a zone's spot, at today's spread and at the plan's?
                    let (check_p, check_r) = if by_steps {
                        (fleet_steps.as_slice(), required_steps.as_slice())
                    } else {
                        (fleet_h.as_slice(), required.as_slice())
                    };
                    let mut zs = vec![zones_now];
                    zs.extend(sp.spread.as_ref().map(|z| z.region_zones));
                    for z in zs {
                        let worst = spot::binding_step(
                            check_p,
                            check_r,
                            f64::from(b),
                            1.0 - share,
                            1.0 / f64::from(z.max(1)),
                        );
                        if let Some(w) = worst {
                            let short = w.after_loss + 1e-9 < w.required;
                            let t = if by_steps {
                                g.start_unix + w.index as i64 * g.step_seconds
                            } else {
                                g.start_unix - g.start_unix.rem_euclid(3600) + w.index as i64 * 3600
                            };
                            p.notes.push(format!(
                                "today's mix over {z} zones: at its tightest step ({}) {:.0} instances, {:.1} left after losing a zone's spot against {:.0} needed by the SLO{}",
                                chrono::DateTime::from_timestamp(t, 0).map_or_else(
                                    || format!("step {}", w.index),
                                    |t| t.format("%Y-%m-%d %H:%M UTC").to_string()
                                ),
                                w.provisioned,
                                w.after_loss,
                                w.required,
                                if short { ": short" } else { ": carried" }
                            ));
                        }
                    }
                }
                let mut spot_part_proj = 0.0;
                let (after_spot, base) = if g.spot_now.is_some() {
                    // Today's mix kept, on the (possibly new) type and scheduled fleet.
                    let (after, spot_part) = fleet_month(
                        &fleet_h,
                        od_type.1,
                        od_type.1 * (1.0 - rates.spot_discount),
                        g.spot_now,
                    );
                    spot_part_proj = spot_part;
                    (after, None)
                } else if sp.suitable && sp.saving.saving_usd_month > 0.0 {
                    p.applied.insert("spot".into(), sp.saving.saving_usd_month);
                    let mix = (
                        f64::from(sp.on_demand_base),
                        f64::from(sp.on_demand_percentage_above_base) / 100.0,
                    );
                    let od_hours: f64 = finite_mean(
                        &fleet_h
                            .iter()
                            .map(|c| spot::on_demand_part(*c, mix.0, mix.1))
                            .collect::<Vec<_>>(),
                    )
                    .unwrap_or(0.0);
                    spot_part_proj =
                        sp.saving.projected_usd_month - od_hours * od_type.1 * HOURS_PER_MONTH;
                    (sp.saving.projected_usd_month, Some(mix))
                } else {
                    (after_type, None)
                };
                p.spot = Some(sp);
                // 3. Commitment on what stays on demand.
                let od_hourly: Vec<f64> = match base {
                    Some((b, share)) => fleet_h
                        .iter()
                        .map(|c| spot::on_demand_part(*c, b, share))
                        .collect(),
                    None => fleet_h.clone(),
                };
                let opts_c = options_for(catalog, &od_type.0, &terms)?;
                let cov = inventory_left.cover_instances(
                    &od_hourly,
                    &od_type.0,
                    region,
                    od_type.1,
                    rates.compute_savings_plan_1y.unwrap_or(0.0),
                );
                note_covered(&mut p.notes, &cov, "instances", &od_hourly);
                p.commitments = commitment::compare(&cov.residual, od_type.1, &opts_c);
                let mut projected = after_spot;
                if let Some(best) = p
                    .commitments
                    .first()
                    .filter(|b| b.saving.saving_usd_month > 0.0)
                {
                    p.applied
                        .insert("commitment".into(), best.saving.saving_usd_month);
                    projected -= best.saving.saving_usd_month;
                    committed_proj += best.hourly_commitment_usd * HOURS_PER_MONTH;
                }
                // 4. Reservations of the current type the changes leave unused until they end.
                if let Some(left) = strand_pools.reserved_left(instance_type, region) {
                    let zeros = vec![0.0; cap_h.len()];
                    let moved = od_type.0 != *instance_type;
                    let after_type: &[f64] = if moved { &zeros } else { &fleet_h };
                    let after_spot_h: &[f64] = if moved { &zeros } else { &od_hourly };
                    let (desc, ends) = reservation_of(&reservations, instance_type, region);
                    let hours_left = ends.map(|e| (e.timestamp() - history_end) as f64 / 3600.0);
                    // While a move waits for the reservation's end, the spot mix runs on the
                    // current type: its on-demand part there, in current-type instances.
                    let od_on_current: Vec<f64> =
                        od_hourly.iter().map(|c| c / type_ratio.max(1e-9)).collect();
                    for change in ["schedule", "instance_type", "spot"] {
                        let deferred_move = p
                            .stranded
                            .iter()
                            .any(|r| r.change == "instance_type" && r.defer);
                        let unused = match change {
                            "schedule" => {
                                stranded::covered(&cap_h, &left) - stranded::covered(&base_h, &left)
                            }
                            "instance_type" => {
                                stranded::covered(&base_h, &left)
                                    - stranded::covered(after_type, &left)
                            }
                            _ if deferred_move => {
                                stranded::covered(&base_h, &left)
                                    - stranded::covered(&od_on_current, &left)
                            }
                            _ => {
                                stranded::covered(after_type, &left)
                                    - stranded::covered(after_spot_h, &left)
                            }
                        };
                        let Some(s) = p.applied.get(change).copied() else {
                            continue;
                        };
                        // While the move waits, the mix runs on the current type and saves
                        // at its spot rate, not the new type's.
                        let spot_on_current = (change == "spot" && deferred_move).then(|| {
                            let spot_h = finite_mean(
                                &base_h
                                    .iter()
                                    .zip(&od_on_current)
                                    .map(|(c, o)| (c - o).max(0.0))
                                    .collect::<Vec<_>>(),
                            )
                            .unwrap_or(0.0);
                            (spot_h, spot_h * (od - spot_price_now) * HOURS_PER_MONTH)
                        });
                        let what = format!(
                            "its mix on {instance_type} until the move: {:.2} spot instances an hour x (${od:.4} - ${spot_price_now:.4}) x 730",
                            spot_on_current.map_or(0.0, |x| x.0)
                        );
                        if let Some(r) = stranded::record_split(
                            change,
                            desc.clone(),
                            ends.map(|e| e.to_rfc3339()),
                            hours_left,
                            unused,
                            od,
                            s,
                            spot_on_current.map(|x| (x.1, what.as_str())),
                        ) {
                            projected += s - r.saving_usd_month_after;
                            p.applied.insert(change.into(), r.saving_usd_month_after);
                            if let Some((spot_h, _)) = spot_on_current {
                                // The spot part of the bill: the current type's spot while
                                // the move waits (none if spot waits too), the new one's after.
                                let frac = r.hours_left / stranded::HORIZON_HOURS;
                                let during = if r.defer {
                                    0.0
                                } else {
                                    spot_h * spot_price_now * HOURS_PER_MONTH
                                };
                                spot_part_proj = spot_part_proj * (1.0 - frac) + during * frac;
                            }
                            p.stranded.push(r);
                        }
                    }
                    // A new commitment tied to the new type (not a Compute Savings Plan, which
                    // also covers the current one) is bought to start when the move happens.
                    let deferred = p
                        .stranded
                        .iter()
                        .find(|r| r.change == "instance_type" && r.defer)
                        .map(|r| (r.hours_left, r.ends.clone()));
                    if let (Some((h, ends)), Some(best)) = (deferred, p.commitments.first()) {
                        if best.option.kind != CommitmentType::ComputeSavingsPlan {
                            if let Some(s) = p.applied.get("commitment").copied() {
                                let after = s * (1.0 - h / stranded::HORIZON_HOURS);
                                projected += s - after;
                                p.applied.insert("commitment".into(), after);
                                p.commitment_starts =
                                    Some(ends.unwrap_or_else(|| {
                                        "when the reservation ends".to_string()
                                    }));
                            }
                        }
                    }
                }
                strand_pools.cover_instances(&cap_h, instance_type, region, od, 0.0);
                let committed_paid = p
                    .commitments
                    .first()
                    .filter(|b| b.saving.saving_usd_month > 0.0)
                    .map_or(0.0, |b| b.hourly_commitment_usd * HOURS_PER_MONTH);
                spot_proj += spot_part_proj;
                od_proj += projected - spot_part_proj - committed_paid;
                // Waste (on the current type and price).
                if !g.needed_at_target.is_empty() {
                    let oversize = p
                        .instance_type
                        .as_ref()
                        .and_then(|a| a.saving.map(|s| s.saving_usd_month))
                        .unwrap_or(0.0);
                    p.waste = Some(waste::split(
                        &cap_h,
                        &hourly(g, &g.needed_at_target),
                        g.min_replicas,
                        od,
                        oversize,
                    ));
                }
                add_usage(
                    &mut usage_now,
                    (instance_type.clone(), region.clone()),
                    &cap_h,
                );
                od_now += current;
                (
                    format!("{instance_type} in {region}"),
                    cap_h.last().copied().unwrap_or(f64::NAN) * od,
                    current,
                    projected,
                    price.status,
                    price.source,
                )
            }
            Billing::Pods {
                cpu_request,
                memory_request_gib,
            } => {
                let hours_pods = self::pod_hours(g, *cpu_request, *memory_request_gib);
                // An off-hours schedule (a KEDA cron trigger): the pods it leaves, costed on
                // the nodes below like the pods now.
                let mut projected_pods = hours_pods.clone();
                match opts.off_hours.get(&g.name).map(|o| &o.finding) {
                    Some(Ok(f)) => {
                        projected_pods = pod_hours_with(
                            g,
                            &f.scheduled_capacity,
                            *cpu_request,
                            *memory_request_gib,
                        );
                        p.schedule = Some(f.clone());
                        p.schedule_document =
                            opts.off_hours.get(&g.name).and_then(|o| o.document.clone());
                    }
                    Some(Err(why)) => p.schedule_note = Some(why.clone()),
                    None => {}
                }
                pod_hours.push((g.name.clone(), hours_pods, projected_pods));
                p.notes
                    .push("pods: spot and commitments are planned for the cluster's nodes".into());
                (
                    format!("pods {cpu_request} vCPU / {memory_request_gib} GiB"),
                    f64::NAN,
                    0.0,
                    0.0,
                    PriceStatus::Unverified,
                    String::new(),
                )
            }
            Billing::Lambda {
                memory_mb,
                functions,
                arch,
            } => {
                let n = f64::from((*functions).max(1));
                let inv: Vec<f64> = g.demand.iter().map(|v| v / n).collect();
                let conc: Vec<f64> = g.concurrency.iter().map(|v| v / n).collect();
                let rates = match arch {
                    Arch::Arm64 => &catalog.lambda.arm64,
                    Arch::X86_64 => &catalog.lambda.x86_64,
                };
                let mut u = FunctionUsage {
                    step_seconds: g.step_seconds as f64,
                    invocations: &inv,
                    concurrency: &conc,
                    memory_mb: *memory_mb,
                    provisioned_now: g.provisioned_concurrency / n,
                };
                let current = serverless::monthly_cost(&u, rates, u.provisioned_now) * n;
                let mut projected = current;
                // ARM (Graviton) first: the same work at the arm64 duration rates.
                let target_rates = if *arch == Arch::X86_64 {
                    let arm =
                        serverless::monthly_cost(&u, &catalog.lambda.arm64, u.provisioned_now) * n;
                    if arm < current {
                        p.applied.insert("instance_type".into(), current - arm);
                        p.lambda_arm_saving_usd_month = Some(current - arm);
                        p.notes.push(rightsizing::ARM_CAVEAT.to_string());
                        projected = arm;
                        &catalog.lambda.arm64
                    } else {
                        rates
                    }
                } else {
                    rates
                };
                // Then memory: the smallest setting holding the peak memory used and the vCPUs
                // the function runs on (duration unchanged), costed at the rates chosen above.
                let old_memory = u.memory_mb;
                let current_u = u.clone();
                let lm = &g.lambda_metrics;
                match lambda_memory::plan(&MemoryUsage {
                    memory_mb: *memory_mb,
                    max_memory_used_mb: &lm.max_memory_used_mb,
                    cpu_total_time_ms: &lm.cpu_total_time_ms,
                    duration_ms: &lm.duration_ms,
                }) {
                    Ok(m) => {
                        if m.lower {
                            let before =
                                serverless::monthly_cost(&u, target_rates, u.provisioned_now) * n;
                            let resized = FunctionUsage {
                                memory_mb: f64::from(m.needed_mb),
                                ..u.clone()
                            };
                            let after = serverless::monthly_cost(
                                &resized,
                                target_rates,
                                resized.provisioned_now,
                            ) * n;
                            if after < before {
                                p.applied.insert("memory".into(), before - after);
                                projected -= before - after;
                                u = resized;
                                p.notes.push(format!(
                                    "memory {old_memory} -> {} MB: {}; INIT (cold start) runs on the smaller CPU share too, so cold starts may take up to {old_memory}/{} as long (INIT is not costed here)",
                                    m.needed_mb, m.arithmetic, m.needed_mb
                                ));
                            }
                        }
                        p.memory = Some(m);
                    }
                    Err(why) => p.notes.push(format!("no memory rightsizing: {why}")),
                }
                let mut provisioned = u.provisioned_now;
                if let Some(plan) = serverless::plan(&u, target_rates) {
                    let s = plan.saving.saving_usd_month * n;
                    if s > 0.0 {
                        p.applied.insert("concurrency".into(), s);
                        projected -= s;
                        provisioned = f64::from(plan.provisioned_concurrency);
                    }
                    p.concurrency = Some(plan);
                }
                // Provisioned concurrency by hour of day where that beats one constant level.
                let mut pc_per_step = vec![provisioned; u.concurrency.len()];
                let (levels, scheduled) =
                    serverless::schedule_by_hour(&u, target_rates, g.start_unix, 0);
                let constant = serverless::monthly_cost(&u, target_rates, provisioned) * n;
                let by_hour = serverless::monthly_cost_per_step(&u, target_rates, &scheduled) * n;
                if by_hour < constant - 0.005 {
                    // The document applied must read back to the levels costed.
                    let doc = lambda_schedule::document(&g.name, &levels);
                    match lambda_schedule::replay(
                        &doc,
                        g.start_unix,
                        g.step_seconds,
                        scheduled.len(),
                    ) {
                        Ok(back) if back == scheduled => {
                            p.applied.insert("schedule".into(), constant - by_hour);
                            projected -= constant - by_hour;
                            pc_per_step = scheduled;
                            p.concurrency_by_hour_utc = Some(levels.to_vec());
                            p.concurrency_schedule_document = Some(doc);
                        }
                        Ok(_) => p.notes.push(
                            "provisioned concurrency by hour not recommended: its scheduled actions do not read back to the costed levels at this step".into(),
                        ),
                        Err(e) => p.notes.push(format!(
                            "provisioned concurrency by hour not recommended: {e}"
                        )),
                    }
                }
                // A Compute Savings Plan on the duration and provisioned concurrency that
                // remain, sized like any commitment: the unit is $ of on-demand spend an hour.
                let spend: Vec<f64> =
                    serverless::covered_spend_per_step(&u, target_rates, &pc_per_step)
                        .iter()
                        .map(|v| v * n)
                        .collect();
                let sp = &catalog.lambda.savings_plan;
                let opts_c: Vec<CommitmentOption> = terms
                    .iter()
                    .map(|&t| CommitmentOption {
                        kind: CommitmentType::ComputeSavingsPlan,
                        term_years: t,
                        discount: if t >= 3 {
                            sp.compute_savings_plan_3y
                        } else {
                            sp.compute_savings_plan_1y
                        },
                        flexibility: "Lambda duration and provisioned concurrency in any region, and EC2/Fargate",
                        status: sp.status,
                    })
                    .filter(|o| o.discount > 0.0)
                    .collect();
                let spend_h = hourly(g, &spend);
                let now_spend: Vec<f64> =
                    serverless::covered_spend_per_hour(&current_u, rates, u.provisioned_now)
                        .iter()
                        .map(|v| v * n)
                        .collect();
                add_series(&mut lambda_now, &hourly(g, &now_spend));
                add_series(&mut lambda_proj, &spend_h);
                let cov =
                    inventory_left.cover_spend(&spend_h, LAMBDA_REGION, sp.compute_savings_plan_1y);
                note_covered(&mut p.notes, &cov, "$/h of Lambda spend", &spend_h);
                p.commitments = commitment::compare(&cov.residual, 1.0, &opts_c);
                if let Some(best) = p
                    .commitments
                    .first()
                    .filter(|b| b.saving.saving_usd_month > 0.0)
                {
                    p.applied
                        .insert("commitment".into(), best.saving.saving_usd_month);
                    projected -= best.saving.saving_usd_month;
                    if best.option.status == PriceStatus::Unverified {
                        ctx.unverified.insert(format!(
                            "Lambda Compute Savings Plan discount ({})",
                            catalog.lambda.file
                        ));
                    }
                }
                let status = catalog.lambda.status(LAMBDA_REGION);
                if status == PriceStatus::Unverified {
                    ctx.unverified
                        .insert(format!("Lambda rates ({})", catalog.lambda.file));
                }
                let committed_paid = p
                    .commitments
                    .first()
                    .filter(|b| b.saving.saving_usd_month > 0.0)
                    .map_or(0.0, |b| b.hourly_commitment_usd * HOURS_PER_MONTH);
                committed_proj += committed_paid;
                od_now += current;
                od_proj += projected - committed_paid;
                (
                    format!("Lambda {memory_mb} MB x {functions} functions"),
                    current / HOURS_PER_MONTH,
                    current,
                    projected,
                    status,
                    format!("{} (as of {})", catalog.lambda.file, catalog.lambda.as_of),
                )
            }
        };
        for (k, v) in &p.applied {
            *by_kind.entry(k.clone()).or_insert(0.0) += v;
        }
        let requests = requests_per_month(g);
        // Cost per request by day at the current policy (instances only; pods are filled in
        // after allocation).
        if current > 0.0 {
            let day = 86_400 / g.step_seconds.max(1);
            for (i, chunk) in g.demand.chunks(day.max(1) as usize).enumerate() {
                let cap = &g.capacity[(i * day as usize).min(g.capacity.len())
                    ..((i + 1) * day as usize).min(g.capacity.len())];
                let req: f64 =
                    chunk.iter().filter(|v| v.is_finite()).sum::<f64>() * g.step_seconds as f64;
                let inst: f64 = cap.iter().filter(|v| v.is_finite()).sum::<f64>()
                    * g.step_seconds as f64
                    / 3600.0;
                let usd = if matches!(g.billing, Billing::Lambda { .. }) {
                    current / HOURS_PER_MONTH * chunk.len() as f64 * g.step_seconds as f64 / 3600.0
                } else {
                    let mean_cap = finite_mean(&cap_h).unwrap_or(0.0);
                    if mean_cap > 0.0 {
                        inst * current / HOURS_PER_MONTH / mean_cap
                    } else {
                        0.0
                    }
                };
                let e = daily
                    .entry(g.start_unix + i as i64 * 86_400)
                    .or_insert((0.0, 0.0));
                e.0 += usd;
                e.1 += req;
            }
        }
        costs.push(GroupCost {
            group: g.name.clone(),
            labels: g.labels.clone(),
            priced_as,
            usd_per_hour_now: usd_now_h,
            current_usd_month: current,
            projected_usd_month: projected,
            requests_per_month: requests,
            price_status: status,
            price_source: source,
        });
        plans.push(p);
    }

    // Kubernetes: allocation by max(request, usage) on the node type, idle apart.
    let mut kube = None;
    if !pod_hours.is_empty() {
        let c = opts.cluster.as_ref().ok_or_else(|| PricingError::BadFile {
            file: "cost".into(),
            message: "pod groups need the cluster's node type and region (--node-type, --region)"
                .into(),
        })?;
        let price = ctx.price(&c.node_type, &c.region)?;
        let (_, node) = catalog.instance(&c.node_type)?;
        let rates =
            kubernetes::node_rates(price.usd_per_hour, f64::from(node.vcpu), node.memory_gib);
        let n_hours = pod_hours.iter().map(|(_, h, _)| h.len()).max().unwrap_or(0);
        let mut total_alloc = 0.0;
        let mut total_alloc_proj = 0.0;
        for (name, hs, proj) in &pod_hours {
            let month_of = |hs: &[PodHour]| {
                let a: Allocation = kubernetes::allocate(hs, &rates);
                (
                    a.allocated_usd / hs.len().max(1) as f64 * HOURS_PER_MONTH,
                    a.allocated_usd / hs.len().max(1) as f64,
                )
            };
            let (month, per_hour) = month_of(hs);
            let (month_proj, _) = month_of(proj);
            total_alloc += month;
            total_alloc_proj += month_proj;
            if let Some(gc) = costs.iter_mut().find(|gc| &gc.group == name) {
                gc.current_usd_month = month;
                gc.projected_usd_month = month_proj;
                gc.usd_per_hour_now = per_hour;
                gc.price_status = price.status;
                gc.price_source =
                    format!("{} on {} ({})", "OpenCost split", c.node_type, price.source);
            }
            if month_proj < month - 1e-9 {
                if let Some(p) = plans.iter_mut().find(|p| &p.group == name) {
                    p.applied.insert("schedule".into(), month - month_proj);
                }
            }
        }
        // Nodes per hour from the summed allocations, now and with the pods' schedules.
        let nodes_of = |sets: Vec<&Vec<PodHour>>| {
            let mut cpu_h = vec![0.0; n_hours];
            let mut mem_h = vec![0.0; n_hours];
            for hs in sets {
                for (i, h) in hs.iter().enumerate() {
                    cpu_h[i] += h.cpu_request.max(h.cpu_usage) * h.pods;
                    mem_h[i] += h.memory_request_gib.max(h.memory_usage_gib) * h.pods;
                }
            }
            (0..n_hours)
                .map(|i| {
                    kubernetes::nodes_needed(
                        cpu_h[i],
                        mem_h[i],
                        f64::from(node.vcpu),
                        node.memory_gib,
                    )
                })
                .collect::<Vec<f64>>()
        };
        let nodes_h = nodes_of(pod_hours.iter().map(|g| &g.1).collect());
        let nodes_h_proj = nodes_of(pod_hours.iter().map(|g| &g.2).collect());
        let nodes_mean = finite_mean(&nodes_h).unwrap_or(0.0);
        let nodes_month = nodes_mean * price.usd_per_hour * HOURS_PER_MONTH;
        let nodes_month_proj =
            finite_mean(&nodes_h_proj).unwrap_or(0.0) * price.usd_per_hour * HOURS_PER_MONTH;
        if nodes_month_proj < nodes_month - 1e-9 {
            // What the schedules save is the nodes they free (the pods' shares move to idle
            // until the nodes go).
            *by_kind.entry("schedule".into()).or_insert(0.0) += nodes_month - nodes_month_proj;
        }
        let opts_c = options_for(catalog, &c.node_type, &terms)?;
        let cov = inventory_left.cover_instances(
            &nodes_h_proj,
            &c.node_type,
            &c.region,
            price.usd_per_hour,
            catalog
                .class_rates(&c.node_type)?
                .compute_savings_plan_1y
                .unwrap_or(0.0),
        );
        let plans_c = commitment::compare(&cov.residual, price.usd_per_hour, &opts_c);
        let best = plans_c
            .into_iter()
            .next()
            .filter(|b| b.saving.saving_usd_month > 0.0);
        let idle = (nodes_month - total_alloc).max(0.0);
        let idle_proj = (nodes_month_proj - total_alloc_proj).max(0.0);
        od_now += nodes_month;
        let proj_nodes =
            nodes_month_proj - best.as_ref().map_or(0.0, |b| b.saving.saving_usd_month);
        if let Some(b) = &best {
            *by_kind.entry("commitment".into()).or_insert(0.0) += b.saving.saving_usd_month;
            committed_proj += b.hourly_commitment_usd * HOURS_PER_MONTH;
            od_proj += proj_nodes - b.hourly_commitment_usd * HOURS_PER_MONTH;
        } else {
            od_proj += proj_nodes;
        }
        add_usage(
            &mut usage_now,
            (c.node_type.clone(), c.region.clone()),
            &nodes_h,
        );
        costs.push(GroupCost {
            group: "(cluster idle)".into(),
            labels: BTreeMap::from([("team".to_string(), "(idle)".to_string())]),
            priced_as: format!("{} nodes not allocated to any workload", c.node_type),
            usd_per_hour_now: idle / HOURS_PER_MONTH,
            current_usd_month: idle,
            projected_usd_month: idle_proj
                - best.as_ref().map_or(0.0, |b| b.saving.saving_usd_month),
            requests_per_month: None,
            price_status: price.status,
            price_source: price.source.clone(),
        });
        kube = Some(KubeCost {
            node_type: c.node_type.clone(),
            region: c.region.clone(),
            node_usd_per_hour: price.usd_per_hour,
            rates,
            nodes_mean,
            nodes_usd_month: nodes_month,
            allocated_usd_month: total_alloc,
            idle_usd_month: idle,
            commitment: best,
        });
        assumptions.push("Kubernetes: pods pay max(request, usage) at the node's per-vCPU and per-GiB rates (OpenCost's default CPU:RAM weights); unallocated node capacity is the cluster idle line".into());
    }

    let current: f64 = costs.iter().map(|c| c.current_usd_month).sum();
    let projected: f64 = costs.iter().map(|c| c.projected_usd_month).sum();
    let requests: f64 = costs.iter().filter_map(|c| c.requests_per_month).sum();
    let per_m = |usd: f64| (requests > 0.0).then(|| usd / requests * 1e6);
    // Now: today's usage offered to a fresh inventory in the same order (reservations first).
    let mut now_pools = Pools::new_at(existing, n_hours, first_hour);
    for ((t, r), h) in &usage_now {
        let od = catalog.on_demand(t, r).map_or(0.0, |p| p.usd_per_hour);
        let d = catalog
            .class_rates(t)
            .ok()
            .and_then(|x| x.compute_savings_plan_1y)
            .unwrap_or(0.0);
        now_pools.cover_instances(h, t, r, od, d);
    }
    now_pools.cover_spend(
        &lambda_now,
        LAMBDA_REGION,
        catalog.lambda.savings_plan.compute_savings_plan_1y,
    );
    let inventory = inventory_rows(existing, &now_pools, &inventory_left, catalog);
    let waste_total = plans
        .iter()
        .filter_map(|p| p.waste.map(|w| w.total_usd_month))
        .sum::<f64>()
        + kube.as_ref().map_or(0.0, |k| k.idle_usd_month);
    let share = |x: f64, total: f64| if total > 0.0 { x / total } else { 0.0 };
    let proj_total = od_proj.max(0.0) + spot_proj.max(0.0) + committed_proj;
    Ok(CostReport {
        schema: "scaletop.cost/v1",
        source: opts.source.clone(),
        hours,
        totals: Totals {
            current_usd_month: current,
            projected_usd_month: projected,
            saving: saving(current, projected, 0.0),
            savings_by_kind: by_kind,
            waste_usd_month: waste_total,
            mix_now: Mix {
                on_demand_share: share(od_now - spot_now, od_now),
                spot_share: share(spot_now, od_now),
                committed_share: 0.0,
            },
            mix_projected: Mix {
                on_demand_share: share(od_proj.max(0.0), proj_total),
                spot_share: share(spot_proj.max(0.0), proj_total),
                committed_share: share(committed_proj, proj_total),
            },
            usd_per_million_requests_now: per_m(current),
            usd_per_million_requests_projected: per_m(projected),
            usd_per_million_requests_by_day: daily
                .into_iter()
                .filter(|(_, (_, r))| *r > 0.0)
                .map(|(d, (usd, r))| (d, usd / r * 1e6))
                .collect(),
        },
        by_team: by_label(&costs, "team"),
        groups: costs,
        kubernetes: kube,
        inventory,
        plans,
        unverified_prices: ctx.unverified.into_iter().collect(),
        assumptions,
    })
}

/// The reservations of `instance_type` in `region` in words, and the latest end among them.
fn reservation_of(
    reservations: &[ExistingCommitment],
    instance_type: &str,
    region: &str,
) -> (String, Option<chrono::DateTime<chrono::Utc>>) {
    let of: Vec<&ExistingCommitment> = reservations
        .iter()
        .filter(|e| {
            e.instance_type.as_deref() == Some(instance_type) && e.region.as_deref() == Some(region)
        })
        .collect();
    let count: u32 = of.iter().filter_map(|e| e.count).sum();
    let kind = of.first().map_or("reservation", |e| e.kind.as_str());
    let ends = if of.iter().all(|e| e.ends.is_some()) {
        of.iter().filter_map(|e| e.ends).max()
    } else {
        None
    };
    (
        format!("existing {kind} {count} x {instance_type} in {region}"),
        ends,
    )
}

fn add_usage(m: &mut BTreeMap<(String, String), Vec<f64>>, key: (String, String), h: &[f64]) {
    let e = m.entry(key).or_default();
    if e.len() < h.len() {
        e.resize(h.len(), 0.0);
    }
    for (a, b) in e.iter_mut().zip(h) {
        if b.is_finite() {
            *a += b;
        }
    }
}

/// Lambda is priced (and its savings plans matched) in this region.
const LAMBDA_REGION: &str = "us-east-1";

fn add_series(total: &mut Vec<f64>, h: &[f64]) {
    if total.len() < h.len() {
        total.resize(h.len(), 0.0);
    }
    for (a, b) in total.iter_mut().zip(h) {
        if b.is_finite() {
            *a += b;
        }
    }
}

fn note_covered(notes: &mut Vec<String>, c: &Covered, unit: &str, usage: &[f64]) {
    if c.by_reservation + c.by_savings_plan <= 0.0 {
        return;
    }
    let total = finite_mean(usage).unwrap_or(0.0);
    notes.push(format!(
        "existing commitments cover {:.2} {unit} an hour by reservations and {:.2} by savings plans of the {total:.2} left on demand: new commitments are sized on the rest",
        c.by_reservation, c.by_savings_plan
    ));
}

/// Each existing commitment's use now (today's usage) and under the recommendations (the
/// projected on-demand usage), and what it saves against on-demand in each case.
fn inventory_rows(
    existing: &[ExistingCommitment],
    now: &Pools,
    projected: &Pools,
    catalog: &Catalog,
) -> Vec<InventoryRow> {
    let mut plan_index = 0;
    existing
        .iter()
        .map(|e| {
            let mut row = InventoryRow {
                commitment: e.clone(),
                utilization_now: None,
                coverage_now: None,
                utilization_projected: None,
                coverage_projected: None,
                saving_usd_month_now: None,
                saving_usd_month_projected: None,
                note: String::new(),
            };
            let reservation = e.instance_type.is_some() && e.region.is_some() && e.count.is_some();
            let k = plan_index;
            if !reservation && e.commitment_usd_per_hour.is_some_and(|c| c > 0.0) {
                plan_index += 1;
            }
            let (Some(u_now), Some(u_proj)) = (now.usage_of(e, k), projected.usage_of(e, k))
            else {
                row.note = "no count and type, nor a $/h commitment: utilization unknown".into();
                return row;
            };
            row.utilization_now = Some(u_now.utilization);
            row.coverage_now = Some(u_now.coverage);
            row.utilization_projected = Some(u_proj.utilization);
            row.coverage_projected = Some(u_proj.coverage);
            // Saving an hour = on-demand value covered - what the commitment costs an hour.
            let saving = |covered: f64| -> Option<f64> {
                if reservation {
                    let (t, r, n) = (e.instance_type.as_deref()?, e.region.as_deref()?, e.count?);
                    let od = catalog.on_demand(t, r).ok()?.usd_per_hour;
                    let rate = match e.effective_usd_per_hour {
                        Some(x) => x,
                        None => od * (1.0 - catalog.class_rates(t).ok()?.reserved_1y),
                    };
                    Some((covered * od - f64::from(n) * rate) * HOURS_PER_MONTH)
                } else {
                    Some((covered - e.commitment_usd_per_hour?) * HOURS_PER_MONTH)
                }
            };
            row.saving_usd_month_now = saving(u_now.covered_per_hour);
            row.saving_usd_month_projected = saving(u_proj.covered_per_hour);
            row.note = if reservation {
                format!(
                    "{} x {} in {}: applied first to the groups running that type there",
                    e.count.unwrap_or(0),
                    e.instance_type.as_deref().unwrap_or(""),
                    e.region.as_deref().unwrap_or("")
                )
            } else {
                format!(
                    "${}/h against the on-demand spend its region has left after reservations (instance groups and Lambda duration)",
                    e.commitment_usd_per_hour.unwrap_or(0.0)
                )
            };
            if u_now.utilization <= 0.0 {
                row.note.push_str(": unused now");
            }
            row
        })
        .collect()
}

/// Instances that carry the SLO: the fewest whose M/M/c p95 meets the objective with nothing
/// dropped (the one latency model the simulator and replay use).
pub fn slo_instances(demand: f64, cap: &CapacityModel, slo: &Slo) -> f64 {
    if !(demand.is_finite() && demand > 0.0) {
        return f64::from(cap.min_replicas.max(1));
    }
    let service = cap.service_time_ms();
    let mut n = (demand / cap.capacity_per_replica_rps).ceil().max(1.0) as u32;
    let limit = cap.max_replicas.max(n) * 4;
    while n < limit {
        let l = latency(
            demand,
            n * cap.concurrency_per_replica,
            service,
            cap.timeout_ms,
        );
        if l.p95_ms <= slo.p95_latency_ms && l.dropped_rps <= 0.0 {
            break;
        }
        n += 1;
    }
    f64::from(n)
}

//! Follow-the-sun across regions. Per region: the policy search of `tune` (target tracking,
//! step and predictive scaling, each with its cooldowns or warm-up and minimum, target tracking
//! also with scheduled capacity ahead of the region's own peak windows found and written in its
//! local time), chosen on the first 70% of the history and replayed beside the current policy
//! on the held-out 30% the search did not see. Per neighbour pair: whether spilling one
//! region's peak load to the other is allowed by the latency constraint — the round trip within
//! the cross-region limit, and, by replay of the neighbour's plan carrying the spilled load, the
//! spilled requests' p95 (the neighbour's p95 plus the round trip) within the Slo.

use serde::Serialize;

use crate::engine::replay::{file_group, replay, Replay, ReplayInput};
use crate::model::{CapacityModel, Slo};

use super::doc::PolicyDoc;
use super::search::SearchControl;
use super::space::SpaceSize;
use super::verdict::{sla_budget_minutes, Figures};
use super::{auto_kinds, tune, PolicyKind, TuneOutcome, TuneRequest};

/// Utilization the base capacity of a spilling region is sized for.
const PLAN_UTILIZATION: f64 = 0.7;
/// Demand quantile a spilling region keeps serving itself (its base capacity).
const TROUGH_QUANTILE: f64 = 0.05;
/// CPU target of the search's starting document for a fixed fleet: the middle of the
/// targets the search tries around it.
const FIXED_FLEET_TARGET: f64 = 50.0;

pub struct RegionInput<'a> {
    /// The group's name.
    pub name: String,
    pub region: String,
    /// Hours east of UTC.
    pub utc_offset_hours: i32,
    pub demand: &'a [f64],
    pub cap: CapacityModel,
    pub slo: Slo,
    /// What the group runs today (fixed capacity in the scenario), replayed as it is.
    pub current: Box<dyn Fn() -> Box<dyn crate::engine::policy::Autoscaler + Send> + 'a>,
    pub current_label: String,
    /// The current policy's document, which the search starts from (its kinds, names,
    /// bounds); None for a fixed fleet: the search then starts from [`fleet_base`].
    pub base: Option<PolicyDoc>,
}

pub struct MultiRegionRequest<'a> {
    pub start: i64,
    pub step_seconds: i64,
    pub regions: Vec<RegionInput<'a>>,
    /// Round trip between two regions (either order), ms.
    pub rtt_ms: Vec<(String, String, f64)>,
    /// The cross-region latency constraint, ms (scenarios.md: < 100 ms).
    pub max_rtt_ms: f64,
    /// Each region's search space and threads.
    pub size: SpaceSize,
    pub threads: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegionPlan {
    pub group: String,
    pub region: String,
    pub utc_offset_hours: i32,
    pub current_policy: String,
    /// The plan's lines: the recommended policy's settings, why this policy type, the
    /// region's scheduled capacity and what replay made of it, the predictive alternative.
    pub plan: Vec<String>,
    /// The recommended policy type (none when no candidate kept the Slo without thrash on
    /// the training part).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<PolicyKind>,
    /// Candidates the region's search evaluated.
    pub candidates: usize,
    /// Scheduled capacity ahead of the region's local peaks (actions in its zone), and what
    /// the search's replay made of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<super::ScheduleCheck>,
    /// Held-out replays.
    pub current: Figures,
    pub planned: Figures,
    /// Held-out cost saving of the plan over the current policy, percent.
    pub saving_percent: f64,
    /// The plan keeps the Slo without thrash on the held-out part.
    pub holds: bool,
    /// The plan as the platform document (an Auto Scaling group configuration).
    pub document: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct SpillCheck {
    pub from: String,
    pub to: String,
    pub rtt_ms: f64,
    pub within_rtt_limit: bool,
    /// Share of `from`'s held-out requests above its base capacity, served by `to`.
    pub spilled_share: f64,
    /// Worst p95 a spilled request sees: `to`'s step p95 plus the round trip.
    pub worst_spilled_p95_ms: f64,
    /// Steps' minutes where spilled requests miss the p95 objective (or `to` drops).
    pub spilled_violation_minutes: f64,
    pub spilled_budget_minutes: f64,
    /// `to`'s own SLA-violation minutes while carrying the spill.
    pub neighbour_violation_minutes: f64,
    /// Held-out monthly cost of both regions' plans minus that of spilling, USD (positive:
    /// spilling saves).
    pub saving_usd_per_month: f64,
    pub allowed: bool,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct MultiRegionOutcome {
    pub train_steps: usize,
    pub heldout_steps: usize,
    pub max_rtt_ms: f64,
    pub regions: Vec<RegionPlan>,
    pub spill: Vec<SpillCheck>,
}

/// Per region, what the plan needs for the spill checks.
struct Planned {
    doc: PolicyDoc,
    base_min: u32,
    heldout: Replay,
}

fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

/// Replicas that serve the trough of the training part at [`PLAN_UTILIZATION`].
fn base_replicas(train: &[f64], cap: &CapacityModel) -> u32 {
    let need = quantile(train, TROUGH_QUANTILE) / (cap.capacity_per_replica_rps * PLAN_UTILIZATION);
    (need.ceil() as u32).clamp(cap.min_replicas.max(1), cap.max_replicas.max(1))
}

/// The search's starting document for a fixed fleet: an Auto Scaling group whose minimum
/// serves the trough of the training part (so scheduled capacity is proposed for the peaks
/// above it, not measured against today's peak-sized fleet), the group's maximum, and target
/// tracking on average CPU.
fn fleet_base(name: &str, train: &[f64], cap: &CapacityModel) -> Result<PolicyDoc, String> {
    let min = base_replicas(train, cap);
    let doc = serde_json::json!({
        "AutoScalingGroupName": name,
        "MinSize": min,
        "MaxSize": cap.max_replicas.max(min),
        "ScalingPolicies": [{
            "PolicyName": format!("{name}-cpu"),
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingConfiguration": {
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
                "TargetValue": FIXED_FLEET_TARGET
            }
        }],
    });
    PolicyDoc::parse(&doc.to_string()).map_err(|e| format!("{name}: fleet document: {e}"))
}

fn run(
    policy: &mut dyn crate::engine::policy::Autoscaler,
    start: i64,
    step: i64,
    demand: &[f64],
    r: &RegionInput,
    initial: Option<u32>,
) -> Result<Replay, String> {
    let input = ReplayInput {
        start,
        step_seconds: step,
        demand_rps: demand,
        extra: Vec::new(),
    };
    replay(
        policy,
        &input,
        &r.cap,
        &r.slo,
        initial,
        &file_group(&r.name),
    )
    .map_err(|e| format!("{}: {e}", r.name))
}

/// The region's search, on its whole history (the search holds out the last 30% itself).
fn search(
    req: &MultiRegionRequest,
    r: &RegionInput,
    base: &PolicyDoc,
) -> Result<TuneOutcome, String> {
    let t = TuneRequest {
        group: file_group(&r.name),
        start: req.start,
        step_seconds: req.step_seconds,
        demand: r.demand,
        extra: Vec::new(),
        cap: r.cap.clone(),
        slo: r.slo.clone(),
        current: base.clone(),
        kinds: auto_kinds(base),
        size: req.size,
        threads: req.threads.max(1),
        prune: true,
        visit: None,
        metric_choice: None,
        utc_offset_hours: r.utc_offset_hours,
    };
    tune(&t, &SearchControl::default()).map_err(|e| format!("{}: {e}", r.name))
}

fn settings_line(settings: &[(String, String)]) -> String {
    settings
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The plan's lines: what was chosen and why, the region's schedule and the predictive
/// alternative with their training figures.
fn plan_lines(o: &TuneOutcome) -> Vec<String> {
    let mut lines = Vec::new();
    match (&o.recommended, &o.best_reachable) {
        (Some(rec), _) => lines.push(format!(
            "{}: {}",
            rec.kind.words(),
            settings_line(&rec.settings)
        )),
        (None, Some(p)) => lines.push(format!(
            "no candidate kept the Slo without thrash on the training part; closest: {} {} ({:.0} SLA minutes, {} thrash pairs); the current policy stays",
            p.kind.words(),
            settings_line(&p.settings),
            p.train.sla_violation_minutes,
            p.train.thrash_events
        )),
        (None, None) => lines.push("no candidate completed; the current policy stays".into()),
    }
    lines.push(format!(
        "searched {} candidates; {}",
        o.candidates, o.choice
    ));
    match &o.schedule {
        Some(s) => {
            lines.extend(s.proposal.lines.iter().cloned());
            lines.push(format!("schedule by replay: {}", s.verdict));
        }
        None => lines.push("no recurring local peak above the minimum: no schedule".into()),
    }
    if let Some(p) = o.kinds.iter().find(|k| k.kind == PolicyKind::AwsPredictive) {
        lines.push(match &p.best {
            Some(b) => format!(
                "predictive alternative: {} at ${:.0}/month on the training part",
                settings_line(&b.settings),
                b.train.cost_usd_per_month
            ),
            None => format!(
                "predictive alternative: none of {} kept the Slo without thrash on the training part",
                p.candidates
            ),
        });
    }
    lines
}

/// Plans every region and checks every pair with a known round trip.
pub fn plan(req: &MultiRegionRequest) -> Result<MultiRegionOutcome, String> {
    let step = req.step_seconds;
    let n = req.regions.first().map_or(0, |r| r.demand.len());
    if req.regions.is_empty() || n == 0 {
        return Err("no regions with demand to plan".into());
    }
    if let Some(r) = req.regions.iter().find(|r| r.demand.len() != n) {
        return Err(format!(
            "{}: {} steps, other regions have {n}",
            r.name,
            r.demand.len()
        ));
    }
    let split = super::split(n, step).map_err(|e| e.to_string())?;
    let held_start = req.start + split as i64 * step;
    let mut plans = Vec::new();
    let mut planned = Vec::new();
    for r in &req.regions {
        let (train, held) = r.demand.split_at(split);
        let base = match &r.base {
            Some(d) => d.clone(),
            None => fleet_base(&r.name, train, &r.cap)?,
        };
        let o = search(req, r, &base)?;
        let doc = o.recommended.as_ref().map_or(base, |rec| rec.doc.clone());
        let mut current = (r.current)();
        let cur = run(current.as_mut(), held_start, step, held, r, None)?;
        let mut p = doc.autoscaler().map_err(|e| format!("{}: {e}", r.name))?;
        let new = run(p.as_mut(), held_start, step, held, r, None)?;
        let (cf, pf) = (
            Figures::of(&cur.summary, &r.slo),
            Figures::of(&new.summary, &r.slo),
        );
        plans.push(RegionPlan {
            group: r.name.clone(),
            region: r.region.clone(),
            utc_offset_hours: r.utc_offset_hours,
            current_policy: r.current_label.clone(),
            plan: plan_lines(&o),
            kind: o.recommended.as_ref().map(|rec| rec.kind),
            candidates: o.candidates,
            schedule: o.schedule.clone(),
            saving_percent: if cf.cost_usd > 0.0 {
                100.0 * (cf.cost_usd - pf.cost_usd) / cf.cost_usd
            } else {
                0.0
            },
            holds: o.recommended.is_some() && pf.keeps_slo && pf.thrash_events == 0,
            current: cf,
            planned: pf,
            document: doc.to_value(),
        });
        planned.push(Planned {
            base_min: base_replicas(train, &r.cap),
            doc,
            heldout: new,
        });
    }
    let mut spill = Vec::new();
    for (a, ra) in req.regions.iter().enumerate() {
        for (b, rb) in req.regions.iter().enumerate() {
            if a == b {
                continue;
            }
            let Some(rtt) = rtt_between(&req.rtt_ms, &ra.region, &rb.region) else {
                continue;
            };
            spill.push(spill_check(
                req,
                held_start,
                split,
                ra,
                &planned[a],
                rb,
                &planned[b],
                rtt,
            )?);
        }
    }
    Ok(MultiRegionOutcome {
        train_steps: split,
        heldout_steps: n - split,
        max_rtt_ms: req.max_rtt_ms,
        regions: plans,
        spill,
    })
}

fn rtt_between(rtt: &[(String, String, f64)], a: &str, b: &str) -> Option<f64> {
    rtt.iter()
        .find(|(x, y, _)| (x == a && y == b) || (x == b && y == a))
        .map(|(_, _, v)| *v)
}

/// `a` keeps its base minimum (no peak capacity) and sends the demand above what that serves
/// at the plan's utilization to `b`, whose plan replays with its own demand plus the spill.
#[allow(clippy::too_many_arguments)]
fn spill_check(
    req: &MultiRegionRequest,
    held_start: i64,
    split: usize,
    ra: &RegionInput,
    pa: &Planned,
    rb: &RegionInput,
    pb: &Planned,
    rtt: f64,
) -> Result<SpillCheck, String> {
    let step = req.step_seconds;
    let held_a = &ra.demand[split..];
    let held_b = &rb.demand[split..];
    let keep = f64::from(pa.base_min) * ra.cap.capacity_per_replica_rps * PLAN_UTILIZATION;
    let spilled: Vec<f64> = held_a
        .iter()
        .map(|&d| {
            if d.is_finite() {
                (d - keep).max(0.0)
            } else {
                0.0
            }
        })
        .collect();
    let kept: Vec<f64> = held_a
        .iter()
        .zip(&spilled)
        .map(|(&d, &s)| if d.is_finite() { d - s } else { d })
        .collect();
    let carried: Vec<f64> = held_b
        .iter()
        .zip(&spilled)
        .map(|(&d, &s)| if d.is_finite() { d + s } else { d })
        .collect();
    let mut fixed_a = crate::engine::cost::offhours::FixedReplicas {
        replicas: pa.base_min,
        max: ra.cap.max_replicas.max(pa.base_min),
    };
    let a_alone = run(&mut fixed_a, held_start, step, &kept, ra, Some(pa.base_min))?;
    let mut b_policy = pb
        .doc
        .autoscaler()
        .map_err(|e| format!("{}: {e}", rb.name))?;
    let b_carry = run(b_policy.as_mut(), held_start, step, &carried, rb, None)?;
    let step_minutes = step as f64 / 60.0;
    let (mut worst, mut minutes, mut requests, mut total) = (0.0f64, 0.0, 0.0, 0.0);
    for (row, (&s, &d)) in b_carry.steps.iter().zip(spilled.iter().zip(held_a)) {
        if d.is_finite() {
            total += d;
        }
        if s <= 0.0 {
            continue;
        }
        requests += s;
        let p95 = row.p95_ms + rtt;
        worst = worst.max(p95);
        if p95 > ra.slo.p95_latency_ms || row.dropped_rps > 0.0 {
            minutes += step_minutes;
        }
    }
    let budget = sla_budget_minutes(&a_alone.summary, &ra.slo);
    let within = rtt < req.max_rtt_ms;
    let both_plans = pa.heldout.summary.cost_usd_per_month + pb.heldout.summary.cost_usd_per_month;
    let spilling = a_alone.summary.cost_usd_per_month + b_carry.summary.cost_usd_per_month;
    let b_budget = sla_budget_minutes(&b_carry.summary, &rb.slo);
    let reason = if !within {
        format!(
            "round trip {rtt:.0} ms is not under the {:.0} ms cross-region limit",
            req.max_rtt_ms
        )
    } else if requests == 0.0 {
        format!(
            "nothing to spill: {} never exceeds its base capacity",
            ra.name
        )
    } else if minutes > budget + 1e-9 {
        format!(
            "spilled requests see up to {worst:.0} ms ({:.0} ms round trip + {}'s p95) over the {:.0} ms objective for {minutes:.0} minutes (budget {budget:.0})",
            rtt, rb.name, ra.slo.p95_latency_ms
        )
    } else if b_carry.summary.sla_violation_minutes > b_budget + 1e-9 {
        format!(
            "{} misses its own Slo carrying the spill ({:.0} SLA-violation minutes, budget {b_budget:.0})",
            rb.name, b_carry.summary.sla_violation_minutes
        )
    } else {
        format!(
            "spilled requests' worst p95 {worst:.0} ms ({rtt:.0} ms round trip + {}'s p95) is within the {:.0} ms objective",
            rb.name, ra.slo.p95_latency_ms
        )
    };
    let allowed = within
        && requests > 0.0
        && minutes <= budget + 1e-9
        && b_carry.summary.sla_violation_minutes <= b_budget + 1e-9;
    Ok(SpillCheck {
        from: ra.region.clone(),
        to: rb.region.clone(),
        rtt_ms: rtt,
        within_rtt_limit: within,
        spilled_share: if total > 0.0 { requests / total } else { 0.0 },
        worst_spilled_p95_ms: worst,
        spilled_violation_minutes: minutes,
        spilled_budget_minutes: budget,
        neighbour_violation_minutes: b_carry.summary.sla_violation_minutes,
        saving_usd_per_month: both_plans - spilling,
        allowed,
        reason,
    })
}

#[cfg(test)]
mod tests;

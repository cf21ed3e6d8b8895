//! Follow-the-sun across regions. Per region: scheduled capacity ahead of the region's own
//! peak windows, found and written in its local time (an Auto Scaling group with target
//! tracking plus scheduled actions in the region's zone), replayed beside the current policy on
//! the held-out 30% the plan did not see. Per neighbour pair: whether spilling one region's
//! peak load to the other is allowed by the latency constraint — the round trip within the
//! cross-region limit, and, by replay of the neighbour's plan carrying the spilled load, the
//! spilled requests' p95 (the neighbour's p95 plus the round trip) within the Slo.

use serde::Serialize;

use crate::engine::policy::aws_spec::AsgScalingConfig;
use crate::engine::replay::{file_group, replay, Replay, ReplayInput};
use crate::model::{CapacityModel, Slo};

use super::doc::PolicyDoc;
use super::schedule::{propose_local, ScheduleProposal};
use super::verdict::{sla_budget_minutes, Figures};
use super::HOLDOUT_SHARE;

/// Utilization the plan's floors are sized for.
const PLAN_UTILIZATION: f64 = 0.7;
/// Target-tracking CPU targets tried per region (replayed on the training part; the
/// cheapest that keeps the Slo without thrash is planned).
const TARGETS: [f64; 4] = [40.0, 50.0, 60.0, 70.0];
/// Demand quantile the plan's base minimum serves at that utilization.
const TROUGH_QUANTILE: f64 = 0.05;

pub struct RegionInput<'a> {
    /// The group's name.
    pub name: String,
    pub region: String,
    /// Hours east of UTC.
    pub utc_offset_hours: i32,
    pub demand: &'a [f64],
    pub cap: CapacityModel,
    pub slo: Slo,
    /// What the group runs today (fixed capacity in the scenario).
    pub current: Box<dyn Fn() -> Box<dyn crate::engine::policy::Autoscaler + Send> + 'a>,
    pub current_label: String,
}

pub struct MultiRegionRequest<'a> {
    pub start: i64,
    pub step_seconds: i64,
    pub regions: Vec<RegionInput<'a>>,
    /// Round trip between two regions (either order), ms.
    pub rtt_ms: Vec<(String, String, f64)>,
    /// The cross-region latency constraint, ms (scenarios.md: < 100 ms).
    pub max_rtt_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RegionPlan {
    pub group: String,
    pub region: String,
    pub utc_offset_hours: i32,
    pub current_policy: String,
    /// The plan's lines: target tracking, the base minimum, one scheduled action per local
    /// peak window.
    pub plan: Vec<String>,
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

fn replicas_for(rps: f64, cap: &CapacityModel) -> u32 {
    (rps / (cap.capacity_per_replica_rps * PLAN_UTILIZATION)).ceil() as u32
}

/// The region's plan: target tracking at the CPU target of [`TARGETS`] that replays cheapest
/// on the training part while keeping the Slo without thrash (else the one with the fewest
/// thrash events and SLA minutes), a minimum for its trough, and scheduled minimums ahead of
/// its local peak windows.
/// Ordering of plan candidates: not eligible, thrash events, SLA minutes, cost.
type PlanKey = (bool, usize, f64, f64);

fn plan_doc(
    r: &RegionInput,
    start: i64,
    step: i64,
    train: &[f64],
) -> Result<(PolicyDoc, u32, Option<ScheduleProposal>, f64, PlanKey), String> {
    let mut best: Option<(PlanKey, PolicyDoc, u32, Option<ScheduleProposal>, f64)> = None;
    for target in TARGETS {
        let (doc, base_min, schedule) = plan_at(r, start, step, train, target)?;
        let mut p = doc.autoscaler().map_err(|e| format!("{}: {e}", r.name))?;
        let s = run(p.as_mut(), start, step, train, r, None)?.summary;
        let ok = super::verdict::eligible(&s, &r.slo);
        // Eligible first, then fewest thrash events, SLA minutes, cost.
        let key = (!ok, s.thrash_events, s.sla_violation_minutes, s.cost_usd);
        let better = best.as_ref().is_none_or(|(k, ..)| {
            (key.0, key.1)
                .cmp(&(k.0, k.1))
                .then(key.2.total_cmp(&k.2))
                .then(key.3.total_cmp(&k.3))
                .is_lt()
        });
        if better {
            best = Some((key, doc, base_min, schedule, target));
        }
    }
    best.map(|(k, d, m, s, t)| (d, m, s, t, k))
        .ok_or_else(|| format!("{}: no plan", r.name))
}

fn plan_at(
    r: &RegionInput,
    start: i64,
    step: i64,
    train: &[f64],
    target: f64,
) -> Result<(PolicyDoc, u32, Option<ScheduleProposal>), String> {
    let max = r.cap.max_replicas.max(1);
    let base_min = replicas_for(quantile(train, TROUGH_QUANTILE), &r.cap)
        .clamp(r.cap.min_replicas.max(1), max);
    let schedule = propose_local(
        start,
        step,
        train,
        &r.cap,
        base_min,
        max,
        &r.name,
        r.utc_offset_hours,
    );
    let doc = serde_json::json!({
        "AutoScalingGroupName": r.name,
        "MinSize": base_min,
        "MaxSize": max,
        "ScalingPolicies": [{
            "PolicyName": format!("{}-cpu{target:.0}", r.name),
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingConfiguration": {
                "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
                "TargetValue": target
            }
        }],
        "ScheduledActions": schedule.as_ref().map_or(Vec::new(), |s| s.actions.clone()),
    });
    let cfg = AsgScalingConfig::from_json(&doc.to_string())
        .map_err(|e| format!("{}: plan document: {e}", r.name))?;
    Ok((PolicyDoc::Asg(cfg), base_min, schedule))
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
    let split = ((n as f64) * (1.0 - HOLDOUT_SHARE)).round() as usize;
    if split == 0 || split >= n {
        return Err(format!("{n} steps are too few to hold out 30%"));
    }
    let held_start = req.start + split as i64 * step;
    let mut plans = Vec::new();
    let mut planned = Vec::new();
    for r in &req.regions {
        let (train, held) = r.demand.split_at(split);
        let (doc, base_min, schedule, target, key) = plan_doc(r, req.start, step, train)?;
        let mut current = (r.current)();
        let cur = run(current.as_mut(), held_start, step, held, r, None)?;
        let mut p = doc.autoscaler().map_err(|e| format!("{}: {e}", r.name))?;
        let new = run(p.as_mut(), held_start, step, held, r, None)?;
        let (cf, pf) = (
            Figures::of(&cur.summary, &r.slo),
            Figures::of(&new.summary, &r.slo),
        );
        let mut lines = vec![
            {
                let of = TARGETS.map(|t| format!("{t:.0}")).join("/");
                // Say which rule chose it: a plan that thrashed on training must not read as
                // one that did not.
                let why = if key.0 {
                    format!(
                        "none kept the Slo without thrash on the training part; the fewest thrash events ({}) and SLA minutes",
                        key.1
                    )
                } else {
                    "the cheapest without thrash keeping the Slo on the training part".to_string()
                };
                format!("target tracking: ASGAverageCPUUtilization {target:.0}% (of {of}, {why})")
            },
            format!(
                "MinSize {base_min} (p5 demand {:.0} rps at {:.0}%)",
                quantile(train, TROUGH_QUANTILE),
                PLAN_UTILIZATION * 100.0
            ),
        ];
        match &schedule {
            Some(s) => lines.extend(s.lines.iter().cloned()),
            None => lines.push("no recurring peak above the minimum: no schedule".into()),
        }
        plans.push(RegionPlan {
            group: r.name.clone(),
            region: r.region.clone(),
            utc_offset_hours: r.utc_offset_hours,
            current_policy: r.current_label.clone(),
            plan: lines,
            saving_percent: if cf.cost_usd > 0.0 {
                100.0 * (cf.cost_usd - pf.cost_usd) / cf.cost_usd
            } else {
                0.0
            },
            holds: pf.keeps_slo && pf.thrash_events == 0,
            current: cf,
            planned: pf,
            document: doc.to_value(),
        });
        planned.push(Planned {
            doc,
            base_min,
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

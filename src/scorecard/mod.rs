//! The load-test scorecard: what a marked window of live (or simulated) data shows about the
//! scaling policy under test — demand profile, time to scale (CONTRACTS definition), time
//! until latency is back under the SLO, p95/p99 and errors during scaling, peak replicas vs
//! max, scale-down behaviour (premature scale-down, thrash), the cost of the window — and a
//! pass/fail against the targets in config (`[loadtest]`).

pub mod markdown;

use serde::{Deserialize, Serialize};

use crate::engine::events::{mark_thrash, DEFAULT_THRASH_WINDOW_SECONDS};
use crate::model::{GroupInfo, MetricKind, ScaleDirection, ScalingEvent};
use crate::store::Store;

/// Targets a load test is judged against (`[loadtest]` in config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoadTestTargets {
    /// Longest acceptable time to scale up.
    pub max_time_to_scale: String,
    /// p95 latency target, ms, for the SLA during scaling (a group's own SLO wins).
    pub p95_ms: f64,
    /// Whether any thrash pair fails the test.
    pub allow_thrash: bool,
    /// A window opened from the command line (`--loadtest-start TIME`), Unix seconds of data
    /// time. Not a config key.
    #[serde(skip)]
    pub start_at_unix: Option<i64>,
}

impl Default for LoadTestTargets {
    fn default() -> Self {
        Self {
            max_time_to_scale: "5m".into(),
            p95_ms: 200.0,
            allow_thrash: false,
            start_at_unix: None,
        }
    }
}

impl LoadTestTargets {
    pub fn max_time_to_scale_seconds(&self) -> Result<i64, String> {
        crate::duration::parse_duration(&self.max_time_to_scale)
            .map(|d| d.as_secs() as i64)
            .map_err(|e| format!("loadtest.max_time_to_scale: {e}"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DemandProfile {
    Steady,
    Ramp,
    Spike,
}

/// One group's figures over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupScore {
    pub group: String,
    pub profile: DemandProfile,
    pub demand_min_rps: f64,
    pub demand_max_rps: f64,
    /// Seconds per scaling episode (demand above ready capacity x target until covered);
    /// None when the capacity per replica is unknown.
    pub time_to_scale_seconds: Option<Vec<i64>>,
    /// An episode still open when the window closed.
    pub scaling_unfinished: bool,
    /// Seconds from each episode's start until p95 was back under the target.
    pub time_to_latency_ok_seconds: Vec<i64>,
    pub p95_during_scaling_ms: Option<f64>,
    pub p99_during_scaling_ms: Option<f64>,
    pub error_rate_during_scaling: Option<f64>,
    /// Minutes with p95 over the target or requests dropped.
    pub sla_violation_minutes: f64,
    pub peak_replicas: Option<f64>,
    pub max_replicas: Option<f64>,
    pub scale_ups: usize,
    pub scale_downs: usize,
    pub thrash_pairs: usize,
    /// Minutes where ready capacity was below demand after a scale-down.
    pub premature_scale_down_minutes: f64,
    pub cost_usd: Option<f64>,
    pub passed: bool,
    pub failures: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    pub schema: &'static str,
    pub start: i64,
    pub end: i64,
    /// False while the window is still open (a live, provisional scorecard).
    pub closed: bool,
    pub targets: LoadTestTargets,
    pub groups: Vec<GroupScore>,
    pub cost_usd: Option<f64>,
    pub passed: bool,
}

pub const SCORECARD_SCHEMA: &str = "scaletop.loadtest-scorecard/v1";

/// One group's series over the window, copied out of the store (owned, for a job).
#[derive(Debug, Clone)]
pub struct GroupWindow {
    pub info: GroupInfo,
    pub start: i64,
    pub step_seconds: i64,
    pub demand: Vec<f64>,
    pub ready: Vec<f64>,
    pub desired: Vec<f64>,
    pub max: Vec<f64>,
    pub p95: Vec<f64>,
    pub p99: Vec<f64>,
    pub errors: Vec<f64>,
    pub dropped: Vec<f64>,
    pub cost: Vec<f64>,
    pub events: Vec<ScalingEvent>,
    /// Target utilization of the group's policy (0-1), when known.
    pub target_utilization: Option<f64>,
}

/// The window's data; Err when the window holds no data.
pub fn window(store: &Store, start: i64, end: i64) -> Result<Vec<GroupWindow>, String> {
    let step = store.step_seconds();
    if end < start {
        return Err("the load-test window ends before it starts".into());
    }
    let start = start.div_euclid(step) * step;
    let count = ((end - start) / step + 1) as usize;
    let mut out = Vec::new();
    for (g, info) in store.groups().iter().enumerate() {
        let read = |m: MetricKind| -> Vec<f64> {
            store
                .series(g, m)
                .map(|s| {
                    s.window(start + (count as i64 - 1) * step, count)
                        .into_iter()
                        .map(|v| v.unwrap_or(f64::NAN))
                        .collect()
                })
                .unwrap_or_else(|| vec![f64::NAN; count])
        };
        let demand = read(MetricKind::RequestRate);
        if !demand.iter().any(|v| v.is_finite()) {
            continue;
        }
        let target_utilization = crate::tui::jobs::policies::autoscaler_for(info)
            .ok()
            .map(|a| a.target_utilization());
        out.push(GroupWindow {
            info: info.clone(),
            start,
            step_seconds: step,
            ready: read(MetricKind::ReplicasReady),
            desired: read(MetricKind::ReplicasDesired),
            max: read(MetricKind::ReplicasMax),
            p95: read(MetricKind::LatencyP95Ms),
            p99: read(MetricKind::LatencyP99Ms),
            errors: read(MetricKind::ErrorRate),
            dropped: read(MetricKind::DroppedRate),
            cost: read(MetricKind::CostUsdPerHour),
            demand,
            events: store
                .events()
                .iter()
                .filter(|e| e.group == info.id && (start..=end).contains(&e.at.timestamp()))
                .cloned()
                .collect(),
            target_utilization,
        });
    }
    if out.is_empty() {
        return Err(format!(
            "no demand data between {} and {}: the window holds nothing to score",
            crate::engine::forecast::format_time(start),
            crate::engine::forecast::format_time(end)
        ));
    }
    Ok(out)
}

fn finite(v: &[f64]) -> impl Iterator<Item = f64> + '_ {
    v.iter().copied().filter(|x| x.is_finite())
}

fn classify(demand: &[f64], step: i64) -> DemandProfile {
    let (lo, hi) = finite(demand).fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    if hi.is_nan() || hi <= 0.0 || hi < lo * 1.5 {
        return DemandProfile::Steady;
    }
    // Rise time from 10% to 90% of the swing, at the fastest rise.
    let (low, high) = (lo + 0.1 * (hi - lo), lo + 0.9 * (hi - lo));
    let mut last_low: Option<usize> = None;
    let mut fastest = i64::MAX;
    for (i, &d) in demand.iter().enumerate() {
        if !d.is_finite() {
            continue;
        }
        if d <= low {
            last_low = Some(i);
        } else if d >= high {
            if let Some(l) = last_low {
                fastest = fastest.min((i - l) as i64 * step);
            }
        }
    }
    if fastest <= 120 {
        DemandProfile::Spike
    } else {
        DemandProfile::Ramp
    }
}

/// Scores one group's window against the targets.
pub fn score_group(w: &GroupWindow, targets: &LoadTestTargets, budget_seconds: i64) -> GroupScore {
    let step = w.step_seconds;
    let minutes_per_step = step as f64 / 60.0;
    // A group's own SLO wins over the config's default target.
    let p95_target = w
        .info
        .slo
        .as_ref()
        .map_or(targets.p95_ms, |s| s.p95_latency_ms);
    let cap = w.info.capacity.as_ref();
    let per_replica = cap.map(|c| c.capacity_per_replica_rps).filter(|c| *c > 0.0);
    let target = w.target_utilization.filter(|t| *t > 0.0).unwrap_or(1.0);
    let n = w.demand.len();
    // Scaling episodes (CONTRACTS "time to scale"), and latency recovery.
    let mut episodes = Vec::new();
    let mut latency_ok = Vec::new();
    let mut scaling_unfinished = false;
    let mut in_scaling = vec![false; n];
    if let Some(c) = per_replica {
        let mut open: Option<usize> = None;
        for (i, scaling) in in_scaling.iter_mut().enumerate() {
            let (d, r) = (w.demand[i], w.ready[i]);
            if !(d.is_finite() && r.is_finite()) {
                continue;
            }
            let short = d > r * c * target;
            match (open, short) {
                (None, true) => open = Some(i),
                (Some(s), false) => {
                    episodes.push((i - s) as i64 * step);
                    if let Some(k) =
                        (s..n).find(|&k| w.p95[k].is_finite() && w.p95[k] <= p95_target)
                    {
                        latency_ok.push((k - s) as i64 * step);
                    }
                    open = None;
                }
                _ => {}
            }
            if open.is_some() {
                *scaling = true;
            }
        }
        scaling_unfinished = open.is_some();
    }
    // "During scaling" also covers desired != ready (a scale in progress).
    for ((scaling, d), r) in in_scaling.iter_mut().zip(&w.desired).zip(&w.ready) {
        if d.is_finite() && r.is_finite() && (d - r).abs() > 0.5 {
            *scaling = true;
        }
    }
    let during = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .zip(&in_scaling)
            .filter(|(x, s)| **s && x.is_finite())
            .map(|(x, _)| *x)
            .collect()
    };
    let max_of = |v: Vec<f64>| v.into_iter().reduce(f64::max);
    let mean_of = |v: Vec<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let sla_steps = (0..n)
        .filter(|&i| w.p95[i] > p95_target || w.dropped[i] > 0.0)
        .count();
    let mut events = w.events.clone();
    let tolerance = 0.1;
    let thrash_pairs = mark_thrash(&mut events, DEFAULT_THRASH_WINDOW_SECONDS, tolerance);
    let ups = events
        .iter()
        .filter(|e| e.direction() == Some(ScaleDirection::Up))
        .count();
    let downs = events
        .iter()
        .filter(|e| e.direction() == Some(ScaleDirection::Down))
        .count();
    let premature_steps = per_replica.map_or(0, |c| {
        let mut last_down = false;
        let mut k = 0;
        let mut count = 0;
        for i in 0..n {
            let t = w.start + i as i64 * step;
            while k < events.len() && events[k].at.timestamp() <= t {
                last_down = events[k].direction() == Some(ScaleDirection::Down);
                k += 1;
            }
            if last_down
                && w.demand[i].is_finite()
                && w.ready[i].is_finite()
                && w.demand[i] > w.ready[i] * c
            {
                count += 1;
            }
        }
        count
    });
    let cost_known = w.cost.iter().any(|c| c.is_finite());
    let sla_violation_minutes = sla_steps as f64 * minutes_per_step;
    let mut failures = Vec::new();
    let worst = episodes.iter().copied().max();
    match (per_replica, worst) {
        (None, _) => {
            failures.push("time to scale not measurable: capacity per replica unknown".to_string())
        }
        (Some(_), Some(t)) if t > budget_seconds => failures.push(format!(
            "time to scale {:.1} min over the {:.1} min target",
            t as f64 / 60.0,
            budget_seconds as f64 / 60.0
        )),
        _ => {}
    }
    if scaling_unfinished {
        failures.push("capacity had not caught up with demand when the window closed".into());
    }
    let allowed = budget_seconds as f64 / 60.0;
    if sla_violation_minutes > allowed {
        failures.push(format!(
            "{sla_violation_minutes:.1} min over p95 {p95_target} ms or dropping (allowed {allowed:.1} while scaling)"
        ));
    }
    if thrash_pairs > 0 && !targets.allow_thrash {
        failures.push(format!("{thrash_pairs} thrash pairs"));
    }
    if premature_steps > 0 {
        failures.push(format!(
            "{:.1} min short of capacity after a scale-down",
            premature_steps as f64 * minutes_per_step
        ));
    }
    let (lo, hi) = finite(&w.demand).fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    GroupScore {
        group: w.info.id.name.clone(),
        profile: classify(&w.demand, step),
        demand_min_rps: lo,
        demand_max_rps: hi,
        time_to_scale_seconds: per_replica.map(|_| episodes),
        scaling_unfinished,
        time_to_latency_ok_seconds: latency_ok,
        p95_during_scaling_ms: max_of(during(&w.p95)),
        p99_during_scaling_ms: max_of(during(&w.p99)),
        error_rate_during_scaling: mean_of(during(&w.errors)),
        sla_violation_minutes,
        peak_replicas: max_of(finite(&w.ready).collect()),
        max_replicas: max_of(finite(&w.max).collect()),
        scale_ups: ups,
        scale_downs: downs,
        thrash_pairs,
        premature_scale_down_minutes: premature_steps as f64 * minutes_per_step,
        cost_usd: cost_known.then(|| finite(&w.cost).sum::<f64>() * step as f64 / 3600.0),
        passed: failures.is_empty(),
        failures,
    }
}

/// The scorecard of a window. Groups whose demand did not move (steady) are listed but do
/// not decide the verdict unless every group was steady.
pub fn score(
    windows: &[GroupWindow],
    start: i64,
    end: i64,
    closed: bool,
    targets: &LoadTestTargets,
) -> Result<Scorecard, String> {
    let budget = targets.max_time_to_scale_seconds()?;
    let groups: Vec<GroupScore> = windows
        .iter()
        .map(|w| score_group(w, targets, budget))
        .collect();
    let tested: Vec<&GroupScore> = groups
        .iter()
        .filter(|g| g.profile != DemandProfile::Steady)
        .collect();
    let judged: Vec<&GroupScore> = if tested.is_empty() {
        groups.iter().collect()
    } else {
        tested
    };
    let costs: Vec<f64> = groups.iter().filter_map(|g| g.cost_usd).collect();
    Ok(Scorecard {
        schema: SCORECARD_SCHEMA,
        start,
        end,
        closed,
        targets: targets.clone(),
        passed: judged.iter().all(|g| g.passed),
        cost_usd: (!costs.is_empty()).then(|| costs.iter().sum()),
        groups,
    })
}

#[cfg(test)]
mod tests;

//! Each group's current policy replayed over the loaded history, beside what actually happened
//! (issue 6), for the Policies tab.

use crate::engine::events::{mark_thrash, DEFAULT_THRASH_WINDOW_SECONDS};
use crate::engine::policy::Autoscaler;
use crate::engine::replay::{replay, ExtraSeries, ReplayInput, ReplaySummary};
use crate::model::{GroupId, GroupInfo, MetricKind, ScaleDirection, ScalingEvent, Slo};
use crate::sim::replayable_autoscaler;
use crate::store::Store;

/// Extra series an autoscaler may read, by the name policies use, and where the store keeps it.
pub const EXTRA_SERIES: [(&str, MetricKind); 4] = [
    ("memory_utilization", MetricKind::MemoryUtilization),
    ("queue_depth", MetricKind::QueueDepth),
    ("concurrency", MetricKind::Concurrency),
    ("connections", MetricKind::Connections),
];

#[derive(Debug)]
pub struct PoliciesJob {
    pub groups: Vec<GroupHistory>,
}

/// One group's inputs: its description and its history, all series on one grid.
#[derive(Debug)]
pub struct GroupHistory {
    pub info: GroupInfo,
    pub start: i64,
    pub step_seconds: i64,
    pub demand: Vec<f64>,
    pub extra: Vec<(&'static str, Vec<f64>)>,
    pub desired: Vec<f64>,
    pub ready: Vec<f64>,
    pub p95_ms: Vec<f64>,
    pub dropped_rps: Vec<f64>,
    pub events: Vec<ScalingEvent>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PoliciesOutcome {
    pub rows: Vec<PolicyRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PolicyRow {
    pub group: GroupId,
    /// e.g. "HPA cpu 70%", or the policy model's summary when it has no platform form.
    pub policy: String,
    /// e.g. "simulator scenario"; None when the policy is unknown.
    pub provenance: Option<&'static str>,
    /// The replay beside what happened, or why there is none.
    pub replay: Result<GroupReplay, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupReplay {
    pub start: i64,
    pub step_seconds: i64,
    /// Desired replicas per step, replayed and observed (NaN = missing).
    pub replayed: Vec<f64>,
    pub observed: Vec<f64>,
    pub max_replicas: u32,
    pub replayed_figures: Figures,
    pub observed_figures: Figures,
}

/// Figures compared side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub hours: f64,
    pub replica_hours: f64,
    pub cost_usd: f64,
    /// None when the latency series is missing.
    pub sla_violation_minutes: Option<f64>,
    pub scale_up_events: usize,
    pub scale_down_events: usize,
    pub thrash_pairs: usize,
    pub peak_replicas: Option<f64>,
}

pub fn job(store: &Store) -> PoliciesJob {
    let groups = store
        .groups()
        .iter()
        .enumerate()
        .filter_map(|(g, info)| group_history(store, g, info))
        .collect();
    PoliciesJob { groups }
}

pub fn group_history(store: &Store, g: usize, info: &GroupInfo) -> Option<GroupHistory> {
    let demand_ring = store.series(g, MetricKind::RequestRate);
    let (end, count) = match demand_ring.and_then(|r| Some((r.newest_timestamp()?, r.len()))) {
        Some(x) => x,
        None => (store.now()?.timestamp(), 0),
    };
    let read = |m| super::history_until(store, g, m, end, count);
    let (start, demand) = read(MetricKind::RequestRate);
    let extra = EXTRA_SERIES
        .iter()
        .filter(|(_, m)| store.series(g, *m).is_some())
        .map(|(name, m)| (*name, read(*m).1))
        .collect();
    let events = store
        .events()
        .iter()
        .filter(|e| e.group == info.id && e.at.timestamp() >= start)
        .cloned()
        .collect();
    Some(GroupHistory {
        info: info.clone(),
        start,
        step_seconds: store.step_seconds(),
        demand,
        extra,
        desired: read(MetricKind::ReplicasDesired).1,
        ready: read(MetricKind::ReplicasReady).1,
        p95_ms: read(MetricKind::LatencyP95Ms).1,
        dropped_rps: read(MetricKind::DroppedRate).1,
        events,
    })
}

pub fn run(job: PoliciesJob) -> PoliciesOutcome {
    PoliciesOutcome {
        rows: job.groups.into_iter().map(|h| row(&h)).collect(),
    }
}

/// The autoscaler for a group's policy, or why there is none.
pub fn autoscaler_for(info: &GroupInfo) -> Result<Box<dyn Autoscaler + Send>, String> {
    let policy = info
        .policy
        .as_ref()
        .ok_or("policy unknown: no source reported one")?;
    let cap = info
        .capacity
        .as_ref()
        .ok_or_else(|| no_capacity_reason(info))?;
    replayable_autoscaler(
        info.id.platform,
        &info.id.name,
        &policy.model,
        cap.min_replicas,
        cap.max_replicas,
    )
}

/// Why a group has no capacity model: what its source says is missing, if it says.
pub fn no_capacity_reason(info: &GroupInfo) -> String {
    match info
        .labels
        .get("capacity_missing")
        .filter(|m| !m.is_empty())
    {
        Some(missing) => format!("no capacity model: {missing}"),
        None => "no capacity model: replicas cannot be replayed".to_string(),
    }
}

/// "HPA web: cpu 70%" -> "HPA cpu 70%".
pub fn short_description(a: &dyn Autoscaler) -> String {
    let d = a.describe();
    match d.split_once(": ") {
        Some((head, rest)) => {
            let kind = head.split_whitespace().next().unwrap_or(head);
            format!("{kind} {rest}")
        }
        None => d,
    }
}

fn row(h: &GroupHistory) -> PolicyRow {
    let info = &h.info;
    let provenance = info.policy.as_ref().map(|p| p.provenance.label());
    let autoscaler = autoscaler_for(info);
    let policy = match (&autoscaler, &info.policy) {
        (Ok(a), _) => short_description(a.as_ref()),
        (Err(_), Some(p)) => p.model.summary(),
        (Err(_), None) => "unknown".into(),
    };
    let replay = autoscaler.and_then(|mut a| replay_group(a.as_mut(), h));
    PolicyRow {
        group: info.id.clone(),
        policy,
        provenance,
        replay,
    }
}

fn replay_group(a: &mut dyn Autoscaler, h: &GroupHistory) -> Result<GroupReplay, String> {
    let cap = h.info.capacity.as_ref().ok_or("no capacity model")?;
    let first = h
        .demand
        .iter()
        .position(|v| v.is_finite())
        .ok_or("no request-rate history to replay over")?;
    let cut = |v: &[f64]| v.get(first..).unwrap_or(&[]).to_vec();
    let demand = cut(&h.demand);
    let extra: Vec<(&str, Vec<f64>)> = h.extra.iter().map(|(n, v)| (*n, cut(v))).collect();
    let start = h.start + first as i64 * h.step_seconds;
    let input = ReplayInput {
        start,
        step_seconds: h.step_seconds,
        demand_rps: &demand,
        extra: extra
            .iter()
            .map(|(name, values)| ExtraSeries {
                name: name.to_string(),
                values,
            })
            .collect(),
    };
    let slo = h.info.slo.clone().unwrap_or_default();
    // Start where reality started, so the two lines are comparable from the first step.
    let observed = cut(&h.desired);
    let ready = cut(&h.ready);
    let initial = observed
        .iter()
        .chain(&ready)
        .find(|v| v.is_finite())
        .map(|v| v.max(0.0).round() as u32);
    let r = replay(a, &input, cap, &slo, initial, &h.info.id).map_err(|e| e.to_string())?;
    let replayed: Vec<f64> = r.steps.iter().map(|s| f64::from(s.replicas)).collect();
    let replayed_figures = figures_from_summary(&r.summary, &replayed);
    let observed_line: Vec<f64> = observed
        .iter()
        .zip(&ready)
        .map(|(d, r)| if d.is_finite() { *d } else { *r })
        .collect();
    let observed_figures = observed_figures(
        h,
        &observed_line,
        &cut(&h.p95_ms),
        &cut(&h.dropped_rps),
        &slo,
        a.tolerance(),
        cap.usd_per_replica_hour,
    );
    Ok(GroupReplay {
        start,
        step_seconds: h.step_seconds,
        replayed,
        observed: observed_line,
        max_replicas: cap.max_replicas,
        replayed_figures,
        observed_figures,
    })
}

fn figures_from_summary(s: &ReplaySummary, replayed: &[f64]) -> Figures {
    Figures {
        hours: s.duration_hours,
        replica_hours: s.replica_hours,
        cost_usd: s.cost_usd,
        sla_violation_minutes: Some(s.sla_violation_minutes),
        scale_up_events: s.scale_up_events,
        scale_down_events: s.scale_down_events,
        thrash_pairs: s.thrash_events,
        peak_replicas: replayed.iter().copied().reduce(f64::max),
    }
}

/// What actually happened, measured the way the replay measures it (CONTRACTS.md definitions).
fn observed_figures(
    h: &GroupHistory,
    replicas: &[f64],
    p95_ms: &[f64],
    dropped_rps: &[f64],
    slo: &Slo,
    tolerance: f64,
    usd_per_replica_hour: f64,
) -> Figures {
    let step_hours = h.step_seconds as f64 / 3600.0;
    let replica_hours: f64 = replicas.iter().filter(|v| v.is_finite()).sum::<f64>() * step_hours;
    let latency_known = p95_ms.iter().any(|v| v.is_finite());
    let sla_violation_minutes = latency_known.then(|| {
        let bad = p95_ms
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                **p > slo.p95_latency_ms || dropped_rps.get(*i).is_some_and(|d| *d > 0.0)
            })
            .count();
        bad as f64 * h.step_seconds as f64 / 60.0
    });
    let mut events = h.events.clone();
    let thrash_pairs = mark_thrash(&mut events, DEFAULT_THRASH_WINDOW_SECONDS, tolerance);
    let ups = events
        .iter()
        .filter(|e| e.direction() == Some(ScaleDirection::Up))
        .count();
    let downs = events
        .iter()
        .filter(|e| e.direction() == Some(ScaleDirection::Down))
        .count();
    Figures {
        hours: replicas.len() as f64 * step_hours,
        replica_hours,
        cost_usd: replica_hours * usd_per_replica_hour,
        sla_violation_minutes,
        scale_up_events: ups,
        scale_down_events: downs,
        thrash_pairs,
        peak_replicas: replicas
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .reduce(f64::max),
    }
}

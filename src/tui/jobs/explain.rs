//! Explains one scaling event (issue 6): the group's policy is driven over the observed history
//! before the event — the pods, CPU and demand the platform saw, one decision per decision
//! period — so its stabilization windows and rate limits hold what they held then, and the
//! decision at the event's moment is shown with its arithmetic.

use crate::engine::policy::{Observation, PodCounts};
use crate::model::{GroupInfo, MetricKind, ScalingEvent};
use crate::store::Store;

use super::policies::{autoscaler_for, short_description, EXTRA_SERIES};

/// History replayed before the event: longer than the default scale-down stabilization (5 min),
/// the HPA rate-limit periods and the 15 one-minute datapoints of AWS's scale-in alarm.
pub const LOOKBACK_SECONDS: i64 = 1800;

#[derive(Debug)]
pub struct ExplainJob {
    pub event: ScalingEvent,
    pub info: Option<GroupInfo>,
    /// Series on the store's grid, ending at the event's slot.
    pub start: i64,
    pub step_seconds: i64,
    pub demand: Vec<f64>,
    pub cpu_percent: Vec<f64>,
    pub ready: Vec<f64>,
    pub desired: Vec<f64>,
    pub extra: Vec<(&'static str, Vec<f64>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExplainOutcome {
    pub event: ScalingEvent,
    /// e.g. "HPA cpu 70%".
    pub policy: Option<String>,
    pub provenance: Option<&'static str>,
    pub arithmetic: Result<Arithmetic, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Arithmetic {
    /// The decision the policy takes at the event's moment from what it saw then.
    pub desired: u32,
    pub lines: Vec<String>,
    /// Decisions taken over the look-back before it.
    pub decisions_replayed: usize,
    pub lookback_seconds: i64,
}

pub fn job(store: &Store, event: &ScalingEvent) -> ExplainJob {
    let step = store.step_seconds();
    let count = (LOOKBACK_SECONDS / step).max(1) as usize + 1;
    let end = event.at.timestamp();
    let g = store.group_index(&event.group);
    let read = |m: MetricKind| match g {
        Some(g) => super::history_until(store, g, m, end, count),
        None => (end, vec![f64::NAN; count]),
    };
    let (start, demand) = read(MetricKind::RequestRate);
    ExplainJob {
        event: event.clone(),
        info: g.and_then(|g| store.groups().get(g)).cloned(),
        start,
        step_seconds: step,
        demand,
        cpu_percent: read(MetricKind::CpuUtilization).1,
        ready: read(MetricKind::ReplicasReady).1,
        desired: read(MetricKind::ReplicasDesired).1,
        extra: EXTRA_SERIES
            .iter()
            .map(|(name, m)| (*name, read(*m).1))
            .collect(),
    }
}

pub fn run(job: ExplainJob) -> ExplainOutcome {
    let policy_of = |info: &GroupInfo| info.policy.as_ref().map(|p| p.provenance.label());
    let Some(info) = job.info.as_ref() else {
        return ExplainOutcome {
            event: job.event.clone(),
            policy: None,
            provenance: None,
            arithmetic: Err("the group is no longer in the store".into()),
        };
    };
    let mut autoscaler = match autoscaler_for(info) {
        Ok(a) => a,
        Err(why) => {
            return ExplainOutcome {
                event: job.event.clone(),
                policy: info.policy.as_ref().map(|p| p.model.summary()),
                provenance: policy_of(info),
                arithmetic: Err(why),
            }
        }
    };
    let policy = Some(short_description(autoscaler.as_ref()));
    let capacity_per_replica_rps = info
        .capacity
        .as_ref()
        .map_or(f64::NAN, |c| c.capacity_per_replica_rps);
    let step = job.step_seconds.max(1);
    let period = i64::from(autoscaler.decision_period_seconds().max(1));
    let event_at = job.event.at.timestamp();
    let last = job.demand.len().saturating_sub(1);
    // Decision ticks every period, aligned so the last one falls on the event.
    let ticks: Vec<i64> = (0..=LOOKBACK_SECONDS / period)
        .rev()
        .map(|k| event_at - k * period)
        .filter(|t| *t >= job.start)
        .collect();
    let at = |v: &[f64], t: i64| -> f64 {
        let i = ((t - job.start).div_euclid(step)).clamp(0, last as i64) as usize;
        v.get(i).copied().unwrap_or(f64::NAN)
    };
    let count = |v: f64| {
        if v.is_finite() {
            v.max(0.0).round() as u32
        } else {
            0
        }
    };
    let mut decision = None;
    let mut decisions = 0usize;
    let mut demand_held = f64::NAN;
    for &t in &ticks {
        let is_event = t == event_at;
        let d = at(&job.demand, t);
        if d.is_finite() {
            demand_held = d;
        }
        // The state before the decision: the event's own from-count at the event, the
        // observed desired count before it.
        let spec = if is_event {
            job.event.from_replicas
        } else {
            count(at(&job.desired, t))
        };
        let ready = count(at(&job.ready, t - if is_event { step } else { 0 }));
        if spec == 0 && ready == 0 {
            continue;
        }
        let extra_now: Vec<(&str, f64)> = job.extra.iter().map(|(n, v)| (*n, at(v, t))).collect();
        let cpu = at(&job.cpu_percent, t);
        let obs = Observation {
            now: t,
            pods: PodCounts {
                spec_replicas: spec,
                ready,
                unready: spec.saturating_sub(ready),
            },
            demand_rps: demand_held,
            capacity_per_replica_rps,
            measured_cpu_percent: cpu.is_finite().then_some(cpu),
            extra: &extra_now,
        };
        let d = autoscaler.decide(&obs);
        decisions += 1;
        if is_event {
            decision = Some(d);
        }
    }
    let arithmetic = match decision {
        Some(d) => Ok(Arithmetic {
            desired: d.desired,
            lines: d.explanation,
            decisions_replayed: decisions.saturating_sub(1),
            lookback_seconds: event_at - ticks.first().copied().unwrap_or(event_at),
        }),
        None => Err("no replica counts recorded at the event's time".into()),
    };
    ExplainOutcome {
        event: job.event,
        policy,
        provenance: policy_of(info),
        arithmetic,
    }
}

//! Replays a scaling policy tick by tick over a demand series: what the autoscaler would have
//! done, and what users would have felt (latency, drops), cost and thrash.
//!
//! Pods are created when the policy raises the desired count and become ready after the
//! capacity model's startup time (warm-pool instances start faster); on scale-down, pods not
//! yet ready go first. Ready pods share demand evenly; latency comes from the one M/M/c model.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::events::{mark_thrash, thrash_pair, DEFAULT_THRASH_WINDOW_SECONDS};
use super::latency::{Latency, LatencyTable};

mod memo;
use super::policy::hpa::HpaController;
use super::policy::{Autoscaler, Observation, PodCounts};
use crate::model::{CapacityModel, GroupId, Platform, ScalingEvent, Slo};
pub use memo::LatencyMemo;

thread_local! {
    /// Latency values are a pure function of their inputs; one memo per thread serves every
    /// replay on it (tuning replays the same group thousands of times).
    static LATENCY: std::cell::RefCell<LatencyTable> = std::cell::RefCell::new(LatencyTable::new());
}

/// A named extra input series (a total over the group), aligned with the demand.
#[derive(Debug, Clone)]
pub struct ExtraSeries<'a> {
    pub name: String,
    pub values: &'a [f64],
}

#[derive(Debug, Clone)]
pub struct ReplayInput<'a> {
    /// Unix seconds of the first value.
    pub start: i64,
    pub step_seconds: i64,
    /// Requests per second per step; NaN = missing (held from the previous step).
    pub demand_rps: &'a [f64],
    pub extra: Vec<ExtraSeries<'a>>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplayError {
    #[error(
        "policy metric '{0}' is not in the input (give it as a series, or scale on request rate)"
    )]
    MissingMetric(String),
    #[error("demand is empty")]
    EmptyDemand,
    #[error("demand value {value} at step {index} is negative or not a number")]
    BadDemand { index: usize, value: f64 },
    #[error("step must be positive, got {0}")]
    BadStep(i64),
    #[error("capacity: {0}")]
    BadCapacity(String),
}

/// One output step.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayStep {
    pub timestamp: DateTime<Utc>,
    pub demand: f64,
    /// Desired replicas (the scale's spec.replicas) at the end of the step.
    pub replicas: u32,
    pub ready: u32,
    /// Offered CPU utilization of ready pods, percent of capacity.
    pub utilization: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub dropped_rps: f64,
}

/// A scaling decision the replay took, with the arithmetic behind it.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayEvent {
    pub event: ScalingEvent,
    pub explanation: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ReplaySummary {
    pub steps: usize,
    pub duration_hours: f64,
    pub cost_usd: f64,
    /// Cost scaled to a 730-hour month.
    pub cost_usd_per_month: f64,
    pub replica_hours: f64,
    /// Ready replica-hours beyond what demand needed at the policy's target utilization.
    pub wasted_replica_hours: f64,
    pub sla_violation_minutes: f64,
    pub availability: f64,
    pub requests: f64,
    pub dropped_requests: f64,
    pub scale_up_events: usize,
    pub scale_down_events: usize,
    pub thrash_events: usize,
    pub peak_replicas: u32,
    pub minutes_at_max: f64,
    /// Seconds from demand exceeding ready capacity at target to capacity covering it again,
    /// one entry per episode that ended inside the replay.
    pub time_to_scale_seconds: Vec<i64>,
    pub max_time_to_scale_seconds: Option<i64>,
    /// Demand still exceeded ready capacity at target when the replay ended.
    pub scale_episode_open_at_end: bool,
    pub p95_ms_worst: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Replay {
    pub summary: ReplaySummary,
    pub steps: Vec<ReplayStep>,
    pub events: Vec<ReplayEvent>,
}

/// Pods of the replayed group: ready count plus the ready times of starting pods.
#[derive(Debug, Default)]
struct Pods {
    ready: u32,
    /// Ready-at times of starting pods, oldest request first.
    starting: VecDeque<i64>,
    warm_pool_left: u32,
}

impl Pods {
    fn total(&self) -> u32 {
        self.ready + self.starting.len() as u32
    }

    fn promote(&mut self, now: i64) {
        while self.starting.front().is_some_and(|&t| t <= now) {
            self.starting.pop_front();
            self.ready += 1;
        }
    }

    fn scale_to(&mut self, now: i64, target: u32, cap: &CapacityModel) {
        let total = self.total();
        if target > total {
            for _ in 0..(target - total) {
                let startup = if self.warm_pool_left > 0 {
                    self.warm_pool_left -= 1;
                    cap.warm_pool_startup_seconds
                } else {
                    cap.startup_seconds
                };
                self.starting.push_back(now + i64::from(startup));
            }
            // Warm-pool pods may be ready before older cold starts.
            self.starting.make_contiguous().sort_unstable();
        } else {
            let mut remove = total - target;
            while remove > 0 && self.starting.pop_back().is_some() {
                remove -= 1;
            }
            self.ready -= remove.min(self.ready);
            // Removed instances return to the warm pool.
            self.warm_pool_left = (self.warm_pool_left + (total - target)).min(cap.warm_pool_size);
        }
    }
}

/// An input and capacity model checked once (see [`replay_score_checked`]): a search replays
/// the same input thousands of times and need not scan its demand for each candidate.
#[derive(Debug, Clone, Copy)]
pub struct Checked<'c, 'a> {
    input: &'c ReplayInput<'a>,
    cap: &'c CapacityModel,
}

impl<'c, 'a> Checked<'c, 'a> {
    /// The checks every replay makes of its input and capacity model.
    pub fn new(input: &'c ReplayInput<'a>, cap: &'c CapacityModel) -> Result<Self, ReplayError> {
        validate(input, cap)?;
        Ok(Checked { input, cap })
    }

    pub fn input(&self) -> &'c ReplayInput<'a> {
        self.input
    }

    pub fn cap(&self) -> &'c CapacityModel {
        self.cap
    }
}

fn validate(input: &ReplayInput, cap: &CapacityModel) -> Result<(), ReplayError> {
    if input.step_seconds <= 0 {
        return Err(ReplayError::BadStep(input.step_seconds));
    }
    if input.demand_rps.is_empty() {
        return Err(ReplayError::EmptyDemand);
    }
    if let Some((index, &value)) = input
        .demand_rps
        .iter()
        .enumerate()
        .find(|(_, v)| **v < 0.0 || v.is_infinite())
    {
        return Err(ReplayError::BadDemand { index, value });
    }
    if !(cap.capacity_per_replica_rps > 0.0 && cap.capacity_per_replica_rps.is_finite()) {
        return Err(ReplayError::BadCapacity(
            "capacity per replica must be a positive number".into(),
        ));
    }
    if cap.concurrency_per_replica == 0 {
        return Err(ReplayError::BadCapacity(
            "concurrency must be at least 1".into(),
        ));
    }
    if !(cap.usd_per_replica_hour >= 0.0 && cap.usd_per_replica_hour.is_finite()) {
        return Err(ReplayError::BadCapacity(
            "price must be a non-negative number".into(),
        ));
    }
    Ok(())
}

/// The desired count a replay starts from: `initial` if given, else what the first demand
/// needs at the policy's target; within min (at least 1, unless above max) and max.
pub fn initial_replicas(
    input: &ReplayInput,
    cap: &CapacityModel,
    target: f64,
    (min, max): (u32, u32),
    initial: Option<u32>,
) -> u32 {
    let first_demand = first_demand(input);
    let initial = initial
        .unwrap_or_else(|| (first_demand / (cap.capacity_per_replica_rps * target)).ceil() as u32);
    initial.clamp(min.max(1).min(max), max)
}

fn first_demand(input: &ReplayInput) -> f64 {
    input
        .demand_rps
        .iter()
        .copied()
        .find(|v| !v.is_nan())
        .unwrap_or(0.0)
}

/// Replays an HPA over the input (see [`replay`]).
pub fn replay_hpa(
    mut hpa: HpaController,
    input: &ReplayInput,
    cap: &CapacityModel,
    slo: &Slo,
    initial_replicas: Option<u32>,
    group: &GroupId,
) -> Result<Replay, ReplayError> {
    replay(&mut hpa, input, cap, slo, initial_replicas, group)
}

/// Replays any autoscaler over the input. `initial_replicas` defaults to what the first demand
/// needs at the policy's target, within min/max.
pub fn replay(
    policy: &mut dyn Autoscaler,
    input: &ReplayInput,
    cap: &CapacityModel,
    slo: &Slo,
    initial_replicas: Option<u32>,
    group: &GroupId,
) -> Result<Replay, ReplayError> {
    let mut steps = Vec::with_capacity(input.demand_rps.len());
    let run = run(
        policy,
        input,
        cap,
        slo,
        initial_replicas,
        group,
        Record::Full(&mut steps),
        &mut |_| false,
    )?;
    // Without a stop rule the run always completes.
    let (summary, events) = run.unwrap_or_default();
    Ok(Replay {
        summary,
        steps,
        events,
    })
}

/// Figures of a replay in progress, for [`replay_summary`]'s stop rule. Each only grows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Steps replayed so far.
    pub steps: usize,
    pub replica_hours: f64,
    pub sla_violation_minutes: f64,
    pub dropped_requests: f64,
    /// Thrash pairs among the events so far (a later event never undoes one).
    pub thrash_pairs: usize,
    /// Longest time to scale of the episodes ended so far.
    pub max_time_to_scale_seconds: Option<i64>,
    /// Policies carried along that no longer follow this replay ([`Autoscaler::diverged_shadows`]).
    pub diverged: u64,
}

/// Latency of one replay step: `demand` on `ready` replicas (the memo of this thread).
pub fn step_latency(demand: f64, ready: u32, cap: &CapacityModel) -> Latency {
    let servers = ready * cap.concurrency_per_replica;
    LATENCY.with_borrow_mut(|t| t.get(demand, servers, cap.service_time_ms(), cap.timeout_ms))
}

/// Whether a step with this latency counts as an SLA-violation minute.
pub fn violates(l: &Latency, slo: &Slo) -> bool {
    violates_at(l.p95_ms, l.dropped_rps, slo)
}

/// [`violates`] on the two figures it reads.
fn violates_at(p95_ms: f64, dropped_rps: f64, slo: &Slo) -> bool {
    p95_ms > slo.p95_latency_ms || dropped_rps > 0.0
}

/// Replica counts [`sla_floor`] tries above the overload point.
const SLA_FLOOR_SCAN: u32 = 256;

/// Per step of the input, a lower bound on the ready replicas with which the step is not an
/// SLA-violation minute: every count below it violates (checked one by one, up to `limit`
/// and a few hundred above the overload point), so a replay that does not violate at a step
/// provisions at least that many. Demand is held over missing values as the replay holds it.
pub fn sla_floor(input: &ReplayInput, cap: &CapacityModel, slo: &Slo, limit: u32) -> Vec<u32> {
    let mut demand = input
        .demand_rps
        .iter()
        .copied()
        .find(|v| !v.is_nan())
        .unwrap_or(0.0);
    input
        .demand_rps
        .iter()
        .map(|&raw| {
            if !raw.is_nan() {
                demand = raw;
            }
            // Fewer replicas than demand / capacity are overloaded and drop: start just below.
            let start = if cap.capacity_per_replica_rps > 0.0 {
                ((demand / cap.capacity_per_replica_rps).floor() as u32).saturating_sub(1)
            } else {
                0
            };
            let end = limit.min(start.saturating_add(SLA_FLOOR_SCAN));
            (start.min(end)..=end)
                .find(|&r| !violates(&step_latency(demand, r, cap), slo))
                .unwrap_or(end.saturating_add(1))
        })
        .collect()
}

/// Steps between two calls of a stop rule.
pub const PROGRESS_EVERY_STEPS: usize = 240;

/// The same replay as [`replay`], keeping only its summary (no per-step rows, no events, no
/// explanations): what a search needs from thousands of candidates. `stop` sees the figures so
/// far every [`PROGRESS_EVERY_STEPS`] steps; when it says true the replay ends early and the
/// answer is None. A completed run's summary equals `replay(..).summary`.
pub fn replay_summary(
    policy: &mut dyn Autoscaler,
    input: &ReplayInput,
    cap: &CapacityModel,
    slo: &Slo,
    initial_replicas: Option<u32>,
    group: &GroupId,
    stop: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Option<ReplaySummary>, ReplayError> {
    Ok(run(
        policy,
        input,
        cap,
        slo,
        initial_replicas,
        group,
        Record::Score {
            memo: None,
            fast_forward: true,
            checked: false,
            wasted_at: &mut [],
        },
        stop,
    )?
    .map(|(s, _)| s))
}

/// [`replay_summary`] for a search: generic over the policy (a concrete one is called without
/// dynamic dispatch) and with the worker's [`LatencyMemo`] for the input (ignored if it was
/// made for another input). Same figures as `replay(..).summary`, bit for bit.
pub fn replay_score<P: Autoscaler + ?Sized>(
    policy: &mut P,
    input: &ReplayInput,
    cap: &CapacityModel,
    slo: &Slo,
    initial_replicas: Option<u32>,
    memo: Option<&mut LatencyMemo>,
    stop: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Option<ReplaySummary>, ReplayError> {
    score(policy, input, cap, slo, initial_replicas, memo, stop, true)
}

/// [`replay_score`] without fast-forwarding: every sync runs, as in the full replay. The
/// baseline the fast path is measured and tested against.
pub fn replay_score_every_sync<P: Autoscaler + ?Sized>(
    policy: &mut P,
    input: &ReplayInput,
    cap: &CapacityModel,
    slo: &Slo,
    initial_replicas: Option<u32>,
    memo: Option<&mut LatencyMemo>,
    stop: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Option<ReplaySummary>, ReplayError> {
    score(policy, input, cap, slo, initial_replicas, memo, stop, false)
}

/// [`replay_score`] on a [`Checked`] input (not scanned again), also giving the waste figure
/// at the minimums in `wasted_at` (each entry's figure is set; see [`Record::Score`]). A
/// shared replay (`HpaController::share`) uses it for its shadows.
pub fn replay_score_checked<P: Autoscaler + ?Sized>(
    policy: &mut P,
    checked: Checked,
    slo: &Slo,
    memo: Option<&mut LatencyMemo>,
    wasted_at: &mut [(u32, f64)],
    stop: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Option<ReplaySummary>, ReplayError> {
    let (input, cap) = (checked.input, checked.cap);
    let group = file_group("");
    for w in wasted_at.iter_mut() {
        w.1 = 0.0;
    }
    Ok(run(
        policy,
        input,
        cap,
        slo,
        None,
        &group,
        Record::Score {
            memo: memo.filter(|m| m.fits(input, cap)),
            fast_forward: true,
            checked: true,
            wasted_at,
        },
        stop,
    )?
    .map(|(s, _)| s))
}

#[allow(clippy::too_many_arguments)]
fn score<P: Autoscaler + ?Sized>(
    policy: &mut P,
    input: &ReplayInput,
    cap: &CapacityModel,
    slo: &Slo,
    initial_replicas: Option<u32>,
    memo: Option<&mut LatencyMemo>,
    stop: &mut dyn FnMut(&Progress) -> bool,
    fast_forward: bool,
) -> Result<Option<ReplaySummary>, ReplayError> {
    let group = file_group("");
    Ok(run(
        policy,
        input,
        cap,
        slo,
        initial_replicas,
        &group,
        Record::Score {
            memo: memo.filter(|m| m.fits(input, cap)),
            fast_forward,
            checked: false,
            wasted_at: &mut [],
        },
        stop,
    )?
    .map(|(s, _)| s))
}

/// What the replay loop keeps besides the summary.
enum Record<'r, 'm> {
    /// Every step's row and every event with its explanation.
    Full(&'r mut Vec<ReplayStep>),
    /// The summary only; step latency through the memo when there is one; syncs that repeat
    /// an unchanged decision skipped when `fast_forward`.
    Score {
        memo: Option<&'r mut LatencyMemo<'m>>,
        fast_forward: bool,
        /// The input and capacity were checked by the caller ([`Checked`]).
        checked: bool,
        /// (min, wasted replica-hours): the waste figure again with other minimums, for the
        /// shadows of a shared replay (the only figure the minimum enters besides decisions).
        wasted_at: &'r mut [(u32, f64)],
    },
}

/// The replay loop, one for every use. With [`Record::Full`] it records every step and each
/// event's explanation; with [`Record::Score`] only what the summary needs (the last event
/// for thrash, counts for the rest), with the same arithmetic in the same order.
#[allow(clippy::too_many_arguments)]
fn run<P: Autoscaler + ?Sized>(
    policy: &mut P,
    input: &ReplayInput,
    cap: &CapacityModel,
    slo: &Slo,
    initial_replicas: Option<u32>,
    group: &GroupId,
    mut record: Record,
    stop: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Option<(ReplaySummary, Vec<ReplayEvent>)>, ReplayError> {
    if !matches!(record, Record::Score { checked: true, .. }) {
        validate(input, cap)?;
    }
    if let Some(missing) = policy
        .required_series()
        .into_iter()
        .find(|name| !input.extra.iter().any(|e| &e.name == name))
    {
        return Err(ReplayError::MissingMetric(missing));
    }
    let explain = matches!(record, Record::Full(_));
    policy.set_explain(explain);
    let target = policy.target_utilization();
    let (min, max) = policy.bounds();
    let sync = i64::from(policy.decision_period_seconds().max(1));
    // Tick at the sync period when the step is a multiple of it, else at the step.
    let tick = if input.step_seconds % sync == 0 {
        sync
    } else {
        input.step_seconds
    };
    let ticks_per_step = input.step_seconds / tick;
    let step_hours = input.step_seconds as f64 / 3600.0;
    let step_minutes = input.step_seconds as f64 / 60.0;
    let first_demand = first_demand(input);
    let mut spec = self::initial_replicas(input, cap, target, (min, max), initial_replicas);
    let mut pods = Pods {
        ready: spec,
        starting: VecDeque::new(),
        warm_pool_left: cap.warm_pool_size,
    };
    let mut events: Vec<ReplayEvent> = Vec::new();
    // Without a record: the last event (for the thrash pair with the next) and the counts.
    let mut last_event: Option<ScalingEvent> = None;
    let mut scale_ups = 0usize;
    let mut scale_downs = 0usize;
    let mut s = ReplaySummary::default();
    let mut extra_now: Vec<(&str, f64)> = input
        .extra
        .iter()
        .map(|e| (e.name.as_str(), f64::NAN))
        .collect();
    let mut demand = first_demand;
    let mut last_sync: Option<i64> = None;
    let mut episode_start: Option<i64> = None;
    let tolerance = policy.tolerance();
    let mut replayed_steps = 0usize;
    let mut thrash_pairs = 0usize;
    let at_target = cap.capacity_per_replica_rps * target;
    let step_seconds = input.step_seconds as f64;
    // The score fast-forwards through syncs that repeat an unchanged decision on the same
    // observation (see below); the full replay keeps every sync, the reference it must equal.
    let fast_forward = matches!(
        record,
        Record::Score {
            fast_forward: true,
            ..
        }
    ) && ticks_per_step > 1;

    for (i, &raw) in input.demand_rps.iter().enumerate() {
        if !raw.is_nan() {
            demand = raw;
        }
        let step_start = input.start + i as i64 * input.step_seconds;
        // Ticks of this step the policy fast-forwarded through.
        let mut skip_until: Option<i64> = None;
        for k in 0..ticks_per_step {
            let now = step_start + k * tick;
            if skip_until.is_some_and(|t| now <= t) {
                continue;
            }
            pods.promote(now);
            // Time to scale (CONTRACTS.md), measured at tick resolution, with the policy's
            // tolerance so a steady state inside the band does not count as unserved.
            let ready_at_target =
                f64::from(pods.ready) * cap.capacity_per_replica_rps * target * (1.0 + tolerance);
            match (demand > ready_at_target, episode_start) {
                (true, None) => episode_start = Some(now),
                (false, Some(t0)) => {
                    s.time_to_scale_seconds.push(now - t0);
                    s.max_time_to_scale_seconds = s.max_time_to_scale_seconds.max(Some(now - t0));
                    episode_start = None;
                }
                _ => {}
            }
            if last_sync.is_none_or(|t| now - t >= sync) {
                last_sync = Some(now);
                for (slot, series) in extra_now.iter_mut().zip(&input.extra) {
                    slot.1 = series.values.get(i).copied().unwrap_or(f64::NAN);
                }
                let obs = Observation {
                    now,
                    pods: PodCounts {
                        spec_replicas: spec,
                        ready: pods.ready,
                        unready: pods.starting.len() as u32,
                    },
                    demand_rps: demand,
                    capacity_per_replica_rps: cap.capacity_per_replica_rps,
                    measured_cpu_percent: None,
                    extra: &extra_now,
                };
                let e = policy.decide(&obs);
                // The rest of the step's ticks see this same observation (demand and extra
                // series are per step) as long as no starting pod becomes ready by the last
                // one: ready and unready counts stay, and so does the time-to-scale state.
                // If the policy proves those syncs change nothing, skip them.
                let last = step_start + (ticks_per_step - 1) * tick;
                if fast_forward
                    && e.desired == spec
                    && now < last
                    && pods.starting.front().is_none_or(|&t| t > last)
                    && policy.repeat_unchanged(last)
                {
                    last_sync = Some(last);
                    skip_until = Some(last);
                }
                if e.desired != spec {
                    let (reason, explanation) = if explain {
                        (
                            e.explanation.first().cloned().unwrap_or_default(),
                            e.explanation,
                        )
                    } else {
                        (String::new(), Vec::new())
                    };
                    let event = ScalingEvent {
                        at: to_time(now),
                        // The score keeps no events: no group to copy for each.
                        group: if explain {
                            group.clone()
                        } else {
                            GroupId::new(group.platform, String::new(), String::new())
                        },
                        from_replicas: spec,
                        to_replicas: e.desired,
                        reason,
                        demand: Some(demand),
                        thrash: false,
                        origin: Default::default(),
                    };
                    let prev = if explain {
                        events.last().map(|p| &p.event)
                    } else {
                        last_event.as_ref()
                    };
                    if prev.is_some_and(|prev| {
                        thrash_pair(prev, &event, DEFAULT_THRASH_WINDOW_SECONDS, tolerance)
                    }) {
                        thrash_pairs += 1;
                    }
                    if e.desired > spec {
                        scale_ups += 1;
                    } else {
                        scale_downs += 1;
                    }
                    if explain {
                        events.push(ReplayEvent { event, explanation });
                    } else {
                        last_event = Some(event);
                    }
                    spec = e.desired;
                    pods.scale_to(now, spec, cap);
                }
            }
        }
        let end = step_start + input.step_seconds;
        pods.promote(end);
        let (p95_ms, dropped_rps) = match &mut record {
            Record::Full(rows) => {
                let l = step_latency(demand, pods.ready, cap);
                let utilization = if pods.ready == 0 {
                    f64::NAN
                } else {
                    100.0 * demand / (f64::from(pods.ready) * cap.capacity_per_replica_rps)
                };
                rows.push(ReplayStep {
                    timestamp: to_time(step_start),
                    demand,
                    replicas: spec,
                    ready: pods.ready,
                    utilization,
                    p95_ms: l.p95_ms,
                    p99_ms: l.p99_ms,
                    dropped_rps: l.dropped_rps,
                });
                (l.p95_ms, l.dropped_rps)
            }
            Record::Score {
                memo: Some(memo), ..
            } => memo.get(i, demand, pods.ready, cap),
            Record::Score { memo: None, .. } => {
                let l = step_latency(demand, pods.ready, cap);
                (l.p95_ms, l.dropped_rps)
            }
        };
        let ready_capacity = f64::from(pods.ready) * cap.capacity_per_replica_rps;
        // Summary figures.
        let provisioned = f64::from(pods.total());
        s.replica_hours += provisioned * step_hours;
        let needed = (demand / at_target).ceil().max(f64::from(min));
        s.wasted_replica_hours += (f64::from(pods.ready) - needed).max(0.0) * step_hours;
        if let Record::Score { wasted_at, .. } = &mut record {
            let raw = (demand / at_target).ceil();
            for (m, w) in wasted_at.iter_mut() {
                *w += (f64::from(pods.ready) - raw.max(f64::from(*m))).max(0.0) * step_hours;
            }
        }
        s.requests += demand * step_seconds;
        s.dropped_requests += dropped_rps * step_seconds;
        if violates_at(p95_ms, dropped_rps, slo) {
            s.sla_violation_minutes += step_minutes;
        }
        if spec >= max && demand > ready_capacity * target {
            s.minutes_at_max += step_minutes;
        }
        s.peak_replicas = s.peak_replicas.max(pods.total());
        s.p95_ms_worst = s.p95_ms_worst.max(p95_ms);
        replayed_steps += 1;
        if replayed_steps % PROGRESS_EVERY_STEPS == 0
            && stop(&Progress {
                steps: replayed_steps,
                replica_hours: s.replica_hours,
                sla_violation_minutes: s.sla_violation_minutes,
                dropped_requests: s.dropped_requests,
                thrash_pairs,
                max_time_to_scale_seconds: s.max_time_to_scale_seconds,
                diverged: policy.diverged_shadows(),
            })
        {
            return Ok(None);
        }
    }

    if explain {
        let mut evs: Vec<ScalingEvent> = events.iter().map(|e| e.event.clone()).collect();
        s.thrash_events = mark_thrash(&mut evs, DEFAULT_THRASH_WINDOW_SECONDS, tolerance);
        for (re, e) in events.iter_mut().zip(evs) {
            re.event.thrash = e.thrash;
        }
    } else {
        // mark_thrash counts the same consecutive pairs.
        s.thrash_events = thrash_pairs;
    }
    s.scale_up_events = scale_ups;
    s.scale_down_events = scale_downs;
    s.steps = replayed_steps;
    s.duration_hours = replayed_steps as f64 * step_hours;
    s.cost_usd = s.replica_hours * cap.usd_per_replica_hour;
    s.cost_usd_per_month = if s.duration_hours > 0.0 {
        s.cost_usd / s.duration_hours * 730.0
    } else {
        0.0
    };
    s.availability = if s.requests > 0.0 {
        1.0 - s.dropped_requests / s.requests
    } else {
        1.0
    };
    s.max_time_to_scale_seconds = s.time_to_scale_seconds.iter().copied().max();
    s.scale_episode_open_at_end = episode_start.is_some();
    Ok(Some((s, events)))
}

fn to_time(unix_seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(unix_seconds, 0).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// The group id used for replays of a file (no platform identity).
pub fn file_group(name: &str) -> GroupId {
    GroupId::new(Platform::K8s, "replay", name)
}

#[cfg(test)]
mod tests;

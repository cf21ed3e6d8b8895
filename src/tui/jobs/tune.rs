//! The tuning pane's search (issue 7), off the UI thread: the selected group's history copied
//! out of the store, its current policy as a platform document, and `engine::tune::tune` — the
//! same search `scaletop tune` runs — watched and cancelled through a shared
//! [`SearchControl`].

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::tune::{
    self, auto_kinds, PolicyDoc, SearchControl, SpaceSize, TuneError, TuneOutcome, TuneRequest,
};
use crate::model::{CapacityModel, GroupId, GroupInfo, Recommendation, Slo};
use crate::store::Store;

/// The space the pane searches: a few hundred candidates, every one replayed in full, so an
/// answer comes in seconds on two cores (`scaletop tune --search default|large` goes wider).
pub const PANE_SPACE: SpaceSize = SpaceSize::Small;

/// History the pane simulates for a demo group whose store history is too short to tune on:
/// four days, so the held-out 30% covers a day (80 h is the least).
pub const DEMO_HISTORY_SECONDS: u64 = 4 * 86_400;
/// Step of that simulated history.
pub const DEMO_HISTORY_STEP_SECONDS: u64 = 60;

/// The demo simulator the TUI runs, when it runs one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSource {
    pub scenario: String,
    pub seed: u64,
}

/// Everything one search needs, owned.
#[derive(Debug)]
pub struct TuneJob {
    /// Which opening of the pane asked for it; a late answer for another is dropped.
    pub run: u64,
    pub group: GroupId,
    pub start: i64,
    pub step_seconds: i64,
    pub demand: Vec<f64>,
    pub extra: Vec<(String, Vec<f64>)>,
    /// Recorded series the scaling-metric choice reads (CPU, replicas, latency), on the
    /// demand's grid.
    pub analysis: Vec<(String, Vec<f64>)>,
    pub cap: CapacityModel,
    pub slo: Slo,
    pub current: PolicyDoc,
    pub size: SpaceSize,
    pub threads: usize,
    pub control: Arc<SearchControl>,
    /// The demo's simulator: when the store's history is too short to hold out a day, the
    /// search runs on [`DEMO_HISTORY_SECONDS`] the scenario simulates for the group instead.
    pub demo: Option<DemoSource>,
    /// The group's local clock for proposed schedules, hours east of UTC (known for the
    /// demo's simulated history; else UTC).
    pub utc_offset_hours: i32,
}

/// What became of a search.
#[derive(Debug, Clone)]
pub enum TuneStatus {
    Done(Box<TuneResult>),
    /// Cancelled from the pane: `done` of `total` candidates had been evaluated.
    Cancelled {
        done: usize,
        total: usize,
    },
    /// The engine refused (too little history, empty space, ...): its one-line reason.
    Failed(String),
}

/// A finished search and what the pane shows of it.
#[derive(Debug, Clone)]
pub struct TuneResult {
    pub outcome: TuneOutcome,
    /// The Recommendation (CONTRACTS.md) `scaletop tune` would print, when there is one.
    pub recommendation: Option<Recommendation>,
    /// Desired replicas per step over the whole history: current, recommended.
    pub current_line: Vec<f64>,
    pub recommended_line: Vec<f64>,
    pub max_replicas: u32,
}

#[derive(Debug, Clone)]
pub struct TuneJobOutcome {
    pub run: u64,
    pub group: GroupId,
    pub status: TuneStatus,
    pub elapsed: Duration,
    /// Candidates evaluated and in the space when it ended.
    pub done: usize,
    pub total: usize,
}

// Results carry replays; which search they answer is what matters for equality.
impl PartialEq for TuneJobOutcome {
    fn eq(&self, other: &Self) -> bool {
        self.run == other.run && self.group == other.group
    }
}

/// The group's current policy as the platform document the search edits (the one reading
/// `scaletop tune --scenario` uses).
pub fn current_doc(info: &GroupInfo) -> Result<PolicyDoc, String> {
    let policy = info
        .policy
        .as_ref()
        .ok_or("policy unknown: no source reported one")?;
    let cap = info
        .capacity
        .as_ref()
        .ok_or_else(|| super::policies::no_capacity_reason(info))?;
    crate::commands::tune::policy_doc(&info.id, &policy.model, cap.min_replicas, cap.max_replicas)
}

/// Copies the group's history out of the store (cheap; on the UI thread). Err: why this group
/// cannot be tuned at all, said before any search starts.
pub fn job(
    store: &Store,
    group: &GroupId,
    run: u64,
    control: Arc<SearchControl>,
    demo: Option<&DemoSource>,
) -> Result<TuneJob, String> {
    let g = store
        .group_index(group)
        .ok_or_else(|| format!("{group}: no longer in the store"))?;
    let info = &store.groups()[g];
    let current = current_doc(info)?;
    let cap = info
        .capacity
        .clone()
        .ok_or_else(|| super::policies::no_capacity_reason(info))?;
    let h = super::policies::group_history(store, g, info).ok_or("no data yet for this group")?;
    // From the first sample on, as the Policies tab replays.
    let first = h
        .demand
        .iter()
        .position(|v| v.is_finite())
        .ok_or("no request-rate history to tune on")?;
    let cut = |v: &[f64]| v.get(first..).unwrap_or(&[]).to_vec();
    // The same slots as the demand: ending at its last, as many.
    let end = h.start + (h.demand.len() as i64 - 1) * h.step_seconds;
    let analysis = tune::metric::ANALYSIS_SERIES
        .iter()
        .filter(|m| store.series(g, **m).is_some())
        .map(|m| {
            let (_, v) = super::history_until(store, g, *m, end, h.demand.len());
            (m.as_str().to_string(), cut(&v))
        })
        .collect();
    Ok(TuneJob {
        run,
        group: group.clone(),
        start: h.start + first as i64 * h.step_seconds,
        step_seconds: h.step_seconds,
        demand: cut(&h.demand),
        extra: h
            .extra
            .iter()
            .map(|(n, v)| (n.to_string(), cut(v)))
            .collect(),
        analysis,
        cap,
        slo: h.info.slo.clone().unwrap_or_default(),
        current,
        size: PANE_SPACE,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        control,
        demo: demo.cloned(),
        utc_offset_hours: 0,
    })
}

/// Whether the job's own history is too short for the search's held-out day.
fn too_short(job: &TuneJob) -> bool {
    tune::split(job.demand.len(), job.step_seconds).is_err()
}

/// A demo job whose store history is too short: the same group's history as the scenario
/// simulates it (the simulator behind the demo, its seed), long enough to hold out a day.
fn with_demo_history(mut job: TuneJob) -> Result<TuneJob, String> {
    let Some(demo) = job.demo.clone().filter(|_| too_short(&job)) else {
        return Ok(job);
    };
    let d = crate::commands::tune::scenario_group(
        &demo.scenario,
        Some(&job.group.name),
        DEMO_HISTORY_SECONDS,
        DEMO_HISTORY_STEP_SECONDS,
        demo.seed,
        None,
    )
    .map_err(|e| format!("demo history: {}", e.message))?;
    job.start = d.start;
    job.step_seconds = d.step_seconds;
    job.demand = d.demand;
    job.extra = d.extra;
    job.analysis = d.analysis;
    job.cap = d.cap;
    job.slo = d.slo;
    job.utc_offset_hours = d.utc_offset_hours;
    Ok(job)
}

/// Runs the search to the end or until cancelled (blocking).
pub fn run(job: TuneJob) -> TuneJobOutcome {
    let started = Instant::now();
    let (run, group) = (job.run, job.group.clone());
    let job = match with_demo_history(job) {
        Ok(j) => j,
        Err(why) => {
            return TuneJobOutcome {
                run,
                group,
                status: TuneStatus::Failed(why),
                elapsed: started.elapsed(),
                done: 0,
                total: 0,
            }
        }
    };
    let req = TuneRequest {
        group: job.group.clone(),
        start: job.start,
        step_seconds: job.step_seconds,
        demand: &job.demand,
        extra: job
            .extra
            .iter()
            .map(|(n, v)| (n.clone(), v.as_slice()))
            .collect(),
        cap: job.cap.clone(),
        slo: job.slo.clone(),
        current: job.current.clone(),
        kinds: auto_kinds(&job.current),
        size: job.size,
        threads: job.threads.max(1),
        prune: true,
        visit: None,
        // The choice `scaletop tune --policy-kind auto` makes, read the same way.
        metric_choice: tune::metric::choose(
            &job.group.name,
            job.start,
            job.step_seconds,
            &job.demand,
            job.extra
                .iter()
                .chain(&job.analysis)
                .map(|(n, v)| (n.as_str(), v.as_slice())),
            &job.current,
        ),
        utc_offset_hours: job.utc_offset_hours,
    };
    let result = tune::tune(&req, &job.control);
    let done = job.control.done.load(Ordering::Relaxed);
    let total = job.control.total.load(Ordering::Relaxed);
    let status = match result {
        Ok(outcome) => TuneStatus::Done(Box::new(result_of(outcome, job.cap.max_replicas))),
        Err(TuneError::Cancelled) => TuneStatus::Cancelled { done, total },
        Err(e) => TuneStatus::Failed(e.to_string()),
    };
    TuneJobOutcome {
        run: job.run,
        group: job.group,
        status,
        elapsed: started.elapsed(),
        done,
        total,
    }
}

fn result_of(outcome: TuneOutcome, max_replicas: u32) -> TuneResult {
    let line = |r: &Option<crate::engine::replay::Replay>| -> Vec<f64> {
        r.as_ref()
            .map(|r| r.steps.iter().map(|s| f64::from(s.replicas)).collect())
            .unwrap_or_default()
    };
    TuneResult {
        recommendation: tune::recommendation(&outcome),
        current_line: line(&outcome.current_replay),
        recommended_line: line(&outcome.recommended_replay),
        max_replicas,
        outcome,
    }
}

/// Starts the pane's search if it waits for one: the job, or the reason the group cannot be
/// tuned put in the pane.
pub fn start(
    state: &mut crate::tui::panes::tuning::TuningState,
    store: &Store,
    demo: Option<&DemoSource>,
) -> Option<TuneJob> {
    use crate::tui::panes::tuning::Phase;
    if state.phase != Phase::Waiting {
        return None;
    }
    match job(
        store,
        &state.group,
        state.run,
        state.control.0.clone(),
        demo,
    ) {
        Ok(j) => {
            state.about = Some(about(&j));
            state.phase = Phase::Running;
            state.started_at = Some(chrono::Utc::now());
            Some(j)
        }
        Err(why) => {
            state.phase = Phase::Unavailable(why);
            None
        }
    }
}

/// "96 h of history at 15 s steps · current: HPA web: cpu 70%".
fn about(j: &TuneJob) -> String {
    let hours = j.demand.len() as f64 * j.step_seconds as f64 / 3600.0;
    if let Some(demo) = j.demo.as_ref().filter(|_| too_short(j)) {
        return format!(
            "the store holds {hours:.1} h, under the 80 h a held-out day needs: tuning on {} h the {} scenario simulates (seed {}) at {} s steps",
            DEMO_HISTORY_SECONDS / 3600,
            demo.scenario,
            demo.seed,
            DEMO_HISTORY_STEP_SECONDS
        );
    }
    let current = j
        .current
        .autoscaler()
        .map(|a| a.describe())
        .unwrap_or_else(|_| j.current.kind().words().to_string());
    format!(
        "{hours:.1} h of history at {} s steps · current {current}",
        j.step_seconds
    )
}

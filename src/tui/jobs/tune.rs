//! The tuning pane's search (issue 7), off the UI thread: the selected group's history copied
//! out of the store, its current policy as a platform document, and `engine::tune::tune` — the
//! same search `scaletop tune` runs — watched and cancelled through a shared
//! [`SearchControl`].

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::engine::policy::aws_spec::AsgScalingConfig;
use crate::engine::policy::hpa_spec::HpaManifest;
use crate::engine::tune::{
    self, auto_kinds, PolicyDoc, SearchControl, SpaceSize, TuneError, TuneOutcome, TuneRequest,
};
use crate::model::{CapacityModel, GroupId, GroupInfo, Platform, PolicyModel, Recommendation, Slo};
use crate::store::Store;

/// The space the pane searches: a few hundred candidates, every one replayed in full, so an
/// answer comes in seconds on two cores (`scaletop tune --search default|large` goes wider).
pub const PANE_SPACE: SpaceSize = SpaceSize::Small;

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
    pub cap: CapacityModel,
    pub slo: Slo,
    pub current: PolicyDoc,
    pub size: SpaceSize,
    pub threads: usize,
    pub control: Arc<SearchControl>,
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

/// The group's current policy as the platform document the search edits: a live document as
/// reported, or the scenario's target tracking in its platform's form (as `scaletop tune
/// --scenario` builds it).
pub fn current_doc(info: &GroupInfo) -> Result<PolicyDoc, String> {
    let policy = info
        .policy
        .as_ref()
        .ok_or("policy unknown: no source reported one")?;
    let cap = info
        .capacity
        .as_ref()
        .ok_or_else(|| super::policies::no_capacity_reason(info))?;
    let (min, max) = (cap.min_replicas, cap.max_replicas);
    let name = &info.id.name;
    match &policy.model {
        PolicyModel::Native { text } => PolicyDoc::parse(text).map_err(|e| e.to_string()),
        PolicyModel::TargetTracking(tt) => match info.id.platform {
            Platform::K8s => {
                let m = crate::sim::hpa_manifest(name, tt, min, max)
                    .ok_or("a metric of this policy has no HPA form")?;
                HpaManifest::from_yaml(&m.to_string())
                    .map(PolicyDoc::Hpa)
                    .map_err(|e| format!("HPA: {e}"))
            }
            Platform::Aws => {
                let c = crate::sim::asg_config(name, tt, min, max)
                    .ok_or("EC2 target tracking has no predefined metric for this policy")?;
                AsgScalingConfig::from_json(&c.to_string())
                    .map(PolicyDoc::Asg)
                    .map_err(|e| format!("ASG: {e}"))
            }
            other => Err(format!(
                "{} groups follow the scenario's own rule: no platform policy to tune",
                other.as_str()
            )),
        },
        PolicyModel::Fixed { replicas } => Err(format!(
            "fixed at {replicas} replicas: no autoscaling policy to tune"
        )),
        PolicyModel::Unknown => Err("policy unknown: nothing to tune".into()),
    }
}

/// Copies the group's history out of the store (cheap; on the UI thread). Err: why this group
/// cannot be tuned at all, said before any search starts.
pub fn job(
    store: &Store,
    group: &GroupId,
    run: u64,
    control: Arc<SearchControl>,
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
        cap,
        slo: h.info.slo.clone().unwrap_or_default(),
        current,
        size: PANE_SPACE,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        control,
    })
}

/// Runs the search to the end or until cancelled (blocking).
pub fn run(job: TuneJob) -> TuneJobOutcome {
    let started = Instant::now();
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
pub fn start(state: &mut crate::tui::panes::tuning::TuningState, store: &Store) -> Option<TuneJob> {
    use crate::tui::panes::tuning::Phase;
    if state.phase != Phase::Waiting {
        return None;
    }
    match job(store, &state.group, state.run, state.control.0.clone()) {
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

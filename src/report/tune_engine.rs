//! The tuning engine's view of the busiest group: its pitfall detectors over a replay of the
//! current policy (the same detectors `scaletop tune` reports), and optionally the small
//! search. The full search replays thousands of candidates per group, so the report names the
//! command instead of running it for every group.

use crate::commands::tune::{scenario_group, GroupData};
use crate::engine::replay::{replay, ExtraSeries, ReplayInput};
use crate::engine::tune::pitfalls::{self, Pitfall};
use crate::engine::tune::{self, SearchControl, SpaceSize, TuneOutcome, TuneRequest};

/// The simulated history a scenario report is built from.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    pub name: String,
    pub seed: u64,
    pub duration_seconds: u64,
    pub step_seconds: u64,
    /// As given on the command line, for the commands the report prints.
    pub duration: String,
    pub step: String,
}

impl ScenarioRun {
    /// `scaletop tune` for one group of the same history.
    pub fn tune_command(&self, group: &str) -> String {
        format!(
            "scaletop tune --scenario {} --group {group} --seed {} --duration {} --step {}",
            self.name, self.seed, self.duration, self.step
        )
    }
}

#[derive(Debug)]
pub struct TuneFindings {
    pub group: String,
    pub command: String,
    /// The current policy's pitfalls, or why they could not be looked for.
    pub pitfalls: Result<Vec<Pitfall>, String>,
    /// The small search when it was run.
    pub search: Option<Result<TuneOutcome, String>>,
}

fn current_pitfalls(g: &GroupData) -> Result<Vec<Pitfall>, String> {
    let input = ReplayInput {
        start: g.start,
        step_seconds: g.step_seconds,
        demand_rps: &g.demand,
        extra: g
            .extra
            .iter()
            .map(|(name, v)| ExtraSeries {
                name: name.clone(),
                values: v,
            })
            .collect(),
    };
    let mut a = g.current.autoscaler().map_err(|e| e.to_string())?;
    let r =
        replay(a.as_mut(), &input, &g.cap, &g.slo, None, &g.group).map_err(|e| e.to_string())?;
    Ok(pitfalls::detect(&r, &g.current, &g.cap, &g.slo))
}

fn small_search(g: &GroupData) -> Result<TuneOutcome, String> {
    let req = TuneRequest {
        group: g.group.clone(),
        start: g.start,
        step_seconds: g.step_seconds,
        demand: &g.demand,
        extra: g
            .extra
            .iter()
            .map(|(n, v)| (n.clone(), v.as_slice()))
            .collect(),
        cap: g.cap.clone(),
        slo: g.slo.clone(),
        current: g.current.clone(),
        kinds: tune::auto_kinds(&g.current),
        size: SpaceSize::Small,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        prune: true,
        visit: None,
        metric_choice: None,
        utc_offset_hours: 0,
    };
    tune::tune(&req, &SearchControl::default()).map_err(|e| e.to_string())
}

/// Pitfalls of `group`'s current policy, and the small search when `search` is set.
pub fn findings(run: &ScenarioRun, group: &str, search: bool) -> TuneFindings {
    let command = run.tune_command(group);
    let data = scenario_group(
        &run.name,
        Some(group),
        run.duration_seconds,
        run.step_seconds,
        run.seed,
        None,
    )
    .map_err(|e| e.message);
    match data {
        Ok(g) => TuneFindings {
            group: group.to_string(),
            command,
            pitfalls: current_pitfalls(&g),
            search: search.then(|| small_search(&g)),
        },
        Err(e) => TuneFindings {
            group: group.to_string(),
            command,
            pitfalls: Err(e),
            search: None,
        },
    }
}

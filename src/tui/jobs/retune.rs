//! Keeping policies tuned (issue 10): each group is re-tuned in the background as its data
//! grows — the tuning pane's search, on one core, one group at a time — and a recommendation
//! is surfaced only when its held-out saving is significant
//! ([`crate::engine::tune::significance`]) and keeps the Slo. Everything else is kept as a
//! finding with the reason it was not surfaced, so nothing is silently dropped.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::engine::tune::significance::{heldout_significance, Significance};
use crate::engine::tune::SearchControl;
use crate::model::{GroupId, Recommendation};
use crate::store::Store;
use crate::tui::jobs::tune::{self, TuneJob, TuneStatus};

/// A group is re-tuned when this much new data time has arrived since its last search.
pub const RETUNE_EVERY_SECONDS: i64 = 6 * 3600;
/// At most one background search starts per this many seconds of wall time, so the watch
/// stays light on a laptop (the pane's own search is not held back).
pub const MIN_WALL_SECONDS_BETWEEN: i64 = 60;

/// One background search.
#[derive(Debug)]
pub struct RetuneJob {
    pub epoch: u64,
    pub tune: TuneJob,
}

/// What one background search concluded for its group.
#[derive(Debug, Clone, PartialEq)]
pub struct RetuneFinding {
    pub group: GroupId,
    /// Data time the search saw up to.
    pub data_end: i64,
    pub significance: Option<Significance>,
    /// Set only when the gain is significant and the policy keeps the Slo held out.
    pub surfaced: Option<Recommendation>,
    /// Why nothing was surfaced, or the one-line verdict when something was.
    pub note: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetuneOutcome {
    pub epoch: u64,
    pub finding: RetuneFinding,
}

/// The background re-tuner's state in the app.
#[derive(Debug, Clone, Default)]
pub struct RetuneState {
    /// Bumped when the source changes: a late answer about the old data is dropped.
    pub epoch: u64,
    pub in_flight: bool,
    /// Data end of each group's last search.
    last: BTreeMap<GroupId, i64>,
    last_started_wall: Option<i64>,
    pub findings: BTreeMap<GroupId, RetuneFinding>,
}

impl RetuneState {
    pub fn reset(&mut self) {
        *self = RetuneState {
            epoch: self.epoch + 1,
            ..Default::default()
        };
    }

    /// Significant recommendations, for the recommendations pane.
    pub fn recommendations(&self) -> impl Iterator<Item = &Recommendation> {
        self.findings.values().filter_map(|f| f.surfaced.as_ref())
    }

    /// Records a finished search (a late one about a previous source is dropped).
    pub fn finish(&mut self, outcome: RetuneOutcome) {
        if outcome.epoch != self.epoch {
            return;
        }
        self.in_flight = false;
        let f = outcome.finding;
        self.findings.insert(f.group.clone(), f);
    }

    /// The next group due for a background search (round-robin by staleness), marked in
    /// flight. `now_wall` in Unix seconds.
    pub fn due(&mut self, store: &Store, now_wall: i64) -> Option<RetuneJob> {
        if self.in_flight
            || self
                .last_started_wall
                .is_some_and(|t| now_wall - t < MIN_WALL_SECONDS_BETWEEN)
        {
            return None;
        }
        let data_end = store.now()?.timestamp();
        // The group searched longest ago (never first) that has enough new data.
        let group = store
            .groups()
            .iter()
            .map(|g| (self.last.get(&g.id).copied(), &g.id))
            .filter(|(last, _)| last.is_none_or(|t| data_end - t >= RETUNE_EVERY_SECONDS))
            .min_by_key(|(last, _)| last.unwrap_or(i64::MIN))
            .map(|(_, id)| id.clone())?;
        // Marked searched even when it cannot be tuned, so it is not retried every tick.
        self.last.insert(group.clone(), data_end);
        match tune::job(store, &group, 0, Arc::new(SearchControl::default()), None) {
            Ok(mut job) => {
                job.threads = 1;
                self.in_flight = true;
                self.last_started_wall = Some(now_wall);
                Some(RetuneJob {
                    epoch: self.epoch,
                    tune: job,
                })
            }
            Err(why) => {
                self.findings.insert(
                    group.clone(),
                    RetuneFinding {
                        group,
                        data_end,
                        significance: None,
                        surfaced: None,
                        note: why,
                    },
                );
                None
            }
        }
    }
}

/// Runs the search and judges its saving (blocking).
pub fn run(job: RetuneJob) -> RetuneOutcome {
    let data_end = job.tune.start + job.tune.demand.len() as i64 * job.tune.step_seconds;
    let step = job.tune.step_seconds;
    let group = job.tune.group.clone();
    let outcome = tune::run(job.tune);
    let finding = match outcome.status {
        TuneStatus::Done(result) => judge(group, data_end, step, &result),
        TuneStatus::Cancelled { .. } => RetuneFinding {
            group,
            data_end,
            significance: None,
            surfaced: None,
            note: "search cancelled".into(),
        },
        TuneStatus::Failed(why) => RetuneFinding {
            group,
            data_end,
            significance: None,
            surfaced: None,
            note: why,
        },
    };
    RetuneOutcome {
        epoch: job.epoch,
        finding,
    }
}

/// Surfaces the search's recommendation only if it holds the Slo held out and its saving is
/// significant over held-out blocks.
pub fn judge(
    group: GroupId,
    data_end: i64,
    step_seconds: i64,
    result: &tune::TuneResult,
) -> RetuneFinding {
    let o = &result.outcome;
    let finding = |significance, surfaced, note: String| RetuneFinding {
        group: group.clone(),
        data_end,
        significance,
        surfaced,
        note,
    };
    let Some(rec) = o.recommended.as_ref() else {
        return finding(
            None,
            None,
            "no candidate keeps the Slo without thrash".into(),
        );
    };
    if !rec.holds {
        return finding(
            None,
            None,
            format!("does not hold out: {}", rec.heldout_problems.join("; ")),
        );
    }
    let sig = match (&o.current_replay, &o.recommended_replay) {
        (Some(c), Some(r)) => heldout_significance(c, r, o.split.train_steps, step_seconds),
        _ => None,
    };
    let Some(sig) = sig else {
        return finding(None, None, "held-out part too short to judge".into());
    };
    let surfaced = if sig.significant {
        result.recommendation.clone().map(|mut r| {
            r.evidence
                .insert(0, format!("background re-tune: {}", sig.summary));
            r
        })
    } else {
        None
    };
    let note = sig.summary.clone();
    finding(Some(sig), surfaced, note)
}

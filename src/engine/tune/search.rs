//! Evaluates candidates by full replay, in parallel across cores. A candidate is dropped early
//! only when its figures so far are already dominated by a finished candidate that keeps the
//! Slo without thrash: both figures only grow during a replay, so such a candidate can be
//! neither on the Pareto front nor the recommendation. Anything reported is replayed in full.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::RwLock;

use crate::engine::replay::{replay_summary, Progress, ReplayInput, ReplaySummary};
use crate::model::{CapacityModel, GroupId, Slo};

use super::space::Candidate;
use super::verdict::eligible;

/// What became of one candidate.
#[derive(Debug, Clone)]
pub enum Outcome {
    Done(ReplaySummary),
    /// Dominated part-way through its replay.
    Rejected,
    /// The document or the replay failed (e.g. a metric the input lacks).
    Failed(String),
    /// The search was cancelled before it ran.
    Skipped,
}

/// Shared state of a running search: progress for a UI and a cancel flag.
#[derive(Debug, Default)]
pub struct SearchControl {
    pub done: AtomicUsize,
    pub cancel: AtomicBool,
}

pub struct SearchSetup<'a> {
    pub input: &'a ReplayInput<'a>,
    pub cap: &'a CapacityModel,
    pub slo: &'a Slo,
    pub group: &'a GroupId,
    pub threads: usize,
    /// Reject dominated candidates early (off: every candidate runs to the end).
    pub prune: bool,
}

/// Finished candidates that keep the Slo without thrash: (replica-hours, SLA minutes), kept
/// mutually non-dominated so the check stays short.
#[derive(Default)]
struct Dominators(RwLock<Vec<(f64, f64)>>);

impl Dominators {
    fn add(&self, rh: f64, sla: f64) {
        let Ok(mut v) = self.0.write() else { return };
        if v.iter().any(|&(r, s)| r <= rh && s <= sla) {
            return;
        }
        v.retain(|&(r, s)| !(rh <= r && sla <= s));
        v.push((rh, sla));
    }

    fn dominates(&self, p: &Progress) -> bool {
        self.0.read().is_ok_and(|v| {
            v.iter()
                .any(|&(r, s)| p.replica_hours > r && p.sla_violation_minutes >= s)
        })
    }
}

/// Replays every candidate; the answer is in candidate order.
pub fn evaluate(
    candidates: &[Candidate],
    setup: &SearchSetup,
    control: &SearchControl,
) -> Vec<Outcome> {
    let n = candidates.len();
    // A spread-out first pass (every 16th candidate) finds good dominators early.
    let mut order: Vec<usize> = (0..n).step_by(16).collect();
    order.extend((0..n).filter(|i| i % 16 != 0));
    let next = AtomicUsize::new(0);
    let dominators = Dominators::default();
    let threads = setup.threads.clamp(1, n.max(1));
    let mut results: Vec<(usize, Outcome)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&i) = order.get(k) else { break };
                        if control.cancel.load(Ordering::Relaxed) {
                            mine.push((i, Outcome::Skipped));
                            continue;
                        }
                        let outcome = run_one(&candidates[i], setup, &dominators, control);
                        control.done.fetch_add(1, Ordering::Relaxed);
                        mine.push((i, outcome));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    let mut out: Vec<Outcome> = results.into_iter().map(|(_, o)| o).collect();
    // A worker that panicked lost its share: say so rather than invent figures.
    out.resize(n, Outcome::Failed("evaluation did not finish".into()));
    out
}

fn run_one(
    c: &Candidate,
    setup: &SearchSetup,
    dominators: &Dominators,
    control: &SearchControl,
) -> Outcome {
    let mut policy = match c.doc.autoscaler() {
        Ok(p) => p,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let mut stop = |p: &Progress| {
        control.cancel.load(Ordering::Relaxed) || (setup.prune && dominators.dominates(p))
    };
    match replay_summary(
        policy.as_mut(),
        setup.input,
        setup.cap,
        setup.slo,
        None,
        setup.group,
        &mut stop,
    ) {
        Ok(Some(s)) => {
            if eligible(&s, setup.slo) {
                dominators.add(s.replica_hours, s.sla_violation_minutes);
            }
            Outcome::Done(s)
        }
        Ok(None) if control.cancel.load(Ordering::Relaxed) => Outcome::Skipped,
        Ok(None) => Outcome::Rejected,
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

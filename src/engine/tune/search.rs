//! Evaluates candidates by full replay, in parallel across cores. A candidate is dropped early
//! only when it provably can be neither recommended (nor the best of its kind) nor on the
//! Pareto front, whatever its remaining steps do (see [`super::bounds`]). Anything reported
//! is replayed in full.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::engine::replay::{
    replay_score, replay_score_every_sync, LatencyMemo, Progress, ReplayInput, ReplaySummary,
};
use crate::model::{CapacityModel, GroupId, Slo};

use super::bounds::{family, Bounds, Finished};
use super::doc::PolicyDoc;
use super::space::Candidate;
use super::verdict::eligible;
use crate::engine::policy::Autoscaler;

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
    /// Coarse-to-fine search did not visit it.
    NotVisited,
}

/// Shared state of a running search: progress for a UI and a cancel flag.
#[derive(Debug, Default)]
pub struct SearchControl {
    pub done: AtomicUsize,
    pub cancel: AtomicBool,
    /// Candidates in the space, set once it is built (0 before): `done` counts towards it.
    pub total: AtomicUsize,
}

pub struct SearchSetup<'a> {
    pub input: &'a ReplayInput<'a>,
    pub cap: &'a CapacityModel,
    pub slo: &'a Slo,
    pub group: &'a GroupId,
    pub threads: usize,
    /// Reject dominated candidates early (off: every candidate runs to the end).
    pub prune: bool,
    /// Skip syncs that provably repeat an unchanged decision (exact; off: every sync runs,
    /// the baseline it is measured against).
    pub fast_forward: bool,
}

/// Which candidates to replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visit {
    /// Every candidate.
    All,
    /// Every other value of each axis first, then, from the cheapest eligible candidates and
    /// the front's points, every value of one axis at a time (a pattern search), until a round
    /// finds nothing new.
    CoarseToFine,
}

/// Rounds of refinement after the coarse pass.
const REFINE_ROUNDS: usize = 4;
/// Seeds per round: the cheapest eligible candidates and the front's points.
const SEEDS: usize = 8;

/// Replays the candidates `visit` selects; the answer is in candidate order, `NotVisited` for
/// the rest.
pub fn evaluate(
    candidates: &[Candidate],
    setup: &SearchSetup,
    control: &SearchControl,
    visit: Visit,
) -> Vec<Outcome> {
    let n = candidates.len();
    let done = Finished::default();
    let limit = candidates
        .iter()
        .map(|c| c.doc.bounds().1)
        .max()
        .unwrap_or(0)
        .max(setup.cap.max_replicas);
    let bounds = Bounds::new(setup.input, setup.cap, setup.slo, setup.prune, limit);
    let mut out = vec![Outcome::NotVisited; n];
    let run = |ix: Vec<usize>, out: &mut Vec<Outcome>| {
        for (i, o) in run_batch(candidates, &ix, setup, control, &done, &bounds) {
            out[i] = o;
        }
    };
    match visit {
        Visit::All => run((0..n).collect(), &mut out),
        Visit::CoarseToFine => {
            let dims = dims_by_kind(candidates);
            let coarse = (0..n)
                .filter(|&i| {
                    let d = &dims[&candidates[i].kind];
                    candidates[i]
                        .coords
                        .iter()
                        .zip(d)
                        .all(|(&c, &size)| c % 2 == 0 || c + 1 == size)
                })
                .collect();
            run(coarse, &mut out);
            for _ in 0..REFINE_ROUNDS {
                let seeds = seeds(&out, setup.slo);
                let near: Vec<usize> = (0..n)
                    .filter(|&i| matches!(out[i], Outcome::NotVisited))
                    .filter(|&i| {
                        seeds.iter().any(|&s| {
                            candidates[s].kind == candidates[i].kind
                                && candidates[s]
                                    .coords
                                    .iter()
                                    .zip(&candidates[i].coords)
                                    .filter(|(a, b)| a != b)
                                    .count()
                                    <= 1
                        })
                    })
                    .collect();
                if near.is_empty() || control.cancel.load(Ordering::Relaxed) {
                    break;
                }
                run(near, &mut out);
            }
        }
    }
    out
}

fn dims_by_kind(
    candidates: &[Candidate],
) -> std::collections::HashMap<super::PolicyKind, Vec<usize>> {
    let mut dims: std::collections::HashMap<super::PolicyKind, Vec<usize>> = Default::default();
    for c in candidates {
        let d = dims.entry(c.kind).or_default();
        d.resize(d.len().max(c.coords.len()), 0);
        for (slot, &x) in d.iter_mut().zip(&c.coords) {
            *slot = (*slot).max(x + 1);
        }
    }
    dims
}

/// The cheapest eligible candidates and the thrash-free front so far.
fn seeds(out: &[Outcome], slo: &Slo) -> Vec<usize> {
    let done: Vec<(usize, &ReplaySummary)> = out
        .iter()
        .enumerate()
        .filter_map(|(i, o)| match o {
            Outcome::Done(s) => Some((i, s)),
            _ => None,
        })
        .collect();
    let mut eligible: Vec<(usize, &ReplaySummary)> = done
        .iter()
        .copied()
        .filter(|(_, s)| eligible(s, slo))
        .collect();
    eligible.sort_by(|a, b| a.1.cost_usd.total_cmp(&b.1.cost_usd));
    let mut seeds: Vec<usize> = eligible.iter().take(SEEDS / 2).map(|(i, _)| *i).collect();
    let front = super::pareto::front(
        &done
            .iter()
            .filter(|(_, s)| s.thrash_events == 0)
            .map(|(i, s)| (*i, s.cost_usd_per_month, s.sla_violation_minutes))
            .collect::<Vec<_>>(),
    );
    seeds.extend(front.into_iter().take(SEEDS - seeds.len()));
    seeds.sort_unstable();
    seeds.dedup();
    seeds
}

/// Replays the candidates at `ix` on every core.
fn run_batch(
    candidates: &[Candidate],
    ix: &[usize],
    setup: &SearchSetup,
    control: &SearchControl,
    done: &Finished,
    bounds: &Bounds,
) -> Vec<(usize, Outcome)> {
    // A spread-out first pass (every 16th candidate) finds good dominators early.
    let mut order: Vec<usize> = ix.iter().copied().step_by(16).collect();
    order.extend(
        ix.iter()
            .enumerate()
            .filter(|(k, _)| k % 16 != 0)
            .map(|(_, i)| *i),
    );
    let next = AtomicUsize::new(0);
    let threads = setup.threads.clamp(1, order.len().max(1));
    let mut results: Vec<(usize, Outcome)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    let mut memo = LatencyMemo::new(setup.input, setup.cap);
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&i) = order.get(k) else { break };
                        if control.cancel.load(Ordering::Relaxed) {
                            mine.push((i, Outcome::Skipped));
                            continue;
                        }
                        let outcome =
                            run_one(&candidates[i], setup, done, bounds, control, &mut memo);
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
    // A worker that panicked lost its share: say so rather than invent figures.
    let mut seen = vec![false; candidates.len()];
    for (j, _) in &results {
        seen[*j] = true;
    }
    for &i in ix {
        if !seen[i] {
            results.push((i, Outcome::Failed("evaluation did not finish".into())));
        }
    }
    results
}

/// Fewest replicas the policy can ever run: its minimum, or a lower scheduled one; KEDA may
/// idle below its minimum, so it gets no floor.
fn floor_replicas(doc: &PolicyDoc, min: u32) -> u32 {
    match doc {
        PolicyDoc::Asg(a) => a
            .scheduled_actions
            .iter()
            .filter_map(|x| x.min_size)
            .fold(min, u32::min),
        PolicyDoc::Keda(_) => 0,
        _ => min,
    }
}

fn run_one(
    c: &Candidate,
    setup: &SearchSetup,
    done: &Finished,
    bounds: &Bounds,
    control: &SearchControl,
    memo: &mut LatencyMemo,
) -> Outcome {
    // The fast path calls an HPA directly (its sync inlines into the replay loop).
    let mut hpa = match c.doc.hpa_controller().filter(|_| setup.fast_forward) {
        Some(Ok(h)) => Some(h),
        Some(Err(e)) => return Outcome::Failed(e.to_string()),
        None => None,
    };
    let mut boxed = match hpa {
        Some(_) => None,
        None => match c.doc.autoscaler() {
            Ok(p) => Some(p),
            Err(e) => return Outcome::Failed(e.to_string()),
        },
    };
    let policy_min = match (&hpa, &boxed) {
        (Some(h), _) => h.bounds().0,
        (None, Some(p)) => p.bounds().0,
        (None, None) => 0,
    };
    // Never fewer than min replicas: the rest of the replay costs at least that.
    let min = floor_replicas(&c.doc, policy_min);
    let fam = family(c);
    let mut stop = |p: &Progress| {
        control.cancel.load(Ordering::Relaxed)
            || (setup.prune && bounds.reject(p, min, fam, setup.slo, done))
    };
    let (input, cap, slo) = (setup.input, setup.cap, setup.slo);
    let scored = match (&mut hpa, &mut boxed) {
        (Some(h), _) => replay_score(h, input, cap, slo, None, Some(memo), &mut stop),
        (None, Some(p)) if setup.fast_forward => {
            replay_score(p.as_mut(), input, cap, slo, None, Some(memo), &mut stop)
        }
        (None, Some(p)) => {
            replay_score_every_sync(p.as_mut(), input, cap, slo, None, Some(memo), &mut stop)
        }
        (None, None) => return Outcome::Failed("no policy".into()),
    };
    match scored {
        Ok(Some(s)) => {
            done.add(fam, &s, setup.slo);
            Outcome::Done(s)
        }
        Ok(None) if control.cancel.load(Ordering::Relaxed) => Outcome::Skipped,
        Ok(None) => Outcome::Rejected,
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

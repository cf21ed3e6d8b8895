//! Evaluates candidates by full replay, in parallel across cores. A candidate is dropped early
//! only when it provably can be neither recommended (nor the best of its kind) nor on the
//! Pareto front, whatever its remaining steps do (see [`super::bounds`]). Anything reported
//! is replayed in full. HPA candidates that differ only in rate-limit policies and minimum
//! share one replay for as long as they decide alike (`HpaController::share`): a candidate's
//! figures always come from a replay of that very policy.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::engine::policy::hpa::{HpaController, MAX_SHADOWS};
use crate::engine::replay::{
    initial_replicas, replay_score, replay_score_checked, replay_score_every_sync, Checked,
    LatencyMemo, Progress, ReplayInput, ReplaySummary,
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
    /// Replay steps run over all candidates (a rejected one counts the steps it ran): with
    /// candidates x input steps, the share of the work early rejection left.
    pub steps: AtomicU64,
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
    /// Check the input once for the search rather than per candidate, and replay HPA
    /// candidates that differ only in rate-limit policies and minimum together while they
    /// decide alike (exact: one that would decide differently is replayed again on its own;
    /// see `HpaController::share`). Off: the previous search, the baseline. Needs
    /// `fast_forward`.
    pub share: bool,
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
    // The input is checked once for the search (none: each replay says what is wrong).
    let checked = Checked::new(setup.input, setup.cap)
        .ok()
        .filter(|_| setup.share && setup.fast_forward);
    let items = if checked.is_some() {
        share_groups(candidates, &order)
    } else {
        order.iter().map(|&i| vec![i]).collect()
    };
    let next = AtomicUsize::new(0);
    let threads = setup.threads.clamp(1, items.len().max(1));
    let mut results: Vec<(usize, Outcome)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    let mut memo = LatencyMemo::new(setup.input, setup.cap);
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(k) else { break };
                        if control.cancel.load(Ordering::Relaxed) {
                            mine.extend(item.iter().map(|&i| (i, Outcome::Skipped)));
                            continue;
                        }
                        let run = Run {
                            setup,
                            checked,
                            done,
                            bounds,
                            control,
                        };
                        match item.as_slice() {
                            [i] => {
                                let outcome = run_one(&candidates[*i], &run, &mut memo);
                                control.done.fetch_add(1, Ordering::Relaxed);
                                mine.push((*i, outcome));
                            }
                            group => run_shared(candidates, group, &run, &mut memo, &mut mine),
                        }
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

/// What every replay of a batch shares.
struct Run<'r, 'a> {
    setup: &'r SearchSetup<'a>,
    /// The input, checked once (None: it is not usable; each replay says why).
    checked: Option<Checked<'r, 'a>>,
    done: &'r Finished,
    bounds: &'r Bounds,
    control: &'r SearchControl,
}

fn run_one(c: &Candidate, run: &Run, memo: &mut LatencyMemo) -> Outcome {
    let (setup, done, bounds, control) = (run.setup, run.done, run.bounds, run.control);
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
    let mut ran = 0usize;
    let mut stop = |p: &Progress| {
        ran = p.steps;
        control.cancel.load(Ordering::Relaxed)
            || (setup.prune && bounds.reject(p, min, fam, setup.slo, done))
    };
    let (input, cap, slo) = (setup.input, setup.cap, setup.slo);
    let scored = match (&mut hpa, &mut boxed) {
        (Some(h), _) => match run.checked {
            Some(ch) => replay_score_checked(h, ch, slo, Some(memo), &mut [], &mut stop),
            None => replay_score(h, input, cap, slo, None, Some(memo), &mut stop),
        },
        (None, Some(p)) if setup.fast_forward => match run.checked {
            Some(ch) => replay_score_checked(p.as_mut(), ch, slo, Some(memo), &mut [], &mut stop),
            None => replay_score(p.as_mut(), input, cap, slo, None, Some(memo), &mut stop),
        },
        (None, Some(p)) => {
            replay_score_every_sync(p.as_mut(), input, cap, slo, None, Some(memo), &mut stop)
        }
        (None, None) => return Outcome::Failed("no policy".into()),
    };
    if let Ok(Some(s)) = &scored {
        ran = s.steps;
    }
    control.steps.fetch_add(ran as u64, Ordering::Relaxed);
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

/// Work items: HPA candidates that may share a replay (the same document but for rate-limit
/// policies and minimum) together, at most [`MAX_SHADOWS`] + 1 to an item, in the order of
/// their first member; every other candidate alone.
fn share_groups(candidates: &[Candidate], order: &[usize]) -> Vec<Vec<usize>> {
    let mut items: Vec<Vec<usize>> = Vec::new();
    let mut open: std::collections::HashMap<String, usize> = Default::default();
    for &i in order {
        let Some(key) = share_key(&candidates[i]) else {
            items.push(vec![i]);
            continue;
        };
        match open.get(&key) {
            Some(&k) if items[k].len() <= MAX_SHADOWS => items[k].push(i),
            _ => {
                open.insert(key, items.len());
                items.push(vec![i]);
            }
        }
    }
    items
}

/// An HPA document without what a shared replay lets differ. Equal keys are a hint only: the
/// controllers decide (`HpaController::can_share`).
fn share_key(c: &Candidate) -> Option<String> {
    let PolicyDoc::Hpa(_) = &c.doc else {
        return None;
    };
    let mut v = c.doc.to_value();
    let spec = v.get_mut("spec")?.as_object_mut()?;
    spec.remove("minReplicas");
    if let Some(b) = spec.get_mut("behavior").and_then(|b| b.as_object_mut()) {
        for dir in ["scaleUp", "scaleDown"] {
            if let Some(r) = b.get_mut(dir).and_then(|r| r.as_object_mut()) {
                r.remove("policies");
                r.remove("selectPolicy");
            }
        }
    }
    Some(format!("{:?}|{v}", family(c)))
}

/// Replays a group of HPA candidates that may share: the first carries the others as shadows
/// (those whose first desired count is its own); whatever diverged, or could not join, runs
/// again the same way, until none is left. A shadow that followed to the end has the
/// carrier's figures but for the waste, which the replay computes at its minimum.
fn run_shared(
    candidates: &[Candidate],
    group: &[usize],
    run: &Run,
    memo: &mut LatencyMemo,
    out: &mut Vec<(usize, Outcome)>,
) {
    let (setup, control, done) = (run.setup, run.control, run.done);
    let finish = |i: usize, o: Outcome, out: &mut Vec<(usize, Outcome)>| {
        control.done.fetch_add(1, Ordering::Relaxed);
        out.push((i, o));
    };
    let Some(checked) = run.checked else {
        for &i in group {
            let o = run_one(&candidates[i], run, memo);
            finish(i, o, out);
        }
        return;
    };
    let mut pending: Vec<(usize, HpaController)> = Vec::new();
    for &i in group {
        match candidates[i].doc.hpa_controller() {
            Some(Ok(h)) => pending.push((i, h)),
            Some(Err(e)) => finish(i, Outcome::Failed(e.to_string()), out),
            None => {
                let o = run_one(&candidates[i], run, memo);
                finish(i, o, out);
            }
        }
    }
    let (input, cap, slo) = (setup.input, setup.cap, setup.slo);
    while !pending.is_empty() {
        if control.cancel.load(Ordering::Relaxed) {
            for (i, _) in pending.drain(..) {
                finish(i, Outcome::Skipped, out);
            }
            break;
        }
        let (lead_i, mut lead) = pending.remove(0);
        let target = lead.target_utilization();
        let (lead_min, max) = lead.bounds();
        let start = initial_replicas(input, cap, target, (lead_min, max), None);
        let mut shadows: Vec<(usize, HpaController)> = Vec::new();
        let mut rest: Vec<(usize, HpaController)> = Vec::new();
        for (i, h) in pending.drain(..) {
            let m = h.bounds().0;
            if initial_replicas(input, cap, target, (m, max), None) == start && lead.share(&h.hpa) {
                shadows.push((i, h));
            } else {
                rest.push((i, h));
            }
        }
        let fam = family(&candidates[lead_i]);
        // Never fewer than min replicas (see run_one); one floor per member, the lead first.
        let floors: Vec<u32> = std::iter::once((lead_i, lead_min))
            .chain(shadows.iter().map(|(i, h)| (*i, h.bounds().0)))
            .map(|(i, m)| floor_replicas(&candidates[i].doc, m))
            .collect();
        let mut rejected = vec![false; floors.len()];
        let mut ran = 0usize;
        let mut stop = |p: &Progress| {
            ran = p.steps;
            if control.cancel.load(Ordering::Relaxed) {
                return true;
            }
            if !setup.prune {
                return false;
            }
            // Stop when every member this replay still serves is rejected.
            let mut all = true;
            for (k, r) in rejected.iter_mut().enumerate() {
                let serves = k == 0 || p.diverged & (1u64 << (k - 1)) == 0;
                if !serves || *r {
                    continue;
                }
                if run.bounds.reject(p, floors[k], fam, setup.slo, done) {
                    *r = true;
                } else {
                    all = false;
                }
            }
            all
        };
        let mut wasted: Vec<(u32, f64)> =
            shadows.iter().map(|(_, h)| (h.bounds().0, 0.0)).collect();
        let scored =
            replay_score_checked(&mut lead, checked, slo, Some(memo), &mut wasted, &mut stop);
        let diverged = lead.diverged();
        if let Ok(Some(s)) = &scored {
            ran = s.steps;
        }
        control.steps.fetch_add(ran as u64, Ordering::Relaxed);
        let cancelled = control.cancel.load(Ordering::Relaxed);
        match scored {
            Ok(Some(s)) => {
                for (k, (i, h)) in shadows.into_iter().enumerate() {
                    if diverged & (1u64 << k) != 0 {
                        rest.push((i, h));
                        continue;
                    }
                    let mut own = s.clone();
                    own.wasted_replica_hours = wasted[k].1;
                    done.add(fam, &own, slo);
                    finish(i, Outcome::Done(own), out);
                }
                done.add(fam, &s, slo);
                finish(lead_i, Outcome::Done(s), out);
            }
            Ok(None) => {
                let o = || {
                    if cancelled {
                        Outcome::Skipped
                    } else {
                        Outcome::Rejected
                    }
                };
                for (k, (i, h)) in shadows.into_iter().enumerate() {
                    if diverged & (1u64 << k) != 0 && !cancelled {
                        rest.push((i, h));
                    } else {
                        finish(i, o(), out);
                    }
                }
                finish(lead_i, o(), out);
            }
            Err(e) => {
                // Refused before its first step (a missing series): every member alike.
                for (i, _) in shadows {
                    finish(i, Outcome::Failed(e.to_string()), out);
                }
                finish(lead_i, Outcome::Failed(e.to_string()), out);
            }
        }
        pending = rest;
    }
}

#[cfg(test)]
mod tests;

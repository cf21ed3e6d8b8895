//! Exact early rejection for the search: what a candidate's replay must still cost and may
//! still violate, from its figures so far and the input alone, against the candidates that
//! finished. A rejected candidate could have been neither recommended (nor the best of its
//! kind or schedule variant) nor on the thrash-free Pareto front, whatever its remaining steps
//! do; nor the best reachable when nothing keeps the Slo.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::engine::replay::{
    sla_floor, Progress, ReplayInput, ReplaySummary, PROGRESS_EVERY_STEPS,
};
use crate::model::{CapacityModel, Slo};

use super::space::Candidate;
use super::verdict::{eligible, sla_budget_minutes};
use super::PolicyKind;

/// Candidates compared for "best of": the recommendation, each kind's best, and the schedule
/// check's best with and without the proposed actions.
pub type Family = (PolicyKind, bool);

pub fn family(c: &Candidate) -> Family {
    let scheduled = c
        .settings
        .iter()
        .any(|(k, v)| k == "ScheduledActions" && v == "proposed");
    (c.kind, scheduled)
}

/// Finished candidates the running ones are measured against.
#[derive(Default)]
pub struct Finished {
    /// Thrash-free finished candidates, (replica-hours, SLA minutes), mutually non-dominated,
    /// by SLA minutes ascending (so replica-hours descending): the front's staircase.
    front: RwLock<Vec<(f64, f64)>>,
    /// Fewest replica-hours of a finished eligible candidate, per family.
    best: RwLock<HashMap<Family, f64>>,
}

impl Finished {
    pub fn add(&self, fam: Family, s: &ReplaySummary, slo: &Slo) {
        let (rh, sla) = (s.replica_hours, s.sla_violation_minutes);
        if s.thrash_events == 0 {
            if let Ok(mut v) = self.front.write() {
                if !v.iter().any(|&(r, q)| r <= rh && q <= sla) {
                    v.retain(|&(r, q)| !(rh <= r && sla <= q));
                    let at = v.partition_point(|&(_, q)| q < sla);
                    v.insert(at, (rh, sla));
                }
            }
        }
        if eligible(s, slo) {
            if let Ok(mut b) = self.best.write() {
                let e = b.entry(fam).or_insert(f64::INFINITY);
                *e = e.min(rh);
            }
        }
    }
}

/// The suffix of the per-step SLA floor from one progress check on: distinct floors,
/// highest first, with running counts and sums, so "the j largest" is a binary search.
#[derive(Debug, Default)]
struct Suffix {
    floors: Vec<u32>,
    /// Steps with a floor of at least floors[i].
    count: Vec<u64>,
    /// Sum of those steps' floors.
    sum: Vec<f64>,
}

impl Suffix {
    fn new(mut hist: Vec<(u32, u64)>) -> Self {
        hist.sort_unstable_by_key(|h| std::cmp::Reverse(h.0));
        let mut s = Suffix::default();
        let (mut c, mut t) = (0u64, 0f64);
        for (f, n) in hist {
            c += n;
            t += f64::from(f) * n as f64;
            s.floors.push(f);
            s.count.push(c);
            s.sum.push(t);
        }
        s
    }

    /// Sum over the `j` steps of largest floor of (floor - min), counting only floors above
    /// `min` (a step never costs less than `min`).
    fn top_gain(&self, j: u64, min: u32) -> f64 {
        let above = self.floors.partition_point(|&f| f > min);
        let have = if above == 0 { 0 } else { self.count[above - 1] };
        let j = j.min(have);
        if j == 0 {
            return 0.0;
        }
        let b = self.count.partition_point(|&c| c < j);
        let (c0, s0) = if b == 0 {
            (0, 0.0)
        } else {
            (self.count[b - 1], self.sum[b - 1])
        };
        s0 + (j - c0) as f64 * f64::from(self.floors[b]) - j as f64 * f64::from(min)
    }

    /// Sum over all remaining steps of (floor - min) where positive.
    fn total_gain(&self, min: u32) -> f64 {
        self.top_gain(u64::MAX, min)
    }
}

/// Relative margin on cost comparisons: the bound and the replay add in different orders.
const COST_MARGIN: f64 = 1e-9;

/// What any replay of this input must still cost and may still violate. A step that is not
/// an SLA-violation minute has at least its SLA floor of replicas ready (a pure function of
/// the step's demand); every step has at least the policy's minimum. So with j more violating
/// steps, a candidate's final replica-hours are at least its hours so far plus the minimum on
/// every remaining step plus the floor's excess over the minimum on all but the j steps where
/// that excess is largest, and its SLA minutes are exactly its minutes so far plus j steps'.
/// A candidate is rejected when, for every j:
/// - it cannot be eligible (SLA budget, availability, time to scale, thrash already lost), or
///   a finished eligible candidate of its family costs less even at its fewest violations
///   allowed by the budget; and
/// - it cannot be on the thrash-free front: it thrashes already (and a finished thrash-free
///   candidate has no more SLA minutes, so it is not the best reachable either), or for every
///   j a finished thrash-free candidate costs less with no more SLA minutes.
pub struct Bounds {
    steps: usize,
    step_hours: f64,
    step_minutes: f64,
    budget_minutes: f64,
    requests: f64,
    price: f64,
    /// Suffix from step k x PROGRESS_EVERY_STEPS on, at index k.
    suffix: Vec<Suffix>,
}

/// Distinct SLA floors the suffix tables may hold in all (memory bound; beyond it only the
/// policies' minimums bound the cost).
const MAX_SUFFIX_ENTRIES: usize = 4_000_000;

impl Bounds {
    /// `limit`: the most replicas any candidate may run.
    pub fn new(
        input: &ReplayInput,
        cap: &CapacityModel,
        slo: &Slo,
        prune: bool,
        limit: u32,
    ) -> Self {
        let n = input.demand_rps.len();
        let step_hours = input.step_seconds as f64 / 3600.0;
        let duration = ReplaySummary {
            duration_hours: n as f64 * step_hours,
            ..Default::default()
        };
        // The replay's own sum, in its order.
        let mut held = input
            .demand_rps
            .iter()
            .copied()
            .find(|v| !v.is_nan())
            .unwrap_or(0.0);
        let mut requests = 0.0;
        for &raw in input.demand_rps {
            if !raw.is_nan() {
                held = raw;
            }
            requests += held * input.step_seconds as f64;
        }
        let mut b = Bounds {
            steps: n,
            step_hours,
            step_minutes: input.step_seconds as f64 / 60.0,
            budget_minutes: sla_budget_minutes(&duration, slo),
            requests,
            price: cap.usd_per_replica_hour,
            suffix: Vec::new(),
        };
        let priced = b.price > 0.0;
        if !prune || !priced {
            return b;
        }
        let floors = sla_floor(input, cap, slo, limit);
        let mut hist: std::collections::BTreeMap<u32, u64> = Default::default();
        let mut suffix = Vec::new();
        let mut entries = 0usize;
        for t in (0..n).rev() {
            *hist.entry(floors[t]).or_default() += 1;
            if t % PROGRESS_EVERY_STEPS == 0 {
                entries += hist.len();
                if entries > MAX_SUFFIX_ENTRIES {
                    return b;
                }
                suffix.push(Suffix::new(hist.iter().map(|(&f, &c)| (f, c)).collect()));
            }
        }
        suffix.reverse();
        b.suffix = suffix;
        b
    }

    /// Fewest replica-hours the candidate can end with if `j` more steps violate.
    pub fn least_hours(&self, p: &Progress, min: u32, j: u64) -> f64 {
        let left = self.steps.saturating_sub(p.steps);
        let mut extra = f64::from(min) * left as f64;
        if let Some(s) = self.suffix.get(p.steps / PROGRESS_EVERY_STEPS) {
            if p.steps % PROGRESS_EVERY_STEPS == 0 {
                extra += s.total_gain(min) - s.top_gain(j, min);
            }
        }
        (p.replica_hours + extra * self.step_hours) * (1.0 - COST_MARGIN)
    }

    /// Steps that may still violate before the SLA minutes reach `level`.
    fn steps_below(&self, p: &Progress, level: f64) -> i64 {
        ((level - p.sla_violation_minutes) / self.step_minutes - 1e-9).ceil() as i64
    }

    fn cannot_be_eligible(&self, p: &Progress, slo: &Slo) -> bool {
        p.sla_violation_minutes > self.budget_minutes + 1e-9
            || p.thrash_pairs > 0
            || p.max_time_to_scale_seconds
                .is_some_and(|t| t > i64::from(slo.max_time_to_scale_seconds))
            || (self.requests > 0.0
                && 1.0 - p.dropped_requests / self.requests * (1.0 - COST_MARGIN) + 1e-12
                    < slo.availability)
    }

    pub fn reject(&self, p: &Progress, min: u32, fam: Family, slo: &Slo, done: &Finished) -> bool {
        let left = self.steps.saturating_sub(p.steps) as i64;
        let cost_bounds = self.price > 0.0;
        // Not the best of its family (hence not recommended).
        let not_best = self.cannot_be_eligible(p, slo)
            || (cost_bounds
                && done.best.read().is_ok_and(|b| {
                    b.get(&fam).is_some_and(|&best| {
                        let allowed = (((self.budget_minutes + 1e-9 - p.sla_violation_minutes)
                            / self.step_minutes)
                            .floor() as i64)
                            .clamp(0, left);
                        self.least_hours(p, min, allowed as u64) > best
                    })
                }));
        if !not_best {
            return false;
        }
        let Ok(front) = done.front.read() else {
            return false;
        };
        if p.thrash_pairs > 0 {
            return front
                .first()
                .is_some_and(|&(_, q)| q <= p.sla_violation_minutes);
        }
        if !cost_bounds || front.is_empty() {
            return false;
        }
        // Staircase by SLA minutes: with j more violating steps the dominating point is the
        // cheapest with SLA minutes at most the candidate's; within one stair the candidate's
        // bound falls as j grows, so its last j is the one to check.
        if self.steps_below(p, front[0].1) > 0 {
            return false;
        }
        for (i, &(rh, _)) in front.iter().enumerate() {
            let first = self.steps_below(p, front[i].1).max(0);
            let last = front
                .get(i + 1)
                .map_or(left, |&(_, q)| self.steps_below(p, q) - 1)
                .min(left);
            if first > last {
                continue;
            }
            if self.least_hours(p, min, last as u64) <= rh {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests;

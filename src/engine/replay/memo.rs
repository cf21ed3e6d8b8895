//! Per-step latency memo for a search: thousands of candidates replay the same demand, so the
//! latency of step `i` with `r` ready replicas is asked for again and again. The memo keeps,
//! per step, the answers for a few ready counts (direct-mapped by the count's low bits) and
//! asks the thread's [`super::step_latency`] on a miss: the values are that function's, so a
//! replay through the memo gives exactly the figures of one without it.

use super::ReplayInput;
use crate::model::CapacityModel;

/// Ready counts remembered per step (a power of two: the slot is `ready & (WAYS - 1)`).
const WAYS: usize = 8;

#[derive(Debug, Clone, Copy)]
struct Slot {
    /// u32::MAX: empty.
    ready: u32,
    p95_ms: f64,
    dropped_rps: f64,
}

const EMPTY: Slot = Slot {
    ready: u32::MAX,
    p95_ms: 0.0,
    dropped_rps: 0.0,
};

/// The latency model's inputs besides demand and ready count.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Model {
    concurrency: u32,
    service_time_ms: u64,
    timeout_ms: u64,
}

impl Model {
    fn of(cap: &CapacityModel) -> Model {
        Model {
            concurrency: cap.concurrency_per_replica,
            service_time_ms: cap.service_time_ms().to_bits(),
            timeout_ms: cap.timeout_ms.to_bits(),
        }
    }
}

/// One worker's memo for one input; see the module doc. It borrows the input's demand, so
/// that demand cannot change while the memo's answers stand.
#[derive(Debug)]
pub struct LatencyMemo<'a> {
    demand: &'a [f64],
    model: Model,
    slots: Vec<Slot>,
    hits: u64,
    misses: u64,
}

impl<'a> LatencyMemo<'a> {
    pub fn new(input: &ReplayInput<'a>, cap: &CapacityModel) -> Self {
        LatencyMemo {
            demand: input.demand_rps,
            model: Model::of(cap),
            slots: vec![EMPTY; input.demand_rps.len() * WAYS],
            hits: 0,
            misses: 0,
        }
    }

    /// Whether the memo answers for this replay: the very same demand and latency model.
    pub(super) fn fits(&self, input: &ReplayInput, cap: &CapacityModel) -> bool {
        std::ptr::eq(self.demand, input.demand_rps) && self.model == Model::of(cap)
    }

    /// (p95 ms, dropped rps) of step `step` with `demand` on `ready` replicas.
    #[inline]
    pub(super) fn get(
        &mut self,
        step: usize,
        demand: f64,
        ready: u32,
        cap: &CapacityModel,
    ) -> (f64, f64) {
        let at = step * WAYS + (ready as usize & (WAYS - 1));
        match self.slots.get_mut(at) {
            Some(s) if s.ready == ready => {
                self.hits += 1;
                (s.p95_ms, s.dropped_rps)
            }
            slot => {
                self.misses += 1;
                let l = super::step_latency(demand, ready, cap);
                if let Some(s) = slot {
                    *s = Slot {
                        ready,
                        p95_ms: l.p95_ms,
                        dropped_rps: l.dropped_rps,
                    };
                }
                (l.p95_ms, l.dropped_rps)
            }
        }
    }

    /// (hits, misses) so far, to see whether the memo pays.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }
}

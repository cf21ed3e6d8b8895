//! The app-state store, owned by the UI task: fixed-step ring buffers per (group, metric), the
//! scaling-event log, source health. Missing data is NaN inside and `None` outside, never zero.

use std::collections::{BTreeMap, HashMap, VecDeque};

use chrono::{DateTime, Utc};

use crate::engine::events::{mark_thrash, DEFAULT_THRASH_WINDOW_SECONDS};
use crate::model::{GroupId, GroupInfo, MetricKind, PolicyModel, ScalingEvent};
use crate::sources::{SourceHealth, Update};

/// A fixed-step series of f32 with implicit timestamps: slot k holds the value at
/// `(first_slot + k) * step_seconds`. Gaps are NaN.
#[derive(Debug, Clone)]
pub struct SeriesRing {
    step_seconds: i64,
    capacity: usize,
    values: VecDeque<f32>,
    /// Slot number (timestamp / step) of `values[0]`.
    first_slot: i64,
}

impl SeriesRing {
    pub fn new(step_seconds: i64, capacity: usize) -> Self {
        Self {
            step_seconds: step_seconds.max(1),
            capacity: capacity.max(1),
            values: VecDeque::with_capacity(capacity.max(1)),
            first_slot: 0,
        }
    }

    pub fn step_seconds(&self) -> i64 {
        self.step_seconds
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    fn last_slot(&self) -> i64 {
        self.first_slot + self.values.len() as i64 - 1
    }

    /// Timestamp (Unix seconds) of the newest slot.
    pub fn newest_timestamp(&self) -> Option<i64> {
        (!self.values.is_empty()).then(|| self.last_slot() * self.step_seconds)
    }

    /// Stores `value` at `timestamp` (Unix seconds), rounded down to the step. Later slots
    /// skipped over become NaN; a value older than the window is dropped.
    pub fn push(&mut self, timestamp: i64, value: f64) {
        let slot = timestamp.div_euclid(self.step_seconds);
        let v = value as f32;
        if self.values.is_empty() {
            self.first_slot = slot;
            self.values.push_back(v);
            return;
        }
        let last = self.last_slot();
        if slot > last {
            let gap = (slot - last - 1) as usize;
            if gap >= self.capacity {
                // Everything we hold is outside the window now.
                self.values.clear();
                self.first_slot = slot;
                self.values.push_back(v);
                return;
            }
            for _ in 0..gap {
                self.push_back_bounded(f32::NAN);
            }
            self.push_back_bounded(v);
        } else if slot >= self.first_slot {
            self.values[(slot - self.first_slot) as usize] = v;
        }
    }

    fn push_back_bounded(&mut self, v: f32) {
        if self.values.len() == self.capacity {
            self.values.pop_front();
            self.first_slot += 1;
        }
        self.values.push_back(v);
    }

    /// The newest value, `None` when the newest slot is a gap.
    pub fn latest(&self) -> Option<f64> {
        self.values.back().copied().and_then(present)
    }

    /// Value at a timestamp, `None` for gaps and outside the window.
    pub fn at(&self, timestamp: i64) -> Option<f64> {
        let slot = timestamp.div_euclid(self.step_seconds);
        if self.values.is_empty() || slot < self.first_slot || slot > self.last_slot() {
            return None;
        }
        present(self.values[(slot - self.first_slot) as usize])
    }

    /// `count` slots ending at `end_timestamp` (inclusive), oldest first; `None` where missing.
    pub fn window(&self, end_timestamp: i64, count: usize) -> Vec<Option<f64>> {
        let end_slot = end_timestamp.div_euclid(self.step_seconds);
        (0..count as i64)
            .map(|i| end_slot - (count as i64 - 1) + i)
            .map(|slot| {
                if self.values.is_empty() || slot < self.first_slot || slot > self.last_slot() {
                    None
                } else {
                    present(self.values[(slot - self.first_slot) as usize])
                }
            })
            .collect()
    }
}

fn present(v: f32) -> Option<f64> {
    (!v.is_nan()).then_some(f64::from(v))
}

/// Maximum scaling events kept in memory.
const EVENT_LOG_CAPACITY: usize = 20_000;

#[derive(Debug)]
pub struct Store {
    step_seconds: i64,
    capacity: usize,
    groups: Vec<GroupInfo>,
    index: HashMap<GroupId, usize>,
    series: HashMap<(usize, MetricKind), SeriesRing>,
    events: VecDeque<ScalingEvent>,
    health: BTreeMap<String, SourceHealth>,
    /// Time of the newest sample (simulated time for the simulator).
    now: Option<DateTime<Utc>>,
    /// Bumped on every change; the UI redraws when it moves.
    generation: u64,
}

impl Store {
    /// A store keeping `capacity` slots of `step_seconds` per series.
    pub fn new(step_seconds: i64, capacity: usize) -> Self {
        Self {
            step_seconds,
            capacity,
            groups: Vec::new(),
            index: HashMap::new(),
            series: HashMap::new(),
            events: VecDeque::new(),
            health: BTreeMap::new(),
            now: None,
            generation: 0,
        }
    }

    pub fn step_seconds(&self) -> i64 {
        self.step_seconds
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn now(&self) -> Option<DateTime<Utc>> {
        self.now
    }

    pub fn groups(&self) -> &[GroupInfo] {
        &self.groups
    }

    pub fn group_index(&self, id: &GroupId) -> Option<usize> {
        self.index.get(id).copied()
    }

    pub fn series(&self, group: usize, metric: MetricKind) -> Option<&SeriesRing> {
        self.series.get(&(group, metric))
    }

    /// Newest value of a metric of a group, `None` if missing.
    pub fn latest(&self, group: usize, metric: MetricKind) -> Option<f64> {
        self.series(group, metric).and_then(SeriesRing::latest)
    }

    pub fn events(&self) -> &VecDeque<ScalingEvent> {
        &self.events
    }

    pub fn health(&self) -> impl Iterator<Item = &SourceHealth> {
        self.health.values()
    }

    fn ensure_group(&mut self, id: &GroupId) -> usize {
        if let Some(&i) = self.index.get(id) {
            return i;
        }
        let i = self.groups.len();
        self.groups.push(GroupInfo::new(id.clone()));
        self.index.insert(id.clone(), i);
        i
    }

    /// Applies one update from a source.
    pub fn apply(&mut self, update: Update) {
        self.generation += 1;
        match update {
            Update::Group(info) => {
                let i = self.ensure_group(&info.id);
                self.groups[i] = *info;
            }
            Update::Samples { at, samples } => {
                let ts = at.timestamp();
                for s in samples {
                    let g = self.ensure_group(&s.group);
                    let (step, cap) = (self.step_seconds, self.capacity);
                    self.series
                        .entry((g, s.metric))
                        .or_insert_with(|| SeriesRing::new(step, cap))
                        .push(ts, s.value);
                }
                if self.now.is_none_or(|n| at > n) {
                    self.now = Some(at);
                }
            }
            Update::Event(event) => self.push_event(event),
            Update::Health(h) => {
                self.health.insert(h.source.clone(), h);
            }
        }
    }

    fn push_event(&mut self, mut event: ScalingEvent) {
        let tolerance = self
            .group_index(&event.group)
            .and_then(|i| self.groups[i].policy.as_ref())
            .map(|p| match &p.model {
                PolicyModel::TargetTracking(t) => t.tolerance,
                _ => 0.1,
            })
            .unwrap_or(0.1);
        // Thrash is judged against this group's previous event.
        if let Some(prev) = self
            .events
            .iter_mut()
            .rev()
            .find(|e| e.group == event.group)
        {
            let mut pair = [prev.clone(), event.clone()];
            if mark_thrash(&mut pair, DEFAULT_THRASH_WINDOW_SECONDS, tolerance) > 0 {
                prev.thrash = true;
                event.thrash = true;
            }
        }
        if self.events.len() == EVENT_LOG_CAPACITY {
            self.events.pop_front();
        }
        self.events.push_back(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_wraps_and_keeps_newest() {
        let mut r = SeriesRing::new(60, 3);
        for (i, v) in [1.0, 2.0, 3.0, 4.0].into_iter().enumerate() {
            r.push(i as i64 * 60, v);
        }
        assert_eq!(r.len(), 3);
        assert_eq!(r.window(180, 3), vec![Some(2.0), Some(3.0), Some(4.0)]);
        assert_eq!(r.at(0), None, "oldest slot fell out of the window");
    }

    #[test]
    fn gaps_stay_missing_not_zero() {
        let mut r = SeriesRing::new(60, 10);
        r.push(0, 5.0);
        r.push(180, 7.0);
        assert_eq!(r.window(180, 4), vec![Some(5.0), None, None, Some(7.0)]);
        r.push(240, f64::NAN);
        assert_eq!(r.latest(), None);
        assert_eq!(
            r.window(600, 2),
            vec![None, None],
            "future slots are missing"
        );
    }

    #[test]
    fn late_sample_fills_its_slot_and_long_gap_resets() {
        let mut r = SeriesRing::new(60, 5);
        r.push(0, 1.0);
        r.push(240, 5.0);
        r.push(120, 3.0);
        assert_eq!(r.at(120), Some(3.0));
        r.push(60 * 100, 9.0);
        assert_eq!(r.len(), 1);
        assert_eq!(r.latest(), Some(9.0));
    }
}

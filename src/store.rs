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

/// Long-term tier bucket width: 5 minutes.
pub const LONG_BUCKET_SECONDS: i64 = 300;
/// Long-term tier depth: 8,192 five-minute buckets, 28.4 days (a 28-day backfill and some
/// slack; a power of two so the buffers' doubling growth ends exactly at the depth).
pub const LONG_BUCKETS: usize = 8_192;

/// One long-term bucket: mean and max of the values that fell in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub mean: f64,
    pub max: f64,
    /// Values averaged (saturates at `u16::MAX`, after which new values barely move the mean).
    pub count: u16,
}

/// The long-term tier of one series: fixed-width buckets with the mean and max of every value
/// pushed into them, so weeks of history fit where the fine ring holds a day. 10 bytes per
/// bucket (mean and max as f32, count as u16); empty buckets are gaps (NaN, count 0).
#[derive(Debug, Clone)]
pub struct LongRing {
    bucket_seconds: i64,
    capacity: usize,
    mean: VecDeque<f32>,
    max: VecDeque<f32>,
    count: VecDeque<u16>,
    /// Bucket number (timestamp / bucket_seconds) of the first bucket.
    first: i64,
}

impl LongRing {
    pub fn new(bucket_seconds: i64, capacity: usize) -> Self {
        Self {
            bucket_seconds: bucket_seconds.max(1),
            capacity: capacity.max(1),
            mean: VecDeque::new(),
            max: VecDeque::new(),
            count: VecDeque::new(),
            first: 0,
        }
    }

    pub fn bucket_seconds(&self) -> i64 {
        self.bucket_seconds
    }

    pub fn len(&self) -> usize {
        self.mean.len()
    }

    pub fn is_empty(&self) -> bool {
        self.mean.is_empty()
    }

    /// Start time (Unix seconds) of the oldest and newest buckets held.
    pub fn span(&self) -> Option<(i64, i64)> {
        (!self.mean.is_empty()).then(|| {
            (
                self.first * self.bucket_seconds,
                (self.first + self.mean.len() as i64 - 1) * self.bucket_seconds,
            )
        })
    }

    fn push_gap(&mut self) {
        if self.mean.len() == self.capacity {
            self.mean.pop_front();
            self.max.pop_front();
            self.count.pop_front();
            self.first += 1;
        }
        self.mean.push_back(f32::NAN);
        self.max.push_back(f32::NAN);
        self.count.push_back(0);
    }

    /// Adds a value at `timestamp` to its bucket. NaN is missing and adds nothing; a value
    /// older than the tier is dropped.
    pub fn push(&mut self, timestamp: i64, value: f64) {
        if value.is_nan() {
            return;
        }
        let b = timestamp.div_euclid(self.bucket_seconds);
        if self.mean.is_empty() {
            self.first = b;
            self.push_gap();
        }
        let last = self.first + self.mean.len() as i64 - 1;
        if b > last {
            if (b - last) as usize >= self.capacity {
                self.mean.clear();
                self.max.clear();
                self.count.clear();
                self.first = b;
                self.push_gap();
            } else {
                for _ in last..b {
                    self.push_gap();
                }
            }
        } else if b < self.first {
            return;
        }
        let i = (b - self.first) as usize;
        let n = self.count[i];
        let v = value as f32;
        if n == 0 {
            self.mean[i] = v;
            self.max[i] = v;
        } else {
            // Running mean in f64 so many small steps do not drift.
            let m = f64::from(self.mean[i]);
            self.mean[i] = (m + (value - m) / (f64::from(n) + 1.0)) as f32;
            self.max[i] = self.max[i].max(v);
        }
        self.count[i] = n.saturating_add(1);
    }

    /// The bucket holding `timestamp`; `None` for gaps and outside the tier.
    pub fn at(&self, timestamp: i64) -> Option<Bucket> {
        let b = timestamp.div_euclid(self.bucket_seconds);
        if b < self.first || b >= self.first + self.mean.len() as i64 {
            return None;
        }
        let i = (b - self.first) as usize;
        (self.count[i] > 0).then(|| Bucket {
            mean: f64::from(self.mean[i]),
            max: f64::from(self.max[i]),
            count: self.count[i],
        })
    }

    /// `count` buckets ending with the one holding `end_timestamp`, oldest first.
    pub fn window(&self, end_timestamp: i64, count: usize) -> Vec<Option<Bucket>> {
        let end = end_timestamp.div_euclid(self.bucket_seconds);
        (0..count as i64)
            .map(|k| self.at((end - (count as i64 - 1) + k) * self.bucket_seconds))
            .collect()
    }

    /// Heap bytes of the values held (what the tier costs per bucket, without slack).
    pub fn value_bytes(&self) -> usize {
        self.mean.len() * (2 * std::mem::size_of::<f32>() + std::mem::size_of::<u16>())
    }
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
    /// Long-term tier per series, fed by the same samples.
    long: HashMap<(usize, MetricKind), LongRing>,
    long_bucket_seconds: i64,
    long_buckets: usize,
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
            long: HashMap::new(),
            long_bucket_seconds: LONG_BUCKET_SECONDS,
            long_buckets: LONG_BUCKETS,
            events: VecDeque::new(),
            health: BTreeMap::new(),
            now: None,
            generation: 0,
        }
    }

    pub fn step_seconds(&self) -> i64 {
        self.step_seconds
    }

    /// Changes the long-term tier's bucket width and depth (before any sample arrives).
    pub fn with_long_tier(mut self, bucket_seconds: i64, buckets: usize) -> Self {
        self.long_bucket_seconds = bucket_seconds.max(1);
        self.long_buckets = buckets;
        self.long.clear();
        self
    }

    /// Long-term (downsampled) history of a metric of a group: weeks of 5-minute mean/max.
    pub fn long_series(&self, group: usize, metric: MetricKind) -> Option<&LongRing> {
        self.long.get(&(group, metric))
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
                self.groups[i] = merge_group(&self.groups[i], *info);
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
                    if self.long_buckets > 0 && !s.value.is_nan() {
                        let (width, depth) = (self.long_bucket_seconds, self.long_buckets);
                        self.long
                            .entry((g, s.metric))
                            .or_insert_with(|| LongRing::new(width, depth))
                            .push(ts, s.value);
                    }
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

/// A new description of a group replaces the old one, except that a policy of higher
/// provenance (platform API > policy file > inferred > simulator) is never displaced by a
/// lower one, and fields the new description does not know are kept. Several sources describe
/// one group: Prometheus labels give the instance type, the Kubernetes API the live HPA.
fn merge_group(old: &GroupInfo, mut new: GroupInfo) -> GroupInfo {
    let keep_old_policy = match (&old.policy, &new.policy) {
        (Some(_), None) => true,
        (Some(o), Some(n)) => o.provenance < n.provenance,
        _ => false,
    };
    if keep_old_policy {
        new.policy = old.policy.clone();
    }
    if new.instance_type.is_none() {
        new.instance_type = old.instance_type.clone();
    }
    if new.capacity.is_none() {
        new.capacity = old.capacity.clone();
    }
    if new.slo.is_none() {
        new.slo = old.slo.clone();
    }
    for (k, v) in &old.labels {
        new.labels.entry(k.clone()).or_insert_with(|| v.clone());
    }
    new
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
    fn long_tier_keeps_mean_and_max_per_bucket_and_gaps_missing() {
        let mut r = LongRing::new(300, 4);
        // Bucket 0: 1, 2, 6 -> mean 3, max 6. Bucket 1: empty. Bucket 2: 5.
        for (t, v) in [(0, 1.0), (60, 2.0), (299, 6.0), (600, 5.0), (660, f64::NAN)] {
            r.push(t, v);
        }
        let b0 = r.at(10).expect("bucket 0");
        assert_eq!((b0.mean, b0.max, b0.count), (3.0, 6.0, 3));
        assert_eq!(r.at(300), None, "empty bucket is a gap");
        assert_eq!(r.at(600).map(|b| (b.mean, b.count)), Some((5.0, 1)));
        assert_eq!(r.span(), Some((0, 600)));
        // Two more buckets push bucket 0 out of a 4-bucket tier.
        r.push(1_200, 8.0);
        r.push(900, 7.0);
        assert_eq!(r.at(0), None);
        let w: Vec<Option<f64>> = r
            .window(1_200, 3)
            .iter()
            .map(|b| b.map(|b| b.mean))
            .collect();
        assert_eq!(w, vec![Some(5.0), Some(7.0), Some(8.0)]);
        r.push(100 * 300, 1.0);
        assert_eq!(r.len(), 1, "a jump past the tier starts over");
    }

    #[test]
    fn store_feeds_the_long_tier_from_the_same_samples() {
        use crate::model::Platform;
        use crate::sources::Sample;
        let id = GroupId::new(Platform::K8s, "ns", "web");
        let mut store = Store::new(15, 4);
        for k in 0..40 {
            store.apply(Update::Samples {
                at: DateTime::from_timestamp(k * 15, 0).unwrap_or_default(),
                samples: vec![Sample {
                    group: id.clone(),
                    metric: MetricKind::CpuUtilization,
                    value: k as f64,
                }],
            });
        }
        let g = store.group_index(&id).expect("group");
        let fine = store.series(g, MetricKind::CpuUtilization).expect("ring");
        assert_eq!(fine.len(), 4, "the fine ring keeps 1 minute");
        let long = store
            .long_series(g, MetricKind::CpuUtilization)
            .expect("tier");
        // 10 minutes at 15 s: buckets of values 0..=19 and 20..=39.
        assert_eq!(long.len(), 2);
        assert_eq!(long.at(0).map(|b| (b.mean, b.max)), Some((9.5, 19.0)));
        assert_eq!(long.at(300).map(|b| (b.mean, b.max)), Some((29.5, 39.0)));
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

    #[test]
    fn a_live_platform_policy_is_not_displaced_by_a_lower_provenance() {
        use crate::model::{CurrentPolicy, Platform, PolicyProvenance};
        let id = GroupId::new(Platform::K8s, "shop", "web");
        let with = |provenance, replicas| {
            let mut g = GroupInfo::new(id.clone());
            g.policy = Some(CurrentPolicy {
                model: PolicyModel::Fixed { replicas },
                provenance,
            });
            g
        };
        let mut store = Store::new(60, 100);
        store.apply(Update::Group(Box::new(with(
            PolicyProvenance::PlatformApi,
            3,
        ))));
        let mut inferred = with(PolicyProvenance::InferredFromMetrics, 9);
        inferred.instance_type = Some("m5.large".into());
        store.apply(Update::Group(Box::new(inferred)));
        let g = &store.groups()[0];
        assert_eq!(
            g.policy.as_ref().map(|p| p.provenance),
            Some(PolicyProvenance::PlatformApi)
        );
        assert_eq!(g.instance_type.as_deref(), Some("m5.large"));
        // A newer live policy replaces the old live one.
        store.apply(Update::Group(Box::new(with(
            PolicyProvenance::PlatformApi,
            5,
        ))));
        assert_eq!(
            store.groups()[0].policy.as_ref().map(|p| p.model.clone()),
            Some(PolicyModel::Fixed { replicas: 5 })
        );
    }
}

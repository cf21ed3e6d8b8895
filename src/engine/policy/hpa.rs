//! The Kubernetes HorizontalPodAutoscaler controller's arithmetic, step by step as in
//! kubernetes/kubernetes `pkg/controller/podautoscaler/replica_calculator.go`
//! (GetResourceReplicas, calcPlainMetricReplicas, getUsageRatioReplicaCount,
//! Get{Object,External}PerPodMetricReplicas; `Tolerances.isWithin`) and `horizontal.go`
//! (computeReplicasForMetrics, stabilizeRecommendationWithBehaviors,
//! convertDesiredReplicasWithBehaviorRate, calculateScale{Up,Down}Limit..., storeScaleEvent).
//!
//! Pods are modelled as identical: every ready pod reports the same value. Pods that exist but
//! are not ready (still starting) are the controller's "unready" pods; the replay reports no
//! "missing" pods (a ready pod always has metrics).

pub use super::PodCounts;
use super::{is_request_rate, Autoscaler, Decision, Observation};

use super::hpa_spec::{
    HpaMetric, ResolvedHpa, ResolvedRules, ScalingPolicyType, SelectPolicy,
    DEFAULT_SYNC_PERIOD_SECONDS,
};

/// The current value of one HPA metric, as the metrics APIs would return it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MetricValue {
    /// Resource utilization: mean usage of ready pods in percent of their request.
    UtilizationPercent(f64),
    /// Per-pod mean of ready pods (Resource AverageValue, Pods metrics).
    PerPodAverage(f64),
    /// Object or External metric total.
    Total(f64),
    /// Not available this sync (an invalid metric for the controller).
    Missing,
}

/// One metric's proposal and the arithmetic behind it. Plain data (no strings) so a sync
/// allocates nothing for it; [`HpaExplanation::lines`] words it when someone asks.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricProposal {
    /// Index into the HPA's metrics.
    pub metric: usize,
    /// usage / target, as the controller computed it (after its integer truncation).
    pub usage_ratio: Option<f64>,
    pub within_tolerance: bool,
    pub replicas: Option<u32>,
    pub note: ProposalNote,
}

/// How a proposal was reached.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProposalNote {
    /// ceil(ratio x ready pods).
    ReadyPods(u32),
    ScaleFromZero,
    /// Unready pods counted at 0 brought the ratio back inside the band (or below 1).
    UnreadyNoChange,
    /// Counting unready pods would have flipped the direction.
    UnreadyDirectionFlip,
    /// ceil(ratio x all pods) with unready pods at 0.
    WithUnready {
        counted: u32,
        unready: u32,
    },
    /// Per-pod target over a total: ceil(total / target).
    PerPodTotal {
        total: f64,
        target: f64,
    },
    Invalid(&'static str),
}

impl std::fmt::Display for ProposalNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProposalNote::ReadyPods(n) => write!(f, "x {n} ready"),
            ProposalNote::ScaleFromZero => f.write_str("(scale from zero)"),
            ProposalNote::UnreadyNoChange => f.write_str("(unready pods counted at 0: no change)"),
            ProposalNote::UnreadyDirectionFlip => {
                f.write_str("(unready pods counted at 0: direction would flip)")
            }
            ProposalNote::WithUnready { counted, unready } => {
                write!(f, "x {counted} pods, {unready} unready counted at 0")
            }
            ProposalNote::PerPodTotal { total, target } => {
                write!(f, "total {total:.1} / {target} per pod")
            }
            ProposalNote::Invalid(why) => f.write_str(why),
        }
    }
}

/// Why the controller ended where it did, for "explain this scaling event".
#[derive(Debug, Clone, PartialEq)]
pub struct HpaExplanation {
    /// The HPA's metric names, shared with the controller.
    pub metric_names: std::sync::Arc<[String]>,
    pub proposals: Vec<MetricProposal>,
    /// Largest proposal over valid metrics (before stabilization).
    pub metric_desired: Option<u32>,
    /// Lowest recommendation inside the scale-up window and highest inside the scale-down
    /// window, the bounds stabilization applied.
    pub stabilization_up_bound: u32,
    pub stabilization_down_bound: u32,
    pub stabilized: u32,
    /// The rate limit that capped the change, if one did ("ScaleUpLimit", "TooManyReplicas", ...).
    pub limit_reason: Option<&'static str>,
    pub desired: u32,
}

impl HpaExplanation {
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.proposals {
            let name = self.metric_names.get(p.metric).map_or("?", String::as_str);
            out.push(match (p.usage_ratio, p.replicas) {
                (Some(r), Some(n)) => format!(
                    "{}: ratio {:.3}{} -> {} replicas {}",
                    name,
                    r,
                    if p.within_tolerance {
                        " (within tolerance)"
                    } else {
                        ""
                    },
                    n,
                    p.note
                ),
                _ => format!("{name}: invalid ({})", p.note),
            });
        }
        match self.metric_desired {
            Some(d) => out.push(format!("largest proposal: {d}")),
            None => out.push("no valid proposal: replicas unchanged".into()),
        }
        out.push(format!(
            "stabilization: up-window min {}, down-window max {} -> {}",
            self.stabilization_up_bound, self.stabilization_down_bound, self.stabilized
        ));
        if let Some(r) = self.limit_reason {
            out.push(format!("rate limit {r} -> {}", self.desired));
        }
        out
    }
}

#[derive(Debug, Clone, Copy)]
struct Recommendation {
    at: i64,
    replicas: u32,
}

/// The extreme recommendation inside a sliding stabilization window, O(1) amortized per sync:
/// a monotonic deque (a newer recommendation that is at least as extreme makes every older one
/// irrelevant for as long as both are in the window). Equal to horizontal.go's scan over its
/// stored recommendations because syncs come in time order and the window length is fixed.
#[derive(Debug, Clone, Default)]
struct WindowExtreme {
    /// Oldest first; replicas strictly increasing (min) or decreasing (max) from the front.
    entries: std::collections::VecDeque<Recommendation>,
}

impl WindowExtreme {
    /// Drops what is no longer strictly after `cutoff` (upstream keeps `timestamp.After(cutoff)`).
    fn expire(&mut self, cutoff: i64) {
        while self.entries.front().is_some_and(|r| r.at <= cutoff) {
            self.entries.pop_front();
        }
    }

    fn extreme(&self) -> Option<u32> {
        self.entries.front().map(|r| r.replicas)
    }

    /// Adds a recommendation; `dominates(new, old)`: `new` makes `old` irrelevant.
    /// Re-dates the newest recommendation: what pushing an equal one at `at` does (it
    /// dominates the old one, which is the back; older entries are strictly less extreme).
    fn restamp(&mut self, at: i64) {
        if let Some(back) = self.entries.back_mut() {
            back.at = at;
        }
    }

    fn push(&mut self, rec: Recommendation, dominates: impl Fn(u32, u32) -> bool) {
        while self
            .entries
            .back()
            .is_some_and(|old| dominates(rec.replicas, old.replicas))
        {
            self.entries.pop_back();
        }
        self.entries.push_back(rec);
    }
}

/// What one sync decided, without the per-metric detail.
#[derive(Debug, Clone, Copy)]
struct SyncResult {
    metric_desired: Option<u32>,
    up_bound: u32,
    down_bound: u32,
    stabilized: u32,
    limit_reason: Option<&'static str>,
    desired: u32,
}

/// What a sync with the last sync's inputs, later, would do (see
/// [`Autoscaler::repeat_unchanged`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repeat {
    /// Not provably "no change": sync again.
    Sync,
    /// No valid proposal (or invalid ones blocking a scale-down): no change, no state touched.
    Nothing,
    /// The metrics proposed the current count: stabilization keeps it whatever the windows
    /// hold (up-window min <= current <= down-window max), no rate limit applies, no scale
    /// event is stored; the only effect is the recommendation recorded at the new time.
    Restamp,
}

#[derive(Debug, Clone, Copy)]
struct ScaleEvent {
    at: i64,
    change: u32,
    outdated: bool,
}

/// The controller state of one HPA: recommendations and scale events, as horizontal.go keeps
/// them per HPA key.
#[derive(Debug, Clone)]
pub struct HpaController {
    pub hpa: ResolvedHpa,
    pub sync_period_seconds: u32,
    /// Metric names for explanations, shared so a sync does not copy them.
    metric_names: std::sync::Arc<[String]>,
    /// Reused buffers of metric values and proposals in `decide`.
    values: Vec<MetricValue>,
    proposals: Vec<MetricProposal>,
    /// Lowest recommendation in the scale-up window, highest in the scale-down window.
    up_window: WindowExtreme,
    down_window: WindowExtreme,
    /// Time of the last stabilization, to notice a clock that runs backwards.
    last_stabilized_at: Option<i64>,
    /// Word the decisions `decide` returns.
    explain: bool,
    /// What repeating the last `decide` would do.
    repeat: Repeat,
    scale_up_events: Vec<ScaleEvent>,
    scale_down_events: Vec<ScaleEvent>,
    /// HPAs run along in a shared replay (see [`HpaController::share`]).
    shadows: Vec<Shadow>,
    /// Longest rate-limit period of the shadows, (up, down): their scale events are kept.
    shadow_horizon: (u32, u32),
    /// Highest minimum of the shadows.
    shadow_min: u32,
}

/// An HPA that differs from the controller's only in its rate-limit rules and minimum: as long
/// as every sync decides the same for it, its state is the controller's (recommendations and
/// scale events are the same), so one replay serves both.
#[derive(Debug, Clone)]
struct Shadow {
    scale_up: ResolvedRules,
    scale_down: ResolvedRules,
    min: u32,
    diverged: bool,
}

/// Most shadows one controller carries (one bit each in [`HpaController::diverged`]).
pub const MAX_SHADOWS: usize = 64;

fn is_within(ratio: f64, rules_up: &ResolvedRules, rules_down: &ResolvedRules) -> bool {
    // replica_calculator.go Tolerances.isWithin: a closed band, compared in float64.
    (1.0 - rules_down.tolerance) <= ratio && ratio <= (1.0 + rules_up.tolerance)
}

fn ceil_u32(x: f64) -> u32 {
    if x.is_nan() || x <= 0.0 {
        0
    } else if x >= f64::from(i32::MAX) {
        i32::MAX as u32
    } else {
        x.ceil() as u32
    }
}

impl HpaController {
    pub fn new(hpa: ResolvedHpa) -> Self {
        Self {
            metric_names: hpa.metrics.iter().map(|m| m.name().to_string()).collect(),
            values: Vec::with_capacity(hpa.metrics.len()),
            proposals: Vec::with_capacity(hpa.metrics.len()),
            hpa,
            sync_period_seconds: DEFAULT_SYNC_PERIOD_SECONDS,
            up_window: WindowExtreme::default(),
            down_window: WindowExtreme::default(),
            last_stabilized_at: None,
            explain: true,
            repeat: Repeat::Sync,
            scale_up_events: Vec::new(),
            scale_down_events: Vec::new(),
            shadows: Vec::new(),
            shadow_horizon: (0, 0),
            shadow_min: 0,
        }
    }

    /// Whether `other` differs from this HPA at most in its scaling policies (policies and
    /// selectPolicy, both ways) and its minimum: the HPAs [`Self::share`] accepts.
    pub fn can_share(&self, other: &ResolvedHpa) -> bool {
        let same_rules = |a: &ResolvedRules, b: &ResolvedRules| {
            a.stabilization_window_seconds == b.stabilization_window_seconds
                && a.tolerance.to_bits() == b.tolerance.to_bits()
        };
        self.hpa.max_replicas == other.max_replicas
            && self.hpa.metrics == other.metrics
            && same_rules(&self.hpa.scale_up, &other.scale_up)
            && same_rules(&self.hpa.scale_down, &other.scale_down)
    }

    /// Runs `other` along as a shadow (before the first sync): every sync also decides for it,
    /// from the same state, and marks it diverged the first time it would decide differently
    /// (or correct an out-of-range count differently). Until then its replay is this one's,
    /// step for step. False (nothing added) when it cannot share (see [`Self::can_share`]), a
    /// sync already ran, or [`MAX_SHADOWS`] are carried.
    pub fn share(&mut self, other: &ResolvedHpa) -> bool {
        if !self.can_share(other)
            || self.shadows.len() >= MAX_SHADOWS
            || self.last_stabilized_at.is_some()
            || !self.scale_up_events.is_empty()
            || !self.scale_down_events.is_empty()
        {
            return false;
        }
        self.shadow_horizon = (
            self.shadow_horizon
                .0
                .max(other.scale_up.longest_period_seconds()),
            self.shadow_horizon
                .1
                .max(other.scale_down.longest_period_seconds()),
        );
        self.shadow_min = self.shadow_min.max(other.min_replicas);
        self.shadows.push(Shadow {
            scale_up: other.scale_up.clone(),
            scale_down: other.scale_down.clone(),
            min: other.min_replicas,
            diverged: false,
        });
        true
    }

    /// Shadows that no longer follow this replay: bit k for the k-th [`Self::share`]d HPA.
    pub fn diverged(&self) -> u64 {
        self.shadows
            .iter()
            .enumerate()
            .filter(|(_, x)| x.diverged)
            .fold(0, |m, (k, _)| m | 1 << k)
    }

    /// Marks diverged the live shadows whose sync, from the current state, would not end at
    /// `desired` the way this one did. `stabilized`: the stabilized count when this HPA was in
    /// range and had a metric decision (None: in range, no decision; no change for anyone in
    /// range). Called before the sync's scale event is stored.
    fn check_shadows(&mut self, now: i64, current: u32, stabilized: Option<u32>, desired: u32) {
        let (min, max) = (self.hpa.min_replicas, self.hpa.max_replicas);
        let in_range = current <= max && current >= min;
        // The common sync: in range for everyone and no change proposed, so none limits.
        if in_range
            && current >= self.shadow_min
            && desired == current
            && stabilized.is_none_or(|st| st == current)
        {
            return;
        }
        for k in 0..self.shadows.len() {
            let x = &self.shadows[k];
            if x.diverged {
                continue;
            }
            let own_in_range = current <= max && current >= x.min;
            let same = match (in_range, own_in_range) {
                // Both correct the count (recommendations untouched): the same correction.
                (false, false) => current.max(x.min).min(max) == desired,
                // One corrects, the other runs its metrics: the states part.
                (true, false) | (false, true) => false,
                (true, true) => match stabilized {
                    None => true,
                    Some(st) => {
                        let limits = Limits {
                            up: &x.scale_up,
                            down: &x.scale_down,
                            min: x.min,
                            max,
                        };
                        limits
                            .apply(
                                now,
                                current,
                                st,
                                &self.scale_up_events,
                                &self.scale_down_events,
                            )
                            .0
                            == desired
                    }
                },
            };
            if !same {
                self.shadows[k].diverged = true;
            }
        }
    }

    fn within(&self, ratio: f64) -> bool {
        is_within(ratio, &self.hpa.scale_up, &self.hpa.scale_down)
    }

    /// Replica proposal for one of this HPA's metrics (replica_calculator.go).
    pub fn propose(
        &self,
        metric: &HpaMetric,
        value: MetricValue,
        pods: PodCounts,
    ) -> MetricProposal {
        let index = self
            .hpa
            .metrics
            .iter()
            .position(|m| m == metric)
            .unwrap_or(0);
        self.propose_at(index, value, pods)
    }

    fn propose_at(&self, index: usize, value: MetricValue, pods: PodCounts) -> MetricProposal {
        let Some(metric) = self.hpa.metrics.get(index) else {
            return MetricProposal {
                metric: index,
                usage_ratio: None,
                within_tolerance: false,
                replicas: None,
                note: ProposalNote::Invalid("no such metric"),
            };
        };
        let current = pods.spec_replicas;
        let invalid = |why: &'static str| MetricProposal {
            metric: index,
            usage_ratio: None,
            within_tolerance: false,
            replicas: None,
            note: ProposalNote::Invalid(why),
        };
        let value_f = match value {
            MetricValue::Missing => return invalid("metric missing"),
            MetricValue::UtilizationPercent(v)
            | MetricValue::PerPodAverage(v)
            | MetricValue::Total(v) => v,
        };
        if !value_f.is_finite() || value_f < 0.0 {
            return invalid("metric value not a non-negative number");
        }
        match metric {
            HpaMetric::ResourceUtilization { target_percent, .. } => {
                if pods.ready == 0 {
                    return invalid("no ready pods report metrics");
                }
                // GetResourceUtilizationRatio: int32(metricsTotal*100/requestsTotal).
                let target = f64::from(*target_percent);
                let utilization = value_f.floor();
                let ratio = utilization / target;
                self.per_pod_replicas(index, ratio, pods, |ready, counted| {
                    (value_f * ready / counted).floor() / target
                })
            }
            HpaMetric::ResourceAverageValue { target, .. }
            | HpaMetric::PodsAverageValue { target, .. } => {
                if pods.ready == 0 {
                    return invalid("no ready pods report metrics");
                }
                // GetMetricUsageRatio: mean in milli-units, integer division.
                let target_milli = (target * 1000.0).round();
                let ratio = (value_f * 1000.0).floor() / target_milli;
                self.per_pod_replicas(index, ratio, pods, |ready, counted| {
                    (value_f * 1000.0 * ready / counted).floor() / target_milli
                })
            }
            HpaMetric::Value { target, .. } => {
                // getUsageRatioReplicaCount.
                let ratio = (value_f * 1000.0).round() / (target * 1000.0).round();
                if current == 0 {
                    return MetricProposal {
                        metric: index,
                        usage_ratio: Some(ratio),
                        within_tolerance: false,
                        replicas: Some(ceil_u32(ratio)),
                        note: ProposalNote::ScaleFromZero,
                    };
                }
                let within = self.within(ratio);
                MetricProposal {
                    metric: index,
                    usage_ratio: Some(ratio),
                    within_tolerance: within,
                    replicas: Some(if within {
                        current
                    } else {
                        ceil_u32(ratio * f64::from(pods.ready))
                    }),
                    note: ProposalNote::ReadyPods(pods.ready),
                }
            }
            HpaMetric::AverageValue { target, .. } => {
                // Get{Object,External}PerPodMetricReplicas: status replicas = existing pods.
                let status = pods.ready + pods.unready;
                let ratio = value_f / (target * f64::from(status.max(1)));
                let within = status > 0 && self.within(ratio);
                MetricProposal {
                    metric: index,
                    usage_ratio: Some(ratio),
                    within_tolerance: within,
                    replicas: Some(if within {
                        status
                    } else {
                        ceil_u32(value_f / target)
                    }),
                    note: ProposalNote::PerPodTotal {
                        total: value_f,
                        target: *target,
                    },
                }
            }
        }
    }

    /// The ready/unready handling shared by utilization and plain per-pod metrics.
    /// `ratio_with_unready(ready, counted)` recomputes the ratio when unready pods count as 0
    /// (multiplying before dividing, as the controller's integer sums do).
    fn per_pod_replicas(
        &self,
        metric: usize,
        ratio: f64,
        pods: PodCounts,
        ratio_with_unready: impl Fn(f64, f64) -> f64,
    ) -> MetricProposal {
        let current = pods.spec_replicas;
        let scale_up_with_unready = pods.unready > 0 && ratio > 1.0;
        if !scale_up_with_unready {
            let within = self.within(ratio);
            return MetricProposal {
                metric,
                usage_ratio: Some(ratio),
                within_tolerance: within,
                replicas: Some(if within {
                    current
                } else {
                    ceil_u32(ratio * f64::from(pods.ready))
                }),
                note: ProposalNote::ReadyPods(pods.ready),
            };
        }
        let counted = pods.ready + pods.unready;
        let new_ratio = ratio_with_unready(f64::from(pods.ready), f64::from(counted));
        let keep = |note: ProposalNote| MetricProposal {
            metric,
            usage_ratio: Some(new_ratio),
            within_tolerance: true,
            replicas: Some(current),
            note,
        };
        if self.within(new_ratio) || new_ratio < 1.0 {
            return keep(ProposalNote::UnreadyNoChange);
        }
        let new_replicas = ceil_u32(new_ratio * f64::from(counted));
        if new_replicas < current {
            return keep(ProposalNote::UnreadyDirectionFlip);
        }
        MetricProposal {
            metric,
            usage_ratio: Some(new_ratio),
            within_tolerance: false,
            replicas: Some(new_replicas),
            note: ProposalNote::WithUnready {
                counted,
                unready: pods.unready,
            },
        }
    }

    /// One controller sync at `now` (seconds). `values` holds one value per HPA metric, in spec
    /// order. Returns the new desired replica count and the arithmetic that produced it.
    /// Syncs come in time order, as a controller's clock runs.
    pub fn sync(&mut self, now: i64, pods: PodCounts, values: &[MetricValue]) -> HpaExplanation {
        let mut proposals = Vec::with_capacity(self.hpa.metrics.len());
        let r = self.sync_into(now, pods, values, &mut proposals);
        self.explanation(proposals, r)
    }

    fn explanation(&self, proposals: Vec<MetricProposal>, r: SyncResult) -> HpaExplanation {
        HpaExplanation {
            metric_names: self.metric_names.clone(),
            proposals,
            metric_desired: r.metric_desired,
            stabilization_up_bound: r.up_bound,
            stabilization_down_bound: r.down_bound,
            stabilized: r.stabilized,
            limit_reason: r.limit_reason,
            desired: r.desired,
        }
    }

    /// The sync's arithmetic; `proposals` receives one proposal per metric (none when the
    /// current count is out of range and only corrected).
    fn sync_into(
        &mut self,
        now: i64,
        pods: PodCounts,
        values: &[MetricValue],
        proposals: &mut Vec<MetricProposal>,
    ) -> SyncResult {
        let (min, max) = (self.hpa.min_replicas, self.hpa.max_replicas);
        let current = pods.spec_replicas;
        proposals.clear();
        self.repeat = Repeat::Sync;
        let mut r = SyncResult {
            metric_desired: None,
            up_bound: current,
            down_bound: current,
            stabilized: current,
            limit_reason: None,
            desired: current,
        };
        // reconcileAutoscaler: out-of-range current counts are corrected first.
        if current > max || current < min {
            let d = current.clamp(min, max);
            r.limit_reason = Some(if current > max {
                "TooManyReplicas"
            } else {
                "TooFewReplicas"
            });
            r.desired = d;
            if !self.shadows.is_empty() {
                self.check_shadows(now, current, None, d);
            }
            self.record_scale(now, current, d);
            return r;
        }
        for i in 0..self.hpa.metrics.len() {
            let v = values.get(i).copied().unwrap_or(MetricValue::Missing);
            proposals.push(self.propose_at(i, v, pods));
        }
        let invalid = proposals.iter().filter(|p| p.replicas.is_none()).count();
        let best = proposals.iter().filter_map(|p| p.replicas).max();
        // computeReplicasForMetrics: no decision when all metrics are invalid, or when some are
        // invalid and the valid ones would scale down.
        let metric_desired = match best {
            Some(b) if invalid == 0 || b >= current => b,
            _ => {
                if !self.shadows.is_empty() {
                    self.check_shadows(now, current, None, current);
                }
                return r;
            }
        };
        r.metric_desired = Some(metric_desired);

        let (stabilized, up_bound, down_bound) = self.stabilize(now, current, metric_desired);
        r.up_bound = up_bound;
        r.down_bound = down_bound;
        r.stabilized = stabilized;
        let (desired, reason) = self.rate_limit(now, current, stabilized);
        r.limit_reason = reason;
        r.desired = desired;
        if !self.shadows.is_empty() {
            self.check_shadows(now, current, Some(stabilized), desired);
        }
        self.record_scale(now, current, desired);
        r
    }

    /// stabilizeRecommendationWithBehaviors: the lowest recommendation inside the scale-up
    /// window and the highest inside the scale-down window (this one included) bound the count.
    fn stabilize(&mut self, now: i64, current: u32, desired: u32) -> (u32, u32, u32) {
        // A clock that runs backwards (never a controller's) restarts the windows.
        if self.last_stabilized_at.is_some_and(|t| now < t) {
            self.up_window = WindowExtreme::default();
            self.down_window = WindowExtreme::default();
        }
        self.last_stabilized_at = Some(now);
        self.up_window
            .expire(now - i64::from(self.hpa.scale_up.stabilization_window_seconds));
        self.down_window
            .expire(now - i64::from(self.hpa.scale_down.stabilization_window_seconds));
        let up = self.up_window.extreme().map_or(desired, |m| m.min(desired));
        let down = self
            .down_window
            .extreme()
            .map_or(desired, |m| m.max(desired));
        let stabilized = current.max(up).min(down);
        let rec = Recommendation {
            at: now,
            replicas: desired,
        };
        self.up_window.push(rec, |new, old| new <= old);
        self.down_window.push(rec, |new, old| new >= old);
        (stabilized, up, down)
    }

    /// convertDesiredReplicasWithBehaviorRate.
    fn rate_limit(&self, now: i64, current: u32, desired: u32) -> (u32, Option<&'static str>) {
        let limits = Limits {
            up: &self.hpa.scale_up,
            down: &self.hpa.scale_down,
            min: self.hpa.min_replicas,
            max: self.hpa.max_replicas,
        };
        limits.apply(
            now,
            current,
            desired,
            &self.scale_up_events,
            &self.scale_down_events,
        )
    }

    /// storeScaleEvent: reuse an outdated slot or append.
    fn record_scale(&mut self, now: i64, from: u32, to: u32) {
        if to == from {
            return;
        }
        let (events, longest, horizon, change) = if to > from {
            (
                &mut self.scale_up_events,
                self.hpa.scale_up.longest_period_seconds(),
                self.shadow_horizon.0,
                to - from,
            )
        } else {
            (
                &mut self.scale_down_events,
                self.hpa.scale_down.longest_period_seconds(),
                self.shadow_horizon.1,
                from - to,
            )
        };
        // Shadows read these events too: keep what the longest of their periods needs (only
        // events that every period has passed go, so this HPA's own sums stay the same).
        let cutoff = now - i64::from(longest.max(horizon));
        for e in events.iter_mut() {
            if e.at < cutoff {
                e.outdated = true;
            }
        }
        let ev = ScaleEvent {
            at: now,
            change,
            outdated: false,
        };
        match events.iter_mut().find(|e| e.outdated) {
            Some(slot) => *slot = ev,
            None => events.push(ev),
        }
    }
}

impl HpaController {
    /// The value of one HPA metric in a replay observation: CPU from demand and capacity,
    /// request-rate metrics from demand, anything else from the named input series
    /// (`<resource>_utilization` in percent for other resources; totals for the rest).
    fn observe(metric: &HpaMetric, obs: &Observation) -> MetricValue {
        let ready = obs.pods.ready;
        let per_pod = |total: Option<f64>| match total {
            Some(t) if ready > 0 => MetricValue::PerPodAverage(t / f64::from(ready)),
            _ => MetricValue::Missing,
        };
        let total = |name: &str| {
            if is_request_rate(name) {
                Some(obs.demand_rps)
            } else {
                obs.extra(name)
            }
        };
        match metric {
            HpaMetric::ResourceUtilization { resource, .. } if resource == "cpu" => obs
                .cpu_percent()
                .map_or(MetricValue::Missing, MetricValue::UtilizationPercent),
            HpaMetric::ResourceUtilization { resource, .. } => obs
                .extra(&format!("{resource}_utilization"))
                .map_or(MetricValue::Missing, MetricValue::UtilizationPercent),
            HpaMetric::ResourceAverageValue { resource: name, .. }
            | HpaMetric::PodsAverageValue { name, .. } => per_pod(total(name)),
            HpaMetric::Value { name, .. } | HpaMetric::AverageValue { name, .. } => {
                total(name).map_or(MetricValue::Missing, MetricValue::Total)
            }
        }
    }
}

impl Autoscaler for HpaController {
    fn set_explain(&mut self, explain: bool) {
        self.explain = explain;
    }

    fn describe(&self) -> String {
        let metrics: Vec<String> = self
            .hpa
            .metrics
            .iter()
            .map(|m| match m {
                HpaMetric::ResourceUtilization {
                    resource,
                    target_percent,
                } => format!("{resource} {target_percent}%"),
                HpaMetric::ResourceAverageValue { resource, target } => {
                    format!("{resource} {target}/pod")
                }
                HpaMetric::PodsAverageValue { name, target }
                | HpaMetric::AverageValue { name, target } => format!("{name} {target}/pod"),
                HpaMetric::Value { name, target } => format!("{name} {target}"),
            })
            .collect();
        format!("HPA {}: {}", self.hpa.name, metrics.join(", "))
    }

    fn bounds(&self) -> (u32, u32) {
        (self.hpa.min_replicas, self.hpa.max_replicas)
    }

    fn decision_period_seconds(&self) -> u32 {
        self.sync_period_seconds
    }

    fn target_utilization(&self) -> f64 {
        self.hpa
            .metrics
            .iter()
            .find_map(|m| match m {
                HpaMetric::ResourceUtilization {
                    resource,
                    target_percent,
                } if resource == "cpu" => Some(f64::from(*target_percent) / 100.0),
                _ => None,
            })
            .unwrap_or(1.0)
    }

    fn tolerance(&self) -> f64 {
        self.hpa.scale_up.tolerance
    }

    fn required_series(&self) -> Vec<String> {
        self.hpa
            .metrics
            .iter()
            .filter_map(|m| match m {
                HpaMetric::ResourceUtilization { resource, .. } if resource == "cpu" => None,
                HpaMetric::ResourceUtilization { resource, .. } => {
                    Some(format!("{resource}_utilization"))
                }
                other if is_request_rate(other.name()) => None,
                other => Some(other.name().to_string()),
            })
            .collect()
    }

    fn repeat_unchanged(&mut self, now: i64) -> bool {
        match self.repeat {
            Repeat::Sync => false,
            Repeat::Nothing => true,
            // Each skipped sync would expire old recommendations and push one equal to the
            // newest (which replaces it): re-dating the newest is the same state for every
            // later read, since reads expire first and expiry is monotone in time.
            Repeat::Restamp if self.last_stabilized_at.is_some_and(|t| t <= now) => {
                self.up_window.restamp(now);
                self.down_window.restamp(now);
                self.last_stabilized_at = Some(now);
                true
            }
            Repeat::Restamp => false,
        }
    }

    fn diverged_shadows(&self) -> u64 {
        self.diverged()
    }

    fn decide(&mut self, obs: &Observation) -> Decision {
        let mut values = std::mem::take(&mut self.values);
        let mut proposals = std::mem::take(&mut self.proposals);
        values.clear();
        values.extend(self.hpa.metrics.iter().map(|m| Self::observe(m, obs)));
        let r = self.sync_into(obs.now, obs.pods, &values, &mut proposals);
        let current = obs.pods.spec_replicas;
        // In range (else the count is corrected, a change) with no change decided.
        self.repeat = match r.metric_desired {
            _ if r.desired != current || r.limit_reason.is_some() => Repeat::Sync,
            None => Repeat::Nothing,
            Some(m) if m == current => Repeat::Restamp,
            Some(_) => Repeat::Sync,
        };
        self.values = values;
        // Words cost more than the arithmetic: only a change is explained.
        let explanation = if self.explain && r.desired != obs.pods.spec_replicas {
            self.explanation(proposals.clone(), r).lines()
        } else {
            Vec::new()
        };
        self.proposals = proposals;
        Decision {
            desired: r.desired,
            explanation,
        }
    }
}

/// What convertDesiredReplicasWithBehaviorRate reads besides the scale events: the rate-limit
/// rules both ways and the replica bounds.
struct Limits<'a> {
    up: &'a ResolvedRules,
    down: &'a ResolvedRules,
    min: u32,
    max: u32,
}

impl Limits<'_> {
    /// The rate-limited desired count and the limit that capped it, if one did.
    fn apply(
        &self,
        now: i64,
        current: u32,
        desired: u32,
        up_events: &[ScaleEvent],
        down_events: &[ScaleEvent],
    ) -> (u32, Option<&'static str>) {
        let (min, max) = (self.min, self.max);
        if desired > current {
            let limit =
                rate_limit_bound(now, current, up_events, down_events, self.up, Direction::Up)
                    .max(i64::from(current));
            let (allowed, reason) = if i64::from(max) > limit {
                (limit as u32, "ScaleUpLimit")
            } else {
                (max, "TooManyReplicas")
            };
            if desired > allowed {
                return (allowed, Some(reason));
            }
        } else if desired < current {
            let limit = rate_limit_bound(
                now,
                current,
                up_events,
                down_events,
                self.down,
                Direction::Down,
            )
            .min(i64::from(current));
            let (allowed, reason) = if i64::from(min) < limit {
                (limit.max(0) as u32, "ScaleDownLimit")
            } else {
                (min, "TooFewReplicas")
            };
            if desired < allowed {
                return (allowed, Some(reason));
            }
        }
        (desired, None)
    }
}

/// getReplicasChangePerPeriod: replicas changed by events after now - period.
fn change_in_period(now: i64, period_seconds: u32, events: &[ScaleEvent]) -> i64 {
    let cutoff = now - i64::from(period_seconds);
    events
        .iter()
        .filter(|e| e.at > cutoff && !e.outdated)
        .map(|e| i64::from(e.change))
        .sum()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

/// calculateScaleUpLimitWithScalingRules and calculateScaleDownLimitWithBehaviors: each policy
/// proposes a bound from the replicas at the start of its period; selectPolicy Max picks the
/// biggest change (for scale-down: the lowest count), Min the smallest, Disabled none.
fn rate_limit_bound(
    now: i64,
    current: u32,
    up_events: &[ScaleEvent],
    down_events: &[ScaleEvent],
    rules: &ResolvedRules,
    direction: Direction,
) -> i64 {
    if rules.select_policy == SelectPolicy::Disabled {
        return i64::from(current);
    }
    let highest_count = matches!(
        (direction, rules.select_policy),
        (Direction::Up, SelectPolicy::Max) | (Direction::Down, SelectPolicy::Min)
    );
    let proposals = rules.policies.iter().map(|p| {
        let added = change_in_period(now, p.period_seconds, up_events);
        let deleted = change_in_period(now, p.period_seconds, down_events);
        let start = i64::from(current) - added + deleted;
        match (direction, p.kind) {
            (Direction::Up, ScalingPolicyType::Pods) => start + i64::from(p.value),
            (Direction::Up, ScalingPolicyType::Percent) => {
                (start as f64 * (1.0 + f64::from(p.value) / 100.0)).ceil() as i64
            }
            (Direction::Down, ScalingPolicyType::Pods) => start - i64::from(p.value),
            // int32(float64(periodStartReplicas) * (1 - value/100)): truncation.
            (Direction::Down, ScalingPolicyType::Percent) => {
                (start as f64 * (1.0 - f64::from(p.value) / 100.0)) as i64
            }
        }
    });
    let bound = if highest_count {
        proposals.max()
    } else {
        proposals.min()
    };
    // With no policies (rejected at resolve time) upstream starts from the opposite extreme.
    bound.unwrap_or(if highest_count {
        i64::from(i32::MIN)
    } else {
        i64::from(i32::MAX)
    })
}

#[cfg(test)]
mod tests;

//! The scaling rule the simulator applies for a group's current policy. k8s and aws groups run
//! the platforms' real autoscalers (`platform_policy`); otherwise an HPA-like target tracking
//! rule (desired = ceil(ready x metric/target) outside the tolerance band, scale-up cooldown,
//! scale-down stabilization window) and fixed capacity, behind [`decide`].

use std::collections::VecDeque;

use crate::model::{MetricKind, PolicyModel, TargetTrackingPolicy};

/// Metrics the rule can act on.
pub fn supports(metric: MetricKind) -> bool {
    matches!(
        metric,
        MetricKind::CpuUtilization
            | MetricKind::MemoryUtilization
            | MetricKind::RequestRate
            | MetricKind::QueueDepth
            | MetricKind::Concurrency
            | MetricKind::Connections
    )
}

/// What the policy sees at a decision.
#[derive(Debug, Clone, Copy, Default)]
pub struct Observation {
    pub now_seconds: f64,
    pub ready_replicas: u32,
    pub desired_replicas: u32,
    pub min_replicas: u32,
    pub max_replicas: u32,
    /// Mean utilization of ready replicas, percent.
    pub cpu_utilization: f64,
    pub memory_utilization: f64,
    /// Group totals; targets on these are per replica.
    pub request_rate_rps: f64,
    pub queue_depth: f64,
    pub concurrency: f64,
    pub connections: f64,
}

impl Observation {
    /// Replicas this target asks for, or None inside the tolerance band.
    fn proposal(&self, metric: MetricKind, target: f64, tolerance: f64) -> Option<(u32, f64)> {
        let ready = f64::from(self.ready_replicas);
        // Utilizations are per-replica means; the others are group totals with a per-replica
        // target, so their ratio is total / (ready x target).
        let (value, per_replica_total) = match metric {
            MetricKind::CpuUtilization => (self.cpu_utilization, false),
            MetricKind::MemoryUtilization => (self.memory_utilization, false),
            MetricKind::RequestRate => (self.request_rate_rps, true),
            MetricKind::QueueDepth => (self.queue_depth, true),
            MetricKind::Concurrency => (self.concurrency, true),
            MetricKind::Connections => (self.connections, true),
            _ => return None,
        };
        if !value.is_finite() {
            return None;
        }
        if per_replica_total {
            let needed = (value / target - 1e-9).ceil().max(0.0);
            let ratio = if ready > 0.0 {
                value / (ready * target)
            } else {
                f64::INFINITY
            };
            if ready > 0.0 && (ratio - 1.0).abs() <= tolerance {
                return None;
            }
            return Some((needed as u32, value / ready.max(1.0)));
        }
        let ratio = value / target;
        if (ratio - 1.0).abs() <= tolerance {
            return None;
        }
        if ready == 0.0 {
            return Some((1, value));
        }
        Some(((ready * ratio - 1e-9).ceil().max(0.0) as u32, value))
    }
}

/// Memory of the rule between decisions.
#[derive(Debug, Clone, Default)]
pub struct PolicyState {
    /// The platform's real autoscaler when the group's platform has one (see
    /// `platform_policy`); the scenario rule below applies otherwise.
    platform: Option<super::platform_policy::PlatformPolicy>,
    last_scale_up_seconds: Option<f64>,
    /// (time, proposal) within the scale-down stabilization window.
    recent_proposals: VecDeque<(f64, u32)>,
}

impl PolicyState {
    pub fn with_platform(platform: Option<super::platform_policy::PlatformPolicy>) -> Self {
        Self {
            platform,
            ..Self::default()
        }
    }
}

/// A change of desired replicas.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub desired_replicas: u32,
    pub reason: String,
}

/// Applies `policy` to one observation; `None` when desired replicas stay as they are.
pub fn decide(
    policy: &PolicyModel,
    state: &mut PolicyState,
    obs: &Observation,
) -> Option<Decision> {
    if let Some(p) = state.platform.as_mut() {
        return p.decide(obs);
    }
    match policy {
        PolicyModel::Fixed { replicas } => {
            let want = (*replicas).clamp(obs.min_replicas, obs.max_replicas);
            (want != obs.desired_replicas).then(|| Decision {
                desired_replicas: want,
                reason: format!("fixed capacity of {want} replicas"),
            })
        }
        PolicyModel::TargetTracking(tt) => target_tracking(tt, state, obs),
        // A native document drives the platform autoscaler above; without one, nothing.
        PolicyModel::Native { .. } | PolicyModel::Unknown => None,
    }
}

fn target_tracking(
    tt: &TargetTrackingPolicy,
    state: &mut PolicyState,
    obs: &Observation,
) -> Option<Decision> {
    // The largest proposal across targets wins (HPA multi-metric rule).
    let mut best: Option<(u32, MetricKind, f64, f64)> = None;
    for t in &tt.targets {
        if let Some((p, value)) = obs.proposal(t.metric, t.target, tt.tolerance) {
            if best.is_none_or(|(b, ..)| p > b) {
                best = Some((p, t.metric, value, t.target));
            }
        }
    }
    let current = obs.desired_replicas;
    let proposal = best
        .map(|(p, ..)| p)
        .unwrap_or(current)
        .clamp(obs.min_replicas, obs.max_replicas);

    let window = f64::from(tt.scale_down_stabilization_seconds);
    state
        .recent_proposals
        .push_back((obs.now_seconds, proposal));
    while let Some(&(t, _)) = state.recent_proposals.front() {
        if obs.now_seconds - t > window {
            state.recent_proposals.pop_front();
        } else {
            break;
        }
    }

    let describe = |to: u32, verb: &str| -> String {
        match best {
            Some((_, metric, value, target)) => format!(
                "{verb} {current}->{to}: {metric} {value:.1}{unit} vs target {target}{unit}{per}",
                unit = metric.unit(),
                per = if matches!(
                    metric,
                    MetricKind::CpuUtilization | MetricKind::MemoryUtilization
                ) {
                    ""
                } else {
                    " per replica"
                }
            ),
            None => format!("{verb} {current}->{to}: back within min/max"),
        }
    };

    if proposal > current {
        let cooled = state
            .last_scale_up_seconds
            .is_none_or(|t| obs.now_seconds - t >= f64::from(tt.scale_up_cooldown_seconds));
        if !cooled {
            return None;
        }
        state.last_scale_up_seconds = Some(obs.now_seconds);
        return Some(Decision {
            desired_replicas: proposal,
            reason: describe(proposal, "scale up"),
        });
    }
    // Scale down only to the highest proposal seen within the stabilization window.
    let stabilized = state
        .recent_proposals
        .iter()
        .map(|&(_, p)| p)
        .max()
        .unwrap_or(proposal);
    if stabilized < current {
        return Some(Decision {
            desired_replicas: stabilized,
            reason: describe(stabilized, "scale down"),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MetricTarget;

    fn cpu_policy(tolerance: f64, up_cooldown: u32, down_window: u32) -> PolicyModel {
        PolicyModel::TargetTracking(TargetTrackingPolicy {
            targets: vec![MetricTarget {
                metric: MetricKind::CpuUtilization,
                target: 70.0,
            }],
            tolerance,
            scale_up_cooldown_seconds: up_cooldown,
            scale_down_stabilization_seconds: down_window,
        })
    }

    fn obs(now: f64, ready: u32, cpu: f64) -> Observation {
        Observation {
            now_seconds: now,
            ready_replicas: ready,
            desired_replicas: ready,
            min_replicas: 1,
            max_replicas: 100,
            cpu_utilization: cpu,
            ..Default::default()
        }
    }

    // Kubernetes HPA docs worked example: 1 replica at 200m with a 100m target -> 2 replicas;
    // in percent: ready 1, cpu 140% of request vs target 70% -> ceil(1 x 2) = 2.
    #[test]
    fn hpa_replica_math() {
        let p = cpu_policy(0.1, 0, 0);
        let mut s = PolicyState::default();
        let d = decide(&p, &mut s, &obs(0.0, 1, 140.0)).expect("scales up");
        assert_eq!(d.desired_replicas, 2);
        // 4 replicas at 91% vs 70% -> ceil(4 x 1.3) = 6.
        let d = decide(&p, &mut PolicyState::default(), &obs(0.0, 4, 91.0)).expect("up");
        assert_eq!(d.desired_replicas, 6);
        assert!(d.reason.contains("cpu_utilization"), "{}", d.reason);
    }

    #[test]
    fn inside_tolerance_nothing_happens() {
        let p = cpu_policy(0.1, 0, 0);
        assert!(decide(&p, &mut PolicyState::default(), &obs(0.0, 10, 76.0)).is_none());
        assert!(decide(&p, &mut PolicyState::default(), &obs(0.0, 10, 64.0)).is_none());
    }

    #[test]
    fn scale_down_waits_for_the_stabilization_window() {
        let p = cpu_policy(0.1, 0, 300);
        let mut s = PolicyState::default();
        assert!(decide(&p, &mut s, &obs(0.0, 10, 70.0)).is_none());
        // Load halves: the window still holds the earlier proposal of 10.
        assert!(decide(&p, &mut s, &obs(60.0, 10, 35.0)).is_none());
        assert!(decide(&p, &mut s, &obs(240.0, 10, 35.0)).is_none());
        let d = decide(&p, &mut s, &obs(360.0, 10, 35.0)).expect("down after window");
        assert_eq!(d.desired_replicas, 5);
    }

    #[test]
    fn scale_up_cooldown_blocks_a_second_scale_up() {
        let p = cpu_policy(0.1, 300, 0);
        let mut s = PolicyState::default();
        assert!(decide(&p, &mut s, &obs(0.0, 4, 140.0)).is_some());
        assert!(decide(&p, &mut s, &obs(60.0, 8, 140.0)).is_none());
        assert!(decide(&p, &mut s, &obs(300.0, 8, 140.0)).is_some());
    }

    #[test]
    fn per_replica_targets_use_group_totals() {
        let p = PolicyModel::TargetTracking(TargetTrackingPolicy {
            targets: vec![MetricTarget {
                metric: MetricKind::RequestRate,
                target: 100.0,
            }],
            tolerance: 0.0,
            scale_up_cooldown_seconds: 0,
            scale_down_stabilization_seconds: 0,
        });
        let mut o = obs(0.0, 2, 0.0);
        o.request_rate_rps = 1050.0;
        let d = decide(&p, &mut PolicyState::default(), &o).expect("up");
        assert_eq!(d.desired_replicas, 11);
    }

    #[test]
    fn fixed_holds_its_count_within_bounds() {
        let p = PolicyModel::Fixed { replicas: 6 };
        let mut o = obs(0.0, 4, 90.0);
        o.desired_replicas = 4;
        assert_eq!(
            decide(&p, &mut PolicyState::default(), &o).map(|d| d.desired_replicas),
            Some(6)
        );
        o.desired_replicas = 6;
        assert!(decide(&p, &mut PolicyState::default(), &o).is_none());
    }
}

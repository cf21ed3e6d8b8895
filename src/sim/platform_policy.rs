//! The platforms' real autoscalers acting on simulated groups: a scenario's target-tracking
//! policy becomes the Kubernetes HPA controller for k8s groups and EC2 Auto Scaling target
//! tracking for aws groups (engine::policy), so the demo runs the same arithmetic as
//! `scaletop simulate`. Policies the platform model cannot express here (fixed capacity,
//! metrics AWS target tracking has no predefined form for) keep the scenario's own rule.

use crate::engine::policy::aws::AsgAutoscaler;
use crate::engine::policy::hpa::HpaController;
use crate::engine::policy::hpa_spec::HpaManifest;
use crate::engine::policy::{Autoscaler, Observation as EngineObservation, PodCounts};
use crate::model::{MetricKind, Platform, PolicyModel, TargetTrackingPolicy};

use super::policy::{Decision, Observation};

/// One of the engine's autoscalers with its decision clock.
#[derive(Debug, Clone)]
pub struct PlatformPolicy {
    autoscaler: PlatformAutoscaler,
    capacity_per_replica_rps: f64,
    last_decision_seconds: Option<f64>,
}

#[derive(Debug, Clone)]
enum PlatformAutoscaler {
    Hpa(Box<HpaController>),
    Asg(Box<AsgAutoscaler>),
}

impl PlatformAutoscaler {
    fn get(&mut self) -> &mut dyn Autoscaler {
        match self {
            PlatformAutoscaler::Hpa(h) => h.as_mut(),
            PlatformAutoscaler::Asg(a) => a.as_mut(),
        }
    }
}

/// The HPA autoscaling/v2 manifest equivalent to a scenario's target-tracking policy.
pub fn hpa_manifest(
    name: &str,
    tt: &TargetTrackingPolicy,
    min: u32,
    max: u32,
) -> Option<serde_json::Value> {
    let metrics: Option<Vec<serde_json::Value>> = tt
        .targets
        .iter()
        .map(|t| {
            let utilization = |resource: &str| {
                serde_json::json!({"type": "Resource", "resource": {"name": resource,
                    "target": {"type": "Utilization", "averageUtilization": t.target.round().max(1.0) as u32}}})
            };
            let per_pod = |metric: &str| {
                serde_json::json!({"type": "Pods", "pods": {"metric": {"name": metric},
                    "target": {"type": "AverageValue", "averageValue": t.target.to_string()}}})
            };
            let external = |metric: &str| {
                serde_json::json!({"type": "External", "external": {"metric": {"name": metric},
                    "target": {"type": "AverageValue", "averageValue": t.target.to_string()}}})
            };
            Some(match t.metric {
                MetricKind::CpuUtilization => utilization("cpu"),
                MetricKind::MemoryUtilization => utilization("memory"),
                MetricKind::RequestRate => per_pod("request_rate"),
                MetricKind::QueueDepth => external("queue_depth"),
                MetricKind::Concurrency => external("concurrency"),
                MetricKind::Connections => external("connections"),
                _ => return None,
            })
        })
        .collect();
    let tolerance = tt.tolerance.to_string();
    Some(serde_json::json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {
            "minReplicas": min,
            "maxReplicas": max,
            "metrics": metrics?,
            "behavior": {
                "scaleUp": {"tolerance": tolerance},
                "scaleDown": {
                    "stabilizationWindowSeconds": tt.scale_down_stabilization_seconds,
                    "tolerance": tolerance
                }
            }
        }
    }))
}

/// The EC2 Auto Scaling configuration equivalent to a scenario's target-tracking policy
/// (CPU and request rate per instance have predefined metrics; others do not).
pub fn asg_config(
    name: &str,
    tt: &TargetTrackingPolicy,
    min: u32,
    max: u32,
) -> Option<serde_json::Value> {
    let policies: Option<Vec<serde_json::Value>> = tt
        .targets
        .iter()
        .map(|t| {
            let (metric, target) = match t.metric {
                MetricKind::CpuUtilization => ("ASGAverageCPUUtilization", t.target),
                // ALB RequestCountPerTarget counts requests per minute.
                MetricKind::RequestRate => ("ALBRequestCountPerTarget", t.target * 60.0),
                _ => return None,
            };
            Some(serde_json::json!({
                "PolicyName": format!("{name}-{}", t.metric),
                "PolicyType": "TargetTrackingScaling",
                "TargetTrackingConfiguration": {
                    "PredefinedMetricSpecification": {"PredefinedMetricType": metric},
                    "TargetValue": target
                }
            }))
        })
        .collect();
    Some(serde_json::json!({
        "AutoScalingGroupName": name,
        "MinSize": min,
        "MaxSize": max,
        "ScalingPolicies": policies?,
    }))
}

/// The platform autoscaler a group's policy runs on — the same one the simulator drives — for
/// replays and explanations; Err says, in a line, why this policy cannot be replayed.
pub fn replayable_autoscaler(
    platform: Platform,
    name: &str,
    policy: &PolicyModel,
    min: u32,
    max: u32,
) -> Result<Box<dyn Autoscaler + Send>, String> {
    let tt = match policy {
        PolicyModel::TargetTracking(tt) => tt,
        PolicyModel::Fixed { replicas } => {
            return Err(format!(
                "fixed at {replicas} replicas: no autoscaler to replay"
            ))
        }
        PolicyModel::Native { text } => {
            return crate::engine::policy::parse_policy(text).map_err(|e| e.to_string())
        }
        PolicyModel::Unknown => return Err("policy unknown: nothing to replay".into()),
    };
    match platform {
        Platform::K8s => {
            let m = hpa_manifest(name, tt, min, max)
                .ok_or("a metric of this policy has no HPA form")?;
            let hpa = HpaManifest::from_yaml(&m.to_string())
                .and_then(|m| m.resolve())
                .map_err(|e| format!("HPA: {e}"))?;
            Ok(Box::new(HpaController::new(hpa)))
        }
        Platform::Aws => {
            let c = asg_config(name, tt, min, max)
                .ok_or("EC2 target tracking has no predefined metric for this policy")?;
            let a = AsgAutoscaler::from_json(&c.to_string()).map_err(|e| format!("ASG: {e}"))?;
            Ok(Box::new(a))
        }
        other => Err(format!(
            "{} groups follow the scenario rule: no platform model to replay",
            other.as_str()
        )),
    }
}

impl PlatformPolicy {
    /// The platform's autoscaler for this group, or None to keep the scenario's rule.
    pub fn for_group(
        platform: Platform,
        name: &str,
        policy: &PolicyModel,
        min: u32,
        max: u32,
        capacity_per_replica_rps: f64,
    ) -> Option<PlatformPolicy> {
        let PolicyModel::TargetTracking(tt) = policy else {
            return None;
        };
        let autoscaler = match platform {
            Platform::K8s => {
                let m = hpa_manifest(name, tt, min, max)?;
                let hpa = HpaManifest::from_yaml(&m.to_string())
                    .and_then(|m| m.resolve())
                    .ok()?;
                PlatformAutoscaler::Hpa(Box::new(HpaController::new(hpa)))
            }
            Platform::Aws => {
                let c = asg_config(name, tt, min, max)?;
                PlatformAutoscaler::Asg(Box::new(AsgAutoscaler::from_json(&c.to_string()).ok()?))
            }
            _ => return None,
        };
        Some(PlatformPolicy {
            autoscaler,
            capacity_per_replica_rps,
            last_decision_seconds: None,
        })
    }

    /// Runs the autoscaler when its decision period has come round; None when nothing changes.
    pub fn decide(&mut self, obs: &Observation) -> Option<Decision> {
        let a = self.autoscaler.get();
        let period = f64::from(a.decision_period_seconds());
        if self
            .last_decision_seconds
            .is_some_and(|t| obs.now_seconds - t < period)
        {
            return None;
        }
        self.last_decision_seconds = Some(obs.now_seconds);
        let extra = [
            ("memory_utilization", obs.memory_utilization),
            ("queue_depth", obs.queue_depth),
            ("concurrency", obs.concurrency),
            ("connections", obs.connections),
        ];
        let d = a.decide(&EngineObservation {
            now: obs.now_seconds.floor() as i64,
            pods: PodCounts {
                spec_replicas: obs.desired_replicas,
                ready: obs.ready_replicas,
                unready: obs.desired_replicas.saturating_sub(obs.ready_replicas),
            },
            demand_rps: obs.request_rate_rps,
            capacity_per_replica_rps: self.capacity_per_replica_rps,
            measured_cpu_percent: Some(obs.cpu_utilization),
            extra: &extra,
        });
        (d.desired != obs.desired_replicas).then(|| Decision {
            desired_replicas: d.desired,
            reason: d.explanation.first().cloned().unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::MetricTarget;

    fn tt(metric: MetricKind, target: f64) -> PolicyModel {
        PolicyModel::TargetTracking(TargetTrackingPolicy {
            targets: vec![MetricTarget { metric, target }],
            tolerance: 0.1,
            scale_up_cooldown_seconds: 0,
            scale_down_stabilization_seconds: 300,
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
            request_rate_rps: cpu * f64::from(ready),
            ..Default::default()
        }
    }

    #[test]
    fn k8s_groups_run_the_hpa_controller() {
        let mut p = PlatformPolicy::for_group(
            Platform::K8s,
            "web",
            &tt(MetricKind::CpuUtilization, 70.0),
            1,
            100,
            100.0,
        )
        .expect("hpa");
        // 77% on a 70% target is inside the HPA's closed band; 1 replica at 1000% is limited
        // to 1 + 4 by the default scale-up policy.
        assert_eq!(p.decide(&obs(0.0, 10, 77.0)), None);
        let d = p.decide(&obs(15.0, 1, 1000.0)).expect("scale up");
        assert_eq!(d.desired_replicas, 5, "{}", d.reason);
        // Not before the next 15 s sync.
        assert_eq!(p.decide(&obs(20.0, 5, 1000.0)), None);
    }

    #[test]
    fn aws_groups_run_target_tracking_alarms() {
        let mut p = PlatformPolicy::for_group(
            Platform::Aws,
            "web",
            &tt(MetricKind::CpuUtilization, 50.0),
            1,
            100,
            100.0,
        )
        .expect("asg");
        assert_eq!(p.decide(&obs(0.0, 10, 80.0)), None);
        assert_eq!(p.decide(&obs(60.0, 10, 80.0)), None);
        assert_eq!(
            p.decide(&obs(120.0, 10, 80.0)).map(|d| d.desired_replicas),
            Some(16)
        );
    }

    #[test]
    fn unsupported_policies_keep_the_scenario_rule() {
        assert!(PlatformPolicy::for_group(
            Platform::Aws,
            "q",
            &tt(MetricKind::QueueDepth, 10.0),
            1,
            10,
            100.0
        )
        .is_none());
        assert!(PlatformPolicy::for_group(
            Platform::K8s,
            "f",
            &PolicyModel::Fixed { replicas: 3 },
            1,
            10,
            100.0
        )
        .is_none());
        assert!(PlatformPolicy::for_group(
            Platform::Sim,
            "s",
            &tt(MetricKind::CpuUtilization, 70.0),
            1,
            10,
            100.0
        )
        .is_none());
    }
}

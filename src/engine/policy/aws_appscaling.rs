//! Application Auto Scaling target tracking for the targets users ask about: Aurora read
//! replicas (`rds:cluster:ReadReplicaCount`) and Lambda provisioned concurrency
//! (`lambda:function:ProvisionedConcurrency`). The document is RegisterScalableTarget's
//! fields plus PutScalingPolicy requests. As the Application Auto Scaling guide documents:
//! the managed alarms (scale out after 3 one-minute datapoints above the target, scale in after
//! 15 below 90% of it), capacity proportional to metric/target, ScaleOutCooldown (a further
//! scale-out inside it only adds what the new computation asks beyond the last one),
//! ScaleInCooldown (no scale-in until it has passed since the last scaling activity; a
//! scale-out is never blocked by it), DisableScaleIn.

use serde::{Deserialize, Serialize};

use super::{Autoscaler, Decision, Observation, PolicyError};

const DATAPOINT_SECONDS: u32 = 60;
const HIGH_DATAPOINTS: u32 = 3;
const LOW_DATAPOINTS: u32 = 15;
const LOW_FACTOR: f64 = 0.9;
const DEFAULT_COOLDOWN_SECONDS: u32 = 300;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScalableTargetConfig {
    pub service_namespace: String,
    #[serde(default)]
    pub resource_id: String,
    pub scalable_dimension: String,
    pub min_capacity: u32,
    pub max_capacity: u32,
    pub scaling_policies: Vec<AppScalingPolicy>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AppScalingPolicy {
    pub policy_name: String,
    pub policy_type: String,
    pub target_tracking_scaling_policy_configuration: AppTargetTracking,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AppTargetTracking {
    pub target_value: f64,
    pub predefined_metric_specification: AppPredefinedMetric,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_out_cooldown: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_in_cooldown: Option<u32>,
    #[serde(default)]
    pub disable_scale_in: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AppPredefinedMetric {
    pub predefined_metric_type: String,
}

/// Which figure a predefined metric is, in a replay.
#[derive(Debug, Clone, Copy, PartialEq)]
enum AppMetric {
    /// Average CPU of the readers, percent.
    ReaderCpu,
    /// Average connections per reader, from an input series `connections` (group total).
    ReaderConnections,
    /// Provisioned concurrency in use / allocated (0-1), from an input series `concurrency`.
    ProvisionedConcurrencyUtilization,
}

#[derive(Debug, Clone)]
struct Tracker {
    policy: AppScalingPolicy,
    metric: AppMetric,
    above: u32,
    below: u32,
}

#[derive(Debug, Clone)]
pub struct AppAutoscaler {
    pub config: ScalableTargetConfig,
    trackers: Vec<Tracker>,
    last_scale_out: Option<(i64, u32)>,
    last_activity: Option<i64>,
}

fn field(path: String, message: impl Into<String>) -> PolicyError {
    PolicyError::Field {
        field: path,
        message: message.into(),
    }
}

impl AppAutoscaler {
    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        let config: ScalableTargetConfig =
            serde_json::from_str(text).map_err(|e| PolicyError::Parse {
                message: format!("line {}: {e}", e.line()),
            })?;
        if !matches!(
            config.scalable_dimension.as_str(),
            "rds:cluster:ReadReplicaCount" | "lambda:function:ProvisionedConcurrency"
        ) {
            return Err(field(
                "ScalableDimension".into(),
                format!(
                    "'{}': replay supports rds:cluster:ReadReplicaCount and lambda:function:ProvisionedConcurrency",
                    config.scalable_dimension
                ),
            ));
        }
        if config.max_capacity == 0 || config.min_capacity > config.max_capacity {
            return Err(field(
                "MinCapacity".into(),
                format!(
                    "MinCapacity {} must not exceed MaxCapacity {} (> 0)",
                    config.min_capacity, config.max_capacity
                ),
            ));
        }
        let mut trackers = Vec::new();
        for (i, p) in config.scaling_policies.iter().enumerate() {
            let at = |f: &str| format!("ScalingPolicies[{i}].{f}");
            if p.policy_type != "TargetTrackingScaling" {
                return Err(field(
                    at("PolicyType"),
                    "only TargetTrackingScaling is replayed for these targets",
                ));
            }
            let t = &p.target_tracking_scaling_policy_configuration;
            if !(t.target_value.is_finite() && t.target_value > 0.0) {
                return Err(field(
                    at("TargetTrackingScalingPolicyConfiguration.TargetValue"),
                    "must be a positive number",
                ));
            }
            let metric = match t.predefined_metric_specification.predefined_metric_type.as_str() {
                "RDSReaderAverageCPUUtilization" => AppMetric::ReaderCpu,
                "RDSReaderAverageDatabaseConnections" => AppMetric::ReaderConnections,
                "LambdaProvisionedConcurrencyUtilization" => AppMetric::ProvisionedConcurrencyUtilization,
                other => {
                    return Err(field(
                        at("TargetTrackingScalingPolicyConfiguration.PredefinedMetricSpecification.PredefinedMetricType"),
                        format!("'{other}' is not replayed"),
                    ))
                }
            };
            trackers.push(Tracker {
                policy: p.clone(),
                metric,
                above: 0,
                below: 0,
            });
        }
        if trackers.is_empty() {
            return Err(field("ScalingPolicies".into(), "no scaling policy given"));
        }
        Ok(Self {
            config,
            trackers,
            last_scale_out: None,
            last_activity: None,
        })
    }

    fn read(metric: AppMetric, obs: &Observation) -> Option<f64> {
        let ready = f64::from(obs.pods.ready);
        match metric {
            AppMetric::ReaderCpu => obs.cpu_percent(),
            AppMetric::ReaderConnections => obs
                .extra("connections")
                .filter(|_| ready > 0.0)
                .map(|c| c / ready),
            AppMetric::ProvisionedConcurrencyUtilization => {
                let allocated = f64::from(obs.pods.spec_replicas);
                obs.extra("concurrency")
                    .filter(|_| allocated > 0.0)
                    .map(|c| c / allocated)
            }
        }
    }
}

impl Autoscaler for AppAutoscaler {
    fn describe(&self) -> String {
        let t: Vec<String> = self
            .trackers
            .iter()
            .map(|t| {
                let c = &t.policy.target_tracking_scaling_policy_configuration;
                format!(
                    "{} target {}",
                    c.predefined_metric_specification.predefined_metric_type, c.target_value
                )
            })
            .collect();
        format!(
            "AppAutoScaling {}: {}",
            self.config.scalable_dimension,
            t.join(", ")
        )
    }

    fn bounds(&self) -> (u32, u32) {
        (self.config.min_capacity, self.config.max_capacity)
    }

    fn decision_period_seconds(&self) -> u32 {
        DATAPOINT_SECONDS
    }

    fn target_utilization(&self) -> f64 {
        self.trackers
            .iter()
            .find(|t| t.metric == AppMetric::ReaderCpu)
            .map_or(1.0, |t| {
                t.policy
                    .target_tracking_scaling_policy_configuration
                    .target_value
                    / 100.0
            })
    }

    fn tolerance(&self) -> f64 {
        1.0 - LOW_FACTOR
    }

    fn required_series(&self) -> Vec<String> {
        self.trackers
            .iter()
            .filter_map(|t| match t.metric {
                AppMetric::ReaderCpu => None,
                AppMetric::ReaderConnections => Some("connections".to_string()),
                AppMetric::ProvisionedConcurrencyUtilization => Some("concurrency".to_string()),
            })
            .collect()
    }

    fn decide(&mut self, obs: &Observation) -> Decision {
        let current = obs.pods.spec_replicas;
        let (min, max) = self.bounds();
        let mut lines = Vec::new();
        let mut out: Option<u32> = None;
        let mut ins: Vec<Option<u32>> = Vec::new();
        let base = f64::from(
            if self
                .trackers
                .iter()
                .any(|t| t.metric == AppMetric::ProvisionedConcurrencyUtilization)
            {
                current
            } else {
                obs.pods.ready
            },
        );
        for t in &mut self.trackers {
            let c = &t.policy.target_tracking_scaling_policy_configuration;
            let Some(v) = Self::read(t.metric, obs) else {
                t.above = 0;
                t.below = 0;
                ins.push(None);
                continue;
            };
            t.above = if v > c.target_value { t.above + 1 } else { 0 };
            t.below = if v < LOW_FACTOR * c.target_value {
                t.below + 1
            } else {
                0
            };
            let proportional = (base.max(1.0) * v / c.target_value).ceil() as u32;
            let name = &c.predefined_metric_specification.predefined_metric_type;
            if t.above >= HIGH_DATAPOINTS {
                let cooldown = i64::from(c.scale_out_cooldown.unwrap_or(DEFAULT_COOLDOWN_SECONDS));
                // Inside the scale-out cooldown, only what exceeds the last scale-out is added.
                let floor = self
                    .last_scale_out
                    .filter(|(at, _)| obs.now - at < cooldown)
                    .map_or(current, |(_, to)| to.max(current));
                lines.push(format!(
                    "{name} {v:.2} > {} for {} min -> {proportional}",
                    c.target_value, t.above
                ));
                if proportional > floor {
                    out = Some(out.map_or(proportional, |o| o.max(proportional)));
                }
                ins.push(None);
            } else if t.below >= LOW_DATAPOINTS && !c.disable_scale_in {
                let cooldown = i64::from(c.scale_in_cooldown.unwrap_or(DEFAULT_COOLDOWN_SECONDS));
                if self.last_activity.is_some_and(|at| obs.now - at < cooldown) {
                    lines.push(format!("{name}: scale-in cooldown"));
                    ins.push(None);
                } else {
                    lines.push(format!(
                        "{name} {v:.2} < {:.2} for {} min -> {proportional}",
                        LOW_FACTOR * c.target_value,
                        t.below
                    ));
                    ins.push(Some(proportional));
                }
            } else {
                ins.push(None);
            }
        }
        let proposal = match out {
            Some(o) if o > current => o,
            _ if !ins.is_empty() && ins.iter().all(Option::is_some) => {
                ins.iter().flatten().copied().max().unwrap_or(current)
            }
            _ => current,
        };
        let desired = proposal.clamp(min, max);
        if desired > current {
            self.last_scale_out = Some((obs.now, desired));
        }
        if desired != current {
            self.last_activity = Some(obs.now);
        }
        if lines.is_empty() {
            lines.push("no alarm in ALARM state".into());
        }
        Decision {
            desired,
            explanation: lines,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::policy::PodCounts;

    const AURORA: &str = r#"{"ServiceNamespace":"rds","ResourceId":"cluster:analytics","ScalableDimension":"rds:cluster:ReadReplicaCount",
      "MinCapacity":0,"MaxCapacity":10,"ScalingPolicies":[{"PolicyName":"cpu60","PolicyType":"TargetTrackingScaling",
      "TargetTrackingScalingPolicyConfiguration":{"TargetValue":60,"PredefinedMetricSpecification":{"PredefinedMetricType":"RDSReaderAverageCPUUtilization"},
      "ScaleOutCooldown":30,"ScaleInCooldown":300}}]}"#;

    fn step(
        a: &mut AppAutoscaler,
        now: i64,
        spec: u32,
        ready: u32,
        cpu: f64,
        extra: &[(&str, f64)],
    ) -> u32 {
        a.decide(&Observation {
            now,
            pods: PodCounts {
                spec_replicas: spec,
                ready,
                unready: spec - ready,
            },
            demand_rps: cpu * f64::from(ready),
            capacity_per_replica_rps: 100.0,
            measured_cpu_percent: None,
            extra,
        })
        .desired
    }

    #[test]
    fn aurora_readers_scale_out_after_3_minutes_and_in_after_cooldown() {
        let mut a = AppAutoscaler::from_json(AURORA).unwrap();
        assert_eq!(step(&mut a, 0, 2, 2, 90.0, &[]), 2);
        assert_eq!(step(&mut a, 60, 2, 2, 90.0, &[]), 2);
        assert_eq!(step(&mut a, 120, 2, 2, 90.0, &[]), 3, "ceil(2 x 90/60)");
        // Load falls; 15 datapoints under 54% and the 300 s scale-in cooldown both pass.
        let mut spec = 3;
        let mut trace = Vec::new();
        for m in 3..25 {
            spec = step(&mut a, m * 60, spec, spec, 20.0, &[]);
            trace.push(spec);
        }
        assert_eq!(*trace.last().unwrap(), 1, "{trace:?}");
        assert_eq!(
            trace[..14].iter().max(),
            Some(&3),
            "no scale-in before 15 low datapoints: {trace:?}"
        );
    }

    #[test]
    fn lambda_provisioned_concurrency_tracks_utilization() {
        let text = r#"{"ServiceNamespace":"lambda","ResourceId":"function:checkout:live","ScalableDimension":"lambda:function:ProvisionedConcurrency",
          "MinCapacity":10,"MaxCapacity":500,"ScalingPolicies":[{"PolicyName":"pc70","PolicyType":"TargetTrackingScaling",
          "TargetTrackingScalingPolicyConfiguration":{"TargetValue":0.7,"PredefinedMetricSpecification":{"PredefinedMetricType":"LambdaProvisionedConcurrencyUtilization"}}}]}"#;
        let mut a = AppAutoscaler::from_json(text).unwrap();
        assert_eq!(a.required_series(), vec!["concurrency".to_string()]);
        let c = [("concurrency", 90.0)];
        // 90 concurrent on 100 provisioned = 0.9 > 0.7: after 3 min ceil(100 x 0.9/0.7) = 129.
        let mut last = 0;
        for m in 0..3 {
            last = step(&mut a, m * 60, 100, 100, 0.0, &c);
        }
        assert_eq!(last, 129);
        let e = AppAutoscaler::from_json(&text.replace(
            "lambda:function:ProvisionedConcurrency",
            "ecs:service:DesiredCount",
        ))
        .unwrap_err();
        assert!(e.to_string().contains("ScalableDimension"), "{e}");
    }
}

//! An EC2 Auto Scaling group's scaling configuration in the AWS API's own shapes: the group's
//! limits (CreateAutoScalingGroup), its policies (PutScalingPolicy request objects) and the
//! CloudWatch alarms that drive step and simple policies (PutMetricAlarm). This is what
//! `aws autoscaling describe-policies` / `cloudwatch describe-alarms` give back, gathered in one
//! JSON document.

use serde::{Deserialize, Serialize};

use super::PolicyError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AsgScalingConfig {
    #[serde(default)]
    pub auto_scaling_group_name: String,
    pub min_size: u32,
    pub max_size: u32,
    /// Seconds before a new instance's metrics count (EC2 Auto Scaling default instance warmup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_instance_warmup: Option<u32>,
    /// Simple-scaling cooldown, seconds (API default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_cooldown: Option<u32>,
    #[serde(default)]
    pub scaling_policies: Vec<ScalingPolicy>,
    #[serde(default)]
    pub alarms: Vec<MetricAlarm>,
    /// PutScheduledUpdateGroupAction requests.
    #[serde(default)]
    pub scheduled_actions: Vec<ScheduledAction>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScheduledAction {
    pub scheduled_action_name: String,
    /// RFC 3339; the first (or only) run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// Unix cron, five fields, in `time_zone` (UTC by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<String>,
    /// IANA zone of the recurrence (StartTime and EndTime are UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_capacity: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScalingPolicy {
    pub policy_name: String,
    pub policy_type: PolicyType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_tracking_configuration: Option<TargetTrackingConfiguration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment_type: Option<AdjustmentType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_adjustments: Option<Vec<StepAdjustment>>,
    /// Simple scaling: the adjustment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling_adjustment: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_adjustment_magnitude: Option<i32>,
    /// Simple scaling cooldown, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_instance_warmup: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predictive_scaling_configuration: Option<PredictiveScalingConfiguration>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PredictiveScalingConfiguration {
    pub metric_specifications: Vec<PredictiveMetricSpecification>,
    /// ForecastOnly (default) or ForecastAndScale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    /// Seconds to launch ahead of the forecast hour (0-3600).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduling_buffer_time: Option<u32>,
    /// HonorMaxCapacity (default) or IncreaseMaxCapacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_capacity_breach_behavior: Option<String>,
    /// Percent above the forecast MaxSize may rise to with IncreaseMaxCapacity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_capacity_buffer: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PredictiveMetricSpecification {
    pub target_value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predefined_metric_pair_specification: Option<PredefinedMetric>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyType {
    TargetTrackingScaling,
    StepScaling,
    SimpleScaling,
    PredictiveScaling,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdjustmentType {
    ChangeInCapacity,
    ExactCapacity,
    PercentChangeInCapacity,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TargetTrackingConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predefined_metric_specification: Option<PredefinedMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customized_metric_specification: Option<CustomizedMetric>,
    pub target_value: f64,
    #[serde(default)]
    pub disable_scale_in: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PredefinedMetric {
    pub predefined_metric_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomizedMetric {
    pub metric_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistic: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StepAdjustment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_interval_lower_bound: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_interval_upper_bound: Option<f64>,
    pub scaling_adjustment: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetricAlarm {
    pub alarm_name: String,
    pub metric_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistic: Option<String>,
    /// Seconds per datapoint (60 with detailed monitoring).
    #[serde(default = "default_period")]
    pub period: u32,
    pub evaluation_periods: u32,
    /// M of "M out of N" (defaults to N).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<u32>,
    pub threshold: f64,
    pub comparison_operator: ComparisonOperator,
    /// Policy names this alarm executes.
    #[serde(default)]
    pub alarm_actions: Vec<String>,
}

fn default_period() -> u32 {
    60
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ComparisonOperator {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
}

impl ComparisonOperator {
    pub fn breached(self, value: f64, threshold: f64) -> bool {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => value >= threshold,
            ComparisonOperator::GreaterThanThreshold => value > threshold,
            ComparisonOperator::LessThanThreshold => value < threshold,
            ComparisonOperator::LessThanOrEqualToThreshold => value <= threshold,
        }
    }
}

fn field(path: String, message: impl Into<String>) -> PolicyError {
    PolicyError::Field {
        field: path,
        message: message.into(),
    }
}

impl AsgScalingConfig {
    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        let c: AsgScalingConfig = serde_json::from_str(text).map_err(|e| PolicyError::Parse {
            message: format!("line {}: {e}", e.line()),
        })?;
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> Result<(), PolicyError> {
        if self.max_size == 0 {
            return Err(field("MaxSize".into(), "must be at least 1"));
        }
        if self.min_size > self.max_size {
            return Err(field(
                "MinSize".into(),
                format!(
                    "MinSize {} is greater than MaxSize {}",
                    self.min_size, self.max_size
                ),
            ));
        }
        if self.scaling_policies.is_empty() && self.scheduled_actions.is_empty() {
            return Err(field(
                "ScalingPolicies".into(),
                "no scaling policy or scheduled action given",
            ));
        }
        for (i, a) in self.scheduled_actions.iter().enumerate() {
            let at = |f: &str| format!("ScheduledActions[{i}].{f}");
            if a.recurrence.is_none() && a.start_time.is_none() {
                return Err(field(at("Recurrence"), "needs Recurrence or StartTime"));
            }
            if a.min_size.is_none() && a.max_size.is_none() && a.desired_capacity.is_none() {
                return Err(field(
                    at("DesiredCapacity"),
                    "needs MinSize, MaxSize or DesiredCapacity",
                ));
            }
            let tz = super::schedule::parse_time_zone(a.time_zone.as_deref().unwrap_or("UTC"))
                .map_err(|e| field(at("TimeZone"), e))?;
            if let Some(r) = &a.recurrence {
                super::schedule::CronSchedule::new(r, tz)
                    .map_err(|e| field(at("Recurrence"), e))?;
            }
            for (name, t) in [("StartTime", &a.start_time), ("EndTime", &a.end_time)] {
                if let Some(t) = t {
                    chrono::DateTime::parse_from_rfc3339(t)
                        .map_err(|e| field(at(name), format!("'{t}': {e}")))?;
                }
            }
        }
        for (i, p) in self.scaling_policies.iter().enumerate() {
            let at = |f: &str| format!("ScalingPolicies[{i}].{f}");
            match p.policy_type {
                PolicyType::TargetTrackingScaling => {
                    let t = p.target_tracking_configuration.as_ref().ok_or_else(|| {
                        field(
                            at("TargetTrackingConfiguration"),
                            "is required for TargetTrackingScaling",
                        )
                    })?;
                    if !(t.target_value.is_finite() && t.target_value > 0.0) {
                        return Err(field(
                            at("TargetTrackingConfiguration.TargetValue"),
                            "must be a positive number",
                        ));
                    }
                    if t.predefined_metric_specification.is_none()
                        && t.customized_metric_specification.is_none()
                    {
                        return Err(field(
                            at("TargetTrackingConfiguration"),
                            "needs PredefinedMetricSpecification or CustomizedMetricSpecification",
                        ));
                    }
                }
                PolicyType::StepScaling => {
                    let steps = p.step_adjustments.as_ref().ok_or_else(|| {
                        field(at("StepAdjustments"), "is required for StepScaling")
                    })?;
                    if steps.is_empty() {
                        return Err(field(at("StepAdjustments"), "must not be empty"));
                    }
                    if p.adjustment_type.is_none() {
                        return Err(field(at("AdjustmentType"), "is required for StepScaling"));
                    }
                }
                PolicyType::SimpleScaling => {
                    if p.scaling_adjustment.is_none() || p.adjustment_type.is_none() {
                        return Err(field(
                            at("ScalingAdjustment"),
                            "SimpleScaling needs ScalingAdjustment and AdjustmentType",
                        ));
                    }
                }
                PolicyType::PredictiveScaling => {
                    let c = p.predictive_scaling_configuration.as_ref().ok_or_else(|| {
                        field(
                            at("PredictiveScalingConfiguration"),
                            "is required for PredictiveScaling",
                        )
                    })?;
                    let m = c.metric_specifications.first().ok_or_else(|| {
                        field(
                            at("PredictiveScalingConfiguration.MetricSpecifications"),
                            "needs one metric specification",
                        )
                    })?;
                    if !(m.target_value.is_finite() && m.target_value > 0.0) {
                        return Err(field(
                            at("PredictiveScalingConfiguration.MetricSpecifications[0].TargetValue"),
                            "must be a positive number",
                        ));
                    }
                    let pair = m
                        .predefined_metric_pair_specification
                        .as_ref()
                        .map(|p| p.predefined_metric_type.as_str());
                    if !matches!(pair, Some("ASGCPUUtilization" | "ALBRequestCount")) {
                        return Err(field(
                            at("PredictiveScalingConfiguration.MetricSpecifications[0].PredefinedMetricPairSpecification"),
                            "replay supports the ASGCPUUtilization and ALBRequestCount metric pairs",
                        ));
                    }
                    if c.scheduling_buffer_time.is_some_and(|b| b > 3600) {
                        return Err(field(
                            at("PredictiveScalingConfiguration.SchedulingBufferTime"),
                            "must be at most 3600",
                        ));
                    }
                }
            }
            if matches!(
                p.policy_type,
                PolicyType::StepScaling | PolicyType::SimpleScaling
            ) && !self
                .alarms
                .iter()
                .any(|a| a.alarm_actions.contains(&p.policy_name))
            {
                return Err(field(
                    at("PolicyName"),
                    format!("no alarm in Alarms executes policy '{}'", p.policy_name),
                ));
            }
        }
        for (i, a) in self.alarms.iter().enumerate() {
            if a.evaluation_periods == 0 || a.period == 0 {
                return Err(field(
                    format!("Alarms[{i}].EvaluationPeriods"),
                    "EvaluationPeriods and Period must be at least 1",
                ));
            }
        }
        Ok(())
    }
}

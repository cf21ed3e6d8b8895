//! A group's live scaling configuration as the JSON document `engine::policy::parse_policy`
//! reads for ASGs (`aws_spec::AsgScalingConfig`): the group's limits and cooldowns
//! (DescribeAutoScalingGroups), its policies (DescribePolicies), the CloudWatch alarms that run
//! its step and simple policies (DescribeAlarms) and its scheduled actions
//! (DescribeScheduledActions). What the replay cannot read is left out and named in a note,
//! never guessed.

use aws_sdk_autoscaling::types::{
    AutoScalingGroup, ScalingPolicy as SdkPolicy, ScheduledUpdateGroupAction,
};
use aws_sdk_cloudwatch::types::MetricAlarm as SdkAlarm;

use crate::engine::policy::aws_spec::{
    AdjustmentType, AsgScalingConfig, ComparisonOperator, CustomizedMetric, MetricAlarm,
    PolicyType, PredefinedMetric, PredictiveMetricSpecification, PredictiveScalingConfiguration,
    ScalingPolicy, ScheduledAction, StepAdjustment, TargetTrackingConfiguration,
};
use crate::model::PolicyModel;

fn uint(v: Option<i32>) -> Option<u32> {
    v.and_then(|v| u32::try_from(v).ok())
}

/// Reads a string enum of the API (e.g. "ChangeInCapacity") into the spec's enum.
fn spec_enum<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

fn time(t: Option<&aws_sdk_autoscaling::primitives::DateTime>) -> Option<String> {
    let t = t?;
    chrono::DateTime::from_timestamp(t.secs(), 0).map(|d| d.to_rfc3339())
}

fn target_tracking(p: &SdkPolicy) -> Result<TargetTrackingConfiguration, String> {
    let t = p
        .target_tracking_configuration()
        .ok_or("no TargetTrackingConfiguration")?;
    let predefined = t
        .predefined_metric_specification()
        .map(|m| PredefinedMetric {
            predefined_metric_type: m
                .predefined_metric_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            resource_label: m.resource_label().map(str::to_string),
        });
    let customized = match t.customized_metric_specification() {
        Some(c) => Some(CustomizedMetric {
            metric_name: c
                .metric_name()
                .ok_or("a metric-math customized metric (not replayed)")?
                .to_string(),
            namespace: c.namespace().map(str::to_string),
            statistic: c.statistic().map(|s| s.as_str().to_string()),
        }),
        None => None,
    };
    Ok(TargetTrackingConfiguration {
        predefined_metric_specification: predefined,
        customized_metric_specification: customized,
        target_value: t.target_value().ok_or("no TargetValue")?,
        disable_scale_in: t.disable_scale_in().unwrap_or(false),
    })
}

fn predictive(p: &SdkPolicy) -> Result<PredictiveScalingConfiguration, String> {
    let c = p
        .predictive_scaling_configuration()
        .ok_or("no PredictiveScalingConfiguration")?;
    let metric_specifications = c
        .metric_specifications()
        .iter()
        .map(|m| {
            let pair = m
                .predefined_metric_pair_specification()
                .ok_or("a customized or split predictive metric (not replayed)")?;
            Ok(PredictiveMetricSpecification {
                target_value: m.target_value().ok_or("no TargetValue")?,
                predefined_metric_pair_specification: Some(PredefinedMetric {
                    predefined_metric_type: pair
                        .predefined_metric_type()
                        .map(|t| t.as_str().to_string())
                        .unwrap_or_default(),
                    resource_label: pair.resource_label().map(str::to_string),
                }),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(PredictiveScalingConfiguration {
        metric_specifications,
        mode: c.mode().map(|m| m.as_str().to_string()),
        scheduling_buffer_time: uint(c.scheduling_buffer_time()),
        max_capacity_breach_behavior: c
            .max_capacity_breach_behavior()
            .map(|b| b.as_str().to_string()),
        max_capacity_buffer: uint(c.max_capacity_buffer()),
    })
}

fn policy(p: &SdkPolicy) -> Result<ScalingPolicy, String> {
    let policy_type: PolicyType = p
        .policy_type()
        .and_then(spec_enum)
        .ok_or_else(|| format!("policy type {:?} (not replayed)", p.policy_type()))?;
    let adjustment_type: Option<AdjustmentType> = p.adjustment_type().and_then(spec_enum);
    let steps: Vec<StepAdjustment> = p
        .step_adjustments()
        .iter()
        .filter_map(|s| {
            Some(StepAdjustment {
                metric_interval_lower_bound: s.metric_interval_lower_bound(),
                metric_interval_upper_bound: s.metric_interval_upper_bound(),
                scaling_adjustment: s.scaling_adjustment()?,
            })
        })
        .collect();
    Ok(ScalingPolicy {
        policy_name: p.policy_name().unwrap_or_default().to_string(),
        policy_type,
        target_tracking_configuration: (policy_type == PolicyType::TargetTrackingScaling)
            .then(|| target_tracking(p))
            .transpose()?,
        adjustment_type,
        step_adjustments: (policy_type == PolicyType::StepScaling).then_some(steps),
        scaling_adjustment: p.scaling_adjustment(),
        min_adjustment_magnitude: p.min_adjustment_magnitude(),
        cooldown: uint(p.cooldown()),
        estimated_instance_warmup: uint(p.estimated_instance_warmup()),
        enabled: p.enabled(),
        predictive_scaling_configuration: (policy_type == PolicyType::PredictiveScaling)
            .then(|| predictive(p))
            .transpose()?,
    })
}

/// An alarm that runs some of `policies` (matched by policy ARN), in the spec's shape.
fn alarm(a: &SdkAlarm, policies: &[&SdkPolicy]) -> Result<MetricAlarm, String> {
    let name = a.alarm_name().unwrap_or_default().to_string();
    let actions: Vec<String> = a
        .alarm_actions()
        .iter()
        .filter_map(|arn| {
            policies
                .iter()
                .find(|p| p.policy_arn() == Some(arn.as_str()))
                .and_then(|p| p.policy_name())
                .map(str::to_string)
        })
        .collect();
    let op = a
        .comparison_operator()
        .map(|c| c.as_str().to_string())
        .unwrap_or_default();
    let comparison_operator: ComparisonOperator =
        spec_enum(&op).ok_or_else(|| format!("alarm {name}: comparison {op} (not replayed)"))?;
    Ok(MetricAlarm {
        metric_name: a
            .metric_name()
            .ok_or_else(|| format!("alarm {name}: a metric-math alarm (not replayed)"))?
            .to_string(),
        namespace: a.namespace().map(str::to_string),
        statistic: a.statistic().map(|s| s.as_str().to_string()),
        period: uint(a.period()).unwrap_or(60),
        evaluation_periods: uint(a.evaluation_periods()).unwrap_or(1),
        datapoints_to_alarm: uint(a.datapoints_to_alarm()),
        threshold: a
            .threshold()
            .ok_or_else(|| format!("alarm {name}: no threshold"))?,
        comparison_operator,
        alarm_actions: actions,
        alarm_name: name,
    })
}

fn scheduled(s: &ScheduledUpdateGroupAction) -> ScheduledAction {
    ScheduledAction {
        scheduled_action_name: s.scheduled_action_name().unwrap_or_default().to_string(),
        // A one-off action's time is StartTime (Time is its deprecated twin).
        start_time: time(s.start_time().or(s.time())),
        end_time: time(s.end_time()),
        recurrence: s.recurrence().map(str::to_string),
        time_zone: s.time_zone().map(str::to_string),
        min_size: uint(s.min_size()),
        max_size: uint(s.max_size()),
        desired_capacity: uint(s.desired_capacity()),
    }
}

/// The group's policy model and notes on what was left out. A group with no policy and no
/// scheduled action keeps its desired capacity until someone changes it: `Fixed`.
pub fn build(
    group: &AutoScalingGroup,
    policies: &[&SdkPolicy],
    actions: &[&ScheduledUpdateGroupAction],
    alarms: &[SdkAlarm],
) -> (PolicyModel, Vec<String>) {
    let mut notes = Vec::new();
    let mut scaling_policies = Vec::new();
    for p in policies {
        match policy(p) {
            Ok(sp) => scaling_policies.push(sp),
            Err(e) => notes.push(format!(
                "policy {}: {e}",
                p.policy_name().unwrap_or_default()
            )),
        }
    }
    let mut spec_alarms = Vec::new();
    for a in alarms {
        match alarm(a, policies) {
            Ok(al) if !al.alarm_actions.is_empty() => spec_alarms.push(al),
            Ok(_) => {}
            Err(e) => notes.push(e),
        }
    }
    // A step or simple policy no alarm runs never acts; the replay needs its alarm.
    scaling_policies.retain(|p| {
        let alarm_driven = matches!(
            p.policy_type,
            PolicyType::StepScaling | PolicyType::SimpleScaling
        );
        let runs = spec_alarms
            .iter()
            .any(|a| a.alarm_actions.contains(&p.policy_name));
        if alarm_driven && !runs {
            notes.push(format!(
                "policy {}: no CloudWatch alarm runs it (left out of the replay)",
                p.policy_name
            ));
        }
        !alarm_driven || runs
    });
    let scheduled_actions: Vec<ScheduledAction> = actions.iter().map(|s| scheduled(s)).collect();
    let desired = uint(group.desired_capacity()).unwrap_or(0);
    if scaling_policies.is_empty() && scheduled_actions.is_empty() {
        return (PolicyModel::Fixed { replicas: desired }, notes);
    }
    let config = AsgScalingConfig {
        auto_scaling_group_name: group.auto_scaling_group_name().unwrap_or_default().into(),
        min_size: uint(group.min_size()).unwrap_or(0),
        max_size: uint(group.max_size()).unwrap_or(0),
        default_instance_warmup: uint(group.default_instance_warmup()),
        default_cooldown: uint(group.default_cooldown()),
        scaling_policies,
        alarms: spec_alarms,
        scheduled_actions,
    };
    match serde_json::to_string_pretty(&config) {
        Ok(text) => (PolicyModel::Native { text }, notes),
        Err(e) => {
            notes.push(format!("policy document: {e}"));
            (PolicyModel::Unknown, notes)
        }
    }
}

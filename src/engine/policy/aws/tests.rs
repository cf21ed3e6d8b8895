//! EC2 Auto Scaling behaviour against the EC2 Auto Scaling User Guide's worked examples
//! ("Step and simple scaling policies", "Target tracking scaling policies").

use super::*;
use crate::engine::policy::PodCounts;

fn obs(now: i64, spec: u32, ready: u32, cpu: f64) -> (i64, PodCounts, f64) {
    // Demand chosen so that CPU of ready instances is `cpu` at 100 rps per instance.
    (
        now,
        PodCounts {
            spec_replicas: spec,
            ready,
            unready: spec.saturating_sub(ready),
        },
        cpu * f64::from(ready),
    )
}

fn decide(a: &mut AsgAutoscaler, o: (i64, PodCounts, f64)) -> Decision {
    a.decide(&Observation {
        now: o.0,
        pods: o.1,
        demand_rps: o.2,
        capacity_per_replica_rps: 100.0,
        measured_cpu_percent: None,
        extra: &[],
    })
}

fn target_tracking(target: f64, extra: &str) -> AsgAutoscaler {
    AsgAutoscaler::from_json(&format!(
        r#"{{"AutoScalingGroupName":"web","MinSize":2,"MaxSize":40,"ScalingPolicies":[
        {{"PolicyName":"cpu","PolicyType":"TargetTrackingScaling","TargetTrackingConfiguration":
          {{"PredefinedMetricSpecification":{{"PredefinedMetricType":"ASGAverageCPUUtilization"}},"TargetValue":{target}{extra}}}}}]}}"#
    ))
    .expect("valid config")
}

/// The guide's step scaling example: CPU alarm at 50 for scale-out with +10% for 60-70 and
/// +30% above 70; alarm at 40 for scale-in with -10% for 30-40 and -30% below 30.
fn guide_step_policies() -> AsgAutoscaler {
    AsgAutoscaler::from_json(r#"{"MinSize":1,"MaxSize":100,"ScalingPolicies":[
      {"PolicyName":"out","PolicyType":"StepScaling","AdjustmentType":"PercentChangeInCapacity",
       "StepAdjustments":[{"MetricIntervalLowerBound":0,"MetricIntervalUpperBound":10,"ScalingAdjustment":0},
                          {"MetricIntervalLowerBound":10,"MetricIntervalUpperBound":20,"ScalingAdjustment":10},
                          {"MetricIntervalLowerBound":20,"ScalingAdjustment":30}]},
      {"PolicyName":"in","PolicyType":"StepScaling","AdjustmentType":"PercentChangeInCapacity",
       "StepAdjustments":[{"MetricIntervalLowerBound":-10,"MetricIntervalUpperBound":0,"ScalingAdjustment":-10},
                          {"MetricIntervalUpperBound":-10,"ScalingAdjustment":-30}]}],
     "Alarms":[
      {"AlarmName":"high","MetricName":"CPUUtilization","EvaluationPeriods":1,"Threshold":50,"ComparisonOperator":"GreaterThanOrEqualToThreshold","AlarmActions":["out"]},
      {"AlarmName":"low","MetricName":"CPUUtilization","EvaluationPeriods":1,"Threshold":40,"ComparisonOperator":"LessThanOrEqualToThreshold","AlarmActions":["in"]}]}"#)
    .expect("valid config")
}

#[test]
fn guide_step_example_scale_out_and_in() {
    // 10 instances at 60%: +10% -> 11. At 70%: +30% -> 13. At 35%: -10% -> 9. At 25%: -30% -> 7.
    assert_eq!(
        decide(&mut guide_step_policies(), obs(0, 10, 10, 60.0)).desired,
        11
    );
    assert_eq!(
        decide(&mut guide_step_policies(), obs(0, 10, 10, 70.0)).desired,
        13
    );
    assert_eq!(
        decide(&mut guide_step_policies(), obs(0, 10, 10, 35.0)).desired,
        9
    );
    assert_eq!(
        decide(&mut guide_step_policies(), obs(0, 10, 10, 25.0)).desired,
        7
    );
    // 55% is in the 0-10 step: no change.
    assert_eq!(
        decide(&mut guide_step_policies(), obs(0, 10, 10, 55.0)).desired,
        10
    );
}

#[test]
fn percent_rounding_as_documented() {
    use AdjustmentType::PercentChangeInCapacity as P;
    assert_eq!(apply_adjustment(5, P, 10, None), 6, "0.5 rounds to 1");
    assert_eq!(
        apply_adjustment(25, P, 10, None),
        27,
        "2.5 rounds down to 2"
    );
    assert_eq!(
        apply_adjustment(25, P, 10, Some(3)),
        28,
        "MinAdjustmentMagnitude 3"
    );
    assert_eq!(apply_adjustment(5, P, -10, None), 4, "-0.5 rounds to -1");
    assert_eq!(
        apply_adjustment(25, P, -10, None),
        23,
        "-2.5 rounds toward zero to -2"
    );
    assert_eq!(
        apply_adjustment(7, AdjustmentType::ExactCapacity, 3, None),
        3
    );
}

#[test]
fn step_scale_out_counts_warming_instances() {
    // The guide: 10 in service, 2 warming from a +2 step; the same step fires again -> nothing
    // added; a +3 step adds only 1 more.
    let mut a = AsgAutoscaler::from_json(r#"{"MinSize":1,"MaxSize":100,"ScalingPolicies":[
      {"PolicyName":"out","PolicyType":"StepScaling","AdjustmentType":"ChangeInCapacity",
       "StepAdjustments":[{"MetricIntervalLowerBound":0,"MetricIntervalUpperBound":20,"ScalingAdjustment":2},
                          {"MetricIntervalLowerBound":20,"ScalingAdjustment":3}]}],
     "Alarms":[{"AlarmName":"high","MetricName":"CPUUtilization","EvaluationPeriods":1,"Threshold":60,"ComparisonOperator":"GreaterThanThreshold","AlarmActions":["out"]}]}"#).unwrap();
    assert_eq!(decide(&mut a, obs(0, 12, 10, 70.0)).desired, 12);
    assert_eq!(decide(&mut a, obs(60, 12, 10, 85.0)).desired, 13);
}

#[test]
fn target_tracking_waits_3_minutes_then_scales_proportionally() {
    let mut a = target_tracking(50.0, "");
    // 10 instances at 80%: nothing for 2 datapoints, then ceil(10 x 80/50) = 16.
    assert_eq!(decide(&mut a, obs(0, 10, 10, 80.0)).desired, 10);
    assert_eq!(decide(&mut a, obs(60, 10, 10, 80.0)).desired, 10);
    let d = decide(&mut a, obs(120, 10, 10, 80.0));
    assert_eq!(d.desired, 16, "{:?}", d.explanation);
    // While 6 warm up, the metric of the 10 counted stays high: no more than 16 is asked.
    assert_eq!(decide(&mut a, obs(180, 16, 10, 80.0)).desired, 16);
}

#[test]
fn target_tracking_scales_in_after_15_minutes_under_90_percent() {
    let mut a = target_tracking(50.0, "");
    for m in 0..14 {
        assert_eq!(
            decide(&mut a, obs(m * 60, 10, 10, 30.0)).desired,
            10,
            "minute {m}"
        );
    }
    // 15th datapoint below 45: ceil(10 x 30/50) = 6.
    assert_eq!(decide(&mut a, obs(14 * 60, 10, 10, 30.0)).desired, 6);
    // 46% is under the target but not under 45: never scales in.
    let mut a = target_tracking(50.0, "");
    for m in 0..30 {
        assert_eq!(decide(&mut a, obs(m * 60, 10, 10, 46.0)).desired, 10);
    }
}

#[test]
fn disable_scale_in_and_no_scale_in_while_warming() {
    let mut a = target_tracking(50.0, r#","DisableScaleIn":true"#);
    for m in 0..30 {
        assert_eq!(decide(&mut a, obs(m * 60, 10, 10, 10.0)).desired, 10);
    }
    let mut a = target_tracking(50.0, "");
    for m in 0..30 {
        // One instance always warming (11 desired, 10 ready).
        assert_eq!(decide(&mut a, obs(m * 60, 11, 10, 10.0)).desired, 11);
    }
}

#[test]
fn several_target_tracking_policies_scale_in_only_together() {
    let mut a = AsgAutoscaler::from_json(r#"{"MinSize":1,"MaxSize":100,"ScalingPolicies":[
      {"PolicyName":"cpu","PolicyType":"TargetTrackingScaling","TargetTrackingConfiguration":{"PredefinedMetricSpecification":{"PredefinedMetricType":"ASGAverageCPUUtilization"},"TargetValue":50}},
      {"PolicyName":"req","PolicyType":"TargetTrackingScaling","TargetTrackingConfiguration":{"PredefinedMetricSpecification":{"PredefinedMetricType":"ALBRequestCountPerTarget"},"TargetValue":1500}}]}"#).unwrap();
    // CPU 20% wants in; requests per target = 20 rps x 60 = 1200/min < 1350: also in.
    // Both agree after 15 min: the larger of ceil(10 x 20/50) = 4 and ceil(10 x 1200/1500) = 8.
    let mut last = 10;
    for m in 0..15 {
        last = decide(&mut a, obs(m * 60, 10, 10, 20.0)).desired;
    }
    assert_eq!(last, 8);
}

#[test]
fn simple_scaling_honours_cooldown_after_instances_are_in_service() {
    let mut a = AsgAutoscaler::from_json(r#"{"MinSize":1,"MaxSize":100,"DefaultCooldown":300,"ScalingPolicies":[
      {"PolicyName":"add2","PolicyType":"SimpleScaling","AdjustmentType":"ChangeInCapacity","ScalingAdjustment":2}],
     "Alarms":[{"AlarmName":"high","MetricName":"CPUUtilization","EvaluationPeriods":1,"Threshold":70,"ComparisonOperator":"GreaterThanThreshold","AlarmActions":["add2"]}]}"#).unwrap();
    assert_eq!(decide(&mut a, obs(0, 4, 4, 90.0)).desired, 6);
    // Instances launching: no further activity.
    assert_eq!(decide(&mut a, obs(60, 6, 4, 90.0)).desired, 6);
    // In service at 120 s; the cooldown runs to 420 s.
    assert_eq!(decide(&mut a, obs(120, 6, 6, 90.0)).desired, 6);
    assert_eq!(decide(&mut a, obs(360, 6, 6, 90.0)).desired, 6);
    assert_eq!(decide(&mut a, obs(420, 6, 6, 90.0)).desired, 8);
}

#[test]
fn config_errors_name_the_field() {
    let e =
        AsgAutoscaler::from_json(r#"{"MinSize":5,"MaxSize":2,"ScalingPolicies":[]}"#).unwrap_err();
    assert!(e.to_string().contains("MinSize"), "{e}");
    let e = AsgAutoscaler::from_json(r#"{"MinSize":1,"MaxSize":2,"ScalingPolicies":[{"PolicyName":"x","PolicyType":"StepScaling","AdjustmentType":"ChangeInCapacity","StepAdjustments":[{"ScalingAdjustment":1}]}]}"#).unwrap_err();
    assert!(e.to_string().contains("no alarm"), "{e}");
    let e = AsgAutoscaler::from_json(r#"{"MinSize":1,"MaxSize":2,"ScalingPolicies":[{"PolicyName":"x","PolicyType":"TargetTrackingScaling"}]}"#).unwrap_err();
    assert!(
        e.to_string()
            .contains("ScalingPolicies[0].TargetTrackingConfiguration"),
        "{e}"
    );
    assert!(AsgAutoscaler::from_json("{").is_err());
}

#[test]
fn scheduled_actions_move_limits_and_desired() {
    // Weekdays 08:00 UTC: at least 20; 20:00 UTC: back to 2. 2024-01-01 was a Monday.
    let mut a = AsgAutoscaler::from_json(r#"{"MinSize":2,"MaxSize":40,"ScalingPolicies":[
      {"PolicyName":"cpu","PolicyType":"TargetTrackingScaling","TargetTrackingConfiguration":{"PredefinedMetricSpecification":{"PredefinedMetricType":"ASGAverageCPUUtilization"},"TargetValue":50}}],
     "ScheduledActions":[
      {"ScheduledActionName":"morning","Recurrence":"0 8 * * 1-5","MinSize":20,"DesiredCapacity":20},
      {"ScheduledActionName":"evening","Recurrence":"0 20 * * 1-5","MinSize":2}]}"#).unwrap();
    let monday_0759 = 1_704_095_940;
    assert_eq!(decide(&mut a, obs(monday_0759, 5, 5, 50.0)).desired, 5);
    let d = decide(&mut a, obs(monday_0759 + 60, 5, 5, 50.0));
    assert_eq!(d.desired, 20, "{:?}", d.explanation);
    // Low load cannot take it under the scheduled minimum.
    let mut last = 20;
    for m in 2..40 {
        last = decide(&mut a, obs(monday_0759 + m * 60, 20, 20, 5.0)).desired;
    }
    assert_eq!(last, 20);
    // Saturday 08:00 does not fire.
    let mut b = AsgAutoscaler::from_json(
        r#"{"MinSize":2,"MaxSize":40,"ScheduledActions":[
      {"ScheduledActionName":"morning","Recurrence":"0 8 * * 1-5","DesiredCapacity":20}]}"#,
    )
    .unwrap();
    let saturday_0759 = monday_0759 + 5 * 86_400;
    decide(&mut b, obs(saturday_0759, 5, 5, 50.0));
    assert_eq!(
        decide(&mut b, obs(saturday_0759 + 60, 5, 5, 50.0)).desired,
        5
    );
    let e = AsgAutoscaler::from_json(
        r#"{"MinSize":2,"MaxSize":40,"ScheduledActions":[
      {"ScheduledActionName":"x","Recurrence":"every morning","DesiredCapacity":20}]}"#,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("ScheduledActions[0].Recurrence"),
        "{e}"
    );
}

#[test]
fn scheduled_action_recurrence_runs_in_its_time_zone() {
    // 08:00 in New York on 2024-01-01 (EST) is 13:00 UTC.
    let mut a = AsgAutoscaler::from_json(
        r#"{"MinSize":2,"MaxSize":40,"ScheduledActions":[
      {"ScheduledActionName":"morning","Recurrence":"0 8 * * 1-5","TimeZone":"America/New_York","DesiredCapacity":20}]}"#,
    )
    .unwrap();
    let monday_0759_utc = 1_704_095_940;
    decide(&mut a, obs(monday_0759_utc, 5, 5, 50.0));
    assert_eq!(
        decide(&mut a, obs(monday_0759_utc + 60, 5, 5, 50.0)).desired,
        5
    );
    let ny_0759 = monday_0759_utc + 5 * 3600;
    decide(&mut a, obs(ny_0759, 5, 5, 50.0));
    assert_eq!(decide(&mut a, obs(ny_0759 + 60, 5, 5, 50.0)).desired, 20);
    let e = AsgAutoscaler::from_json(
        r#"{"MinSize":2,"MaxSize":40,"ScheduledActions":[
      {"ScheduledActionName":"x","Recurrence":"0 8 * * *","TimeZone":"Atlantis/Capital","DesiredCapacity":20}]}"#,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("ScheduledActions[0].TimeZone"),
        "{e}"
    );
}

fn business_hours_demand(days: i64) -> Vec<f64> {
    // 1-minute steps from midnight: 100 rps, 1000 rps from 09:00 to 17:00.
    (0..days * 1440)
        .map(|m| {
            if (540..1020).contains(&(m % 1440)) {
                1000.0
            } else {
                100.0
            }
        })
        .collect()
}

fn replay_asg(config: &str, demand: &[f64]) -> crate::engine::replay::Replay {
    use crate::engine::replay::{file_group, replay, ReplayInput};
    use crate::model::{CapacityModel, Slo};
    let mut a = AsgAutoscaler::from_json(config).unwrap();
    let cap = CapacityModel {
        capacity_per_replica_rps: 100.0,
        concurrency_per_replica: 4,
        startup_seconds: 120,
        warmup_seconds: 0,
        min_replicas: 1,
        max_replicas: 100,
        warm_pool_size: 0,
        warm_pool_startup_seconds: 0,
        usd_per_replica_hour: 0.1,
        timeout_ms: 10_000.0,
    };
    let input = ReplayInput {
        start: 1_704_067_200,
        step_seconds: 60,
        demand_rps: demand,
        extra: Vec::new(),
    };
    replay(
        &mut a,
        &input,
        &cap,
        &Slo::default(),
        None,
        &file_group("web"),
    )
    .unwrap()
}

const TT_50: &str = r#"{"PolicyName":"cpu","PolicyType":"TargetTrackingScaling","TargetTrackingConfiguration":{"PredefinedMetricSpecification":{"PredefinedMetricType":"ASGAverageCPUUtilization"},"TargetValue":50}}"#;

fn predictive(mode: &str) -> String {
    format!(
        r#"{{"MinSize":1,"MaxSize":100,"ScalingPolicies":[{TT_50},
        {{"PolicyName":"forecast","PolicyType":"PredictiveScaling","PredictiveScalingConfiguration":{{
          "MetricSpecifications":[{{"TargetValue":50,"PredefinedMetricPairSpecification":{{"PredefinedMetricType":"ASGCPUUtilization"}}}}],
          "Mode":"{mode}","SchedulingBufferTime":600}}}}]}}"#
    )
}

#[test]
fn predictive_scaling_uses_the_forecast_engine_once_it_has_two_days() {
    let demand = business_hours_demand(4);
    let ahead = replay_asg(&predictive("ForecastAndScale"), &demand);
    // Day 4 is planned from the engine's forecast (issued every 6 h from the last 14 days).
    let at_0900_day4 = &ahead.steps[3 * 1440 + 540];
    assert!(
        at_0900_day4.ready >= 20,
        "ready {} at 09:00 on day 4",
        at_0900_day4.ready
    );
    let lines: Vec<&String> = ahead.events.iter().flat_map(|e| &e.explanation).collect();
    assert!(
        lines.iter().any(|l| l.contains("forecast issued")),
        "{lines:?}"
    );
}

#[test]
fn predictive_scaling_launches_ahead_of_the_daily_ramp() {
    let demand = business_hours_demand(3);
    let reactive = replay_asg(
        &format!(r#"{{"MinSize":1,"MaxSize":100,"ScalingPolicies":[{TT_50}]}}"#),
        &demand,
    );
    let ahead = replay_asg(&predictive("ForecastAndScale"), &demand);
    let only = replay_asg(&predictive("ForecastOnly"), &demand);
    // Every morning the reactive policy waits 3 datapoints plus a 2-minute start.
    assert_eq!(reactive.summary.time_to_scale_seconds.len(), 3);
    // Day 1 has no forecast (24 h of history needed); on days 2 and 3 capacity is ready at 09:00.
    assert_eq!(
        ahead.summary.time_to_scale_seconds.len(),
        1,
        "{:?}",
        ahead.summary.time_to_scale_seconds
    );
    let at_0900_day3 = &ahead.steps[2 * 1440 + 540];
    assert!(
        at_0900_day3.ready >= 20,
        "ready {} at 09:00 on day 3",
        at_0900_day3.ready
    );
    // ForecastOnly computes but does not act.
    assert_eq!(
        only.summary.time_to_scale_seconds,
        reactive.summary.time_to_scale_seconds
    );
    assert!(ahead.events.iter().any(|e| e
        .explanation
        .iter()
        .any(|l| l.contains("same hour yesterday"))));
}

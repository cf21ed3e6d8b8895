//! HPA arithmetic against the Kubernetes documentation ("Horizontal Pod Autoscaling",
//! algorithm details and configurable scaling behavior) and replica_calculator.go behaviour.

use super::*;
use crate::engine::policy::hpa_spec::HpaManifest;

fn hpa(yaml_spec: &str) -> HpaController {
    let text = format!(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: t}}\nspec:\n{yaml_spec}"
    );
    let resolved = HpaManifest::from_yaml(&text)
        .and_then(|m| m.resolve())
        .expect("valid test HPA");
    HpaController::new(resolved)
}

fn cpu_hpa(target: u32, min: u32, max: u32) -> HpaController {
    hpa(&format!(
        "  minReplicas: {min}\n  maxReplicas: {max}\n  metrics:\n  - type: Resource\n    resource: {{name: cpu, target: {{type: Utilization, averageUtilization: {target}}}}}\n"
    ))
}

fn pods(spec: u32, ready: u32, unready: u32) -> PodCounts {
    PodCounts {
        spec_replicas: spec,
        ready,
        unready,
    }
}

fn util(v: f64) -> [MetricValue; 1] {
    [MetricValue::UtilizationPercent(v)]
}

#[test]
fn docs_example_double_and_halve() {
    // "if the current metric value is 200m, and the desired value is 100m, the number of
    // replicas will be doubled ... If the current value is instead 50m, you'll halve".
    let c = hpa("  maxReplicas: 100\n  metrics:\n  - type: Pods\n    pods: {metric: {name: m}, target: {type: AverageValue, averageValue: 100m}}\n");
    let m = &c.hpa.metrics[0];
    let p = c.propose(m, MetricValue::PerPodAverage(0.2), pods(4, 4, 0));
    assert_eq!(p.replicas, Some(8));
    let p = c.propose(m, MetricValue::PerPodAverage(0.05), pods(4, 4, 0));
    assert_eq!(p.replicas, Some(2));
}

#[test]
fn tolerance_band_is_closed_and_compared_in_float64() {
    // isWithin: (1-0.1) <= ratio <= (1+0.1). 77/70 == 1.0+0.1 in float64, so 77% on a 70%
    // target does not scale (the pre-1.33 |1-ratio| <= 0.1 test would have: 0.10000000000000009).
    let c = cpu_hpa(70, 1, 100);
    let m = &c.hpa.metrics[0];
    let p = c.propose(m, MetricValue::UtilizationPercent(77.0), pods(10, 10, 0));
    assert!(p.within_tolerance);
    assert_eq!(p.replicas, Some(10));
    let p = c.propose(m, MetricValue::UtilizationPercent(78.0), pods(10, 10, 0));
    assert_eq!(p.replicas, Some(12), "ceil(78/70 * 10) = ceil(11.14)");
    let p = c.propose(m, MetricValue::UtilizationPercent(63.0), pods(10, 10, 0));
    assert_eq!(p.replicas, Some(10), "63/70 == 0.9 is inside the band");
    let p = c.propose(m, MetricValue::UtilizationPercent(62.0), pods(10, 10, 0));
    assert_eq!(p.replicas, Some(9), "ceil(62/70 * 10) = ceil(8.86)");
}

#[test]
fn utilization_is_truncated_to_an_integer_percent() {
    // GetResourceUtilizationRatio: int32(metricsTotal*100/requestsTotal). 33.9% -> 33%;
    // 33/50 * 3 = 1.98 -> 2 replicas (33.9/50 * 3 = 2.03 would give 3).
    let c = cpu_hpa(50, 1, 100);
    let p = c.propose(
        &c.hpa.metrics[0],
        MetricValue::UtilizationPercent(33.9),
        pods(3, 3, 0),
    );
    assert_eq!(p.usage_ratio, Some(0.66));
    assert_eq!(p.replicas, Some(2));
}

#[test]
fn unready_pods_count_as_zero_on_scale_up() {
    // Docs: not-yet-ready pods are assumed to consume 0% when the HPA would scale up.
    let c = cpu_hpa(50, 1, 100);
    let m = &c.hpa.metrics[0];
    // 4 ready at 100% + 4 unready: util becomes 50% -> ratio 1.0 -> no change.
    let p = c.propose(m, MetricValue::UtilizationPercent(100.0), pods(8, 4, 4));
    assert_eq!(p.replicas, Some(8));
    // 4 ready at 150% + 2 unready: util floor(150*4/6) = 100% -> ratio 2 -> ceil(2*6) = 12.
    let p = c.propose(m, MetricValue::UtilizationPercent(150.0), pods(6, 4, 2));
    assert_eq!(p.replicas, Some(12));
    // On scale-down unready pods are ignored: 4 ready at 25% -> ceil(0.5 * 4) = 2.
    let p = c.propose(m, MetricValue::UtilizationPercent(25.0), pods(6, 4, 2));
    assert_eq!(p.replicas, Some(2));
}

#[test]
fn default_scale_up_rate_is_4_pods_or_100_percent_per_15s() {
    let mut c = cpu_hpa(50, 1, 100);
    // 1 pod at 1000% wants 20; limit max(1+4, 1*2) = 5.
    let e = c.sync(0, pods(1, 1, 0), &util(1000.0));
    assert_eq!((e.metric_desired, e.desired), (Some(20), 5));
    assert_eq!(e.limit_reason, Some("ScaleUpLimit"));
    // 15 s later the event is exactly at the period's cutoff and no longer counts:
    // limit max(5+4, 5*2) = 10.
    let e = c.sync(15, pods(5, 5, 0), &util(1000.0));
    assert_eq!(e.desired, 10);
    // Within the same period a second sync may not add more.
    let e = c.sync(20, pods(10, 10, 0), &util(1000.0));
    assert_eq!(e.desired, 10, "{:?}", e.lines());
}

#[test]
fn max_replicas_caps_with_too_many_replicas() {
    let mut c = cpu_hpa(50, 1, 6);
    let e = c.sync(0, pods(5, 5, 0), &util(200.0));
    assert_eq!(e.desired, 6);
    assert_eq!(e.limit_reason, Some("TooManyReplicas"));
}

#[test]
fn default_scale_down_waits_for_the_300s_window() {
    let mut c = cpu_hpa(50, 1, 100);
    assert_eq!(c.sync(0, pods(10, 10, 0), &util(50.0)).desired, 10);
    // Load halves: the recommendation of 10 from t=0 holds the count until it leaves the window.
    for t in (15..300).step_by(15) {
        let e = c.sync(t, pods(10, 10, 0), &util(25.0));
        assert_eq!(e.desired, 10, "t={t}: {:?}", e.lines());
    }
    // At t=300 the t=0 recommendation is no longer after the cutoff (horizontal.go `After`).
    let e = c.sync(300, pods(10, 10, 0), &util(25.0));
    assert_eq!(e.desired, 5);
}

#[test]
fn scale_up_stabilization_window_takes_the_minimum() {
    let mut c = hpa("  maxReplicas: 100\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}\n  behavior:\n    scaleUp: {stabilizationWindowSeconds: 60}\n");
    assert_eq!(c.sync(0, pods(4, 4, 0), &util(50.0)).desired, 4);
    // A brief spike inside 60 s of the calm recommendation does not scale up.
    assert_eq!(c.sync(15, pods(4, 4, 0), &util(100.0)).desired, 4);
    for t in [30, 45] {
        assert_eq!(c.sync(t, pods(4, 4, 0), &util(100.0)).desired, 4, "t={t}");
    }
    // At t=60 the calm recommendation from t=0 has left the window: every one inside is 8.
    assert_eq!(c.sync(60, pods(4, 4, 0), &util(100.0)).desired, 8);
}

#[test]
fn select_policy_min_and_disabled() {
    let mut c = hpa("  maxReplicas: 100\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}\n  behavior:\n    scaleUp:\n      selectPolicy: Min\n      policies: [{type: Pods, value: 4, periodSeconds: 60}, {type: Percent, value: 100, periodSeconds: 60}]\n    scaleDown: {selectPolicy: Disabled}\n");
    // Min of (10+4, 10*2) = 14.
    assert_eq!(c.sync(0, pods(10, 10, 0), &util(500.0)).desired, 14);
    // Disabled scale-down never removes pods, whatever the window.
    for t in (600..1800).step_by(15) {
        assert_eq!(c.sync(t, pods(14, 14, 0), &util(1.0)).desired, 14);
    }
}

#[test]
fn scale_down_pods_policy_counts_events_in_its_period() {
    let mut c = hpa("  minReplicas: 1\n  maxReplicas: 100\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}\n  behavior:\n    scaleDown:\n      stabilizationWindowSeconds: 0\n      policies: [{type: Pods, value: 1, periodSeconds: 60}]\n");
    let mut replicas = 10;
    let mut trace = Vec::new();
    for t in (0..=180).step_by(15) {
        let e = c.sync(
            t,
            pods(replicas, replicas, 0),
            &util(5.0 * 10.0 / f64::from(replicas)),
        );
        replicas = e.desired;
        trace.push(replicas);
    }
    // One pod per 60 s: 9 at t=0, 8 at t=60, 7 at t=120, 6 at t=180.
    assert_eq!(trace, vec![9, 9, 9, 9, 8, 8, 8, 8, 7, 7, 7, 7, 6]);
}

#[test]
fn several_metrics_take_the_largest_and_invalid_blocks_scale_down() {
    let mut c = hpa("  maxReplicas: 100\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}\n  - type: External\n    external: {metric: {name: queue}, target: {type: AverageValue, averageValue: 30}}\n  behavior:\n    scaleDown: {stabilizationWindowSeconds: 0}\n");
    let e = c.sync(
        0,
        pods(4, 4, 0),
        &[
            MetricValue::UtilizationPercent(50.0),
            MetricValue::Total(300.0),
        ],
    );
    assert_eq!(
        e.desired, 8,
        "queue 300/30 = 10 would be 10, but the rate limit allows 8"
    );
    assert_eq!(e.metric_desired, Some(10));
    // CPU wants fewer pods but the queue metric is missing: no scale-down.
    let e = c.sync(
        60,
        pods(8, 8, 0),
        &[MetricValue::UtilizationPercent(10.0), MetricValue::Missing],
    );
    assert_eq!(e.desired, 8);
    assert_eq!(e.metric_desired, None);
    // A missing metric does not block scale-up.
    let e = c.sync(
        120,
        pods(8, 8, 0),
        &[MetricValue::UtilizationPercent(100.0), MetricValue::Missing],
    );
    assert_eq!(e.desired, 16);
}

#[test]
fn external_value_scales_from_zero() {
    let c = hpa("  minReplicas: 0\n  maxReplicas: 10\n  metrics:\n  - type: External\n    external: {metric: {name: q}, target: {type: Value, value: 100}}\n");
    let p = c.propose(&c.hpa.metrics[0], MetricValue::Total(250.0), pods(0, 0, 0));
    assert_eq!(p.replicas, Some(3));
}

#[test]
fn out_of_range_current_is_corrected_first() {
    let mut c = cpu_hpa(50, 3, 10);
    assert_eq!(c.sync(0, pods(1, 1, 0), &util(1.0)).desired, 3);
    assert_eq!(c.sync(15, pods(20, 20, 0), &util(500.0)).desired, 10);
}

#[test]
fn explanation_reads_like_the_controller() {
    let mut c = cpu_hpa(50, 1, 100);
    let e = c.sync(0, pods(2, 2, 0), &util(100.0));
    let lines = e.lines().join("\n");
    assert!(lines.contains("cpu: ratio 2.000 -> 4 replicas"), "{lines}");
    assert!(lines.contains("largest proposal: 4"), "{lines}");
}

/// horizontal.go's stabilizeRecommendationWithBehaviors as written upstream: a scan over the
/// stored recommendations, one sample older than both windows overwritten per sync. The
/// controller keeps sliding-window extremes instead; both must agree sync for sync.
struct UpstreamStabilizer {
    recs: Vec<(i64, u32)>,
}

impl UpstreamStabilizer {
    fn stabilize(&mut self, now: i64, up_w: i64, down_w: i64, current: u32, desired: u32) -> u32 {
        let (up_cut, down_cut) = (now - up_w, now - down_w);
        let (mut up, mut down) = (desired, desired);
        let mut old = None;
        for (i, &(at, r)) in self.recs.iter().enumerate() {
            if at > up_cut {
                up = up.min(r);
            }
            if at > down_cut {
                down = down.max(r);
            }
            if at < up_cut && at < down_cut {
                old = Some(i);
            }
        }
        match old {
            Some(i) => self.recs[i] = (now, desired),
            None => self.recs.push((now, desired)),
        }
        current.max(up).min(down)
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    #[test]
    fn sliding_window_stabilization_matches_upstream_scan(
        up_w in 0u32..20,
        down_w in 0u32..40,
        gaps in proptest::collection::vec(0i64..4, 1..300),
        loads in proptest::collection::vec(1.0f64..400.0, 300),
    ) {
        let mut c = hpa(&format!(
            "  minReplicas: 1\n  maxReplicas: 1000\n  metrics:\n  - type: Resource\n    resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 50}}}}\n  behavior:\n    scaleUp:\n      stabilizationWindowSeconds: {}\n      policies: [{{type: Percent, value: 1000, periodSeconds: 15}}]\n    scaleDown:\n      stabilizationWindowSeconds: {}\n      policies: [{{type: Percent, value: 100, periodSeconds: 15}}]\n",
            up_w * 15, down_w * 15
        ));
        let mut reference = UpstreamStabilizer { recs: Vec::new() };
        let (mut now, mut replicas) = (0i64, 10u32);
        for (gap, load) in gaps.iter().zip(&loads) {
            // Syncs on the 15 s grid, sometimes skipped, sometimes repeated.
            now += gap * 15;
            let e = c.sync(now, pods(replicas, replicas, 0), &util(*load));
            let Some(desired) = e.metric_desired else { continue };
            let want = reference.stabilize(
                now,
                i64::from(up_w * 15),
                i64::from(down_w * 15),
                replicas,
                desired,
            );
            proptest::prop_assert_eq!(e.stabilized, want, "t={}", now);
            replicas = e.desired;
        }
    }
}

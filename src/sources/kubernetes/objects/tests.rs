use super::*;
use crate::engine::policy::hpa_spec::{HpaManifest, ScalingPolicyType, SelectPolicy};
use crate::engine::policy::parse_policy;

fn hpa() -> Value {
    serde_json::from_str(include_str!("../../../../tests/fixtures/k8s/hpa-web.json")).unwrap()
}

#[test]
fn live_hpa_replays_as_its_documented_behaviour() {
    let text = hpa_policy_text(&hpa());
    // Server-set fields do not leak into the policy file.
    for gone in [
        "managedFields",
        "status",
        "resourceVersion",
        "last-applied",
        "uid",
    ] {
        assert!(!text.contains(gone), "{gone} in\n{text}");
    }
    let resolved = HpaManifest::from_yaml(&text).unwrap().resolve().unwrap();
    assert_eq!((resolved.min_replicas, resolved.max_replicas), (2, 20));
    // As written in the spec.
    assert_eq!(resolved.scale_down.stabilization_window_seconds, 300);
    assert_eq!(resolved.scale_down.policies.len(), 1);
    assert_eq!(
        resolved.scale_down.policies[0].kind,
        ScalingPolicyType::Percent
    );
    assert_eq!(
        (
            resolved.scale_down.policies[0].value,
            resolved.scale_down.policies[0].period_seconds
        ),
        (10, 60)
    );
    assert_eq!(resolved.scale_up.stabilization_window_seconds, 0);
    assert_eq!(resolved.scale_up.select_policy, SelectPolicy::Max);
    assert_eq!(resolved.scale_up.policies.len(), 2);
    // Not written: the controller's default tolerance (10%).
    assert_eq!(resolved.scale_up.tolerance, 0.1);
    let a = parse_policy(&text).unwrap();
    assert_eq!(
        a.describe(),
        "HPA web: cpu 70%, http_requests_per_second 100/pod"
    );
    assert_eq!(a.bounds(), (2, 20));
}

#[test]
fn hpa_without_behavior_gets_the_api_server_defaults() {
    let mut h = hpa();
    h["spec"].as_object_mut().unwrap().remove("behavior");
    h["spec"].as_object_mut().unwrap().remove("minReplicas");
    let resolved = HpaManifest::from_yaml(&hpa_policy_text(&h))
        .unwrap()
        .resolve()
        .unwrap();
    // autoscaling/v2 defaults: minReplicas 1; scale-down window 300 s, 100% per 15 s; scale-up
    // window 0 s, max of 4 pods or 100% per 15 s.
    assert_eq!(resolved.min_replicas, 1);
    assert_eq!(resolved.scale_down.stabilization_window_seconds, 300);
    assert_eq!(resolved.scale_up.stabilization_window_seconds, 0);
    assert_eq!(resolved.scale_up.policies.len(), 2);
}

#[test]
fn status_figures_and_conditions() {
    let h = hpa();
    let reps = hpa_replicas(&h);
    assert!(reps.contains(&(MetricKind::ReplicasDesired, 5.0)));
    assert!(reps.contains(&(MetricKind::ReplicasReady, 4.0)));
    assert!(reps.contains(&(MetricKind::ReplicasMin, 2.0)));
    assert!(reps.contains(&(MetricKind::ReplicasMax, 20.0)));
    let (texts, samples) = hpa_current_metrics(&h);
    assert_eq!(
        texts,
        vec![
            "cpu 84% (target 70%)".to_string(),
            "http_requests_per_second 120/pod (target 100/pod)".to_string()
        ]
    );
    assert_eq!(samples, vec![(MetricKind::CpuUtilization, 84.0)]);
    let c = hpa_conditions(&h);
    assert_eq!(c.len(), 3);
    assert_eq!(c[2].kind, "ScalingLimited");
    assert_eq!(
        c[2].text(),
        "False DesiredWithinRange: the desired count is within the acceptable range"
    );
    assert_eq!(hpa_target(&h), Some(("Deployment".into(), "web".into())));
}

#[test]
fn workload_vpa_and_keda_readers() {
    let d: Value = serde_json::from_str(include_str!(
        "../../../../tests/fixtures/k8s/deployment-web.json"
    ))
    .unwrap();
    assert_eq!(workload_ready(&d), Some(3));
    assert_eq!(
        workload_requests(&d).as_deref(),
        Some("app: cpu 250m, memory 256Mi")
    );
    let vpa = json!({
        "apiVersion": "autoscaling.k8s.io/v1", "kind": "VerticalPodAutoscaler",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "updatePolicy": {"updateMode": "Off"}},
        "status": {"recommendation": {"containerRecommendations": [
            {"containerName": "app", "lowerBound": {"cpu": "100m", "memory": "200Mi"},
             "target": {"cpu": "300m", "memory": "300Mi"}, "upperBound": {"cpu": "1", "memory": "1Gi"}}]}}
    });
    assert_eq!(vpa_summary(&vpa), "Off; target app: cpu 300m, memory 300Mi");
    let so = json!({
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
        "metadata": {"name": "orders", "namespace": "shop", "resourceVersion": "5"},
        "spec": {"scaleTargetRef": {"name": "orders"}, "minReplicaCount": 1, "maxReplicaCount": 30,
                 "triggers": [{"type": "rabbitmq", "name": "queue_depth", "metadata": {"queueName": "orders", "mode": "QueueLength", "value": "20"}}]},
        "status": {"hpaName": "keda-hpa-orders", "conditions": []}
    });
    assert_eq!(
        scaled_object_hpa_name(&so).as_deref(),
        Some("keda-hpa-orders")
    );
    let text = scaled_object_policy_text(&so);
    assert!(!text.contains("hpaName"), "{text}");
    let a = parse_policy(&text).unwrap();
    assert_eq!(a.bounds(), (1, 30));
}

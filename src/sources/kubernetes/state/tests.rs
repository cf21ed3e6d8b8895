use super::*;
use serde_json::json;

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn hpa() -> Value {
    fixture(include_str!("../../../../tests/fixtures/k8s/hpa-web.json"))
}

fn deployment() -> Value {
    fixture(include_str!(
        "../../../../tests/fixtures/k8s/deployment-web.json"
    ))
}

fn events() -> Vec<Value> {
    serde_json::from_str(include_str!(
        "../../../../tests/fixtures/k8s/events-web.json"
    ))
    .unwrap()
}

fn groups(updates: &[Update]) -> Vec<&GroupInfo> {
    updates
        .iter()
        .filter_map(|u| match u {
            Update::Group(g) => Some(g.as_ref()),
            _ => None,
        })
        .collect()
}

fn sample(updates: &[Update], metric: MetricKind) -> Option<f64> {
    updates.iter().rev().find_map(|u| match u {
        Update::Samples { samples, .. } => {
            samples.iter().find(|s| s.metric == metric).map(|s| s.value)
        }
        _ => None,
    })
}

fn scaling_events(updates: &[Update]) -> Vec<&ScalingEvent> {
    updates
        .iter()
        .filter_map(|u| match u {
            Update::Event(e) => Some(e),
            _ => None,
        })
        .collect()
}

#[test]
fn an_hpa_becomes_a_group_with_its_live_policy_conditions_and_workload() {
    let now = Utc::now();
    let mut st = ClusterState::default();
    let u = st.replace_all(ObjectKind::Deployment, None, vec![deployment()], now);
    assert!(u.is_empty(), "no HPA yet: no group");
    let u = st.replace_all(ObjectKind::Hpa, None, vec![hpa()], now);
    let g = groups(&u);
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].id, GroupId::new(Platform::K8s, "shop", "web"));
    let policy = g[0].policy.as_ref().unwrap();
    assert_eq!(policy.provenance, PolicyProvenance::PlatformApi);
    assert_eq!(
        policy.model.summary(),
        "HPA web: cpu 70%, http_requests_per_second 100/pod"
    );
    let l = &g[0].labels;
    assert_eq!(l["k8s.target"], "Deployment/web");
    assert_eq!(l["k8s.requests"], "app: cpu 250m, memory 256Mi");
    assert!(l["k8s.condition.AbleToScale"].starts_with("True SucceededRescale"));
    assert!(l["k8s.condition.ScalingLimited"].starts_with("False DesiredWithinRange"));
    // Ready pods come from the Deployment (3), not the HPA's current replicas (4).
    assert_eq!(sample(&u, MetricKind::ReplicasReady), Some(3.0));
    assert_eq!(sample(&u, MetricKind::ReplicasDesired), Some(5.0));
    assert_eq!(sample(&u, MetricKind::CpuUtilization), Some(84.0));
    assert_eq!(st.resync(now).len(), 1);
}

#[test]
fn history_chains_rescales_and_a_live_rescale_takes_its_from_size() {
    let now = Utc::now();
    let mut st = ClusterState::default();
    // Initial lists: events (in list order, not time order), then the HPA.
    let u = st.replace_all(ObjectKind::Event, None, events(), now);
    let ev = scaling_events(&u);
    assert_eq!(ev.len(), 2);
    assert_eq!((ev[0].from_replicas, ev[0].to_replicas), (3, 3));
    assert!(ev[0].reason.contains("size before not known"));
    assert_eq!((ev[1].from_replicas, ev[1].to_replicas), (3, 4));
    assert_eq!(
        ev[1].reason,
        "cpu resource utilization (percentage of request) above target"
    );
    assert_eq!(ev[1].origin, EventOrigin::Platform);
    let u = st.replace_all(ObjectKind::Hpa, None, vec![hpa()], now);
    // The warning shows on the group.
    assert!(groups(&u)[0].labels["k8s.warning"].contains("FailedGetResourceMetric (x3)"));
    // A relist does not repeat events.
    assert!(scaling_events(&st.replace_all(ObjectKind::Event, None, events(), now)).is_empty());
    // The HPA says 5 (status updated before the event arrived): from is 4.
    let mut live = events()[1].clone();
    live["metadata"]["uid"] = json!("live-1");
    live["message"] =
        json!("New size: 5; reason: cpu resource utilization (percentage of request) above target");
    live["lastTimestamp"] = json!("2026-11-28T10:05:00Z");
    let u = st.apply(ObjectKind::Event, live, now);
    let ev = scaling_events(&u);
    assert_eq!((ev[0].from_replicas, ev[0].to_replicas), (4, 5));
}

#[test]
fn a_keda_scaled_object_is_the_policy_of_the_hpa_it_drives() {
    let now = Utc::now();
    let mut st = ClusterState::default();
    let mut keda_hpa = hpa();
    keda_hpa["metadata"]["name"] = json!("keda-hpa-orders");
    keda_hpa["spec"]["scaleTargetRef"]["name"] = json!("orders");
    st.apply(ObjectKind::Hpa, keda_hpa, now);
    let so = json!({
        "apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject",
        "metadata": {"name": "orders", "namespace": "shop"},
        "spec": {"scaleTargetRef": {"name": "orders"}, "minReplicaCount": 1, "maxReplicaCount": 30,
                 "triggers": [{"type": "rabbitmq", "name": "queue_depth", "metadata": {"queueName": "orders", "mode": "QueueLength", "value": "20"}}]}
    });
    let u = st.apply(ObjectKind::ScaledObject, so.clone(), now);
    let g = groups(&u);
    assert_eq!(g[0].id.name, "keda-hpa-orders");
    let PolicyModel::Native { text } = &g[0].policy.as_ref().unwrap().model else {
        panic!("native policy expected");
    };
    assert!(text.contains("kind: ScaledObject"), "{text}");
    let summary = g[0].policy.as_ref().unwrap().model.summary();
    assert!(!summary.starts_with("unreadable"), "{summary}");
    assert_eq!(g[0].labels["k8s.scaled_object"], "orders");
    // Deleting the ScaledObject gives the group its HPA policy back.
    let u = st.delete(ObjectKind::ScaledObject, &so, now);
    let PolicyModel::Native { text } = &groups(&u)[0].policy.as_ref().unwrap().model else {
        panic!("native policy expected");
    };
    assert!(text.contains("kind: HorizontalPodAutoscaler"), "{text}");
}

#[test]
fn a_relist_drops_objects_that_are_gone() {
    let now = Utc::now();
    let mut st = ClusterState::default();
    st.replace_all(ObjectKind::Hpa, None, vec![hpa()], now);
    st.replace_all(ObjectKind::Deployment, None, vec![deployment()], now);
    assert_eq!(st.group_count(), 1);
    // The Deployment is gone: the group is described again without its requests.
    let u = st.replace_all(ObjectKind::Deployment, None, vec![], now);
    assert!(!groups(&u)[0].labels.contains_key("k8s.requests"));
    // A StatefulSet relist does not touch Deployments.
    st.replace_all(ObjectKind::Deployment, None, vec![deployment()], now);
    let u = st.replace_all(ObjectKind::StatefulSet, None, vec![], now);
    assert!(u.is_empty());
    st.replace_all(ObjectKind::Hpa, None, vec![], now);
    assert_eq!(st.group_count(), 0);
}

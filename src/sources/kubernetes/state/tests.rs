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

fn k8s_fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/k8s")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_scaled_object_without_its_hpa_leads_a_group_with_keda_events() {
    let now = Utc::now();
    let mut st = ClusterState::default();
    st.replace_all(
        ObjectKind::Deployment,
        None,
        vec![k8s_fixture("deployment-worker.json")],
        now,
    );
    let events: Vec<Value> = serde_json::from_value(k8s_fixture("events-worker.json")).unwrap();
    let u = st.replace_all(ObjectKind::Event, None, events.clone(), now);
    // KEDA's (de)activations carry both sizes: 1 -> 0, then 0 -> 1.
    let ev = scaling_events(&u);
    assert_eq!(ev.len(), 2, "{ev:?}");
    assert_eq!((ev[0].from_replicas, ev[0].to_replicas), (1, 0));
    assert_eq!((ev[1].from_replicas, ev[1].to_replicas), (0, 1));
    assert_eq!(
        ev[1].group,
        GroupId::new(Platform::K8s, "shop", "keda-hpa-worker")
    );
    assert_eq!(
        ev[1].reason,
        "KEDA activated the scale target (a trigger became active), triggered by orders_queue"
    );
    let u = st.replace_all(
        ObjectKind::ScaledObject,
        None,
        vec![k8s_fixture("scaledobject-worker.json")],
        now,
    );
    let g = groups(&u);
    assert_eq!(g.len(), 1);
    // Named as KEDA names its HPA, so the group keeps its id once the HPA is seen.
    assert_eq!(
        g[0].id,
        GroupId::new(Platform::K8s, "shop", "keda-hpa-worker")
    );
    let policy = g[0].policy.as_ref().unwrap();
    let PolicyModel::Native { text } = &policy.model else {
        panic!("native policy expected");
    };
    assert!(text.contains("kind: ScaledObject"), "{text}");
    assert!(!policy.model.summary().starts_with("unreadable"));
    let l = &g[0].labels;
    assert_eq!(l["k8s.target"], "Deployment/worker");
    assert_eq!(l["k8s.scaled_object"], "worker");
    assert_eq!(l["k8s.requests"], "consumer: cpu 500m, memory 512Mi");
    assert!(l["k8s.condition.Active"].starts_with("True ScalerActive"));
    assert!(l["k8s.keda.status"].ends_with("KEDAScalersStarted: Started scalers watch"));
    // Replicas from the Deployment, bounds from the ScaledObject.
    assert_eq!(sample(&u, MetricKind::ReplicasDesired), Some(2.0));
    assert_eq!(sample(&u, MetricKind::ReplicasReady), Some(2.0));
    assert_eq!(sample(&u, MetricKind::ReplicasMin), Some(0.0));
    assert_eq!(sample(&u, MetricKind::ReplicasMax), Some(12.0));
    assert_eq!(st.group_count(), 1);
    // KEDA's HPA appears: the same group, now led by the HPA with the ScaledObject's policy.
    let mut keda_hpa = hpa();
    keda_hpa["metadata"]["name"] = json!("keda-hpa-worker");
    keda_hpa["spec"]["scaleTargetRef"]["name"] = json!("worker");
    let u = st.apply(ObjectKind::Hpa, keda_hpa, now);
    assert_eq!(st.group_count(), 1);
    let g = groups(&u);
    assert_eq!(g[0].id.name, "keda-hpa-worker");
    assert!(g[0].labels.contains_key("k8s.condition.AbleToScale"));
}

#[test]
fn a_standalone_vpa_leads_a_group_and_joins_an_hpa_on_the_same_workload() {
    let now = Utc::now();
    let mut st = ClusterState::default();
    st.replace_all(
        ObjectKind::Deployment,
        None,
        vec![k8s_fixture("deployment-reports.json")],
        now,
    );
    let u = st.replace_all(
        ObjectKind::Vpa,
        None,
        vec![k8s_fixture("vpa-reports.json")],
        now,
    );
    let g = groups(&u);
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].id, GroupId::new(Platform::K8s, "shop", "reports"));
    // A VPA sizes pods: no horizontal policy.
    assert!(g[0].policy.is_none());
    assert_eq!(
        g[0].labels["k8s.vpa"],
        "Auto; target app: cpu 400m, memory 700Mi"
    );
    assert_eq!(g[0].labels["k8s.target"], "Deployment/reports");
    assert_eq!(sample(&u, MetricKind::ReplicasDesired), Some(3.0));
    assert_eq!(st.resync(now).len(), 1);
    // The web VPA is on the HPA's workload: it joins the HPA's group, no group of its own.
    st.replace_all(ObjectKind::Hpa, None, vec![hpa()], now);
    let mut web_vpa = k8s_fixture("vpa-reports.json");
    web_vpa["metadata"]["name"] = json!("web-vpa");
    web_vpa["spec"]["targetRef"]["name"] = json!("web");
    let u = st.apply(ObjectKind::Vpa, web_vpa, now);
    let g = groups(&u);
    assert_eq!(g.len(), 1);
    assert_eq!(g[0].id.name, "web");
    assert!(g[0].labels.contains_key("k8s.vpa"));
    assert_eq!(st.group_count(), 2, "web (HPA) and reports (VPA)");
}

//! The Kubernetes source against kmock (PyPI), an in-memory Kubernetes API over real HTTP,
//! loaded with HPA (autoscaling/v2, with behavior and status conditions), Deployment and Event
//! objects in the shapes the API server serves (tests/fixtures/k8s). kmock has no controllers
//! and sets no resourceVersion, so the fixtures carry what a real server would have set.
#![cfg(feature = "kubernetes")]

#[path = "k8s/proxy.rs"]
mod proxy;
mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use scaletop::model::{EventOrigin, ScalingEvent};
use scaletop::sources::kubernetes::KubernetesSourceConfig;
use scaletop::sources::{HealthState, Update};
use serde_json::{json, Value};
use support::Guard;

const TOKEN: &str = "kmock-test-token-not-a-secret-4711";

struct Kmock {
    _guard: Guard,
    port: u16,
}

/// Starts tests/support/kmock_server.py; None after a loud skip when kmock is missing.
fn start_kmock(args: &[&str]) -> Option<Kmock> {
    let python = support::python_with(&["kmock"])?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/kmock_server.py");
    let mut child = Command::new(python)
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start kmock_server.py");
    let stdout = child.stdout.take().expect("kmock stdout");
    let guard = Guard(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("kmock prints its port");
    let port = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("kmock said {line:?}"));
    Some(Kmock {
        _guard: guard,
        port,
    })
}

/// POSTs an object as `kubectl create` would; returns the HTTP status.
fn create(port: u16, path: &str, obj: &Value) -> u16 {
    send(port, "POST", path, "application/json", obj)
}

/// One request to kmock; returns the HTTP status.
fn send(port: u16, method: &str, path: &str, content_type: &str, obj: &Value) -> u16 {
    let body = obj.to_string();
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect kmock");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    raw.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/k8s")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// HPA `web`, its Deployment, and three Events (two rescales, one metrics warning).
fn load_shop(port: u16) {
    let ok = |code: u16| assert!((200..300).contains(&code), "kmock answered {code}");
    ok(create(
        port,
        "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers",
        &fixture("hpa-web.json"),
    ));
    ok(create(
        port,
        "/apis/apps/v1/namespaces/shop/deployments",
        &fixture("deployment-web.json"),
    ));
    let events = fixture("events-web.json");
    for e in events.as_array().unwrap() {
        ok(create(port, "/api/v1/namespaces/shop/events", e));
    }
}

/// A kubeconfig with context `kmock` pointing at the server, bearer token auth.
fn kubeconfig(dir: &Path, port: u16) -> PathBuf {
    kubeconfig_with(dir, port, TOKEN)
}

fn kubeconfig_with(dir: &Path, port: u16, token: &str) -> PathBuf {
    let path = dir.join(format!("kubeconfig-{port}"));
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: kmock\n\
             clusters:\n- name: kmock\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             contexts:\n- name: kmock\n  context:\n    cluster: kmock\n    user: tester\n    namespace: shop\n\
             users:\n- name: tester\n  user:\n    token: {token}\n"
        ),
    )
    .unwrap();
    path
}

fn source_toml(name: &str, kubeconfig: &Path, context: &str) -> String {
    format!(
        "[[sources.kubernetes]]\nname = \"{name}\"\nkubeconfig = \"{}\"\ncontext = \"{context}\"\nnamespaces = [\"shop\"]\nresync = \"1s\"\n\n",
        kubeconfig.display()
    )
}

fn snapshot(dir: &Path, toml: &str) -> (Option<i32>, Value, String) {
    let cfg = dir.join("scaletop.toml");
    std::fs::write(&cfg, toml).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "snapshot",
            "--wait",
            "60s",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "snapshot JSON: {e}\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), json, stdout)
}

fn source<'a>(snap: &'a Value, name: &str) -> &'a Value {
    snap["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == name)
        .unwrap_or_else(|| panic!("source {name} in {snap:#}"))
}

#[test]
fn snapshot_shows_hpa_groups_with_replicas_live_policy_conditions_and_events() {
    let Some(k) = start_kmock(&[
        "--serve",
        "apps/v1/statefulsets=StatefulSet",
        "--forbid",
        "keda.sh/v1alpha1/scaledobjects",
    ]) else {
        return;
    };
    load_shop(k.port);
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(dir.path(), k.port);
    let (code, snap, raw) = snapshot(dir.path(), &source_toml("cluster", &kc, "kmock"));
    assert_eq!(code, Some(0), "{snap:#}");
    assert!(!raw.contains(TOKEN), "the token leaked into the snapshot");
    let src = source(&snap, "cluster");
    assert_eq!(src["state"]["state"], "up", "{src:#}");
    assert_eq!(src["kind"], "kubernetes");
    assert_eq!(src["target"], "kmock/shop");
    // VPA is not installed (404) and KEDA is forbidden (403): notes, not errors.
    let note = src["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("VerticalPodAutoscaler (autoscaling.k8s.io/v1) in shop: not installed"),
        "{note}"
    );
    assert!(note.contains("ScaledObject (keda.sh/v1alpha1) in shop: forbidden by RBAC: scaledobjects.keda.sh is forbidden"), "{note}");

    let groups = snap["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 1, "{snap:#}");
    let g = &groups[0];
    assert_eq!(
        g["id"],
        json!({"platform": "k8s", "scope": "shop", "name": "web"})
    );
    // HPA status: desired 5; the Deployment has 3 ready pods; spec 2..20; cpu 84%.
    assert_eq!(g["latest"]["replicas_desired"], 5.0);
    assert_eq!(g["latest"]["replicas_ready"], 3.0);
    assert_eq!(g["latest"]["replicas_min"], 2.0);
    assert_eq!(g["latest"]["replicas_max"], 20.0);
    assert_eq!(g["latest"]["cpu_utilization"], 84.0);
    // The live HPA is the current policy and replays through the policy parser.
    let policy = &g["policy"];
    assert_eq!(policy["provenance"], "platform_api");
    assert_eq!(policy["model"]["kind"], "native");
    assert_eq!(
        policy["summary"],
        "HPA web: cpu 70%, http_requests_per_second 100/pod"
    );
    let text = policy["model"]["text"].as_str().unwrap();
    let hpa = scaletop::engine::policy::hpa_spec::HpaManifest::from_yaml(text)
        .unwrap()
        .resolve()
        .unwrap();
    assert_eq!(hpa.scale_down.stabilization_window_seconds, 300);
    assert_eq!(hpa.scale_up.policies.len(), 2);
    // Conditions, requests and the latest warning, for on-call.
    let labels = &g["labels"];
    assert_eq!(
        labels["k8s.condition.ScalingLimited"],
        "False DesiredWithinRange: the desired count is within the acceptable range"
    );
    assert!(labels["k8s.condition.AbleToScale"]
        .as_str()
        .unwrap()
        .starts_with("True SucceededRescale"));
    assert_eq!(labels["k8s.requests"], "app: cpu 250m, memory 256Mi");
    assert!(labels["k8s.warning"]
        .as_str()
        .unwrap()
        .contains("FailedGetResourceMetric (x3)"));
    // The platform's rescales, oldest first, with the controller's reasons.
    let events: Vec<ScalingEvent> = serde_json::from_value(snap["events"].clone()).unwrap();
    assert_eq!(events.len(), 2, "{:#}", snap["events"]);
    assert_eq!((events[1].from_replicas, events[1].to_replicas), (3, 4));
    assert_eq!(events[1].origin, EventOrigin::Platform);
    assert_eq!(
        events[1].reason,
        "cpu resource utilization (percentage of request) above target"
    );

    // The table form carries the same, including the conditions.
    let cfg = dir.path().join("scaletop.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "snapshot",
            "--wait",
            "60s",
            "--format",
            "table",
        ])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("policy (platform API (live)): HPA web"),
        "{table}"
    );
    assert!(
        table.contains("ScalingLimited: False DesiredWithinRange"),
        "{table}"
    );
}

async fn next(rx: &mut tokio::sync::mpsc::Receiver<Update>) -> Update {
    tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .expect("an update within 60 s")
        .expect("the source is running")
}

#[test]
fn a_rescale_event_created_while_watching_arrives_with_its_from_size() {
    let Some(k) = start_kmock(&["--serve", "apps/v1/statefulsets=StatefulSet"]) else {
        return;
    };
    load_shop(k.port);
    let dir = tempfile::tempdir().unwrap();
    let cfg = KubernetesSourceConfig {
        name: "cluster".into(),
        kubeconfig: kubeconfig(dir.path(), k.port).display().to_string(),
        context: "kmock".into(),
        namespaces: vec!["shop".into()],
        ..Default::default()
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        let task = scaletop::sources::kubernetes::spawn(cfg, tx);
        // Up after the first list of everything.
        loop {
            if let Update::Health(h) = next(&mut rx).await {
                assert!(!matches!(h.state, HealthState::Down { .. }), "{h:?}");
                if h.state == HealthState::Up {
                    break;
                }
            }
        }
        // The HPA controller scales web to 6 while we watch.
        let port = k.port;
        let live = json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": "web.187c2a1f0d3e4a99", "namespace": "shop",
                         "uid": "e1a1c3f2-0099-4b1e-9b9e-000000000099", "resourceVersion": "918400",
                         "creationTimestamp": "2026-11-28T10:10:00Z"},
            "involvedObject": {"kind": "HorizontalPodAutoscaler", "namespace": "shop", "name": "web",
                               "apiVersion": "autoscaling/v2"},
            "reason": "SuccessfulRescale",
            "message": "New size: 6; reason: pods metric http_requests_per_second above target",
            "source": {"component": "horizontal-pod-autoscaler"},
            "firstTimestamp": "2026-11-28T10:10:00Z", "lastTimestamp": "2026-11-28T10:10:00Z",
            "count": 1, "type": "Normal"
        });
        let code = tokio::task::spawn_blocking(move || {
            create(port, "/api/v1/namespaces/shop/events", &live)
        })
        .await
        .unwrap();
        assert!((200..300).contains(&code), "kmock answered {code}");
        let event = loop {
            if let Update::Event(e) = next(&mut rx).await {
                if e.to_replicas == 6 {
                    break e;
                }
            }
        };
        // The HPA status said 5 before: 5 -> 6.
        assert_eq!(event.from_replicas, 5);
        assert_eq!(event.group.to_string(), "k8s/shop/web");
        assert_eq!(event.reason, "pods metric http_requests_per_second above target");
        assert_eq!(event.origin, EventOrigin::Platform);
        task.abort();
    });
}

#[test]
fn bad_clusters_are_clear_messages_and_the_good_one_is_unaffected() {
    let Some(good) = start_kmock(&["--serve", "apps/v1/statefulsets=StatefulSet"]) else {
        return;
    };
    let Some(rbac) = start_kmock(&["--forbid", "autoscaling/v2/horizontalpodautoscalers"]) else {
        return;
    };
    load_shop(good.port);
    let dir = tempfile::tempdir().unwrap();
    let good_kc = kubeconfig(dir.path(), good.port);
    let rbac_kc = kubeconfig(dir.path(), rbac.port);
    let missing = dir.path().join("no-such-kubeconfig");
    let toml = [
        source_toml("good", &good_kc, "kmock"),
        source_toml("rbac", &rbac_kc, "kmock"),
        source_toml("nocontext", &good_kc, "prod-eu"),
        source_toml("nofile", &missing, "kmock"),
    ]
    .concat();
    let (code, snap, raw) = snapshot(dir.path(), &toml);
    assert_eq!(code, Some(1), "a source is down: exit 1\n{snap:#}");
    assert!(!raw.contains(TOKEN));
    assert_eq!(source(&snap, "good")["state"]["state"], "up");
    let reason = |name: &str| {
        source(&snap, name)["state"]["reason"]
            .as_str()
            .unwrap_or_else(|| panic!("{name} is not down: {snap:#}"))
            .to_string()
    };
    assert!(
        reason("rbac").contains("HorizontalPodAutoscaler (autoscaling/v2) in shop: forbidden by RBAC: horizontalpodautoscalers.autoscaling is forbidden"),
        "{}",
        reason("rbac")
    );
    assert_eq!(
        reason("nocontext"),
        format!(
            "kubeconfig {}: no context named 'prod-eu' (contexts: kmock)",
            good_kc.display()
        )
    );
    assert_eq!(
        reason("nofile"),
        format!("kubeconfig {}: file not found", missing.display())
    );
    // The good cluster's group is there all the same.
    let names: Vec<String> = snap["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"]["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, vec!["web"]);
}

/// A SuccessfulRescale Event for `web` as the HPA controller writes it.
fn rescale(n: u32, at: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": format!("web.187c2a1f0d3e5{n:03}"), "namespace": "shop",
                     "uid": format!("e1a1c3f2-0099-4b1e-9b9e-000000000{n:03}"),
                     "resourceVersion": format!("9185{n:02}"), "creationTimestamp": at},
        "involvedObject": {"kind": "HorizontalPodAutoscaler", "namespace": "shop", "name": "web",
                           "apiVersion": "autoscaling/v2"},
        "reason": "SuccessfulRescale",
        "message": format!("New size: {n}; reason: cpu resource utilization (percentage of request) above target"),
        "source": {"component": "horizontal-pod-autoscaler"},
        "firstTimestamp": at, "lastTimestamp": at, "count": 1, "type": "Normal"
    })
}

/// The HPA controller's two writes for a rescale to `n`: the HPA status, then the Event.
async fn rescale_async(port: u16, n: u32, at: &'static str) {
    let codes = tokio::task::spawn_blocking(move || {
        let status = json!({"status": {"desiredReplicas": n, "lastScaleTime": at}});
        [
            send(
                port,
                "PATCH",
                "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/web",
                "application/merge-patch+json",
                &status,
            ),
            create(port, "/api/v1/namespaces/shop/events", &rescale(n, at)),
        ]
    })
    .await
    .unwrap();
    assert!(
        codes.iter().all(|c| (200..300).contains(c)),
        "kmock answered {codes:?}"
    );
}

/// The next health report that satisfies `ok`; the scaling events seen meanwhile are kept.
async fn health_until(
    rx: &mut tokio::sync::mpsc::Receiver<Update>,
    events: &mut Vec<ScalingEvent>,
    ok: impl Fn(&HealthState) -> bool,
) -> HealthState {
    loop {
        match next(rx).await {
            Update::Health(h) if ok(&h.state) => return h.state,
            Update::Event(e) => events.push(e),
            _ => {}
        }
    }
}

async fn event_to(
    rx: &mut tokio::sync::mpsc::Receiver<Update>,
    events: &mut Vec<ScalingEvent>,
    size: u32,
) -> ScalingEvent {
    loop {
        if let Update::Event(e) = next(rx).await {
            events.push(e.clone());
            if e.to_replicas == size {
                return e;
            }
        }
    }
}

#[test]
fn watches_resume_after_the_server_ends_them_or_expires_them_and_auth_recovers() {
    let Some(k) = start_kmock(&["--serve", "apps/v1/statefulsets=StatefulSet"]) else {
        return;
    };
    load_shop(k.port);
    // Every watch ends after 700 ms, as the API server ends watches at their timeout.
    let p = proxy::start(k.port, TOKEN, Duration::from_millis(700));
    let f = p.faults.clone();
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig_with(dir.path(), p.port, TOKEN);
    let cfg = KubernetesSourceConfig {
        name: "cluster".into(),
        kubeconfig: kc.display().to_string(),
        context: "kmock".into(),
        namespaces: vec!["shop".into()],
        ..Default::default()
    };
    use std::sync::atomic::Ordering::SeqCst;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
        let task = scaletop::sources::kubernetes::spawn(cfg, tx);
        let mut events = Vec::new();
        health_until(&mut rx, &mut events, |s| *s == HealthState::Up).await;
        let initial = events.len();
        assert_eq!(initial, 2, "the two fixture rescales: {events:?}");

        // 1. Streams ended by the server: the watch resumes, a later rescale arrives.
        let watches = f.event_watches.load(SeqCst);
        while f.event_watches.load(SeqCst) < watches + 2 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        rescale_async(k.port, 6, "2026-11-28T10:10:00Z").await;
        let e = event_to(&mut rx, &mut events, 6).await;
        assert_eq!((e.from_replicas, e.to_replicas), (5, 6));

        // 2. 410 Expired on the next watch: the watcher relists and carries on.
        let lists = f.event_lists.load(SeqCst);
        f.expire_next_event_watch.store(true, SeqCst);
        while f.expired_sent.load(SeqCst) == 0 || f.event_lists.load(SeqCst) == lists {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        rescale_async(k.port, 7, "2026-11-28T10:12:00Z").await;
        let e = event_to(&mut rx, &mut events, 7).await;
        assert_eq!((e.from_replicas, e.to_replicas), (6, 7));

        // 3. The token is revoked: down with a clear reason, the token never shown.
        *f.valid_token.lock().unwrap() = "rotated-kmock-token-not-a-secret-0815".into();
        let down = health_until(&mut rx, &mut events, |s| {
            matches!(s, HealthState::Down { .. })
        })
        .await;
        let HealthState::Down { reason } = down else {
            unreachable!()
        };
        assert!(
            reason.contains("unauthorized (credentials missing or expired)"),
            "{reason}"
        );
        assert!(
            !reason.contains(TOKEN) && !reason.contains("rotated-kmock"),
            "{reason}"
        );
        assert!(f.rejected.load(SeqCst) > 0);

        // The kubeconfig gets the new token (as `aws eks get-token`, `gcloud` or a re-login
        // would write it): the source reconnects on its own and is up again.
        kubeconfig_with(dir.path(), p.port, "rotated-kmock-token-not-a-secret-0815");
        health_until(&mut rx, &mut events, |s| *s == HealthState::Up).await;
        rescale_async(k.port, 8, "2026-11-28T10:14:00Z").await;
        let e = event_to(&mut rx, &mut events, 8).await;
        assert_eq!((e.from_replicas, e.to_replicas), (7, 8));

        // Resumes and relists never repeat a rescale.
        let sizes: Vec<u32> = events[initial..].iter().map(|e| e.to_replicas).collect();
        assert_eq!(sizes, vec![6, 7, 8], "{events:?}");
        task.abort();
    });
}

#[test]
fn in_cluster_auth_without_a_mounted_service_account_is_a_clear_message() {
    // No kubeconfig anywhere, but the pod environment variables kube reads are set.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("scaletop.toml");
    std::fs::write(
        &cfg,
        "[[sources.kubernetes]]\nname = \"incluster\"\nresync = \"1s\"\n",
    )
    .unwrap();
    if Path::new("/var/run/secrets/kubernetes.io/serviceaccount/namespace").exists() {
        eprintln!("SKIP: this machine runs in a pod with a mounted service account");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "snapshot",
            "--wait",
            "20s",
        ])
        .env_remove("KUBECONFIG")
        .env("HOME", dir.path())
        .env("KUBERNETES_SERVICE_HOST", "10.96.0.1")
        .env("KUBERNETES_SERVICE_PORT", "443")
        .output()
        .unwrap();
    let snap: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(1), "{snap:#}");
    assert_eq!(
        source(&snap, "incluster")["state"]["reason"],
        "in-cluster auth (KUBERNETES_SERVICE_HOST=10.96.0.1): cannot read /var/run/secrets/kubernetes.io/serviceaccount/namespace: No such file or directory (os error 2) (is a service account token mounted?)"
    );
}

#[test]
fn keda_scaled_objects_and_standalone_vpas_form_groups_with_keda_events() {
    let Some(k) = start_kmock(&["--serve", "apps/v1/statefulsets=StatefulSet"]) else {
        return;
    };
    load_shop(k.port);
    let ok = |code: u16| assert!((200..300).contains(&code), "kmock answered {code}");
    ok(create(
        k.port,
        "/apis/keda.sh/v1alpha1/namespaces/shop/scaledobjects",
        &fixture("scaledobject-worker.json"),
    ));
    ok(create(
        k.port,
        "/apis/autoscaling.k8s.io/v1/namespaces/shop/verticalpodautoscalers",
        &fixture("vpa-reports.json"),
    ));
    for d in ["deployment-worker.json", "deployment-reports.json"] {
        ok(create(
            k.port,
            "/apis/apps/v1/namespaces/shop/deployments",
            &fixture(d),
        ));
    }
    for e in fixture("events-worker.json").as_array().unwrap() {
        ok(create(k.port, "/api/v1/namespaces/shop/events", e));
    }
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(dir.path(), k.port);
    let (code, snap, _) = snapshot(dir.path(), &source_toml("cluster", &kc, "kmock"));
    assert_eq!(code, Some(0), "{snap:#}");
    let group = |name: &str| -> Value {
        snap["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["id"]["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("group {name} in {:#}", snap["groups"]))
    };
    assert_eq!(
        snap["groups"].as_array().unwrap().len(),
        3,
        "{:#}",
        snap["groups"]
    );
    // No HPA for the ScaledObject in the cluster (kmock runs no KEDA): it leads its group.
    let worker = group("keda-hpa-worker");
    assert_eq!(worker["policy"]["provenance"], "platform_api");
    assert!(worker["policy"]["model"]["text"]
        .as_str()
        .unwrap()
        .contains("kind: ScaledObject"));
    assert_eq!(worker["latest"]["replicas_desired"], 2.0);
    assert_eq!(worker["latest"]["replicas_max"], 12.0);
    assert_eq!(
        worker["labels"]["k8s.condition.Ready"],
        "True ScaledObjectReady: ScaledObject is defined correctly and is ready for scaling"
    );
    assert!(worker["labels"]["k8s.keda.status"]
        .as_str()
        .unwrap()
        .ends_with("KEDAScalersStarted: Started scalers watch"));
    let reports = group("reports");
    assert_eq!(
        reports["labels"]["k8s.vpa"],
        "Auto; target app: cpu 400m, memory 700Mi"
    );
    assert_eq!(reports["latest"]["replicas_ready"], 3.0);
    // KEDA's (de)activations are platform scaling events of the worker group.
    let events: Vec<ScalingEvent> = serde_json::from_value(snap["events"].clone()).unwrap();
    let keda: Vec<(u32, u32)> = events
        .iter()
        .filter(|e| e.group.name == "keda-hpa-worker")
        .map(|e| (e.from_replicas, e.to_replicas))
        .collect();
    assert_eq!(keda, vec![(1, 0), (0, 1)], "{:#}", snap["events"]);
    assert!(events.iter().all(|e| e.origin == EventOrigin::Platform));
}

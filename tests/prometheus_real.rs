//! scaletop against real servers: Prometheus and VictoriaMetrics scraping `scaletop sim
//! serve`, then `scaletop snapshot` with the kubernetes preset; and a Prometheus killed and
//! restarted under a live source.

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use scaletop::model::MetricKind;
use scaletop::sources::prometheus::{self, PrometheusSourceConfig};
use scaletop::sources::{HealthState, Update};
use scaletop::store::Store;
use support::*;

/// Replicas per HPA name as sim serve exposes them right now.
fn sim_replicas(sim: SocketAddr) -> BTreeMap<String, f64> {
    let (_, body) = http_get(sim, "/metrics").expect("sim serve answers");
    body.lines()
        .filter(|l| l.starts_with("kube_horizontalpodautoscaler_status_current_replicas{"))
        .filter_map(|l| {
            let name = l
                .split("horizontalpodautoscaler=\"")
                .nth(1)?
                .split('"')
                .next()?;
            let v = l.rsplit(' ').next()?.parse().ok()?;
            Some((name.to_string(), v))
        })
        .collect()
}

/// Runs `scaletop snapshot` and checks it lists the scenario's groups with the simulator's
/// replica counts.
fn snapshot_matches_simulator(backend: SocketAddr, sim: SocketAddr, dir: &std::path::Path) {
    // Wait until the backend has two scrapes of everything (rate() needs two points).
    wait_until(
        Duration::from_secs(60),
        "scraped HPA and CPU series",
        || {
            series_count(
                backend,
                "kube_horizontalpodautoscaler_status_current_replicas",
            ) == 3
                && series_count(
                    backend,
                    "rate(container_cpu_usage_seconds_total[2m] offset 16s) > 0",
                ) == 3
        },
    );
    let before = sim_replicas(sim);
    let cfg = source_config(dir, &format!("http://{backend}"), "");
    let out = Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .arg("--config")
        .arg(&cfg)
        .args(["snapshot", "--wait", "20s", "--format", "json"])
        .output()
        .expect("snapshot runs");
    let after = sim_replicas(sim);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(&text).expect("snapshot is JSON");
    assert_eq!(json["sources"][0]["state"]["state"], "up", "{text}");
    let groups = json["groups"].as_array().expect("groups");
    let names: Vec<&str> = groups
        .iter()
        .filter_map(|g| g["id"]["name"].as_str())
        .collect();
    let scenario = scaletop::sim::Scenario::load("game").expect("built-in");
    let mut expected: Vec<String> = scenario
        .groups()
        .iter()
        .map(|g| g.id.name.clone())
        .collect();
    expected.sort();
    let mut got: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    got.sort();
    assert_eq!(got, expected, "{text}");
    for g in groups {
        let name = g["id"]["name"].as_str().unwrap_or_default();
        let ready = g["latest"]["replicas_ready"]
            .as_f64()
            .expect("replicas_ready present");
        assert!(
            Some(&ready) == before.get(name) || Some(&ready) == after.get(name),
            "{name}: snapshot {ready}, simulator {:?}/{:?}",
            before.get(name),
            after.get(name)
        );
        assert!(
            g["latest"]["cpu_utilization"]
                .as_f64()
                .is_some_and(|v| v > 0.0),
            "{text}"
        );
        assert_eq!(g["id"]["platform"], "k8s");
    }
}

#[test]
fn prometheus_scraping_sim_serve_gives_the_simulators_groups_and_replicas() {
    if !have("prometheus") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (_sim, sim_addr) = start_sim_serve("game", 1.0);
    let port = free_port();
    let _prom = start_prometheus(
        &scrape_config(dir.path(), sim_addr),
        &dir.path().join("data"),
        port,
    );
    let backend: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    snapshot_matches_simulator(backend, sim_addr, dir.path());
}

#[test]
fn victoria_metrics_scraping_sim_serve_gives_the_same_snapshot() {
    if !have("victoria-metrics") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (_sim, sim_addr) = start_sim_serve("game", 1.0);
    let port = free_port();
    let _vm = start_victoria(
        &scrape_config(dir.path(), sim_addr),
        &dir.path().join("vm"),
        port,
    );
    let backend: SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    snapshot_matches_simulator(backend, sim_addr, dir.path());
}

#[test]
fn snapshot_of_an_unreachable_server_exits_1_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = source_config(dir.path(), &format!("http://127.0.0.1:{}", free_port()), "");
    let out = Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .arg("--config")
        .arg(&cfg)
        .args(["snapshot", "--wait", "20s"])
        .output()
        .expect("snapshot runs");
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON still printed");
    assert_eq!(json["sources"][0]["state"]["state"], "down");
    let reason = json["sources"][0]["state"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("connect"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_prometheus_turns_the_source_down_and_it_recovers_after_restart() {
    if !have("prometheus") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (_sim, sim_addr) = start_sim_serve("game", 1.0);
    let port = free_port();
    let scrape = scrape_config(dir.path(), sim_addr);
    let data = dir.path().join("data");
    let prom = start_prometheus(&scrape, &data, port);
    let cfg = PrometheusSourceConfig {
        name: "p".into(),
        url: format!("http://127.0.0.1:{port}"),
        interval: "1s".into(),
        backfill: "5m".into(),
        step: "15s".into(),
        timeout: "2s".into(),
        retries: 0,
        ..Default::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    let task = prometheus::spawn(cfg, tx);
    let mut store = Store::new(1, 3_600);
    let mut next_state = async |store: &mut Store, want: &str, limit: Duration| {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(u)) => {
                    let state = match &u {
                        Update::Health(h) => match h.state {
                            HealthState::Up => "up",
                            HealthState::Down { .. } => "down",
                            HealthState::Starting => "starting",
                        },
                        _ => "",
                    };
                    store.apply(u);
                    if state == want {
                        return;
                    }
                }
                _ => panic!("source never turned {want} within {limit:?}"),
            }
        }
    };
    // Replicas of every group, (timestamp, value) per slot held.
    let held = |store: &Store| -> Vec<(usize, i64, f64)> {
        let mut out = Vec::new();
        for g in 0..store.groups().len() {
            let Some(ring) = store.series(g, MetricKind::ReplicasReady) else {
                continue;
            };
            let end = ring.newest_timestamp().unwrap_or(0);
            let n = ring.len();
            for (i, v) in ring.window(end, n).into_iter().enumerate() {
                if let Some(v) = v {
                    out.push((g, end - (n - 1 - i) as i64, v));
                }
            }
        }
        out
    };
    next_state(&mut store, "up", Duration::from_secs(20)).await;
    // Until Prometheus has scraped the simulator there are no groups yet.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while held(&store).is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no data before the kill"
        );
        next_state(&mut store, "up", Duration::from_secs(5)).await;
    }
    let before = held(&store);
    drop(prom);
    next_state(&mut store, "down", Duration::from_secs(10)).await;
    let during = held(&store);
    for p in &before {
        assert!(during.contains(p), "kept while down: {p:?}");
    }
    let restarted_at = chrono::Utc::now().timestamp();
    let _prom = start_prometheus(&scrape, &data, port);
    // Two poll intervals, plus the time a request in flight may take.
    next_state(&mut store, "up", Duration::from_secs(2 + 2)).await;
    // Data continues: new samples after the restart, the old ones still there.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !held(&store).iter().any(|(_, t, _)| *t > restarted_at) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no sample after the restart"
        );
        next_state(&mut store, "up", Duration::from_secs(4)).await;
    }
    let after = held(&store);
    for p in &before {
        assert!(after.contains(p), "kept after recovery: {p:?}");
    }
    assert!(!task.is_finished(), "source task keeps running");
    task.abort();
}

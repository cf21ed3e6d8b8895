//! The load-test watch on live data, end to end: a real Prometheus scrapes `scaletop sim
//! serve`; the real binary runs in tmux with that Prometheus as its only source (kubernetes
//! preset), lists the simulator's groups, and `m` ... `m` scores the window and saves the
//! scorecard (JSON + Markdown) from what Prometheus returned.

mod support;

use std::time::Duration;

use support::tmux::Tmux;
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_scaletop");
const TIMEOUT: Duration = Duration::from_secs(120);

#[test]
fn a_load_test_window_is_scored_from_live_prometheus_data() {
    if !have("tmux") || !have("prometheus") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (_sim, sim) = start_sim_serve("microservices", 30.0);
    let scrape = scrape_config(dir.path(), sim);
    let data = dir.path().join("data");
    let port = free_port();
    let _prom = start_prometheus(&scrape, &data, port);
    let backend: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().expect("addr");
    wait_until(Duration::from_secs(60), "scraped HPA series", || {
        series_count(
            backend,
            "kube_horizontalpodautoscaler_status_current_replicas",
        ) > 0
    });

    let out_dir = dir.path().join("out");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[general]\noutput_dir = \"{}\"\n\
             [[sources.prometheus]]\nname = \"live\"\nurl = \"http://{backend}\"\n\
             preset = \"kubernetes\"\ninterval = \"1s\"\nbackfill = \"5m\"\nstep = \"1s\"\n",
            out_dir.display()
        ),
    )
    .expect("config");
    let command = format!(
        "env -u SCALETOP_CONFIG XDG_STATE_HOME={d} HOME={d} TERM=xterm-256color {BIN} --config {c}",
        d = dir.path().display(),
        c = config.display()
    );
    let tmux = Tmux::start("live", &command, TIMEOUT);
    // The header names the live source, not the demo; the groups come from Prometheus.
    let screen = tmux.wait_for("groups from Prometheus", |s| {
        s.contains("1 Overview") && s.lines().filter(|l| l.contains("/s")).count() > 0
            || s.contains("groups") && !s.contains("waiting for data")
    });
    assert!(
        !screen.contains("demo "),
        "a live session, not the demo:\n{screen}"
    );
    // CPU comes from rate() over sim serve's counters at 30x: still a utilization, not 30x one.
    let cpu_column = |s: &str| -> Vec<f64> {
        s.lines()
            .filter(|l| l.contains("shop-prod"))
            .filter_map(|l| {
                l.trim_matches(|c| c == '│' || c == ' ')
                    .split_whitespace()
                    .nth(4)?
                    .parse::<f64>()
                    .ok()
            })
            .collect()
    };
    tmux.wait_for("CPU figures", |s| !cpu_column(s).is_empty());
    // Past the first polls, whose rate() windows hold only a sample or two.
    std::thread::sleep(Duration::from_secs(10));
    let screen = tmux.screen();
    let cpu = cpu_column(&screen);
    assert!(
        cpu.iter().all(|c| (0.0..=100.0).contains(c)),
        "CPU % out of range {cpu:?}:\n{screen}"
    );

    tmux.send(&["m"]);
    tmux.wait_for("the load-test panel", |s| s.contains("LOAD TEST since"));
    tmux.wait_for("a live scorecard", |s| s.contains("so far:"));
    // Let a few polls land inside the window.
    std::thread::sleep(Duration::from_secs(5));
    tmux.send(&["m"]);
    tmux.wait_for("the saved scorecard", |s| s.contains("scorecard saved to"));
    let json = files_in(&out_dir, "json");
    let md = files_in(&out_dir, "md");
    assert_eq!((json.len(), md.len()), (1, 1), "{json:?} {md:?}");
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json[0]).expect("read")).expect("json");
    assert_eq!(card["closed"], true);
    let groups = card["groups"].as_array().cloned().unwrap_or_default();
    assert!(!groups.is_empty(), "groups scored from live data: {card}");
    tmux.send(&["q"]);
}

//! The direct scrape source end to end: `scaletop snapshot` scraping `scaletop sim serve`'s
//! `/metrics` with no Prometheus in between lists the scenario's groups with their replicas;
//! an endpoint that does not answer is reported down with the reason (exit 1).

mod support;

use std::process::Command;

use support::{free_port, start_sim_serve};

fn config(dir: &std::path::Path, url: &str) -> std::path::PathBuf {
    let path = dir.join("scaletop.toml");
    std::fs::write(
        &path,
        format!("[[sources.scrape]]\nname = \"sim\"\nurl = \"{url}\"\ninterval = \"1s\"\n"),
    )
    .expect("write config");
    path
}

fn snapshot(cfg: &std::path::Path) -> (Option<i32>, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .arg("--config")
        .arg(cfg)
        .args(["snapshot", "--wait", "20s", "--format", "json"])
        .output()
        .expect("snapshot runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    (
        out.status.code(),
        json,
        format!("{text}\n{}", String::from_utf8_lossy(&out.stderr)),
    )
}

#[test]
fn scraping_sim_serve_directly_gives_the_scenarios_groups_and_replicas() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_sim, addr) = start_sim_serve("game", 1.0);
    let cfg = config(dir.path(), &format!("http://{addr}/metrics"));
    let (code, json, text) = snapshot(&cfg);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(json["sources"][0]["kind"], "scrape", "{text}");
    assert_eq!(json["sources"][0]["state"]["state"], "up", "{text}");
    let groups = json["groups"].as_array().expect("groups");
    let mut got: Vec<String> = groups
        .iter()
        .filter_map(|g| g["id"]["name"].as_str().map(str::to_string))
        .collect();
    got.sort();
    let scenario = scaletop::sim::Scenario::load("game").expect("built-in");
    let mut expected: Vec<String> = scenario
        .groups()
        .iter()
        .map(|g| g.id.name.clone())
        .collect();
    expected.sort();
    assert_eq!(got, expected, "{text}");
    for g in groups {
        let ready = g["latest"]["replicas_ready"].as_f64().unwrap_or(0.0);
        let max = g["latest"]["replicas_max"].as_f64().unwrap_or(0.0);
        assert!(ready >= 1.0 && ready <= max, "{g}");
    }
}

#[test]
fn an_endpoint_that_does_not_answer_is_down_with_the_reason() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = config(
        dir.path(),
        &format!("http://127.0.0.1:{}/metrics", free_port()),
    );
    let (code, json, text) = snapshot(&cfg);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(json["sources"][0]["state"]["state"], "down", "{text}");
    let bad = config(dir.path(), "ftp://example/metrics");
    let (code, _, text) = snapshot(&bad);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("http://"), "{text}");
}

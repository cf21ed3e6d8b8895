//! Bad input on the Prometheus path, each seen the way a user sees it: `scaletop snapshot`'s
//! JSON and exit code. Wrong scheme, DNS failure, auth rejected (401/403), a query template
//! naming a label the server does not have, and an empty result. Servers here are a tiny
//! canned HTTP responder on 127.0.0.1 (the behaviour under a real Prometheus is covered by
//! tests/prometheus_real.rs).

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Output};

use support::source_config;

/// Answers every request with the same status and body until the test process exits; range
/// queries get `range_body` (a matrix) instead.
fn canned_server(status: &'static str, body: &'static str) -> SocketAddr {
    canned_server_with_range(status, body, body)
}

fn canned_server_with_range(
    status: &'static str,
    body: &'static str,
    range_body: &'static str,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(&stream);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let body = if line.contains("/query_range") {
                range_body
            } else {
                body
            };
            // Read the rest of the head; bodies of POST queries are small and ignored.
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let mut s = &stream;
            let _ = write!(
                s,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    addr
}

fn snapshot(config: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .arg("--config")
        .arg(config)
        .args(["snapshot", "--wait", "8s", "--format", "json"])
        .output()
        .expect("snapshot runs")
}

/// The one source's health from a snapshot that printed its JSON.
fn source_health(out: &Output) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "snapshot JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    json["sources"][0].clone()
}

fn reason(health: &serde_json::Value) -> String {
    health["state"]["reason"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_wrong_scheme_is_a_config_error_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = source_config(dir.path(), "ftp://127.0.0.1:9090", "");
    let out = snapshot(&cfg);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("url") && err.contains("http or https"),
        "{err}"
    );
}

#[test]
fn a_name_that_does_not_resolve_is_down_with_the_lookup_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    // .invalid never resolves (RFC 2606).
    let cfg = source_config(dir.path(), "http://scaletop-test.invalid:9090", "");
    let out = snapshot(&cfg);
    assert_eq!(out.status.code(), Some(1));
    let h = source_health(&out);
    assert_eq!(h["state"]["state"], "down");
    let r = reason(&h);
    assert!(r.contains("cannot connect") && r.contains("lookup"), "{r}");
}

#[test]
fn rejected_credentials_say_401_or_403_and_do_not_echo_the_token() {
    for (status, code) in [("401 Unauthorized", "401"), ("403 Forbidden", "403")] {
        let addr = canned_server(status, r#"{"status":"error","error":"no"}"#);
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = source_config(
            dir.path(),
            &format!("http://{addr}"),
            "[sources.prometheus.auth]\nbearer_token_env = \"SCALETOP_TEST_TOKEN\"\n",
        );
        let out = Command::new(env!("CARGO_BIN_EXE_scaletop"))
            .env("SCALETOP_TEST_TOKEN", "s3cret-token-value")
            .arg("--config")
            .arg(&cfg)
            .args(["snapshot", "--wait", "8s", "--format", "json"])
            .output()
            .expect("snapshot runs");
        assert_eq!(out.status.code(), Some(1));
        let h = source_health(&out);
        assert_eq!(h["state"]["state"], "down");
        let r = reason(&h);
        assert!(r.contains(code), "{r}");
        assert!(r.contains("credentials"), "a hint about auth: {r}");
        let everything = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!everything.contains("s3cret-token-value"));
    }
}

/// kube-state-metrics-shaped answer: one HPA, for discovery and for every metric query.
const ONE_HPA: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"kube_horizontalpodautoscaler_status_current_replicas","namespace":"shop","horizontalpodautoscaler":"web"},"value":[1700000000,"3"]}]}}"#;
const ONE_HPA_RANGE: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"namespace":"shop","horizontalpodautoscaler":"web"},"values":[[1700000000,"3"]]}]}}"#;
const EMPTY_RANGE: &str = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;

#[test]
fn a_template_with_an_unknown_label_names_it_and_the_other_metrics_still_flow() {
    let addr = canned_server_with_range("200 OK", ONE_HPA, ONE_HPA_RANGE);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = source_config(
        dir.path(),
        &format!("http://{addr}"),
        "preset = \"kubernetes\"\n[sources.prometheus.queries]\ncpu_utilization = 'avg(rate(cpu{pod=\"{no_such_label}\"}[1m]))'\n",
    );
    let out = snapshot(&cfg);
    let h = source_health(&out);
    // The other metrics still flow; the broken one is named with the label.
    assert_eq!(h["state"]["state"], "up", "{h}");
    let warning = h["warning"].as_str().unwrap_or_default();
    assert!(
        warning.contains("cpu_utilization") && warning.contains("{no_such_label}"),
        "{h}"
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let groups = json["groups"].as_array().cloned().unwrap_or_default();
    assert_eq!(groups.len(), 1, "{json}");
    let latest = &groups[0]["latest"];
    assert_eq!(latest["replicas_desired"], 3.0, "{latest}");
    assert!(
        latest.get("cpu_utilization").is_none(),
        "no value may stand in for a query that could not run: {latest}"
    );
}

#[test]
fn an_empty_result_is_said_plainly_not_shown_as_zero_groups_silently() {
    let addr = canned_server_with_range(
        "200 OK",
        r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#,
        EMPTY_RANGE,
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = source_config(
        dir.path(),
        &format!("http://{addr}"),
        "preset = \"kubernetes\"\n",
    );
    let out = snapshot(&cfg);
    let h = source_health(&out);
    let said = format!("{} {}", reason(&h), h["note"].as_str().unwrap_or_default());
    assert!(
        said.contains("no group") || said.contains("no series"),
        "{h}"
    );
}

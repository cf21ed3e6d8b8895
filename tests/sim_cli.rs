//! `scaletop sim list | export` through the real binary: output shape, ground truth, and the
//! bad-input contract (exit 2, one line on stderr).

use std::process::{Command, Output};

fn scaletop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .args(args)
        .env_remove("SCALETOP_CONFIG")
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("scaletop-sim-cli-none"),
        )
        .output()
        .expect("binary runs")
}

fn stderr_line(o: &Output) -> String {
    let e = String::from_utf8_lossy(&o.stderr).trim().to_string();
    assert_eq!(e.lines().count(), 1, "one line on stderr: {e:?}");
    e
}

#[test]
fn list_names_the_six_scenarios() {
    let o = scaletop(&["sim", "list", "--format", "json"]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let names: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "ecommerce",
            "microservices",
            "database",
            "serverless",
            "multiregion",
            "game"
        ]
    );
}

#[test]
fn export_writes_long_form_csv_without_gaps_as_zero() {
    let o = scaletop(&[
        "sim",
        "export",
        "--scenario",
        "database",
        "--duration",
        "2h",
        "--step",
        "1m",
        "--seed",
        "4",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).expect("utf8");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("timestamp,group,metric,value"));
    let mut rows = 0;
    let mut times = std::collections::BTreeSet::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 4, "{line}");
        assert!(chrono::DateTime::parse_from_rfc3339(f[0]).is_ok() && f[0].ends_with('Z'));
        assert!(
            ["aurora-readers", "aurora-writer"].contains(&f[1]),
            "{line}"
        );
        assert!(
            f[2].parse::<scaletop::model::MetricKind>().is_ok(),
            "{line}"
        );
        let v: f64 = f[3].parse().expect("number");
        assert!(v.is_finite());
        times.insert(f[0].to_string());
        rows += 1;
    }
    assert_eq!(times.len(), 120);
    assert!(rows > 120 * 2 * 10);
}

#[test]
fn truth_is_json_with_the_planted_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("truth.json");
    let o = scaletop(&[
        "sim",
        "export",
        "--scenario",
        "ecommerce",
        "--duration",
        "14d",
        "--step",
        "1h",
        "--truth",
        "--out",
        out.to_str().expect("path"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("json");
    assert_eq!(v["schema"], "scaletop.sim-truth/v1");
    assert!(v["events"]
        .as_array()
        .expect("events")
        .iter()
        .any(|e| e["name"] == "black_friday_2025"));
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let o = scaletop(&["sim", "export", "--scenario", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr_line(&o).contains("unknown scenario 'nope' (known: ecommerce"));

    let o = scaletop(&[
        "sim",
        "export",
        "--scenario",
        "game",
        "--duration",
        "fortnight",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr_line(&o).contains("--duration"));

    let o = scaletop(&[
        "sim",
        "export",
        "--scenario",
        "game",
        "--duration",
        "1h",
        "--out",
        "/nonexistent-dir/sub/out.csv",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr_line(&o).contains("/nonexistent-dir/sub/out"));
}

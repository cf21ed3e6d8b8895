//! `scaletop analyze` end to end: real series pinned to their clear findings, the JSON schema,
//! and bad or odd input (exit 2 with one line, or a sensible result; never a panic).

use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/analyze")
        .join(name)
}

fn analyze(path: &std::path::Path, format: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .args(["analyze", "--input"])
        .arg(path)
        .args(["--format", format])
        .output()
        .expect("runs")
}

fn json_of(path: &std::path::Path) -> serde_json::Value {
    let out = analyze(path, "json");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn periods(series: &serde_json::Value) -> Vec<i64> {
    series["seasonality"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["period_seconds"].as_i64())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn electricity_demand_is_daily_and_weekly() {
    let v = json_of(&fixture("taylor_uk_electricity_30min.csv"));
    assert_eq!(v["schema"], "scaletop.analysis/v1");
    let s = &v["series"][0];
    assert_eq!(periods(s), vec![86_400, 604_800]);
    assert!(s["predictability"].as_f64().unwrap_or(0.0) > 0.9);
    for key in [
        "baseline",
        "peak",
        "peak_to_baseline",
        "cv",
        "growth_pct_per_month",
    ] {
        assert!(s[key].is_number(), "{key}");
    }
    let windows = s["peak_windows"].as_array().expect("peak windows");
    assert!(windows.iter().any(|w| w["days"] == "weekdays"));
}

/// NAB labelled windows (anomaly_windows.json) for the fixture files.
fn labelled(name: &str) -> Vec<(i64, i64)> {
    let t = |s: &str| scaletop::input::parse_timestamp(s).expect("timestamp");
    match name {
        "elb_request_count_8c0756.csv" => vec![
            (t("2014-04-12 09:04:00"), t("2014-04-13 01:44:00")),
            (t("2014-04-22 11:14:00"), t("2014-04-23 03:54:00")),
        ],
        "ec2_cpu_utilization_825cc2.csv" => {
            vec![(t("2014-04-15 07:24:00"), t("2014-04-16 11:54:00"))]
        }
        _ => vec![],
    }
}

#[test]
fn strongest_anomalies_fall_in_nab_labelled_windows() {
    for name in [
        "elb_request_count_8c0756.csv",
        "ec2_cpu_utilization_825cc2.csv",
    ] {
        let v = json_of(&fixture(name));
        let anomalies = v["series"][0]["anomalies"]
            .as_array()
            .expect("anomalies")
            .clone();
        let top = anomalies
            .iter()
            .max_by(|a, b| {
                a["score"]
                    .as_f64()
                    .unwrap_or(0.0)
                    .total_cmp(&b["score"].as_f64().unwrap_or(0.0))
            })
            .expect("some anomaly");
        let (s, e) = (
            top["start"].as_i64().unwrap_or(0),
            top["end"].as_i64().unwrap_or(0),
        );
        assert!(
            labelled(name).iter().any(|(a, b)| e >= *a && s <= *b),
            "{name}: strongest anomaly {s}..{e} outside the labelled windows"
        );
    }
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("missing.csv", None),
        ("bad_header.csv", Some("time,val\n0,1\n")),
        ("bad_value.csv", Some("timestamp,value\n0,1\n60,abc\n")),
        (
            "far_apart.csv",
            Some("timestamp,value\n0,1\n1,2\n2000000000,3\n"),
        ),
    ];
    for (name, body) in cases {
        let path = dir.path().join(name);
        if let Some(b) = body {
            std::fs::write(&path, b).expect("write");
        }
        let out = analyze(&path, "json");
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{name}: {err}");
    }
}

#[test]
fn odd_but_valid_input_gives_a_sensible_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases = [
        ("one_point.csv", "timestamp,value\n2024-01-01 00:00:00,5\n"),
        (
            "constant.csv",
            &*format!(
                "timestamp,value\n{}",
                (0..500)
                    .map(|i| format!("{},3\n", i * 60))
                    .collect::<String>()
            ),
        ),
        ("all_missing.csv", "timestamp,value\n0,\n60,\n120,NaN\n"),
        (
            "duplicated.csv",
            "timestamp,value\n0,1\n0,3\n60,2\n60,2\n120,5\n",
        ),
        (
            "irregular.csv",
            "timestamp,value\n0,1\n60,2\n150,3\n180,4\n400,5\n420,6\n",
        ),
        (
            "huge.csv",
            "timestamp,value\n0,1e300\n60,1.5e300\n120,1e300\n",
        ),
    ];
    for (name, body) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, body).expect("write");
        for format in ["json", "table", "md"] {
            let out = analyze(&path, format);
            assert!(
                out.status.success(),
                "{name} {format}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let v = json_of(&path);
        assert!(
            v["series"][0]["seasonality"]
                .as_array()
                .is_some_and(|a| a.is_empty()),
            "{name}"
        );
    }
}

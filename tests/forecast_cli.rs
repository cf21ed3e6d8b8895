//! `scaletop forecast` end to end: the JSON document, CSV and table output, the runway, and
//! bad input (exit 2 with one line on stderr, never a panic).

use std::io::Write;
use std::process::{Command, Output};

fn forecast(csv: &str, args: &[&str]) -> Output {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(csv.as_bytes()).expect("write");
    Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .args(["forecast", "--input"])
        .arg(file.path())
        .args(args)
        .output()
        .expect("runs")
}

/// Ten days hourly of a daily cycle, from 2024-01-01.
fn daily_csv() -> String {
    let mut s = String::from("timestamp,value\n");
    for i in 0..240i64 {
        let v = 100.0 + 50.0 * (2.0 * std::f64::consts::PI * i as f64 / 24.0).sin();
        s.push_str(&format!("{},{v:.3}\n", 1_704_067_200 + i * 3600));
    }
    s
}

fn usage_error(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    err
}

#[test]
fn json_has_model_backtest_points_and_runway() {
    let out = forecast(
        &daily_csv(),
        &["--horizon", "12h", "--format", "json", "--capacity", "140"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(v["model"].is_string());
    assert_eq!(v["step_seconds"], 3600);
    assert!(v["fit_ms"].as_f64().is_some());
    for k in [
        "mase",
        "wape",
        "mape",
        "accuracy",
        "coverage80",
        "coverage95",
    ] {
        assert!(v["backtest"].get(k).is_some(), "backtest.{k}");
    }
    let points = v["points"].as_array().expect("points");
    assert_eq!(points.len(), 12);
    assert_eq!(points[0]["timestamp"], "2024-01-11T00:00:00Z");
    let p = &points[6];
    let f = |k: &str| p[k].as_f64().expect(k);
    assert!(f("lo95") <= f("lo80") && f("lo80") <= f("mean") + 1e-9 && f("hi80") <= f("hi95"));
    // The daily peak (150) passes 140 at 03:00-09:00 UTC.
    let crossing = v["runway"]["first_crossing"].as_str().expect("crossing");
    assert!(crossing.starts_with("2024-01-11T0"), "{crossing}");
}

#[test]
fn csv_and_table_formats() {
    let out = forecast(&daily_csv(), &["--horizon", "3h", "--format", "csv"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().next(),
        Some("timestamp,mean,lo80,hi80,lo95,hi95")
    );
    assert_eq!(text.lines().count(), 4);
    let out = forecast(
        &daily_csv(),
        &["--horizon", "3h", "--model", "seasonal_naive_daily"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("model seasonal_naive_daily"), "{text}");
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let e = usage_error(&forecast(&daily_csv(), &["--horizon", "soon"]));
    assert!(e.contains("--horizon"), "{e}");
    let e = usage_error(&forecast(
        &daily_csv(),
        &["--horizon", "1h", "--model", "magic"],
    ));
    assert!(e.contains("--model"), "{e}");
    let e = usage_error(&forecast(
        "timestamp,value\n0,1\n60,2\n",
        &["--horizon", "1h"],
    ));
    assert!(e.contains("too few points"), "{e}");
    let e = usage_error(&forecast(
        "timestamp,value\n0,\n60,\n120,\n",
        &["--horizon", "1h"],
    ));
    assert!(e.contains("no data"), "{e}");
    let long = "timestamp,group,metric,value\n0,a,x,1\n0,b,x,2\n";
    let e = usage_error(&forecast(long, &["--horizon", "1h"]));
    assert!(e.contains("--group"), "{e}");
    let e = usage_error(&forecast(long, &["--horizon", "1h", "--group", "c"]));
    assert!(e.contains("no series matches"), "{e}");
    usage_error(&forecast(
        &daily_csv(),
        &["--horizon", "1h", "--capacity=-3"],
    ));
}

/// Ten days hourly of a daily cycle with a "sale" on day 3 (x3) and again on day 10 (in the
/// forecast), and an events file naming both.
#[test]
fn events_file_masks_history_and_lifts_the_forecast() {
    let t0 = 1_704_067_200i64; // 2024-01-01T00:00Z
    let mut csv = String::from("timestamp,value\n");
    for i in 0..9 * 24i64 {
        let mut v = 100.0 + 50.0 * (2.0 * std::f64::consts::PI * i as f64 / 24.0).sin();
        if (2 * 24..3 * 24).contains(&i) {
            v *= 3.0;
        }
        csv.push_str(&format!("{},{v:.3}\n", t0 + i * 3600));
    }
    let mut events = tempfile::NamedTempFile::new().expect("temp file");
    events
        .write_all(
            br#"
[[event]]
name = "sale_1"
start = "2024-01-03T00:00:00Z"
duration = "24h"
like = "sale_1"

[[event]]
name = "sale_2"
start = "2024-01-10T00:00:00Z"
end = "2024-01-11T00:00:00Z"
like = "sale_1"
"#,
        )
        .expect("write");
    let path = events.path().to_str().expect("utf8 path").to_string();
    let out = forecast(
        &csv,
        &["--horizon", "36h", "--format", "json", "--events", &path],
    );
    // The same calendar from the config file's [forecast] events_file.
    let mut config = tempfile::NamedTempFile::new().expect("temp file");
    writeln!(config, "[forecast]\nevents_file = {path:?}").expect("write");
    let config_path = config.path().to_str().expect("utf8 path").to_string();
    let from_config = forecast(
        &csv,
        &[
            "--horizon",
            "36h",
            "--format",
            "json",
            "--config",
            &config_path,
        ],
    );
    assert!(
        from_config.status.success(),
        "{}",
        String::from_utf8_lossy(&from_config.stderr)
    );
    let c: serde_json::Value = serde_json::from_slice(&from_config.stdout).expect("json");
    assert_eq!(c["events"][0]["source"], "learned from sale_1");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["event_points_masked"], 24);
    assert_eq!(v["events"][0]["name"], "sale_2");
    assert_eq!(v["events"][0]["source"], "learned from sale_1");
    let uplift = v["events"][0]["uplift"].as_f64().expect("uplift");
    assert!((uplift - 3.0).abs() < 0.3, "uplift {uplift}");
    // 2024-01-10T06:00Z is the daily peak (sin = 1): about 3 x 150.
    let p = v["points"]
        .as_array()
        .expect("points")
        .iter()
        .find(|p| p["timestamp"] == "2024-01-10T06:00:00Z")
        .expect("point");
    let mean = p["mean"].as_f64().expect("mean");
    assert!((mean - 450.0).abs() < 45.0, "mean {mean}");

    // A bad events file: exit 2, one line naming the file and the event.
    let mut bad = tempfile::NamedTempFile::new().expect("temp file");
    bad.write_all(b"[[event]]\nname = \"x\"\nstart = \"tomorrow\"\nduration = \"1h\"\n")
        .expect("write");
    let bad_path = bad.path().to_str().expect("utf8 path").to_string();
    let e = usage_error(&forecast(
        &csv,
        &["--horizon", "12h", "--events", &bad_path],
    ));
    assert!(e.contains("event 'x'") && e.contains("RFC 3339"), "{e}");
}

#[test]
fn runway_out_against_a_policy_is_a_max_raise_recommendation() {
    let hpa = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hpa-cpu70.yaml");
    // The HPA's max 20 x 7 req/s per replica = 140; the daily peak is 150.
    let out = forecast(
        &daily_csv(),
        &[
            "--horizon",
            "24h",
            "--format",
            "json",
            "--policy",
            hpa,
            "--per-replica",
            "7",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["runway"]["capacity"].as_f64(), Some(140.0));
    let peak = v["runway"]["peak_upper"].as_f64().expect("peak");
    let recs = v["recommendations"].as_array().expect("recommendations");
    assert_eq!(recs.len(), 1, "{recs:?}");
    let r = &recs[0];
    assert_eq!(r["schema"], "scaletop.recommendation/v1");
    assert_eq!(r["kind"], "policy");
    let needed = (peak / 7.0).ceil() as u64;
    assert!(needed > 20);
    assert_eq!(r["artifact"]["artifact"], "policy");
    assert_eq!(r["artifact"]["format"], "k8s-hpa");
    assert_eq!(r["artifact"]["document"]["spec"]["maxReplicas"], needed);
    assert_eq!(r["artifact"]["document"]["spec"]["minReplicas"], 2);
    let title = r["title"].as_str().expect("title");
    assert!(
        title.contains("reaches max=20 on 2024-01-11")
            && title.ends_with(&format!("raise max to {needed}")),
        "{title}"
    );
    // Room to spare: no recommendation.
    let out = forecast(
        &daily_csv(),
        &[
            "--horizon",
            "24h",
            "--format",
            "json",
            "--policy",
            hpa,
            "--per-replica",
            "10",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["recommendations"].as_array().map(Vec::len), Some(0));
    // An unusable policy file is bad input.
    let bad = tempfile::NamedTempFile::new().expect("temp");
    std::fs::write(bad.path(), "kind: Nonsense\n").expect("write");
    let out = forecast(
        &daily_csv(),
        &[
            "--horizon",
            "24h",
            "--policy",
            bad.path().to_str().expect("path"),
        ],
    );
    assert!(usage_error(&out).contains("--policy"));
}

fn json_of(out: &Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn notes_of(doc: &serde_json::Value) -> Vec<String> {
    doc["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect()
}

/// The issue's bad-input list beyond the unusable cases above: shuffled, duplicated and
/// irregular timestamps are repaired and said so; a horizon longer than the history is
/// refused with the reason; a constant series is forecast as itself.
#[test]
fn repaired_timestamps_are_said_and_hopeless_horizons_refused() {
    let csv = daily_csv();
    let lines: Vec<&str> = csv.lines().collect();
    let ordered = json_of(&forecast(&csv, &["--horizon", "1d", "--format", "json"]));

    // Out of order: the same forecast as the sorted file.
    let mut shuffled = lines.clone();
    shuffled.swap(50, 51);
    shuffled.swap(100, 180);
    let doc = json_of(&forecast(
        &(shuffled.join("\n") + "\n"),
        &["--horizon", "1d", "--format", "json"],
    ));
    assert_eq!(doc["points"], ordered["points"]);
    // ... and says it sorted them: time goes back at rows 51, 101 and 180 of the file.
    let sorted_note = |doc: &serde_json::Value| {
        notes_of(doc)
            .into_iter()
            .find(|n| n.contains("not in time order"))
    };
    assert_eq!(sorted_note(&ordered), None);
    let note = sorted_note(&doc).expect("a note that the input was sorted");
    assert!(note.contains("goes back 3 times"), "{note}");
    let table = forecast(&(shuffled.join("\n") + "\n"), &["--horizon", "1d"]);
    assert!(
        String::from_utf8_lossy(&table.stdout).contains("note: input not in time order"),
        "the table says it too"
    );

    // A timestamp twice with two values: averaged, and the note says so.
    let (t, _) = lines[60].split_once(',').expect("row");
    let mut dup = lines.clone();
    let extra = format!("{t},999");
    dup.insert(61, &extra);
    let doc = json_of(&forecast(
        &(dup.join("\n") + "\n"),
        &["--horizon", "1d", "--format", "json"],
    ));
    let notes = notes_of(&doc);
    assert!(
        notes.iter().any(|n| n.contains("1 duplicated timestamps")),
        "{notes:?}"
    );

    // Every fourth point 10 minutes late: resampled onto the hourly grid, and said.
    let mut irregular = String::from("timestamp,value\n");
    for (i, row) in lines[1..].iter().enumerate() {
        let (t, v) = row.split_once(',').expect("row");
        let t: i64 = t.parse().expect("unix");
        let late = if i % 4 == 1 { 600 } else { 0 };
        irregular.push_str(&format!("{},{v}\n", t + late));
    }
    let doc = json_of(&forecast(
        &irregular,
        &["--horizon", "1d", "--format", "json"],
    ));
    assert_eq!(doc["step_seconds"], 3600);
    let notes = notes_of(&doc);
    assert!(
        notes.iter().any(|n| n.contains("off the 3600 s grid")),
        "{notes:?}"
    );

    // Ten days cannot support a 400-day forecast (daily means: 10 points).
    let e = usage_error(&forecast(&csv, &["--horizon", "400d"]));
    assert!(e.contains("too few points"), "{e}");

    // Constant: forecast as the constant with a collapsed band.
    let mut constant = String::from("timestamp,value\n");
    for i in 0..240i64 {
        constant.push_str(&format!("{},7\n", 1_704_067_200 + i * 3600));
    }
    let doc = json_of(&forecast(
        &constant,
        &["--horizon", "1d", "--format", "json"],
    ));
    for p in doc["points"].as_array().expect("points") {
        let (mean, lo, hi) = (p["mean"].as_f64(), p["lo95"].as_f64(), p["hi95"].as_f64());
        let (Some(mean), Some(lo), Some(hi)) = (mean, lo, hi) else {
            panic!("{p}");
        };
        assert!((mean - 7.0).abs() < 1e-9 && (hi - lo).abs() < 1e-9, "{p}");
    }
}

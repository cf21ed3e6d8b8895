//! `scaletop simulate` end to end: the real binary on files, JSON shape, and bad input.

use std::path::Path;
use std::process::{Command, Output};

const HPA: &str = include_str!("fixtures/hpa-cpu70.yaml");

fn scaletop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .args(args)
        .output()
        .expect("run scaletop")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write fixture");
    p.to_string_lossy().into_owned()
}

/// Runs `simulate` on 50 rps replicas of concurrency 2 with JSON output; `extra` adds flags.
fn replay_json(input: &str, policy: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "simulate",
        "--input",
        input,
        "--policy",
        policy,
        "--capacity-per-replica",
        "50",
        "--concurrency",
        "2",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = scaletop(&args);
    assert!(
        o.status.success(),
        "{policy}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("json")
}

/// Two hours at 1-minute steps: 300 rps, then 900 rps from minute 60.
fn demand_csv() -> String {
    let mut s = String::from("timestamp,group,metric,value\n");
    for i in 0..120 {
        let v = if i < 60 { 300 } else { 900 };
        s.push_str(&format!(
            "{},web,request_rate,{v}\n",
            1_700_000_000 + i * 60
        ));
    }
    s
}

#[test]
fn json_has_steps_and_summary_and_scales_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write(dir.path(), "d.csv", &demand_csv());
    let policy = write(dir.path(), "hpa.yaml", HPA);
    let v = replay_json(&input, &policy, &["--price", "0.192"]);
    assert_eq!(v["schema"], "scaletop.replay/v1");
    let steps = v["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 120);
    for key in [
        "timestamp",
        "demand",
        "replicas",
        "ready",
        "utilization",
        "p95_ms",
    ] {
        assert!(steps[0].get(key).is_some(), "step lacks {key}");
    }
    // 300 rps at 70% of 50 rps per replica needs ceil(300/35) = 9; 900 rps needs 26 > max 20.
    assert_eq!(steps[10]["replicas"], 9);
    assert_eq!(steps[119]["replicas"], 20);
    let s = &v["summary"];
    assert!(s["minutes_at_max"].as_f64().unwrap_or(0.0) > 30.0, "{s}");
    assert!(s["scale_up_events"].as_u64().unwrap_or(0) >= 1);
}

#[test]
fn bad_policy_and_input_exit_2_naming_the_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write(dir.path(), "d.csv", &demand_csv());
    let cases = [
        (HPA.replace("HorizontalPodAutoscaler", "Deployment"), "kind"),
        (
            HPA.replace("minReplicas: 2", "minReplicas: 50"),
            "spec.minReplicas",
        ),
        (
            HPA.replace("name: cpu", "name: memory"),
            "memory_utilization",
        ),
    ];
    for (policy_text, needle) in cases {
        let policy = write(dir.path(), "p.yaml", &policy_text);
        let o = scaletop(&[
            "simulate",
            "--input",
            &input,
            "--policy",
            &policy,
            "--capacity-per-replica",
            "50",
        ]);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(needle), "{needle} not in: {err}");
    }
    let policy = write(dir.path(), "hpa.yaml", HPA);
    let neg = write(dir.path(), "neg.csv", "timestamp,value\n0,5\n60,-3\n");
    let o = scaletop(&[
        "simulate",
        "--input",
        &neg,
        "--policy",
        &policy,
        "--capacity-per-replica",
        "50",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let garbage = write(dir.path(), "g.csv", "timestamp,value\n0,5\n60,lots\n");
    let o = scaletop(&[
        "simulate",
        "--input",
        &garbage,
        "--policy",
        &policy,
        "--capacity-per-replica",
        "50",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("g.csv:3"));
    let o = scaletop(&[
        "simulate",
        "--input",
        &input,
        "--policy",
        &policy,
        "--capacity-per-replica",
        "NaN",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn load_tests_pass_and_fail_with_exit_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let roomy = write(
        dir.path(),
        "roomy.yaml",
        &HPA.replace("maxReplicas: 20", "maxReplicas: 1000"),
    );
    let tight = write(dir.path(), "tight.yaml", HPA);
    let args = |policy: &str, test: &str| {
        scaletop(&[
            "simulate",
            "--test",
            test,
            "--base-rps",
            "200",
            "--policy",
            policy,
            "--capacity-per-replica",
            "50",
            "--concurrency",
            "2",
            "--startup",
            "45s",
            "--format",
            "json",
        ])
    };
    // A ramp to 10x with room to grow: scaled in time, SLA kept.
    let o = args(&roomy, "ramp");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["verdict"]["passed"], true);
    // max 20 replicas of 50 rps cannot carry 2000 rps: the ramp must fail, naming why.
    let o = args(&tight, "ramp");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("time to scale"), "{err}");
    // After a 10x peak, the default 100%-per-15s scale-down drops to what the truncated
    // utilization suggests (200 rps on 58 pods = 6.9% -> 6% -> 5 pods for 5.7 pods of load)
    // and scales straight back up: a thrash pair the scale-down test must report.
    let o = args(&roomy, "scale-down");
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let thrash = v["verdict"]["checks"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == "no thrash"))
        .cloned()
        .expect("thrash check");
    assert_eq!(thrash["passed"], false, "{thrash}");
    let o = scaletop(&[
        "simulate",
        "--test",
        "soak",
        "--base-rps",
        "1",
        "--policy",
        &roomy,
        "--capacity-per-replica",
        "5",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn aws_target_tracking_config_replays() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write(dir.path(), "d.csv", &demand_csv());
    let policy = write(
        dir.path(),
        "asg.json",
        include_str!("fixtures/asg-target-tracking.json"),
    );
    let v = replay_json(&input, &policy, &["--startup", "2m"]);
    let steps = v["steps"].as_array().expect("steps");
    // 300 rps at a 50% CPU target of 50 rps instances: 12 instances; 900 rps: 36.
    assert_eq!(steps[30]["replicas"], 12);
    assert_eq!(steps[119]["replicas"], 36);
    // Demand triples at 1_700_003_600 (23:13:20); the scale-out waits for the third
    // one-minute datapoint above target, 23:15:20.
    let first_up = v["events"][0]["event"]["at"].as_str().expect("event time");
    assert_eq!(first_up, "2023-11-14T23:15:20Z");
    let broken = write(
        dir.path(),
        "bad.json",
        r#"{"MinSize": 3, "MaxSize": 1, "ScalingPolicies": []}"#,
    );
    let o = scaletop(&[
        "simulate",
        "--input",
        &input,
        "--policy",
        &broken,
        "--capacity-per-replica",
        "50",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("MinSize"));
}

#[test]
fn every_platform_format_replays_and_follows_demand() {
    // The same tripling of demand through each platform's own policy format: each must end
    // with more capacity than it started with, and say which policy it read.
    let dir = tempfile::tempdir().expect("tempdir");
    let input = write(dir.path(), "d.csv", &demand_csv());
    let cases = [
        ("hpa-cpu70.yaml", HPA, "HPA"),
        (
            "asg.json",
            include_str!("fixtures/asg-target-tracking.json"),
            "ASG",
        ),
        (
            "keda.yaml",
            include_str!("fixtures/keda-queue.yaml"),
            "KEDA",
        ),
        (
            "gcp.json",
            include_str!("fixtures/gcp-autoscaler.json"),
            "GCP",
        ),
        (
            "azure.json",
            include_str!("fixtures/azure-autoscale.json"),
            "Azure",
        ),
    ];
    for (name, text, label) in cases {
        let policy = write(dir.path(), name, text);
        let v = replay_json(&input, &policy, &[]);
        assert!(
            v["policy"].as_str().unwrap_or("").starts_with(label),
            "{name}: {}",
            v["policy"]
        );
        let steps = v["steps"].as_array().expect("steps");
        let first = steps[30]["replicas"].as_u64().unwrap_or(0);
        let last = steps[119]["replicas"].as_u64().unwrap_or(0);
        assert!(last >= 2 * first, "{name}: {first} -> {last}");
    }
}

fn function_replay(input: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "simulate",
        "--input",
        input,
        "--lambda-duration-ms",
        "100",
        "--lambda-memory-mb",
        "1024",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let o = scaletop(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("json")
}

#[test]
fn lambda_functions_replay_concurrency_throttles_and_provisioned_concurrency() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 300 then 900 req/s x 100 ms: 30 then 90 concurrent.
    let input = write(dir.path(), "d.csv", &demand_csv());

    // On demand under a limit of 60: a third of the busy hour is throttled.
    let v = function_replay(&input, &["--concurrency-limit", "60"]);
    assert_eq!(v["schema"], "scaletop.replay.function/v1");
    let s = &v["summary"];
    let throttled = s["throttled_requests"].as_f64().unwrap_or(0.0);
    let expected = 300.0 * 3600.0; // (900 - 600) req/s for an hour
    assert!((throttled - expected).abs() < 1.0, "{throttled}");
    assert!(s["sla_violation_minutes"].as_f64().unwrap_or(0.0) >= 60.0);

    // Fixed provisioned concurrency of 90 covers the busy hour: billed the whole two hours.
    let v = function_replay(&input, &["--provisioned", "90"]);
    let steps = v["steps"].as_array().expect("steps");
    assert!(steps.iter().all(|s| s["provisioned"] == 90));
    // 2 h x 90 x 1 GB x 3600 s x $0.0000041667 = $2.70 of provisioned charge alone.
    let cost = v["summary"]["cost_usd"].as_f64().unwrap_or(0.0);
    assert!(cost > 2.70, "{cost}");

    // Application Auto Scaling raises provisioned concurrency after the step up.
    let policy = write(
        dir.path(),
        "pc.json",
        include_str!("fixtures/lambda-provisioned.json"),
    );
    let o = scaletop(&[
        "simulate", "--input", &input, "--policy", &policy, "--format", "json",
    ]);
    assert_eq!(o.status.code(), Some(2), "needs the function duration");
    assert!(String::from_utf8_lossy(&o.stderr).contains("--lambda-duration-ms"));
    let v = function_replay(&input, &["--policy", &policy]);
    assert!(v["policy"]
        .as_str()
        .unwrap_or("")
        .contains("ProvisionedConcurrency"));
    let steps = v["steps"].as_array().expect("steps");
    let before = steps[55]["provisioned"].as_u64().unwrap_or(0);
    let after = steps[119]["provisioned"].as_u64().unwrap_or(0);
    assert!(after > before && after >= 90, "{before} -> {after}");
}

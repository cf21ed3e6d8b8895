//! `scaletop tune` end to end: the real binary on a demand file. The recommended document is
//! replayed again by `scaletop simulate` on the training and held-out parts (an independent
//! run of the emitted file), and must give the figures tune reported; the front is checked as
//! a front; bad input exits 2 (unusable) or 1 (no policy keeps the Slo) with its reason.

use std::path::Path;
use std::process::{Command, Output};

const HPA: &str = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  minReplicas: 4\n  maxReplicas: 60\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}\n  behavior:\n    scaleDown:\n      stabilizationWindowSeconds: 0\n      tolerance: '0.02'\n    scaleUp:\n      tolerance: '0.02'\n";

const CAPACITY: [&str; 10] = [
    "--capacity-per-replica",
    "100",
    "--concurrency",
    "2",
    "--startup",
    "30s",
    "--price",
    "0.05",
    "--timeout",
    "5s",
];

fn scaletop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .args(args)
        .output()
        .expect("run scaletop")
}

/// `hours` of minutes: a daily cycle between 300 and 1500 rps with a deterministic wobble.
fn demand_rows(hours: usize) -> Vec<String> {
    (0..hours * 60)
        .map(|i| {
            let day = (i as f64 / 1440.0) * std::f64::consts::TAU;
            let wobble = 40.0 * ((i * 7919 % 13) as f64 / 13.0 - 0.5);
            format!(
                "{},{:.3}",
                1_700_006_400 + i * 60,
                900.0 - 600.0 * day.cos() + wobble
            )
        })
        .collect()
}

fn write_csv(dir: &Path, name: &str, rows: &[String]) -> String {
    let p = dir.join(name);
    let mut text = String::from("timestamp,value\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(&p, text).expect("write csv");
    p.to_string_lossy().into_owned()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write");
    p.to_string_lossy().into_owned()
}

fn simulate_summary(input: &str, policy: &str) -> serde_json::Value {
    let mut args = vec![
        "simulate", "--input", input, "--policy", policy, "--format", "json",
    ];
    args.extend_from_slice(&CAPACITY);
    let o = scaletop(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    v["summary"].clone()
}

fn close(a: &serde_json::Value, b: &serde_json::Value, what: &str) {
    let (x, y) = (
        a.as_f64().unwrap_or(f64::NAN),
        b.as_f64().unwrap_or(f64::NAN),
    );
    assert!(
        (x - y).abs() <= 1e-6 * x.abs().max(1.0),
        "{what}: {x} vs {y}"
    );
}

#[test]
fn recommended_document_replays_to_the_reported_figures() {
    let dir = tempfile::tempdir().unwrap();
    let rows = demand_rows(80);
    let input = write_csv(dir.path(), "d.csv", &rows);
    let policy = write(dir.path(), "hpa.yaml", HPA);
    let mut args = vec![
        "tune", "--input", &input, "--policy", &policy, "--search", "small", "--format", "json",
    ];
    args.extend_from_slice(&CAPACITY);
    let o = scaletop(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["schema"], "scaletop.tune/v1");
    let rec = &v["recommendation"];
    assert_eq!(rec["schema"], "scaletop.recommendation/v1");
    assert_eq!(rec["kind"], "policy");
    assert_eq!(rec["artifact"]["artifact"], "policy");
    assert_eq!(rec["artifact"]["format"], "k8s-hpa");
    // The emitted document, as a user would save it, replayed by `simulate`.
    let doc = write(
        dir.path(),
        "recommended.json",
        &rec["artifact"]["document"].to_string(),
    );
    let cut = v["split"]["train_steps"].as_u64().unwrap() as usize;
    assert_eq!(cut, 3360, "70% of 4800 steps");
    let train = write_csv(dir.path(), "train.csv", &rows[..cut]);
    let held = write_csv(dir.path(), "held.csv", &rows[cut..]);
    let r = &v["recommended"];
    let t = simulate_summary(&train, &doc);
    close(
        &t["cost_usd_per_month"],
        &r["train"]["cost_usd_per_month"],
        "train cost",
    );
    close(
        &t["sla_violation_minutes"],
        &r["train"]["sla_violation_minutes"],
        "train SLA",
    );
    assert_eq!(t["thrash_events"], 0);
    let h = simulate_summary(&held, &doc);
    close(
        &h["cost_usd_per_month"],
        &r["heldout"]["cost_usd_per_month"],
        "held-out cost",
    );
    assert_eq!(h["thrash_events"], r["heldout"]["thrash_events"]);
    // The current policy thrashes on the held-out part; the recommendation does not.
    let cur = simulate_summary(&held, &policy);
    close(
        &cur["cost_usd_per_month"],
        &v["current"]["heldout"]["cost_usd_per_month"],
        "current",
    );
    assert!(cur["thrash_events"].as_u64().unwrap() > 0, "{cur}");
    assert_eq!(r["holds"], true);
    // The saving is the difference of the two independent replays.
    let saving =
        cur["cost_usd_per_month"].as_f64().unwrap() - h["cost_usd_per_month"].as_f64().unwrap();
    close(
        &serde_json::json!(saving),
        &rec["saving_usd_month"],
        "saving",
    );
    // A front: cheapest first, each point with fewer SLA minutes than every cheaper one, and
    // no point that keeps the Slo without thrash is cheaper than the recommendation.
    let front = v["pareto_front"].as_array().unwrap();
    assert!(!front.is_empty());
    for w in front.windows(2) {
        let (a, b) = (&w[0]["train"], &w[1]["train"]);
        assert!(a["cost_usd_per_month"].as_f64() <= b["cost_usd_per_month"].as_f64());
        assert!(a["sla_violation_minutes"].as_f64() > b["sla_violation_minutes"].as_f64());
    }
    let rec_cost = r["train"]["cost_usd_per_month"].as_f64().unwrap();
    for p in front {
        if p["train"]["keeps_slo"] == true {
            assert!(p["train"]["cost_usd_per_month"].as_f64().unwrap() >= rec_cost - 1e-9);
        }
    }
}

#[test]
fn bad_input_says_what_and_exits_2_or_1() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(dir.path(), "hpa.yaml", HPA);
    let short = write_csv(dir.path(), "short.csv", &demand_rows(48));
    let long = write_csv(dir.path(), "long.csv", &demand_rows(80));
    let run = |input: &str, extra: &[&str]| {
        let mut args = vec![
            "tune", "--input", input, "--policy", &policy, "--search", "small",
        ];
        args.extend_from_slice(&CAPACITY);
        args.extend_from_slice(extra);
        let o = scaletop(&args);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = run(&short, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("48.0 h given") && err.contains("80.0 h needed"),
        "{err}"
    );
    let (code, err) = run(&long, &["--policy-kind", "aws-step"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("aws-step") && err.contains("hpa"), "{err}");
    // p95 under what the 20 ms service time allows: no candidate keeps it.
    let (code, err) = run(&long, &["--slo-p95-ms", "5"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("no candidate keeps the Slo") && err.contains("best reachable"),
        "{err}"
    );
    let o = scaletop(&["tune", "--input", &long, "--capacity-per-replica", "100"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--policy"));
    let o = scaletop(&["tune", "--scenario", "nosuch"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown scenario"));
    let o = scaletop(&["tune", "--scenario", "microservices"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--group"));
}

/// `tune --scenario multiregion` (no group): every region planned in its own local time, and
/// every pair's spill checked against the 100 ms cross-region limit and the 200 ms objective,
/// as JSON and as a table.
#[test]
fn multiregion_plans_each_region_in_local_time_and_checks_spilling() {
    let out = scaletop(&[
        "tune",
        "--scenario",
        "multiregion",
        "--duration",
        "6d",
        "--format",
        "json",
    ]);
    let code = out.status.code();
    assert!(
        matches!(code, Some(0) | Some(1)),
        "{code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["schema"], "scaletop.tune.regions/v1");
    let regions = v["regions"].as_array().expect("regions");
    assert_eq!(regions.len(), 3);
    // Each region's scheduled actions recur in its own fixed-offset zone.
    for (group, zone) in [
        ("api-us-east-1", "Etc/GMT+5"),
        ("api-eu-west-1", "Etc/GMT-1"),
        ("api-ap-southeast-1", "Etc/GMT-8"),
    ] {
        let r = regions
            .iter()
            .find(|r| r["group"] == group)
            .expect("region");
        let proposed = r["schedule"]["proposal"]["actions"]
            .as_array()
            .expect("proposed actions");
        assert!(!proposed.is_empty(), "{group}: {r}");
        // The recommended document carries them only when the search chose them.
        let chosen = r["document"]["ScheduledActions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for a in proposed.iter().chain(&chosen) {
            assert_eq!(a["TimeZone"], zone, "{group}: {a}");
        }
        assert!(
            r["schedule"]["verdict"]
                .as_str()
                .is_some_and(|v| !v.is_empty()),
            "{group}: {r}"
        );
        // A plan that does not hold makes the exit code 1.
        if r["holds"] == false {
            assert_eq!(code, Some(1));
        }
    }
    let spill = v["spill"].as_array().expect("spill");
    assert_eq!(spill.len(), 6);
    for s in spill {
        let rtt = s["rtt_ms"].as_f64().unwrap();
        let worst = s["worst_spilled_p95_ms"].as_f64().unwrap();
        // Only us-east-1 <-> eu-west-1 (76 ms) is under the limit.
        assert_eq!(s["within_rtt_limit"], rtt < 100.0, "{s}");
        if rtt >= 100.0 {
            assert_eq!(s["allowed"], false, "{s}");
        }
        // A spilled request waits at least the neighbour's unloaded p95 (40 ms x ln 20) plus
        // the round trip.
        assert!(worst >= rtt + 40.0 * 20f64.ln() - 0.05, "{s}");
    }
    let table = scaletop(&["tune", "--scenario", "multiregion", "--duration", "6d"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("local (UTC+8)"), "{text}");
    assert!(text.contains("us-east-1 -> eu-west-1: rtt 76 ms"), "{text}");
    assert!(
        text.contains("round trip 214 ms is not under the 100 ms cross-region limit"),
        "{text}"
    );
}

/// A scenario group that runs a fixed fleet has no policy of its own; `--policy` gives the
/// search one to start from (the help says it replaces the scenario's), and the single-group
/// search proposes schedules on the group's local clock.
#[test]
fn policy_file_replaces_a_fixed_fleets_missing_policy() {
    let dir = tempfile::tempdir().unwrap();
    let policy = write(
        dir.path(),
        "asg.json",
        r#"{"AutoScalingGroupName":"api-ap-southeast-1","MinSize":4,"MaxSize":40,
            "ScalingPolicies":[{"PolicyName":"cpu","PolicyType":"TargetTrackingScaling",
            "TargetTrackingConfiguration":{"PredefinedMetricSpecification":
            {"PredefinedMetricType":"ASGAverageCPUUtilization"},"TargetValue":60}}]}"#,
    );
    let base = [
        "tune",
        "--scenario",
        "multiregion",
        "--group",
        "api-ap-southeast-1",
        "--duration",
        "6d",
        "--search",
        "small",
        "--format",
        "json",
    ];
    let without = scaletop(&base);
    assert_eq!(without.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&without.stderr).contains("give one with --policy"));

    let mut args = base.to_vec();
    args.extend(["--policy", policy.as_str()]);
    let out = scaletop(&args);
    assert!(
        matches!(out.status.code(), Some(0) | Some(1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        v["current"]["describe"]
            .as_str()
            .is_some_and(|d| d.contains("target 60")),
        "{}",
        v["current"]
    );
    // ap-southeast-1 is UTC+8: its peak-hour schedule recurs in Etc/GMT-8.
    let actions = v["schedule"]["proposal"]["actions"]
        .as_array()
        .expect("proposed actions");
    assert!(!actions.is_empty());
    assert!(
        actions.iter().all(|a| a["TimeZone"] == "Etc/GMT-8"),
        "{actions:?}"
    );
}

//! `scaletop emit` end to end on the real binary: files land in the output directory with
//! their rollout note, a re-emit keeps a `.bak`, and bad input (wrong schema version,
//! unwritable output directory, a target the recommendation cannot be expressed in,
//! --readonly) exits 2 with one line naming the problem and writes nothing.

use std::path::Path;
use std::process::{Command, Output};

const RECS: &str = include_str!("fixtures/emit/recommendations.json");

fn scaletop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .args(args)
        .env_remove("SCALETOP_CONFIG")
        .output()
        .expect("run scaletop")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(root, &p, out);
                } else {
                    out.push(p.strip_prefix(root).unwrap_or(&p).display().to_string());
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn recs_file(dir: &Path) -> String {
    let p = dir.join("recs.json");
    std::fs::write(&p, RECS).expect("write recs");
    p.display().to_string()
}

#[test]
fn scenario_group_emits_its_current_hpa_and_rollout_note() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let o = scaletop(&[
        "emit",
        "--target",
        "hpa",
        "--scenario",
        "game",
        "--group",
        "lobby-api",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        files_under(&out),
        [
            "game-lobby-api-current/hpa.yaml",
            "game-lobby-api-current/rollout-hpa.md"
        ]
    );
    let hpa = std::fs::read_to_string(out.join("game-lobby-api-current/hpa.yaml")).expect("hpa");
    assert!(hpa.starts_with("# Produced by scaletop"), "{hpa}");
    assert!(hpa.contains("scenario 'game', group 'lobby-api'"), "{hpa}");
    // The scenario's policy: CPU 60%, min 30, max 400, scale-down stabilization 300 s.
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&hpa).expect("yaml");
    assert_eq!(doc["spec"]["minReplicas"].as_u64(), Some(30));
    assert_eq!(doc["spec"]["maxReplicas"].as_u64(), Some(400));
    assert_eq!(
        doc["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"].as_u64(),
        Some(60)
    );
    assert_eq!(
        doc["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"].as_u64(),
        Some(300)
    );
    let note =
        std::fs::read_to_string(out.join("game-lobby-api-current/rollout-hpa.md")).expect("note");
    assert!(
        note.contains("kubectl apply -f game-lobby-api-current/hpa.yaml"),
        "{note}"
    );
    assert!(note.contains("## Rollback"), "{note}");
}

#[test]
fn re_emitting_a_changed_file_keeps_the_previous_version() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let out_s = out.to_str().expect("utf8");
    let o = scaletop(&[
        "emit",
        "--target",
        "aws",
        "--scenario",
        "ecommerce",
        "--group",
        "storefront",
        "--out",
        out_s,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let asg = out.join("ecommerce-storefront-current/asg-scaling.json");
    let original = std::fs::read_to_string(&asg).expect("asg");
    std::fs::write(&asg, "{}\n").expect("edit");
    let o = scaletop(&[
        "emit",
        "--target",
        "aws",
        "--scenario",
        "ecommerce",
        "--group",
        "storefront",
        "--out",
        out_s,
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let statuses: Vec<&str> = report["recommendations"][0]["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["status"].as_str())
        .collect();
    assert!(
        statuses.contains(&"changed") && statuses.contains(&"unchanged"),
        "{statuses:?}"
    );
    assert_eq!(std::fs::read_to_string(&asg).ok(), Some(original));
    assert_eq!(
        std::fs::read_to_string(out.join("ecommerce-storefront-current/asg-scaling.json.bak"))
            .ok()
            .as_deref(),
        Some("{}\n")
    );
}

#[test]
fn dry_run_prints_the_diff_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let recs = recs_file(dir.path());
    let o = scaletop(&[
        "emit",
        "--target",
        "gcp",
        "--from",
        &recs,
        "--out",
        out.to_str().expect("utf8"),
        "--dry-run",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("+++ b/render-gcp/gcp-autoscaler.json"),
        "{text}"
    );
    assert!(text.contains("+    \"minNumReplicas\": 3,"), "{text}");
    assert!(text.contains("skipped web-hpa-multi"), "{text}");
    assert!(!out.exists());
}

#[test]
fn readonly_refuses_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let o = scaletop(&[
        "--readonly",
        "emit",
        "--target",
        "hpa",
        "--scenario",
        "game",
        "--group",
        "lobby-api",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("read-only mode"), "{}", stderr(&o));
    assert!(!out.exists());
    // The config switch does the same.
    let cfg = dir.path().join("c.toml");
    std::fs::write(&cfg, "[general]\nreadonly = true\n").expect("cfg");
    let o = scaletop(&[
        "--config",
        cfg.to_str().expect("utf8"),
        "emit",
        "--target",
        "hpa",
        "--scenario",
        "game",
        "--group",
        "lobby-api",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn wrong_schema_version_exits_2_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = dir.path().join("v2.json");
    std::fs::write(
        &p,
        RECS.replace("scaletop.recommendation/v1", "scaletop.recommendation/v2"),
    )
    .expect("write");
    let out = dir.path().join("out");
    let o = scaletop(&[
        "emit",
        "--target",
        "hpa",
        "--from",
        p.to_str().expect("utf8"),
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("item 0: schema 'scaletop.recommendation/v2' is not supported (expected 'scaletop.recommendation/v1')"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!out.exists());
}

#[test]
fn unwritable_output_directory_exits_2_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A path below a regular file cannot be created, whoever runs the test.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").expect("write");
    let out = blocker.join("out");
    let recs = recs_file(dir.path());
    let o = scaletop(&[
        "emit",
        "--target",
        "aws",
        "--from",
        &recs,
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("output directory") && err.contains("file/out"),
        "{err}"
    );
    assert_eq!(files_under(dir.path()), ["file", "recs.json"]);
}

#[test]
fn inexpressible_target_exits_2_naming_what_is_missing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let recs = recs_file(dir.path());
    let out = dir.path().join("out");
    let out_s = out.to_str().expect("utf8");
    // A single recommendation of the wrong kind.
    let o = scaletop(&[
        "emit",
        "--target",
        "azure",
        "--from",
        &recs,
        "--id",
        "checkout-asg",
        "--out",
        out_s,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("recommendation 'checkout-asg': a EC2 Auto Scaling policy cannot be expressed as target 'azure' (it takes an Azure autoscale policy)"),
        "{err}"
    );
    // Lambda provisioned concurrency without an alias.
    let bad = dir.path().join("bad.json");
    let one: Vec<serde_json::Value> = serde_json::from_str(RECS).expect("recs");
    let mut c = one
        .into_iter()
        .find(|r| r["id"] == "thumbnails-concurrency")
        .expect("concurrency rec");
    c["artifact"]["function"] = "thumbnails".into();
    std::fs::write(&bad, c.to_string()).expect("write");
    let o = scaletop(&[
        "emit",
        "--target",
        "aws",
        "--from",
        bad.to_str().expect("utf8"),
        "--out",
        out_s,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("provisioned concurrency needs an alias or version"),
        "{}",
        stderr(&o)
    );
    // A whole list none of which fits.
    let o = scaletop(&[
        "emit",
        "--target",
        "vpa",
        "--from",
        &recs,
        "--id",
        "render-gcp",
        "--out",
        out_s,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists());
}

#[test]
fn flapping_azure_rules_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let recs: Vec<serde_json::Value> = serde_json::from_str(RECS).expect("recs");
    let mut azure = recs
        .into_iter()
        .find(|r| r["id"] == "portal-azure")
        .expect("azure rec");
    // Scale in below 60% with scale out above 70%: 3 -> 2 projects 60 x 3/2 = 90 > 70.
    azure["artifact"]["document"]["properties"]["profiles"][0]["rules"][1]["metricTrigger"]
        ["threshold"] = 60.into();
    let p = dir.path().join("flap.json");
    std::fs::write(&p, azure.to_string()).expect("write");
    let out = dir.path().join("out");
    let o = scaletop(&[
        "emit",
        "--target",
        "azure",
        "--from",
        p.to_str().expect("utf8"),
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("flaps at 3 -> 2 instances"), "{err}");
    assert!(!out.exists());
}

#[test]
fn every_target_emits_the_fixture_recommendations_it_can_express() {
    let dir = tempfile::tempdir().expect("tempdir");
    let recs = recs_file(dir.path());
    let out = dir.path().join("out");
    let out_s = out.to_str().expect("utf8");
    for target in [
        "hpa",
        "vpa",
        "keda",
        "aws",
        "aws-terraform",
        "gcp",
        "gcp-terraform",
        "azure",
        "azure-terraform",
        "rollout",
    ] {
        let o = scaletop(&["emit", "--target", target, "--from", &recs, "--out", out_s]);
        assert!(o.status.success(), "{target}: {}", stderr(&o));
    }
    let files = files_under(&out);
    for expected in [
        "web-hpa-multi/hpa.yaml",
        "web-hpa-multi/keda-scaledobject.yaml",
        "worker-keda/keda-scaledobject.yaml",
        "web-sizing/vpa.yaml",
        "checkout-asg/aws/put-scaling-policy-cpu55.json",
        "checkout-asg/aws/put-metric-alarm-checkout-backlog-high.json",
        "checkout-asg/aws/put-scheduled-update-group-action-business-hours.json",
        "checkout-asg/aws/apply.sh",
        "checkout-asg/aws.tf",
        "checkout-spot/aws/update-auto-scaling-group-mixed-instances.json",
        "orders-db-replicas/aws/register-scalable-target.json",
        "thumbnails-concurrency/aws.tf",
        "render-gcp/gcp.tf",
        "portal-azure/azure-autoscale.json",
        "portal-azure/azure.tf",
        "fleet-savings-plan/rollout.md",
    ] {
        assert!(
            files.iter().any(|f| f == expected),
            "{expected} missing: {files:?}"
        );
    }
    // No temp file left anywhere.
    assert!(
        !files.iter().any(|f| f.contains(".tmp-scaletop")),
        "{files:?}"
    );
}

#[test]
fn keda_triggers_query_the_configured_prometheus() {
    let dir = tempfile::tempdir().expect("tempdir");
    let recs = recs_file(dir.path());
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "[[sources.prometheus]]\nname = \"prod\"\nurl = \"http://prom.example:9090\"\n",
    )
    .expect("cfg");
    let out = dir.path().join("out");
    let o = scaletop(&[
        "--config",
        cfg.to_str().expect("utf8"),
        "emit",
        "--target",
        "keda",
        "--from",
        &recs,
        "--id",
        "api-rps-hpa",
        "--out",
        out.to_str().expect("utf8"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let so = std::fs::read_to_string(out.join("api-rps-hpa/keda-scaledobject.yaml")).expect("so");
    assert!(
        so.contains("serverAddress: http://prom.example:9090"),
        "{so}"
    );
    assert!(!so.contains("is a default"), "{so}");
}

/// `scaletop simulate --policy` output without the line naming the policy file.
fn simulate(policy: &Path, input: &Path) -> serde_json::Value {
    let o = scaletop(&[
        "simulate",
        "--input",
        input.to_str().expect("utf8"),
        "--policy",
        policy.to_str().expect("utf8"),
        "--capacity-per-replica",
        "50",
        "--format",
        "json",
    ]);
    assert!(o.status.success(), "{}: {}", policy.display(), stderr(&o));
    let mut v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    if let Some(m) = v.as_object_mut() {
        m.remove("policy");
    }
    v
}

#[test]
fn emitted_policies_simulate_like_their_source_documents() {
    let dir = tempfile::tempdir().expect("tempdir");
    // One day of demand, 60 s steps: 100..500 rps and back.
    let mut csv = String::from("timestamp,value\n");
    for i in 0..1440 {
        let rps = 300.0 + 200.0 * (2.0 * std::f64::consts::PI * f64::from(i) / 1440.0).sin();
        csv.push_str(&format!("{},{rps:.3}\n", 1_767_225_600 + 60 * i));
    }
    let input = dir.path().join("demand.csv");
    std::fs::write(&input, csv).expect("write demand");
    let recs: Vec<serde_json::Value> = serde_json::from_str(RECS).expect("recs");
    let recs_path = recs_file(dir.path());
    let out = dir.path().join("out");
    for (id, target, file) in [
        ("api-rps-hpa", "hpa", "hpa.yaml"),
        ("render-gcp", "gcp", "gcp-autoscaler.json"),
        ("portal-azure", "azure", "azure-autoscale.json"),
    ] {
        let o = scaletop(&[
            "emit",
            "--target",
            target,
            "--from",
            &recs_path,
            "--id",
            id,
            "--out",
            out.to_str().expect("utf8"),
        ]);
        assert!(o.status.success(), "{id}: {}", stderr(&o));
        let source = dir.path().join(format!("{id}.source.json"));
        let doc = &recs.iter().find(|r| r["id"] == id).expect("rec")["artifact"]["document"];
        std::fs::write(&source, doc.to_string()).expect("write source");
        let a = simulate(&source, &input);
        let b = simulate(&out.join(id).join(file), &input);
        assert!(
            a["summary"]["scale_up_events"].as_u64().unwrap_or(0) > 0,
            "{id}: {a}"
        );
        assert_eq!(a, b, "{id}: emitted file simulates differently");
    }
}

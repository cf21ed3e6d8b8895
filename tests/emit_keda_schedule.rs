//! Kubernetes off-hours schedules end to end: `scaletop cost` on the microservices scenario
//! recommends a KEDA ScaledObject with a cron trigger for an over-provisioned group, costed on
//! the cluster's nodes; `scaletop emit --target keda` writes it, and the YAML passes the KEDA
//! CRD's schema (vendored in tests/fixtures/crds) and reads back with KEDA's documented cron
//! fields.

mod support;

use std::process::Command;

use serde_json::Value;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/validate_manifests.py"
);
const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/crds/keda-scaledobject-v1alpha1.schema.json"
);

#[test]
fn kubernetes_off_hours_become_a_valid_keda_cron_schedule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = support::scaletop_in(
        dir.path(),
        &[
            "cost",
            "--format",
            "json",
            "--no-validate",
            "--scenario",
            "microservices",
            "--duration",
            "4d",
            "--step",
            "5m",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let recs = v["recommendations"].as_array().expect("recommendations");
    let keda: Vec<&Value> = recs
        .iter()
        .filter(|r| r["kind"] == "schedule" && r["artifact"]["format"] == "keda-scaled-object")
        .collect();
    let rec = keda
        .iter()
        .find(|r| r["group"]["name"] == "legacy-auth")
        .unwrap_or_else(|| panic!("no KEDA schedule for legacy-auth: {recs:?}"));
    // Costed: the group's allocation falls, and the cluster needs fewer nodes.
    let plan = v["plans"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["group"] == "legacy-auth"))
        .expect("plan");
    let saving = plan["applied"]["schedule"]
        .as_f64()
        .expect("schedule saving");
    assert!(saving > 0.0, "{plan}");
    assert_eq!(rec["saving_usd_month"].as_f64(), Some(saving));
    let by_kind = v["totals"]["savings_by_kind"]["schedule"]
        .as_f64()
        .expect("schedule in savings_by_kind");
    assert!(by_kind > 0.0);
    let window = &plan["schedule"]["window"];

    let from = dir.path().join("recs.json");
    std::fs::write(&from, serde_json::to_string(&vec![rec]).expect("json")).expect("write");
    let out_dir = support::emit_ok(dir.path(), &from, "keda");
    let id = rec["id"].as_str().expect("id");
    let file = out_dir
        .join(scaletop::emit::slug(id))
        .join("keda-scaledobject.yaml");
    let text = std::fs::read_to_string(&file).expect("emitted");
    // Read back by the replay's own KEDA parser (what `scaletop simulate --policy` uses).
    let parsed = scaletop::engine::policy::parse_policy(&text).expect("the ScaledObject parses");
    assert!(
        parsed.describe().to_lowercase().contains("keda"),
        "{}",
        parsed.describe()
    );
    let doc: Value = serde_yaml_ng::from_str(&text).expect("yaml");
    let spec = &doc["spec"];
    assert_eq!(spec["minReplicaCount"], window["floor"]);
    let cron = spec["triggers"]
        .as_array()
        .expect("triggers")
        .iter()
        .find(|t| t["type"] == "cron")
        .expect("cron trigger");
    let (start_h, end_h) = (
        window["start_hour"].as_u64().expect("start"),
        window["end_hour"].as_u64().expect("end"),
    );
    // KEDA's cron scaler is active from `start` to `end`: the business hours, from the
    // window's end to its start.
    assert!(
        cron["metadata"]["start"]
            .as_str()
            .is_some_and(|c| c.starts_with(&format!("0 {end_h} "))),
        "{cron}"
    );
    assert!(
        cron["metadata"]["end"]
            .as_str()
            .is_some_and(|c| c.starts_with(&format!("0 {start_h} "))),
        "{cron}"
    );
    assert_eq!(cron["metadata"]["timezone"], window["time_zone"]);
    assert_eq!(
        cron["metadata"]["desiredReplicas"],
        window["day_floor"].to_string()
    );

    let Some(py) = support::python_with(&["jsonschema", "yaml"]) else {
        return;
    };
    let o = Command::new(&py)
        .arg(SCRIPT)
        .args(["crd", SCHEMA])
        .arg(&file)
        .output()
        .expect("validator");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success() && stdout.contains(": valid"),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

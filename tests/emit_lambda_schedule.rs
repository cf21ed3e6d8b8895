//! Lambda provisioned concurrency by hour, end to end: `scaletop cost` on the serverless
//! scenario recommends it, `scaletop emit --from` writes it as Application Auto Scaling
//! requests (RegisterScalableTarget + PutScheduledAction) and as Terraform
//! (aws_appautoscaling_target + aws_appautoscaling_scheduled_action). The requests are applied
//! to moto_server and read back field by field; the Terraform is parsed by python-hcl2 and
//! matched against the requests; both against the levels the cost report costed.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const APPLY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/aws_apply.py");
const HCL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/hcl_to_json.py");

/// The cost report's Lambda schedule recommendation (written to a file for emit) and the
/// levels its plan costed.
fn schedule_recommendation(dir: &Path) -> (PathBuf, String, Vec<u32>) {
    let out = support::scaletop_in(
        dir,
        &[
            "cost",
            "--format",
            "json",
            "--scenario",
            "serverless",
            "--duration",
            "3d",
            "--step",
            "15m",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let rec = v["recommendations"]
        .as_array()
        .expect("recommendations")
        .iter()
        .find(|r| r["kind"] == "schedule" && r["artifact"]["artifact"] == "concurrency")
        .unwrap_or_else(|| panic!("no Lambda schedule recommendation"))
        .clone();
    let group = rec["group"]["name"].as_str().expect("group").to_string();
    let plan = v["plans"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["group"] == group.as_str()))
        .expect("plan");
    let levels: Vec<u32> = plan["concurrency_by_hour_utc"]
        .as_array()
        .expect("levels")
        .iter()
        .map(|l| l.as_u64().expect("level") as u32)
        .collect();
    assert_eq!(
        rec["artifact"]["provisioned_by_hour_utc"],
        plan["concurrency_by_hour_utc"]
    );
    let path = dir.join("recs.json");
    std::fs::write(&path, serde_json::to_string(&vec![&rec]).expect("json")).expect("write");
    (path, rec["id"].as_str().expect("id").to_string(), levels)
}

/// The level each request's actions set from each minute of a UTC day (the schedule the
/// platform runs), from the emitted put-scheduled-action files alone.
fn levels_from_requests(bodies: &[Value]) -> Vec<(u32, u32)> {
    let mut acts: Vec<(u32, u32)> = bodies
        .iter()
        .map(|b| {
            assert_eq!(b["Timezone"], "UTC");
            let cron = b["Schedule"].as_str().expect("schedule");
            let f: Vec<&str> = cron
                .trim_start_matches("cron(")
                .trim_end_matches(')')
                .split(' ')
                .collect();
            assert_eq!(&f[2..], ["*", "*", "?", "*"], "{cron}");
            let min = f[1].parse::<u32>().expect("hour") * 60 + f[0].parse::<u32>().expect("m");
            let lo = b["ScalableTargetAction"]["MinCapacity"]
                .as_u64()
                .expect("min");
            assert_eq!(Some(lo), b["ScalableTargetAction"]["MaxCapacity"].as_u64());
            (min, lo as u32)
        })
        .collect();
    acts.sort_unstable();
    acts
}

#[test]
fn lambda_concurrency_schedule_is_emitted_and_reads_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (from, id, levels) = schedule_recommendation(dir.path());
    assert_eq!(levels.len(), 24);
    let aws = support::emit_ok(dir.path(), &from, "aws");
    let rec_dir = aws.join(scaletop::emit::slug(&id)).join("aws");
    let mut files: Vec<PathBuf> = support::files_in(&rec_dir, "json");
    files.sort();
    let bodies: Vec<Value> = files
        .iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("put-scheduled-action-"))
        })
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).expect("read")).expect("json"))
        .collect();
    // One action per change of level around the day.
    let changes = (0..24)
        .filter(|h| levels[*h] != levels[(h + 23) % 24])
        .count();
    assert!(changes > 0, "{levels:?}");
    assert_eq!(bodies.len(), changes);
    // Worked by hand from the costed levels: a rise fires 5 minutes before its hour, a fall
    // on the hour; the level from each hour on is that hour's.
    let acts = levels_from_requests(&bodies);
    for h in 0..24u32 {
        let (prev, level) = (levels[((h + 23) % 24) as usize], levels[h as usize]);
        if level != prev {
            let at = if level > prev {
                (h * 60 + 1435) % 1440
            } else {
                h * 60
            };
            assert!(acts.contains(&(at, level)), "hour {h}: {acts:?}");
        }
    }
    let register: Value = serde_json::from_str(
        &std::fs::read_to_string(
            rec_dir.join("register-scalable-target-provisioned-concurrency.json"),
        )
        .expect("register"),
    )
    .expect("json");
    let min = *levels.iter().min().expect("min");
    let max = *levels.iter().max().expect("max");
    assert_eq!(register["MinCapacity"], min);
    assert_eq!(register["MaxCapacity"], max);
    for b in &bodies {
        assert_eq!(b["ResourceId"], register["ResourceId"]);
        assert_eq!(
            b["ScalableDimension"],
            "lambda:function:ProvisionedConcurrency"
        );
    }
    let script = std::fs::read_to_string(rec_dir.join("apply.sh")).expect("apply.sh");
    let reg_line = script
        .find("register-scalable-target")
        .expect("register line");
    let put_line = script.find("put-scheduled-action").expect("put line");
    assert!(reg_line < put_line, "{script}");

    // Terraform: the same target and actions.
    let tf = support::emit_ok(dir.path(), &from, "aws-terraform")
        .join(scaletop::emit::slug(&id))
        .join("aws.tf");
    if let Some(py) = support::python_with(&["hcl2"]) {
        let o = Command::new(&py).arg(HCL).arg(&tf).output().expect("hcl2");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).expect("json");
        let r = &v["resource"];
        let targets = r["aws_appautoscaling_target"].as_object().expect("target");
        assert_eq!(targets.len(), 1);
        let (tname, t) = targets.iter().next().expect("target");
        assert_eq!(t["resource_id"], register["ResourceId"]);
        assert_eq!(t["min_capacity"].as_f64(), Some(f64::from(min)));
        assert_eq!(t["max_capacity"].as_f64(), Some(f64::from(max)));
        let sched = r["aws_appautoscaling_scheduled_action"]
            .as_object()
            .expect("scheduled actions");
        assert_eq!(sched.len(), bodies.len());
        for b in &bodies {
            let s = sched
                .values()
                .find(|s| s["name"] == b["ScheduledActionName"])
                .unwrap_or_else(|| panic!("no Terraform action for {b}"));
            assert_eq!(s["schedule"], b["Schedule"]);
            assert_eq!(s["timezone"], "UTC");
            assert_eq!(
                s["resource_id"],
                format!("${{aws_appautoscaling_target.{tname}.resource_id}}")
            );
            let a = &s["scalable_target_action"][0];
            assert_eq!(
                a["min_capacity"].as_f64(),
                b["ScalableTargetAction"]["MinCapacity"].as_f64()
            );
        }
    }

    // Against the AWS API (moto_server): the target is registered, each action put and read
    // back with every field equal.
    let Some((_guard, addr, py)) = support::start_moto() else {
        return;
    };
    let o = Command::new(&py)
        .arg(APPLY)
        .arg(format!("http://{addr}"))
        .arg(aws.join(scaletop::emit::slug(&id)))
        .output()
        .expect("apply");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: Value = serde_json::from_str(stdout.trim()).expect("report");
    assert_eq!(report["applied"].as_u64(), Some(1 + bodies.len() as u64));
    assert!(report["checked"].as_u64().unwrap_or(0) >= 6 * bodies.len() as u64);
}

#[test]
fn a_schedule_of_the_wrong_length_is_refused_and_nothing_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = serde_json::json!([{
        "schema": "scaletop.recommendation/v1",
        "id": "etl-pc",
        "kind": "schedule",
        "group": {"platform": "aws", "scope": "us-east-1", "name": "etl"},
        "title": "provisioned concurrency by hour",
        "evidence": [],
        "saving_usd_month": 10.0,
        "risk": "low",
        "artifact": {"artifact": "concurrency", "function": "etl:live",
                      "provisioned_by_hour_utc": [5, 5, 50]}
    }]);
    let from = dir.path().join("r.json");
    std::fs::write(&from, rec.to_string()).expect("write");
    let (out, out_dir) = support::emit_run(dir.path(), &from, "aws");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("3 levels") && err.contains("24"), "{err}");
    assert!(!out_dir.join("etl-pc").exists());
}

//! Emitted AWS requests against a real AWS API emulator: moto_server on 127.0.0.1. The test
//! creates the groups, then tests/support/aws_apply.py runs each emitted aws/apply.sh step with
//! boto3 (policies, their alarm with the policy ARN, scheduled actions, the mixed instances
//! update, the warm pool, Application Auto Scaling targets and policies) and reads every object
//! back, failing on any field that differs from the request.

mod emit_common;
mod support;

use std::process::Command;

use scaletop::emit::{Target, WarmPool};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/aws_apply.py");

const SETUP: &str = r#"
import sys, boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1",
          aws_access_key_id="testing", aws_secret_access_key="testing")
ec2 = boto3.client("ec2", **kw)
asg = boto3.client("autoscaling", **kw)
ec2.create_launch_template(LaunchTemplateName="checkout",
    LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "m5.large"})
asg.create_auto_scaling_group(AutoScalingGroupName="checkout",
    LaunchTemplate={"LaunchTemplateName": "checkout", "Version": "$Latest"},
    MinSize=1, MaxSize=10, AvailabilityZones=["us-east-1a"])
import io, zipfile
role = boto3.client("iam", **kw).create_role(RoleName="thumbnails",
    AssumeRolePolicyDocument="{}")["Role"]["Arn"]
code = io.BytesIO()
with zipfile.ZipFile(code, "w") as z:
    z.writestr("handler.py", "def handler(event, context):\n    return 1\n")
boto3.client("lambda", **kw).create_function(FunctionName="thumbnails", Runtime="python3.11",
    Role=role, Handler="handler.handler", Code={"ZipFile": code.getvalue()})
"#;

/// moto_server with the ASG and Lambda function the requests are applied to; its guard, its
/// endpoint URL and the Python that runs the checks.
fn moto_with_setup() -> Option<(support::Guard, String, std::path::PathBuf)> {
    let (guard, addr, py) = support::start_moto()?;
    let endpoint = format!("http://{addr}");
    let o = Command::new(&py)
        .args(["-c", SETUP, &endpoint])
        .output()
        .expect("setup");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    Some((guard, endpoint, py))
}

#[test]
fn emitted_aws_requests_apply_to_moto_and_read_back_equal() {
    let Some((_guard, endpoint, py)) = moto_with_setup() else {
        return;
    };

    let dir = tempfile::tempdir().expect("tempdir");
    let mut ctx = emit_common::context();
    ctx.warm_pool = Some(WarmPool { min_size: 2 });
    let paths = emit_common::emit_all(Target::Aws, dir.path(), &ctx);
    // The group policy (with its warm pool), the spot mix, Aurora replicas, Lambda reserved
    // and provisioned concurrency.
    let dirs: Vec<String> = [
        "checkout-asg",
        "checkout-spot",
        "orders-db-replicas",
        "thumbnails-concurrency",
    ]
    .iter()
    .map(|d| dir.path().join(d).display().to_string())
    .collect();
    let requests = paths
        .iter()
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && p.parent().is_some_and(|d| d.ends_with("aws"))
                && dirs.iter().any(|d| p.starts_with(d))
        })
        .count();
    let o = Command::new(&py)
        .arg(SCRIPT)
        .arg(&endpoint)
        .args(&dirs)
        .output()
        .expect("apply");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    eprintln!("moto read-back: {}", stdout.trim());
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("report");
    // update-group, 3 policies, 1 alarm, 2 scheduled, warm pool; mixed instances; register +
    // policy; function concurrency + provisioned concurrency target.
    assert_eq!(
        report["applied"].as_u64(),
        Some(requests as u64),
        "{stdout}"
    );
    assert_eq!(requests, 13);
    assert!(report["checked"].as_u64().unwrap_or(0) > 60, "{stdout}");
}

/// A Lambda memory recommendation (`scaletop cost`'s sizing kind) emitted with `scaletop emit
/// --target aws` and applied to moto: UpdateFunctionConfiguration, MemorySize read back.
#[test]
fn lambda_memory_change_applies_to_moto_and_reads_back() {
    let Some((_guard, endpoint, py)) = moto_with_setup() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let rec = serde_json::json!([{
        "schema": "scaletop.recommendation/v1",
        "id": "thumbnails-memory",
        "kind": "sizing",
        "group": {"platform": "aws", "scope": "123456789012/us-east-1", "name": "thumbnails"},
        "title": "thumbnails: memory 2048 -> 1911 MB",
        "evidence": [],
        "saving_usd_month": 79.0,
        "risk": "medium",
        "artifact": {"artifact": "concurrency", "function": "thumbnails", "memory_size_mb": 1911}
    }]);
    let from = dir.path().join("recs.json");
    std::fs::write(&from, rec.to_string()).expect("write");
    let out = support::emit_ok(dir.path(), &from, "aws");
    let o = Command::new(&py)
        .arg(SCRIPT)
        .arg(&endpoint)
        .arg(out.join("thumbnails-memory"))
        .output()
        .expect("apply");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).expect("report");
    // FunctionName and MemorySize compared with the function's configuration.
    assert_eq!(report["applied"].as_u64(), Some(1), "{stdout}");
    assert_eq!(report["checked"].as_u64(), Some(2), "{stdout}");
}

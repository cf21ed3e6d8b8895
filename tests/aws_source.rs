//! The AWS source end to end through `scaletop snapshot`:
//!
//! - against moto_server (a real AWS API emulator on 127.0.0.1, set up with boto3): groups with
//!   their capacities and instance types, the live policy (target tracking, step scaling with
//!   its CloudWatch alarm, a scheduled action) as a Native document `parse_policy` replays, and
//!   CPU and network datapoints put into CloudWatch; an empty region is a note; missing
//!   credentials and an unreachable endpoint are Down with a clear reason.
//! - against recorded responses in the AWS Query API's XML shape (tests/fixtures/aws, from the
//!   API reference examples), served by a small HTTP server below, for what moto does not give:
//!   scaling activities (moto's are always empty), a mixed instances group behind an ALB target
//!   group, throttling and expired credentials.
#![cfg(feature = "aws")]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use scaletop::engine::policy::parse_policy;

const SETUP: &str = r#"
import sys, boto3, datetime
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1",
          aws_access_key_id="testing", aws_secret_access_key="testing")
ec2 = boto3.client("ec2", **kw); asg = boto3.client("autoscaling", **kw)
cw = boto3.client("cloudwatch", **kw)
ec2.create_launch_template(LaunchTemplateName="web",
    LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "m5.large"})
asg.create_auto_scaling_group(AutoScalingGroupName="web",
    LaunchTemplate={"LaunchTemplateName": "web", "Version": "$Latest"},
    MinSize=2, MaxSize=10, DesiredCapacity=3, AvailabilityZones=["us-east-1a"])
asg.create_auto_scaling_group(AutoScalingGroupName="batch",
    LaunchTemplate={"LaunchTemplateName": "web", "Version": "$Latest"},
    MinSize=1, MaxSize=4, DesiredCapacity=1, AvailabilityZones=["us-east-1a"])
asg.put_scaling_policy(AutoScalingGroupName="web", PolicyName="cpu50",
    PolicyType="TargetTrackingScaling",
    TargetTrackingConfiguration={"PredefinedMetricSpecification":
        {"PredefinedMetricType": "ASGAverageCPUUtilization"}, "TargetValue": 50.0})
asg.put_scaling_policy(AutoScalingGroupName="web", PolicyName="step-out",
    PolicyType="StepScaling", AdjustmentType="ChangeInCapacity",
    StepAdjustments=[{"MetricIntervalLowerBound": 0, "MetricIntervalUpperBound": 20,
                      "ScalingAdjustment": 1},
                     {"MetricIntervalLowerBound": 20, "ScalingAdjustment": 3}])
arn = [p for p in asg.describe_policies(AutoScalingGroupName="web")["ScalingPolicies"]
       if p["PolicyName"] == "step-out"][0]["PolicyARN"]
cw.put_metric_alarm(AlarmName="web-cpu-high", MetricName="CPUUtilization",
    Namespace="AWS/EC2", Statistic="Average", Period=60, EvaluationPeriods=3,
    DatapointsToAlarm=2, Threshold=70, ComparisonOperator="GreaterThanOrEqualToThreshold",
    AlarmActions=[arn], Dimensions=[{"Name": "AutoScalingGroupName", "Value": "web"}])
asg.put_scheduled_update_group_action(AutoScalingGroupName="web",
    ScheduledActionName="weekday-morning", Recurrence="0 8 * * 1-5", MinSize=4,
    DesiredCapacity=6, TimeZone="Europe/Berlin")
now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
dim = [{"Name": "AutoScalingGroupName", "Value": "web"}]
for i in range(12):
    t = now - datetime.timedelta(minutes=5 * (11 - i))
    cw.put_metric_data(Namespace="AWS/EC2", MetricData=[
        {"MetricName": "CPUUtilization", "Dimensions": dim, "Timestamp": t, "Value": 30.0 + i},
        {"MetricName": "NetworkIn", "Dimensions": dim, "Timestamp": t, "Value": 30e6},
        {"MetricName": "NetworkOut", "Dimensions": dim, "Timestamp": t, "Value": 7.5e6}])
"#;

struct Moto {
    _guard: support::Guard,
    endpoint: String,
}

fn start_moto() -> Option<(Moto, PathBuf)> {
    let (guard, addr, py) = support::start_moto()?;
    Some((
        Moto {
            _guard: guard,
            endpoint: format!("http://{addr}"),
        },
        py,
    ))
}

fn write_config(dir: &Path, table: &str) -> PathBuf {
    let path = dir.join("scaletop.toml");
    std::fs::write(&path, format!("[[sources.aws]]\n{table}")).expect("write config");
    path
}

/// Runs `scaletop snapshot` with only the AWS settings given here in its environment.
fn snapshot(
    cfg: &Path,
    env: &[(&str, &str)],
    format: &str,
) -> (Option<i32>, serde_json::Value, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scaletop"));
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    let none = cfg.with_file_name("no-such-aws-file");
    cmd.env("AWS_CONFIG_FILE", &none)
        .env("AWS_SHARED_CREDENTIALS_FILE", &none)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .arg("--config")
        .arg(cfg)
        .args(["snapshot", "--wait", "60s", "--format", format]);
    let out = cmd.output().expect("snapshot runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    let all = format!("{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains("panicked"), "{all}");
    (out.status.code(), json, all)
}

fn creds(endpoint: &str) -> Vec<(&str, &str)> {
    vec![
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ]
}

fn group<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["groups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["id"]["name"] == name))
        .unwrap_or_else(|| panic!("group {name} missing: {json:#}"))
}

#[test]
fn moto_groups_policies_and_cloudwatch_data() {
    let Some((moto, py)) = start_moto() else {
        return;
    };
    let o = Command::new(&py)
        .args(["-c", SETUP, &moto.endpoint])
        .output()
        .expect("setup");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        "name = \"prod\"\nregions = [\"us-east-1\"]\nperiod = \"5m\"\n",
    );
    let (code, json, text) = snapshot(&cfg, &creds(&moto.endpoint), "json");
    assert_eq!(code, Some(0), "{text}");
    let src = &json["sources"][0];
    assert_eq!(src["kind"], "aws", "{text}");
    assert_eq!(src["state"]["state"], "up", "{text}");
    assert_eq!(src["target"], "default chain/us-east-1", "{text}");
    assert!(!text.contains("testing"), "credentials leaked: {text}");

    let web = group(&json, "web");
    assert_eq!(web["id"]["platform"], "aws");
    // moto's account; the scope is account/region (CONTRACTS.md).
    assert_eq!(web["id"]["scope"], "123456789012/us-east-1", "{web:#}");
    assert_eq!(web["instance_type"], "m5.large", "{web:#}");
    let latest = &web["latest"];
    assert_eq!(latest["replicas_desired"], 3.0, "{web:#}");
    assert_eq!(latest["replicas_ready"], 3.0, "{web:#}");
    assert_eq!(latest["replicas_min"], 2.0, "{web:#}");
    assert_eq!(latest["replicas_max"], 10.0, "{web:#}");
    // The newest CPU datapoint put is 30 + 11.
    assert_eq!(latest["cpu_utilization"], 41.0, "{web:#}");
    // (30 MB in + 7.5 MB out) x 8 / 10^6 / 300 s = 1 Mb/s.
    assert_eq!(latest["network_mbps"], 1.0, "{web:#}");

    let policy = &web["policy"];
    assert_eq!(policy["provenance"], "platform_api", "{web:#}");
    assert_eq!(policy["model"]["kind"], "native", "{web:#}");
    let doc = policy["model"]["text"].as_str().expect("policy text");
    let replay = parse_policy(doc).expect("parse_policy reads the live document");
    let described = replay.describe();
    assert!(
        described.contains("ASGAverageCPUUtilization target 50"),
        "{described}"
    );
    assert!(described.contains("StepScaling step-out"), "{described}");
    assert_eq!(policy["summary"], described.as_str());
    let v: serde_json::Value = serde_json::from_str(doc).expect("json");
    assert_eq!(
        (v["MinSize"].as_u64(), v["MaxSize"].as_u64()),
        (Some(2), Some(10))
    );
    let alarm = &v["Alarms"][0];
    assert_eq!(alarm["AlarmName"], "web-cpu-high", "{doc}");
    assert_eq!(alarm["Threshold"], 70.0, "{doc}");
    assert_eq!(alarm["DatapointsToAlarm"], 2, "{doc}");
    assert_eq!(
        alarm["AlarmActions"],
        serde_json::json!(["step-out"]),
        "{doc}"
    );
    let steps = &v["ScalingPolicies"][1]["StepAdjustments"];
    assert_eq!(steps[1]["MetricIntervalLowerBound"], 20.0, "{doc}");
    assert_eq!(steps[1]["ScalingAdjustment"], 3, "{doc}");
    let sched = &v["ScheduledActions"][0];
    assert_eq!(sched["Recurrence"], "0 8 * * 1-5", "{doc}");
    assert_eq!(sched["TimeZone"], "Europe/Berlin", "{doc}");
    assert_eq!(sched["DesiredCapacity"], 6, "{doc}");
    // The scheduled action's MinSize 4 applies at its occurrences; the outer bounds stay.
    assert_eq!(replay.bounds(), (2, 10));

    // A group without policies or scheduled actions keeps its desired capacity.
    let batch = group(&json, "batch");
    assert_eq!(batch["policy"]["model"]["kind"], "fixed", "{batch:#}");
    assert_eq!(batch["policy"]["model"]["replicas"], 1, "{batch:#}");
    assert!(
        batch["latest"].get("cpu_utilization").is_none(),
        "{batch:#}"
    );

    // The table form says where the policy came from.
    let (code, _, table) = snapshot(&cfg, &creds(&moto.endpoint), "table");
    assert_eq!(code, Some(0), "{table}");
    assert!(
        table.contains("policy (platform API (live)): ASG web:"),
        "{table}"
    );
}

#[test]
fn region_without_groups_is_a_note_and_a_filter_narrows() {
    let Some((moto, py)) = start_moto() else {
        return;
    };
    let o = Command::new(&py)
        .args(["-c", SETUP, &moto.endpoint])
        .output()
        .expect("setup");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        "regions = [\"us-east-1\", \"eu-west-1\"]\ngroups = [\"we*\"]\n",
    );
    let (code, json, text) = snapshot(&cfg, &creds(&moto.endpoint), "json");
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(json["sources"][0]["state"]["state"], "up", "{text}");
    let note = json["sources"][0]["note"].as_str().unwrap_or_default();
    assert!(
        note.contains("eu-west-1: no Auto Scaling groups matching we*"),
        "{text}"
    );
    let names: Vec<&str> = json["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter_map(|g| g["id"]["name"].as_str())
        .collect();
    assert_eq!(names, ["web"], "{text}");
}

#[test]
fn missing_credentials_are_down_with_a_clear_reason() {
    let Some((moto, _py)) = start_moto() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(dir.path(), "regions = [\"us-east-1\"]\nmax_attempts = 1\n");
    let (code, json, text) = snapshot(
        &cfg,
        &[("AWS_ENDPOINT_URL", moto.endpoint.as_str())],
        "json",
    );
    assert_eq!(code, Some(1), "{text}");
    let state = &json["sources"][0]["state"];
    assert_eq!(state["state"], "down", "{text}");
    let reason = state["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("AWS credentials"), "{reason}");
    assert!(reason.contains("us-east-1"), "{reason}");
}

#[test]
fn unreachable_endpoint_is_down_without_leaking_the_secret() {
    let port = support::free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(dir.path(), "regions = [\"us-east-1\"]\nmax_attempts = 2\n");
    let env = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "AKIDSCALETOPTEST"),
        ("AWS_SECRET_ACCESS_KEY", "s3cr3t-must-not-appear"),
    ];
    let (code, json, text) = snapshot(&cfg, &env, "json");
    assert_eq!(code, Some(1), "{text}");
    let reason = json["sources"][0]["state"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("cannot reach AWS"), "{reason}");
    assert!(reason.contains(&endpoint), "{reason}");
    assert!(!text.contains("s3cr3t-must-not-appear"), "{text}");
}

/// A local server answering AWS Query API calls (form-encoded `Action=...`) with recorded
/// responses; it records each call's body.
struct Recorded {
    addr: SocketAddr,
    calls: Arc<Mutex<Vec<String>>>,
}

fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/aws")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn empty(action: &str, list: &str, ns: &str) -> String {
    format!(
        "<{action}Response xmlns=\"{ns}\"><{action}Result><{list}/></{action}Result><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></{action}Response>"
    )
}

fn serve(route: fn(&str) -> (u16, String)) -> Recorded {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let calls = Arc::new(Mutex::new(Vec::new()));
    let log = calls.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let body = String::from_utf8_lossy(&body).into_owned();
            let (status, text) = route(&body);
            log.lock().expect("log").push(body);
            let mut s = stream;
            let _ = write!(
                s,
                "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    Recorded { addr, calls }
}

const ASG_NS: &str = "http://autoscaling.amazonaws.com/doc/2011-01-01/";
const CW_NS: &str = "http://monitoring.amazonaws.com/doc/2010-08-01/";

fn recorded_route(body: &str) -> (u16, String) {
    let action = body
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .unwrap_or_default();
    match action {
        "DescribeAutoScalingGroups" => (200, fixture("describe_auto_scaling_groups.xml")),
        "DescribeScalingActivities" => (200, fixture("describe_scaling_activities.xml")),
        "GetMetricData" => (200, fixture("get_metric_data.xml")),
        "DescribePolicies" => (200, fixture("describe_policies_predictive.xml")),
        "GetPredictiveScalingForecast" => (200, fixture("get_predictive_scaling_forecast.xml")),
        "DescribeScheduledActions" => (200, empty(action, "ScheduledUpdateGroupActions", ASG_NS)),
        "DescribeAlarms" => (200, empty(action, "MetricAlarms", CW_NS)),
        other => (400, format!("unexpected action {other}")),
    }
}

#[test]
fn recorded_activities_become_platform_events_and_mixed_groups_are_described() {
    let server = serve(recorded_route);
    let endpoint = format!("http://{}", server.addr);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(dir.path(), "regions = [\"us-east-1\"]\n");
    let (code, json, text) = snapshot(&cfg, &creds(&endpoint), "json");
    assert_eq!(code, Some(0), "{text}");

    // Four activities, three desired-capacity changes (two launches share one change).
    let events = json["events"].as_array().expect("events");
    let changes: Vec<(u64, u64, &str)> = events
        .iter()
        .map(|e| {
            (
                e["from_replicas"].as_u64().unwrap_or(99),
                e["to_replicas"].as_u64().unwrap_or(99),
                e["at"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            (0, 1, "2012-04-12T17:31:30Z"),
            (1, 2, "2024-05-16T06:00:00Z"),
            (2, 4, "2024-05-16T17:52:02Z")
        ],
        "{text}"
    );
    assert!(events.iter().all(|e| e["origin"] == "platform"), "{text}");
    let reason = events[2]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("a monitor alarm TargetTracking-my-asg-AlarmHigh-fc0e4183-23ac-497e-9992-691c9980c38e in state ALARM triggered policy my-target-tracking-policy"),
        "{reason}"
    );
    assert!(events[1]["reason"]
        .as_str()
        .unwrap_or_default()
        .starts_with("a scheduled action update"));

    let g = group(&json, "my-asg");
    assert_eq!(g["id"]["scope"], "123456789012/us-east-1");
    // Most instances run c5.large; the mix is in the labels.
    assert_eq!(g["instance_type"], "c5.large", "{g:#}");
    assert_eq!(
        g["labels"]["mixed_instances"],
        "types c5.large,c5a.large,m5.large; on-demand base 1, 50% on-demand above base, spot price-capacity-optimized",
        "{g:#}"
    );
    assert_eq!(g["labels"]["warm_pool"], "min 2, Stopped, 2 instances now");
    assert_eq!(
        g["labels"]["target_groups"],
        "targetgroup/my-targets/73e2d6bc24d8a067"
    );
    // 4 desired, 3 in service (one Pending).
    assert_eq!(g["latest"]["replicas_desired"], 4.0, "{g:#}");
    assert_eq!(g["latest"]["replicas_ready"], 3.0, "{g:#}");
    // 600 requests per target in 300 s, 3 targets in service: 6 req/s.
    assert_eq!(g["latest"]["request_rate"], 6.0, "{g:#}");
    assert_eq!(g["latest"]["cpu_utilization"], 71.5, "{g:#}");
    // The predictive policy is the live policy, replayable; its forecast is summarised.
    assert_eq!(g["policy"]["model"]["kind"], "native", "{g:#}");
    let doc = g["policy"]["model"]["text"].as_str().expect("policy text");
    let replay = parse_policy(doc).expect("parse_policy reads the predictive policy");
    assert!(
        replay
            .describe()
            .contains("PredictiveScaling cpu40-predictive-scaling-policy"),
        "{}",
        replay.describe()
    );
    let v: serde_json::Value = serde_json::from_str(doc).expect("json");
    let pc = &v["ScalingPolicies"][0]["PredictiveScalingConfiguration"];
    assert_eq!(pc["Mode"], "ForecastAndScale", "{doc}");
    assert_eq!(pc["SchedulingBufferTime"], 300, "{doc}");
    assert_eq!(pc["MetricSpecifications"][0]["TargetValue"], 40.0, "{doc}");
    assert_eq!(
        g["labels"]["predictive_forecast"],
        "policy cpu40-predictive-scaling-policy: capacity (forecast ends before now), peak 8 at 2024-05-17 08:00; updated 2024-05-16 21:52 UTC",
        "{g:#}"
    );

    // The metric query asked CloudWatch for the target group's RequestCountPerTarget.
    let calls = server.calls.lock().expect("calls");
    let gmd = calls
        .iter()
        .find(|b| b.contains("Action=GetMetricData"))
        .expect("GetMetricData called");
    assert!(gmd.contains("RequestCountPerTarget"), "{gmd}");
    assert!(
        gmd.contains("targetgroup%2Fmy-targets%2F73e2d6bc24d8a067"),
        "{gmd}"
    );
}

#[test]
fn throttling_is_retried_as_configured_then_shown() {
    let server = serve(|_| (400, fixture("throttling.xml")));
    let endpoint = format!("http://{}", server.addr);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        "regions = [\"us-east-1\"]\nretry_mode = \"standard\"\nmax_attempts = 3\n",
    );
    let (code, json, text) = snapshot(&cfg, &creds(&endpoint), "json");
    assert_eq!(code, Some(1), "{text}");
    let reason = json["sources"][0]["state"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("throttled by AWS: DescribeAutoScalingGroups: Throttling: Rate exceeded"),
        "{reason}"
    );
    // The SDK retried: three attempts of the first call.
    assert_eq!(server.calls.lock().expect("calls").len(), 3, "{text}");
}

#[test]
fn expired_credentials_say_so() {
    let server = serve(|_| (403, fixture("expired_token.xml")));
    let endpoint = format!("http://{}", server.addr);
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(dir.path(), "regions = [\"us-east-1\"]\n");
    let (code, json, text) = snapshot(&cfg, &creds(&endpoint), "json");
    assert_eq!(code, Some(1), "{text}");
    let reason = json["sources"][0]["state"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("AWS credentials: DescribeAutoScalingGroups: ExpiredToken"),
        "{reason}"
    );
    assert!(reason.contains("aws sso login"), "{reason}");
}

const SETUP_ALB: &str = r#"
import sys, boto3, datetime
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1",
          aws_access_key_id="testing", aws_secret_access_key="testing")
ec2 = boto3.client("ec2", **kw); asg = boto3.client("autoscaling", **kw)
cw = boto3.client("cloudwatch", **kw); elb = boto3.client("elbv2", **kw)
vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
tg = elb.create_target_group(Name="api", Protocol="HTTP", Port=80, VpcId=vpc,
    TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
ec2.create_launch_template(LaunchTemplateName="api",
    LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "m5.large"})
asg.create_auto_scaling_group(AutoScalingGroupName="api",
    LaunchTemplate={"LaunchTemplateName": "api", "Version": "$Latest"},
    MinSize=2, MaxSize=10, DesiredCapacity=2, AvailabilityZones=["us-east-1a"],
    TargetGroupARNs=[tg], HealthCheckGracePeriod=180)
asg.create_auto_scaling_group(AutoScalingGroupName="plain",
    LaunchTemplate={"LaunchTemplateName": "api", "Version": "$Latest"},
    MinSize=1, MaxSize=3, DesiredCapacity=1, AvailabilityZones=["us-east-1a"])
asg.put_scaling_policy(AutoScalingGroupName="api", PolicyName="cpu50",
    PolicyType="TargetTrackingScaling", EstimatedInstanceWarmup=120,
    TargetTrackingConfiguration={"PredefinedMetricSpecification":
        {"PredefinedMetricType": "ASGAverageCPUUtilization"}, "TargetValue": 50.0})
now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
now = now - datetime.timedelta(minutes=now.minute % 5)
dim = [{"Name": "AutoScalingGroupName", "Value": "api"}]
tgdim = [{"Name": "TargetGroup", "Value": tg.split(":")[-1]}]
for i in range(12):
    t = now - datetime.timedelta(minutes=5 * (12 - i))
    cpu = 20.0 + 2 * i
    # Each instance serves 50 req/s at 100% CPU: cpu% x 0.5 req/s, summed over 300 s.
    cw.put_metric_data(Namespace="AWS/EC2", MetricData=[
        {"MetricName": "CPUUtilization", "Dimensions": dim, "Timestamp": t, "Value": cpu}])
    cw.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=[
        {"MetricName": "RequestCountPerTarget", "Dimensions": tgdim, "Timestamp": t,
         "Value": cpu * 0.5 * 300}])
"#;

#[test]
fn moto_asg_behind_an_alb_gets_a_capacity_model_and_replays() {
    use scaletop::model::{
        CapacityModel, CurrentPolicy, GroupId, GroupInfo, PolicyModel, PolicyProvenance,
    };
    use scaletop::tui::jobs::policies::{autoscaler_for, run, GroupHistory, PoliciesJob};
    let Some((moto, py)) = start_moto() else {
        return;
    };
    let o = Command::new(&py)
        .args(["-c", SETUP_ALB, &moto.endpoint])
        .output()
        .expect("setup");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = write_config(
        dir.path(),
        "name = \"prod\"\nregions = [\"us-east-1\"]\nperiod = \"5m\"\nbackfill = \"2h\"\n",
    );
    let (code, json, text) = snapshot(&cfg, &creds(&moto.endpoint), "json");
    assert_eq!(code, Some(0), "{text}");
    let api = group(&json, "api");
    let cap: CapacityModel =
        serde_json::from_value(api["capacity"].clone()).unwrap_or_else(|e| panic!("{e}: {api:#}"));
    // CPU x 0.5 req/s per instance in every period: 50 req/s at 100% CPU.
    assert!(
        (cap.capacity_per_replica_rps - 50.0).abs() < 1e-9,
        "{cap:?}"
    );
    // m5.large: 2 vCPU at $0.096/h in us-east-1 (assets/pricing/aws-ec2.toml).
    assert_eq!(cap.concurrency_per_replica, 2);
    assert_eq!(cap.usd_per_replica_hour, 0.096);
    assert_eq!((cap.min_replicas, cap.max_replicas), (2, 10));
    // No launch activity in moto: the health check grace period; warm-up from the policy.
    assert_eq!(cap.startup_seconds, 180);
    assert_eq!(cap.warmup_seconds, 120);
    assert!(
        api["labels"]["capacity_model"]
            .as_str()
            .unwrap_or_default()
            .starts_with("50.0 req/s per instance at 100% CPU (median of 12 CloudWatch periods)"),
        "{api:#}"
    );

    // The Policies tab's replay of the live policy now runs: target tracking at 50% CPU
    // holds 100 req/s on 100 / (50 x 0.5) = 4 instances.
    let policy: PolicyModel = serde_json::from_value(api["policy"]["model"].clone()).unwrap();
    let mut info = GroupInfo::new(GroupId::new(
        scaletop::model::Platform::Aws,
        api["id"]["scope"].as_str().unwrap(),
        "api",
    ));
    info.policy = Some(CurrentPolicy {
        model: policy,
        provenance: PolicyProvenance::PlatformApi,
    });
    info.capacity = Some(cap);
    assert!(autoscaler_for(&info).is_ok());
    let n = 36;
    let out = run(PoliciesJob {
        groups: vec![GroupHistory {
            info: info.clone(),
            start: 1_764_000_000,
            step_seconds: 300,
            demand: vec![100.0; n],
            extra: Vec::new(),
            desired: vec![2.0; n],
            ready: vec![2.0; n],
            p95_ms: vec![f64::NAN; n],
            dropped_rps: vec![f64::NAN; n],
            events: Vec::new(),
        }],
    });
    let replay = out.rows[0]
        .replay
        .as_ref()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        replay.replayed.last().copied(),
        Some(4.0),
        "{:?}",
        replay.replayed
    );

    // Without a target group, the group says what is missing, and so does the Policies tab.
    let plain = group(&json, "plain");
    assert!(plain.get("capacity").is_none(), "{plain:#}");
    let missing = plain["labels"]["capacity_missing"]
        .as_str()
        .unwrap_or_default();
    assert!(missing.contains("behind no ALB target group"), "{plain:#}");
    let mut info = GroupInfo::new(info.id.clone());
    info.policy = Some(CurrentPolicy {
        model: PolicyModel::Fixed { replicas: 1 },
        provenance: PolicyProvenance::PlatformApi,
    });
    info.labels
        .insert("capacity_missing".into(), missing.to_string());
    let e = autoscaler_for(&info).err().unwrap();
    assert!(
        e.starts_with("no capacity model: requests per instance unknown"),
        "{e}"
    );
}

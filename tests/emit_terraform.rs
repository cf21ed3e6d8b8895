//! Emitted Terraform parsed by a real HCL2 parser (python-hcl2), with the values checked
//! against the recommendation documents they came from.

mod emit_common;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use scaletop::emit::Target;
use serde_json::Value;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/hcl_to_json.py");

fn parse(py: &Path, file: &Path) -> Value {
    let o = Command::new(py)
        .arg(SCRIPT)
        .arg(file)
        .output()
        .expect("run hcl2");
    assert!(
        o.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("json")
}

fn tf(paths: &[PathBuf], dir: &str) -> PathBuf {
    paths
        .iter()
        .find(|p| {
            p.extension().is_some_and(|e| e == "tf") && p.parent().is_some_and(|d| d.ends_with(dir))
        })
        .unwrap_or_else(|| panic!("no .tf in {dir}: {paths:?}"))
        .clone()
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

#[test]
fn aws_terraform_parses_and_matches_the_policy() {
    let Some(py) = support::python_with(&["hcl2"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = emit_common::emit_all(Target::AwsTerraform, dir.path(), &emit_common::context());

    let asg = parse(&py, &tf(&paths, "checkout-asg"));
    let r = &asg["resource"];
    let cpu = &r["aws_autoscaling_policy"]["cpu55"];
    assert_eq!(cpu["policy_type"], "TargetTrackingScaling");
    assert_eq!(cpu["autoscaling_group_name"], "checkout");
    let tt = &cpu["target_tracking_configuration"][0];
    assert_eq!(num(&tt["target_value"]), 55.0);
    assert_eq!(
        tt["predefined_metric_specification"][0]["predefined_metric_type"],
        "ASGAverageCPUUtilization"
    );
    let step = &r["aws_autoscaling_policy"]["backlog_step"];
    let steps = step["step_adjustment"].as_array().expect("steps");
    assert_eq!(steps.len(), 2);
    assert_eq!(num(&steps[0]["metric_interval_upper_bound"]), 500.0);
    assert_eq!(num(&steps[1]["scaling_adjustment"]), 5.0);
    let alarm = &r["aws_cloudwatch_metric_alarm"]["checkout_backlog_high"];
    assert_eq!(
        alarm["alarm_actions"],
        serde_json::json!(["${aws_autoscaling_policy.backlog_step.arn}"])
    );
    assert_eq!(num(&alarm["threshold"]), 1000.0);
    assert_eq!(alarm["dimensions"]["AutoScalingGroupName"], "checkout");
    let predictive =
        &r["aws_autoscaling_policy"]["predictive_cpu"]["predictive_scaling_configuration"][0];
    assert_eq!(predictive["mode"], "ForecastOnly");
    assert_eq!(num(&predictive["scheduling_buffer_time"]), 300.0);
    assert_eq!(
        r["aws_autoscaling_schedule"]["business_hours"]["recurrence"],
        "0 8 * * 1-5"
    );
    assert_eq!(
        num(&r["aws_autoscaling_schedule"]["business_hours"]["min_size"]),
        6.0
    );
    assert_eq!(
        num(&r["aws_autoscaling_group"]["checkout"]["max_size"]),
        40.0
    );

    let spot = parse(&py, &tf(&paths, "checkout-spot"));
    let mip = &spot["resource"]["aws_autoscaling_group"]["checkout"]["mixed_instances_policy"][0];
    let dist = &mip["instances_distribution"][0];
    assert_eq!(num(&dist["on_demand_percentage_above_base_capacity"]), 20.0);
    assert_eq!(dist["spot_allocation_strategy"], "price-capacity-optimized");
    let overrides: Vec<&str> = mip["launch_template"][0]["override"]
        .as_array()
        .expect("overrides")
        .iter()
        .filter_map(|o| o["instance_type"].as_str())
        .collect();
    assert_eq!(overrides, ["m5.large", "m6i.large", "m5a.large"]);

    let aurora = parse(&py, &tf(&paths, "orders-db-replicas"));
    let target = &aurora["resource"]["aws_appautoscaling_target"]["cluster_orders_db"];
    assert_eq!(target["scalable_dimension"], "rds:cluster:ReadReplicaCount");
    assert_eq!(num(&target["max_capacity"]), 8.0);
    let policy = &aurora["resource"]["aws_appautoscaling_policy"]["reader_cpu60"];
    assert_eq!(
        policy["resource_id"],
        "${aws_appautoscaling_target.cluster_orders_db.resource_id}"
    );

    let lambda = parse(&py, &tf(&paths, "thumbnails-concurrency"));
    let pc = &lambda["resource"]["aws_appautoscaling_target"]["thumbnails_live"];
    assert_eq!(pc["resource_id"], "function:thumbnails:live");
    assert_eq!(num(&pc["min_capacity"]), 20.0);
}

#[test]
fn gcp_and_azure_terraform_parse_and_match_the_policy() {
    let Some(py) = support::python_with(&["hcl2"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let ctx = emit_common::context();
    let mut paths = emit_common::emit_all(Target::GcpTerraform, dir.path(), &ctx);
    paths.extend(emit_common::emit_all(
        Target::AzureTerraform,
        dir.path(),
        &ctx,
    ));

    let gcp = parse(&py, &tf(&paths, "render-gcp"));
    assert_eq!(gcp["variable"]["zone"]["default"], "europe-west1-b");
    let a = &gcp["resource"]["google_compute_autoscaler"]["render_autoscaler"];
    assert_eq!(a["target"], "${var.instance_group}");
    let p = &a["autoscaling_policy"][0];
    assert_eq!(num(&p["min_replicas"]), 3.0);
    assert_eq!(num(&p["max_replicas"]), 60.0);
    assert_eq!(num(&p["cooldown_period"]), 90.0);
    assert_eq!(num(&p["cpu_utilization"][0]["target"]), 0.65);
    assert_eq!(
        p["cpu_utilization"][0]["predictive_method"],
        "OPTIMIZE_AVAILABILITY"
    );
    assert_eq!(
        num(&p["scale_in_control"][0]["max_scaled_in_replicas"][0]["percent"]),
        10.0
    );
    let s = &p["scaling_schedules"][0];
    assert_eq!(s["name"], "weekday-floor");
    assert_eq!(num(&s["min_required_replicas"]), 12.0);
    assert_eq!(s["schedule"], "0 8 * * MON-FRI");

    let az = parse(&py, &tf(&paths, "portal-azure"));
    let setting = &az["resource"]["azurerm_monitor_autoscale_setting"]["portal_autoscale"];
    let profiles = setting["profile"].as_array().expect("profiles");
    assert_eq!(profiles.len(), 2);
    assert_eq!(num(&profiles[0]["capacity"][0]["maximum"]), 20.0);
    let rules = profiles[0]["rule"].as_array().expect("rules");
    assert_eq!(num(&rules[0]["metric_trigger"][0]["threshold"]), 70.0);
    assert_eq!(rules[1]["scale_action"][0]["direction"], "Decrease");
    assert_eq!(rules[1]["scale_action"][0]["cooldown"], "PT10M");
    let rec = &profiles[1]["recurrence"][0];
    assert_eq!(rec["days"].as_array().map(Vec::len), Some(5));
    assert_eq!(rec["timezone"], "W. Europe Standard Time");
    assert_eq!(setting["predictive"][0]["scale_mode"], "ForecastOnly");
    assert!(az["variable"]["target_resource_id"].is_object());
}

//! GCP Compute Engine autoscaler: the `autoscalers` resource JSON (what `gcloud compute
//! instance-groups managed set-autoscaling` and the REST API take) and Terraform
//! google_compute_autoscaler. Utilization targets, initialization period, scale-in control,
//! predictive method and scaling schedules.

use serde_json::{json, Value};

use super::hcl::{variable, Block, Hv};
use super::{EmittedFile, Header};
use crate::engine::policy::gcp::{GcpAutoscaler, MigAutoscaler};
use crate::model::Recommendation;

/// The document after the replay's parser accepted it (schedules included: their cron, time
/// zone and 300 s minimum duration), with its name filled in and each schedule's
/// minRequiredReplicas checked against maxNumReplicas.
fn checked(doc: &Value, rec: &Recommendation) -> Result<(Value, GcpAutoscaler), String> {
    let mut doc = doc.clone();
    if doc
        .get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        doc["name"] = json!(format!("{}-autoscaler", rec.group.name));
    }
    let parsed = MigAutoscaler::from_json(&doc.to_string())
        .map_err(|e| format!("GCP autoscaler document: {e}"))?;
    let max = parsed.config.autoscaling_policy.max_num_replicas;
    if let Some(s) = doc.pointer("/autoscalingPolicy/scalingSchedules") {
        let map = s
            .as_object()
            .ok_or("autoscalingPolicy.scalingSchedules must be a map of name to schedule")?;
        for (name, sched) in map {
            let at = format!("autoscalingPolicy.scalingSchedules.{name}");
            let replicas = sched
                .get("minRequiredReplicas")
                .and_then(Value::as_u64)
                .ok_or(format!("{at}.minRequiredReplicas is required"))?;
            if replicas > u64::from(max) {
                return Err(format!(
                    "{at}.minRequiredReplicas {replicas} is above maxNumReplicas {max}"
                ));
            }
        }
    }
    Ok((doc, parsed.config))
}

pub fn json(doc: &Value, rec: &Recommendation) -> Result<EmittedFile, String> {
    let (doc, _) = checked(doc, rec)?;
    let mut text = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
    text.push('\n');
    Ok(EmittedFile {
        relative: "gcp-autoscaler.json".into(),
        contents: text,
    })
}

pub fn terraform(doc: &Value, rec: &Recommendation, head: &Header) -> Result<EmittedFile, String> {
    let (doc, config) = checked(doc, rec)?;
    let p = &config.autoscaling_policy;
    let mut policy = Block::new("autoscaling_policy", &[])
        .attr("min_replicas", p.min_num_replicas)
        .attr("max_replicas", p.max_num_replicas)
        .opt("cooldown_period", p.cool_down_period_sec)
        .opt("mode", p.mode.clone());
    if let Some(c) = &p.cpu_utilization {
        policy = policy.block(
            Block::new("cpu_utilization", &[])
                .attr("target", c.utilization_target)
                .opt("predictive_method", c.predictive_method.clone()),
        );
    }
    if let Some(l) = &p.load_balancing_utilization {
        policy = policy.block(
            Block::new("load_balancing_utilization", &[]).attr("target", l.utilization_target),
        );
    }
    for m in &p.custom_metric_utilizations {
        policy = policy.block(
            Block::new("metric", &[])
                .attr("name", m.metric.as_str())
                .opt("target", m.utilization_target)
                .opt("type", m.utilization_target_type.clone())
                .opt("single_instance_assignment", m.single_instance_assignment),
        );
    }
    if let Some(s) = &p.scale_in_control {
        policy = policy.block(
            Block::new("scale_in_control", &[])
                .attr("time_window_sec", s.time_window_sec)
                .block(
                    Block::new("max_scaled_in_replicas", &[])
                        .opt("fixed", s.max_scaled_in_replicas.fixed)
                        .opt("percent", s.max_scaled_in_replicas.percent),
                ),
        );
    }
    if let Some(map) = doc
        .pointer("/autoscalingPolicy/scalingSchedules")
        .and_then(Value::as_object)
    {
        for (name, s) in map {
            let text = |k: &str| s.get(k).and_then(Value::as_str).map(str::to_string);
            let num = |k: &str| s.get(k).and_then(Value::as_f64);
            policy = policy.block(
                Block::new("scaling_schedules", &[])
                    .attr("name", name.as_str())
                    .opt("min_required_replicas", num("minRequiredReplicas"))
                    .opt("schedule", text("schedule"))
                    .opt("time_zone", text("timeZone"))
                    .opt("duration_sec", num("durationSec"))
                    .opt("disabled", s.get("disabled").and_then(Value::as_bool))
                    .opt("description", text("description")),
            );
        }
    }
    let zone_var = variable("zone", "Zone of the managed instance group");
    let zone_var = match rec.group.scope.split_once('/') {
        Some((_, zone)) if !zone.is_empty() => zone_var.attr("default", zone),
        _ => zone_var,
    };
    let blocks = [
        zone_var,
        variable(
            "instance_group",
            "Self link of the managed instance group to autoscale",
        ),
        Block::new(
            "resource",
            &[
                "google_compute_autoscaler",
                &super::aws_terraform::ident(&config.name),
            ],
        )
        .attr("name", config.name.as_str())
        .attr("zone", Hv::Ref("var.zone".into()))
        .attr("target", Hv::Ref("var.instance_group".into()))
        .block(policy),
    ];
    let mut text = head.comment("#");
    for b in blocks {
        text.push('\n');
        text.push_str(&b.render());
    }
    Ok(EmittedFile {
        relative: "gcp.tf".into(),
        contents: text,
    })
}

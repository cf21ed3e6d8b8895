//! Terraform for the AWS changes: aws_autoscaling_policy (+ aws_cloudwatch_metric_alarm for
//! step/simple policies), aws_autoscaling_schedule, the aws_autoscaling_group arguments for a
//! mixed instances policy or warm pool, aws_appautoscaling_target/_policy (Aurora replicas,
//! Lambda provisioned concurrency).

use super::hcl::{Block, Hv};
use super::{EmitContext, EmittedFile, Header};
use crate::artifact::{Artifact, ConcurrencyArtifact, PolicyFormat, SpotArtifact};
use crate::engine::policy::aws::AsgAutoscaler;
use crate::engine::policy::aws_appscaling::ScalableTargetConfig;
use crate::engine::policy::aws_spec::{AsgScalingConfig, PolicyType, ScalingPolicy};
use crate::model::Recommendation;

/// A Terraform resource name: letters, digits, underscores, starting with a letter.
pub fn ident(text: &str) -> String {
    let s: String = super::slug(text)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s
    } else {
        format!("r_{s}")
    }
}

pub fn emit(
    artifact: &Artifact,
    rec: &Recommendation,
    ctx: &EmitContext,
    head: &Header,
) -> Result<EmittedFile, String> {
    let blocks = match artifact {
        Artifact::Policy(p) if p.format == PolicyFormat::AwsAsg => {
            let c: AsgScalingConfig = serde_json::from_value(p.document.clone())
                .map_err(|e| format!("EC2 Auto Scaling document: {e}"))?;
            AsgAutoscaler::new(c.clone()).map_err(|e| format!("EC2 Auto Scaling document: {e}"))?;
            asg(&c, rec, ctx)?
        }
        Artifact::Policy(p) if p.format == PolicyFormat::AwsAppscaling => {
            let c: ScalableTargetConfig = serde_json::from_value(p.document.clone())
                .map_err(|e| format!("Application Auto Scaling document: {e}"))?;
            super::aws::appscaling_calls(&c)?;
            appscaling(&c)
        }
        Artifact::Spot(s) => {
            super::aws::spot_calls(s, rec, ctx)?;
            spot(s, rec, ctx)
        }
        Artifact::Concurrency(c) => {
            super::aws::concurrency_calls(c)?;
            concurrency(c)?
        }
        other => return Err(format!("AWS cannot express a {}", super::describe(other))),
    };
    let mut text = head.comment("#");
    text.push('\n');
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        text.push_str(&b.render());
    }
    Ok(EmittedFile {
        relative: "aws.tf".into(),
        contents: text,
    })
}

fn asg(
    c: &AsgScalingConfig,
    rec: &Recommendation,
    ctx: &EmitContext,
) -> Result<Vec<Block>, String> {
    let asg = if c.auto_scaling_group_name.is_empty() {
        rec.group.name.clone()
    } else {
        c.auto_scaling_group_name.clone()
    };
    let mut out = Vec::new();
    for p in &c.scaling_policies {
        out.push(policy(&asg, p)?);
    }
    for a in &c.alarms {
        let policy = a
            .alarm_actions
            .first()
            .ok_or(format!("alarm '{}' executes no policy", a.alarm_name))?;
        out.push(
            Block::new(
                "resource",
                &["aws_cloudwatch_metric_alarm", &ident(&a.alarm_name)],
            )
            .attr("alarm_name", a.alarm_name.as_str())
            .attr("metric_name", a.metric_name.as_str())
            .attr(
                "namespace",
                a.namespace.clone().unwrap_or_else(|| "AWS/EC2".into()),
            )
            .attr(
                "statistic",
                a.statistic.clone().unwrap_or_else(|| "Average".into()),
            )
            .attr("period", a.period)
            .attr("evaluation_periods", a.evaluation_periods)
            .opt("datapoints_to_alarm", a.datapoints_to_alarm)
            .attr("threshold", a.threshold)
            .attr(
                "comparison_operator",
                serde_json::to_value(a.comparison_operator)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
            )
            .attr(
                "dimensions",
                Hv::Map(vec![("AutoScalingGroupName".into(), asg.as_str().into())]),
            )
            .attr(
                "alarm_actions",
                Hv::List(vec![Hv::Ref(format!(
                    "aws_autoscaling_policy.{}.arn",
                    ident(policy)
                ))]),
            ),
        );
    }
    for s in &c.scheduled_actions {
        out.push(
            Block::new(
                "resource",
                &["aws_autoscaling_schedule", &ident(&s.scheduled_action_name)],
            )
            .attr("scheduled_action_name", s.scheduled_action_name.as_str())
            .attr("autoscaling_group_name", asg.as_str())
            .opt("min_size", s.min_size)
            .opt("max_size", s.max_size)
            .opt("desired_capacity", s.desired_capacity)
            .opt("recurrence", s.recurrence.clone())
            .opt("start_time", s.start_time.clone())
            .opt("end_time", s.end_time.clone()),
        );
    }
    let mut group = Block::new("resource", &["aws_autoscaling_group", &ident(&asg)])
        .attr("name", asg.as_str())
        .attr("min_size", c.min_size)
        .attr("max_size", c.max_size)
        .opt("default_instance_warmup", c.default_instance_warmup)
        .opt("default_cooldown", c.default_cooldown);
    if let Some(w) = ctx.warm_pool {
        group = group.block(warm_pool(w));
    }
    out.push(group);
    Ok(out)
}

fn warm_pool(w: super::WarmPool) -> Block {
    Block::new("warm_pool", &[])
        .attr("pool_state", "Stopped")
        .attr("min_size", w.min_size)
        .block(Block::new("instance_reuse_policy", &[]).attr("reuse_on_scale_in", true))
}

fn policy(asg: &str, p: &ScalingPolicy) -> Result<Block, String> {
    let ty = serde_json::to_value(p.policy_type)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let mut b = Block::new(
        "resource",
        &["aws_autoscaling_policy", &ident(&p.policy_name)],
    )
    .attr("name", p.policy_name.as_str())
    .attr("autoscaling_group_name", asg)
    .attr("policy_type", ty)
    .opt("estimated_instance_warmup", p.estimated_instance_warmup)
    .opt("enabled", p.enabled);
    match p.policy_type {
        PolicyType::TargetTrackingScaling => {
            let t = p.target_tracking_configuration.as_ref().ok_or(format!(
                "policy '{}': TargetTrackingConfiguration missing",
                p.policy_name
            ))?;
            let mut tt = Block::new("target_tracking_configuration", &[])
                .attr("target_value", t.target_value)
                .attr("disable_scale_in", t.disable_scale_in);
            if let Some(m) = &t.predefined_metric_specification {
                tt = tt.block(
                    Block::new("predefined_metric_specification", &[])
                        .attr("predefined_metric_type", m.predefined_metric_type.as_str())
                        .opt("resource_label", m.resource_label.clone()),
                );
            }
            if let Some(m) = &t.customized_metric_specification {
                tt = tt.block(
                    Block::new("customized_metric_specification", &[])
                        .attr("metric_name", m.metric_name.as_str())
                        .opt("namespace", m.namespace.clone())
                        .opt("statistic", m.statistic.clone()),
                );
            }
            b = b.block(tt);
        }
        PolicyType::StepScaling | PolicyType::SimpleScaling => {
            let adj = p
                .adjustment_type
                .and_then(|a| serde_json::to_value(a).ok())
                .and_then(|v| v.as_str().map(str::to_string));
            b = b
                .opt("adjustment_type", adj)
                .opt("scaling_adjustment", p.scaling_adjustment.map(f64::from))
                .opt("cooldown", p.cooldown)
                .opt(
                    "min_adjustment_magnitude",
                    p.min_adjustment_magnitude.map(f64::from),
                );
            for s in p.step_adjustments.iter().flatten() {
                b = b.block(
                    Block::new("step_adjustment", &[])
                        .attr("scaling_adjustment", f64::from(s.scaling_adjustment))
                        .opt("metric_interval_lower_bound", s.metric_interval_lower_bound)
                        .opt("metric_interval_upper_bound", s.metric_interval_upper_bound),
                );
            }
        }
        PolicyType::PredictiveScaling => {
            let c = p.predictive_scaling_configuration.as_ref().ok_or(format!(
                "policy '{}': PredictiveScalingConfiguration missing",
                p.policy_name
            ))?;
            let mut pc = Block::new("predictive_scaling_configuration", &[])
                .opt("mode", c.mode.clone())
                .opt("scheduling_buffer_time", c.scheduling_buffer_time)
                .opt(
                    "max_capacity_breach_behavior",
                    c.max_capacity_breach_behavior.clone(),
                )
                .opt("max_capacity_buffer", c.max_capacity_buffer);
            for m in &c.metric_specifications {
                let mut ms =
                    Block::new("metric_specification", &[]).attr("target_value", m.target_value);
                if let Some(pair) = &m.predefined_metric_pair_specification {
                    ms = ms.block(
                        Block::new("predefined_metric_pair_specification", &[])
                            .attr(
                                "predefined_metric_type",
                                pair.predefined_metric_type.as_str(),
                            )
                            .opt("resource_label", pair.resource_label.clone()),
                    );
                }
                pc = pc.block(ms);
            }
            b = b.block(pc);
        }
    }
    Ok(b)
}

fn appscaling(c: &ScalableTargetConfig) -> Vec<Block> {
    let name = ident(&c.resource_id);
    let target_ref = |field: &str| Hv::Ref(format!("aws_appautoscaling_target.{name}.{field}"));
    let mut out = vec![
        Block::new("resource", &["aws_appautoscaling_target", &name])
            .attr("service_namespace", c.service_namespace.as_str())
            .attr("resource_id", c.resource_id.as_str())
            .attr("scalable_dimension", c.scalable_dimension.as_str())
            .attr("min_capacity", c.min_capacity)
            .attr("max_capacity", c.max_capacity),
    ];
    for p in &c.scaling_policies {
        let t = &p.target_tracking_scaling_policy_configuration;
        out.push(
            Block::new(
                "resource",
                &["aws_appautoscaling_policy", &ident(&p.policy_name)],
            )
            .attr("name", p.policy_name.as_str())
            .attr("policy_type", p.policy_type.as_str())
            .attr("service_namespace", target_ref("service_namespace"))
            .attr("resource_id", target_ref("resource_id"))
            .attr("scalable_dimension", target_ref("scalable_dimension"))
            .block(
                Block::new("target_tracking_scaling_policy_configuration", &[])
                    .attr("target_value", t.target_value)
                    .opt("scale_in_cooldown", t.scale_in_cooldown)
                    .opt("scale_out_cooldown", t.scale_out_cooldown)
                    .attr("disable_scale_in", t.disable_scale_in)
                    .block(
                        Block::new("predefined_metric_specification", &[]).attr(
                            "predefined_metric_type",
                            t.predefined_metric_specification
                                .predefined_metric_type
                                .as_str(),
                        ),
                    ),
            ),
        );
    }
    out
}

/// The mixed instances arguments of the group's aws_autoscaling_group (merge into the existing
/// resource: subnets and the rest are unchanged).
fn spot(s: &SpotArtifact, rec: &Recommendation, ctx: &EmitContext) -> Vec<Block> {
    let mut lt = Block::new("launch_template", &[]).block(
        Block::new("launch_template_specification", &[])
            .attr(
                "launch_template_name",
                super::aws::launch_template(rec, ctx),
            )
            .attr("version", "$Latest"),
    );
    for t in &s.instance_types {
        lt = lt.block(Block::new("override", &[]).attr("instance_type", t.as_str()));
    }
    vec![Block::new(
        "resource",
        &["aws_autoscaling_group", &ident(&rec.group.name)],
    )
    .attr("name", rec.group.name.as_str())
    .attr("capacity_rebalance", true)
    .block(
        Block::new("mixed_instances_policy", &[])
            .block(
                Block::new("instances_distribution", &[])
                    .attr("on_demand_allocation_strategy", "prioritized")
                    .attr("on_demand_base_capacity", s.on_demand_base_capacity)
                    .attr(
                        "on_demand_percentage_above_base_capacity",
                        s.on_demand_percentage_above_base,
                    )
                    .attr(
                        "spot_allocation_strategy",
                        s.spot_allocation_strategy.as_str(),
                    ),
            )
            .block(lt),
    )]
}

fn concurrency(c: &ConcurrencyArtifact) -> Result<Vec<Block>, String> {
    let (function, qualifier) = match c.function.split_once(':') {
        Some((f, q)) => (f.to_string(), Some(q.to_string())),
        None => (c.function.clone(), None),
    };
    let mut out = Vec::new();
    if let (Some(levels), Some(q)) = (&c.provisioned_by_hour_utc, &qualifier) {
        // The same document the AWS requests carry: a target spanning the levels, one
        // aws_appautoscaling_scheduled_action per change of level.
        let doc = super::aws::schedule_document(&function, q, levels)?;
        let target = ident(&format!("{function}_{q}"));
        let of = |attr: &str| Hv::Ref(format!("aws_appautoscaling_target.{target}.{attr}"));
        out.push(
            Block::new("resource", &["aws_appautoscaling_target", &target])
                .attr("service_namespace", "lambda")
                .attr("resource_id", format!("function:{function}:{q}"))
                .attr(
                    "scalable_dimension",
                    "lambda:function:ProvisionedConcurrency",
                )
                .attr("min_capacity", doc["MinCapacity"].as_f64().unwrap_or(0.0))
                .attr("max_capacity", doc["MaxCapacity"].as_f64().unwrap_or(0.0)),
        );
        for a in doc["ScheduledActions"].as_array().into_iter().flatten() {
            let name = a["ScheduledActionName"].as_str().unwrap_or_default();
            let level = |k: &str| {
                a.pointer(&format!("/ScalableTargetAction/{k}"))
                    .and_then(serde_json::Value::as_f64)
                    .unwrap_or(0.0)
            };
            out.push(
                Block::new(
                    "resource",
                    &["aws_appautoscaling_scheduled_action", &ident(name)],
                )
                .attr("name", name)
                .attr("service_namespace", of("service_namespace"))
                .attr("resource_id", of("resource_id"))
                .attr("scalable_dimension", of("scalable_dimension"))
                .attr("schedule", a["Schedule"].as_str().unwrap_or_default())
                .attr("timezone", a["Timezone"].as_str().unwrap_or("UTC"))
                .block(
                    Block::new("scalable_target_action", &[])
                        .attr("min_capacity", level("MinCapacity"))
                        .attr("max_capacity", level("MaxCapacity")),
                ),
            );
        }
    }
    if let (Some(p), Some(q)) = (c.provisioned_concurrency, qualifier) {
        out.push(
            Block::new(
                "resource",
                &[
                    "aws_appautoscaling_target",
                    &ident(&format!("{function}_{q}")),
                ],
            )
            .attr("service_namespace", "lambda")
            .attr("resource_id", format!("function:{function}:{q}"))
            .attr(
                "scalable_dimension",
                "lambda:function:ProvisionedConcurrency",
            )
            .attr("min_capacity", p)
            .attr("max_capacity", p),
        );
    }
    if let Some(m) = c.memory_size_mb {
        // Memory, like reserved concurrency, is an argument of the function resource itself.
        out.push(
            Block::new("variable", &[&format!("{}_memory_size", ident(&function))])
                .attr("type", Hv::Ref("number".into()))
                .attr(
                    "description",
                    format!(
                        "Set memory_size = var.{}_memory_size on the aws_lambda_function of {function}",
                        ident(&function)
                    ),
                )
                .attr("default", m),
        );
    }
    if let Some(r) = c.reserved_concurrency {
        // Reserved concurrency is an argument of the function resource itself.
        out.push(
            Block::new("variable", &[&format!("{}_reserved_concurrency", ident(&function))])
                .attr("type", Hv::Ref("number".into()))
                .attr(
                    "description",
                    format!(
                        "Set reserved_concurrent_executions = var.{}_reserved_concurrency on the aws_lambda_function of {function}",
                        ident(&function)
                    ),
                )
                .attr("default", r),
        );
    }
    Ok(out)
}

//! AWS API requests as JSON, in the shapes `aws <service> <operation> --cli-input-json` takes:
//! EC2 Auto Scaling (PutScalingPolicy, PutScheduledUpdateGroupAction, UpdateAutoScalingGroup
//! with a mixed instances policy, PutWarmPool), CloudWatch PutMetricAlarm for step/simple
//! policies, Application Auto Scaling (RegisterScalableTarget, PutScalingPolicy) for Aurora
//! replicas and Lambda provisioned concurrency, Lambda PutFunctionConcurrency — plus an
//! `apply.sh` that runs them in order (alarms need the policy ARN PutScalingPolicy returns).
//! JSON has no comments: the provenance header is in `apply.sh` and ROLLOUT.md.

use serde_json::{json, Map, Value};

use super::{EmitContext, EmittedFile, Header};
use crate::artifact::{Artifact, ConcurrencyArtifact, PolicyFormat, SpotArtifact};
use crate::engine::policy::aws::AsgAutoscaler;
use crate::engine::policy::aws_appscaling::{AppAutoscaler, ScalableTargetConfig};
use crate::engine::policy::aws_spec::{AsgScalingConfig, PolicyType, ScalingPolicy};
use crate::model::Recommendation;

/// One AWS API call: the CLI command and its request body.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiCall {
    /// e.g. `autoscaling put-scaling-policy`.
    pub command: &'static str,
    /// File name under `aws/`.
    pub file: String,
    pub body: Value,
    /// For alarms: the policy whose ARN goes into AlarmActions.
    pub alarm_policy: Option<String>,
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// The requests for one artifact, in the order they must run.
pub fn calls(
    artifact: &Artifact,
    rec: &Recommendation,
    ctx: &EmitContext,
) -> Result<Vec<ApiCall>, String> {
    match artifact {
        Artifact::Policy(p) if p.format == PolicyFormat::AwsAsg => {
            let c: AsgScalingConfig = serde_json::from_value(p.document.clone())
                .map_err(|e| format!("EC2 Auto Scaling document: {e}"))?;
            asg_calls(&c, rec, ctx)
        }
        Artifact::Policy(p) if p.format == PolicyFormat::AwsAppscaling => {
            let c: ScalableTargetConfig = serde_json::from_value(p.document.clone())
                .map_err(|e| format!("Application Auto Scaling document: {e}"))?;
            appscaling_calls(&c)
        }
        Artifact::Spot(s) => spot_calls(s, rec, ctx),
        Artifact::Concurrency(c) => concurrency_calls(c),
        other => Err(format!("AWS cannot express a {}", super::describe(other))),
    }
}

fn group_name(c: &AsgScalingConfig, rec: &Recommendation) -> String {
    if c.auto_scaling_group_name.is_empty() {
        rec.group.name.clone()
    } else {
        c.auto_scaling_group_name.clone()
    }
}

/// EC2 Auto Scaling: the group's limits and warm-up, each policy, each alarm, each scheduled
/// action (and a warm pool when the group keeps one).
pub fn asg_calls(
    c: &AsgScalingConfig,
    rec: &Recommendation,
    ctx: &EmitContext,
) -> Result<Vec<ApiCall>, String> {
    // The replay's own parser validates the document (and is what reads it back).
    AsgAutoscaler::new(c.clone()).map_err(|e| format!("EC2 Auto Scaling document: {e}"))?;
    let asg = group_name(c, rec);
    let mut out = vec![ApiCall {
        command: "autoscaling update-auto-scaling-group",
        file: "update-auto-scaling-group.json".into(),
        body: strip_nulls(json!({
            "AutoScalingGroupName": asg,
            "MinSize": c.min_size,
            "MaxSize": c.max_size,
            "DefaultInstanceWarmup": c.default_instance_warmup,
            "DefaultCooldown": c.default_cooldown,
        })),
        alarm_policy: None,
    }];
    for p in &c.scaling_policies {
        out.push(ApiCall {
            command: "autoscaling put-scaling-policy",
            file: format!("put-scaling-policy-{}.json", super::slug(&p.policy_name)),
            body: put_scaling_policy(&asg, p)?,
            alarm_policy: None,
        });
    }
    for a in &c.alarms {
        let policy = a.alarm_actions.first().cloned().ok_or(format!(
            "alarm '{}' executes no policy (AlarmActions is empty)",
            a.alarm_name
        ))?;
        if a.alarm_actions.len() > 1 {
            return Err(format!(
                "alarm '{}' executes {} policies; emit supports one per alarm",
                a.alarm_name,
                a.alarm_actions.len()
            ));
        }
        out.push(ApiCall {
            command: "cloudwatch put-metric-alarm",
            file: format!("put-metric-alarm-{}.json", super::slug(&a.alarm_name)),
            body: strip_nulls(json!({
                "AlarmName": a.alarm_name,
                "MetricName": a.metric_name,
                "Namespace": a.namespace.clone().unwrap_or_else(|| "AWS/EC2".into()),
                "Statistic": a.statistic.clone().unwrap_or_else(|| "Average".into()),
                "Dimensions": [{"Name": "AutoScalingGroupName", "Value": asg}],
                "Period": a.period,
                "EvaluationPeriods": a.evaluation_periods,
                "DatapointsToAlarm": a.datapoints_to_alarm,
                "Threshold": a.threshold,
                "ComparisonOperator": a.comparison_operator,
            })),
            alarm_policy: Some(policy),
        });
    }
    for s in &c.scheduled_actions {
        out.push(ApiCall {
            command: "autoscaling put-scheduled-update-group-action",
            file: format!(
                "put-scheduled-update-group-action-{}.json",
                super::slug(&s.scheduled_action_name)
            ),
            body: strip_nulls(json!({
                "AutoScalingGroupName": asg,
                "ScheduledActionName": s.scheduled_action_name,
                "StartTime": s.start_time,
                "EndTime": s.end_time,
                "Recurrence": s.recurrence,
                "MinSize": s.min_size,
                "MaxSize": s.max_size,
                // No TimeZone: AWS reads recurrences as UTC by default, as the replay does.
                "DesiredCapacity": s.desired_capacity,
            })),
            alarm_policy: None,
        });
    }
    if let Some(w) = ctx.warm_pool {
        out.push(warm_pool(&asg, w));
    }
    Ok(out)
}

fn warm_pool(asg: &str, w: super::WarmPool) -> ApiCall {
    ApiCall {
        command: "autoscaling put-warm-pool",
        file: "put-warm-pool.json".into(),
        body: json!({
            "AutoScalingGroupName": asg,
            "MinSize": w.min_size,
            "PoolState": "Stopped",
            "InstanceReusePolicy": {"ReuseOnScaleIn": true},
        }),
        alarm_policy: None,
    }
}

/// One PutScalingPolicy request (the document's policies already use the API's field names).
pub fn put_scaling_policy(asg: &str, p: &ScalingPolicy) -> Result<Value, String> {
    let mut body = serde_json::to_value(p).map_err(|e| e.to_string())?;
    let Value::Object(map) = &mut body else {
        return Err("policy is not an object".into());
    };
    map.insert("AutoScalingGroupName".into(), json!(asg));
    if p.policy_type == PolicyType::TargetTrackingScaling {
        if let Some(c) = p
            .target_tracking_configuration
            .as_ref()
            .and_then(|t| t.customized_metric_specification.as_ref())
        {
            if c.namespace.is_none() || c.statistic.is_none() {
                return Err(format!(
                    "policy '{}': CustomizedMetricSpecification needs Namespace and Statistic for the AWS API",
                    p.policy_name
                ));
            }
        }
        // DisableScaleIn false is the API default; keep the request minimal.
        if let Some(Value::Object(t)) = map.get_mut("TargetTrackingConfiguration") {
            if t.get("DisableScaleIn") == Some(&json!(false)) {
                t.remove("DisableScaleIn");
            }
        }
    }
    Ok(strip_nulls(body))
}

/// Application Auto Scaling: register the target, then its policies.
pub fn appscaling_calls(c: &ScalableTargetConfig) -> Result<Vec<ApiCall>, String> {
    AppAutoscaler::from_json(&serde_json::to_string(c).map_err(|e| e.to_string())?)
        .map_err(|e| format!("Application Auto Scaling document: {e}"))?;
    if c.resource_id.is_empty() {
        return Err(
            "ResourceId is missing (e.g. cluster:my-aurora-cluster or function:my-function:live)"
                .into(),
        );
    }
    let ids = json!({
        "ServiceNamespace": c.service_namespace,
        "ResourceId": c.resource_id,
        "ScalableDimension": c.scalable_dimension,
    });
    let mut register = ids.clone();
    register["MinCapacity"] = json!(c.min_capacity);
    register["MaxCapacity"] = json!(c.max_capacity);
    let mut out = vec![ApiCall {
        command: "application-autoscaling register-scalable-target",
        file: "register-scalable-target.json".into(),
        body: register,
        alarm_policy: None,
    }];
    for p in &c.scaling_policies {
        let mut body = ids.clone();
        body["PolicyName"] = json!(p.policy_name);
        body["PolicyType"] = json!(p.policy_type);
        body["TargetTrackingScalingPolicyConfiguration"] = strip_nulls(
            serde_json::to_value(&p.target_tracking_scaling_policy_configuration)
                .map_err(|e| e.to_string())?,
        );
        out.push(ApiCall {
            command: "application-autoscaling put-scaling-policy",
            file: format!(
                "appscaling-put-scaling-policy-{}.json",
                super::slug(&p.policy_name)
            ),
            body,
            alarm_policy: None,
        });
    }
    Ok(out)
}

/// UpdateAutoScalingGroup with a mixed instances policy. A warm pool cannot be combined with a
/// mixed instances policy (EC2 Auto Scaling refuses it), so none is emitted here.
pub fn spot_calls(
    s: &SpotArtifact,
    rec: &Recommendation,
    ctx: &EmitContext,
) -> Result<Vec<ApiCall>, String> {
    if s.instance_types.is_empty() {
        return Err("spot mix names no instance types".into());
    }
    if s.on_demand_percentage_above_base > 100 {
        return Err(format!(
            "on_demand_percentage_above_base {} is above 100",
            s.on_demand_percentage_above_base
        ));
    }
    const STRATEGIES: [&str; 5] = [
        "price-capacity-optimized",
        "capacity-optimized",
        "capacity-optimized-prioritized",
        "lowest-price",
        "diversified",
    ];
    if !STRATEGIES.contains(&s.spot_allocation_strategy.as_str()) {
        return Err(format!(
            "spot_allocation_strategy '{}' is not one of {}",
            s.spot_allocation_strategy,
            STRATEGIES.join(", ")
        ));
    }
    let template = launch_template(rec, ctx);
    let overrides: Vec<Value> = s
        .instance_types
        .iter()
        .map(|t| json!({"InstanceType": t}))
        .collect();
    Ok(vec![ApiCall {
        command: "autoscaling update-auto-scaling-group",
        file: "update-auto-scaling-group-mixed-instances.json".into(),
        body: json!({
            "AutoScalingGroupName": rec.group.name,
            "MixedInstancesPolicy": {
                "LaunchTemplate": {
                    "LaunchTemplateSpecification": {
                        "LaunchTemplateName": template,
                        "Version": "$Latest"
                    },
                    "Overrides": overrides
                },
                "InstancesDistribution": {
                    "OnDemandAllocationStrategy": "prioritized",
                    "OnDemandBaseCapacity": s.on_demand_base_capacity,
                    "OnDemandPercentageAboveBaseCapacity": s.on_demand_percentage_above_base,
                    "SpotAllocationStrategy": s.spot_allocation_strategy
                }
            },
            // Replace spot instances AWS signals are at elevated risk before they are reclaimed.
            "CapacityRebalance": true
        }),
        alarm_policy: None,
    }])
}

pub fn launch_template(rec: &Recommendation, ctx: &EmitContext) -> String {
    ctx.launch_template
        .clone()
        .unwrap_or_else(|| rec.group.name.clone())
}

/// Lambda: reserved concurrency directly, provisioned concurrency through Application Auto
/// Scaling (a scalable target pinned at the figure, so it can later get a schedule or policy).
pub fn concurrency_calls(c: &ConcurrencyArtifact) -> Result<Vec<ApiCall>, String> {
    let mut out = Vec::new();
    let (function, qualifier) = match c.function.split_once(':') {
        Some((f, q)) => (f.to_string(), Some(q.to_string())),
        None => (c.function.clone(), None),
    };
    if function.is_empty() {
        return Err("concurrency artifact names no function".into());
    }
    if let Some(m) = c.memory_size_mb {
        let (lo, hi) = (
            crate::engine::serverless::MIN_MEMORY_MB,
            crate::engine::serverless::MAX_MEMORY_MB,
        );
        if !(lo..=hi).contains(&m) {
            return Err(format!(
                "memory_size_mb {m} is outside Lambda's {lo}-{hi} MB"
            ));
        }
        // Configuration changes apply to $LATEST; publish a version for the alias afterwards.
        out.push(ApiCall {
            command: "lambda update-function-configuration",
            file: "update-function-configuration.json".into(),
            body: json!({"FunctionName": function, "MemorySize": m}),
            alarm_policy: None,
        });
    }
    if let Some(r) = c.reserved_concurrency {
        out.push(ApiCall {
            command: "lambda put-function-concurrency",
            file: "put-function-concurrency.json".into(),
            body: json!({"FunctionName": function, "ReservedConcurrentExecutions": r}),
            alarm_policy: None,
        });
    }
    if let Some(p) = c.provisioned_concurrency {
        let q = qualifier.clone().ok_or(format!(
            "provisioned concurrency needs an alias or version: give the function as '{function}:ALIAS'"
        ))?;
        if c.reserved_concurrency.is_some_and(|r| p > r) {
            return Err(format!(
                "provisioned concurrency {p} exceeds reserved concurrency {}",
                c.reserved_concurrency.unwrap_or(0)
            ));
        }
        out.push(ApiCall {
            command: "application-autoscaling register-scalable-target",
            file: "register-scalable-target-provisioned-concurrency.json".into(),
            body: json!({
                "ServiceNamespace": "lambda",
                "ResourceId": format!("function:{function}:{q}"),
                "ScalableDimension": "lambda:function:ProvisionedConcurrency",
                "MinCapacity": p,
                "MaxCapacity": p,
            }),
            alarm_policy: None,
        });
    }
    if let Some(levels) = &c.provisioned_by_hour_utc {
        if c.provisioned_concurrency.is_some() {
            return Err(
                "concurrency artifact sets both a constant provisioned concurrency and one by hour of day: give one".into(),
            );
        }
        let q = qualifier.ok_or(format!(
            "provisioned concurrency by hour needs an alias or version: give the function as '{function}:ALIAS'"
        ))?;
        let doc = schedule_document(&function, &q, levels)?;
        if let Some(r) = c.reserved_concurrency {
            let hi = doc["MaxCapacity"].as_u64().unwrap_or(0);
            if hi > u64::from(r) {
                return Err(format!(
                    "provisioned concurrency by hour reaches {hi}, above reserved concurrency {r}"
                ));
            }
        }
        let ids = json!({
            "ServiceNamespace": doc["ServiceNamespace"],
            "ResourceId": doc["ResourceId"],
            "ScalableDimension": doc["ScalableDimension"],
        });
        let mut register = ids.clone();
        register["MinCapacity"] = doc["MinCapacity"].clone();
        register["MaxCapacity"] = doc["MaxCapacity"].clone();
        out.push(ApiCall {
            command: "application-autoscaling register-scalable-target",
            file: "register-scalable-target-provisioned-concurrency.json".into(),
            body: register,
            alarm_policy: None,
        });
        for a in doc["ScheduledActions"].as_array().into_iter().flatten() {
            let mut body = ids.clone();
            if let (Value::Object(b), Value::Object(fields)) = (&mut body, a) {
                b.extend(fields.clone());
            }
            let name = a["ScheduledActionName"].as_str().unwrap_or_default();
            out.push(ApiCall {
                command: "application-autoscaling put-scheduled-action",
                file: format!("put-scheduled-action-{}.json", super::slug(name)),
                body,
                alarm_policy: None,
            });
        }
    }
    if out.is_empty() {
        return Err(
            "concurrency artifact sets neither reserved nor provisioned concurrency nor memory"
                .into(),
        );
    }
    Ok(out)
}

/// The scheduled actions applying provisioned concurrency by UTC hour (the cost engine's own
/// document), checked minute by minute against the 24 levels before anything is written.
pub fn schedule_document(function: &str, qualifier: &str, levels: &[u32]) -> Result<Value, String> {
    let levels: [u32; 24] = levels.try_into().map_err(|_| {
        format!(
            "provisioned_by_hour_utc has {} levels; it needs 24 (one per UTC hour)",
            levels.len()
        )
    })?;
    let doc = crate::engine::cost::lambda_schedule::document_for(function, qualifier, &levels);
    crate::engine::cost::lambda_schedule::check(&doc, &levels)
        .map_err(|e| format!("provisioned concurrency schedule does not read back: {e}"))?;
    Ok(doc)
}

/// The request files, an `apply.sh` running them in order, and (for EC2 Auto Scaling) the
/// whole configuration as one document `scaletop simulate --policy` replays.
pub fn emit(
    artifact: &Artifact,
    rec: &Recommendation,
    ctx: &EmitContext,
    head: &Header,
) -> Result<Vec<EmittedFile>, String> {
    let calls = calls(artifact, rec, ctx)?;
    let mut files: Vec<EmittedFile> = calls
        .iter()
        .map(|c| EmittedFile {
            relative: format!("aws/{}", c.file).into(),
            contents: pretty(&c.body),
        })
        .collect();
    let mut script = String::from("#!/bin/sh\n");
    script.push_str(&head.comment("#"));
    script.push_str("# Runs the requests in order with the AWS CLI; review each file first.\nset -eu\ncd \"$(dirname \"$0\")\"\n");
    let mut arns: Map<String, Value> = Map::new();
    for c in &calls {
        match (&c.alarm_policy, c.command) {
            (Some(policy), _) => {
                let var = arns
                    .get(policy)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or(format!(
                        "alarm {} executes policy '{policy}', which is not in this change",
                        c.file
                    ))?;
                script.push_str(&format!(
                    "aws {} --cli-input-json file://{} --alarm-actions \"${var}\"\n",
                    c.command, c.file
                ));
            }
            (None, "autoscaling put-scaling-policy") => {
                let name = c.body["PolicyName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let var = format!("ARN_{}", arns.len());
                script.push_str(&format!(
                    "{var}=$(aws {} --cli-input-json file://{} --query PolicyARN --output text)\n",
                    c.command, c.file
                ));
                arns.insert(name, json!(var));
            }
            (None, _) => {
                script.push_str(&format!(
                    "aws {} --cli-input-json file://{}\n",
                    c.command, c.file
                ));
            }
        }
    }
    files.push(EmittedFile {
        relative: "aws/apply.sh".into(),
        contents: script,
    });
    if let Artifact::Policy(p) = artifact {
        let mut doc = p.document.clone();
        if p.format == PolicyFormat::AwsAsg
            && doc
                .get("AutoScalingGroupName")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
        {
            doc["AutoScalingGroupName"] = json!(rec.group.name);
        }
        let name = match p.format {
            PolicyFormat::AwsAsg => "asg-scaling.json",
            _ => "appscaling-target.json",
        };
        files.push(EmittedFile {
            relative: name.into(),
            contents: pretty(&doc),
        });
    }
    Ok(files)
}

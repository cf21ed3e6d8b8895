//! The search space of each policy kind, generated from the group's current policy document:
//! the current document with its target, scale-up/down rules, cooldowns or windows and min
//! capacity replaced by values from a grid. Values are the platforms' own units.

use crate::engine::policy::aws_spec::{
    AdjustmentType, AsgScalingConfig, ComparisonOperator, MetricAlarm, PolicyType,
    PredefinedMetric, PredictiveMetricSpecification, PredictiveScalingConfiguration,
    ScalingPolicy as AwsPolicy, ScheduledAction, StepAdjustment, TargetTrackingConfiguration,
};
use crate::engine::policy::gcp::{FixedOrPercent, ScaleInControl};
use crate::engine::policy::hpa_spec::{
    Behavior, HpaManifest, MetricSourceType, MetricSpec, MetricTarget, QuantityText,
    ResourceMetric, ScalingPolicy, ScalingPolicyType, ScalingRules, SelectPolicy, TargetType,
};
use crate::engine::policy::keda::{Advanced, HpaConfig, ScaledObject};

use super::doc::PolicyDoc;
use super::PolicyKind;

/// How many values each axis takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SpaceSize {
    /// A few hundred candidates (tests, the TUI's first answer).
    Small,
    /// A few thousand.
    Default,
    /// Over ten thousand (benchmarks, long searches).
    Large,
}

/// One point of the space: the document and the searched settings that made it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub kind: PolicyKind,
    pub doc: PolicyDoc,
    /// (setting, value) in the platform's words, e.g. ("averageUtilization", "70").
    pub settings: Vec<(String, String)>,
    /// Index on each axis of this kind's grid (coarse-to-fine search walks these).
    pub coords: Vec<usize>,
}

/// What the space needs to know of the group beyond its policy.
#[derive(Debug, Clone)]
pub struct SpaceContext {
    pub size: SpaceSize,
    /// Replicas the quietest demand (5th percentile) needs at 70% utilization.
    pub trough_replicas: u32,
    /// Scheduled actions to try with AWS kinds (none: no schedule axis).
    pub schedule: Vec<ScheduledAction>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SpaceError {
    #[error("--policy-kind {kind} cannot be built from the current {current} policy ({why})")]
    Inconsistent {
        kind: &'static str,
        current: &'static str,
        why: String,
    },
    #[error("the search space of {0} is empty")]
    Empty(&'static str),
}

fn pick<T: Clone>(size: SpaceSize, small: &[T], default: &[T], large: &[T]) -> Vec<T> {
    match size {
        SpaceSize::Small => small.to_vec(),
        SpaceSize::Default => default.to_vec(),
        SpaceSize::Large => large.to_vec(),
    }
}

/// Candidate minimum capacities: the current one, fractions of it, and what the trough needs.
pub fn min_values(current: u32, max: u32, trough: u32, size: SpaceSize, floor: u32) -> Vec<u32> {
    let c = f64::from(current);
    let mut v = vec![current, trough, (c * 0.5).round() as u32];
    if size >= SpaceSize::Default {
        v.extend([(c * 0.75).round() as u32, trough.div_ceil(2), 1]);
    }
    if size >= SpaceSize::Large {
        v.extend([
            (c * 1.5).round() as u32,
            (c * 0.25).round() as u32,
            trough * 2,
        ]);
    }
    let mut v: Vec<u32> = v.into_iter().map(|m| m.clamp(floor, max)).collect();
    v.sort_unstable();
    v.dedup();
    v
}

fn cartesian(axes: &[usize]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new()];
    for &n in axes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                (0..n).map(move |i| {
                    let mut p = prefix.clone();
                    p.push(i);
                    p
                })
            })
            .collect();
    }
    out
}

fn s(k: &str, v: impl std::fmt::Display) -> (String, String) {
    (k.to_string(), v.to_string())
}

/// Every candidate of `kind` built from `current`.
pub fn candidates(
    current: &PolicyDoc,
    kind: PolicyKind,
    ctx: &SpaceContext,
) -> Result<Vec<Candidate>, SpaceError> {
    let inconsistent = |why: &str| SpaceError::Inconsistent {
        kind: kind.label(),
        current: current.kind().label(),
        why: why.to_string(),
    };
    let out = match (kind, current) {
        (PolicyKind::Hpa, PolicyDoc::Hpa(m)) => hpa(m, ctx),
        (PolicyKind::Keda, PolicyDoc::Keda(so)) => keda(so, ctx),
        (PolicyKind::AwsTarget, PolicyDoc::Asg(c)) => aws_target(c, ctx),
        (PolicyKind::AwsStep, PolicyDoc::Asg(c)) => aws_step(c, ctx),
        (PolicyKind::AwsPredictive, PolicyDoc::Asg(c)) => aws_predictive(c, ctx),
        (PolicyKind::Gcp, PolicyDoc::Gcp(g)) => gcp(g, ctx),
        (PolicyKind::Azure, _) => {
            return Err(inconsistent("Azure autoscale settings are not tuned yet"))
        }
        _ => {
            return Err(inconsistent(
                "a search edits the current document; give a current policy of that platform",
            ))
        }
    };
    if out.is_empty() {
        return Err(SpaceError::Empty(kind.label()));
    }
    Ok(out)
}

// --- Kubernetes HPA ------------------------------------------------------------------------

/// Scale-up rate profiles: (name, policies).
fn hpa_up_profiles() -> Vec<(&'static str, Vec<ScalingPolicy>)> {
    let p = |kind, value, period_seconds| ScalingPolicy {
        kind,
        value,
        period_seconds,
    };
    vec![
        (
            "4 pods or 100% per 15s (default)",
            vec![
                p(ScalingPolicyType::Pods, 4, 15),
                p(ScalingPolicyType::Percent, 100, 15),
            ],
        ),
        (
            "10 pods or 200% per 15s",
            vec![
                p(ScalingPolicyType::Pods, 10, 15),
                p(ScalingPolicyType::Percent, 200, 15),
            ],
        ),
        (
            "50 pods or 900% per 15s",
            vec![
                p(ScalingPolicyType::Pods, 50, 15),
                p(ScalingPolicyType::Percent, 900, 15),
            ],
        ),
    ]
}

fn hpa_down_profiles() -> Vec<(&'static str, Vec<ScalingPolicy>)> {
    let p = |kind, value, period_seconds| ScalingPolicy {
        kind,
        value,
        period_seconds,
    };
    vec![
        (
            "100% per 15s (default)",
            vec![p(ScalingPolicyType::Percent, 100, 15)],
        ),
        ("20% per 60s", vec![p(ScalingPolicyType::Percent, 20, 60)]),
        ("10% per 60s", vec![p(ScalingPolicyType::Percent, 10, 60)]),
    ]
}

/// A metric's target scaled by `factor` (utilization in whole percent).
fn scale_target(t: &MetricTarget, factor: f64) -> MetricTarget {
    let mut t = t.clone();
    if let Some(u) = t.average_utilization {
        t.average_utilization = Some(((f64::from(u) * factor).round() as u32).max(1));
    }
    let scale = |q: &Option<QuantityText>| {
        q.as_ref()
            .and_then(|q| q.value().ok())
            .map(|v| QuantityText::Text(quantity_text(v * factor)))
    };
    if t.average_value.is_some() {
        t.average_value = scale(&t.average_value);
    }
    if t.value.is_some() {
        t.value = scale(&t.value);
    }
    t
}

/// A Kubernetes quantity: whole numbers plain, else in milli-units.
pub fn quantity_text(v: f64) -> String {
    if v >= 10.0 || (v.fract() == 0.0 && v >= 1.0) {
        format!("{}", v.round() as i64)
    } else {
        format!("{}m", (v * 1000.0).round().max(1.0) as i64)
    }
}

fn metric_target_mut(m: &mut MetricSpec) -> Option<&mut MetricTarget> {
    match m.kind {
        MetricSourceType::Resource => m.resource.as_mut().map(|r| &mut r.target),
        MetricSourceType::ContainerResource => m.container_resource.as_mut().map(|r| &mut r.target),
        MetricSourceType::Pods => m.pods.as_mut().map(|r| &mut r.target),
        MetricSourceType::Object => m.object.as_mut().map(|r| &mut r.target),
        MetricSourceType::External => m.external.as_mut().map(|r| &mut r.target),
    }
}

fn target_value(t: &MetricTarget) -> Option<f64> {
    t.average_utilization
        .map(f64::from)
        .or_else(|| t.average_value.as_ref().and_then(|q| q.value().ok()))
        .or_else(|| t.value.as_ref().and_then(|q| q.value().ok()))
}

/// Target values to try for a primary target `current` (whole percents for utilization).
fn target_grid(current: f64, utilization: bool, size: SpaceSize) -> Vec<f64> {
    let mut v: Vec<f64> = if utilization {
        pick(
            size,
            &[50.0, 60.0, 70.0, 80.0, 90.0],
            &[40.0, 50.0, 60.0, 65.0, 70.0, 75.0, 80.0, 85.0, 90.0],
            &[
                35.0, 40.0, 45.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0, 80.0, 85.0, 90.0, 95.0,
            ],
        )
    } else {
        pick(
            size,
            &[0.7, 0.85, 1.0, 1.15, 1.3],
            &[0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.5],
            &[
                0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.7,
            ],
        )
        .into_iter()
        .map(|f| f * current)
        .collect()
    };
    v.push(current);
    v.sort_by(f64::total_cmp);
    v.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    v
}

fn hpa(m: &HpaManifest, ctx: &SpaceContext) -> Vec<Candidate> {
    let size = ctx.size;
    let mut base = m.clone();
    if base.spec.metrics.is_empty() {
        // The API server's default, made explicit so it can be edited.
        base.spec.metrics = vec![MetricSpec {
            kind: MetricSourceType::Resource,
            resource: Some(ResourceMetric {
                name: "cpu".into(),
                target: MetricTarget {
                    kind: TargetType::Utilization,
                    average_utilization: Some(80),
                    average_value: None,
                    value: None,
                },
            }),
            container_resource: None,
            pods: None,
            object: None,
            external: None,
        }];
    }
    let Some(primary) = base.spec.metrics.first_mut().and_then(metric_target_mut) else {
        return Vec::new();
    };
    let utilization = primary.average_utilization.is_some();
    let Some(current_target) = target_value(primary) else {
        return Vec::new();
    };
    let targets = target_grid(current_target, utilization, size);
    let behavior = base.spec.behavior.clone().unwrap_or_default();
    let current_tol = behavior
        .scale_down
        .as_ref()
        .and_then(|r| r.tolerance.as_ref())
        .and_then(|q| q.value().ok());
    let mut tolerances = vec![current_tol];
    if current_tol.is_some_and(|t| t < 0.1) {
        tolerances.push(None); // the 0.1 default
    }
    if size == SpaceSize::Large {
        tolerances.push(Some(0.15));
    }
    let ups = hpa_up_profiles();
    let ups: Vec<_> = match size {
        SpaceSize::Small => vec![ups[0].clone(), ups[2].clone()],
        _ => ups,
    };
    let downs = hpa_down_profiles();
    let downs: Vec<_> = match size {
        SpaceSize::Small => vec![downs[0].clone(), downs[1].clone()],
        _ => downs,
    };
    let up_windows = pick(size, &[0u32], &[0, 60], &[0, 30, 60]);
    let down_windows = pick(
        size,
        &[60u32, 300, 900],
        &[60, 300, 600, 900],
        &[0, 60, 180, 300, 600, 900],
    );
    let (cur_min, max) = (base.spec.min_replicas.unwrap_or(1), base.spec.max_replicas);
    let mins = min_values(cur_min, max, ctx.trough_replicas, size, 1);
    let axes = [
        targets.len(),
        ups.len(),
        up_windows.len(),
        downs.len(),
        down_windows.len(),
        mins.len(),
        tolerances.len(),
    ];
    cartesian(&axes)
        .into_iter()
        .map(|ix| {
            let t = targets[ix[0]];
            let factor = t / current_target;
            let mut doc = base.clone();
            for (i, metric) in doc.spec.metrics.iter_mut().enumerate() {
                if let Some(mt) = metric_target_mut(metric) {
                    *mt = if i == 0 && utilization {
                        MetricTarget {
                            average_utilization: Some(t.round().max(1.0) as u32),
                            ..mt.clone()
                        }
                    } else {
                        scale_target(mt, factor)
                    };
                }
            }
            let tol = tolerances[ix[6]].map(|t| QuantityText::Text(format!("{t}")));
            let (up_name, up) = &ups[ix[1]];
            let (down_name, down) = &downs[ix[3]];
            doc.spec.behavior = Some(Behavior {
                scale_up: Some(ScalingRules {
                    stabilization_window_seconds: Some(up_windows[ix[2]]),
                    select_policy: Some(SelectPolicy::Max),
                    policies: Some(up.clone()),
                    tolerance: tol.clone(),
                }),
                scale_down: Some(ScalingRules {
                    stabilization_window_seconds: Some(down_windows[ix[4]]),
                    select_policy: Some(SelectPolicy::Max),
                    policies: Some(down.clone()),
                    tolerance: tol,
                }),
            });
            doc.spec.min_replicas = Some(mins[ix[5]]);
            let target_label = if utilization {
                format!("{}%", t.round())
            } else {
                quantity_text(t)
            };
            Candidate {
                kind: PolicyKind::Hpa,
                settings: vec![
                    s("target", target_label),
                    s("scaleUp.policies", up_name),
                    s("scaleUp.stabilizationWindowSeconds", up_windows[ix[2]]),
                    s("scaleDown.policies", down_name),
                    s("scaleDown.stabilizationWindowSeconds", down_windows[ix[4]]),
                    s("minReplicas", mins[ix[5]]),
                    s(
                        "tolerance",
                        tolerances[ix[6]].map_or("0.1 (default)".to_string(), |t| t.to_string()),
                    ),
                ],
                doc: PolicyDoc::Hpa(doc),
                coords: ix,
            }
        })
        .collect()
}

// --- KEDA ----------------------------------------------------------------------------------

/// The metadata key holding a trigger's target.
fn keda_target_key(kind: &str) -> &'static str {
    match kind {
        "cpu" | "memory" => "value",
        _ => "threshold",
    }
}

fn keda(so: &ScaledObject, ctx: &SpaceContext) -> Vec<Candidate> {
    let size = ctx.size;
    let factors = pick(
        size,
        &[0.7, 0.85, 1.0, 1.15, 1.3],
        &[0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.5],
        &[
            0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.7,
        ],
    );
    let polls = pick(size, &[30u32], &[15, 30], &[10, 15, 30]);
    let cooldowns = pick(size, &[300u32], &[60, 300], &[60, 150, 300, 600]);
    let down_windows = pick(
        size,
        &[60u32, 300, 900],
        &[60, 300, 600, 900],
        &[0, 60, 180, 300, 600, 900],
    );
    let ups = hpa_up_profiles();
    let ups: Vec<_> = match size {
        SpaceSize::Small => vec![ups[0].clone(), ups[2].clone()],
        _ => ups,
    };
    let cur_min = so.spec.min_replica_count.unwrap_or(0);
    let max = so
        .spec
        .max_replica_count
        .unwrap_or(crate::engine::policy::keda::DEFAULT_MAX_REPLICA_COUNT);
    let mut mins = min_values(cur_min.max(1), max, ctx.trough_replicas, size, 1);
    if cur_min == 0 {
        mins.insert(0, 0);
    }
    let axes = [
        factors.len(),
        polls.len(),
        cooldowns.len(),
        down_windows.len(),
        ups.len(),
        mins.len(),
    ];
    cartesian(&axes)
        .into_iter()
        .map(|ix| {
            let f = factors[ix[0]];
            let mut doc = so.clone();
            let mut targets = Vec::new();
            for t in doc.spec.triggers.iter_mut() {
                let key = keda_target_key(&t.kind);
                if let Some(v) = t
                    .metadata
                    .get(key)
                    .and_then(|v| v.trim().parse::<f64>().ok())
                {
                    let nv = if key == "value"
                        && t.metric_type.as_deref().unwrap_or("Utilization") == "Utilization"
                    {
                        (v * f).round().max(1.0)
                    } else {
                        let x = v * f;
                        if x >= 10.0 {
                            x.round()
                        } else {
                            (x * 1000.0).round() / 1000.0
                        }
                    };
                    t.metadata.insert(key.to_string(), format!("{nv}"));
                    targets.push(format!("{} {nv}", t.kind));
                }
            }
            doc.spec.polling_interval = Some(polls[ix[1]]);
            doc.spec.cooldown_period = Some(cooldowns[ix[2]]);
            let mut behavior = doc
                .spec
                .advanced
                .as_ref()
                .and_then(|a| a.horizontal_pod_autoscaler_config.as_ref())
                .and_then(|h| h.behavior.clone())
                .unwrap_or_default();
            let mut down = behavior.scale_down.clone().unwrap_or_default();
            down.stabilization_window_seconds = Some(down_windows[ix[3]]);
            behavior.scale_down = Some(down);
            let mut up = behavior.scale_up.clone().unwrap_or_default();
            up.policies = Some(ups[ix[4]].1.clone());
            up.select_policy = Some(SelectPolicy::Max);
            behavior.scale_up = Some(up);
            doc.spec.advanced = Some(Advanced {
                horizontal_pod_autoscaler_config: Some(HpaConfig {
                    behavior: Some(behavior),
                }),
            });
            doc.spec.min_replica_count = Some(mins[ix[5]]);
            Candidate {
                kind: PolicyKind::Keda,
                settings: vec![
                    s("triggers", targets.join(", ")),
                    s("pollingInterval", polls[ix[1]]),
                    s("cooldownPeriod", cooldowns[ix[2]]),
                    s("scaleDown.stabilizationWindowSeconds", down_windows[ix[3]]),
                    s("scaleUp.policies", ups[ix[4]].0),
                    s("minReplicaCount", mins[ix[5]]),
                ],
                doc: PolicyDoc::Keda(doc),
                coords: ix,
            }
        })
        .collect()
}

// --- AWS EC2 Auto Scaling ------------------------------------------------------------------

/// The metric the current group scales on, as (target-tracking predefined type, alarm metric
/// name, current target, is CPU). Step-only groups use their scale-out alarm.
fn asg_metric(c: &AsgScalingConfig) -> (String, String, f64, bool) {
    let tt = c
        .scaling_policies
        .iter()
        .filter(|p| p.enabled != Some(false))
        .find_map(|p| p.target_tracking_configuration.as_ref());
    if let Some(t) = tt {
        let name = t
            .predefined_metric_specification
            .as_ref()
            .map(|p| p.predefined_metric_type.clone())
            .or_else(|| {
                t.customized_metric_specification
                    .as_ref()
                    .map(|c| c.metric_name.clone())
            })
            .unwrap_or_else(|| "ASGAverageCPUUtilization".into());
        let cpu = name == "ASGAverageCPUUtilization" || name == "CPUUtilization";
        let alarm = if cpu {
            "CPUUtilization".to_string()
        } else if name == "ALBRequestCountPerTarget" {
            "RequestCountPerTarget".to_string()
        } else {
            name.clone()
        };
        return (name, alarm, t.target_value, cpu);
    }
    let high = c.alarms.iter().find(|a| {
        matches!(
            a.comparison_operator,
            ComparisonOperator::GreaterThanOrEqualToThreshold
                | ComparisonOperator::GreaterThanThreshold
        )
    });
    match high {
        Some(a) => {
            let cpu = a.metric_name == "CPUUtilization";
            let tt_name = if cpu {
                "ASGAverageCPUUtilization".to_string()
            } else if a.metric_name == "RequestCountPerTarget" {
                "ALBRequestCountPerTarget".to_string()
            } else {
                a.metric_name.clone()
            };
            (tt_name, a.metric_name.clone(), a.threshold * 0.85, cpu)
        }
        None => (
            "ASGAverageCPUUtilization".into(),
            "CPUUtilization".into(),
            60.0,
            true,
        ),
    }
}

fn tt_policy(name: &str, metric: &str, target: f64) -> AwsPolicy {
    let predefined = matches!(
        metric,
        "ASGAverageCPUUtilization"
            | "ALBRequestCountPerTarget"
            | "ASGAverageNetworkIn"
            | "ASGAverageNetworkOut"
    );
    AwsPolicy {
        policy_name: name.to_string(),
        policy_type: PolicyType::TargetTrackingScaling,
        target_tracking_configuration: Some(TargetTrackingConfiguration {
            predefined_metric_specification: predefined.then(|| PredefinedMetric {
                predefined_metric_type: metric.to_string(),
                resource_label: None,
            }),
            customized_metric_specification: (!predefined).then(|| {
                crate::engine::policy::aws_spec::CustomizedMetric {
                    metric_name: metric.to_string(),
                    namespace: None,
                    statistic: Some("Average".into()),
                }
            }),
            target_value: target,
            disable_scale_in: false,
        }),
        adjustment_type: None,
        step_adjustments: None,
        scaling_adjustment: None,
        min_adjustment_magnitude: None,
        cooldown: None,
        estimated_instance_warmup: None,
        enabled: None,
        predictive_scaling_configuration: None,
    }
}

fn group_name(c: &AsgScalingConfig) -> String {
    if c.auto_scaling_group_name.is_empty() {
        "group".into()
    } else {
        c.auto_scaling_group_name.clone()
    }
}

/// The schedule axis: without and (when proposed) with the scheduled actions.
fn schedule_axis(c: &AsgScalingConfig, ctx: &SpaceContext) -> Vec<(bool, Vec<ScheduledAction>)> {
    let mut v = vec![(false, c.scheduled_actions.clone())];
    if !ctx.schedule.is_empty() {
        let mut with = c.scheduled_actions.clone();
        with.extend(ctx.schedule.iter().cloned());
        v.push((true, with));
    }
    v
}

/// Scheduled actions with their raise kept above, and their reset set to, this candidate's
/// minimum.
fn with_min(actions: &[ScheduledAction], min: u32) -> Vec<ScheduledAction> {
    actions
        .iter()
        .map(|a| {
            let mut a = a.clone();
            if a.scheduled_action_name
                .ends_with(super::schedule::END_SUFFIX)
            {
                a.min_size = Some(min);
            } else if let Some(m) = a.min_size.as_mut() {
                *m = (*m).max(min);
            }
            a
        })
        .collect()
}

fn target_values(current: f64, cpu: bool, size: SpaceSize) -> Vec<f64> {
    let mut v: Vec<f64> = if cpu {
        pick(
            size,
            &[40.0, 50.0, 60.0, 70.0, 80.0],
            &[30.0, 40.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0, 80.0, 90.0],
            &[
                30.0, 35.0, 40.0, 45.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0, 80.0, 85.0, 90.0,
            ],
        )
    } else {
        target_grid(current, false, size)
    };
    v.push(current);
    v.sort_by(f64::total_cmp);
    v.dedup_by(|a, b| (*a - *b).abs() < 1e-9);
    v
}

fn aws_target(c: &AsgScalingConfig, ctx: &SpaceContext) -> Vec<Candidate> {
    let size = ctx.size;
    let (metric, _, current, cpu) = asg_metric(c);
    let targets = target_values(current, cpu, size);
    let warmups = pick(
        size,
        &[120u32, 300],
        &[60, 120, 180, 300, 600],
        &[60, 120, 180, 240, 300, 450, 600],
    );
    let mins = min_values(c.min_size, c.max_size, ctx.trough_replicas, size, 0);
    let schedules = schedule_axis(c, ctx);
    let name = group_name(c);
    let axes = [targets.len(), warmups.len(), mins.len(), schedules.len()];
    cartesian(&axes)
        .into_iter()
        .map(|ix| {
            let mut doc = c.clone();
            doc.scaling_policies = vec![tt_policy(
                &format!("{name}-target"),
                &metric,
                targets[ix[0]],
            )];
            doc.alarms.clear();
            doc.default_instance_warmup = Some(warmups[ix[1]]);
            doc.min_size = mins[ix[2]];
            doc.scheduled_actions = with_min(&schedules[ix[3]].1, doc.min_size);
            Candidate {
                kind: PolicyKind::AwsTarget,
                settings: vec![
                    s("TargetValue", format!("{} ({metric})", targets[ix[0]])),
                    s("DefaultInstanceWarmup", warmups[ix[1]]),
                    s("MinSize", mins[ix[2]]),
                    s(
                        "ScheduledActions",
                        if schedules[ix[3]].0 {
                            "proposed"
                        } else {
                            "current"
                        },
                    ),
                ],
                doc: PolicyDoc::Asg(doc),
                coords: ix,
            }
        })
        .collect()
}

fn aws_step(c: &AsgScalingConfig, ctx: &SpaceContext) -> Vec<Candidate> {
    let size = ctx.size;
    let (_, alarm_metric, target, _) = asg_metric(c);
    let highs = pick(
        size,
        &[1.0, 1.2],
        &[1.0, 1.15, 1.3],
        &[0.9, 1.0, 1.1, 1.2, 1.3],
    );
    let lows = pick(
        size,
        &[0.5, 0.7],
        &[0.4, 0.55, 0.7],
        &[0.3, 0.4, 0.5, 0.6, 0.7],
    );
    let out_steps = pick(size, &[20i32, 50], &[10, 30, 60], &[10, 20, 40, 60, 100]);
    let in_steps = pick(size, &[-10i32], &[-10, -25], &[-5, -10, -25]);
    let high_periods = pick(size, &[2u32], &[1, 3], &[1, 2, 3]);
    let low_periods = pick(size, &[10u32], &[5, 15], &[5, 10, 15]);
    let warmups = pick(size, &[180u32], &[60, 180, 300], &[60, 120, 180, 300]);
    let mins = min_values(c.min_size, c.max_size, ctx.trough_replicas, size, 0);
    let name = group_name(c);
    let axes = [
        highs.len(),
        lows.len(),
        out_steps.len(),
        in_steps.len(),
        high_periods.len(),
        low_periods.len(),
        warmups.len(),
        mins.len(),
    ];
    let round = |x: f64| {
        if x >= 10.0 {
            x.round()
        } else {
            (x * 100.0).round() / 100.0
        }
    };
    cartesian(&axes)
        .into_iter()
        .map(|ix| {
            let high = round(target * highs[ix[0]]);
            let low = round(target * lows[ix[1]]);
            let out = out_steps[ix[2]];
            let inn = in_steps[ix[3]];
            let (out_name, in_name) = (format!("{name}-step-out"), format!("{name}-step-in"));
            let step_policy = |policy_name: &str, steps: Vec<StepAdjustment>| AwsPolicy {
                policy_name: policy_name.to_string(),
                policy_type: PolicyType::StepScaling,
                target_tracking_configuration: None,
                adjustment_type: Some(AdjustmentType::PercentChangeInCapacity),
                step_adjustments: Some(steps),
                scaling_adjustment: None,
                min_adjustment_magnitude: Some(1),
                cooldown: None,
                estimated_instance_warmup: Some(warmups[ix[6]]),
                enabled: None,
                predictive_scaling_configuration: None,
            };
            let second = round(high * 0.2);
            let alarm = |alarm_name: &str, threshold, op, periods, action: &str| MetricAlarm {
                alarm_name: alarm_name.to_string(),
                metric_name: alarm_metric.clone(),
                namespace: None,
                statistic: Some("Average".into()),
                period: 60,
                evaluation_periods: periods,
                datapoints_to_alarm: None,
                threshold,
                comparison_operator: op,
                alarm_actions: vec![action.to_string()],
            };
            let mut doc = c.clone();
            doc.scaling_policies = vec![
                step_policy(
                    &out_name,
                    vec![
                        StepAdjustment {
                            metric_interval_lower_bound: Some(0.0),
                            metric_interval_upper_bound: Some(second),
                            scaling_adjustment: out,
                        },
                        StepAdjustment {
                            metric_interval_lower_bound: Some(second),
                            metric_interval_upper_bound: None,
                            scaling_adjustment: out * 2,
                        },
                    ],
                ),
                step_policy(
                    &in_name,
                    vec![StepAdjustment {
                        metric_interval_lower_bound: None,
                        metric_interval_upper_bound: Some(0.0),
                        scaling_adjustment: inn,
                    }],
                ),
            ];
            doc.alarms = vec![
                alarm(
                    &format!("{name}-high"),
                    high,
                    ComparisonOperator::GreaterThanOrEqualToThreshold,
                    high_periods[ix[4]],
                    &out_name,
                ),
                alarm(
                    &format!("{name}-low"),
                    low,
                    ComparisonOperator::LessThanThreshold,
                    low_periods[ix[5]],
                    &in_name,
                ),
            ];
            doc.default_instance_warmup = Some(warmups[ix[6]]);
            doc.min_size = mins[ix[7]];
            Candidate {
                kind: PolicyKind::AwsStep,
                settings: vec![
                    s("scale-out threshold", format!("{high} {alarm_metric}")),
                    s("scale-in threshold", format!("{low} {alarm_metric}")),
                    s(
                        "scale-out steps",
                        format!("+{out}% (+{}% beyond +{second})", out * 2),
                    ),
                    s("scale-in step", format!("{inn}%")),
                    s("scale-out EvaluationPeriods", high_periods[ix[4]]),
                    s("scale-in EvaluationPeriods", low_periods[ix[5]]),
                    s("EstimatedInstanceWarmup", warmups[ix[6]]),
                    s("MinSize", mins[ix[7]]),
                ],
                doc: PolicyDoc::Asg(doc),
                coords: ix,
            }
        })
        .collect()
}

fn aws_predictive(c: &AsgScalingConfig, ctx: &SpaceContext) -> Vec<Candidate> {
    let size = ctx.size;
    let (metric, _, current, cpu) = asg_metric(c);
    let pair = if cpu {
        "ASGCPUUtilization"
    } else if metric == "ALBRequestCountPerTarget" {
        "ALBRequestCount"
    } else {
        // Predictive scaling has metric pairs for CPU and ALB requests only.
        return Vec::new();
    };
    let targets = if cpu {
        pick(
            size,
            &[50.0, 60.0, 70.0],
            &[40.0, 50.0, 60.0, 70.0, 80.0],
            &[40.0, 45.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0, 80.0],
        )
    } else {
        pick(
            size,
            &[0.85, 1.0, 1.15],
            &[0.7, 0.85, 1.0, 1.15, 1.3],
            &[0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4],
        )
        .into_iter()
        .map(|f| (f * current).round())
        .collect()
    };
    let buffers = pick(
        size,
        &[300u32, 900],
        &[0, 300, 600, 900],
        &[0, 300, 600, 900, 1800],
    );
    let warmups = pick(size, &[300u32], &[120, 300], &[60, 120, 300]);
    let mins = min_values(c.min_size, c.max_size, ctx.trough_replicas, size, 0);
    let name = group_name(c);
    let axes = [targets.len(), buffers.len(), warmups.len(), mins.len()];
    cartesian(&axes)
        .into_iter()
        .map(|ix| {
            let t = targets[ix[0]];
            let mut doc = c.clone();
            let mut predictive = tt_policy(&format!("{name}-predictive"), &metric, t);
            predictive.policy_type = PolicyType::PredictiveScaling;
            predictive.target_tracking_configuration = None;
            predictive.predictive_scaling_configuration = Some(PredictiveScalingConfiguration {
                metric_specifications: vec![PredictiveMetricSpecification {
                    target_value: t,
                    predefined_metric_pair_specification: Some(PredefinedMetric {
                        predefined_metric_type: pair.to_string(),
                        resource_label: None,
                    }),
                }],
                mode: Some("ForecastAndScale".into()),
                scheduling_buffer_time: Some(buffers[ix[1]]),
                max_capacity_breach_behavior: None,
                max_capacity_buffer: None,
            });
            doc.scaling_policies =
                vec![tt_policy(&format!("{name}-target"), &metric, t), predictive];
            doc.alarms.clear();
            doc.default_instance_warmup = Some(warmups[ix[2]]);
            doc.min_size = mins[ix[3]];
            Candidate {
                kind: PolicyKind::AwsPredictive,
                settings: vec![
                    s(
                        "TargetValue",
                        format!("{t} ({metric}, dynamic and predictive)"),
                    ),
                    s("SchedulingBufferTime", buffers[ix[1]]),
                    s("DefaultInstanceWarmup", warmups[ix[2]]),
                    s("MinSize", mins[ix[3]]),
                ],
                doc: PolicyDoc::Asg(doc),
                coords: ix,
            }
        })
        .collect()
}

// --- GCP -----------------------------------------------------------------------------------

fn gcp(g: &crate::engine::policy::gcp::GcpAutoscaler, ctx: &SpaceContext) -> Vec<Candidate> {
    let size = ctx.size;
    let targets = pick(
        size,
        &[0.5, 0.6, 0.7, 0.8, 0.9],
        &[0.4, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9],
        &[
            0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95,
        ],
    );
    let cooldowns = pick(
        size,
        &[60u32, 180],
        &[60, 120, 240],
        &[30, 60, 120, 180, 240, 300],
    );
    let controls: Vec<(String, Option<ScaleInControl>)> = vec![
        ("none".into(), None),
        (
            "10% per 10 min".into(),
            Some(ScaleInControl {
                max_scaled_in_replicas: FixedOrPercent {
                    fixed: None,
                    percent: Some(10),
                },
                time_window_sec: 600,
            }),
        ),
        (
            "25% per 5 min".into(),
            Some(ScaleInControl {
                max_scaled_in_replicas: FixedOrPercent {
                    fixed: None,
                    percent: Some(25),
                },
                time_window_sec: 300,
            }),
        ),
    ];
    let controls = if size == SpaceSize::Small {
        controls[..2].to_vec()
    } else {
        controls
    };
    let p = &g.autoscaling_policy;
    let mins = min_values(
        p.min_num_replicas.max(1),
        p.max_num_replicas,
        ctx.trough_replicas,
        size,
        1,
    );
    let has_cpu = p.cpu_utilization.is_some()
        || (p.load_balancing_utilization.is_none() && p.custom_metric_utilizations.is_empty());
    let axes = [targets.len(), cooldowns.len(), controls.len(), mins.len()];
    cartesian(&axes)
        .into_iter()
        .map(|ix| {
            let t = targets[ix[0]];
            let mut doc = g.clone();
            let ap = &mut doc.autoscaling_policy;
            if has_cpu {
                let mut cpu = ap.cpu_utilization.clone().unwrap_or(
                    crate::engine::policy::gcp::CpuUtilization {
                        utilization_target: t,
                        predictive_method: None,
                    },
                );
                cpu.utilization_target = t;
                ap.cpu_utilization = Some(cpu);
            }
            if let Some(lb) = ap.load_balancing_utilization.as_mut() {
                lb.utilization_target = t;
            }
            ap.cool_down_period_sec = Some(cooldowns[ix[1]]);
            ap.scale_in_control = controls[ix[2]].1.clone();
            ap.min_num_replicas = mins[ix[3]];
            Candidate {
                kind: PolicyKind::Gcp,
                settings: vec![
                    s("utilizationTarget", t),
                    s("coolDownPeriodSec", cooldowns[ix[1]]),
                    s("scaleInControl", &controls[ix[2]].0),
                    s("minNumReplicas", mins[ix[3]]),
                ],
                doc: PolicyDoc::Gcp(doc),
                coords: ix,
            }
        })
        .collect()
}

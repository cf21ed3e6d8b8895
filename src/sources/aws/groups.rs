//! One region's Auto Scaling groups: DescribeAutoScalingGroups, DescribePolicies,
//! DescribeScheduledActions, DescribeAlarms (for step and simple policies),
//! DescribeLaunchConfigurations, GetPredictiveScalingForecast and DescribeScalingActivities, turned into group descriptions,
//! capacity figures and activity records.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_autoscaling::types::{
    AutoScalingGroup, LifecycleState, ScalingPolicy, ScheduledUpdateGroupAction,
};
use aws_sdk_autoscaling::Client as AsgClient;
use aws_sdk_cloudwatch::types::MetricAlarm;
use aws_sdk_cloudwatch::Client as CwClient;
use chrono::{DateTime, Utc};

use super::activity::{launch_seconds, ActivityRecord};
use super::capacity::CapacityFacts;
use super::client::{classify, Failure};
use super::{forecast, policy_doc, AwsSourceConfig};
use crate::model::{CurrentPolicy, GroupId, GroupInfo, Platform, PolicyProvenance};

/// Activities read per group and poll (newest first); older ones were delivered earlier.
const ACTIVITIES_PER_GROUP: i32 = 50;

/// What one group contributes to the store this poll.
#[derive(Debug, Clone)]
pub struct GroupRecord {
    pub info: GroupInfo,
    pub asg_name: String,
    pub desired: u32,
    pub in_service: u32,
    pub min: u32,
    pub max: u32,
    /// ALB target groups as CloudWatch's TargetGroup dimension ("targetgroup/name/id").
    pub target_groups: Vec<String>,
    /// What the capacity model is derived from, with CloudWatch data (see `capacity`).
    pub facts: CapacityFacts,
}

#[derive(Debug, Default)]
pub struct RegionData {
    pub groups: Vec<GroupRecord>,
    pub activities: Vec<ActivityRecord>,
    /// Things left out (unreplayable policies, alarms that could not be read).
    pub notes: Vec<String>,
}

/// The account of an ARN ("arn:aws:autoscaling:us-east-1:123456789012:...").
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

fn dt(t: Option<&aws_sdk_autoscaling::primitives::DateTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
}

fn uint(v: Option<i32>) -> u32 {
    v.and_then(|v| u32::try_from(v).ok()).unwrap_or(0)
}

async fn all_groups(asg: &AsgClient) -> Result<Vec<AutoScalingGroup>, Failure> {
    let (mut out, mut token) = (Vec::new(), None);
    loop {
        let page = asg
            .describe_auto_scaling_groups()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify("DescribeAutoScalingGroups", &e))?;
        out.extend(page.auto_scaling_groups().iter().cloned());
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

async fn all_policies(asg: &AsgClient) -> Result<Vec<ScalingPolicy>, Failure> {
    let (mut out, mut token) = (Vec::new(), None);
    loop {
        let page = asg
            .describe_policies()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify("DescribePolicies", &e))?;
        out.extend(page.scaling_policies().iter().cloned());
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

async fn all_scheduled(asg: &AsgClient) -> Result<Vec<ScheduledUpdateGroupAction>, Failure> {
    let (mut out, mut token) = (Vec::new(), None);
    loop {
        let page = asg
            .describe_scheduled_actions()
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| classify("DescribeScheduledActions", &e))?;
        out.extend(page.scheduled_update_group_actions().iter().cloned());
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// Alarms that run one step or simple policy: by the names DescribePolicies lists, else by the
/// policy ARN among alarm actions (emulators leave the names out).
async fn policy_alarms(cw: &CwClient, p: &ScalingPolicy) -> Result<Vec<MetricAlarm>, Failure> {
    let names: Vec<String> = p
        .alarms()
        .iter()
        .filter_map(|a| a.alarm_name().map(str::to_string))
        .collect();
    let req = if names.is_empty() {
        let Some(arn) = p.policy_arn() else {
            return Ok(Vec::new());
        };
        cw.describe_alarms().action_prefix(arn)
    } else {
        cw.describe_alarms().set_alarm_names(Some(names))
    };
    let out = req
        .send()
        .await
        .map_err(|e| classify("DescribeAlarms", &e))?;
    Ok(out.metric_alarms().to_vec())
}

async fn activities(
    asg: &AsgClient,
    name: &str,
    group: &GroupId,
) -> Result<Vec<ActivityRecord>, Failure> {
    let out = asg
        .describe_scaling_activities()
        .auto_scaling_group_name(name)
        .max_records(ACTIVITIES_PER_GROUP)
        .send()
        .await
        .map_err(|e| classify("DescribeScalingActivities", &e))?;
    Ok(out
        .activities()
        .iter()
        .filter_map(|a| {
            Some(ActivityRecord {
                id: a.activity_id().unwrap_or_default().to_string(),
                group: group.clone(),
                description: a.description().unwrap_or_default().to_string(),
                cause: a.cause().unwrap_or_default().to_string(),
                start: dt(a.start_time())?,
                end: dt(a.end_time()),
                status: a
                    .status_code()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                status_message: a.status_message().unwrap_or_default().to_string(),
            })
        })
        .collect())
}

/// Instance type and descriptive labels (instance types, mixed instances policy, warm pool).
fn describe_instances(
    g: &AutoScalingGroup,
    lc_types: &BTreeMap<String, String>,
    labels: &mut BTreeMap<String, String>,
) -> Option<String> {
    let mut running: BTreeMap<&str, usize> = BTreeMap::new();
    for i in g.instances() {
        if let Some(t) = i.instance_type() {
            *running.entry(t).or_default() += 1;
        }
    }
    if !running.is_empty() {
        let list: Vec<String> = running.iter().map(|(t, n)| format!("{t} x{n}")).collect();
        labels.insert("instance_types".into(), list.join(", "));
    }
    let mut from_config = None;
    if let Some(lt) = g.launch_template() {
        labels.insert(
            "launch_template".into(),
            format!(
                "{}:{}",
                lt.launch_template_name()
                    .or(lt.launch_template_id())
                    .unwrap_or("?"),
                lt.version().unwrap_or("$Default")
            ),
        );
    }
    if let Some(lc) = g.launch_configuration_name() {
        labels.insert("launch_configuration".into(), lc.to_string());
        from_config = lc_types.get(lc).cloned();
    }
    if let Some(m) = g.mixed_instances_policy() {
        let types: Vec<&str> = m
            .launch_template()
            .map(|lt| {
                lt.overrides()
                    .iter()
                    .filter_map(|o| o.instance_type())
                    .collect()
            })
            .unwrap_or_default();
        let mut parts = vec![if types.is_empty() {
            "types from instance requirements".to_string()
        } else {
            format!("types {}", types.join(","))
        }];
        if let Some(d) = m.instances_distribution() {
            parts.push(format!(
                "on-demand base {}, {}% on-demand above base, spot {}",
                d.on_demand_base_capacity().unwrap_or(0),
                d.on_demand_percentage_above_base_capacity().unwrap_or(100),
                d.spot_allocation_strategy()
                    .unwrap_or("price-capacity-optimized")
            ));
        }
        labels.insert("mixed_instances".into(), parts.join("; "));
        from_config = from_config.or(types.first().map(|t| t.to_string()));
    }
    if let Some(w) = g.warm_pool_configuration() {
        labels.insert(
            "warm_pool".into(),
            format!(
                "min {}, {}, {} instances now",
                w.min_size().unwrap_or(0),
                w.pool_state().map_or("Stopped", |s| s.as_str()),
                g.warm_pool_size().unwrap_or(0)
            ),
        );
    }
    // The type most instances run; else what the configuration launches.
    running
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(t, _)| t.to_string())
        .or(from_config)
}

/// The group's figures a capacity model needs (CloudWatch's come later).
fn capacity_facts(
    g: &AutoScalingGroup,
    region: &str,
    info: &GroupInfo,
    policies: &[&ScalingPolicy],
    lc_types: &BTreeMap<String, String>,
) -> CapacityFacts {
    // Running types, most instances first; then what the configuration launches.
    let mut running: BTreeMap<&str, usize> = BTreeMap::new();
    for i in g.instances() {
        if let Some(t) = i.instance_type() {
            *running.entry(t).or_default() += 1;
        }
    }
    let mut types: Vec<(&str, usize)> = running.into_iter().collect();
    types.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let mut instance_types: Vec<String> = types.iter().map(|(t, _)| t.to_string()).collect();
    let configured = g
        .mixed_instances_policy()
        .and_then(|m| m.launch_template())
        .map(|lt| {
            lt.overrides()
                .iter()
                .filter_map(|o| o.instance_type().map(str::to_string))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .chain(
            g.launch_configuration_name()
                .and_then(|lc| lc_types.get(lc).cloned()),
        );
    for t in configured {
        if !instance_types.contains(&t) {
            instance_types.push(t);
        }
    }
    let target_tracking_warmup = policies
        .iter()
        .filter(|p| p.policy_type() == Some("TargetTrackingScaling"))
        .find_map(|p| p.estimated_instance_warmup())
        .and_then(|w| u32::try_from(w).ok());
    CapacityFacts {
        region: region.to_string(),
        instance_types,
        launch_template: info.labels.get("launch_template").cloned(),
        min: uint(g.min_size()),
        max: uint(g.max_size()),
        warm_pool_size: g
            .warm_pool_configuration()
            .map_or(0, |w| uint(w.min_size()).max(uint(g.warm_pool_size()))),
        health_check_grace_seconds: uint(g.health_check_grace_period()),
        default_instance_warmup: g
            .default_instance_warmup()
            .and_then(|w| u32::try_from(w).ok())
            .filter(|w| *w > 0),
        target_tracking_warmup,
        launch_seconds: Vec::new(),
        has_target_groups: false,
    }
}

async fn launch_configuration_types(
    asg: &AsgClient,
    groups: &[&AutoScalingGroup],
) -> Result<BTreeMap<String, String>, Failure> {
    let names: BTreeSet<String> = groups
        .iter()
        .filter(|g| g.instances().is_empty())
        .filter_map(|g| g.launch_configuration_name().map(str::to_string))
        .collect();
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    let out = asg
        .describe_launch_configurations()
        .set_launch_configuration_names(Some(names.into_iter().collect()))
        .send()
        .await
        .map_err(|e| classify("DescribeLaunchConfigurations", &e))?;
    Ok(out
        .launch_configurations()
        .iter()
        .filter_map(|lc| {
            Some((
                lc.launch_configuration_name()?.to_string(),
                lc.instance_type()?.to_string(),
            ))
        })
        .collect())
}

/// Reads every wanted group of the region. `fallback_scope_account` names the account when an
/// ARN does not (the profile, or "default").
pub async fn read_region(
    asg: &AsgClient,
    cw: &CwClient,
    cfg: &AwsSourceConfig,
    region: &str,
    fallback_scope_account: &str,
) -> Result<RegionData, Failure> {
    let groups = all_groups(asg).await?;
    let wanted: Vec<&AutoScalingGroup> = groups
        .iter()
        .filter(|g| g.auto_scaling_group_name().is_some_and(|n| cfg.wants(n)))
        .collect();
    let mut data = RegionData::default();
    if wanted.is_empty() {
        return Ok(data);
    }
    let policies = all_policies(asg).await?;
    let scheduled = all_scheduled(asg).await?;
    let lc_types = launch_configuration_types(asg, &wanted).await?;
    for g in wanted {
        let name = g.auto_scaling_group_name().unwrap_or_default().to_string();
        let account = g
            .auto_scaling_group_arn()
            .and_then(arn_account)
            .unwrap_or(fallback_scope_account);
        let id = GroupId::new(Platform::Aws, format!("{account}/{region}"), &name);
        let mine: Vec<&ScalingPolicy> = policies
            .iter()
            .filter(|p| p.auto_scaling_group_name() == Some(name.as_str()))
            .collect();
        let actions: Vec<&ScheduledUpdateGroupAction> = scheduled
            .iter()
            .filter(|s| s.auto_scaling_group_name() == Some(name.as_str()))
            .collect();
        let mut alarms = Vec::new();
        for p in mine
            .iter()
            .filter(|p| matches!(p.policy_type(), Some("StepScaling" | "SimpleScaling")))
        {
            match policy_alarms(cw, p).await {
                Ok(a) => alarms.extend(a),
                Err(Failure::Throttled(m)) => return Err(Failure::Throttled(m)),
                Err(e) => data.notes.push(format!("{name}: {}", e.message())),
            }
        }
        // One alarm may run several policies.
        alarms.sort_by(|a, b| a.alarm_name().cmp(&b.alarm_name()));
        alarms.dedup_by(|a, b| a.alarm_name() == b.alarm_name());
        let (model, notes) = policy_doc::build(g, &mine, &actions, &alarms);
        data.notes
            .extend(notes.into_iter().map(|n| format!("{name}: {n}")));
        let mut info = GroupInfo::new(id.clone());
        info.labels.insert("region".into(), region.to_string());
        info.labels.insert("account".into(), account.to_string());
        if !cfg.profile.is_empty() {
            info.labels.insert("profile".into(), cfg.profile.clone());
        }
        info.instance_type = describe_instances(g, &lc_types, &mut info.labels);
        let target_groups: Vec<String> = g
            .target_group_arns()
            .iter()
            .filter_map(|arn| arn.rsplit(':').next().map(str::to_string))
            .filter(|s| s.starts_with("targetgroup/"))
            .collect();
        if !target_groups.is_empty() {
            info.labels
                .insert("target_groups".into(), target_groups.join(", "));
        }
        info.policy = Some(CurrentPolicy {
            model,
            provenance: PolicyProvenance::PlatformApi,
        });
        let in_service = g
            .instances()
            .iter()
            .filter(|i| i.lifecycle_state() == Some(&LifecycleState::InService))
            .count() as u32;
        for p in mine
            .iter()
            .filter(|p| p.policy_type() == Some("PredictiveScaling"))
        {
            let policy = p.policy_name().unwrap_or_default();
            match forecast::forecast(asg, &name, policy, Utc::now()).await {
                Ok(Some(text)) => {
                    info.labels.insert("predictive_forecast".into(), text);
                }
                Ok(None) => {}
                Err(Failure::Throttled(m)) => return Err(Failure::Throttled(m)),
                Err(e) => data.notes.push(format!("{name}: {}", e.message())),
            }
        }
        let mut facts = capacity_facts(g, region, &info, &mine, &lc_types);
        facts.has_target_groups = !target_groups.is_empty();
        match activities(asg, &name, &id).await {
            Ok(a) => {
                facts.launch_seconds = launch_seconds(&a);
                data.activities.extend(a);
            }
            Err(Failure::Throttled(m)) => return Err(Failure::Throttled(m)),
            Err(e) => data.notes.push(format!("{name}: {}", e.message())),
        }
        data.groups.push(GroupRecord {
            info,
            asg_name: name,
            desired: uint(g.desired_capacity()),
            in_service,
            min: uint(g.min_size()),
            max: uint(g.max_size()),
            target_groups,
            facts,
        });
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_comes_from_the_arn() {
        assert_eq!(
            arn_account("arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:uuid:autoScalingGroupName/web"),
            Some("123456789012")
        );
        assert_eq!(arn_account("not-an-arn"), None);
    }
}

//! Azure Resource Manager answers turned into scaletop groups, samples and scaling events.
//! Pure functions over the JSON the APIs return, in their documented shapes:
//! - Autoscale Settings - List By Resource Group / By Subscription:
//!   https://learn.microsoft.com/en-us/rest/api/monitor/autoscale-settings/list-by-resource-group
//! - Virtual Machine Scale Sets - Get:
//!   https://learn.microsoft.com/en-us/rest/api/compute/virtual-machine-scale-sets/get
//! - Metrics - List: https://learn.microsoft.com/en-us/rest/api/monitor/metrics/list
//! - Activity Log, Autoscale category:
//!   https://learn.microsoft.com/en-us/azure/azure-monitor/essentials/activity-log-schema#autoscale-category

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::model::{EventOrigin, GroupId, GroupInfo, MetricKind, Platform, ScalingEvent};
use crate::sources::cloud::{native_policy, Round};
use crate::sources::{Sample, Update};

/// A VM scale set an autoscale setting scales.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub group: GroupId,
    /// The scale set's resource id as the setting names it.
    pub resource_uri: String,
    /// The autoscale setting's resource id, lower case (Activity Log events name it).
    pub setting_id: String,
}

/// (subscription, resource group, name) of a VM scale set resource id; None for any other
/// resource type (App Service plans, Cloud Services ...).
pub fn vmss_of(uri: &str) -> Option<(String, String, String)> {
    let parts: Vec<&str> = uri.trim_matches('/').split('/').collect();
    let at = |key: &str| {
        parts
            .iter()
            .position(|p| p.eq_ignore_ascii_case(key))
            .and_then(|i| parts.get(i + 1))
            .map(|s| s.to_string())
    };
    let provider_ok = parts.windows(2).any(|w| {
        w[0].eq_ignore_ascii_case("Microsoft.Compute")
            && w[1].eq_ignore_ascii_case("virtualMachineScaleSets")
    });
    if !provider_ok {
        return None;
    }
    Some((
        at("subscriptions")?,
        at("resourceGroups")?,
        at("virtualMachineScaleSets")?,
    ))
}

pub fn group_id(subscription: &str, resource_group: &str, name: &str) -> GroupId {
    GroupId::new(
        Platform::Azure,
        format!("{subscription}/{resource_group}"),
        name,
    )
}

/// The VM scale sets the settings target, with the settings that target something else
/// counted.
pub fn targets(settings: &[Value]) -> (Vec<(Target, Value)>, usize) {
    let mut out = Vec::new();
    let mut other = 0;
    for s in settings {
        let uri = s
            .pointer("/properties/targetResourceUri")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match vmss_of(uri) {
            Some((sub, rg, name)) => out.push((
                Target {
                    group: group_id(&sub, &rg, &name),
                    resource_uri: uri.to_string(),
                    setting_id: s
                        .get("id")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_ascii_lowercase(),
                },
                s.clone(),
            )),
            None => other += 1,
        }
    }
    (out, other)
}

/// One group per scale set: its live policy (the autoscale setting as the API returned it,
/// the document the replay reads), its VM size, and samples at `now`: desired = the scale
/// set's `sku.capacity`, min and max over the setting's profiles.
pub fn setting_round(
    targets: &[(Target, Value)],
    scale_sets: &[Option<Value>],
    now: DateTime<Utc>,
) -> Round {
    let mut round = Round::default();
    let mut samples = Vec::new();
    for ((t, setting), vmss) in targets.iter().zip(scale_sets) {
        let text = serde_json::to_string(setting).unwrap_or_default();
        let (policy, bounds, warning) = native_policy(&t.group, text);
        round.warnings.extend(warning);
        let mut info = GroupInfo::new(t.group.clone());
        info.policy = Some(policy);
        if let Some(name) = setting.get("name").and_then(Value::as_str) {
            info.labels
                .insert("autoscale_setting".into(), name.to_string());
        }
        info.instance_type = vmss
            .as_ref()
            .and_then(|v| v.pointer("/sku/name"))
            .and_then(Value::as_str)
            .map(str::to_string);
        round.updates.push(Update::Group(Box::new(info)));
        if setting.pointer("/properties/enabled") == Some(&Value::Bool(false)) {
            round
                .warnings
                .push(format!("{}: autoscale setting is disabled", t.group.name));
        }
        let mut push = |metric, value: Option<f64>| {
            if let Some(value) = value {
                samples.push(Sample {
                    group: t.group.clone(),
                    metric,
                    value,
                });
            }
        };
        push(
            MetricKind::ReplicasDesired,
            vmss.as_ref()
                .and_then(|v| v.pointer("/sku/capacity"))
                .and_then(Value::as_f64),
        );
        push(MetricKind::ReplicasMin, bounds.map(|b| f64::from(b.0)));
        push(MetricKind::ReplicasMax, bounds.map(|b| f64::from(b.1)));
    }
    if !samples.is_empty() {
        round.updates.push(Update::Samples { at: now, samples });
    }
    round
}

/// `Percentage CPU` averages per time grain from a Metrics - List answer, oldest first.
pub fn cpu_samples(
    answer: &Value,
    group: &GroupId,
) -> Result<Vec<(DateTime<Utc>, Sample)>, String> {
    let metrics = answer
        .get("value")
        .and_then(Value::as_array)
        .ok_or("no `value` list")?;
    let mut out = BTreeMap::new();
    for m in metrics {
        let name = m.pointer("/name/value").and_then(Value::as_str);
        if name != Some("Percentage CPU") {
            continue;
        }
        for ts in m
            .get("timeseries")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for d in ts
                .get("data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let at = d
                    .get("timeStamp")
                    .and_then(Value::as_str)
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc));
                let v = d.get("average").and_then(Value::as_f64);
                if let (Some(at), Some(v)) = (at, v) {
                    out.insert(at, v);
                }
            }
        }
    }
    Ok(out
        .into_iter()
        .map(|(at, value)| {
            (
                at,
                Sample {
                    group: group.clone(),
                    metric: MetricKind::CpuUtilization,
                    value,
                },
            )
        })
        .collect())
}

/// Autoscale scale-outs and scale-ins from Activity Log entries (category Autoscale, status
/// Succeeded), as platform events with their instance counts, each with its `eventDataId`.
pub fn autoscale_events(entries: &[Value], targets: &[Target]) -> Vec<(String, ScalingEvent)> {
    let mut out = Vec::new();
    for e in entries {
        let s = |p: &str| e.pointer(p).and_then(Value::as_str).unwrap_or_default();
        if !s("/category/value").eq_ignore_ascii_case("Autoscale")
            || !s("/status/value").eq_ignore_ascii_case("Succeeded")
        {
            continue;
        }
        let op = s("/operationName/value").to_ascii_lowercase();
        let direction = if op.contains("/scaleup/") {
            "scale-out"
        } else if op.contains("/scaledown/") {
            "scale-in"
        } else {
            continue;
        };
        let resource_id = s("/resourceId").to_ascii_lowercase();
        let scaled = s("/properties/ResourceName").to_ascii_lowercase();
        let Some(target) = targets.iter().find(|t| {
            (!resource_id.is_empty() && t.setting_id == resource_id)
                || t.resource_uri.eq_ignore_ascii_case(&scaled)
        }) else {
            continue;
        };
        let count = |key: &str| {
            e.pointer(&format!("/properties/{key}")).and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|x| x.trim().parse().ok()))
            })
        };
        let (Some(from), Some(to)) = (count("OldInstancesCount"), count("NewInstancesCount"))
        else {
            continue;
        };
        let Some(at) = DateTime::parse_from_rfc3339(s("/eventTimestamp"))
            .ok()
            .map(|t| t.with_timezone(&Utc))
        else {
            continue;
        };
        let profile = e
            .pointer("/properties/ActiveAutoscaleProfile")
            .and_then(Value::as_str)
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .and_then(|p| p.get("name").and_then(Value::as_str).map(str::to_string));
        let reason = match profile {
            Some(p) => format!("Azure autoscale {direction} {from} -> {to} (profile {p})"),
            None => format!("Azure autoscale {direction} {from} -> {to}"),
        };
        let id = match s("/eventDataId") {
            "" => format!("{}:{at}", target.group),
            id => id.to_string(),
        };
        out.push((
            id,
            ScalingEvent {
                at,
                group: target.group.clone(),
                from_replicas: u32::try_from(from).unwrap_or(u32::MAX),
                to_replicas: u32::try_from(to).unwrap_or(u32::MAX),
                reason,
                demand: None,
                thrash: false,
                origin: EventOrigin::Platform,
            },
        ));
    }
    out.sort_by_key(|(_, e)| e.at);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_set_ids_are_read_case_insensitively() {
        let uri = "/subscriptions/sub-1/resourceGroups/shop-rg/providers/Microsoft.Compute/virtualMachineScaleSets/web-vmss";
        assert_eq!(
            vmss_of(uri),
            Some(("sub-1".into(), "shop-rg".into(), "web-vmss".into()))
        );
        assert!(vmss_of(&uri.to_ascii_lowercase()).is_some());
        assert_eq!(
            vmss_of("/subscriptions/s/resourceGroups/r/providers/Microsoft.Web/serverfarms/plan"),
            None
        );
    }
}

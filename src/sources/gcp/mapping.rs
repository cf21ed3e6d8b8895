//! Compute Engine and Cloud Monitoring answers turned into scaletop groups and samples. Pure
//! functions over the JSON the APIs return, in their documented shapes:
//! - autoscalers.aggregatedList / instanceGroupManagers.aggregatedList:
//!   https://cloud.google.com/compute/docs/reference/rest/v1/autoscalers/aggregatedList
//! - projects.timeSeries.list:
//!   https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/list

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::model::{EventOrigin, GroupId, GroupInfo, MetricKind, Platform, ScalingEvent};
use crate::sources::cloud::{native_policy, Round};
use crate::sources::{Sample, Update};

/// Status details quoted per round at most.
const MAX_STATUS_NOTES: usize = 4;

/// Last path segment of a resource URL (`.../zones/us-central1-a` -> `us-central1-a`).
pub fn last_segment(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// Whether a location (zone or region) is one the user asked for; a zone matches its region.
pub fn wanted(location: &str, filter: &[String]) -> bool {
    filter.is_empty()
        || filter.iter().any(|f| {
            f == location
                || location
                    .strip_prefix(f.as_str())
                    .is_some_and(|r| r.starts_with('-') && r.len() == 2)
        })
}

/// A resource with the zone or region it lives in.
pub type Located = (String, Value);

/// One page of an aggregated list.
pub struct AggregatedPage {
    pub items: Vec<Located>,
    pub next_page_token: Option<String>,
}

/// The items of an aggregated list page, as (location, resource), and the next page token.
/// `field` is the list's name in each scope ("autoscalers", "instanceGroupManagers").
pub fn aggregated_items(
    page: &Value,
    field: &str,
    filter: &[String],
) -> Result<AggregatedPage, String> {
    let items = match page.get("items") {
        None => None,
        Some(Value::Object(m)) => Some(m),
        Some(_) => return Err("`items` is not an object".into()),
    };
    let mut out = Vec::new();
    for (scope, content) in items.into_iter().flatten() {
        let location = last_segment(scope).to_string();
        if !wanted(&location, filter) {
            continue;
        }
        if let Some(list) = content.get(field).and_then(Value::as_array) {
            out.extend(list.iter().map(|r| (location.clone(), r.clone())));
        }
    }
    let next = page
        .get("nextPageToken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    Ok(AggregatedPage {
        items: out,
        next_page_token: next,
    })
}

pub fn group_id(project: &str, location: &str, mig: &str) -> GroupId {
    GroupId::new(Platform::Gcp, format!("{project}/{location}"), mig)
}

fn as_u32(v: Option<&Value>) -> Option<u32> {
    v.and_then(|x| {
        x.as_u64()
            .or_else(|| x.as_str().and_then(|s| s.parse().ok()))
    })
    .and_then(|n| u32::try_from(n).ok())
}

/// One group per autoscaled managed instance group: its live policy (the autoscaler resource
/// as the API returned it), and samples at `now`: desired = the autoscaler's recommended size
/// (the MIG's target size without one), ready = the MIG's instances with no action pending,
/// min and max from the policy. Status details of autoscalers become warnings.
pub fn autoscaler_round(
    project: &str,
    autoscalers: &[(String, Value)],
    migs: &[(String, Value)],
    now: DateTime<Utc>,
) -> (Round, Vec<GroupId>) {
    let mut round = Round::default();
    let mut samples = Vec::new();
    let mut ids = Vec::new();
    let mut notes = Vec::new();
    for (location, a) in autoscalers {
        let Some(target) = a.get("target").and_then(Value::as_str) else {
            continue;
        };
        let mig_name = last_segment(target);
        let id = group_id(project, location, mig_name);
        let text = serde_json::to_string(a).unwrap_or_default();
        let (policy, _, warning) = native_policy(&id, text);
        round.warnings.extend(warning);
        let mut info = GroupInfo::new(id.clone());
        info.policy = Some(policy);
        if let Some(name) = a.get("name").and_then(Value::as_str) {
            info.labels.insert("autoscaler".into(), name.to_string());
        }
        round.updates.push(Update::Group(Box::new(info)));
        let mig = migs
            .iter()
            .find(|(l, m)| l == location && m.get("name").and_then(Value::as_str) == Some(mig_name))
            .map(|(_, m)| m);
        let policy = a.get("autoscalingPolicy");
        let mut push = |metric, value: Option<u32>| {
            if let Some(v) = value {
                samples.push(Sample {
                    group: id.clone(),
                    metric,
                    value: f64::from(v),
                });
            }
        };
        let desired = as_u32(a.get("recommendedSize"))
            .or_else(|| as_u32(mig.and_then(|m| m.get("targetSize"))));
        push(MetricKind::ReplicasDesired, desired);
        push(
            MetricKind::ReplicasReady,
            as_u32(mig.and_then(|m| m.pointer("/currentActions/none"))),
        );
        push(
            MetricKind::ReplicasMin,
            as_u32(policy.and_then(|p| p.get("minNumReplicas"))).or(policy.map(|_| 0)),
        );
        push(
            MetricKind::ReplicasMax,
            as_u32(policy.and_then(|p| p.get("maxNumReplicas"))),
        );
        let status = a.get("status").and_then(Value::as_str).unwrap_or("ACTIVE");
        let details: Vec<String> = a
            .get("statusDetails")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|d| d.get("message").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        if status != "ACTIVE" || !details.is_empty() {
            let detail = if details.is_empty() {
                String::new()
            } else {
                format!(": {}", details.join(" / "))
            };
            notes.push(format!("{mig_name} autoscaler {status}{detail}"));
        }
        ids.push(id);
    }
    let shown = notes.len().min(MAX_STATUS_NOTES);
    round.warnings.extend(notes.drain(..shown));
    if !notes.is_empty() {
        round
            .warnings
            .push(format!("{} more autoscaler status messages", notes.len()));
    }
    if !samples.is_empty() {
        round.updates.push(Update::Samples { at: now, samples });
    }
    (round, ids)
}

/// Scaling events of the managed instance groups, derived by comparing each MIG's
/// `targetSize` with the previous poll's. The Compute Engine API keeps no history of
/// autoscaler decisions: the autoscaler resource has the current `recommendedSize` and
/// `statusDetails`, the instance group manager the current `targetSize` and `currentActions`
/// (https://cloud.google.com/compute/docs/reference/rest/v1/autoscalers,
/// .../instanceGroupManagers), and autoscaler resizes are not user operations. Cloud Logging's
/// autoscaler log has the decisions; it is not read here. So these events are scaletop's
/// (origin Derived), timed at the poll that saw the change.
pub fn target_size_events(
    previous: &mut HashMap<GroupId, u32>,
    project: &str,
    autoscalers: &[(String, Value)],
    migs: &[(String, Value)],
    now: DateTime<Utc>,
) -> Vec<Update> {
    let mut out = Vec::new();
    for (location, a) in autoscalers {
        let Some(target) = a.get("target").and_then(Value::as_str) else {
            continue;
        };
        let mig_name = last_segment(target);
        let Some(size) = migs
            .iter()
            .find(|(l, m)| l == location && m.get("name").and_then(Value::as_str) == Some(mig_name))
            .and_then(|(_, m)| as_u32(m.get("targetSize")))
        else {
            continue;
        };
        let id = group_id(project, location, mig_name);
        if let Some(before) = previous.insert(id.clone(), size).filter(|b| *b != size) {
            let recommended = as_u32(a.get("recommendedSize"))
                .map(|r| format!(", autoscaler recommends {r}"))
                .unwrap_or_default();
            out.push(Update::Event(ScalingEvent {
                at: now,
                group: id,
                from_replicas: before,
                to_replicas: size,
                reason: format!(
                    "MIG target size changed between polls{recommended} (the Compute API keeps no scaling history)"
                ),
                demand: None,
                thrash: false,
                origin: EventOrigin::Derived,
            }));
        }
    }
    out
}

/// A GCP value point: `doubleValue`, or `int64Value` (a string in JSON).
fn point_value(p: &Value) -> Option<f64> {
    let v = p.get("value")?;
    v.get("doubleValue")
        .and_then(Value::as_f64)
        .or_else(|| {
            v.get("int64Value").and_then(|x| {
                x.as_str()
                    .and_then(|s| s.parse().ok())
                    .or_else(|| x.as_f64())
            })
        })
        .filter(|x| x.is_finite())
}

/// The group a CPU series (grouped by instance group and zone) belongs to: a zonal group in
/// that zone, or a regional group whose region holds the zone.
fn series_group<'a>(series: &Value, groups: &'a [GroupId], project: &str) -> Option<&'a GroupId> {
    let mig = series
        .pointer("/metadata/systemLabels/instance_group")
        .and_then(Value::as_str)?;
    let zone = series
        .pointer("/resource/labels/zone")
        .and_then(Value::as_str)?;
    groups.iter().find(|g| {
        g.name == mig
            && g.scope
                .strip_prefix(project)
                .and_then(|s| s.strip_prefix('/'))
                .is_some_and(|loc| wanted(zone, &[loc.to_string()]))
    })
}

/// Mean CPU utilization per group and minute, percent, from
/// `compute.googleapis.com/instance/cpu/utilization` (a 0-1 fraction) aligned per minute and
/// averaged per instance group and zone. A regional group's zones are averaged. Oldest first.
pub fn cpu_updates(series: &[Value], groups: &[GroupId], project: &str) -> Vec<Update> {
    let mut by_time: BTreeMap<DateTime<Utc>, BTreeMap<GroupId, (f64, u32)>> = BTreeMap::new();
    for s in series {
        let Some(group) = series_group(s, groups, project) else {
            continue;
        };
        for p in s
            .get("points")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let at = p
                .pointer("/interval/endTime")
                .and_then(Value::as_str)
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc));
            let (Some(at), Some(v)) = (at, point_value(p)) else {
                continue;
            };
            let e = by_time
                .entry(at)
                .or_default()
                .entry(group.clone())
                .or_insert((0.0, 0));
            e.0 += v * 100.0;
            e.1 += 1;
        }
    }
    by_time
        .into_iter()
        .map(|(at, groups)| Update::Samples {
            at,
            samples: groups
                .into_iter()
                .map(|(group, (sum, n))| Sample {
                    group,
                    metric: MetricKind::CpuUtilization,
                    value: sum / f64::from(n),
                })
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_match_their_region() {
        let f = vec!["us-central1".to_string(), "europe-west1-b".to_string()];
        assert!(wanted("us-central1-a", &f));
        assert!(wanted("us-central1", &f));
        assert!(wanted("europe-west1-b", &f));
        assert!(!wanted("europe-west1-c", &f));
        assert!(!wanted("us-central10-a", &f));
        assert!(wanted("anything", &[]));
    }

    #[test]
    fn target_size_changes_between_polls_are_derived_events() {
        let a = |rec: u32| {
            vec![(
                "us-central1-a".to_string(),
                serde_json::json!({"name": "web-as", "recommendedSize": rec,
                    "target": "https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a/instanceGroupManagers/web"}),
            )]
        };
        let m = |size: u32| {
            vec![(
                "us-central1-a".to_string(),
                serde_json::json!({"name": "web", "targetSize": size}),
            )]
        };
        let mut prev = HashMap::new();
        let now = Utc::now();
        // The first poll only learns the size; an unchanged size is no event.
        assert!(target_size_events(&mut prev, "p", &a(3), &m(3), now).is_empty());
        assert!(target_size_events(&mut prev, "p", &a(3), &m(3), now).is_empty());
        let u = target_size_events(&mut prev, "p", &a(5), &m(5), now);
        let [Update::Event(e)] = u.as_slice() else {
            panic!("one event: {u:?}");
        };
        assert_eq!((e.from_replicas, e.to_replicas), (3, 5));
        assert_eq!(e.origin, EventOrigin::Derived);
        assert_eq!(e.group, group_id("p", "us-central1-a", "web"));
        assert!(e.reason.contains("autoscaler recommends 5"), "{}", e.reason);
    }
}

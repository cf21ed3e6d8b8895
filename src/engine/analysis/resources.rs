//! Per-group resource analysis: utilization profiles, the binding resource and the scaling
//! metric (a `metric` recommendation when they differ), VPA-style rightsizing, and waste.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use super::bottleneck::{self, Bottleneck};
use super::report::SeriesInput;
use super::rightsizing::{self, ResourceSizing};
use super::stats;
use super::utilization::{self, UtilizationProfile, HIGH_UTILIZATION_PCT};
use super::waste::{self, Provisioning};
use crate::model::{
    GroupId, Platform, Recommendation, RecommendationKind, Risk, RECOMMENDATION_SCHEMA,
};

const RESOURCE_METRICS: [&str; 4] = [
    "cpu_utilization",
    "memory_utilization",
    "network_mbps",
    "disk_iops",
];
/// Candidates for the metric an autoscaler tracks.
const SCALABLE_METRICS: [&str; 2] = ["cpu_utilization", "memory_utilization"];
/// What most groups scale on when nothing says otherwise (HPA's default metric).
const DEFAULT_SCALING_METRIC: &str = "cpu_utilization";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScalingMetric {
    pub metric: String,
    /// "given" (--scaling-metric) or "assumed" (CPU, the HPA default, when nothing says).
    pub source: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupResources {
    pub group: String,
    pub utilization: Vec<UtilizationProfile>,
    pub scaling_metric: Option<ScalingMetric>,
    pub bottleneck: Option<Bottleneck>,
    /// The binding resource is not what the group scales on.
    pub wrong_scaling_metric: bool,
    /// Recommended scaling metrics, best first.
    pub recommended_scaling_metrics: Vec<String>,
    pub rightsizing: Vec<ResourceSizing>,
    pub provisioning: Option<Provisioning>,
}

/// Analyses each group's resources. The scaling metric of every group is assumed to be CPU;
/// use [`analyze_groups_with`] to pass known ones.
pub fn analyze_groups(inputs: &[SeriesInput]) -> (Vec<GroupResources>, Vec<Recommendation>) {
    analyze_groups_with(inputs, &BTreeMap::new())
}

pub fn analyze_groups_with(
    inputs: &[SeriesInput],
    scaling_metrics: &BTreeMap<String, String>,
) -> (Vec<GroupResources>, Vec<Recommendation>) {
    let mut by_group: BTreeMap<&str, Vec<&SeriesInput>> = BTreeMap::new();
    for s in inputs {
        by_group.entry(s.group.as_str()).or_default().push(s);
    }
    let mut groups = Vec::new();
    let mut recs = Vec::new();
    for (name, series) in by_group {
        let given = scaling_metrics.get(name).map(String::as_str);
        if let Some((g, rec)) = analyze_group(name, &series, given) {
            groups.push(g);
            recs.extend(rec);
        }
    }
    (groups, recs)
}

/// The group's series on the grid of its first series (same step; others shifted into place).
struct Aligned<'a> {
    step: i64,
    by_metric: BTreeMap<&'a str, Vec<f64>>,
}

fn align<'a>(series: &[&'a SeriesInput]) -> Option<Aligned<'a>> {
    let base = series
        .iter()
        .find(|s| s.metric == "request_rate")
        .or_else(|| series.first())?;
    let (start, step, n) = (base.start, base.step_seconds.max(1), base.values.len());
    let mut by_metric = BTreeMap::new();
    for s in series {
        if s.step_seconds != step || (s.start - start) % step != 0 {
            continue;
        }
        let offset = (s.start - start) / step;
        let v: Vec<f64> = (0..n as i64)
            .map(|i| {
                usize::try_from(i - offset)
                    .ok()
                    .and_then(|j| s.values.get(j).copied())
                    .unwrap_or(f64::NAN)
            })
            .collect();
        by_metric.insert(s.metric.as_str(), v);
    }
    Some(Aligned { step, by_metric })
}

fn analyze_group(
    name: &str,
    series: &[&SeriesInput],
    given_scaling: Option<&str>,
) -> Option<(GroupResources, Option<Recommendation>)> {
    let a = align(series)?;
    let utilization: Vec<UtilizationProfile> = RESOURCE_METRICS
        .iter()
        .filter_map(|m| a.by_metric.get(m).map(|v| utilization::profile(m, v)))
        .collect();
    let has_percent = SCALABLE_METRICS.iter().any(|m| a.by_metric.contains_key(m));
    if utilization.is_empty() && !has_percent {
        return None;
    }
    let demand = a.by_metric.get("request_rate");
    let replicas = a.by_metric.get("replicas_ready");
    let load: Option<Vec<f64>> = match (demand, replicas) {
        (Some(d), Some(r)) => Some(
            d.iter()
                .zip(r)
                .map(|(d, r)| if *r > 0.0 { d / r } else { f64::NAN })
                .collect(),
        ),
        _ => None,
    };
    let resources: Vec<(&str, &[f64])> = SCALABLE_METRICS
        .iter()
        .filter_map(|m| a.by_metric.get(m).map(|v| (*m, v.as_slice())))
        .collect();
    let latency = a.by_metric.get("latency_p95_ms").map(Vec::as_slice);
    let bottleneck = load
        .as_deref()
        .and_then(|l| bottleneck::find(l, &resources, latency));

    let scaling = given_scaling
        .map(|m| ScalingMetric {
            metric: m.to_string(),
            source: "given",
        })
        .or_else(|| {
            a.by_metric
                .contains_key(DEFAULT_SCALING_METRIC)
                .then(|| ScalingMetric {
                    metric: DEFAULT_SCALING_METRIC.to_string(),
                    source: "assumed",
                })
        });

    // Binding resource: the fit's choice, else the one running hottest at p99.
    let binding: Option<String> = bottleneck
        .as_ref()
        .map(|b| b.binding_metric.clone())
        .or_else(|| {
            utilization
                .iter()
                .filter(|u| utilization::is_percent_metric(&u.metric))
                .max_by(|x, y| x.p99.unwrap_or(0.0).total_cmp(&y.p99.unwrap_or(0.0)))
                .map(|u| u.metric.clone())
        });
    let binding_p99 = binding
        .as_deref()
        .and_then(|b| utilization.iter().find(|u| u.metric == b))
        .and_then(|u| u.p99);
    let scaling_name = scaling.as_ref().map(|s| s.metric.as_str());
    let queue_builds = a
        .by_metric
        .get("queue_depth")
        .is_some_and(|q| queue_builds_up(q));
    let wrong = match (binding.as_deref(), scaling_name) {
        (Some(b), Some(s)) => {
            b != s && binding_p99.is_some_and(|p| p >= HIGH_UTILIZATION_PCT * 0.9)
        }
        _ => false,
    };
    let mut recommended: Vec<String> = Vec::new();
    if queue_builds {
        recommended.push("queue_depth".into());
    }
    if let Some(b) = &binding {
        recommended.push(b.clone());
    }
    if let Some(s) = scaling_name {
        if !recommended.iter().any(|r| r == s) && !wrong {
            recommended.push(s.to_string());
        }
    }

    // An autoscaler is acting when replicas move; then the resource it tracks is not resized.
    let replicas_move = replicas.is_some_and(|r| {
        stats::quantile(r, 1.0)
            .zip(stats::quantile(r, 0.0))
            .is_some_and(|(hi, lo)| hi > lo)
    });
    let hpa_on = |m: &str| {
        scaling
            .as_ref()
            .is_some_and(|s| s.metric == m && (s.source == "given" || replicas_move))
    };
    let mut rightsizing = Vec::new();
    if let Some(cpu) = a.by_metric.get("cpu_utilization") {
        rightsizing.extend(rightsizing::size_cpu(
            cpu,
            a.step,
            hpa_on("cpu_utilization"),
        ));
    }
    if let Some(mem) = a.by_metric.get("memory_utilization") {
        rightsizing.extend(rightsizing::size_memory(mem, hpa_on("memory_utilization")));
    }

    let provisioning = match (demand, replicas, bottleneck.as_ref()) {
        (Some(d), Some(r), Some(b)) => b.capacity_rps_per_replica.and_then(|cap| {
            let max = a
                .by_metric
                .get("replicas_max")
                .and_then(|m| stats::quantile(m, 1.0));
            let binding_util = a
                .by_metric
                .get(b.binding_metric.as_str())
                .map(Vec::as_slice);
            waste::provisioning(a.step, d, r, binding_util, cap, max)
        }),
        _ => None,
    };

    let rec = (wrong || queue_builds && scaling_name.is_some_and(|s| s != "queue_depth"))
        .then(|| {
            metric_recommendation(
                name,
                &recommended,
                scaling.as_ref(),
                bottleneck.as_ref(),
                &utilization,
                queue_builds,
            )
        })
        .flatten();
    Some((
        GroupResources {
            group: name.to_string(),
            utilization,
            scaling_metric: scaling,
            bottleneck,
            wrong_scaling_metric: wrong,
            recommended_scaling_metrics: recommended,
            rightsizing,
            provisioning,
        },
        rec,
    ))
}

/// Queue depth that climbs far above its usual level: the workers fall behind at peaks.
fn queue_builds_up(queue: &[f64]) -> bool {
    let sorted = stats::sorted_finite(queue);
    match (
        stats::quantile_sorted(&sorted, 0.5),
        stats::quantile_sorted(&sorted, 0.99),
    ) {
        (Some(med), Some(p99)) => p99 > 5.0 * med.max(1.0),
        _ => false,
    }
}

fn metric_recommendation(
    group: &str,
    recommended: &[String],
    scaling: Option<&super::resources::ScalingMetric>,
    bottleneck: Option<&Bottleneck>,
    utilization: &[UtilizationProfile],
    queue_builds: bool,
) -> Option<Recommendation> {
    let first = recommended.first()?;
    let mut evidence = Vec::new();
    if let Some(s) = scaling {
        evidence.push(format!("scales on {} ({})", s.metric, s.source));
    }
    for u in utilization
        .iter()
        .filter(|u| utilization::is_percent_metric(&u.metric))
    {
        evidence.push(format!(
            "{}: p50 {:.0}%, p99 {:.0}%, above 80% for {:.1}% of the time",
            u.metric,
            u.p50.unwrap_or(f64::NAN),
            u.p99.unwrap_or(f64::NAN),
            u.time_above_80_pct.unwrap_or(0.0)
        ));
    }
    if let Some(b) = bottleneck {
        for f in &b.fits {
            let sat = f
                .saturation_rps_per_replica
                .map_or("never within reach".to_string(), |s| {
                    format!("{s:.0} req/s per replica")
                });
            let lat = f
                .latency_correlation
                .map(|r| format!("; correlation with p95 latency {r:.2}"))
                .unwrap_or_default();
            evidence.push(format!("{} reaches 100% at {sat}{lat}", f.metric));
        }
    }
    if queue_builds {
        evidence.push("queue depth p99 is over 5x its median: work piles up at peaks".into());
    }
    let title = format!(
        "{group}: scale on {} instead of {}",
        recommended.join(" + "),
        scaling.map_or("the current metric", |s| s.metric.as_str())
    );
    let targets: Vec<serde_json::Value> = recommended
        .iter()
        .map(|m| json!({"metric": m, "target": if m == "queue_depth" { json!(null) } else { json!(70.0) }}))
        .collect();
    Some(Recommendation {
        schema: RECOMMENDATION_SCHEMA.to_string(),
        id: format!("metric/{group}/{first}"),
        kind: RecommendationKind::Metric,
        group: GroupId::new(Platform::Sim, "", group),
        title,
        evidence,
        saving_usd_month: None,
        risk: if queue_builds && first == "queue_depth" {
            Risk::Low
        } else {
            Risk::Medium
        },
        artifact: json!({"scaling_metrics": targets}),
    })
}

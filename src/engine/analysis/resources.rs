//! Per-group resource analysis: utilization profiles, the binding resource and the scaling
//! metric (a `metric` recommendation when they differ), VPA-style rightsizing, and waste.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::json;

use super::bottleneck::{self, Bottleneck};
use super::metric_choice::{scaling_metrics, MetricChoice, MetricSignals, QueueSignal};
use super::report::SeriesInput;
use super::rightsizing::{self, ResourceSizing};
use super::stats;
use super::utilization::{self, UtilizationProfile};
use super::waste::{self, Provisioning};
use crate::artifact::{Artifact, PolicyArtifact, PolicyFormat};
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
    /// Recommended scaling metrics, best first (the names of `metric_choice`).
    pub recommended_scaling_metrics: Vec<String>,
    /// The scaling-metric choice with its targets and a one-sentence explanation.
    pub metric_choice: MetricChoice,
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
    analyze_groups_threads(inputs, scaling_metrics, 1)
}

/// As [`analyze_groups_with`], the groups analysed on `threads` worker threads.
pub fn analyze_groups_threads(
    inputs: &[SeriesInput],
    scaling_metrics: &BTreeMap<String, String>,
    threads: usize,
) -> (Vec<GroupResources>, Vec<Recommendation>) {
    let mut by_group: BTreeMap<&str, Vec<&SeriesInput>> = BTreeMap::new();
    for s in inputs {
        by_group.entry(s.group.as_str()).or_default().push(s);
    }
    let by_group: Vec<(&str, Vec<&SeriesInput>)> = by_group.into_iter().collect();
    let results = super::report::map_parallel(&by_group, threads, |(name, series)| {
        let given = scaling_metrics.get(*name).map(String::as_str);
        analyze_group(name, series, given)
    });
    let mut groups = Vec::new();
    let mut recs = Vec::new();
    for (g, rec) in results.into_iter().flatten() {
        groups.push(g);
        recs.extend(rec);
    }
    (groups, recs)
}

/// The scaling-metric choice for one group of `inputs` (its request_rate, replicas_ready,
/// cpu/memory utilization, queue_depth, latency series), with the metric it scales on now if
/// known (else CPU is assumed). The entry point for the tuner; None when the group has no
/// resource series.
pub fn choose_scaling_metrics(
    inputs: &[SeriesInput],
    group: &str,
    current: Option<&str>,
) -> Option<MetricChoice> {
    let series: Vec<&SeriesInput> = inputs.iter().filter(|s| s.group == group).collect();
    analyze_group(group, &series, current).map(|(g, _)| g.metric_choice)
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

    let scaling_name = scaling.as_ref().map(|s| s.metric.as_str());
    let queue = a.by_metric.get("queue_depth").and_then(|q| {
        let per_replica: Vec<f64> = match replicas {
            Some(r) => q
                .iter()
                .zip(r)
                .map(|(q, r)| if *r > 0.0 { q / r } else { f64::NAN })
                .collect(),
            None => q.clone(),
        };
        let sorted = stats::sorted_finite(q);
        Some(QueueSignal {
            median: stats::quantile_sorted(&sorted, 0.5)?,
            p99: stats::quantile_sorted(&sorted, 0.99)?,
            median_per_replica: stats::median(&per_replica)?,
        })
    });
    let choice = scaling_metrics(&MetricSignals {
        bottleneck: bottleneck.as_ref(),
        utilization: &utilization,
        current: scaling_name,
        queue,
        load_per_replica_p95: load.as_deref().and_then(|l| stats::quantile(l, 0.95)),
    });
    let wrong = choice.wrong_current;
    let recommended = choice.names();

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

    let rec = choice.worth_changing().then(|| {
        let lo = replicas.and_then(|r| stats::quantile(r, 0.0));
        let hi = a
            .by_metric
            .get("replicas_max")
            .and_then(|m| stats::quantile(m, 1.0))
            .or_else(|| replicas.and_then(|r| stats::quantile(r, 1.0)));
        metric_recommendation(name, &choice, bottleneck.as_ref(), &utilization, lo, hi)
    });
    Some((
        GroupResources {
            group: name.to_string(),
            utilization,
            scaling_metric: scaling,
            bottleneck,
            wrong_scaling_metric: wrong,
            recommended_scaling_metrics: recommended,
            metric_choice: choice,
            rightsizing,
            provisioning,
        },
        rec,
    ))
}

/// A `metric` recommendation: the choice as an autoscaling/v2 HPA (replayable by
/// `parse_policy`), replica bounds from what the group ran with.
fn metric_recommendation(
    group: &str,
    choice: &MetricChoice,
    bottleneck: Option<&Bottleneck>,
    utilization: &[UtilizationProfile],
    min_seen: Option<f64>,
    max_seen: Option<f64>,
) -> Recommendation {
    let mut evidence = vec![choice.explanation.clone()];
    if let Some(c) = &choice.current {
        evidence.push(format!("scales on {c} now"));
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
    let names = choice.names();
    let first = names.first().map_or("none", String::as_str);
    let title = format!(
        "{group}: scale on {} instead of {}",
        names.join(" + "),
        choice.current.as_deref().unwrap_or("the current metric")
    );
    let min = min_seen
        .filter(|m| m.is_finite())
        .map_or(1, |m| m.max(1.0).round() as u32);
    let max = max_seen
        .filter(|m| m.is_finite())
        .map_or(min.max(1) * 2, |m| (m.round() as u32).max(min));
    let document = json!({
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": group},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": group},
            "minReplicas": min,
            "maxReplicas": max,
            "metrics": choice.hpa_metrics(),
        }
    });
    Recommendation {
        schema: RECOMMENDATION_SCHEMA.to_string(),
        id: format!("metric/{group}/{first}"),
        kind: RecommendationKind::Metric,
        group: GroupId::new(Platform::Sim, "", group),
        title,
        evidence,
        saving_usd_month: None,
        risk: if first == "queue_depth" {
            Risk::Low
        } else {
            Risk::Medium
        },
        artifact: Artifact::Policy(PolicyArtifact {
            format: PolicyFormat::K8sHpa,
            document,
        })
        .to_value(),
    }
}

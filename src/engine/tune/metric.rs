//! The scaling-metric choice the search starts from (the analysis's bottleneck findings, in
//! engine::analysis), read one way for `scaletop tune --policy-kind auto` and the tuning pane.

use crate::engine::analysis::{choose_scaling_metrics, MetricChoice, SeriesInput};
use crate::model::MetricKind;

use super::PolicyDoc;

/// Series the choice reads besides demand and the policies' extra series: the recorded CPU,
/// replicas and latency.
pub const ANALYSIS_SERIES: [MetricKind; 4] = [
    MetricKind::CpuUtilization,
    MetricKind::ReplicasReady,
    MetricKind::ReplicasMax,
    MetricKind::LatencyP95Ms,
];

/// The metric the current HPA scales on first, in the analysis's names (no HPA metrics: the
/// API server's CPU default; not an HPA: none).
pub fn current_metric(doc: &PolicyDoc) -> Option<String> {
    let PolicyDoc::Hpa(m) = doc else {
        return None;
    };
    let Some(first) = m.spec.metrics.first() else {
        return Some("cpu_utilization".into());
    };
    let named = |n: &Option<crate::engine::policy::hpa_spec::NamedMetric>| {
        n.as_ref().map(|n| n.metric.name.clone())
    };
    first
        .resource
        .as_ref()
        .or(first.container_resource.as_ref())
        .map(|r| format!("{}_utilization", r.name))
        .or_else(|| named(&first.pods))
        .or_else(|| named(&first.external))
        .or_else(|| named(&first.object))
}

/// The analysis's scaling-metric choice for a group from its demand and `series` (the
/// policies' extra series and [`ANALYSIS_SERIES`] by name, on the demand's grid).
pub fn choose<'a>(
    group: &str,
    start: i64,
    step_seconds: i64,
    demand: &[f64],
    series: impl IntoIterator<Item = (&'a str, &'a [f64])>,
    current: &PolicyDoc,
) -> Option<MetricChoice> {
    let input = |metric: &str, values: &[f64]| SeriesInput {
        group: group.to_string(),
        metric: metric.to_string(),
        start,
        step_seconds,
        values: values.to_vec(),
    };
    let mut inputs = vec![input("request_rate", demand)];
    inputs.extend(
        series
            .into_iter()
            .filter(|(n, _)| *n != "request_rate")
            .map(|(n, v)| input(n, v)),
    );
    choose_scaling_metrics(&inputs, group, current_metric(current).as_deref())
}

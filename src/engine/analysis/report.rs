//! Whole-input analysis: every (group, metric) series through the workload analysis, in
//! parallel on the machine's cores, then the per-group resource analysis.

use std::collections::BTreeMap;

use serde::Serialize;

use super::resources::{self, GroupResources};
use super::workload::{analyze_workload, WorkloadAnalysis};
use crate::model::Recommendation;

pub const ANALYSIS_SCHEMA: &str = "scaletop.analysis/v1";

/// One regular series: values every `step_seconds` from `start` (Unix seconds), NaN = missing.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesInput {
    pub group: String,
    pub metric: String,
    pub start: i64,
    pub step_seconds: i64,
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesAnalysis {
    pub group: String,
    pub metric: String,
    #[serde(flatten)]
    pub workload: WorkloadAnalysis,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalysisReport {
    pub schema: &'static str,
    pub series: Vec<SeriesAnalysis>,
    pub groups: Vec<GroupResources>,
    pub recommendations: Vec<Recommendation>,
}

/// Analyses every series on `threads` worker threads (1 = sequential, the bench baseline).
pub fn analyze_all(inputs: &[SeriesInput], threads: usize) -> AnalysisReport {
    analyze_all_with(inputs, threads, &BTreeMap::new())
}

/// As [`analyze_all`], with the scaling metric of some groups known (group -> metric name).
pub fn analyze_all_with(
    inputs: &[SeriesInput],
    threads: usize,
    scaling_metrics: &BTreeMap<String, String>,
) -> AnalysisReport {
    let series = map_parallel(inputs, threads, |s| SeriesAnalysis {
        group: s.group.clone(),
        metric: s.metric.clone(),
        workload: analyze_workload(s.start, s.step_seconds, &s.values),
    });
    let (groups, recommendations) = resources::analyze_groups_with(inputs, scaling_metrics);
    AnalysisReport {
        schema: ANALYSIS_SCHEMA,
        series,
        groups,
        recommendations,
    }
}

/// Order-preserving parallel map over contiguous chunks with scoped threads.
pub fn map_parallel<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| scope.spawn(move || c.iter().map(f).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            // A worker panic is a bug; re-raise it on this thread rather than lose results.
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Worker threads for the machine (at least one).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

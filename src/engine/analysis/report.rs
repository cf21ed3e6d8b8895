//! Whole-input analysis: every (group, metric) series through the workload analysis, in
//! parallel on the machine's cores, then the per-group resource analysis.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

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
    let (groups, recommendations) =
        resources::analyze_groups_threads(inputs, scaling_metrics, threads);
    AnalysisReport {
        schema: ANALYSIS_SCHEMA,
        series,
        groups,
        recommendations,
    }
}

/// Order-preserving parallel map: workers take the next item from a shared counter, so a few
/// slow items (long series, many outliers) do not leave the other cores idle.
pub fn map_parallel<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(&f).collect();
    }
    let next = AtomicUsize::new(0);
    let (f, next) = (&f, &next);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else {
                            return out;
                        };
                        out.push((i, f(item)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            // A worker panic is a bug; re-raise it on this thread rather than lose results.
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    done.sort_unstable_by_key(|d| d.0);
    done.into_iter().map(|d| d.1).collect()
}

/// Worker threads for the machine (at least one).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

//! Workload analysis of the selected group's request rate (issue 4), for the Workload tab.

use crate::engine::analysis::{analyze_workload_full, Decomposition, WorkloadAnalysis};
use crate::model::{GroupId, MetricKind};
use crate::store::Store;

/// Less history than this and the analysis would be guessing.
pub const MIN_HISTORY_SECONDS: i64 = 3600;
/// The analysis runs on 1-minute means: patterns of interest are minutes to days long, and a
/// quarter of the points keeps it fast.
pub const ANALYSIS_STEP_SECONDS: i64 = 60;

#[derive(Debug)]
pub struct WorkloadJob {
    pub group: GroupId,
    pub data_end: i64,
    /// Unix seconds of `values[0]`, and the store's step.
    pub start: i64,
    pub step_seconds: i64,
    pub values: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadOutcome {
    pub group: GroupId,
    pub data_end: i64,
    pub result: Result<WorkloadResult, NotEnoughHistory>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NotEnoughHistory {
    pub have_seconds: i64,
    pub need_seconds: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadResult {
    /// The analysed series (1-minute means, NaN = missing) and its first timestamp.
    pub start: i64,
    pub step_seconds: i64,
    pub observed: Vec<f64>,
    pub analysis: WorkloadAnalysis,
    pub decomposition: Decomposition,
}

/// Copies the group's request-rate history out of the store; `None` without such a series.
pub fn job(store: &Store, group: &GroupId) -> Option<WorkloadJob> {
    let g = store.group_index(group)?;
    let data_end = store.now().map_or(0, |t| t.timestamp());
    let (start, step_seconds, values) = super::deep_history(store, g, MetricKind::RequestRate)
        .unwrap_or((data_end, store.step_seconds(), Vec::new()));
    Some(WorkloadJob {
        group: group.clone(),
        data_end,
        start,
        step_seconds,
        values,
    })
}

pub fn run(job: WorkloadJob) -> WorkloadOutcome {
    let step = job.step_seconds.max(1);
    let first = job.values.iter().position(|v| v.is_finite());
    let last = job.values.iter().rposition(|v| v.is_finite());
    let have_seconds = match (first, last) {
        (Some(a), Some(b)) => (b - a + 1) as i64 * step,
        _ => 0,
    };
    let result = if have_seconds < MIN_HISTORY_SECONDS {
        Err(NotEnoughHistory {
            have_seconds,
            need_seconds: MIN_HISTORY_SECONDS,
        })
    } else {
        // Weeks of long-tier history come at 5 minutes and are analysed at that step.
        let to = ANALYSIS_STEP_SECONDS.max(step);
        let (start, observed) = resample(job.start, step, &job.values, to);
        let (analysis, decomposition) = analyze_workload_full(start, to, &observed);
        Ok(WorkloadResult {
            start,
            step_seconds: to,
            observed,
            analysis,
            decomposition,
        })
    };
    WorkloadOutcome {
        group: job.group,
        data_end: job.data_end,
        result,
    }
}

/// Means over `to_step` blocks aligned to whole multiples of `to_step` in absolute time (so
/// hours and days line up); a block without data stays missing. A trailing partial block is
/// left out: its mean of fewer samples would look like an anomaly at the newest point.
pub fn resample(start: i64, step: i64, values: &[f64], to_step: i64) -> (i64, Vec<f64>) {
    if step >= to_step || to_step % step != 0 {
        return (start, values.to_vec());
    }
    let per = (to_step / step) as usize;
    let skip = ((to_step - start.rem_euclid(to_step)) % to_step / step) as usize;
    let rest = values.get(skip..).unwrap_or(&[]);
    let out = rest
        .chunks_exact(per)
        .map(|c| {
            let (sum, n) = c
                .iter()
                .filter(|v| v.is_finite())
                .fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
            if n == 0 {
                f64::NAN
            } else {
                sum / f64::from(n)
            }
        })
        .collect();
    (start + skip as i64 * step, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resample_aligns_to_whole_minutes_and_keeps_gaps() {
        // Starts at :45 s: the first slot is dropped so blocks start on the minute.
        let v = [
            9.0,
            1.0,
            3.0,
            f64::NAN,
            4.0,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            f64::NAN,
            7.0,
        ];
        let (start, out) = resample(45, 15, &v, 60);
        assert_eq!(start, 60);
        assert_eq!(out.len(), 2, "the trailing partial minute is left out");
        assert!((out[0] - 8.0 / 3.0).abs() < 1e-12);
        assert!(out[1].is_nan());
    }

    #[test]
    fn too_little_history_says_how_much_is_needed() {
        let out = run(WorkloadJob {
            group: GroupId::new(crate::model::Platform::K8s, "ns", "web"),
            data_end: 0,
            start: 0,
            step_seconds: 15,
            values: vec![1.0; 100],
        });
        assert_eq!(
            out.result,
            Err(NotEnoughHistory {
                have_seconds: 1500,
                need_seconds: MIN_HISTORY_SECONDS
            })
        );
    }
}

//! Per-group engine runs shared by several sections: the current policy replayed over the
//! history (time to scale, SLA minutes, thrash — the replay's one definition of each) and
//! the ramp / spike / scale-down load tests of `engine::loadtest`.

use crate::engine::loadtest::{self, LoadTest, Verdict, LOAD_TEST_STEP_SECONDS};
use crate::engine::replay::{replay, ExtraSeries, Replay, ReplayInput};
use crate::model::{GroupInfo, MetricKind};
use crate::tui::jobs::policies::{autoscaler_for, short_description, EXTRA_SERIES};

use super::data::ReportData;

/// One load test of a group: the test, its spike factor and the verdict.
#[derive(Debug)]
pub struct LoadTestRun {
    pub test: LoadTest,
    pub base_rps: f64,
    pub spike_factor: f64,
    pub result: Result<Verdict, String>,
    pub max_time_to_scale_seconds: Option<i64>,
}

#[derive(Debug)]
pub struct GroupRun {
    pub group: String,
    pub info: Option<GroupInfo>,
    /// "HPA cpu 70%" or why the policy is unknown.
    pub policy: Result<String, String>,
    pub replay: Result<Replay, String>,
    pub load_tests: Vec<LoadTestRun>,
}

fn median(v: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

fn max_finite(v: &[f64]) -> Option<f64> {
    v.iter().copied().filter(|x| x.is_finite()).reduce(f64::max)
}

/// Replays and load-tests every group whose policy and capacity are known.
pub fn run_all(data: &ReportData) -> Vec<GroupRun> {
    data.group_names()
        .into_iter()
        .map(|g| run_group(data, &g))
        .collect()
}

fn run_group(data: &ReportData, group: &str) -> GroupRun {
    let info = data.info(group).cloned();
    let Some(info_ref) = info.as_ref() else {
        let why = "policy unknown: the input file has no policy (report on a scenario, or give \
                   the policy with `scaletop simulate --policy FILE`)"
            .to_string();
        return GroupRun {
            group: group.to_string(),
            info,
            policy: Err(why.clone()),
            replay: Err(why),
            load_tests: Vec::new(),
        };
    };
    let policy = autoscaler_for(info_ref).map(|a| short_description(a.as_ref()));
    let replay = replay_history(data, group, info_ref);
    let load_tests = load_tests(data, group, info_ref);
    GroupRun {
        group: group.to_string(),
        info,
        policy,
        replay,
        load_tests,
    }
}

fn replay_history(data: &ReportData, group: &str, info: &GroupInfo) -> Result<Replay, String> {
    let mut a = autoscaler_for(info)?;
    let cap = info.capacity.as_ref().ok_or("no capacity model")?;
    let demand = data
        .series(group, MetricKind::RequestRate)
        .ok_or("no request_rate series to replay over")?;
    let step = data.step_seconds;
    let (start, values) = demand.regular(step);
    let aligned = |m: MetricKind| -> Vec<f64> {
        let Some(s) = data.series(group, m) else {
            return vec![f64::NAN; values.len()];
        };
        let (s0, v) = s.regular(step);
        let offset = (s0 - start) / step;
        (0..values.len() as i64)
            .map(|i| {
                usize::try_from(i - offset)
                    .ok()
                    .and_then(|j| v.get(j).copied())
                    .unwrap_or(f64::NAN)
            })
            .collect()
    };
    let extra: Vec<(&str, Vec<f64>)> = EXTRA_SERIES
        .iter()
        .filter(|(_, m)| data.series(group, *m).is_some())
        .map(|(name, m)| (*name, aligned(*m)))
        .collect();
    let input = ReplayInput {
        start,
        step_seconds: step,
        demand_rps: &values,
        extra: extra
            .iter()
            .map(|(name, v)| ExtraSeries {
                name: name.to_string(),
                values: v,
            })
            .collect(),
    };
    let initial = aligned(MetricKind::ReplicasDesired)
        .into_iter()
        .find(|v| v.is_finite())
        .map(|v| v.max(0.0).round() as u32);
    let slo = info.slo.clone().unwrap_or_default();
    replay(a.as_mut(), &input, cap, &slo, initial, &info.id).map_err(|e| e.to_string())
}

/// Ramp to 10x, a spike to the group's own observed peak-to-median (at least 2x), and a
/// scale-down from 10x, from the median demand.
fn load_tests(data: &ReportData, group: &str, info: &GroupInfo) -> Vec<LoadTestRun> {
    let Some(demand) = data.series(group, MetricKind::RequestRate) else {
        return Vec::new();
    };
    let values: Vec<f64> = demand.points.iter().map(|p| p.1).collect();
    let (Some(base), Some(peak)) = (median(&values), max_finite(&values)) else {
        return Vec::new();
    };
    if base <= 0.0 {
        return Vec::new();
    }
    let spike_factor = ((peak / base).max(2.0) * 10.0).round() / 10.0;
    [LoadTest::Ramp, LoadTest::Spike, LoadTest::ScaleDown]
        .into_iter()
        .map(|test| {
            let result = (|| {
                let mut a = autoscaler_for(info)?;
                let cap = info.capacity.as_ref().ok_or("no capacity model")?;
                let slo = info.slo.clone().unwrap_or_default();
                let d = loadtest::build_demand(test, base, spike_factor);
                let input = ReplayInput {
                    start: 0,
                    step_seconds: LOAD_TEST_STEP_SECONDS,
                    demand_rps: &d,
                    extra: Vec::new(),
                };
                let r = replay(a.as_mut(), &input, cap, &slo, None, &info.id)
                    .map_err(|e| e.to_string())?;
                let v = loadtest::judge(test, &r, &slo, cap.capacity_per_replica_rps);
                Ok::<_, String>((v, r.summary.max_time_to_scale_seconds))
            })();
            let (result, tts) = match result {
                Ok((v, t)) => (Ok(v), t),
                Err(e) => (Err(e), None),
            };
            LoadTestRun {
                test,
                base_rps: base,
                spike_factor,
                result,
                max_time_to_scale_seconds: tts,
            }
        })
        .collect()
}

//! Engine work the tabs need — workload analysis, policy replay, explaining a scaling event —
//! run off the UI thread. The UI thread only copies the inputs out of the store ([`due`]); the
//! run loop hands each [`Job`] to `spawn_blocking` and feeds the [`JobOutput`] back into
//! `App::apply_job`, so the app state still changes in one place.

pub mod alerts;
pub mod cost;
pub mod explain;
pub mod forecast;
pub mod monitoring;
pub mod policies;
pub mod retune;
pub mod scorecard;
pub mod tune;
pub mod workload;

use crate::model::{GroupId, MetricKind};
use crate::store::Store;
use crate::tui::app::{App, Pane};
use crate::tui::tab::Tab;

/// The workload analysis is recomputed when this much new data time has arrived (or the
/// group changed).
pub const RECOMPUTE_EVERY_SECONDS: i64 = 30;
/// Replays cover every group's whole history, which a few new samples barely move; at demo
/// speeds a 30 s cadence would keep a core busy replaying.
pub const REPLAY_EVERY_SECONDS: i64 = 300;

/// Owned inputs of one piece of engine work.
#[derive(Debug)]
pub enum Job {
    Workload(workload::WorkloadJob),
    Forecast(forecast::ForecastJob),
    Policies(policies::PoliciesJob),
    Explain(Box<explain::ExplainJob>),
    Cost(cost::CostJob),
    Alerts(Box<alerts::AlertsJob>),
    Scorecard(Box<scorecard::ScorecardJob>),
    Monitoring(monitoring::MonitoringJob),
    Tune(Box<tune::TuneJob>),
    Retune(Box<retune::RetuneJob>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum JobOutput {
    Workload(Box<workload::WorkloadOutcome>),
    Forecast(Box<forecast::ForecastOutcome>),
    Policies(policies::PoliciesOutcome),
    Explain(explain::ExplainOutcome),
    Cost(Box<cost::CostOutcome>),
    Alerts(Box<alerts::AlertsOutcome>),
    Scorecard(Box<scorecard::ScorecardOutcome>),
    Monitoring(Box<monitoring::MonitoringOutcome>),
    Tune(Box<tune::TuneJobOutcome>),
    Retune(Box<retune::RetuneOutcome>),
}

/// Runs a job to completion (blocking; call it on a blocking thread, or directly in tests).
pub fn run(job: Job) -> JobOutput {
    match job {
        Job::Workload(j) => JobOutput::Workload(Box::new(workload::run(j))),
        Job::Forecast(j) => JobOutput::Forecast(Box::new(forecast::run(j))),
        Job::Policies(j) => JobOutput::Policies(policies::run(j)),
        Job::Explain(j) => JobOutput::Explain(explain::run(*j)),
        Job::Cost(j) => JobOutput::Cost(Box::new(cost::run(j))),
        Job::Alerts(j) => JobOutput::Alerts(Box::new(alerts::run(*j))),
        Job::Scorecard(j) => JobOutput::Scorecard(Box::new(scorecard::run(*j))),
        Job::Monitoring(j) => JobOutput::Monitoring(Box::new(monitoring::run(j))),
        Job::Tune(j) => JobOutput::Tune(Box::new(tune::run(*j))),
        Job::Retune(j) => JobOutput::Retune(Box::new(retune::run(*j))),
    }
}

/// What a result was computed for: a group (or all) at a data time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobKey {
    pub group: Option<GroupId>,
    pub data_end: i64,
}

/// One kind of result: the latest one, and whether a newer one is being computed.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSlot<T> {
    pub result: Option<T>,
    pub in_flight: bool,
    /// Key of the last job started.
    pub last: Option<JobKey>,
}

impl<T> Default for JobSlot<T> {
    fn default() -> Self {
        Self {
            result: None,
            in_flight: false,
            last: None,
        }
    }
}

impl<T> JobSlot<T> {
    /// Whether a job for `key` should start now: one at a time, and only for a new group or
    /// enough new data.
    fn wants(&self, key: &JobKey, every_seconds: i64) -> bool {
        if self.in_flight {
            return false;
        }
        match &self.last {
            None => true,
            Some(last) => {
                last.group != key.group || (key.data_end - last.data_end).abs() >= every_seconds
            }
        }
    }

    fn start(&mut self, key: JobKey) {
        self.in_flight = true;
        self.last = Some(key);
    }

    pub fn finish(&mut self, result: T) {
        self.result = Some(result);
        self.in_flight = false;
    }
}

/// The jobs the current view needs now, marked in flight. Cheap: copies series out of the store.
pub fn due(app: &mut App, store: &Store) -> Vec<Job> {
    let mut jobs = Vec::new();
    let Some(data_end) = store.now().map(|t| t.timestamp()) else {
        return jobs;
    };
    if app.tab == Tab::Workload && app.pane == Pane::None {
        if let Some(g) = app.selected.clone() {
            let key = JobKey {
                group: Some(g.clone()),
                data_end,
            };
            if app.workload.wants(&key, RECOMPUTE_EVERY_SECONDS) {
                if let Some(job) = workload::job(store, &g) {
                    app.workload.start(key);
                    jobs.push(Job::Workload(job));
                }
            }
        }
    }
    if app.tab == Tab::Forecast && app.pane == Pane::None {
        if let Some(g) = app.selected.clone() {
            let key = JobKey {
                group: Some(g.clone()),
                data_end,
            };
            if app.forecast.wants(&key, forecast::REFIT_EVERY_SECONDS) {
                if let Some(job) = forecast::job(store, &g, &app.forecast_events) {
                    app.forecast.start(key);
                    jobs.push(Job::Forecast(job));
                }
            }
        }
    }
    if app.tab == Tab::Policies && app.pane == Pane::None {
        let key = JobKey {
            group: None,
            data_end,
        };
        if app.policies.wants(&key, REPLAY_EVERY_SECONDS) {
            app.policies.start(key);
            jobs.push(Job::Policies(policies::job(store)));
        }
    }
    if app.tab == Tab::Cost && app.pane == Pane::None {
        let key = JobKey {
            group: None,
            data_end,
        };
        if app.cost.wants(&key, REPLAY_EVERY_SECONDS) {
            app.cost.start(key);
            jobs.push(Job::Cost(cost::job_with_demo(
                store,
                app.demo.as_ref().map(|d| d.scenario.as_str()),
                &app.cost_settings,
            )));
        }
    }
    if matches!(app.tab, Tab::Overview | Tab::Events) && app.pane == Pane::None {
        let key = JobKey {
            group: None,
            data_end,
        };
        if app.monitoring.wants(&key, REPLAY_EVERY_SECONDS) {
            app.monitoring.start(key);
            jobs.push(Job::Monitoring(monitoring::job(store)));
        }
    }
    if let Pane::Explain(state) = &mut app.pane {
        if state.result.is_none() && !state.in_flight {
            state.in_flight = true;
            jobs.push(Job::Explain(Box::new(explain::job(store, &state.event))));
        }
    }
    if let Pane::Tuning(state) = &mut app.pane {
        if let Some(job) = tune::start(state, store, app.demo.as_ref()) {
            jobs.push(Job::Tune(Box::new(job)));
        }
    }
    jobs
}

/// Watch work that runs on every tab, whatever the view: alert evaluation each new data
/// step, the load-test scorecard while a window is open (and once when it closes), and the
/// background re-tuning of one group at a time.
pub fn due_watch(app: &mut App, store: &Store) -> Vec<Job> {
    let mut jobs = Vec::new();
    let Some(data_end) = store.now().map(|t| t.timestamp()) else {
        return jobs;
    };
    // One alert evaluation at a time, each new data step.
    let alerts_due = app
        .alerts
        .last_eval_end
        .is_none_or(|t| data_end - t >= store.step_seconds());
    if alerts_due {
        let epoch = app.alerts.epoch;
        if let Some(job) = alerts::job(store, &mut app.alerts.evaluator, epoch) {
            app.alerts.last_eval_end = Some(data_end);
            jobs.push(Job::Alerts(Box::new(job)));
        }
    }
    if let Some(job) = app.retune.due(store, chrono::Utc::now().timestamp()) {
        jobs.push(Job::Retune(Box::new(job)));
    }
    // The load-test scorecard: the final one as soon as the window closes, a live one every
    // minute of data while it is open.
    let lt = &mut app.loadtest;
    if !lt.in_flight {
        if let Some((start, end)) = lt.closing.take() {
            lt.in_flight = true;
            let save = Some((lt.output_dir.clone(), lt.readonly));
            jobs.push(Job::Scorecard(Box::new(scorecard::job(
                store,
                start,
                end,
                true,
                &lt.targets,
                save,
            ))));
        } else if let Some(start) = lt.start {
            if lt.last_eval_end.is_none_or(|t| data_end - t >= 60) && data_end >= start {
                lt.in_flight = true;
                lt.last_eval_end = Some(data_end);
                jobs.push(Job::Scorecard(Box::new(scorecard::job(
                    store,
                    start,
                    data_end,
                    false,
                    &lt.targets,
                    None,
                ))));
            }
        }
    }
    jobs
}

/// The whole history a store holds of one series, oldest first (NaN = missing), with the
/// timestamp of its first slot. `None` when the series does not exist.
pub fn history(store: &Store, group: usize, metric: MetricKind) -> Option<(i64, Vec<f64>)> {
    let ring = store.series(group, metric)?;
    let end = ring.newest_timestamp()?;
    Some(history_until(store, group, metric, end, ring.len()))
}

/// The history a slow job (workload analysis, forecast) should fit: the fine ring, or the
/// long tier's bucket means when those reach at least twice as far back (a 28-day backfill
/// lands there while the ring holds a day, and weekly seasonality needs the weeks). Returns
/// (first timestamp, step, values with NaN where missing); the newest, still filling bucket
/// is left out so its partial mean does not read as a drop.
pub fn deep_history(
    store: &Store,
    group: usize,
    metric: MetricKind,
) -> Option<(i64, i64, Vec<f64>)> {
    let fine = history(store, group, metric);
    let fine_span = fine
        .as_ref()
        .map_or(0, |(_, v)| v.len() as i64 * store.step_seconds());
    let long = store.long_series(group, metric).and_then(|l| {
        let width = l.bucket_seconds();
        let (first, last) = l.span()?;
        let newest = store.now().map_or(last + width, |t| t.timestamp() + 1);
        // Start of the newest bucket that has ended by `newest`.
        let end = (newest.div_euclid(width) - 1) * width;
        let count = ((end.min(last) - first) / width + 1).max(0) as usize;
        let values: Vec<f64> = l
            .window(end.min(last), count)
            .into_iter()
            .map(|b| b.map_or(f64::NAN, |b| b.mean))
            .collect();
        Some((first, width, values))
    });
    match (fine, long) {
        (_, Some(long)) if long.2.len() as i64 * long.1 >= 2 * fine_span.max(1) => Some(long),
        (Some((start, values)), _) => Some((start, store.step_seconds(), values)),
        (None, long) => long,
    }
}

/// `count` slots of a series ending at `end` (inclusive), NaN where missing.
pub fn history_until(
    store: &Store,
    group: usize,
    metric: MetricKind,
    end: i64,
    count: usize,
) -> (i64, Vec<f64>) {
    let step = store.step_seconds();
    let end = end.div_euclid(step) * step;
    let start = end - (count as i64 - 1) * step;
    let values = store
        .series(group, metric)
        .map(|s| {
            s.window(end, count)
                .into_iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect()
        })
        .unwrap_or_else(|| vec![f64::NAN; count]);
    (start, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Platform;

    fn key(name: &str, data_end: i64) -> JobKey {
        JobKey {
            group: Some(GroupId::new(Platform::K8s, "ns", name)),
            data_end,
        }
    }

    #[test]
    fn one_job_at_a_time_and_only_for_a_new_group_or_enough_new_data() {
        let mut slot: JobSlot<u32> = JobSlot::default();
        assert!(slot.wants(&key("web", 0), RECOMPUTE_EVERY_SECONDS));
        slot.start(key("web", 0));
        assert!(
            !slot.wants(&key("api", 0), RECOMPUTE_EVERY_SECONDS),
            "one in flight at a time"
        );
        slot.finish(1);
        assert!(!slot.wants(
            &key("web", RECOMPUTE_EVERY_SECONDS - 15),
            RECOMPUTE_EVERY_SECONDS
        ));
        assert!(slot.wants(
            &key("web", RECOMPUTE_EVERY_SECONDS),
            RECOMPUTE_EVERY_SECONDS
        ));
        assert!(
            slot.wants(&key("api", 15), RECOMPUTE_EVERY_SECONDS),
            "another group at once"
        );
    }

    #[test]
    fn deep_history_reaches_into_the_long_tier_when_it_holds_weeks_more() {
        use crate::sources::{Sample, Update};
        let id = GroupId::new(Platform::K8s, "ns", "web");
        // A fine ring of one hour at 60 s; three days pushed, so the long tier holds them.
        let mut store = Store::new(60, 60);
        let push = |store: &mut Store, t: i64, v: f64| {
            store.apply(Update::Samples {
                at: chrono::DateTime::from_timestamp(t, 0).unwrap_or_default(),
                samples: vec![Sample {
                    group: id.clone(),
                    metric: MetricKind::RequestRate,
                    value: v,
                }],
            })
        };
        let start = 1_700_000_100 / 300 * 300;
        for k in 0..3 * 1440 {
            push(&mut store, start + k * 60, (k % 5) as f64);
        }
        // Half-way into a new bucket: it is still filling and must be left out.
        push(&mut store, start + 3 * 86_400, 100.0);
        let g = store.group_index(&id).expect("group");
        let (first, step, values) = deep_history(&store, g, MetricKind::RequestRate).expect("some");
        assert_eq!((first, step), (start, 300));
        assert_eq!(
            values.len(),
            3 * 288,
            "three days of 5-minute buckets, no partial one"
        );
        // Each bucket holds minutes 0..4 of the cycle: mean 2.
        assert!(
            values.iter().all(|v| (v - 2.0).abs() < 1e-6),
            "{:?}",
            &values[..4]
        );

        // With only the last hour held, the fine ring is the history.
        let mut fresh = Store::new(60, 60);
        for k in 0..30 {
            push(&mut fresh, start + k * 60, 1.0);
        }
        let g = fresh.group_index(&id).expect("group");
        let (_, step, values) = deep_history(&fresh, g, MetricKind::RequestRate).expect("some");
        assert_eq!((step, values.len()), (60, 30));
    }
}

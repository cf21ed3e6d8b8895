//! Demand forecast of the selected group's request rate (issue 5), for the Forecast tab: the
//! store's history on whole-minute means, forecast a quarter of its length ahead (at least
//! 15 minutes, at most a day), with the group's capacity at max for the runway.

use crate::engine::forecast::events::KnownEvent;
use crate::engine::forecast::{self, Forecast, ForecastError, ForecastRequest};
use crate::model::{GroupId, MetricKind, PolicyModel};
use crate::store::Store;
use crate::tui::jobs::workload::resample;

/// The forecast runs on 1-minute means (as the workload analysis).
pub const FORECAST_STEP_SECONDS: i64 = 60;
/// Refit when this much new data time has arrived: a fit is not free, and five minutes of
/// data barely move a forecast of hours.
pub const REFIT_EVERY_SECONDS: i64 = 300;
const MIN_HORIZON_SECONDS: i64 = 15 * 60;
const MAX_HORIZON_SECONDS: i64 = 86_400;

#[derive(Debug)]
pub struct ForecastJob {
    pub group: GroupId,
    pub data_end: i64,
    pub start: i64,
    pub step_seconds: i64,
    pub values: Vec<f64>,
    /// Request rate the group serves at max replicas and its target utilization.
    pub capacity: Option<f64>,
    pub per_replica: Option<f64>,
    /// e.g. "max 100 x 2.5K req/s at 60% cpu target".
    pub capacity_label: Option<String>,
    pub events: Vec<KnownEvent>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ForecastOutcome {
    pub group: GroupId,
    pub data_end: i64,
    /// The 1-minute history the forecast was fitted on, and its first timestamp.
    pub start: i64,
    pub step_seconds: i64,
    pub history: Vec<f64>,
    pub capacity_label: Option<String>,
    pub fit_ms: f64,
    pub result: Result<Forecast, ForecastError>,
}

/// Copies the group's request rate and capacity out of the store (and the calendar);
/// `None` without the group.
pub fn job(store: &Store, group: &GroupId, events: &[KnownEvent]) -> Option<ForecastJob> {
    let g = store.group_index(group)?;
    let data_end = store.now().map_or(0, |t| t.timestamp());
    let (start, step_seconds, values) = super::deep_history(store, g, MetricKind::RequestRate)
        .unwrap_or((data_end, store.step_seconds(), Vec::new()));
    let info = store.groups().get(g)?;
    let (capacity, per_replica, capacity_label) = match &info.capacity {
        Some(c) if c.capacity_per_replica_rps > 0.0 && c.max_replicas > 0 => {
            let target = target_utilization(info.policy.as_ref().map(|p| &p.model));
            let per = c.capacity_per_replica_rps * target.unwrap_or(1.0);
            (
                Some(per * f64::from(c.max_replicas)),
                Some(per),
                Some(format!(
                    "max {} replicas x {:.0} req/s{}",
                    c.max_replicas,
                    c.capacity_per_replica_rps,
                    target.map_or(String::new(), |t| format!(" at {:.0}% target", t * 100.0))
                )),
            )
        }
        _ => (None, None, None),
    };
    Some(ForecastJob {
        group: group.clone(),
        data_end,
        start,
        step_seconds,
        values,
        capacity,
        per_replica,
        capacity_label,
        events: events.to_vec(),
    })
}

/// The utilization a target-tracking policy holds its CPU at, as a fraction.
fn target_utilization(policy: Option<&PolicyModel>) -> Option<f64> {
    match policy? {
        PolicyModel::TargetTracking(t) => t
            .targets
            .iter()
            .find(|t| t.metric == MetricKind::CpuUtilization)
            .map(|t| t.target / 100.0)
            .filter(|t| *t > 0.0 && *t <= 1.0),
        _ => None,
    }
}

/// The horizon for a history of `span_seconds`: a quarter of it, within 15 minutes .. 1 day,
/// in whole steps.
pub fn horizon_seconds(span_seconds: i64, step: i64) -> i64 {
    let step = step.max(1);
    (span_seconds / 4).clamp(MIN_HORIZON_SECONDS, MAX_HORIZON_SECONDS) / step * step
}

pub fn run(job: ForecastJob) -> ForecastOutcome {
    let from = job.step_seconds.max(1);
    // Weeks of long-tier history come at 5 minutes and are fitted at that step.
    let step = FORECAST_STEP_SECONDS.max(from);
    let (start, history) = resample(job.start, from, &job.values, step);
    let first = history.iter().position(|v| v.is_finite());
    let last = history.iter().rposition(|v| v.is_finite());
    let span = match (first, last) {
        (Some(a), Some(b)) => (b - a + 1) as i64 * step,
        _ => 0,
    };
    let req = ForecastRequest {
        capacity: job.capacity,
        per_replica: job.per_replica,
        events: job.events,
        ..ForecastRequest::new(horizon_seconds(span, step))
    };
    let began = std::time::Instant::now();
    let result = forecast::forecast_series(start, step, &history, &req);
    let fit_ms = began.elapsed().as_secs_f64() * 1000.0;
    tracing::debug!(group = %job.group, fit_ms, points = history.len(), "forecast fitted");
    ForecastOutcome {
        group: job.group,
        data_end: job.data_end,
        start,
        step_seconds: step,
        history,
        capacity_label: job.capacity_label,
        fit_ms,
        result,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Platform;

    #[test]
    fn forecasts_a_quarter_of_the_history_ahead() {
        assert_eq!(horizon_seconds(60, 60), MIN_HORIZON_SECONDS);
        assert_eq!(horizon_seconds(4 * 3600, 60), 3600);
        assert_eq!(horizon_seconds(10 * 86_400, 300), MAX_HORIZON_SECONDS);
        // Two hours of 15 s samples of a ramp: a forecast 30 minutes ahead on minute means.
        let values: Vec<f64> = (0..480).map(|i| 100.0 + i as f64 * 0.25).collect();
        let out = run(ForecastJob {
            group: GroupId::new(Platform::Sim, "s", "web"),
            data_end: 480 * 15,
            start: 0,
            step_seconds: 15,
            values,
            capacity: Some(1000.0),
            per_replica: Some(10.0),
            capacity_label: None,
            events: Vec::new(),
        });
        let fc = out.result.expect("forecast");
        assert_eq!(fc.step_seconds, 60);
        assert_eq!(fc.points.len(), 30);
        assert!(
            fc.points[29].mean > 200.0,
            "the ramp continues: {:?}",
            fc.points[29]
        );
        assert!(fc.runway.is_some_and(|r| r.first_crossing.is_none()));
    }
}

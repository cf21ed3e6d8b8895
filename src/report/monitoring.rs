//! The monitoring figures of a group over its history (the seed's post-implementation
//! metrics): scaling events per day, time to scale, scaling efficiency, false positives,
//! latency and errors during scaling, SLA compliance at peak, cost per request. Thrash and
//! time to scale use the one definition each (CONTRACTS.md: store events marked by
//! `mark_thrash`, replay time to scale).

use serde::Serialize;

use crate::model::{MetricKind, ScaleDirection};

use super::data::ReportData;
use super::fmt::{mean, percentile};

use super::runs::GroupRun;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitoringFigures {
    pub group: String,
    pub days: f64,
    pub scaling_events: usize,
    pub scaling_events_per_day: f64,
    /// Share of scaling events not part of a thrash pair (the demand justified them).
    pub scaling_efficiency: Option<f64>,
    /// Scale-ups undone within the thrash window without a demand change.
    pub false_positive_scale_ups: usize,
    /// From the current policy replayed over the history (seconds).
    pub mean_time_to_scale_up_seconds: Option<f64>,
    pub max_time_to_scale_up_seconds: Option<i64>,
    /// Highest p95 / p99 latency observed while desired != ready, ms.
    pub p95_during_scaling_ms: Option<f64>,
    pub p99_during_scaling_ms: Option<f64>,
    pub error_rate_during_scaling: Option<f64>,
    /// Share of peak steps (demand at or above its 95th percentile) within the p95 SLO
    /// and dropping nothing.
    pub sla_compliance_at_peak: Option<f64>,
    pub cost_usd: Option<f64>,
    pub cost_per_million_requests_usd: Option<f64>,
}

/// A group's history on one grid, from a report's data or from the live store.
#[derive(Debug, Clone, Default)]
pub struct MonitoringInputs {
    pub group: String,
    pub step_seconds: i64,
    pub demand: Vec<f64>,
    pub desired: Vec<f64>,
    pub ready: Vec<f64>,
    pub p95: Vec<f64>,
    pub p99: Vec<f64>,
    pub errors: Vec<f64>,
    pub dropped: Vec<f64>,
    pub cost: Vec<f64>,
    /// Scaling events with their thrash marks (the store marks them as they arrive).
    pub events: Vec<crate::model::ScalingEvent>,
    pub slo: crate::model::Slo,
    /// Time to scale per episode from a replay of the current policy, when one ran.
    pub time_to_scale_seconds: Option<Vec<i64>>,
}

impl MonitoringInputs {
    /// From a report's data (series on the request-rate grid, events from its store).
    pub fn from_report(data: &ReportData, group: &str, run: Option<&GroupRun>) -> Self {
        let (start, demand) = data.demand(group).unwrap_or((0, Vec::new()));
        let n = demand.len();
        let get = |m| data.aligned(group, m, start, n);
        let events = data
            .store
            .group_index(&crate::engine::replay::file_group(group))
            .or_else(|| data.info(group).and_then(|i| data.store.group_index(&i.id)))
            .map(|gi| {
                let id = &data.store.groups()[gi].id;
                data.store
                    .events()
                    .iter()
                    .filter(|e| &e.group == id)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        Self {
            group: group.to_string(),
            step_seconds: data.step_seconds,
            desired: get(MetricKind::ReplicasDesired),
            ready: get(MetricKind::ReplicasReady),
            p95: get(MetricKind::LatencyP95Ms),
            p99: get(MetricKind::LatencyP99Ms),
            errors: get(MetricKind::ErrorRate),
            dropped: get(MetricKind::DroppedRate),
            cost: get(MetricKind::CostUsdPerHour),
            demand,
            events,
            slo: data
                .info(group)
                .and_then(|i| i.slo.clone())
                .unwrap_or_default(),
            time_to_scale_seconds: run
                .and_then(|r| r.replay.as_ref().ok())
                .map(|r| r.summary.time_to_scale_seconds.clone()),
        }
    }

    /// From the live store: everything it holds of group `g`.
    pub fn from_store(store: &crate::store::Store, g: usize) -> Option<Self> {
        let info = store.groups().get(g)?;
        let (_, demand) = crate::tui::jobs::history(store, g, MetricKind::RequestRate)?;
        let end = store
            .series(g, MetricKind::RequestRate)?
            .newest_timestamp()?;
        let n = demand.len();
        let get = |m| crate::tui::jobs::history_until(store, g, m, end, n).1;
        Some(Self {
            group: info.id.name.clone(),
            step_seconds: store.step_seconds(),
            desired: get(MetricKind::ReplicasDesired),
            ready: get(MetricKind::ReplicasReady),
            p95: get(MetricKind::LatencyP95Ms),
            p99: get(MetricKind::LatencyP99Ms),
            errors: get(MetricKind::ErrorRate),
            dropped: get(MetricKind::DroppedRate),
            cost: get(MetricKind::CostUsdPerHour),
            demand,
            events: store
                .events()
                .iter()
                .filter(|e| e.group == info.id)
                .cloned()
                .collect(),
            slo: info.slo.clone().unwrap_or_default(),
            time_to_scale_seconds: None,
        })
    }
}

/// Requests dropped at this step (a missing value is not a drop).
fn dropping(rps: f64) -> bool {
    rps.is_finite() && rps > 0.0
}

pub fn figures(m: &MonitoringInputs) -> MonitoringFigures {
    let (demand, desired, ready) = (&m.demand, &m.desired, &m.ready);
    let (p95, p99, errors, dropped, cost) = (&m.p95, &m.p99, &m.errors, &m.dropped, &m.cost);
    let n = demand.len();
    let step = m.step_seconds as f64;
    let days = n as f64 * step / 86_400.0;
    let scaling: Vec<bool> = desired
        .iter()
        .zip(ready)
        .map(|(d, r)| d.is_finite() && r.is_finite() && (d - r).abs() > 0.5)
        .collect();
    let during = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .zip(&scaling)
            .filter(|(_, s)| **s)
            .map(|(x, _)| *x)
            .collect()
    };
    let slo = &m.slo;
    let peak_level = percentile(demand, 0.95);
    let at = |v: &[f64], i: usize| v.get(i).copied().unwrap_or(f64::NAN);
    let peak_steps: Vec<usize> = (0..n)
        .filter(|&i| peak_level.is_some_and(|p| demand[i].is_finite() && demand[i] >= p))
        .filter(|&i| at(p95, i).is_finite())
        .collect();
    let sla_compliance_at_peak = (!peak_steps.is_empty()).then(|| {
        let ok = peak_steps
            .iter()
            .filter(|&&i| at(p95, i) <= slo.p95_latency_ms && !dropping(at(dropped, i)))
            .count();
        ok as f64 / peak_steps.len() as f64
    });
    let cost_known = cost.iter().any(|c| c.is_finite());
    let cost_usd =
        cost_known.then(|| cost.iter().filter(|c| c.is_finite()).sum::<f64>() * step / 3600.0);
    let requests: f64 = demand.iter().filter(|d| d.is_finite()).sum::<f64>() * step;
    let events = &m.events;
    let thrash = events.iter().filter(|e| e.thrash).count();
    let false_positive_scale_ups = events
        .iter()
        .filter(|e| e.thrash && e.direction() == Some(ScaleDirection::Up))
        .count();
    MonitoringFigures {
        group: m.group.clone(),
        days,
        scaling_events: events.len(),
        scaling_events_per_day: if days > 0.0 {
            events.len() as f64 / days
        } else {
            0.0
        },
        scaling_efficiency: (!events.is_empty())
            .then(|| (events.len() - thrash) as f64 / events.len() as f64),
        false_positive_scale_ups,
        mean_time_to_scale_up_seconds: m.time_to_scale_seconds.as_ref().and_then(|v| {
            let v: Vec<f64> = v.iter().map(|&t| t as f64).collect();
            mean(&v)
        }),
        max_time_to_scale_up_seconds: m
            .time_to_scale_seconds
            .as_ref()
            .and_then(|v| v.iter().max().copied()),
        p95_during_scaling_ms: percentile(&during(p95), 1.0),
        p99_during_scaling_ms: percentile(&during(p99), 1.0),
        error_rate_during_scaling: mean(&during(errors)),
        sla_compliance_at_peak,
        cost_usd,
        cost_per_million_requests_usd: cost_usd
            .filter(|_| requests > 0.0)
            .map(|c| c / requests * 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{GroupId, Platform, ScalingEvent};

    #[test]
    fn hand_worked_figures() {
        let ev = |min: i64, from, to, thrash| ScalingEvent {
            at: chrono::DateTime::from_timestamp(min * 60, 0).expect("t"),
            group: GroupId::new(Platform::Sim, "s", "g"),
            from_replicas: from,
            to_replicas: to,
            reason: String::new(),
            demand: None,
            thrash,
            origin: Default::default(),
        };
        // One day at 1-hour steps: 24 steps, 4 events of which a thrash pair (up then down).
        let n = 24;
        let mut demand = vec![100.0; n];
        demand[10] = 200.0; // the two peak steps (>= the 95th percentile)
        demand[11] = 200.0;
        let mut p95 = vec![50.0; n];
        p95[10] = 250.0; // over the 200 ms SLO at one of the two peak steps
        p95[11] = 150.0;
        let mut desired = vec![2.0; n];
        desired[10] = 4.0; // scaling at step 10 only
        let m = MonitoringInputs {
            group: "g".into(),
            step_seconds: 3600,
            demand,
            desired,
            ready: vec![2.0; n],
            p95,
            p99: vec![f64::NAN; n],
            errors: vec![0.01; n],
            dropped: vec![0.0; n],
            cost: vec![1.0; n],
            events: vec![
                ev(0, 2, 3, false),
                ev(60, 3, 4, true),
                ev(65, 4, 3, true),
                ev(600, 3, 2, false),
            ],
            slo: crate::model::Slo::default(),
            time_to_scale_seconds: Some(vec![60, 180]),
        };
        let f = figures(&m);
        assert_eq!(f.scaling_events, 4);
        assert!((f.scaling_events_per_day - 4.0).abs() < 1e-9);
        assert_eq!(f.scaling_efficiency, Some(0.5));
        assert_eq!(f.false_positive_scale_ups, 1);
        assert_eq!(f.p95_during_scaling_ms, Some(250.0));
        assert_eq!(f.sla_compliance_at_peak, Some(0.5));
        assert_eq!(f.mean_time_to_scale_up_seconds, Some(120.0));
        assert_eq!(f.max_time_to_scale_up_seconds, Some(180));
        // $24 for (22 x 100 + 2 x 200) req/s x 3600 s = 9.36M requests.
        let c = f.cost_per_million_requests_usd.expect("cost");
        assert!((c - 24.0 / 9.36).abs() < 1e-9, "{c}");
    }
}

//! Each rule's condition evaluated at one time: which instances (groups, sources, the fleet)
//! are active now, with the figure that made them so. Conditions read [`AlertInputs`], a
//! small owned copy of what the rules need, so evaluation can run off the UI thread. Missing
//! data is not a condition: a group without the series a rule needs is simply not active (as
//! in Prometheus, where an absent series yields no alert).

use std::collections::BTreeMap;

use crate::model::{GroupId, MetricKind};
use crate::sources::HealthState;
use crate::store::Store;

use super::rule::{AlertKind, AlertRule};

/// Metrics whose newest value some rule reads.
const LATEST: [MetricKind; 6] = [
    MetricKind::ReplicasReady,
    MetricKind::ReplicasDesired,
    MetricKind::ReplicasMax,
    MetricKind::LatencyP95Ms,
    MetricKind::DroppedRate,
    MetricKind::CostUsdPerHour,
];

/// What the rules read of one group.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupInputs {
    pub id: GroupId,
    pub latest: BTreeMap<MetricKind, f64>,
    /// Desired replicas over the longest look-back, (Unix seconds, value), gaps left out.
    pub desired_history: Vec<(i64, f64)>,
    /// Times of this group's scaling events marked as thrash.
    pub thrash_event_times: Vec<i64>,
}

/// Everything the rules read, copied out of the store at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertInputs {
    pub now: i64,
    pub groups: Vec<GroupInputs>,
    /// (source name, reason) of sources down.
    pub sources_down: Vec<(String, String)>,
}

impl AlertInputs {
    /// Copies what `rules` need out of the store; None before any data arrived.
    pub fn from_store(store: &Store, rules: &[AlertRule]) -> Option<AlertInputs> {
        let now = store.now()?.timestamp();
        let lookback = rules
            .iter()
            .filter_map(|r| match r.kind {
                AlertKind::ForecastRunway {
                    lookback_seconds, ..
                } => Some(lookback_seconds),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let thrash_window = rules
            .iter()
            .filter_map(|r| match r.kind {
                AlertKind::Thrashing { window_seconds } => Some(window_seconds),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let step = store.step_seconds().max(1);
        let groups = store
            .groups()
            .iter()
            .enumerate()
            .map(|(g, info)| {
                let latest = LATEST
                    .iter()
                    .filter_map(|m| store.latest(g, *m).map(|v| (*m, v)))
                    .collect();
                let count = if lookback > 0 {
                    (lookback / step) as usize + 1
                } else {
                    0
                };
                let desired_history = store
                    .series(g, MetricKind::ReplicasDesired)
                    .map(|s| {
                        s.window(now, count)
                            .into_iter()
                            .enumerate()
                            .filter_map(|(i, v)| {
                                v.map(|v| (now - (count as i64 - 1 - i as i64) * step, v))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let thrash_event_times = store
                    .events()
                    .iter()
                    .filter(|e| {
                        e.group == info.id && e.thrash && e.at.timestamp() > now - thrash_window
                    })
                    .map(|e| e.at.timestamp())
                    .collect();
                GroupInputs {
                    id: info.id.clone(),
                    latest,
                    desired_history,
                    thrash_event_times,
                }
            })
            .collect();
        let sources_down = store
            .health()
            .filter_map(|h| match &h.state {
                HealthState::Down { reason } => Some((h.source.clone(), reason.clone())),
                _ => None,
            })
            .collect();
        Some(AlertInputs {
            now,
            groups,
            sources_down,
        })
    }
}

/// One active instance of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Active {
    /// Stable key within the rule: the group id, source name, or "fleet".
    pub instance: String,
    /// Figure behind it, e.g. "ready 20 / max 20".
    pub evidence: String,
}

/// Active instances of `rule` in `inputs`.
pub fn active(rule: &AlertRule, inputs: &AlertInputs) -> Vec<Active> {
    let now = inputs.now;
    let per_group = |f: &dyn Fn(&GroupInputs) -> Option<String>| -> Vec<Active> {
        inputs
            .groups
            .iter()
            .filter_map(|g| {
                f(g).map(|evidence| Active {
                    instance: g.id.to_string(),
                    evidence,
                })
            })
            .collect()
    };
    let get = |g: &GroupInputs, m: MetricKind| g.latest.get(&m).copied();
    match &rule.kind {
        AlertKind::AtMaxCapacity => per_group(&|g| {
            let ready = get(g, MetricKind::ReplicasReady)?;
            let max = get(g, MetricKind::ReplicasMax)?;
            (ready >= max).then(|| format!("ready {ready:.0} / max {max:.0}"))
        }),
        AlertKind::SlowScaleUp => per_group(&|g| {
            let ready = get(g, MetricKind::ReplicasReady)?;
            let desired = get(g, MetricKind::ReplicasDesired)?;
            (desired > ready).then(|| format!("desired {desired:.0} > ready {ready:.0}"))
        }),
        AlertKind::SlaViolationDuringScaling { p95_ms } => per_group(&|g| {
            let ready = get(g, MetricKind::ReplicasReady)?;
            let desired = get(g, MetricKind::ReplicasDesired)?;
            if desired == ready {
                return None;
            }
            let p95 = get(g, MetricKind::LatencyP95Ms);
            let dropped = get(g, MetricKind::DroppedRate).unwrap_or(0.0);
            let slow = p95.is_some_and(|p| p > *p95_ms);
            (slow || dropped > 0.0).then(|| {
                format!(
                    "p95 {} ms (SLO {p95_ms:.0}), dropped {dropped:.1} req/s, desired {desired:.0} vs ready {ready:.0}",
                    p95.map_or("-".to_string(), |p| format!("{p:.0}"))
                )
            })
        }),
        AlertKind::Thrashing { window_seconds } => per_group(&|g| {
            let recent = g
                .thrash_event_times
                .iter()
                .filter(|t| **t > now - window_seconds)
                .count();
            (recent > 0).then(|| format!("{recent} thrash events in the last {window_seconds}s"))
        }),
        AlertKind::ForecastRunway {
            lookback_seconds,
            horizon_seconds,
        } => per_group(&|g| {
            let max = get(g, MetricKind::ReplicasMax)?;
            let points: Vec<(f64, f64)> = g
                .desired_history
                .iter()
                .filter(|(t, _)| *t >= now - lookback_seconds)
                .map(|(t, v)| (*t as f64, *v))
                .collect();
            let predicted = predict_linear(&points, now as f64, *horizon_seconds as f64)?;
            (predicted > max).then(|| {
                format!(
                    "trend reaches {predicted:.1} replicas in {} (max {max:.0})",
                    crate::alerts::promql::promql_duration(*horizon_seconds)
                )
            })
        }),
        AlertKind::CostOverBudget {
            budget_usd_per_hour,
            ..
        } => {
            let costs: Vec<f64> = inputs
                .groups
                .iter()
                .filter_map(|g| get(g, MetricKind::CostUsdPerHour))
                .collect();
            let total: f64 = costs.iter().sum();
            if costs.is_empty() || total <= *budget_usd_per_hour {
                return Vec::new();
            }
            vec![Active {
                instance: "fleet".into(),
                evidence: format!("${total:.2}/h over budget ${budget_usd_per_hour:.2}/h"),
            }]
        }
        AlertKind::SourceDown => inputs
            .sources_down
            .iter()
            .map(|(name, reason)| Active {
                instance: name.clone(),
                evidence: reason.clone(),
            })
            .collect(),
    }
}

/// PromQL `predict_linear`: the least-squares line through `points` (time, value), evaluated
/// `horizon` after `at`. None with fewer than two points or no spread in time.
pub fn predict_linear(points: &[(f64, f64)], at: f64, horizon: f64) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let n = points.len() as f64;
    // Centre times on `at` as Prometheus does, for precision.
    let (mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0);
    for &(t, v) in points {
        let x = t - at;
        sx += x;
        sy += v;
        sxx += x * x;
        sxy += x * v;
    }
    let cov = sxy - sx * sy / n;
    let var = sxx - sx * sx / n;
    if var.abs() < f64::EPSILON {
        return None;
    }
    let slope = cov / var;
    let intercept = sy / n - slope * sx / n;
    Some(intercept + slope * horizon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predict_linear_matches_a_hand_worked_line() {
        // v = 2 + 0.5 t at t = 0, 10, 20, 30: at t=30 plus 10 -> 2 + 0.5 * 40 = 22.
        let pts: Vec<(f64, f64)> = [0.0, 10.0, 20.0, 30.0]
            .iter()
            .map(|&t| (t, 2.0 + 0.5 * t))
            .collect();
        let p = predict_linear(&pts, 30.0, 10.0).expect("fit");
        assert!((p - 22.0).abs() < 1e-9, "{p}");
        assert_eq!(predict_linear(&pts[..1], 0.0, 1.0), None);
    }
}

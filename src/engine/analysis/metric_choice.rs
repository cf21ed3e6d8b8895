//! Which metric(s) should drive scaling, chosen from the bottleneck findings: a queue that piles
//! up at peaks, the resource that saturates first as load per replica rises (and a second one
//! that saturates close behind it: multi-metric scaling), or, when no resource rises with
//! load, the request rate per replica itself. Pure; the analysis and the tuner both call it.

use serde::Serialize;
use serde_json::{json, Value};

use super::bottleneck::Bottleneck;
use super::utilization::{is_percent_metric, UtilizationProfile, HIGH_UTILIZATION_PCT};

/// Utilization target for a resource metric: 30% room for the scale-out delay.
pub const UTILIZATION_TARGET_PCT: f64 = 70.0;
/// A second resource that reaches 100% within this factor of the binding one's load per
/// replica binds too at a slightly different mix: track both (the HPA takes the max).
pub const CO_BINDING_FACTOR: f64 = 1.25;
/// Queue depth whose p99 is this many times its median (at least 1) piles up at peaks.
pub const QUEUE_BUILD_FACTOR: f64 = 5.0;
/// A resource counts as running hot when its p99 is at least this (90% of "high").
pub const HOT_P99_PCT: f64 = HIGH_UTILIZATION_PCT * 0.9;

/// Queue depth figures of a group.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueSignal {
    pub median: f64,
    pub p99: f64,
    /// Median of queue depth / ready replicas.
    pub median_per_replica: f64,
}

impl QueueSignal {
    pub fn builds_up(&self) -> bool {
        self.p99 > QUEUE_BUILD_FACTOR * self.median.max(1.0)
    }
}

/// What the analysis found about a group, as the choice needs it.
#[derive(Debug, Clone, Copy, Default)]
pub struct MetricSignals<'a> {
    pub bottleneck: Option<&'a Bottleneck>,
    pub utilization: &'a [UtilizationProfile],
    /// The metric the group scales on now, if known or assumed.
    pub current: Option<&'a str>,
    pub queue: Option<QueueSignal>,
    /// p95 of request rate per ready replica, where both series exist.
    pub load_per_replica_p95: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChosenMetric {
    pub metric: String,
    /// "utilization" (percent of request), "average_value" (per replica).
    pub target_type: &'static str,
    pub target: f64,
    /// The figures behind it, one clause.
    pub why: String,
    /// The evidence is strong enough to act on (a saturating, hot resource or a growing queue).
    pub strong: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricChoice {
    /// Best first; empty when there is nothing to go on.
    pub metrics: Vec<ChosenMetric>,
    pub current: Option<String>,
    /// The current metric is not the binding resource, and the binding one runs hot.
    pub wrong_current: bool,
    /// One sentence with the figures.
    pub explanation: String,
}

impl MetricChoice {
    pub fn names(&self) -> Vec<String> {
        self.metrics.iter().map(|m| m.metric.clone()).collect()
    }

    /// Whether acting on the choice changes what the group scales on, on strong evidence.
    pub fn worth_changing(&self) -> bool {
        let current = self.current.as_deref();
        self.wrong_current
            || self
                .metrics
                .iter()
                .any(|m| m.strong && Some(m.metric.as_str()) != current)
    }

    /// The `spec.metrics` list of an autoscaling/v2 HPA that scales on the choice (a form
    /// `parse_policy` replays: CPU/memory as Resource utilization, request rate per pod as a
    /// Pods metric, queue depth per replica as an External AverageValue).
    pub fn hpa_metrics(&self) -> Vec<Value> {
        self.metrics.iter().map(hpa_metric).collect()
    }
}

/// Chooses the scaling metric(s) for one group from its bottleneck findings.
pub fn scaling_metrics(s: &MetricSignals) -> MetricChoice {
    let p99 = |metric: &str| {
        s.utilization
            .iter()
            .find(|u| u.metric == metric)
            .and_then(|u| u.p99)
    };
    let mut metrics = Vec::new();
    if let Some(q) = s.queue.filter(QueueSignal::builds_up) {
        metrics.push(ChosenMetric {
            metric: "queue_depth".into(),
            target_type: "average_value",
            // Scale out once the backlog per replica doubles its usual level.
            target: (2.0 * q.median_per_replica).ceil().max(1.0),
            why: format!(
                "queue depth p99 {:.0} is {:.0}x its median {:.0}: work piles up at peaks",
                q.p99,
                q.p99 / q.median.max(1.0),
                q.median
            ),
            strong: true,
        });
    }

    // The binding resource (lowest saturation load) and any that saturate close behind it.
    let binding = s.bottleneck.and_then(|b| {
        b.fits
            .iter()
            .find(|f| f.metric == b.binding_metric)
            .and_then(|f| f.saturation_rps_per_replica.map(|sat| (b, f, sat)))
    });
    if let Some((b, bf, sat)) = binding {
        let mut fits: Vec<_> = b
            .fits
            .iter()
            .filter_map(|f| f.saturation_rps_per_replica.map(|x| (f, x)))
            .filter(|(f, x)| f.metric == bf.metric || *x <= CO_BINDING_FACTOR * sat)
            .collect();
        fits.sort_by(|a, b| a.1.total_cmp(&b.1));
        for (f, x) in fits {
            let hot = p99(&f.metric).is_some_and(|p| p >= HOT_P99_PCT);
            let lat = f
                .latency_correlation
                .map(|r| format!(", correlation with p95 latency {r:.2}"))
                .unwrap_or_default();
            let p99_text = p99(&f.metric)
                .map(|p| format!(", p99 {p:.0}%"))
                .unwrap_or_default();
            let why = if f.metric == bf.metric {
                format!(
                    "{} reaches 100% first, at {x:.0} req/s per replica{p99_text}{lat}",
                    f.metric
                )
            } else {
                format!(
                    "{} reaches 100% close behind, at {x:.0} req/s per replica ({:.0}% above){p99_text}{lat}",
                    f.metric,
                    (x / sat - 1.0) * 100.0
                )
            };
            metrics.push(ChosenMetric {
                metric: f.metric.clone(),
                target_type: "utilization",
                target: UTILIZATION_TARGET_PCT,
                why,
                strong: hot,
            });
        }
    } else if let Some(load) = s.load_per_replica_p95.filter(|l| *l > 0.0) {
        // No resource rises with load: the demand per replica itself is the signal.
        let flat = s
            .bottleneck
            .map(|b| {
                b.fits
                    .iter()
                    .map(|f| format!("{} {:+.2}%", f.metric, f.pct_per_rps_per_replica))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|t| !t.is_empty())
            .map(|t| format!(" ({t} per req/s per replica)"))
            .unwrap_or_default();
        metrics.push(ChosenMetric {
            metric: "request_rate".into(),
            target_type: "average_value",
            target: load,
            why: format!(
                "no resource rises toward saturation with load{flat}; request rate per replica tracks demand, p95 {load:.1} req/s per replica so far"
            ),
            strong: false,
        });
    } else if let Some((metric, p)) = s
        .utilization
        .iter()
        .filter(|u| is_percent_metric(&u.metric))
        .filter_map(|u| u.p99.map(|p| (u.metric.as_str(), p)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
    {
        // Without load figures, the resource running hottest.
        metrics.push(ChosenMetric {
            metric: metric.to_string(),
            target_type: "utilization",
            target: UTILIZATION_TARGET_PCT,
            why: format!("{metric} runs hottest, p99 {p:.0}% (no load series to relate it to)"),
            strong: p >= HOT_P99_PCT,
        });
    }

    // The binding resource: the fit's choice, else the one running hottest at p99.
    let binding_name = s.bottleneck.map(|b| b.binding_metric.as_str()).or_else(|| {
        s.utilization
            .iter()
            .filter(|u| is_percent_metric(&u.metric))
            .max_by(|x, y| x.p99.unwrap_or(0.0).total_cmp(&y.p99.unwrap_or(0.0)))
            .map(|u| u.metric.as_str())
    });
    let wrong_current = match (binding_name, s.current) {
        (Some(b), Some(c)) => b != c && p99(b).is_some_and(|p| p >= HOT_P99_PCT),
        _ => false,
    };
    let explanation = explain(&metrics, s.current, wrong_current);
    MetricChoice {
        metrics,
        current: s.current.map(str::to_string),
        wrong_current,
        explanation,
    }
}

fn explain(metrics: &[ChosenMetric], current: Option<&str>, wrong: bool) -> String {
    let Some(first) = metrics.first() else {
        return "no load, queue or saturating resource to choose a scaling metric from".into();
    };
    let names: Vec<String> = metrics
        .iter()
        .map(|m| match m.target_type {
            "utilization" => format!("{} (target {:.0}%)", m.metric, m.target),
            _ => format!("{} (target {} per replica)", m.metric, trim(m.target)),
        })
        .collect();
    let versus = match current {
        Some(c) if metrics.iter().any(|m| m.metric == c) && metrics.len() == 1 => {
            " as now".to_string()
        }
        Some(c) if metrics.iter().any(|m| m.metric == c) => format!(", not {c} alone"),
        Some(c) if wrong => format!(" instead of {c}, the wrong metric"),
        Some(c) => format!(" instead of {c}"),
        None => String::new(),
    };
    let whys: Vec<&str> = std::iter::once(first.why.as_str())
        .chain(metrics[1..].iter().map(|m| m.why.as_str()))
        .collect();
    format!(
        "Scale on {}{versus}: {}.",
        names.join(" + "),
        whys.join("; ")
    )
}

fn trim(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

fn hpa_metric(m: &ChosenMetric) -> Value {
    match m.metric.as_str() {
        "cpu_utilization" | "memory_utilization" => {
            let resource = m.metric.trim_end_matches("_utilization");
            json!({"type": "Resource", "resource": {"name": resource,
                "target": {"type": "Utilization", "averageUtilization": m.target.round() as u32}}})
        }
        "queue_depth" => json!({"type": "External", "external": {
            "metric": {"name": m.metric},
            "target": {"type": "AverageValue", "averageValue": trim(m.target)}}}),
        _ => json!({"type": "Pods", "pods": {
            "metric": {"name": m.metric},
            "target": {"type": "AverageValue", "averageValue": trim(m.target)}}}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::analysis::bottleneck::ResourceFit;

    fn fit(metric: &str, sat: Option<f64>) -> ResourceFit {
        ResourceFit {
            metric: metric.into(),
            idle_pct: 10.0,
            pct_per_rps_per_replica: sat.map_or(0.0, |s| 90.0 / s),
            saturation_rps_per_replica: sat,
            latency_correlation: None,
        }
    }

    fn util(metric: &str, p99: f64) -> UtilizationProfile {
        UtilizationProfile {
            metric: metric.into(),
            p50: Some(p99 / 2.0),
            p90: None,
            p95: None,
            p99: Some(p99),
            max: None,
            time_above_80_pct: None,
            headroom_pct: None,
        }
    }

    #[test]
    fn memory_bound_group_on_cpu_is_wrong() {
        let b = Bottleneck {
            binding_metric: "memory_utilization".into(),
            capacity_rps_per_replica: Some(120.0),
            fits: vec![
                fit("cpu_utilization", Some(400.0)),
                fit("memory_utilization", Some(120.0)),
            ],
        };
        let u = [
            util("cpu_utilization", 35.0),
            util("memory_utilization", 93.0),
        ];
        let c = scaling_metrics(&MetricSignals {
            bottleneck: Some(&b),
            utilization: &u,
            current: Some("cpu_utilization"),
            ..Default::default()
        });
        assert_eq!(c.names(), ["memory_utilization"]);
        assert!(c.wrong_current && c.worth_changing());
        assert!(
            c.explanation.contains("120 req/s per replica") && c.explanation.contains("93%"),
            "{}",
            c.explanation
        );
        assert_eq!(
            c.hpa_metrics()[0]["resource"]["name"].as_str(),
            Some("memory")
        );
    }

    #[test]
    fn close_second_resource_makes_it_multi_metric() {
        let b = Bottleneck {
            binding_metric: "cpu_utilization".into(),
            capacity_rps_per_replica: Some(100.0),
            fits: vec![
                fit("cpu_utilization", Some(100.0)),
                fit("memory_utilization", Some(115.0)),
            ],
        };
        let u = [
            util("cpu_utilization", 85.0),
            util("memory_utilization", 80.0),
        ];
        let c = scaling_metrics(&MetricSignals {
            bottleneck: Some(&b),
            utilization: &u,
            current: Some("cpu_utilization"),
            ..Default::default()
        });
        assert_eq!(c.names(), ["cpu_utilization", "memory_utilization"]);
        assert!(!c.wrong_current && c.worth_changing(), "memory added");
        assert!(c.explanation.contains("15% above"), "{}", c.explanation);
        // Far apart: CPU alone, as now, nothing to change.
        let b2 = Bottleneck {
            fits: vec![
                fit("cpu_utilization", Some(100.0)),
                fit("memory_utilization", Some(300.0)),
            ],
            ..b
        };
        let c2 = scaling_metrics(&MetricSignals {
            bottleneck: Some(&b2),
            utilization: &u,
            current: Some("cpu_utilization"),
            ..Default::default()
        });
        assert_eq!(c2.names(), ["cpu_utilization"]);
        assert!(!c2.worth_changing());
        assert!(c2.explanation.contains("as now"), "{}", c2.explanation);
    }

    #[test]
    fn growing_queue_leads_and_flat_resources_fall_back_to_request_rate() {
        let q = QueueSignal {
            median: 10.0,
            p99: 400.0,
            median_per_replica: 2.5,
        };
        let c = scaling_metrics(&MetricSignals {
            queue: Some(q),
            current: Some("cpu_utilization"),
            ..Default::default()
        });
        assert_eq!(c.names(), ["queue_depth"]);
        assert_eq!(c.metrics[0].target, 5.0);
        assert!(c.worth_changing());
        assert_eq!(c.hpa_metrics()[0]["type"], "External");

        let c = scaling_metrics(&MetricSignals {
            load_per_replica_p95: Some(42.0),
            current: Some("cpu_utilization"),
            ..Default::default()
        });
        assert_eq!(c.names(), ["request_rate"]);
        assert!(!c.worth_changing(), "weak evidence: no recommendation");
        assert_eq!(
            c.hpa_metrics()[0]["pods"]["target"]["averageValue"],
            json!("42")
        );
        let none = scaling_metrics(&MetricSignals::default());
        assert!(none.metrics.is_empty() && !none.worth_changing());
    }
}

//! Utilization profile of one resource metric: percentiles, time above 80%, headroom.

use serde::Serialize;

use super::stats;

/// Utilization counted as "high" above this percent.
pub const HIGH_UTILIZATION_PCT: f64 = 80.0;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UtilizationProfile {
    pub metric: String,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
    /// Percent of observed time above 80% (utilization metrics only).
    pub time_above_80_pct: Option<f64>,
    /// 100 - p95 (utilization metrics only): room left at a busy moment.
    pub headroom_pct: Option<f64>,
}

/// Whether the metric is a percentage of a request/limit (else an absolute rate).
pub fn is_percent_metric(metric: &str) -> bool {
    matches!(metric, "cpu_utilization" | "memory_utilization")
}

pub fn profile(metric: &str, values: &[f64]) -> UtilizationProfile {
    let sorted = stats::sorted_finite(values);
    let q = |p| stats::quantile_sorted(&sorted, p);
    let percent = is_percent_metric(metric);
    let above = (percent && !sorted.is_empty()).then(|| {
        100.0 * sorted.iter().filter(|&&v| v > HIGH_UTILIZATION_PCT).count() as f64
            / sorted.len() as f64
    });
    UtilizationProfile {
        metric: metric.to_string(),
        p50: q(0.5),
        p90: q(0.9),
        p95: q(0.95),
        p99: q(0.99),
        max: q(1.0),
        time_above_80_pct: above,
        headroom_pct: if percent {
            q(0.95).map(|p| 100.0 - p)
        } else {
            None
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_time_above() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        let p = profile("cpu_utilization", &v);
        assert_eq!(p.max, Some(100.0));
        assert_eq!(p.time_above_80_pct, Some(20.0));
        assert!((p.headroom_pct.unwrap_or(0.0) - 4.95).abs() < 1e-9);
        let n = profile("network_mbps", &v);
        assert_eq!(n.time_above_80_pct, None);
        assert_eq!(profile("cpu_utilization", &[]).p50, None);
    }
}

//! VPA-style request sizing from utilization (% of the current request). CPU: percentiles of
//! a histogram whose weights halve every 24 h (recent behaviour counts most), p50/p90/p95 for
//! lower/target/upper plus a 15% margin. Memory: peaks plus the margin (memory that runs out
//! kills pods; CPU that runs out only slows them). A resource an HPA scales on is not resized:
//! the HPA holds its utilization near the target whatever the request, so sizing it from
//! utilization would shrink it every round.

use serde::Serialize;

/// VPA's recommendation margin.
pub const SAFETY_MARGIN: f64 = 0.15;
/// VPA's CPU histogram half-life.
pub const HALF_LIFE_SECONDS: f64 = 86_400.0;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceSizing {
    pub metric: String,
    /// Recommended request as a multiple of the current request (0.5 = halve it).
    pub lower_factor: f64,
    pub target_factor: f64,
    pub upper_factor: f64,
    /// How the target was derived.
    pub basis: String,
}

/// Weighted quantile with exponentially decaying weights (newest point weight 1).
pub fn decaying_quantile(values: &[f64], step_seconds: i64, q: f64) -> Option<f64> {
    let n = values.len();
    let mut pts: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .map(|(i, &v)| {
            let age = (n - 1 - i) as f64 * step_seconds as f64;
            // Floored so very old points keep a tiny, not a zero, weight.
            (
                v,
                (-age / HALF_LIFE_SECONDS * std::f64::consts::LN_2)
                    .exp()
                    .max(1e-12),
            )
        })
        .collect();
    if pts.is_empty() {
        return None;
    }
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = pts.iter().map(|p| p.1).sum();
    let goal = q.clamp(0.0, 1.0) * total;
    let mut acc = 0.0;
    for (v, w) in &pts {
        acc += w;
        if acc >= goal {
            return Some(*v);
        }
    }
    pts.last().map(|p| p.0)
}

pub fn size_cpu(util_pct: &[f64], step_seconds: i64, hpa_managed: bool) -> Option<ResourceSizing> {
    let f =
        |q| decaying_quantile(util_pct, step_seconds, q).map(|p| p / 100.0 * (1.0 + SAFETY_MARGIN));
    if hpa_managed {
        return f(0.9).map(|_| ResourceSizing {
            metric: "cpu_utilization".into(),
            lower_factor: 1.0,
            target_factor: 1.0,
            upper_factor: 1.0,
            basis: "kept: the HPA scales on CPU utilization, so the request sets the replica count, not waste; tune the HPA target instead".into(),
        });
    }
    Some(ResourceSizing {
        metric: "cpu_utilization".into(),
        lower_factor: f(0.5)?,
        target_factor: f(0.9)?,
        upper_factor: f(0.95)?,
        basis: "p50/p90/p95 of a 24h-half-life decaying histogram + 15%".into(),
    })
}

pub fn size_memory(util_pct: &[f64], hpa_managed: bool) -> Option<ResourceSizing> {
    let sorted = super::stats::sorted_finite(util_pct);
    let q =
        |p| super::stats::quantile_sorted(&sorted, p).map(|v| v / 100.0 * (1.0 + SAFETY_MARGIN));
    if hpa_managed {
        return q(1.0).map(|_| ResourceSizing {
            metric: "memory_utilization".into(),
            lower_factor: 1.0,
            target_factor: 1.0,
            upper_factor: 1.0,
            basis: "kept: the HPA scales on memory utilization".into(),
        });
    }
    Some(ResourceSizing {
        metric: "memory_utilization".into(),
        lower_factor: q(0.95)?,
        target_factor: q(1.0)?,
        upper_factor: q(1.0)?.max(q(1.0)? * 1.2),
        basis: "peak + 15% (upper +20% more for growth)".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_at_thirty_percent_halves_and_recent_counts_most() {
        let v = vec![30.0; 1000];
        let s = size_cpu(&v, 60, false).unwrap();
        assert!((s.target_factor - 0.345).abs() < 1e-9);
        // Old busy days, quiet recent ones: the decaying histogram follows the recent.
        let mut v = vec![90.0; 7 * 1440];
        v.extend(vec![20.0; 3 * 1440]);
        let p90 = decaying_quantile(&v, 60, 0.9).unwrap();
        assert_eq!(p90, 90.0, "older week still heavy enough at p90");
        let p50 = decaying_quantile(&v, 60, 0.5).unwrap();
        assert_eq!(p50, 20.0, "recent days dominate the median");
    }

    #[test]
    fn hpa_managed_resource_is_kept() {
        let s = size_cpu(&[70.0; 100], 60, true).unwrap();
        assert_eq!(s.target_factor, 1.0);
        let m = size_memory(&[40.0, 50.0, 60.0], false).unwrap();
        assert!((m.target_factor - 0.69).abs() < 1e-9);
        assert!(size_memory(&[], false).is_none());
    }
}

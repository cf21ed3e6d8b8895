//! Which resource saturates first as load rises, and whether the group scales on it. Each
//! utilization metric is related to the load per ready replica (request rate / replicas) by a
//! robust line through binned medians; the load where the line reaches 100% is that
//! resource's saturation point. The lowest saturation point binds.

use serde::Serialize;

use super::stats;

/// Load bins for the fit (quantile bins of the per-replica load).
const BINS: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceFit {
    pub metric: String,
    /// Utilization (%) at zero load and per req/s per replica.
    pub idle_pct: f64,
    pub pct_per_rps_per_replica: f64,
    /// Per-replica load (req/s) where this resource reaches 100% (None: it does not rise).
    pub saturation_rps_per_replica: Option<f64>,
    /// Pearson correlation with p95 latency, where latency is present.
    pub latency_correlation: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bottleneck {
    /// The resource that saturates first ("cpu_utilization", "memory_utilization").
    pub binding_metric: String,
    /// Replica capacity implied by the binding resource, req/s at 100%.
    pub capacity_rps_per_replica: Option<f64>,
    pub fits: Vec<ResourceFit>,
}

/// `load`: request rate per ready replica; `resources`: (metric, utilization %) aligned with it.
pub fn find(
    load: &[f64],
    resources: &[(&str, &[f64])],
    latency: Option<&[f64]>,
) -> Option<Bottleneck> {
    let fits: Vec<ResourceFit> = resources
        .iter()
        .filter_map(|(metric, util)| fit(metric, load, util, latency))
        .collect();
    let binding = fits
        .iter()
        .filter_map(|f| f.saturation_rps_per_replica.map(|s| (f, s)))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    Some(Bottleneck {
        binding_metric: binding.0.metric.clone(),
        capacity_rps_per_replica: Some(binding.1),
        fits: fits.clone(),
    })
}

fn fit(metric: &str, load: &[f64], util: &[f64], latency: Option<&[f64]>) -> Option<ResourceFit> {
    let mut pairs: Vec<(f64, f64)> = load
        .iter()
        .zip(util)
        .filter(|(l, u)| l.is_finite() && u.is_finite() && **l >= 0.0)
        .map(|(&l, &u)| (l, u))
        .collect();
    if pairs.len() < 2 * BINS {
        return None;
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let per_bin = pairs.len() / BINS;
    let bins: Vec<(f64, f64)> = pairs
        .chunks(per_bin)
        .filter_map(|c| {
            let l: Vec<f64> = c.iter().map(|p| p.0).collect();
            let u: Vec<f64> = c.iter().map(|p| p.1).collect();
            Some((stats::median(&l)?, stats::median(&u)?))
        })
        .collect();
    let (slope, _, _, icpt) = stats::theil_sen(&bins)?;
    // Saturation needs a clear rise: at least 1 point of utilization over the observed load.
    let span = bins.last()?.0 - bins.first()?.0;
    let rises = slope > 0.0 && slope * span >= 1.0;
    let saturation = (rises && icpt < 100.0).then(|| (100.0 - icpt) / slope);
    let latency_correlation = latency.and_then(|lat| pearson(util, lat));
    Some(ResourceFit {
        metric: metric.to_string(),
        idle_pct: icpt,
        pct_per_rps_per_replica: slope,
        saturation_rps_per_replica: saturation,
        latency_correlation,
    })
}

pub fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let pairs: Vec<(f64, f64)> = a
        .iter()
        .zip(b)
        .filter(|(x, y)| x.is_finite() && y.is_finite())
        .map(|(&x, &y)| (x, y))
        .collect();
    if pairs.len() < 3 {
        return None;
    }
    let n = pairs.len() as f64;
    let (mx, my) = pairs
        .iter()
        .fold((0.0, 0.0), |acc, p| (acc.0 + p.0 / n, acc.1 + p.1 / n));
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in &pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    let r = sxy / (sxx * syy).sqrt();
    r.is_finite().then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_binds_before_cpu() {
        let load: Vec<f64> = (0..500).map(|i| 20.0 + f64::from(i % 100)).collect();
        let cpu: Vec<f64> = load.iter().map(|l| 5.0 + 30.0 * l / 120.0).collect();
        let mem: Vec<f64> = load.iter().map(|l| 45.0 + 55.0 * l / 120.0).collect();
        let b = find(
            &load,
            &[("cpu_utilization", &cpu), ("memory_utilization", &mem)],
            None,
        )
        .unwrap();
        assert_eq!(b.binding_metric, "memory_utilization");
        assert!((b.capacity_rps_per_replica.unwrap() - 120.0).abs() < 1.0);
        let flat = vec![50.0; 500];
        assert!(find(&load, &[("cpu_utilization", &flat)], None).is_none());
    }
}

//! The cost engine (pure): monthly cost per group and label, savings and ROI, commitments,
//! spot, instance-type choice, Kubernetes allocation, serverless concurrency and waste.
//!
//! Every monthly figure uses a 730-hour month ([`HOURS_PER_MONTH`]). Capacity comes in as
//! hourly instance counts ([`HourlyCapacity`]) from any replay, so the same functions cost the
//! current policy and any recommended one.

pub mod breakdown;
pub mod commitment;
pub mod existing;
pub mod hourly;
pub mod kubernetes;
pub mod lambda_memory;
pub mod lambda_schedule;
pub mod offhours;
pub mod plan;
pub mod rightsizing;
pub mod savings;
pub mod serverless;
pub mod spot;
pub mod stranded;
pub mod waste;

pub use crate::pricing::HOURS_PER_MONTH;
pub use hourly::HourlyCapacity;
pub use savings::Saving;

/// The q-quantile (0..1) of values by the nearest-rank definition on sorted finite values:
/// the smallest v with at least q of the values <= v. None when there are no finite values.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = (q.clamp(0.0, 1.0) * v.len() as f64).ceil() as usize;
    Some(v[rank.saturating_sub(1).min(v.len() - 1)])
}

#[cfg(test)]
mod tests {
    #[test]
    fn nearest_rank_quantile() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(super::quantile(&v, 0.5), Some(5.0));
        assert_eq!(super::quantile(&v, 0.95), Some(10.0));
        assert_eq!(super::quantile(&v, 0.0), Some(1.0));
        assert_eq!(super::quantile(&[f64::NAN], 0.5), None);
    }
}

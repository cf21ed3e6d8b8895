//! Reserved instances, savings plans and committed-use discounts sized on hourly usage.
//!
//! With a commitment of k instances at discount d, the k-th unit costs (1 − d) × on-demand every
//! hour and saves on-demand in the hours usage exceeds k. It pays while the share of hours with
//! usage above k is more than 1 − d: the commitment that maximises net savings is the level
//! hourly usage exceeds in a (1 − d) share of hours (the d-quantile of hourly usage), and the
//! last unit breaks even at utilization 1 − d. Sizing on the average instead over-commits
//! whenever usage is skewed (a short high peak over a low base).

use serde::Serialize;

use super::savings::{saving, Saving};
use super::{quantile, HOURS_PER_MONTH};
use crate::artifact::CommitmentType;
use crate::pricing::PriceStatus;

/// A commitment product and its discount off on-demand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommitmentOption {
    #[serde(rename = "type")]
    pub kind: CommitmentType,
    pub term_years: u32,
    /// Fraction off on-demand (0.37 = 37%).
    pub discount: f64,
    /// What the commitment is tied to (type/region/family/anything).
    pub flexibility: &'static str,
    pub status: PriceStatus,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommitmentPlan {
    #[serde(flatten)]
    pub option: CommitmentOption,
    pub payment: &'static str,
    /// Instances committed (reserved instances), or the on-demand instances a $/h savings plan
    /// covers.
    pub level_instances: f64,
    /// $/h paid whether used or not.
    pub hourly_commitment_usd: f64,
    /// Share of committed capacity used (target > 70%).
    pub utilization: f64,
    /// Share of usage the commitment covers.
    pub coverage: f64,
    pub break_even_utilization: f64,
    /// Months of full use within the term after which the commitment has cost no more than
    /// on-demand would have (term × (1 − d)).
    pub break_even_months: f64,
    pub saving: Saving,
}

/// The net-savings-maximising level: exceeded in a (1 − discount) share of hours.
pub fn optimal_level(hourly: &[f64], discount: f64) -> Option<f64> {
    quantile(hourly, discount.clamp(0.0, 1.0))
}

/// Mean $/h with `level` committed at `discount` and the rest on demand, plus utilization
/// and coverage of the commitment.
pub fn evaluate(hourly: &[f64], level: f64, od_usd: f64, discount: f64) -> (f64, f64, f64) {
    let f: Vec<f64> = hourly.iter().copied().filter(|v| v.is_finite()).collect();
    if f.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let n = f.len() as f64;
    let used: f64 = f.iter().map(|u| u.min(level)).sum();
    let over: f64 = f.iter().map(|u| (u - level).max(0.0)).sum();
    let total: f64 = f.iter().sum();
    let cost = level * od_usd * (1.0 - discount) + over / n * od_usd;
    let util = if level > 0.0 { used / (level * n) } else { 0.0 };
    let cover = if total > 0.0 { used / total } else { 0.0 };
    (cost, util, cover)
}

/// Hours of history a commitment of `term_years` needs: two weekly cycles per year of term.
pub fn required_history_hours(term_years: u32) -> usize {
    14 * 24 * term_years.max(1) as usize
}

/// Sizes one commitment option on the hourly usage. Reserved instances commit whole
/// instances (the better of the two integers around the optimum); savings plans any $/h.
pub fn plan(hourly: &[f64], od_usd: f64, option: &CommitmentOption) -> Option<CommitmentPlan> {
    let q = optimal_level(hourly, option.discount)?;
    let d = option.discount;
    let whole = matches!(
        option.kind,
        CommitmentType::ReservedInstance | CommitmentType::AzureReservation
    );
    let level = if whole {
        let lo = q.floor().max(0.0);
        let hi = q.ceil();
        if evaluate(hourly, hi, od_usd, d).0 < evaluate(hourly, lo, od_usd, d).0 {
            hi
        } else {
            lo
        }
    } else {
        q
    };
    let all_on_demand = evaluate(hourly, 0.0, od_usd, d).0 * HOURS_PER_MONTH;
    let (cost, util, cover) = evaluate(hourly, level, od_usd, d);
    Some(CommitmentPlan {
        option: option.clone(),
        payment: "no-upfront",
        level_instances: level,
        hourly_commitment_usd: level * od_usd * (1.0 - d),
        utilization: util,
        coverage: cover,
        break_even_utilization: 1.0 - d,
        break_even_months: 12.0 * f64::from(option.term_years) * (1.0 - d),
        saving: saving(all_on_demand, cost * HOURS_PER_MONTH, 0.0),
    })
}

/// Plans every option; best net saving first.
pub fn compare(hourly: &[f64], od_usd: f64, options: &[CommitmentOption]) -> Vec<CommitmentPlan> {
    let mut plans: Vec<CommitmentPlan> = options
        .iter()
        .filter_map(|o| plan(hourly, od_usd, o))
        .collect();
    plans.sort_by(|a, b| {
        b.saving
            .saving_usd_month
            .total_cmp(&a.saving.saving_usd_month)
    });
    plans
}

/// Utilization and coverage of an existing commitment of `committed` instances.
pub fn existing_utilization(hourly: &[f64], committed: f64) -> (f64, f64) {
    let (_, u, c) = evaluate(hourly, committed, 1.0, 0.0);
    (u, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ri(d: f64) -> CommitmentOption {
        CommitmentOption {
            kind: CommitmentType::ReservedInstance,
            term_years: 1,
            discount: d,
            flexibility: "instance type and region",
            status: PriceStatus::Unverified,
        }
    }

    #[test]
    fn skewed_usage_commits_at_the_quantile_not_the_average() {
        // 30% of hours at 100 instances, 70% at 10; average 37. Discount 40%.
        let mut h = vec![100.0; 300];
        h.extend(vec![10.0; 700]);
        let od = 1.0;
        let p = plan(&h, od, &ri(0.4)).unwrap();
        assert_eq!(p.level_instances, 10.0);
        // Hand-worked, per hour: commit 10 -> 10 x 0.6 + 0.3 x 90 = 33.0;
        // commit the average 37 -> 37 x 0.6 + 0.3 x 63 = 41.1 (worse than none: 37.0).
        let (at_q, util, _) = evaluate(&h, 10.0, od, 0.4);
        let (at_avg, _, _) = evaluate(&h, 37.0, od, 0.4);
        let (none, _, _) = evaluate(&h, 0.0, od, 0.4);
        assert!((at_q - 33.0).abs() < 1e-9 && (at_avg - 41.1).abs() < 1e-9);
        assert!((none - 37.0).abs() < 1e-9);
        assert!(at_avg > none, "the average-based commitment loses money");
        assert_eq!(util, 1.0);
        assert!((p.saving.saving_usd_month - 4.0 * 730.0).abs() < 1e-6);
    }

    #[test]
    fn one_year_no_upfront_ri_break_even() {
        // m5.xlarge us-east-1: on-demand $0.192/h; 1-year standard no-upfront RI $0.121/h.
        let d = 1.0 - 0.121 / 0.192;
        let p = plan(&[1.0; 1000], 0.192, &ri(d)).unwrap();
        // Break-even utilization 0.121 / 0.192 = 63.0%; it pays if the instance runs at least
        // 12 x 0.630 = 7.56 of the 12 months.
        assert!((p.break_even_utilization - 0.6302).abs() < 1e-4);
        assert!((p.break_even_months - 7.5625).abs() < 1e-9);
        // Always-on: saves (0.192 - 0.121) x 730 = $51.83 a month per instance.
        assert!((p.saving.saving_usd_month - 51.83).abs() < 1e-9);
    }

    #[test]
    fn existing_commitment_utilization_and_coverage() {
        let h = [10.0, 20.0, 30.0, 40.0];
        let (u, c) = existing_utilization(&h, 20.0);
        // Used: 10 + 20 + 20 + 20 = 70 of 80 committed; of 100 used.
        assert_eq!((u, c), (70.0 / 80.0, 0.7));
        assert_eq!(required_history_hours(3), 1008);
    }
}

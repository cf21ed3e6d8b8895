//! Spot strategy for one group: is it suitable, how large an on-demand base keeps the SLO when
//! the largest spot pool is reclaimed at once, the blended rate and the expected
//! interruptions. Spot capacity above the base is spread evenly over its pools (each instance
//! type in each availability zone, as price-capacity-optimized allocation spreads it); losing
//! the largest pool loses 1/pools of it.

use serde::Serialize;

use super::savings::{saving, Saving};
use super::HOURS_PER_MONTH;

/// AWS gives a two-minute interruption notice; a replacement that starts within it keeps
/// capacity up (longer starts leave a gap the base must cover).
pub const INTERRUPTION_NOTICE_SECONDS: u32 = 120;

#[derive(Debug, Clone, PartialEq)]
pub struct SpotInputs<'a> {
    /// Instances provisioned per hour under the policy.
    pub provisioned: &'a [f64],
    /// Instances that carry the SLO per hour (below this, p95 or drops break it).
    pub required: &'a [f64],
    pub on_demand_usd: f64,
    /// Fraction off on-demand (0.62 = 62%).
    pub spot_discount: f64,
    /// Share of spot instances interrupted per month (band midpoint).
    pub interruptions_per_instance_month: f64,
    /// Instance types to diversify across (at least one: the current type).
    pub pools: Vec<String>,
    /// Availability zones the group spans; a spot pool is one type in one zone.
    pub availability_zones: u32,
    pub stateless: bool,
    pub startup_seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpotPlan {
    pub suitable: bool,
    pub reasons: Vec<String>,
    pub on_demand_base: u32,
    /// Percent of capacity above the base that stays on demand.
    pub on_demand_percentage_above_base: u32,
    pub pools: Vec<String>,
    /// Spot pools (instance types x availability zones).
    pub pool_count: u32,
    /// Share of spot capacity in the largest pool.
    pub largest_pool_share: f64,
    /// Share of instance-hours on spot.
    pub spot_share: f64,
    pub blended_usd_per_hour: f64,
    pub expected_interruptions_per_month: f64,
    pub saving: Saving,
}

/// Capacity left after the largest of `pools` equal spot pools is lost.
fn after_losing_largest(base: f64, provisioned: f64, pools: usize) -> f64 {
    let spot = (provisioned - base).max(0.0);
    base.min(provisioned) + spot * (1.0 - 1.0 / pools.max(1) as f64)
}

/// The smallest whole on-demand base that carries the SLO after the largest pool is lost, in
/// every hour where the fleet carried it to begin with (an hour already short of the SLO is a
/// policy problem no base fixes; [`short_hours`] counts them).
pub fn minimum_base(provisioned: &[f64], required: &[f64], pools: usize) -> u32 {
    let max_p = provisioned
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
        .ceil() as u32;
    (0..=max_p)
        .find(|&b| {
            provisioned.iter().zip(required).all(|(p, r)| {
                !(p.is_finite() && r.is_finite())
                    || p < r
                    || after_losing_largest(f64::from(b), *p, pools) + 1e-9 >= *r
            })
        })
        .unwrap_or(max_p)
}

/// Hours in which the fleet itself was below what the SLO needs.
pub fn short_hours(provisioned: &[f64], required: &[f64]) -> usize {
    provisioned
        .iter()
        .zip(required)
        .filter(|(p, r)| p.is_finite() && r.is_finite() && p < r)
        .count()
}

/// Mean $/h of a fleet with `base` on demand and the rest on spot.
pub fn blended_usd_per_hour(provisioned: &[f64], base: f64, od: f64, spot: f64) -> (f64, f64) {
    let f: Vec<f64> = provisioned
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let total: f64 = f.iter().sum();
    if total <= 0.0 {
        return (od, 0.0);
    }
    let on_demand: f64 = f.iter().map(|p| p.min(base)).sum();
    let spot_hours = total - on_demand;
    (
        (on_demand * od + spot_hours * spot) / total,
        spot_hours / total,
    )
}

pub fn plan(i: &SpotInputs) -> SpotPlan {
    let mut reasons = Vec::new();
    if !i.stateless {
        reasons.push("stateful: an interruption loses state (databases, sessions)".to_string());
    }
    if i.startup_seconds > 5 * INTERRUPTION_NOTICE_SECONDS {
        reasons.push(format!(
            "startup {} s is far beyond the 2-minute interruption notice",
            i.startup_seconds
        ));
    }
    if i.spot_discount <= 0.0 {
        reasons.push("no spot market for this type".to_string());
    }
    let suitable = reasons.is_empty();
    if suitable {
        reasons.push(format!(
            "stateless; replacements start in {} s (notice {} s)",
            i.startup_seconds, INTERRUPTION_NOTICE_SECONDS
        ));
        let short = short_hours(i.provisioned, i.required);
        if short > 0 {
            reasons.push(format!(
                "{short} h where the fleet was already below the SLO's need are left to the scaling policy"
            ));
        }
    }
    let pools = i.pools.len().max(1) * i.availability_zones.max(1) as usize;
    let base = if suitable {
        minimum_base(i.provisioned, i.required, pools)
    } else {
        u32::MAX
    };
    let spot_usd = i.on_demand_usd * (1.0 - i.spot_discount);
    let (blended, spot_share) =
        blended_usd_per_hour(i.provisioned, f64::from(base), i.on_demand_usd, spot_usd);
    let f: Vec<f64> = i
        .provisioned
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let mean = if f.is_empty() {
        0.0
    } else {
        f.iter().sum::<f64>() / f.len() as f64
    };
    let current = mean * i.on_demand_usd * HOURS_PER_MONTH;
    let projected = mean * blended * HOURS_PER_MONTH;
    SpotPlan {
        suitable,
        reasons,
        on_demand_base: if suitable { base } else { 0 },
        on_demand_percentage_above_base: if suitable { 0 } else { 100 },
        pools: i.pools.clone(),
        pool_count: pools as u32,
        largest_pool_share: 1.0 / pools as f64,
        spot_share,
        blended_usd_per_hour: blended,
        expected_interruptions_per_month: mean * spot_share * i.interruptions_per_instance_month,
        saving: saving(current, projected, 0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_survives_losing_the_largest_pool_and_blended_rate_is_hand_worked() {
        // 20 instances all day, 12 carry the SLO; spot over 4 pools. Base b: b + (20 - b) x 3/4
        // >= 12 -> b >= -12 -> 0 would do; with 2 pools: b + (20 - b)/2 >= 12 -> b >= 4.
        let p = [20.0; 24];
        let r = [12.0; 24];
        assert_eq!(minimum_base(&p, &r, 4), 0);
        assert_eq!(minimum_base(&p, &r, 2), 4);
        // One pool: losing it loses all spot, so the base must carry the SLO alone.
        assert_eq!(minimum_base(&p, &r, 1), 12);
        // m5.xlarge $0.192 on demand, spot 62% off = $0.07296. Base 4 of 20:
        // (4 x 0.192 + 16 x 0.07296) / 20 = 0.096768 $/h, 49.6% below on-demand.
        let i = SpotInputs {
            provisioned: &p,
            required: &r,
            on_demand_usd: 0.192,
            spot_discount: 0.62,
            interruptions_per_instance_month: 0.025,
            pools: vec!["m5.xlarge".into(), "m6i.xlarge".into()],
            availability_zones: 1,
            stateless: true,
            startup_seconds: 120,
        };
        let plan = plan(&i);
        assert!(plan.suitable);
        assert_eq!(plan.on_demand_base, 4);
        assert!((plan.blended_usd_per_hour - 0.096768).abs() < 1e-12);
        assert!((plan.saving.saving_pct - 49.6).abs() < 1e-9);
        // 16 spot instances x 2.5% a month = 0.4 interruptions a month.
        assert!((plan.expected_interruptions_per_month - 0.4).abs() < 1e-9);
    }

    #[test]
    fn stateful_groups_are_not_suitable() {
        let p = [4.0; 10];
        let i = SpotInputs {
            provisioned: &p,
            required: &p,
            on_demand_usd: 0.519,
            spot_discount: 0.0,
            interruptions_per_instance_month: 0.0,
            pools: vec!["db.r6g.xlarge".into()],
            availability_zones: 1,
            stateless: false,
            startup_seconds: 900,
        };
        let plan = plan(&i);
        assert!(!plan.suitable && plan.reasons.len() == 3);
        assert_eq!(plan.saving.saving_usd_month, 0.0);
    }
}

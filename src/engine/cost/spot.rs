//! Spot strategy for one group: is it suitable, how much on-demand capacity (a base, and a
//! percentage of the capacity above it, as an ASG mixed instances policy sets them) keeps the
//! SLO when the largest spot pool is reclaimed at once, the blended rate and the expected
//! interruptions.
//!
//! A spot pool is one instance type in one availability zone. Diversifying over several types
//! lowers the interruption rate, but price-capacity-optimized allocation does not spread spot
//! evenly over the types: it fills the deepest, cheapest pool of each zone, and only the
//! balance across zones is guaranteed. So the largest pool can hold a whole zone's spot
//! capacity, 1/zones of it, and that is what the on-demand part must survive losing.

use serde::Serialize;

use super::savings::{saving, Saving};
use super::HOURS_PER_MONTH;

/// AWS gives a two-minute interruption notice; a replacement that starts within it keeps
/// capacity up (longer starts leave a gap the base must cover).
///
/// Capacity Rebalance (set in the emitted ASG update) launches a replacement on the EC2
/// rebalance recommendation, but AWS sends that signal best-effort and says it can arrive
/// together with the two-minute notice (EC2 User Guide, "EC2 instance rebalance
/// recommendations"). So the plan gives it no credit: the largest pool is taken as lost with
/// no replacement in time, and the on-demand part with the other zones' spot carries the SLO.
pub const INTERRUPTION_NOTICE_SECONDS: u32 = 120;

#[derive(Debug, Clone, PartialEq)]
pub struct SpotInputs<'a> {
    /// Instances provisioned per hour under the policy.
    pub provisioned: &'a [f64],
    /// Instances that carry the SLO per hour (below this, p95 or drops break it).
    pub required: &'a [f64],
    /// The fleet and the SLO's need per input step, when known: the SLO check runs on them
    /// (the hourly series above still price the plan).
    pub steps: Option<(&'a [f64], &'a [f64])>,
    pub on_demand_usd: f64,
    /// Fraction off on-demand (0.62 = 62%).
    pub spot_discount: f64,
    /// Share of spot instances interrupted per month (band midpoint).
    pub interruptions_per_instance_month: f64,
    /// Instance types to diversify across (at least one: the current type).
    pub pools: Vec<String>,
    /// Availability zones the group spans (balanced by the group); a spot pool is one type in
    /// one zone.
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
    /// Share of spot capacity the largest pool can hold (one zone's).
    pub largest_pool_share: f64,
    /// Share of instance-hours on spot.
    pub spot_share: f64,
    pub blended_usd_per_hour: f64,
    pub expected_interruptions_per_month: f64,
    pub saving: Saving,
    /// The step that sets the mix: the least SLO margin left after the largest pool is lost.
    pub binding: Option<BindingStep>,
    /// Zones the spot is spread over in this plan.
    pub availability_zones: u32,
    /// The mix at each zone count tried (the zones the group spans today, then all of the
    /// region's), in that order.
    pub zone_options: Vec<ZoneOption>,
    /// Set when the plan spreads spot over more zones than the group spans today, because
    /// that raises the SLO-safe saving.
    pub spread: Option<ZoneSpread>,
}

/// The SLO-safe mix when spot is spread over `zones` zones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneOption {
    pub zones: u32,
    pub on_demand_base: u32,
    pub on_demand_percentage_above_base: u32,
    pub spot_share: f64,
    pub saving_pct: f64,
    pub saving_usd_month: f64,
}

/// Spreading over all of the region's zones instead of the zones spanned today.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneSpread {
    /// The region and what spreading asks for there (set by the caller, who knows the cloud).
    pub region: String,
    pub caveat: String,
    pub zones_now: u32,
    pub region_zones: u32,
    /// Saving of the best SLO-safe mix at today's zones.
    pub saving_pct_now: f64,
    pub saving_usd_month_now: f64,
}

/// Where the on-demand part is tightest: at this step, after losing the largest pool, the
/// fleet keeps `after_loss` instances against the SLO's `required`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BindingStep {
    /// Index in the series the SLO was checked on (input steps, or hours).
    pub index: usize,
    /// Its start (set by the caller, who knows the series' clock).
    pub at_unix: Option<i64>,
    pub provisioned: f64,
    pub required: f64,
    pub after_loss: f64,
}

/// The step with the least margin (after losing the largest pool, minus what the SLO needs)
/// among those where the fleet carried the SLO.
pub fn binding_step(
    provisioned: &[f64],
    required: &[f64],
    base: f64,
    od_share: f64,
    lost_share: f64,
) -> Option<BindingStep> {
    provisioned
        .iter()
        .zip(required)
        .enumerate()
        .filter(|(_, (p, r))| p.is_finite() && r.is_finite() && p >= r)
        .map(|(i, (p, r))| BindingStep {
            index: i,
            at_unix: None,
            provisioned: *p,
            required: *r,
            after_loss: after_losing_largest(base, *p, od_share, lost_share),
        })
        .min_by(|a, b| (a.after_loss - a.required).total_cmp(&(b.after_loss - b.required)))
}

/// Capacity left after losing the largest pool, `lost_share` of the spot instances rounded up
/// to whole instances (zones are balanced to within one instance, so one zone can hold
/// ceil(spot / zones)), with `base` on demand and `od_share` of the capacity above it on
/// demand too. The on-demand part above the base is taken rounded down (the most spot a whole
/// percentage can leave, whichever way the group rounds it), so a mix that passes here holds
/// with either rounding.
fn after_losing_largest(base: f64, provisioned: f64, od_share: f64, lost_share: f64) -> f64 {
    let above = (provisioned - base).max(0.0);
    let od_above = if od_share >= 1.0 {
        above
    } else {
        (above * od_share + 1e-9).floor().min(above)
    };
    let spot = above - od_above;
    let lost = (spot * lost_share - 1e-9).ceil().clamp(0.0, spot);
    base.min(provisioned) + above - lost
}

/// The smallest whole on-demand base that, with `od_share` of the capacity above it on demand,
/// carries the SLO after the largest pool (`lost_share` of spot) is lost, in every hour where
/// the fleet carried it to begin with (an hour already short of the SLO is a policy problem no
/// base fixes; [`short_hours`] counts them).
pub fn minimum_base(provisioned: &[f64], required: &[f64], od_share: f64, lost_share: f64) -> u32 {
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
                    || after_losing_largest(f64::from(b), *p, od_share, lost_share) + 1e-9 >= *r
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

/// On-demand instances of a fleet of `provisioned` with `base` on demand and `od_share` of
/// the capacity above it.
pub fn on_demand_part(provisioned: f64, base: f64, od_share: f64) -> f64 {
    provisioned.min(base) + (provisioned - base).max(0.0) * od_share
}

/// Mean $/h per instance of a fleet with `base` and `od_share` above it on demand and the rest
/// on spot, and the share of instance-hours on spot.
pub fn blended_usd_per_hour(
    provisioned: &[f64],
    base: f64,
    od_share: f64,
    od: f64,
    spot: f64,
) -> (f64, f64) {
    let f: Vec<f64> = provisioned
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    let total: f64 = f.iter().sum();
    if total <= 0.0 {
        return (od, 0.0);
    }
    let on_demand: f64 = f.iter().map(|p| on_demand_part(*p, base, od_share)).sum();
    let spot_hours = total - on_demand;
    (
        (on_demand * od + spot_hours * spot) / total,
        spot_hours / total,
    )
}

/// Percentages above the base tried: every whole percent, as an ASG takes them
/// (`OnDemandPercentageAboveBaseCapacity`, 0-100).
const OD_PERCENT_STEPS: std::ops::RangeInclusive<u32> = 0..=100;

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
        let (unit, short) = match i.steps {
            Some((p, r)) => ("steps", short_hours(p, r)),
            None => ("h", short_hours(i.provisioned, i.required)),
        };
        if short > 0 {
            reasons.push(format!(
                "{short} {unit} where the fleet was already below the SLO's need are left to the scaling policy"
            ));
        }
    }
    let pools = i.pools.len().max(1) * i.availability_zones.max(1) as usize;
    let lost_share = 1.0 / f64::from(i.availability_zones.max(1));
    let spot_usd = i.on_demand_usd * (1.0 - i.spot_discount);
    // The cheapest (base, percentage above it) that survives losing the largest pool: a base
    // alone must carry the worst hour, a percentage grows with the fleet.
    let (base, od_pct, blended, spot_share) = if suitable {
        OD_PERCENT_STEPS
            .map(|pct| {
                let share = f64::from(pct) / 100.0;
                let (check_p, check_r) = i.steps.unwrap_or((i.provisioned, i.required));
                let b = minimum_base(check_p, check_r, share, lost_share);
                let (blended, spot_share) = blended_usd_per_hour(
                    i.provisioned,
                    f64::from(b),
                    share,
                    i.on_demand_usd,
                    spot_usd,
                );
                (b, pct, blended, spot_share)
            })
            .fold(None, |best: Option<(u32, u32, f64, f64)>, c| match best {
                Some(b) if b.2 <= c.2 + 1e-12 => Some(b),
                _ => Some(c),
            })
            .unwrap_or((0, 100, i.on_demand_usd, 0.0))
    } else {
        (0, 100, i.on_demand_usd, 0.0)
    };
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
    let binding = suitable
        .then(|| {
            let (check_p, check_r) = i.steps.unwrap_or((i.provisioned, i.required));
            binding_step(
                check_p,
                check_r,
                f64::from(base),
                f64::from(od_pct) / 100.0,
                lost_share,
            )
        })
        .flatten();
    SpotPlan {
        suitable,
        reasons,
        on_demand_base: base,
        on_demand_percentage_above_base: od_pct,
        pools: i.pools.clone(),
        pool_count: pools as u32,
        largest_pool_share: lost_share,
        spot_share,
        blended_usd_per_hour: blended,
        expected_interruptions_per_month: mean * spot_share * i.interruptions_per_instance_month,
        saving: saving(current, projected, 0.0),
        binding,
        availability_zones: i.availability_zones.max(1),
        zone_options: Vec::new(),
        spread: None,
    }
}

fn option_of(p: &SpotPlan) -> ZoneOption {
    ZoneOption {
        zones: p.availability_zones,
        on_demand_base: p.on_demand_base,
        on_demand_percentage_above_base: p.on_demand_percentage_above_base,
        spot_share: p.spot_share,
        saving_pct: p.saving.saving_pct,
        saving_usd_month: p.saving.saving_usd_month,
    }
}

/// The plan at the zones the group spans today (`i.availability_zones`) and, where the region
/// has more (`region_zones`), spread over all of them: the lose-the-largest-pool rule is the
/// same, only a zone's share of spot shrinks (1/6 instead of 1/3 in us-east-1). The wider
/// spread is chosen only where it saves more; both are kept in `zone_options`.
pub fn plan_over_zones(i: &SpotInputs, region_zones: Option<u32>) -> SpotPlan {
    let mut now = plan(i);
    now.zone_options.push(option_of(&now));
    let Some(z) = region_zones.filter(|z| *z > now.availability_zones && now.suitable) else {
        return now;
    };
    let mut wide = plan(&SpotInputs {
        availability_zones: z,
        ..i.clone()
    });
    now.zone_options.push(option_of(&wide));
    // A cent a month is noise, not a reason to ask for more subnets.
    if wide.saving.saving_usd_month > now.saving.saving_usd_month + 0.01 {
        wide.zone_options = now.zone_options;
        wide.spread = Some(ZoneSpread {
            region: String::new(),
            caveat: String::new(),
            zones_now: now.availability_zones,
            region_zones: z,
            saving_pct_now: now.saving.saving_pct,
            saving_usd_month_now: now.saving.saving_usd_month,
        });
        wide
    } else {
        now
    }
}

/// What spreading spot over all `zones` zones of `region` asks of the group, by cloud: a subnet
/// (or zone entry) per zone, and the provider's charge for traffic between zones.
pub fn spread_caveat(cloud: &str, region: &str, zones: u32) -> String {
    match cloud {
        // EC2 on-demand pricing page, "Data Transfer within the same AWS Region": $0.01/GB in
        // each direction across Availability Zones.
        "aws" => format!(
            "needs a subnet in each of the {zones} {region} zones in the group's VPCZoneIdentifier; traffic between zones is billed $0.01/GB in each direction, so calls from the new zones to zonal dependencies (caches, databases) cost more; not every type is offered in every zone: check with `aws ec2 describe-instance-type-offerings --location-type availability-zone-id --region {region}`"
        ),
        // Compute Engine network pricing: egress between zones of a region $0.01/GB.
        "gcp" => format!(
            "the regional MIG's distribution policy must list all {zones} {region} zones; traffic between zones is billed $0.01/GB; not every machine type is offered in every zone (`gcloud compute machine-types list --filter=zone~{region}`)"
        ),
        _ => format!(
            "the scale set must list all {zones} {region} zones; check the size is offered in each (`az vm list-skus --location {region} --zone`)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_survives_losing_the_largest_pool_and_blended_rate_is_hand_worked() {
        // 20 instances all day, 12 carry the SLO. Spot over 4 zones: losing one zone's pool
        // loses a quarter: b + (20 - b) x 3/4 >= 12 -> 0 would do; over 2 zones:
        // b + (20 - b)/2 >= 12 -> b >= 4.
        let p = [20.0; 24];
        let r = [12.0; 24];
        assert_eq!(minimum_base(&p, &r, 0.0, 0.25), 0);
        assert_eq!(minimum_base(&p, &r, 0.0, 0.5), 4);
        // One zone: losing its pool loses all spot, so the base must carry the SLO alone.
        assert_eq!(minimum_base(&p, &r, 0.0, 1.0), 12);
        // With 20% of the capacity above the base on demand: b + (20 - b)(0.2 + 0.8/2) >= 12
        // -> b >= 0.
        assert_eq!(minimum_base(&p, &r, 0.2, 0.5), 0);
        // m5.xlarge $0.192 on demand, spot 62% off = $0.07296. Two types in two zones: the
        // largest pool can hold a zone's spot (half). Base 4 of 20:
        // (4 x 0.192 + 16 x 0.07296) / 20 = 0.096768 $/h, 49.6% below on-demand (20% above a
        // base of 0 costs the same; the plain base is kept).
        let i = SpotInputs {
            provisioned: &p,
            required: &r,
            steps: None,
            on_demand_usd: 0.192,
            spot_discount: 0.62,
            interruptions_per_instance_month: 0.025,
            pools: vec!["m5.xlarge".into(), "m6i.xlarge".into()],
            availability_zones: 2,
            stateless: true,
            startup_seconds: 120,
        };
        let plan = plan(&i);
        assert!(plan.suitable);
        assert_eq!(
            (plan.on_demand_base, plan.on_demand_percentage_above_base),
            (4, 0)
        );
        assert_eq!((plan.pool_count, plan.largest_pool_share), (4, 0.5));
        assert!((plan.blended_usd_per_hour - 0.096768).abs() < 1e-12);
        assert!((plan.saving.saving_pct - 49.6).abs() < 1e-9);
        // 16 spot instances x 2.5% a month = 0.4 interruptions a month.
        assert!((plan.expected_interruptions_per_month - 0.4).abs() < 1e-9);
    }

    #[test]
    fn a_short_peak_is_carried_by_a_percentage_not_a_base() {
        // 23 h a day at 20 instances (SLO needs 12), one peak hour at 100 (needs 90); one type
        // in two zones, so losing a zone's pool loses half the spot. A base alone must carry
        // the peak: b >= 2 x 90 - 100 = 80, which puts every off-peak hour on demand
        // (540 on-demand + 20 spot instance-hours a day). 80% above a base of 0: after losing
        // half the spot 100 x (0.8 + 0.2/2) = 90 >= 90 and 18 >= 12 off-peak; 448 on-demand +
        // 112 spot. At 62% off: 448 + 112 x 0.38 = 490.56 vs 560 all on demand (12.4% less);
        // the base alone: 540 + 20 x 0.38 = 547.6 (2.2%).
        let mut p = vec![20.0; 23];
        p.push(100.0);
        let mut r = vec![12.0; 23];
        r.push(90.0);
        let plan = plan(&SpotInputs {
            provisioned: &p,
            required: &r,
            steps: None,
            on_demand_usd: 0.192,
            spot_discount: 0.62,
            interruptions_per_instance_month: 0.025,
            pools: vec!["m5.xlarge".into()],
            availability_zones: 2,
            stateless: true,
            startup_seconds: 120,
        });
        assert_eq!(
            (plan.on_demand_base, plan.on_demand_percentage_above_base),
            (0, 80)
        );
        assert!((plan.blended_usd_per_hour - 490.56 / 560.0 * 0.192).abs() < 1e-12);
        assert!((plan.saving.saving_pct - 12.4).abs() < 1e-9);
        assert!((plan.spot_share - 0.2).abs() < 1e-12);
        assert_eq!(minimum_base(&p, &r, 0.0, 0.5), 80);
        // The peak hour sets the mix: 100 x (0.8 + 0.2 x 1/2) = 90 left against 90 needed.
        let b = plan.binding.expect("binding step");
        assert_eq!((b.index, b.provisioned, b.required), (23, 100.0, 90.0));
        assert!((b.after_loss - 90.0).abs() < 1e-9);
    }

    #[test]
    fn the_percentage_above_the_base_is_any_whole_percent() {
        // The storefront's Black Friday step: 100 instances, 89 needed, spot over 6 zones.
        // At most 11 may be lost and a zone holds ceil(spot / 6): spot <= 66, so 34 on demand
        // (a base of 34, or 34% above none: the same on a flat fleet; steps of ten would stop
        // at 40). 34 x $0.192 + 66 x $0.07296 = $11.34336 an hour for 100: 40.92% less than
        // all on demand.
        let p = vec![100.0; 24];
        let r = vec![89.0; 24];
        let plan = plan(&SpotInputs {
            provisioned: &p,
            required: &r,
            steps: None,
            on_demand_usd: 0.192,
            spot_discount: 0.62,
            interruptions_per_instance_month: 0.025,
            pools: vec!["m5.xlarge".into()],
            availability_zones: 6,
            stateless: true,
            startup_seconds: 120,
        });
        assert!((plan.spot_share - 0.66).abs() < 1e-12);
        assert!((plan.blended_usd_per_hour - 0.1134336).abs() < 1e-12);
        assert!((plan.saving.saving_pct - 40.92).abs() < 1e-9);
        // 33% would leave 67 on spot: a zone may hold 12, and 88 < 89.
        assert!(after_losing_largest(0.0, 100.0, 0.33, 1.0 / 6.0) < 89.0);
        // A fractional on-demand part counts as its whole instances only: 10.5 above the base
        // at 40% is 4 on demand, not 4.2, so 6.5 spot (a zone may hold 3 of them over 3).
        assert!((after_losing_largest(0.0, 10.5, 0.4, 1.0 / 3.0) - 7.5).abs() < 1e-9);
    }

    #[test]
    fn a_zone_holds_its_share_of_spot_rounded_up() {
        // 10 instances all on spot over 3 zones: the zones hold 4, 3 and 3, so losing the
        // largest pool leaves 6. With 7 needed, a base of 1 leaves 9 spot (3 per zone):
        // 1 + 9 - 3 = 7.
        assert_eq!(after_losing_largest(0.0, 10.0, 0.0, 1.0 / 3.0), 6.0);
        assert_eq!(minimum_base(&[10.0], &[7.0], 0.0, 1.0 / 3.0), 1);
        // 9 spot over 2 zones: one holds 5, not 4.5.
        assert_eq!(after_losing_largest(0.0, 9.0, 0.0, 0.5), 4.0);
        // With a percentage on demand the spot part is fractional: 10 instances, 25% on
        // demand = 2.5, spot 7.5 over 2 zones: one zone holds 4 (3.75 rounded up), 6 left.
        assert_eq!(after_losing_largest(0.0, 10.0, 0.25, 0.5), 6.0);
    }

    fn steady<'a>(p: &'a [f64], r: &'a [f64], zones: u32) -> SpotInputs<'a> {
        SpotInputs {
            provisioned: p,
            required: r,
            steps: None,
            on_demand_usd: 0.077,
            spot_discount: 0.62,
            interruptions_per_instance_month: 0.025,
            pools: vec!["m6g.large".into()],
            availability_zones: zones,
            stateless: true,
            startup_seconds: 120,
        }
    }

    #[test]
    fn spreading_over_all_six_us_east_1_zones_lets_the_whole_fleet_be_spot() {
        // Fleet 9, 7 needed: at most 2 may be lost. Over 3 zones a zone holds ceil(s/3), so
        // s <= 6 spot and a base of 3; over 6 zones ceil(s/6) <= 2 for s <= 12, so all 9.
        assert_eq!(minimum_base(&[9.0], &[7.0], 0.0, 1.0 / 3.0), 3);
        assert_eq!(minimum_base(&[9.0], &[7.0], 0.0, 1.0 / 6.0), 0);
        assert_eq!(after_losing_largest(0.0, 9.0, 0.0, 1.0 / 6.0), 7.0);
        let (p, r) = ([9.0; 24], [7.0; 24]);
        // Today (3 zones): 6 of 9 on spot at 62% off = 41.3% saving; over 6 zones all 9: 62%.
        let plan = plan_over_zones(&steady(&p, &r, 3), Some(6));
        assert_eq!(plan.availability_zones, 6);
        assert_eq!(
            (plan.on_demand_base, plan.on_demand_percentage_above_base),
            (0, 0)
        );
        assert!((plan.spot_share - 1.0).abs() < 1e-12);
        assert!((plan.saving.saving_pct - 62.0).abs() < 1e-9);
        assert!((plan.largest_pool_share - 1.0 / 6.0).abs() < 1e-12);
        assert_eq!(plan.pool_count, 6);
        let spread = plan.spread.as_ref().expect("spread");
        assert_eq!((spread.zones_now, spread.region_zones), (3, 6));
        assert!((spread.saving_pct_now - 62.0 * 6.0 / 9.0).abs() < 1e-9);
        let zones: Vec<(u32, u32)> = plan
            .zone_options
            .iter()
            .map(|o| (o.zones, o.on_demand_base))
            .collect();
        assert_eq!(zones, [(3, 3), (6, 0)]);
        // Losing the largest pool (2 of 9) leaves exactly the 7 the SLO needs.
        assert!((plan.binding.expect("binding").after_loss - 7.0).abs() < 1e-9);
    }

    #[test]
    fn more_zones_are_not_asked_for_when_they_save_nothing() {
        // Fleet 9, 8 needed: one may be lost: ceil(s/6) <= 1 -> s <= 6 over 6 zones (base 3,
        // 41.3%), s <= 3 over 3 (base 6, 20.7%), so the spread is asked for. With 9 needed
        // nothing may be lost at any zone count: no saving, and the plan stays at 3 zones.
        let (p, r) = ([9.0; 24], [8.0; 24]);
        let plan = plan_over_zones(&steady(&p, &r, 3), Some(6));
        assert_eq!(plan.on_demand_base, 3);
        assert!((plan.saving.saving_pct - 62.0 * 6.0 / 9.0).abs() < 1e-9);
        let r9 = [9.0; 24];
        let plan = plan_over_zones(&steady(&p, &r9, 3), Some(6));
        assert!(plan.spread.is_none() && plan.availability_zones == 3);
        assert_eq!(plan.zone_options.len(), 2);
        assert!(plan.saving.saving_usd_month.abs() < 1e-9 && plan.on_demand_base == 9);
        // A region with no more zones than the group spans: one option, no spread.
        let plan = plan_over_zones(&steady(&p, &r, 3), Some(3));
        assert!(plan.spread.is_none() && plan.zone_options.len() == 1);
    }

    #[test]
    fn stateful_groups_are_not_suitable() {
        let p = [4.0; 10];
        let i = SpotInputs {
            provisioned: &p,
            required: &p,
            steps: None,
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

//! The cost engine against hand-worked examples from public list prices.

use scaletop::artifact::CommitmentType;
use scaletop::engine::cost::commitment::{self, CommitmentOption};
use scaletop::engine::cost::spot::{self, SpotInputs};
use scaletop::engine::cost::{savings, HourlyCapacity};
use scaletop::pricing::{Catalog, PriceStatus};

#[test]
fn twenty_m5_xlarge_for_a_month() {
    // 20 x m5.xlarge, Linux, us-east-1 at the published $0.192/h, all month:
    // 20 x 0.192 x 730 = $2,803.20.
    let c = Catalog::built_in().unwrap();
    let p = c.on_demand("m5.xlarge", "us-east-1").unwrap();
    assert_eq!(p.status, PriceStatus::Verified);
    let h = HourlyCapacity::from_series(0, 60, &vec![20.0; 60 * 24 * 7]);
    assert!((h.monthly_usd(p.usd_per_hour) - 2803.2).abs() < 1e-9);
}

#[test]
fn one_year_no_upfront_reservation_break_even_from_the_catalog() {
    // AWS m5.xlarge us-east-1: on-demand $0.192; the catalog's 1-year no-upfront class rate
    // is 37% off: $0.12096/h. Break-even utilization 63%: a reserved instance that runs fewer
    // than 0.63 x 12 = 7.56 months of the year costs more than on-demand.
    let c = Catalog::built_in().unwrap();
    let d = c.class_rates("m5.xlarge").unwrap().reserved_1y;
    let opt = CommitmentOption {
        kind: CommitmentType::ReservedInstance,
        term_years: 1,
        discount: d,
        flexibility: "",
        status: PriceStatus::Unverified,
    };
    // Usage: 8 months of 10 instances, 4 months of none (hourly, 30-day months).
    let mut h = vec![10.0; 8 * 720];
    h.extend(vec![0.0; 4 * 720]);
    let p = commitment::plan(&h, 0.192, &opt).unwrap();
    assert!((p.break_even_months - 7.56).abs() < 1e-9);
    // 8 of 12 months used = 66.7% > 63%: reserving all 10 pays.
    assert_eq!(p.level_instances, 10.0);
    assert!((p.utilization - 8.0 / 12.0).abs() < 1e-9);
    // Per month: on-demand 10 x 0.192 x 730 x 8/12 = 934.40; reserved 10 x 0.12096 x 730 =
    // 883.008; saving $51.39.
    assert!((p.saving.saving_usd_month - (934.4 - 883.008)).abs() < 1e-6);
    // Used only 7 of 12 months: below break-even, reserve none.
    let mut h7 = vec![10.0; 7 * 720];
    h7.extend(vec![0.0; 5 * 720]);
    assert_eq!(
        commitment::plan(&h7, 0.192, &opt).unwrap().level_instances,
        0.0
    );
}

#[test]
fn quantile_commitment_beats_the_average_on_a_skewed_profile() {
    // A base of 20 instances with a 4-hour evening peak of 100 each day. Average
    // (20 x 20 + 100 x 4) / 24 = 33.3. Discount 37%: commit where usage is exceeded in 63% of
    // hours: 20.
    let day: Vec<f64> = (0..24)
        .map(|h| if (18..22).contains(&h) { 100.0 } else { 20.0 })
        .collect();
    let hours: Vec<f64> = day.iter().cycle().take(24 * 28).copied().collect();
    let avg = hours.iter().sum::<f64>() / hours.len() as f64;
    let (at_q, util_q, _) = commitment::evaluate(&hours, 20.0, 0.192, 0.37);
    let (at_avg, util_avg, _) = commitment::evaluate(&hours, avg, 0.192, 0.37);
    assert_eq!(commitment::optimal_level(&hours, 0.37), Some(20.0));
    assert!(
        at_q < at_avg,
        "quantile ${at_q}/h beats average ${at_avg}/h"
    );
    assert_eq!(util_q, 1.0);
    // Above the base, the extra 13.3 instances are used 4 h a day: 16.7% < 63% break-even.
    assert!(util_avg < 0.7);
}

#[test]
fn spot_blend_with_a_base_that_survives_the_largest_pool() {
    // 30 instances, the SLO needs 21. Three zones: the largest pool can hold one zone's spot,
    // so losing it loses a third of spot.
    // Base b: b + (30 - b) x 2/3 >= 21 -> b >= 3. Blended m5.xlarge at 62% off:
    // (3 x 0.192 + 27 x 0.07296) / 30 = 0.0848640 $/h: 55.8% below on-demand.
    let p = vec![30.0; 100];
    let r = vec![21.0; 100];
    let plan = spot::plan(&SpotInputs {
        provisioned: &p,
        required: &r,
        steps: None,
        on_demand_usd: 0.192,
        spot_discount: 0.62,
        interruptions_per_instance_month: 0.025,
        pools: vec!["m5.xlarge".into(), "m6i.xlarge".into(), "m5n.xlarge".into()],
        availability_zones: 3,
        stateless: true,
        startup_seconds: 120,
    });
    assert_eq!(plan.on_demand_base, 3);
    assert!((plan.blended_usd_per_hour - 0.084864).abs() < 1e-12);
    assert!((plan.saving.saving_pct - 55.8).abs() < 1e-9);
    assert!(plan.saving.saving_pct > 40.0);
}

#[test]
fn roi_with_an_upfront_payment() {
    // An all-upfront commitment of $1,500 saving $250 a month: ROI 12 months
    // = (3000 - 1500) / 1500 = 100%, payback 6 months.
    let s = savings::saving(1000.0, 750.0, 1500.0);
    assert_eq!(s.roi_12_months, Some(1.0));
    assert_eq!(s.payback_months, Some(6.0));
}

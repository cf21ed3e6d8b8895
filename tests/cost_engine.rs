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

/// While a type move waits for a reservation of the current type to end, the spot mix runs on
/// the current type: its saving in that period is the current type's spot discount on the
/// current type's price, not the new type's.
#[test]
fn spot_while_a_type_move_waits_is_priced_at_the_type_running() {
    use scaletop::engine::cost::plan::{self, Billing, ExistingCommitment, GroupData, Options};
    use scaletop::engine::cost::stranded::HORIZON_HOURS;
    let c = Catalog::built_in().unwrap();
    // 10 x m5.xlarge all day for two days (hourly samples), 4 carry the Slo, CPU p95 30%,
    // memory peak 20%: a cheaper type carries the same CPU work.
    let n = 48;
    let start = 1_699_999_200;
    let g = GroupData {
        name: "web".into(),
        labels: Default::default(),
        billing: Billing::Instances {
            instance_type: "m5.xlarge".into(),
            region: "us-east-1".into(),
        },
        start_unix: start,
        step_seconds: 3600,
        demand: vec![100.0; n],
        capacity: vec![10.0; n],
        capacity_source: "fixed".into(),
        required: vec![4.0; n],
        needed_at_target: vec![10.0; n],
        min_replicas: 1.0,
        cpu_utilization: vec![30.0; n],
        memory_utilization: vec![20.0; n],
        network_mbps: vec![f64::NAN; n],
        concurrency: vec![],
        provisioned_concurrency: 0.0,
        stateless: true,
        startup_seconds: 60,
        spot_now: None,
        lambda_metrics: Default::default(),
    };
    // 4 m5.xlarge reservations ending 2,160 h after the history.
    let history_end = start + n as i64 * 3600;
    let ri = ExistingCommitment {
        kind: "reserved_instance".into(),
        instance_type: Some("m5.xlarge".into()),
        region: Some("us-east-1".into()),
        count: Some(4),
        commitment_usd_per_hour: None,
        effective_usd_per_hour: None,
        starts: chrono::DateTime::from_timestamp(start - 86_400, 0),
        ends: chrono::DateTime::from_timestamp(history_end + 2160 * 3600, 0),
    };
    let opts = Options {
        cluster: None,
        terms: vec![1],
        source: "test".into(),
        off_hours: Default::default(),
        availability_zones: Default::default(),
    };
    let r = plan::analyze(&[g], &[ri], &c, &opts).unwrap();
    let p = &r.plans[0];
    // CPU p95 30% of 4 vCPUs: half as many 8-vCPU Graviton instances do the work,
    // c6g.2xlarge at the published $0.272/h.
    let new = p
        .instance_type
        .as_ref()
        .unwrap()
        .recommended
        .clone()
        .unwrap();
    assert_eq!(
        (new.name.as_str(), new.instances_per_current),
        ("c6g.2xlarge", 0.5)
    );
    assert_eq!(
        c.on_demand("c6g.2xlarge", "us-east-1")
            .unwrap()
            .usd_per_hour,
        0.272
    );
    // The move saves 10 x 0.192 x 730 - 5 x 0.272 x 730 = 1401.60 - 992.80 = $408.80 a month
    // but leaves the 4 reservations unused: 4 x 0.192 x 730 = $560.64 a month. It waits.
    let mv = p
        .stranded
        .iter()
        .find(|s| s.change == "instance_type")
        .unwrap();
    assert!((mv.saving_usd_month_before - 408.8).abs() < 1e-6, "{mv:?}");
    assert!(mv.defer, "{mv:?}");
    // Spot on the new type: 5 instances, 2 needed; losing a zone's pool (ceil(5/3) = 2)
    // leaves 3, so everything can be spot (base 0, 0% above it).
    let sp = p.spot.as_ref().unwrap();
    assert_eq!(
        (sp.on_demand_base, sp.on_demand_percentage_above_base),
        (0, 0)
    );
    // Spot discounts: compute class (c6g) 60%, general (m5) 62%.
    assert_eq!(c.class_rates("c6g.2xlarge").unwrap().spot_discount, 0.60);
    assert_eq!(c.class_rates("m5.xlarge").unwrap().spot_discount, 0.62);
    // After the reservation ends: 5 spot c6g.2xlarge, 5 x 0.272 x 0.60 x 730 = $595.68.
    // Until then the group still runs 10 m5.xlarge, all on spot:
    // 10 x 0.192 x 0.62 x 730 = $868.992, less the 4 reservations the mix leaves unused
    // ($560.64): $308.352. Over 12 months (2,160 of 8,760 h under the reservation):
    // 595.68 x 6600/8760 + 308.352 x 2160/8760 = $524.83. (Pricing the wait at the new type's
    // rate, as before, gave 595.68 x 6600/8760 + (595.68 - 560.64) x 2160/8760 = $457.44.)
    let st = p.stranded.iter().find(|s| s.change == "spot").unwrap();
    assert!((st.saving_usd_month_before - 595.68).abs() < 1e-6, "{st:?}");
    assert!(
        (st.saving_usd_month_during - 868.992).abs() < 1e-6,
        "{st:?}"
    );
    assert!((st.unused_per_hour - 4.0).abs() < 1e-9);
    assert!(!st.defer);
    let expect = 595.68 * (1.0 - 2160.0 / HORIZON_HOURS) + 308.352 * 2160.0 / HORIZON_HOURS;
    assert!((expect - 524.832).abs() < 1e-3);
    assert!((st.saving_usd_month_after - expect).abs() < 1e-6, "{st:?}");
    assert!((p.applied["spot"] - expect).abs() < 1e-6);
    assert!(
        st.arithmetic.contains("on m5.xlarge until the move"),
        "{}",
        st.arithmetic
    );
}

/// Fleet 9 with 7 needed by the SLO: at most 2 may be lost with a zone's spot. Over the 3 zones
/// a group is taken to span, a zone holds ceil(s/3) so s <= 6; us-east-1 has 6 zones
/// (use1-az1..az6), where ceil(s/6) <= 2 for s <= 12: all 9 may be spot.
#[test]
fn spreading_spot_over_all_the_regions_zones_is_recommended_where_it_saves() {
    use scaletop::engine::cost::plan::{self, Billing, GroupData, Options};
    let c = Catalog::built_in().unwrap();
    let n = 48;
    let group = |region: &str| GroupData {
        name: "indexer".into(),
        labels: Default::default(),
        billing: Billing::Instances {
            instance_type: "m6g.large".into(),
            region: region.into(),
        },
        start_unix: 1_699_999_200,
        step_seconds: 3600,
        demand: vec![100.0; n],
        capacity: vec![9.0; n],
        capacity_source: "fixed".into(),
        required: vec![7.0; n],
        needed_at_target: vec![9.0; n],
        min_replicas: 1.0,
        cpu_utilization: vec![f64::NAN; n],
        memory_utilization: vec![f64::NAN; n],
        network_mbps: vec![f64::NAN; n],
        concurrency: vec![],
        provisioned_concurrency: 0.0,
        stateless: true,
        startup_seconds: 60,
        spot_now: None,
        lambda_metrics: Default::default(),
    };
    let opts = |zones: &[(&str, u32)]| Options {
        cluster: None,
        terms: vec![],
        source: "test".into(),
        off_hours: Default::default(),
        availability_zones: zones.iter().map(|(g, z)| (g.to_string(), *z)).collect(),
    };
    let spot_of = |g: GroupData, o: Options| {
        let r = plan::analyze(std::slice::from_ref(&g), &[], &c, &o).unwrap();
        let recs = scaletop::commands::cost::recommendations(&r, &[g]);
        (r.plans[0].spot.clone().unwrap(), recs)
    };
    // us-east-1, spanning 3 zones today: all 9 on spot over 6 zones, 62% off m6g.large's
    // $0.077/h: 9 x 0.077 x 0.62 x 730 = $313.65 a month; at 3 zones base 3 and 6 on spot:
    // 6 x 0.077 x 0.62 x 730 = $209.10 (41.3%).
    let (sp, recs) = spot_of(group("us-east-1"), opts(&[]));
    assert_eq!(
        (sp.on_demand_base, sp.on_demand_percentage_above_base),
        (0, 0)
    );
    assert_eq!(sp.availability_zones, 6);
    assert!((sp.saving.saving_usd_month - 9.0 * 0.077 * 0.62 * 730.0).abs() < 1e-6);
    let z = sp.spread.as_ref().expect("spread over 6 zones");
    assert_eq!(
        (z.zones_now, z.region_zones, z.region.as_str()),
        (3, 6, "us-east-1")
    );
    assert!((z.saving_usd_month_now - 6.0 * 0.077 * 0.62 * 730.0).abs() < 1e-6);
    assert!(z.caveat.contains("$0.01/GB"), "{}", z.caveat);
    let rec = recs
        .iter()
        .find(|r| r.title.contains("spot"))
        .expect("spot recommendation");
    assert!(
        rec.title
            .contains("spread spot over all 6 us-east-1 zones (largest pool 1/6 of spot)"),
        "{}",
        rec.title
    );
    assert!(
        rec.evidence
            .iter()
            .any(|e| e.contains("base 3 + 0% (41.3% saving")),
        "{:?}",
        rec.evidence
    );
    // Told it already spans all 6: the same mix, nothing to spread.
    let (sp, recs) = spot_of(group("us-east-1"), opts(&[("indexer", 6)]));
    assert_eq!((sp.on_demand_base, sp.availability_zones), (0, 6));
    assert!(sp.spread.is_none());
    assert!(recs.iter().all(|r| !r.title.contains("spread")));
    // ap-southeast-1 has 3 zones (apse1-az1..az3): base 3, 41.3%.
    let (sp, _) = spot_of(group("ap-southeast-1"), opts(&[]));
    assert_eq!((sp.on_demand_base, sp.availability_zones), (3, 3));
    assert!(sp.spread.is_none() && (sp.saving.saving_pct - 62.0 * 6.0 / 9.0).abs() < 1e-9);
}

/// One x86 Lambda function for two days: 10 invocations/s of 200 ms (2 concurrent), 1,024 MB;
/// `metrics` as its Max Memory Used / cpu_total_time / Duration.
fn lambda_group(
    metrics: scaletop::engine::cost::plan::LambdaMetrics,
) -> scaletop::engine::cost::plan::GroupData {
    use scaletop::engine::cost::plan::{Billing, GroupData};
    let n = 48;
    GroupData {
        name: "fn".into(),
        labels: Default::default(),
        billing: Billing::Lambda {
            memory_mb: 1024.0,
            functions: 1,
            arch: scaletop::pricing::Arch::X86_64,
        },
        start_unix: 1_699_999_200,
        step_seconds: 3600,
        demand: vec![10.0; n],
        capacity: vec![2.0; n],
        capacity_source: "observed concurrency".into(),
        required: Vec::new(),
        needed_at_target: vec![2.0; n],
        min_replicas: 0.0,
        cpu_utilization: vec![f64::NAN; n],
        memory_utilization: vec![f64::NAN; n],
        network_mbps: vec![f64::NAN; n],
        concurrency: vec![2.0; n],
        provisioned_concurrency: 0.0,
        stateless: true,
        startup_seconds: 1,
        spot_now: None,
        lambda_metrics: metrics,
    }
}

#[test]
fn lambda_memory_composes_with_arm_and_provisioned_concurrency_once() {
    use scaletop::engine::cost::plan::{self, LambdaMetrics, Options};
    let c = Catalog::built_in().unwrap();
    let (x86, arm) = (&c.lambda.x86_64, &c.lambda.arm64);
    let opts = Options {
        cluster: None,
        terms: Vec::new(),
        source: "test".into(),
        off_hours: Default::default(),
        availability_zones: Default::default(),
    };
    // Peak Max Memory Used 300 MB, 40 ms CPU in 200 ms = 0.2 vCPU:
    // max(300 x 1.2 = 360, 0.2 x 1.2 x 1769 = 424.56) -> 425 MB, duration unchanged.
    let metrics = LambdaMetrics {
        max_memory_used_mb: [280.0, 300.0].repeat(24),
        cpu_total_time_ms: vec![40.0; 48],
        duration_ms: vec![200.0; 48],
    };
    let r = plan::analyze(&[lambda_group(metrics)], &[], &c, &opts).unwrap();
    let p = &r.plans[0];
    let m = p.memory.as_ref().unwrap();
    assert_eq!((m.needed_mb, m.lower), (425, true));
    // Per hour 2 x 3600 = 7,200 executed seconds, x 730 h a month, one step after another:
    let month = |usd_h: f64| usd_h * 730.0;
    let gb_new = 425.0 / 1024.0;
    // arm64 at 1 GB: 7,200 GB-s x (x86 - arm) duration rate.
    let arm_saving =
        month(7200.0 * (x86.duration_usd_per_gb_second - arm.duration_usd_per_gb_second));
    // memory, at the arm64 rate: 7,200 x (1 - 425/1024) GB-s.
    let memory_saving = month(7200.0 * (1.0 - gb_new) * arm.duration_usd_per_gb_second);
    // provisioned concurrency 2 (busy all the time), at 425 MB: on-demand duration becomes
    // provisioned duration plus the provisioned flat rate.
    let pc_saving = month(
        7200.0
            * gb_new
            * (arm.duration_usd_per_gb_second
                - arm.provisioned_duration_usd_per_gb_second
                - arm.provisioned_usd_per_gb_second),
    );
    let got = |k: &str| p.applied.get(k).copied().unwrap_or(f64::NAN);
    assert!(
        (got("instance_type") - arm_saving).abs() < 1e-6,
        "{:?}",
        p.applied
    );
    assert!(
        (got("memory") - memory_saving).abs() < 1e-6,
        "{:?}",
        p.applied
    );
    assert!(
        (got("concurrency") - pc_saving).abs() < 1e-6,
        "{:?}",
        p.applied
    );
    assert_eq!(p.concurrency.as_ref().unwrap().provisioned_concurrency, 2);
    let g = &r.groups[0];
    let requests = month(10.0 * 3600.0 * x86.request_usd);
    let current = requests + month(7200.0 * x86.duration_usd_per_gb_second);
    assert!((g.current_usd_month - current).abs() < 1e-6);
    assert!(
        (g.projected_usd_month - (current - arm_saving - memory_saving - pc_saving)).abs() < 1e-6,
        "each saving counted once"
    );

    // Without the memory metrics: no memory change, a note saying why, the rest unchanged.
    let r = plan::analyze(&[lambda_group(LambdaMetrics::default())], &[], &c, &opts).unwrap();
    let p = &r.plans[0];
    assert!(p.memory.is_none() && !p.applied.contains_key("memory"));
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("no memory rightsizing") && n.contains("max_memory_used_mb")),
        "{:?}",
        p.notes
    );
    assert!((p.applied["instance_type"] - arm_saving).abs() < 1e-6);
    assert!((p.applied["concurrency"] - pc_saving / gb_new).abs() < 1e-6);
}

use super::*;
use crate::engine::policy::parse_policy;

/// 1 GB, 100 ms, a limit high enough never to throttle.
fn function(duration_ms: f64, memory_mb: u32) -> FunctionModel {
    FunctionModel {
        memory_mb,
        duration_ms,
        cold_start_ms: 400.0,
        concurrency_limit: 1000,
        timeout_ms: 30_000.0,
        keep_warm_seconds: 600.0,
    }
}

fn slo() -> Slo {
    Slo {
        p95_latency_ms: 1000.0,
        ..Slo::default()
    }
}

/// The catalog's us-east-1 x86 rates: the worked examples below check them against AWS's.
fn p() -> &'static LambdaPrices {
    LambdaPrices::built_in_x86()
}

#[test]
fn on_demand_hour_costs_requests_plus_gb_seconds() {
    // 1,000 req/s x 100 ms x 1 GB for an hour: 3.6M requests ($0.72) and 360,000 GB-s
    // ($6.000012) at the list prices.
    let r = replay_function(
        &function(100.0, 1024),
        p(),
        0,
        60,
        &[1000.0; 60],
        Provisioned::Fixed(0),
        &slo(),
    )
    .expect("replay");
    assert!(
        (r.summary.cost_usd - 6.720_012).abs() < 1e-6,
        "{}",
        r.summary.cost_usd
    );
    assert!((r.summary.requests - 3_600_000.0).abs() < 1e-6);
    assert_eq!(r.summary.throttled_requests, 0.0);
}

#[test]
fn provisioned_hour_bills_configured_and_cheaper_duration() {
    // Same load on 100 provisioned: 360,000 GB-s provisioned ($1.500012) + duration at the
    // provisioned rate ($3.499992) + requests ($0.72).
    let r = replay_function(
        &function(100.0, 1024),
        p(),
        0,
        60,
        &[1000.0; 60],
        Provisioned::Fixed(100),
        &slo(),
    )
    .expect("replay");
    assert!(
        (r.summary.cost_usd - 5.720_004).abs() < 1e-6,
        "{}",
        r.summary.cost_usd
    );
    assert_eq!(r.summary.provisioned_utilization, Some(1.0));
}

#[test]
fn aws_pricing_page_provisioned_example() {
    // aws.amazon.com/lambda/pricing, provisioned concurrency example 1: 1024 MB, 1,000
    // provisioned for two hours, 1.2M invocations of 1 s each: $30.00 + $11.67 + $0.24 = $41.91.
    let mut f = function(1000.0, 1024);
    f.concurrency_limit = 1000;
    let rps = 1_200_000.0 / 7200.0;
    let r = replay_function(
        &f,
        p(),
        0,
        60,
        &[rps; 120],
        Provisioned::Fixed(1000),
        &slo(),
    )
    .expect("replay");
    assert!(
        (r.summary.cost_usd - 41.91).abs() < 0.005,
        "{}",
        r.summary.cost_usd
    );
}

#[test]
fn provisioned_breaks_even_at_sixty_percent() {
    assert!((p().provisioned_break_even_utilization() - 0.6).abs() < 1e-4);
}

#[test]
fn over_the_limit_is_throttled() {
    // 1,500 req/s x 100 ms needs 150 concurrent; a limit of 100 serves two thirds.
    let mut f = function(100.0, 512);
    f.concurrency_limit = 100;
    let mut envs = Environments::new(100.0);
    let out = envs.step(
        &f,
        p(),
        ProvisionedNow::steady(0.0),
        60.0,
        1500.0,
        &mut LatencyTable::new(),
    );
    assert!((out.concurrency - 100.0).abs() < 1e-9);
    assert!((out.throttled_rps - 500.0).abs() < 1e-9);
    assert!((out.served_rps - 1000.0).abs() < 1e-9);
}

#[test]
fn scaling_rate_is_a_thousand_environments_per_ten_seconds() {
    // From cold, 30,000 req/s x 100 ms needs 3,000 environments; in 10 s only 1,000 start.
    let mut f = function(100.0, 512);
    f.concurrency_limit = 10_000;
    let mut envs = Environments::new(0.0);
    let out = envs.step(
        &f,
        p(),
        ProvisionedNow::steady(0.0),
        10.0,
        30_000.0,
        &mut LatencyTable::new(),
    );
    assert!((out.concurrency - 1000.0).abs() < 1e-9);
    assert!((out.throttled_rps - 20_000.0).abs() < 1e-6);
    // Ten seconds later the cap is 2,000 above what is warm.
    let out = envs.step(
        &f,
        p(),
        ProvisionedNow::steady(0.0),
        10.0,
        30_000.0,
        &mut LatencyTable::new(),
    );
    assert!(
        (out.concurrency - 2000.0).abs() < 1.0,
        "{}",
        out.concurrency
    );
}

#[test]
fn new_environments_are_cold_starts_and_provisioned_ones_are_not() {
    let f = function(100.0, 512);
    let mut t = LatencyTable::new();
    // 50 busy environments; demand doubles to 100 concurrent in a 60 s step: 50 new ones.
    let mut envs = Environments::new(50.0);
    let out = envs.step(&f, p(), ProvisionedNow::steady(0.0), 60.0, 1000.0, &mut t);
    let recycled = 100.0 * 60.0 / ENVIRONMENT_LIFETIME_SECONDS;
    assert!((out.cold_starts_per_second - (50.0 + recycled) / 60.0).abs() < 1e-9);
    // Demand falls to 20 for 10 minutes, then returns to 100: the 80 idle environments decayed
    // with the keep-warm time constant, the difference starts cold.
    let mut envs = Environments::new(100.0);
    for _ in 0..10 {
        envs.step(&f, p(), ProvisionedNow::steady(0.0), 60.0, 200.0, &mut t);
    }
    let out = envs.step(&f, p(), ProvisionedNow::steady(0.0), 60.0, 1000.0, &mut t);
    // Idle since the first low step: ten 60 s decays of 600 s keep-warm.
    let kept = 20.0 + 80.0 * (-1.0f64).exp();
    assert!((out.cold_starts_per_second - (100.0 - kept + recycled) / 60.0).abs() < 1e-9);
    // With 100 provisioned environments ready only recycling remains.
    let mut envs = Environments::new(50.0);
    let out = envs.step(&f, p(), ProvisionedNow::steady(100.0), 60.0, 1000.0, &mut t);
    assert!((out.cold_starts_per_second - recycled / 60.0).abs() < 1e-9);
    assert!(
        out.p95_ms < f.duration_ms * 4.0,
        "no cold start in p95: {}",
        out.p95_ms
    );
}

#[test]
fn cold_starts_push_p95_by_the_init_duration() {
    let f = function(100.0, 512);
    let mut t = LatencyTable::new();
    let mut warm = Environments::new(100.0);
    let steady = warm.step(&f, p(), ProvisionedNow::steady(0.0), 60.0, 1000.0, &mut t);
    let mut cold = Environments::new(0.0);
    let burst = cold.step(&f, p(), ProvisionedNow::steady(0.0), 60.0, 1000.0, &mut t);
    // 100 new environments over 60,000 requests is 0.17% cold: p99 pays part of the init
    // time, p95 a small share of it.
    assert!(burst.p99_ms > steady.p99_ms + 0.1 * f.cold_start_ms);
    assert!(burst.p95_ms >= steady.p95_ms);
}

const LAMBDA_PC_POLICY: &str = r#"{
  "ServiceNamespace": "lambda",
  "ResourceId": "function:api:live",
  "ScalableDimension": "lambda:function:ProvisionedConcurrency",
  "MinCapacity": 1,
  "MaxCapacity": 400,
  "ScalingPolicies": [{
    "PolicyName": "pc-70",
    "PolicyType": "TargetTrackingScaling",
    "TargetTrackingScalingPolicyConfiguration": {
      "TargetValue": 0.7,
      "PredefinedMetricSpecification": {"PredefinedMetricType": "LambdaProvisionedConcurrencyUtilization"}
    }
  }]
}"#;

#[test]
fn autoscaled_provisioned_concurrency_follows_demand_within_bounds() {
    let mut policy = parse_policy(LAMBDA_PC_POLICY).expect("policy");
    // Four hours: 1 h quiet (10 concurrent), 3 h busy (150 concurrent), 1-minute steps.
    let demand: Vec<f64> = (0..240)
        .map(|i| if i < 60 { 100.0 } else { 1500.0 })
        .collect();
    let r = replay_function(
        &function(100.0, 1024),
        p(),
        0,
        60,
        &demand,
        Provisioned::Autoscaled(policy.as_mut()),
        &slo(),
    )
    .expect("replay");
    assert!(r.steps.iter().all(|s| (1..=400).contains(&s.provisioned)));
    let last = r.steps.last().expect("steps");
    // Settles where utilization (in use / provisioned) is near the 0.7 target.
    let u = last.step.provisioned_in_use / f64::from(last.provisioned_ready);
    assert!(
        (0.55..=0.8).contains(&u),
        "utilization {u} at {} provisioned",
        last.provisioned
    );
    assert!(r.summary.provisioned_changes > 0);
    assert_eq!(r.summary.throttled_requests, 0.0);
    // Newly requested concurrency is not ready at once.
    let first_raise = r
        .steps
        .iter()
        .position(|s| s.provisioned > s.provisioned_ready);
    assert!(
        first_raise.is_some(),
        "increase should take time to be ready"
    );
}

#[test]
fn bad_input_is_named() {
    let f = function(100.0, 512);
    let e =
        replay_function(&f, p(), 0, 60, &[1.0, -2.0], Provisioned::Fixed(0), &slo()).unwrap_err();
    assert!(e.contains("step 1"), "{e}");
    let mut bad = f.clone();
    bad.duration_ms = f64::NAN;
    let e = replay_function(&bad, p(), 0, 60, &[1.0], Provisioned::Fixed(0), &slo()).unwrap_err();
    assert!(e.contains("duration_ms"), "{e}");
    assert!(replay_function(&f, p(), 0, 0, &[1.0], Provisioned::Fixed(0), &slo()).is_err());
}

#[test]
fn missing_demand_is_held() {
    let f = function(100.0, 512);
    let r = replay_function(
        &f,
        p(),
        0,
        60,
        &[100.0, f64::NAN, 100.0],
        Provisioned::Fixed(0),
        &slo(),
    )
    .expect("replay");
    assert_eq!(r.steps[1].demand, 100.0);
}

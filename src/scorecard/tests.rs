use chrono::DateTime;

use super::*;
use crate::model::{CapacityModel, GroupId, Platform};

fn info() -> GroupInfo {
    let mut i = GroupInfo::new(GroupId::new(Platform::Sim, "t", "web"));
    i.capacity = Some(CapacityModel {
        capacity_per_replica_rps: 100.0,
        concurrency_per_replica: 4,
        startup_seconds: 60,
        warmup_seconds: 0,
        min_replicas: 2,
        max_replicas: 10,
        warm_pool_size: 0,
        warm_pool_startup_seconds: 0,
        usd_per_replica_hour: 1.0,
        timeout_ms: 10_000.0,
    });
    i
}

fn event(at: i64, from: u32, to: u32) -> ScalingEvent {
    ScalingEvent {
        at: DateTime::from_timestamp(at, 0).expect("time"),
        group: info().id,
        from_replicas: from,
        to_replicas: to,
        reason: String::new(),
        demand: Some(100.0),
        thrash: false,
        origin: Default::default(),
    }
}

/// A spike from 100 to 400 req/s at minute 2; ready 2 -> 4 -> 8 replicas. At target 0.5,
/// capacity covers 50 req/s per replica: short from minute 2 until minute 4 (8 x 50 = 400).
fn spike() -> GroupWindow {
    let n = 10;
    let demand = vec![
        100.0, 100.0, 400.0, 400.0, 400.0, 400.0, 400.0, 400.0, 400.0, 400.0,
    ];
    let ready = vec![2.0, 2.0, 2.0, 4.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0];
    let p95 = vec![
        50.0, 50.0, 900.0, 400.0, 150.0, 60.0, 60.0, 60.0, 60.0, 60.0,
    ];
    GroupWindow {
        info: info(),
        start: 0,
        step_seconds: 60,
        demand,
        desired: vec![2.0, 2.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0],
        ready: ready.clone(),
        max: vec![10.0; n],
        p95,
        p99: vec![f64::NAN; n],
        errors: vec![0.0; n],
        dropped: vec![0.0; n],
        cost: ready,
        events: vec![event(120, 2, 8)],
        target_utilization: Some(0.5),
    }
}

#[test]
fn spike_worked_example() {
    let t = LoadTestTargets::default();
    let g = score_group(&spike(), &t, 300);
    assert_eq!(g.profile, DemandProfile::Spike);
    assert_eq!(g.time_to_scale_seconds, Some(vec![120]));
    assert_eq!(
        g.time_to_latency_ok_seconds,
        vec![120],
        "p95 150 <= 200 at minute 4"
    );
    assert_eq!(g.p95_during_scaling_ms, Some(900.0));
    assert_eq!(g.sla_violation_minutes, 2.0, "minutes 2 and 3 over 200 ms");
    assert_eq!((g.scale_ups, g.scale_downs, g.thrash_pairs), (1, 0, 0));
    // Cost: sum of ready replica-minutes (2+2+2+4+8*6 = 58) x $1/h / 60.
    assert!((g.cost_usd.expect("cost") - 58.0 / 60.0).abs() < 1e-9);
    assert!(g.passed, "{:?}", g.failures);
    let s = score(&[spike()], 0, 540, true, &t).expect("score");
    assert!(s.passed);
    let md = markdown::render(&s);
    assert!(
        md.contains("PASS") && md.contains("| web | pass | Spike"),
        "{md}"
    );
}

#[test]
fn slow_thrashing_scale_up_fails_with_reasons() {
    let mut w = spike();
    // Ready stays at 2 until minute 9: time to scale 7 min > 5.
    w.ready = vec![2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 8.0];
    w.events = vec![event(120, 2, 8), event(300, 8, 4), event(360, 4, 8)];
    let g = score_group(&w, &LoadTestTargets::default(), 300);
    assert_eq!(g.time_to_scale_seconds, Some(vec![420]));
    assert!(!g.passed);
    assert!(
        g.failures
            .iter()
            .any(|f| f.contains("time to scale 7.0 min")),
        "{:?}",
        g.failures
    );
    assert!(
        g.failures.iter().any(|f| f.contains("thrash")),
        "{:?}",
        g.failures
    );
    assert!(g.premature_scale_down_minutes > 0.0);
}

#[test]
fn steady_demand_and_empty_window() {
    let mut w = spike();
    w.demand = vec![100.0; 10];
    assert_eq!(classify(&w.demand, 60), DemandProfile::Steady);
    let r = crate::scorecard::markdown::render(
        &score(&[], 0, 60, true, &LoadTestTargets::default()).expect("empty"),
    );
    assert!(r.contains("PASS") || r.contains("FAIL"));
    let store = Store::new(60, 10);
    let e = window(&store, 0, 600).unwrap_err();
    assert!(e.contains("no demand data"), "{e}");
}

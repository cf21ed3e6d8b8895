use super::*;
use crate::model::Platform;

/// Monday 2026-02-02 00:00 UTC = Sunday 19:00 at UTC-5.
const START: i64 = 1_769_990_400;

fn local_hour(i: usize) -> i64 {
    (i as i64 + 24 - 5) % 24
}

/// A week at hourly steps: need 2 from 20:00 to 07:00 local, 15 in the day.
fn night_need() -> Vec<f64> {
    (0..168)
        .map(|i| {
            let h = local_hour(i);
            if !(7..20).contains(&h) {
                2.0
            } else {
                15.0
            }
        })
        .collect()
}

fn cap() -> CapacityModel {
    CapacityModel {
        capacity_per_replica_rps: 100.0,
        concurrency_per_replica: 10,
        startup_seconds: 120,
        warmup_seconds: 0,
        min_replicas: 10,
        max_replicas: 10,
        warm_pool_size: 0,
        warm_pool_startup_seconds: 0,
        usd_per_replica_hour: 0.192,
        timeout_ms: 30_000.0,
    }
}

#[test]
fn start_is_a_monday_at_midnight_utc() {
    let t = DateTime::from_timestamp(START, 0).unwrap();
    assert_eq!(t.to_rfc3339(), "2026-02-02T00:00:00+00:00");
}

#[test]
fn night_window_is_found_in_local_time() {
    let w = candidates(START, 3600, &night_need(), -5, 10);
    let best = &w[0];
    // 11 hours below the floor of 10, need 2: every day 20:00-07:00 at UTC-5.
    assert_eq!(
        (best.days, best.start_hour, best.end_hour, best.floor),
        (Days::Every, 20, 7, 2)
    );
    assert_eq!(best.hours(), 11);
    assert_eq!(best.time_zone, "Etc/GMT+5");
    assert_eq!(
        (best.start_cron(), best.end_cron()),
        ("0 20 * * *".to_string(), "0 7 * * *".to_string())
    );
    assert_eq!(best.days_below_share, 1.0);
    // No window reaches into the day (need 15 >= floor 10).
    assert!(w.iter().all(|c| c.floor == 2 && c.hours() <= 11));
}

#[test]
fn weekday_nights_end_the_next_morning() {
    let w = OffHoursWindow {
        days: Days::Weekdays,
        start_hour: 20,
        end_hour: 7,
        floor: 0,
        day_floor: 4,
        time_zone: "UTC".into(),
        days_below_share: 1.0,
    };
    assert_eq!(w.start_cron(), "0 20 * * 1-5");
    assert_eq!(w.end_cron(), "0 7 * * 2-6");
    assert!(w
        .describe()
        .starts_with("scale to zero from 20:00 to 07:00"));
    // Monday 00:00 UTC: Sunday night is not a weekday night, so Monday 00-07 is high; Monday
    // 20:00 drops, Tuesday 07:00 restores.
    let low = low_hours(&w, START, 48).unwrap();
    assert!(!low[0] && !low[6] && !low[19]);
    assert!(low[20] && low[30]);
    assert!(!low[31]);
}

#[test]
fn no_window_when_the_need_never_drops_below_the_floor() {
    let need = vec![12.0; 168];
    assert!(candidates(START, 3600, &need, -5, 10).is_empty());
    let demand = vec![500.0; 168];
    let input = ReplayInput {
        start: START,
        step_seconds: 3600,
        demand_rps: &demand,
        extra: Vec::new(),
    };
    let id = GroupId::new(Platform::Sim, "test", "flat");
    let slo = Slo {
        p95_latency_ms: 2000.0,
        ..Slo::default()
    };
    let g = GroupReplay {
        input: &input,
        cap: &cap(),
        slo: &slo,
        group: &id,
        initial: Some(10),
    };
    let make = |n: u32| -> Result<Box<dyn Autoscaler + Send>, String> {
        Ok(Box::new(FixedReplicas {
            replicas: n,
            max: 10,
        }))
    };
    let e = find(&g, &need, -5, 10, &make).unwrap_err();
    assert!(e.contains("no window"), "{e}");
}

#[test]
fn replayed_schedule_frees_the_night_hours() {
    // A group fixed at 10 by hand; demand fits 2 replicas at night.
    let demand: Vec<f64> = night_need().iter().map(|n| n * 40.0).collect();
    let input = ReplayInput {
        start: START,
        step_seconds: 3600,
        demand_rps: &demand,
        extra: Vec::new(),
    };
    let id = GroupId::new(Platform::Sim, "test", "db");
    let slo = Slo {
        p95_latency_ms: 2000.0,
        ..Slo::default()
    };
    let g = GroupReplay {
        input: &input,
        cap: &cap(),
        slo: &slo,
        group: &id,
        initial: Some(10),
    };
    let make = |n: u32| -> Result<Box<dyn Autoscaler + Send>, String> {
        Ok(Box::new(FixedReplicas {
            replicas: n,
            max: 10,
        }))
    };
    let f = find(&g, &night_need(), -5, 10, &make).unwrap();
    assert_eq!(
        (f.window.start_hour, f.window.end_hour, f.window.floor),
        (20, 7, 2)
    );
    // Hand count: the week runs Sunday 19:00 to Sunday 19:00 local and holds 7 nights of 11
    // hours: 77 h at 2 and 91 h at 10 = 1,064 instance-hours, against 1,680 fixed.
    assert_eq!(f.replica_hours_baseline, 1680.0);
    assert_eq!(f.replica_hours_scheduled, 1064.0);
    assert_eq!(
        f.sla_violation_minutes_scheduled,
        f.sla_violation_minutes_baseline
    );
    assert_eq!(f.scheduled_capacity.len(), 168);
}

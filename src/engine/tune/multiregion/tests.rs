use super::*;
use crate::engine::cost::offhours::FixedReplicas;

/// The scenario's region model: 800 rps and 32 concurrent requests per replica, so the
/// service time is 32 / 800 s = 40 ms and a lightly loaded p95 is 40 ms x ln 20 = 119.83 ms
/// (exponential service, no wait).
fn cap() -> CapacityModel {
    CapacityModel {
        capacity_per_replica_rps: 800.0,
        concurrency_per_replica: 32,
        startup_seconds: 180,
        warmup_seconds: 0,
        min_replicas: 4,
        max_replicas: 40,
        warm_pool_size: 0,
        warm_pool_startup_seconds: 0,
        usd_per_replica_hour: 0.34,
        timeout_ms: 3_000.0,
    }
}

const START: i64 = 1_777_852_800; // 2026-05-04T00:00:00Z, a Monday
const DAYS: usize = 5;

/// `base` rps, `peak` rps during [from, to) local hours, every day.
fn demand(offset: i32, base: f64, peak: f64, from: i64, to: i64) -> Vec<f64> {
    (0..DAYS * 1440)
        .map(|i| {
            let local_hour = ((i as i64 * 60 + START + i64::from(offset) * 3600) / 3600) % 24;
            if (from..to).contains(&local_hour) {
                peak
            } else {
                base
            }
        })
        .collect()
}

fn region<'a>(name: &str, offset: i32, d: &'a [f64], fixed: u32) -> RegionInput<'a> {
    RegionInput {
        name: format!("api-{name}"),
        region: name.to_string(),
        utc_offset_hours: offset,
        demand: d,
        cap: cap(),
        slo: Slo {
            p95_latency_ms: 200.0,
            ..Slo::default()
        },
        current: Box::new(move || {
            Box::new(FixedReplicas {
                replicas: fixed,
                max: 40,
            })
        }),
        current_label: format!("fixed at {fixed}"),
        base: None,
    }
}

fn request<'a>(a: &'a [f64], b: &'a [f64], rtt: f64) -> MultiRegionRequest<'a> {
    MultiRegionRequest {
        start: START,
        step_seconds: 60,
        regions: vec![region("east", -5, a, 16), region("west", 1, b, 16)],
        rtt_ms: vec![("east".into(), "west".into(), rtt)],
        max_rtt_ms: 100.0,
        size: SpaceSize::Small,
        threads: 2,
    }
}

/// Both regions' plans as the spill check sees them: each the fleet the search starts from
/// (its trough minimum, target tracking at 50% CPU), so the worked figures do not depend on
/// what the search picks. Returns the checks east -> west and west -> east.
fn spills(a: &[f64], b: &[f64], rtt: f64) -> (SpillCheck, SpillCheck) {
    let req = request(a, b, rtt);
    let split = crate::engine::tune::split(a.len(), 60).unwrap();
    let held_start = START + split as i64 * 60;
    let planned = |r: &RegionInput| {
        let doc = fleet_base(&r.name, &r.demand[..split], &r.cap).unwrap();
        let mut p = doc.autoscaler().unwrap();
        let heldout = run(p.as_mut(), held_start, 60, &r.demand[split..], r, None).unwrap();
        Planned {
            doc,
            base_min: base_replicas(&r.demand[..split], &r.cap),
            heldout,
        }
    };
    let (east, west) = (&req.regions[0], &req.regions[1]);
    let (pe, pw) = (planned(east), planned(west));
    (
        spill_check(&req, held_start, split, east, &pe, west, &pw, rtt).unwrap(),
        spill_check(&req, held_start, split, west, &pw, east, &pe, rtt).unwrap(),
    )
}

/// East idles at 2,000 rps and peaks at 2,600 rps for two local hours; its base minimum is
/// 4 replicas (p5 demand 2,000 / (800 x 0.7) = 3.6), which serve 4 x 800 x 0.7 = 2,240 rps, so
/// 360 rps spill. West carries 500 + 360 rps on 4 replicas (128 servers, 34 Erlangs): no
/// wait, so a spilled request's p95 is 119.83 ms + the round trip.
#[test]
fn spilling_is_allowed_only_when_round_trip_plus_the_neighbours_p95_fits_the_objective() {
    let a = demand(-5, 2_000.0, 2_600.0, 13, 15);
    let b = vec![500.0; DAYS * 1440];
    let light_p95 = 40.0 * 20f64.ln();
    let split = crate::engine::tune::split(a.len(), 60).unwrap();

    let (s, back) = spills(&a, &b, 76.0);
    assert!(s.within_rtt_limit);
    assert!(
        (s.worst_spilled_p95_ms - (light_p95 + 76.0)).abs() < 0.05,
        "{s:?}"
    );
    // 360 of the peak's 2,600 rps on each held-out peak minute (18:00-20:00 UTC on days 4
    // and 5: 240 of the 2,160 held-out minutes).
    let peak = a[split..].iter().filter(|&&v| v > 2_240.0).count() as f64;
    assert_eq!(peak, 240.0);
    let held_total = 2_000.0 * (2_160.0 - peak) + 2_600.0 * peak;
    assert!(
        (s.spilled_share - 360.0 * peak / held_total).abs() < 1e-9,
        "{s:?}"
    );
    assert_eq!(s.spilled_violation_minutes, 0.0);
    assert!(s.allowed, "{}", s.reason);
    // West never exceeds its base: nothing to spill the other way.
    assert!(
        !back.allowed && back.reason.contains("nothing to spill"),
        "{back:?}"
    );

    // 90 ms is under the 100 ms limit, but 119.83 + 90 = 209.83 ms misses 200 ms on every
    // spilled minute: 2 hours a day.
    let (s, _) = spills(&a, &b, 90.0);
    assert!(s.within_rtt_limit && !s.allowed, "{s:?}");
    assert!((s.worst_spilled_p95_ms - (light_p95 + 90.0)).abs() < 0.05);
    assert_eq!(s.spilled_violation_minutes, peak);
    assert!(
        s.reason.contains("over the 200 ms objective"),
        "{}",
        s.reason
    );

    // 158 ms (eu-west-1 <-> ap-southeast-1) fails the cross-region limit outright.
    let (s, _) = spills(&a, &b, 158.0);
    assert!(!s.within_rtt_limit && !s.allowed);
    assert!(
        s.reason.contains("100 ms cross-region limit"),
        "{}",
        s.reason
    );

    // The whole plan checks the pair both ways with the regions' searched plans.
    let o = plan(&request(&a, &b, 76.0)).unwrap();
    assert_eq!(o.spill.len(), 2);
    assert_eq!(o.train_steps, split);
}

/// A region 8 hours east of UTC peaking 13:00-17:00 local gets its minimum raised at 12:30
/// local, written in its own zone (Etc/GMT-8 is UTC+8), i.e. 04:30 UTC; the plan replays
/// on the held-out part cheaper than the fixed fleet sized for the peak, keeping the Slo.
#[test]
fn each_region_is_scheduled_ahead_of_its_own_local_peak() {
    let d = demand(8, 2_000.0, 9_000.0, 13, 17);
    let other = vec![500.0; DAYS * 1440];
    let req = MultiRegionRequest {
        start: START,
        step_seconds: 60,
        regions: vec![region("ap", 8, &d, 20), region("us", -5, &other, 6)],
        rtt_ms: Vec::new(),
        max_rtt_ms: 100.0,
        size: SpaceSize::Small,
        threads: 2,
    };
    let o = plan(&req).unwrap();
    let ap = &o.regions[0];
    let actions = ap.document["ScheduledActions"].as_array().unwrap();
    let raise = actions
        .iter()
        .find(|a| !a["ScheduledActionName"].as_str().unwrap().ends_with("-end"))
        .unwrap();
    assert_eq!(raise["Recurrence"], "30 12 * * *", "{actions:?}");
    assert_eq!(raise["TimeZone"], "Etc/GMT-8");
    // 9,000 rps at 70% of 800 rps: 17 replicas.
    assert_eq!(raise["MinSize"], 17);
    assert!(
        ap.plan
            .iter()
            .any(|l| l.contains("13:00-17:00 local (UTC+8)")),
        "{:?}",
        ap.plan
    );
    assert!(ap.holds, "{:?}", ap.planned);
    assert!(ap.current.keeps_slo);
    assert!(ap.saving_percent > 20.0, "{}", ap.saving_percent);
    // A flat region has nothing to schedule.
    assert!(o.regions[1].plan.iter().any(|l| l.contains("no schedule")));
    assert!(o.spill.is_empty());
}

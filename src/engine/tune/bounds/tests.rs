//! The bounds against brute force and against finished replays: whatever a candidate did
//! after a progress check, its final figures respect what the check said it must.

use super::*;
use crate::engine::replay::replay_summary;
use crate::engine::tune::doc::PolicyDoc;
use crate::engine::tune::space::{candidates, SpaceContext, SpaceSize};
use crate::model::{GroupId, Platform};

#[test]
fn top_gain_is_the_sum_of_the_largest_excesses() {
    let floors = [7u32, 3, 9, 9, 2, 5, 5, 5, 1, 0, 12];
    let mut hist: HashMap<u32, u64> = HashMap::new();
    for f in floors {
        *hist.entry(f).or_default() += 1;
    }
    let s = Suffix::new(hist.into_iter().collect());
    for min in 0..14 {
        let mut gains: Vec<u32> = floors.iter().map(|&f| f.saturating_sub(min)).collect();
        gains.sort_unstable_by(|a, b| b.cmp(a));
        for j in 0..=floors.len() as u64 + 2 {
            let want: u32 = gains.iter().take(j as usize).sum();
            assert_eq!(s.top_gain(j, min), f64::from(want), "min {min} j {j}");
        }
        assert_eq!(s.total_gain(min), f64::from(gains.iter().sum::<u32>()));
    }
}

/// Three days of minutes: a daily cycle with a sharp morning ramp, so candidates differ in
/// cost, violations and thrash.
fn demand() -> Vec<f64> {
    (0..3 * 1440)
        .map(|i| {
            let m = i % 1440;
            let ramp = if (480..540).contains(&m) { 900.0 } else { 0.0 };
            let day = (i as f64 / 1440.0) * std::f64::consts::TAU;
            let wobble = 60.0 * ((i * 7919 % 13) as f64 / 13.0 - 0.5);
            (900.0 - 600.0 * day.cos() + wobble + ramp).max(0.0)
        })
        .collect()
}

fn cap() -> CapacityModel {
    CapacityModel {
        capacity_per_replica_rps: 100.0,
        concurrency_per_replica: 2,
        startup_seconds: 90,
        warmup_seconds: 0,
        min_replicas: 2,
        max_replicas: 60,
        warm_pool_size: 0,
        warm_pool_startup_seconds: 0,
        usd_per_replica_hour: 0.05,
        timeout_ms: 5000.0,
    }
}

const HPA: &str = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  minReplicas: 4\n  maxReplicas: 60\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}\n";

#[test]
fn no_finished_replay_beats_the_bound_its_progress_set() {
    let d = demand();
    let input = ReplayInput {
        start: 1_700_006_400,
        step_seconds: 60,
        demand_rps: &d,
        extra: Vec::new(),
    };
    let (cap, slo) = (cap(), Slo::default());
    let bounds = Bounds::new(&input, &cap, &slo, true, 60);
    assert!(!bounds.suffix.is_empty());
    let doc = PolicyDoc::parse(HPA).unwrap();
    let ctx = SpaceContext {
        size: SpaceSize::Small,
        trough_replicas: 5,
        schedule: Vec::new(),
    };
    let all = candidates(&doc, PolicyKind::Hpa, &ctx).unwrap();
    let group = GroupId::new(Platform::K8s, "t", "web");
    let mut checked = 0;
    let mut tight = 0;
    for c in all.iter().step_by(7) {
        let mut a = c.doc.autoscaler().unwrap();
        let min = a.bounds().0;
        let mut seen: Vec<Progress> = Vec::new();
        let mut record = |p: &Progress| {
            seen.push(*p);
            false
        };
        let s = replay_summary(a.as_mut(), &input, &cap, &slo, None, &group, &mut record)
            .unwrap()
            .unwrap();
        for p in &seen {
            // Violating steps after this check.
            let j = ((s.sla_violation_minutes - p.sla_violation_minutes) / bounds.step_minutes)
                .round() as u64;
            let least = bounds.least_hours(p, min, j);
            assert!(
                s.replica_hours >= least,
                "{:?} at step {}: {} < bound {least}",
                c.settings,
                p.steps,
                s.replica_hours
            );
            if bounds.cannot_be_eligible(p, &slo) {
                assert!(!eligible(&s, &slo), "{:?} at step {}", c.settings, p.steps);
            }
            // The bound is more than the minimums alone (it uses the SLA floor).
            if least > p.replica_hours + f64::from(min) * (s.steps - p.steps) as f64 / 60.0 {
                tight += 1;
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked}");
    assert!(tight > checked / 2, "{tight} of {checked}");
}

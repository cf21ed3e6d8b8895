//! Every shortcut of the search — early rejection, fast-forward, shared replays, the input
//! checked once — against none, on several demand shapes: the same figures for every candidate
//! both complete, and the same report (front, recommendation, best reachable, with figures).

use super::*;
use crate::engine::replay::file_group;
use crate::engine::tune::space::{candidates, SpaceContext, SpaceSize};
use crate::engine::tune::PolicyKind;
use crate::model::Slo;

const HPA: &str = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  minReplicas: 6\n  maxReplicas: 60\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}\n";

fn cap() -> CapacityModel {
    CapacityModel {
        capacity_per_replica_rps: 100.0,
        concurrency_per_replica: 2,
        startup_seconds: 45,
        warmup_seconds: 0,
        min_replicas: 6,
        max_replicas: 60,
        warm_pool_size: 0,
        warm_pool_startup_seconds: 0,
        usd_per_replica_hour: 0.05,
        timeout_ms: 5_000.0,
    }
}

/// A day of minutes in four shapes: a daily cycle with a wobble, spikes over a low base with
/// gaps, a ramp with a cliff (where low minimums bind), and a noisy plateau.
fn shapes() -> Vec<(&'static str, Vec<f64>)> {
    let n = 1_440;
    vec![
        (
            "daily",
            (0..n)
                .map(|i| {
                    let day = (i as f64 / 1440.0) * std::f64::consts::TAU;
                    1_000.0 - 700.0 * day.cos() + 60.0 * ((i * 7919 % 17) as f64 / 17.0 - 0.5)
                })
                .collect(),
        ),
        (
            "spiky",
            (0..n)
                .map(|i| match i % 131 {
                    0..=4 => 3_500.0,
                    20 | 21 => f64::NAN,
                    _ => 150.0 + (i % 11) as f64 * 40.0,
                })
                .collect(),
        ),
        (
            "ramp and cliff",
            (0..n)
                .map(|i| {
                    if (i / 360) % 2 == 0 {
                        200.0 + (i % 360) as f64 * 6.0
                    } else {
                        40.0
                    }
                })
                .collect(),
        ),
        (
            "noisy plateau",
            (0..n)
                .map(|i| 1_200.0 + 300.0 * ((i * 104_729 % 23) as f64 / 23.0 - 0.5))
                .collect(),
        ),
    ]
}

fn space() -> Vec<Candidate> {
    let doc = PolicyDoc::parse(HPA).unwrap();
    let ctx = SpaceContext {
        size: SpaceSize::Small,
        trough_replicas: 3,
        schedule: Vec::new(),
    };
    candidates(&doc, PolicyKind::Hpa, &ctx).unwrap()
}

/// (outcomes, steps replayed) of one exhaustive search.
fn search(
    cands: &[Candidate],
    input: &ReplayInput,
    slo: &Slo,
    (prune, fast_forward, share): (bool, bool, bool),
) -> (Vec<Outcome>, u64) {
    let cap = cap();
    let group = file_group("web");
    let setup = SearchSetup {
        input,
        cap: &cap,
        slo,
        group: &group,
        threads: 2,
        prune,
        fast_forward,
        share,
    };
    let control = SearchControl::default();
    let out = evaluate(cands, &setup, &control, Visit::All);
    (out, control.steps.load(Ordering::Relaxed))
}

fn figures(o: &Outcome) -> Option<String> {
    match o {
        Outcome::Done(s) => Some(format!("{s:?}")),
        _ => None,
    }
}

/// What a search reports, with the figures: the thrash-free front, the cheapest eligible
/// candidate, the best reachable one.
fn reported(out: &[Outcome], slo: &Slo) -> String {
    let done = super::super::completed(out);
    let front = super::super::thrash_free_front(&done);
    let best = done
        .iter()
        .filter(|(_, s)| eligible(s, slo))
        .min_by(|a, b| super::super::better(a.1, b.1));
    let reach = done.iter().min_by(|a, b| {
        a.1.sla_violation_minutes
            .total_cmp(&b.1.sla_violation_minutes)
            .then(a.1.thrash_events.cmp(&b.1.thrash_events))
            .then(super::super::better(a.1, b.1))
    });
    format!(
        "front {:?}\nbest {:?}\nreach {:?}",
        front
            .iter()
            .map(|&i| (i, figures(&out[i])))
            .collect::<Vec<_>>(),
        best,
        reach
    )
}

#[test]
fn every_shortcut_reports_what_full_replays_of_every_candidate_report() {
    let cands = space();
    assert!(cands.len() >= 100, "{} candidates", cands.len());
    let slos = [
        Slo::default(),
        // Loose enough that some candidates keep it on every shape.
        Slo {
            availability: 0.98,
            p95_latency_ms: 400.0,
            ..Slo::default()
        },
    ];
    for (name, d) in shapes() {
        let input = ReplayInput {
            start: 1_700_006_400,
            step_seconds: 60,
            demand_rps: &d,
            extra: Vec::new(),
        };
        for slo in &slos {
            let (none, none_steps) = search(&cands, &input, slo, (false, false, false));
            assert!(none.iter().all(|o| matches!(o, Outcome::Done(_))), "{name}");
            // Shared replays alone: every candidate completes, with its own full figures.
            let (shared, shared_steps) = search(&cands, &input, slo, (false, true, true));
            for (i, (a, b)) in none.iter().zip(&shared).enumerate() {
                assert_eq!(figures(a), figures(b), "{name}: candidate {i}");
            }
            // Sharing saves replay steps.
            assert!(
                shared_steps * 10 < none_steps * 9,
                "{name}: {shared_steps} of {none_steps} steps"
            );
            // Every shortcut: what completes has the same figures; the report is the same.
            let (all, _) = search(&cands, &input, slo, (true, true, true));
            for (i, (a, b)) in none.iter().zip(&all).enumerate() {
                if matches!(b, Outcome::Done(_)) {
                    assert_eq!(figures(a), figures(b), "{name}: candidate {i}");
                }
            }
            assert_eq!(reported(&none, slo), reported(&all, slo), "{name}");
        }
    }
}

//! Replay of 30 days at 15 s steps (172,800 steps) of one HPA policy, against the same replay
//! whose latency is computed exactly at every step (the naive baseline), in the same run.

use criterion::{criterion_group, criterion_main, Criterion};
use scaletop::engine::latency::latency;
use scaletop::engine::policy::hpa::HpaController;
use scaletop::engine::policy::hpa_spec::HpaManifest;
use scaletop::engine::replay::{file_group, replay_hpa, ReplayInput};
use scaletop::model::{CapacityModel, Slo};

const HPA: &str = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  minReplicas: 2\n  maxReplicas: 200\n  metrics:\n  - type: Resource\n    resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}\n";

fn demand() -> Vec<f64> {
    (0..172_800)
        .map(|i| {
            let day = (i as f64 / 5760.0) * std::f64::consts::TAU;
            2_000.0 + 1_500.0 * day.sin() + 200.0 * ((i * 7919) % 100) as f64 / 100.0
        })
        .collect()
}

fn capacity() -> CapacityModel {
    CapacityModel {
        capacity_per_replica_rps: 50.0,
        concurrency_per_replica: 4,
        startup_seconds: 60,
        warmup_seconds: 0,
        min_replicas: 2,
        max_replicas: 200,
        warm_pool_size: 0,
        warm_pool_startup_seconds: 0,
        usd_per_replica_hour: 0.192,
        timeout_ms: 10_000.0,
    }
}

fn bench(c: &mut Criterion) {
    let d = demand();
    let cap = capacity();
    let hpa = HpaController::new(HpaManifest::from_yaml(HPA).unwrap().resolve().unwrap());
    let input = ReplayInput {
        start: 1_700_000_000,
        step_seconds: 15,
        demand_rps: &d,
        extra: Vec::new(),
    };
    let mut g = c.benchmark_group("replay_30d_15s");
    g.sample_size(10);
    g.bench_function("scaletop", |b| {
        b.iter(|| {
            replay_hpa(
                hpa.clone(),
                &input,
                &cap,
                &Slo::default(),
                None,
                &file_group("web"),
            )
            .unwrap()
            .summary
            .cost_usd
        })
    });
    // Baseline: the same replay's replica trace, with latency computed exactly per step.
    let r = replay_hpa(
        hpa.clone(),
        &input,
        &cap,
        &Slo::default(),
        None,
        &file_group("web"),
    )
    .unwrap();
    g.bench_function("naive_exact_latency_per_step", |b| {
        b.iter(|| {
            let mut worst: f64 = 0.0;
            for s in &r.steps {
                let l = latency(
                    s.demand,
                    s.ready * cap.concurrency_per_replica,
                    cap.service_time_ms(),
                    cap.timeout_ms,
                );
                worst = worst.max(l.p95_ms);
            }
            worst
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

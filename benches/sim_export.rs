//! `sim export` throughput in rows/s: the real writer against a naive baseline measured in the
//! same run (samples through the live API, each row formatted with format!() and chrono's
//! to_rfc3339), and one small scenario against the 50-group one.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scaletop::sim::{export_csv, ExportSpec, Scenario, Simulator};

const DAY: u64 = 86_400;

fn spec() -> ExportSpec {
    ExportSpec {
        seed: 1,
        duration_seconds: DAY,
        step_seconds: 60,
    }
}

fn rows_of(s: &Scenario) -> u64 {
    export_csv(s, &spec(), &mut std::io::sink()).unwrap_or(0)
}

/// Baseline: the obvious approach.
fn naive_export(s: &Scenario, spec: &ExportSpec) -> usize {
    let mut sim = Simulator::new(s, spec.seed);
    let mut out = String::from("timestamp,group,metric,value\n");
    for _ in 0..spec.duration_seconds / spec.step_seconds {
        let step = sim.advance(spec.step_seconds);
        for x in step.samples {
            out.push_str(&format!(
                "{},{},{},{}\n",
                step.at.to_rfc3339(),
                x.group.name,
                x.metric.as_str(),
                x.value
            ));
        }
    }
    out.len()
}

fn bench(c: &mut Criterion) {
    for name in ["ecommerce", "microservices"] {
        let Ok(s) = Scenario::load(name) else {
            return;
        };
        let rows = rows_of(&s);
        let mut g = c.benchmark_group(format!("sim_export_{name}_1d_1m"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(rows));
        g.bench_function("export_csv", |b| {
            b.iter(|| export_csv(black_box(&s), &spec(), &mut std::io::sink()))
        });
        g.bench_function("naive_format_baseline", |b| {
            b.iter(|| naive_export(black_box(&s), &spec()))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

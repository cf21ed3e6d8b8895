//! `analyze` speed: one 14-day 1-minute series, and 500 series of 28 days at 5 minutes on all
//! cores vs one core (the baseline, same run). Also the FFT autocorrelation vs the naive
//! O(n x lags) one it replaced, on the 14-day series.

use std::f64::consts::PI;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use scaletop::engine::analysis::fft::{autocorrelation, autocorrelation_naive};
use scaletop::engine::analysis::report::{analyze_all, default_threads};
use scaletop::engine::analysis::{analyze_workload, SeriesInput};

fn series(n: usize, step_seconds: i64, seed: u64) -> Vec<f64> {
    let mut state = seed | 1;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let u = (state % 10_000) as f64 / 10_000.0 - 0.5;
            let t = i as f64 * step_seconds as f64;
            let daily = 40.0 * (2.0 * PI * t / 86_400.0).sin();
            let weekly = if (t / 86_400.0) as i64 % 7 >= 5 {
                15.0
            } else {
                0.0
            };
            100.0 + daily + weekly + 8.0 * u
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let one = series(14 * 1440, 60, 1);
    c.bench_function("analyze 14d x 1m, one series", |b| {
        b.iter(|| analyze_workload(0, 60, black_box(&one)))
    });
    let mut g = c.benchmark_group("autocorrelation 14d x 1m, lags to 7d");
    g.sample_size(10);
    g.bench_function("fft", |b| {
        b.iter(|| autocorrelation(black_box(&one), 7 * 1440))
    });
    g.bench_function("naive (baseline)", |b| {
        b.iter(|| autocorrelation_naive(black_box(&one), 7 * 1440))
    });
    g.finish();

    let many: Vec<SeriesInput> = (0..500)
        .map(|k| SeriesInput {
            group: format!("g{}", k / 4),
            metric: "request_rate".into(),
            start: 0,
            step_seconds: 300,
            values: series(28 * 288, 300, k + 7),
        })
        .collect();
    let mut g = c.benchmark_group("analyze 500 x 28d x 5m");
    g.sample_size(10);
    let threads = default_threads();
    g.bench_function(format!("parallel ({threads} threads)"), |b| {
        b.iter(|| analyze_all(black_box(&many), threads))
    });
    g.bench_function("sequential (baseline)", |b| {
        b.iter(|| analyze_all(black_box(&many), 1))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

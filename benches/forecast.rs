//! Fit + rolling-origin backtest + 24 h forecast of one 28-day 5-minute series (8,064 points),
//! automatic selection against the seasonal naive baseline alone, in the same run; and the
//! issue's cases: 14 days at 5-minute (4,032 points) and 1-minute (20,160 points) steps, auto
//! selection with a 24 h (native step) and a 7-day (hourly means) forecast; and 500 such
//! 5-minute series with a 7-day forecast across the machine's cores, beside the first 50 on one
//! core (the baseline: x10 is the sequential time).

use criterion::{criterion_group, criterion_main, Criterion};
use scaletop::engine::analysis::report::{default_threads, map_parallel};
use scaletop::engine::forecast::{forecast_series, ForecastRequest, ModelKind};

fn series() -> Vec<f64> {
    series_of(28, 288)
}

/// `days` of a daily cycle with a weekend dip and noise, `per_day` points a day.
fn series_of(days: usize, per_day: usize) -> Vec<f64> {
    seeded(days, per_day, 0x2545_f491_4f6c_dd1d)
}

fn seeded(days: usize, per_day: usize, seed: u64) -> Vec<f64> {
    let mut state = seed | 1;
    (0..days * per_day)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state % 1000) as f64 / 1000.0 - 0.5;
            let t = i as f64;
            let day = (2.0 * std::f64::consts::PI * t / per_day as f64).sin();
            let weekend = if (i / per_day) % 7 >= 5 { 0.8 } else { 1.0 };
            (1000.0 + 400.0 * day) * weekend + 40.0 * noise
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let y = series();
    let mut g = c.benchmark_group("forecast_28d_5m");
    g.sample_size(10);
    g.bench_function("auto_selection_24h", |b| {
        b.iter(|| forecast_series(0, 300, &y, &ForecastRequest::new(86_400)))
    });
    let naive = ForecastRequest {
        model: Some(ModelKind::SeasonalNaiveWeekly),
        ..ForecastRequest::new(86_400)
    };
    g.bench_function("seasonal_naive_weekly_24h", |b| {
        b.iter(|| forecast_series(0, 300, &y, &naive))
    });
    g.finish();
    let mut g = c.benchmark_group("forecast_14d");
    g.sample_size(10);
    for (label, step, per_day) in [("5m", 300, 288), ("1m", 60, 1440)] {
        let y = series_of(14, per_day);
        for (h, horizon) in [("24h", 86_400), ("7d", 7 * 86_400)] {
            let req = ForecastRequest::new(horizon);
            g.bench_function(format!("{label}_auto_{h}"), |b| {
                b.iter(|| forecast_series(0, step, &y, &req))
            });
        }
    }
    g.finish();

    let many: Vec<Vec<f64>> = (0..500u64)
        .map(|k| seeded(14, 288, 0x9e37_79b9 ^ (k * 7919)))
        .collect();
    let req = ForecastRequest::new(7 * 86_400);
    let threads = default_threads();
    let mut g = c.benchmark_group("forecast_500x14d_5m_7d");
    g.sample_size(10);
    g.bench_function(format!("parallel_{threads}_threads_500"), |b| {
        b.iter(|| map_parallel(&many, threads, |y| forecast_series(0, 300, y, &req).is_ok()))
    });
    g.bench_function("sequential_first_50_baseline", |b| {
        b.iter(|| map_parallel(&many[..50], 1, |y| forecast_series(0, 300, y, &req).is_ok()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

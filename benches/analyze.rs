//! `analyze` speed: one 14-day 1-minute series, and 500 series of 28 days at 5 minutes on all
//! cores vs one core (the baseline, same run). Also the FFT autocorrelation vs the naive
//! O(n x lags) one it replaced, on the 14-day series; and `scaletop analyze` end to end on the
//! same 500 series as long-form CSV (~180 MB, RFC 3339 timestamps as `sim export` writes them):
//! parse + regular grid + analysis on all cores, against the previous reader (chrono's general
//! timestamp parser, owned keys per row; kept below as the baseline) with one core.

use std::collections::BTreeMap;
use std::f64::consts::PI;
use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use scaletop::commands::analyze::to_inputs;
use scaletop::engine::analysis::fft::{autocorrelation, autocorrelation_naive};
use scaletop::engine::analysis::report::{analyze_all, default_threads};
use scaletop::engine::analysis::{analyze_workload, SeriesInput};
use scaletop::input::{self, Series};

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
            metric: METRICS[k as usize % 4].into(),
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
    end_to_end(c, &many);
}

const METRICS: [&str; 4] = [
    "request_rate",
    "cpu_utilization",
    "memory_utilization",
    "replicas_ready",
];

/// The 500 series as one long-form CSV, rows interleaved by time as `sim export` writes them.
fn long_csv(many: &[SeriesInput]) -> String {
    let mut text = String::from("timestamp,group,metric,value\n");
    let n = many[0].values.len();
    for i in 0..n {
        let t = chrono::DateTime::from_timestamp(1_763_337_600 + i as i64 * 300, 0)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        for s in many {
            let _ = writeln!(text, "{t},{},{},{:.2}", s.group, s.metric, s.values[i]);
        }
    }
    text
}

/// The reader `analyze` used before (the baseline): chrono's general RFC 3339 parser first and
/// owned (group, metric) strings per row.
fn parse_previous(text: &str) -> Vec<Series> {
    let mut by_key: BTreeMap<(String, String), Vec<(i64, f64)>> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let Ok(ts) = chrono::DateTime::parse_from_rfc3339(fields[0]) else {
            continue;
        };
        let value = fields[3].parse::<f64>().unwrap_or(f64::NAN);
        by_key
            .entry((fields[1].to_string(), fields[2].to_string()))
            .or_default()
            .push((ts.timestamp(), value));
    }
    by_key
        .into_iter()
        .map(|((group, metric), mut points)| {
            points.sort_by_key(|p| p.0);
            Series {
                group,
                metric,
                points,
            }
        })
        .collect()
}

fn end_to_end(c: &mut Criterion, many: &[SeriesInput]) {
    let text = long_csv(many);
    let threads = default_threads();
    let mut g = c.benchmark_group(format!(
        "analyze 500 x 28d x 5m end to end from a {} MB CSV",
        text.len() >> 20
    ));
    g.sample_size(10);
    g.bench_function(format!("parse + analysis ({threads} threads)"), |b| {
        b.iter(|| {
            let series = input::parse(black_box(&text), "bench.csv").unwrap_or_default();
            let inputs = to_inputs(&series, "bench.csv").unwrap_or_default();
            analyze_all(&inputs, threads)
        })
    });
    g.bench_function("previous parse + analysis on one core (baseline)", |b| {
        b.iter(|| {
            let series = parse_previous(black_box(&text));
            let inputs = to_inputs(&series, "bench.csv").unwrap_or_default();
            analyze_all(&inputs, 1)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

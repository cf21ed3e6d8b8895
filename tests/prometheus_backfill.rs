//! promtool backfill exactness: known series written as OpenMetrics over 14 days (with gaps
//! and a counter reset), turned into TSDB blocks by `promtool tsdb create-blocks-from
//! openmetrics`, served by a real Prometheus, and read back through scaletop: every sample
//! must come back with its exact timestamp and value, and every gap must stay missing.

mod support;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use scaletop::model::{GroupId, MetricKind, Platform};
use scaletop::sources::prometheus::{self, PromClient, PrometheusSourceConfig};
use scaletop::sources::{HealthState, Update};
use scaletop::store::Store;
use support::*;

const STEP: i64 = 60;
const DAYS: i64 = 14;

/// Gauge: quarter steps (exact in the store's f32), with two gaps of an hour and more.
fn gauge(i: i64) -> Option<f64> {
    let day = 86_400 / STEP;
    let in_gap = (3 * day..3 * day + 60).contains(&i) || (9 * day + 7..9 * day + 190).contains(&i);
    (!in_gap).then(|| ((i * 7) % 400) as f64 * 0.25 + 1.0)
}

/// Counter: grows by a non-round amount each step, resets to 0 on day 6, one gap on day 11.
fn counter(i: i64) -> Option<f64> {
    let day = 86_400 / STEP;
    if (11 * day..11 * day + 90).contains(&i) {
        return None;
    }
    let since = if i >= 6 * day { i - 6 * day } else { i + 1_000 };
    Some(since as f64 * 1.125 + 0.1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfilled_history_comes_back_exactly() {
    if !have("prometheus") || !have("promtool") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let now = chrono::Utc::now().timestamp();
    let backfill_start = (now - DAYS * 86_400).div_euclid(STEP) * STEP;
    // Data from an hour after the backfill starts to ten minutes ago, on the minute.
    let t0 = backfill_start + 3_600;
    let points = (now - 600 - t0) / STEP;
    let at = |i: i64| t0 + i * STEP;
    let mut om = String::from("# HELP test_replicas Replicas.\n# TYPE test_replicas gauge\n");
    for i in 0..points {
        if let Some(v) = gauge(i) {
            om.push_str(&format!(
                "test_replicas{{namespace=\"shop\",group=\"web\"}} {v} {}\n",
                at(i)
            ));
        }
    }
    om.push_str("# HELP test_requests Requests.\n# TYPE test_requests counter\n");
    for i in 0..points {
        if let Some(v) = counter(i) {
            om.push_str(&format!(
                "test_requests_total{{namespace=\"shop\",group=\"web\"}} {v} {}\n",
                at(i)
            ));
        }
    }
    om.push_str("# EOF\n");
    let input = dir.path().join("history.om");
    std::fs::write(&input, om).expect("write openmetrics");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
        .arg(&input)
        .arg(&data)
        .output()
        .expect("promtool runs");
    assert!(
        out.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 15s\n").expect("config");
    let port = free_port();
    // A lookback shorter than the sample interval: a query at a time with no sample is
    // empty, so gaps read back as gaps rather than as the previous value.
    let _prom = start_prometheus_with(&config, &data, port, &["--query.lookback-delta=30s"]);
    let url = format!("http://127.0.0.1:{port}");

    // Through the whole source: discovery, backfill, store.
    let cfg = PrometheusSourceConfig {
        name: "history".into(),
        url: url.clone(),
        preset: "none".into(),
        interval: "1h".into(),
        backfill: format!("{DAYS}d"),
        step: format!("{STEP}s"),
        timeout: "20s".into(),
        queries: [
            // History only: the newest sample is older than the lookback.
            (
                "discover",
                "max by (namespace, group) (last_over_time(test_replicas[15d]))",
            ),
            ("replicas_ready", "test_replicas"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        ..Default::default()
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel(1 << 16);
    let task = prometheus::spawn(cfg, tx);
    let mut store = Store::new(STEP, (DAYS * 86_400 / STEP + 100) as usize);
    let health = loop {
        match tokio::time::timeout(Duration::from_secs(120), rx.recv()).await {
            Ok(Some(Update::Health(h))) if h.state != HealthState::Starting => break h,
            Ok(Some(u)) => store.apply(u),
            other => panic!("no health report: {other:?}"),
        }
    };
    task.abort();
    assert_eq!(health.state, HealthState::Up, "{health:?}");
    assert_eq!(
        health.details.note, None,
        "the server holds the whole range"
    );
    let g = store
        .group_index(&GroupId::new(Platform::K8s, "shop", "web"))
        .expect("group discovered");
    let ring = store.series(g, MetricKind::ReplicasReady).expect("series");
    let (mut present, mut gaps) = (0, 0);
    for i in -10..points + 5 {
        let want = if (0..points).contains(&i) {
            gauge(i)
        } else {
            None
        };
        assert_eq!(ring.at(at(i)), want, "gauge at {} (i={i})", at(i));
        if want.is_some() {
            present += 1;
        } else {
            gaps += 1;
        }
    }
    assert!(
        present > 19_000 && gaps > 200,
        "{present} values, {gaps} gaps"
    );

    // The counter through the client, as f64: every value and timestamp exact, the reset
    // kept (no rate applied), gaps absent.
    let client = PromClient::from_config(&PrometheusSourceConfig {
        url,
        timeout: "20s".into(),
        ..Default::default()
    })
    .expect("client");
    let series = client
        .query_range("test_requests_total", t0, at(points - 1), STEP)
        .await
        .expect("range query");
    assert_eq!(series.len(), 1);
    assert_eq!(series[0].metric["group"], "web");
    let got: BTreeMap<i64, f64> = series[0]
        .values
        .iter()
        .map(|p| {
            assert_eq!(p.timestamp_ms % 1000, 0, "whole seconds");
            (p.timestamp_seconds(), p.value)
        })
        .collect();
    let want: BTreeMap<i64, f64> = (0..points)
        .filter_map(|i| counter(i).map(|v| (at(i), v)))
        .collect();
    assert_eq!(got.len(), want.len(), "one point per written sample");
    for (t, v) in &want {
        assert_eq!(got.get(t), Some(v), "counter at {t}");
    }
    let reset_at = at(6 * 86_400 / STEP);
    assert!(got[&reset_at] < got[&(reset_at - STEP)], "reset kept");
}

/// Measurement, not a check (run with `--ignored --nocapture`): the demo scenario's groups,
/// 28 days from the simulator (written at 5 min, read back at 60 s), backfilled through
/// promtool into Prometheus, then a full scaletop backfill into the store. Prints wall times
/// and the long tier's bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement: 28 days of the demo fleet through promtool and Prometheus"]
async fn measure_28_day_backfill_of_the_demo_fleet() {
    if !have("prometheus") || !have("promtool") {
        return;
    }
    let scenario_name =
        std::env::var("SCALETOP_MEASURE_SCENARIO").unwrap_or_else(|_| "ecommerce".into());
    let scenario = scaletop::sim::Scenario::load(&scenario_name).expect("built-in scenario");
    let now = chrono::Utc::now().timestamp();
    let began = std::time::Instant::now();
    let mut csv = Vec::new();
    // Written every 5 minutes (promtool rereads its input once per 2 h block, so a month at
    // 60 s takes it far longer than Prometheus or scaletop); read back at 60 s, where the
    // 5-minute lookback fills the steps between samples.
    let spec = scaletop::sim::ExportSpec {
        seed: 42,
        duration_seconds: 28 * 86_400,
        step_seconds: 300,
    };
    scaletop::sim::export_csv(&scenario, &spec, &mut csv).expect("export");
    // Shift the simulated month so it ends ten minutes ago.
    let mut series: Series = BTreeMap::new();
    let mut first: Option<i64> = None;
    for line in String::from_utf8_lossy(&csv).lines().skip(1) {
        let mut f = line.split(',');
        let (Some(ts), Some(group), Some(metric), Some(value)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            continue;
        };
        let Ok(t) = chrono::DateTime::parse_from_rfc3339(ts) else {
            continue;
        };
        let t = t.timestamp();
        let t0 = *first.get_or_insert(t);
        let shifted = (now - 600 - 28 * 86_400).div_euclid(STEP) * STEP + (t - t0);
        series
            .entry((metric.to_string(), group.to_string()))
            .or_default()
            .push((shifted, value.to_string()));
    }
    let generated = began.elapsed();
    let groups = scenario.sim_groups().len();
    let span_days = backfill_and_measure(
        &format!("scenario {scenario_name}"),
        &series,
        28,
        groups,
        generated,
    )
    .await;
    assert!(
        span_days > 27.0,
        "the long tier holds the month: {span_days}"
    );
}

/// Measurement (run with `--ignored --nocapture`): the figure, 50 groups x 5 metrics
/// x 14 days, synthetic daily waves written at 5 minutes and read back at 60 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement: 50 groups x 5 metrics x 14 days through promtool and Prometheus"]
async fn measure_14_day_backfill_of_50_groups_by_5_metrics() {
    if !have("prometheus") || !have("promtool") {
        return;
    }
    let began = std::time::Instant::now();
    let now = chrono::Utc::now().timestamp();
    let start = (now - 600 - 14 * 86_400).div_euclid(STEP) * STEP;
    let metrics = [
        "request_rate",
        "cpu_utilization",
        "memory_utilization",
        "replicas_desired",
        "latency_p95_ms",
    ];
    let mut series: Series = BTreeMap::new();
    for g in 0..50 {
        for (m, metric) in metrics.iter().enumerate() {
            let points = (0..14 * 288)
                .map(|k| {
                    let t = start + k * 300;
                    let day = (t % 86_400) as f64 / 86_400.0 * std::f64::consts::TAU;
                    let v = 100.0 + (g * 5 + m) as f64 + 50.0 * day.sin();
                    (t, format!("{v:.3}"))
                })
                .collect();
            series.insert((metric.to_string(), format!("svc-{g:02}")), points);
        }
    }
    let generated = began.elapsed();
    backfill_and_measure("synthetic", &series, 14, 50, generated).await;
}

type Series = BTreeMap<(String, String), Vec<(i64, String)>>;

/// Writes `series` (metric, group) as OpenMetrics, makes TSDB blocks with promtool, starts
/// Prometheus on them and backfills `days` through scaletop's source into a store; prints the
/// figures and returns the days the long tier holds.
async fn backfill_and_measure(
    label: &str,
    series: &Series,
    days: i64,
    groups: usize,
    generated: Duration,
) -> f64 {
    let dir = tempfile::tempdir().expect("tempdir");
    let samples: usize = series.values().map(Vec::len).sum();
    let mut om = String::with_capacity(samples * 64);
    let mut family = String::new();
    for ((metric, group), points) in series {
        if *metric != family {
            om.push_str(&format!("# TYPE sim_{metric} gauge\n"));
            family = metric.clone();
        }
        for (t, v) in points {
            om.push_str(&format!(
                "sim_{metric}{{namespace=\"demo\",group=\"{group}\"}} {v} {t}\n"
            ));
        }
    }
    om.push_str("# EOF\n");
    let input = dir.path().join("month.om");
    std::fs::write(&input, om).expect("write");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let began = std::time::Instant::now();
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
        .arg(&input)
        .arg(&data)
        .output()
        .expect("promtool");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let blocks = began.elapsed();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 15s\n").expect("config");
    let port = free_port();
    let prom = start_prometheus(&config, &data, port);
    let prom_pid = prom.0.id();
    let mut queries: BTreeMap<String, String> = series
        .keys()
        .map(|(m, _)| m.clone())
        .filter(|m| scaletop::sources::prometheus::presets::metric_by_name(m).is_some())
        .map(|m| (m.clone(), format!("sim_{m}")))
        .collect();
    queries.insert(
        "discover".into(),
        format!(
            "max by (namespace, group) (last_over_time({{__name__=~\"sim_.+\"}}[{}d]))",
            days + 1
        ),
    );
    let cfg = PrometheusSourceConfig {
        name: "month".into(),
        url: format!("http://127.0.0.1:{port}"),
        preset: "none".into(),
        interval: "1h".into(),
        backfill: format!("{days}d"),
        step: format!("{STEP}s"),
        timeout: "60s".into(),
        queries,
        ..Default::default()
    };
    let kinds = cfg.queries.len() - 1;
    let began = std::time::Instant::now();
    let (cpu0, prom_cpu0) = (cpu_seconds("self"), cpu_seconds(&prom_pid.to_string()));
    let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
    let task = prometheus::spawn(cfg, tx);
    let mut store = Store::new(15, 4 * 60 * 24);
    let health = loop {
        match tokio::time::timeout(Duration::from_secs(600), rx.recv()).await {
            Ok(Some(Update::Health(h))) if h.state != HealthState::Starting => break h,
            Ok(Some(u)) => store.apply(u),
            other => panic!("no health report: {other:?}"),
        }
    };
    let backfill = began.elapsed();
    let (cpu1, prom_cpu1) = (cpu_seconds("self"), cpu_seconds(&prom_pid.to_string()));
    task.abort();
    assert_eq!(health.state, HealthState::Up, "{health:?}");
    let raw_prom_cpu0 = cpu_seconds(&prom_pid.to_string());
    let raw = raw_range_queries(port, series, days).await;
    let raw_prom_cpu = cpu_seconds(&prom_pid.to_string()) - raw_prom_cpu0;
    // CPU seconds are what a loaded machine cannot distort: on an idle 2-core machine the
    // backfill takes about max(Prometheus's wall, total CPU / 2).
    println!(
        "{label}: CPU seconds during the backfill: scaletop (source + store) {:.2}, Prometheus \
         {:.2}; Prometheus for the raw queries {raw_prom_cpu:.2}",
        cpu1 - cpu0,
        prom_cpu1 - prom_cpu0
    );
    let (mut buckets, mut bytes, mut span_days) = (0usize, 0usize, 0.0f64);
    for g in 0..store.groups().len() {
        for m in scaletop::model::MetricKind::ALL {
            if let Some(long) = store.long_series(g, m) {
                buckets += long.len();
                bytes += long.value_bytes();
                if let Some((a, b)) = long.span() {
                    span_days = span_days.max((b - a) as f64 / 86_400.0);
                }
            }
        }
    }
    let delivered = health.details.samples.unwrap_or(0);
    println!(
        "{label}: {groups} groups x {kinds} metrics, {samples} samples written; \
         generate {:.1}s, promtool {:.1}s, scaletop backfill {:.2}s ({delivered} samples, \
         {:.0} samples/s, latency p50 {:?} ms p95 {:?} ms); the same range queries read raw \
         (bodies not decoded, 4 in flight): {:.2}s; long tier {buckets} buckets over \
         {span_days:.1} days, {bytes} bytes = {:.2} B/bucket, {:.2} B per 60 s sample",
        generated.as_secs_f64(),
        blocks.as_secs_f64(),
        backfill.as_secs_f64(),
        delivered as f64 / backfill.as_secs_f64(),
        health.details.latency_p50_ms,
        health.details.latency_p95_ms,
        raw.as_secs_f64(),
        bytes as f64 / buckets.max(1) as f64,
        bytes as f64 / delivered.max(1) as f64,
    );
    span_days
}

/// User + system CPU seconds of a process so far (`self` or a pid), from /proc; 0 elsewhere.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    // Clock ticks: 100 per second on Linux.
    f.iter().sum::<f64>() / 100.0
}

/// The backfill's range queries (one per metric per day) sent with plain reqwest, 4 in flight,
/// bodies read and dropped: what Prometheus alone takes, to compare scaletop's backfill with.
async fn raw_range_queries(port: u16, series: &Series, days: i64) -> Duration {
    use futures::StreamExt;
    let metrics: std::collections::BTreeSet<&String> = series.keys().map(|(m, _)| m).collect();
    let now = chrono::Utc::now().timestamp().div_euclid(STEP) * STEP;
    let client = reqwest::Client::new();
    let urls: Vec<String> = (0..days)
        .flat_map(|d| {
            let start = now - days * 86_400 + d * 86_400;
            metrics.iter().map(move |m| {
                format!(
                    "http://127.0.0.1:{port}/api/v1/query_range?query=sim_{m}&start={start}&end={}&step={STEP}",
                    start + 86_400 - STEP
                )
            })
        })
        .collect();
    let began = std::time::Instant::now();
    futures::stream::iter(urls)
        .map(|u| {
            let client = client.clone();
            async move {
                let r = client.get(&u).send().await.expect("query");
                r.bytes().await.expect("body").len()
            }
        })
        .buffer_unordered(4)
        .collect::<Vec<usize>>()
        .await;
    began.elapsed()
}

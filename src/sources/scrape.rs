//! Direct scrape source: reads a `/metrics` endpoint (an exporter, a load generator's metrics,
//! `scaletop sim serve`) in the Prometheus text format without a Prometheus in between.
//! Gauges are taken as they are, counters become per-second rates over a window of recent
//! scrapes (PromQL's `rate(x[2m])` without its edge extrapolation; a counter that went down was
//! reset: the new value is the increase since the reset), and histograms become a quantile of
//! the requests observed in that window, interpolated within buckets as PromQL's
//! `histogram_quantile` does. Series are summed per (scope, group) label pair; a mapping with a
//! denominator divides that sum by the group's sum of another gauge (usage over requests).
//!
//! The window matters: exporters often refresh counters less often than they are scraped, and
//! a rate between two consecutive scrapes would then read 0 most of the time.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

use super::{HealthState, Sample, SourceDetails, SourceHealth, Update};
use crate::model::{GroupId, GroupInfo, MetricKind, Platform};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ScrapeSourceConfig {
    /// Shown in the Sources view and `snapshot`.
    pub name: String,
    /// The endpoint, e.g. "http://127.0.0.1:9464/metrics".
    pub url: String,
    pub interval: String,
    pub timeout: String,
    /// Counters and histograms are rated over the scrapes of this window (at least two).
    pub rate_window: String,
    /// "kubernetes" (kube-state-metrics HPA series, `http_requests_total`, and the
    /// `http_request_duration_seconds` histogram, as `sim serve` exposes them) or "none".
    pub preset: String,
    /// Mappings added to the preset's (one for the same `metric` replaces it).
    pub metrics: Vec<ScrapeMetric>,
}

impl Default for ScrapeSourceConfig {
    fn default() -> Self {
        Self {
            name: "scrape".into(),
            url: String::new(),
            interval: "15s".into(),
            timeout: "5s".into(),
            rate_window: "2m".into(),
            preset: "kubernetes".into(),
            metrics: Vec::new(),
        }
    }
}

/// How one scaletop metric is read from the exposition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeMetric {
    /// scaletop metric name, e.g. "request_rate" (`scaletop sources presets` lists them).
    pub metric: String,
    /// Exposition metric name (for a histogram, without `_bucket`).
    pub series: String,
    /// "gauge", "counter" (per-second rate) or "histogram".
    pub kind: String,
    /// Label whose value names the group.
    pub group_label: String,
    /// Label whose value is the group's scope (namespace); empty: the source's name.
    #[serde(default)]
    pub scope_label: String,
    /// Histogram quantile, 0..1.
    #[serde(default)]
    pub quantile: Option<f64>,
    /// Multiplier applied to the value (e.g. 1000 for seconds to milliseconds).
    #[serde(default)]
    pub scale: Option<f64>,
    /// A gauge the group's value is divided by (e.g. CPU requests, for utilization).
    #[serde(default)]
    pub denominator: Option<String>,
    /// Labels a denominator sample must carry, e.g. `{ resource = "cpu" }`.
    #[serde(default)]
    pub denominator_match: BTreeMap<String, String>,
}

fn mapping(
    metric: &str,
    series: &str,
    kind: &str,
    group_label: &str,
    quantile: Option<f64>,
    scale: Option<f64>,
) -> ScrapeMetric {
    ScrapeMetric {
        metric: metric.into(),
        series: series.into(),
        kind: kind.into(),
        group_label: group_label.into(),
        scope_label: "namespace".into(),
        quantile,
        scale,
        denominator: None,
        denominator_match: BTreeMap::new(),
    }
}

/// `100 x series / requests{resource}` per container: kube-state-metrics requests against
/// cAdvisor usage, as the Prometheus preset's utilization queries do.
fn utilization(metric: &str, series: &str, kind: &str, resource: &str) -> ScrapeMetric {
    ScrapeMetric {
        denominator: Some("kube_pod_container_resource_requests".into()),
        denominator_match: BTreeMap::from([("resource".to_string(), resource.to_string())]),
        ..mapping(metric, series, kind, "container", None, Some(100.0))
    }
}

/// The preset's mappings.
pub fn preset(name: &str) -> Result<Vec<ScrapeMetric>, String> {
    const HPA: &str = "horizontalpodautoscaler";
    match name {
        "none" => Ok(Vec::new()),
        "kubernetes" => Ok(vec![
            mapping(
                "replicas_ready",
                "kube_horizontalpodautoscaler_status_current_replicas",
                "gauge",
                HPA,
                None,
                None,
            ),
            mapping(
                "replicas_desired",
                "kube_horizontalpodautoscaler_status_desired_replicas",
                "gauge",
                HPA,
                None,
                None,
            ),
            mapping(
                "replicas_min",
                "kube_horizontalpodautoscaler_spec_min_replicas",
                "gauge",
                HPA,
                None,
                None,
            ),
            mapping(
                "replicas_max",
                "kube_horizontalpodautoscaler_spec_max_replicas",
                "gauge",
                HPA,
                None,
                None,
            ),
            mapping(
                "request_rate",
                "http_requests_total",
                "counter",
                "service",
                None,
                None,
            ),
            mapping(
                "latency_p95_ms",
                "http_request_duration_seconds",
                "histogram",
                "service",
                Some(0.95),
                Some(1000.0),
            ),
            utilization(
                "cpu_utilization",
                "container_cpu_usage_seconds_total",
                "counter",
                "cpu",
            ),
            utilization(
                "memory_utilization",
                "container_memory_working_set_bytes",
                "gauge",
                "memory",
            ),
        ]),
        other => Err(format!(
            "unknown scrape preset '{other}' (kubernetes or none)"
        )),
    }
}

/// A validated mapping.
#[derive(Debug, Clone)]
struct Mapping {
    metric: MetricKind,
    spec: ScrapeMetric,
}

/// The preset plus the config's own mappings, validated.
fn mappings(cfg: &ScrapeSourceConfig) -> Result<Vec<Mapping>, String> {
    let mut all = preset(&cfg.preset)?;
    for m in &cfg.metrics {
        all.retain(|p| p.metric != m.metric);
        all.push(m.clone());
    }
    all.into_iter()
        .map(|spec| {
            let metric: MetricKind = spec
                .metric
                .parse()
                .map_err(|_| format!("metrics: unknown scaletop metric '{}'", spec.metric))?;
            if !matches!(spec.kind.as_str(), "gauge" | "counter" | "histogram") {
                return Err(format!(
                    "metrics.{}: kind '{}' (gauge, counter or histogram)",
                    spec.metric, spec.kind
                ));
            }
            if spec.kind == "histogram" && !spec.quantile.is_some_and(|q| q > 0.0 && q < 1.0) {
                return Err(format!(
                    "metrics.{}: a histogram needs quantile in (0, 1)",
                    spec.metric
                ));
            }
            if spec.denominator.as_deref() == Some("") {
                return Err(format!("metrics.{}: denominator is empty", spec.metric));
            }
            if spec.group_label.is_empty() {
                return Err(format!("metrics.{}: group_label is required", spec.metric));
            }
            Ok(Mapping { metric, spec })
        })
        .collect()
}

/// Per-second rate of a counter between two readings `dt` seconds apart; a drop is a reset,
/// after which the counter counted up from zero (PromQL's `rate` does the same).
pub fn counter_rate(previous: f64, current: f64, dt: f64) -> Option<f64> {
    if !(dt > 0.0 && previous.is_finite() && current.is_finite()) {
        return None;
    }
    let increase = if current >= previous {
        current - previous
    } else {
        current
    };
    Some(increase / dt)
}

/// Quantile `q` of a histogram given as cumulative (upper bound, count) buckets sorted by
/// bound, the last one +Inf — PromQL `histogram_quantile`: linear within the bucket the rank
/// falls in, the lowest bucket starting at 0, and the highest finite bound when the rank
/// falls in +Inf. None without observations.
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    let total = buckets.last()?.1;
    if total.is_nan() || total <= 0.0 || buckets.len() < 2 {
        return None;
    }
    let rank = q * total;
    let i = buckets.iter().position(|(_, c)| *c >= rank)?;
    if i == buckets.len() - 1 {
        return Some(buckets[buckets.len() - 2].0);
    }
    let (upper, count) = buckets[i];
    let (lower, below) = if i == 0 { (0.0, 0.0) } else { buckets[i - 1] };
    if count - below <= 0.0 {
        return Some(upper);
    }
    Some(lower + (upper - lower) * (rank - below) / (count - below))
}

/// Increase and elapsed seconds over readings `(seconds, value)` oldest first, summing each
/// step's increase across resets. None with fewer than two usable readings.
pub fn windowed_increase(readings: &VecDeque<(f64, f64)>) -> Option<(f64, f64)> {
    let (first, last) = (readings.front()?, readings.back()?);
    let seconds = last.0 - first.0;
    if readings.len() < 2 || seconds <= 0.0 {
        return None;
    }
    let mut increase = 0.0;
    for (a, b) in readings.iter().zip(readings.iter().skip(1)) {
        increase += counter_rate(a.1, b.1, 1.0)?;
    }
    Some((increase, seconds))
}

type SeriesKey = (String, Vec<(String, String)>);

/// What a scrape turns into, and the counters remembered for the next one.
#[derive(Debug, Default)]
pub struct Scraper {
    mappings: Vec<Mapping>,
    source: String,
    /// Seconds of history each counter keeps (the rate window).
    window: f64,
    /// Recent readings of every counter and histogram bucket: (Unix seconds, value).
    history: HashMap<SeriesKey, VecDeque<(f64, f64)>>,
    known_groups: std::collections::HashSet<GroupId>,
}

impl Scraper {
    pub fn new(cfg: &ScrapeSourceConfig) -> Result<Self, String> {
        Ok(Self {
            mappings: mappings(cfg)?,
            source: cfg.name.clone(),
            window: seconds(&cfg.rate_window, "rate_window")?.as_secs_f64(),
            ..Default::default()
        })
    }

    /// Records a counter reading (once per scrape, even if two mappings read the series) and
    /// returns its increase and span over the rate window.
    fn remember(
        &mut self,
        key: SeriesKey,
        now: f64,
        value: f64,
        seen: &mut std::collections::HashSet<SeriesKey>,
    ) -> Option<(f64, f64)> {
        if !seen.insert(key.clone()) {
            return self.history.get(&key).and_then(windowed_increase);
        }
        let readings = self.history.entry(key).or_default();
        readings.push_back((now, value));
        // Keep the window, but always two readings so a long interval still gives a rate.
        while readings.len() > 2 && readings.get(1).is_some_and(|r| r.0 <= now - self.window) {
            readings.pop_front();
        }
        windowed_increase(readings)
    }

    /// Turns one exposition read at `at` into updates (new groups first, then samples).
    /// Rates and histogram quantiles need two scrapes: the first gives gauges only.
    pub fn ingest(&mut self, text: &str, at: DateTime<Utc>) -> Result<Vec<Update>, String> {
        let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
            .map_err(|e| format!("not the Prometheus text format: {e}"))?;
        let now = at.timestamp_millis() as f64 / 1000.0;
        let mut seen: std::collections::HashSet<SeriesKey> = Default::default();
        // (mapping index, group) -> summed value, or histogram bound -> summed delta.
        let mut sums: BTreeMap<(usize, GroupId), f64> = BTreeMap::new();
        let mut denominators: BTreeMap<(usize, GroupId), f64> = BTreeMap::new();
        let mut hist: BTreeMap<(usize, GroupId), BTreeMap<u64, (f64, f64)>> = BTreeMap::new();
        for s in &scrape.samples {
            // A typed histogram arrives as one sample with its buckets; untyped `_bucket`
            // lines arrive one per bucket with an `le` label.
            let readings: Vec<(Option<f64>, f64)> = match &s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => {
                    let le = s.labels.get("le").and_then(|le| {
                        if le == "+Inf" {
                            Some(f64::INFINITY)
                        } else {
                            le.parse::<f64>().ok()
                        }
                    });
                    vec![(le, *v)]
                }
                prometheus_parse::Value::Histogram(hs) => {
                    hs.iter().map(|h| (Some(h.less_than), h.count)).collect()
                }
                prometheus_parse::Value::Summary(_) => continue,
            };
            for mi in 0..self.mappings.len() {
                let m = &self.mappings[mi];
                let histogram = m.spec.kind == "histogram";
                let matches = s.metric == m.spec.series
                    || (histogram && s.metric == format!("{}_bucket", m.spec.series));
                let denominator = m.spec.denominator.as_deref() == Some(s.metric.as_str())
                    && m.spec
                        .denominator_match
                        .iter()
                        .all(|(k, v)| s.labels.get(k) == Some(v.as_str()));
                if !matches && !denominator {
                    continue;
                }
                let Some(name) = s.labels.get(&m.spec.group_label) else {
                    continue;
                };
                let scope = s
                    .labels
                    .get(&m.spec.scope_label)
                    .map_or_else(|| self.source.clone(), str::to_string);
                let group = GroupId::new(Platform::K8s, &scope, name);
                if denominator {
                    let v = readings.first().map_or(0.0, |r| r.1);
                    *denominators.entry((mi, group.clone())).or_default() += v;
                    if !matches {
                        continue;
                    }
                }
                let kind = m.spec.kind.clone();
                let series = m.spec.series.clone();
                let mut labels: Vec<(String, String)> = s
                    .labels
                    .iter()
                    .filter(|(k, _)| k.as_str() != "le")
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect();
                labels.sort();
                for &(le, value) in &readings {
                    let mut key_labels = labels.clone();
                    if let Some(b) = le {
                        key_labels.push(("le".into(), b.to_string()));
                    }
                    let key = (series.clone(), key_labels);
                    match (kind.as_str(), le) {
                        ("gauge", _) => *sums.entry((mi, group.clone())).or_default() += value,
                        ("counter", _) => {
                            let window = self.remember(key, now, value, &mut seen);
                            if let Some((increase, span)) = window {
                                *sums.entry((mi, group.clone())).or_default() += increase / span;
                            }
                        }
                        ("histogram", Some(bound)) => {
                            let window = self.remember(key, now, value, &mut seen);
                            if let Some((increase, _)) = window {
                                let e = hist
                                    .entry((mi, group.clone()))
                                    .or_default()
                                    .entry(bound.to_bits())
                                    .or_insert((bound, 0.0));
                                e.1 += increase;
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        for ((mi, group), buckets) in hist {
            let mut b: Vec<(f64, f64)> = buckets.into_values().collect();
            b.sort_by(|x, y| x.0.total_cmp(&y.0));
            let q = self.mappings[mi].spec.quantile.unwrap_or(0.95);
            if let Some(v) = histogram_quantile(q, &b) {
                sums.insert((mi, group), v);
            }
        }
        // Series that disappeared (a pod gone, a label changed) stop holding memory.
        self.history.retain(|k, _| seen.contains(k));
        for ((mi, group), v) in sums.iter_mut() {
            if self.mappings[*mi].spec.denominator.is_some() {
                *v = match denominators.get(&(*mi, group.clone())) {
                    Some(d) if *d > 0.0 => *v / d,
                    _ => f64::NAN,
                };
            }
        }
        sums.retain(|_, v| v.is_finite());
        let mut updates = Vec::new();
        let mut samples = Vec::new();
        for ((mi, group), v) in sums {
            let m = &self.mappings[mi];
            if self.known_groups.insert(group.clone()) {
                updates.push(Update::Group(Box::new(GroupInfo::new(group.clone()))));
            }
            samples.push(Sample {
                group,
                metric: m.metric,
                value: v * m.spec.scale.unwrap_or(1.0),
            });
        }
        if !samples.is_empty() {
            updates.push(Update::Samples { at, samples });
        }
        Ok(updates)
    }
}

fn seconds(text: &str, what: &str) -> Result<Duration, String> {
    crate::duration::parse_duration(text).map_err(|e| format!("{what}: {e}"))
}

/// Validates the config (for `Config::load`).
pub fn validate(cfg: &ScrapeSourceConfig) -> Result<(), String> {
    if !(cfg.url.starts_with("http://") || cfg.url.starts_with("https://")) {
        return Err(format!(
            "url '{}': must start with http:// or https://",
            cfg.url
        ));
    }
    seconds(&cfg.interval, "interval")?;
    seconds(&cfg.timeout, "timeout")?;
    seconds(&cfg.rate_window, "rate_window")?;
    mappings(cfg).map(|_| ())
}

/// Scrapes every `interval`; a failed scrape marks the source down with the reason and the
/// next one tries again. Must run inside the tokio runtime.
pub fn spawn(cfg: ScrapeSourceConfig, tx: Sender<Update>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut health = SourceHealth {
            source: cfg.name.clone(),
            kind: "scrape".into(),
            target: cfg.url.clone(),
            state: HealthState::Starting,
            last_ok: None,
            updates: 0,
            errors: 0,
            details: SourceDetails::default(),
        };
        let setup = (|| {
            let scraper = Scraper::new(&cfg)?;
            let interval = seconds(&cfg.interval, "interval")?;
            let timeout = seconds(&cfg.timeout, "timeout")?;
            let client = reqwest::Client::builder()
                .timeout(timeout)
                .gzip(true)
                .build()
                .map_err(|e| format!("http client: {e}"))?;
            Ok::<_, String>((scraper, interval, client))
        })();
        let (mut scraper, interval, client) = match setup {
            Ok(s) => s,
            Err(reason) => {
                health.state = HealthState::Down { reason };
                let _ = tx.send(Update::Health(health)).await;
                return;
            }
        };
        let mut latencies: std::collections::VecDeque<f64> = Default::default();
        let mut delivered: u64 = 0;
        loop {
            let started = Instant::now();
            let result = async {
                let resp = client
                    .get(&cfg.url)
                    .send()
                    .await
                    .map_err(|e| format!("{}: {}", cfg.url, super::error_chain(&e)))?;
                if !resp.status().is_success() {
                    return Err(format!("{}: HTTP {}", cfg.url, resp.status().as_u16()));
                }
                let text = resp
                    .text()
                    .await
                    .map_err(|e| format!("{}: {}", cfg.url, super::error_chain(&e)))?;
                scraper.ingest(&text, Utc::now())
            }
            .await;
            latencies.push_back(started.elapsed().as_secs_f64() * 1000.0);
            if latencies.len() > 100 {
                latencies.pop_front();
            }
            match result {
                Ok(updates) => {
                    let mut series = 0;
                    for u in updates {
                        if let Update::Samples { samples, .. } = &u {
                            series = samples.len() as u64;
                            delivered += series;
                        }
                        health.updates += 1;
                        if tx.send(u).await.is_err() {
                            return;
                        }
                    }
                    health.state = HealthState::Up;
                    health.last_ok = Some(Utc::now());
                    health.details.series = Some(series);
                    health.details.samples = Some(delivered);
                }
                Err(reason) => {
                    health.errors += 1;
                    health.state = HealthState::Down { reason };
                }
            }
            let mut sorted: Vec<f64> = latencies.iter().copied().collect();
            sorted.sort_by(f64::total_cmp);
            health.details.latency_p50_ms = sorted.get(sorted.len() / 2).copied();
            health.details.latency_p95_ms = sorted.get(sorted.len() * 95 / 100).copied();
            if tx.send(Update::Health(health.clone())).await.is_err() {
                return;
            }
            tokio::time::sleep(interval.saturating_sub(started.elapsed())).await;
        }
    })
}

#[cfg(test)]
mod tests;

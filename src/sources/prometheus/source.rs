//! The Prometheus source task: discovers groups, backfills history, then polls with small
//! incremental range queries. Errors turn the source down with the reason; the store keeps
//! the last good data and the task keeps trying on every interval.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::future::join_all;
use futures::StreamExt;
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

use super::client::{PromClient, PromError};
use super::config::PrometheusSourceConfig;
use super::decode::{Labels, RangeSeries};
use super::presets::{placeholders, substitute, QueryPlan};
use crate::duration::parse_duration;
use crate::model::{GroupId, GroupInfo, MetricKind, ScalingEvent};
use crate::sources::{HealthState, Sample, SourceDetails, SourceHealth, Update};

/// Backfill is fetched and sent a day at a time, so memory stays bounded by one day of
/// samples and the screen fills in as it goes.
const BACKFILL_CHUNK_SECONDS: i64 = 86_400;
/// Backfill chunks fetched at once; each holds a day of every metric in memory until sent.
const BACKFILL_CHUNKS_IN_FLIGHT: usize = 3;
/// Query latencies kept for p50/p95.
const LATENCY_WINDOW: usize = 128;

/// Settings parsed from config once, before the task starts.
#[derive(Debug, Clone)]
pub struct PromSourceSettings {
    pub name: String,
    pub interval: Duration,
    pub backfill: Duration,
    pub step_seconds: i64,
    pub plan: QueryPlan,
}

impl PromSourceSettings {
    pub fn from_config(cfg: &PrometheusSourceConfig) -> Result<Self, String> {
        let dur = |key: &str, v: &str| parse_duration(v).map_err(|e| format!("{key}: {e}"));
        let interval = dur("interval", &cfg.interval)?;
        let step = dur("step", &cfg.step)?;
        if interval.as_secs() == 0 || step.as_secs() == 0 {
            return Err("interval and step must be at least 1s".into());
        }
        Ok(Self {
            name: cfg.name.clone(),
            interval,
            backfill: dur("backfill", &cfg.backfill)?,
            step_seconds: step.as_secs() as i64,
            plan: QueryPlan::resolve(&cfg.preset, &cfg.queries)?,
        })
    }
}

/// Starts the source; it ends when the receiver is dropped.
pub fn spawn(cfg: PrometheusSourceConfig, tx: Sender<Update>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut health = SourceHealth {
            source: cfg.name.clone(),
            kind: "prometheus".into(),
            target: super::client::sanitize_base_url(&cfg.url)
                .map(|(u, _)| u)
                .unwrap_or_else(|_| "(invalid url)".into()),
            state: HealthState::Starting,
            last_ok: None,
            updates: 0,
            errors: 0,
            details: SourceDetails::default(),
        };
        let setup = PromSourceSettings::from_config(&cfg).and_then(|s| {
            PromClient::from_config(&cfg)
                .map(|c| (s, c))
                .map_err(|e| e.to_string())
        });
        match setup {
            Ok((settings, client)) => {
                let mut source = PromSource::new(settings, client, health, tx);
                let _ = source.run().await;
            }
            Err(reason) => {
                // A config problem does not fix itself: report it once and stop.
                health.state = HealthState::Down { reason };
                health.errors = 1;
                let _ = tx.send(Update::Health(health)).await;
            }
        }
    })
}

struct Closed;

/// A discovered group: its id and the labels templates may use.
#[derive(Debug, Clone)]
struct Group {
    id: GroupId,
    labels: Labels,
}

pub struct PromSource {
    settings: PromSourceSettings,
    client: PromClient,
    health: SourceHealth,
    tx: Sender<Update>,
    /// Groups by (scope label value, group label value).
    groups: BTreeMap<(String, String), Group>,
    /// Newest timestamp fetched (Unix seconds); `None` before the first chunk.
    fetched_until: Option<i64>,
    /// The whole backfill has been fetched; rounds are live from here on.
    backfill_done: bool,
    /// Oldest timestamp any query returned, for the "server holds less" note.
    oldest_fetched: Option<i64>,
    /// Series the plan needs that the server lacks; checked until the check answers once.
    missing: Option<Option<String>>,
    history: Option<String>,
    /// Set while discovery finds nothing, so the source says why it shows no group.
    undiscovered: Option<String>,
    /// Metrics whose query failed in the last round while others answered.
    failed_metrics: Vec<String>,
    last_desired: HashMap<GroupId, (i64, f64)>,
    latencies_ms: VecDeque<f64>,
}

impl PromSource {
    fn new(
        settings: PromSourceSettings,
        client: PromClient,
        health: SourceHealth,
        tx: Sender<Update>,
    ) -> Self {
        Self {
            settings,
            client,
            health,
            tx,
            groups: BTreeMap::new(),
            fetched_until: None,
            backfill_done: false,
            oldest_fetched: None,
            missing: None,
            history: None,
            undiscovered: None,
            failed_metrics: Vec::new(),
            last_desired: HashMap::new(),
            latencies_ms: VecDeque::new(),
        }
    }

    async fn send(&self, u: Update) -> Result<(), Closed> {
        self.tx.send(u).await.map_err(|_| Closed)
    }

    async fn run(&mut self) -> Result<(), Closed> {
        self.send(Update::Health(self.health.clone())).await?;
        let mut ticker = tokio::time::interval(self.settings.interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = self.tx.closed() => return Err(Closed),
                _ = ticker.tick() => {}
            }
            match self.poll().await {
                Ok(Ok(())) => {
                    self.health.state = HealthState::Up;
                    self.health.last_ok = Some(Utc::now());
                    let mut warnings = self.client.take_warnings();
                    warnings.extend(self.failed_metrics.iter().cloned());
                    self.health.details.warning =
                        (!warnings.is_empty()).then(|| warnings.join("; "));
                }
                Ok(Err(e)) => {
                    tracing::warn!(source = %self.health.source, "poll failed: {e}");
                    self.health.state = HealthState::Down {
                        reason: e.to_string(),
                    };
                    self.health.errors += 1;
                }
                Err(Closed) => return Err(Closed),
            }
            self.health.details.latency_p50_ms = percentile(&self.latencies_ms, 0.50);
            self.health.details.latency_p95_ms = percentile(&self.latencies_ms, 0.95);
            self.send(Update::Health(self.health.clone())).await?;
        }
    }

    /// One round: discover, then fetch from where the last round stopped: the backfill (in
    /// day-sized chunks, oldest first, resuming after a failure) until it is done, then live
    /// steps. The outer error is only "receiver gone".
    async fn poll(&mut self) -> Result<Result<(), PromError>, Closed> {
        let now = Utc::now().timestamp();
        if let Err(e) = self.discover().await? {
            return Ok(Err(e));
        }
        if self.missing.is_none() {
            self.check_missing_series().await;
        }
        if !self.backfill_done {
            let step = self.settings.step_seconds;
            let asked_start = align(now - self.settings.backfill.as_secs() as i64, step);
            let chunk = (BACKFILL_CHUNK_SECONDS / step).max(1) * step;
            let first = self.fetched_until.map_or(asked_start, |t| t + step);
            let chunks: Vec<(i64, i64)> = (0..)
                .map(|k| first + k * chunk)
                .take_while(|s| *s <= now)
                .map(|s| (s, (s + chunk - step).min(now)))
                .collect();
            // Several chunks in flight (the client bounds requests), delivered in time order:
            // a barrier per chunk left the connection idle while its slowest query finished.
            let (client, plan) = (self.client.clone(), self.settings.plan.clone());
            let groups: Vec<Group> = self.groups.values().cloned().collect();
            let mut fetched = futures::stream::iter(chunks)
                .map(|(start, end)| {
                    let (client, plan, groups) = (&client, &plan, &groups);
                    async move {
                        let r = fetch_range(client, plan, groups, start, end, step).await;
                        (start, end, r)
                    }
                })
                .buffered(BACKFILL_CHUNKS_IN_FLIGHT);
            while let Some((start, end, results)) = fetched.next().await {
                if let Err(e) = self.deliver(results, start, end, step).await? {
                    return Ok(Err(e));
                }
                if end < now {
                    let done = Duration::from_secs((end - asked_start).max(0) as u64);
                    self.health.details.note = Some(format!(
                        "backfilling: {} of {} fetched",
                        crate::duration::format_duration(done),
                        crate::duration::format_duration(self.settings.backfill)
                    ));
                    self.send(Update::Health(self.health.clone())).await?;
                }
            }
            self.backfill_done = true;
            self.history = history_note(
                self.oldest_fetched,
                asked_start,
                now,
                self.settings.backfill,
            );
            self.refresh_note();
            return Ok(Ok(()));
        }
        let live_step = self.settings.interval.as_secs().max(1) as i64;
        let start = self
            .fetched_until
            .map_or(align(now, live_step), |t| t + live_step);
        if start > now {
            return Ok(Ok(()));
        }
        self.fetch_and_send(start, now, live_step).await
    }

    /// Fetches every metric over [start, end] at `step`, sends the samples and events in time
    /// order, and records `end`'s last step as fetched.
    async fn fetch_and_send(
        &mut self,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Result<(), PromError>, Closed> {
        let results = {
            let groups: Vec<Group> = self.groups.values().cloned().collect();
            fetch_range(&self.client, &self.settings.plan, &groups, start, end, step).await
        };
        self.deliver(results, start, end, step).await
    }

    /// Sends one fetched time range to the store (samples, derived events) and accounts for
    /// it in the health details.
    async fn deliver(
        &mut self,
        results: Vec<(MetricKind, MetricResult, Duration)>,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<Result<(), PromError>, Closed> {
        for (_, _, took) in &results {
            self.push_latency(took.as_secs_f64() * 1000.0);
        }
        let results: Vec<(MetricKind, MetricResult)> =
            results.into_iter().map(|(m, r, _)| (m, r)).collect();
        let mut by_time: BTreeMap<i64, Vec<Sample>> = BTreeMap::new();
        let mut desired: BTreeMap<GroupId, Vec<(i64, f64)>> = BTreeMap::new();
        let mut series = 0u64;
        let mut delivered = 0u64;
        // One broken query (a bad template, PromQL the server rejects) must not hide the
        // metrics that work: it is reported with the data. Only a round where nothing
        // answered takes the source down.
        let answered = results.iter().filter(|(_, r)| r.is_ok()).count();
        self.failed_metrics.clear();
        for (metric, result) in results {
            let per_group = match result {
                Ok(r) => r,
                Err(e) if answered == 0 => return Ok(Err(e)),
                Err(e) => {
                    self.failed_metrics.push(format!("{metric}: {e}"));
                    continue;
                }
            };
            for (gid, points) in per_group {
                series += 1;
                for p in points {
                    if p.value.is_nan() {
                        continue;
                    }
                    let ts = p.timestamp_seconds();
                    delivered += 1;
                    self.oldest_fetched = Some(self.oldest_fetched.map_or(ts, |o| o.min(ts)));
                    by_time.entry(ts).or_default().push(Sample {
                        group: gid.clone(),
                        metric,
                        value: p.value,
                    });
                    if metric == MetricKind::ReplicasDesired {
                        desired.entry(gid.clone()).or_default().push((ts, p.value));
                    }
                }
            }
        }
        let events = self.derive_events(&desired, &by_time);
        for (ts, samples) in by_time {
            let at = DateTime::from_timestamp(ts, 0).unwrap_or_default();
            self.send(Update::Samples { at, samples }).await?;
            self.health.updates += 1;
        }
        for e in events {
            self.send(Update::Event(e)).await?;
        }
        self.health.details.series = Some(series);
        self.health.details.samples = Some(self.health.details.samples.unwrap_or(0) + delivered);
        // Evaluated at start + k x step up to end; the newest step is that last one.
        self.fetched_until = Some(start + (end - start).div_euclid(step) * step);
        Ok(Ok(()))
    }

    /// Asks the server for its metric names (`/api/v1/label/__name__/values`) and notes the
    /// series the plan selects that it does not have. Servers that do not answer this are
    /// left alone (the check is advice, not a requirement).
    async fn check_missing_series(&mut self) {
        let lookback = self.settings.backfill.as_secs().max(3_600) as i64;
        let began = Instant::now();
        let names = self
            .client
            .label_names_or_values(Some("__name__"), lookback)
            .await;
        self.record_latency(began);
        match names {
            Ok(names) => {
                self.missing = Some(super::presets::missing_series(&self.settings.plan, &names));
                self.refresh_note();
            }
            Err(e) => {
                tracing::debug!(source = %self.health.source, "metric names not listed: {e}");
                self.missing = Some(None);
            }
        }
    }

    /// The note shown with the source: missing series first, then history held.
    fn refresh_note(&mut self) {
        let parts: Vec<String> = [
            self.undiscovered.clone(),
            self.missing.clone().flatten(),
            self.history.clone(),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.health.details.note = (!parts.is_empty()).then(|| parts.join("; "));
    }

    async fn discover(&mut self) -> Result<Result<(), PromError>, Closed> {
        let began = Instant::now();
        let found = self.client.query(&self.settings.plan.discover, None).await;
        self.record_latency(began);
        let found = match found {
            Ok(f) => f,
            Err(e) => return Ok(Err(e)),
        };
        // An empty answer is not an error, but a source with no groups must say why.
        self.undiscovered = (found.is_empty() && self.groups.is_empty()).then(|| {
            format!(
                "no group found: the discovery query returned no series ({})",
                self.settings.plan.discover
            )
        });
        self.refresh_note();
        let plan = &self.settings.plan;
        for s in found {
            let Some(key) = group_key(plan, &s.metric) else {
                continue;
            };
            if self.groups.contains_key(&key) {
                continue;
            }
            let id = GroupId::new(plan.platform, key.0.clone(), key.1.clone());
            let mut labels = s.metric.clone();
            labels.remove("__name__");
            labels.insert("group".into(), key.1.clone());
            labels.insert("scope".into(), key.0.clone());
            let mut info = GroupInfo::new(id.clone());
            info.labels = labels.clone();
            self.send(Update::Group(Box::new(info))).await?;
            self.groups.insert(key, Group { id, labels });
        }
        Ok(Ok(()))
    }

    fn record_latency(&mut self, began: Instant) {
        self.push_latency(began.elapsed().as_secs_f64() * 1000.0);
    }

    fn push_latency(&mut self, ms: f64) {
        if self.latencies_ms.len() == LATENCY_WINDOW {
            self.latencies_ms.pop_front();
        }
        self.latencies_ms.push_back(ms);
    }

    /// A scaling event per change of desired replicas, with the values that explain it.
    fn derive_events(
        &mut self,
        desired: &BTreeMap<GroupId, Vec<(i64, f64)>>,
        by_time: &BTreeMap<i64, Vec<Sample>>,
    ) -> Vec<ScalingEvent> {
        let mut events = Vec::new();
        for (gid, points) in desired {
            for &(ts, value) in points {
                let prev = self.last_desired.insert(gid.clone(), (ts, value));
                let Some((_, before)) = prev.filter(|(t, _)| *t < ts) else {
                    continue;
                };
                if before.round() == value.round() {
                    continue;
                }
                let at_ts = |m: MetricKind| {
                    by_time.get(&ts).and_then(|ss| {
                        ss.iter()
                            .find(|s| s.group == *gid && s.metric == m)
                            .map(|s| s.value)
                    })
                };
                let mut why = Vec::new();
                if let Some(cpu) = at_ts(MetricKind::CpuUtilization) {
                    why.push(format!("cpu {cpu:.0}%"));
                }
                if let Some(mem) = at_ts(MetricKind::MemoryUtilization) {
                    why.push(format!("memory {mem:.0}%"));
                }
                let demand = at_ts(MetricKind::RequestRate);
                if let Some(rps) = demand {
                    why.push(format!("{rps:.1} req/s"));
                }
                if let Some(p95) = at_ts(MetricKind::LatencyP95Ms) {
                    why.push(format!("p95 {p95:.0} ms"));
                }
                let reason = if why.is_empty() {
                    "desired replicas changed (no explaining metric available)".to_string()
                } else {
                    format!("desired replicas changed at {}", why.join(", "))
                };
                events.push(ScalingEvent {
                    at: DateTime::from_timestamp(ts, 0).unwrap_or_default(),
                    group: gid.clone(),
                    from_replicas: before.round().max(0.0) as u32,
                    to_replicas: value.round().max(0.0) as u32,
                    reason,
                    demand,
                    thrash: false,
                    origin: Default::default(),
                });
            }
        }
        events.sort_by_key(|e| e.at);
        events
    }
}

type GroupPoints = Vec<(GroupId, Vec<super::decode::Point>)>;

type MetricResult = Result<Vec<(GroupId, Vec<super::decode::Point>)>, PromError>;

/// Runs every metric query of one time range (fleet-wide, or per group when the template has
/// placeholders) concurrently; the client bounds requests in flight. Each with its duration.
async fn fetch_range(
    client: &PromClient,
    plan: &QueryPlan,
    groups: &[Group],
    start: i64,
    end: i64,
    step: i64,
) -> Vec<(MetricKind, MetricResult, Duration)> {
    let jobs = plan.queries.iter().map(|(metric, template)| async move {
        let began = Instant::now();
        let result = if placeholders(template).is_empty() {
            client
                .query_range(template, start, end, step)
                .await
                .map(|series| match_fleet(plan, groups, series))
        } else {
            per_group(client, template, groups, start, end, step).await
        };
        (*metric, result, began.elapsed())
    });
    join_all(jobs).await
}

async fn per_group(
    client: &PromClient,
    template: &str,
    groups: &[Group],
    start: i64,
    end: i64,
    step: i64,
) -> Result<GroupPoints, PromError> {
    let mut queries = Vec::with_capacity(groups.len());
    for g in groups {
        let q = substitute(template, &g.labels).map_err(PromError::Config)?;
        queries.push((g.id.clone(), q));
    }
    let results = join_all(
        queries
            .iter()
            .map(|(_, q)| client.query_range(q, start, end, step)),
    )
    .await;
    let mut out = Vec::new();
    for ((gid, _), r) in queries.into_iter().zip(results) {
        // A per-group template should give one series; take the first.
        if let Some(s) = r?.into_iter().next() {
            out.push((gid, s.values));
        }
    }
    Ok(out)
}

fn group_key(plan: &QueryPlan, labels: &Labels) -> Option<(String, String)> {
    let name = labels.get(&plan.group_label)?.clone();
    let scope = if plan.scope_label.is_empty() {
        String::new()
    } else {
        labels.get(&plan.scope_label).cloned().unwrap_or_default()
    };
    Some((scope, name))
}

fn match_fleet(plan: &QueryPlan, groups: &[Group], series: Vec<RangeSeries>) -> GroupPoints {
    series
        .into_iter()
        .filter_map(|s| {
            let key = group_key(plan, &s.metric)?;
            let g = groups
                .iter()
                .find(|g| g.id.scope == key.0 && g.id.name == key.1)?;
            Some((g.id.clone(), s.values))
        })
        .collect()
}

fn align(t: i64, step: i64) -> i64 {
    t.div_euclid(step.max(1)) * step.max(1)
}

fn percentile(values: &VecDeque<f64>, q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v: Vec<f64> = values.iter().copied().collect();
    v.sort_by(f64::total_cmp);
    let i = ((v.len() - 1) as f64 * q).round() as usize;
    v.get(i).copied()
}

/// Says how much history the server held when it is less than asked for.
fn history_note(oldest: Option<i64>, start: i64, now: i64, asked: Duration) -> Option<String> {
    let asked_s = asked.as_secs() as i64;
    if asked_s == 0 {
        return None;
    }
    let Some(oldest) = oldest else {
        return Some(format!(
            "server returned no history for the {} backfill",
            crate::duration::format_duration(asked)
        ));
    };
    // A day of slack: series rarely start exactly on the step.
    (oldest - start > 86_400.min(asked_s / 10)).then(|| {
        format!(
            "server holds {} of the {} backfill asked for",
            crate::duration::format_duration(Duration::from_secs((now - oldest).max(0) as u64)),
            crate::duration::format_duration(asked)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_history_note() {
        let v: VecDeque<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), Some(51.0));
        assert_eq!(percentile(&v, 0.95), Some(95.0));
        let day = 86_400;
        let asked = Duration::from_secs(28 * day as u64);
        let now = 100 * day;
        let start = now - 28 * day;
        assert_eq!(history_note(Some(start), start, now, asked), None);
        let note = history_note(Some(now - 3 * day), start, now, asked).expect("less");
        assert!(note.contains("3d") && note.contains("28d"), "{note}");
    }
}

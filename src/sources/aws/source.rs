//! The AWS source task: every interval, each region's groups (with their live policy),
//! capacity, new scaling activities and CloudWatch datapoints go to the store, then the
//! source's health. CloudWatch history is backfilled on the first good poll, then read
//! incrementally (the last few periods again: CloudWatch fills them in late).
//!
//! Failures keep the last data: nothing is withdrawn from the store. Throttling beyond the
//! SDK's retries doubles the poll interval (up to 8x) until a poll goes through.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

use super::activity::to_events;
use super::capacity::{derive, Observations, MAX_OBSERVATIONS};
use super::client::{endpoint, sdk_config, Failure};
use super::groups::read_region;
use super::metrics::{fetch, MetricTarget};
use super::AwsSourceConfig;
use crate::model::{GroupId, MetricKind};
use crate::pricing::Catalog;
use crate::sources::{HealthState, Sample, SourceDetails, SourceHealth, Update};

/// Periods read again on each incremental CloudWatch fetch.
const LATE_PERIODS: i64 = 3;
const MAX_BACKOFF: u32 = 8;

struct Region {
    name: String,
    endpoint: String,
    asg: aws_sdk_autoscaling::Client,
    cw: aws_sdk_cloudwatch::Client,
    /// End of the last good CloudWatch fetch.
    metrics_until: Option<DateTime<Utc>>,
    seen: HashSet<(GroupId, String)>,
    /// CPU and requests per instance by period, for each group's capacity model.
    load: HashMap<GroupId, Observations>,
}

pub fn spawn(cfg: AwsSourceConfig, tx: Sender<Update>) -> JoinHandle<()> {
    tokio::spawn(async move { run(cfg, tx).await })
}

fn duration(text: &str) -> Duration {
    // Validated with the config; a bad value falls back to a minute rather than panicking.
    crate::duration::parse_duration(text).unwrap_or(Duration::from_secs(60))
}

async fn regions(cfg: &AwsSourceConfig) -> Result<Vec<Region>, String> {
    let names: Vec<Option<&str>> = if cfg.regions.is_empty() {
        vec![None]
    } else {
        cfg.regions.iter().map(|r| Some(r.as_str())).collect()
    };
    let mut out = Vec::new();
    for name in names {
        let conf = sdk_config(cfg, name).await;
        let Some(region) = conf.region().map(|r| r.to_string()) else {
            return Err(
                "no region: set `regions` in [[sources.aws]], AWS_REGION, or the profile's region"
                    .into(),
            );
        };
        out.push(Region {
            endpoint: endpoint(&conf),
            asg: aws_sdk_autoscaling::Client::new(&conf),
            cw: aws_sdk_cloudwatch::Client::new(&conf),
            name: region,
            metrics_until: None,
            seen: HashSet::new(),
            load: HashMap::new(),
        });
    }
    Ok(out)
}

/// What one region's poll gave.
enum Outcome {
    Groups(usize),
    Failed(Failure),
}

async fn poll_region(
    r: &mut Region,
    cfg: &AwsSourceConfig,
    tx: &Sender<Update>,
    period: i64,
    backfill: i64,
    catalog: Option<&Catalog>,
    stats: &mut (u64, Vec<String>, Vec<String>),
) -> Result<Outcome, ()> {
    let account = if cfg.profile.is_empty() {
        "default"
    } else {
        cfg.profile.as_str()
    };
    let data = match read_region(&r.asg, &r.cw, cfg, &r.name, account).await {
        Ok(d) => d,
        Err(f) => return Ok(Outcome::Failed(f)),
    };
    let now = Utc::now();
    let send = |u: Update| async move { tx.send(u).await.map_err(|_| ()) };
    stats
        .1
        .extend(data.notes.iter().map(|n| format!("{}: {n}", r.name)));
    if data.groups.is_empty() {
        for e in to_events(&data.activities, &mut r.seen) {
            send(Update::Event(e)).await?;
        }
        let filter = if cfg.groups.is_empty() {
            String::new()
        } else {
            format!(" matching {}", cfg.groups.join(", "))
        };
        stats
            .1
            .push(format!("{}: no Auto Scaling groups{filter}", r.name));
        return Ok(Outcome::Groups(0));
    }
    let targets: Vec<MetricTarget> = data
        .groups
        .iter()
        .map(|g| MetricTarget {
            group: g.info.id.clone(),
            asg_name: g.asg_name.clone(),
            target_groups: g.target_groups.clone(),
            in_service: g.in_service,
        })
        .collect();
    let start = match r.metrics_until {
        Some(t) => t - chrono::Duration::seconds(LATE_PERIODS * period),
        None => now - chrono::Duration::seconds(backfill.max(LATE_PERIODS * period)),
    };
    // Whole periods, as CloudWatch aligns datapoints.
    let start =
        DateTime::from_timestamp(start.timestamp().div_euclid(period) * period, 0).unwrap_or(start);
    let metrics = match fetch(&r.cw, &targets, start, now, period as i32).await {
        Ok(by_time) => {
            r.metrics_until = Some(now);
            observe(&mut r.load, &targets, &by_time);
            by_time
        }
        Err(f) => {
            stats
                .2
                .push(format!("{}: CloudWatch: {}", r.name, f.message()));
            Default::default()
        }
    };
    let mut capacity = Vec::new();
    for g in &data.groups {
        let mut info = g.info.clone();
        let empty = Observations::new();
        let obs = r.load.get(&info.id).unwrap_or(&empty);
        // Stated on the group, so the Policies tab can say why a replay is not possible.
        let (label, text) = match catalog.map(|c| derive(&g.facts, obs, c)) {
            Some(Ok((model, basis))) => {
                info.capacity = Some(model);
                ("capacity_model", basis)
            }
            Some(Err(missing)) => ("capacity_missing", missing),
            None => (
                "capacity_missing",
                "the built-in pricing catalog did not load".to_string(),
            ),
        };
        // Both keys always set (one empty): the store keeps labels a newer update omits.
        for key in ["capacity_model", "capacity_missing"] {
            let v = if key == label {
                text.clone()
            } else {
                String::new()
            };
            info.labels.insert(key.into(), v);
        }
        send(Update::Group(Box::new(info))).await?;
        for (metric, v) in [
            (MetricKind::ReplicasDesired, g.desired),
            (MetricKind::ReplicasReady, g.in_service),
            (MetricKind::ReplicasMin, g.min),
            (MetricKind::ReplicasMax, g.max),
        ] {
            capacity.push(Sample {
                group: g.info.id.clone(),
                metric,
                value: f64::from(v),
            });
        }
    }
    stats.0 += capacity.len() as u64;
    if !capacity.is_empty() {
        send(Update::Samples {
            at: now,
            samples: capacity,
        })
        .await?;
    }
    for e in to_events(&data.activities, &mut r.seen) {
        send(Update::Event(e)).await?;
    }
    for (ts, samples) in metrics {
        let Some(at) = DateTime::from_timestamp(ts, 0) else {
            continue;
        };
        stats.0 += samples.len() as u64;
        send(Update::Samples { at, samples }).await?;
    }
    Ok(Outcome::Groups(data.groups.len()))
}

/// Keeps each period's (CPU %, requests per second per in-service instance) of every group;
/// the request rate the fetch reports is per target times the in-service count.
fn observe(
    load: &mut HashMap<GroupId, Observations>,
    targets: &[MetricTarget],
    by_time: &std::collections::BTreeMap<i64, Vec<Sample>>,
) {
    for t in targets.iter().filter(|t| t.in_service > 0) {
        let obs = load.entry(t.group.clone()).or_default();
        for (ts, samples) in by_time {
            let value = |m: MetricKind| {
                samples
                    .iter()
                    .find(|s| s.group == t.group && s.metric == m)
                    .map(|s| s.value)
            };
            if let (Some(cpu), Some(rate)) = (
                value(MetricKind::CpuUtilization),
                value(MetricKind::RequestRate),
            ) {
                obs.insert(*ts, (cpu, rate / f64::from(t.in_service)));
            }
        }
        while obs.len() > MAX_OBSERVATIONS {
            obs.pop_first();
        }
    }
}

async fn run(cfg: AwsSourceConfig, tx: Sender<Update>) {
    let mut health = SourceHealth {
        source: cfg.name.clone(),
        kind: "aws".into(),
        target: cfg.target(),
        state: HealthState::Starting,
        last_ok: None,
        updates: 0,
        errors: 0,
        details: SourceDetails::default(),
    };
    let interval = duration(&cfg.interval).max(Duration::from_secs(1));
    let period = duration(&cfg.period).as_secs().max(60) as i64;
    let backfill = duration(&cfg.backfill).as_secs() as i64;
    let mut regions = match regions(&cfg).await {
        Ok(r) => r,
        Err(reason) => {
            health.state = HealthState::Down { reason };
            health.errors += 1;
            let _ = tx.send(Update::Health(health)).await;
            return;
        }
    };
    // Instance vCPUs and prices for the capacity models (embedded; cannot fail in a release).
    let catalog = Catalog::built_in().ok();
    let mut backoff = 1u32;
    let mut delivered = 0u64;
    let mut latencies: std::collections::VecDeque<f64> = Default::default();
    loop {
        let started = Instant::now();
        // (samples delivered, notes, warnings)
        let mut stats = (0u64, Vec::new(), Vec::new());
        let mut failures: Vec<(String, Failure)> = Vec::new();
        let mut groups = 0;
        for r in regions.iter_mut() {
            match poll_region(r, &cfg, &tx, period, backfill, catalog.as_ref(), &mut stats).await {
                Err(()) => return, // the store is gone
                Ok(Outcome::Groups(n)) => groups += n,
                Ok(Outcome::Failed(f)) => {
                    failures.push((format!("{} ({})", r.name, r.endpoint), f))
                }
            }
        }
        latencies.push_back(started.elapsed().as_secs_f64() * 1000.0);
        if latencies.len() > 100 {
            latencies.pop_front();
        }
        delivered += stats.0;
        let throttled = failures
            .iter()
            .any(|(_, f)| matches!(f, Failure::Throttled(_)));
        backoff = if throttled {
            (backoff * 2).min(MAX_BACKOFF)
        } else {
            1
        };
        let failed: Vec<String> = failures
            .iter()
            .map(|(r, f)| format!("{r}: {}", f.message()))
            .collect();
        let mut warnings = stats.2;
        if failures.is_empty() || failures.len() < regions.len() {
            health.state = HealthState::Up;
            health.last_ok = Some(Utc::now());
            health.updates += 1;
            warnings.extend(failed.iter().cloned());
        } else {
            let keep = if health.last_ok.is_some() {
                "; showing the last data"
            } else {
                ""
            };
            health.state = HealthState::Down {
                reason: format!("{}{keep}", failed.join("; ")),
            };
        }
        if !failures.is_empty() {
            health.errors += 1;
        }
        if throttled {
            warnings.push(format!(
                "throttled: polling every {}s until AWS accepts requests again",
                (interval * backoff).as_secs()
            ));
        }
        health.details.series = Some(groups as u64);
        health.details.samples = Some(delivered);
        health.details.warning = (!warnings.is_empty()).then(|| warnings.join("; "));
        health.details.note = (!stats.1.is_empty()).then(|| stats.1.join("; "));
        let mut sorted: Vec<f64> = latencies.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        health.details.latency_p50_ms = sorted.get(sorted.len() / 2).copied();
        health.details.latency_p95_ms = sorted.get(sorted.len() * 95 / 100).copied();
        if tx.send(Update::Health(health.clone())).await.is_err() {
            return;
        }
        tokio::time::sleep((interval * backoff).saturating_sub(started.elapsed())).await;
    }
}

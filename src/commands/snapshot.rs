//! `scaletop snapshot`: connects the configured sources, waits for their first answer (or
//! `--wait`), and prints what the TUI would show. Exit 0 when every source answered, 1 when
//! any did not (the JSON is printed anyway), 2 for bad usage or config.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::Args;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::cli::{CliError, Format};
use crate::config::Config;
use crate::duration::parse_duration;
use crate::model::{GroupId, ScalingEvent};
use crate::sources::{HealthState, SourceHealth};
use crate::store::Store;

/// Store step and depth: enough for latest values and recent events.
const STORE_STEP_SECONDS: i64 = 15;
const STORE_SLOTS: usize = 4 * 60 * 24;
/// Events listed, newest last.
const RECENT_EVENTS: usize = 50;

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Longest wait for every source's first answer, e.g. 30s.
    #[arg(long, default_value = "30s")]
    pub wait: String,
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

#[derive(Debug, Serialize)]
pub struct Snapshot {
    pub schema: &'static str,
    pub taken_at: DateTime<Utc>,
    pub sources: Vec<SourceHealth>,
    pub groups: Vec<GroupSnapshot>,
    pub events: Vec<ScalingEvent>,
}

#[derive(Debug, Serialize)]
pub struct GroupSnapshot {
    pub id: GroupId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    /// Newest value per metric; a metric with no value is absent, never zero.
    pub latest: BTreeMap<String, f64>,
    /// Monitoring figures over the history held (events/day, scaling efficiency, latency
    /// during scaling, SLA at peak, cost per request); absent without request-rate data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<crate::report::monitoring::MonitoringFigures>,
    /// The group's current policy (a platform API's live policy beats a file or inference),
    /// with a one-line summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicySnapshot>,
    /// The capacity model replays run on, where a source derived one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capacity: Option<crate::model::CapacityModel>,
    /// What sources say about the group, e.g. HPA conditions (`k8s.condition.ScalingLimited`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct PolicySnapshot {
    pub provenance: crate::model::PolicyProvenance,
    pub summary: String,
    pub model: crate::model::PolicyModel,
}

pub fn run(args: &SnapshotArgs, cfg: &Config) -> Result<(), CliError> {
    let wait = parse_duration(&args.wait).map_err(|e| CliError::usage(format!("--wait: {e}")))?;
    if cfg.sources.count() == 0 {
        return Err(CliError::usage(
            "no sources configured: add a [[sources.prometheus]], [[sources.scrape]], [[sources.kubernetes]], [[sources.aws]], [[sources.gcp]] or [[sources.azure]] table to the config (--config FILE)",
        ));
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::usage(format!("cannot start runtime: {e}")))?;
    let snapshot = runtime.block_on(collect(cfg, wait));
    let all_up = snapshot.sources.len() == cfg.sources.count()
        && snapshot
            .sources
            .iter()
            .all(|h| matches!(h.state, HealthState::Up));
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &snapshot)
            .map_err(std::io::Error::other)
            .and_then(|_| writeln!(out)),
        _ => write_table(&mut out, &snapshot),
    };
    written.or_else(crate::cli::output_error)?;
    if all_up {
        Ok(())
    } else {
        Err(CliError {
            code: 1,
            message: "not every source answered (see sources in the output)".into(),
        })
    }
}

async fn collect(cfg: &Config, wait: Duration) -> Snapshot {
    let (tx, mut rx) = mpsc::channel(4096);
    let tasks = crate::sources::spawn_configured(&cfg.sources, &tx);
    drop(tx);
    let mut store = Store::new(STORE_STEP_SECONDS, STORE_SLOTS);
    let deadline = tokio::time::Instant::now() + wait;
    let expected = cfg.sources.count();
    loop {
        let answered = store
            .health()
            .filter(|h| !matches!(h.state, HealthState::Starting))
            .count();
        if answered == expected {
            break;
        }
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(u)) => store.apply(u),
            Ok(None) | Err(_) => break,
        }
    }
    // Take what is already queued (samples sent just before the health report).
    while let Ok(u) = rx.try_recv() {
        store.apply(u);
    }
    for t in tasks {
        t.abort();
    }
    let groups = store
        .groups()
        .iter()
        .enumerate()
        .map(|(i, g)| GroupSnapshot {
            id: g.id.clone(),
            instance_type: g.instance_type.clone(),
            latest: crate::model::MetricKind::ALL
                .iter()
                .filter_map(|&m| store.latest(i, m).map(|v| (m.as_str().to_string(), v)))
                .collect(),
            monitoring: crate::report::monitoring::MonitoringInputs::from_store(&store, i)
                .map(|m| crate::report::monitoring::figures(&m)),
            policy: g.policy.as_ref().map(|p| PolicySnapshot {
                summary: p.model.summary(),
                provenance: p.provenance,
                model: p.model.clone(),
            }),
            capacity: g.capacity.clone(),
            labels: g
                .labels
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
        .collect();
    let events = store.events();
    Snapshot {
        schema: "scaletop.snapshot/v1",
        taken_at: Utc::now(),
        sources: store.health().cloned().collect(),
        groups,
        events: events
            .iter()
            .skip(events.len().saturating_sub(RECENT_EVENTS))
            .cloned()
            .collect(),
    }
}

fn write_table(out: &mut dyn Write, s: &Snapshot) -> std::io::Result<()> {
    for h in &s.sources {
        let state = match &h.state {
            HealthState::Up => "UP".to_string(),
            HealthState::Starting => "NO ANSWER".to_string(),
            HealthState::Down { reason } => format!("DOWN: {reason}"),
        };
        writeln!(out, "source {:<16} {:<40} {state}", h.source, h.target)?;
        if let Some(note) = &h.details.note {
            writeln!(out, "  note: {note}")?;
        }
    }
    for g in &s.groups {
        let get = |m: &str| {
            g.latest
                .get(m)
                .map_or_else(|| "-".to_string(), |v| format!("{v:.0}"))
        };
        writeln!(
            out,
            "{:<40} replicas {}/{} (min {} max {})  cpu {}%",
            g.id.to_string(),
            get("replicas_ready"),
            get("replicas_desired"),
            get("replicas_min"),
            get("replicas_max"),
            get("cpu_utilization")
        )?;
        if let Some(p) = &g.policy {
            writeln!(out, "  policy ({}): {}", p.provenance.label(), p.summary)?;
        }
        for (k, v) in g
            .labels
            .iter()
            .filter(|(k, _)| k.starts_with("k8s.condition."))
        {
            writeln!(out, "  {}: {v}", k.trim_start_matches("k8s.condition."))?;
        }
        if let Some(w) = g.labels.get("k8s.warning") {
            writeln!(out, "  warning: {w}")?;
        }
    }
    for e in &s.events {
        writeln!(
            out,
            "{} {} {} -> {}: {}",
            e.at, e.group, e.from_replicas, e.to_replicas, e.reason
        )?;
    }
    Ok(())
}

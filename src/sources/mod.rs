//! Sources are async tasks that own their connection, timeouts and backoff, and send owned
//! [`Update`]s to the UI task over a channel. None shares a lock with the UI.

pub mod aws;
pub mod azure;
pub mod cloud;
pub mod gcp;
pub mod kubernetes;
pub mod prometheus;
pub mod retry;
pub mod scrape;
pub mod sim;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

use crate::model::{GroupId, GroupInfo, MetricKind, ScalingEvent};

/// One metric value of one group at one time.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub group: GroupId,
    pub metric: MetricKind,
    pub value: f64,
}

/// Health of a source, shown on the Sources tab and never hidden behind zeros.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum HealthState {
    Starting,
    Up,
    Down { reason: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceHealth {
    pub source: String,
    /// e.g. "simulator", "prometheus".
    pub kind: String,
    /// What it talks to (URL, scenario name); never contains secrets.
    pub target: String,
    pub state: HealthState,
    pub last_ok: Option<DateTime<Utc>>,
    pub updates: u64,
    pub errors: u64,
    /// What only some sources know (query latency, series count, history held).
    #[serde(flatten)]
    pub details: SourceDetails,
}

/// Optional health details; empty for sources that do not measure them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SourceDetails {
    /// Query latency over recent requests, milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_p50_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_p95_ms: Option<f64>,
    /// Series returned by the last round of queries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub series: Option<u64>,
    /// Values delivered to the store so far (missing points not counted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub samples: Option<u64>,
    /// Warnings the server attached to the last round's answers (the data was used).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// Something the user should know that is not an error, e.g. "server holds 3d of the
    /// 28d backfill asked for".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Everything a source can tell the store.
#[derive(Debug, Clone)]
pub enum Update {
    /// A group appeared or its description changed.
    Group(Box<GroupInfo>),
    /// Values observed at one time.
    Samples {
        at: DateTime<Utc>,
        samples: Vec<Sample>,
    },
    Event(ScalingEvent),
    Health(SourceHealth),
}

/// Spawns every configured live source (Prometheus-compatible servers, direct scrapes, GCP
/// and Azure, and with their cargo features Kubernetes clusters and AWS); must run inside the
/// tokio runtime.
pub fn spawn_configured(
    cfg: &crate::config::SourcesConfig,
    tx: &Sender<Update>,
) -> Vec<JoinHandle<()>> {
    let prom = cfg
        .prometheus
        .iter()
        .map(|p| prometheus::spawn(p.clone(), tx.clone()));
    let scrape = cfg
        .scrape
        .iter()
        .map(|s| scrape::spawn(s.clone(), tx.clone()));
    let gcp = cfg.gcp.iter().map(|g| gcp::spawn(g.clone(), tx.clone()));
    let azure = cfg
        .azure
        .iter()
        .map(|a| azure::spawn(a.clone(), tx.clone()));
    #[cfg(feature = "kubernetes")]
    let k8s = cfg
        .kubernetes
        .iter()
        .map(|k| kubernetes::spawn(k.clone(), tx.clone()));
    // Without the feature, config validation refuses `[[sources.kubernetes]]`.
    #[cfg(not(feature = "kubernetes"))]
    let k8s = std::iter::empty();
    let aws = cfg.aws.iter().map(|a| aws::spawn(a.clone(), tx.clone()));
    prom.chain(scrape)
        .chain(aws)
        .chain(gcp)
        .chain(azure)
        .chain(k8s)
        .collect()
}

/// The innermost cause of an error: "connection refused" rather than reqwest's outer
/// "error sending request".
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg = s.to_string();
        src = s.source();
    }
    msg
}

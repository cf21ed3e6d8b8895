//! Sources are async tasks that own their connection, timeouts and backoff, and send owned
//! [`Update`]s to the UI task over a channel. None shares a lock with the UI.

pub mod sim;

use chrono::{DateTime, Utc};
use serde::Serialize;

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

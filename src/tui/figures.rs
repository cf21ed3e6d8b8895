//! The numbers shown for one group at one moment: the newest values when live, the values at
//! the frozen time otherwise. `None` means missing and is drawn as "—", never as 0.

use crate::model::MetricKind;
use crate::store::Store;

/// Which moment to read: the newest sample of each series, or a fixed timestamp (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAt {
    Latest,
    At(i64),
}

pub fn read(store: &Store, group: usize, metric: MetricKind, at: ReadAt) -> Option<f64> {
    let series = store.series(group, metric)?;
    match at {
        ReadAt::Latest => series.latest(),
        ReadAt::At(ts) => series.at(ts),
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GroupFigures {
    pub ready: Option<f64>,
    pub desired: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub cpu_pct: Option<f64>,
    pub memory_pct: Option<f64>,
    pub request_rate: Option<f64>,
    pub p95_ms: Option<f64>,
    pub usd_per_hour: Option<f64>,
}

impl GroupFigures {
    pub fn read(store: &Store, group: usize, at: ReadAt) -> GroupFigures {
        let get = |m| read(store, group, m, at);
        // Min/max come from the series when a source reports them, else from the capacity model.
        let capacity = store.groups().get(group).and_then(|g| g.capacity.as_ref());
        GroupFigures {
            ready: get(MetricKind::ReplicasReady),
            desired: get(MetricKind::ReplicasDesired),
            min: get(MetricKind::ReplicasMin)
                .or_else(|| capacity.map(|c| f64::from(c.min_replicas))),
            max: get(MetricKind::ReplicasMax)
                .or_else(|| capacity.map(|c| f64::from(c.max_replicas))),
            cpu_pct: get(MetricKind::CpuUtilization),
            memory_pct: get(MetricKind::MemoryUtilization),
            request_rate: get(MetricKind::RequestRate),
            p95_ms: get(MetricKind::LatencyP95Ms),
            usd_per_hour: get(MetricKind::CostUsdPerHour),
        }
    }

    /// Desired (or, failing that, ready) replicas have reached the maximum: the group cannot
    /// scale further, an on-call red flag.
    pub fn at_max(&self) -> bool {
        match (self.desired.or(self.ready), self.max) {
            (Some(n), Some(max)) => max > 0.0 && n >= max,
            _ => false,
        }
    }
}

//! What a report is computed from: the series (exactly what `sim export` writes and
//! `analyze`/`forecast` read, so figures match those commands), the groups' descriptions when
//! known, and a store holding the same history plus the scaling events (for the replay and
//! the alert rules).

use chrono::DateTime;

use crate::input::{self, Series};
use crate::model::{GroupInfo, MetricKind};
use crate::sim::{export_csv, ExportSpec};
use crate::sim::{Scenario, Simulator};
use crate::sources::{Sample, Update};
use crate::store::Store;

#[derive(Debug)]
pub struct ReportData {
    /// "scenario ecommerce (seed 42), 14d at 60s" or the file name.
    pub label: String,
    pub series: Vec<Series>,
    /// Group descriptions (policy, capacity, SLO) when the source knows them.
    pub groups: Vec<GroupInfo>,
    pub store: Store,
    pub step_seconds: i64,
}

impl ReportData {
    /// The series of `group`/`metric`, if present.
    pub fn series(&self, group: &str, metric: MetricKind) -> Option<&Series> {
        self.series
            .iter()
            .find(|s| s.group == group && s.metric == metric.as_str())
    }

    /// Group names in the order the data lists them.
    pub fn group_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for s in &self.series {
            if !names.contains(&s.group) {
                names.push(s.group.clone());
            }
        }
        names
    }

    pub fn info(&self, group: &str) -> Option<&GroupInfo> {
        self.groups.iter().find(|g| g.id.name == group)
    }

    /// Hours the data covers.
    pub fn hours(&self) -> f64 {
        let (lo, hi) = self
            .series
            .iter()
            .flat_map(|s| s.points.first().into_iter().chain(s.points.last()))
            .fold((i64::MAX, i64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
        if hi < lo {
            0.0
        } else {
            (hi - lo + self.step_seconds) as f64 / 3600.0
        }
    }
}

/// A built-in scenario simulated for `duration_seconds` at `step_seconds`.
pub fn from_scenario(
    name: &str,
    seed: u64,
    duration_seconds: u64,
    step_seconds: u64,
) -> Result<ReportData, String> {
    let scenario = Scenario::load(name).map_err(|e| e.to_string())?;
    let spec = ExportSpec {
        seed,
        duration_seconds,
        step_seconds,
    };
    if spec.steps() < 2 {
        return Err(format!(
            "--duration {duration_seconds}s at --step {step_seconds}s gives fewer than two points"
        ));
    }
    let mut csv = Vec::new();
    export_csv(&scenario, &spec, &mut csv).map_err(|e| format!("simulating {name}: {e}"))?;
    let text = String::from_utf8(csv).map_err(|e| format!("simulating {name}: {e}"))?;
    let series = input::parse(&text, &format!("scenario {name}")).map_err(|e| e.to_string())?;
    // The same simulation again, into a store with its scaling events.
    let step = step_seconds as i64;
    let mut store = Store::new(step, spec.steps() as usize + 1);
    for g in scenario.groups() {
        store.apply(Update::Group(Box::new(g)));
    }
    let mut sim = Simulator::new(&scenario, seed);
    for _ in 0..spec.steps() {
        let s = sim.advance(step_seconds);
        store.apply(Update::Samples {
            at: s.at,
            samples: s.samples,
        });
        for e in s.events {
            store.apply(Update::Event(e));
        }
    }
    Ok(ReportData {
        label: format!(
            "scenario {name} (seed {seed}), {} at {}s steps",
            crate::duration::format_duration(std::time::Duration::from_secs(duration_seconds)),
            step_seconds
        ),
        series,
        groups: scenario.groups(),
        store,
        step_seconds: step,
    })
}

/// A series file (long-form CSV, `timestamp,value`, or Prometheus JSON). Group policies are
/// unknown, so the sections that need them say so.
pub fn from_input(path: &std::path::Path) -> Result<ReportData, String> {
    let series = input::read_file(path).map_err(|e| e.to_string())?;
    if series.is_empty() {
        return Err(format!("{}: no series", path.display()));
    }
    let step = series
        .iter()
        .filter_map(Series::step_seconds)
        .min()
        .ok_or_else(|| format!("{}: need at least two points per series", path.display()))?;
    let (lo, hi) = series
        .iter()
        .flat_map(|s| s.points.first().into_iter().chain(s.points.last()))
        .fold((i64::MAX, i64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let slots = ((hi - lo) / step + 1).clamp(1, 5_000_000) as usize;
    let mut store = Store::new(step, slots);
    for s in &series {
        let Ok(metric) = s.metric.parse::<MetricKind>() else {
            continue;
        };
        let group = crate::engine::replay::file_group(&s.group);
        for &(t, v) in &s.points {
            let Some(at) = DateTime::from_timestamp(t, 0) else {
                continue;
            };
            store.apply(Update::Samples {
                at,
                samples: vec![Sample {
                    group: group.clone(),
                    metric,
                    value: v,
                }],
            });
        }
    }
    Ok(ReportData {
        label: format!("file {}", path.display()),
        series,
        groups: Vec::new(),
        store,
        step_seconds: step,
    })
}

impl ReportData {
    /// A metric of a group on the grid of its request rate (`start`, `len` slots), NaN where
    /// missing.
    pub fn aligned(&self, group: &str, metric: MetricKind, start: i64, len: usize) -> Vec<f64> {
        let Some(s) = self.series(group, metric) else {
            return vec![f64::NAN; len];
        };
        let step = self.step_seconds;
        let (s0, v) = s.regular(step);
        let offset = (s0 - start) / step;
        (0..len as i64)
            .map(|i| {
                usize::try_from(i - offset)
                    .ok()
                    .and_then(|j| v.get(j).copied())
                    .unwrap_or(f64::NAN)
            })
            .collect()
    }

    /// The request rate of a group on its regular grid: (start, values).
    pub fn demand(&self, group: &str) -> Option<(i64, Vec<f64>)> {
        self.series(group, MetricKind::RequestRate)
            .map(|s| s.regular(self.step_seconds))
    }
}

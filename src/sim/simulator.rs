//! The simulator: all groups of a scenario stepped together. Each output step runs a few
//! internal ticks and reports the mean (for replica counts the last value, for a maximum over
//! invocations the largest) per metric.

use chrono::{DateTime, Utc};

use super::group::{
    is_last_value, is_max_value, is_mean_of_reported, reported_metrics, GroupSim, MetricValues,
    METRIC_COUNT,
};
use super::scenario::Scenario;
use super::spikes::SpikeTimeline;
use crate::model::{MetricKind, ScalingEvent};
use crate::sources::Sample;

/// Internal tick for an output step: at most a minute for minute-level data, at most five
/// minutes for hourly and longer steps (policy dynamics still resolve; long exports stay fast).
pub fn tick_count(step_seconds: u64) -> u64 {
    let max_tick = if step_seconds < 3600 { 60 } else { 300 };
    step_seconds.div_ceil(max_tick).max(1)
}

/// Aggregated metrics of every group over one output step.
#[derive(Debug, Clone)]
pub struct StepFrame {
    /// Start of the step (Unix seconds); values cover [at, at + step).
    pub at_unix: i64,
    /// Per group, in scenario order.
    pub values: Vec<MetricValues>,
    pub events: Vec<ScalingEvent>,
}

/// One output step as the live source sends it.
#[derive(Debug, Clone)]
pub struct SimStep {
    pub at: DateTime<Utc>,
    pub samples: Vec<Sample>,
    pub events: Vec<ScalingEvent>,
}

pub struct Simulator {
    groups: Vec<GroupSim>,
    /// Metrics each group reports, in `MetricKind` order.
    reported: Vec<Vec<MetricKind>>,
    timelines: Vec<SpikeTimeline>,
    now_unix: i64,
    scenario_name: String,
}

impl Simulator {
    pub fn new(scenario: &Scenario, seed: u64) -> Self {
        let start = scenario.start().timestamp();
        let groups: Vec<GroupSim> = scenario
            .sim_groups()
            .iter()
            .enumerate()
            .map(|(i, g)| GroupSim::new(g, i, seed, start as f64))
            .collect();
        Self {
            reported: scenario.sim_groups().iter().map(reported_metrics).collect(),
            timelines: scenario
                .spike_processes()
                .iter()
                .enumerate()
                .map(|(i, p)| SpikeTimeline::new(p, i, seed))
                .collect(),
            groups,
            now_unix: start,
            scenario_name: scenario.name().to_string(),
        }
    }

    pub fn scenario_name(&self) -> &str {
        &self.scenario_name
    }

    /// Current simulated time (start of the next step).
    pub fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.now_unix, 0).unwrap_or_default()
    }

    pub fn now_unix(&self) -> i64 {
        self.now_unix
    }

    pub fn groups(&self) -> &[GroupSim] {
        &self.groups
    }

    pub fn reported_metrics(&self, group_index: usize) -> &[MetricKind] {
        &self.reported[group_index]
    }

    /// Spot instances reclaimed so far, all groups.
    pub fn spot_interruptions(&self) -> u64 {
        self.groups.iter().map(|g| g.spot_interruptions).sum()
    }

    /// Advances by `step_seconds` and returns the step's samples (at the step's start) and the
    /// scaling events decided during it.
    pub fn advance(&mut self, step_seconds: u64) -> SimStep {
        let mut frame = self.new_frame();
        self.advance_frame(step_seconds, &mut frame);
        let mut samples = Vec::new();
        for (i, g) in self.groups.iter().enumerate() {
            for &m in &self.reported[i] {
                let v = frame.values[i][m as usize];
                if v.is_finite() {
                    samples.push(Sample {
                        group: g.group.info.id.clone(),
                        metric: m,
                        value: v,
                    });
                }
            }
        }
        SimStep {
            at: DateTime::from_timestamp(frame.at_unix, 0).unwrap_or_default(),
            samples,
            events: frame.events,
        }
    }

    pub fn new_frame(&self) -> StepFrame {
        StepFrame {
            at_unix: self.now_unix,
            values: vec![[f64::NAN; METRIC_COUNT]; self.groups.len()],
            events: Vec::new(),
        }
    }

    /// Advances by `step_seconds`, writing aggregated values into `frame` (reused between
    /// steps to avoid allocation).
    pub fn advance_frame(&mut self, step_seconds: u64, frame: &mut StepFrame) {
        let step = step_seconds.max(1);
        let ticks = tick_count(step);
        let dt = step as f64 / ticks as f64;
        frame.at_unix = self.now_unix;
        frame.events.clear();
        for v in frame.values.iter_mut() {
            *v = [0.0; METRIC_COUNT];
        }
        let mut spike_factors = vec![1.0; self.timelines.len()];
        let mut tick_values: MetricValues = [f64::NAN; METRIC_COUNT];
        // Ticks that reported each per-invocation metric (group, metric).
        let mut reported_ticks = vec![[0u32; METRIC_COUNT]; self.groups.len()];
        for k in 0..ticks {
            let t = self.now_unix as f64 + k as f64 * dt;
            for (f, tl) in spike_factors.iter_mut().zip(self.timelines.iter_mut()) {
                *f = tl.factor_at(t);
            }
            for (i, g) in self.groups.iter_mut().enumerate() {
                let spike: f64 = g
                    .group
                    .spike_processes
                    .iter()
                    .map(|&p| spike_factors[p])
                    .product();
                if let Some(d) = g.tick(t, dt, spike, &mut tick_values) {
                    frame.events.push(ScalingEvent {
                        at: DateTime::from_timestamp(t.floor() as i64, 0).unwrap_or_default(),
                        group: g.group.info.id.clone(),
                        from_replicas: d.from_replicas,
                        to_replicas: d.to_replicas,
                        reason: d.reason,
                        demand: Some(d.demand_rps),
                        thrash: false,
                        origin: Default::default(),
                    });
                }
                let acc = &mut frame.values[i];
                for &m in &self.reported[i] {
                    let idx = m as usize;
                    let v = tick_values[idx];
                    if is_last_value(m) {
                        acc[idx] = v;
                    } else if is_max_value(m) || is_mean_of_reported(m) {
                        if v.is_finite() {
                            reported_ticks[i][idx] += 1;
                            acc[idx] = if is_max_value(m) {
                                acc[idx].max(v)
                            } else {
                                acc[idx] + v
                            };
                        }
                    } else {
                        acc[idx] += tick_values[idx];
                    }
                }
            }
        }
        let n = ticks as f64;
        for (i, acc) in frame.values.iter_mut().enumerate() {
            let mut out = [f64::NAN; METRIC_COUNT];
            for &m in &self.reported[i] {
                let idx = m as usize;
                let reported = reported_ticks[i][idx];
                out[idx] = if is_last_value(m) {
                    acc[idx]
                } else if is_max_value(m) || is_mean_of_reported(m) {
                    match reported {
                        0 => f64::NAN,
                        _ if is_max_value(m) => acc[idx],
                        k => acc[idx] / f64::from(k),
                    }
                } else {
                    acc[idx] / n
                };
            }
            *acc = out;
        }
        self.now_unix += step as i64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Demand far above what max replicas can serve.
    const OVERLOAD: &str = r#"
name = "overload"
title = "Overload"
description = "demand 10x max capacity"
platform = "sim"
scope = "test"
start = "2026-01-05T00:00:00Z"

[[groups]]
name = "web"

[groups.demand]
base_rps = 5000.0
noise = 0.0

[groups.capacity]
capacity_per_replica_rps = 100.0
concurrency_per_replica = 10
startup_seconds = 60
min_replicas = 1
max_replicas = 5
usd_per_replica_hour = 0.1
timeout_ms = 1500.0

[groups.policy]
kind = "target_tracking"
targets = [{ metric = "cpu_utilization", target = 70.0 }]
"#;

    #[test]
    fn overload_drops_requests_hits_timeout_and_pins_max_replicas() {
        let s = Scenario::from_toml(OVERLOAD, "overload.toml").expect("valid");
        let mut sim = Simulator::new(&s, 1);
        let mut last = sim.new_frame();
        for _ in 0..30 {
            sim.advance_frame(60, &mut last);
        }
        let v = &last.values[0];
        let get = |m: MetricKind| v[m as usize];
        assert_eq!(get(MetricKind::ReplicasReady), 5.0);
        assert_eq!(get(MetricKind::ReplicasDesired), 5.0);
        assert_eq!(get(MetricKind::LatencyP95Ms), 1500.0);
        // 5000 req/s offered, 5 x 100 served.
        assert!((get(MetricKind::DroppedRate) - 4500.0).abs() < 1.0, "{v:?}");
        assert!(get(MetricKind::ErrorRate) > 0.89);
        assert!(get(MetricKind::CpuUtilization) > 95.0);
    }

    #[test]
    fn same_seed_same_run() {
        let s = Scenario::load("game").expect("built-in");
        let run = |seed| {
            let mut sim = Simulator::new(&s, seed);
            (0..200)
                .flat_map(|_| sim.advance(60).samples)
                .map(|x| x.value)
                .collect::<Vec<f64>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }
}

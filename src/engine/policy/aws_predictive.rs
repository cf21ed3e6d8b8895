//! EC2 Auto Scaling predictive scaling, replayed: the group's load metric is recorded as it is
//! observed, an hourly forecast is made from it, and capacity for each hour is
//! `ceil(forecast load / target per instance)`, launched `SchedulingBufferTime` ahead. As AWS
//! documents: a forecast needs at least 24 hours of history; predictive scaling only raises
//! capacity (it never scales in; dynamic policies do); ForecastOnly computes without acting;
//! HonorMaxCapacity caps at MaxSize, IncreaseMaxCapacity lets the forecast exceed it by up to
//! MaxCapacityBuffer percent.
//!
//! The load forecast follows AWS's documented cadence: hourly, from up to the last 14 days of
//! the metric, for the next 48 hours, reissued every 6 hours. AWS's model itself is not
//! public; scaletop's forecasting engine stands in for it (its backtest picks the model, so a
//! plain daily cycle still gets seasonal naive when that is best). With under two days of
//! history the engine has no daily cycle to fit and falls back to a trend, which would be
//! worse than repeating yesterday, so until then (and whenever the engine cannot forecast) the
//! forecast is the same hour last week, else yesterday.

use super::aws_spec::ScalingPolicy;
use super::load_forecast::{Cadence, LoadForecaster, HOUR};
use super::Observation;

const MIN_HISTORY_SECONDS: i64 = 24 * HOUR;
const AWS_CADENCE: Cadence = Cadence {
    // "analyzing metric data from up to the past 14 days"
    history_hours: 14 * 24,
    // "an hourly forecast of capacity requirements for the next 48 hours"
    forecast_hours: 48,
    // "The forecast is updated every 6 hours"
    reissue_seconds: 6 * HOUR,
};

#[derive(Debug, Clone, Copy, PartialEq)]
enum LoadPair {
    /// ASGCPUUtilization: load = sum of instance CPU percent; capacity = load / target.
    Cpu,
    /// ALBRequestCount: load = requests per minute; capacity = load / target per instance.
    Requests,
}

#[derive(Debug, Clone)]
pub struct Predictive {
    pub name: String,
    pair: LoadPair,
    target: f64,
    acts: bool,
    buffer_seconds: i64,
    increase_max_percent: Option<u32>,
    load: LoadForecaster,
}

/// What the forecast says for now.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub capacity: u32,
    /// Highest MaxSize the forecast may use.
    pub max_size: u32,
    pub acts: bool,
    pub line: String,
}

impl Predictive {
    /// From a validated PredictiveScaling policy (see aws_spec validation).
    pub fn new(p: &ScalingPolicy) -> Option<Predictive> {
        let c = p.predictive_scaling_configuration.as_ref()?;
        let m = c.metric_specifications.first()?;
        let pair = match m
            .predefined_metric_pair_specification
            .as_ref()?
            .predefined_metric_type
            .as_str()
        {
            "ASGCPUUtilization" => LoadPair::Cpu,
            _ => LoadPair::Requests,
        };
        Some(Predictive {
            name: p.policy_name.clone(),
            pair,
            target: m.target_value,
            acts: c.mode.as_deref() == Some("ForecastAndScale"),
            buffer_seconds: i64::from(c.scheduling_buffer_time.unwrap_or(0)),
            increase_max_percent: (c.max_capacity_breach_behavior.as_deref()
                == Some("IncreaseMaxCapacity"))
            .then(|| c.max_capacity_buffer.unwrap_or(0)),
            load: LoadForecaster::new(AWS_CADENCE),
        })
    }

    /// Records the load metric at this observation.
    pub fn observe(&mut self, obs: &Observation) {
        let load = match self.pair {
            LoadPair::Cpu => obs.cpu_percent().map(|c| c * f64::from(obs.pods.ready)),
            LoadPair::Requests => Some(obs.demand_rps * 60.0),
        };
        self.load.observe(obs.now, load);
    }

    /// The forecast capacity for the hour `now + SchedulingBufferTime` falls in.
    pub fn forecast(&self, now: i64, max_size: u32) -> Option<Forecast> {
        if self.load.history_seconds(now) < MIN_HISTORY_SECONDS {
            return None;
        }
        let (load, basis) = self.load.load_at(now, now + self.buffer_seconds)?;
        let capacity = (load / self.target).ceil().max(0.0) as u32;
        let max = match self.increase_max_percent {
            Some(pct) => {
                max_size.max((f64::from(capacity) * (1.0 + f64::from(pct) / 100.0)).ceil() as u32)
            }
            None => max_size,
        };
        Some(Forecast {
            capacity: capacity.min(max),
            max_size: max,
            acts: self.acts,
            line: format!(
                "predictive {}: load {load:.0} ({basis}) / target {} -> {} instances{}",
                self.name,
                self.target,
                capacity.min(max),
                if self.acts {
                    ""
                } else {
                    " (ForecastOnly: not applied)"
                }
            ),
        })
    }
}

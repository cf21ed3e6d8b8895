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

use std::collections::BTreeMap;

use super::aws_spec::ScalingPolicy;
use super::Observation;
use crate::engine::forecast::predictive::hourly_load_forecast;

const HOUR: i64 = 3600;
const MIN_HISTORY_SECONDS: i64 = 24 * HOUR;
/// AWS: "analyzing metric data from up to the past 14 days".
const HISTORY_HOURS: i64 = 14 * 24;
/// AWS: "an hourly forecast of capacity requirements for the next 48 hours".
const FORECAST_HOURS: u32 = 48;
/// AWS: "The forecast is updated every 6 hours".
const REISSUE_SECONDS: i64 = 6 * HOUR;
/// Whole hours of history before the engine forecasts (two daily cycles).
const ENGINE_MIN_HOURS: usize = 48;

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
    /// Hour start -> (load sum, samples).
    hourly_load: BTreeMap<i64, (f64, u32)>,
    first_seen: Option<i64>,
    /// The engine's latest forecast: when it was issued, by which model, hour -> load.
    issued: Option<Issued>,
}

#[derive(Debug, Clone)]
struct Issued {
    at: i64,
    model: &'static str,
    load: BTreeMap<i64, f64>,
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
            hourly_load: BTreeMap::new(),
            first_seen: None,
            issued: None,
        })
    }

    /// Records the load metric at this observation.
    pub fn observe(&mut self, obs: &Observation) {
        let load = match self.pair {
            LoadPair::Cpu => obs.cpu_percent().map(|c| c * f64::from(obs.pods.ready)),
            LoadPair::Requests => Some(obs.demand_rps * 60.0),
        };
        if let Some(l) = load.filter(|l| l.is_finite()) {
            let e = self
                .hourly_load
                .entry(obs.now.div_euclid(HOUR) * HOUR)
                .or_default();
            e.0 += l;
            e.1 += 1;
            self.first_seen.get_or_insert(obs.now);
        }
        // Two weeks is all the forecast reads.
        let keep_from = obs.now - 15 * 24 * HOUR;
        while self
            .hourly_load
            .first_key_value()
            .is_some_and(|(h, _)| *h < keep_from)
        {
            self.hourly_load.pop_first();
        }
        if self
            .issued
            .as_ref()
            .is_none_or(|f| obs.now - f.at >= REISSUE_SECONDS)
        {
            self.issue(obs.now);
        }
    }

    /// Runs the engine on the complete hours of the last 14 days.
    fn issue(&mut self, now: i64) {
        let this_hour = now.div_euclid(HOUR) * HOUR;
        let hours: Vec<(i64, f64)> = self
            .hourly_load
            .range(this_hour - HISTORY_HOURS * HOUR..this_hour)
            .filter(|(_, (_, n))| *n > 0)
            .map(|(&h, &(sum, n))| (h, sum / f64::from(n)))
            .collect();
        let span = match (hours.first(), hours.last()) {
            (Some(a), Some(b)) => ((b.0 - a.0) / HOUR + 1) as usize,
            _ => 0,
        };
        if span < ENGINE_MIN_HOURS {
            return;
        }
        // A failed fit leaves the naive fallback in charge until the next issue.
        let fc = hourly_load_forecast(&hours, FORECAST_HOURS).ok();
        self.issued = Some(Issued {
            at: now,
            model: fc.as_ref().map_or("none", |f| f.model),
            load: fc
                .map(|f| {
                    f.points
                        .iter()
                        .map(|p| (p.timestamp, p.mean.max(0.0)))
                        .collect()
                })
                .unwrap_or_default(),
        });
    }

    fn mean_load(&self, hour: i64) -> Option<f64> {
        self.hourly_load
            .get(&hour)
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| s / f64::from(*n))
    }

    /// The forecast capacity for the hour `now + SchedulingBufferTime` falls in.
    pub fn forecast(&self, now: i64, max_size: u32) -> Option<Forecast> {
        let first = self.first_seen?;
        if now - first < MIN_HISTORY_SECONDS {
            return None;
        }
        let hour = (now + self.buffer_seconds).div_euclid(HOUR) * HOUR;
        let engine = self.issued.as_ref().and_then(|f| {
            let load = *f.load.get(&hour)?;
            Some((
                load,
                format!("{} forecast issued {}h ago", f.model, (now - f.at) / HOUR),
            ))
        });
        let (load, basis) = engine
            .or_else(|| {
                self.mean_load(hour - 7 * 24 * HOUR)
                    .map(|l| (l, "same hour last week".to_string()))
            })
            .or_else(|| {
                self.mean_load(hour - 24 * HOUR)
                    .map(|l| (l, "same hour yesterday".to_string()))
            })?;
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

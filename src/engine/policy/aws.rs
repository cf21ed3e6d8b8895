//! EC2 Auto Scaling dynamic scaling as the EC2 Auto Scaling User Guide documents it, one
//! CloudWatch datapoint per minute:
//!
//! - Target tracking: the two alarms AWS creates and manages — scale out when the metric is
//!   above the target for 3 consecutive datapoints, scale in when it is below 90% of the
//!   target for 15 — to capacity `ceil(counted instances x metric / target)`. Instances still
//!   warming up do not contribute metrics and count toward a scale-out already under way
//!   ("the policy considers instances that are warming up as part of the current capacity");
//!   no scale-in while instances warm up; `DisableScaleIn`. With several target tracking
//!   policies the group scales out if any asks and scales in only if all do.
//! - Step scaling: the alarm's M-of-N datapoints; while in ALARM the policy runs every
//!   datapoint, choosing the step whose interval contains `metric - threshold`; adjustment types
//!   ChangeInCapacity / ExactCapacity / PercentChangeInCapacity (rounding as documented: a
//!   result between 0 and 1 becomes 1, above 1 rounds down) with MinAdjustmentMagnitude; a
//!   further scale-out counts warming instances ("if the alarm breaches again during warm-up,
//!   only the steps beyond the warming capacity are added").
//! - Simple scaling: one adjustment, then no further activity of that policy until the
//!   instances are in service and its cooldown (policy Cooldown, else DefaultCooldown, 300 s)
//!   has passed.
//!
//! - Scheduled actions: at each occurrence (one-off StartTime, or a cron Recurrence in its
//!   TimeZone, UTC by default, between StartTime and EndTime) MinSize/MaxSize/DesiredCapacity
//!   are set; dynamic scaling then works inside the new limits.
//!
//! - Predictive scaling: see `aws_predictive`.
//!
//! Not modelled: the exact amount AWS removes on a target-tracking scale-in beyond the
//! proportional formula (AWS says only that it scales in "gradually").

use std::collections::VecDeque;

use chrono::DateTime;

use super::aws_predictive::Predictive;
use super::aws_spec::{
    AdjustmentType, AsgScalingConfig, MetricAlarm, PolicyType, ScalingPolicy, ScheduledAction,
    TargetTrackingConfiguration,
};
use super::schedule::{parse_time_zone, CronSchedule};
use super::{is_request_rate, Autoscaler, Decision, Observation, PolicyError};

const DATAPOINT_SECONDS: u32 = 60;
const TT_HIGH_DATAPOINTS: u32 = 3;
const TT_LOW_DATAPOINTS: u32 = 15;
const TT_LOW_FACTOR: f64 = 0.9;
const DEFAULT_COOLDOWN_SECONDS: u32 = 300;

/// Where a metric's value comes from in a replay.
#[derive(Debug, Clone, PartialEq)]
enum MetricSource {
    /// Average CPU of counted instances, percent.
    Cpu,
    /// ALB RequestCountPerTarget: requests per minute per counted instance.
    RequestsPerTargetPerMinute,
    /// ALB RequestCount: requests per minute for the group.
    RequestsPerMinute,
    /// An input series by name.
    Series(String),
}

impl MetricSource {
    fn for_name(name: &str) -> MetricSource {
        match name {
            "ASGAverageCPUUtilization" | "CPUUtilization" => MetricSource::Cpu,
            "ALBRequestCountPerTarget" | "RequestCountPerTarget" => {
                MetricSource::RequestsPerTargetPerMinute
            }
            "RequestCount" => MetricSource::RequestsPerMinute,
            other if is_request_rate(other) => MetricSource::RequestsPerMinute,
            other => MetricSource::Series(other.to_string()),
        }
    }

    fn read(&self, obs: &Observation) -> Option<f64> {
        let ready = f64::from(obs.pods.ready);
        match self {
            MetricSource::Cpu => obs.cpu_percent(),
            MetricSource::RequestsPerTargetPerMinute => {
                (ready > 0.0).then(|| obs.demand_rps * 60.0 / ready)
            }
            MetricSource::RequestsPerMinute => Some(obs.demand_rps * 60.0),
            MetricSource::Series(name) => obs.extra(name),
        }
    }

    fn series_name(&self) -> Option<String> {
        match self {
            MetricSource::Series(n) => Some(n.clone()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
struct TargetTracking {
    name: String,
    metric: MetricSource,
    metric_label: String,
    target: f64,
    disable_scale_in: bool,
    above: u32,
    below: u32,
}

/// An alarm's last N breach flags.
#[derive(Debug, Clone)]
struct AlarmState {
    alarm: MetricAlarm,
    metric: MetricSource,
    recent: VecDeque<bool>,
}

impl AlarmState {
    fn observe(&mut self, value: Option<f64>) -> bool {
        // Missing data is treated as not breaching (CloudWatch's default "missing").
        let breached = value.is_some_and(|v| {
            self.alarm
                .comparison_operator
                .breached(v, self.alarm.threshold)
        });
        self.recent.push_back(breached);
        while self.recent.len() > self.alarm.evaluation_periods as usize {
            self.recent.pop_front();
        }
        let needed = self
            .alarm
            .datapoints_to_alarm
            .unwrap_or(self.alarm.evaluation_periods);
        self.recent.iter().filter(|b| **b).count() >= needed as usize
    }
}

#[derive(Debug, Clone)]
struct AlarmPolicy {
    policy: ScalingPolicy,
    alarms: Vec<AlarmState>,
    /// Simple scaling: set when an activity started; the cooldown runs from when it completes.
    awaiting_completion: bool,
    cooldown_until: i64,
}

/// The replayable state of one Auto Scaling group's dynamic scaling policies.
#[derive(Debug, Clone)]
pub struct AsgAutoscaler {
    pub config: AsgScalingConfig,
    target_tracking: Vec<TargetTracking>,
    alarm_policies: Vec<AlarmPolicy>,
    predictive: Vec<Predictive>,
    schedules: Vec<Schedule>,
    min_size: u32,
    max_size: u32,
    last_decision: Option<i64>,
}

/// A scheduled action with its parsed times.
#[derive(Debug, Clone)]
struct Schedule {
    action: ScheduledAction,
    cron: Option<CronSchedule>,
    start: Option<i64>,
    end: Option<i64>,
}

impl Schedule {
    fn new(action: &ScheduledAction) -> Self {
        let time = |t: &Option<String>| {
            t.as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|d| d.timestamp())
        };
        Schedule {
            // Validated with the config (aws_spec), so a failure here cannot happen.
            cron: action.recurrence.as_deref().and_then(|r| {
                let tz = parse_time_zone(action.time_zone.as_deref().unwrap_or("UTC")).ok()?;
                CronSchedule::new(r, tz).ok()
            }),
            start: time(&action.start_time),
            end: time(&action.end_time),
            action: action.clone(),
        }
    }

    /// Whether the action runs in (after, now].
    fn fires(&self, after: i64, now: i64) -> bool {
        let within = |t: i64| t > after && t <= now;
        match &self.cron {
            None => self.start.is_some_and(within),
            Some(cron) => {
                let from = after.max(self.start.map_or(i64::MIN, |s| s - 1));
                cron.next_after(from)
                    .is_some_and(|t| within(t) && self.end.is_none_or(|e| t <= e))
            }
        }
    }
}

fn tt_metric(t: &TargetTrackingConfiguration) -> (MetricSource, String) {
    match (
        &t.predefined_metric_specification,
        &t.customized_metric_specification,
    ) {
        (Some(p), _) => (
            MetricSource::for_name(&p.predefined_metric_type),
            p.predefined_metric_type.clone(),
        ),
        (None, Some(c)) => (
            MetricSource::for_name(&c.metric_name),
            c.metric_name.clone(),
        ),
        (None, None) => (MetricSource::Cpu, "ASGAverageCPUUtilization".into()),
    }
}

/// New capacity after a step or simple adjustment from `base` (EC2 Auto Scaling rounding).
pub fn apply_adjustment(
    base: u32,
    kind: AdjustmentType,
    adjustment: i32,
    min_magnitude: Option<i32>,
) -> i64 {
    let base = i64::from(base);
    match kind {
        AdjustmentType::ChangeInCapacity => base + i64::from(adjustment),
        AdjustmentType::ExactCapacity => i64::from(adjustment),
        AdjustmentType::PercentChangeInCapacity => {
            let raw = base as f64 * f64::from(adjustment) / 100.0;
            // "Values greater than 1 are rounded down; between 0 and 1 are rounded to 1;
            // between 0 and -1 to -1; less than -1 rounded up" (toward zero).
            let mut change = if raw > 0.0 && raw < 1.0 {
                1
            } else if raw < 0.0 && raw > -1.0 {
                -1
            } else {
                raw.trunc() as i64
            };
            if let Some(m) = min_magnitude.filter(|m| *m > 0) {
                if change.abs() < i64::from(m) {
                    change = change.signum() * i64::from(m);
                }
            }
            base + change
        }
    }
}

impl AsgAutoscaler {
    pub fn new(config: AsgScalingConfig) -> Result<Self, PolicyError> {
        let mut target_tracking = Vec::new();
        let mut alarm_policies = Vec::new();
        let mut predictive = Vec::new();
        for p in config
            .scaling_policies
            .iter()
            .filter(|p| p.enabled != Some(false))
        {
            match p.policy_type {
                PolicyType::TargetTrackingScaling => {
                    if let Some(t) = &p.target_tracking_configuration {
                        let (metric, metric_label) = tt_metric(t);
                        target_tracking.push(TargetTracking {
                            name: p.policy_name.clone(),
                            metric,
                            metric_label,
                            target: t.target_value,
                            disable_scale_in: t.disable_scale_in,
                            above: 0,
                            below: 0,
                        });
                    }
                }
                PolicyType::StepScaling | PolicyType::SimpleScaling => {
                    let alarms = config
                        .alarms
                        .iter()
                        .filter(|a| a.alarm_actions.contains(&p.policy_name))
                        .map(|a| AlarmState {
                            metric: MetricSource::for_name(&a.metric_name),
                            alarm: a.clone(),
                            recent: VecDeque::new(),
                        })
                        .collect();
                    alarm_policies.push(AlarmPolicy {
                        policy: p.clone(),
                        alarms,
                        awaiting_completion: false,
                        cooldown_until: i64::MIN,
                    });
                }
                PolicyType::PredictiveScaling => predictive.extend(Predictive::new(p)),
            }
        }
        let schedules = config.scheduled_actions.iter().map(Schedule::new).collect();
        Ok(Self {
            min_size: config.min_size,
            max_size: config.max_size,
            config,
            target_tracking,
            alarm_policies,
            predictive,
            schedules,
            last_decision: None,
        })
    }

    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        Self::new(AsgScalingConfig::from_json(text)?)
    }

    fn default_cooldown(&self) -> u32 {
        self.config
            .default_cooldown
            .unwrap_or(DEFAULT_COOLDOWN_SECONDS)
    }
}

impl Autoscaler for AsgAutoscaler {
    fn describe(&self) -> String {
        let parts: Vec<String> = self
            .config
            .scaling_policies
            .iter()
            .map(|p| match &p.target_tracking_configuration {
                Some(t) => format!("{} target {}", tt_metric(t).1, t.target_value),
                None => format!("{:?} {}", p.policy_type, p.policy_name),
            })
            .collect();
        format!(
            "ASG {}: {}",
            self.config.auto_scaling_group_name,
            parts.join(", ")
        )
    }

    fn bounds(&self) -> (u32, u32) {
        // The configured limits; scheduled actions move them during a replay.
        let lows = self
            .config
            .scheduled_actions
            .iter()
            .filter_map(|a| a.min_size);
        let highs = self
            .config
            .scheduled_actions
            .iter()
            .filter_map(|a| a.max_size);
        (
            lows.fold(self.config.min_size, u32::min),
            highs.fold(self.config.max_size, u32::max),
        )
    }

    fn decision_period_seconds(&self) -> u32 {
        DATAPOINT_SECONDS
    }

    fn target_utilization(&self) -> f64 {
        self.target_tracking
            .iter()
            .find(|t| t.metric == MetricSource::Cpu)
            .map_or(1.0, |t| t.target / 100.0)
    }

    fn tolerance(&self) -> f64 {
        // The scale-in alarm sits 10% under the target.
        1.0 - TT_LOW_FACTOR
    }

    fn required_series(&self) -> Vec<String> {
        self.target_tracking
            .iter()
            .map(|t| &t.metric)
            .chain(
                self.alarm_policies
                    .iter()
                    .flat_map(|p| p.alarms.iter().map(|a| &a.metric)),
            )
            .filter_map(MetricSource::series_name)
            .collect()
    }

    fn decide(&mut self, obs: &Observation) -> Decision {
        let mut lines = Vec::new();
        let after = self
            .last_decision
            .unwrap_or(obs.now - i64::from(DATAPOINT_SECONDS));
        self.last_decision = Some(obs.now);
        let mut scheduled_desired = None;
        for s in &self.schedules {
            if s.fires(after, obs.now) {
                let a = &s.action;
                self.min_size = a.min_size.unwrap_or(self.min_size);
                self.max_size = a.max_size.unwrap_or(self.max_size);
                scheduled_desired = a.desired_capacity.or(scheduled_desired);
                lines.push(format!(
                    "scheduled action {}: min {} max {} desired {}",
                    a.scheduled_action_name,
                    self.min_size,
                    self.max_size,
                    a.desired_capacity
                        .map_or("unchanged".to_string(), |d| d.to_string())
                ));
            }
        }
        let (min, max) = (self.min_size, self.max_size.max(self.min_size));
        let spec = obs.pods.spec_replicas;
        if let Some(d) = scheduled_desired {
            return Decision {
                desired: d.clamp(min, max),
                explanation: lines,
            };
        }
        let counted = obs.pods.ready;
        let warming = obs.pods.unready > 0;
        let mut out: Option<u32> = None;
        let mut tt_in: Vec<Option<u32>> = Vec::new();

        for t in &mut self.target_tracking {
            let Some(v) = t.metric.read(obs) else {
                t.above = 0;
                t.below = 0;
                tt_in.push(None);
                lines.push(format!("{}: {} missing", t.name, t.metric_label));
                continue;
            };
            t.above = if v > t.target { t.above + 1 } else { 0 };
            t.below = if v < TT_LOW_FACTOR * t.target {
                t.below + 1
            } else {
                0
            };
            let proportional = (f64::from(counted.max(1)) * v / t.target).ceil() as u32;
            if t.above >= TT_HIGH_DATAPOINTS {
                lines.push(format!(
                    "{}: {} {v:.1} > target {} for {} min -> ceil({counted} x {v:.1}/{}) = {proportional}",
                    t.name, t.metric_label, t.target, t.above, t.target
                ));
                out = Some(out.map_or(proportional, |o| o.max(proportional)));
                tt_in.push(None);
            } else if t.below >= TT_LOW_DATAPOINTS && !t.disable_scale_in && !warming {
                lines.push(format!(
                    "{}: {} {v:.1} < {:.1} (90% of target) for {} min -> {proportional}",
                    t.name,
                    t.metric_label,
                    TT_LOW_FACTOR * t.target,
                    t.below
                ));
                tt_in.push(Some(proportional));
            } else {
                tt_in.push(None);
            }
        }

        let default_cooldown = self.default_cooldown();
        let mut alarm_in: Option<u32> = None;
        for ap in &mut self.alarm_policies {
            if ap.awaiting_completion && !warming {
                ap.awaiting_completion = false;
                let cd = ap.policy.cooldown.unwrap_or(default_cooldown);
                ap.cooldown_until = obs.now + i64::from(cd);
            }
            for a in &mut ap.alarms {
                let value = a.metric.read(obs);
                if !a.observe(value) {
                    continue;
                }
                let Some(v) = value else { continue };
                let p = &ap.policy;
                let kind = p
                    .adjustment_type
                    .unwrap_or(AdjustmentType::ChangeInCapacity);
                let (adjustment, note) = match p.policy_type {
                    PolicyType::SimpleScaling => {
                        if ap.awaiting_completion || obs.now < ap.cooldown_until {
                            lines.push(format!(
                                "{}: in cooldown, alarm {} ignored",
                                p.policy_name, a.alarm.alarm_name
                            ));
                            continue;
                        }
                        (p.scaling_adjustment.unwrap_or(0), "simple".to_string())
                    }
                    _ => {
                        let diff = v - a.alarm.threshold;
                        let step = p.step_adjustments.as_ref().and_then(|steps| {
                            steps.iter().find(|s| {
                                s.metric_interval_lower_bound.is_none_or(|l| diff >= l)
                                    && s.metric_interval_upper_bound.is_none_or(|u| diff < u)
                            })
                        });
                        let Some(step) = step else {
                            lines.push(format!("{}: no step covers {diff:+.1}", p.policy_name));
                            continue;
                        };
                        (
                            step.scaling_adjustment,
                            format!("step for {diff:+.1} over threshold"),
                        )
                    }
                };
                let scaling_out = adjustment > 0
                    || (kind == AdjustmentType::ExactCapacity
                        && i64::from(adjustment) > i64::from(spec));
                // Scale-out counts instances already warming; scale-in starts from desired.
                let base = if scaling_out { counted } else { spec };
                let target = apply_adjustment(base, kind, adjustment, p.min_adjustment_magnitude)
                    .clamp(0, i64::from(u32::MAX)) as u32;
                lines.push(format!(
                    "{}: alarm {} ({} {v:.1} vs {}) {note}: {:?} {adjustment:+} from {base} -> {target}",
                    p.policy_name, a.alarm.alarm_name, a.alarm.metric_name, a.alarm.threshold, kind
                ));
                if p.policy_type == PolicyType::SimpleScaling && target != spec {
                    ap.awaiting_completion = true;
                }
                if scaling_out {
                    out = Some(out.map_or(target, |o| o.max(target)));
                } else {
                    alarm_in = Some(alarm_in.map_or(target, |o| o.max(target)));
                }
            }
        }

        // Availability first: any scale-out wins; target tracking scales in only if every
        // target tracking policy agrees (the most conservative of their proposals).
        let tt_in_all = if !tt_in.is_empty() && tt_in.iter().all(Option::is_some) {
            tt_in.iter().flatten().copied().max()
        } else {
            None
        };
        let proposal = match out.filter(|o| *o > spec) {
            Some(o) => o,
            None => match (tt_in_all, alarm_in) {
                (Some(a), Some(b)) => a.max(b),
                (Some(a), None) | (None, Some(a)) => a,
                (None, None) => spec,
            },
        };
        // Predictive scaling raises the floor for the hour; it never scales in.
        let mut max = max;
        let mut proposal = proposal;
        for p in &mut self.predictive {
            p.observe(obs);
            if let Some(f) = p.forecast(obs.now, max) {
                lines.push(f.line.clone());
                if f.acts {
                    max = f.max_size;
                    proposal = proposal.max(f.capacity);
                }
            }
        }
        let desired = proposal.clamp(min, max);
        if desired != proposal {
            lines.push(format!("clamped to [{min}, {max}] -> {desired}"));
        }
        if lines.is_empty() {
            lines.push("no alarm in ALARM state".into());
        }
        Decision {
            desired,
            explanation: lines,
        }
    }
}

#[cfg(test)]
mod tests;

//! Google Compute Engine managed instance group autoscaler (compute `autoscalers` resource,
//! `autoscalingPolicy`), as the Compute Engine docs describe it:
//!
//! - Each signal recommends `ceil(counted VMs x utilization / target)`; the autoscaler takes
//!   the largest recommendation over CPU, load-balancing and custom-metric signals
//!   (GAUGE custom metrics with a per-VM target; a group-total metric with
//!   `singleInstanceAssignment` recommends `ceil(total / assignment)`).
//! - VMs inside the initialization period (`coolDownPeriodSec`, default 60 s) do not
//!   contribute usage data.
//! - Scale-in uses the largest recommendation of the last 10 minutes (the stabilization
//!   period), and `scaleInControl` caps how far below the group's peak size in the trailing
//!   `timeWindowSec` it may go (`maxScaledInReplicas` fixed or percent).
//! - `mode`: ON, ONLY_SCALE_OUT, OFF.
//! - `scalingSchedules`: while a schedule is active (from each cron occurrence in its
//!   `timeZone` for `durationSec`, at least 300 s) it recommends `minRequiredReplicas`; the
//!   largest active schedule and the signals compete like any recommendation, so scale-in after
//!   a schedule ends waits for the stabilization period.
//!
//! - Predictive autoscaling (`cpuUtilization.predictiveMethod: OPTIMIZE_AVAILABILITY`): once
//!   the group has 3 days of CPU history (it reads up to 3 weeks), the autoscaler also
//!   recommends `ceil(forecast load / target)` for the load expected one initialization period
//!   ahead, so VMs are ready when the load arrives. The load forecast is scaletop's engine
//!   (GCP's model is not public), reissued every 6 hours (GCP does not document a cadence).

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::load_forecast::{Cadence, LoadForecaster, HOUR};
use super::schedule::{parse_time_zone, CronSchedule};
use super::{is_request_rate, Autoscaler, Decision, Observation, PolicyError};

/// The autoscaler re-evaluates about once a minute.
const DECISION_SECONDS: u32 = 60;
/// The documented scale-in stabilization period.
pub const STABILIZATION_SECONDS: i64 = 600;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GcpAutoscaler {
    #[serde(default)]
    pub name: String,
    pub autoscaling_policy: AutoscalingPolicy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscalingPolicy {
    #[serde(default)]
    pub min_num_replicas: u32,
    pub max_num_replicas: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cool_down_period_sec: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_utilization: Option<CpuUtilization>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancing_utilization: Option<LoadBalancingUtilization>,
    #[serde(default)]
    pub custom_metric_utilizations: Vec<CustomMetricUtilization>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_in_control: Option<ScaleInControl>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub scaling_schedules: BTreeMap<String, ScalingSchedule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingSchedule {
    pub min_required_replicas: u32,
    /// unix-cron, e.g. `30 8 * * Mon-Fri`.
    pub schedule: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    pub duration_sec: u32,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// Predictive autoscaling needs this much history before it acts.
const PREDICTIVE_MIN_HISTORY_SECONDS: i64 = 3 * 24 * HOUR;
const GCP_CADENCE: Cadence = Cadence {
    history_hours: 21 * 24,
    forecast_hours: 24,
    reissue_seconds: 6 * HOUR,
};
/// GCP's default initialization period.
const DEFAULT_INITIALIZATION_SECONDS: u32 = 60;

/// The documented shortest schedule duration.
const MIN_SCHEDULE_SECONDS: u32 = 300;

/// A validated scaling schedule.
#[derive(Debug, Clone)]
struct ActiveSchedule {
    name: String,
    cron: CronSchedule,
    duration_seconds: i64,
    min_required: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CpuUtilization {
    /// 0-1.
    pub utilization_target: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predictive_method: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadBalancingUtilization {
    /// Share of the backend's serving capacity (0-1).
    pub utilization_target: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomMetricUtilization {
    pub metric: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization_target: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilization_target_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub single_instance_assignment: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleInControl {
    pub max_scaled_in_replicas: FixedOrPercent,
    #[serde(default)]
    pub time_window_sec: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FixedOrPercent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct MigAutoscaler {
    pub config: GcpAutoscaler,
    /// (time, recommendation) over the stabilization period.
    recommendations: VecDeque<(i64, u32)>,
    /// (time, group size) over the scale-in control window.
    sizes: VecDeque<(i64, u32)>,
    schedules: Vec<ActiveSchedule>,
    /// CPU load history and forecast, with predictive autoscaling on.
    predictive: Option<LoadForecaster>,
}

fn field(path: &str, message: impl Into<String>) -> PolicyError {
    PolicyError::Field {
        field: path.to_string(),
        message: message.into(),
    }
}

impl MigAutoscaler {
    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        let config: GcpAutoscaler = serde_json::from_str(text).map_err(|e| PolicyError::Parse {
            message: format!("line {}: {e}", e.line()),
        })?;
        let p = &config.autoscaling_policy;
        if p.max_num_replicas == 0 || p.min_num_replicas > p.max_num_replicas {
            return Err(field(
                "autoscalingPolicy.minNumReplicas",
                format!(
                    "minNumReplicas {} must not exceed maxNumReplicas {} (> 0)",
                    p.min_num_replicas, p.max_num_replicas
                ),
            ));
        }
        let in_range = |v: f64| v.is_finite() && v > 0.0 && v <= 1.0;
        if let Some(c) = &p.cpu_utilization {
            if !in_range(c.utilization_target) {
                return Err(field(
                    "autoscalingPolicy.cpuUtilization.utilizationTarget",
                    "must be in (0, 1]",
                ));
            }
        }
        if let Some(l) = &p.load_balancing_utilization {
            if !in_range(l.utilization_target) {
                return Err(field(
                    "autoscalingPolicy.loadBalancingUtilization.utilizationTarget",
                    "must be in (0, 1]",
                ));
            }
        }
        for (i, c) in p.custom_metric_utilizations.iter().enumerate() {
            if c.utilization_target.is_none() && c.single_instance_assignment.is_none() {
                return Err(field(
                    &format!("autoscalingPolicy.customMetricUtilizations[{i}]"),
                    "needs utilizationTarget or singleInstanceAssignment",
                ));
            }
        }
        if let Some(m) = p.mode.as_deref() {
            if !matches!(m, "ON" | "ONLY_SCALE_OUT" | "OFF" | "ONLY_UP") {
                return Err(field(
                    "autoscalingPolicy.mode",
                    format!("unknown mode '{m}'"),
                ));
            }
        }
        let mut schedules = Vec::new();
        for (name, sc) in &p.scaling_schedules {
            let at = |f: &str| format!("autoscalingPolicy.scalingSchedules.{name}.{f}");
            if sc.disabled {
                continue;
            }
            let tz = parse_time_zone(sc.time_zone.as_deref().unwrap_or("UTC"))
                .map_err(|e| field(&at("timeZone"), e))?;
            let cron =
                CronSchedule::new(&sc.schedule, tz).map_err(|e| field(&at("schedule"), e))?;
            if sc.duration_sec < MIN_SCHEDULE_SECONDS {
                return Err(field(
                    &at("durationSec"),
                    format!(
                        "must be at least {MIN_SCHEDULE_SECONDS}, got {}",
                        sc.duration_sec
                    ),
                ));
            }
            schedules.push(ActiveSchedule {
                name: name.clone(),
                cron,
                duration_seconds: i64::from(sc.duration_sec),
                min_required: sc.min_required_replicas,
            });
        }
        let predictive = match p
            .cpu_utilization
            .as_ref()
            .and_then(|c| c.predictive_method.as_deref())
        {
            None | Some("NONE") => None,
            Some("OPTIMIZE_AVAILABILITY") => Some(LoadForecaster::new(GCP_CADENCE)),
            Some(other) => {
                return Err(field(
                    "autoscalingPolicy.cpuUtilization.predictiveMethod",
                    format!("'{other}': expected NONE or OPTIMIZE_AVAILABILITY"),
                ))
            }
        };
        Ok(Self {
            config,
            recommendations: VecDeque::new(),
            sizes: VecDeque::new(),
            schedules,
            predictive,
        })
    }

    fn policy(&self) -> &AutoscalingPolicy {
        &self.config.autoscaling_policy
    }
}

impl Autoscaler for MigAutoscaler {
    fn describe(&self) -> String {
        let p = self.policy();
        let mut parts = Vec::new();
        if let Some(c) = &p.cpu_utilization {
            parts.push(format!("cpu {:.0}%", c.utilization_target * 100.0));
        }
        if let Some(l) = &p.load_balancing_utilization {
            parts.push(format!("lb {:.0}%", l.utilization_target * 100.0));
        }
        parts.extend(
            p.custom_metric_utilizations
                .iter()
                .map(|c| c.metric.clone()),
        );
        format!("GCP autoscaler {}: {}", self.config.name, parts.join(", "))
    }

    fn bounds(&self) -> (u32, u32) {
        (
            self.policy().min_num_replicas,
            self.policy().max_num_replicas,
        )
    }

    fn decision_period_seconds(&self) -> u32 {
        DECISION_SECONDS
    }

    fn target_utilization(&self) -> f64 {
        self.policy()
            .cpu_utilization
            .as_ref()
            .map_or(1.0, |c| c.utilization_target)
    }

    fn tolerance(&self) -> f64 {
        0.0
    }

    fn required_series(&self) -> Vec<String> {
        self.policy()
            .custom_metric_utilizations
            .iter()
            .map(|c| metric_series(&c.metric))
            .filter(|m| !is_request_rate(m))
            .collect()
    }

    fn decide(&mut self, obs: &Observation) -> Decision {
        let p = self.config.autoscaling_policy.clone();
        let counted = f64::from(obs.pods.ready);
        let current = obs.pods.spec_replicas;
        let mut lines = Vec::new();
        let mut best: Option<u32> = None;
        let mut propose = |label: String, n: f64, lines: &mut Vec<String>| {
            let r = n.ceil().max(0.0) as u32;
            lines.push(format!("{label} -> {r}"));
            best = Some(best.map_or(r, |b| b.max(r)));
        };
        if let (Some(c), Some(cpu)) = (&p.cpu_utilization, obs.cpu_percent()) {
            let u = cpu / 100.0;
            propose(
                format!(
                    "cpu {:.0}% vs target {:.0}%: ceil({counted} x {u:.2}/{})",
                    cpu,
                    c.utilization_target * 100.0,
                    c.utilization_target
                ),
                counted * u / c.utilization_target,
                &mut lines,
            );
        }
        if let (Some(l), Some(cpu)) = (&p.load_balancing_utilization, obs.cpu_percent()) {
            // Serving capacity = the capacity model's requests per second per VM.
            let u = cpu / 100.0;
            propose(
                format!(
                    "load balancing {:.0}% of capacity vs {:.0}%",
                    u * 100.0,
                    l.utilization_target * 100.0
                ),
                counted * u / l.utilization_target,
                &mut lines,
            );
        }
        for c in &p.custom_metric_utilizations {
            let name = metric_series(&c.metric);
            let total = if is_request_rate(&name) {
                Some(obs.demand_rps)
            } else {
                obs.extra(&name)
            };
            let Some(total) = total else {
                lines.push(format!("{}: no data", c.metric));
                continue;
            };
            match (c.single_instance_assignment, c.utilization_target) {
                (Some(a), _) if a > 0.0 => propose(
                    format!("{}: {total:.1} / {a} per VM", c.metric),
                    total / a,
                    &mut lines,
                ),
                (_, Some(t)) if t > 0.0 && counted > 0.0 => {
                    let per_vm = total / counted;
                    propose(
                        format!("{}: {per_vm:.1} per VM vs {t}", c.metric),
                        counted * per_vm / t,
                        &mut lines,
                    )
                }
                _ => {}
            }
        }
        if let (Some(f), Some(c)) = (&mut self.predictive, &p.cpu_utilization) {
            // Load in VMs at 100% CPU.
            let load = obs.cpu_percent().map(|cpu| cpu / 100.0 * counted);
            f.observe(obs.now, load);
            let ahead = i64::from(
                p.cool_down_period_sec
                    .unwrap_or(DEFAULT_INITIALIZATION_SECONDS),
            );
            if f.history_seconds(obs.now) >= PREDICTIVE_MIN_HISTORY_SECONDS {
                if let Some((load, basis)) = f.load_at(obs.now, obs.now + ahead) {
                    propose(
                        format!(
                            "predictive: load {load:.1} VMs in {ahead}s ({basis}) / {}",
                            c.utilization_target
                        ),
                        load / c.utilization_target,
                        &mut lines,
                    );
                }
            } else {
                lines.push("predictive: under 3 days of history, not acting yet".into());
            }
        }
        for sc in &self.schedules {
            if sc.cron.window_open(obs.now, sc.duration_seconds) {
                propose(
                    format!("scaling schedule {} active", sc.name),
                    f64::from(sc.min_required),
                    &mut lines,
                );
            }
        }
        let Some(raw) = best else {
            return Decision {
                desired: current,
                explanation: vec!["no signal available: size unchanged".into()],
            };
        };
        // Stabilization: for scale-in use the largest recommendation of the last 10 minutes.
        self.recommendations.push_back((obs.now, raw));
        while self
            .recommendations
            .front()
            .is_some_and(|(t, _)| obs.now - t >= STABILIZATION_SECONDS)
        {
            self.recommendations.pop_front();
        }
        let stabilized = self
            .recommendations
            .iter()
            .map(|(_, r)| *r)
            .max()
            .unwrap_or(raw);
        let mut desired = if raw >= current {
            raw
        } else {
            stabilized.min(current)
        };
        if raw < current && stabilized > raw {
            lines.push(format!(
                "stabilization: highest of last 10 min is {stabilized}"
            ));
        }
        // Scale-in controls: no lower than peak size in the window minus the allowance.
        if let Some(sic) = &p.scale_in_control {
            let window = i64::from(sic.time_window_sec);
            while self
                .sizes
                .front()
                .is_some_and(|(t, _)| obs.now - t > window)
            {
                self.sizes.pop_front();
            }
            let peak = self
                .sizes
                .iter()
                .map(|(_, s)| *s)
                .max()
                .unwrap_or(current)
                .max(current);
            let allowance = match (
                &sic.max_scaled_in_replicas.fixed,
                &sic.max_scaled_in_replicas.percent,
            ) {
                (Some(f), _) => *f,
                (None, Some(pct)) => (f64::from(peak) * f64::from(*pct) / 100.0).ceil() as u32,
                (None, None) => peak,
            };
            let floor = peak.saturating_sub(allowance);
            if desired < floor {
                lines.push(format!("scale-in control: peak {peak} in {window}s, at most {allowance} fewer -> {floor}"));
                desired = floor;
            }
        }
        match p.mode.as_deref() {
            Some("OFF") => desired = current,
            Some("ONLY_SCALE_OUT") | Some("ONLY_UP") if desired < current => {
                lines.push("mode ONLY_SCALE_OUT: no scale-in".into());
                desired = current;
            }
            _ => {}
        }
        let desired = desired.clamp(p.min_num_replicas, p.max_num_replicas);
        self.sizes.push_back((obs.now, desired));
        Decision {
            desired,
            explanation: lines,
        }
    }
}

/// Input series name of a Cloud Monitoring metric type: its last path segment
/// (`custom.googleapis.com/queue_depth` -> `queue_depth`).
fn metric_series(metric: &str) -> String {
    metric.rsplit('/').next().unwrap_or(metric).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::policy::steady_observation;

    fn asc(extra: &str) -> MigAutoscaler {
        MigAutoscaler::from_json(&format!(
            r#"{{"name":"web","autoscalingPolicy":{{"minNumReplicas":2,"maxNumReplicas":50,
                "cpuUtilization":{{"utilizationTarget":0.6}}{extra}}}}}"#
        ))
        .unwrap()
    }

    fn at(a: &mut MigAutoscaler, now: i64, size: u32, cpu: f64) -> u32 {
        a.decide(&steady_observation(now, size, cpu)).desired
    }

    #[test]
    fn cpu_target_worked_example() {
        // 10 VMs at 90% CPU with a 60% target: ceil(10 x 0.9/0.6) = 15.
        assert_eq!(at(&mut asc(""), 0, 10, 90.0), 15);
    }

    #[test]
    fn scale_in_waits_out_the_10_minute_stabilization() {
        let mut a = asc("");
        assert_eq!(at(&mut a, 0, 10, 60.0), 10);
        // Load halves: recommendations of 5, but the t=0 recommendation of 10 holds for 10 min.
        for t in (60..600).step_by(60) {
            assert_eq!(at(&mut a, t, 10, 30.0), 10, "t={t}");
        }
        assert_eq!(at(&mut a, 600, 10, 30.0), 5);
    }

    #[test]
    fn scale_in_control_limits_removal_in_window() {
        let mut a =
            asc(r#","scaleInControl":{"maxScaledInReplicas":{"fixed":2},"timeWindowSec":1200}"#);
        assert_eq!(at(&mut a, 0, 20, 60.0), 20);
        // Demand needs 5 VMs. The 10-minute stabilization holds 20 until t=600; then the
        // 20-VM peak (last seen at t=540) allows at most 2 fewer until it leaves the 1200 s
        // window after t=1740; then the 18-VM peak allows 16.
        let mut size = 20;
        let mut trace = std::collections::BTreeMap::new();
        for t in (60..=1800).step_by(60) {
            size = at(&mut a, t, size, 60.0 * 5.0 / f64::from(size));
            trace.insert(t, size);
        }
        assert_eq!(
            (trace[&540], trace[&600], trace[&1740], trace[&1800]),
            (20, 18, 18, 16)
        );
        let mut b =
            asc(r#","scaleInControl":{"maxScaledInReplicas":{"fixed":2},"timeWindowSec":1200}"#);
        at(&mut b, 0, 20, 60.0);
        assert_eq!(at(&mut b, 660, 20, 15.0), 18);
    }

    #[test]
    fn only_scale_out_mode_and_bad_configs() {
        let mut a = asc(r#","mode":"ONLY_SCALE_OUT""#);
        assert_eq!(at(&mut a, 0, 10, 90.0), 15);
        assert_eq!(at(&mut a, 700, 15, 5.0), 15);
        let e = MigAutoscaler::from_json(
            r#"{"autoscalingPolicy":{"minNumReplicas":3,"maxNumReplicas":2}}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("minNumReplicas"), "{e}");
        let e = MigAutoscaler::from_json(r#"{"autoscalingPolicy":{"maxNumReplicas":2,"cpuUtilization":{"utilizationTarget":60}}}"#).unwrap_err();
        assert!(e.to_string().contains("utilizationTarget"), "{e}");
    }

    #[test]
    fn scaling_schedule_raises_the_floor_in_its_zone_then_stabilizes() {
        use crate::engine::policy::schedule::utc;
        // Weekdays 09:00 New York for 8 hours, at least 20 VMs. 2026-03-02 is a Monday (EST:
        // 09:00 = 14:00 UTC).
        let mut a = asc(r#","scalingSchedules":{"office":{"minRequiredReplicas":20,
               "schedule":"0 9 * * Mon-Fri","timeZone":"America/New_York","durationSec":28800}}"#);
        let mut size = 2;
        let run = |a: &mut MigAutoscaler, from: i64, to: i64, size: &mut u32| {
            for t in (from..to).step_by(60) {
                // CPU of the current size at a load two VMs carry at 60%.
                let cpu = 60.0 * 2.0 / f64::from((*size).max(1));
                *size = at(a, t, *size, cpu);
            }
        };
        run(
            &mut a,
            utc(2026, 3, 2, 13, 0),
            utc(2026, 3, 2, 14, 0),
            &mut size,
        );
        assert_eq!(size, 2, "before the schedule");
        run(
            &mut a,
            utc(2026, 3, 2, 14, 0),
            utc(2026, 3, 2, 14, 2),
            &mut size,
        );
        assert_eq!(size, 20, "schedule active at 09:00 New York");
        // Ends at 22:00 UTC; the 10-minute stabilization keeps 20 until 22:09.
        run(
            &mut a,
            utc(2026, 3, 2, 14, 2),
            utc(2026, 3, 2, 22, 9),
            &mut size,
        );
        assert_eq!(size, 20);
        run(
            &mut a,
            utc(2026, 3, 2, 22, 9),
            utc(2026, 3, 2, 22, 12),
            &mut size,
        );
        assert_eq!(size, 2);
        // Saturday: no schedule.
        run(
            &mut a,
            utc(2026, 3, 7, 14, 0),
            utc(2026, 3, 7, 15, 0),
            &mut size,
        );
        assert_eq!(size, 2);
    }

    #[test]
    fn bad_scaling_schedules_name_the_field() {
        let bad = |sched: &str| {
            MigAutoscaler::from_json(&format!(
                r#"{{"autoscalingPolicy":{{"maxNumReplicas":5,"scalingSchedules":{{"s":{sched}}}}}}}"#
            ))
            .map(|_| ())
            .unwrap_err()
            .to_string()
        };
        let e = bad(r#"{"minRequiredReplicas":3,"schedule":"0 9 * * *","durationSec":60}"#);
        assert!(e.contains("scalingSchedules.s.durationSec"), "{e}");
        let e = bad(r#"{"minRequiredReplicas":3,"schedule":"0 25 * * *","durationSec":600}"#);
        assert!(e.contains("scalingSchedules.s.schedule"), "{e}");
        let e = bad(
            r#"{"minRequiredReplicas":3,"schedule":"0 9 * * *","durationSec":600,"timeZone":"Nowhere"}"#,
        );
        assert!(e.contains("scalingSchedules.s.timeZone"), "{e}");
    }

    #[test]
    fn predictive_scales_out_one_initialization_period_before_a_recurring_rise() {
        // Load (in VMs at 100% CPU): 2 at night, 20 from 09:00 to 17:00 UTC, every day.
        let load = |t: i64| {
            if (9 * 3600..17 * 3600).contains(&t.rem_euclid(86_400)) {
                20.0
            } else {
                2.0
            }
        };
        let run = |predictive: bool| {
            let method = if predictive {
                r#","predictiveMethod":"OPTIMIZE_AVAILABILITY""#
            } else {
                ""
            };
            let mut a = MigAutoscaler::from_json(&format!(
                r#"{{"autoscalingPolicy":{{"minNumReplicas":1,"maxNumReplicas":100,
                   "coolDownPeriodSec":600,"cpuUtilization":{{"utilizationTarget":0.6{method}}}}}}}"#
            ))
            .unwrap();
            let mut size = 4u32;
            let mut at_0852 = Vec::new();
            for t in (0..5 * 86_400).step_by(60) {
                let cpu = 100.0 * load(t) / f64::from(size.max(1));
                size = at(&mut a, t, size, cpu);
                if t.rem_euclid(86_400) == 8 * 3600 + 52 * 60 {
                    at_0852.push(size);
                }
            }
            at_0852
        };
        let reactive = run(false);
        let predictive = run(true);
        // Under 3 days of history predictive does nothing; from day 4 it has 20 / 0.6 = 34
        // VMs in place ten minutes before 09:00.
        assert_eq!(predictive[..3], reactive[..3]);
        assert!(reactive.iter().all(|&n| n <= 5), "{reactive:?}");
        assert!(predictive[3..].iter().all(|&n| n >= 34), "{predictive:?}");
        let e = MigAutoscaler::from_json(
            r#"{"autoscalingPolicy":{"maxNumReplicas":5,"cpuUtilization":{"utilizationTarget":0.6,"predictiveMethod":"PSYCHIC"}}}"#,
        )
        .map(|_| ())
        .unwrap_err();
        assert!(e.to_string().contains("predictiveMethod"), "{e}");
    }
}

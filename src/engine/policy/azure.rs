//! Azure Monitor autoscale settings (`Microsoft.Insights/autoscaleSettings`), as "Understand
//! autoscale settings" and "Autoscale best practices" describe them:
//!
//! - A rule's metric trigger aggregates the metric per `timeGrain` with `statistic`, then over
//!   `timeWindow` with `timeAggregation`, and compares it with `threshold` by `operator`.
//! - Scale out when any scale-out rule is met (the largest resulting count wins); scale in only
//!   when every scale-in rule is met (the smallest decrease wins).
//! - After a scale action nothing happens until that rule's `cooldown` has passed.
//! - Flapping: before scaling in, autoscale projects each scale-out rule's metric onto the new
//!   count (`metric x current / new`); if the projection would trigger a scale-out, it tries a
//!   smaller scale-in, and skips the scale-in when none is safe.
//!
//! - Profiles: a fixed-date profile is in effect between its start and end; otherwise the
//!   recurring profile that started most recently (a recurring profile has no end: it runs
//!   until another profile starts, which is why the portal adds a "default" recurrence after
//!   each one); otherwise the regular (default) profile. Times are read in each profile's
//!   `timeZone` (Windows or IANA names). Switching profiles brings the count inside the new
//!   profile's minimum and maximum at once.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::schedule::{parse_local_time, parse_time_zone, parse_weekday, WeeklyRecurrence};
use super::{is_request_rate, Autoscaler, Decision, Observation, PolicyError};

const DECISION_SECONDS: u32 = 60;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscaleSetting {
    #[serde(default)]
    pub name: String,
    pub properties: AutoscaleProperties,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AutoscaleProperties {
    #[serde(default = "yes")]
    pub enabled: bool,
    pub profiles: Vec<Profile>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub name: String,
    pub capacity: Capacity,
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_date: Option<serde_json::Value>,
}

/// Capacities are strings in the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    pub minimum: String,
    pub maximum: String,
    pub default: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub metric_trigger: MetricTrigger,
    pub scale_action: ScaleAction,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricTrigger {
    pub metric_name: String,
    #[serde(default = "pt1m")]
    pub time_grain: String,
    #[serde(default = "average")]
    pub statistic: String,
    pub time_window: String,
    #[serde(default = "average")]
    pub time_aggregation: String,
    pub operator: String,
    pub threshold: f64,
}

fn pt1m() -> String {
    "PT1M".into()
}

fn average() -> String {
    "Average".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaleAction {
    pub direction: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
    pub cooldown: String,
}

/// ISO 8601 durations as Azure writes them: PT30S, PT5M, PT1H, PT1H30M, P1D.
pub fn parse_iso_duration(text: &str) -> Result<u32, String> {
    let bad = || format!("bad ISO 8601 duration '{text}' (expected e.g. PT5M)");
    let rest = text.strip_prefix('P').ok_or_else(bad)?;
    let (days, time) = match rest.split_once('T') {
        Some((d, t)) => (d, t),
        None => (rest, ""),
    };
    let mut total: u64 = 0;
    let mut take = |part: &str, units: &[(char, u64)]| -> Result<(), String> {
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
            } else {
                let mult = units.iter().find(|(u, _)| *u == c).ok_or_else(bad)?.1;
                let n: u64 = num.parse().map_err(|_| bad())?;
                total += n * mult;
                num.clear();
            }
        }
        if num.is_empty() {
            Ok(())
        } else {
            Err(bad())
        }
    };
    take(days, &[('D', 86_400), ('W', 604_800)])?;
    take(time, &[('H', 3600), ('M', 60), ('S', 1)])?;
    if total == 0 {
        return Err(bad());
    }
    u32::try_from(total).map_err(|_| bad())
}

#[derive(Debug, Clone)]
struct RuleState {
    rule: Rule,
    window_seconds: u32,
    grain_seconds: u32,
    cooldown_seconds: u32,
    /// Per-grain metric values, newest last.
    values: VecDeque<f64>,
}

/// When a profile is in effect.
#[derive(Debug, Clone)]
enum When {
    Regular,
    Fixed { start: i64, end: i64 },
    Recurring(WeeklyRecurrence),
}

#[derive(Debug, Clone)]
struct ProfileState {
    name: String,
    min: u32,
    max: u32,
    rules: Vec<RuleState>,
    when: When,
}

#[derive(Debug, Clone)]
pub struct AzureAutoscaler {
    pub name: String,
    profiles: Vec<ProfileState>,
    enabled: bool,
    cooldown_until: i64,
    /// Profile in effect at the last decision.
    active: Option<usize>,
}

fn field(path: String, message: impl Into<String>) -> PolicyError {
    PolicyError::Field {
        field: path,
        message: message.into(),
    }
}

pub fn compare(op: &str, v: f64, threshold: f64) -> bool {
    match op {
        "GreaterThan" => v > threshold,
        "GreaterThanOrEqual" => v >= threshold,
        "LessThan" => v < threshold,
        "LessThanOrEqual" => v <= threshold,
        "Equals" => v == threshold,
        "NotEquals" => v != threshold,
        _ => false,
    }
}

fn metric_value(name: &str, obs: &Observation) -> Option<f64> {
    match name {
        "Percentage CPU" | "CpuPercentage" | "CPU Percentage" => obs.cpu_percent(),
        "Requests" | "Http Requests" => Some(obs.demand_rps * 60.0),
        other if is_request_rate(other) => Some(obs.demand_rps),
        other => obs.extra(other),
    }
}

fn parse_profile(i: usize, profile: &Profile) -> Result<ProfileState, PolicyError> {
    let at = |f: &str| format!("properties.profiles[{i}].{f}");
    let num = |f: &str, v: &str| {
        v.trim()
            .parse::<u32>()
            .map_err(|_| field(at(f), format!("'{v}' is not a whole number")))
    };
    let min = num("capacity.minimum", &profile.capacity.minimum)?;
    let max = num("capacity.maximum", &profile.capacity.maximum)?;
    num("capacity.default", &profile.capacity.default)?;
    if max == 0 || min > max {
        return Err(field(
            at("capacity.minimum"),
            format!("minimum {min} must not exceed maximum {max} (> 0)"),
        ));
    }
    let mut rules = Vec::new();
    for (j, r) in profile.rules.iter().enumerate() {
        rules.push(parse_rule(&at(&format!("rules[{j}]")), r)?);
    }
    let when = match (&profile.fixed_date, &profile.recurrence) {
        (Some(_), Some(_)) => {
            return Err(field(
                at("recurrence"),
                "a profile has either fixedDate or recurrence, not both",
            ))
        }
        (Some(f), None) => parse_fixed_date(&at("fixedDate"), f)?,
        (None, Some(r)) => When::Recurring(parse_recurrence(&at("recurrence"), r)?),
        (None, None) => When::Regular,
    };
    Ok(ProfileState {
        name: profile.name.clone(),
        min,
        max,
        rules,
        when,
    })
}

fn parse_rule(at: &str, r: &Rule) -> Result<RuleState, PolicyError> {
    let rat = |f: &str| format!("{at}.{f}");
    let dur = |f: &str, v: &str| parse_iso_duration(v).map_err(|e| field(rat(f), e));
    let t = &r.metric_trigger;
    let window_seconds = dur("metricTrigger.timeWindow", &t.time_window)?;
    let grain_seconds = dur("metricTrigger.timeGrain", &t.time_grain)?;
    let cooldown_seconds = dur("scaleAction.cooldown", &r.scale_action.cooldown)?;
    if !matches!(
        t.operator.as_str(),
        "GreaterThan"
            | "GreaterThanOrEqual"
            | "LessThan"
            | "LessThanOrEqual"
            | "Equals"
            | "NotEquals"
    ) {
        return Err(field(
            rat("metricTrigger.operator"),
            format!("unknown operator '{}'", t.operator),
        ));
    }
    if !matches!(r.scale_action.direction.as_str(), "Increase" | "Decrease") {
        return Err(field(
            rat("scaleAction.direction"),
            "must be Increase or Decrease",
        ));
    }
    if !matches!(
        r.scale_action.kind.as_str(),
        "ChangeCount" | "PercentChangeCount" | "ExactCount"
    ) {
        return Err(field(
            rat("scaleAction.type"),
            format!("unknown type '{}'", r.scale_action.kind),
        ));
    }
    if r.scale_action.value.trim().parse::<u32>().is_err() {
        return Err(field(
            rat("scaleAction.value"),
            format!("'{}' is not a whole number", r.scale_action.value),
        ));
    }
    Ok(RuleState {
        rule: r.clone(),
        window_seconds,
        grain_seconds,
        cooldown_seconds,
        values: VecDeque::new(),
    })
}

fn str_field<'a>(v: &'a serde_json::Value, at: &str, key: &str) -> Result<&'a str, PolicyError> {
    v.get(key)
        .and_then(|x| x.as_str())
        .ok_or_else(|| field(format!("{at}.{key}"), "is required (a string)"))
}

fn parse_fixed_date(at: &str, v: &serde_json::Value) -> Result<When, PolicyError> {
    let tz = parse_time_zone(v.get("timeZone").and_then(|z| z.as_str()).unwrap_or("UTC"))
        .map_err(|e| field(format!("{at}.timeZone"), e))?;
    let time = |key: &str| {
        parse_local_time(str_field(v, at, key)?, tz).map_err(|e| field(format!("{at}.{key}"), e))
    };
    let (start, end) = (time("start")?, time("end")?);
    if end <= start {
        return Err(field(format!("{at}.end"), "must be after start"));
    }
    Ok(When::Fixed { start, end })
}

fn parse_recurrence(at: &str, v: &serde_json::Value) -> Result<WeeklyRecurrence, PolicyError> {
    let frequency = str_field(v, at, "frequency")?;
    if frequency != "Week" {
        return Err(field(
            format!("{at}.frequency"),
            format!("'{frequency}': Azure autoscale recurrences are weekly (\"Week\")"),
        ));
    }
    let sched = v
        .get("schedule")
        .ok_or_else(|| field(format!("{at}.schedule"), "is required"))?;
    let sat = format!("{at}.schedule");
    let tz = parse_time_zone(
        sched
            .get("timeZone")
            .and_then(|z| z.as_str())
            .unwrap_or("UTC"),
    )
    .map_err(|e| field(format!("{sat}.timeZone"), e))?;
    let list = |key: &str| {
        sched
            .get(key)
            .and_then(|x| x.as_array())
            .filter(|a| !a.is_empty())
            .ok_or_else(|| field(format!("{sat}.{key}"), "is required (a non-empty list)"))
    };
    let days = list("days")?
        .iter()
        .map(|d| {
            d.as_str()
                .ok_or_else(|| "not a string".to_string())
                .and_then(parse_weekday)
                .map_err(|e| field(format!("{sat}.days"), e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let numbers = |key: &str, below: u64| {
        list(key)?
            .iter()
            .map(|n| {
                n.as_u64()
                    .filter(|n| *n < below)
                    .map(|n| n as u32)
                    .ok_or_else(|| {
                        field(format!("{sat}.{key}"), format!("{n} is not in 0..{below}"))
                    })
            })
            .collect::<Result<Vec<_>, _>>()
    };
    Ok(WeeklyRecurrence {
        tz,
        days,
        hours: numbers("hours", 24)?,
        minutes: numbers("minutes", 60)?,
    })
}

impl AzureAutoscaler {
    pub fn from_json(text: &str) -> Result<Self, PolicyError> {
        let s: AutoscaleSetting = serde_json::from_str(text).map_err(|e| PolicyError::Parse {
            message: format!("line {}: {e}", e.line()),
        })?;
        if s.properties.profiles.is_empty() {
            return Err(field(
                "properties.profiles".into(),
                "at least one profile is required",
            ));
        }
        let profiles = s
            .properties
            .profiles
            .iter()
            .enumerate()
            .map(|(i, p)| parse_profile(i, p))
            .collect::<Result<Vec<_>, _>>()?;
        if !profiles
            .iter()
            .any(|p| matches!(p.when, When::Regular | When::Recurring(_)))
        {
            return Err(field(
                "properties.profiles".into(),
                "only fixed-date profiles: add a regular (default) profile for the other times",
            ));
        }
        Ok(Self {
            name: s.name,
            profiles,
            enabled: s.properties.enabled,
            cooldown_until: i64::MIN,
            active: None,
        })
    }

    /// The regular profile, else the first: what describes the setting.
    fn main_profile(&self) -> usize {
        self.profiles
            .iter()
            .position(|p| matches!(p.when, When::Regular))
            .unwrap_or(0)
    }

    /// The profile in effect at `now`: fixed date, else the latest-started recurrence, else
    /// the regular profile.
    fn profile_at(&self, now: i64) -> usize {
        if let Some(i) = self.profiles.iter().position(
            |p| matches!(p.when, When::Fixed { start, end } if start <= now && now <= end),
        ) {
            return i;
        }
        let recurring = self
            .profiles
            .iter()
            .enumerate()
            .filter_map(|(i, p)| match &p.when {
                When::Recurring(r) => r.last_start(now).map(|t| (t, i)),
                _ => None,
            })
            .max_by_key(|(t, i)| (*t, std::cmp::Reverse(*i)));
        if let Some((_, i)) = recurring {
            return i;
        }
        self.profiles
            .iter()
            .position(|p| matches!(p.when, When::Regular))
            .unwrap_or(0)
    }

    fn aggregate(state: &RuleState) -> Option<f64> {
        let grains = (state.window_seconds / state.grain_seconds.max(1)).max(1) as usize;
        // A window that has not filled yet is not evaluated.
        if state.values.len() < grains {
            return None;
        }
        let w: Vec<f64> = state.values.iter().rev().take(grains).copied().collect();
        let n = w.len() as f64;
        Some(match state.rule.metric_trigger.time_aggregation.as_str() {
            "Minimum" => w.iter().copied().fold(f64::INFINITY, f64::min),
            "Maximum" => w.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            "Total" => w.iter().sum(),
            "Last" => w[0],
            "Count" => n,
            _ => w.iter().sum::<f64>() / n,
        })
    }

    /// The instance count after `action` at `current` (also used by the emitter's flapping check).
    pub fn apply(action: &ScaleAction, current: u32) -> u32 {
        let v = action.value.trim().parse::<u32>().unwrap_or(0);
        let up = action.direction == "Increase";
        match action.kind.as_str() {
            "ExactCount" => v,
            "PercentChangeCount" => {
                let change = (f64::from(current) * f64::from(v) / 100.0).ceil() as u32;
                if up {
                    current.saturating_add(change)
                } else {
                    current.saturating_sub(change)
                }
            }
            _ => {
                if up {
                    current.saturating_add(v)
                } else {
                    current.saturating_sub(v)
                }
            }
        }
    }
}

impl Autoscaler for AzureAutoscaler {
    fn describe(&self) -> String {
        let main = &self.profiles[self.main_profile()];
        let rules: Vec<String> = main
            .rules
            .iter()
            .map(|r| {
                let t = &r.rule.metric_trigger;
                format!(
                    "{} {} {} -> {} {}",
                    t.metric_name,
                    t.operator,
                    t.threshold,
                    r.rule.scale_action.direction,
                    r.rule.scale_action.value
                )
            })
            .collect();
        let scheduled = self.profiles.len() - 1;
        let more = if scheduled > 0 {
            format!(" (+{scheduled} scheduled profile(s))")
        } else {
            String::new()
        };
        format!("Azure autoscale {}: {}{more}", self.name, rules.join("; "))
    }

    fn bounds(&self) -> (u32, u32) {
        let min = self.profiles.iter().map(|p| p.min).min().unwrap_or(0);
        let max = self.profiles.iter().map(|p| p.max).max().unwrap_or(0);
        (min, max)
    }

    fn decision_period_seconds(&self) -> u32 {
        DECISION_SECONDS
    }

    fn target_utilization(&self) -> f64 {
        // The midpoint between the CPU scale-in and scale-out thresholds is what the rules aim at.
        let main = &self.profiles[self.main_profile()];
        let cpu = |dir: &str| {
            main.rules
                .iter()
                .find(|r| {
                    r.rule.scale_action.direction == dir
                        && r.rule.metric_trigger.metric_name == "Percentage CPU"
                })
                .map(|r| r.rule.metric_trigger.threshold)
        };
        match (cpu("Increase"), cpu("Decrease")) {
            (Some(hi), Some(lo)) => (hi + lo) / 200.0,
            (Some(hi), None) => hi / 100.0,
            _ => 1.0,
        }
    }

    fn tolerance(&self) -> f64 {
        0.0
    }

    fn required_series(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .profiles
            .iter()
            .flat_map(|p| p.rules.iter())
            .map(|r| r.rule.metric_trigger.metric_name.clone())
            .filter(|n| {
                !matches!(
                    n.as_str(),
                    "Percentage CPU"
                        | "CpuPercentage"
                        | "CPU Percentage"
                        | "Requests"
                        | "Http Requests"
                ) && !is_request_rate(n)
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    fn decide(&mut self, obs: &Observation) -> Decision {
        let current = obs.pods.spec_replicas;
        let mut lines = Vec::new();
        // Metrics are collected every grain whatever the cooldown.
        // (Every profile's rule windows fill, so a profile that takes over has its history.)
        for r in self.profiles.iter_mut().flat_map(|p| p.rules.iter_mut()) {
            let v = metric_value(&r.rule.metric_trigger.metric_name, obs).unwrap_or(f64::NAN);
            r.values.push_back(v);
            let keep = (r.window_seconds / r.grain_seconds.max(1)).max(1) as usize;
            while r.values.len() > keep {
                r.values.pop_front();
            }
        }
        let pi = self.profile_at(obs.now);
        let switched = self.active.is_some_and(|a| a != pi) || self.active.is_none();
        self.active = Some(pi);
        let profile = &self.profiles[pi];
        let (min, max, rules) = (profile.min, profile.max, &profile.rules);
        if switched && self.profiles.len() > 1 {
            lines.push(format!(
                "profile '{}' in effect ({min}..{max})",
                profile.name
            ));
        }
        let met: Vec<Option<(f64, bool)>> = rules
            .iter()
            .map(|r| {
                let t = &r.rule.metric_trigger;
                Self::aggregate(r)
                    .filter(|a| a.is_finite())
                    .map(|a| (a, compare(&t.operator, a, t.threshold)))
            })
            .collect();
        if self.enabled && !(min..=max).contains(&current) {
            // A new profile's bounds apply at once, whatever the cooldown.
            let to = current.clamp(min, max);
            lines.push(format!("count {current} outside {min}..{max} -> {to}"));
            return Decision {
                desired: to,
                explanation: lines,
            };
        }
        if !self.enabled {
            return Decision {
                desired: current,
                explanation: vec!["autoscale setting disabled".into()],
            };
        }
        if obs.now < self.cooldown_until {
            return Decision {
                desired: current,
                explanation: vec![format!(
                    "cooldown until +{}s",
                    self.cooldown_until - obs.now
                )],
            };
        }
        // Scale out: any rule; the largest count wins.
        let mut out: Option<(u32, usize)> = None;
        for (i, r) in rules.iter().enumerate() {
            if r.rule.scale_action.direction != "Increase" {
                continue;
            }
            if let Some((a, true)) = met[i] {
                let to = Self::apply(&r.rule.scale_action, current).min(max);
                lines.push(format!(
                    "{} {:.1} {} {}: {current} -> {to}",
                    r.rule.metric_trigger.metric_name,
                    a,
                    r.rule.metric_trigger.operator,
                    r.rule.metric_trigger.threshold
                ));
                if out.is_none_or(|(o, _)| to > o) {
                    out = Some((to, i));
                }
            }
        }
        if let Some((to, i)) = out.filter(|(to, _)| *to > current) {
            self.cooldown_until = obs.now + i64::from(rules[i].cooldown_seconds);
            return Decision {
                desired: to.clamp(min, max),
                explanation: lines,
            };
        }
        // Scale in: only when every scale-in rule is met; the smallest decrease wins.
        let ins: Vec<usize> = (0..rules.len())
            .filter(|&i| rules[i].rule.scale_action.direction == "Decrease")
            .collect();
        if ins.is_empty() || !ins.iter().all(|&i| matches!(met[i], Some((_, true)))) {
            if lines.is_empty() {
                lines.push("no rule met".into());
            }
            return Decision {
                desired: current.clamp(min, max),
                explanation: lines,
            };
        }
        let (mut to, which) = ins
            .iter()
            .map(|&i| {
                (
                    Self::apply(&rules[i].rule.scale_action, current).max(min),
                    i,
                )
            })
            .max_by_key(|(t, _)| *t)
            .unwrap_or((current, 0));
        // Flapping: project each scale-out rule's metric onto the new count.
        while to < current {
            let flaps = rules.iter().enumerate().find_map(|(i, r)| {
                let (a, _) = met[i]?;
                let t = &r.rule.metric_trigger;
                (r.rule.scale_action.direction == "Increase"
                    && compare(
                        &t.operator,
                        a * f64::from(current) / f64::from(to.max(1)),
                        t.threshold,
                    ))
                .then(|| {
                    format!(
                        "scale-in to {to} would push {} to {:.1} and trigger a scale-out",
                        t.metric_name,
                        a * f64::from(current) / f64::from(to.max(1))
                    )
                })
            });
            match flaps {
                Some(why) => {
                    lines.push(why);
                    to += 1;
                }
                None => break,
            }
        }
        if to >= current {
            lines.push("scale-in skipped to avoid flapping".into());
            return Decision {
                desired: current,
                explanation: lines,
            };
        }
        lines.push(format!("all scale-in rules met: {current} -> {to}"));
        self.cooldown_until = obs.now + i64::from(rules[which].cooldown_seconds);
        Decision {
            desired: to,
            explanation: lines,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::policy::steady_observation;

    /// The docs' common pair: +1 when average CPU > 70% over 10 minutes, -1 when < 30%,
    /// 5-minute cooldowns, 2..10 instances.
    const SETTING: &str = r#"{"name":"web","properties":{"enabled":true,"profiles":[{"name":"default",
      "capacity":{"minimum":"2","maximum":"10","default":"2"},
      "rules":[
        {"metricTrigger":{"metricName":"Percentage CPU","timeGrain":"PT1M","statistic":"Average","timeWindow":"PT10M","timeAggregation":"Average","operator":"GreaterThan","threshold":70},
         "scaleAction":{"direction":"Increase","type":"ChangeCount","value":"1","cooldown":"PT5M"}},
        {"metricTrigger":{"metricName":"Percentage CPU","timeGrain":"PT1M","statistic":"Average","timeWindow":"PT10M","timeAggregation":"Average","operator":"LessThan","threshold":30},
         "scaleAction":{"direction":"Decrease","type":"ChangeCount","value":"1","cooldown":"PT5M"}}]}]}}"#;

    fn at(a: &mut AzureAutoscaler, now: i64, size: u32, cpu: f64) -> u32 {
        a.decide(&steady_observation(now, size, cpu)).desired
    }

    #[test]
    fn iso_durations() {
        assert_eq!(parse_iso_duration("PT5M"), Ok(300));
        assert_eq!(parse_iso_duration("PT1H30M"), Ok(5400));
        assert_eq!(parse_iso_duration("P1D"), Ok(86_400));
        for bad in ["5M", "PT", "PTXM", "PT5"] {
            assert!(parse_iso_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scale_out_after_full_window_then_cooldown() {
        let mut a = AzureAutoscaler::from_json(SETTING).unwrap();
        // The 10-minute window fills at the 10th datapoint.
        for m in 0..9 {
            assert_eq!(at(&mut a, m * 60, 4, 90.0), 4, "minute {m}");
        }
        assert_eq!(at(&mut a, 540, 4, 90.0), 5);
        // 5-minute cooldown: nothing until 840 s.
        for t in [600, 660, 720, 780] {
            assert_eq!(at(&mut a, t, 5, 90.0), 5, "t={t}");
        }
        assert_eq!(at(&mut a, 840, 5, 90.0), 6);
    }

    #[test]
    fn flapping_projection_blocks_scale_in() {
        // 3 instances at 25% (< 30) for the window: projected onto 2, 37.5% is not > 70,
        // so it scales in.
        let mut a = AzureAutoscaler::from_json(SETTING).unwrap();
        let mut last = 3;
        for m in 0..10 {
            last = at(&mut a, m * 60, 3, 25.0);
        }
        assert_eq!(last, 2);
        let tight = SETTING
            .replace("\"threshold\":30", "\"threshold\":50")
            .replace("\"threshold\":70", "\"threshold\":60");
        let mut b = AzureAutoscaler::from_json(&tight).unwrap();
        let mut last = 3;
        for m in 0..10 {
            last = at(&mut b, m * 60, 3, 45.0);
        }
        // 45% x 3/2 = 67.5% > 60%: the scale-in would flap, so it is skipped.
        assert_eq!(last, 3);
    }

    #[test]
    fn bad_settings_name_the_field() {
        let e = AzureAutoscaler::from_json(&SETTING.replace("\"PT10M\"", "\"10 minutes\""))
            .unwrap_err();
        assert!(
            e.to_string().contains("rules[0].metricTrigger.timeWindow"),
            "{e}"
        );
        let e = AzureAutoscaler::from_json(
            &SETTING.replace("\"minimum\":\"2\"", "\"minimum\":\"twenty\""),
        )
        .unwrap_err();
        assert!(e.to_string().contains("capacity.minimum"), "{e}");
    }

    /// The portal's pattern: a weekend recurrence, a weekday recurrence after it, and a
    /// fixed-date profile for a sale. Rules: the docs' CPU pair.
    fn scheduled_setting() -> String {
        let rules = r#"[
        {"metricTrigger":{"metricName":"Percentage CPU","timeWindow":"PT10M","operator":"GreaterThan","threshold":70},
         "scaleAction":{"direction":"Increase","type":"ChangeCount","value":"1","cooldown":"PT5M"}},
        {"metricTrigger":{"metricName":"Percentage CPU","timeWindow":"PT10M","operator":"LessThan","threshold":30},
         "scaleAction":{"direction":"Decrease","type":"ChangeCount","value":"1","cooldown":"PT5M"}}]"#;
        format!(
            r#"{{"name":"shop","properties":{{"profiles":[
          {{"name":"weekend","capacity":{{"minimum":"1","maximum":"3","default":"1"}},"rules":{rules},
            "recurrence":{{"frequency":"Week","schedule":{{"timeZone":"Pacific Standard Time","days":["Saturday","Sunday"],"hours":[0],"minutes":[0]}}}}}},
          {{"name":"weekdays","capacity":{{"minimum":"5","maximum":"10","default":"5"}},"rules":{rules},
            "recurrence":{{"frequency":"Week","schedule":{{"timeZone":"Pacific Standard Time","days":["Monday"],"hours":[0],"minutes":[0]}}}}}},
          {{"name":"black-friday","capacity":{{"minimum":"20","maximum":"40","default":"20"}},"rules":{rules},
            "fixedDate":{{"timeZone":"Pacific Standard Time","start":"2026-11-27T00:00:00","end":"2026-11-28T23:59:00"}}}}]}}}}"#
        )
    }

    #[test]
    fn profiles_follow_recurrence_and_fixed_dates() {
        use crate::engine::policy::schedule::utc;
        let mut a = AzureAutoscaler::from_json(&scheduled_setting()).unwrap();
        assert_eq!(a.bounds(), (1, 40));
        // Wednesday 2026-11-25 noon Pacific (20:00 UTC): the weekday profile raises 2 -> 5.
        let d = a.decide(&steady_observation(utc(2026, 11, 25, 20, 0), 2, 50.0));
        assert_eq!(d.desired, 5);
        assert!(d.explanation[0].contains("weekdays"), "{:?}", d.explanation);
        // Friday 2026-11-27 (Black Friday), 10:00 Pacific: the fixed-date profile wins.
        assert_eq!(at(&mut a, utc(2026, 11, 27, 18, 0), 5, 50.0), 20);
        // Sunday 2026-11-29 10:00 Pacific: the sale is over, the weekend recurrence (started
        // Saturday 00:00) caps at 3.
        assert_eq!(at(&mut a, utc(2026, 11, 29, 18, 0), 20, 50.0), 3);
        // Monday 00:00 Pacific = 08:00 UTC: the weekday recurrence takes over.
        assert_eq!(at(&mut a, utc(2026, 11, 30, 7, 59), 3, 50.0), 3);
        assert_eq!(at(&mut a, utc(2026, 11, 30, 8, 0), 3, 50.0), 5);
    }

    #[test]
    fn bad_profiles_name_the_field() {
        let s = scheduled_setting();
        let e = AzureAutoscaler::from_json(&s.replace("\"Week\"", "\"Day\"")).unwrap_err();
        assert!(
            e.to_string().contains("profiles[0].recurrence.frequency"),
            "{e}"
        );
        let e = AzureAutoscaler::from_json(&s.replace("\"Saturday\"", "\"Caturday\"")).unwrap_err();
        assert!(e.to_string().contains("recurrence.schedule.days"), "{e}");
        let e =
            AzureAutoscaler::from_json(&s.replace("2026-11-28T23:59:00", "2026-11-26T00:00:00"))
                .unwrap_err();
        assert!(e.to_string().contains("profiles[2].fixedDate.end"), "{e}");
        let e =
            AzureAutoscaler::from_json(&s.replace("\"hours\":[0]", "\"hours\":[24]")).unwrap_err();
        assert!(e.to_string().contains("schedule.hours"), "{e}");
    }
}

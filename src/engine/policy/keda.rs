//! KEDA ScaledObjects (keda.sh/v1alpha1) on top of the HPA model, as KEDA documents them:
//! KEDA owns the 0 <-> N step (a trigger is active when its metric is above
//! `activationThreshold`; scale to zero, or to `idleReplicaCount`, once no trigger has been
//! active for `cooldownPeriod`, checked every `pollingInterval`), and creates an HPA for
//! 1..N with one External metric per trigger (`threshold` as the target; metricType
//! AverageValue by default, Value, or Utilization for cpu/memory triggers) plus the
//! `advanced.horizontalPodAutoscalerConfig.behavior` passed through.
//! The cron trigger (timezone, start, end, desiredReplicas) is evaluated as KEDA's cron scaler
//! does (see `CronTrigger`); other triggers read their input series.

use serde::{Deserialize, Serialize};

use super::hpa::HpaController;
use super::hpa_spec::{Behavior, HpaMetric, ResolvedHpa};
use super::schedule::{keda_cron_active, parse_time_zone, CronSchedule};
use super::{is_request_rate, Autoscaler, Decision, Observation, PodCounts, PolicyError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaledObject {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: super::hpa_spec::Metadata,
    pub spec: ScaledObjectSpec,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScaledObjectSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_target_ref: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub polling_interval: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_period: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_replica_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replica_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replica_count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advanced: Option<Advanced>,
    pub triggers: Vec<Trigger>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Advanced {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizontal_pod_autoscaler_config: Option<HpaConfig>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<Behavior>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    #[serde(rename = "type")]
    pub kind: String,
    /// Optional trigger name; scaletop also uses it to find the input series it reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_type: Option<String>,
    #[serde(default)]
    pub metadata: std::collections::BTreeMap<String, String>,
}

/// KEDA defaults (keda.sh docs, ScaledObject specification).
pub const DEFAULT_POLLING_INTERVAL_SECONDS: u32 = 30;
pub const DEFAULT_COOLDOWN_PERIOD_SECONDS: u32 = 300;
pub const DEFAULT_MAX_REPLICA_COUNT: u32 = 100;

/// One trigger after validation: which HPA metric it becomes and its activation threshold.
#[derive(Debug, Clone)]
struct ResolvedTrigger {
    metric: HpaMetric,
    activation_threshold: f64,
    cron: Option<CronTrigger>,
}

/// KEDA's cron scaler: active between `start` and `end`; its metric is `desiredReplicas` while
/// active and 1 otherwise, against an AverageValue target of 1, so the HPA asks for exactly
/// `desiredReplicas` pods (or more if another trigger wants more).
#[derive(Debug, Clone)]
struct CronTrigger {
    start: CronSchedule,
    end: CronSchedule,
    desired_replicas: u32,
}

impl CronTrigger {
    fn value(&self, now: i64) -> (bool, f64) {
        let active = keda_cron_active(&self.start, &self.end, now);
        (
            active,
            if active {
                f64::from(self.desired_replicas)
            } else {
                1.0
            },
        )
    }
}

fn resolve_cron(i: usize, t: &Trigger) -> Result<ResolvedTrigger, PolicyError> {
    let at = format!("spec.triggers[{i}].metadata");
    let get = |key: &str| {
        t.metadata
            .get(key)
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| field(format!("{at}.{key}"), "is required for a cron trigger"))
    };
    let tz = parse_time_zone(get("timezone")?).map_err(|e| field(format!("{at}.timezone"), e))?;
    let start =
        CronSchedule::new(get("start")?, tz).map_err(|e| field(format!("{at}.start"), e))?;
    let end = CronSchedule::new(get("end")?, tz).map_err(|e| field(format!("{at}.end"), e))?;
    let desired = get("desiredReplicas")?;
    let desired_replicas = desired.trim().parse::<u32>().map_err(|_| {
        field(
            format!("{at}.desiredReplicas"),
            format!("'{desired}' is not a whole number"),
        )
    })?;
    Ok(ResolvedTrigger {
        metric: HpaMetric::AverageValue {
            name: format!("{CRON_SERIES_PREFIX}{i}"),
            target: 1.0,
        },
        activation_threshold: 0.0,
        cron: Some(CronTrigger {
            start,
            end,
            desired_replicas,
        }),
    })
}

/// Cron triggers are computed, not read from the input; their metric names start with this.
const CRON_SERIES_PREFIX: &str = "keda-cron-";

#[derive(Debug, Clone)]
pub struct KedaAutoscaler {
    pub name: String,
    hpa: HpaController,
    triggers: Vec<ResolvedTrigger>,
    min_replicas: u32,
    max_replicas: u32,
    idle_replicas: Option<u32>,
    polling_interval_seconds: u32,
    cooldown_seconds: u32,
    last_poll: Option<i64>,
    last_active: Option<i64>,
}

fn field(path: String, message: impl Into<String>) -> PolicyError {
    PolicyError::Field {
        field: path,
        message: message.into(),
    }
}

fn number(
    meta: &std::collections::BTreeMap<String, String>,
    key: &str,
    at: &str,
) -> Result<Option<f64>, PolicyError> {
    match meta.get(key) {
        None => Ok(None),
        Some(text) => text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .map(Some)
            .ok_or_else(|| {
                field(
                    format!("{at}.metadata.{key}"),
                    format!("'{text}' is not a number"),
                )
            }),
    }
}

fn resolve_trigger(i: usize, t: &Trigger) -> Result<ResolvedTrigger, PolicyError> {
    if t.kind == "cron" {
        return resolve_cron(i, t);
    }
    let at = format!("spec.triggers[{i}]");
    let activation = number(&t.metadata, "activationThreshold", &at)?.unwrap_or(0.0);
    let metric = match t.kind.as_str() {
        "cpu" | "memory" => {
            let value = number(&t.metadata, "value", &at)?
                .ok_or_else(|| field(format!("{at}.metadata.value"), "is required"))?;
            match t.metric_type.as_deref().unwrap_or("Utilization") {
                "Utilization" => HpaMetric::ResourceUtilization {
                    resource: t.kind.clone(),
                    target_percent: value.round().max(1.0) as u32,
                },
                "AverageValue" => HpaMetric::ResourceAverageValue {
                    resource: t.kind.clone(),
                    target: value,
                },
                other => {
                    return Err(field(
                        format!("{at}.metricType"),
                        format!("'{other}' is not valid for a {} trigger", t.kind),
                    ))
                }
            }
        }
        _ => {
            let threshold = number(&t.metadata, "threshold", &at)?
                .or(number(&t.metadata, "targetValue", &at)?)
                .or(number(&t.metadata, "value", &at)?)
                .ok_or_else(|| field(format!("{at}.metadata.threshold"), "is required"))?;
            if threshold <= 0.0 {
                return Err(field(
                    format!("{at}.metadata.threshold"),
                    "must be greater than 0",
                ));
            }
            let series = series_of(t).ok_or_else(|| {
                field(
                    format!("{at}.name"),
                    "cannot tell which input series this trigger reads: name the trigger after an input series (or request_rate)",
                )
            })?;
            match t.metric_type.as_deref().unwrap_or("AverageValue") {
                "AverageValue" => HpaMetric::AverageValue {
                    name: series,
                    target: threshold,
                },
                "Value" => HpaMetric::Value {
                    name: series,
                    target: threshold,
                },
                other => {
                    return Err(field(
                        format!("{at}.metricType"),
                        format!("'{other}': expected AverageValue or Value"),
                    ))
                }
            }
        }
    };
    Ok(ResolvedTrigger {
        metric,
        activation_threshold: activation,
        cron: None,
    })
}

/// The input series a scaler trigger reads in a replay: its name, `metricName`, or the request
/// rate when a Prometheus query counts requests.
fn series_of(t: &Trigger) -> Option<String> {
    if let Some(n) = t.name.as_ref().or(t.metadata.get("metricName")) {
        return Some(n.clone());
    }
    let query = t.metadata.get("query")?;
    (query.contains("request") || query.contains("http_requests"))
        .then(|| "request_rate".to_string())
}

impl KedaAutoscaler {
    pub fn from_yaml(text: &str) -> Result<Self, PolicyError> {
        let so: ScaledObject = serde_yaml_ng::from_str(text).map_err(|e| PolicyError::Parse {
            message: e.to_string(),
        })?;
        if so.kind != "ScaledObject" {
            return Err(field(
                "kind".into(),
                format!("expected ScaledObject, got '{}'", so.kind),
            ));
        }
        if !so.api_version.starts_with("keda.sh/") {
            return Err(field(
                "apiVersion".into(),
                format!("expected keda.sh/v1alpha1, got '{}'", so.api_version),
            ));
        }
        Self::new(so)
    }

    pub fn new(so: ScaledObject) -> Result<Self, PolicyError> {
        let s = &so.spec;
        if s.triggers.is_empty() {
            return Err(field(
                "spec.triggers".into(),
                "at least one trigger is required",
            ));
        }
        let triggers: Vec<ResolvedTrigger> = s
            .triggers
            .iter()
            .enumerate()
            .map(|(i, t)| resolve_trigger(i, t))
            .collect::<Result<_, _>>()?;
        let min = s.min_replica_count.unwrap_or(0);
        let max = s.max_replica_count.unwrap_or(DEFAULT_MAX_REPLICA_COUNT);
        if max == 0 || min > max {
            return Err(field(
                "spec.minReplicaCount".into(),
                format!("minReplicaCount {min} must not exceed maxReplicaCount {max} (> 0)"),
            ));
        }
        if let Some(idle) = s.idle_replica_count {
            if idle >= min.max(1) {
                return Err(field(
                    "spec.idleReplicaCount".into(),
                    "must be lower than minReplicaCount",
                ));
            }
        }
        // The HPA KEDA creates: min is at least 1, the triggers as metrics, behavior passed on.
        let behavior = s
            .advanced
            .as_ref()
            .and_then(|a| a.horizontal_pod_autoscaler_config.as_ref())
            .and_then(|c| c.behavior.clone());
        let hpa_yaml = serde_json::json!({
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": format!("keda-hpa-{}", so.metadata.name)},
            "spec": {"minReplicas": min.max(1), "maxReplicas": max, "behavior": behavior},
        });
        let manifest = super::hpa_spec::HpaManifest::from_yaml(&hpa_yaml.to_string())?;
        let base = manifest.resolve()?;
        let hpa = ResolvedHpa {
            metrics: triggers.iter().map(|t| t.metric.clone()).collect(),
            ..base
        };
        Ok(Self {
            name: so.metadata.name.clone(),
            hpa: HpaController::new(hpa),
            triggers,
            min_replicas: min,
            max_replicas: max,
            idle_replicas: s.idle_replica_count,
            polling_interval_seconds: s
                .polling_interval
                .unwrap_or(DEFAULT_POLLING_INTERVAL_SECONDS)
                .max(1),
            cooldown_seconds: s.cooldown_period.unwrap_or(DEFAULT_COOLDOWN_PERIOD_SECONDS),
            last_poll: None,
            last_active: None,
        })
    }

    /// The scaler's raw metric for activation (totals, not per pod).
    fn trigger_value(metric: &HpaMetric, obs: &Observation) -> Option<f64> {
        match metric {
            HpaMetric::ResourceUtilization { resource, .. } if resource == "cpu" => {
                obs.cpu_percent()
            }
            HpaMetric::ResourceUtilization { resource, .. } => {
                obs.extra(&format!("{resource}_utilization"))
            }
            other if is_request_rate(other.name()) => Some(obs.demand_rps),
            other => obs.extra(other.name()),
        }
    }
}

impl Autoscaler for KedaAutoscaler {
    fn set_explain(&mut self, explain: bool) {
        self.hpa.set_explain(explain);
    }

    fn describe(&self) -> String {
        format!(
            "KEDA {}: {}",
            self.name,
            self.hpa.describe().split_once(": ").map_or("", |p| p.1)
        )
    }

    fn bounds(&self) -> (u32, u32) {
        (
            self.idle_replicas.unwrap_or(self.min_replicas),
            self.max_replicas,
        )
    }

    fn decision_period_seconds(&self) -> u32 {
        // The HPA syncs every 15 s; KEDA's own poll is checked inside at its interval.
        self.hpa.sync_period_seconds
    }

    fn target_utilization(&self) -> f64 {
        self.hpa.target_utilization()
    }

    fn tolerance(&self) -> f64 {
        self.hpa.tolerance()
    }

    fn required_series(&self) -> Vec<String> {
        let mut r = self.hpa.required_series();
        r.retain(|n| !n.starts_with(CRON_SERIES_PREFIX));
        r
    }

    fn decide(&mut self, obs: &Observation) -> Decision {
        let spec = obs.pods.spec_replicas;
        let mut lines = Vec::new();
        // KEDA's activation loop runs every pollingInterval.
        let poll_due = self
            .last_poll
            .is_none_or(|t| obs.now - t >= i64::from(self.polling_interval_seconds));
        if poll_due {
            self.last_poll = Some(obs.now);
            let active: Vec<String> =
                self.triggers
                    .iter()
                    .filter_map(|t| {
                        if let Some(c) = &t.cron {
                            return c.value(obs.now).0.then(|| {
                                format!("cron window open: {} replicas", c.desired_replicas)
                            });
                        }
                        let v = Self::trigger_value(&t.metric, obs)?;
                        (v > t.activation_threshold).then(|| {
                            format!(
                                "{} {v:.1} > activation {}",
                                t.metric.name(),
                                t.activation_threshold
                            )
                        })
                    })
                    .collect();
            if !active.is_empty() {
                self.last_active = Some(obs.now);
                if spec == 0 || Some(spec) == self.idle_replicas {
                    let to = self.min_replicas.max(1);
                    lines.push(format!("KEDA activation: {} -> {to}", active.join(", ")));
                    return Decision {
                        desired: to,
                        explanation: lines,
                    };
                }
            } else if spec > 0 && Some(spec) != self.idle_replicas {
                let idle_for = self.last_active.map_or(i64::MAX, |t| obs.now - t);
                let floor = self.idle_replicas.unwrap_or(self.min_replicas);
                if floor < self.min_replicas.max(1) && idle_for >= i64::from(self.cooldown_seconds)
                {
                    lines.push(format!(
                        "KEDA: no trigger active for {idle_for}s >= cooldownPeriod {} -> {floor}",
                        self.cooldown_seconds
                    ));
                    return Decision {
                        desired: floor,
                        explanation: lines,
                    };
                }
            }
        }
        if spec == 0 || Some(spec) == self.idle_replicas {
            return Decision {
                desired: spec,
                explanation: vec!["KEDA: idle, no trigger active".into()],
            };
        }
        // 1..N belongs to the HPA KEDA created; cron triggers feed it their computed metric.
        let pods = PodCounts { ..obs.pods };
        let mut extra: Vec<(&str, f64)> = obs.extra.to_vec();
        for t in &self.triggers {
            if let Some(c) = &t.cron {
                extra.push((t.metric.name(), c.value(obs.now).1));
            }
        }
        self.hpa.decide(&Observation {
            pods,
            extra: &extra,
            ..*obs
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SO: &str = r#"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: worker}
spec:
  scaleTargetRef: {name: worker}
  pollingInterval: 30
  cooldownPeriod: 300
  minReplicaCount: 0
  maxReplicaCount: 50
  triggers:
  - type: prometheus
    name: queue_depth
    metadata:
      serverAddress: http://prometheus:9090
      query: sum(queue_depth)
      threshold: "100"
      activationThreshold: "5"
"#;

    fn step(k: &mut KedaAutoscaler, now: i64, spec: u32, queue: f64) -> u32 {
        let extra = [("queue_depth", queue)];
        k.decide(&Observation {
            now,
            pods: PodCounts {
                spec_replicas: spec,
                ready: spec,
                unready: 0,
            },
            demand_rps: 0.0,
            capacity_per_replica_rps: 100.0,
            measured_cpu_percent: None,
            extra: &extra,
        })
        .desired
    }

    #[test]
    fn activation_scale_from_zero_then_hpa_average_value() {
        let mut k = KedaAutoscaler::from_yaml(SO).unwrap();
        assert_eq!(k.required_series(), vec!["queue_depth".to_string()]);
        // Below activation: stays at zero.
        assert_eq!(step(&mut k, 0, 0, 3.0), 0);
        // Above activation at the next poll: KEDA scales 0 -> 1.
        assert_eq!(step(&mut k, 30, 0, 450.0), 1);
        // Then the HPA: queue 450 / 100 per pod -> 5 (rate limit allows 1+4 = 5).
        assert_eq!(step(&mut k, 45, 1, 450.0), 5);
    }

    #[test]
    fn cooldown_governs_only_the_step_to_zero() {
        let mut k = KedaAutoscaler::from_yaml(SO).unwrap();
        assert_eq!(step(&mut k, 0, 0, 450.0), 1);
        assert_eq!(step(&mut k, 15, 1, 450.0), 5);
        // Queue empties: the HPA may go down to 1 (its own 300 s window), KEDA goes to 0 only
        // after cooldownPeriod without an active trigger.
        let mut spec = 5;
        let mut zero_at = None;
        for t in (30..1200).step_by(15) {
            spec = step(&mut k, t, spec, 0.0);
            if spec == 0 && zero_at.is_none() {
                zero_at = Some(t);
            }
        }
        // Last active poll at 0 (t=30 poll sees 0 -> inactive); zero at the first poll >= 300 s.
        assert_eq!(zero_at, Some(300));
    }

    #[test]
    fn bad_scaled_objects_name_the_field() {
        let e = KedaAutoscaler::from_yaml(&SO.replace("threshold: \"100\"", "threshold: \"many\""))
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("spec.triggers[0].metadata.threshold"),
            "{e}"
        );
        let e = KedaAutoscaler::from_yaml(&SO.replace("ScaledObject", "ScaledJob")).unwrap_err();
        assert!(e.to_string().contains("kind"), "{e}");
        let e = KedaAutoscaler::from_yaml(
            &SO.replace("    name: queue_depth\n", "")
                .replace("sum(queue_depth)", "sum(lag)"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("spec.triggers[0].name"), "{e}");
    }

    const CRON_SO: &str = r#"
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: shop}
spec:
  scaleTargetRef: {name: shop}
  minReplicaCount: 0
  maxReplicaCount: 50
  cooldownPeriod: 300
  triggers:
  - type: cron
    metadata:
      timezone: Europe/Berlin
      start: 0 8 * * 1-5
      end: 0 18 * * 1-5
      desiredReplicas: "10"
  - type: prometheus
    name: queue_depth
    metadata:
      query: sum(queue_depth)
      threshold: "100"
"#;

    #[test]
    fn cron_trigger_holds_desired_replicas_inside_its_window() {
        use super::super::schedule::utc;
        let mut k = KedaAutoscaler::from_yaml(CRON_SO).unwrap();
        // The cron metric is computed, not an input series.
        assert_eq!(k.required_series(), vec!["queue_depth".to_string()]);
        // Monday 2026-03-02 08:00 Berlin is 07:00 UTC.
        let mut spec = 0;
        let at = |k: &mut KedaAutoscaler, t0: i64, t1: i64, spec: &mut u32| {
            for t in (t0..t1).step_by(15) {
                *spec = step(k, t, *spec, 0.0);
            }
        };
        at(
            &mut k,
            utc(2026, 3, 2, 6, 0),
            utc(2026, 3, 2, 6, 59),
            &mut spec,
        );
        assert_eq!(spec, 0, "before the window, idle queue: zero");
        at(
            &mut k,
            utc(2026, 3, 2, 6, 59),
            utc(2026, 3, 2, 7, 10),
            &mut spec,
        );
        assert_eq!(spec, 10, "inside the window: desiredReplicas");
        // A busy queue inside the window asks for more than the cron floor: the larger wins.
        for t in (utc(2026, 3, 2, 12, 0)..utc(2026, 3, 2, 12, 5)).step_by(15) {
            spec = step(&mut k, t, spec, 2500.0);
        }
        assert_eq!(spec, 25);
        // After 18:00 Berlin (17:00 UTC) the cron trigger goes inactive: the HPA's 300 s
        // stabilization brings it to 1, then KEDA's cooldown to zero.
        at(
            &mut k,
            utc(2026, 3, 2, 12, 5),
            utc(2026, 3, 2, 16, 59),
            &mut spec,
        );
        assert_eq!(spec, 10);
        at(
            &mut k,
            utc(2026, 3, 2, 16, 59),
            utc(2026, 3, 2, 17, 30),
            &mut spec,
        );
        assert_eq!(spec, 0);
    }

    #[test]
    fn bad_cron_triggers_name_the_field() {
        let e =
            KedaAutoscaler::from_yaml(&CRON_SO.replace("Europe/Berlin", "Moon/Base")).unwrap_err();
        assert!(
            e.to_string().contains("spec.triggers[0].metadata.timezone"),
            "{e}"
        );
        let e =
            KedaAutoscaler::from_yaml(&CRON_SO.replace("0 8 * * 1-5", "99 8 * * 1-5")).unwrap_err();
        assert!(
            e.to_string().contains("spec.triggers[0].metadata.start"),
            "{e}"
        );
        let e = KedaAutoscaler::from_yaml(&CRON_SO.replace("\"10\"", "ten")).unwrap_err();
        assert!(e.to_string().contains("desiredReplicas"), "{e}");
    }
}

//! The HorizontalPodAutoscaler `autoscaling/v2` manifest as users write it, with the defaults
//! the API server fills in (k8s.io/kubernetes pkg/apis/autoscaling/v2/defaults.go).

use serde::{Deserialize, Serialize};

use super::quantity::parse_quantity;
use super::PolicyError;

/// Default scale-down stabilization (kube-controller-manager
/// `--horizontal-pod-autoscaler-downscale-stabilization`).
pub const DEFAULT_SCALE_DOWN_STABILIZATION_SECONDS: u32 = 300;
/// Default tolerance (`--horizontal-pod-autoscaler-tolerance`).
pub const DEFAULT_TOLERANCE: f64 = 0.1;
/// Default controller sync period (`--horizontal-pod-autoscaler-sync-period`).
pub const DEFAULT_SYNC_PERIOD_SECONDS: u32 = 15;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaManifest {
    pub api_version: String,
    pub kind: String,
    #[serde(default)]
    pub metadata: Metadata,
    pub spec: HpaSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HpaSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_target_ref: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_replicas: Option<u32>,
    pub max_replicas: u32,
    #[serde(default)]
    pub metrics: Vec<MetricSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub behavior: Option<Behavior>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricSpec {
    #[serde(rename = "type")]
    pub kind: MetricSourceType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<ResourceMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_resource: Option<ResourceMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pods: Option<NamedMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<NamedMetric>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<NamedMetric>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetricSourceType {
    Resource,
    ContainerResource,
    Pods,
    Object,
    External,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceMetric {
    pub name: String,
    pub target: MetricTarget,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NamedMetric {
    pub metric: MetricIdentifier,
    pub target: MetricTarget,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub described_object: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricIdentifier {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricTarget {
    #[serde(rename = "type")]
    pub kind: TargetType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_utilization: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_value: Option<QuantityText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<QuantityText>,
}

/// A quantity as written in YAML: a string ("500m") or a bare number (100).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum QuantityText {
    Text(String),
    Number(f64),
}

impl QuantityText {
    pub fn value(&self) -> Result<f64, String> {
        match self {
            QuantityText::Text(t) => parse_quantity(t),
            QuantityText::Number(n) => Ok(*n),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetType {
    Utilization,
    AverageValue,
    Value,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Behavior {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_up: Option<ScalingRules>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down: Option<ScalingRules>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingRules {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stabilization_window_seconds: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_policy: Option<SelectPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<ScalingPolicy>>,
    /// autoscaling/v2 (Kubernetes 1.33+, alpha): per-direction tolerance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<QuantityText>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SelectPolicy {
    Max,
    Min,
    Disabled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScalingPolicy {
    #[serde(rename = "type")]
    pub kind: ScalingPolicyType,
    pub value: u32,
    pub period_seconds: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScalingPolicyType {
    Pods,
    Percent,
}

/// Scaling rules of one direction after defaulting.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedRules {
    pub stabilization_window_seconds: u32,
    pub select_policy: SelectPolicy,
    pub policies: Vec<ScalingPolicy>,
    pub tolerance: f64,
}

impl ResolvedRules {
    pub fn longest_period_seconds(&self) -> u32 {
        self.policies
            .iter()
            .map(|p| p.period_seconds)
            .max()
            .unwrap_or(0)
    }
}

/// What one HPA metric measures, after validation.
#[derive(Debug, Clone, PartialEq)]
pub enum HpaMetric {
    /// Resource or ContainerResource with target averageUtilization (percent of request).
    ResourceUtilization {
        resource: String,
        target_percent: u32,
    },
    /// Resource with target averageValue (per pod, in the resource's unit).
    ResourceAverageValue { resource: String, target: f64 },
    /// Pods metric: per-pod average value.
    PodsAverageValue { name: String, target: f64 },
    /// Object or External metric compared as a total value against the target.
    Value { name: String, target: f64 },
    /// Object or External metric divided across pods (target per pod).
    AverageValue { name: String, target: f64 },
}

impl HpaMetric {
    pub fn name(&self) -> &str {
        match self {
            HpaMetric::ResourceUtilization { resource, .. }
            | HpaMetric::ResourceAverageValue { resource, .. } => resource,
            HpaMetric::PodsAverageValue { name, .. }
            | HpaMetric::Value { name, .. }
            | HpaMetric::AverageValue { name, .. } => name,
        }
    }
}

/// An HPA ready for the controller: defaults applied and every field validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedHpa {
    pub name: String,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub metrics: Vec<HpaMetric>,
    pub scale_up: ResolvedRules,
    pub scale_down: ResolvedRules,
}

fn field_err(field: &str, message: impl Into<String>) -> PolicyError {
    PolicyError::Field {
        field: field.to_string(),
        message: message.into(),
    }
}

impl HpaManifest {
    /// Reads an HPA manifest (YAML or JSON). Wrong kind/apiVersion and invalid fields are
    /// errors naming the field.
    pub fn from_yaml(text: &str) -> Result<HpaManifest, PolicyError> {
        let m: HpaManifest = serde_yaml_ng::from_str(text).map_err(|e| PolicyError::Parse {
            message: e.to_string(),
        })?;
        if m.kind != "HorizontalPodAutoscaler" {
            return Err(field_err(
                "kind",
                format!("expected HorizontalPodAutoscaler, got '{}'", m.kind),
            ));
        }
        if m.api_version != "autoscaling/v2" {
            return Err(field_err(
                "apiVersion",
                format!(
                    "expected autoscaling/v2, got '{}' (v1 and v2beta* are not read)",
                    m.api_version
                ),
            ));
        }
        Ok(m)
    }

    pub fn resolve(&self) -> Result<ResolvedHpa, PolicyError> {
        let spec = &self.spec;
        let min = spec.min_replicas.unwrap_or(1);
        if spec.max_replicas == 0 {
            return Err(field_err("spec.maxReplicas", "must be at least 1"));
        }
        if min > spec.max_replicas {
            return Err(field_err(
                "spec.minReplicas",
                format!(
                    "minReplicas {min} is greater than maxReplicas {}",
                    spec.max_replicas
                ),
            ));
        }
        let metrics = if spec.metrics.is_empty() {
            // The API server's default: 80% CPU utilization.
            vec![HpaMetric::ResourceUtilization {
                resource: "cpu".into(),
                target_percent: 80,
            }]
        } else {
            spec.metrics
                .iter()
                .enumerate()
                .map(|(i, m)| resolve_metric(i, m))
                .collect::<Result<_, _>>()?
        };
        let behavior = spec.behavior.clone().unwrap_or_default();
        let scale_up = resolve_rules(
            "spec.behavior.scaleUp",
            behavior.scale_up.as_ref(),
            Direction::Up,
        )?;
        let scale_down = resolve_rules(
            "spec.behavior.scaleDown",
            behavior.scale_down.as_ref(),
            Direction::Down,
        )?;
        Ok(ResolvedHpa {
            name: self.metadata.name.clone(),
            min_replicas: min,
            max_replicas: spec.max_replicas,
            metrics,
            scale_up,
            scale_down,
        })
    }
}

#[derive(Clone, Copy)]
enum Direction {
    Up,
    Down,
}

fn resolve_rules(
    field: &str,
    rules: Option<&ScalingRules>,
    dir: Direction,
) -> Result<ResolvedRules, PolicyError> {
    let default_policies = match dir {
        Direction::Up => vec![
            ScalingPolicy {
                kind: ScalingPolicyType::Pods,
                value: 4,
                period_seconds: 15,
            },
            ScalingPolicy {
                kind: ScalingPolicyType::Percent,
                value: 100,
                period_seconds: 15,
            },
        ],
        Direction::Down => vec![ScalingPolicy {
            kind: ScalingPolicyType::Percent,
            value: 100,
            period_seconds: 15,
        }],
    };
    let default_window = match dir {
        Direction::Up => 0,
        Direction::Down => DEFAULT_SCALE_DOWN_STABILIZATION_SECONDS,
    };
    let r = rules.cloned().unwrap_or_default();
    let window = r.stabilization_window_seconds.unwrap_or(default_window);
    if window > 3600 {
        return Err(field_err(
            &format!("{field}.stabilizationWindowSeconds"),
            "must be at most 3600",
        ));
    }
    let policies = r.policies.unwrap_or(default_policies);
    for (i, p) in policies.iter().enumerate() {
        if p.period_seconds == 0 || p.period_seconds > 1800 {
            return Err(field_err(
                &format!("{field}.policies[{i}].periodSeconds"),
                "must be between 1 and 1800",
            ));
        }
        if p.value == 0 {
            return Err(field_err(
                &format!("{field}.policies[{i}].value"),
                "must be greater than 0",
            ));
        }
    }
    let select = r.select_policy.unwrap_or(SelectPolicy::Max);
    if policies.is_empty() && select != SelectPolicy::Disabled {
        return Err(field_err(
            &format!("{field}.policies"),
            "must have at least one policy",
        ));
    }
    let tolerance = match &r.tolerance {
        Some(q) => q
            .value()
            .map_err(|e| field_err(&format!("{field}.tolerance"), e))?,
        None => DEFAULT_TOLERANCE,
    };
    if !(0.0..1.0).contains(&tolerance) {
        return Err(field_err(
            &format!("{field}.tolerance"),
            "must be between 0 and 1",
        ));
    }
    Ok(ResolvedRules {
        stabilization_window_seconds: window,
        select_policy: select,
        policies,
        tolerance,
    })
}

fn resolve_metric(i: usize, m: &MetricSpec) -> Result<HpaMetric, PolicyError> {
    let field = |s: &str| format!("spec.metrics[{i}].{s}");
    let missing = |s: &str| field_err(&field(s), "is required for this metric type");
    let quantity = |t: &MetricTarget, which: &str| -> Result<f64, PolicyError> {
        let q = match which {
            "averageValue" => t.average_value.as_ref(),
            _ => t.value.as_ref(),
        };
        let v = q
            .ok_or_else(|| missing(&format!("target.{which}")))?
            .value()
            .map_err(|e| field_err(&field(&format!("target.{which}")), e))?;
        if v > 0.0 {
            Ok(v)
        } else {
            Err(field_err(
                &field(&format!("target.{which}")),
                "must be greater than 0",
            ))
        }
    };
    match m.kind {
        MetricSourceType::Resource | MetricSourceType::ContainerResource => {
            let (key, r) = if m.kind == MetricSourceType::Resource {
                ("resource", m.resource.as_ref())
            } else {
                ("containerResource", m.container_resource.as_ref())
            };
            let r = r.ok_or_else(|| missing(key))?;
            match r.target.kind {
                TargetType::Utilization => {
                    let pct = r
                        .target
                        .average_utilization
                        .ok_or_else(|| missing(&format!("{key}.target.averageUtilization")))?;
                    if pct == 0 {
                        return Err(field_err(
                            &field(&format!("{key}.target.averageUtilization")),
                            "must be greater than 0",
                        ));
                    }
                    Ok(HpaMetric::ResourceUtilization {
                        resource: r.name.clone(),
                        target_percent: pct,
                    })
                }
                TargetType::AverageValue => Ok(HpaMetric::ResourceAverageValue {
                    resource: r.name.clone(),
                    target: quantity(&r.target, "averageValue")?,
                }),
                TargetType::Value => Err(field_err(
                    &field(&format!("{key}.target.type")),
                    "Resource metrics take Utilization or AverageValue",
                )),
            }
        }
        MetricSourceType::Pods => {
            let p = m.pods.as_ref().ok_or_else(|| missing("pods"))?;
            if p.target.kind != TargetType::AverageValue {
                return Err(field_err(
                    &field("pods.target.type"),
                    "Pods metrics take AverageValue",
                ));
            }
            Ok(HpaMetric::PodsAverageValue {
                name: p.metric.name.clone(),
                target: quantity(&p.target, "averageValue")?,
            })
        }
        MetricSourceType::Object | MetricSourceType::External => {
            let key = if m.kind == MetricSourceType::Object {
                "object"
            } else {
                "external"
            };
            let n = if m.kind == MetricSourceType::Object {
                m.object.as_ref()
            } else {
                m.external.as_ref()
            }
            .ok_or_else(|| missing(key))?;
            match n.target.kind {
                TargetType::Value => Ok(HpaMetric::Value {
                    name: n.metric.name.clone(),
                    target: quantity(&n.target, "value")?,
                }),
                TargetType::AverageValue => Ok(HpaMetric::AverageValue {
                    name: n.metric.name.clone(),
                    target: quantity(&n.target, "averageValue")?,
                }),
                TargetType::Utilization => Err(field_err(
                    &field(&format!("{key}.target.type")),
                    "Object and External metrics take Value or AverageValue",
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CPU_HPA: &str = r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}
  - type: Pods
    pods: {metric: {name: http_requests}, target: {type: AverageValue, averageValue: 1k}}
"#;

    #[test]
    fn defaults_match_the_api_server() {
        let h = HpaManifest::from_yaml(CPU_HPA).unwrap().resolve().unwrap();
        assert_eq!(h.scale_up.stabilization_window_seconds, 0);
        assert_eq!(h.scale_up.select_policy, SelectPolicy::Max);
        assert_eq!(
            h.scale_up.policies,
            vec![
                ScalingPolicy {
                    kind: ScalingPolicyType::Pods,
                    value: 4,
                    period_seconds: 15
                },
                ScalingPolicy {
                    kind: ScalingPolicyType::Percent,
                    value: 100,
                    period_seconds: 15
                }
            ]
        );
        assert_eq!(h.scale_down.stabilization_window_seconds, 300);
        assert_eq!(h.scale_down.policies.len(), 1);
        assert_eq!(
            h.metrics[1],
            HpaMetric::PodsAverageValue {
                name: "http_requests".into(),
                target: 1000.0
            }
        );
    }

    #[test]
    fn wrong_kind_version_and_fields_are_named() {
        let e = HpaManifest::from_yaml(&CPU_HPA.replace("HorizontalPodAutoscaler", "Deployment"))
            .unwrap_err();
        assert!(e.to_string().contains("kind"), "{e}");
        let e = HpaManifest::from_yaml(&CPU_HPA.replace("autoscaling/v2", "autoscaling/v1"))
            .unwrap_err();
        assert!(e.to_string().contains("apiVersion"), "{e}");
        let e = HpaManifest::from_yaml(&CPU_HPA.replace("minReplicas: 2", "minReplicas: 20"))
            .unwrap()
            .resolve()
            .unwrap_err();
        assert!(e.to_string().contains("spec.minReplicas"), "{e}");
        let e = HpaManifest::from_yaml(&CPU_HPA.replace("averageValue: 1k", "averageValue: lots"))
            .unwrap()
            .resolve()
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("spec.metrics[1].target.averageValue"),
            "{e}"
        );
        assert!(HpaManifest::from_yaml("not: [valid").is_err());
    }
}

//! KEDA ScaledObject (keda.sh/v1alpha1): a KEDA document as given, or the equivalent of an HPA
//! (Prometheus triggers on group totals, behavior passed through, fallback, cron triggers of
//! schedule recommendations for the same group).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::k8s::{complete_hpa, yaml};
use super::{EmitContext, EmittedFile, Header};
use crate::artifact::{PolicyArtifact, PolicyFormat};
use crate::engine::policy::hpa_spec::{MetricSourceType, QuantityText, TargetType};
use crate::engine::policy::keda::{KedaAutoscaler, ScaledObject};
use crate::model::{GroupId, Recommendation, RecommendationKind};

/// Where KEDA's Prometheus triggers query when nothing better is known; the header says so.
pub const DEFAULT_PROMETHEUS_URL: &str = "http://prometheus-operated.monitoring.svc:9090";

/// A KEDA ScaledObject: the KEDA document as given (checked by the replay's parser), or the
/// equivalent of an HPA document.
pub fn keda(
    p: &PolicyArtifact,
    rec: &Recommendation,
    ctx: &EmitContext,
    head: &Header,
) -> Result<EmittedFile, String> {
    let (so, notes) = match p.format {
        PolicyFormat::KedaScaledObject => {
            let so: ScaledObject = serde_json::from_value(p.document.clone())
                .map_err(|e| format!("KEDA document: {e}"))?;
            (so, Vec::new())
        }
        PolicyFormat::K8sHpa => hpa_to_keda(&p.document, &rec.group, ctx)?,
        other => return Err(format!("KEDA cannot be made from a {other:?} document")),
    };
    let mut notes = notes;
    check_scaled_object(&so, &mut notes)?;
    let mut text = head.comment("#");
    for n in notes {
        text.push_str(&format!("# {n}\n"));
    }
    text.push_str(&yaml(&so)?);
    Ok(EmittedFile {
        relative: "keda-scaledobject.yaml".into(),
        contents: text,
    })
}

/// Checks a ScaledObject with the replay's own parser (cron triggers included: KEDA's cron
/// scaler is replayed), plus what KEDA enforces beyond it: a cron trigger's desiredReplicas
/// within maxReplicaCount.
fn check_scaled_object(so: &ScaledObject, _notes: &mut Vec<String>) -> Result<(), String> {
    let max = so
        .spec
        .max_replica_count
        .unwrap_or(crate::engine::policy::keda::DEFAULT_MAX_REPLICA_COUNT);
    KedaAutoscaler::new(so.clone()).map_err(|e| format!("ScaledObject: {e}"))?;
    for (i, t) in so.spec.triggers.iter().enumerate() {
        if t.kind != "cron" {
            continue;
        }
        let desired = t.metadata.get("desiredReplicas").map_or("", String::as_str);
        if !desired
            .trim()
            .parse::<u32>()
            .is_ok_and(|n| (1..=max).contains(&n))
        {
            return Err(format!(
                "spec.triggers[{i}].metadata.desiredReplicas '{desired}' must be a whole number from 1 to maxReplicaCount {max}"
            ));
        }
    }
    Ok(())
}

/// Cron triggers of schedule recommendations (KEDA documents) for the same group, so a
/// converted HPA keeps its scheduled capacity.
fn schedule_triggers(group: &GroupId, ctx: &EmitContext) -> Vec<Value> {
    ctx.companions
        .iter()
        .filter(|r| &r.group == group && r.kind == RecommendationKind::Schedule)
        .filter_map(
            |r| match crate::artifact::Artifact::from_value(&r.artifact) {
                Ok(crate::artifact::Artifact::Policy(p))
                    if p.format == PolicyFormat::KedaScaledObject =>
                {
                    p.document
                        .pointer("/spec/triggers")
                        .and_then(Value::as_array)
                        .cloned()
                }
                _ => None,
            },
        )
        .flatten()
        .filter(|t| t.get("type").and_then(Value::as_str) == Some("cron"))
        .collect()
}

/// The ScaledObject whose generated HPA is the given one: each metric becomes a trigger
/// (Resource -> cpu/memory; Pods and External -> a Prometheus trigger whose query is the
/// group total, which KEDA divides by the replica count for AverageValue), behavior passes
/// through `advanced.horizontalPodAutoscalerConfig`, and a fallback holds capacity when every
/// trigger is a Prometheus one (KEDA does not allow fallback with cpu/memory triggers).
pub fn hpa_to_keda(
    doc: &Value,
    group: &GroupId,
    ctx: &EmitContext,
) -> Result<(ScaledObject, Vec<String>), String> {
    let m = complete_hpa(doc, group)?;
    let server = ctx
        .prometheus_url
        .clone()
        .unwrap_or_else(|| DEFAULT_PROMETHEUS_URL.to_string());
    let ns = m.metadata.namespace.clone().unwrap_or_default();
    let target_name = m
        .spec
        .scale_target_ref
        .as_ref()
        .and_then(|r| r.get("name"))
        .and_then(Value::as_str)
        .unwrap_or(&group.name)
        .to_string();
    let selector = if ns.is_empty() {
        format!("pod=~\"{target_name}-.*\"")
    } else {
        format!("namespace=\"{ns}\",pod=~\"{target_name}-.*\"")
    };
    let mut triggers = Vec::new();
    for (i, metric) in m.spec.metrics.iter().enumerate() {
        let at = format!("spec.metrics[{i}]");
        let trigger = match metric.kind {
            MetricSourceType::Resource | MetricSourceType::ContainerResource => {
                let r = metric
                    .resource
                    .as_ref()
                    .or(metric.container_resource.as_ref())
                    .ok_or(format!("{at}: resource is missing"))?;
                let (metric_type, value) = match r.target.kind {
                    TargetType::Utilization => (
                        "Utilization",
                        r.target
                            .average_utilization
                            .ok_or(format!("{at}: averageUtilization is missing"))?
                            .to_string(),
                    ),
                    TargetType::AverageValue => (
                        "AverageValue",
                        quantity(r.target.average_value.as_ref(), &at)?,
                    ),
                    TargetType::Value => {
                        return Err(format!("{at}: a Resource metric cannot target a Value"))
                    }
                };
                let mut meta = BTreeMap::new();
                meta.insert("value".to_string(), value);
                if let Some(c) = metric.container_resource.as_ref().and(
                    doc.pointer(&format!("/spec/metrics/{i}/containerResource/container"))
                        .and_then(Value::as_str),
                ) {
                    meta.insert("containerName".to_string(), c.to_string());
                }
                trigger(&r.name, None, Some(metric_type), meta)
            }
            MetricSourceType::Pods | MetricSourceType::External | MetricSourceType::Object => {
                let n = metric
                    .pods
                    .as_ref()
                    .or(metric.external.as_ref())
                    .or(metric.object.as_ref())
                    .ok_or(format!("{at}: metric is missing"))?;
                let name = &n.metric.name;
                let (metric_type, threshold) = match (metric.kind, n.target.kind) {
                    (MetricSourceType::Pods, _) | (_, TargetType::AverageValue) => (
                        "AverageValue",
                        quantity(n.target.average_value.as_ref(), &at)?,
                    ),
                    (_, TargetType::Value) => ("Value", quantity(n.target.value.as_ref(), &at)?),
                    (_, TargetType::Utilization) => {
                        return Err(format!("{at}: {name} cannot target a Utilization"))
                    }
                };
                let query = if crate::engine::policy::is_request_rate(name) {
                    format!("sum(rate(http_requests_total{{{selector}}}[2m]))")
                } else if metric.kind == MetricSourceType::Pods {
                    format!("sum({name}{{{selector}}})")
                } else {
                    format!("sum({name})")
                };
                let mut meta = BTreeMap::new();
                meta.insert("serverAddress".to_string(), server.clone());
                meta.insert("query".to_string(), query);
                meta.insert("threshold".to_string(), threshold);
                trigger("prometheus", Some(name.clone()), Some(metric_type), meta)
            }
        };
        triggers.push(trigger);
    }
    if triggers.is_empty() {
        // The API server's default HPA metric.
        let mut meta = BTreeMap::new();
        meta.insert("value".to_string(), "80".to_string());
        triggers.push(trigger("cpu", None, Some("Utilization"), meta));
    }
    let crons = schedule_triggers(group, ctx);
    let min = m.spec.min_replicas.unwrap_or(1);
    let max = m.spec.max_replicas;
    let mut notes = vec![format!(
        "Converted from HPA {}: same metrics and behavior; Prometheus queries are group totals.",
        m.metadata.name
    )];
    if ctx.prometheus_url.is_none() {
        notes.push(format!(
            "serverAddress {server} is a default: point it at your Prometheus."
        ));
    }
    let all_prometheus = triggers.iter().all(|t| {
        t.get("type").and_then(Value::as_str) == Some("prometheus")
            && t.get("metricType").and_then(Value::as_str) == Some("AverageValue")
    });
    if !crons.is_empty() {
        notes.push(format!(
            "{} cron trigger(s) from schedule recommendations for {} hold scheduled capacity.",
            crons.len(),
            group.name
        ));
        triggers.extend(crons);
    }
    let fallback = all_prometheus.then(|| {
        // Half way between min and max: enough to ride out a metrics outage without paying
        // for the maximum.
        let replicas = min + (max - min).div_ceil(2);
        notes.push(format!(
            "fallback: after 3 failed metric reads KEDA holds {replicas} replicas (midway min..max)."
        ));
        json!({"failureThreshold": 3, "replicas": replicas})
    });
    let mut spec = json!({
        "scaleTargetRef": {"name": target_name},
        "pollingInterval": 15,
        "minReplicaCount": min,
        "maxReplicaCount": max,
        "advanced": {"horizontalPodAutoscalerConfig": {"behavior": m.spec.behavior}},
        "triggers": triggers,
    });
    if let Some(f) = fallback {
        spec["fallback"] = f;
    }
    let mut metadata = json!({"name": m.metadata.name});
    if !ns.is_empty() {
        metadata["namespace"] = json!(ns);
    }
    let so: ScaledObject = serde_json::from_value(json!({
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": metadata,
        "spec": spec,
    }))
    .map_err(|e| format!("ScaledObject: {e}"))?;
    Ok((so, notes))
}

fn trigger(
    kind: &str,
    name: Option<String>,
    metric_type: Option<&str>,
    metadata: BTreeMap<String, String>,
) -> Value {
    let mut t = json!({"type": kind, "metadata": metadata});
    if let Some(n) = name {
        t["name"] = json!(n);
    }
    if let Some(m) = metric_type {
        t["metricType"] = json!(m);
    }
    t
}

fn quantity(q: Option<&QuantityText>, at: &str) -> Result<String, String> {
    let q = q.ok_or(format!("{at}: target value is missing"))?;
    let v = q.value().map_err(|e| format!("{at}: {e}"))?;
    Ok(format_number(v))
}

/// A number without a trailing ".0" (KEDA metadata values are strings).
pub fn format_number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Platform;

    #[test]
    fn hpa_becomes_keda_with_total_queries_and_fallback() {
        let doc = serde_json::json!({
            "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "api"},
            "spec": {"minReplicas": 2, "maxReplicas": 30, "metrics": [
                {"type": "Pods", "pods": {"metric": {"name": "request_rate"},
                 "target": {"type": "AverageValue", "averageValue": "25"}}}]}
        });
        let g = GroupId::new(Platform::K8s, "shop", "api");
        let (so, notes) = hpa_to_keda(&doc, &g, &EmitContext::default()).expect("keda");
        let t = &so.spec.triggers[0];
        assert_eq!(t.kind, "prometheus");
        assert_eq!(t.metric_type.as_deref(), Some("AverageValue"));
        assert_eq!(
            t.metadata.get("query").map(String::as_str),
            Some("sum(rate(http_requests_total{namespace=\"shop\",pod=~\"api-.*\"}[2m]))")
        );
        assert_eq!(t.metadata.get("threshold").map(String::as_str), Some("25"));
        assert_eq!(so.spec.min_replica_count, Some(2));
        // Midway between 2 and 30.
        assert_eq!(
            so.spec.fallback,
            Some(serde_json::json!({"failureThreshold": 3, "replicas": 16}))
        );
        assert!(
            notes.iter().any(|n| n.contains("serverAddress")),
            "{notes:?}"
        );
    }
}

//! Pure readers of the Kubernetes objects the source watches (as JSON values, the shape the
//! API serves): HPA `autoscaling/v2`, Deployment/StatefulSet, VPA and KEDA ScaledObject.
//! No I/O, so each is tested on documented object shapes without a cluster.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::model::MetricKind;

fn s<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn u(v: &Value, pointer: &str) -> Option<u32> {
    v.pointer(pointer)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

/// `metadata.namespace` and `metadata.name` of an object.
pub fn key(obj: &Value) -> Option<(String, String)> {
    Some((
        s(obj, "/metadata/namespace").unwrap_or("").to_string(),
        s(obj, "/metadata/name")?.to_string(),
    ))
}

/// `kind/name` of a scale target reference (HPA `scaleTargetRef`, VPA `targetRef`, KEDA
/// `scaleTargetRef`, where KEDA's kind defaults to Deployment).
pub fn target_ref(r: Option<&Value>) -> Option<(String, String)> {
    let r = r?;
    Some((
        r.get("kind")
            .and_then(Value::as_str)
            .unwrap_or("Deployment")
            .to_string(),
        r.get("name")?.as_str()?.to_string(),
    ))
}

/// The HPA's scale target, e.g. ("Deployment", "web").
pub fn hpa_target(hpa: &Value) -> Option<(String, String)> {
    target_ref(hpa.pointer("/spec/scaleTargetRef"))
}

/// The live HPA as a policy file: `autoscaling/v2` manifest with name, namespace and spec
/// only (status, managedFields and server-set metadata stripped), so
/// [`crate::engine::policy::parse_policy`] reads it exactly as a file with the same text.
pub fn hpa_policy_text(hpa: &Value) -> String {
    policy_text(hpa, "autoscaling/v2", "HorizontalPodAutoscaler")
}

/// The live KEDA ScaledObject as a policy file, stripped the same way.
pub fn scaled_object_policy_text(so: &Value) -> String {
    let api_version = s(so, "/apiVersion").unwrap_or("keda.sh/v1alpha1");
    policy_text(so, api_version, "ScaledObject")
}

fn policy_text(obj: &Value, api_version: &str, kind: &str) -> String {
    let mut metadata = serde_json::Map::new();
    for field in ["name", "namespace"] {
        if let Some(v) = obj.pointer(&format!("/metadata/{field}")) {
            metadata.insert(field.into(), v.clone());
        }
    }
    let doc = json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": metadata,
        "spec": obj.get("spec").cloned().unwrap_or(Value::Null),
    });
    // JSON is YAML; the YAML form is what users keep in policy files.
    serde_yaml_ng::to_string(&doc).unwrap_or_else(|_| doc.to_string())
}

/// One HPA status condition (AbleToScale, ScalingActive, ScalingLimited).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub kind: String,
    pub status: String,
    pub reason: String,
    pub message: String,
}

impl Condition {
    /// e.g. "True TooManyReplicas: the desired replica count is more than the maximum".
    pub fn text(&self) -> String {
        let mut t = self.status.clone();
        if !self.reason.is_empty() {
            t = format!("{t} {}", self.reason);
        }
        if !self.message.is_empty() {
            t = format!("{t}: {}", self.message);
        }
        t
    }
}

pub fn hpa_conditions(hpa: &Value) -> Vec<Condition> {
    let Some(list) = hpa.pointer("/status/conditions").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|c| {
            Some(Condition {
                kind: c.get("type")?.as_str()?.to_string(),
                status: s(c, "/status").unwrap_or("Unknown").to_string(),
                reason: s(c, "/reason").unwrap_or("").to_string(),
                message: s(c, "/message").unwrap_or("").to_string(),
            })
        })
        .collect()
}

/// Replica figures of an HPA: (metric, value) for desired, current, min and max.
pub fn hpa_replicas(hpa: &Value) -> Vec<(MetricKind, f64)> {
    let mut out = Vec::new();
    if let Some(d) = u(hpa, "/status/desiredReplicas") {
        out.push((MetricKind::ReplicasDesired, f64::from(d)));
    }
    if let Some(c) = u(hpa, "/status/currentReplicas") {
        out.push((MetricKind::ReplicasReady, f64::from(c)));
    }
    // The API server defaults minReplicas to 1.
    out.push((
        MetricKind::ReplicasMin,
        f64::from(u(hpa, "/spec/minReplicas").unwrap_or(1)),
    ));
    if let Some(m) = u(hpa, "/spec/maxReplicas") {
        out.push((MetricKind::ReplicasMax, f64::from(m)));
    }
    out
}

pub fn hpa_desired(hpa: &Value) -> Option<u32> {
    u(hpa, "/status/desiredReplicas")
}

/// Current metric values the HPA reports, with the targets of its spec, for display, e.g.
/// "cpu 72% (target 70%)"; plus CPU and memory utilization as scaletop metrics.
pub fn hpa_current_metrics(hpa: &Value) -> (Vec<String>, Vec<(MetricKind, f64)>) {
    let mut texts = Vec::new();
    let mut samples = Vec::new();
    let current = hpa
        .pointer("/status/currentMetrics")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let spec = hpa
        .pointer("/spec/metrics")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (i, m) in current.iter().enumerate() {
        let kind = m.get("type").and_then(Value::as_str).unwrap_or("");
        let field = match kind {
            "Resource" => "resource",
            "ContainerResource" => "containerResource",
            "Pods" => "pods",
            "Object" => "object",
            "External" => "external",
            _ => continue,
        };
        let Some(body) = m.get(field) else { continue };
        let name = body
            .get("name")
            .or_else(|| body.pointer("/metric/name"))
            .and_then(Value::as_str)
            .unwrap_or("?");
        let Some(cur) = body.get("current") else {
            continue;
        };
        // The spec metric with the same type and name gives the target.
        let target = spec
            .iter()
            .find(|sm| {
                sm.get("type").and_then(Value::as_str) == Some(kind)
                    && sm
                        .get(field)
                        .and_then(|b| b.get("name").or_else(|| b.pointer("/metric/name")))
                        .and_then(Value::as_str)
                        == Some(name)
            })
            .or_else(|| spec.get(i))
            .and_then(|sm| sm.get(field))
            .and_then(|b| b.get("target"));
        let (value, unit) = if let Some(p) = cur.get("averageUtilization").and_then(Value::as_f64) {
            if matches!(field, "resource" | "containerResource") {
                match name {
                    "cpu" => samples.push((MetricKind::CpuUtilization, p)),
                    "memory" => samples.push((MetricKind::MemoryUtilization, p)),
                    _ => {}
                }
            }
            (format!("{p}"), "%")
        } else if let Some(v) = cur.get("averageValue").map(quantity_text) {
            (v, "/pod")
        } else if let Some(v) = cur.get("value").map(quantity_text) {
            (v, "")
        } else {
            continue;
        };
        let target = target
            .map(|t| {
                if let Some(p) = t.get("averageUtilization").and_then(Value::as_f64) {
                    format!(" (target {p}%)")
                } else if let Some(v) = t.get("averageValue").map(quantity_text) {
                    format!(" (target {v}/pod)")
                } else if let Some(v) = t.get("value").map(quantity_text) {
                    format!(" (target {v})")
                } else {
                    String::new()
                }
            })
            .unwrap_or_default();
        texts.push(format!("{name} {value}{unit}{target}"));
    }
    (texts, samples)
}

fn quantity_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Ready replicas of a Deployment or StatefulSet (`status.readyReplicas`, absent = 0 once the
/// status exists).
pub fn workload_ready(w: &Value) -> Option<u32> {
    let status = w.get("status")?;
    Some(u(status, "/readyReplicas").unwrap_or(0))
}

/// Replicas a Deployment or StatefulSet asks for (`spec.replicas`; the API defaults it to 1).
pub fn workload_desired(w: &Value) -> Option<u32> {
    w.get("spec")?;
    Some(u(w, "/spec/replicas").unwrap_or(1))
}

/// A ScaledObject's replica bounds, with KEDA's defaults (minReplicaCount 0,
/// maxReplicaCount 100; keda.sh/docs "Scaling Deployments" ScaledObject spec).
pub fn scaled_object_bounds(so: &Value) -> Vec<(MetricKind, f64)> {
    vec![
        (
            MetricKind::ReplicasMin,
            f64::from(u(so, "/spec/minReplicaCount").unwrap_or(0)),
        ),
        (
            MetricKind::ReplicasMax,
            f64::from(u(so, "/spec/maxReplicaCount").unwrap_or(100)),
        ),
    ]
}

/// Container requests of a workload's pod template, e.g. "app: cpu 250m, memory 256Mi".
pub fn workload_requests(w: &Value) -> Option<String> {
    let containers = w
        .pointer("/spec/template/spec/containers")
        .and_then(Value::as_array)?;
    let parts: Vec<String> = containers
        .iter()
        .filter_map(|c| {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("?");
            let req = c.pointer("/resources/requests")?.as_object()?;
            let list: Vec<String> = req
                .iter()
                .map(|(k, v)| format!("{k} {}", quantity_text(v)))
                .collect();
            (!list.is_empty()).then(|| format!("{name}: {}", list.join(", ")))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// A VPA's update mode and its target recommendation per container, e.g.
/// "Auto; app: cpu 300m, memory 512Mi".
pub fn vpa_summary(vpa: &Value) -> String {
    let mode = s(vpa, "/spec/updatePolicy/updateMode").unwrap_or("Auto");
    let recs = vpa
        .pointer("/status/recommendation/containerRecommendations")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|c| {
                    let name = c.get("containerName").and_then(Value::as_str)?;
                    let target = c.get("target")?.as_object()?;
                    let t: BTreeMap<&String, String> =
                        target.iter().map(|(k, v)| (k, quantity_text(v))).collect();
                    let t: Vec<String> = t.iter().map(|(k, v)| format!("{k} {v}")).collect();
                    Some(format!("{name}: {}", t.join(", ")))
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if recs.is_empty() {
        format!("{mode}; no recommendation yet")
    } else {
        format!("{mode}; target {}", recs.join("; "))
    }
}

/// The HPA a KEDA ScaledObject drives: `status.hpaName`, else KEDA's default name
/// `keda-hpa-<scaledobject>`.
pub fn scaled_object_hpa_name(so: &Value) -> Option<String> {
    s(so, "/status/hpaName")
        .map(str::to_string)
        .or_else(|| s(so, "/metadata/name").map(|n| format!("keda-hpa-{n}")))
}

#[cfg(test)]
mod tests;

//! Kubernetes emitters: HPA autoscaling/v2, KEDA ScaledObject (as given, or converted from an
//! HPA), VPA autoscaling.k8s.io/v1 that never fights an HPA on the same resource.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{EmitContext, EmittedFile, Header};
use crate::artifact::{PolicyArtifact, PolicyFormat, SizingArtifact};
use crate::engine::policy::hpa_spec::{
    Behavior, HpaManifest, MetricSourceType, QuantityText, ResolvedRules, ScalingRules, TargetType,
    DEFAULT_TOLERANCE,
};
use crate::engine::policy::keda::{KedaAutoscaler, ScaledObject};
use crate::model::{GroupId, Platform, Recommendation, RecommendationKind};

/// Where KEDA's Prometheus triggers query when nothing better is known; the header says so.
pub const DEFAULT_PROMETHEUS_URL: &str = "http://prometheus-operated.monitoring.svc:9090";

/// Words YAML 1.1 reads as booleans. Kubernetes (sigs.k8s.io/yaml) and PyYAML follow 1.1, so
/// an unquoted `updateMode: Off` arrives as `false`; serde_yaml_ng (YAML 1.2) leaves them bare.
const YAML11_BOOLEANS: [&str; 16] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF",
];

fn yaml(value: &impl serde::Serialize) -> Result<String, String> {
    let text = serde_yaml_ng::to_string(value).map_err(|e| format!("cannot write YAML: {e}"))?;
    Ok(text
        .lines()
        .map(|line| {
            let (head, scalar) = match line.rsplit_once(": ") {
                Some((h, v)) => (format!("{h}: "), v),
                None => match line.trim_start().strip_prefix("- ") {
                    Some(v) => (line[..line.len() - v.len()].to_string(), v),
                    None => return format!("{line}\n"),
                },
            };
            if YAML11_BOOLEANS.contains(&scalar) {
                format!("{head}'{scalar}'\n")
            } else {
                format!("{line}\n")
            }
        })
        .collect())
}

fn namespace(group: &GroupId) -> Option<String> {
    (group.platform == Platform::K8s && !group.scope.is_empty()).then(|| group.scope.clone())
}

/// The HPA document with what the API server would default written out: name, namespace,
/// scaleTargetRef, and behavior for both directions (so reviewers see the real rules). A
/// tolerance equal to the controller default is left out (the field needs Kubernetes 1.33+).
pub fn complete_hpa(doc: &Value, group: &GroupId) -> Result<HpaManifest, String> {
    let mut m: HpaManifest =
        serde_json::from_value(doc.clone()).map_err(|e| format!("HPA document: {e}"))?;
    let resolved = m.resolve().map_err(|e| format!("HPA document: {e}"))?;
    if m.api_version != "autoscaling/v2" || m.kind != "HorizontalPodAutoscaler" {
        return Err(format!(
            "HPA document: expected autoscaling/v2 HorizontalPodAutoscaler, got {} {}",
            m.api_version, m.kind
        ));
    }
    if m.metadata.name.is_empty() {
        m.metadata.name = group.name.clone();
    }
    if m.metadata.namespace.is_none() {
        m.metadata.namespace = namespace(group);
    }
    if m.spec.scale_target_ref.is_none() {
        m.spec.scale_target_ref = Some(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "name": group.name
        }));
    }
    m.spec.min_replicas = Some(resolved.min_replicas);
    m.spec.behavior = Some(Behavior {
        scale_up: Some(explicit_rules(&resolved.scale_up)),
        scale_down: Some(explicit_rules(&resolved.scale_down)),
    });
    Ok(m)
}

fn explicit_rules(r: &ResolvedRules) -> ScalingRules {
    ScalingRules {
        stabilization_window_seconds: Some(r.stabilization_window_seconds),
        select_policy: Some(r.select_policy),
        policies: Some(r.policies.clone()),
        tolerance: ((r.tolerance - DEFAULT_TOLERANCE).abs() > 1e-9)
            .then(|| QuantityText::Text(r.tolerance.to_string())),
    }
}

pub fn hpa(doc: &Value, rec: &Recommendation, head: &Header) -> Result<EmittedFile, String> {
    let m = complete_hpa(doc, &rec.group)?;
    let mut text = head.comment("#");
    if m.spec
        .behavior
        .as_ref()
        .into_iter()
        .flat_map(|b| [&b.scale_up, &b.scale_down])
        .any(|r| r.as_ref().is_some_and(|r| r.tolerance.is_some()))
    {
        text.push_str(
            "# behavior.*.tolerance needs Kubernetes 1.33+ (HPAConfigurableTolerance).\n",
        );
    }
    text.push_str(&yaml(&m)?);
    Ok(EmittedFile {
        relative: "hpa.yaml".into(),
        contents: text,
    })
}

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

/// Checks a ScaledObject: cron triggers by KEDA's cron scaler rules (start/end are cron
/// expressions, desiredReplicas within max), every other trigger by the replay's own parser.
/// Cron triggers are not replayed by `scaletop simulate`; the header says so.
fn check_scaled_object(so: &ScaledObject, notes: &mut Vec<String>) -> Result<(), String> {
    let max = so
        .spec
        .max_replica_count
        .unwrap_or(crate::engine::policy::keda::DEFAULT_MAX_REPLICA_COUNT);
    let mut replayable = so.clone();
    replayable.spec.triggers.retain(|t| t.kind != "cron");
    for (i, t) in so
        .spec
        .triggers
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == "cron")
    {
        let at = format!("spec.triggers[{i}].metadata");
        let get = |k: &str| {
            t.metadata
                .get(k)
                .ok_or(format!("{at}.{k} is required for a cron trigger"))
        };
        get("timezone")?;
        for k in ["start", "end"] {
            let expr = get(k)?;
            <croner::Cron as std::str::FromStr>::from_str(expr)
                .map_err(|e| format!("{at}.{k} '{expr}': {e}"))?;
        }
        let desired = get("desiredReplicas")?;
        match desired.trim().parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => {}
            _ => {
                return Err(format!(
                    "{at}.desiredReplicas '{desired}' must be a whole number from 1 to maxReplicaCount {max}"
                ))
            }
        }
    }
    if replayable.spec.triggers.len() < so.spec.triggers.len() {
        notes.push(
            "cron triggers hold scheduled capacity; `scaletop simulate` replays the other triggers only."
                .into(),
        );
    }
    if !replayable.spec.triggers.is_empty() {
        KedaAutoscaler::new(replayable).map_err(|e| format!("ScaledObject: {e}"))?;
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

/// Resources an HPA (or KEDA) already scales `group` on: from the other recommendations of the
/// same input, and from what the context knows of the current policy.
pub fn scaled_resources(group: &GroupId, ctx: &EmitContext) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (g, r) in &ctx.hpa_resources {
        if g == group {
            out.push((r.clone(), "its current autoscaler".to_string()));
        }
    }
    for rec in &ctx.companions {
        if &rec.group != group
            || !matches!(
                rec.kind,
                RecommendationKind::Policy | RecommendationKind::Metric
            )
        {
            continue;
        }
        let Ok(crate::artifact::Artifact::Policy(p)) =
            crate::artifact::Artifact::from_value(&rec.artifact)
        else {
            continue;
        };
        let resources: Vec<String> = match p.format {
            PolicyFormat::K8sHpa => p
                .document
                .pointer("/spec/metrics")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|m| {
                    m.pointer("/resource/name")
                        .or(m.pointer("/containerResource/name"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .collect(),
            PolicyFormat::KedaScaledObject => p
                .document
                .pointer("/spec/triggers")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| t.get("type").and_then(Value::as_str))
                .filter(|t| matches!(*t, "cpu" | "memory"))
                .map(str::to_string)
                .collect(),
            _ => Vec::new(),
        };
        for r in resources {
            out.push((r, format!("recommendation '{}'", rec.id)));
        }
    }
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// A VPA that keeps each container between bounds around the recommended requests
/// (minAllowed = 80% of the request, maxAllowed = the limit, else 150% of the request), in
/// `Initial` mode (applied when pods are created; no evictions). A resource an HPA scales on
/// is left out of controlledResources: changing its request moves the HPA's utilization and
/// the two controllers fight. When that leaves nothing, the VPA runs recommendation-only (Off).
pub fn vpa(
    s: &SizingArtifact,
    rec: &Recommendation,
    ctx: &EmitContext,
    head: &Header,
) -> Result<EmittedFile, String> {
    if s.containers.is_empty() {
        return Err("sizing artifact has no containers".into());
    }
    let scaled = scaled_resources(&rec.group, ctx);
    let mut controlled: Vec<&str> = vec!["cpu", "memory"];
    let mut notes = Vec::new();
    for (resource, by) in &scaled {
        if controlled.contains(&resource.as_str()) {
            controlled.retain(|r| *r != resource.as_str());
            notes.push(format!(
                "{resource} is not in controlledResources: {by} scales {} on {resource}, and a VPA changing its request would move that utilization (the two would fight).",
                rec.group.name
            ));
        }
    }
    let update_mode = if controlled.is_empty() {
        notes.push(
            "updateMode Off (recommendation only): every resource is already scaled by an HPA."
                .into(),
        );
        controlled = vec!["cpu", "memory"];
        "Off"
    } else {
        "Initial"
    };
    let policies: Vec<Value> = s
        .containers
        .iter()
        .map(|c| {
            let cpu_max = c
                .cpu_limit_millicores
                .unwrap_or(c.cpu_request_millicores * 3 / 2);
            let mem_max = c.memory_limit_mib.unwrap_or(c.memory_request_mib * 3 / 2);
            json!({
                "containerName": c.name,
                "mode": "Auto",
                "minAllowed": {
                    "cpu": format!("{}m", (c.cpu_request_millicores * 4 / 5).max(1)),
                    "memory": format!("{}Mi", (c.memory_request_mib * 4 / 5).max(1)),
                },
                "maxAllowed": {
                    "cpu": format!("{}m", cpu_max.max(c.cpu_request_millicores)),
                    "memory": format!("{}Mi", mem_max.max(c.memory_request_mib)),
                },
                "controlledResources": controlled,
                "controlledValues": "RequestsOnly",
            })
        })
        .collect();
    let mut metadata = json!({"name": format!("{}-vpa", rec.group.name)});
    if let Some(ns) = namespace(&rec.group) {
        metadata["namespace"] = json!(ns);
    }
    let doc = json!({
        "apiVersion": "autoscaling.k8s.io/v1",
        "kind": "VerticalPodAutoscaler",
        "metadata": metadata,
        "spec": {
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": rec.group.name},
            "updatePolicy": {"updateMode": update_mode},
            "resourcePolicy": {"containerPolicies": policies},
        }
    });
    let mut text = head.comment("#");
    text.push_str(
        "# Bounds: minAllowed 80% of the recommended request, maxAllowed the limit (else 150%).\n",
    );
    for n in notes {
        text.push_str(&format!("# {n}\n"));
    }
    text.push_str(&yaml(&doc)?);
    Ok(EmittedFile {
        relative: "vpa.yaml".into(),
        contents: text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::ContainerSize;
    use crate::model::{Risk, RECOMMENDATION_SCHEMA};

    fn sizing_rec() -> (Recommendation, SizingArtifact) {
        let s = SizingArtifact {
            containers: vec![ContainerSize {
                name: "app".into(),
                cpu_request_millicores: 500,
                memory_request_mib: 1000,
                cpu_limit_millicores: None,
                memory_limit_mib: Some(2000),
            }],
        };
        let rec = Recommendation {
            schema: RECOMMENDATION_SCHEMA.into(),
            id: "s".into(),
            kind: RecommendationKind::Sizing,
            group: GroupId::new(Platform::K8s, "shop", "web"),
            title: "size".into(),
            evidence: vec![],
            saving_usd_month: None,
            risk: Risk::Low,
            artifact: crate::artifact::Artifact::Sizing(s.clone()).to_value(),
        };
        (rec, s)
    }

    fn head() -> Header {
        Header { lines: vec![] }
    }

    fn vpa_doc(ctx: &EmitContext) -> (serde_yaml_ng::Value, String) {
        let (rec, s) = sizing_rec();
        let f = vpa(&s, &rec, ctx, &head()).expect("vpa");
        (
            serde_yaml_ng::from_str(&f.contents).expect("yaml"),
            f.contents,
        )
    }

    #[test]
    fn vpa_leaves_out_the_resource_an_hpa_scales_on() {
        let ctx = EmitContext {
            hpa_resources: vec![(GroupId::new(Platform::K8s, "shop", "web"), "cpu".into())],
            ..Default::default()
        };
        let (doc, text) = vpa_doc(&ctx);
        let policy = &doc["spec"]["resourcePolicy"]["containerPolicies"][0];
        assert_eq!(
            policy["controlledResources"],
            serde_yaml_ng::to_value(["memory"]).expect("v")
        );
        assert_eq!(
            doc["spec"]["updatePolicy"]["updateMode"].as_str(),
            Some("Initial")
        );
        assert!(
            text.contains("# cpu is not in controlledResources"),
            "{text}"
        );
        // Bounds: 80% of the request; the limit, else 150% of the request.
        assert_eq!(policy["minAllowed"]["cpu"].as_str(), Some("400m"));
        assert_eq!(policy["minAllowed"]["memory"].as_str(), Some("800Mi"));
        assert_eq!(policy["maxAllowed"]["cpu"].as_str(), Some("750m"));
        assert_eq!(policy["maxAllowed"]["memory"].as_str(), Some("2000Mi"));
    }

    #[test]
    fn vpa_only_recommends_when_an_hpa_scales_on_both_resources() {
        let g = GroupId::new(Platform::K8s, "shop", "web");
        let ctx = EmitContext {
            hpa_resources: vec![(g.clone(), "cpu".into()), (g, "memory".into())],
            ..Default::default()
        };
        let (doc, _) = vpa_doc(&ctx);
        assert_eq!(
            doc["spec"]["updatePolicy"]["updateMode"].as_str(),
            Some("Off")
        );
        // Another group's HPA does not matter.
        let other = EmitContext {
            hpa_resources: vec![(GroupId::new(Platform::K8s, "shop", "api"), "cpu".into())],
            ..Default::default()
        };
        let (doc, _) = vpa_doc(&other);
        assert_eq!(
            doc["spec"]["updatePolicy"]["updateMode"].as_str(),
            Some("Initial")
        );
        assert_eq!(
            doc["spec"]["resourcePolicy"]["containerPolicies"][0]["controlledResources"],
            serde_yaml_ng::to_value(["cpu", "memory"]).expect("v")
        );
    }

    #[test]
    fn yaml_quotes_yaml11_booleans() {
        let v = serde_json::json!({"updateMode": "Off", "list": ["on", "x"], "n": "No"});
        assert_eq!(
            yaml(&v).expect("yaml"),
            "list:\n- 'on'\n- x\nn: 'No'\nupdateMode: 'Off'\n"
        );
    }

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

//! Kubernetes emitters: HPA autoscaling/v2 and VPA autoscaling.k8s.io/v1 (never fighting an HPA
//! on the same resource); KEDA is in [`super::keda`]. YAML written here is safe for YAML 1.1
//! readers.

use serde_json::{json, Value};

use super::{EmitContext, EmittedFile, Header};
use crate::artifact::{PolicyFormat, SizingArtifact};
use crate::engine::policy::hpa_spec::{
    Behavior, HpaManifest, QuantityText, ResolvedRules, ScalingRules, DEFAULT_TOLERANCE,
};
use crate::model::{GroupId, Platform, Recommendation, RecommendationKind};

/// Words YAML 1.1 reads as booleans. Kubernetes (sigs.k8s.io/yaml) and PyYAML follow 1.1, so
/// an unquoted `updateMode: Off` arrives as `false`; serde_yaml_ng (YAML 1.2) leaves them bare.
const YAML11_BOOLEANS: [&str; 16] = [
    "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
    "OFF",
];

pub(super) fn yaml(value: &impl serde::Serialize) -> Result<String, String> {
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

pub(super) fn namespace(group: &GroupId) -> Option<String> {
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
}

//! Where emit gets its recommendations: the versioned recommendation JSON (one object or an
//! array, `"schema": "scaletop.recommendation/v1"`), or a simulator scenario group's current
//! policy (the same platform document the simulator runs, from sim::hpa_manifest/asg_config).

use serde_json::Value;

use super::{EmitContext, WarmPool};
use crate::artifact::{Artifact, PolicyArtifact, PolicyFormat};
use crate::model::{
    MetricKind, Platform, PolicyModel, Recommendation, RecommendationKind, Risk,
    RECOMMENDATION_SCHEMA,
};
use crate::sim::Scenario;

/// Reads recommendation JSON; `origin` (a path) names it in errors. Each item's `schema` is
/// checked before anything else, so a file of another version says so rather than failing on
/// some field.
pub fn parse_recommendations(text: &str, origin: &str) -> Result<Vec<Recommendation>, String> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("{origin}: line {}: not JSON: {e}", e.line()))?;
    let (items, single) = match value {
        Value::Array(items) => (items, false),
        obj @ Value::Object(_) => (vec![obj], true),
        _ => {
            return Err(format!(
                "{origin}: expected a recommendation object or an array of them"
            ))
        }
    };
    if items.is_empty() {
        return Err(format!("{origin}: the array holds no recommendation"));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let at = if single {
                origin.to_string()
            } else {
                format!("{origin}: item {i}")
            };
            match item.get("schema").and_then(Value::as_str) {
                Some(RECOMMENDATION_SCHEMA) => {}
                Some(other) => {
                    return Err(format!(
                    "{at}: schema '{other}' is not supported (expected '{RECOMMENDATION_SCHEMA}')"
                ))
                }
                None => {
                    return Err(format!(
                    "{at}: no \"schema\" field (expected \"schema\": \"{RECOMMENDATION_SCHEMA}\")"
                ))
                }
            }
            serde_json::from_value::<Recommendation>(item).map_err(|e| format!("{at}: {e}"))
        })
        .collect()
}

/// A scenario group's current policy as a recommendation to emit, and what the scenario knows
/// about the group (warm pool, the resources its autoscaler scales on).
pub fn scenario_group(
    scenario: &Scenario,
    group: &str,
) -> Result<(Recommendation, EmitContext), String> {
    let g = scenario
        .sim_groups()
        .iter()
        .find(|g| g.name() == group)
        .ok_or_else(|| {
            let known: Vec<&str> = scenario.sim_groups().iter().map(|g| g.name()).collect();
            format!(
                "scenario '{}' has no group '{group}' (groups: {})",
                scenario.name(),
                known.join(", ")
            )
        })?;
    let tt = match &g.policy {
        PolicyModel::TargetTracking(tt) => tt,
        other => {
            return Err(format!(
                "group '{group}' has no autoscaling policy to emit ({})",
                other.summary()
            ))
        }
    };
    let (min, max) = (g.capacity.min_replicas, g.capacity.max_replicas);
    let id = &g.info.id;
    let (format, document) = match id.platform {
        Platform::K8s => (
            PolicyFormat::K8sHpa,
            crate::sim::hpa_manifest(group, tt, min, max).ok_or(format!(
                "group '{group}': a metric of its policy has no HPA form"
            ))?,
        ),
        Platform::Aws => (
            PolicyFormat::AwsAsg,
            crate::sim::asg_config(group, tt, min, max).ok_or(format!(
                "group '{group}': EC2 target tracking has no predefined metric for its policy"
            ))?,
        ),
        other => {
            return Err(format!(
            "group '{group}' is a {} group: the simulator keeps no platform policy document for it",
            other.as_str()
        ))
        }
    };
    let artifact = Artifact::Policy(PolicyArtifact { format, document });
    let rec = Recommendation {
        schema: RECOMMENDATION_SCHEMA.into(),
        id: format!("{}-{group}-current", scenario.name()),
        kind: RecommendationKind::Policy,
        group: id.clone(),
        title: format!("Current policy of {group}: {}", g.policy.summary()),
        evidence: vec![format!(
            "provenance: simulator scenario '{}'",
            scenario.name()
        )],
        saving_usd_month: None,
        risk: Risk::Low,
        artifact: artifact.to_value(),
    };
    let hpa_resources = tt
        .targets
        .iter()
        .filter_map(|t| match t.metric {
            MetricKind::CpuUtilization => Some("cpu"),
            MetricKind::MemoryUtilization => Some("memory"),
            _ => None,
        })
        .filter(|_| id.platform == Platform::K8s)
        .map(|r| (id.clone(), r.to_string()))
        .collect();
    let warm_pool =
        (id.platform == Platform::Aws && g.capacity.warm_pool_size > 0).then_some(WarmPool {
            min_size: g.capacity.warm_pool_size,
        });
    let ctx = EmitContext {
        source: format!("scenario '{}', group '{group}'", scenario.name()),
        companions: vec![rec.clone()],
        hpa_resources,
        warm_pool,
        ..Default::default()
    };
    Ok((rec, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_schema_version_is_named() {
        let err = parse_recommendations(
            r#"[{"schema": "scaletop.recommendation/v1", "id": "a"}, {"schema": "scaletop.recommendation/v2"}]"#,
            "r.json",
        )
        .expect_err("bad");
        // The first item fails on its missing fields before the second is looked at.
        assert!(err.starts_with("r.json: item 0:"), "{err}");
        let err = parse_recommendations(r#"{"schema": "scaletop.recommendation/v2"}"#, "r.json")
            .expect_err("bad");
        assert_eq!(
            err,
            "r.json: schema 'scaletop.recommendation/v2' is not supported (expected 'scaletop.recommendation/v1')"
        );
        let err = parse_recommendations(r#"{"id": "x"}"#, "r.json").expect_err("bad");
        assert!(err.contains("no \"schema\" field"), "{err}");
    }
}

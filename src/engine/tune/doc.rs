//! A policy in its platform's own document format, as the search edits it: the serde structs
//! of `engine::policy` (HPA manifest, KEDA ScaledObject, ASG scaling configuration, GCP
//! autoscaler). Every candidate's autoscaler is built by `parse_policy` from the very document
//! that is recommended, so what is replayed is what is emitted.

use crate::artifact::PolicyFormat;
use crate::engine::policy::aws_spec::{AsgScalingConfig, PolicyType};
use crate::engine::policy::gcp::GcpAutoscaler;
use crate::engine::policy::hpa_spec::HpaManifest;
use crate::engine::policy::keda::ScaledObject;
use crate::engine::policy::{parse_policy, Autoscaler, PolicyError};

#[derive(Debug, Clone, PartialEq)]
pub enum PolicyDoc {
    Hpa(HpaManifest),
    Keda(ScaledObject),
    Asg(AsgScalingConfig),
    Gcp(GcpAutoscaler),
}

fn parse_err(message: impl Into<String>) -> PolicyError {
    PolicyError::Parse {
        message: message.into(),
    }
}

impl PolicyDoc {
    /// Reads a policy file the way `parse_policy` detects it. Azure autoscale settings and
    /// Application Auto Scaling targets replay but are not searched yet: an error says so.
    pub fn parse(text: &str) -> Result<PolicyDoc, PolicyError> {
        // Validate exactly as the replay will.
        parse_policy(text)?;
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
            if json.pointer("/properties/profiles").is_some() {
                return Err(parse_err(
                    "Azure autoscale settings replay (scaletop simulate) but are not tuned yet",
                ));
            }
            if json.get("ScalableDimension").is_some() {
                return Err(parse_err(
                    "Application Auto Scaling targets replay (scaletop simulate) but are not tuned yet",
                ));
            }
            if json.get("autoscalingPolicy").is_some() {
                return serde_json::from_value(json)
                    .map(PolicyDoc::Gcp)
                    .map_err(|e| parse_err(e.to_string()));
            }
            if json.get("ScalingPolicies").is_some() || json.get("MaxSize").is_some() {
                return AsgScalingConfig::from_json(text).map(PolicyDoc::Asg);
            }
        }
        let kind = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text)
            .ok()
            .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string));
        if kind.as_deref() == Some("ScaledObject") {
            return serde_yaml_ng::from_str(text)
                .map(PolicyDoc::Keda)
                .map_err(|e| parse_err(e.to_string()));
        }
        HpaManifest::from_yaml(text).map(PolicyDoc::Hpa)
    }

    /// The document as JSON, the shape `parse_policy` reads back.
    pub fn to_value(&self) -> serde_json::Value {
        // Plain structs with string keys: serialising cannot fail.
        match self {
            PolicyDoc::Hpa(d) => serde_json::to_value(d),
            PolicyDoc::Keda(d) => serde_json::to_value(d),
            PolicyDoc::Asg(d) => serde_json::to_value(d),
            PolicyDoc::Gcp(d) => serde_json::to_value(d),
        }
        .unwrap_or(serde_json::Value::Null)
    }

    pub fn format(&self) -> PolicyFormat {
        match self {
            PolicyDoc::Hpa(_) => PolicyFormat::K8sHpa,
            PolicyDoc::Keda(_) => PolicyFormat::KedaScaledObject,
            PolicyDoc::Asg(_) => PolicyFormat::AwsAsg,
            PolicyDoc::Gcp(_) => PolicyFormat::GcpAutoscaler,
        }
    }

    /// The replayable autoscaler, read back from the document's JSON by `parse_policy`.
    pub fn autoscaler(&self) -> Result<Box<dyn Autoscaler + Send>, PolicyError> {
        parse_policy(&self.to_value().to_string())
    }

    /// The HPA controller itself when the document is an HPA: the same reading as
    /// [`Self::autoscaler`] (the same JSON through the same parser), unboxed so a search can
    /// call it without dynamic dispatch.
    pub fn hpa_controller(
        &self,
    ) -> Option<Result<crate::engine::policy::hpa::HpaController, PolicyError>> {
        let PolicyDoc::Hpa(_) = self else {
            return None;
        };
        let read = || -> Result<_, PolicyError> {
            let m = HpaManifest::from_yaml(&self.to_value().to_string())?;
            Ok(crate::engine::policy::hpa::HpaController::new(m.resolve()?))
        };
        Some(read())
    }

    /// (min, max) as the document states them.
    pub fn bounds(&self) -> (u32, u32) {
        match self {
            PolicyDoc::Hpa(d) => (d.spec.min_replicas.unwrap_or(1), d.spec.max_replicas),
            PolicyDoc::Keda(d) => (
                d.spec.min_replica_count.unwrap_or(0),
                d.spec
                    .max_replica_count
                    .unwrap_or(crate::engine::policy::keda::DEFAULT_MAX_REPLICA_COUNT),
            ),
            PolicyDoc::Asg(d) => (d.min_size, d.max_size),
            PolicyDoc::Gcp(d) => (
                d.autoscaling_policy.min_num_replicas,
                d.autoscaling_policy.max_num_replicas,
            ),
        }
    }

    /// The kind of policy this document is, for the search and the type choice.
    pub fn kind(&self) -> super::PolicyKind {
        use super::PolicyKind;
        match self {
            PolicyDoc::Hpa(_) => PolicyKind::Hpa,
            PolicyDoc::Keda(_) => PolicyKind::Keda,
            PolicyDoc::Gcp(_) => PolicyKind::Gcp,
            PolicyDoc::Asg(c) => {
                let has = |t: PolicyType| {
                    c.scaling_policies
                        .iter()
                        .any(|p| p.policy_type == t && p.enabled != Some(false))
                };
                if has(PolicyType::PredictiveScaling) {
                    PolicyKind::AwsPredictive
                } else if has(PolicyType::TargetTrackingScaling) {
                    PolicyKind::AwsTarget
                } else {
                    PolicyKind::AwsStep
                }
            }
        }
    }
}

//! The machine-readable `artifact` of each [`Recommendation`](crate::model::Recommendation) kind.
//!
//! `tune`, `analyze` and `cost` write these; `emit --from` and the TUI accept flow read them.
//! One typed shape per kind, so producers and emitters cannot drift apart. The recommendation
//! JSON stores the artifact as `serde_json::Value`; use [`Artifact::from_value`] /
//! [`Artifact::to_value`] to move between the two.

use serde::{Deserialize, Serialize};

/// The platform document format a policy artifact carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyFormat {
    /// Kubernetes HorizontalPodAutoscaler autoscaling/v2.
    K8sHpa,
    /// KEDA ScaledObject (keda.sh/v1alpha1).
    KedaScaledObject,
    /// AWS Auto Scaling group with its scaling policies and scheduled actions.
    AwsAsg,
    /// AWS Application Auto Scaling (Lambda, Aurora, ECS ...).
    AwsAppscaling,
    /// GCP Compute Engine autoscaler resource.
    GcpAutoscaler,
    /// Azure Monitor autoscale setting resource.
    AzureAutoscale,
}

/// A scaling policy (kinds `policy`, `metric`, `schedule`): the platform's own document as JSON,
/// in the shape `engine::policy::parse_policy` reads, so every emitted policy can be replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyArtifact {
    pub format: PolicyFormat,
    pub document: serde_json::Value,
}

/// Container resource requests/limits (kind `sizing`), what a VPA or a manifest patch sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizingArtifact {
    pub containers: Vec<ContainerSize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerSize {
    pub name: String,
    pub cpu_request_millicores: u32,
    pub memory_request_mib: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_limit_millicores: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit_mib: Option<u32>,
}

/// A move to another instance type (kind `instance_type`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceTypeArtifact {
    /// `aws` | `gcp` | `azure`.
    pub cloud: String,
    pub region: String,
    pub current: String,
    pub recommended: String,
    pub instances: u32,
}

/// An on-demand/spot mix (kind `spot`), as an ASG mixed instances policy expresses it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpotArtifact {
    pub on_demand_base_capacity: u32,
    /// Percent of capacity above the base that is on-demand (0 = all spot above base).
    pub on_demand_percentage_above_base: u32,
    /// e.g. `price-capacity-optimized`.
    pub spot_allocation_strategy: String,
    /// Instance types to diversify across, in priority order.
    pub instance_types: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommitmentType {
    ReservedInstance,
    ComputeSavingsPlan,
    Ec2InstanceSavingsPlan,
    /// GCP committed-use discount.
    CommittedUse,
    /// Azure reservation.
    AzureReservation,
}

/// A reservation or savings plan to buy (kind `commitment`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitmentArtifact {
    #[serde(rename = "type")]
    pub commitment_type: CommitmentType,
    pub term_years: u32,
    /// `no-upfront` | `partial-upfront` | `all-upfront`.
    pub payment: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Instances to reserve (reserved instances).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// $/hour committed (savings plans).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hourly_commitment_usd: Option<f64>,
}

/// Serverless concurrency settings (kind `concurrency`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConcurrencyArtifact {
    pub function: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_concurrency: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_concurrency: Option<u32>,
    /// Provisioned concurrency by UTC hour of day (24 levels), applied as Application Auto
    /// Scaling scheduled actions (see engine::cost::lambda_schedule).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_by_hour_utc: Option<Vec<u32>>,
    /// The function's memory setting, MB (Lambda `MemorySize`, 128-10,240).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_size_mb: Option<u32>,
}

/// Any artifact, tagged by the recommendation kind it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "artifact", rename_all = "snake_case")]
pub enum Artifact {
    Policy(PolicyArtifact),
    Sizing(SizingArtifact),
    InstanceType(InstanceTypeArtifact),
    Spot(SpotArtifact),
    Commitment(CommitmentArtifact),
    Concurrency(ConcurrencyArtifact),
}

impl Artifact {
    pub fn to_value(&self) -> serde_json::Value {
        // Serialising these plain structs cannot fail (no maps with non-string keys).
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    pub fn from_value(value: &serde_json::Value) -> Result<Self, serde_json::Error> {
        Self::deserialize(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_round_trip_through_json() {
        let all = [
            Artifact::Policy(PolicyArtifact {
                format: PolicyFormat::K8sHpa,
                document: serde_json::json!({"kind": "HorizontalPodAutoscaler"}),
            }),
            Artifact::Spot(SpotArtifact {
                on_demand_base_capacity: 2,
                on_demand_percentage_above_base: 20,
                spot_allocation_strategy: "price-capacity-optimized".into(),
                instance_types: vec!["m5.large".into(), "m6i.large".into()],
            }),
            Artifact::Commitment(CommitmentArtifact {
                commitment_type: CommitmentType::ComputeSavingsPlan,
                term_years: 1,
                payment: "no-upfront".into(),
                instance_type: None,
                region: None,
                count: None,
                hourly_commitment_usd: Some(1.25),
            }),
        ];
        for a in all {
            let v = a.to_value();
            assert_eq!(Artifact::from_value(&v).ok(), Some(a));
        }
    }

    #[test]
    fn tag_names_the_kind() {
        let v = Artifact::Concurrency(ConcurrencyArtifact {
            function: "f".into(),
            reserved_concurrency: None,
            provisioned_concurrency: Some(5),
            provisioned_by_hour_utc: None,
            memory_size_mb: None,
        })
        .to_value();
        assert_eq!(v["artifact"], "concurrency");
        assert_eq!(v["provisioned_concurrency"], 5);
    }
}

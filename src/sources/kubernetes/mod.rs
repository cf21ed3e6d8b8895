//! Kubernetes source (cargo feature `kubernetes`): HorizontalPodAutoscalers with their live
//! `autoscaling/v2` spec as the group's current policy, status (replicas, current metrics,
//! conditions), target Deployments/StatefulSets (ready pods, container requests), VPAs and KEDA
//! ScaledObjects where installed, and Events (SuccessfulRescale as platform scaling events,
//! warnings as the group's latest warning). Watches, relisting after expiry.
//!
//! Groups are named as the Prometheus `kubernetes` preset names them (namespace, HPA name), so
//! the API's view and the metrics join on one [`crate::model::GroupId`].
//!
//! The readers and the join logic (config, objects, events, state) are plain code compiled
//! without the feature; only the client and the watch loop need kube.

#[cfg(feature = "kubernetes")]
mod client;
pub mod config;
pub mod events;
pub mod objects;
#[cfg(feature = "kubernetes")]
mod source;
pub mod state;

pub use config::KubernetesSourceConfig;
#[cfg(feature = "kubernetes")]
pub use source::spawn;

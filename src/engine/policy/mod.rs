//! Platform scaling policies, faithful to each platform's documented algorithm, and the
//! errors of reading them.

pub mod aws;
pub mod aws_appscaling;
pub mod aws_predictive;
pub mod aws_spec;
pub mod azure;
pub mod gcp;
pub mod hpa;
pub mod hpa_spec;
pub mod keda;
pub mod load_forecast;
pub mod quantity;
pub mod schedule;

/// What the platform sees of the group's instances at one decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodCounts {
    /// The current desired count (`spec.replicas`, an ASG's DesiredCapacity).
    pub spec_replicas: u32,
    pub ready: u32,
    /// Instances that exist but are not ready (starting or warming up).
    pub unready: u32,
}

/// What an autoscaler sees at one decision: the group's demand and any extra input series.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// Unix seconds.
    pub now: i64,
    pub pods: PodCounts,
    pub demand_rps: f64,
    /// Requests per second one ready instance serves at 100% CPU.
    pub capacity_per_replica_rps: f64,
    /// CPU of ready instances as measured (the simulator knows it); a replay leaves it None
    /// and CPU follows from demand and capacity, since recorded CPU belongs to the recorded
    /// replica count.
    pub measured_cpu_percent: Option<f64>,
    /// Extra input series at this moment, by name; NaN when missing.
    pub extra: &'a [(&'a str, f64)],
}

impl Observation<'_> {
    /// Mean CPU utilization of ready instances, percent (None with no ready instance).
    pub fn cpu_percent(&self) -> Option<f64> {
        if let Some(measured) = self.measured_cpu_percent {
            return measured.is_finite().then_some(measured);
        }
        (self.pods.ready > 0).then(|| {
            100.0 * self.demand_rps / (f64::from(self.pods.ready) * self.capacity_per_replica_rps)
        })
    }

    /// A named extra series' value, None when absent or missing at this moment.
    pub fn extra(&self, name: &str) -> Option<f64> {
        self.extra
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .filter(|v| v.is_finite())
    }
}

/// An autoscaler's answer at one decision.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub desired: u32,
    /// The arithmetic behind it, first line the headline ("cpu: ratio 1.43 -> 10").
    pub explanation: Vec<String>,
}

/// One platform's scaling algorithm, driven by the replay (and the simulator).
pub trait Autoscaler {
    /// One line, e.g. "HPA web: cpu 70%".
    fn describe(&self) -> String;
    /// (min, max) instances.
    fn bounds(&self) -> (u32, u32);
    /// Seconds between decisions (HPA sync 15 s; CloudWatch alarms 60 s).
    fn decision_period_seconds(&self) -> u32;
    /// Share of capacity the policy aims to use, for waste and time to scale (1 if none).
    fn target_utilization(&self) -> f64;
    /// Relative band inside which the policy does not act.
    fn tolerance(&self) -> f64;
    /// Extra input series the policy reads; a replay refuses to start without them.
    fn required_series(&self) -> Vec<String>;
    fn decide(&mut self, obs: &Observation) -> Decision;
    /// Whether decisions carry their explanation (on by default). A search that keeps only
    /// figures turns it off: wording every change costs more than the arithmetic.
    fn set_explain(&mut self, _explain: bool) {}
    /// Fast-forward: the last `decide` changed nothing, and the caller would now call `decide`
    /// again with the very same observation at every sync up to `now` (later). When the policy
    /// can prove each of those decides would change nothing too, it applies their combined
    /// effect on its state and answers true; the caller then skips them. False (the default):
    /// call `decide`.
    fn repeat_unchanged(&mut self, _now: i64) -> bool {
        false
    }
    /// Policies carried along in a shared replay that no longer follow it, one bit each (see
    /// `HpaController::share`); 0 for a policy that carries none.
    fn diverged_shadows(&self) -> u64 {
        0
    }
}

/// For tests: `size` ready instances (none starting) at `cpu` percent of 100 rps each.
#[cfg(test)]
pub(crate) fn steady_observation(now: i64, size: u32, cpu: f64) -> Observation<'static> {
    Observation {
        now,
        pods: PodCounts {
            spec_replicas: size,
            ready: size,
            unready: 0,
        },
        demand_rps: cpu * f64::from(size),
        capacity_per_replica_rps: 100.0,
        measured_cpu_percent: None,
        extra: &[],
    }
}

/// Metric names that mean "the group's request rate" in policies.
pub const REQUEST_RATE_ALIASES: &[&str] = &[
    "request_rate",
    "requests_per_second",
    "requests",
    "rps",
    "http_requests",
    "http_requests_per_second",
    "http_requests_total",
    "ALBRequestCountPerTarget",
];

pub fn is_request_rate(name: &str) -> bool {
    REQUEST_RATE_ALIASES.contains(&name)
}

/// A policy file that cannot be used, naming the field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    #[error("cannot parse policy: {message}")]
    Parse { message: String },
    #[error("{field}: {message}")]
    Field { field: String, message: String },
}

/// Reads a policy file in its platform's own format: an HPA manifest (YAML or JSON,
/// `kind: HorizontalPodAutoscaler`), a KEDA `ScaledObject`, an EC2 Auto Scaling group's
/// scaling configuration (JSON with `ScalingPolicies`), a GCP autoscaler resource (JSON with
/// `autoscalingPolicy`), an Azure autoscale setting (JSON with `properties.profiles`), or an
/// Application Auto Scaling target (JSON with `ScalableDimension`: Aurora replicas, Lambda
/// provisioned concurrency).
pub fn parse_policy(text: &str) -> Result<Box<dyn Autoscaler + Send>, PolicyError> {
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
        if json.pointer("/properties/profiles").is_some() {
            return Ok(Box::new(azure::AzureAutoscaler::from_json(text)?));
        }
        if json.get("ScalableDimension").is_some() {
            return Ok(Box::new(aws_appscaling::AppAutoscaler::from_json(text)?));
        }
        if json.get("autoscalingPolicy").is_some() {
            return Ok(Box::new(gcp::MigAutoscaler::from_json(text)?));
        }
        if json.get("ScalingPolicies").is_some() || json.get("MaxSize").is_some() {
            return Ok(Box::new(aws::AsgAutoscaler::from_json(text)?));
        }
    }
    let kind = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string));
    if kind.as_deref() == Some("ScaledObject") {
        return Ok(Box::new(keda::KedaAutoscaler::from_yaml(text)?));
    }
    let hpa = hpa_spec::HpaManifest::from_yaml(text)?.resolve()?;
    Ok(Box::new(hpa::HpaController::new(hpa)))
}

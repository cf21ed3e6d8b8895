//! Emitters: turn a [`Recommendation`]'s typed artifact into the files users commit and apply
//! (HPA, VPA, KEDA, AWS API requests and Terraform, GCP and Azure JSON and Terraform), each with
//! a header saying what produced it and from which inputs where the format has comments, plus a
//! rollout/rollback note per change. Pure: returns files; writing goes through [`writer`].

pub mod aws;
pub mod aws_terraform;
pub mod azure;
pub mod gcp;
pub mod hcl;
pub mod k8s;
pub mod keda;
pub mod rank;
pub mod rollout;
pub mod source;
pub mod writer;

use std::path::PathBuf;

use crate::artifact::{Artifact, PolicyFormat};
use crate::model::{GroupId, Recommendation};

/// What to emit. `prometheus-rules` is not here: the alert rule model belongs to watch/report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// Kubernetes HorizontalPodAutoscaler autoscaling/v2 (YAML).
    Hpa,
    /// Kubernetes VerticalPodAutoscaler autoscaling.k8s.io/v1 (YAML), from a sizing change.
    Vpa,
    /// KEDA ScaledObject keda.sh/v1alpha1 (YAML), from a KEDA policy or converted from an HPA.
    Keda,
    /// AWS API requests (JSON, as `aws ... --cli-input-json` takes them): PutScalingPolicy,
    /// PutMetricAlarm, PutScheduledUpdateGroupAction, UpdateAutoScalingGroup (mixed instances),
    /// PutWarmPool, Application Auto Scaling targets and policies.
    Aws,
    /// Terraform for the AWS changes.
    AwsTerraform,
    /// GCP Compute Engine autoscaler resource (JSON).
    Gcp,
    /// Terraform google_compute_autoscaler.
    GcpTerraform,
    /// Azure Monitor autoscale setting (ARM resource JSON).
    Azure,
    /// Terraform azurerm_monitor_autoscale_setting.
    AzureTerraform,
    /// Only the rollout and rollback note (Markdown).
    Rollout,
    /// Prometheus alerting rules from the configured alert rules (the same model the Alerts
    /// tab evaluates); takes no recommendation.
    PrometheusRules,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::Hpa => "hpa",
            Target::Vpa => "vpa",
            Target::Keda => "keda",
            Target::Aws => "aws",
            Target::AwsTerraform => "aws-terraform",
            Target::Gcp => "gcp",
            Target::GcpTerraform => "gcp-terraform",
            Target::Azure => "azure",
            Target::AzureTerraform => "azure-terraform",
            Target::Rollout => "rollout",
            Target::PrometheusRules => "prometheus-rules",
        }
    }

    /// Which artifacts the target can take at all (finer checks happen in the emitter).
    pub fn accepts(self, artifact: &Artifact) -> bool {
        use PolicyFormat as F;
        match (self, artifact) {
            (Target::Rollout, _) => true,
            (Target::Hpa, Artifact::Policy(p)) => p.format == F::K8sHpa,
            (Target::Keda, Artifact::Policy(p)) => {
                matches!(p.format, F::K8sHpa | F::KedaScaledObject)
            }
            (Target::Vpa, Artifact::Sizing(_)) => true,
            (Target::Aws | Target::AwsTerraform, Artifact::Policy(p)) => {
                matches!(p.format, F::AwsAsg | F::AwsAppscaling)
            }
            (Target::Aws | Target::AwsTerraform, Artifact::Spot(_) | Artifact::Concurrency(_)) => {
                true
            }
            (Target::Gcp | Target::GcpTerraform, Artifact::Policy(p)) => {
                p.format == F::GcpAutoscaler
            }
            (Target::Azure | Target::AzureTerraform, Artifact::Policy(p)) => {
                p.format == F::AzureAutoscale
            }
            _ => false,
        }
    }
}

/// A recommendation that cannot be emitted for a target, naming what is missing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("recommendation '{id}': {message}")]
pub struct EmitError {
    pub id: String,
    pub message: String,
}

/// One file an emitter produced, relative to the output directory.
#[derive(Debug, Clone, PartialEq)]
pub struct EmittedFile {
    pub relative: PathBuf,
    pub contents: String,
}

/// Where the inputs came from and what else is known about the group.
#[derive(Debug, Clone, Default)]
pub struct EmitContext {
    /// e.g. "recommendations.json" or "scenario ecommerce, group web".
    pub source: String,
    /// Every recommendation of the same input (a VPA looks for an HPA on its group here).
    pub companions: Vec<Recommendation>,
    /// Resources (cpu, memory) an autoscaler already scales the group on, known from elsewhere
    /// (the scenario's current policy).
    pub hpa_resources: Vec<(GroupId, String)>,
    /// Warm pool the group keeps (AWS), emitted with its scaling policies.
    pub warm_pool: Option<WarmPool>,
    /// Prometheus URL for KEDA's Prometheus triggers (else a default the header flags).
    pub prometheus_url: Option<String>,
    /// Launch template of an AWS group's mixed instances policy (else the group's name).
    pub launch_template: Option<String>,
}

/// An EC2 Auto Scaling warm pool (PutWarmPool).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WarmPool {
    pub min_size: u32,
}

/// Emits the files of one recommendation for `target`, plus its rollout note.
pub fn emit(
    target: Target,
    rec: &Recommendation,
    ctx: &EmitContext,
) -> Result<Vec<EmittedFile>, EmitError> {
    let fail = |message: String| EmitError {
        id: rec.id.clone(),
        message,
    };
    let artifact = Artifact::from_value(&rec.artifact).map_err(|e| {
        fail(format!(
            "artifact is not a valid {:?} artifact: {e}",
            rec.kind
        ))
    })?;
    if !target.accepts(&artifact) {
        return Err(fail(format!(
            "a {} cannot be expressed as target '{}' (it takes {})",
            describe(&artifact),
            target.as_str(),
            accepted(target)
        )));
    }
    let head = Header::new(target, rec, ctx);
    let dir = PathBuf::from(slug(&rec.id));
    let files: Result<Vec<EmittedFile>, String> = match (target, &artifact) {
        (Target::Rollout, _) => Ok(Vec::new()),
        (Target::Hpa, Artifact::Policy(p)) => k8s::hpa(&p.document, rec, &head).map(|f| vec![f]),
        (Target::Keda, Artifact::Policy(p)) => keda::keda(p, rec, ctx, &head).map(|f| vec![f]),
        (Target::Vpa, Artifact::Sizing(s)) => k8s::vpa(s, rec, ctx, &head).map(|f| vec![f]),
        (Target::Aws, a) => aws::emit(a, rec, ctx, &head),
        (Target::AwsTerraform, a) => aws_terraform::emit(a, rec, ctx, &head).map(|f| vec![f]),
        (Target::Gcp, Artifact::Policy(p)) => gcp::json(&p.document, rec).map(|f| vec![f]),
        (Target::GcpTerraform, Artifact::Policy(p)) => {
            gcp::terraform(&p.document, rec, &head).map(|f| vec![f])
        }
        (Target::Azure, Artifact::Policy(p)) => azure::json(&p.document, rec).map(|f| vec![f]),
        (Target::AzureTerraform, Artifact::Policy(p)) => {
            azure::terraform(&p.document, rec, &head).map(|f| vec![f])
        }
        _ => Err(format!("no emitter for target '{}'", target.as_str())),
    };
    let mut files = files.map_err(fail)?;
    for f in &mut files {
        f.relative = dir.join(&f.relative);
    }
    files.push(EmittedFile {
        relative: dir.join(rollout_name(target)),
        contents: rollout::note(target, rec, &artifact, ctx, &files),
    });
    Ok(files)
}

/// One note per recommendation and target (`rollout-hpa.md`, ...; `rollout.md` for the
/// rollout target), so emitting several targets does not overwrite one note with another.
pub fn rollout_name(target: Target) -> String {
    match target {
        Target::Rollout => "rollout.md".into(),
        t => format!("rollout-{}.md", t.as_str()),
    }
}

/// What produced a file and from what, written as comment lines where the format allows.
#[derive(Debug, Clone)]
pub struct Header {
    pub lines: Vec<String>,
}

impl Header {
    pub fn new(target: Target, rec: &Recommendation, ctx: &EmitContext) -> Self {
        let mut lines = vec![
            format!(
                "Produced by scaletop {} (`scaletop emit --target {}`).",
                env!("CARGO_PKG_VERSION"),
                target.as_str()
            ),
            format!(
                "From: {}; recommendation '{}' ({}).",
                ctx.source, rec.id, rec.group
            ),
            format!("Change: {}", rec.title),
        ];
        if let Some(s) = rec.saving_usd_month {
            lines.push(format!(
                "Expected saving: ${s:.0}/month, risk {:?}.",
                rec.risk
            ));
        }
        Self { lines }
    }

    /// The header as `prefix`-commented lines.
    pub fn comment(&self, prefix: &str) -> String {
        self.lines
            .iter()
            .map(|l| format!("{prefix} {l}\n"))
            .collect()
    }
}

/// A file-system-safe name.
pub fn slug(text: &str) -> String {
    let s: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches(|c| c == '-' || c == '.').to_string();
    if s.is_empty() {
        "recommendation".into()
    } else {
        s
    }
}

pub fn describe(a: &Artifact) -> String {
    match a {
        Artifact::Policy(p) => format!("{} policy", format_name(p.format)),
        Artifact::Sizing(_) => "sizing change".into(),
        Artifact::InstanceType(_) => "instance-type change".into(),
        Artifact::Spot(_) => "spot mix".into(),
        Artifact::Commitment(_) => "commitment purchase".into(),
        Artifact::Concurrency(_) => "concurrency setting".into(),
    }
}

pub fn format_name(f: PolicyFormat) -> &'static str {
    match f {
        PolicyFormat::K8sHpa => "Kubernetes HPA",
        PolicyFormat::KedaScaledObject => "KEDA ScaledObject",
        PolicyFormat::AwsAsg => "EC2 Auto Scaling",
        PolicyFormat::AwsAppscaling => "Application Auto Scaling",
        PolicyFormat::GcpAutoscaler => "GCP autoscaler",
        PolicyFormat::AzureAutoscale => "Azure autoscale",
    }
}

fn accepted(target: Target) -> &'static str {
    match target {
        Target::Hpa => "a Kubernetes HPA policy",
        Target::Keda => "a KEDA ScaledObject or Kubernetes HPA policy",
        Target::Vpa => "a sizing change",
        Target::Aws | Target::AwsTerraform => {
            "an EC2 Auto Scaling or Application Auto Scaling policy, a spot mix or a concurrency setting"
        }
        Target::Gcp | Target::GcpTerraform => "a GCP autoscaler policy",
        Target::Azure | Target::AzureTerraform => "an Azure autoscale policy",
        Target::Rollout => "any recommendation",
        Target::PrometheusRules => "no recommendation: it writes the configured alert rules",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_plain_names() {
        assert_eq!(slug("web/HPA cpu:70"), "web-hpa-cpu-70");
        assert_eq!(slug("../.."), "recommendation");
    }
}

//! The rollout and rollback note written beside every emitted change (Markdown): what changes,
//! the evidence, a shadow/forecast-only step where the platform has one, a canary, what to
//! watch and how to revert.

use std::fmt::Write;

use super::{EmitContext, EmittedFile, Target};
use crate::artifact::{Artifact, PolicyFormat};
use crate::model::Recommendation;

fn file_list(files: &[EmittedFile]) -> Vec<String> {
    files
        .iter()
        .map(|f| {
            f.relative
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default()
        })
        .collect()
}

fn find<'a>(files: &'a [String], suffix: &str) -> Option<&'a String> {
    files.iter().find(|f| f.ends_with(suffix))
}

/// Shadow or forecast-only first, where the platform has it.
fn shadow_step(artifact: &Artifact) -> String {
    match artifact {
        Artifact::Policy(p) => match p.format {
            PolicyFormat::AwsAsg => {
                if p.document.to_string().contains("PredictiveScaling") {
                    "Predictive scaling: put the policy with `\"Mode\": \"ForecastOnly\"` first and compare `aws autoscaling get-predictive-scaling-forecast` with the actual load for at least 24 hours (AWS needs 24 h of history to forecast) before switching to ForecastAndScale.".into()
                } else {
                    "EC2 Auto Scaling has no dry-run for target tracking: replay the policy first with `scaletop simulate --policy asg-scaling.json --input <history>` and compare with the current policy.".into()
                }
            }
            PolicyFormat::GcpAutoscaler => "GCP: apply with `\"mode\": \"ONLY_SCALE_OUT\"` first (scale-in stays off) and, for predictive autoscaling, watch the predicted size in the console before relying on it.".into(),
            PolicyFormat::AzureAutoscale => "Azure: for predictive autoscale set `predictiveAutoscalePolicy.scaleMode` to `ForecastOnly` first and compare the forecast chart with actual CPU before `Enabled`.".into(),
            PolicyFormat::K8sHpa | PolicyFormat::KedaScaledObject => "Kubernetes has no dry-run for an HPA's decisions: `kubectl diff -f` the file, and replay it first with `scaletop simulate --policy <file> --input <history>`.".into(),
            PolicyFormat::AwsAppscaling => "Application Auto Scaling has no dry-run: replay the target first with `scaletop simulate --policy appscaling-target.json --input <history>`.".into(),
        },
        Artifact::Sizing(_) => "Start the VPA with `updateMode: \"Off\"` (recommendation only) and compare `kubectl describe vpa` with these requests for a few days before `Initial`.".into(),
        Artifact::Spot(_) => "Start with an on-demand base that covers the minimum capacity, and keep CapacityRebalance on; watch interruption notices before lowering the on-demand share.".into(),
        Artifact::Concurrency(c) if c.memory_size_mb.is_some() => "Publish the new memory setting as a new version and shift a small share of traffic to it (weighted alias); compare its Duration, Max Memory Used and init duration with the old version's before moving the rest.".into(),
        Artifact::Concurrency(_) => "Set provisioned concurrency on a new alias or version first and shift a small share of traffic to it (weighted alias).".into(),
        Artifact::InstanceType(_) | Artifact::Commitment(_) => "No platform dry-run: validate with the Cost tab's projection at the same demand before committing.".into(),
    }
}

fn apply_steps(target: Target, files: &[String], dir: &str) -> Vec<String> {
    let path = |f: &String| format!("{dir}/{f}");
    match target {
        Target::Hpa | Target::Vpa | Target::Keda => files
            .iter()
            .filter(|f| f.ends_with(".yaml"))
            .map(|f| format!("`kubectl apply -f {}`", path(f)))
            .collect(),
        Target::Aws => vec![format!("review the request files under `{dir}/aws/`, then `sh {dir}/aws/apply.sh`")],
        Target::AwsTerraform | Target::GcpTerraform | Target::AzureTerraform => files
            .iter()
            .filter(|f| f.ends_with(".tf"))
            .map(|f| format!("copy `{}` into your Terraform module, then `terraform plan` and `terraform apply`", path(f)))
            .collect(),
        Target::Gcp => find(files, ".json")
            .map(|f| vec![format!("set `target` to the managed instance group's URL, then `curl -X POST -H \"Authorization: Bearer $(gcloud auth print-access-token)\" -H 'Content-Type: application/json' https://compute.googleapis.com/compute/v1/projects/PROJECT/zones/ZONE/autoscalers -d @{}` (PATCH .../autoscalers?autoscaler=NAME to update)", path(f))])
            .unwrap_or_default(),
        Target::Azure => find(files, ".json")
            .map(|f| vec![format!("set `properties.targetResourceUri`, then `az rest --method put --uri \"/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Insights/autoscalesettings/NAME?api-version={}\" --body @{}`", super::azure::API_VERSION, path(f))])
            .unwrap_or_default(),
        Target::Rollout => vec!["apply the change with the target of its platform (`scaletop emit --target ...`)".into()],
        Target::PrometheusRules => files
            .iter()
            .map(|f| format!("`promtool check rules {}`, then add it to `rule_files` in prometheus.yml and reload Prometheus", path(f)))
            .collect(),
    }
}

fn watch_list(artifact: &Artifact) -> Vec<&'static str> {
    let mut w = vec![
        "p95 latency against the SLO, and dropped requests (Overview tab)",
        "scaling events and thrash (Events tab): a scale one way undone within 10 minutes",
        "time to scale and minutes at max capacity",
        "cost per hour against the projected saving (Cost tab)",
    ];
    match artifact {
        Artifact::Spot(_) => w.push("spot interruptions and capacity rebalance events per hour"),
        Artifact::Sizing(_) => w.push("OOM kills and CPU throttling of the resized containers"),
        Artifact::Concurrency(_) => w.push("throttles and cold starts of the function"),
        _ => {}
    }
    w
}

fn rollback(target: Target, artifact: &Artifact, dir: &str) -> String {
    let bak = format!(
        "scaletop kept the previous version of each file it replaced in `{dir}` as `<file>.bak`."
    );
    let how = match (target, artifact) {
        (Target::Hpa | Target::Keda | Target::Vpa, _) => "`kubectl apply -f <file>.bak` (or, for a new object, `kubectl delete -f <file>`). Deleting a ScaledObject or VPA leaves the workload at its current size.".to_string(),
        (Target::AwsTerraform | Target::GcpTerraform | Target::AzureTerraform, _) => "revert the Terraform change in version control and `terraform apply`.".into(),
        (Target::Aws, Artifact::Spot(_)) => "`aws autoscaling update-auto-scaling-group` with `OnDemandPercentageAboveBaseCapacity` 100 moves new capacity back to on-demand; existing spot instances go as they are replaced.".into(),
        (Target::Aws, _) => "re-run the previous requests (`<file>.bak`), or `aws autoscaling delete-policy` / `delete-scheduled-action` / `aws cloudwatch delete-alarms` for ones this change added.".into(),
        (Target::Gcp, _) | (Target::Azure, _) => "PUT the previous document (`<file>.bak`) back the same way.".into(),
        (Target::Rollout, _) => "undo the change with the platform's own tool.".into(),
        (Target::PrometheusRules, _) => "put the previous rule file (`<file>.bak`) back and reload Prometheus.".into(),
    };
    format!("{how} {bak}")
}

/// The Markdown note for one recommendation and the files emitted for it.
pub fn note(
    target: Target,
    rec: &Recommendation,
    artifact: &Artifact,
    ctx: &EmitContext,
    files: &[EmittedFile],
) -> String {
    let names = file_list(files);
    let dir = super::slug(&rec.id);
    let mut s = String::new();
    let _ = writeln!(s, "# Rollout: {}\n", rec.title);
    let _ = writeln!(
        s,
        "Produced by scaletop {} (`scaletop emit --target {}`) from {}; recommendation `{}`.\n",
        env!("CARGO_PKG_VERSION"),
        target.as_str(),
        ctx.source,
        rec.id
    );
    let _ = writeln!(s, "- Group: `{}`", rec.group);
    let _ = writeln!(s, "- Kind: {:?}, risk {:?}", rec.kind, rec.risk);
    match rec.saving_usd_month {
        Some(v) => {
            let _ = writeln!(
                s,
                "- Expected saving: ${v:.0}/month ({} -> ${:.0} risk-adjusted)",
                super::rank::RULE,
                super::rank::adjusted_saving(rec)
            );
        }
        None => {
            let _ = writeln!(s, "- Expected saving: not estimated");
        }
    }
    if !names.is_empty() {
        let _ = writeln!(
            s,
            "- Files: {}",
            names
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if !rec.evidence.is_empty() {
        let _ = writeln!(s, "\n## Evidence\n");
        for e in &rec.evidence {
            let _ = writeln!(s, "- {e}");
        }
    }
    let _ = writeln!(s, "\n## 1. Shadow first\n\n{}", shadow_step(artifact));
    let _ = writeln!(s, "\n## 2. Canary\n\nApply to one group first (one cluster, region or environment) and leave it through at least one full daily cycle, peak included, before the rest.");
    let _ = writeln!(s, "\n## 3. Apply\n");
    for step in apply_steps(target, &names, &dir) {
        let _ = writeln!(s, "- {step}");
    }
    let _ = writeln!(
        s,
        "\nscaletop does not apply changes to a live cluster or cloud itself."
    );
    let _ = writeln!(s, "\n## 4. Watch (first 24 hours)\n");
    for w in watch_list(artifact) {
        let _ = writeln!(s, "- {w}");
    }
    let _ = writeln!(s, "\nRoll back if p95 latency stays above the SLO for 10 minutes, requests are dropped, or thrash events appear that the old policy did not have.");
    let _ = writeln!(s, "\n## Rollback\n\n{}", rollback(target, artifact, &dir));
    s
}

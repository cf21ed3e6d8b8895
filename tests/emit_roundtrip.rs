//! Every emitted policy reads back through scaletop's own policy parser and replays exactly
//! like the document it came from: emit -> parse_policy -> same replay summary and the same
//! scaling events, over two days of demand with a spike. An HPA converted to KEDA replays like
//! the HPA.

mod emit_common;

use scaletop::artifact::{Artifact, PolicyFormat};
use scaletop::emit::{emit, source::scenario_group, EmitContext, Target};
use scaletop::engine::policy::{parse_policy, Autoscaler};
use scaletop::engine::replay::{replay, ExtraSeries, Replay, ReplayInput};
use scaletop::model::{CapacityModel, GroupId, Platform, Recommendation, Slo};

const STEP_SECONDS: i64 = 60;

fn demand() -> Vec<f64> {
    (0..2 * 1440)
        .map(|i| {
            let day = (i % 1440) as f64 / 1440.0;
            let spike = if (1800..1830).contains(&i) {
                900.0
            } else {
                0.0
            };
            400.0 * (1.0 + 0.6 * (2.0 * std::f64::consts::PI * day).sin()) + spike
        })
        .collect()
}

fn capacity() -> CapacityModel {
    CapacityModel {
        capacity_per_replica_rps: 50.0,
        concurrency_per_replica: 8,
        startup_seconds: 60,
        warmup_seconds: 30,
        min_replicas: 1,
        max_replicas: 400,
        warm_pool_size: 0,
        warm_pool_startup_seconds: 0,
        usd_per_replica_hour: 0.1,
        timeout_ms: 10_000.0,
    }
}

/// Extra input series shaped like demand, for every series the policy reads.
fn extras(policy: &dyn Autoscaler, demand: &[f64]) -> Vec<(String, Vec<f64>)> {
    policy
        .required_series()
        .into_iter()
        .map(|name| {
            let values = demand
                .iter()
                .map(|d| match name.as_str() {
                    n if n.ends_with("_utilization") => 30.0 + d / 20.0,
                    "concurrency" => (d / 1000.0).min(1.0),
                    _ => d * 0.8,
                })
                .collect();
            (name, values)
        })
        .collect()
}

fn run(mut policy: Box<dyn Autoscaler + Send>, what: &str) -> Replay {
    let demand = demand();
    let extra = extras(policy.as_ref(), &demand);
    let input = ReplayInput {
        start: 1_767_225_600,
        step_seconds: STEP_SECONDS,
        demand_rps: &demand,
        extra: extra
            .iter()
            .map(|(n, v)| ExtraSeries {
                name: n.clone(),
                values: v,
            })
            .collect(),
    };
    replay(
        policy.as_mut(),
        &input,
        &capacity(),
        &Slo::default(),
        None,
        &GroupId::new(Platform::Sim, "test", what),
    )
    .unwrap_or_else(|e| panic!("{what}: {e}"))
}

fn same_replay(a: &Replay, b: &Replay, what: &str) {
    let sa = serde_json::to_value(&a.summary).expect("summary");
    let sb = serde_json::to_value(&b.summary).expect("summary");
    assert_eq!(sa, sb, "{what}: replay summaries differ");
    // A replay where nothing scales would prove little.
    assert!(
        a.events.len() >= 2,
        "{what}: only {} scaling events",
        a.events.len()
    );
    let events = |r: &Replay| -> Vec<(i64, u32, u32)> {
        r.events
            .iter()
            .map(|e| {
                (
                    e.event.at.timestamp(),
                    e.event.from_replicas,
                    e.event.to_replicas,
                )
            })
            .collect()
    };
    assert_eq!(events(a), events(b), "{what}: scaling events differ");
}

/// An HPA converted to KEDA gains the cron triggers of its group's schedule recommendations;
/// without them it must replay exactly like the HPA.
fn without_cron(text: &str) -> String {
    let Ok(mut doc) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text) else {
        return text.to_string();
    };
    if doc["kind"].as_str() != Some("ScaledObject") {
        return text.to_string();
    }
    if let Some(triggers) = doc["spec"]["triggers"].as_sequence_mut() {
        triggers.retain(|t| t["type"].as_str() != Some("cron"));
    }
    serde_yaml_ng::to_string(&doc).unwrap_or_default()
}

/// The file of an emitted set that parse_policy reads, by the policy's format.
fn policy_file(format: PolicyFormat, target: Target) -> &'static str {
    match (format, target) {
        (_, Target::Keda) => "keda-scaledobject.yaml",
        (PolicyFormat::K8sHpa, _) => "hpa.yaml",
        (PolicyFormat::KedaScaledObject, _) => "keda-scaledobject.yaml",
        (PolicyFormat::AwsAsg, _) => "asg-scaling.json",
        (PolicyFormat::AwsAppscaling, _) => "appscaling-target.json",
        (PolicyFormat::GcpAutoscaler, _) => "gcp-autoscaler.json",
        (PolicyFormat::AzureAutoscale, _) => "azure-autoscale.json",
    }
}

fn native_target(format: PolicyFormat) -> Target {
    match format {
        PolicyFormat::K8sHpa => Target::Hpa,
        PolicyFormat::KedaScaledObject => Target::Keda,
        PolicyFormat::AwsAsg | PolicyFormat::AwsAppscaling => Target::Aws,
        PolicyFormat::GcpAutoscaler => Target::Gcp,
        PolicyFormat::AzureAutoscale => Target::Azure,
    }
}

/// Emits `rec` for `target`, reads the policy file back and checks it replays like the source.
fn round_trip(rec: &Recommendation, target: Target, ctx: &EmitContext) -> usize {
    let Ok(Artifact::Policy(p)) = Artifact::from_value(&rec.artifact) else {
        return 0;
    };
    let source = parse_policy(&p.document.to_string())
        .unwrap_or_else(|e| panic!("{}: source document: {e}", rec.id));
    let files = emit(target, rec, ctx).unwrap_or_else(|e| panic!("{e}"));
    let name = policy_file(p.format, target);
    let file = files
        .iter()
        .find(|f| f.relative.file_name().is_some_and(|n| n == name))
        .unwrap_or_else(|| panic!("{}: no {name} emitted", rec.id));
    let converted = p.format == PolicyFormat::K8sHpa && target == Target::Keda;
    let text = if converted {
        without_cron(&file.contents)
    } else {
        file.contents.clone()
    };
    let emitted = parse_policy(&text)
        .unwrap_or_else(|e| panic!("{}: emitted {name} does not parse: {e}", rec.id));
    let what = format!("{} as {}", rec.id, target.as_str());
    same_replay(&run(source, &what), &run(emitted, &what), &what);
    1
}

#[test]
fn every_fixture_policy_replays_the_same_after_emit() {
    let ctx = emit_common::context();
    let mut checked = 0;
    for rec in emit_common::recommendations() {
        if let Ok(Artifact::Policy(p)) = Artifact::from_value(&rec.artifact) {
            checked += round_trip(&rec, native_target(p.format), &ctx);
        }
    }
    // Two HPAs, KEDA, the KEDA weekday schedule (cron triggers only), the ASG (target tracking +
    // step + predictive + schedules), Aurora, GCP, Azure.
    assert_eq!(checked, 8);
}

#[test]
fn hpa_converted_to_keda_replays_like_the_hpa() {
    let ctx = emit_common::context();
    let mut checked = 0;
    for rec in emit_common::recommendations() {
        if let Ok(Artifact::Policy(p)) = Artifact::from_value(&rec.artifact) {
            if p.format == PolicyFormat::K8sHpa {
                checked += round_trip(&rec, Target::Keda, &ctx);
            }
        }
    }
    assert_eq!(checked, 2);
}

#[test]
fn scenario_policies_replay_the_same_after_emit() {
    for (scenario, group, target) in [
        ("game", "lobby-api", Target::Hpa),
        ("ecommerce", "storefront", Target::Aws),
        ("microservices", "image-cache", Target::Hpa),
    ] {
        let s = scaletop::sim::Scenario::load(scenario).expect("scenario");
        let (rec, ctx) = scenario_group(&s, group).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(round_trip(&rec, target, &ctx), 1, "{scenario}/{group}");
    }
}

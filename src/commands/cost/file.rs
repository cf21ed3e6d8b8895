//! A series file as cost inputs: each group's provisioned replicas (replicas_desired, else
//! replicas_ready) priced as --instance-type in --region; request rate, CPU and memory where
//! the file has them. No policy is known, so the capacity is what was observed and the SLO
//! floor for spot is the replicas that keep CPU at or below 90%. With `--instance-type
//! lambda-<MB>mb` each group is a Lambda function of that memory: its invocations per second
//! (request_rate) and concurrency are billed, and Max Memory Used / cpu_total_time / duration,
//! where the file has them, size its memory.

use std::collections::BTreeMap;
use std::path::Path;

use super::{usage, CostArgs};
use crate::cli::CliError;
use crate::engine::cost::plan::{Billing, ClusterSpec, GroupData, LambdaMetrics};
use crate::input::{self, Series};
use crate::pricing::{Arch, Catalog};

/// CPU utilization a fleet can carry and still meet its latency objective (assumed).
const CARRY_CPU_PERCENT: f64 = 90.0;

fn aligned(s: Option<&&Series>, start: i64, step: i64, n: usize) -> Vec<f64> {
    let Some(s) = s else {
        return vec![f64::NAN; n];
    };
    let (s0, v) = s.regular(step);
    let offset = (s0 - start) / step;
    (0..n as i64)
        .map(|i| {
            usize::try_from(i - offset)
                .ok()
                .and_then(|j| v.get(j).copied())
                .unwrap_or(f64::NAN)
        })
        .collect()
}

pub fn groups(
    path: &Path,
    args: &CostArgs,
    catalog: &Catalog,
    assumptions: &mut Vec<String>,
) -> Result<(Vec<GroupData>, Option<ClusterSpec>), CliError> {
    let series = input::read_file(path).map_err(usage)?;
    let file = path.display();
    let instance_type = args.instance_type.clone().ok_or_else(|| {
        usage(format!(
            "{file}: give --instance-type (e.g. m5.xlarge, or lambda-512mb for Lambda functions) and --region: a series file does not say what the replicas run on"
        ))
    })?;
    if instance_type.starts_with("lambda-") {
        use crate::engine::serverless::{MAX_MEMORY_MB, MIN_MEMORY_MB};
        let memory_mb = super::scenario::lambda_memory_mb(&instance_type)
            .filter(|mb| (f64::from(MIN_MEMORY_MB)..=f64::from(MAX_MEMORY_MB)).contains(mb))
            .ok_or_else(|| {
                usage(format!(
                    "--instance-type {instance_type}: a Lambda function is lambda-<MB>mb with {MIN_MEMORY_MB} to {MAX_MEMORY_MB} MB (e.g. lambda-512mb)"
                ))
            })?;
        return lambda_groups(&series, &file.to_string(), memory_mb, assumptions)
            .map(|g| (g, None));
    }
    let region = args
        .region
        .clone()
        .ok_or_else(|| usage(format!("{file}: give --region (e.g. us-east-1)")))?;
    catalog
        .on_demand(&instance_type, &region)
        .map_err(|e| usage(format!("--instance-type/--region: {e}")))?;
    let mut by_group: BTreeMap<&str, BTreeMap<&str, &Series>> = BTreeMap::new();
    for s in &series {
        by_group
            .entry(s.group.as_str())
            .or_default()
            .insert(s.metric.as_str(), s);
    }
    let mut out = Vec::new();
    for (name, m) in &by_group {
        let Some(replicas) = m
            .get("replicas_desired")
            .or_else(|| m.get("replicas_ready"))
        else {
            assumptions.push(format!(
                "{name}: no replicas_desired/replicas_ready series: not costed"
            ));
            continue;
        };
        let step = replicas
            .step_seconds()
            .ok_or_else(|| usage(format!("{file}: {name}: need at least two replica points")))?;
        let (start, capacity) = replicas.regular(step);
        let n = capacity.len();
        let cpu = aligned(m.get("cpu_utilization"), start, step, n);
        let required = capacity
            .iter()
            .zip(&cpu)
            .map(|(r, c)| {
                if c.is_finite() {
                    (r * c / CARRY_CPU_PERCENT).ceil()
                } else {
                    *r
                }
            })
            .collect();
        out.push(GroupData {
            name: name.to_string(),
            labels: BTreeMap::new(),
            billing: Billing::Instances {
                instance_type: instance_type.clone(),
                region: region.clone(),
            },
            start_unix: start,
            step_seconds: step,
            demand: aligned(m.get("request_rate"), start, step, n),
            capacity,
            capacity_source: format!("observed {}", replicas.metric),
            required,
            needed_at_target: Vec::new(),
            min_replicas: 0.0,
            cpu_utilization: cpu,
            memory_utilization: aligned(m.get("memory_utilization"), start, step, n),
            network_mbps: aligned(m.get("network_mbps"), start, step, n),
            concurrency: Vec::new(),
            provisioned_concurrency: 0.0,
            stateless: true,
            startup_seconds: 120,
            spot_now: None,
            lambda_metrics: Default::default(),
        });
    }
    if out.is_empty() {
        return Err(usage(format!(
            "{file}: no group has a replicas_desired or replicas_ready series to cost"
        )));
    }
    assumptions.push(format!(
        "{file}: replicas priced as {instance_type} in {region}; stateless, 120 s startup assumed; the SLO is taken as CPU <= {CARRY_CPU_PERCENT}%"
    ));
    Ok((out, None))
}

/// Every group with a concurrency series as one x86 Lambda function of `memory_mb`.
fn lambda_groups(
    series: &[Series],
    file: &str,
    memory_mb: f64,
    assumptions: &mut Vec<String>,
) -> Result<Vec<GroupData>, CliError> {
    let mut by_group: BTreeMap<&str, BTreeMap<&str, &Series>> = BTreeMap::new();
    for s in series {
        by_group
            .entry(s.group.as_str())
            .or_default()
            .insert(s.metric.as_str(), s);
    }
    let mut out = Vec::new();
    for (name, m) in &by_group {
        let Some(concurrency) = m.get("concurrency") else {
            assumptions.push(format!("{name}: no concurrency series: not costed"));
            continue;
        };
        let Some(invocations) = m.get("request_rate") else {
            assumptions.push(format!(
                "{name}: no request_rate (invocations per second) series: not costed"
            ));
            continue;
        };
        let step = concurrency.step_seconds().ok_or_else(|| {
            usage(format!(
                "{file}: {name}: need at least two concurrency points"
            ))
        })?;
        let (start, capacity) = concurrency.regular(step);
        let n = capacity.len();
        let at = |metric: &str| aligned(m.get(metric), start, step, n);
        out.push(GroupData {
            name: name.to_string(),
            labels: BTreeMap::new(),
            billing: Billing::Lambda {
                memory_mb,
                functions: 1,
                arch: Arch::X86_64,
            },
            start_unix: start,
            step_seconds: step,
            demand: aligned(Some(invocations), start, step, n),
            capacity: capacity.clone(),
            capacity_source: "observed concurrency".into(),
            required: Vec::new(),
            needed_at_target: Vec::new(),
            min_replicas: 0.0,
            cpu_utilization: vec![f64::NAN; n],
            memory_utilization: vec![f64::NAN; n],
            network_mbps: vec![f64::NAN; n],
            concurrency: capacity,
            provisioned_concurrency: 0.0,
            stateless: true,
            startup_seconds: 1,
            spot_now: None,
            lambda_metrics: LambdaMetrics {
                max_memory_used_mb: at("max_memory_used_mb"),
                cpu_total_time_ms: at("cpu_total_time"),
                duration_ms: at("duration"),
            },
        });
    }
    if out.is_empty() {
        return Err(usage(format!(
            "{file}: no group has both a concurrency and a request_rate series to cost as Lambda"
        )));
    }
    assumptions.push(format!(
        "each group of {file} is one x86_64 Lambda function of {memory_mb} MB (--instance-type)"
    ));
    Ok(out)
}

//! `scaletop simulate`: replay a policy file over a demand series and report what would have
//! happened.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::cli::{CliError, Format};
use crate::duration::parse_duration;
use crate::engine::loadtest::{self, LoadTest, Verdict, LOAD_TEST_STEP_SECONDS};
use crate::engine::policy::parse_policy;
use crate::engine::replay::{self, ExtraSeries, Replay, ReplayInput};
use crate::input::{self, Series};
use crate::model::{CapacityModel, Slo};

mod serverless;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Demand series: CSV `timestamp,value`, long-form CSV `timestamp,group,metric,value`, or
    /// a Prometheus query_range JSON response.
    #[arg(long, required_unless_present = "test")]
    pub input: Option<PathBuf>,
    /// Run a load test instead of replaying history: ramp (to 10x), spike (to
    /// --spike-factor x) or scale-down (10x then base). Exit 1 when a check fails.
    #[arg(long)]
    pub test: Option<LoadTest>,
    /// Base load of the test, requests per second (default: median of --input).
    #[arg(long)]
    pub base_rps: Option<f64>,
    /// Spike height for --test spike, as a multiple of the base.
    #[arg(long, default_value_t = 100.0)]
    pub spike_factor: f64,
    /// Longest acceptable time to scale for --test, e.g. 5m.
    #[arg(long, default_value = "5m")]
    pub max_time_to_scale: String,
    /// Policy file: a Kubernetes HorizontalPodAutoscaler (autoscaling/v2) or KEDA ScaledObject
    /// manifest, an EC2 Auto Scaling group's scaling configuration (JSON: MinSize, MaxSize,
    /// ScalingPolicies as in PutScalingPolicy, Alarms as in PutMetricAlarm), an Application
    /// Auto Scaling target (Aurora replicas; Lambda provisioned concurrency replays the
    /// function's concurrency, see --lambda-duration-ms), a GCP autoscaler or an Azure
    /// autoscale setting.
    #[arg(long, required_unless_present_any = ["provisioned", "lambda_duration_ms"])]
    pub policy: Option<PathBuf>,
    /// Replay a Lambda function with this fixed provisioned concurrency (0 = on demand only)
    /// instead of a policy file.
    #[arg(long, requires = "lambda_duration_ms")]
    pub provisioned: Option<u32>,
    /// Lambda: mean duration of one invocation in milliseconds (makes the replay a function
    /// replay: concurrency, throttles, cold starts).
    #[arg(long)]
    pub lambda_duration_ms: Option<f64>,
    /// Lambda: memory size in MB.
    #[arg(long, default_value_t = 1024)]
    pub lambda_memory_mb: u32,
    /// Lambda: init duration a cold start adds, in milliseconds.
    #[arg(long, default_value_t = 400.0)]
    pub lambda_cold_start_ms: f64,
    /// Lambda: concurrency limit (reserved concurrency, or the account's 1,000).
    #[arg(long, default_value_t = 1000)]
    pub concurrency_limit: u32,
    /// Group to replay when the input holds several.
    #[arg(long)]
    pub group: Option<String>,
    /// Metric of the input that is demand (requests per second).
    #[arg(long, default_value = "request_rate")]
    pub metric: String,
    /// Requests per second one ready replica serves at 100% CPU of its request (required for
    /// instance groups).
    #[arg(long, value_name = "RPS")]
    pub capacity_per_replica: Option<f64>,
    /// Concurrent requests one replica works on (M/M/c servers per replica).
    #[arg(long, default_value_t = 8)]
    pub concurrency: u32,
    /// Time from scale-up decision to ready, e.g. 45s or 2m.
    #[arg(long, default_value = "60s")]
    pub startup: String,
    /// Price of one replica-hour in USD.
    #[arg(long, default_value_t = 0.0)]
    pub price: f64,
    /// Requests slower than this time out and count as dropped.
    #[arg(long, default_value = "10s")]
    pub timeout: String,
    /// Replicas at the start (default: what the first demand needs at the target).
    #[arg(long)]
    pub initial_replicas: Option<u32>,
    /// p95 latency objective in milliseconds (SLA-violation minutes count against it).
    #[arg(long, default_value_t = 200.0)]
    pub slo_p95_ms: f64,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Serialize)]
struct Output<'a> {
    schema: &'static str,
    policy: &'a str,
    group: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    verdict: Option<&'a Verdict>,
    #[serde(flatten)]
    replay: &'a Replay,
}

/// The demand to replay and the other series of its group, on one grid.
pub(crate) struct Demand {
    pub group: String,
    pub start: i64,
    pub step: i64,
    pub values: Vec<f64>,
    pub extra: Vec<(String, Vec<f64>)>,
}

/// Reads the demand series (`metric` of `group`) and its group's other series from a file.
pub(crate) fn demand_from_file(
    path: &std::path::Path,
    group: Option<&str>,
    metric: &str,
) -> Result<Demand, CliError> {
    let series = input::read_file(path).map_err(usage)?;
    let (demand, extra) = select(&series, group, metric)?;
    let step = demand
        .step_seconds()
        .ok_or_else(|| usage(format!("{}: need at least two points", path.display())))?;
    let (start, values) = demand.regular(step);
    let extra = extra
        .iter()
        .map(|s| {
            let (s0, v) = s.regular(step);
            // Align to the demand's grid; outside the series is missing.
            let offset = (s0 - start) / step;
            let aligned = (0..values.len() as i64)
                .map(|i| {
                    usize::try_from(i - offset)
                        .ok()
                        .and_then(|j| v.get(j).copied())
                        .unwrap_or(f64::NAN)
                })
                .collect();
            (s.metric.clone(), aligned)
        })
        .collect();
    Ok(Demand {
        group: demand.group.clone(),
        start,
        step,
        values,
        extra,
    })
}

fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied()
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::usage(e.to_string())
}

/// Picks the demand series and the other metrics of its group.
fn select<'a>(
    series: &'a [Series],
    group: Option<&str>,
    metric: &str,
) -> Result<(&'a Series, Vec<&'a Series>), CliError> {
    let single = series.len() == 1 && series[0].metric == "value";
    if single {
        return Ok((&series[0], Vec::new()));
    }
    let groups: std::collections::BTreeSet<&str> =
        series.iter().map(|s| s.group.as_str()).collect();
    let group = match group {
        Some(g) if groups.contains(g) => g,
        Some(g) => {
            return Err(usage(format!(
                "--group '{g}' is not in the input (groups: {})",
                groups.into_iter().collect::<Vec<_>>().join(", ")
            )))
        }
        None if groups.len() == 1 => groups.into_iter().next().unwrap_or_default(),
        None => {
            return Err(usage(format!(
                "the input holds several groups; choose one with --group ({})",
                groups.into_iter().collect::<Vec<_>>().join(", ")
            )))
        }
    };
    let demand = series
        .iter()
        .find(|s| s.group == group && s.metric == metric)
        .ok_or_else(|| {
            usage(format!(
                "group '{group}' has no '{metric}' series (see --metric)"
            ))
        })?;
    let extra = series
        .iter()
        .filter(|s| s.group == group && s.metric != metric)
        .collect();
    Ok((demand, extra))
}

pub fn run(args: &SimulateArgs) -> Result<(), CliError> {
    let policy_text = match &args.policy {
        Some(path) => Some(
            std::fs::read_to_string(path).map_err(|e| usage(format!("{}: {e}", path.display())))?,
        ),
        None => None,
    };
    if args.lambda_duration_ms.is_some()
        || policy_text
            .as_deref()
            .is_some_and(serverless::is_lambda_policy)
    {
        return serverless::run(args, policy_text.as_deref());
    }
    let (Some(policy_path), Some(policy_text)) = (&args.policy, policy_text) else {
        return Err(usage(
            "--policy is required (or --provisioned with --lambda-duration-ms)",
        ));
    };
    let capacity_per_replica = args
        .capacity_per_replica
        .ok_or_else(|| usage("--capacity-per-replica is required for instance groups"))?;
    let mut policy =
        parse_policy(&policy_text).map_err(|e| usage(format!("{}: {e}", policy_path.display())))?;
    let (min_replicas, max_replicas) = policy.bounds();
    let history = match &args.input {
        Some(path) => Some(demand_from_file(path, args.group.as_deref(), &args.metric)?),
        None => None,
    };
    let demand = match args.test {
        None => history.ok_or_else(|| usage("--input is required without --test"))?,
        Some(test) => {
            let base = match (args.base_rps, &history) {
                (Some(b), _) => b,
                (None, Some(h)) => median(&h.values).unwrap_or(0.0),
                (None, None) => return Err(usage("--test needs --base-rps or --input")),
            };
            if !(base.is_finite() && base > 0.0) {
                return Err(usage(format!("base load must be positive, got {base}")));
            }
            if !(args.spike_factor.is_finite() && args.spike_factor >= 1.0) {
                return Err(usage("--spike-factor must be at least 1"));
            }
            Demand {
                group: history.map_or_else(|| "loadtest".to_string(), |h| h.group),
                start: 0,
                step: LOAD_TEST_STEP_SECONDS,
                values: loadtest::build_demand(test, base, args.spike_factor),
                extra: Vec::new(),
            }
        }
    };
    let duration_ms = |flag: &str, text: &str| {
        parse_duration(text)
            .map_err(|e| usage(format!("--{flag}: {e}")))
            .map(|d| d.as_secs())
    };
    let startup = duration_ms("startup", &args.startup)?;
    let timeout_s = duration_ms("timeout", &args.timeout)?;
    for (flag, v) in [
        ("capacity-per-replica", capacity_per_replica),
        ("slo-p95-ms", args.slo_p95_ms),
    ] {
        if !(v.is_finite() && v > 0.0) {
            return Err(usage(format!(
                "--{flag} must be a positive number, got {v}"
            )));
        }
    }
    if !(args.price.is_finite() && args.price >= 0.0) {
        return Err(usage(format!(
            "--price must be 0 or more, got {}",
            args.price
        )));
    }
    let cap = CapacityModel {
        capacity_per_replica_rps: capacity_per_replica,
        concurrency_per_replica: args.concurrency.max(1),
        startup_seconds: u32::try_from(startup).unwrap_or(u32::MAX),
        warmup_seconds: 0,
        min_replicas,
        max_replicas,
        warm_pool_size: 0,
        warm_pool_startup_seconds: 0,
        usd_per_replica_hour: args.price,
        timeout_ms: timeout_s.max(1) as f64 * 1000.0,
    };
    let max_tts = duration_ms("max-time-to-scale", &args.max_time_to_scale)?;
    let slo = Slo {
        p95_latency_ms: args.slo_p95_ms,
        max_time_to_scale_seconds: u32::try_from(max_tts).unwrap_or(u32::MAX),
        ..Slo::default()
    };
    let input = ReplayInput {
        start: demand.start,
        step_seconds: demand.step,
        demand_rps: &demand.values,
        extra: demand
            .extra
            .iter()
            .map(|(name, values)| ExtraSeries {
                name: name.clone(),
                values,
            })
            .collect(),
    };
    let name = policy.describe();
    let group = replay::file_group(&demand.group);
    let result = replay::replay(
        policy.as_mut(),
        &input,
        &cap,
        &slo,
        args.initial_replicas,
        &group,
    )
    .map_err(usage)?;
    let verdict = args
        .test
        .map(|t| loadtest::judge(t, &result, &slo, capacity_per_replica));
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => serde_json::to_writer(
            &mut out,
            &Output {
                schema: "scaletop.replay/v1",
                policy: &name,
                group: &demand.group,
                verdict: verdict.as_ref(),
                replay: &result,
            },
        )
        .map_err(std::io::Error::other)
        .and_then(|_| writeln!(out)),
        Format::Csv => write_steps_csv(&mut out, &result),
        Format::Table | Format::Md => {
            write_summary(&mut out, &name, &result, &slo).and_then(|_| {
                verdict
                    .as_ref()
                    .map_or(Ok(()), |v| write_verdict(&mut out, v))
            })
        }
    };
    written.or_else(crate::cli::output_error)?;
    match verdict {
        Some(v) if !v.passed => Err(CliError {
            code: 1,
            message: format!(
                "{:?} test failed: {}",
                v.test,
                v.checks
                    .iter()
                    .filter(|c| !c.passed)
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
        _ => Ok(()),
    }
}

fn write_verdict(out: &mut dyn Write, v: &Verdict) -> std::io::Result<()> {
    writeln!(
        out,
        "Load test {:?}: {}",
        v.test,
        if v.passed { "PASS" } else { "FAIL" }
    )?;
    for c in &v.checks {
        let mark = if c.passed { "pass" } else { "FAIL" };
        writeln!(out, "  [{mark}] {:<24} {}", c.name, c.detail)?;
    }
    Ok(())
}

fn write_steps_csv(out: &mut dyn Write, r: &Replay) -> std::io::Result<()> {
    writeln!(
        out,
        "timestamp,demand,replicas,ready,utilization,p95_ms,p99_ms,dropped_rps"
    )?;
    for s in &r.steps {
        writeln!(
            out,
            "{},{},{},{},{:.2},{:.1},{:.1},{:.3}",
            s.timestamp.to_rfc3339(),
            s.demand,
            s.replicas,
            s.ready,
            s.utilization,
            s.p95_ms,
            s.p99_ms,
            s.dropped_rps
        )?;
    }
    Ok(())
}

fn write_summary(out: &mut dyn Write, name: &str, r: &Replay, slo: &Slo) -> std::io::Result<()> {
    let s = &r.summary;
    let tts = s
        .max_time_to_scale_seconds
        .map_or("—".to_string(), |t| format!("{t}s"));
    writeln!(
        out,
        "Replay of {name} over {:.1} h ({} steps)",
        s.duration_hours, s.steps
    )?;
    let rows = [
        (
            "cost",
            format!("${:.2}  (${:.0}/month)", s.cost_usd, s.cost_usd_per_month),
        ),
        (
            "replica-hours",
            format!(
                "{:.1}  (wasted {:.1})",
                s.replica_hours, s.wasted_replica_hours
            ),
        ),
        ("peak replicas", s.peak_replicas.to_string()),
        (
            "scale events",
            format!(
                "{} up, {} down, {} thrash",
                s.scale_up_events, s.scale_down_events, s.thrash_events
            ),
        ),
        (
            "SLA violation",
            format!(
                "{:.0} min (p95 > {} ms or drops)",
                s.sla_violation_minutes, slo.p95_latency_ms
            ),
        ),
        ("availability", format!("{:.4}%", s.availability * 100.0)),
        ("worst p95", format!("{:.0} ms", s.p95_ms_worst)),
        (
            "time to scale",
            format!("max {tts} over {} episodes", s.time_to_scale_seconds.len()),
        ),
        ("minutes at max", format!("{:.0}", s.minutes_at_max)),
    ];
    for (k, v) in rows {
        writeln!(out, "  {k:<15} {v}")?;
    }
    Ok(())
}

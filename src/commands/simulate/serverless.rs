//! `scaletop simulate` for a Lambda function: replays concurrency (throttles, cold starts,
//! provisioned concurrency fixed or under Application Auto Scaling) over a demand series.

use std::io::Write;

use serde::Serialize;

use super::{demand_from_file, usage, SimulateArgs};
use crate::cli::{CliError, Format};
use crate::engine::policy::aws_appscaling::AppAutoscaler;
use crate::engine::serverless::{
    replay_function, FunctionModel, FunctionReplay, LambdaPrices, Provisioned,
};
use crate::model::Slo;

const LAMBDA_DIMENSION: &str = "lambda:function:ProvisionedConcurrency";

/// An Application Auto Scaling document for Lambda provisioned concurrency.
pub(super) fn is_lambda_policy(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| {
            v.get("ScalableDimension")
                .and_then(|d| d.as_str())
                .map(|d| d == LAMBDA_DIMENSION)
        })
        .unwrap_or(false)
}

#[derive(Serialize)]
struct Output<'a> {
    schema: &'static str,
    policy: &'a str,
    group: &'a str,
    function: &'a FunctionModel,
    prices: &'a LambdaPrices,
    #[serde(flatten)]
    replay: &'a FunctionReplay,
}

pub(super) fn run(args: &SimulateArgs, policy_text: Option<&str>) -> Result<(), CliError> {
    if args.test.is_some() {
        return Err(usage(
            "--test replays instance groups; replay a function over --input",
        ));
    }
    let path = args
        .input
        .as_deref()
        .ok_or_else(|| usage("--input is required for a function replay"))?;
    let duration_ms = args.lambda_duration_ms.ok_or_else(|| {
        usage("--lambda-duration-ms is required to replay Lambda concurrency (mean duration of one invocation)")
    })?;
    let function = FunctionModel {
        memory_mb: args.lambda_memory_mb,
        duration_ms,
        cold_start_ms: args.lambda_cold_start_ms,
        concurrency_limit: args.concurrency_limit,
        timeout_ms: crate::duration::parse_duration(&args.timeout)
            .map_err(|e| usage(format!("--timeout: {e}")))?
            .as_millis() as f64,
        keep_warm_seconds: 600.0,
    };
    function
        .validate()
        .map_err(|e| usage(format!("function: {e}")))?;
    if !(args.slo_p95_ms.is_finite() && args.slo_p95_ms > 0.0) {
        return Err(usage("--slo-p95-ms must be a positive number"));
    }
    let slo = Slo {
        p95_latency_ms: args.slo_p95_ms,
        ..Slo::default()
    };
    let demand = demand_from_file(path, args.group.as_deref(), &args.metric)?;
    let prices = *LambdaPrices::built_in_x86();

    let mut autoscaler;
    let (provisioned, name) = match (policy_text, args.provisioned) {
        (Some(_), Some(_)) => return Err(usage("give --policy or --provisioned, not both")),
        (Some(text), None) => {
            autoscaler = AppAutoscaler::from_json(text).map_err(|e| {
                usage(format!(
                    "{}: {e}",
                    args.policy.as_deref().unwrap_or(path).display()
                ))
            })?;
            if autoscaler.config.scalable_dimension != LAMBDA_DIMENSION {
                return Err(usage(format!(
                    "a function replay needs a {LAMBDA_DIMENSION} target, got {}",
                    autoscaler.config.scalable_dimension
                )));
            }
            let name = crate::engine::policy::Autoscaler::describe(&autoscaler);
            (Provisioned::Autoscaled(&mut autoscaler), name)
        }
        (None, Some(n)) => (
            Provisioned::Fixed(n),
            format!("fixed provisioned concurrency {n}"),
        ),
        (None, None) => (Provisioned::Fixed(0), "on demand".to_string()),
    };
    let result = replay_function(
        &function,
        &prices,
        demand.start,
        demand.step,
        &demand.values,
        provisioned,
        &slo,
    )
    .map_err(|e| usage(format!("{}: {e}", path.display())))?;

    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => serde_json::to_writer(
            &mut out,
            &Output {
                schema: "scaletop.replay.function/v1",
                policy: &name,
                group: &demand.group,
                function: &function,
                prices: &prices,
                replay: &result,
            },
        )
        .map_err(std::io::Error::other)
        .and_then(|_| writeln!(out)),
        Format::Csv => write_steps_csv(&mut out, &result),
        Format::Table | Format::Md => write_summary(&mut out, &name, &result, &slo),
    };
    written.or_else(crate::cli::output_error)
}

fn write_steps_csv(out: &mut dyn Write, r: &FunctionReplay) -> std::io::Result<()> {
    writeln!(
        out,
        "timestamp,demand,concurrency,provisioned,provisioned_ready,throttled_rps,cold_starts_per_second,p95_ms,p99_ms,cost_usd_per_hour"
    )?;
    for s in &r.steps {
        writeln!(
            out,
            "{},{},{:.2},{},{},{:.3},{:.4},{:.1},{:.1},{:.4}",
            s.timestamp.to_rfc3339(),
            s.demand,
            s.step.concurrency,
            s.provisioned,
            s.provisioned_ready,
            s.step.throttled_rps,
            s.step.cold_starts_per_second,
            s.step.p95_ms,
            s.step.p99_ms,
            s.step.cost_usd_per_hour
        )?;
    }
    Ok(())
}

fn write_summary(
    out: &mut dyn Write,
    name: &str,
    r: &FunctionReplay,
    slo: &Slo,
) -> std::io::Result<()> {
    let s = &r.summary;
    writeln!(
        out,
        "Function replay ({name}) over {:.1} h ({} steps)",
        s.duration_hours, s.steps
    )?;
    let pct = |part: f64| {
        if s.requests > 0.0 {
            100.0 * part / s.requests
        } else {
            0.0
        }
    };
    let rows = [
        (
            "cost",
            format!("${:.2}  (${:.0}/month)", s.cost_usd, s.cost_usd_per_month),
        ),
        ("requests", format!("{:.0}", s.requests)),
        (
            "throttled",
            format!(
                "{:.0}  ({:.3}%)",
                s.throttled_requests,
                pct(s.throttled_requests)
            ),
        ),
        (
            "cold starts",
            format!(
                "{:.0}  ({:.3}% of served)",
                s.cold_starts,
                100.0 * s.cold_start_share
            ),
        ),
        ("peak concurrency", format!("{:.0}", s.peak_concurrency)),
        (
            "provisioned use",
            s.provisioned_utilization.map_or("—".to_string(), |u| {
                format!("{:.0}% ({} changes)", 100.0 * u, s.provisioned_changes)
            }),
        ),
        (
            "SLA violation",
            format!(
                "{:.0} min (p95 > {} ms or throttles)",
                s.sla_violation_minutes, slo.p95_latency_ms
            ),
        ),
        ("worst p95", format!("{:.0} ms", s.p95_ms_worst)),
    ];
    for (k, v) in rows {
        writeln!(out, "  {k:<18} {v}")?;
    }
    Ok(())
}

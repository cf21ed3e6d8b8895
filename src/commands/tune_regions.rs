//! `scaletop tune --scenario NAME` for a multi-region scenario (one with a cross-region latency
//! matrix) and no `--group`: every region's plan and every neighbour pair's spill check
//! (engine::tune::multiregion), as a table or `scaletop.tune.regions/v1` JSON.

use std::io::Write;

use serde::Serialize;

use crate::cli::{CliError, Format};
use crate::engine::cost::offhours::FixedReplicas;
use crate::engine::tune::multiregion::{plan, MultiRegionOutcome, MultiRegionRequest, RegionInput};
use crate::engine::tune::SpaceSize;
use crate::model::{MetricKind, PolicyModel};
use crate::sim::{replayable_autoscaler, Scenario, Simulator};

/// The cross-region latency constraint of the follow-the-sun situation (scenarios.md).
pub const MAX_RTT_MS: f64 = 100.0;

/// Whether `tune --scenario name` without a group means the multi-region plan.
pub fn is_multiregion(name: &str) -> bool {
    Scenario::load(name).is_ok_and(|s| !s.region_latency().is_empty())
}

#[derive(Serialize)]
struct Output<'a> {
    schema: &'static str,
    scenario: &'a str,
    #[serde(flatten)]
    outcome: &'a MultiRegionOutcome,
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::usage(e.to_string())
}

/// Simulates every group of the scenario over `duration` at `step` and plans them.
pub fn run(
    name: &str,
    duration_seconds: u64,
    step_seconds: u64,
    seed: u64,
    size: SpaceSize,
    format: Format,
) -> Result<(), CliError> {
    let scenario = Scenario::load(name).map_err(usage)?;
    let groups = scenario.sim_groups();
    let mut sim = Simulator::new(&scenario, seed);
    let mut frame = sim.new_frame();
    let steps = (duration_seconds / step_seconds.max(1)) as usize;
    let start = sim.now_unix();
    let mut demand: Vec<Vec<f64>> = vec![Vec::with_capacity(steps); groups.len()];
    for _ in 0..steps {
        sim.advance_frame(step_seconds, &mut frame);
        for (series, v) in demand.iter_mut().zip(&frame.values) {
            series.push(v[MetricKind::RequestRate as usize]);
        }
    }
    let mut regions = Vec::new();
    for (g, d) in groups.iter().zip(&demand) {
        let (min, max) = (g.capacity.min_replicas, g.capacity.max_replicas);
        let (label, fixed, base) = match &g.policy {
            PolicyModel::Fixed { replicas } => {
                (format!("fixed at {replicas} replicas"), *replicas, None)
            }
            other => {
                // Prove the policy replays before planning around it.
                replayable_autoscaler(g.info.id.platform, g.name(), other, min, max)
                    .map_err(|e| usage(format!("group {}: {e}", g.name())))?;
                let base = super::tune::policy_doc(&g.info.id, other, min, max)
                    .map_err(|e| usage(format!("group {}: {e}", g.name())))?;
                ("the scenario's policy".to_string(), 0, Some(base))
            }
        };
        let policy = g.policy.clone();
        let (platform, gname) = (g.info.id.platform, g.name().to_string());
        regions.push(RegionInput {
            name: g.name().to_string(),
            region: g
                .info
                .labels
                .get("region")
                .cloned()
                .unwrap_or_else(|| g.name().to_string()),
            utc_offset_hours: (g.utc_offset_seconds / 3600.0).round() as i32,
            demand: d,
            cap: g.capacity.clone(),
            slo: g.info.slo.clone().unwrap_or_default(),
            current: Box::new(move || match &policy {
                PolicyModel::Fixed { .. } => Box::new(FixedReplicas {
                    replicas: fixed,
                    max: max.max(fixed),
                }),
                other => replayable_autoscaler(platform, &gname, other, min, max)
                    .unwrap_or_else(|_| Box::new(FixedReplicas { replicas: max, max })),
            }),
            current_label: label,
            base,
        });
    }
    let req = MultiRegionRequest {
        start,
        step_seconds: step_seconds as i64,
        regions,
        rtt_ms: scenario
            .region_latency()
            .iter()
            .map(|r| (r.from.clone(), r.to.clone(), r.rtt_ms))
            .collect(),
        max_rtt_ms: MAX_RTT_MS,
        size,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let o = plan(&req).map_err(usage)?;
    let mut out = std::io::stdout().lock();
    let written = match format {
        Format::Json => serde_json::to_writer(
            &mut out,
            &Output {
                schema: "scaletop.tune.regions/v1",
                scenario: name,
                outcome: &o,
            },
        )
        .map_err(std::io::Error::other)
        .and_then(|_| writeln!(out)),
        _ => write_table(&mut out, name, &o),
    };
    written.or_else(crate::cli::output_error)?;
    let failing: Vec<&str> = o
        .regions
        .iter()
        .filter(|r| !r.holds)
        .map(|r| r.group.as_str())
        .collect();
    if failing.is_empty() {
        Ok(())
    } else {
        Err(CliError {
            code: 1,
            message: format!(
                "the plan does not keep the Slo on the held-out 30% for {}",
                failing.join(", ")
            ),
        })
    }
}

fn write_table(out: &mut dyn Write, name: &str, o: &MultiRegionOutcome) -> std::io::Result<()> {
    writeln!(
        out,
        "Multi-region plan for {name}: planned on {} steps, replayed on the held-out {} steps",
        o.train_steps, o.heldout_steps
    )?;
    for r in &o.regions {
        writeln!(
            out,
            "\n{} ({}, UTC{:+}) — current: {}",
            r.group, r.region, r.utc_offset_hours, r.current_policy
        )?;
        for l in &r.plan {
            writeln!(out, "  plan: {l}")?;
        }
        writeln!(
            out,
            "  held-out  {:>10} {:>8} {:>7} {:>5}",
            "$/month", "SLA min", "p95 max", "peak"
        )?;
        for (label, f) in [("current", &r.current), ("planned", &r.planned)] {
            writeln!(
                out,
                "  {label:<9} {:>10.0} {:>8.0} {:>7.0} {:>5}",
                f.cost_usd_per_month, f.sla_violation_minutes, f.p95_ms_worst, f.peak_replicas
            )?;
        }
        writeln!(
            out,
            "  {}: saving {:.1}%{}",
            if r.holds { "holds" } else { "does not hold" },
            r.saving_percent,
            {
                let mut why = r.planned.slo_problems.clone();
                if r.planned.thrash_events > 0 {
                    why.push(format!("{} thrash events", r.planned.thrash_events));
                }
                if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", why.join("; "))
                }
            }
        )?;
    }
    writeln!(
        out,
        "\nSpill to a neighbour (cross-region limit {:.0} ms; by replay on the held-out part)",
        o.max_rtt_ms
    )?;
    for s in &o.spill {
        writeln!(
            out,
            "  {} -> {}: rtt {:.0} ms, {} — {} (spilled {:.1}% of requests, worst p95 {:.0} ms, saving ${:.0}/month)",
            s.from,
            s.to,
            s.rtt_ms,
            if s.allowed { "allowed" } else { "not allowed" },
            s.reason,
            s.spilled_share * 100.0,
            s.worst_spilled_p95_ms,
            s.saving_usd_per_month
        )?;
    }
    Ok(())
}

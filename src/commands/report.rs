//! `scaletop report [--scenario NAME | --input FILE] --out FILE.html|FILE.md`: the full
//! optimization report. Without --scenario or --input, the config's demo scenario.

use std::path::PathBuf;

use clap::Args;

use crate::cli::CliError;
use crate::commands::cost::{self, CostArgs};
use crate::config::Config;
use crate::duration::parse_duration;
use crate::report::cost::CostInput;
use crate::report::tune_engine::ScenarioRun;
use crate::report::{self, data};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Built-in scenario to simulate and report on (`scaletop sim list`).
    #[arg(long, conflicts_with = "input")]
    pub scenario: Option<String>,
    /// Series file (long-form CSV `timestamp,group,metric,value`, `timestamp,value`, or a
    /// Prometheus query_range JSON response).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Output file: `.html` (one self-contained file with inline SVG charts), `.md`, or
    /// `.json` (the report's data).
    #[arg(long)]
    pub out: PathBuf,
    /// Simulated history for --scenario, e.g. 14d (400d at --step 1h for 90-day forecasts).
    #[arg(long, default_value = "14d")]
    pub duration: String,
    /// Step of the simulated history for --scenario.
    #[arg(long, default_value = "5m")]
    pub step: String,
    /// Seed of the simulation (default: the config's demo seed).
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OutFormat {
    Html,
    Md,
    Json,
}

fn out_format(path: &std::path::Path) -> Result<OutFormat, CliError> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("html") | Some("htm") => Ok(OutFormat::Html),
        Some("md") | Some("markdown") => Ok(OutFormat::Md),
        Some("json") => Ok(OutFormat::Json),
        _ => Err(CliError::usage(format!(
            "--out {}: the name must end in .html, .md or .json",
            path.display()
        ))),
    }
}

pub fn run(args: &ReportArgs, cfg: &Config) -> Result<(), CliError> {
    let format = out_format(&args.out)?;
    if cfg.general.readonly {
        return Err(CliError::usage(format!(
            "refusing to write {}: read-only mode (--readonly or general.readonly)",
            args.out.display()
        )));
    }
    let rules = cfg.alerts.rules().map_err(CliError::usage)?;
    let mut run_spec = None;
    let data = match (&args.input, &args.scenario) {
        (Some(path), _) => data::from_input(path).map_err(CliError::usage)?,
        (None, scenario) => {
            let name = scenario
                .clone()
                .unwrap_or_else(|| cfg.demo.scenario.clone());
            let secs = |flag: &str, text: &str| {
                parse_duration(text)
                    .map(|d| d.as_secs())
                    .map_err(|e| CliError::usage(format!("--{flag}: {e}")))
            };
            let duration = secs("duration", &args.duration)?;
            let step = secs("step", &args.step)?;
            if step == 0 {
                return Err(CliError::usage("--step must be positive"));
            }
            let seed = args.seed.unwrap_or(cfg.demo.seed);
            let d = data::from_scenario(&name, seed, duration, step).map_err(CliError::usage)?;
            run_spec = Some(ScenarioRun {
                name,
                seed,
                duration_seconds: duration,
                step_seconds: step,
                duration: args.duration.clone(),
                step: args.step.clone(),
            });
            d
        }
    };
    let cost = cost_input(args, run_spec.as_ref(), cfg);
    let generated = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
    let report = report::build(&data, &rules, &cost, run_spec.as_ref(), &generated)
        .map_err(CliError::usage)?;
    let text = match format {
        OutFormat::Html => report::html::render(&report),
        OutFormat::Md => report::markdown::render(&report),
        OutFormat::Json => {
            serde_json::to_string_pretty(&report)
                .map_err(|e| CliError::usage(format!("cannot serialise the report: {e}")))?
                + "\n"
        }
    };
    super::out_file::write_atomic(&args.out, text.as_bytes(), false).map_err(CliError::usage)?;
    let failed = report
        .criteria
        .iter()
        .filter(|c| c.verdict == report::doc::Verdict::Fail)
        .count();
    eprintln!(
        "wrote {} ({} sections, {} criteria: {} failed) from {}",
        args.out.display(),
        report.sections.len(),
        report.criteria.len(),
        failed,
        data.label
    );
    Ok(())
}

/// The cost engine run exactly as `scaletop cost` would for the same source, with the command
/// line that reproduces it.
fn cost_input(args: &ReportArgs, run: Option<&ScenarioRun>, cfg: &Config) -> CostInput {
    let (cost_args, command) = match run {
        Some(r) => (
            CostArgs {
                input: None,
                scenario: Some(r.name.clone()),
                duration: r.duration.clone(),
                step: r.step.clone(),
                seed: Some(r.seed),
                instance_type: None,
                region: None,
                node_type: None,
                term: None,
                no_validate: false,
                format: crate::cli::Format::Json,
            },
            format!(
                "scaletop cost --scenario {} --seed {} --duration {} --step {}",
                r.name, r.seed, r.duration, r.step
            ),
        ),
        None => (
            CostArgs {
                input: args.input.clone(),
                scenario: None,
                duration: args.duration.clone(),
                step: args.step.clone(),
                seed: None,
                instance_type: None,
                region: None,
                node_type: None,
                term: None,
                no_validate: false,
                format: crate::cli::Format::Json,
            },
            format!(
                "scaletop cost --input {}",
                args.input
                    .as_ref()
                    .map_or(String::new(), |p| p.display().to_string())
            ),
        ),
    };
    CostInput {
        result: cost::compute(&cost_args, cfg).map_err(|e| e.message),
        command,
    }
}

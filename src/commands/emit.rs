//! `scaletop emit`: write a recommendation (or a scenario group's current policy) as the
//! platform's own config files, through the guarded writer. Nothing is written unless every
//! selected recommendation can be expressed in the target (exit 2 naming what is missing).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::artifact::Artifact;
use crate::cli::{output_error, CliError, Format};
use crate::config::Config;
use crate::emit::source::{parse_recommendations, scenario_group};
use crate::emit::writer::{GuardedWriter, WritePlan};
use crate::emit::{self, rank, EmitContext, EmittedFile, Target};
use crate::model::Recommendation;

#[derive(Debug, Args)]
pub struct EmitArgs {
    /// What to write.
    #[arg(long, value_enum)]
    pub target: Target,
    /// Recommendation JSON (schema scaletop.recommendation/v1): one object or an array.
    /// (Not needed for `--target prometheus-rules`, which writes the configured alert rules.)
    #[arg(long, value_name = "FILE", conflicts_with = "scenario")]
    pub from: Option<PathBuf>,
    /// Emit a simulator scenario group's current policy instead (with --group).
    #[arg(long, requires = "group")]
    pub scenario: Option<String>,
    /// Group of --scenario.
    #[arg(long, requires = "scenario")]
    pub group: Option<String>,
    /// Only the recommendation with this id.
    #[arg(long)]
    pub id: Option<String>,
    /// Output directory (default: `general.output_dir` of the config).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Print what would be written (a unified diff per file) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Prometheus URL for KEDA Prometheus triggers (default: the first configured Prometheus
    /// source).
    #[arg(long, value_name = "URL")]
    pub prometheus_url: Option<String>,
    /// Keep an EC2 Auto Scaling warm pool of this many stopped instances beside the group's
    /// scaling policies (not with a mixed instances policy: AWS refuses that combination).
    #[arg(long, value_name = "MIN")]
    pub warm_pool: Option<u32>,
    /// Launch template of the AWS group's mixed instances policy (default: the group's name).
    #[arg(long, value_name = "NAME")]
    pub launch_template: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Serialize)]
struct Output {
    schema: &'static str,
    target: Target,
    output_dir: String,
    dry_run: bool,
    ranking: &'static str,
    recommendations: Vec<EmittedRecommendation>,
    skipped: Vec<Skipped>,
}

#[derive(Serialize)]
struct EmittedRecommendation {
    id: String,
    group: String,
    risk_adjusted_saving_usd_month: f64,
    files: Vec<FileStatus>,
}

#[derive(Serialize)]
struct FileStatus {
    path: String,
    /// new | changed | unchanged
    status: &'static str,
}

#[derive(Serialize)]
struct Skipped {
    id: String,
    reason: String,
}

/// The recommendations to emit and the context they come with.
fn load(args: &EmitArgs, cfg: &Config) -> Result<(Vec<Recommendation>, EmitContext), CliError> {
    let (mut recs, mut ctx) = match (&args.from, &args.scenario, &args.group) {
        (Some(path), _, _) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| CliError::usage(format!("--from {}: {e}", path.display())))?;
            let origin = path.display().to_string();
            let recs = parse_recommendations(&text, &origin).map_err(CliError::usage)?;
            let ctx = EmitContext {
                source: origin,
                companions: recs.clone(),
                ..Default::default()
            };
            (recs, ctx)
        }
        (None, Some(name), Some(group)) => {
            let scenario =
                crate::sim::Scenario::load(name).map_err(|e| CliError::usage(e.to_string()))?;
            let (rec, ctx) = scenario_group(&scenario, group).map_err(CliError::usage)?;
            (vec![rec], ctx)
        }
        _ => {
            return Err(CliError::usage(
                "emit needs --from FILE, or --scenario NAME with --group G",
            ))
        }
    };
    // KEDA's Prometheus triggers query the Prometheus scaletop itself reads, unless told.
    ctx.prometheus_url = args
        .prometheus_url
        .clone()
        .or_else(|| cfg.sources.prometheus.first().map(|p| p.url.clone()));
    ctx.launch_template = args.launch_template.clone();
    if let Some(min_size) = args.warm_pool {
        ctx.warm_pool = Some(emit::WarmPool { min_size });
    }
    if let Some(id) = &args.id {
        let known: Vec<String> = recs.iter().map(|r| r.id.clone()).collect();
        recs.retain(|r| &r.id == id);
        if recs.is_empty() {
            return Err(CliError::usage(format!(
                "no recommendation with id '{id}' (ids: {})",
                known.join(", ")
            )));
        }
    }
    rank::rank(&mut recs);
    Ok((recs, ctx))
}

pub fn run(args: &EmitArgs, cfg: &Config) -> Result<(), CliError> {
    if args.target == Target::PrometheusRules {
        return prometheus_rules(args, cfg);
    }
    let (recs, ctx) = load(args, cfg)?;
    let single = recs.len() == 1;
    let mut skipped = Vec::new();
    let mut emitted: Vec<(Recommendation, Vec<EmittedFile>)> = Vec::new();
    for rec in recs {
        // In a list, recommendations of other kinds are skipped; a single one must fit.
        let fits = Artifact::from_value(&rec.artifact)
            .map(|a| args.target.accepts(&a))
            .unwrap_or(true);
        if !fits && !single {
            skipped.push(Skipped {
                id: rec.id.clone(),
                reason: format!("not expressible as {}", args.target.as_str()),
            });
            continue;
        }
        let files =
            emit::emit(args.target, &rec, &ctx).map_err(|e| CliError::usage(e.to_string()))?;
        emitted.push((rec, files));
    }
    if emitted.is_empty() {
        return Err(CliError::usage(format!(
            "none of the {} recommendations in {} can be expressed as target '{}'",
            skipped.len(),
            ctx.source,
            args.target.as_str()
        )));
    }
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| cfg.general.output_dir.clone());
    let writer = GuardedWriter::new(&out_dir, cfg.general.readonly);
    let all: Vec<(PathBuf, String)> = emitted
        .iter()
        .flat_map(|(_, files)| {
            files
                .iter()
                .map(|f| (f.relative.clone(), f.contents.clone()))
        })
        .collect();
    let plan = writer
        .plan(all)
        .map_err(|e| CliError::usage(e.to_string()))?;
    if !args.dry_run {
        writer
            .apply(&plan)
            .map_err(|e| CliError::usage(e.to_string()))?;
    }
    print(args, &out_dir, &emitted, skipped, &plan)
}

/// The configured alert rules as a Prometheus rule file, through the guarded writer.
fn prometheus_rules(args: &EmitArgs, cfg: &Config) -> Result<(), CliError> {
    if args.from.is_some() || args.scenario.is_some() {
        return Err(CliError::usage(
            "--target prometheus-rules writes the configured alert rules ([alerts] in the config); it takes no --from or --scenario",
        ));
    }
    let rules = cfg.alerts.rules().map_err(CliError::usage)?;
    let text = format!(
        "# Generated by scaletop {} (emit --target prometheus-rules) from the config's [alerts]\n# rules: the same rules the Alerts tab evaluates. Check: promtool check rules {}\n{}",
        env!("CARGO_PKG_VERSION"),
        PROMETHEUS_RULES_FILE,
        crate::alerts::prometheus_rules_yaml(&rules)
    );
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| cfg.general.output_dir.clone());
    let writer = GuardedWriter::new(&out_dir, cfg.general.readonly);
    let plan = writer
        .plan(vec![(PathBuf::from(PROMETHEUS_RULES_FILE), text)])
        .map_err(|e| CliError::usage(e.to_string()))?;
    if args.dry_run {
        print!("{}", plan.diff());
        return Ok(());
    }
    writer
        .apply(&plan)
        .map_err(|e| CliError::usage(e.to_string()))?;
    println!(
        "{}: {} alert rules (promtool check rules {0})",
        out_dir.join(PROMETHEUS_RULES_FILE).display(),
        rules.len()
    );
    Ok(())
}

/// Where `--target prometheus-rules` writes, relative to the output directory.
pub const PROMETHEUS_RULES_FILE: &str = "prometheus/scaletop-alerts.rules.yml";

fn print(
    args: &EmitArgs,
    out_dir: &std::path::Path,
    emitted: &[(Recommendation, Vec<EmittedFile>)],
    skipped: Vec<Skipped>,
    plan: &WritePlan,
) -> Result<(), CliError> {
    let status = |rel: &PathBuf| {
        plan.files
            .iter()
            .find(|p| &p.relative == rel)
            .map(|p| match (&p.existing, p.unchanged()) {
                (None, _) => "new",
                (Some(_), true) => "unchanged",
                (Some(_), false) => "changed",
            })
            .unwrap_or("new")
    };
    let output = Output {
        schema: "scaletop.emit/v1",
        target: args.target,
        output_dir: out_dir.display().to_string(),
        dry_run: args.dry_run,
        ranking: rank::RULE,
        recommendations: emitted
            .iter()
            .map(|(rec, files)| EmittedRecommendation {
                id: rec.id.clone(),
                group: rec.group.to_string(),
                risk_adjusted_saving_usd_month: rank::adjusted_saving(rec),
                files: files
                    .iter()
                    .map(|f| FileStatus {
                        path: out_dir.join(&f.relative).display().to_string(),
                        status: status(&f.relative),
                    })
                    .collect(),
            })
            .collect(),
        skipped,
    };
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &output)
            .map_err(std::io::Error::other)
            .and_then(|_| writeln!(out)),
        _ => (|| -> std::io::Result<()> {
            if args.dry_run {
                write!(out, "{}", plan.diff())?;
                writeln!(out, "(dry run: nothing written)")?;
            }
            for r in &output.recommendations {
                writeln!(out, "{} ({})", r.id, r.group)?;
                for f in &r.files {
                    let verb = if args.dry_run { "would write" } else { "wrote" };
                    writeln!(out, "  {verb} {} [{}]", f.path, f.status)?;
                }
            }
            for s in &output.skipped {
                writeln!(out, "skipped {}: {}", s.id, s.reason)?;
            }
            Ok(())
        })(),
    };
    written.or_else(output_error)
}

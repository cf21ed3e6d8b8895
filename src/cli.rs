//! Command-line surface (../shared/DESIGN.md "Stable command-line surface"). Exit codes:
//! 0 success, 1 negative verdict, 2 bad usage or unusable input (one line on stderr).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{self, Config, ConfigSource};
use crate::duration::parse_duration;
use crate::paths;
use crate::sim;

#[derive(Debug, Parser)]
#[command(
    name = "scaletop",
    about = "htop/k9s for auto-scaling: live scaling dashboard, analysis, tuning and cost",
    disable_version_flag = true
)]
pub struct Cli {
    /// Config file (else $SCALETOP_CONFIG, else the user config dir, else the built-in demo).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Run the built-in simulator; optionally name the scenario (see `scaletop sim list`).
    #[arg(long, value_name = "SCENARIO", num_args = 0..=1, default_missing_value = "")]
    pub demo: Option<String>,
    /// Simulated seconds per real second for the demo.
    #[arg(long)]
    pub speed: Option<f64>,
    /// Seed of the demo simulator.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Refuse every write (emit, accept, report).
    #[arg(long, global = true)]
    pub readonly: bool,
    /// Open a load-test window at this data time (RFC 3339, `YYYY-MM-DD HH:MM:SS` UTC or Unix
    /// seconds); `m` in the TUI closes it and saves the scorecard.
    #[arg(long, value_name = "TIME")]
    pub loadtest_start: Option<String>,
    /// Print version and the resolved config, log and output paths.
    #[arg(short = 'V', long)]
    pub version: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The simulator: list scenarios, export their data and ground truth.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Replay a scaling policy over a demand series (a dry run of the policy).
    Simulate(crate::commands::simulate::SimulateArgs),
    /// Workload and resource analysis: patterns, peaks, anomalies, growth, utilization,
    /// bottlenecks, rightsizing, waste.
    Analyze(crate::commands::analyze::AnalyzeArgs),
    /// Demand forecast with 80%/95% bands, backtest figures and the capacity runway.
    Forecast(crate::commands::forecast::ForecastArgs),
    /// Connect the configured sources, wait for their first data, print groups, events, health.
    Snapshot(crate::commands::snapshot::SnapshotArgs),
    /// Write a recommendation (or a scenario group's current policy) as the platform's config:
    /// HPA, VPA, KEDA, AWS requests or Terraform, GCP, Azure; with a rollout note.
    Emit(crate::commands::emit::EmitArgs),
    /// Cost: monthly breakdown now and projected, savings by kind, instance types, spot,
    /// commitments, serverless concurrency, waste; recommendations as JSON.
    Cost(crate::commands::cost::CostArgs),
    /// The pricing catalog: import a provider's price file, show a type's prices.
    #[command(subcommand)]
    Pricing(crate::commands::pricing::PricingCommand),
    /// Search better scaling policies by replay; validate on held-out history.
    Tune(crate::commands::tune::TuneArgs),
    /// Data sources: the Prometheus presets and their PromQL.
    #[command(subcommand)]
    Sources(crate::commands::sources::SourcesCommand),
    /// Alert rules: export them as a Prometheus rule file.
    #[command(subcommand)]
    Alerts(crate::commands::alerts::AlertsCommand),
    /// The full optimization report (ten sections, success criteria, pitfalls, re-tune
    /// triggers) as one self-contained HTML file or Markdown.
    Report(crate::commands::report::ReportArgs),
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// List the built-in scenarios.
    List {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Write a scenario's metrics as long-form CSV (timestamp,group,metric,value), or its
    /// planted ground truth as JSON with --truth.
    Export(SimExportArgs),
    /// Serve the live simulated fleet at /metrics for a real Prometheus to scrape.
    Serve(crate::commands::sim_serve::SimServeArgs),
}

#[derive(Debug, Args)]
pub struct SimExportArgs {
    #[arg(long)]
    pub scenario: String,
    /// How much history, e.g. 14d or 400d.
    #[arg(long, default_value = "14d")]
    pub duration: String,
    /// Sample step, e.g. 1m or 1h.
    #[arg(long, default_value = "1m")]
    pub step: String,
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output file (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write the planted ground truth (JSON) instead of the metrics.
    #[arg(long)]
    pub truth: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Md,
    Csv,
}

/// A command failure with its exit code.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }
}

/// Maps a failure to write a command's output: a closed pipe (`| head`) is the reader's choice,
/// not an error; anything else is (exit 2).
pub fn output_error(e: std::io::Error) -> Result<(), CliError> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(CliError::usage(format!("cannot write output: {e}")))
    }
}

/// Entry point used by `main`.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // clap prints help/usage; its exit code is 0 for --help and 2 for usage errors.
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scaletop: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}

fn load_config(cli: &Cli) -> Result<(Config, ConfigSource), CliError> {
    let env = std::env::var("SCALETOP_CONFIG").ok();
    let xdg = paths::default_config_file();
    let source = config::resolve_source(cli.config.as_deref(), env.as_deref(), xdg.as_deref());
    let mut cfg = config::load(&source).map_err(|e| CliError::usage(e.to_string()))?;
    if cli.readonly {
        cfg.general.readonly = true;
    }
    Ok((cfg, source))
}

pub fn run(cli: Cli) -> Result<(), CliError> {
    let (mut cfg, source) = load_config(&cli)?;
    if cli.version {
        print_version(&cfg, &source);
        return Ok(());
    }
    match &cli.command {
        Some(Command::Sim(cmd)) => run_sim(cmd, &cfg),
        Some(Command::Simulate(args)) => crate::commands::simulate::run(args),
        Some(Command::Tune(args)) => crate::commands::tune::run(args),
        Some(Command::Analyze(args)) => crate::commands::analyze::run(args),
        Some(Command::Forecast(args)) => crate::commands::forecast::run(args, &cfg),
        Some(Command::Snapshot(args)) => crate::commands::snapshot::run(args, &cfg),
        Some(Command::Sources(cmd)) => crate::commands::sources::run(cmd),
        Some(Command::Emit(args)) => crate::commands::emit::run(args, &cfg),
        Some(Command::Cost(args)) => crate::commands::cost::run(args, &cfg),
        Some(Command::Pricing(cmd)) => crate::commands::pricing::run(cmd, &cfg),
        Some(Command::Alerts(cmd)) => crate::commands::alerts::run(cmd, &cfg),
        Some(Command::Report(args)) => crate::commands::report::run(args, &cfg),
        None => {
            if let Some(name) = cli.demo.as_deref().filter(|n| !n.is_empty()) {
                cfg.demo.scenario = name.to_string();
            }
            if let Some(speed) = cli.speed {
                if !(speed.is_finite() && speed > 0.0 && speed <= 100_000.0) {
                    return Err(CliError::usage(format!(
                        "--speed must be between 0 and 100000, got {speed}"
                    )));
                }
                cfg.demo.speed = speed;
            }
            if let Some(seed) = cli.seed {
                cfg.demo.seed = seed;
            }
            if let Some(t) = &cli.loadtest_start {
                cfg.loadtest.start_at_unix = Some(
                    crate::input::parse_timestamp(t)
                        .map_err(|e| CliError::usage(format!("--loadtest-start: {e}")))?,
                );
            }
            sim::Scenario::load(&cfg.demo.scenario).map_err(|e| CliError::usage(e.to_string()))?;
            if !cfg.forecast.events_file.is_empty() {
                crate::commands::forecast::read_events(std::path::Path::new(
                    &cfg.forecast.events_file,
                ))?;
            }
            let _log_guard = init_logging(&cfg);
            crate::tui::run(cfg).map_err(|e| CliError {
                code: 2,
                message: format!("{e:#}"),
            })
        }
    }
}

fn print_version(cfg: &Config, source: &ConfigSource) {
    println!("scaletop {}", env!("CARGO_PKG_VERSION"));
    println!("config: {}", source.describe());
    println!(
        "log:    {}",
        paths::log_dir().join(paths::LOG_FILE_NAME).display()
    );
    println!("output: {}", cfg.general.output_dir.display());
}

/// Logs go to a file in the XDG state dir, never to the terminal the TUI draws on.
fn init_logging(cfg: &Config) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = paths::log_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::never(&dir, paths::LOG_FILE_NAME);
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_new(&cfg.general.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}

fn run_sim(cmd: &SimCommand, cfg: &Config) -> Result<(), CliError> {
    match cmd {
        SimCommand::List { format } => {
            let list = sim::catalog();
            let mut out = std::io::stdout().lock();
            let written = match format {
                Format::Json => serde_json::to_writer_pretty(&mut out, &list)
                    .map_err(std::io::Error::other)
                    .and_then(|_| writeln!(out)),
                _ => list.iter().try_for_each(|s| {
                    writeln!(out, "{:<16} {:>3} groups  {}", s.name, s.groups, s.title)
                }),
            };
            written.or_else(output_error)
        }
        SimCommand::Serve(args) => crate::commands::sim_serve::run(args, cfg),
        SimCommand::Export(args) => {
            let scenario =
                sim::Scenario::load(&args.scenario).map_err(|e| CliError::usage(e.to_string()))?;
            let duration = parse_duration(&args.duration)
                .map_err(|e| CliError::usage(format!("--duration: {e}")))?;
            let step =
                parse_duration(&args.step).map_err(|e| CliError::usage(format!("--step: {e}")))?;
            if step.as_secs() == 0 || duration < step {
                return Err(CliError::usage(
                    "--step must be at least 1s and no longer than --duration",
                ));
            }
            let seed = args.seed.unwrap_or(cfg.demo.seed);
            let spec = sim::ExportSpec {
                seed,
                duration_seconds: duration.as_secs(),
                step_seconds: step.as_secs(),
            };
            write_output(args.out.as_ref(), |w| {
                if args.truth {
                    let truth = sim::truth(&scenario, &spec);
                    serde_json::to_writer_pretty(&mut *w, &truth).map_err(std::io::Error::other)?;
                    writeln!(w)
                } else {
                    sim::export_csv(&scenario, &spec, w).map(|_| ())
                }
            })
        }
    }
}

/// Writes to a file (atomically: temp file then rename) or to stdout.
fn write_output(
    out: Option<&PathBuf>,
    body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), CliError> {
    match out {
        None => {
            let stdout = std::io::stdout();
            let mut w = std::io::BufWriter::new(stdout.lock());
            body(&mut w).and_then(|_| w.flush()).or_else(output_error)
        }
        Some(path) => {
            let fail = |e: std::io::Error| CliError::usage(format!("{}: {e}", path.display()));
            let tmp = path.with_extension("tmp-scaletop");
            let file = std::fs::File::create(&tmp).map_err(fail)?;
            let mut w = std::io::BufWriter::new(file);
            let result = body(&mut w).and_then(|_| w.flush());
            drop(w);
            if let Err(e) = result {
                let _ = std::fs::remove_file(&tmp);
                return Err(fail(e));
            }
            std::fs::rename(&tmp, path).map_err(fail)
        }
    }
}

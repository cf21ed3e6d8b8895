//! `scaletop alerts rules [--out FILE] [--format yaml|json]`: the configured alert rules as a
//! Prometheus rule file (what `emit --target prometheus-rules` writes) or as JSON.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use crate::alerts::prometheus_rules_yaml;
use crate::cli::{output_error, CliError};
use crate::config::Config;

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Print (or write) the alert rules: Prometheus rule YAML, or the rule model as JSON.
    Rules(AlertsRulesArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RulesFormat {
    Yaml,
    Json,
}

#[derive(Debug, Args)]
pub struct AlertsRulesArgs {
    /// Write to this file (atomically) instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = RulesFormat::Yaml)]
    pub format: RulesFormat,
}

pub fn run(cmd: &AlertsCommand, cfg: &Config) -> Result<(), CliError> {
    match cmd {
        AlertsCommand::Rules(args) => {
            let rules = cfg.alerts.rules().map_err(CliError::usage)?;
            let text = match args.format {
                RulesFormat::Yaml => prometheus_rules_yaml(&rules),
                RulesFormat::Json => {
                    serde_json::to_string_pretty(&rules)
                        .map_err(|e| CliError::usage(format!("cannot serialise rules: {e}")))?
                        + "\n"
                }
            };
            match &args.out {
                Some(path) => {
                    super::out_file::write_atomic(path, text.as_bytes(), cfg.general.readonly)
                        .map_err(CliError::usage)?;
                    eprintln!("wrote {} rules to {}", rules.len(), path.display());
                    Ok(())
                }
                None => std::io::stdout()
                    .write_all(text.as_bytes())
                    .or_else(output_error),
            }
        }
    }
}

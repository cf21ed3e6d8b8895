//! `scaletop sources presets`: the PromQL each preset runs, so users can see and override it.

use std::io::Write;

use clap::Subcommand;

use crate::cli::{CliError, Format};
use crate::sources::prometheus::presets;

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Print the Prometheus presets: group labels, discovery query, one PromQL per metric.
    Presets {
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

pub fn run(cmd: &SourcesCommand) -> Result<(), CliError> {
    let SourcesCommand::Presets { format } = cmd;
    let all = presets::all();
    let mut out = std::io::stdout().lock();
    let written = match format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &all)
            .map_err(std::io::Error::other)
            .and_then(|_| writeln!(out)),
        _ => all.iter().try_for_each(|p| {
            writeln!(out, "preset {}: {}", p.name, p.description)?;
            writeln!(
                out,
                "  groups: scope label '{}', name label '{}'\n  discover = {}",
                p.scope_label, p.group_label, p.discover
            )?;
            for (m, q) in &p.queries {
                writeln!(out, "  {} = {q}", m.as_str())?;
            }
            writeln!(out)
        }),
    };
    written.or_else(crate::cli::output_error)
}

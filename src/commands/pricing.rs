//! `scaletop pricing`: import a provider's price file into the user pricing file, or show the
//! price of an instance type.

use std::path::PathBuf;

use clap::Subcommand;

use crate::cli::CliError;
use crate::config::Config;
use crate::emit::writer::GuardedWriter;
use crate::pricing::import::{import, skipped_text};
use crate::pricing::user_file::UserPricing;
use crate::pricing::Catalog;

#[derive(Debug, Subcommand)]
pub enum PricingCommand {
    /// Merge on-demand Linux prices from an AWS price list offer file, an Azure retail prices
    /// API response or GCP Cloud Billing catalog SKUs into the user pricing file
    /// (<output_dir>/pricing.toml unless [pricing] file is set), atomically, keeping a .bak.
    Import {
        file: PathBuf,
        /// Write here instead of the configured user pricing file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Show an instance type's on-demand price per region and its discounts.
    Show { instance_type: String },
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::usage(e.to_string())
}

pub fn run(cmd: &PricingCommand, cfg: &Config) -> Result<(), CliError> {
    match cmd {
        PricingCommand::Import { file, out } => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| usage(format!("{}: {e}", file.display())))?;
            let catalog = Catalog::built_in().map_err(usage)?;
            let imported = import(&text, &file.display().to_string(), &catalog).map_err(usage)?;
            let path = out
                .clone()
                .unwrap_or_else(|| cfg.pricing.file_path(&cfg.general));
            let mut user = UserPricing::load(&path).map_err(usage)?;
            let counts = user.merge(&imported, &catalog);
            if counts.added + counts.replaced == 0 {
                return Err(usage(format!(
                    "{}: none of its {} prices is for an instance type scaletop knows",
                    file.display(),
                    imported.prices.len()
                )));
            }
            // The merged file must load before it replaces the old one.
            let mut check = catalog.clone();
            user.apply(&mut check, &path.display().to_string())
                .map_err(usage)?;
            // The one guarded writer: atomic, previous version kept as .bak, refused read-only.
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            let name = path
                .file_name()
                .ok_or_else(|| usage(format!("{}: not a file path", path.display())))?;
            GuardedWriter::new(dir, cfg.general.readonly)
                .write_all(vec![(name.into(), user.to_toml())])
                .map_err(usage)?;
            println!(
                "{}: {} ({}): {} prices added, {} replaced, {} for types not in the catalog skipped; skipped entries: {}",
                path.display(),
                imported.format,
                imported.source,
                counts.added,
                counts.replaced,
                counts.unknown_types,
                skipped_text(&imported.skipped)
            );
            Ok(())
        }
        PricingCommand::Show { instance_type } => {
            let c = super::cost::load_catalog(cfg)?;
            let (cat, spec) = c.instance(instance_type).map_err(usage)?;
            println!(
                "{} ({} {}, {:?}, {} vCPU, {} GiB, {}) from {} as of {}",
                spec.name,
                cat.cloud,
                spec.class.as_str(),
                spec.arch,
                spec.vcpu,
                spec.memory_gib,
                spec.network,
                cat.file,
                cat.as_of
            );
            for r in c.regions_of(instance_type) {
                let p = c.on_demand(instance_type, &r).map_err(usage)?;
                println!(
                    "  {r:<16} ${:<10} {:?}  {}",
                    p.usd_per_hour, p.status, p.source
                );
            }
            let r = c.class_rates(instance_type).map_err(usage)?;
            println!(
                "  spot {:.0}% off (interruptions {}), reserved 1y {:.0}% / 3y {:.0}% off ({:?})",
                r.spot_discount * 100.0,
                r.spot_interruption_band,
                r.reserved_1y * 100.0,
                r.reserved_3y * 100.0,
                r.status
            );
            Ok(())
        }
    }
}

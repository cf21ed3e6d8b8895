//! The pricing catalog: instance types with on-demand list prices per region, the discounts of
//! spot, reservations / committed use and savings plans, Lambda and Aurora rates.
//!
//! The built-in catalog is `assets/pricing/*.toml`, embedded in the binary. A user pricing file
//! (written by `scaletop pricing import`) and `[[pricing.overrides]]` in config replace single
//! prices. Every price carries its status: `verified` (a provider price file or a cited figure)
//! or `unverified`, so reports can say when a figure rests on an unverified price.

mod catalog_file;
pub mod import;
mod suggest;
pub mod user_file;

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

pub use catalog_file::{ClassRates, ComputeCatalog, InstanceSpec, LambdaCatalog, LambdaRates};
pub use suggest::near_matches;

/// Hours in the month every monthly figure uses (AWS, GCP and Azure price pages use 730).
pub const HOURS_PER_MONTH: f64 = 730.0;

const BUILT_IN: [(&str, &str); 4] = [
    (
        "aws-ec2.toml",
        include_str!("../../assets/pricing/aws-ec2.toml"),
    ),
    (
        "gcp-compute.toml",
        include_str!("../../assets/pricing/gcp-compute.toml"),
    ),
    (
        "azure-vm.toml",
        include_str!("../../assets/pricing/azure-vm.toml"),
    ),
    (
        "aws-aurora.toml",
        include_str!("../../assets/pricing/aws-aurora.toml"),
    ),
];
const LAMBDA: (&str, &str) = (
    "aws-lambda.toml",
    include_str!("../../assets/pricing/aws-lambda.toml"),
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Aws,
    Gcp,
    Azure,
}

impl Cloud {
    pub fn as_str(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Gcp => "gcp",
            Cloud::Azure => "azure",
        }
    }
}

impl fmt::Display for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    X86_64,
    Arm64,
}

/// What an instance type is optimized for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstanceClass {
    General,
    Compute,
    Memory,
    Network,
}

impl InstanceClass {
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceClass::General => "general",
            InstanceClass::Compute => "compute",
            InstanceClass::Memory => "memory",
            InstanceClass::Network => "network",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PriceStatus {
    Verified,
    Unverified,
}

/// One resolved price with where it came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Price {
    pub usd_per_hour: f64,
    pub status: PriceStatus,
    /// e.g. "aws-ec2.toml (as of 2025-11-01)", "pricing.toml (AWS offer file 2025-10-30)".
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PricingError {
    #[error("{file}: {message}")]
    BadFile { file: String, message: String },
    #[error("unknown instance type '{name}'{}", did_you_mean(.suggestions))]
    UnknownType {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("no price for {name} in region '{region}' (priced regions: {})", .known.join(", "))]
    UnknownRegion {
        name: String,
        region: String,
        known: Vec<String>,
    },
}

fn did_you_mean(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", s.join(", "))
    }
}

/// A single price that replaces the catalog's (config `[[pricing.overrides]]`, user file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceOverride {
    pub name: String,
    pub region: String,
    pub usd_per_hour: f64,
    /// `verified` when taken from a provider price file or a cited figure.
    #[serde(default = "unverified")]
    pub status: PriceStatus,
    /// Where the figure comes from (shown beside it).
    #[serde(default)]
    pub source: String,
}

fn unverified() -> PriceStatus {
    PriceStatus::Unverified
}

/// The whole catalog: compute catalogs (EC2, GCE, Azure VMs, Aurora), Lambda, overrides.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub compute: Vec<ComputeCatalog>,
    pub lambda: LambdaCatalog,
    /// (name, region) -> override price; later entries win.
    overrides: BTreeMap<(String, String), Price>,
}

impl Catalog {
    /// The built-in catalog embedded in the binary.
    pub fn built_in() -> Result<Catalog, PricingError> {
        let compute = BUILT_IN
            .iter()
            .map(|(file, text)| catalog_file::parse_compute(text, file))
            .collect::<Result<Vec<_>, _>>()?;
        let lambda = catalog_file::parse_lambda(LAMBDA.1, LAMBDA.0)?;
        Ok(Catalog {
            compute,
            lambda,
            overrides: BTreeMap::new(),
        })
    }

    /// Applies overrides (config, user pricing file); each is validated first.
    pub fn apply_overrides(
        &mut self,
        overrides: &[PriceOverride],
        origin: &str,
    ) -> Result<(), PricingError> {
        for o in overrides {
            if !(o.usd_per_hour.is_finite() && o.usd_per_hour > 0.0) {
                return Err(PricingError::BadFile {
                    file: origin.to_string(),
                    message: format!(
                        "price of {} in {} must be a positive number, got {}",
                        o.name, o.region, o.usd_per_hour
                    ),
                });
            }
            self.instance(&o.name)?;
            let source = if o.source.is_empty() {
                origin.to_string()
            } else {
                format!("{origin} ({})", o.source)
            };
            self.overrides.insert(
                (o.name.clone(), o.region.clone()),
                Price {
                    usd_per_hour: o.usd_per_hour,
                    status: o.status,
                    source,
                },
            );
        }
        Ok(())
    }

    /// Adds instance types the built-in catalog lacks (from an imported price file).
    pub fn add_instances(&mut self, cloud: Cloud, specs: Vec<InstanceSpec>) {
        if let Some(c) = self
            .compute
            .iter_mut()
            .find(|c| c.cloud == cloud && c.service != "aurora")
        {
            for s in specs {
                if !c.instances.iter().any(|i| i.name == s.name) {
                    c.instances.push(s);
                }
            }
        }
    }

    /// Every instance type name, for suggestions.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.compute
            .iter()
            .flat_map(|c| c.instances.iter().map(|i| i.name.as_str()))
    }

    /// The instance type and the catalog it belongs to.
    pub fn instance(&self, name: &str) -> Result<(&ComputeCatalog, &InstanceSpec), PricingError> {
        self.compute
            .iter()
            .find_map(|c| c.instances.iter().find(|i| i.name == name).map(|i| (c, i)))
            .ok_or_else(|| PricingError::UnknownType {
                name: name.to_string(),
                suggestions: near_matches(name, self.names(), 3),
            })
    }

    /// On-demand $/h of a type in a region: an override if any, else the catalog's list price.
    pub fn on_demand(&self, name: &str, region: &str) -> Result<Price, PricingError> {
        if let Some(p) = self.overrides.get(&(name.to_string(), region.to_string())) {
            return Ok(p.clone());
        }
        let (cat, spec) = self.instance(name)?;
        let usd =
            spec.on_demand
                .get(region)
                .copied()
                .ok_or_else(|| PricingError::UnknownRegion {
                    name: name.to_string(),
                    region: region.to_string(),
                    known: self.regions_of(name),
                })?;
        Ok(Price {
            usd_per_hour: usd,
            status: if spec.verified.iter().any(|r| r == region) {
                PriceStatus::Verified
            } else {
                PriceStatus::Unverified
            },
            source: format!("{} (as of {})", cat.file, cat.as_of),
        })
    }

    /// Regions with a price for the type (catalog and overrides).
    pub fn regions_of(&self, name: &str) -> Vec<String> {
        let mut r: Vec<String> = self
            .instance(name)
            .map(|(_, s)| s.on_demand.keys().cloned().collect())
            .unwrap_or_default();
        for (n, region) in self.overrides.keys() {
            if n == name && !r.contains(region) {
                r.push(region.clone());
            }
        }
        r.sort();
        r
    }

    /// Availability zones of `region` in the catalog that prices the type, with the source of
    /// the count; None where the catalog gives no count for the region.
    pub fn zones(&self, name: &str, region: &str) -> Option<(u32, &str)> {
        let (cat, _) = self.instance(name).ok()?;
        cat.zones
            .get(region)
            .map(|n| (*n, cat.zones_source.as_str()))
    }

    /// Discount rates of the type's class.
    pub fn class_rates(&self, name: &str) -> Result<&ClassRates, PricingError> {
        let (cat, spec) = self.instance(name)?;
        cat.classes
            .get(spec.class.as_str())
            .ok_or_else(|| PricingError::BadFile {
                file: cat.file.clone(),
                message: format!("no [classes.{}] rates for {name}", spec.class.as_str()),
            })
    }
}

#[cfg(test)]
mod tests;

//! The user pricing file: prices brought in by `scaletop pricing import` (verified, from the
//! provider's own file) merged over earlier imports, plus the shapes of types the built-in
//! catalog lacks. Written atomically (temp file + rename), the previous version kept as
//! `.bak`, refused under `--readonly`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::import::Imported;
use super::{Catalog, Cloud, InstanceSpec, PriceOverride, PriceStatus, PricingError};

/// File name of the user pricing file inside the output directory.
pub const FILE_NAME: &str = "pricing.toml";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserPricing {
    #[serde(default)]
    pub price: Vec<PriceOverride>,
    #[serde(default)]
    pub instance: Vec<UserInstance>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserInstance {
    pub cloud: Cloud,
    #[serde(flatten)]
    pub spec: InstanceSpec,
}

fn bad(file: &Path, message: impl Into<String>) -> PricingError {
    PricingError::BadFile {
        file: file.display().to_string(),
        message: message.into(),
    }
}

impl UserPricing {
    /// Reads the file; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<UserPricing, PricingError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(bad(path, format!("cannot read: {e}"))),
        };
        toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
                .unwrap_or(0);
            bad(path, format!("line {line}: {}", e.message().trim()))
        })
    }

    /// Merges imported prices over existing ones (same type and region: the import wins).
    /// Types neither in `catalog` nor described by the file are left out and counted.
    pub fn merge(&mut self, imported: &Imported, catalog: &Catalog) -> MergeCounts {
        let mut counts = MergeCounts::default();
        for p in &imported.prices {
            let known = catalog.instance(&p.name).is_ok()
                || self.instance.iter().any(|i| i.spec.name == p.name);
            if !known {
                match &p.shape {
                    Some(shape) => self.instance.push(UserInstance {
                        cloud: p.cloud,
                        spec: shape.clone(),
                    }),
                    None => {
                        counts.unknown_types += 1;
                        continue;
                    }
                }
            }
            let entry = PriceOverride {
                name: p.name.clone(),
                region: p.region.clone(),
                usd_per_hour: p.usd_per_hour,
                status: PriceStatus::Verified,
                source: imported.source.clone(),
            };
            match self
                .price
                .iter_mut()
                .find(|o| o.name == p.name && o.region == p.region)
            {
                Some(o) => {
                    *o = entry;
                    counts.replaced += 1;
                }
                None => {
                    self.price.push(entry);
                    counts.added += 1;
                }
            }
        }
        self.price
            .sort_by(|a, b| (&a.name, &a.region).cmp(&(&b.name, &b.region)));
        counts
    }

    /// Adds the file's types and prices to the catalog.
    pub fn apply(&self, catalog: &mut Catalog, origin: &str) -> Result<(), PricingError> {
        for cloud in [Cloud::Aws, Cloud::Gcp, Cloud::Azure] {
            let specs: Vec<InstanceSpec> = self
                .instance
                .iter()
                .filter(|i| i.cloud == cloud)
                .map(|i| i.spec.clone())
                .collect();
            catalog.add_instances(cloud, specs);
        }
        catalog.apply_overrides(&self.price, origin)
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string(self).unwrap_or_default();
        format!("# scaletop user pricing file, written by `scaletop pricing import`.\n# Prices here replace the built-in catalog's; each names its source.\n\n{body}")
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeCounts {
    pub added: usize,
    pub replaced: usize,
    pub unknown_types: usize,
}

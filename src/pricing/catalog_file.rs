//! The catalog file format (`assets/pricing/*.toml`) and its validation: every price positive
//! and finite, every instance priced somewhere, every class it uses given rates.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Arch, Cloud, InstanceClass, PriceStatus, PricingError};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ComputeFile {
    cloud: Cloud,
    service: String,
    currency: String,
    as_of: String,
    source: String,
    verified_by: String,
    regions: Vec<String>,
    /// Availability zones per region (a spot pool is one type in one zone).
    #[serde(default)]
    zones: BTreeMap<String, u32>,
    #[serde(default)]
    zones_source: String,
    instances: Vec<InstanceSpec>,
    classes: BTreeMap<String, ClassRates>,
}

/// One instance type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceSpec {
    pub name: String,
    pub class: InstanceClass,
    pub arch: Arch,
    pub vcpu: u32,
    pub memory_gib: f64,
    pub network: String,
    /// Region -> on-demand USD per hour.
    pub on_demand: BTreeMap<String, f64>,
    /// Regions whose on-demand price is verified.
    #[serde(default)]
    pub verified: Vec<String>,
}

impl InstanceSpec {
    /// Network class rank for comparisons: the highest Gbps figure in the description.
    pub fn network_gbps(&self) -> f64 {
        self.network
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .filter_map(|t| t.parse::<f64>().ok())
            .fold(0.0, f64::max)
    }
}

/// Discounts of one instance class, as fractions off on-demand (0.37 = 37% off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassRates {
    pub spot_discount: f64,
    /// Interruption frequency band, e.g. "<5%" (AWS Spot Instance Advisor).
    pub spot_interruption_band: String,
    pub reserved_1y: f64,
    pub reserved_3y: f64,
    #[serde(default)]
    pub compute_savings_plan_1y: Option<f64>,
    #[serde(default)]
    pub compute_savings_plan_3y: Option<f64>,
    #[serde(default)]
    pub instance_savings_plan_1y: Option<f64>,
    #[serde(default)]
    pub instance_savings_plan_3y: Option<f64>,
    pub status: PriceStatus,
}

impl ClassRates {
    /// Midpoint of the interruption band as a monthly fraction of instances interrupted
    /// ("<5%" -> 2.5%, "5-10%" -> 7.5%, ">20%" -> 25%); None for "n/a".
    pub fn interruption_rate_per_month(&self) -> Option<f64> {
        let b = self.spot_interruption_band.trim().trim_end_matches('%');
        if let Some(v) = b.strip_prefix('<') {
            return v.trim().parse::<f64>().ok().map(|v| v / 200.0);
        }
        if let Some(v) = b.strip_prefix('>') {
            return v.trim().parse::<f64>().ok().map(|v| v * 1.25 / 100.0);
        }
        let (lo, hi) = b.split_once('-')?;
        let lo: f64 = lo.trim().parse().ok()?;
        let hi: f64 = hi.trim().trim_end_matches('%').parse().ok()?;
        Some((lo + hi) / 200.0)
    }
}

/// A parsed, validated compute catalog.
#[derive(Debug, Clone)]
pub struct ComputeCatalog {
    pub file: String,
    pub cloud: Cloud,
    pub service: String,
    pub as_of: String,
    pub source: String,
    pub verified_by: String,
    pub regions: Vec<String>,
    /// Availability zones per region; empty where the file gives none.
    pub zones: BTreeMap<String, u32>,
    /// Where the zone counts come from.
    pub zones_source: String,
    pub instances: Vec<InstanceSpec>,
    pub classes: BTreeMap<String, ClassRates>,
}

fn bad(file: &str, message: String) -> PricingError {
    PricingError::BadFile {
        file: file.to_string(),
        message,
    }
}

fn toml_error(text: &str, file: &str, e: toml::de::Error) -> PricingError {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
        .unwrap_or(0);
    bad(
        file,
        format!("line {line}: {}", e.message().trim().replace('\n', " ")),
    )
}

fn check_fraction(file: &str, what: &str, v: f64) -> Result<(), PricingError> {
    if v.is_finite() && (0.0..1.0).contains(&v) {
        Ok(())
    } else {
        Err(bad(
            file,
            format!("{what} must be a fraction in [0, 1), got {v}"),
        ))
    }
}

pub fn parse_compute(text: &str, file: &str) -> Result<ComputeCatalog, PricingError> {
    let f: ComputeFile = toml::from_str(text).map_err(|e| toml_error(text, file, e))?;
    if f.currency != "USD" {
        return Err(bad(
            file,
            format!("currency must be USD, got {}", f.currency),
        ));
    }
    for (class, r) in &f.classes {
        let fractions = [
            ("spot_discount", Some(r.spot_discount)),
            ("reserved_1y", Some(r.reserved_1y)),
            ("reserved_3y", Some(r.reserved_3y)),
            ("compute_savings_plan_1y", r.compute_savings_plan_1y),
            ("compute_savings_plan_3y", r.compute_savings_plan_3y),
            ("instance_savings_plan_1y", r.instance_savings_plan_1y),
            ("instance_savings_plan_3y", r.instance_savings_plan_3y),
        ];
        for (k, v) in fractions {
            if let Some(v) = v {
                check_fraction(file, &format!("classes.{class}.{k}"), v)?;
            }
        }
    }
    check_zones(file, &f)?;
    let mut seen = std::collections::BTreeSet::new();
    for i in &f.instances {
        if !seen.insert(i.name.as_str()) {
            return Err(bad(file, format!("{} is listed twice", i.name)));
        }
        if i.on_demand.is_empty() {
            return Err(bad(file, format!("{} has no on-demand price", i.name)));
        }
        if let Some((region, p)) = i
            .on_demand
            .iter()
            .find(|(_, p)| !(p.is_finite() && **p > 0.0))
        {
            return Err(bad(
                file,
                format!(
                    "{} in {region}: price must be a positive number, got {p}",
                    i.name
                ),
            ));
        }
        if i.vcpu == 0 || !(i.memory_gib.is_finite() && i.memory_gib > 0.0) {
            return Err(bad(
                file,
                format!("{}: vcpu and memory_gib must be positive", i.name),
            ));
        }
        if !f.classes.contains_key(i.class.as_str()) {
            return Err(bad(
                file,
                format!("{}: no [classes.{}] rates", i.name, i.class.as_str()),
            ));
        }
        if let Some(r) = i.verified.iter().find(|r| !i.on_demand.contains_key(*r)) {
            return Err(bad(
                file,
                format!("{}: verified region {r} has no price", i.name),
            ));
        }
    }
    Ok(ComputeCatalog {
        file: file.to_string(),
        cloud: f.cloud,
        service: f.service,
        as_of: f.as_of,
        source: f.source,
        verified_by: f.verified_by,
        regions: f.regions,
        zones: f.zones,
        zones_source: f.zones_source,
        instances: f.instances,
        classes: f.classes,
    })
}

/// Zone counts, where given, cover every listed region, are whole zones a region can have
/// (1-12: no provider region has more today) and cite their source.
fn check_zones(file: &str, f: &ComputeFile) -> Result<(), PricingError> {
    if f.zones.is_empty() {
        return Ok(());
    }
    if f.zones_source.trim().is_empty() {
        return Err(bad(file, "zones needs a zones_source".into()));
    }
    if let Some((r, n)) = f.zones.iter().find(|(_, n)| !(1..=12).contains(*n)) {
        return Err(bad(
            file,
            format!("zones.{r} must be 1-12 availability zones, got {n}"),
        ));
    }
    if let Some(r) = f.regions.iter().find(|r| !f.zones.contains_key(*r)) {
        return Err(bad(file, format!("region {r} has no zones count")));
    }
    Ok(())
}

/// Lambda rates of one architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaRates {
    pub request_usd: f64,
    pub duration_usd_per_gb_second: f64,
    pub provisioned_usd_per_gb_second: f64,
    pub provisioned_duration_usd_per_gb_second: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaSavingsPlan {
    pub compute_savings_plan_1y: f64,
    pub compute_savings_plan_3y: f64,
    pub status: PriceStatus,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LambdaFile {
    cloud: Cloud,
    service: String,
    currency: String,
    as_of: String,
    source: String,
    verified_by: String,
    regions: Vec<String>,
    verified: Vec<String>,
    x86_64: LambdaRates,
    arm64: LambdaRates,
    savings_plan: LambdaSavingsPlan,
}

#[derive(Debug, Clone)]
pub struct LambdaCatalog {
    pub file: String,
    pub as_of: String,
    pub source: String,
    pub verified_by: String,
    pub regions: Vec<String>,
    pub verified: Vec<String>,
    pub x86_64: LambdaRates,
    pub arm64: LambdaRates,
    pub savings_plan: LambdaSavingsPlan,
}

impl LambdaCatalog {
    pub fn status(&self, region: &str) -> PriceStatus {
        if self.verified.iter().any(|r| r == region) {
            PriceStatus::Verified
        } else {
            PriceStatus::Unverified
        }
    }
}

pub fn parse_lambda(text: &str, file: &str) -> Result<LambdaCatalog, PricingError> {
    let f: LambdaFile = toml::from_str(text).map_err(|e| toml_error(text, file, e))?;
    if f.cloud != Cloud::Aws || f.service != "lambda" || f.currency != "USD" {
        return Err(bad(file, "expected cloud aws, service lambda, USD".into()));
    }
    for (arch, r) in [("x86_64", &f.x86_64), ("arm64", &f.arm64)] {
        for (k, v) in [
            ("request_usd", r.request_usd),
            ("duration_usd_per_gb_second", r.duration_usd_per_gb_second),
            (
                "provisioned_usd_per_gb_second",
                r.provisioned_usd_per_gb_second,
            ),
            (
                "provisioned_duration_usd_per_gb_second",
                r.provisioned_duration_usd_per_gb_second,
            ),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(bad(
                    file,
                    format!("{arch}.{k} must be a positive number, got {v}"),
                ));
            }
        }
    }
    check_fraction(
        file,
        "savings_plan.compute_savings_plan_1y",
        f.savings_plan.compute_savings_plan_1y,
    )?;
    check_fraction(
        file,
        "savings_plan.compute_savings_plan_3y",
        f.savings_plan.compute_savings_plan_3y,
    )?;
    Ok(LambdaCatalog {
        file: file.to_string(),
        as_of: f.as_of,
        source: f.source,
        verified_by: f.verified_by,
        regions: f.regions,
        verified: f.verified,
        x86_64: f.x86_64,
        arm64: f.arm64,
        savings_plan: f.savings_plan,
    })
}

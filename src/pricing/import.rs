//! `scaletop pricing import FILE`: reads a provider's own price file and returns its on-demand
//! Linux prices, verified by construction.
//!
//! - AWS price list offer file (`offers/v1.0/aws/AmazonEC2/current/<region>/index.json`):
//!   products with `productFamily` "Compute Instance", Linux, shared tenancy, no pre-installed
//!   software, capacity status "Used"; their OnDemand term's hourly USD price.
//! - Azure retail prices API response (`prices.azure.com/api/retail/prices`): `Items` of
//!   service "Virtual Machines", type "Consumption", not Windows, not Spot / Low Priority.
//! - GCP Cloud Billing catalog SKUs (`services/6F81-5844-456A/skus`): OnDemand per-vCPU and
//!   per-GiB hourly rates of a machine series per region; a machine type's price is
//!   vCPUs x core rate + GiB x RAM rate (how Google prices predefined types).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Arch, Catalog, Cloud, InstanceClass, InstanceSpec, PricingError};

/// One imported on-demand price.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedPrice {
    pub cloud: Cloud,
    pub name: String,
    pub region: String,
    pub usd_per_hour: f64,
    /// The type's shape when the file describes it (AWS offer files do).
    pub shape: Option<InstanceSpec>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    pub format: &'static str,
    /// e.g. "AWS offer file AmazonEC2, published 2025-10-30T12:00:00Z".
    pub source: String,
    pub prices: Vec<ImportedPrice>,
    /// Entries skipped and why (counts by reason).
    pub skipped: BTreeMap<String, usize>,
}

fn bad(file: &str, message: impl Into<String>) -> PricingError {
    PricingError::BadFile {
        file: file.to_string(),
        message: message.into(),
    }
}

/// Detects the format and imports. `catalog` gives GCP machine shapes.
pub fn import(text: &str, file: &str, catalog: &Catalog) -> Result<Imported, PricingError> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        bad(
            file,
            format!("not JSON ({e}); expected an AWS offer file, an Azure retail prices response or GCP billing catalog SKUs"),
        )
    })?;
    let imported = if v.get("offerCode").is_some() && v.get("products").is_some() {
        aws_offer(&v, file)?
    } else if v.get("Items").is_some_and(Value::is_array) {
        azure_retail(&v, file)?
    } else if v.get("skus").is_some_and(Value::is_array) {
        gcp_skus(&v, file, catalog)?
    } else {
        return Err(bad(
            file,
            "unrecognised price file: expected an AWS offer file (offerCode, products, terms), an Azure retail prices response (Items) or GCP billing catalog SKUs (skus)",
        ));
    };
    if imported.prices.is_empty() {
        return Err(bad(
            file,
            format!(
                "{}: no usable on-demand Linux prices found (skipped: {})",
                imported.format,
                skipped_text(&imported.skipped)
            ),
        ));
    }
    Ok(imported)
}

pub fn skipped_text(s: &BTreeMap<String, usize>) -> String {
    if s.is_empty() {
        return "none".into();
    }
    s.iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn positive_price(file: &str, what: &str, text_or_num: &Value) -> Result<f64, PricingError> {
    let p = match text_or_num {
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
    .ok_or_else(|| bad(file, format!("{what}: price is missing or not a number")))?;
    if !p.is_finite() || p < 0.0 {
        return Err(bad(file, format!("{what}: negative or invalid price {p}")));
    }
    Ok(p)
}

/// AWS location names of the offer file's older `location` attribute.
const AWS_LOCATIONS: [(&str, &str); 12] = [
    ("US East (N. Virginia)", "us-east-1"),
    ("US East (Ohio)", "us-east-2"),
    ("US West (N. California)", "us-west-1"),
    ("US West (Oregon)", "us-west-2"),
    ("EU (Ireland)", "eu-west-1"),
    ("EU (London)", "eu-west-2"),
    ("EU (Frankfurt)", "eu-central-1"),
    ("Asia Pacific (Singapore)", "ap-southeast-1"),
    ("Asia Pacific (Sydney)", "ap-southeast-2"),
    ("Asia Pacific (Tokyo)", "ap-northeast-1"),
    ("Asia Pacific (Mumbai)", "ap-south-1"),
    ("South America (Sao Paulo)", "sa-east-1"),
];

fn aws_offer(v: &Value, file: &str) -> Result<Imported, PricingError> {
    let products = v["products"]
        .as_object()
        .ok_or_else(|| bad(file, "products is not an object"))?;
    let on_demand = v["terms"]["OnDemand"]
        .as_object()
        .ok_or_else(|| bad(file, "terms.OnDemand is missing"))?;
    let mut skipped = BTreeMap::new();
    let mut skip = |why: &str| *skipped.entry(why.to_string()).or_insert(0) += 1;
    let mut prices = Vec::new();
    for (sku, p) in products {
        let a = &p["attributes"];
        let s = |k: &str| a[k].as_str().unwrap_or("");
        if p["productFamily"].as_str() != Some("Compute Instance") {
            skip("not compute instances");
            continue;
        }
        if s("operatingSystem") != "Linux"
            || s("tenancy") != "Shared"
            || s("preInstalledSw") != "NA"
            || !matches!(s("capacitystatus"), "Used" | "")
            || !matches!(s("licenseModel"), "No License required" | "")
        {
            skip("not Linux shared on-demand");
            continue;
        }
        let region = match a["regionCode"].as_str() {
            Some(r) => r.to_string(),
            None => match AWS_LOCATIONS.iter().find(|(l, _)| *l == s("location")) {
                Some((_, r)) => r.to_string(),
                None => {
                    skip("unknown location");
                    continue;
                }
            },
        };
        let name = s("instanceType").to_string();
        let Some(terms) = on_demand.get(sku).and_then(Value::as_object) else {
            skip("without an on-demand term");
            continue;
        };
        let dims = terms
            .values()
            .filter_map(|t| t["priceDimensions"].as_object())
            .flat_map(|d| d.values());
        let mut usd = None;
        for d in dims {
            if d["unit"].as_str() == Some("Hrs") {
                usd = Some(positive_price(
                    file,
                    &format!("{name} in {region}"),
                    &d["pricePerUnit"]["USD"],
                )?);
            }
        }
        let Some(usd) = usd.filter(|u| *u > 0.0) else {
            skip("with no positive hourly price");
            continue;
        };
        let vcpu = s("vcpu").parse::<u32>().ok();
        let memory_gib = s("memory")
            .trim_end_matches("GiB")
            .trim()
            .replace(',', "")
            .parse::<f64>()
            .ok();
        let arch = if s("physicalProcessor").contains("Graviton") {
            Arch::Arm64
        } else {
            Arch::X86_64
        };
        let class = match s("instanceFamily") {
            "Compute optimized" => InstanceClass::Compute,
            "Memory optimized" => InstanceClass::Memory,
            _ => InstanceClass::General,
        };
        let shape = match (vcpu, memory_gib) {
            (Some(vcpu), Some(memory_gib)) if vcpu > 0 && memory_gib > 0.0 => Some(InstanceSpec {
                name: name.clone(),
                class,
                arch,
                vcpu,
                memory_gib,
                network: s("networkPerformance").to_string(),
                on_demand: BTreeMap::from([(region.clone(), usd)]),
                verified: vec![region.clone()],
            }),
            _ => None,
        };
        prices.push(ImportedPrice {
            cloud: Cloud::Aws,
            name,
            region,
            usd_per_hour: usd,
            shape,
        });
    }
    prices.sort_by(|a, b| (&a.name, &a.region).cmp(&(&b.name, &b.region)));
    Ok(Imported {
        format: "AWS price list offer file",
        source: format!(
            "AWS offer file {}, published {}",
            v["offerCode"].as_str().unwrap_or("?"),
            v["publicationDate"].as_str().unwrap_or("?")
        ),
        prices,
        skipped,
    })
}

fn azure_retail(v: &Value, file: &str) -> Result<Imported, PricingError> {
    let items = v["Items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let mut skipped = BTreeMap::new();
    let mut skip = |why: &str| *skipped.entry(why.to_string()).or_insert(0) += 1;
    let mut prices = Vec::new();
    for it in items {
        let s = |k: &str| it[k].as_str().unwrap_or("");
        if s("serviceName") != "Virtual Machines" {
            skip("not virtual machines");
            continue;
        }
        if s("type") != "Consumption" {
            skip("reservations / dev-test");
            continue;
        }
        if s("currencyCode") != "USD" {
            skip("not USD");
            continue;
        }
        if s("productName").contains("Windows") {
            skip("Windows");
            continue;
        }
        if s("meterName").contains("Spot") || s("meterName").contains("Low Priority") {
            skip("spot / low priority");
            continue;
        }
        if s("unitOfMeasure") != "1 Hour" {
            skip("not hourly");
            continue;
        }
        let name = s("armSkuName").to_string();
        let region = s("armRegionName").to_string();
        if name.is_empty() || region.is_empty() {
            skip("without armSkuName / armRegionName");
            continue;
        }
        let usd = positive_price(file, &format!("{name} in {region}"), &it["retailPrice"])?;
        if usd == 0.0 {
            skip("priced at zero");
            continue;
        }
        prices.push(ImportedPrice {
            cloud: Cloud::Azure,
            name,
            region,
            usd_per_hour: usd,
            shape: None,
        });
    }
    prices.sort_by(|a, b| (&a.name, &a.region).cmp(&(&b.name, &b.region)));
    Ok(Imported {
        format: "Azure retail prices API response",
        source: format!(
            "Azure retail prices API ({} items)",
            v["Count"].as_u64().unwrap_or(items.len() as u64)
        ),
        prices,
        skipped,
    })
}

/// The machine series a GCP SKU description prices ("N2 Instance Core running in Americas").
fn gcp_series(description: &str) -> Option<(String, bool)> {
    let d = description;
    let is_core = d.contains(" Core running in ");
    let is_ram = d.contains(" Ram running in ");
    if !(is_core || is_ram) {
        return None;
    }
    let lower = d.to_ascii_lowercase();
    if [
        "preemptible",
        "spot",
        "commitment",
        "custom",
        "sole tenancy",
        "premium",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        return None;
    }
    let series = if d.starts_with("Compute optimized") {
        "c2".to_string()
    } else {
        d.split_whitespace().next()?.to_ascii_lowercase()
    };
    Some((series, is_core))
}

fn nanos_price(rate: &Value) -> Option<f64> {
    let units = match &rate["unitPrice"]["units"] {
        Value::String(s) => s.parse::<f64>().ok()?,
        Value::Number(n) => n.as_f64()?,
        _ => 0.0,
    };
    let nanos = rate["unitPrice"]["nanos"].as_f64().unwrap_or(0.0);
    Some(units + nanos / 1e9)
}

fn gcp_skus(v: &Value, file: &str, catalog: &Catalog) -> Result<Imported, PricingError> {
    let skus = v["skus"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let mut skipped = BTreeMap::new();
    let mut skip = |why: &str| *skipped.entry(why.to_string()).or_insert(0) += 1;
    // (series, region) -> (core $/vCPU-h, ram $/GiB-h)
    let mut rates: BTreeMap<(String, String), (Option<f64>, Option<f64>)> = BTreeMap::new();
    for sku in skus {
        let cat = &sku["category"];
        if cat["serviceDisplayName"].as_str() != Some("Compute Engine")
            || cat["usageType"].as_str() != Some("OnDemand")
        {
            skip("not on-demand Compute Engine");
            continue;
        }
        let desc = sku["description"].as_str().unwrap_or("");
        let Some((series, is_core)) = gcp_series(desc) else {
            skip("not a predefined core/RAM rate");
            continue;
        };
        let Some(rate) = sku["pricingInfo"]
            .get(0)
            .and_then(|p| p["pricingExpression"]["tieredRates"].as_array())
            .and_then(|r| r.last())
        else {
            skip("without a rate");
            continue;
        };
        let usd = nanos_price(rate)
            .ok_or_else(|| bad(file, format!("{desc}: unitPrice is not a number")))?;
        if !(usd.is_finite() && usd >= 0.0) {
            return Err(bad(
                file,
                format!("{desc}: negative or invalid price {usd}"),
            ));
        }
        for region in sku["serviceRegions"].as_array().into_iter().flatten() {
            let Some(region) = region.as_str() else {
                continue;
            };
            let e = rates
                .entry((series.clone(), region.to_string()))
                .or_default();
            if is_core {
                e.0 = Some(usd);
            } else {
                e.1 = Some(usd);
            }
        }
    }
    let gcp = catalog
        .compute
        .iter()
        .find(|c| c.cloud == Cloud::Gcp)
        .ok_or_else(|| bad(file, "the catalog has no GCP machine types to price"))?;
    let mut prices = Vec::new();
    for ((series, region), (core, ram)) in &rates {
        let (Some(core), Some(ram)) = (core, ram) else {
            skip("series with only a core or only a RAM rate");
            continue;
        };
        for m in gcp
            .instances
            .iter()
            .filter(|m| m.name.split('-').next() == Some(series.as_str()))
        {
            let usd = f64::from(m.vcpu) * core + m.memory_gib * ram;
            if usd > 0.0 {
                prices.push(ImportedPrice {
                    cloud: Cloud::Gcp,
                    name: m.name.clone(),
                    region: region.clone(),
                    usd_per_hour: (usd * 1e6).round() / 1e6,
                    shape: None,
                });
            }
        }
    }
    prices.sort_by(|a, b| (&a.name, &a.region).cmp(&(&b.name, &b.region)));
    Ok(Imported {
        format: "GCP billing catalog SKUs",
        source: format!("GCP Cloud Billing catalog ({} SKUs)", skus.len()),
        prices,
        skipped,
    })
}

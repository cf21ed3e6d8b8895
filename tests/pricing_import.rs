//! `scaletop pricing import` on small real-shaped provider price files: the right prices come
//! out, the wrong rows are skipped, the user file is merged atomically with a .bak, and a wrong
//! file is refused with exit 2.

mod support;

use std::path::{Path, PathBuf};

use scaletop::pricing::import::import;
use scaletop::pricing::user_file::UserPricing;
use scaletop::pricing::{Catalog, PriceStatus};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/pricing")
        .join(name)
}

fn text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("fixture")
}

fn price(imp: &scaletop::pricing::import::Imported, name: &str, region: &str) -> Option<f64> {
    imp.prices
        .iter()
        .find(|p| p.name == name && p.region == region)
        .map(|p| p.usd_per_hour)
}

#[test]
fn aws_offer_file_keeps_linux_shared_on_demand_only() {
    let c = Catalog::built_in().unwrap();
    let imp = import(&text("aws-offer-ec2-sample.json"), "aws.json", &c).unwrap();
    assert_eq!(imp.format, "AWS price list offer file");
    assert!(imp.source.contains("2025-10-30T22:15:54Z"));
    assert_eq!(price(&imp, "m5.xlarge", "us-east-1"), Some(0.192));
    // Older files name the region by location only.
    assert_eq!(price(&imp, "m6g.xlarge", "eu-west-1"), Some(0.172));
    assert_eq!(price(&imp, "r7i.large", "us-east-1"), Some(0.1323));
    // Windows, unused reservation, data transfer: skipped, never priced.
    assert_eq!(imp.prices.len(), 3);
    assert_eq!(imp.skipped.values().sum::<usize>(), 3, "{:?}", imp.skipped);
    let r7i = imp.prices.iter().find(|p| p.name == "r7i.large").unwrap();
    let shape = r7i.shape.as_ref().expect("offer files describe the type");
    assert_eq!((shape.vcpu, shape.memory_gib), (2, 16.0));
}

#[test]
fn azure_retail_prices_keep_linux_pay_as_you_go() {
    let c = Catalog::built_in().unwrap();
    let imp = import(&text("azure-retail-prices-sample.json"), "az.json", &c).unwrap();
    assert_eq!(price(&imp, "Standard_D4s_v5", "eastus"), Some(0.192));
    assert_eq!(price(&imp, "Standard_D4s_v5", "westeurope"), Some(0.23));
    assert_eq!(price(&imp, "Standard_B2ms", "eastus"), Some(0.0832));
    assert_eq!(
        imp.prices.len(),
        3,
        "Windows, Spot, Reservation and bandwidth skipped"
    );
}

#[test]
fn gcp_skus_price_machine_types_from_core_and_ram_rates() {
    let c = Catalog::built_in().unwrap();
    let imp = import(&text("gcp-billing-skus-sample.json"), "gcp.json", &c).unwrap();
    // n2-standard-4 = 4 x 0.031611 + 16 x 0.004237 = 0.194236 (the published list price).
    assert_eq!(price(&imp, "n2-standard-4", "us-central1"), Some(0.194236));
    assert_eq!(price(&imp, "n2-highcpu-8", "us-east1"), Some(0.286784));
    // e2-standard-8 = 8 x 0.021811 + 32 x 0.002923 = 0.268024.
    assert_eq!(price(&imp, "e2-standard-8", "us-central1"), Some(0.268024));
    // Spot and commitment SKUs never become on-demand prices.
    assert!(price(&imp, "n2-standard-4", "us-central1").unwrap() > 0.1);
}

#[test]
fn wrong_or_negative_files_are_refused() {
    let c = Catalog::built_in().unwrap();
    let e = import("{\"hello\": 1}", "x.json", &c)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unrecognised price file"), "{e}");
    let e = import("not json", "x.json", &c).unwrap_err().to_string();
    assert!(e.contains("not JSON"), "{e}");
    let neg = text("azure-retail-prices-sample.json")
        .replace("\"retailPrice\": 0.192", "\"retailPrice\": -0.192");
    let e = import(&neg, "az.json", &c).unwrap_err().to_string();
    assert!(
        e.contains("negative") && e.contains("Standard_D4s_v5"),
        "{e}"
    );
    let missing = text("aws-offer-ec2-sample.json")
        .replace("\"USD\" : \"0.1920000000\"", "\"EUR\" : \"0.18\"");
    let e = import(&missing, "aws.json", &c).unwrap_err().to_string();
    assert!(e.contains("missing"), "{e}");
}

fn scaletop(args: &[&str], dir: &Path) -> std::process::Output {
    support::scaletop_in(dir, args)
}

#[test]
fn import_merges_into_the_user_file_with_a_backup_and_cost_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("prices.toml");
    let o = out.to_str().unwrap();
    let aws = fixture("aws-offer-ec2-sample.json");
    let r = scaletop(
        &["pricing", "import", aws.to_str().unwrap(), "--out", o],
        dir.path(),
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stdout).contains("3 prices added"));
    let az = fixture("azure-retail-prices-sample.json");
    let r = scaletop(
        &["pricing", "import", az.to_str().unwrap(), "--out", o],
        dir.path(),
    );
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert!(
        dir.path().join("prices.toml.bak").exists(),
        "previous version kept"
    );
    let user = UserPricing::load(&out).unwrap();
    assert_eq!(user.price.len(), 6);
    assert!(user.price.iter().all(|p| p.status == PriceStatus::Verified));
    // The merged file loads into the catalog: m6g.xlarge in eu-west-1 is now verified.
    let mut c = Catalog::built_in().unwrap();
    user.apply(&mut c, "prices.toml").unwrap();
    let p = c.on_demand("m6g.xlarge", "eu-west-1").unwrap();
    assert_eq!((p.usd_per_hour, p.status), (0.172, PriceStatus::Verified));
    assert!(
        c.on_demand("r7i.large", "us-east-1").is_ok(),
        "new type added with its shape"
    );
    // A wrong file: exit 2, one line, the user file untouched.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"products\": {}}").unwrap();
    let before = std::fs::read_to_string(&out).unwrap();
    let r = scaletop(
        &["pricing", "import", bad.to_str().unwrap(), "--out", o],
        dir.path(),
    );
    assert_eq!(r.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&r.stderr).lines().count(), 1);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), before);
    // --readonly refuses the write.
    let r = scaletop(
        &[
            "--readonly",
            "pricing",
            "import",
            az.to_str().unwrap(),
            "--out",
            o,
        ],
        dir.path(),
    );
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("readonly"));
}

use super::*;

fn catalog() -> Catalog {
    Catalog::built_in().expect("built-in catalog parses")
}

#[test]
fn well_known_list_prices_are_pinned() {
    let c = catalog();
    let p = c.on_demand("m5.xlarge", "us-east-1").unwrap();
    assert_eq!(p.usd_per_hour, 0.192);
    assert_eq!(p.status, PriceStatus::Verified);
    // Published list prices (provider price pages).
    for (name, region, usd) in [
        ("m5.large", "us-east-1", 0.096),
        ("c5.2xlarge", "us-east-1", 0.34),
        ("m6g.xlarge", "us-east-1", 0.154),
        ("r6g.large", "us-east-1", 0.1008),
        ("n2-standard-4", "us-central1", 0.194236),
        ("e2-standard-8", "us-central1", 0.268024),
        ("Standard_D4s_v5", "eastus", 0.192),
        ("Standard_F8s_v2", "eastus", 0.3384),
        ("db.r6g.xlarge", "us-east-1", 0.519),
    ] {
        assert_eq!(
            c.on_demand(name, region).unwrap().usd_per_hour,
            usd,
            "{name}"
        );
    }
    assert_eq!(c.lambda.x86_64.duration_usd_per_gb_second, 0.0000166667);
    assert!((c.lambda.x86_64.request_usd * 1e6 - 0.2).abs() < 1e-12);
}

#[test]
fn catalog_covers_the_families_users_run() {
    let c = catalog();
    for cloud in [Cloud::Aws, Cloud::Gcp, Cloud::Azure] {
        let cat = c
            .compute
            .iter()
            .find(|x| x.cloud == cloud && x.service != "aurora")
            .unwrap();
        assert!(
            cat.instances.len() >= 24,
            "{cloud}: {}",
            cat.instances.len()
        );
        assert!(cat.regions.len() >= 3);
        for class in [
            InstanceClass::General,
            InstanceClass::Compute,
            InstanceClass::Memory,
            InstanceClass::Network,
        ] {
            assert!(
                cat.instances.iter().any(|i| i.class == class),
                "{cloud} {class:?}"
            );
        }
        assert!(
            cat.instances.iter().any(|i| i.arch == Arch::Arm64),
            "{cloud} ARM"
        );
        assert!(cat.instances.iter().any(|i| i.arch == Arch::X86_64));
        // At least the common general-purpose type is priced in three regions.
        assert!(cat.instances.iter().any(|i| i.on_demand.len() >= 3));
    }
}

#[test]
fn unknown_type_suggests_near_matches_and_unknown_region_lists_known_ones() {
    let c = catalog();
    let e = c.on_demand("m5.xlarg", "us-east-1").unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("'m5.xlarg'") && text.contains("m5.xlarge"),
        "{text}"
    );
    let e = c.on_demand("m5.xlarge", "mars-north-1").unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("mars-north-1") && text.contains("us-east-1"),
        "{text}"
    );
}

#[test]
fn overrides_replace_a_price_and_bad_ones_are_refused() {
    let mut c = catalog();
    let o = PriceOverride {
        name: "m5.xlarge".into(),
        region: "us-east-1".into(),
        usd_per_hour: 0.15,
        status: PriceStatus::Unverified,
        source: "negotiated".into(),
    };
    c.apply_overrides(std::slice::from_ref(&o), "config")
        .unwrap();
    let p = c.on_demand("m5.xlarge", "us-east-1").unwrap();
    assert_eq!((p.usd_per_hour, p.status), (0.15, PriceStatus::Unverified));
    assert!(p.source.contains("negotiated"));
    for bad in [-0.1, 0.0, f64::NAN] {
        let o = PriceOverride {
            usd_per_hour: bad,
            ..o.clone()
        };
        assert!(c.apply_overrides(&[o], "config").is_err(), "{bad}");
    }
}

#[test]
fn negative_or_missing_prices_in_a_catalog_file_are_errors() {
    let text = include_str!("../../assets/pricing/aws-ec2.toml");
    let neg = text.replacen("\"us-east-1\" = 0.192", "\"us-east-1\" = -0.192", 1);
    let e = catalog_file::parse_compute(&neg, "x.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("m5.xlarge") && e.contains("positive"), "{e}");
    let empty = text.replacen(
        "on_demand = { \"us-east-1\" = 0.192, \"eu-west-1\" = 0.214, \"ap-southeast-1\" = 0.24 }, verified = [\"us-east-1\"]",
        "on_demand = { }, verified = []",
        1,
    );
    assert_ne!(empty, text);
    let e = catalog_file::parse_compute(&empty, "x.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("no on-demand price"), "{e}");
}

#[test]
fn interruption_band_midpoints() {
    let c = catalog();
    let r = c.class_rates("m5.xlarge").unwrap();
    assert_eq!(r.interruption_rate_per_month(), Some(0.025));
    let mut r2 = r.clone();
    r2.spot_interruption_band = "10-15%".into();
    assert_eq!(r2.interruption_rate_per_month(), Some(0.125));
}

#[test]
fn zones_per_region_are_the_providers_published_counts() {
    // AWS AZ IDs: use1-az1..az6, euw1-az1..az3, apse1-az1..az3; GCP us-central1-a/b/c/f.
    let c = catalog();
    assert_eq!(c.zones("m6g.large", "us-east-1").map(|z| z.0), Some(6));
    assert_eq!(c.zones("c6g.2xlarge", "eu-west-1").map(|z| z.0), Some(3));
    assert_eq!(
        c.zones("c5.2xlarge", "ap-southeast-1").map(|z| z.0),
        Some(3)
    );
    assert_eq!(
        c.zones("e2-standard-4", "us-central1").map(|z| z.0),
        Some(4)
    );
    assert_eq!(c.zones("Standard_D4s_v5", "eastus").map(|z| z.0), Some(3));
    // Every compute catalog but Aurora's (no spot) gives a count for each of its regions,
    // with its source.
    for cat in c.compute.iter().filter(|x| x.service != "aurora") {
        assert!(!cat.zones_source.is_empty(), "{}", cat.file);
        for r in &cat.regions {
            assert!(cat.zones.contains_key(r), "{} {r}", cat.file);
        }
    }
    assert!(c.zones("m6g.large", "mars-north-1").is_none());
}

#[test]
fn bad_zone_counts_in_a_catalog_file_are_errors() {
    let text = include_str!("../../assets/pricing/aws-ec2.toml");
    let zero = text.replacen("\"us-east-1\" = 6", "\"us-east-1\" = 0", 1);
    assert_ne!(zero, text);
    let e = catalog_file::parse_compute(&zero, "x.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("zones.us-east-1") && e.contains("got 0"), "{e}");
    let missing = text.replacen(", \"ap-southeast-1\" = 3 }", " }", 1);
    assert_ne!(missing, text);
    let e = catalog_file::parse_compute(&missing, "x.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("ap-southeast-1 has no zones count"), "{e}");
    let unsourced = text.replacen("zones_source = ", "# zones_source = ", 1);
    let e = catalog_file::parse_compute(&unsourced, "x.toml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("zones_source"), "{e}");
}

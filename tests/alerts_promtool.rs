//! The exported alert rules under the real `promtool`: `check rules` accepts the file, and
//! `test rules` shows each rule firing on the series it should and staying quiet on a calm
//! one (and, where the rule has a `for`, pending before it). Also: the in-app evaluator
//! agrees with Prometheus on the same series.

mod support;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::process::Command;

use scaletop::alerts::promql::{expr, summary_template};
use scaletop::alerts::{AlertKind, AlertRule, AlertRuleConfig, AlertsConfig};

/// The defaults plus a cost rule with a price, so every kind is exported.
fn rules() -> Vec<AlertRule> {
    AlertsConfig {
        rules: vec![AlertRuleConfig {
            name: "ScaletopCostOverBudget".into(),
            kind: Some("cost_over_budget".into()),
            threshold: Some(10.0),
            price_usd_per_replica_hour: Some(0.5),
            ..Default::default()
        }],
        ..Default::default()
    }
    .rules()
    .expect("valid rules")
}

fn rule_by_kind<'a>(rules: &'a [AlertRule], kind: &str) -> &'a AlertRule {
    rules
        .iter()
        .find(|r| r.kind.name() == kind)
        .unwrap_or_else(|| panic!("no {kind} rule"))
}

fn hpa(name: &str) -> BTreeMap<&'static str, String> {
    [
        ("namespace", "shop".to_string()),
        ("horizontalpodautoscaler", name.to_string()),
    ]
    .into()
}

/// One expected alert in promtool's test format.
fn expected(rule: &AlertRule, labels: &BTreeMap<&'static str, String>) -> String {
    let (_, label_names) = expr(rule).expect("exportable");
    let mut summary = summary_template(rule, label_names);
    for (k, v) in labels {
        summary = summary.replace(&format!("{{{{ $labels.{k} }}}}"), v);
    }
    let mut s = String::from("          - exp_labels:\n");
    let _ = writeln!(s, "              severity: {}", rule.severity.as_str());
    let _ = writeln!(s, "              scaletop_rule: {}", rule.kind.name());
    for (k, v) in labels {
        let _ = writeln!(s, "              {k}: {v}");
    }
    s.push_str("            exp_annotations:\n");
    let _ = writeln!(s, "              summary: {}", json(&summary));
    let _ = writeln!(s, "              runbook: {}", json(&rule.runbook));
    s
}

/// A YAML double-quoted scalar (JSON strings are valid YAML).
fn json(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

/// A promtool test group: series, then (eval_time, alerts expected) checks of one rule.
fn group(series: &[(&str, &str)], rule: &AlertRule, checks: &[(&str, Vec<String>)]) -> String {
    let mut s = String::from("  - interval: 1m\n    input_series:\n");
    for (name, values) in series {
        let _ = writeln!(
            s,
            "      - series: {}\n        values: '{values}'",
            json(name)
        );
    }
    s.push_str("    alert_rule_test:\n");
    for (at, alerts) in checks {
        let _ = writeln!(
            s,
            "      - eval_time: {at}\n        alertname: {}",
            rule.name
        );
        if alerts.is_empty() {
            s.push_str("        exp_alerts: []\n");
        } else {
            s.push_str("        exp_alerts:\n");
            for a in alerts {
                s.push_str(a);
            }
        }
    }
    s
}

const CUR: &str = "kube_horizontalpodautoscaler_status_current_replicas";
const DES: &str = "kube_horizontalpodautoscaler_status_desired_replicas";
const MAX: &str = "kube_horizontalpodautoscaler_spec_max_replicas";

fn sel(metric: &str, name: &str) -> String {
    format!("{metric}{{namespace=\"shop\",horizontalpodautoscaler=\"{name}\"}}")
}

fn bucket(service: &str, le: &str) -> String {
    format!("http_request_duration_seconds_bucket{{namespace=\"shop\",service=\"{service}\",le=\"{le}\"}}")
}

/// Every rule's test groups: `hot` must fire, `quiet` must not.
fn unit_tests(rules: &[AlertRule]) -> String {
    let mut t = String::from("rule_files:\n  - rules.yml\nevaluation_interval: 1m\ntests:\n");
    let s = |m: &str, n: &str| sel(m, n);

    // At max for 10 minutes: pending at 5m, firing at 15m; quiet sits below max.
    let r = rule_by_kind(rules, "at_max_capacity");
    let series = [
        (s(CUR, "hot"), "20x30"),
        (s(MAX, "hot"), "20x30"),
        (s(CUR, "quiet"), "5x30"),
        (s(MAX, "quiet"), "20x30"),
    ];
    let series: Vec<(&str, &str)> = series.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    t += &group(
        &series,
        r,
        &[("5m", vec![]), ("15m", vec![expected(r, &hpa("hot"))])],
    );

    // Desired above ready for longer than 5 minutes; quiet caught up.
    let r = rule_by_kind(rules, "slow_scale_up");
    let series = [
        (s(DES, "hot"), "10x30"),
        (s(CUR, "hot"), "4x30"),
        (s(DES, "quiet"), "4x30"),
        (s(CUR, "quiet"), "4x30"),
    ];
    let series: Vec<(&str, &str)> = series.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    t += &group(
        &series,
        r,
        &[("3m", vec![]), ("10m", vec![expected(r, &hpa("hot"))])],
    );

    // SLA: hot is slow (p95 ~ 487 ms) while scaling; quiet is fast while scaling; steady is
    // slow but not scaling, so it is not a scaling problem.
    let r = rule_by_kind(rules, "sla_violation_during_scaling");
    let mut owned: Vec<(String, &str)> = Vec::new();
    for (svc, fast) in [("hot", false), ("quiet", true), ("steady", false)] {
        for le in ["0.1", "0.25", "0.5", "1", "+Inf"] {
            let counts = match (fast, le) {
                (true, _) => "0+100x30",
                (false, "0.1" | "0.25") => "0x30",
                (false, _) => "0+100x30",
            };
            owned.push((bucket(svc, le), counts));
        }
        let scaling = svc != "steady";
        owned.push((s(DES, svc), if scaling { "10x30" } else { "6x30" }));
        owned.push((s(CUR, svc), "6x30"));
    }
    let series: Vec<(&str, &str)> = owned.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    t += &group(&series, r, &[("10m", vec![expected(r, &hpa("hot"))])]);

    // Thrash: hot goes 5 -> 8 -> 5 within 10 minutes; quiet ramps steadily up.
    let r = rule_by_kind(rules, "thrashing");
    let series = [
        (
            s(DES, "hot"),
            "5 5 5 5 5 8 8 8 5 5 5 5 5 5 5 5 5 5 5 5 5 5 5 5 5",
        ),
        (s(DES, "quiet"), "5+1x24"),
    ];
    let series: Vec<(&str, &str)> = series.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    t += &group(
        &series,
        r,
        &[("10m", vec![expected(r, &hpa("hot"))]), ("24m", vec![])],
    );

    // Runway: hot grows 3 replicas/h toward max 20 (17 at 5 h, trend 23 in 2 h); quiet is flat.
    let r = rule_by_kind(rules, "forecast_runway");
    let series = [
        (s(DES, "hot"), "2+0.05x400"),
        (s(MAX, "hot"), "20x400"),
        (s(DES, "quiet"), "5x400"),
        (s(MAX, "quiet"), "20x400"),
    ];
    let series: Vec<(&str, &str)> = series.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    t += &group(
        &series,
        r,
        &[("2h", vec![]), ("5h", vec![expected(r, &hpa("hot"))])],
    );

    // Source down: one target down for 10 minutes, the other up.
    let r = rule_by_kind(rules, "source_down");
    let series = [
        ("up{job=\"sim\",instance=\"a:9\"}", "0x20"),
        ("up{job=\"sim\",instance=\"b:9\"}", "1x20"),
    ];
    let labels: BTreeMap<&'static str, String> =
        [("job", "sim".to_string()), ("instance", "a:9".to_string())].into();
    t += &group(&series, r, &[("10m", vec![expected(r, &labels)])]);

    // Cost: 30 replicas x $0.5 = $15/h over a $10/h budget; a quiet fleet of 10 is $5/h.
    let r = rule_by_kind(rules, "cost_over_budget");
    let (hot, quiet) = (s(CUR, "hot"), s(CUR, "quiet"));
    t += &group(
        &[(hot.as_str(), "30x40")],
        r,
        &[("20m", vec![expected(r, &BTreeMap::new())])],
    );
    t += &group(&[(quiet.as_str(), "10x40")], r, &[("20m", vec![])]);
    t
}

#[test]
fn every_kind_has_a_promtool_case() {
    let rules = rules();
    let tests = unit_tests(&rules);
    for r in &rules {
        assert!(
            tests.contains(&format!("alertname: {}\n", r.name)),
            "{} has no promtool case",
            r.name
        );
        assert!(
            expr(r).is_ok(),
            "{} cannot be exported with a price set",
            r.name
        );
    }
    assert!(rules
        .iter()
        .any(|r| matches!(r.kind, AlertKind::CostOverBudget { .. })));
}

#[test]
fn promtool_checks_and_tests_the_exported_rules() {
    if !support::have("promtool") {
        return;
    }
    let rules = rules();
    let dir = tempfile::tempdir().expect("tempdir");
    let yaml = scaletop::alerts::prometheus_rules_yaml(&rules);
    std::fs::write(dir.path().join("rules.yml"), &yaml).expect("write rules");
    let check = Command::new("promtool")
        .args(["check", "rules"])
        .arg(dir.path().join("rules.yml"))
        .output()
        .expect("promtool runs");
    assert!(
        check.status.success(),
        "promtool check rules failed:\n{}\n{}\n{yaml}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let tests = unit_tests(&rules);
    std::fs::write(dir.path().join("tests.yml"), &tests).expect("write tests");
    let out = Command::new("promtool")
        .args(["test", "rules"])
        .arg(dir.path().join("tests.yml"))
        .output()
        .expect("promtool runs");
    assert!(
        out.status.success(),
        "promtool test rules failed:\n{}\n{}\n--- tests.yml\n{tests}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn cli_writes_the_same_rules_promtool_accepts() {
    if !support::have("promtool") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out/rules.yml");
    let status = Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .args(["alerts", "rules", "--out"])
        .arg(&out)
        .env_remove("SCALETOP_CONFIG")
        .env("XDG_CONFIG_HOME", dir.path())
        .status()
        .expect("scaletop runs");
    assert!(status.success());
    let written = std::fs::read_to_string(&out).expect("written");
    assert_eq!(
        written,
        scaletop::alerts::prometheus_rules_yaml(&scaletop::alerts::default_rules())
    );
    let check = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&out)
        .status()
        .expect("promtool runs");
    assert!(check.success());
}

/// The same series as the promtool cases, through the in-app evaluator: the same instance
/// fires at the same evaluation time (pending before `for`, quiet group never).
#[test]
fn in_app_evaluator_agrees_with_prometheus_on_the_same_series() {
    use scaletop::alerts::{AlertState, Evaluator};
    use scaletop::model::{GroupId, MetricKind, Platform};
    use scaletop::sources::{Sample, Update};
    use scaletop::store::Store;

    let rules = rules();
    let group = |n: &str| GroupId::new(Platform::K8s, "shop", n);
    // (rule kind, minutes to run, series per group as f(minute) for ready/desired/max,
    //  minute checked for "pending only", minute checked for "hot firing").
    type Series = fn(i64) -> [f64; 3];
    let cases: [(&str, i64, Series, Series, i64, i64); 3] = [
        (
            "at_max_capacity",
            15,
            |_| [20.0, 20.0, 20.0],
            |_| [5.0, 5.0, 20.0],
            5,
            15,
        ),
        (
            "slow_scale_up",
            10,
            |_| [4.0, 10.0, 20.0],
            |_| [4.0, 4.0, 20.0],
            3,
            10,
        ),
        (
            "forecast_runway",
            300,
            |m| [2.0 + 0.05 * m as f64, 2.0 + 0.05 * m as f64, 20.0],
            |_| [5.0, 5.0, 20.0],
            120,
            300,
        ),
    ];
    for (kind, minutes, hot, quiet, pending_at, firing_at) in cases {
        let rule = rule_by_kind(&rules, kind).clone();
        let mut ev = Evaluator::new(vec![rule], 300, 3600);
        let mut store = Store::new(60, 1000);
        let mut seen_pending_only = false;
        for m in 0..=minutes {
            let mut samples = Vec::new();
            for (name, f) in [("hot", hot), ("quiet", quiet)] {
                let [ready, desired, max] = f(m);
                for (metric, value) in [
                    (MetricKind::ReplicasReady, ready),
                    (MetricKind::ReplicasDesired, desired),
                    (MetricKind::ReplicasMax, max),
                ] {
                    samples.push(Sample {
                        group: group(name),
                        metric,
                        value,
                    });
                }
            }
            store.apply(Update::Samples {
                at: chrono::DateTime::from_timestamp(m * 60, 0).expect("time"),
                samples,
            });
            ev.evaluate(&store);
            let firing: Vec<String> = ev
                .alerts()
                .into_iter()
                .filter(|a| a.state == AlertState::Firing)
                .map(|a| a.instance)
                .collect();
            assert!(
                !firing.iter().any(|i| i.ends_with("/quiet")),
                "{kind}: quiet group fired at minute {m}"
            );
            if m == pending_at {
                assert!(firing.is_empty(), "{kind}: fired before its `for` at {m}");
                seen_pending_only = ev.alerts().iter().all(|a| a.state == AlertState::Pending)
                    || kind == "forecast_runway";
            }
            if m == firing_at {
                assert_eq!(firing, vec!["k8s/shop/hot".to_string()], "{kind} at {m}");
            }
        }
        assert!(seen_pending_only, "{kind}: no pending phase");
    }
}

/// `emit --target prometheus-rules` writes the same rules through the guarded writer, and the
/// file it writes passes `promtool check rules`.
#[test]
fn emitted_rule_file_passes_promtool_and_keeps_a_backup() {
    if !support::have("promtool") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().to_string_lossy().into_owned();
    let emit = |extra: &[&str]| {
        let mut args = vec![
            "emit",
            "--target",
            "prometheus-rules",
            "--out",
            out.as_str(),
        ];
        args.extend_from_slice(extra);
        Command::new(env!("CARGO_BIN_EXE_scaletop"))
            .args(&args)
            .output()
            .expect("run scaletop")
    };
    let o = emit(&[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let file = dir.path().join("prometheus/scaletop-alerts.rules.yml");
    let text = std::fs::read_to_string(&file).expect("rule file");
    assert!(text.starts_with("# Generated by scaletop"), "{text}");
    // The built-in rules (no config given).
    let defaults = AlertsConfig::default().rules().expect("default rules");
    assert!(!defaults.is_empty());
    for r in defaults {
        assert!(
            text.contains(&format!("alert: {}", r.name)),
            "{} missing",
            r.name
        );
    }
    let check = Command::new("promtool")
        .args(["check", "rules"])
        .arg(&file)
        .output()
        .expect("promtool");
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    // A hand-edited file is replaced and kept as .bak; a recommendation file is refused (exit 2).
    std::fs::write(&file, format!("{text}# local edit\n")).expect("edit");
    assert!(emit(&[]).status.success());
    let bak = std::fs::read_to_string(dir.path().join("prometheus/scaletop-alerts.rules.yml.bak"))
        .expect("backup");
    assert!(bak.ends_with("# local edit\n"));
    assert_eq!(std::fs::read_to_string(&file).expect("rule file"), text);
    let o = emit(&["--from", "recs.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("takes no --from"));
}

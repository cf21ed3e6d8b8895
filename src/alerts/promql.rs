//! Export of the alert rules as a Prometheus rule file. The PromQL reads the series the
//! `kubernetes` preset reads and `scaletop sim serve` exposes (kube-state-metrics HPA gauges,
//! `http_request_duration_seconds`, `up`), so the rules work against both unchanged.

use serde::Serialize;

use super::rule::{AlertKind, AlertRule};

const CURRENT: &str = "kube_horizontalpodautoscaler_status_current_replicas";
const DESIRED: &str = "kube_horizontalpodautoscaler_status_desired_replicas";
const MAX: &str = "kube_horizontalpodautoscaler_spec_max_replicas";
/// p95 in ms per HPA; request series carry `service`, renamed to the HPA label (as the preset).
const P95_MS: &str = "1000 * histogram_quantile(0.95, sum by (namespace, horizontalpodautoscaler, le) (label_replace(rate(http_request_duration_seconds_bucket[2m]), \"horizontalpodautoscaler\", \"$1\", \"service\", \"(.+)\")))";

/// A duration as PromQL writes it (`10m`, `2h`, `90s`).
pub fn promql_duration(seconds: i64) -> String {
    match seconds {
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{}s", s.max(0)),
    }
}

/// The rule's PromQL and the labels naming an instance in its result; None when the rule
/// cannot be expressed over Prometheus series (the reason is returned instead).
pub fn expr(rule: &AlertRule) -> Result<(String, &'static [&'static str]), String> {
    const HPA: &[&str] = &["namespace", "horizontalpodautoscaler"];
    const FLEET: &[&str] = &[];
    const TARGET: &[&str] = &["job", "instance"];
    Ok(match &rule.kind {
        AlertKind::AtMaxCapacity => (format!("{CURRENT} >= {MAX}"), HPA),
        AlertKind::SlowScaleUp => (format!("{DESIRED} > {CURRENT}"), HPA),
        AlertKind::SlaViolationDuringScaling { p95_ms } => (
            format!(
                "({P95_MS} > {p95_ms}) and on (namespace, horizontalpodautoscaler) ({DESIRED} != {CURRENT})"
            ),
            HPA,
        ),
        AlertKind::Thrashing { window_seconds } => {
            // A peak (up then down) or a trough (down then up) inside the window: the value
            // inside exceeds both the value at the window's start and now.
            let w = promql_duration(*window_seconds);
            (
                format!(
                    "(max_over_time({DESIRED}[{w}]) > {DESIRED} and max_over_time({DESIRED}[{w}]) > {DESIRED} offset {w}) \
                     or (min_over_time({DESIRED}[{w}]) < {DESIRED} and min_over_time({DESIRED}[{w}]) < {DESIRED} offset {w})"
                ),
                HPA,
            )
        }
        AlertKind::ForecastRunway {
            lookback_seconds,
            horizon_seconds,
        } => (
            format!(
                "predict_linear({DESIRED}[{}], {horizon_seconds}) > {MAX}",
                promql_duration(*lookback_seconds)
            ),
            HPA,
        ),
        AlertKind::CostOverBudget {
            budget_usd_per_hour,
            price_usd_per_replica_hour,
        } => {
            let Some(price) = price_usd_per_replica_hour else {
                return Err(format!(
                    "{}: Prometheus has no cost series; set price_usd_per_replica_hour to export it",
                    rule.name
                ));
            };
            (
                format!("sum({CURRENT}) * {price} > {budget_usd_per_hour}"),
                FLEET,
            )
        }
        AlertKind::SourceDown => ("up == 0".to_string(), TARGET),
    })
}

/// The summary annotation: names the instance by its labels, then the rule's summary.
pub fn summary_template(rule: &AlertRule, labels: &[&str]) -> String {
    if labels.is_empty() {
        return rule.summary.clone();
    }
    let who: Vec<String> = labels
        .iter()
        .map(|l| format!("{{{{ $labels.{l} }}}}"))
        .collect();
    format!("{}: {}", who.join("/"), rule.summary)
}

#[derive(Serialize)]
struct RuleFile {
    groups: Vec<RuleGroup>,
}

#[derive(Serialize)]
struct RuleGroup {
    name: String,
    rules: Vec<PromRule>,
}

#[derive(Serialize)]
struct PromRule {
    alert: String,
    expr: String,
    #[serde(rename = "for")]
    for_: String,
    labels: std::collections::BTreeMap<String, String>,
    annotations: std::collections::BTreeMap<String, String>,
}

/// The rules as a Prometheus rule file (YAML). Rules PromQL cannot express are left out and
/// named in a comment at the top.
pub fn prometheus_rules_yaml(rules: &[AlertRule]) -> String {
    let mut skipped = Vec::new();
    let mut out = Vec::new();
    for r in rules {
        match expr(r) {
            Ok((e, labels)) => out.push(PromRule {
                alert: r.name.clone(),
                expr: e,
                for_: promql_duration(r.for_seconds),
                labels: [
                    ("severity".to_string(), r.severity.as_str().to_string()),
                    ("scaletop_rule".to_string(), r.kind.name().to_string()),
                ]
                .into(),
                annotations: [
                    ("summary".to_string(), summary_template(r, labels)),
                    ("runbook".to_string(), r.runbook.clone()),
                ]
                .into(),
            }),
            Err(why) => skipped.push(why),
        }
    }
    let file = RuleFile {
        groups: vec![RuleGroup {
            name: "scaletop".into(),
            rules: out,
        }],
    };
    let mut text = String::from(
        "# Prometheus alerting rules generated by scaletop from its alert rule model\n\
         # (`scaletop alerts rules`); the same rules are evaluated in the TUI's Alerts tab.\n",
    );
    for s in skipped {
        text.push_str(&format!("# not exported: {s}\n"));
    }
    // Serialising plain strings and maps cannot fail; fall back to an empty group if it did.
    text.push_str(&serde_yaml_ng::to_string(&file).unwrap_or_else(|_| "groups: []\n".to_string()));
    text
}

#[cfg(test)]
mod tests {
    use super::super::rule::default_rules;
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(promql_duration(600), "10m");
        assert_eq!(promql_duration(7200), "2h");
        assert_eq!(promql_duration(90), "90s");
        assert_eq!(promql_duration(0), "0s");
    }

    #[test]
    fn yaml_has_every_default_rule_with_labels_and_runbook() {
        let y = prometheus_rules_yaml(&default_rules());
        let v: serde_yaml_ng::Value = serde_yaml_ng::from_str(&y).expect("valid YAML");
        let rules = v["groups"][0]["rules"].as_sequence().expect("rules");
        assert_eq!(rules.len(), default_rules().len());
        for r in rules {
            assert!(r["labels"]["severity"].as_str().is_some());
            assert!(r["annotations"]["runbook"]
                .as_str()
                .is_some_and(|s| !s.is_empty()));
        }
        assert_eq!(rules[0]["for"].as_str(), Some("10m"));
    }

    #[test]
    fn cost_without_price_is_named_not_exported() {
        let mut rules = default_rules();
        rules.push(AlertRule {
            name: "Budget".into(),
            kind: AlertKind::CostOverBudget {
                budget_usd_per_hour: 10.0,
                price_usd_per_replica_hour: None,
            },
            for_seconds: 0,
            severity: super::super::rule::Severity::Warning,
            summary: "s".into(),
            runbook: "r".into(),
        });
        let y = prometheus_rules_yaml(&rules);
        assert!(y.contains("# not exported: Budget"));
        assert!(!y.contains("alert: Budget"));
    }
}

//! Built-in query sets. Each names the labels that identify a group and one PromQL template
//! per metric; `scaletop sources presets` prints them and config `queries` overrides them.
//! A template without `{placeholders}` runs once for the whole fleet and its series are
//! matched to groups by label; one with placeholders runs once per group.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{MetricKind, Platform};

#[derive(Debug, Clone, Serialize)]
pub struct Preset {
    pub name: &'static str,
    pub description: &'static str,
    pub platform: Platform,
    /// Label holding the group's scope (namespace); empty when the preset has none.
    pub scope_label: &'static str,
    /// Label holding the group's name.
    pub group_label: &'static str,
    /// Instant query whose series are the groups.
    pub discover: &'static str,
    pub queries: Vec<(MetricKind, &'static str)>,
}

/// `sum by (namespace, horizontalpodautoscaler)` over a series whose group is in `from`.
macro_rules! by_hpa {
    ($inner:literal, $from:literal) => {
        concat!(
            "sum by (namespace, horizontalpodautoscaler) (label_replace(",
            $inner,
            ", \"horizontalpodautoscaler\", \"$1\", \"",
            $from,
            "\", \"(.+)\"))"
        )
    };
}

pub fn kubernetes() -> Preset {
    use MetricKind::*;
    Preset {
        name: "kubernetes",
        description: "kube-state-metrics HPA series (groups), cAdvisor CPU/memory vs requests \
                      (container name = HPA name), http_requests_total by service = HPA name",
        platform: Platform::K8s,
        scope_label: "namespace",
        group_label: "horizontalpodautoscaler",
        discover: "max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas)",
        queries: vec![
            (ReplicasReady, "max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas)"),
            (ReplicasDesired, "max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_desired_replicas)"),
            (ReplicasMin, "max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_min_replicas)"),
            (ReplicasMax, "max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas)"),
            (CpuUtilization, concat!(
                "100 * ",
                by_hpa!("rate(container_cpu_usage_seconds_total{container!=\"\",container!=\"POD\"}[2m])", "container"),
                " / ",
                by_hpa!("kube_pod_container_resource_requests{resource=\"cpu\"}", "container"),
            )),
            (MemoryUtilization, concat!(
                "100 * ",
                by_hpa!("container_memory_working_set_bytes{container!=\"\",container!=\"POD\"}", "container"),
                " / ",
                by_hpa!("kube_pod_container_resource_requests{resource=\"memory\"}", "container"),
            )),
            (RequestRate, by_hpa!("rate(http_requests_total[2m])", "service")),
            (ErrorRate, concat!(
                by_hpa!("rate(http_requests_total{code=~\"5..\"}[2m])", "service"),
                " / ",
                by_hpa!("rate(http_requests_total[2m])", "service"),
            )),
            (LatencyP95Ms, "1000 * histogram_quantile(0.95, sum by (namespace, horizontalpodautoscaler, le) (label_replace(rate(http_request_duration_seconds_bucket[2m]), \"horizontalpodautoscaler\", \"$1\", \"service\", \"(.+)\")))"),
        ],
    }
}

pub fn node_exporter() -> Preset {
    use MetricKind::*;
    Preset {
        name: "node-exporter",
        description: "node_exporter hosts grouped by scrape job (one group = one instance group)",
        platform: Platform::Aws,
        scope_label: "",
        group_label: "job",
        discover: "count by (job) (node_uname_info)",
        queries: vec![
            (ReplicasReady, "count by (job) (up * on (job, instance) group_left node_uname_info == 1)"),
            (CpuUtilization, "100 * (1 - avg by (job) (rate(node_cpu_seconds_total{mode=\"idle\"}[2m])))"),
            (MemoryUtilization, "100 * (1 - sum by (job) (node_memory_MemAvailable_bytes) / sum by (job) (node_memory_MemTotal_bytes))"),
            (NetworkMbps, "8 * sum by (job) (rate(node_network_receive_bytes_total{device!=\"lo\"}[2m]) + rate(node_network_transmit_bytes_total{device!=\"lo\"}[2m])) / 1e6"),
            (DiskIops, "sum by (job) (rate(node_disk_reads_completed_total[2m]) + rate(node_disk_writes_completed_total[2m]))"),
        ],
    }
}

pub fn http() -> Preset {
    use MetricKind::*;
    Preset {
        name: "http",
        description: "request rate, error rate and p95 latency of http_requests_total / \
                      http_request_duration_seconds by namespace and service",
        platform: Platform::K8s,
        scope_label: "namespace",
        group_label: "service",
        discover: "sum by (namespace, service) (http_requests_total)",
        queries: vec![
            (RequestRate, "sum by (namespace, service) (rate(http_requests_total[2m]))"),
            (ErrorRate, "sum by (namespace, service) (rate(http_requests_total{code=~\"5..\"}[2m])) / sum by (namespace, service) (rate(http_requests_total[2m]))"),
            (LatencyP95Ms, "1000 * histogram_quantile(0.95, sum by (namespace, service, le) (rate(http_request_duration_seconds_bucket[2m])))"),
            (LatencyP99Ms, "1000 * histogram_quantile(0.99, sum by (namespace, service, le) (rate(http_request_duration_seconds_bucket[2m])))"),
        ],
    }
}

/// An empty preset: everything comes from `queries` (with `discover`).
pub fn none() -> Preset {
    Preset {
        name: "none",
        description: "no built-in queries; set `discover` and metric templates in `queries`",
        platform: Platform::K8s,
        scope_label: "namespace",
        group_label: "group",
        discover: "",
        queries: Vec::new(),
    }
}

pub fn all() -> Vec<Preset> {
    vec![kubernetes(), node_exporter(), http(), none()]
}

pub fn by_name(name: &str) -> Option<Preset> {
    all().into_iter().find(|p| p.name == name)
}

pub fn metric_by_name(name: &str) -> Option<MetricKind> {
    MetricKind::ALL.iter().copied().find(|m| m.as_str() == name)
}

/// A preset with the config's overrides applied: what the source actually runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueryPlan {
    pub platform: Platform,
    pub scope_label: String,
    pub group_label: String,
    pub discover: String,
    pub queries: BTreeMap<MetricKind, String>,
}

impl QueryPlan {
    pub fn resolve(
        preset_name: &str,
        overrides: &BTreeMap<String, String>,
    ) -> Result<QueryPlan, String> {
        let preset = by_name(preset_name).ok_or_else(|| {
            format!("unknown preset '{preset_name}' (known: kubernetes, node-exporter, http, none)")
        })?;
        let mut plan = QueryPlan {
            platform: preset.platform,
            scope_label: preset.scope_label.into(),
            group_label: preset.group_label.into(),
            discover: preset.discover.into(),
            queries: preset
                .queries
                .iter()
                .map(|(m, q)| (*m, q.to_string()))
                .collect(),
        };
        for (key, template) in overrides {
            match key.as_str() {
                "discover" => plan.discover = template.clone(),
                "group_label" => plan.group_label = template.clone(),
                "scope_label" => plan.scope_label = template.clone(),
                other => {
                    let metric = metric_by_name(other).ok_or_else(|| {
                        format!("queries.{other}: not a metric name (e.g. cpu_utilization, replicas_desired) nor discover/group_label/scope_label")
                    })?;
                    if template.trim().is_empty() {
                        plan.queries.remove(&metric);
                    } else {
                        plan.queries.insert(metric, template.clone());
                    }
                }
            }
        }
        if plan.discover.trim().is_empty() {
            return Err("no `discover` query: set queries.discover".into());
        }
        Ok(plan)
    }
}

/// `{name}` placeholders in a template (PromQL selectors like `{job="x"}` are not ones).
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for (open, _) in template.match_indices('{') {
        let after = &template[open + 1..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..end];
        let starts_ok = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if starts_ok && after[end..].starts_with('}') {
            out.push(name);
        }
    }
    out
}

/// Fills a template for one group; `labels` are the group's discovered labels. An unknown
/// placeholder is an error naming it.
pub fn substitute(template: &str, labels: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = template.to_string();
    for name in placeholders(template) {
        let value = labels
            .get(name)
            .ok_or_else(|| format!("template refers to unknown label {{{name}}}"))?;
        // Values go inside PromQL double-quoted strings.
        let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
        out = out.replace(&format!("{{{name}}}"), &escaped);
    }
    Ok(out)
}

/// Metric names a PromQL expression selects (not functions, keywords, label names, strings,
/// durations or numbers). Enough to tell a user which series their server lacks.
pub fn metric_names(promql: &str) -> Vec<String> {
    // Aggregations may be followed by `by (...)` rather than `(`.
    const KEYWORDS: [&str; 27] = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "offset",
        "bool",
        "and",
        "or",
        "unless",
        "atan2",
        "inf",
        "nan",
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
        "limitk",
    ];
    const GROUPING: [&str; 6] = [
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let chars: Vec<char> = promql.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let (mut i, mut braces, mut brackets) = (0, 0i32, 0i32);
    // Set after a grouping keyword: the next parenthesised list holds label names.
    let mut grouping = false;
    let mut in_label_list = false;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '"' | '\'' | '`' => {
                i += 1;
                while i < chars.len() && chars[i] != c {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
                continue;
            }
            '{' => braces += 1,
            '}' => braces -= 1,
            '[' => brackets += 1,
            ']' => brackets -= 1,
            '(' if grouping => {
                in_label_list = true;
                grouping = false;
            }
            ')' if in_label_list => in_label_list = false,
            _ => {}
        }
        if c.is_ascii_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let next = chars[i..].iter().find(|c| !c.is_whitespace());
            let lower = word.to_ascii_lowercase();
            if GROUPING.contains(&lower.as_str()) {
                grouping = true;
            } else if braces == 0
                && brackets == 0
                && !in_label_list
                && next != Some(&'(')
                && !KEYWORDS.contains(&lower.as_str())
                && !out.contains(&word)
            {
                out.push(word);
            }
            continue;
        }
        if c.is_ascii_digit() || c == '.' {
            // Numbers and durations (5m, 1e3).
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    out
}

/// What a plan needs from the server that it does not have, given the server's metric names:
/// one line naming the missing series and the metrics that will be missing because of them.
pub fn missing_series(plan: &QueryPlan, server_names: &[String]) -> Option<String> {
    let has = |n: &String| server_names.iter().any(|s| s == n);
    let mut missing: Vec<String> = Vec::new();
    let mut affected: Vec<&str> = Vec::new();
    let mut check = |what: &'static str, q: &str| {
        let lacking: Vec<String> = metric_names(q).into_iter().filter(|n| !has(n)).collect();
        if !lacking.is_empty() {
            affected.push(what);
        }
        for n in lacking {
            if !missing.contains(&n) {
                missing.push(n);
            }
        }
    };
    check("groups", &plan.discover);
    for (m, q) in &plan.queries {
        check(m.as_str(), q);
    }
    (!missing.is_empty()).then(|| {
        format!(
            "server has no series named {}: missing {}",
            missing.join(", "),
            affected.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_of_the_preset_queries() {
        let k = kubernetes();
        assert_eq!(
            metric_names(k.discover),
            vec!["kube_horizontalpodautoscaler_spec_max_replicas"]
        );
        let cpu = k
            .queries
            .iter()
            .find(|(m, _)| *m == MetricKind::CpuUtilization);
        assert_eq!(
            metric_names(cpu.map(|c| c.1).unwrap_or_default()),
            vec![
                "container_cpu_usage_seconds_total",
                "kube_pod_container_resource_requests"
            ]
        );
        assert_eq!(
            metric_names(
                r#"1000 * histogram_quantile(0.95, sum by (le, service) (rate(x_bucket{a="b"}[5m] offset 1h)))"#
            ),
            vec!["x_bucket"]
        );
        assert_eq!(
            metric_names("up == bool 1 and on (job) node_uname_info"),
            vec!["up", "node_uname_info"]
        );
        let plan = QueryPlan::resolve("kubernetes", &BTreeMap::new()).expect("preset");
        let names: Vec<String> = [
            "kube_horizontalpodautoscaler_spec_max_replicas",
            "kube_horizontalpodautoscaler_status_current_replicas",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let note = missing_series(&plan, &names).expect("most are missing");
        assert!(
            note.contains("container_cpu_usage_seconds_total") && note.contains("cpu_utilization"),
            "{note}"
        );
        assert!(!note.contains("groups"), "{note}");
    }

    #[test]
    fn placeholders_are_not_selectors() {
        assert_eq!(
            placeholders(r#"rate(x{namespace="{scope}",pod=~"{group}-.*"}[2m])"#),
            vec!["scope", "group"]
        );
        assert!(placeholders(kubernetes().queries[4].1).is_empty());
        let labels = BTreeMap::from([("group".to_string(), "a\"b".to_string())]);
        assert_eq!(
            substitute(r#"x{pod="{group}"}"#, &labels).expect("known"),
            r#"x{pod="a\"b"}"#
        );
        assert!(substitute("x{pod=\"{nope}\"}", &labels)
            .unwrap_err()
            .contains("{nope}"));
    }

    #[test]
    fn overrides_replace_remove_and_reject_unknown_keys() {
        let o = BTreeMap::from([
            ("cpu_utilization".to_string(), "my_cpu".to_string()),
            ("latency_p95_ms".to_string(), String::new()),
        ]);
        let p = QueryPlan::resolve("kubernetes", &o).expect("valid");
        assert_eq!(p.queries[&MetricKind::CpuUtilization], "my_cpu");
        assert!(!p.queries.contains_key(&MetricKind::LatencyP95Ms));
        let bad = BTreeMap::from([("cpu".to_string(), "x".to_string())]);
        assert!(QueryPlan::resolve("kubernetes", &bad).is_err());
        assert!(QueryPlan::resolve("graphite", &BTreeMap::new()).is_err());
    }
}

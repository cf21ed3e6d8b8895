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

#[cfg(test)]
mod tests {
    use super::*;

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

//! Renders the simulated fleet in the Prometheus text format with the names real exporters
//! use (kube-state-metrics, cAdvisor, an HTTP middleware), so the `kubernetes` preset works
//! against `scaletop sim serve` unchanged.

use std::fmt::Write;

use crate::model::MetricKind;
use crate::sim::{Simulator, StepFrame};

/// CPU request per replica, cores. The simulator models utilization, not absolute cores.
pub const CPU_REQUEST_CORES: f64 = 0.5;
/// Memory request per replica, bytes (512 MiB).
pub const MEMORY_REQUEST_BYTES: f64 = 512.0 * 1024.0 * 1024.0;
/// Histogram bucket bounds of `http_request_duration_seconds`, seconds.
pub const LATENCY_BUCKETS_SECONDS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Counters that only grow, per group.
#[derive(Debug, Clone, Default)]
struct GroupCounters {
    cpu_seconds: f64,
    requests: f64,
    errors: f64,
    /// Cumulative count per bucket of `LATENCY_BUCKETS_SECONDS`, then +Inf.
    buckets: Vec<f64>,
    latency_sum_seconds: f64,
}

/// Exporter state: the latest step's gauges and the counters accumulated since start.
#[derive(Debug, Clone)]
pub struct Exposition {
    counters: Vec<GroupCounters>,
}

fn value(frame: &StepFrame, group: usize, m: MetricKind) -> f64 {
    frame.values[group][m as usize]
}

/// Share of requests faster than `x_seconds` when latency is exponential with the given p95
/// (F(x) = 1 - exp(-x / theta), p95 = theta ln 20): enough shape for `histogram_quantile`.
fn latency_cdf(x_seconds: f64, p95_seconds: f64) -> f64 {
    if !(p95_seconds.is_finite() && p95_seconds > 0.0) {
        return 1.0;
    }
    let theta = p95_seconds / 20f64.ln();
    1.0 - (-x_seconds / theta).exp()
}

impl Exposition {
    pub fn new(group_count: usize) -> Self {
        Self {
            counters: vec![
                GroupCounters {
                    buckets: vec![0.0; LATENCY_BUCKETS_SECONDS.len() + 1],
                    ..Default::default()
                };
                group_count
            ],
        }
    }

    /// Adds one step of `step_seconds` to the counters.
    pub fn accumulate(&mut self, frame: &StepFrame, step_seconds: f64) {
        for (i, c) in self.counters.iter_mut().enumerate() {
            let ready = value(frame, i, MetricKind::ReplicasReady);
            let cpu = value(frame, i, MetricKind::CpuUtilization);
            if ready.is_finite() && cpu.is_finite() {
                c.cpu_seconds += ready * CPU_REQUEST_CORES * cpu / 100.0 * step_seconds;
            }
            let rps = value(frame, i, MetricKind::RequestRate);
            if !rps.is_finite() {
                continue;
            }
            let requests = rps.max(0.0) * step_seconds;
            c.requests += requests;
            let error_rate = value(frame, i, MetricKind::ErrorRate);
            if error_rate.is_finite() {
                c.errors += requests * error_rate.clamp(0.0, 1.0);
            }
            let p95_seconds = value(frame, i, MetricKind::LatencyP95Ms) / 1000.0;
            for (b, le) in LATENCY_BUCKETS_SECONDS.iter().enumerate() {
                c.buckets[b] += requests * latency_cdf(*le, p95_seconds);
            }
            let inf = LATENCY_BUCKETS_SECONDS.len();
            c.buckets[inf] += requests;
            if p95_seconds.is_finite() {
                c.latency_sum_seconds += requests * p95_seconds / 20f64.ln();
            }
        }
    }

    /// The `/metrics` body for the latest frame.
    pub fn render(&self, sim: &Simulator, frame: &StepFrame) -> String {
        let mut out = String::with_capacity(4096 + 2048 * self.counters.len());
        let groups = sim.groups();
        let label = |i: usize| {
            let id = &groups[i].group.info.id;
            (escape(&id.scope), escape(&id.name))
        };
        let hpa = [
            (
                "kube_horizontalpodautoscaler_status_current_replicas",
                "Current number of replicas of pods managed by this autoscaler.",
                MetricKind::ReplicasReady,
            ),
            (
                "kube_horizontalpodautoscaler_status_desired_replicas",
                "Desired number of replicas of pods managed by this autoscaler.",
                MetricKind::ReplicasDesired,
            ),
            (
                "kube_horizontalpodautoscaler_spec_min_replicas",
                "Lower limit for the number of pods that can be set by the autoscaler.",
                MetricKind::ReplicasMin,
            ),
            (
                "kube_horizontalpodautoscaler_spec_max_replicas",
                "Upper limit for the number of pods that can be set by the autoscaler.",
                MetricKind::ReplicasMax,
            ),
        ];
        for (name, help, metric) in hpa {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for i in 0..groups.len() {
                let v = value(frame, i, metric);
                if v.is_finite() {
                    let (ns, g) = label(i);
                    let _ = writeln!(
                        out,
                        "{name}{{namespace=\"{ns}\",horizontalpodautoscaler=\"{g}\"}} {v}"
                    );
                }
            }
        }
        self.render_containers(&mut out, frame, &label);
        self.render_http(&mut out, &label);
        out
    }

    fn render_containers(
        &self,
        out: &mut String,
        frame: &StepFrame,
        label: &dyn Fn(usize) -> (String, String),
    ) {
        let _ = writeln!(
            out,
            "# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.\n\
             # TYPE container_cpu_usage_seconds_total counter"
        );
        for (i, c) in self.counters.iter().enumerate() {
            let (ns, g) = label(i);
            let _ = writeln!(
                out,
                "container_cpu_usage_seconds_total{{namespace=\"{ns}\",pod=\"{g}-sim\",container=\"{g}\"}} {}",
                c.cpu_seconds
            );
        }
        let _ = writeln!(
            out,
            "# HELP container_memory_working_set_bytes Current working set in bytes.\n\
             # TYPE container_memory_working_set_bytes gauge"
        );
        for i in 0..self.counters.len() {
            let ready = value(frame, i, MetricKind::ReplicasReady);
            let mem = value(frame, i, MetricKind::MemoryUtilization);
            if ready.is_finite() && mem.is_finite() {
                let (ns, g) = label(i);
                let bytes = ready * MEMORY_REQUEST_BYTES * mem / 100.0;
                let _ = writeln!(
                    out,
                    "container_memory_working_set_bytes{{namespace=\"{ns}\",pod=\"{g}-sim\",container=\"{g}\"}} {bytes}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP kube_pod_container_resource_requests The number of requested resources by a container.\n\
             # TYPE kube_pod_container_resource_requests gauge"
        );
        for i in 0..self.counters.len() {
            let ready = value(frame, i, MetricKind::ReplicasReady);
            if !ready.is_finite() {
                continue;
            }
            let (ns, g) = label(i);
            let _ = writeln!(
                out,
                "kube_pod_container_resource_requests{{namespace=\"{ns}\",pod=\"{g}-sim\",container=\"{g}\",resource=\"cpu\",unit=\"core\"}} {}\n\
                 kube_pod_container_resource_requests{{namespace=\"{ns}\",pod=\"{g}-sim\",container=\"{g}\",resource=\"memory\",unit=\"byte\"}} {}",
                ready * CPU_REQUEST_CORES,
                ready * MEMORY_REQUEST_BYTES
            );
        }
    }

    fn render_http(&self, out: &mut String, label: &dyn Fn(usize) -> (String, String)) {
        let _ = writeln!(
            out,
            "# HELP http_requests_total Requests handled.\n# TYPE http_requests_total counter"
        );
        for (i, c) in self.counters.iter().enumerate() {
            let (ns, g) = label(i);
            let ok = (c.requests - c.errors).max(0.0).round();
            let errors = c.errors.round();
            let _ = writeln!(
                out,
                "http_requests_total{{namespace=\"{ns}\",service=\"{g}\",code=\"200\"}} {ok}\n\
                 http_requests_total{{namespace=\"{ns}\",service=\"{g}\",code=\"500\"}} {errors}"
            );
        }
        let name = "http_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Request latency.\n# TYPE {name} histogram"
        );
        for (i, c) in self.counters.iter().enumerate() {
            let (ns, g) = label(i);
            for (b, count) in c.buckets.iter().enumerate() {
                let le = LATENCY_BUCKETS_SECONDS
                    .get(b)
                    .map_or_else(|| "+Inf".to_string(), |v| v.to_string());
                let _ = writeln!(
                    out,
                    "{name}_bucket{{namespace=\"{ns}\",service=\"{g}\",le=\"{le}\"}} {}",
                    count.round()
                );
            }
            let _ = writeln!(
                out,
                "{name}_sum{{namespace=\"{ns}\",service=\"{g}\"}} {}\n\
                 {name}_count{{namespace=\"{ns}\",service=\"{g}\"}} {}",
                c.latency_sum_seconds,
                c.buckets.last().copied().unwrap_or(0.0).round()
            );
        }
    }
}

/// Escapes a label value for the text format.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Scenario;

    #[test]
    fn renders_parseable_text_with_one_hpa_series_per_group() {
        let scenario = Scenario::load("microservices").expect("built-in");
        let mut sim = Simulator::new(&scenario, 1);
        let mut frame = sim.new_frame();
        let mut expo = Exposition::new(sim.groups().len());
        for _ in 0..4 {
            sim.advance_frame(15, &mut frame);
            expo.accumulate(&frame, 15.0);
        }
        let text = expo.render(&sim, &frame);
        let lines = text.lines().map(|l| Ok(l.to_string()));
        let scrape = prometheus_parse::Scrape::parse(lines).expect("valid exposition");
        let current: Vec<_> = scrape
            .samples
            .iter()
            .filter(|s| s.metric == "kube_horizontalpodautoscaler_status_current_replicas")
            .collect();
        assert_eq!(current.len(), scenario.groups().len());
        for s in current {
            let name = s.labels.get("horizontalpodautoscaler").expect("label");
            let i = sim
                .groups()
                .iter()
                .position(|g| g.group.info.id.name == name)
                .expect("known group");
            let prometheus_parse::Value::Gauge(v) = s.value else {
                panic!("gauge expected")
            };
            assert_eq!(v, frame.values[i][MetricKind::ReplicasReady as usize]);
        }
    }

    #[test]
    fn latency_buckets_put_p95_where_the_simulator_says() {
        // 95% of requests faster than p95.
        assert!((latency_cdf(0.2, 0.2) - 0.95).abs() < 1e-9);
        assert_eq!(latency_cdf(1.0, f64::NAN), 1.0);
    }
}

use super::*;

#[test]
fn histogram_quantile_interpolates_like_promql() {
    let b = [
        (0.1, 50.0),
        (0.5, 90.0),
        (1.0, 100.0),
        (f64::INFINITY, 100.0),
    ];
    // Rank 95 falls in (0.5, 1]: 0.5 + 0.5 x (95 - 90) / 10.
    assert_eq!(histogram_quantile(0.95, &b), Some(0.75));
    // Rank 50 is the top of the lowest bucket, which starts at 0.
    assert_eq!(histogram_quantile(0.5, &b), Some(0.1));
    // In +Inf: the highest finite bound (PromQL docs).
    let tail = [(0.1, 50.0), (f64::INFINITY, 100.0)];
    assert_eq!(histogram_quantile(0.95, &tail), Some(0.1));
    assert_eq!(
        histogram_quantile(0.95, &[(0.1, 0.0), (f64::INFINITY, 0.0)]),
        None
    );
}

#[test]
fn counter_rates_survive_resets() {
    assert_eq!(counter_rate(100.0, 160.0, 15.0), Some(4.0));
    // Reset: the counter restarted from zero and reached 30.
    assert_eq!(counter_rate(100.0, 30.0, 10.0), Some(3.0));
    assert_eq!(counter_rate(1.0, 2.0, 0.0), None);
    assert_eq!(counter_rate(f64::NAN, 2.0, 1.0), None);
}

fn exposition(requests: f64, fast: f64, slow: f64) -> String {
    format!(
        "# TYPE kube_horizontalpodautoscaler_status_current_replicas gauge\n\
         kube_horizontalpodautoscaler_status_current_replicas{{namespace=\"shop\",horizontalpodautoscaler=\"web\"}} 4\n\
         # TYPE http_requests_total counter\n\
         http_requests_total{{namespace=\"shop\",service=\"web\",code=\"200\"}} {requests}\n\
         http_requests_total{{namespace=\"shop\",service=\"web\",code=\"500\"}} 10\n\
         # TYPE http_request_duration_seconds histogram\n\
         http_request_duration_seconds_bucket{{namespace=\"shop\",service=\"web\",le=\"0.1\"}} {fast}\n\
         http_request_duration_seconds_bucket{{namespace=\"shop\",service=\"web\",le=\"0.5\"}} {slow}\n\
         http_request_duration_seconds_bucket{{namespace=\"shop\",service=\"web\",le=\"+Inf\"}} {slow}\n\
         http_request_duration_seconds_sum{{namespace=\"shop\",service=\"web\"}} 1\n\
         http_request_duration_seconds_count{{namespace=\"shop\",service=\"web\"}} {slow}\n"
    )
}

fn values(updates: &[Update]) -> Vec<(String, MetricKind, f64)> {
    updates
        .iter()
        .filter_map(|u| match u {
            Update::Samples { samples, .. } => Some(samples.clone()),
            _ => None,
        })
        .flatten()
        .map(|s| (s.group.name.clone(), s.metric, s.value))
        .collect()
}

#[test]
fn two_scrapes_give_gauges_rates_and_a_latency_quantile() {
    let mut s = Scraper::new(&ScrapeSourceConfig {
        url: "http://x/metrics".into(),
        ..Default::default()
    })
    .expect("preset");
    let t0 = DateTime::from_timestamp(1_700_000_000, 0).expect("time");
    let first = s
        .ingest(&exposition(1000.0, 100.0, 200.0), t0)
        .expect("parse");
    // The group appears once; the first scrape has gauges only.
    assert!(matches!(first[0], Update::Group(ref g) if g.id.name == "web" && g.id.scope == "shop"));
    assert_eq!(
        values(&first),
        vec![("web".into(), MetricKind::ReplicasReady, 4.0)]
    );
    let t1 = t0 + chrono::Duration::seconds(10);
    let second = s
        .ingest(&exposition(1500.0, 190.0, 300.0), t1)
        .expect("parse");
    assert!(!second.iter().any(|u| matches!(u, Update::Group(_))));
    let v = values(&second);
    // 500 more 200s in 10 s (the 500s did not move): 50 rps.
    assert!(
        v.contains(&("web".into(), MetricKind::RequestRate, 50.0)),
        "{v:?}"
    );
    // 100 new requests: 90 under 0.1 s, 10 in (0.1, 0.5]: p95 = 0.1 + 0.4 x 5/10 = 0.3 s.
    let p95 = v
        .iter()
        .find(|x| x.1 == MetricKind::LatencyP95Ms)
        .map(|x| x.2)
        .expect("p95");
    assert!((p95 - 300.0).abs() < 1e-9, "{p95}");
}

#[test]
fn bad_config_and_bad_text_are_named() {
    let mut cfg = ScrapeSourceConfig {
        url: "ftp://x".into(),
        ..Default::default()
    };
    assert!(validate(&cfg).unwrap_err().contains("http://"));
    cfg.url = "http://x/metrics".into();
    cfg.preset = "grafana".into();
    assert!(validate(&cfg).unwrap_err().contains("grafana"));
    cfg.preset = "none".into();
    cfg.metrics = vec![ScrapeMetric {
        metric: "cpu".into(),
        series: "x".into(),
        kind: "gauge".into(),
        group_label: "g".into(),
        scope_label: String::new(),
        quantile: None,
        scale: None,
    }];
    assert!(validate(&cfg).unwrap_err().contains("'cpu'"));
    let mut s = Scraper::new(&ScrapeSourceConfig::default()).expect("preset");
    let t = DateTime::from_timestamp(0, 0).expect("time");
    assert!(
        s.ingest("{{{ not metrics", t).is_err()
            || s.ingest("{{{ not metrics", t).is_ok_and(|u| u.is_empty())
    );
}

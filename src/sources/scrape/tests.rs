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
        denominator: None,
        denominator_match: Default::default(),
    }];
    assert!(validate(&cfg).unwrap_err().contains("'cpu'"));
    let mut s = Scraper::new(&ScrapeSourceConfig::default()).expect("preset");
    let t = DateTime::from_timestamp(0, 0).expect("time");
    assert!(
        s.ingest("{{{ not metrics", t).is_err()
            || s.ingest("{{{ not metrics", t).is_ok_and(|u| u.is_empty())
    );
}

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_000_000 + seconds, 0).expect("time")
}

fn rate_of(updates: &[Update]) -> Option<f64> {
    values(updates)
        .into_iter()
        .find(|v| v.1 == MetricKind::RequestRate)
        .map(|v| v.2)
}

#[test]
fn a_counter_refreshed_less_often_than_scraped_still_has_its_rate() {
    // The exporter adds 600 requests once a minute (10 rps); scaletop scrapes every 5 s.
    // Between two consecutive scrapes the counter mostly does not move: a 2-minute window
    // sees the real rate instead of 0 most of the time.
    let mut s = Scraper::new(&ScrapeSourceConfig::default()).expect("preset");
    let mut rates = Vec::new();
    for t in (0..=300).step_by(5) {
        let requests = 10_000.0 + 600.0 * f64::from(t / 60);
        let u = s
            .ingest(&exposition(requests, 0.0, 0.0), at(i64::from(t)))
            .expect("parse");
        if t >= 180 {
            rates.push(rate_of(&u).expect("a rate"));
        }
    }
    // Over any 120-125 s span, two or three refreshes of 600: 9.6 to 15 rps, never 0.
    assert!(rates.iter().all(|r| (9.0..=15.0).contains(r)), "{rates:?}");
    let mean = rates.iter().sum::<f64>() / rates.len() as f64;
    assert!((mean - 10.0).abs() < 1.5, "{mean} {rates:?}");
}

#[test]
fn a_reset_inside_the_window_counts_the_increase_since_the_reset() {
    let mut s = Scraper::new(&ScrapeSourceConfig::default()).expect("preset");
    s.ingest(&exposition(1000.0, 0.0, 0.0), at(0))
        .expect("parse");
    s.ingest(&exposition(1100.0, 0.0, 0.0), at(10))
        .expect("parse");
    // The process restarted: 50 counted since. (100 + 50) over 20 s.
    let u = s
        .ingest(&exposition(50.0, 0.0, 0.0), at(20))
        .expect("parse");
    assert_eq!(rate_of(&u), Some(7.5));
    // Readings older than the window go; the one at the window's edge stays.
    let cfg = ScrapeSourceConfig {
        rate_window: "15s".into(),
        ..Default::default()
    };
    let mut s = Scraper::new(&cfg).expect("preset");
    for (t, v) in [(0, 0.0), (10, 1000.0), (20, 1010.0), (30, 1020.0)] {
        s.ingest(&exposition(v, 0.0, 0.0), at(t)).expect("parse");
    }
    let u = s
        .ingest(&exposition(1030.0, 0.0, 0.0), at(40))
        .expect("parse");
    // Window from 25 s: readings at 20, 30, 40 -> 20 over 20 s; the early burst is gone.
    assert_eq!(rate_of(&u), Some(1.0));
}

#[test]
fn utilization_is_usage_over_requests_per_container() {
    let text = |cpu: f64| {
        format!(
            "container_cpu_usage_seconds_total{{namespace=\"shop\",pod=\"web-1\",container=\"web\"}} {cpu}\n\
             container_cpu_usage_seconds_total{{namespace=\"shop\",pod=\"web-2\",container=\"web\"}} {cpu}\n\
             container_memory_working_set_bytes{{namespace=\"shop\",pod=\"web-1\",container=\"web\"}} 1073741824\n\
             kube_pod_container_resource_requests{{namespace=\"shop\",pod=\"web-1\",container=\"web\",resource=\"cpu\"}} 0.5\n\
             kube_pod_container_resource_requests{{namespace=\"shop\",pod=\"web-2\",container=\"web\",resource=\"cpu\"}} 0.5\n\
             kube_pod_container_resource_requests{{namespace=\"shop\",pod=\"web-1\",container=\"web\",resource=\"memory\"}} 4294967296\n"
        )
    };
    let mut s = Scraper::new(&ScrapeSourceConfig::default()).expect("preset");
    let first = values(&s.ingest(&text(100.0), at(0)).expect("parse"));
    // Memory is a gauge: 1 GiB of a 4 GiB request at once. CPU needs a rate first.
    assert!(
        first.contains(&("web".into(), MetricKind::MemoryUtilization, 25.0)),
        "{first:?}"
    );
    assert!(!first.iter().any(|v| v.1 == MetricKind::CpuUtilization));
    // Each pod used 3 CPU-seconds in 10 s: 0.6 cores of 1.0 requested = 60%.
    let second = values(&s.ingest(&text(103.0), at(10)).expect("parse"));
    let cpu = second
        .iter()
        .find(|v| v.1 == MetricKind::CpuUtilization)
        .map(|v| v.2)
        .expect("cpu");
    assert!((cpu - 60.0).abs() < 1e-9, "{cpu}");
}

//! CloudWatch metrics of the groups through GetMetricData, one query per (group, metric):
//!
//! - `AWS/EC2 CPUUtilization` by AutoScalingGroupName, Average -> cpu_utilization (%).
//! - `AWS/EC2 NetworkIn` + `NetworkOut`, Sum over the period -> network_mbps
//!   (bytes x 8 / 10^6 / period seconds; both directions, only where both have a datapoint).
//! - `AWS/ApplicationELB RequestCountPerTarget` by TargetGroup, Sum -> request_rate: requests
//!   per target per second times the group's in-service instances now (CloudWatch gives the
//!   per-target figure without the load balancer's dimension), summed over target groups.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_cloudwatch::primitives::DateTime as AwsTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use aws_sdk_cloudwatch::Client as CwClient;
use chrono::{DateTime, Utc};

use super::client::{classify, Failure};
use crate::model::{GroupId, MetricKind};
use crate::sources::Sample;

/// GetMetricData takes at most 500 queries per request.
const MAX_QUERIES: usize = 500;

/// What metrics are read for one group.
#[derive(Debug, Clone)]
pub struct MetricTarget {
    pub group: GroupId,
    pub asg_name: String,
    pub target_groups: Vec<String>,
    pub in_service: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Series {
    Cpu,
    NetIn,
    NetOut,
    RequestsPerTarget,
}

fn query(
    id: String,
    namespace: &str,
    metric: &str,
    dim: (&str, &str),
    stat: &str,
    period: i32,
) -> MetricDataQuery {
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .namespace(namespace)
                        .metric_name(metric)
                        .dimensions(Dimension::builder().name(dim.0).value(dim.1).build())
                        .build(),
                )
                .period(period)
                .stat(stat)
                .build(),
        )
        .return_data(true)
        .build()
}

/// Samples by Unix time for `[start, end)`.
pub async fn fetch(
    cw: &CwClient,
    targets: &[MetricTarget],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    period_seconds: i32,
) -> Result<BTreeMap<i64, Vec<Sample>>, Failure> {
    let mut queries = Vec::new();
    let mut meaning: HashMap<String, (usize, Series)> = HashMap::new();
    for (i, t) in targets.iter().enumerate() {
        let dim = ("AutoScalingGroupName", t.asg_name.as_str());
        for (suffix, metric, stat, series) in [
            ("cpu", "CPUUtilization", "Average", Series::Cpu),
            ("nin", "NetworkIn", "Sum", Series::NetIn),
            ("nout", "NetworkOut", "Sum", Series::NetOut),
        ] {
            let id = format!("g{i}_{suffix}");
            queries.push(query(
                id.clone(),
                "AWS/EC2",
                metric,
                dim,
                stat,
                period_seconds,
            ));
            meaning.insert(id, (i, series));
        }
        for (j, tg) in t.target_groups.iter().enumerate() {
            let id = format!("g{i}_rpt{j}");
            queries.push(query(
                id.clone(),
                "AWS/ApplicationELB",
                "RequestCountPerTarget",
                ("TargetGroup", tg),
                "Sum",
                period_seconds,
            ));
            meaning.insert(id, (i, Series::RequestsPerTarget));
        }
    }
    // (group, series) -> time -> value (summed: several target groups add up).
    let mut values: HashMap<(usize, u8), BTreeMap<i64, f64>> = HashMap::new();
    for chunk in queries.chunks(MAX_QUERIES) {
        let mut token = None;
        loop {
            let page = cw
                .get_metric_data()
                .set_metric_data_queries(Some(chunk.to_vec()))
                .start_time(AwsTime::from_secs(start.timestamp()))
                .end_time(AwsTime::from_secs(end.timestamp()))
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| classify("GetMetricData", &e))?;
            for r in page.metric_data_results() {
                let Some(&(g, series)) = r.id().and_then(|id| meaning.get(id)) else {
                    continue;
                };
                let per = values.entry((g, series as u8)).or_default();
                for (t, v) in r.timestamps().iter().zip(r.values()) {
                    if v.is_finite() {
                        *per.entry(t.secs()).or_default() += v;
                    }
                }
            }
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    Ok(to_samples(targets, &values, period_seconds))
}

fn to_samples(
    targets: &[MetricTarget],
    values: &HashMap<(usize, u8), BTreeMap<i64, f64>>,
    period_seconds: i32,
) -> BTreeMap<i64, Vec<Sample>> {
    let period = f64::from(period_seconds.max(1));
    let mut out: BTreeMap<i64, Vec<Sample>> = BTreeMap::new();
    let empty = BTreeMap::new();
    let get = |g: usize, s: Series| values.get(&(g, s as u8)).unwrap_or(&empty);
    for (g, t) in targets.iter().enumerate() {
        let mut push = |ts: i64, metric: MetricKind, value: f64| {
            out.entry(ts).or_default().push(Sample {
                group: t.group.clone(),
                metric,
                value,
            })
        };
        for (&ts, &v) in get(g, Series::Cpu) {
            push(ts, MetricKind::CpuUtilization, v);
        }
        let outbound = get(g, Series::NetOut);
        for (&ts, &inbound) in get(g, Series::NetIn) {
            if let Some(o) = outbound.get(&ts) {
                push(
                    ts,
                    MetricKind::NetworkMbps,
                    (inbound + o) * 8.0 / 1e6 / period,
                );
            }
        }
        for (&ts, &per_target) in get(g, Series::RequestsPerTarget) {
            push(
                ts,
                MetricKind::RequestRate,
                per_target / period * f64::from(t.in_service),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Platform;

    #[test]
    fn network_and_requests_convert_to_rates() {
        let t = MetricTarget {
            group: GroupId::new(Platform::Aws, "1/us-east-1", "web"),
            asg_name: "web".into(),
            target_groups: vec!["targetgroup/web/abc".into()],
            in_service: 4,
        };
        let mut v = HashMap::new();
        // 300 s period: 37.5 MB in + 0 out = 1 Mb/s; 300 requests per target = 1 req/s each.
        v.insert(
            (0, Series::NetIn as u8),
            BTreeMap::from([(600, 37_500_000.0)]),
        );
        v.insert(
            (0, Series::NetOut as u8),
            BTreeMap::from([(600, 0.0), (900, 1.0)]),
        );
        v.insert(
            (0, Series::RequestsPerTarget as u8),
            BTreeMap::from([(600, 300.0)]),
        );
        let s = to_samples(&[t], &v, 300);
        let at = &s[&600];
        let get = |m| at.iter().find(|x| x.metric == m).map(|x| x.value);
        assert_eq!(get(MetricKind::NetworkMbps), Some(1.0));
        assert_eq!(get(MetricKind::RequestRate), Some(4.0));
        assert!(
            !s.contains_key(&900),
            "out without in is not a network figure"
        );
    }
}

//! The predictive scaling forecast AWS made for a group's PredictiveScaling policy
//! (GetPredictiveScalingForecast), summarised for the group's labels: the capacity the
//! forecast asks for next and at its peak, and when AWS last updated it.

use aws_sdk_autoscaling::primitives::DateTime as AwsTime;
use aws_sdk_autoscaling::Client as AsgClient;
use chrono::{DateTime, Utc};

use super::client::{classify, Failure};

/// The forecast covers up to two days ahead.
const AHEAD_HOURS: i64 = 48;

fn utc(t: &AwsTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), 0)
}

/// One line: "policy P: capacity 5 next (2024-05-17 07:00), peak 8 at 2024-05-17 08:00;
/// updated 2024-05-16 21:52 UTC".
pub fn summarise(
    policy: &str,
    now: DateTime<Utc>,
    capacity: &[(DateTime<Utc>, f64)],
    updated: Option<DateTime<Utc>>,
) -> Option<String> {
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M").to_string();
    let peak = capacity
        .iter()
        .filter(|(_, v)| v.is_finite())
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let mut text = format!("policy {policy}: capacity");
    if let Some((t, v)) = capacity.iter().find(|(t, _)| *t >= now) {
        text.push_str(&format!(" {v:.0} next ({})", fmt(*t)));
    } else {
        text.push_str(" (forecast ends before now)");
    }
    text.push_str(&format!(", peak {:.0} at {}", peak.1, fmt(peak.0)));
    if let Some(u) = updated {
        text.push_str(&format!("; updated {} UTC", fmt(u)));
    }
    Some(text)
}

pub async fn forecast(
    asg: &AsgClient,
    group: &str,
    policy: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, Failure> {
    let out = asg
        .get_predictive_scaling_forecast()
        .auto_scaling_group_name(group)
        .policy_name(policy)
        .start_time(AwsTime::from_secs(now.timestamp() - 3600))
        .end_time(AwsTime::from_secs(now.timestamp() + AHEAD_HOURS * 3600))
        .send()
        .await
        .map_err(|e| classify("GetPredictiveScalingForecast", &e))?;
    let capacity: Vec<(DateTime<Utc>, f64)> = out
        .capacity_forecast()
        .map(|c| {
            c.timestamps()
                .iter()
                .zip(c.values())
                .filter_map(|(t, v)| Some((utc(t)?, *v)))
                .collect()
        })
        .unwrap_or_default();
    Ok(summarise(
        policy,
        now,
        &capacity,
        out.update_time().and_then(utc),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_and_peak() {
        let t = |h: u32| {
            DateTime::parse_from_rfc3339(&format!("2024-05-17T{h:02}:00:00Z"))
                .unwrap()
                .with_timezone(&Utc)
        };
        let cap = [(t(6), 3.0), (t(7), 5.0), (t(8), 8.0), (t(9), 7.0)];
        assert_eq!(
            summarise("p", t(7), &cap, None).as_deref(),
            Some("policy p: capacity 5 next (2024-05-17 07:00), peak 8 at 2024-05-17 08:00")
        );
        assert!(summarise("p", t(10), &cap, None)
            .unwrap()
            .contains("forecast ends before now"));
        assert_eq!(summarise("p", t(7), &[], None), None);
    }
}

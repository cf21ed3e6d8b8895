//! Capacity runway: when the forecast's upper band first needs more than the group's maximum
//! capacity (max replicas x per-replica capacity at the target utilization), and how many
//! replicas its peak needs.

use serde::Serialize;

use super::{format_time, ser_time, ser_time_opt, ForecastPoint};
use crate::artifact::{Artifact, PolicyArtifact, PolicyFormat};
use crate::engine::tune::PolicyDoc;
use crate::model::{
    GroupId, Platform, Recommendation, RecommendationKind, Risk, RECOMMENDATION_SCHEMA,
};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Runway {
    /// Demand the group can serve at its maximum, in the series' units.
    pub capacity: f64,
    /// First time the 95% upper band exceeds the capacity (None: not within the horizon).
    #[serde(serialize_with = "ser_time_opt")]
    pub first_crossing: Option<i64>,
    /// First time the mean forecast exceeds it.
    #[serde(serialize_with = "ser_time_opt")]
    pub first_crossing_mean: Option<i64>,
    /// Highest 95% upper band in the horizon and when.
    pub peak_upper: f64,
    #[serde(serialize_with = "ser_time")]
    pub peak_at: i64,
    /// (capacity - peak_upper) / capacity x 100; negative when the peak does not fit.
    pub headroom_pct: f64,
    /// Replicas the peak needs, when the per-replica capacity is known.
    pub replicas_needed: Option<u64>,
}

/// The runway of `points` against `capacity`; None without points or a positive capacity.
pub fn runway(points: &[ForecastPoint], capacity: f64, per_replica: Option<f64>) -> Option<Runway> {
    if !(capacity > 0.0 && capacity.is_finite()) {
        return None;
    }
    let peak = points.iter().max_by(|a, b| a.hi95.total_cmp(&b.hi95))?;
    Some(Runway {
        capacity,
        first_crossing: points
            .iter()
            .find(|p| p.hi95 > capacity)
            .map(|p| p.timestamp),
        first_crossing_mean: points
            .iter()
            .find(|p| p.mean > capacity)
            .map(|p| p.timestamp),
        peak_upper: peak.hi95,
        peak_at: peak.timestamp,
        headroom_pct: (capacity - peak.hi95) / capacity * 100.0,
        replicas_needed: per_replica
            .filter(|c| *c > 0.0 && c.is_finite())
            .map(|c| (peak.hi95 / c).ceil().max(0.0) as u64),
    })
}

/// The policy document with its maximum replica count set to `max`.
pub fn with_max(doc: &PolicyDoc, max: u32) -> PolicyDoc {
    let mut d = doc.clone();
    match &mut d {
        PolicyDoc::Hpa(h) => h.spec.max_replicas = max,
        PolicyDoc::Keda(k) => k.spec.max_replica_count = Some(max),
        PolicyDoc::Asg(a) => a.max_size = max,
        PolicyDoc::Gcp(g) => g.autoscaling_policy.max_num_replicas = max,
    }
    d
}

/// A `policy` recommendation to raise the policy's max to what the forecast's upper band
/// needs, when the runway runs out within the horizon ("checkout reaches max=100 on
/// 2026-12-18 18:00 UTC; raise max to 130"). `evidence` adds the forecast's own figures
/// (model, backtest). None when the band never exceeds the capacity or the per-replica
/// capacity is unknown.
pub fn max_raise_recommendation(
    group: &str,
    runway: &Runway,
    doc: &PolicyDoc,
    evidence: Vec<String>,
) -> Option<Recommendation> {
    let crossing = runway.first_crossing?;
    let needed = u32::try_from(runway.replicas_needed?).ok()?;
    let (_, max) = doc.bounds();
    if needed <= max {
        return None;
    }
    let raised = with_max(doc, needed);
    // Only a document that replays is worth recommending.
    raised.autoscaler().ok()?;
    let platform = match doc.format() {
        PolicyFormat::K8sHpa | PolicyFormat::KedaScaledObject => Platform::K8s,
        PolicyFormat::AwsAsg | PolicyFormat::AwsAppscaling => Platform::Aws,
        PolicyFormat::GcpAutoscaler => Platform::Gcp,
        PolicyFormat::AzureAutoscale => Platform::Azure,
    };
    let mut lines = vec![
        format!(
            "the 95% upper band first exceeds the capacity at max={max} ({:.1}) at {}",
            runway.capacity,
            format_time(crossing)
        ),
        match runway.first_crossing_mean {
            Some(t) => format!("the mean forecast exceeds it at {}", format_time(t)),
            None => "the mean forecast stays under it through the horizon".to_string(),
        },
        format!(
            "the band peaks at {:.1} at {} ({:+.0}% headroom at max={max}): {needed} replicas",
            runway.peak_upper,
            format_time(runway.peak_at),
            runway.headroom_pct
        ),
    ];
    lines.extend(evidence);
    let when = chrono::DateTime::from_timestamp(crossing, 0).map_or(crossing.to_string(), |t| {
        t.format("%Y-%m-%d %H:%M UTC").to_string()
    });
    Some(Recommendation {
        schema: RECOMMENDATION_SCHEMA.to_string(),
        id: format!("policy/{group}/max-{needed}"),
        kind: RecommendationKind::Policy,
        group: GroupId::new(platform, "", group),
        title: format!("{group} reaches max={max} on {when}; raise max to {needed}"),
        evidence: lines,
        // Extra replicas are only paid for when demand needs them.
        saving_usd_month: None,
        risk: Risk::Low,
        artifact: Artifact::Policy(PolicyArtifact {
            format: doc.format(),
            document: raised.to_value(),
        })
        .to_value(),
    })
}

/// Evidence lines for [`max_raise_recommendation`]: the forecast's model and backtest.
pub fn forecast_evidence(model: &str, mase: Option<f64>, coverage95: Option<f64>) -> Vec<String> {
    let f = |v: Option<f64>, pct: bool| {
        v.filter(|x| x.is_finite()).map_or("-".to_string(), |x| {
            if pct {
                format!("{:.0}%", x * 100.0)
            } else {
                format!("{x:.2}")
            }
        })
    };
    vec![format!(
        "forecast model {model}: backtest MASE {}, 95% band coverage {}",
        f(mase, false),
        f(coverage95, true)
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t: i64, mean: f64) -> ForecastPoint {
        ForecastPoint {
            timestamp: t,
            mean,
            lo80: mean - 5.0,
            hi80: mean + 5.0,
            lo95: mean - 10.0,
            hi95: mean + 10.0,
        }
    }

    #[test]
    fn upper_band_crosses_before_the_mean() {
        let pts: Vec<ForecastPoint> = (0..10)
            .map(|i| point(i * 3600, 80.0 + 3.0 * i as f64))
            .collect();
        let r = runway(&pts, 100.0, Some(10.0)).expect("runway");
        // hi95 = 90 + 3i > 100 from i = 4; mean = 80 + 3i > 100 from i = 7.
        assert_eq!(r.first_crossing, Some(4 * 3600));
        assert_eq!(r.first_crossing_mean, Some(7 * 3600));
        assert_eq!(r.peak_at, 9 * 3600);
        assert_eq!(r.replicas_needed, Some(12));
        assert!(r.headroom_pct < 0.0);
        assert!(runway(&pts, 1000.0, None).is_some_and(|r| r.first_crossing.is_none()));
        assert!(runway(&pts, 0.0, None).is_none());
    }

    #[test]
    fn runway_out_becomes_a_max_raise_on_the_policy() {
        let text = include_str!("../../../tests/fixtures/hpa-cpu70.yaml");
        let doc = PolicyDoc::parse(text).expect("fixture parses");
        // max 20 x 10 req/s = 200; the band climbs 190 + 3i (i hours), peak at i = 9: 217.
        let pts: Vec<ForecastPoint> = (0..10)
            .map(|i| point(1_790_000_000 + i * 3600, 180.0 + 3.0 * i as f64))
            .collect();
        let r = runway(&pts, 200.0, Some(10.0)).expect("runway");
        let rec = max_raise_recommendation("web", &r, &doc, vec!["model x".into()])
            .expect("recommendation");
        assert_eq!(rec.kind, RecommendationKind::Policy);
        // ceil(217 / 10) = 22 replicas.
        assert!(
            rec.title.contains("max=20") && rec.title.ends_with("raise max to 22"),
            "{}",
            rec.title
        );
        let Ok(Artifact::Policy(p)) = Artifact::from_value(&rec.artifact) else {
            panic!("policy artifact: {}", rec.artifact);
        };
        assert_eq!(p.format, PolicyFormat::K8sHpa);
        assert_eq!(p.document["spec"]["maxReplicas"], 22);
        let a = crate::engine::policy::parse_policy(&p.document.to_string()).expect("replays");
        assert_eq!(a.bounds(), (2, 22));
        // Enough room: no recommendation.
        let r = runway(&pts, 1000.0, Some(10.0)).expect("runway");
        assert!(max_raise_recommendation("web", &r, &doc, vec![]).is_none());
    }
}

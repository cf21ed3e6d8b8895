//! The monitoring figures of every group (scaling events per day, efficiency, false
//! positives, latency and errors while scaling, SLA at peak, cost per request) for the
//! Overview and Events tabs. One definition: `report::monitoring::figures`, the same that
//! `snapshot` and the report print.

use crate::report::monitoring::{figures, MonitoringFigures, MonitoringInputs};
use crate::store::Store;

#[derive(Debug)]
pub struct MonitoringJob {
    pub inputs: Vec<MonitoringInputs>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MonitoringOutcome {
    pub groups: Vec<MonitoringFigures>,
    pub fleet: FleetFigures,
}

/// The fleet at a glance: what an on-call engineer reads first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetFigures {
    pub scaling_events_per_day: f64,
    /// Share of all scaling events the demand justified (not part of a thrash pair).
    pub scaling_efficiency: Option<f64>,
    pub false_positive_scale_ups: usize,
    /// Worst group's p95 while scaling, ms.
    pub worst_p95_during_scaling_ms: Option<f64>,
    /// Worst group's SLA compliance at peak.
    pub worst_sla_compliance_at_peak: Option<f64>,
}

/// Copies every group's history out of the store (cheap next to computing on it).
pub fn job(store: &Store) -> MonitoringJob {
    MonitoringJob {
        inputs: (0..store.groups().len())
            .filter_map(|g| MonitoringInputs::from_store(store, g))
            .collect(),
    }
}

pub fn run(job: MonitoringJob) -> MonitoringOutcome {
    let groups: Vec<MonitoringFigures> = job.inputs.iter().map(figures).collect();
    MonitoringOutcome {
        fleet: fleet(&groups),
        groups,
    }
}

fn fleet(groups: &[MonitoringFigures]) -> FleetFigures {
    let events: usize = groups.iter().map(|g| g.scaling_events).sum();
    // Efficiency weighted by each group's events: the fleet's share of justified scalings.
    let justified: f64 = groups
        .iter()
        .filter_map(|g| g.scaling_efficiency.map(|e| e * g.scaling_events as f64))
        .sum();
    let worst = |f: fn(&MonitoringFigures) -> Option<f64>, max: bool| {
        groups
            .iter()
            .filter_map(f)
            .reduce(|a, b| if max { a.max(b) } else { a.min(b) })
    };
    FleetFigures {
        // fold from +0.0: an empty f64 sum is -0.0, shown as "-0.0".
        scaling_events_per_day: groups.iter().fold(0.0, |a, g| a + g.scaling_events_per_day),
        scaling_efficiency: (events > 0).then(|| justified / events as f64),
        false_positive_scale_ups: groups.iter().map(|g| g.false_positive_scale_ups).sum(),
        worst_p95_during_scaling_ms: worst(|g| g.p95_during_scaling_ms, true),
        worst_sla_compliance_at_peak: worst(|g| g.sla_compliance_at_peak, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(
        events: usize,
        efficiency: Option<f64>,
        p95: Option<f64>,
        sla: Option<f64>,
    ) -> MonitoringFigures {
        MonitoringFigures {
            group: "g".into(),
            days: 1.0,
            scaling_events: events,
            scaling_events_per_day: events as f64,
            scaling_efficiency: efficiency,
            false_positive_scale_ups: 1,
            mean_time_to_scale_up_seconds: None,
            max_time_to_scale_up_seconds: None,
            p95_during_scaling_ms: p95,
            p99_during_scaling_ms: None,
            error_rate_during_scaling: None,
            sla_compliance_at_peak: sla,
            cost_usd: None,
            cost_per_million_requests_usd: None,
        }
    }

    #[test]
    fn fleet_efficiency_is_weighted_by_events_and_worst_cases_are_kept() {
        // 10 events at 50% justified and 30 at 100%: 35 of 40 justified.
        let f = fleet(&[
            group(10, Some(0.5), Some(300.0), Some(0.9)),
            group(30, Some(1.0), Some(120.0), Some(1.0)),
            group(0, None, None, None),
        ]);
        assert_eq!(f.scaling_events_per_day, 40.0);
        assert_eq!(f.scaling_efficiency, Some(35.0 / 40.0));
        assert_eq!(f.false_positive_scale_ups, 3);
        assert_eq!(f.worst_p95_during_scaling_ms, Some(300.0));
        assert_eq!(f.worst_sla_compliance_at_peak, Some(0.9));
        assert_eq!(fleet(&[]).scaling_efficiency, None);
    }
}

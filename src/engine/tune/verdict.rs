//! Whether a replay keeps the Slo (CONTRACTS.md): SLA-violation minutes within the
//! availability budget, availability at target, time to scale within the maximum.

use serde::Serialize;

use crate::engine::replay::ReplaySummary;
use crate::model::Slo;

/// SLA-violation minutes the Slo allows over a replay: the unavailability budget.
pub fn sla_budget_minutes(s: &ReplaySummary, slo: &Slo) -> f64 {
    (1.0 - slo.availability).max(0.0) * s.duration_hours * 60.0
}

/// The ways a replay misses the Slo, one line each (empty: it keeps it).
pub fn slo_problems(s: &ReplaySummary, slo: &Slo) -> Vec<String> {
    let mut p = Vec::new();
    let budget = sla_budget_minutes(s, slo);
    if s.sla_violation_minutes > budget + 1e-9 {
        p.push(format!(
            "{:.0} SLA-violation minutes over the {:.1}-minute budget of {:.2}% availability",
            s.sla_violation_minutes,
            budget,
            slo.availability * 100.0
        ));
    }
    if s.availability + 1e-12 < slo.availability {
        p.push(format!(
            "availability {:.4}% below {:.2}%",
            s.availability * 100.0,
            slo.availability * 100.0
        ));
    }
    if let Some(t) = s.max_time_to_scale_seconds {
        if t > i64::from(slo.max_time_to_scale_seconds) {
            p.push(format!(
                "time to scale {t} s over the {} s maximum",
                slo.max_time_to_scale_seconds
            ));
        }
    }
    p
}

pub fn keeps_slo(s: &ReplaySummary, slo: &Slo) -> bool {
    slo_problems(s, slo).is_empty()
}

/// May be recommended: keeps the Slo and does not thrash.
pub fn eligible(s: &ReplaySummary, slo: &Slo) -> bool {
    s.thrash_events == 0 && keeps_slo(s, slo)
}

/// The figures shown for one replay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Figures {
    pub hours: f64,
    pub cost_usd: f64,
    pub cost_usd_per_month: f64,
    pub replica_hours: f64,
    /// Ready replica-hours beyond need at the policy's target, percent of replica-hours.
    pub waste_percent: f64,
    pub sla_violation_minutes: f64,
    pub sla_budget_minutes: f64,
    pub availability: f64,
    pub scale_up_events: usize,
    pub scale_down_events: usize,
    pub thrash_events: usize,
    pub peak_replicas: u32,
    pub max_time_to_scale_seconds: Option<i64>,
    pub p95_ms_worst: f64,
    pub keeps_slo: bool,
    /// Why it misses the Slo, if it does.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slo_problems: Vec<String>,
}

impl Figures {
    pub fn of(s: &ReplaySummary, slo: &Slo) -> Figures {
        let problems = slo_problems(s, slo);
        Figures {
            hours: s.duration_hours,
            cost_usd: s.cost_usd,
            cost_usd_per_month: s.cost_usd_per_month,
            replica_hours: s.replica_hours,
            waste_percent: if s.replica_hours > 0.0 {
                100.0 * s.wasted_replica_hours / s.replica_hours
            } else {
                0.0
            },
            sla_violation_minutes: s.sla_violation_minutes,
            sla_budget_minutes: sla_budget_minutes(s, slo),
            availability: s.availability,
            scale_up_events: s.scale_up_events,
            scale_down_events: s.scale_down_events,
            thrash_events: s.thrash_events,
            peak_replicas: s.peak_replicas,
            max_time_to_scale_seconds: s.max_time_to_scale_seconds,
            p95_ms_worst: s.p95_ms_worst,
            keeps_slo: problems.is_empty(),
            slo_problems: problems,
        }
    }
}

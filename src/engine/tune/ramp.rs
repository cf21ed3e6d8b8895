//! A spike replayed through a policy: demand rises from a base to a peak over `rise_seconds`
//! and holds. How long until ready capacity serves the peak (at 100% of capacity), and, when
//! that takes longer than the limit, the reason: instance startup, the group's max, or the
//! policy's own pace.

use serde::Serialize;

use super::doc::PolicyDoc;
use crate::engine::replay::{replay, ReplayInput};
use crate::model::{CapacityModel, GroupId, Slo};

/// Replay step of the spike (the HPA's sync period).
const STEP_SECONDS: i64 = 15;
/// Quiet time before the rise, so the policy settles at the base.
const BEFORE_SECONDS: i64 = 1800;
const HOLD_SECONDS: i64 = 3600;

#[derive(Debug, Clone, Serialize)]
pub struct SpikeResult {
    pub base_rps: f64,
    pub peak_rps: f64,
    pub rise_seconds: i64,
    /// From the start of the rise until ready replicas serve the peak; None: never in the hour.
    pub seconds_to_serve_peak: Option<i64>,
    pub replicas_needed: u32,
    pub peak_ready: u32,
    pub within_limit: bool,
    /// Why not, when not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Replays `doc` over the spike; `limit_seconds` is the goal (e.g. 300 for "in 5 minutes").
pub fn spike(
    doc: &PolicyDoc,
    cap: &CapacityModel,
    slo: &Slo,
    base_rps: f64,
    peak_rps: f64,
    rise_seconds: i64,
    limit_seconds: i64,
) -> Result<SpikeResult, String> {
    let rise = rise_seconds.max(STEP_SECONDS);
    let steps = (BEFORE_SECONDS + rise + HOLD_SECONDS) / STEP_SECONDS;
    let demand: Vec<f64> = (0..steps)
        .map(|i| {
            let t = i * STEP_SECONDS - BEFORE_SECONDS;
            if t <= 0 {
                base_rps
            } else if t >= rise {
                peak_rps
            } else {
                base_rps + (peak_rps - base_rps) * t as f64 / rise as f64
            }
        })
        .collect();
    let input = ReplayInput {
        start: 0,
        step_seconds: STEP_SECONDS,
        demand_rps: &demand,
        extra: Vec::new(),
    };
    let mut a = doc.autoscaler().map_err(|e| e.to_string())?;
    let group = GroupId::new(crate::model::Platform::Sim, "spike", "spike");
    let r = replay(a.as_mut(), &input, cap, slo, None, &group).map_err(|e| e.to_string())?;
    let needed = (peak_rps / cap.capacity_per_replica_rps).ceil() as u32;
    let first = (BEFORE_SECONDS / STEP_SECONDS) as usize;
    let served = r.steps[first..]
        .iter()
        .position(|s| s.ready >= needed && s.demand >= peak_rps)
        .map(|k| (k as i64 + 1) * STEP_SECONDS);
    let peak_ready = r.steps.iter().map(|s| s.ready).max().unwrap_or(0);
    let (_, max) = doc.bounds();
    let within = served.is_some_and(|t| t <= limit_seconds);
    let reason = (!within).then(|| {
        if needed > max {
            format!(
                "the peak needs {needed} replicas at {} rps each, above the group's max of {max}",
                cap.capacity_per_replica_rps
            )
        } else if rise + i64::from(cap.startup_seconds) > limit_seconds {
            // Replicas that serve the peak by the limit must be ordered by limit - startup.
            let order_by = (limit_seconds - i64::from(cap.startup_seconds)).max(0);
            let seen = base_rps + (peak_rps - base_rps) * (order_by as f64 / rise as f64).min(1.0);
            format!(
                "a replica takes {} s to start: to serve the peak {limit_seconds} s in, its replicas must be ordered {order_by} s in, when demand is {seen:.0} rps ({:.0}% of the peak); ordering for the demand it sees, the policy served the peak {} — only capacity ordered ahead of demand (a lower target, a higher minimum, a warm pool, a schedule) is faster",
                cap.startup_seconds,
                100.0 * seen / peak_rps,
                served.map_or("not within the hour".to_string(), |t| format!("{t} s in"))
            )
        } else {
            format!(
                "the policy adds capacity too slowly: {} replicas ready of {needed} needed {limit_seconds} s after the rise began",
                r.steps
                    .get(first + (limit_seconds / STEP_SECONDS) as usize)
                    .map_or(0, |s| s.ready)
            )
        }
    });
    Ok(SpikeResult {
        base_rps,
        peak_rps,
        rise_seconds: rise,
        seconds_to_serve_peak: served,
        replicas_needed: needed,
        peak_ready,
        within_limit: within,
        reason,
    })
}

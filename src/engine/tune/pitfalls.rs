//! The scaling pitfalls users meet (scenarios.md), detected in a policy's replay, each with
//! its evidence: thresholds too close, cooldown too short, premature scale-down, slow
//! scale-up, cold starts ignored. Run on the current policy, then on the recommendation to
//! show which it fixes.

use serde::Serialize;

use super::doc::PolicyDoc;
use crate::engine::events::DEFAULT_THRASH_WINDOW_SECONDS;
use crate::engine::policy::aws_spec::{ComparisonOperator, PolicyType};
use crate::engine::policy::hpa_spec::{
    Behavior, DEFAULT_SCALE_DOWN_STABILIZATION_SECONDS, DEFAULT_TOLERANCE,
};
use crate::engine::replay::{Replay, ReplayEvent};
use crate::model::{CapacityModel, ScaleDirection, Slo};

/// A scale-up back within this long after a scale-down means the scale-down was premature.
const PREMATURE_SECONDS: i64 = 900;
/// A band narrower than this share of the target leaves noise to decide.
const NARROW_BAND: f64 = 0.15;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pitfall {
    /// thresholds_too_close | cooldown_too_short | premature_scale_down | slow_scale_up |
    /// cold_starts_ignored
    pub id: &'static str,
    pub title: &'static str,
    pub evidence: Vec<String>,
    /// Whether the recommended policy's replay is free of it (None before that check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed: Option<bool>,
    /// The recommendation's figure for the same evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

fn hpa_behavior(doc: &PolicyDoc) -> Option<Behavior> {
    match doc {
        PolicyDoc::Hpa(m) => Some(m.spec.behavior.clone().unwrap_or_default()),
        PolicyDoc::Keda(so) => Some(
            so.spec
                .advanced
                .as_ref()
                .and_then(|a| a.horizontal_pod_autoscaler_config.as_ref())
                .and_then(|h| h.behavior.clone())
                .unwrap_or_default(),
        ),
        _ => None,
    }
}

/// The no-action band around the target as a share of it, with its words.
fn band(doc: &PolicyDoc) -> Option<(f64, String)> {
    if let Some(b) = hpa_behavior(doc) {
        let tol = |r: &Option<crate::engine::policy::hpa_spec::ScalingRules>| {
            r.as_ref()
                .and_then(|r| r.tolerance.as_ref())
                .and_then(|q| q.value().ok())
                .unwrap_or(DEFAULT_TOLERANCE)
        };
        let (up, down) = (tol(&b.scale_up), tol(&b.scale_down));
        return Some((
            up + down,
            format!(
                "tolerance {down}/{up}: no action only between {:.0}% and {:.0}% of the target",
                100.0 * (1.0 - down),
                100.0 * (1.0 + up)
            ),
        ));
    }
    if let PolicyDoc::Asg(c) = doc {
        let high = c.alarms.iter().find(|a| {
            matches!(
                a.comparison_operator,
                ComparisonOperator::GreaterThanOrEqualToThreshold
                    | ComparisonOperator::GreaterThanThreshold
            )
        })?;
        let low = c.alarms.iter().find(|a| {
            matches!(
                a.comparison_operator,
                ComparisonOperator::LessThanThreshold
                    | ComparisonOperator::LessThanOrEqualToThreshold
            ) && a.metric_name == high.metric_name
        })?;
        if high.threshold <= 0.0 {
            return None;
        }
        return Some((
            (high.threshold - low.threshold) / high.threshold,
            format!(
                "scale-out at {} and scale-in at {} {}: {:.0}% apart",
                high.threshold,
                low.threshold,
                high.metric_name,
                100.0 * (high.threshold - low.threshold) / high.threshold
            ),
        ));
    }
    None
}

/// How long the policy waits before removing capacity, with its words.
fn scale_down_delay(doc: &PolicyDoc) -> Option<(u32, String)> {
    if let Some(b) = hpa_behavior(doc) {
        let w = b
            .scale_down
            .as_ref()
            .and_then(|r| r.stabilization_window_seconds)
            .unwrap_or(DEFAULT_SCALE_DOWN_STABILIZATION_SECONDS);
        return Some((w, format!("scaleDown.stabilizationWindowSeconds {w}")));
    }
    match doc {
        PolicyDoc::Asg(c) => {
            let has_tt = c
                .scaling_policies
                .iter()
                .any(|p| p.policy_type == PolicyType::TargetTrackingScaling);
            if has_tt {
                // AWS's managed scale-in alarm: 15 datapoints of a minute.
                return Some((
                    900,
                    "target tracking scale-in alarm: 15 minutes below 90% of target".into(),
                ));
            }
            let low = c.alarms.iter().find(|a| {
                matches!(
                    a.comparison_operator,
                    ComparisonOperator::LessThanThreshold
                        | ComparisonOperator::LessThanOrEqualToThreshold
                )
            })?;
            let secs = low.period * low.evaluation_periods;
            Some((
                secs,
                format!(
                    "scale-in alarm {} x {} s datapoints",
                    low.evaluation_periods, low.period
                ),
            ))
        }
        PolicyDoc::Gcp(_) => Some((600, "GCP's 10-minute scale-in stabilization".into())),
        _ => None,
    }
}

/// Seconds the policy treats a new instance as warming up.
fn warmup(doc: &PolicyDoc) -> Option<(u32, String)> {
    match doc {
        PolicyDoc::Asg(c) => {
            let w = c
                .default_instance_warmup
                .or_else(|| {
                    c.scaling_policies
                        .iter()
                        .find_map(|p| p.estimated_instance_warmup)
                })
                .unwrap_or(0);
            Some((w, format!("instance warm-up {w} s")))
        }
        PolicyDoc::Gcp(g) => {
            let w = g.autoscaling_policy.cool_down_period_sec.unwrap_or(60);
            Some((w, format!("coolDownPeriodSec {w}")))
        }
        _ => None,
    }
}

fn when(e: &ReplayEvent) -> String {
    e.event.at.format("%Y-%m-%d %H:%M").to_string()
}

fn pair_text(a: &ReplayEvent, b: &ReplayEvent) -> String {
    let change = match (a.event.demand, b.event.demand) {
        (Some(x), Some(y)) if x > 0.0 => format!(", demand {:+.1}%", 100.0 * (y - x) / x),
        _ => String::new(),
    };
    format!(
        "{} {}->{} then {} {}->{} replicas{change}",
        when(a),
        a.event.from_replicas,
        a.event.to_replicas,
        b.event.at.format("%H:%M"),
        b.event.from_replicas,
        b.event.to_replicas
    )
}

/// Consecutive event pairs (a, b) with directions (da, db) within `seconds`.
fn reversals(
    r: &Replay,
    da: ScaleDirection,
    db: ScaleDirection,
    seconds: i64,
) -> Vec<(&ReplayEvent, &ReplayEvent)> {
    r.events
        .windows(2)
        .filter(|w| {
            w[0].event.direction() == Some(da)
                && w[1].event.direction() == Some(db)
                && (w[1].event.at - w[0].event.at).num_seconds() <= seconds
        })
        .map(|w| (&w[0], &w[1]))
        .collect()
}

/// The pitfalls present in a replay of `doc`.
pub fn detect(r: &Replay, doc: &PolicyDoc, cap: &CapacityModel, slo: &Slo) -> Vec<Pitfall> {
    let mut out = Vec::new();
    let pit = |id, title, evidence| Pitfall {
        id,
        title,
        evidence,
        fixed: None,
        after: None,
    };
    let thrash: Vec<&ReplayEvent> = r.events.iter().filter(|e| e.event.thrash).collect();
    if let Some((width, words)) = band(doc) {
        if r.summary.thrash_events > 0 && width < NARROW_BAND {
            let mut ev = vec![
                format!("{} thrash pairs in the replay", r.summary.thrash_events),
                words,
            ];
            if let [a, b, ..] = thrash.as_slice() {
                ev.push(format!("e.g. {}", pair_text(a, b)));
            }
            out.push(pit("thresholds_too_close", "thresholds too close", ev));
        }
    }
    let quick_down = reversals(
        r,
        ScaleDirection::Up,
        ScaleDirection::Down,
        DEFAULT_THRASH_WINDOW_SECONDS,
    );
    let delay = scale_down_delay(doc);
    if !quick_down.is_empty()
        && delay
            .as_ref()
            .is_none_or(|(d, _)| i64::from(*d) < DEFAULT_THRASH_WINDOW_SECONDS)
    {
        let mut ev = vec![format!(
            "{} scale-downs within {} min of a scale-up",
            quick_down.len(),
            DEFAULT_THRASH_WINDOW_SECONDS / 60
        )];
        if let Some((_, words)) = &delay {
            ev.push(words.clone());
        }
        ev.push(format!(
            "e.g. {}",
            pair_text(quick_down[0].0, quick_down[0].1)
        ));
        out.push(pit("cooldown_too_short", "cooldown too short", ev));
    }
    let premature: Vec<_> = reversals(
        r,
        ScaleDirection::Down,
        ScaleDirection::Up,
        PREMATURE_SECONDS,
    )
    .into_iter()
    .filter(|(d, u)| u.event.to_replicas >= d.event.from_replicas)
    .collect();
    if !premature.is_empty() {
        let mut ev = vec![format!(
            "{} scale-downs undone within {} min (capacity was needed again)",
            premature.len(),
            PREMATURE_SECONDS / 60
        )];
        if let Some((_, words)) = &delay {
            ev.push(words.clone());
        }
        ev.push(format!(
            "e.g. {}",
            pair_text(premature[0].0, premature[0].1)
        ));
        out.push(pit("premature_scale_down", "premature scale-down", ev));
    }
    let step_minutes = match r.steps.as_slice() {
        [a, b, ..] => (b.timestamp - a.timestamp).num_seconds() as f64 / 60.0,
        _ => 0.0,
    };
    let violating = |s: &&crate::engine::replay::ReplayStep| {
        s.p95_ms > slo.p95_latency_ms || s.dropped_rps > 0.0
    };
    let undecided_minutes = r
        .steps
        .iter()
        .filter(violating)
        .filter(|s| s.ready >= s.replicas)
        .count() as f64
        * step_minutes;
    let starting_minutes = r
        .steps
        .iter()
        .filter(violating)
        .filter(|s| s.ready < s.replicas)
        .count() as f64
        * step_minutes;
    let tts_over = r
        .summary
        .max_time_to_scale_seconds
        .filter(|t| *t > i64::from(slo.max_time_to_scale_seconds));
    if tts_over.is_some() || undecided_minutes > 0.0 {
        let mut ev = Vec::new();
        if let Some(t) = tts_over {
            let over = r
                .summary
                .time_to_scale_seconds
                .iter()
                .filter(|x| **x > i64::from(slo.max_time_to_scale_seconds))
                .count();
            ev.push(format!(
                "time to scale up to {t} s, {over} of {} episodes over the {} s maximum",
                r.summary.time_to_scale_seconds.len(),
                slo.max_time_to_scale_seconds
            ));
        }
        if undecided_minutes > 0.0 {
            ev.push(format!(
                "{undecided_minutes:.0} SLA-violation minutes before the policy asked for more replicas"
            ));
        }
        out.push(pit("slow_scale_up", "slow scale-up", ev));
    }
    if starting_minutes > 0.0 {
        let mut ev = vec![
            format!("{starting_minutes:.0} SLA-violation minutes while ordered replicas were still starting"),
            format!(
                "startup {} s + warm-up {} s per replica",
                cap.startup_seconds, cap.warmup_seconds
            ),
        ];
        if let Some((w, words)) = warmup(doc) {
            if w < cap.startup_seconds + cap.warmup_seconds {
                ev.push(format!("{words} is shorter than that"));
            }
        }
        out.push(pit("cold_starts_ignored", "cold starts ignored", ev));
    }
    out
}

/// Marks each pitfall of the current policy fixed or not by the recommendation's replay.
pub fn check_fixed(current: &mut [Pitfall], after: &[Pitfall]) {
    for p in current.iter_mut() {
        match after.iter().find(|a| a.id == p.id) {
            None => {
                p.fixed = Some(true);
                p.after = Some("not present in the recommended policy's replay".into());
            }
            Some(a) => {
                p.fixed = Some(false);
                p.after = a.evidence.first().cloned();
            }
        }
    }
}

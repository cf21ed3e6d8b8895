//! Scheduled capacity ahead of recurring peaks: from the training demand's peak windows
//! (analysis peaks + seasonality), raise the minimum 30 minutes before each window to what
//! its demand needs, and set it back when the window ends. The search replays candidates with
//! and without these actions, so a schedule is only recommended when replay shows it pays.

use serde::Serialize;

use crate::engine::analysis::{peaks, seasonality};
use crate::engine::policy::aws_spec::ScheduledAction;
use crate::model::CapacityModel;

const DAY: i64 = 86_400;
/// Capacity goes up this long before the window.
pub const LEAD_MINUTES: u32 = 30;
/// Utilization the scheduled minimum is sized for.
const SCHEDULE_UTILIZATION: f64 = 0.7;
/// Suffix of the action that sets the minimum back (the search rewrites it per candidate).
pub const END_SUFFIX: &str = "-end";

#[derive(Debug, Clone, Serialize)]
pub struct ScheduleProposal {
    /// One line per window: "+12 replicas (MinSize 32) 30 min before daily 19:00-22:00 UTC".
    pub lines: Vec<String>,
    /// The actions as the Auto Scaling group's `ScheduledActions`.
    pub actions: Vec<ScheduledAction>,
    /// Strength of the daily cycle (0-1), the reason a schedule can work at all.
    pub daily_strength: Option<f64>,
}

fn cron_days(days: &str) -> &'static str {
    match days {
        "weekdays" => "1-5",
        "weekends" => "0,6",
        _ => "*",
    }
}

/// Strength of a daily period in the series, if one is detected.
pub fn daily_strength(values: &[f64], step_seconds: i64) -> Option<f64> {
    seasonality::detect(values, step_seconds)
        .into_iter()
        .find(|p| (p.period_seconds - DAY).abs() <= DAY / 24)
        .map(|p| p.strength)
}

/// Scheduled actions ahead of the recurring peaks of `demand`, or None when there are none
/// worth scheduling (no daily cycle, or the minimum already covers the peaks).
pub fn propose(
    start: i64,
    step_seconds: i64,
    demand: &[f64],
    cap: &CapacityModel,
    current_min: u32,
    max: u32,
    name: &str,
) -> Option<ScheduleProposal> {
    propose_local(start, step_seconds, demand, cap, current_min, max, name, 0)
}

/// [`propose`] in a region's local time: peak windows (hours and weekdays) are found on the
/// local clock (`utc_offset_hours` east of UTC) and the actions recur in that fixed-offset
/// zone (`TimeZone`), so each region's schedule follows its own business hours.
#[allow(clippy::too_many_arguments)]
pub fn propose_local(
    start: i64,
    step_seconds: i64,
    demand: &[f64],
    cap: &CapacityModel,
    current_min: u32,
    max: u32,
    name: &str,
    utc_offset_hours: i32,
) -> Option<ScheduleProposal> {
    let strength = daily_strength(demand, step_seconds)?;
    // The local clock: the same instants read `offset` hours later.
    let start = start + i64::from(utc_offset_hours) * 3600;
    let zone = (utc_offset_hours != 0)
        .then(|| crate::engine::cost::offhours::zone_of_offset(utc_offset_hours));
    let clock = if utc_offset_hours == 0 {
        "UTC".to_string()
    } else {
        format!("local (UTC{utc_offset_hours:+})")
    };
    let p = peaks::peaks(start, step_seconds, demand, true);
    let mut lines = Vec::new();
    let mut actions = Vec::new();
    for (k, w) in p.peak_windows.iter().enumerate() {
        // Demand in the window's hours, over the days it applies to.
        let mut inside: Vec<f64> = demand
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .filter_map(|(i, v)| {
                let t = chrono::DateTime::from_timestamp(start + i as i64 * step_seconds, 0)?;
                let hour = chrono::Timelike::hour(&t);
                let weekend = chrono::Datelike::weekday(&t).number_from_monday() >= 6;
                let day_ok = match w.days {
                    "weekdays" => !weekend,
                    "weekends" => weekend,
                    _ => true,
                };
                let in_hours = if w.start_hour <= w.end_hour {
                    hour >= w.start_hour && hour < w.end_hour
                } else {
                    hour >= w.start_hour || hour < w.end_hour
                };
                (day_ok && in_hours).then_some(*v)
            })
            .collect();
        if inside.is_empty() {
            continue;
        }
        inside.sort_by(f64::total_cmp);
        let p90 = inside[(inside.len() * 9 / 10).min(inside.len() - 1)];
        let needed =
            ((p90 / (cap.capacity_per_replica_rps * SCHEDULE_UTILIZATION)).ceil() as u32).min(max);
        if needed <= current_min {
            continue;
        }
        let lead_hour = (w.start_hour + 23) % 24;
        let dow = cron_days(w.days);
        let base = format!("{name}-peak-{k}");
        // Built from the API's JSON shape so the action keeps every field's default.
        let action = |name: String, recurrence: String, min: u32| {
            let mut a = serde_json::json!({
                "ScheduledActionName": name,
                "Recurrence": recurrence,
                "MinSize": min,
            });
            if let Some(z) = &zone {
                a["TimeZone"] = serde_json::json!(z);
            }
            serde_json::from_value::<ScheduledAction>(a).ok()
        };
        actions.extend(action(
            base.clone(),
            format!("{} {lead_hour} * * {dow}", 60 - LEAD_MINUTES),
            needed,
        ));
        actions.extend(action(
            format!("{base}{END_SUFFIX}"),
            format!("0 {} * * {dow}", w.end_hour),
            current_min,
        ));
        lines.push(format!(
            "+{} replicas (MinSize {needed}, p90 demand {p90:.0} rps at {:.0}%) {LEAD_MINUTES} min before {} {:02}:00-{:02}:00 {clock}",
            needed - current_min,
            SCHEDULE_UTILIZATION * 100.0,
            w.days,
            w.start_hour,
            w.end_hour
        ));
    }
    (!actions.is_empty()).then_some(ScheduleProposal {
        lines,
        actions,
        daily_strength: Some(strength),
    })
}

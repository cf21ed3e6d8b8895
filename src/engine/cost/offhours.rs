//! Idle off-hours as a schedule: the local hours in which what a group needs stays below its
//! minimum on most days become a scheduled scale-down (or scale-to-zero) window, and the
//! window's saving comes from replaying the group with the schedule applied, never from an
//! estimate: the replay keeps the policy scaling above the lowered floor, so a window that
//! would hurt the SLO shows it in violation minutes.
//!
//! The schedule is two cron actions in the group's time zone, the way AWS scheduled actions,
//! KEDA cron triggers and GCP scaling schedules write it: at the window's start the floor drops
//! to `floor`, at its end it goes back to the day floor.

use chrono::{DateTime, Datelike, TimeZone, Timelike};
use chrono_tz::Tz;
use serde::Serialize;

use crate::engine::policy::schedule::{parse_time_zone, CronSchedule};
use crate::engine::policy::{Autoscaler, Decision, Observation};
use crate::engine::replay::{self, ReplayInput};
use crate::model::{CapacityModel, GroupId, Slo};

/// An hour is off-hours when the need stays below the floor on at least this share of days.
pub const MOST_DAYS: f64 = 0.8;
/// Shortest window worth a schedule.
pub const MIN_WINDOW_HOURS: u32 = 3;
/// Windows replayed per group (the best of each floor level by the instance-hours the data
/// says they free).
const CANDIDATES: usize = 6;
/// SLA-violation minutes a month a schedule may add and still be recommended.
const SLA_SLACK_MINUTES: f64 = 1.0;

/// Which days the window's nights start on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Days {
    Every,
    Weekdays,
}

impl Days {
    fn includes(self, weekday_from_monday: u32) -> bool {
        match self {
            Days::Every => true,
            Days::Weekdays => weekday_from_monday <= 5,
        }
    }
    /// Cron day-of-week field of the start action, and of the end action (a window that
    /// crosses midnight ends the next day).
    fn cron_days(self, crosses_midnight: bool) -> (&'static str, &'static str) {
        match (self, crosses_midnight) {
            (Days::Every, _) => ("*", "*"),
            (Days::Weekdays, false) => ("1-5", "1-5"),
            (Days::Weekdays, true) => ("1-5", "2-6"),
        }
    }
}

/// A scheduled scale-down window in the group's local time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OffHoursWindow {
    pub days: Days,
    /// Local hour the floor drops.
    pub start_hour: u32,
    /// Local hour the floor goes back (exclusive end; may be the next day).
    pub end_hour: u32,
    /// Floor inside the window (0 = scale to zero).
    pub floor: u32,
    /// Floor outside it (the policy's minimum today).
    pub day_floor: u32,
    /// IANA zone the crons run in.
    pub time_zone: String,
    /// Least share, over the window's hours, of days whose need stayed at or below `floor`.
    pub days_below_share: f64,
}

impl OffHoursWindow {
    pub fn hours(&self) -> u32 {
        (self.end_hour + 24 - self.start_hour) % 24
    }
    fn crosses_midnight(&self) -> bool {
        self.end_hour <= self.start_hour
    }
    /// Cron of the action that lowers the floor.
    pub fn start_cron(&self) -> String {
        let (d, _) = self.days.cron_days(self.crosses_midnight());
        format!("0 {} * * {d}", self.start_hour)
    }
    /// Cron of the action that restores the day floor.
    pub fn end_cron(&self) -> String {
        let (_, d) = self.days.cron_days(self.crosses_midnight());
        format!("0 {} * * {d}", self.end_hour)
    }
    /// "scale to 8 from 01:00 to 07:00 weekdays (Etc/GMT+5)".
    pub fn describe(&self) -> String {
        let what = if self.floor == 0 {
            "scale to zero".to_string()
        } else {
            format!("minimum {} -> {}", self.day_floor, self.floor)
        };
        let days = match (self.days, self.crosses_midnight()) {
            (Days::Every, _) => "every day",
            (Days::Weekdays, true) => "on weekday nights (Mon-Fri starts)",
            (Days::Weekdays, false) => "on weekdays",
        };
        format!(
            "{what} from {:02}:00 to {:02}:00 {days} ({})",
            self.start_hour, self.end_hour, self.time_zone
        )
    }
}

/// The IANA zone of a fixed UTC offset (Etc/GMT has the sign inverted).
pub fn zone_of_offset(utc_offset_hours: i32) -> String {
    match utc_offset_hours {
        0 => "UTC".to_string(),
        h if h < 0 => format!("Etc/GMT+{}", -h),
        h => format!("Etc/GMT-{h}"),
    }
}

/// Per local day of `days` and local hour, the largest need in that hour.
fn hourly_need_by_day(
    start_unix: i64,
    step_seconds: i64,
    needed: &[f64],
    tz: Tz,
    days: Days,
) -> Vec<[f64; 24]> {
    let mut by_day: std::collections::BTreeMap<i64, [f64; 24]> = Default::default();
    for (i, &v) in needed.iter().enumerate() {
        if !v.is_finite() {
            continue;
        }
        let Some(t) = DateTime::from_timestamp(start_unix + i as i64 * step_seconds, 0) else {
            continue;
        };
        let local = tz.from_utc_datetime(&t.naive_utc());
        if !days.includes(local.weekday().number_from_monday()) {
            continue;
        }
        let day = local.date_naive().num_days_from_ce() as i64;
        let e = by_day.entry(day).or_insert([f64::NAN; 24]);
        let h = local.hour() as usize;
        e[h] = if e[h].is_nan() { v } else { e[h].max(v) };
    }
    by_day.into_values().collect()
}

/// Candidate windows from the data: for each local hour, the need met on [`MOST_DAYS`] of the
/// days (a quantile across days of the hour's largest need); a window of consecutive hours
/// whose need stays below the day floor can lower the floor to the largest of them. Best
/// first by floor instance-hours freed a day.
pub fn candidates(
    start_unix: i64,
    step_seconds: i64,
    needed: &[f64],
    utc_offset_hours: i32,
    day_floor: u32,
) -> Vec<OffHoursWindow> {
    let zone = zone_of_offset(utc_offset_hours);
    let Ok(tz) = parse_time_zone(&zone) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for days in [Days::Every, Days::Weekdays] {
        let grid = hourly_need_by_day(start_unix, step_seconds, needed, tz, days);
        // Whole days only: partial first/last days would bias the quantile.
        let full: Vec<&[f64; 24]> = grid
            .iter()
            .filter(|d| d.iter().all(|v| v.is_finite()))
            .collect();
        if full.len() < 3 {
            continue;
        }
        // Per hour: the smallest whole floor at or above the need on MOST_DAYS of the days.
        let level: Vec<u32> = (0..24)
            .map(|h| {
                let col: Vec<f64> = full.iter().map(|d| d[h]).collect();
                super::quantile(&col, MOST_DAYS).map_or(u32::MAX, |q| q.ceil().max(0.0) as u32)
            })
            .collect();
        let share_at = |h: usize, floor: u32| {
            full.iter().filter(|d| d[h] <= f64::from(floor)).count() as f64 / full.len() as f64
        };
        for start in 0..24u32 {
            for len in MIN_WINDOW_HOURS..=20 {
                let hours: Vec<usize> = (0..len).map(|k| ((start + k) % 24) as usize).collect();
                let floor = hours.iter().map(|&h| level[h]).max().unwrap_or(u32::MAX);
                if floor >= day_floor {
                    continue;
                }
                let share = hours
                    .iter()
                    .map(|&h| share_at(h, floor))
                    .fold(1.0, f64::min);
                out.push(OffHoursWindow {
                    days,
                    start_hour: start,
                    end_hour: (start + len) % 24,
                    floor,
                    day_floor,
                    time_zone: zone.clone(),
                    days_below_share: share,
                });
            }
        }
    }
    let freed = |w: &OffHoursWindow| {
        let per_week = match w.days {
            Days::Every => 7.0,
            Days::Weekdays => 5.0,
        };
        f64::from(w.day_floor - w.floor) * f64::from(w.hours()) * per_week
    };
    out.sort_by(|a, b| freed(b).total_cmp(&freed(a)));
    out
}

/// Per clock hour from `hour0`, whether the window's floor is in force: the later of the two
/// actions that last fired (looked up a week back before the first hour).
pub fn low_hours(w: &OffHoursWindow, hour0: i64, hours: usize) -> Result<Vec<bool>, String> {
    let tz = parse_time_zone(&w.time_zone)?;
    let down = CronSchedule::new(&w.start_cron(), tz)?;
    let up = CronSchedule::new(&w.end_cron(), tz)?;
    let lookback = 8 * 24;
    let mut low = false;
    let mut out = Vec::with_capacity(hours);
    for k in -lookback..hours as i64 {
        let t = hour0 + k * 3600;
        // Both crons fire on the hour; which one fired at t decides.
        if down.fires_in(t - 1, t) {
            low = true;
        }
        if up.fires_in(t - 1, t) {
            low = false;
        }
        if k >= 0 {
            out.push(low);
        }
    }
    Ok(out)
}

/// The group's policy with the window's floor: the inner policy runs with the window floor as
/// its minimum, and outside the window its answers are raised to the day floor (what a
/// scheduled MinSize change does).
pub struct ScheduledFloor {
    pub inner: Box<dyn Autoscaler + Send>,
    hour0: i64,
    low: Vec<bool>,
    day_floor: u32,
    label: String,
}

impl ScheduledFloor {
    pub fn new(
        inner: Box<dyn Autoscaler + Send>,
        w: &OffHoursWindow,
        start_unix: i64,
        span_seconds: i64,
    ) -> Result<Self, String> {
        let hour0 = start_unix.div_euclid(3600) * 3600;
        let hours = ((start_unix + span_seconds - hour0) / 3600 + 2) as usize;
        Ok(ScheduledFloor {
            inner,
            hour0,
            low: low_hours(w, hour0, hours)?,
            day_floor: w.day_floor,
            label: w.describe(),
        })
    }

    fn is_low(&self, now: i64) -> bool {
        let h = (now - self.hour0).div_euclid(3600);
        usize::try_from(h)
            .ok()
            .and_then(|h| self.low.get(h).copied())
            .unwrap_or(false)
    }
}

impl Autoscaler for ScheduledFloor {
    fn describe(&self) -> String {
        format!("{}; scheduled: {}", self.inner.describe(), self.label)
    }
    fn bounds(&self) -> (u32, u32) {
        self.inner.bounds()
    }
    fn decision_period_seconds(&self) -> u32 {
        self.inner.decision_period_seconds()
    }
    fn target_utilization(&self) -> f64 {
        self.inner.target_utilization()
    }
    fn tolerance(&self) -> f64 {
        self.inner.tolerance()
    }
    fn required_series(&self) -> Vec<String> {
        self.inner.required_series()
    }
    fn set_explain(&mut self, explain: bool) {
        self.inner.set_explain(explain);
    }
    fn decide(&mut self, obs: &Observation) -> Decision {
        let mut d = self.inner.decide(obs);
        if !self.is_low(obs.now) && d.desired < self.day_floor {
            d.desired = self.day_floor;
            d.explanation.insert(
                0,
                format!(
                    "scheduled minimum {} outside the off-hours window",
                    self.day_floor
                ),
            );
        }
        d
    }
}

/// A fixed replica count (hand-scaled groups), so they can be replayed with a schedule.
pub struct FixedReplicas {
    pub replicas: u32,
    pub max: u32,
}

impl Autoscaler for FixedReplicas {
    fn describe(&self) -> String {
        format!("fixed at {} replicas", self.replicas)
    }
    fn bounds(&self) -> (u32, u32) {
        (self.replicas, self.max.max(self.replicas))
    }
    fn decision_period_seconds(&self) -> u32 {
        60
    }
    fn target_utilization(&self) -> f64 {
        1.0
    }
    fn tolerance(&self) -> f64 {
        0.0
    }
    fn required_series(&self) -> Vec<String> {
        Vec::new()
    }
    fn decide(&mut self, _obs: &Observation) -> Decision {
        Decision {
            desired: self.replicas,
            explanation: vec![format!("fixed at {}", self.replicas)],
        }
    }
}

/// What replaying a schedule found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScheduleFinding {
    pub window: OffHoursWindow,
    /// Provisioned replicas per input step under the current policy and with the schedule.
    #[serde(skip)]
    pub baseline_capacity: Vec<f64>,
    #[serde(skip)]
    pub scheduled_capacity: Vec<f64>,
    pub replica_hours_baseline: f64,
    pub replica_hours_scheduled: f64,
    pub sla_violation_minutes_baseline: f64,
    pub sla_violation_minutes_scheduled: f64,
    pub windows_replayed: usize,
}

/// Builds the group's policy with a given minimum (the current policy at its own minimum for
/// the baseline, at the window floor for a schedule).
pub type PolicyFactory<'a> = dyn Fn(u32) -> Result<Box<dyn Autoscaler + Send>, String> + 'a;

/// One group's replay inputs.
pub struct GroupReplay<'a> {
    pub input: &'a ReplayInput<'a>,
    pub cap: &'a CapacityModel,
    pub slo: &'a Slo,
    pub group: &'a GroupId,
    pub initial: Option<u32>,
}

/// The schedule that frees most instance-hours in replay without adding SLA-violation
/// minutes, or why there is none. `needed` is the instances the demand needs per input step.
pub fn find(
    g: &GroupReplay,
    needed: &[f64],
    utc_offset_hours: i32,
    day_floor: u32,
    make: &PolicyFactory,
) -> Result<ScheduleFinding, String> {
    find_above(g, needed, utc_offset_hours, day_floor, 0, make)
}

/// [`find`] with windows' floors raised to at least `min_floor` (a KEDA ScaledObject scaling
/// on CPU or memory alone cannot go below one replica and keep scaling on them).
pub fn find_above(
    g: &GroupReplay,
    needed: &[f64],
    utc_offset_hours: i32,
    day_floor: u32,
    min_floor: u32,
    make: &PolicyFactory,
) -> Result<ScheduleFinding, String> {
    let (input, cap, slo, group, initial) = (g.input, g.cap, g.slo, g.group, g.initial);
    if day_floor <= min_floor {
        return Err(format!(
            "the minimum is already {day_floor}: nothing to schedule down"
        ));
    }
    let windows: Vec<OffHoursWindow> = candidates(
        input.start,
        input.step_seconds,
        needed,
        utc_offset_hours,
        day_floor,
    )
    .into_iter()
    .map(|mut w| {
        w.floor = w.floor.max(min_floor);
        w
    })
    .collect();
    if windows.is_empty() {
        return Err(format!(
            "no window of {MIN_WINDOW_HOURS}+ local hours where the need stays below the minimum {day_floor} on {:.0}% of days",
            MOST_DAYS * 100.0
        ));
    }
    let mut base_policy = make(day_floor)?;
    let base = replay::replay(base_policy.as_mut(), input, cap, slo, initial, group)
        .map_err(|e| e.to_string())?;
    let span = input.demand_rps.len() as i64 * input.step_seconds;
    let month = |x: f64| x / (span as f64 / 3600.0) * super::HOURS_PER_MONTH;
    // The best window of each floor level: a short deep cut and a long shallow one are
    // both replayed (where the policy already runs above the floor, lowering it frees nothing;
    // only the replay tells).
    let mut seen = std::collections::BTreeSet::new();
    let windows: Vec<OffHoursWindow> = windows
        .into_iter()
        .filter(|w| seen.insert(w.floor))
        .take(CANDIDATES)
        .collect();
    let mut best: Option<ScheduleFinding> = None;
    let tried = windows.len();
    for w in windows {
        let mut p = ScheduledFloor::new(make(w.floor)?, &w, input.start, span)?;
        let r =
            replay::replay(&mut p, input, cap, slo, initial, group).map_err(|e| e.to_string())?;
        let added_sla = month(r.summary.sla_violation_minutes - base.summary.sla_violation_minutes);
        if added_sla > SLA_SLACK_MINUTES || r.summary.replica_hours >= base.summary.replica_hours {
            continue;
        }
        if best
            .as_ref()
            .is_none_or(|b| r.summary.replica_hours < b.replica_hours_scheduled)
        {
            best = Some(ScheduleFinding {
                window: w,
                baseline_capacity: base.steps.iter().map(|s| f64::from(s.replicas)).collect(),
                scheduled_capacity: r.steps.iter().map(|s| f64::from(s.replicas)).collect(),
                replica_hours_baseline: base.summary.replica_hours,
                replica_hours_scheduled: r.summary.replica_hours,
                sla_violation_minutes_baseline: base.summary.sla_violation_minutes,
                sla_violation_minutes_scheduled: r.summary.sla_violation_minutes,
                windows_replayed: tried,
            });
        }
    }
    best.ok_or_else(|| {
        format!(
            "{tried} off-hours windows replayed: none saves without adding SLA-violation minutes"
        )
    })
}

#[cfg(test)]
mod tests;

//! Time zones and recurring schedules as the platforms write them: cron expressions in an IANA
//! zone (KEDA cron trigger, GCP scaling schedules, AWS scheduled actions) and Azure's weekly
//! recurrences, whose zones are Windows names.

use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Weekday};
use chrono_tz::Tz;

/// Windows time-zone names Azure autoscale accepts, for the zones users most often schedule
/// in, mapped to their IANA equivalents (CLDR windowsZones "001" territory).
const WINDOWS_ZONES: &[(&str, &str)] = &[
    ("UTC", "UTC"),
    ("Coordinated Universal Time", "UTC"),
    ("Dateline Standard Time", "Etc/GMT+12"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Mountain Standard Time", "America/Denver"),
    ("Central Standard Time", "America/Chicago"),
    ("Central America Standard Time", "America/Guatemala"),
    ("Eastern Standard Time", "America/New_York"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("Argentina Standard Time", "America/Buenos_Aires"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("Romance Standard Time", "Europe/Paris"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("FLE Standard Time", "Europe/Kiev"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
    ("Israel Standard Time", "Asia/Jerusalem"),
    ("Turkey Standard Time", "Europe/Istanbul"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("Pakistan Standard Time", "Asia/Karachi"),
    ("India Standard Time", "Asia/Kolkata"),
    ("SE Asia Standard Time", "Asia/Bangkok"),
    ("China Standard Time", "Asia/Shanghai"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("W. Australia Standard Time", "Australia/Perth"),
    ("Taipei Standard Time", "Asia/Taipei"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("Korea Standard Time", "Asia/Seoul"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
];

/// An IANA zone name (`Europe/Paris`), or a Windows zone name Azure uses.
pub fn parse_time_zone(name: &str) -> Result<Tz, String> {
    let name = name.trim();
    if let Ok(tz) = Tz::from_str(name) {
        return Ok(tz);
    }
    WINDOWS_ZONES
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(name))
        .and_then(|(_, iana)| Tz::from_str(iana).ok())
        .ok_or_else(|| {
            format!("unknown time zone '{name}' (give an IANA name such as America/New_York)")
        })
}

/// A cron expression evaluated in a time zone.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    cron: croner::Cron,
    tz: Tz,
}

impl CronSchedule {
    /// Five-field cron (minute hour day-of-month month day-of-week).
    pub fn new(expression: &str, tz: Tz) -> Result<Self, String> {
        let cron = croner::Cron::from_str(expression.trim())
            .map_err(|e| format!("bad cron expression '{expression}': {e}"))?;
        Ok(Self { cron, tz })
    }

    /// First occurrence strictly after `t` (Unix seconds).
    pub fn next_after(&self, t: i64) -> Option<i64> {
        let from = self
            .tz
            .from_utc_datetime(&DateTime::from_timestamp(t, 0)?.naive_utc());
        self.cron
            .find_next_occurrence(&from, false)
            .ok()
            .map(|d| d.timestamp())
    }

    /// Whether an occurrence falls in `(after, now]`.
    pub fn fires_in(&self, after: i64, now: i64) -> bool {
        self.next_after(after).is_some_and(|t| t <= now)
    }

    /// Whether an occurrence started in `(now - duration, now]`, i.e. a window of `duration`
    /// seconds opened by this schedule is open at `now`.
    pub fn window_open(&self, now: i64, duration_seconds: i64) -> bool {
        self.fires_in(now - duration_seconds, now)
    }
}

/// KEDA's cron trigger activity (pkg/scalers/cron_scaler.go): with the next start and next
/// end computed from now, the trigger is inactive while the next start comes before the next
/// end (we are outside the window) and active otherwise.
pub fn keda_cron_active(start: &CronSchedule, end: &CronSchedule, now: i64) -> bool {
    match (start.next_after(now), end.next_after(now)) {
        (Some(s), Some(e)) => s >= e,
        _ => false,
    }
}

/// An Azure weekly recurrence (`recurrence.schedule`): start times on `days` at every
/// `hours` x `minutes`, in `tz`.
#[derive(Debug, Clone, PartialEq)]
pub struct WeeklyRecurrence {
    pub tz: Tz,
    pub days: Vec<Weekday>,
    pub hours: Vec<u32>,
    pub minutes: Vec<u32>,
}

pub fn parse_weekday(name: &str) -> Result<Weekday, String> {
    Weekday::from_str(name.trim()).map_err(|_| format!("unknown day '{name}'"))
}

impl WeeklyRecurrence {
    /// The latest start at or before `now` (within the past week and a day), if any.
    pub fn last_start(&self, now: i64) -> Option<i64> {
        let now_local = self
            .tz
            .from_utc_datetime(&DateTime::from_timestamp(now, 0)?.naive_utc());
        let today = now_local.date_naive();
        let mut best: Option<i64> = None;
        for back in 0..=8 {
            let day: NaiveDate = today - chrono::Days::new(back);
            if !self.days.contains(&day.weekday()) {
                continue;
            }
            for &h in &self.hours {
                for &m in &self.minutes {
                    let Some(naive) = day.and_hms_opt(h, m, 0) else {
                        continue;
                    };
                    // A start inside a DST gap or overlap takes the earliest valid instant.
                    let Some(at) = self.tz.from_local_datetime(&naive).earliest() else {
                        continue;
                    };
                    let t = at.timestamp();
                    if t <= now && best.is_none_or(|b| t > b) {
                        best = Some(t);
                    }
                }
            }
        }
        best
    }
}

/// An ISO date-time as Azure's fixedDate and GCP write it: with an offset (RFC 3339) or
/// without one, then read in `tz`.
pub fn parse_local_time(text: &str, tz: Tz) -> Result<i64, String> {
    if let Ok(d) = DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(d.timestamp());
    }
    let naive = chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%dT%H:%M"))
        .map_err(|_| format!("bad date-time '{text}' (expected e.g. 2026-11-27T00:00:00)"))?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|d| d.timestamp())
        .ok_or_else(|| format!("'{text}' does not exist in {tz}"))
}

/// Seconds since the Unix epoch of a UTC date-time (tests).
#[cfg(test)]
pub(crate) fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    chrono::Utc
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .map_or(0, |t| t.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_by_iana_and_windows_name() {
        assert_eq!(
            parse_time_zone("Europe/Paris"),
            Ok(chrono_tz::Europe::Paris)
        );
        assert_eq!(
            parse_time_zone("Pacific Standard Time"),
            Ok(chrono_tz::America::Los_Angeles)
        );
        let e = parse_time_zone("Mars/Olympus").unwrap_err();
        assert!(e.contains("Mars/Olympus"), "{e}");
    }

    #[test]
    fn cron_follows_the_zone_across_daylight_saving() {
        // 09:00 New York is 14:00 UTC in winter and 13:00 UTC in summer.
        let s = CronSchedule::new("0 9 * * *", chrono_tz::America::New_York).expect("cron");
        assert_eq!(
            s.next_after(utc(2026, 1, 10, 0, 0)),
            Some(utc(2026, 1, 10, 14, 0))
        );
        assert_eq!(
            s.next_after(utc(2026, 7, 10, 0, 0)),
            Some(utc(2026, 7, 10, 13, 0))
        );
        assert!(s.window_open(utc(2026, 7, 10, 14, 0), 3600 + 1));
        assert!(!s.window_open(utc(2026, 7, 10, 14, 0), 3600));
        assert!(CronSchedule::new("61 * * * *", Tz::UTC).is_err());
    }

    #[test]
    fn keda_cron_window_matches_the_scaler() {
        // KEDA docs example: start "30 * * * *", end "45 * * * *".
        let start = CronSchedule::new("30 * * * *", Tz::UTC).expect("start");
        let end = CronSchedule::new("45 * * * *", Tz::UTC).expect("end");
        let at = |m| utc(2026, 3, 2, 10, m);
        assert!(!keda_cron_active(&start, &end, at(10)));
        assert!(keda_cron_active(&start, &end, at(30)));
        assert!(keda_cron_active(&start, &end, at(40)));
        assert!(!keda_cron_active(&start, &end, at(45)));
        assert!(!keda_cron_active(&start, &end, at(50)));
    }

    #[test]
    fn weekly_recurrence_last_start() {
        // Weekend profile starting Saturday 00:00 Pacific; 2026-03-07 is a Saturday.
        let r = WeeklyRecurrence {
            tz: chrono_tz::America::Los_Angeles,
            days: vec![Weekday::Sat, Weekday::Sun],
            hours: vec![0],
            minutes: vec![0],
        };
        // Saturday 00:00 PST = 08:00 UTC.
        assert_eq!(
            r.last_start(utc(2026, 3, 7, 9, 0)),
            Some(utc(2026, 3, 7, 8, 0))
        );
        // Before it, the last start was the previous Sunday.
        assert_eq!(
            r.last_start(utc(2026, 3, 7, 7, 0)),
            Some(utc(2026, 3, 1, 8, 0))
        );
    }

    #[test]
    fn local_times_with_and_without_offset() {
        let tz = chrono_tz::Europe::Berlin;
        assert_eq!(
            parse_local_time("2026-11-27T00:00:00", tz),
            Ok(utc(2026, 11, 26, 23, 0))
        );
        assert_eq!(
            parse_local_time("2026-11-27T00:00:00Z", tz),
            Ok(utc(2026, 11, 27, 0, 0))
        );
        assert!(parse_local_time("yesterday", tz).is_err());
    }
}

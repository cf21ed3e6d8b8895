//! The load history a predictive autoscaler keeps and the hourly forecast it makes from it,
//! shared by AWS predictive scaling and GCP predictive autoscaling: the load is recorded per
//! hour as observed, scaletop's forecasting engine forecasts it hourly (the platforms' own
//! models are not public), and until the engine has two daily cycles to fit (or when it
//! fails) the forecast is the same hour last week, else yesterday.

use std::collections::BTreeMap;

use crate::engine::forecast::predictive::hourly_load_forecast;

pub const HOUR: i64 = 3600;
/// Whole hours of history before the engine forecasts (two daily cycles).
const ENGINE_MIN_HOURS: usize = 48;

/// How a platform runs its forecast.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cadence {
    /// History the forecast reads, hours.
    pub history_hours: i64,
    /// Hours forecast ahead.
    pub forecast_hours: u32,
    /// A new forecast is made this often.
    pub reissue_seconds: i64,
}

#[derive(Debug, Clone)]
struct Issued {
    at: i64,
    model: &'static str,
    load: BTreeMap<i64, f64>,
}

#[derive(Debug, Clone)]
pub struct LoadForecaster {
    cadence: Cadence,
    /// Hour start -> (load sum, samples).
    hourly: BTreeMap<i64, (f64, u32)>,
    first_seen: Option<i64>,
    issued: Option<Issued>,
}

impl LoadForecaster {
    pub fn new(cadence: Cadence) -> Self {
        Self {
            cadence,
            hourly: BTreeMap::new(),
            first_seen: None,
            issued: None,
        }
    }

    /// Seconds of history recorded so far at `now`.
    pub fn history_seconds(&self, now: i64) -> i64 {
        self.first_seen.map_or(0, |f| now - f)
    }

    /// Records the load at `now` (a missing value records nothing) and reissues the forecast
    /// when it is due.
    pub fn observe(&mut self, now: i64, load: Option<f64>) {
        if let Some(l) = load.filter(|l| l.is_finite()) {
            let e = self.hourly.entry(now.div_euclid(HOUR) * HOUR).or_default();
            e.0 += l;
            e.1 += 1;
            self.first_seen.get_or_insert(now);
        }
        let keep_from = now - (self.cadence.history_hours + 24) * HOUR;
        while self
            .hourly
            .first_key_value()
            .is_some_and(|(h, _)| *h < keep_from)
        {
            self.hourly.pop_first();
        }
        if self
            .issued
            .as_ref()
            .is_none_or(|f| now - f.at >= self.cadence.reissue_seconds)
        {
            self.issue(now);
        }
    }

    /// Runs the engine on the complete hours of the history window.
    fn issue(&mut self, now: i64) {
        let this_hour = now.div_euclid(HOUR) * HOUR;
        let hours: Vec<(i64, f64)> = self
            .hourly
            .range(this_hour - self.cadence.history_hours * HOUR..this_hour)
            .filter(|(_, (_, n))| *n > 0)
            .map(|(&h, &(sum, n))| (h, sum / f64::from(n)))
            .collect();
        let span = match (hours.first(), hours.last()) {
            (Some(a), Some(b)) => ((b.0 - a.0) / HOUR + 1) as usize,
            _ => 0,
        };
        if span < ENGINE_MIN_HOURS {
            return;
        }
        // A failed fit leaves the naive fallback in charge until the next issue.
        let fc = hourly_load_forecast(&hours, self.cadence.forecast_hours).ok();
        self.issued = Some(Issued {
            at: now,
            model: fc.as_ref().map_or("none", |f| f.model),
            load: fc
                .map(|f| {
                    f.points
                        .iter()
                        .map(|p| (p.timestamp, p.mean.max(0.0)))
                        .collect()
                })
                .unwrap_or_default(),
        });
    }

    fn mean_load(&self, hour: i64) -> Option<f64> {
        self.hourly
            .get(&hour)
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| s / f64::from(*n))
    }

    /// The forecast load of the hour `at` falls in, and where it comes from.
    pub fn load_at(&self, now: i64, at: i64) -> Option<(f64, String)> {
        let hour = at.div_euclid(HOUR) * HOUR;
        let engine = self.issued.as_ref().and_then(|f| {
            let load = *f.load.get(&hour)?;
            Some((
                load,
                format!("{} forecast issued {}h ago", f.model, (now - f.at) / HOUR),
            ))
        });
        engine
            .or_else(|| {
                self.mean_load(hour - 7 * 24 * HOUR)
                    .map(|l| (l, "same hour last week".to_string()))
            })
            .or_else(|| {
                self.mean_load(hour - 24 * HOUR)
                    .map(|l| (l, "same hour yesterday".to_string()))
            })
    }
}

//! `scaletop forecast`: demand forecast of one series with 80%/95% bands, the model the
//! backtest chose and its figures, and the capacity runway when a capacity is given.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use crate::cli::{CliError, Format};
use crate::duration::parse_duration;
use crate::engine::forecast::events::KnownEvent;
use crate::engine::forecast::{self, format_time, runway, Forecast, ForecastRequest, ModelKind};
use crate::input;

/// Longest regular grid accepted (as `analyze`).
const MAX_POINTS: i64 = 5_000_000;

#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// Series file: CSV `timestamp,value`, long-form CSV `timestamp,group,metric,value`, or a
    /// Prometheus query_range JSON response.
    #[arg(long)]
    pub input: PathBuf,
    /// How far ahead, e.g. 24h, 7d, 90d (beyond 48h the forecast is on hourly means, beyond
    /// 120d on daily means).
    #[arg(long)]
    pub horizon: String,
    /// The group of a multi-series file.
    #[arg(long)]
    pub group: Option<String>,
    /// The metric of a multi-series file.
    #[arg(long)]
    pub metric: Option<String>,
    /// Resample the input to this step first (e.g. 1h) and forecast at it whatever the
    /// horizon; default: the native step, aggregated to hourly/daily means for long horizons.
    #[arg(long)]
    pub step: Option<String>,
    /// auto (backtest picks by MASE) or one of: naive, seasonal_naive_daily,
    /// seasonal_naive_weekly, seasonal_mean, seasonal_trend, holt_winters, mstl_ets, ridge,
    /// ensemble.
    #[arg(long, default_value = "auto")]
    pub model: String,
    /// Demand the group serves at max capacity (max replicas x per-replica capacity at the
    /// target utilization), in the series' units: reports when the upper band first crosses it.
    #[arg(long)]
    pub capacity: Option<f64>,
    /// Per-replica capacity, to say how many replicas the forecast peak needs.
    #[arg(long)]
    pub per_replica: Option<f64>,
    /// The group's scaling policy file (HPA, KEDA ScaledObject, ASG configuration, GCP
    /// autoscaler): its max x --per-replica is the capacity when --capacity is not given, and a
    /// runway that runs out becomes a `policy` recommendation raising its max.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Known events (TOML: `[[event]]` with name, start, end or duration, optional uplift and
    /// like): kept out of the fit, forecast as uplift on their dates.
    #[arg(long)]
    pub events: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// One `[[event]]` of an events file. Times are RFC 3339.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EventEntry {
    name: String,
    start: String,
    end: Option<String>,
    duration: Option<String>,
    uplift: Option<f64>,
    like: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsFile {
    #[serde(default)]
    event: Vec<EventEntry>,
}

/// Reads an events file; every problem names the file and the event.
pub fn read_events(path: &std::path::Path) -> Result<Vec<KnownEvent>, CliError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("{file}: cannot read: {e}")))?;
    let parsed: EventsFile =
        toml::from_str(&text).map_err(|e| CliError::usage(format!("{file}: {}", one_line(&e))))?;
    let time = |name: &str, what: &str, v: &str| {
        chrono::DateTime::parse_from_rfc3339(v)
            .map(|t| t.timestamp())
            .map_err(|e| {
                CliError::usage(format!(
                    "{file}: event '{name}': {what} '{v}' is not RFC 3339: {e}"
                ))
            })
    };
    parsed
        .event
        .into_iter()
        .map(|e| {
            let start = time(&e.name, "start", &e.start)?;
            let end = match (&e.end, &e.duration) {
                (Some(end), None) => time(&e.name, "end", end)?,
                (None, Some(d)) => {
                    let secs = parse_duration(d).map_err(|err| {
                        CliError::usage(format!("{file}: event '{}': duration: {err}", e.name))
                    })?;
                    start + i64::try_from(secs.as_secs()).unwrap_or(i64::MAX / 2)
                }
                _ => {
                    return Err(CliError::usage(format!(
                        "{file}: event '{}': give exactly one of end and duration",
                        e.name
                    )))
                }
            };
            if end <= start {
                return Err(CliError::usage(format!(
                    "{file}: event '{}': ends before it starts",
                    e.name
                )));
            }
            if e.uplift.is_some_and(|u| !(u > 0.0 && u.is_finite())) {
                return Err(CliError::usage(format!(
                    "{file}: event '{}': uplift must be a positive number",
                    e.name
                )));
            }
            Ok(KnownEvent {
                name: e.name,
                start,
                end,
                uplift: e.uplift,
                like: e.like,
            })
        })
        .collect()
}

fn one_line(e: &toml::de::Error) -> String {
    e.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The JSON document: the engine's forecast plus the fit time.
#[derive(Serialize)]
struct Output<'a> {
    group: &'a str,
    metric: &'a str,
    fit_ms: f64,
    #[serde(flatten)]
    forecast: &'a Forecast,
    /// A `policy` recommendation raising max when the runway runs out (needs --policy).
    recommendations: &'a [crate::model::Recommendation],
}

pub fn run(args: &ForecastArgs, cfg: &crate::config::Config) -> Result<(), CliError> {
    let horizon = parse_duration(&args.horizon)
        .map_err(|e| CliError::usage(format!("--horizon: {e}")))?
        .as_secs();
    let model = match args.model.as_str() {
        "auto" => None,
        name => Some(ModelKind::parse(name).ok_or_else(|| {
            CliError::usage(format!(
                "--model '{name}': expected auto, naive, seasonal_naive_daily, seasonal_naive_weekly, seasonal_mean, seasonal_trend, holt_winters, mstl_ets, ridge or ensemble"
            ))
        })?),
    };
    for (flag, v) in [
        ("--capacity", args.capacity),
        ("--per-replica", args.per_replica),
    ] {
        if v.is_some_and(|c| !(c > 0.0 && c.is_finite())) {
            return Err(CliError::usage(format!("{flag} must be a positive number")));
        }
    }
    // --events, else the config's calendar.
    let events = match &args.events {
        Some(p) => read_events(p)?,
        None if !cfg.forecast.events_file.is_empty() => {
            read_events(std::path::Path::new(&cfg.forecast.events_file))?
        }
        None => Vec::new(),
    };
    let file = args.input.display().to_string();
    let (all, reordered): (Vec<input::Series>, Vec<input::Reordered>) =
        input::read_file_reporting(&args.input)
            .map_err(|e| CliError::usage(e.to_string()))?
            .into_iter()
            .unzip();
    let series = pick(&all, args.group.as_deref(), args.metric.as_deref(), &file)?;
    let out_of_order = all
        .iter()
        .zip(&reordered)
        .find(|(s, _)| std::ptr::eq(*s, series))
        .map_or(0, |(_, r)| r.out_of_order);
    let step = match &args.step {
        Some(s) => i64::try_from(
            parse_duration(s)
                .map_err(|e| CliError::usage(format!("--step: {e}")))?
                .as_secs(),
        )
        .unwrap_or(0),
        None => series.step_seconds().unwrap_or(0),
    };
    if step <= 0 {
        return Err(CliError::usage(format!(
            "{file}: series {}/{} has no usable step (fewer than two distinct timestamps)",
            series.group, series.metric
        )));
    }
    let span = series.points.last().map_or(0, |p| p.0) - series.points.first().map_or(0, |p| p.0);
    if span / step > MAX_POINTS {
        return Err(CliError::usage(format!(
            "{file}: {span} s at a {step} s step is over {MAX_POINTS} points; pass a coarser --step"
        )));
    }
    let policy = match &args.policy {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| {
                CliError::usage(format!("--policy {}: cannot read: {e}", p.display()))
            })?;
            Some(
                crate::engine::tune::PolicyDoc::parse(&text)
                    .map_err(|e| CliError::usage(format!("--policy {}: {e}", p.display())))?,
            )
        }
        None => None,
    };
    // Capacity: given, else the policy's max x the per-replica capacity.
    let capacity = args.capacity.or_else(|| {
        policy
            .as_ref()
            .zip(args.per_replica)
            .map(|(d, c)| f64::from(d.bounds().1) * c)
    });
    let (start, values) = series.regular(step);
    let req = ForecastRequest {
        horizon_seconds: i64::try_from(horizon).unwrap_or(i64::MAX),
        model,
        capacity,
        per_replica: args.per_replica,
        events,
    };
    let began = Instant::now();
    // An explicit --step is the forecast's resolution too, whatever the horizon.
    let mut fc = forecast::forecast_series_at(start, step, &values, &req, args.step.is_some())
        .map_err(|e| CliError::usage(format!("{file}: {}/{}: {e}", series.group, series.metric)))?;
    let fit_ms = began.elapsed().as_secs_f64() * 1000.0;
    if out_of_order > 0 {
        fc.notes.push(format!(
            "input not in time order (time goes back {out_of_order} times in the file): sorted by timestamp before forecasting"
        ));
    }
    fc.notes.extend(grid_notes(&series.points, step));
    let recommendations: Vec<crate::model::Recommendation> = fc
        .runway
        .as_ref()
        .zip(policy.as_ref())
        .and_then(|(r, doc)| {
            let evidence =
                runway::forecast_evidence(fc.model, fc.backtest.mase, fc.backtest.coverage_95);
            runway::max_raise_recommendation(&series.group, r, doc, evidence)
        })
        .into_iter()
        .collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match args.format {
        Format::Json => serde_json::to_writer_pretty(
            &mut out,
            &Output {
                group: &series.group,
                metric: &series.metric,
                fit_ms,
                forecast: &fc,
                recommendations: &recommendations,
            },
        )
        .map_err(std::io::Error::other)
        .and_then(|_| writeln!(out)),
        Format::Csv => write_csv(&mut out, &fc),
        Format::Table | Format::Md => write_table(&mut out, &fc, series, fit_ms).and_then(|_| {
            recommendations
                .iter()
                .try_for_each(|r| writeln!(out, "recommendation: {}", r.title))
        }),
    };
    written
        .and_then(|_| out.flush())
        .or_else(crate::cli::output_error)
}

/// What resampling onto the regular grid did to the input (the input reader sorts points by
/// time, averages points sharing a slot): said, so a forecast of a repaired series is never
/// taken for one of the raw file.
fn grid_notes(points: &[(i64, f64)], step: i64) -> Vec<String> {
    let mut notes = Vec::new();
    let duplicated = points.windows(2).filter(|w| w[0].0 == w[1].0).count();
    if duplicated > 0 {
        notes.push(format!(
            "{duplicated} duplicated timestamps: their values were averaged"
        ));
    }
    let start = points.first().map_or(0, |p| p.0);
    let off_grid = points
        .iter()
        .filter(|p| (p.0 - start).rem_euclid(step) != 0)
        .count();
    if off_grid > 0 {
        notes.push(format!(
            "{off_grid} of {} points are off the {step} s grid (irregular steps): resampled to slot means",
            points.len()
        ));
    }
    notes
}

/// The one series the flags name; a single-series file needs no flags.
fn pick<'a>(
    all: &'a [input::Series],
    group: Option<&str>,
    metric: Option<&str>,
    file: &str,
) -> Result<&'a input::Series, CliError> {
    let matches: Vec<&input::Series> = all
        .iter()
        .filter(|s| group.is_none_or(|g| s.group == g) && metric.is_none_or(|m| s.metric == m))
        .collect();
    match matches[..] {
        [one] => Ok(one),
        [] => Err(CliError::usage(format!(
            "{file}: no series matches{}{} (has: {})",
            group.map(|g| format!(" group '{g}'")).unwrap_or_default(),
            metric.map(|m| format!(" metric '{m}'")).unwrap_or_default(),
            names(all)
        ))),
        _ => Err(CliError::usage(format!(
            "{file}: {} series match; choose one with --group and --metric (has: {})",
            matches.len(),
            names(all)
        ))),
    }
}

fn names(all: &[input::Series]) -> String {
    let mut v: Vec<String> = all
        .iter()
        .take(8)
        .map(|s| format!("{}/{}", s.group, s.metric))
        .collect();
    if all.len() > 8 {
        v.push(format!("… {} more", all.len() - 8));
    }
    v.join(", ")
}

fn pct(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map_or("-".into(), |x| format!("{:.1}%", x * 100.0))
}

fn num(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map_or("-".into(), |x| format!("{x:.3}"))
}

fn write_csv(w: &mut dyn Write, fc: &Forecast) -> std::io::Result<()> {
    writeln!(w, "timestamp,mean,lo80,hi80,lo95,hi95")?;
    for p in &fc.points {
        writeln!(
            w,
            "{},{},{},{},{},{}",
            format_time(p.timestamp),
            p.mean,
            p.lo80,
            p.hi80,
            p.lo95,
            p.hi95
        )?;
    }
    Ok(())
}

fn write_table(
    w: &mut dyn Write,
    fc: &Forecast,
    s: &input::Series,
    fit_ms: f64,
) -> std::io::Result<()> {
    let b = &fc.backtest;
    writeln!(
        w,
        "{}/{}: model {} (step {} s, fit {fit_ms:.0} ms)",
        s.group, s.metric, fc.model, fc.step_seconds
    )?;
    writeln!(
        w,
        "backtest ({} origins x {} steps): accuracy {}  MASE {}  MAPE {}  coverage80 {}  coverage95 {}",
        b.origins,
        b.horizon_steps,
        pct(b.accuracy),
        num(b.mase),
        pct(b.mape),
        pct(b.coverage_80),
        pct(b.coverage_95)
    )?;
    for c in &fc.candidates {
        writeln!(
            w,
            "  {:<22} MASE {:>7}  WAPE {:>7}",
            c.model,
            num(c.mase),
            pct(c.wape)
        )?;
    }
    if !fc.ensemble_weights.is_empty() {
        let ws: Vec<String> = fc
            .ensemble_weights
            .iter()
            .map(|m| format!("{} {:.2}", m.model, m.weight))
            .collect();
        writeln!(w, "ensemble weights: {}", ws.join(", "))?;
    }
    for e in &fc.events {
        writeln!(
            w,
            "event {}: {} .. {} x{:.2} ({})",
            e.name,
            format_time(e.start),
            format_time(e.end),
            e.uplift,
            e.source
        )?;
    }
    for n in &fc.notes {
        writeln!(w, "note: {n}")?;
    }
    if let Some(r) = &fc.runway {
        match r.first_crossing {
            Some(t) => writeln!(
                w,
                "runway: upper band exceeds capacity {} at {}; peak {:.1} at {}{}",
                r.capacity,
                format_time(t),
                r.peak_upper,
                format_time(r.peak_at),
                r.replicas_needed
                    .map(|n| format!(" (needs {n} replicas)"))
                    .unwrap_or_default()
            )?,
            None => writeln!(
                w,
                "runway: capacity {} holds through the horizon (peak {:.1} at {}, headroom {:.0}%)",
                r.capacity,
                r.peak_upper,
                format_time(r.peak_at),
                r.headroom_pct
            )?,
        }
    }
    writeln!(
        w,
        "{:<21} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "TIMESTAMP", "MEAN", "LO80", "HI80", "LO95", "HI95"
    )?;
    for p in &fc.points {
        writeln!(
            w,
            "{:<21} {:>12.2} {:>12.2} {:>12.2} {:>12.2} {:>12.2}",
            format_time(p.timestamp),
            p.mean,
            p.lo80,
            p.hi80,
            p.lo95,
            p.hi95
        )?;
    }
    Ok(())
}

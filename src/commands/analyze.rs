//! `scaletop analyze`: workload analysis of every (group, metric) series in a file, and the
//! resource analysis of every group (utilization, bottleneck, scaling metric, rightsizing,
//! waste), as JSON, Markdown or a table.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use crate::cli::{CliError, Format};
use crate::engine::analysis::report::{
    analyze_all_with, default_threads, AnalysisReport, SeriesInput,
};
use crate::input;

/// Longest regular grid accepted per series (an irregular file with a tiny native step could
/// otherwise ask for billions of slots).
const MAX_POINTS_PER_SERIES: i64 = 5_000_000;

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Series file: CSV `timestamp,value`, long-form CSV `timestamp,group,metric,value`, or a
    /// Prometheus query_range JSON response.
    #[arg(long)]
    pub input: PathBuf,
    /// The metric each group scales on, when known (e.g. cpu_utilization); otherwise inferred
    /// from how replicas move, or assumed to be CPU.
    #[arg(long)]
    pub scaling_metric: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub fn run(args: &AnalyzeArgs) -> Result<(), CliError> {
    let series = input::read_file(&args.input).map_err(|e| CliError::usage(e.to_string()))?;
    let file = args.input.display().to_string();
    let inputs = to_inputs(&series, &file)?;
    let mut scaling = BTreeMap::new();
    if let Some(m) = &args.scaling_metric {
        m.parse::<crate::model::MetricKind>()
            .map_err(|e| CliError::usage(format!("--scaling-metric: {e}")))?;
        for s in &inputs {
            scaling.insert(s.group.clone(), m.clone());
        }
    }
    let report = analyze_all_with(&inputs, default_threads(), &scaling);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match args.format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &report)
            .map_err(std::io::Error::other)
            .and_then(|_| writeln!(out)),
        Format::Md => write_markdown(&mut out, &report),
        Format::Table | Format::Csv => write_table(&mut out, &report),
    };
    written
        .and_then(|_| out.flush())
        .or_else(crate::cli::output_error)
}

/// Each series on its own regular grid at its native step.
pub fn to_inputs(series: &[input::Series], file: &str) -> Result<Vec<SeriesInput>, CliError> {
    series
        .iter()
        .map(|s| {
            let step = s.step_seconds().unwrap_or(60);
            let span = s.points.last().map_or(0, |p| p.0) - s.points.first().map_or(0, |p| p.0);
            if span / step > MAX_POINTS_PER_SERIES {
                return Err(CliError::usage(format!(
                    "{file}: series {}/{} spans {span} s at a {step} s step: over {MAX_POINTS_PER_SERIES} points; resample it first",
                    s.group, s.metric
                )));
            }
            let (start, values) = s.regular(step);
            Ok(SeriesInput {
                group: s.group.clone(),
                metric: s.metric.clone(),
                start,
                step_seconds: step,
                values,
            })
        })
        .collect()
}

fn fmt_opt(v: Option<f64>, decimals: usize) -> String {
    v.filter(|x| x.is_finite())
        .map_or("-".to_string(), |x| format!("{x:.decimals$}"))
}

fn seasonality_text(s: &crate::engine::analysis::SeriesAnalysis) -> String {
    if s.workload.seasonality.is_empty() {
        return "none".into();
    }
    s.workload
        .seasonality
        .iter()
        .map(|p| format!("{} {:.2}", p.label, p.strength))
        .collect::<Vec<_>>()
        .join(", ")
}

/// "not trustworthy: <reasons>" when the growth figure should not be read as a trend.
fn growth_caveat(s: &crate::engine::analysis::SeriesAnalysis) -> Option<String> {
    let u = s.workload.growth_uncertainty.as_ref()?;
    (!u.trustworthy).then(|| format!("not trustworthy: {}", u.reasons.join("; ")))
}

fn write_table(w: &mut dyn Write, r: &AnalysisReport) -> std::io::Result<()> {
    writeln!(
        w,
        "{:<20} {:<20} {:<22} {:>10} {:>10} {:>6} {:>5} {:>6} {:>8} {:>5}",
        "GROUP",
        "METRIC",
        "SEASONALITY",
        "BASELINE",
        "PEAK",
        "P/B",
        "CV",
        "PRED",
        "GROW%/MO",
        "ANOM"
    )?;
    for s in &r.series {
        let w_ = &s.workload;
        writeln!(
            w,
            "{:<20} {:<20} {:<22} {:>10} {:>10} {:>6} {:>5} {:>6.2} {:>8} {:>5}",
            s.group,
            s.metric,
            seasonality_text(s),
            fmt_opt(w_.baseline, 2),
            fmt_opt(w_.peak, 2),
            fmt_opt(w_.peak_to_baseline, 1),
            fmt_opt(w_.cv, 2),
            w_.predictability,
            fmt_opt(w_.growth_pct_per_month, 1),
            w_.anomalies.len()
        )?;
        for p in &w_.peak_windows {
            writeln!(w, "    peak: {}", p.label)?;
        }
        if let Some(caveat) = growth_caveat(s) {
            writeln!(w, "    growth: {caveat}")?;
        }
        if let Some(n) = &w_.note {
            writeln!(w, "    note: {n}")?;
        }
    }
    write_groups(w, r, false)
}

fn write_markdown(w: &mut dyn Write, r: &AnalysisReport) -> std::io::Result<()> {
    writeln!(w, "# Workload analysis\n")?;
    writeln!(w, "| group | metric | seasonality | baseline | peak | peak/baseline | CV | predictability | growth %/month | anomalies | peak windows |")?;
    writeln!(w, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|")?;
    for s in &r.series {
        let a = &s.workload;
        let windows: Vec<&str> = a.peak_windows.iter().map(|p| p.label.as_str()).collect();
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} | {:.2} | {} | {} | {} |",
            s.group,
            s.metric,
            seasonality_text(s),
            fmt_opt(a.baseline, 2),
            fmt_opt(a.peak, 2),
            fmt_opt(a.peak_to_baseline, 1),
            fmt_opt(a.cv, 2),
            a.predictability,
            fmt_opt(a.growth_pct_per_month, 1)
                + if growth_caveat(s).is_some() {
                    " (?)"
                } else {
                    ""
                },
            a.anomalies.len(),
            windows.join("; ")
        )?;
    }
    for s in &r.series {
        if let Some(caveat) = growth_caveat(s) {
            writeln!(w, "\n- growth of {}/{}: {caveat}", s.group, s.metric)?;
        }
    }
    writeln!(w, "\n# Resources\n")?;
    write_groups(w, r, true)
}

fn write_groups(w: &mut dyn Write, r: &AnalysisReport, md: bool) -> std::io::Result<()> {
    let bullet = if md { "- " } else { "  " };
    for g in &r.groups {
        writeln!(w)?;
        writeln!(w, "{}{}", if md { "## " } else { "group " }, g.group)?;
        for u in &g.utilization {
            writeln!(
                w,
                "{bullet}{}: p50 {} p90 {} p95 {} p99 {} max {}{}",
                u.metric,
                fmt_opt(u.p50, 1),
                fmt_opt(u.p90, 1),
                fmt_opt(u.p95, 1),
                fmt_opt(u.p99, 1),
                fmt_opt(u.max, 1),
                u.time_above_80_pct
                    .map(|t| format!(
                        ", above 80% {t:.1}% of the time, headroom {}",
                        fmt_opt(u.headroom_pct, 0)
                    ))
                    .unwrap_or_default()
            )?;
        }
        if let Some(b) = &g.bottleneck {
            writeln!(
                w,
                "{bullet}binding resource: {} (capacity {} req/s per replica)",
                b.binding_metric,
                fmt_opt(b.capacity_rps_per_replica, 0)
            )?;
        }
        if let Some(s) = &g.scaling_metric {
            writeln!(
                w,
                "{bullet}scales on: {} ({}){}",
                s.metric,
                s.source,
                if g.wrong_scaling_metric {
                    "  <- WRONG METRIC"
                } else {
                    ""
                }
            )?;
        }
        if !g.metric_choice.metrics.is_empty() {
            writeln!(w, "{bullet}scaling metric: {}", g.metric_choice.explanation)?;
        }
        for s in &g.rightsizing {
            writeln!(
                w,
                "{bullet}size {}: x{:.2} (x{:.2}..x{:.2} of the current request) — {}",
                s.metric, s.target_factor, s.lower_factor, s.upper_factor, s.basis
            )?;
        }
        if let Some(p) = &g.provisioning {
            writeln!(
                w,
                "{bullet}{}: {:.1} replicas kept, {:.1} needed; waste {:.0}% ({:.0} replica-hours), saturated {:.0} min",
                p.verdict,
                p.provisioned_replicas_mean,
                p.needed_replicas_mean,
                p.waste_share * 100.0,
                p.waste_replica_hours,
                p.saturated_minutes
            )?;
        }
    }
    if !r.recommendations.is_empty() {
        writeln!(w)?;
        for rec in &r.recommendations {
            writeln!(w, "{}recommendation: {}", bullet, rec.title)?;
        }
    }
    Ok(())
}

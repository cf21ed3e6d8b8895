//! `scaletop tune`: search a group's policy for the cheapest one that keeps the Slo without
//! thrash, by full replay on the first 70% of the history, checked on the last 30%.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::cli::{CliError, Format};
use crate::duration::parse_duration;
use crate::engine::analysis::MetricChoice;
use crate::engine::policy::aws_spec::AsgScalingConfig;
use crate::engine::policy::hpa_spec::HpaManifest;
use crate::engine::replay::file_group;
use crate::engine::tune::ramp::{spike, SpikeResult};
use crate::engine::tune::{
    self, auto_kinds, PolicyDoc, PolicyKind, PolicyPoint, SearchControl, SpaceSize, TuneOutcome,
    TuneRequest,
};
use crate::model::{
    CapacityModel, GroupId, MetricKind, Platform, PolicyModel, Recommendation, Slo,
};
use crate::sim::{Scenario, Simulator};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    Auto,
    Hpa,
    Keda,
    AwsTarget,
    AwsStep,
    AwsPredictive,
    Gcp,
    Azure,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SearchArg {
    Small,
    Default,
    Large,
}

#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Demand series: CSV `timestamp,value`, long-form CSV `timestamp,group,metric,value`, or
    /// a Prometheus query_range JSON response. Needs --policy and --capacity-per-replica.
    #[arg(
        long,
        conflicts_with = "scenario",
        required_unless_present = "scenario"
    )]
    pub input: Option<PathBuf>,
    /// A built-in simulator scenario: its history, capacity model, Slo and current policies.
    #[arg(long)]
    pub scenario: Option<String>,
    /// Group to tune when there are several.
    #[arg(long)]
    pub group: Option<String>,
    /// The current policy file (HPA, KEDA ScaledObject, ASG configuration, GCP autoscaler);
    /// with --scenario it replaces the scenario's policy.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Policy types to search; auto: the current type and its platform's alternatives.
    #[arg(long, value_enum, default_value_t = KindArg::Auto)]
    pub policy_kind: KindArg,
    /// How many values each parameter takes (small: hundreds of candidates, default:
    /// thousands, large: over ten thousand).
    #[arg(long, value_enum, default_value_t = SearchArg::Default)]
    pub search: SearchArg,
    /// Metric of the input that is demand (requests per second).
    #[arg(long, default_value = "request_rate")]
    pub metric: String,
    /// Requests per second one ready replica serves at 100% (required with --input).
    #[arg(long, value_name = "RPS")]
    pub capacity_per_replica: Option<f64>,
    #[arg(long, default_value_t = 8)]
    pub concurrency: u32,
    /// Time from scale-up decision to ready, e.g. 45s or 2m (with --input).
    #[arg(long, default_value = "60s")]
    pub startup: String,
    /// Price of one replica-hour in USD (with --input).
    #[arg(long, default_value_t = 0.0)]
    pub price: f64,
    #[arg(long, default_value = "10s")]
    pub timeout: String,
    /// p95 latency objective, ms (default: the scenario's, else 200).
    #[arg(long)]
    pub slo_p95_ms: Option<f64>,
    /// Availability objective; (1 - availability) of the minutes is the SLA-violation budget.
    #[arg(long)]
    pub availability: Option<f64>,
    /// Longest acceptable time to scale (default: the scenario's, else 5m).
    #[arg(long)]
    pub max_time_to_scale: Option<String>,
    /// Scenario history to simulate.
    #[arg(long, default_value = "14d")]
    pub duration: String,
    /// Scenario step.
    #[arg(long, default_value = "1m")]
    pub step: String,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Replay every candidate to the end (no early rejection of dominated candidates).
    #[arg(long)]
    pub no_prune: bool,
    /// Replay every candidate of the space (default: exhaustive up to 4,000 candidates,
    /// coarse-to-fine beyond).
    #[arg(long, conflicts_with = "coarse_to_fine")]
    pub exhaustive: bool,
    /// Replay every other value of each axis, then the full grid around the best.
    #[arg(long)]
    pub coarse_to_fine: bool,
    /// Also replay a spike from the group's quietest demand to this many requests per second
    /// through the current and the recommended policy (e.g. the game's 0 -> 100K users).
    #[arg(long, value_name = "RPS")]
    pub spike_to: Option<f64>,
    /// How long the spike takes to rise.
    #[arg(long, default_value = "4m")]
    pub spike_rise: String,
    /// How soon the peak must be served.
    #[arg(long, default_value = "5m")]
    pub spike_within: String,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::usage(e.to_string())
}

/// One group's history and model, ready to tune.
pub struct GroupData {
    pub group: GroupId,
    pub start: i64,
    pub step_seconds: i64,
    pub demand: Vec<f64>,
    pub extra: Vec<(String, Vec<f64>)>,
    /// Series only the metric choice reads (the recorded CPU, replicas, latency), on the
    /// demand's grid; with --input they are among `extra`.
    pub analysis: Vec<(String, Vec<f64>)>,
    pub cap: CapacityModel,
    pub slo: Slo,
    pub current: PolicyDoc,
    /// The group's local clock, hours east of UTC (scenario groups; 0 for a file).
    pub utc_offset_hours: i32,
}

/// Extra series a policy may read, by the names policies use.
const EXTRA: [(&str, MetricKind); 4] = [
    ("memory_utilization", MetricKind::MemoryUtilization),
    ("queue_depth", MetricKind::QueueDepth),
    ("concurrency", MetricKind::Concurrency),
    ("connections", MetricKind::Connections),
];

fn space_size(search: SearchArg) -> SpaceSize {
    match search {
        SearchArg::Small => SpaceSize::Small,
        SearchArg::Default => SpaceSize::Default,
        SearchArg::Large => SpaceSize::Large,
    }
}

fn read_policy(path: &std::path::Path) -> Result<PolicyDoc, CliError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| usage(format!("{}: {e}", path.display())))?;
    PolicyDoc::parse(&text).map_err(|e| usage(format!("{}: {e}", path.display())))
}

fn seconds(flag: &str, text: &str) -> Result<u64, CliError> {
    parse_duration(text)
        .map(|d| d.as_secs())
        .map_err(|e| usage(format!("--{flag}: {e}")))
}

/// The scenario group's history from the simulator, with its model and current policy
/// (`policy`, when given, instead of the scenario's: a fixed fleet has none to tune).
pub fn scenario_group(
    name: &str,
    group: Option<&str>,
    duration_seconds: u64,
    step_seconds: u64,
    seed: u64,
    policy: Option<PolicyDoc>,
) -> Result<GroupData, CliError> {
    let scenario = Scenario::load(name).map_err(usage)?;
    let groups = scenario.sim_groups();
    let index = match group {
        Some(g) => groups.iter().position(|s| s.name() == g).ok_or_else(|| {
            usage(format!(
                "--group '{g}' is not in scenario {name} (groups: {})",
                groups
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?,
        None if groups.len() == 1 => 0,
        None => {
            return Err(usage(format!(
                "scenario {name} has {} groups; choose one with --group ({})",
                groups.len(),
                groups
                    .iter()
                    .map(|s| s.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    };
    let g = &groups[index];
    let current = match policy {
        Some(p) => p,
        None => policy_doc(
            &g.info.id,
            &g.policy,
            g.capacity.min_replicas,
            g.capacity.max_replicas,
        )
        .map_err(|e| usage(format!("group {}: {e} (give one with --policy)", g.name())))?,
    };
    let mut sim = Simulator::new(&scenario, seed);
    let mut frame = sim.new_frame();
    let steps = duration_seconds / step_seconds.max(1);
    let start = sim.now_unix();
    let mut demand = Vec::with_capacity(steps as usize);
    let mut extra: Vec<(String, Vec<f64>)> = EXTRA
        .iter()
        .filter(|(_, m)| sim.reported_metrics(index).contains(m))
        .map(|(n, _)| (n.to_string(), Vec::with_capacity(steps as usize)))
        .collect();
    let mut analysis: Vec<(MetricKind, Vec<f64>)> = tune::metric::ANALYSIS_SERIES
        .iter()
        .filter(|m| sim.reported_metrics(index).contains(m))
        .map(|m| (*m, Vec::with_capacity(steps as usize)))
        .collect();
    for _ in 0..steps {
        sim.advance_frame(step_seconds, &mut frame);
        let v = &frame.values[index];
        demand.push(v[MetricKind::RequestRate as usize]);
        for (name, series) in extra.iter_mut() {
            let m = EXTRA.iter().find(|(n, _)| n == name).map(|(_, m)| *m);
            series.push(m.map_or(f64::NAN, |m| v[m as usize]));
        }
        for (m, series) in analysis.iter_mut() {
            series.push(v[*m as usize]);
        }
    }
    Ok(GroupData {
        group: g.info.id.clone(),
        start,
        step_seconds: step_seconds as i64,
        demand,
        extra,
        analysis: analysis
            .into_iter()
            .map(|(m, v)| (m.as_str().to_string(), v))
            .collect(),
        cap: g.capacity.clone(),
        slo: g.info.slo.clone().unwrap_or_default(),
        current,
        utc_offset_hours: (g.utc_offset_seconds / 3600.0).round() as i32,
    })
}

/// A group's current policy as the platform document the search edits: a native document as
/// reported, or a target-tracking model in its platform's form (HPA for Kubernetes, an ASG
/// configuration for AWS). `scaletop tune --scenario` and the tuning pane both read it here.
pub fn policy_doc(
    id: &GroupId,
    policy: &PolicyModel,
    min: u32,
    max: u32,
) -> Result<PolicyDoc, String> {
    let name = &id.name;
    match policy {
        PolicyModel::Native { text } => PolicyDoc::parse(text).map_err(|e| e.to_string()),
        PolicyModel::TargetTracking(tt) => match id.platform {
            Platform::K8s => {
                let m = crate::sim::hpa_manifest(name, tt, min, max)
                    .ok_or("a metric of this policy has no HPA form")?;
                HpaManifest::from_yaml(&m.to_string())
                    .map(PolicyDoc::Hpa)
                    .map_err(|e| format!("HPA: {e}"))
            }
            Platform::Aws => {
                let c = crate::sim::asg_config(name, tt, min, max)
                    .ok_or("EC2 target tracking has no predefined metric for this policy")?;
                AsgScalingConfig::from_json(&c.to_string())
                    .map(PolicyDoc::Asg)
                    .map_err(|e| format!("ASG: {e}"))
            }
            other => Err(format!(
                "{} groups follow the scenario's own rule: no platform policy to tune",
                other.as_str()
            )),
        },
        PolicyModel::Fixed { replicas } => Err(format!(
            "fixed at {replicas} replicas: no autoscaling policy to tune"
        )),
        PolicyModel::Unknown => Err("policy unknown: nothing to tune".into()),
    }
}

fn group_data(args: &TuneArgs) -> Result<GroupData, CliError> {
    let mut data = match (&args.input, &args.scenario) {
        (Some(path), _) => {
            let policy = args
                .policy
                .as_ref()
                .ok_or_else(|| usage("--input needs --policy (the current policy file)"))?;
            let current = read_policy(policy)?;
            let capacity = args
                .capacity_per_replica
                .ok_or_else(|| usage("--input needs --capacity-per-replica"))?;
            if !(capacity.is_finite() && capacity > 0.0) {
                return Err(usage(format!(
                    "--capacity-per-replica must be a positive number, got {capacity}"
                )));
            }
            if !(args.price.is_finite() && args.price >= 0.0) {
                return Err(usage(format!(
                    "--price must be 0 or more, got {}",
                    args.price
                )));
            }
            let d = crate::commands::simulate::demand_from_file(
                path,
                args.group.as_deref(),
                &args.metric,
            )?;
            let (min, max) = current.bounds();
            GroupData {
                group: file_group(&d.group),
                start: d.start,
                step_seconds: d.step,
                demand: d.values,
                extra: d.extra,
                analysis: Vec::new(),
                cap: CapacityModel {
                    capacity_per_replica_rps: capacity,
                    concurrency_per_replica: args.concurrency.max(1),
                    startup_seconds: u32::try_from(seconds("startup", &args.startup)?)
                        .unwrap_or(u32::MAX),
                    warmup_seconds: 0,
                    min_replicas: min,
                    max_replicas: max,
                    warm_pool_size: 0,
                    warm_pool_startup_seconds: 0,
                    usd_per_replica_hour: args.price,
                    timeout_ms: seconds("timeout", &args.timeout)?.max(1) as f64 * 1000.0,
                },
                slo: Slo::default(),
                current,
                utc_offset_hours: 0,
            }
        }
        (None, Some(name)) => {
            let step = seconds("step", &args.step)?;
            if step == 0 {
                return Err(usage("--step must be positive"));
            }
            let policy = args.policy.as_deref().map(read_policy).transpose()?;
            scenario_group(
                name,
                args.group.as_deref(),
                seconds("duration", &args.duration)?,
                step,
                args.seed,
                policy,
            )?
        }
        (None, None) => return Err(usage("give --input FILE or --scenario NAME")),
    };
    if let Some(p) = args.slo_p95_ms {
        if !(p.is_finite() && p > 0.0) {
            return Err(usage(format!(
                "--slo-p95-ms must be a positive number, got {p}"
            )));
        }
        data.slo.p95_latency_ms = p;
    }
    if let Some(a) = args.availability {
        if !(a > 0.0 && a <= 1.0) {
            return Err(usage(format!("--availability must be in (0, 1], got {a}")));
        }
        data.slo.availability = a;
    }
    if let Some(t) = &args.max_time_to_scale {
        data.slo.max_time_to_scale_seconds =
            u32::try_from(seconds("max-time-to-scale", t)?).unwrap_or(u32::MAX);
    }
    Ok(data)
}

/// The analysis's scaling-metric choice for the group (the one reading the tuning pane uses).
pub fn metric_choice(data: &GroupData) -> Option<MetricChoice> {
    tune::metric::choose(
        &data.group.name,
        data.start,
        data.step_seconds,
        &data.demand,
        data.extra
            .iter()
            .chain(&data.analysis)
            .map(|(n, v)| (n.as_str(), v.as_slice())),
        &data.current,
    )
}

fn kinds(arg: KindArg, current: &PolicyDoc) -> Vec<PolicyKind> {
    match arg {
        KindArg::Auto => auto_kinds(current),
        KindArg::Hpa => vec![PolicyKind::Hpa],
        KindArg::Keda => vec![PolicyKind::Keda],
        KindArg::AwsTarget => vec![PolicyKind::AwsTarget],
        KindArg::AwsStep => vec![PolicyKind::AwsStep],
        KindArg::AwsPredictive => vec![PolicyKind::AwsPredictive],
        KindArg::Gcp => vec![PolicyKind::Gcp],
        KindArg::Azure => vec![PolicyKind::Azure],
    }
}

#[derive(Serialize)]
struct Output<'a> {
    schema: &'static str,
    #[serde(flatten)]
    outcome: &'a TuneOutcome,
    recommendation: Option<Recommendation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    spike: Option<Spikes>,
}

/// The spike replayed through the current and the recommended policy.
#[derive(Serialize)]
struct Spikes {
    current: SpikeResult,
    recommended: Option<SpikeResult>,
}

fn spikes(args: &TuneArgs, data: &GroupData, o: &TuneOutcome) -> Result<Option<Spikes>, CliError> {
    let Some(peak) = args.spike_to else {
        return Ok(None);
    };
    if !(peak.is_finite() && peak > 0.0) {
        return Err(usage(format!(
            "--spike-to must be a positive number, got {peak}"
        )));
    }
    let rise = seconds("spike-rise", &args.spike_rise)? as i64;
    let within = seconds("spike-within", &args.spike_within)? as i64;
    let mut quiet: Vec<f64> = data
        .demand
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .collect();
    quiet.sort_by(f64::total_cmp);
    let base = quiet.first().copied().unwrap_or(0.0).min(peak);
    let run = |doc: &PolicyDoc| {
        spike(doc, &data.cap, &data.slo, base, peak, rise, within)
            .map_err(|e| usage(format!("spike: {e}")))
    };
    Ok(Some(Spikes {
        current: run(&data.current)?,
        recommended: match &o.recommended {
            Some(r) => Some(run(&r.doc)?),
            None => None,
        },
    }))
}

fn write_spikes(out: &mut dyn Write, s: &Spikes) -> std::io::Result<()> {
    let line = |r: &SpikeResult| {
        format!(
            "{} ({} replicas needed, {} ready at most){}",
            r.seconds_to_serve_peak
                .map_or("not served within the hour".to_string(), |t| format!(
                    "peak served {t} s after the rise began"
                )),
            r.replicas_needed,
            r.peak_ready,
            r.reason
                .as_ref()
                .map_or(String::new(), |why| format!(": {why}"))
        )
    };
    writeln!(
        out,
        "\nSpike {:.0} -> {:.0} rps over {} s:",
        s.current.base_rps, s.current.peak_rps, s.current.rise_seconds
    )?;
    writeln!(out, "  current:     {}", line(&s.current))?;
    if let Some(r) = &s.recommended {
        writeln!(out, "  recommended: {}", line(r))?;
    }
    Ok(())
}

pub fn run(args: &TuneArgs) -> Result<(), CliError> {
    // A multi-region scenario without a group: plan every region and check spilling.
    if let (None, Some(name), None) = (&args.input, &args.scenario, &args.group) {
        if super::tune_regions::is_multiregion(name) {
            let step = seconds("step", &args.step)?;
            if step == 0 {
                return Err(usage("--step must be positive"));
            }
            return super::tune_regions::run(
                name,
                seconds("duration", &args.duration)?,
                step,
                args.seed,
                space_size(args.search),
                args.format,
            );
        }
    }
    let data = group_data(args)?;
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let req = TuneRequest {
        group: data.group.clone(),
        start: data.start,
        step_seconds: data.step_seconds,
        demand: &data.demand,
        extra: data
            .extra
            .iter()
            .map(|(n, v)| (n.clone(), v.as_slice()))
            .collect(),
        cap: data.cap.clone(),
        slo: data.slo.clone(),
        current: data.current.clone(),
        kinds: kinds(args.policy_kind, &data.current),
        size: space_size(args.search),
        threads: threads.max(1),
        prune: !args.no_prune,
        metric_choice: if args.policy_kind == KindArg::Auto {
            metric_choice(&data)
        } else {
            None
        },
        utc_offset_hours: data.utc_offset_hours,
        visit: if args.exhaustive {
            Some(tune::Visit::All)
        } else if args.coarse_to_fine {
            Some(tune::Visit::CoarseToFine)
        } else {
            None
        },
    };
    let outcome = tune::tune(&req, &SearchControl::default()).map_err(usage)?;
    let recommendation = tune::recommendation(&outcome);
    let spike_results = spikes(args, &data, &outcome)?;
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => serde_json::to_writer(
            &mut out,
            &Output {
                schema: "scaletop.tune/v1",
                outcome: &outcome,
                recommendation,
                spike: spike_results,
            },
        )
        .map_err(std::io::Error::other)
        .and_then(|_| writeln!(out)),
        _ => write_table(&mut out, &outcome, &req.slo).and_then(|_| {
            spike_results
                .as_ref()
                .map_or(Ok(()), |s| write_spikes(&mut out, s))
        }),
    };
    written.or_else(crate::cli::output_error)?;
    match &outcome.recommended {
        None => Err(CliError {
            code: 1,
            message: format!(
                "no candidate keeps the Slo (p95 {} ms, {:.2}% availability, time to scale {} s) within max {} replicas; best reachable: {}",
                req.slo.p95_latency_ms,
                req.slo.availability * 100.0,
                req.slo.max_time_to_scale_seconds,
                data.current.bounds().1,
                outcome.best_reachable.as_ref().map_or("none".to_string(), reach_line)
            ),
        }),
        Some(r) if !r.holds => Err(CliError {
            code: 1,
            message: format!(
                "the recommendation does not hold on the held-out 30%: {}",
                r.heldout_problems.join("; ")
            ),
        }),
        Some(_) => Ok(()),
    }
}

fn reach_line(p: &PolicyPoint) -> String {
    format!(
        "{:.0} SLA-violation minutes at ${:.0}/month ({}){}",
        p.train.sla_violation_minutes,
        p.train.cost_usd_per_month,
        settings_line(&p.settings),
        if p.train.slo_problems.is_empty() {
            String::new()
        } else {
            format!(": {}", p.train.slo_problems.join("; "))
        }
    )
}

fn settings_line(s: &[(String, String)]) -> String {
    s.iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn tts(t: Option<i64>) -> String {
    t.map_or("—".into(), |t| format!("{t} s"))
}

fn write_table(out: &mut dyn Write, o: &TuneOutcome, slo: &Slo) -> std::io::Result<()> {
    writeln!(
        out,
        "Tuning {} ({}) — current: {}",
        o.group.name,
        o.current.kind.words(),
        o.current.describe
    )?;
    writeln!(
        out,
        "History {:.1} h: searched on the first {:.1} h, held out the last {:.1} h (from {})",
        o.split.train_hours + o.split.heldout_hours,
        o.split.train_hours,
        o.split.heldout_hours,
        o.split.heldout_from
    )?;
    writeln!(
        out,
        "Slo: p95 < {} ms, availability {:.2}%, time to scale <= {} s",
        slo.p95_latency_ms,
        slo.availability * 100.0,
        slo.max_time_to_scale_seconds
    )?;
    let per_kind: Vec<String> = o
        .kinds
        .iter()
        .map(|k| format!("{} {}", k.kind.label(), k.candidates))
        .collect();
    writeln!(
        out,
        "Searched {} candidates ({}): {} replayed in full, {} rejected early as dominated{}",
        o.candidates,
        per_kind.join(", "),
        o.completed,
        o.rejected_early,
        if o.coarse_to_fine {
            format!(", {} not visited (coarse-to-fine)", o.not_visited)
        } else {
            String::new()
        }
    )?;
    for k in o.kinds.iter().filter(|k| k.failed > 0) {
        writeln!(
            out,
            "  {} failed: {} (first: {})",
            k.kind.label(),
            k.failed,
            k.first_failure.as_deref().unwrap_or("")
        )?;
    }
    writeln!(
        out,
        "\nPareto front of thrash-free candidates (training part: monthly cost vs SLA-violation minutes)"
    )?;
    writeln!(
        out,
        "  {:>10} {:>8} {:>6}  settings",
        "$/month", "SLA min", "thrash"
    )?;
    for p in o.pareto_front.iter().take(12) {
        writeln!(
            out,
            "  {:>10.0} {:>8.0} {:>6}  {} {}",
            p.train.cost_usd_per_month,
            p.train.sla_violation_minutes,
            p.train.thrash_events,
            p.kind.label(),
            settings_line(&p.settings)
        )?;
    }
    if o.pareto_front.len() > 12 {
        writeln!(
            out,
            "  ... {} more (--format json)",
            o.pareto_front.len() - 12
        )?;
    }
    match &o.recommended {
        Some(r) => {
            writeln!(
                out,
                "\nRecommended: {} — {}",
                r.kind.words(),
                if r.holds {
                    "holds on held-out"
                } else {
                    "DOES NOT hold on held-out"
                }
            )?;
            writeln!(out, "  {}", settings_line(&r.settings))?;
            writeln!(out, "  {:<26} {:>14} {:>14}", "", "current", "recommended")?;
            let c = &o.current;
            let rows: [(&str, String, String); 10] = [
                (
                    "train $/month",
                    format!("{:.0}", c.train.cost_usd_per_month),
                    format!("{:.0}", r.train.cost_usd_per_month),
                ),
                (
                    "train SLA-violation min",
                    format!("{:.0}", c.train.sla_violation_minutes),
                    format!("{:.0}", r.train.sla_violation_minutes),
                ),
                (
                    "train thrash pairs",
                    c.train.thrash_events.to_string(),
                    r.train.thrash_events.to_string(),
                ),
                (
                    "held-out $/month",
                    format!("{:.0}", c.heldout.cost_usd_per_month),
                    format!("{:.0}", r.heldout.cost_usd_per_month),
                ),
                (
                    "held-out SLA-violation min",
                    format!("{:.0}", c.heldout.sla_violation_minutes),
                    format!("{:.0}", r.heldout.sla_violation_minutes),
                ),
                (
                    "held-out thrash pairs",
                    c.heldout.thrash_events.to_string(),
                    r.heldout.thrash_events.to_string(),
                ),
                (
                    "held-out waste %",
                    format!("{:.1}", c.heldout.waste_percent),
                    format!("{:.1}", r.heldout.waste_percent),
                ),
                (
                    "held-out scale events",
                    format!(
                        "{}",
                        c.heldout.scale_up_events + c.heldout.scale_down_events
                    ),
                    format!(
                        "{}",
                        r.heldout.scale_up_events + r.heldout.scale_down_events
                    ),
                ),
                (
                    "held-out max time to scale",
                    tts(c.heldout.max_time_to_scale_seconds),
                    tts(r.heldout.max_time_to_scale_seconds),
                ),
                (
                    "held-out peak replicas",
                    c.heldout.peak_replicas.to_string(),
                    r.heldout.peak_replicas.to_string(),
                ),
            ];
            for (k, a, b) in rows {
                writeln!(out, "  {k:<26} {a:>14} {b:>14}")?;
            }
            writeln!(
                out,
                "  saving on held-out: ${:.0}/month ({:.1}%)",
                r.saving_usd_month, r.saving_percent
            )?;
            for p in &r.heldout_problems {
                writeln!(out, "  held-out problem: {p}")?;
            }
        }
        None => {
            writeln!(out, "\nNo candidate keeps the Slo without thrash.")?;
            if let Some(b) = &o.best_reachable {
                writeln!(out, "  best reachable: {}", reach_line(b))?;
            }
        }
    }
    writeln!(out, "\nPolicy type: {}", o.choice)?;
    if let Some(why) = o
        .metric_choice
        .as_ref()
        .and_then(|m| m.not_searched.as_ref())
    {
        writeln!(out, "  the chosen metrics were not searched: {why}")?;
    }
    if !o.pitfalls.is_empty() {
        writeln!(
            out,
            "\nPitfalls of the current policy (its replay over the whole history):"
        )?;
        for p in &o.pitfalls {
            let fixed = match p.fixed {
                Some(true) => " [fixed by the recommendation]",
                Some(false) => " [still present]",
                None => "",
            };
            writeln!(out, "  - {}{fixed}: {}", p.title, p.evidence.join("; "))?;
        }
    }
    if let Some(s) = &o.schedule {
        writeln!(out, "\nScheduled capacity ahead of recurring peaks:")?;
        for l in &s.proposal.lines {
            writeln!(out, "  {l}")?;
        }
        writeln!(out, "  replay: {}", s.verdict)?;
    }
    if let Some(r) = &o.recommended {
        writeln!(
            out,
            "\nRecommended policy ({}):",
            serde_json::to_value(r.doc.format())
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        )?;
        let text = match &r.doc {
            PolicyDoc::Hpa(_) | PolicyDoc::Keda(_) => {
                serde_yaml_ng::to_string(&r.document).unwrap_or_default()
            }
            _ => serde_json::to_string_pretty(&r.document).unwrap_or_default(),
        };
        writeln!(out, "{}", text.trim_end())?;
    }
    Ok(())
}

//! `scaletop cost`: monthly cost per group and team now and with the cost recommendations,
//! savings by kind, commitments inventory, and each recommendation as
//! `scaletop.recommendation/v1` JSON with its saving and assumptions.

mod file;
mod recs;

/// The cost plans of a report as recommendations (group ids are filled in by the caller).
pub fn recommendations(
    report: &crate::engine::cost::plan::CostReport,
    groups: &[crate::engine::cost::plan::GroupData],
) -> Vec<crate::model::Recommendation> {
    recs::build(report, groups, crate::model::Platform::Sim, "")
}
mod render;
pub mod scenario;

pub use scenario::{off_hours_of, OffHoursGroup};

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::cli::{CliError, Format};
use crate::config::Config;
use crate::duration::parse_duration;
use crate::engine::cost::plan::{self, Billing, CostReport, Options};
use crate::engine::cost::HOURS_PER_MONTH;
use crate::model::{Platform, Recommendation};
use crate::pricing::user_file::UserPricing;
use crate::pricing::Catalog;

#[derive(Debug, Args)]
pub struct CostArgs {
    /// Series file (long-form CSV `timestamp,group,metric,value` with replicas_desired or
    /// replicas_ready per group; request_rate, cpu/memory utilization where known).
    #[arg(
        long,
        conflicts_with = "scenario",
        required_unless_present = "scenario"
    )]
    pub input: Option<PathBuf>,
    /// A built-in scenario (`scaletop sim list`), simulated then costed.
    #[arg(long)]
    pub scenario: Option<String>,
    /// History to simulate for --scenario.
    #[arg(long, default_value = "14d")]
    pub duration: String,
    /// Step of the simulated history.
    #[arg(long, default_value = "5m")]
    pub step: String,
    /// Seed of the simulated history (default: the config's demo seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Instance type of the groups in --input (e.g. m5.xlarge), or lambda-<MB>mb for Lambda
    /// functions (invocations as request_rate, concurrency; Max Memory Used, cpu_total_time and
    /// duration size their memory).
    #[arg(long)]
    pub instance_type: Option<String>,
    /// Region prices are taken in (e.g. us-east-1, us-central1, eastus).
    #[arg(long)]
    pub region: Option<String>,
    /// Node type of the Kubernetes cluster that runs pod groups.
    #[arg(long)]
    pub node_type: Option<String>,
    /// Commitment terms to size, e.g. 1y or 3y (default both, as history allows).
    #[arg(long)]
    pub term: Option<String>,
    /// Skip the check of the projection against a fresh simulator seed.
    #[arg(long)]
    pub no_validate: bool,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// Projection vs what the simulator incurs on a fresh seed.
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub seed: u64,
    pub projected_usd_month: f64,
    pub incurred_usd_month: f64,
    /// (projected − incurred) / incurred, percent; None when no group could be compared.
    pub error_pct: Option<f64>,
    /// The same per kind of billing (instances, pods, lambda).
    pub by_billing: Vec<ValidationRow>,
    pub groups: Vec<ValidationRow>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidationRow {
    /// Group name, or the billing kind in `by_billing`.
    pub name: String,
    pub billing: &'static str,
    pub projected_usd_month: f64,
    pub incurred_usd_month: f64,
    pub error_pct: Option<f64>,
    /// How "incurred" was measured.
    pub method: &'static str,
}

fn error_pct(projected: f64, incurred: f64) -> Option<f64> {
    (incurred > 0.0).then(|| 100.0 * (projected - incurred) / incurred)
}

#[derive(Serialize)]
struct Output<'a> {
    #[serde(flatten)]
    report: &'a CostReport,
    recommendations: &'a [Recommendation],
    #[serde(skip_serializing_if = "Option::is_none")]
    validation: Option<&'a Validation>,
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::usage(e.to_string())
}

/// The catalog with the user pricing file and config overrides applied.
pub fn load_catalog(cfg: &Config) -> Result<Catalog, CliError> {
    let mut c = Catalog::built_in().map_err(usage)?;
    let path = cfg.pricing.file_path(&cfg.general);
    let user = UserPricing::load(&path).map_err(usage)?;
    user.apply(&mut c, &path.display().to_string())
        .map_err(usage)?;
    c.apply_overrides(&cfg.pricing.overrides, "config [pricing.overrides]")
        .map_err(usage)?;
    Ok(c)
}

fn terms(arg: Option<&str>) -> Result<(Vec<u32>, bool), CliError> {
    match arg {
        None => Ok((vec![1, 3], false)),
        Some(t) => {
            let years = match t.trim_end_matches(['y', 'Y']) {
                "1" => 1,
                "3" => 3,
                _ => return Err(usage(format!("--term must be 1y or 3y, got '{t}'"))),
            };
            Ok((vec![years], true))
        }
    }
}

/// What `scaletop cost` computes for its arguments: the report, its recommendations and the
/// projection check. `run` prints exactly this; `scaletop report` shows the same figures.
#[derive(Debug)]
pub struct Computed {
    pub report: CostReport,
    pub recommendations: Vec<Recommendation>,
    pub validation: Option<Validation>,
}

pub fn compute(args: &CostArgs, cfg: &Config) -> Result<Computed, CliError> {
    let catalog = load_catalog(cfg)?;
    let (terms, explicit_term) = terms(args.term.as_deref())?;
    let mut assumptions = Vec::new();
    let seed = args.seed.unwrap_or(cfg.demo.seed);
    let (groups, existing, cluster, source, platform, scope, sim, off_hours) =
        match (&args.scenario, &args.input) {
            (Some(name), _) => {
                let s = crate::sim::Scenario::load(name).map_err(usage)?;
                let duration = parse_duration(&args.duration)
                    .map_err(|e| usage(format!("--duration: {e}")))?
                    .as_secs();
                let step = parse_duration(&args.step)
                    .map_err(|e| usage(format!("--step: {e}")))?
                    .as_secs();
                if step == 0 || step > 3600 || duration < 2 * 3600 {
                    return Err(usage("--step must be 1s..1h and --duration at least 2h"));
                }
                let h = scenario::simulate(&s, seed, duration, step);
                let groups = scenario::groups(&s, &h, args.region.as_deref(), &mut assumptions)
                    .map_err(usage)?;
                let off_hours = scenario::off_hours(&s, &h, &groups);
                let cluster = scenario::cluster(
                    &s,
                    args.node_type.as_deref(),
                    args.region.as_deref(),
                    &catalog,
                    &mut assumptions,
                );
                let platform = s
                    .sim_groups()
                    .first()
                    .map_or(Platform::Sim, |g| g.info.id.platform);
                let scope = s
                    .sim_groups()
                    .first()
                    .map_or(String::new(), |g| g.info.id.scope.clone());
                (
                    groups,
                    scenario::existing(&s),
                    cluster,
                    format!(
                        "scenario {name}, seed {seed}, {} at {}",
                        args.duration, args.step
                    ),
                    platform,
                    scope,
                    Some((s, duration, step)),
                    off_hours,
                )
            }
            (None, Some(path)) => {
                let (groups, cluster) = file::groups(path, args, &catalog, &mut assumptions)?;
                check_commitments(&cfg.cost.commitments, &catalog)?;
                (
                    groups,
                    cfg.cost.commitments.clone(),
                    cluster,
                    path.display().to_string(),
                    Platform::K8s,
                    "file".to_string(),
                    None,
                    Default::default(),
                )
            }
            (None, None) => return Err(usage("give --input FILE or --scenario NAME")),
        };
    // Unknown types and regions are errors, named, with near matches: never a silent $0.
    for g in &groups {
        if let Billing::Instances {
            instance_type,
            region,
        } = &g.billing
        {
            catalog
                .on_demand(instance_type, region)
                .map_err(|e| usage(format!("group {}: {e}", g.name)))?;
        }
    }
    check_zones(&cfg.cost.availability_zones, &groups, &catalog)?;
    let hours = groups
        .iter()
        .map(|g| g.capacity.len() as f64 * g.step_seconds as f64 / 3600.0)
        .fold(0.0, f64::max);
    if explicit_term {
        let need = crate::engine::cost::commitment::required_history_hours(terms[0]);
        if (hours as usize) < need {
            return Err(usage(format!(
                "--term {}y needs at least {} days of history (two weekly cycles per year of term); the input covers {:.1} days",
                terms[0],
                need / 24,
                hours / 24.0
            )));
        }
    }
    let mut report = plan::analyze(
        &groups,
        &existing,
        &catalog,
        &Options {
            cluster,
            terms,
            source,
            off_hours,
            availability_zones: cfg.cost.availability_zones.clone(),
        },
    )
    .map_err(usage)?;
    report.assumptions.extend(assumptions);
    let recommendations = recs::build(&report, &groups, platform, &scope);
    let validation = match (&sim, args.no_validate) {
        (Some((s, duration, step)), false) => Some(validate(
            s, seed, *duration, *step, &report, &groups, &catalog,
        )),
        _ => None,
    };
    Ok(Computed {
        report,
        recommendations,
        validation,
    })
}

/// `[cost] availability_zones` must name groups of the input, each with 1 to as many zones as
/// its region has (where the catalog gives the count).
fn check_zones(
    zones: &BTreeMap<String, u32>,
    groups: &[plan::GroupData],
    catalog: &crate::pricing::Catalog,
) -> Result<(), CliError> {
    for (name, n) in zones {
        let at = format!("config [cost] availability_zones.{name}");
        let Some(g) = groups.iter().find(|g| &g.name == name) else {
            let names: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
            return Err(usage(format!(
                "{at}: no such group (groups: {})",
                names.join(", ")
            )));
        };
        if *n == 0 {
            return Err(usage(format!("{at}: must be at least 1")));
        }
        if let Billing::Instances {
            instance_type,
            region,
        } = &g.billing
        {
            if let Some((max, _)) = catalog.zones(instance_type, region).filter(|z| *n > z.0) {
                return Err(usage(format!("{at}: {n} zones, but {region} has {max}")));
            }
        }
    }
    Ok(())
}

/// The config's commitments must be usable: a known kind, a priced type and region for a
/// reservation, a positive $/h for a savings plan, an end after the start.
fn check_commitments(
    list: &[crate::engine::cost::plan::ExistingCommitment],
    catalog: &crate::pricing::Catalog,
) -> Result<(), CliError> {
    for (i, c) in list.iter().enumerate() {
        let at = format!("config [cost] commitments[{i}] ({})", c.kind);
        match c.kind.as_str() {
            "reserved_instance" | "reserved_db_instance" | "committed_use" => {
                let (Some(t), Some(r), Some(n)) = (&c.instance_type, &c.region, c.count) else {
                    return Err(usage(format!(
                        "{at}: a reservation needs instance_type, region and count"
                    )));
                };
                if n == 0 {
                    return Err(usage(format!("{at}: count must be > 0")));
                }
                catalog
                    .on_demand(t, r)
                    .map_err(|e| usage(format!("{at}: {e}")))?;
                if c.effective_usd_per_hour.is_some_and(|x| !(x.is_finite() && x >= 0.0)) {
                    return Err(usage(format!(
                        "{at}: effective_usd_per_hour must be a non-negative price"
                    )));
                }
            }
            "savings_plan" => {
                if !c
                    .commitment_usd_per_hour
                    .is_some_and(|x| x.is_finite() && x > 0.0)
                {
                    return Err(usage(format!(
                        "{at}: a savings plan needs commitment_usd_per_hour > 0"
                    )));
                }
            }
            other => {
                return Err(usage(format!(
                    "config [cost] commitments[{i}]: unknown kind '{other}' (reserved_instance, reserved_db_instance, committed_use, savings_plan)"
                )))
            }
        }
        if let (Some(a), Some(b)) = (c.starts, c.ends) {
            if b <= a {
                return Err(usage(format!("{at}: ends {b} is not after starts {a}")));
            }
        }
    }
    Ok(())
}

pub fn run(args: &CostArgs, cfg: &Config) -> Result<(), CliError> {
    let Computed {
        report,
        recommendations,
        validation,
    } = compute(args, cfg)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match args.format {
        Format::Json => serde_json::to_writer_pretty(
            &mut out,
            &Output {
                report: &report,
                recommendations: &recommendations,
                validation: validation.as_ref(),
            },
        )
        .map_err(std::io::Error::other)
        .and_then(|_| std::io::Write::write_all(&mut out, b"\n")),
        Format::Md => render::markdown(&mut out, &report, &recommendations, validation.as_ref()),
        Format::Table | Format::Csv => {
            render::table(&mut out, &report, &recommendations, validation.as_ref())
        }
    };
    written
        .and_then(|_| std::io::Write::flush(&mut out))
        .or_else(crate::cli::output_error)
}

/// What the simulator incurs on a fresh seed (its own platform policy and noise), group by
/// group, against the projection from the analysed seed's replay:
/// - instance groups on demand: the simulator's replicas at catalog prices;
/// - pod groups: the simulator's pods and CPU/memory use split OpenCost-style at the same node
///   rates as the projection (max(request, usage));
/// - Lambda groups: the simulator's own bill (requests, GB-s, provisioned concurrency, from
///   its execution-environment model), against the cost engine's Lambda pricing.
fn validate(
    s: &crate::sim::Scenario,
    seed: u64,
    duration: u64,
    step: u64,
    report: &CostReport,
    groups: &[plan::GroupData],
    catalog: &Catalog,
) -> Validation {
    use crate::model::MetricKind;
    let fresh = seed.wrapping_add(1);
    let h = scenario::simulate(s, fresh, duration, step);
    let mut rows = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let projected = report
            .groups
            .iter()
            .find(|c| c.group == g.name)
            .map_or(0.0, |c| c.current_usd_month);
        let observed = h.get(i, MetricKind::ReplicasDesired);
        let (billing, incurred, method) = match &g.billing {
            Billing::Instances {
                instance_type,
                region,
            } => {
                if g.spot_now.is_some() {
                    continue;
                }
                let Ok(p) = catalog.on_demand(instance_type, region) else {
                    continue;
                };
                let hc =
                    crate::engine::cost::HourlyCapacity::from_series(h.start, h.step, observed);
                (
                    "instances",
                    hc.mean() * p.usd_per_hour * HOURS_PER_MONTH,
                    "simulator replicas x catalog on-demand price",
                )
            }
            Billing::Pods {
                cpu_request,
                memory_request_gib,
            } => {
                let Some(k) = &report.kubernetes else {
                    continue;
                };
                let fresh_group = plan::GroupData {
                    capacity: observed.to_vec(),
                    cpu_utilization: h.get(i, MetricKind::CpuUtilization).to_vec(),
                    memory_utilization: h.get(i, MetricKind::MemoryUtilization).to_vec(),
                    ..g.clone()
                };
                let hours = plan::pod_hours(&fresh_group, *cpu_request, *memory_request_gib);
                let a = crate::engine::cost::kubernetes::allocate(&hours, &k.rates);
                (
                    "pods",
                    a.allocated_usd / hours.len().max(1) as f64 * HOURS_PER_MONTH,
                    "simulator pods and CPU/memory use, split OpenCost-style at the node rates",
                )
            }
            Billing::Lambda { .. } => {
                let bill: Vec<f64> = h
                    .get(i, MetricKind::CostUsdPerHour)
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .collect();
                if bill.is_empty() {
                    continue;
                }
                (
                    "lambda",
                    bill.iter().sum::<f64>() / bill.len() as f64 * HOURS_PER_MONTH,
                    "the simulator's own Lambda bill (requests, GB-s, provisioned concurrency)",
                )
            }
        };
        rows.push(ValidationRow {
            name: g.name.clone(),
            billing,
            projected_usd_month: projected,
            incurred_usd_month: incurred,
            error_pct: error_pct(projected, incurred),
            method,
        });
    }
    let mut by_billing = Vec::new();
    for kind in ["instances", "pods", "lambda"] {
        let of: Vec<&ValidationRow> = rows.iter().filter(|r| r.billing == kind).collect();
        if let Some(first) = of.first() {
            let p: f64 = of.iter().map(|r| r.projected_usd_month).sum();
            let i: f64 = of.iter().map(|r| r.incurred_usd_month).sum();
            by_billing.push(ValidationRow {
                name: kind.to_string(),
                billing: first.billing,
                projected_usd_month: p,
                incurred_usd_month: i,
                error_pct: error_pct(p, i),
                method: first.method,
            });
        }
    }
    let proj: f64 = rows.iter().map(|r| r.projected_usd_month).sum();
    let inc: f64 = rows.iter().map(|r| r.incurred_usd_month).sum();
    let note = if rows.is_empty() {
        "no group to compare (groups already on spot are not validated)".to_string()
    } else {
        "the projection is the analysed seed's replay of the current policy; incurred is the simulator on a fresh seed (see each kind's method); groups already on spot are not validated".to_string()
    };
    Validation {
        seed: fresh,
        projected_usd_month: proj,
        incurred_usd_month: inc,
        error_pct: error_pct(proj, inc),
        by_billing,
        groups: rows,
        note,
    }
}

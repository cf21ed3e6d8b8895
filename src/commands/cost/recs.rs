//! Cost plans as `Recommendation`s (scaletop.recommendation/v1) with typed artifacts, each with
//! its saving and the arithmetic behind it.

use crate::artifact::{
    Artifact, CommitmentArtifact, ConcurrencyArtifact, InstanceTypeArtifact, SpotArtifact,
};
use crate::engine::cost::plan::{Billing, CostReport, GroupData};
use crate::model::{
    GroupId, Platform, Recommendation, RecommendationKind, Risk, RECOMMENDATION_SCHEMA,
};
use crate::pricing::PriceStatus;

/// One recommendation; its id is `cost-<kind>-<group>`.
fn rec(
    kind: RecommendationKind,
    group: GroupId,
    title: String,
    evidence: Vec<String>,
    saving: f64,
    risk: Risk,
    artifact: Artifact,
) -> Recommendation {
    rec_value(
        kind,
        group,
        title,
        evidence,
        saving,
        risk,
        artifact.to_value(),
    )
}

/// [`rec`] with the artifact as JSON (null where no platform document applies).
fn rec_value(
    kind: RecommendationKind,
    group: GroupId,
    title: String,
    evidence: Vec<String>,
    saving: f64,
    risk: Risk,
    artifact: serde_json::Value,
) -> Recommendation {
    let kind_name = serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    Recommendation {
        schema: RECOMMENDATION_SCHEMA.to_string(),
        id: format!("cost-{kind_name}-{}", group.name),
        kind,
        group,
        title,
        evidence,
        saving_usd_month: Some(saving),
        risk,
        artifact,
    }
}

/// The arithmetic of existing reservations a change leaves unused (see engine::cost::stranded).
fn stranded_evidence(plan: &crate::engine::cost::plan::GroupPlans, change: &str) -> Vec<String> {
    plan.stranded
        .iter()
        .filter(|s| s.change == change)
        .map(|s| s.arithmetic.clone())
        .collect()
}

/// " (when the reservation ends on DATE)" where a change should wait for a reservation.
fn defer_note(plan: &crate::engine::cost::plan::GroupPlans, change: &str) -> String {
    plan.stranded
        .iter()
        .find(|s| s.change == change && s.defer)
        .map(|s| {
            format!(
                " (when the reservation ends{})",
                s.ends
                    .as_deref()
                    .map(|e| format!(" on {}", e.get(..10).unwrap_or(e)))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default()
}

fn status_note(s: PriceStatus) -> &'static str {
    match s {
        PriceStatus::Verified => "verified price",
        PriceStatus::Unverified => "UNVERIFIED price",
    }
}

pub fn build(
    report: &CostReport,
    groups: &[GroupData],
    platform: Platform,
    scope: &str,
) -> Vec<Recommendation> {
    let mut out = Vec::new();
    for (plan, g) in report.plans.iter().zip(groups) {
        let gid = GroupId::new(platform, scope, &g.name);
        let (cloud, region) = match &g.billing {
            Billing::Instances {
                region,
                instance_type,
            } => (
                if instance_type.contains('-') && !instance_type.starts_with("Standard_") {
                    "gcp"
                } else if instance_type.starts_with("Standard_") {
                    "azure"
                } else {
                    "aws"
                },
                region.clone(),
            ),
            _ => ("aws", "us-east-1".to_string()),
        };
        if let (Some(a), Some(s)) = (&plan.instance_type, plan.applied.get("instance_type")) {
            if let Some(r) = &a.recommended {
                let n = g
                    .capacity
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .fold(0.0, f64::max);
                let mut ev = vec![
                    format!(
                        "{}: ${:.4}/h ({}) -> {}: ${:.4}/h ({}), {:.2} per current instance",
                        a.current.name,
                        a.current.usd_per_hour,
                        status_note(a.current.price_status),
                        r.name,
                        r.usd_per_hour,
                        status_note(r.price_status),
                        r.instances_per_current
                    ),
                    format!(
                        "monthly ${:.0} -> ${:.0} (same CPU work; peak memory + 15% fits)",
                        a.current.monthly_usd, r.monthly_usd
                    ),
                    format!("group is {}", a.verdict),
                ];
                if let Some(c) = a.caveat {
                    ev.push(c.to_string());
                }
                // An existing reservation of the current type would be stranded by the move.
                for i in report.inventory.iter().filter(|i| {
                    i.commitment.instance_type.as_deref() == Some(a.current.name.as_str())
                        && i.commitment.region.as_deref() == Some(region.as_str())
                }) {
                    if let (Some(now), Some(after)) = (i.utilization_now, i.utilization_projected) {
                        if after < now {
                            ev.push(format!(
                                "existing {} of {} x {}: utilization {:.0}% now, {:.0}% after the move; keep that many on {} until it ends",
                                i.commitment.kind,
                                i.commitment.count.unwrap_or(0),
                                a.current.name,
                                now * 100.0,
                                after * 100.0,
                                a.current.name
                            ));
                        }
                    }
                }
                ev.extend(stranded_evidence(plan, "instance_type"));
                out.push(rec(
                    RecommendationKind::InstanceType,
                    gid.clone(),
                    format!(
                        "{}: move {} to {}{}",
                        g.name,
                        a.current.name,
                        r.name,
                        defer_note(plan, "instance_type")
                    ),
                    ev,
                    *s,
                    if a.caveat.is_some() {
                        Risk::Medium
                    } else {
                        Risk::Low
                    },
                    Artifact::InstanceType(InstanceTypeArtifact {
                        cloud: cloud.into(),
                        region: region.clone(),
                        current: a.current.name.clone(),
                        recommended: r.name.clone(),
                        instances: (n * r.instances_per_current).ceil() as u32,
                    }),
                ));
            }
        }
        if let (Some(f), Some(s)) = (&plan.schedule, plan.applied.get("schedule")) {
            let w = &f.window;
            let mut ev = vec![
                format!(
                    "from the data: on {:.0}% or more of days the replicas needed stay at or below {} in each hour of the window (day floor {})",
                    w.days_below_share * 100.0,
                    w.floor,
                    w.day_floor
                ),
                format!(
                    "replayed with the schedule ({} windows tried): {:.0} -> {:.0} instance-hours over the history; SLA-violation minutes {:.0} -> {:.0}",
                    f.windows_replayed,
                    f.replica_hours_baseline,
                    f.replica_hours_scheduled,
                    f.sla_violation_minutes_baseline,
                    f.sla_violation_minutes_scheduled
                ),
                format!(
                    "crons in {}: '{}' sets the minimum to {}, '{}' sets it back to {}; the policy still scales above the lowered minimum",
                    w.time_zone,
                    w.start_cron(),
                    w.floor,
                    w.end_cron(),
                    w.day_floor
                ),
            ];
            if let Some(waste) = &plan.waste {
                ev.push(format!(
                    "idle off-hours waste today ${:.0}/month; this schedule recovers ${s:.0}/month at the current price",
                    waste.idle_off_hours_usd_month
                ));
            }
            ev.extend(stranded_evidence(plan, "schedule"));
            let artifact = match &plan.schedule_document {
                Some(doc) => Artifact::Policy(doc.clone()).to_value(),
                None => {
                    ev.push("apply as a scheduled minimum on the platform (a KEDA cron trigger, an Application Auto Scaling scheduled action, or by hand): scaletop writes the document for EC2 Auto Scaling groups (scheduled actions) and Kubernetes groups (a KEDA ScaledObject with a cron trigger)".into());
                    serde_json::Value::Null
                }
            };
            out.push(rec_value(
                RecommendationKind::Schedule,
                gid.clone(),
                format!(
                    "{}: {}{}",
                    g.name,
                    w.describe(),
                    defer_note(plan, "schedule")
                ),
                ev,
                *s,
                if w.floor == 0 {
                    Risk::Medium
                } else {
                    Risk::Low
                },
                artifact,
            ));
        }
        if let (Some(sp), Some(s)) = (&plan.spot, plan.applied.get("spot")) {
            out.push(rec(
                RecommendationKind::Spot,
                gid.clone(),
                format!(
                    "{}: {}on-demand base {} + {}% above it, spot for the rest across {} types ({} pools){}",
                    g.name,
                    sp.spread.as_ref().map_or_else(String::new, |z| format!(
                        "spread spot over all {} {} zones (largest pool 1/{} of spot): ",
                        z.region_zones, z.region, z.region_zones
                    )),
                    sp.on_demand_base,
                    sp.on_demand_percentage_above_base,
                    sp.pools.len(),
                    sp.pool_count,
                    defer_note(plan, "spot")
                ),
                [
                    sp.reasons.join("; "),
                    format!(
                        "on demand: base {} plus {}% of the capacity above it; together they carry the SLO in every hour after the largest pool is reclaimed ({:.0}% of spot: price-capacity-optimized may fill one pool per zone, only the zones are balanced)",
                        sp.on_demand_base,
                        sp.on_demand_percentage_above_base,
                        sp.largest_pool_share * 100.0
                    ),
                    format!(
                        "blended ${:.4}/h per instance, {:.0}% of instance-hours on spot; {:.1} interruptions expected a month",
                        sp.blended_usd_per_hour,
                        sp.spot_share * 100.0,
                        sp.expected_interruptions_per_month
                    ),
                    format!(
                        "monthly ${:.0} -> ${:.0} ({:.0}% less than all on-demand); fallback: on-demand when spot capacity is short",
                        sp.saving.current_usd_month, sp.saving.projected_usd_month, sp.saving.saving_pct
                    ),
                ]
                .into_iter()
                .chain(sp.binding.as_ref().map(|b| {
                    format!(
                        "the mix is set by {}: {} instances, {} needed by the SLO, {:.1} left after losing the largest pool",
                        b.at_unix
                            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
                            .map_or_else(|| format!("step {}", b.index), |t| t.format("%Y-%m-%d %H:%M UTC").to_string()),
                        b.provisioned,
                        b.required,
                        b.after_loss
                    )
                }))
                .chain(sp.spread.as_ref().map(|z| {
                    let opt = |n: u32| {
                        sp.zone_options.iter().find(|o| o.zones == n).map_or_else(
                            String::new,
                            |o| format!(
                                "base {} + {}% ({:.1}% saving, ${:.0}/month)",
                                o.on_demand_base,
                                o.on_demand_percentage_above_base,
                                o.saving_pct,
                                o.saving_usd_month
                            ),
                        )
                    };
                    format!(
                        "zones: over the {} it spans today a zone's spot is 1/{} and the SLO-safe mix is {}; over all {} {} zones it is {}; the same rule (lose the largest pool) at both; spreading {}",
                        z.zones_now,
                        z.zones_now,
                        opt(z.zones_now),
                        z.region_zones,
                        z.region,
                        opt(z.region_zones),
                        z.caveat
                    )
                }))
                .chain(stranded_evidence(plan, "spot"))
                .collect(),
                *s,
                Risk::Medium,
                Artifact::Spot(SpotArtifact {
                    on_demand_base_capacity: sp.on_demand_base,
                    on_demand_percentage_above_base: sp.on_demand_percentage_above_base,
                    spot_allocation_strategy: "price-capacity-optimized".into(),
                    instance_types: sp.pools.clone(),
                }),
            ));
        }
        if let (Some(c), Some(s)) = (plan.commitments.first(), plan.applied.get("commitment")) {
            let instance_type = match &g.billing {
                Billing::Instances { instance_type, .. } => Some(
                    plan.instance_type
                        .as_ref()
                        .and_then(|a| a.recommended.as_ref().map(|r| r.name.clone()))
                        .unwrap_or_else(|| instance_type.clone()),
                ),
                _ => None,
            };
            let whole =
                c.level_instances.fract() == 0.0 && !matches!(g.billing, Billing::Lambda { .. });
            let others: Vec<String> = plan
                .commitments
                .iter()
                .skip(1)
                .map(|o| {
                    format!(
                        "{:?} {}y: ${:.0}/month",
                        o.option.kind, o.option.term_years, o.saving.saving_usd_month
                    )
                })
                .collect();
            // Lambda commitments are sized in $ of on-demand spend an hour, not instances.
            let (unit, covered) = match &g.billing {
                Billing::Lambda { .. } => (
                    "$/h of on-demand duration",
                    "Lambda duration and provisioned concurrency",
                ),
                _ => ("instances", "instances"),
            };
            out.push(rec(
                RecommendationKind::Commitment,
                gid.clone(),
                format!(
                    "{}: {:?} {}y for {:.1} {unit} (${:.3}/h committed){}",
                    g.name,
                    c.option.kind,
                    c.option.term_years,
                    c.level_instances,
                    c.hourly_commitment_usd,
                    plan.commitment_starts
                        .as_deref()
                        .map(|d| format!(" starting {}", d.get(..10).unwrap_or(d)))
                        .unwrap_or_default()
                ),
                vec![
                    format!(
                        "level = the hourly usage exceeded in {:.0}% of hours (1 - discount {:.0}%): more would be used less than break-even",
                        (1.0 - c.option.discount) * 100.0,
                        c.option.discount * 100.0
                    ),
                    format!(
                        "utilization {:.0}% (break-even {:.0}%), coverage {:.0}%; pays off after {:.1} months of use in the term",
                        c.utilization * 100.0,
                        c.break_even_utilization * 100.0,
                        c.coverage * 100.0,
                        c.break_even_months
                    ),
                    format!("covers {covered}; flexibility: {}; discount {} ({:?})", c.option.flexibility, c.option.discount, c.option.status),
                    format!("compared: {}", if others.is_empty() { "none".into() } else { others.join(", ") }),
                ]
                .into_iter()
                .chain(plan.commitment_starts.as_ref().and_then(|d| {
                    let r = plan.stranded.iter().find(|r| r.change == "instance_type" && r.defer)?;
                    Some(format!(
                        "the type move waits for the existing reservation's end ({d}), so this commitment for the new type starts then (AWS lets Reserved Instances and Savings Plans be bought queued for a later start): over 12 months ${:.1} x (1 - {:.0}/{:.0} h) = ${s:.1}/month",
                        s / (1.0 - r.hours_left / crate::engine::cost::stranded::HORIZON_HOURS).max(1e-9),
                        r.hours_left,
                        crate::engine::cost::stranded::HORIZON_HOURS
                    ))
                }))
                .collect(),
                *s,
                Risk::Low,
                Artifact::Commitment(CommitmentArtifact {
                    commitment_type: c.option.kind,
                    term_years: c.option.term_years,
                    payment: c.payment.into(),
                    instance_type: instance_type.filter(|_| whole),
                    region: Some(region.clone()),
                    count: whole.then_some(c.level_instances as u32),
                    hourly_commitment_usd: (!whole).then_some(c.hourly_commitment_usd),
                }),
            ));
        }
        if let (
            Some(s),
            Billing::Lambda {
                functions,
                memory_mb,
                ..
            },
        ) = (plan.lambda_arm_saving_usd_month, &g.billing)
        {
            out.push(rec(
                RecommendationKind::InstanceType,
                gid.clone(),
                format!("{}: run the {functions} functions on arm64 (Graviton)", g.name),
                vec![
                    "duration $0.0000133334 vs $0.0000166667 per GB-s (20% less); requests unchanged".to_string(),
                    format!("{memory_mb} MB x {functions} functions: ${s:.0} a month less"),
                    crate::engine::cost::rightsizing::ARM_CAVEAT.to_string(),
                ],
                s,
                Risk::Medium,
                Artifact::InstanceType(InstanceTypeArtifact {
                    cloud: "aws".into(),
                    region: "us-east-1".into(),
                    current: "lambda-x86_64".into(),
                    recommended: "lambda-arm64".into(),
                    instances: *functions,
                }),
            ));
        }
        if let (Some(m), Some(s), Billing::Lambda { functions, .. }) =
            (&plan.memory, plan.applied.get("memory"), &g.billing)
        {
            out.push(rec(
                RecommendationKind::Sizing,
                gid.clone(),
                format!(
                    "{}: memory {} -> {} MB per function ({} functions)",
                    g.name, m.current_mb, m.needed_mb, functions
                ),
                lambda_memory_evidence(m, *s),
                *s,
                Risk::Medium,
                Artifact::Concurrency(ConcurrencyArtifact {
                    function: g.name.clone(),
                    reserved_concurrency: None,
                    provisioned_concurrency: None,
                    provisioned_by_hour_utc: None,
                    memory_size_mb: Some(m.needed_mb),
                }),
            ));
        }
        if let (Some(levels), Some(s), Billing::Lambda { functions, .. }) = (
            &plan.concurrency_by_hour_utc,
            plan.applied.get("schedule"),
            &g.billing,
        ) {
            let constant = plan
                .concurrency
                .as_ref()
                .map_or(0, |c| c.provisioned_concurrency);
            let hours: Vec<String> = levels
                .iter()
                .enumerate()
                .filter(|(_, l)| **l != constant)
                .map(|(h, l)| format!("{h:02}:00 {l}"))
                .collect();
            out.push(rec_value(
                RecommendationKind::Schedule,
                gid.clone(),
                format!(
                    "{}: provisioned concurrency by hour of day (UTC), {} per function otherwise",
                    g.name, constant
                ),
                vec![
                    format!("per function, UTC hour and level: {}", hours.join(", ")),
                    format!(
                        "each hour's level is exceeded in more than the break-even share ({:.0}%) of that hour's steps, as the constant plan's level is over the whole day",
                        plan.concurrency.as_ref().map_or(0.0, |c| c.break_even_busy_share) * 100.0
                    ),
                    format!(
                        "billed from {} minutes before each rise (allocation takes a few minutes); Application Auto Scaling scheduled actions on lambda:function:ProvisionedConcurrency apply it to each of the {functions} functions",
                        crate::engine::cost::serverless::SCHEDULE_LEAD_SECONDS / 60
                    ),
                    match &plan.concurrency_schedule_document {
                        Some(doc) => format!(
                            "{} scheduled actions (PutScheduledAction, daily cron in UTC, MinCapacity = MaxCapacity = the level) in the report's plans[].concurrency_schedule_document, read back step by step to the levels costed; `scaletop emit --target aws` (or aws-terraform) writes them for alias {}:live: repeat per function with its own name",
                            doc["ScheduledActions"].as_array().map_or(0, Vec::len),
                            g.name
                        ),
                        None => "no scheduled-action document".into(),
                    },
                ],
                *s,
                Risk::Low,
                match &plan.concurrency_schedule_document {
                    Some(_) => Artifact::Concurrency(ConcurrencyArtifact {
                        function: format!("{}:live", g.name),
                        reserved_concurrency: None,
                        provisioned_concurrency: None,
                        provisioned_by_hour_utc: Some(levels.clone()),
                        memory_size_mb: None,
                    })
                    .to_value(),
                    None => serde_json::Value::Null,
                },
            ));
        }
        if let (Some(cp), Billing::Lambda { functions, .. }) = (&plan.concurrency, &g.billing) {
            let s = plan.applied.get("concurrency").copied().unwrap_or(0.0);
            let s = &s;
            out.push(rec(
                RecommendationKind::Concurrency,
                gid.clone(),
                format!(
                    "{}: provisioned {} and reserved {} per function ({} functions)",
                    g.name, cp.provisioned_concurrency, cp.reserved_concurrency, functions
                ),
                vec![
                    format!(
                        "peak concurrency {:.1} per function; reserved {} = peak x 1.2, so neighbours' bursts cannot throttle it",
                        cp.peak_concurrency, cp.reserved_concurrency
                    ),
                    format!(
                        "provisioned level busy {:.0}% of the time (pays above {:.0}%); fewer cold starts below it",
                        cp.provisioned_busy_share * 100.0,
                        cp.break_even_busy_share * 100.0
                    ),
                ],
                *s,
                Risk::Low,
                Artifact::Concurrency(ConcurrencyArtifact {
                    function: format!("{} (each of {} functions)", g.name, functions),
                    reserved_concurrency: Some(cp.reserved_concurrency),
                    provisioned_concurrency: Some(cp.provisioned_concurrency),
                    provisioned_by_hour_utc: None,
                    memory_size_mb: None,
                }),
            ));
        }
    }
    if let Some(k) = &report.kubernetes {
        if let Some(c) = &k.commitment {
            out.push(rec(
                RecommendationKind::Commitment,
                GroupId::new(platform, scope, "cluster-nodes"),
                format!(
                    "cluster nodes: {:?} {}y for {:.1} {} nodes",
                    c.option.kind, c.option.term_years, c.level_instances, k.node_type
                ),
                vec![
                    format!(
                        "nodes needed by the pods' max(request, usage): mean {:.1}",
                        k.nodes_mean
                    ),
                    format!(
                        "utilization {:.0}% (break-even {:.0}%), coverage {:.0}%",
                        c.utilization * 100.0,
                        c.break_even_utilization * 100.0,
                        c.coverage * 100.0
                    ),
                ],
                c.saving.saving_usd_month,
                Risk::Low,
                Artifact::Commitment(CommitmentArtifact {
                    commitment_type: c.option.kind,
                    term_years: c.option.term_years,
                    payment: c.payment.into(),
                    instance_type: Some(k.node_type.clone()),
                    region: Some(k.region.clone()),
                    count: (c.level_instances.fract() == 0.0).then_some(c.level_instances as u32),
                    hourly_commitment_usd: (c.level_instances.fract() != 0.0)
                        .then_some(c.hourly_commitment_usd),
                }),
            ));
        }
    }
    out.sort_by(|a, b| {
        b.saving_usd_month
            .unwrap_or(0.0)
            .total_cmp(&a.saving_usd_month.unwrap_or(0.0))
    });
    out
}

/// The arithmetic of a Lambda memory change, step by step.
fn lambda_memory_evidence(
    m: &crate::engine::cost::lambda_memory::MemoryPlan,
    saving: f64,
) -> Vec<String> {
    vec![
        format!(
            "peak Max Memory Used {:.0} MB of {} MB configured; peak CPU {:.3} vCPU (cpu_total_time / duration) of the {:.3} vCPU {} MB allocates (1,769 MB = 1 vCPU)",
            m.peak_memory_used_mb, m.current_mb, m.peak_vcpus_used, m.vcpus_allocated, m.current_mb
        ),
        format!("new memory = {}", m.arithmetic),
        format!(
            "at {} MB the function keeps {:.3} vCPU >= {:.3} x {} used, so its duration is unchanged (no shortening is claimed); GB-s and the duration bill fall to {:.1}%, ${saving:.0} a month at the rates after arm64, before provisioned concurrency and the savings plan",
            m.needed_mb,
            crate::engine::serverless::vcpus(f64::from(m.needed_mb)),
            m.peak_vcpus_used,
            crate::engine::cost::lambda_memory::CPU_HEADROOM,
            m.gb_seconds_ratio * 100.0
        ),
        "INIT (cold starts) runs on the smaller CPU share too and may take longer; roll out on a new version behind a weighted alias and compare Duration and Max Memory Used".to_string(),
    ]
}

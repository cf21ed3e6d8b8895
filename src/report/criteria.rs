//! The success criteria users hold scaletop to (../shared/scenarios.md), each pass / fail /
//! not measured with its figure and where the figure came from.

use super::doc::{Criterion, Verdict};
use super::fmt::{pct, usd};
use super::sections::Inputs;

fn c(
    name: &'static str,
    target: &'static str,
    verdict: Verdict,
    figure: String,
    source: &str,
) -> Criterion {
    Criterion {
        name,
        target,
        verdict,
        figure,
        source: source.to_string(),
    }
}

fn pass_if(ok: bool) -> Verdict {
    if ok {
        Verdict::Pass
    } else {
        Verdict::Fail
    }
}

pub fn criteria(i: &Inputs) -> Vec<Criterion> {
    use Verdict::NotMeasured;
    let mut out = Vec::new();

    // 1. Waste found: wasted replica-hours over provisioned replica-hours, fleet-wide.
    let hours = i.data.hours();
    let (waste, provisioned) = i
        .analysis
        .groups
        .iter()
        .filter_map(|g| g.provisioning.as_ref())
        .fold((0.0, 0.0), |(w, p), x| {
            (
                w + x.waste_replica_hours,
                p + x.provisioned_replicas_mean * hours,
            )
        });
    let cost = i.cost.ok();
    out.push(if let Some(k) = cost {
        // Savings potential: the cost engine's projected saving over the current cost.
        let t = &k.report.totals;
        c(
            "resource waste found",
            "> 10% savings potential",
            pass_if(t.saving.saving_pct > 10.0),
            format!(
                "{:.1}% savings potential ({} of {} per month; waste {} per month)",
                t.saving.saving_pct,
                usd(t.saving.saving_usd_month),
                usd(t.current_usd_month),
                usd(t.waste_usd_month)
            ),
            &format!("section 6 ({})", i.cost.source()),
        )
    } else if provisioned > 0.0 {
        let share = waste / provisioned;
        c(
            "resource waste found",
            "> 10% savings potential",
            pass_if(share > 0.10),
            format!(
                "{} of replica-hours wasted ({waste:.0} h)",
                pct(Some(share))
            ),
            "section 2 (workload analysis engine)",
        )
    } else {
        c(
            "resource waste found",
            "> 10% savings potential",
            NotMeasured,
            "needs replicas and demand series".into(),
            "section 2",
        )
    });

    // 2-3. Forecast accuracy and MAPE: the worst successful forecast.
    let ok: Vec<_> = i
        .forecasts
        .iter()
        .filter_map(|f| f.result.as_ref().ok().map(|r| (f, r)))
        .collect();
    let worst_acc = ok
        .iter()
        .filter_map(|(f, r)| r.backtest.accuracy.map(|a| (a, f)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    out.push(match worst_acc {
        Some((a, f)) => c(
            "forecast accuracy",
            "> 80% (1 - WAPE) on held-out data",
            pass_if(a > 0.8),
            format!("worst {} ({} {})", pct(Some(a)), f.group, f.horizon),
            "section 3 (forecast engine backtest)",
        ),
        None => c(
            "forecast accuracy",
            "> 80% (1 - WAPE) on held-out data",
            NotMeasured,
            "no forecast could be backtested (section 3 says why)".into(),
            "section 3",
        ),
    });
    let worst_mape = ok
        .iter()
        .filter_map(|(f, r)| r.backtest.mape.map(|m| (m, f)))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    out.push(match worst_mape {
        Some((m, f)) => c(
            "forecast MAPE",
            "< 20%",
            pass_if(m < 0.2),
            format!("worst {} ({} {})", pct(Some(m)), f.group, f.horizon),
            "section 3 (forecast engine backtest)",
        ),
        None => c(
            "forecast MAPE",
            "< 20%",
            NotMeasured,
            "no forecast could be backtested".into(),
            "section 3",
        ),
    });

    out.push(match cost {
        Some(k) => {
            let t = &k.report.totals;
            let documented = k
                .recommendations
                .iter()
                .filter(|r| r.saving_usd_month.is_some_and(|v| v > 0.0))
                .count();
            c(
                "cost reduced or savings documented",
                "> 20% or savings documented",
                pass_if(t.saving.saving_pct > 20.0 || documented > 0),
                format!(
                    "projected reduction {:.1}% ({} per month); {documented} recommendations \
                     document their saving and assumptions",
                    t.saving.saving_pct,
                    usd(t.saving.saving_usd_month)
                ),
                &format!("section 6 ({})", i.cost.source()),
            )
        }
        None => c(
            "cost reduced or savings documented",
            "> 20% or savings documented",
            NotMeasured,
            i.cost.why_not(),
            "section 6",
        ),
    });

    // 5. SLA kept during scaling, and 11. load tests: from the load tests.
    let tests: Vec<_> = i
        .runs
        .iter()
        .flat_map(|r| r.load_tests.iter())
        .filter_map(|t| t.result.as_ref().ok())
        .collect();
    let sla_kept = tests
        .iter()
        .filter(|v| v.checks.iter().any(|c| c.name == "SLA kept" && c.passed))
        .count();
    out.push(if tests.is_empty() {
        c(
            "SLA kept during scaling",
            "no SLA violation beyond the scale-up window",
            NotMeasured,
            "no load test could run (needs policies)".into(),
            "section 8",
        )
    } else {
        c(
            "SLA kept during scaling",
            "no SLA violation beyond the scale-up window",
            pass_if(sla_kept == tests.len()),
            format!("{sla_kept} of {} load tests kept the SLA", tests.len()),
            "section 8 (load-test engine)",
        )
    });

    // 6. Scale-up within target: worst time to scale of the replayed history.
    let worst_tts = i
        .runs
        .iter()
        .filter_map(|r| {
            let s = &r.replay.as_ref().ok()?.summary;
            Some((s.max_time_to_scale_seconds?, r.group.as_str()))
        })
        .max();
    let any_replay = i.runs.iter().any(|r| r.replay.is_ok());
    out.push(match worst_tts {
        Some((t, g)) => c(
            "scale-up within target",
            "< 5 min",
            pass_if(t < 300),
            format!("worst {:.1} min ({g})", t as f64 / 60.0),
            "section 9 (policy replay over the history)",
        ),
        None if any_replay => c(
            "scale-up within target",
            "< 5 min",
            Verdict::Pass,
            "capacity never fell behind demand in the replay".into(),
            "section 9 (policy replay)",
        ),
        None => c(
            "scale-up within target",
            "< 5 min",
            NotMeasured,
            "needs the groups' policies to replay".into(),
            "section 9",
        ),
    });

    // 7. No thrashing: observed thrash pairs.
    let replayed: Vec<_> = i
        .policies
        .rows
        .iter()
        .filter_map(|r| r.replay.as_ref().ok())
        .collect();
    let thrash: usize = replayed
        .iter()
        .map(|r| r.observed_figures.thrash_pairs)
        .sum();
    out.push(if replayed.is_empty() {
        c(
            "no thrashing",
            "0 thrash pairs",
            NotMeasured,
            "needs scaling events (policies)".into(),
            "section 4",
        )
    } else {
        c(
            "no thrashing",
            "0 thrash pairs",
            pass_if(thrash == 0),
            format!(
                "{thrash} thrash pairs observed across {} groups",
                replayed.len()
            ),
            "section 4 (scaling events, CONTRACTS thrash definition)",
        )
    });

    out.push(spot_criterion(i));
    out.push(reserved_criterion(i));
    out.push(c(
        "alerts configured",
        "alert rules for capacity, thrash, SLA, scale-up, runway, cost, sources",
        pass_if(!i.rules.is_empty()),
        format!(
            "{} rules ({})",
            i.rules.len(),
            i.rules
                .iter()
                .map(|r| r.kind.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "section 7 (alert rule model)",
    ));
    let passed = tests.iter().filter(|v| v.passed).count();
    out.push(if tests.is_empty() {
        c(
            "load tests validate the policy",
            "ramp, spike and scale-down pass",
            NotMeasured,
            "no load test could run".into(),
            "section 8",
        )
    } else {
        c(
            "load tests validate the policy",
            "ramp, spike and scale-down pass",
            pass_if(passed == tests.len()),
            format!("{passed} of {} passed", tests.len()),
            "section 8 (load-test engine)",
        )
    });

    // 12. Availability: requests not dropped, fleet-wide, from the data.
    let (mut requests, mut dropped) = (0.0, 0.0);
    for g in i.data.group_names() {
        let Some((start, demand)) = i.data.demand(&g) else {
            continue;
        };
        let d = i.data.aligned(
            &g,
            crate::model::MetricKind::DroppedRate,
            start,
            demand.len(),
        );
        for (r, x) in demand.iter().zip(&d) {
            if r.is_finite() {
                requests += r;
                if x.is_finite() {
                    dropped += x;
                }
            }
        }
    }
    let has_dropped = i.data.series.iter().any(|s| s.metric == "dropped_rate");
    out.push(if requests > 0.0 && has_dropped {
        let a = 1.0 - dropped / requests;
        c(
            "availability",
            ">= 99.9%",
            pass_if(a >= 0.999),
            format!("{:.3}% of requests served", a * 100.0),
            "request_rate and dropped_rate series",
        )
    } else {
        c(
            "availability",
            ">= 99.9%",
            NotMeasured,
            "needs request_rate and dropped_rate series".into(),
            "section 9",
        )
    });

    // 13. p95 at peak: the worst group's SLA compliance at peak.
    let worst_peak = i
        .monitoring
        .iter()
        .filter_map(|m| m.sla_compliance_at_peak.map(|s| (s, m.group.as_str())))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    out.push(match worst_peak {
        Some((s, g)) => c(
            "p95 latency at peak",
            "< 200 ms (the SLO) in >= 99% of peak minutes",
            pass_if(s >= 0.99),
            format!(
                "worst {} of peak minutes within the SLO ({g})",
                pct(Some(s))
            ),
            "section 9",
        ),
        None => c(
            "p95 latency at peak",
            "< 200 ms (the SLO) in >= 99% of peak minutes",
            NotMeasured,
            "needs latency_p95_ms and request_rate series".into(),
            "section 9",
        ),
    });
    out
}

/// Spot saving over the group's own cost, for each group the cost engine finds suitable.
fn spot_criterion(i: &Inputs) -> Criterion {
    const NAME: &str = "spot strategy saving";
    const TARGET: &str = "> 40% where suitable";
    let Some(k) = i.cost.ok() else {
        return c(
            NAME,
            TARGET,
            Verdict::NotMeasured,
            i.cost.why_not(),
            "section 5",
        );
    };
    let suitable: Vec<(&str, f64)> = k
        .report
        .plans
        .iter()
        .filter_map(|p| {
            let s = p.spot.as_ref().filter(|s| s.suitable)?;
            Some((p.group.as_str(), s.saving.saving_pct))
        })
        .collect();
    let source = format!("section 5 ({})", i.cost.source());
    match suitable.iter().min_by(|a, b| a.1.total_cmp(&b.1)).copied() {
        None => c(
            NAME,
            TARGET,
            Verdict::NotMeasured,
            format!(
                "no group is suitable for spot ({} spot analyses)",
                k.report.plans.iter().filter(|p| p.spot.is_some()).count()
            ),
            &source,
        ),
        Some((g, worst)) => c(
            NAME,
            TARGET,
            pass_if(worst > 40.0),
            format!(
                "{} suitable groups; lowest spot saving {worst:.1}% ({g})",
                suitable.len()
            ),
            &source,
        ),
    }
}

/// Utilization of the commitments held now; with none held, of the recommended ones.
fn reserved_criterion(i: &Inputs) -> Criterion {
    const NAME: &str = "reserved capacity utilized";
    const TARGET: &str = "> 70%";
    let Some(k) = i.cost.ok() else {
        return c(
            NAME,
            TARGET,
            Verdict::NotMeasured,
            i.cost.why_not(),
            "section 5",
        );
    };
    let source = format!("section 5 ({})", i.cost.source());
    let held: Vec<(String, f64)> = k
        .report
        .inventory
        .iter()
        .filter_map(|r| {
            let u = r.utilization_now?;
            Some((
                format!(
                    "{} {}",
                    r.commitment.kind,
                    r.commitment.instance_type.as_deref().unwrap_or("")
                )
                .trim()
                .to_string(),
                u,
            ))
        })
        .collect();
    let (what, rows): (&str, Vec<(String, f64)>) = if held.is_empty() {
        (
            "recommended commitments",
            k.report
                .plans
                .iter()
                .flat_map(|p| {
                    p.commitments.iter().map(move |cp| {
                        (
                            format!("{} {:?} {}y", p.group, cp.option.kind, cp.option.term_years),
                            cp.utilization,
                        )
                    })
                })
                .collect(),
        )
    } else {
        ("commitments held now", held)
    };
    match rows.iter().min_by(|a, b| a.1.total_cmp(&b.1)) {
        None => c(
            NAME,
            TARGET,
            Verdict::NotMeasured,
            "no commitment held or recommended".into(),
            &source,
        ),
        Some((name, u)) => c(
            NAME,
            TARGET,
            pass_if(*u > 0.7),
            format!(
                "lowest utilization {} ({name}; {what}: {})",
                pct(Some(*u)),
                rows.len()
            ),
            &source,
        ),
    }
}

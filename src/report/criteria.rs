//! The success criteria users hold scaletop to (../shared/scenarios.md), each pass / fail /
//! not measured with its figure and where the figure came from.

use super::doc::{Criterion, Verdict};
use super::fmt::pct;
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
    out.push(if provisioned > 0.0 {
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

    out.push(c(
        "cost reduced or savings documented",
        "> 20% or savings documented",
        NotMeasured,
        "needs the cost engine (issue #8) and tuned policies (issue #7)".into(),
        "section 6",
    ));

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

    out.push(c(
        "spot strategy saving",
        "> 40% where suitable",
        NotMeasured,
        "needs the cost engine's spot analysis (issue #8)".into(),
        "section 5",
    ));
    out.push(c(
        "reserved capacity utilized",
        "> 70%",
        NotMeasured,
        "needs the cost engine's commitments inventory (issue #8)".into(),
        "section 5",
    ));
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

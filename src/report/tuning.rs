//! Section 10: pitfall detectors and re-tune triggers, each computed from the data with its
//! evidence and the fix it points to. Nothing here is canned advice: a row exists because a
//! figure crossed a threshold, and says which figure.

use crate::model::MetricKind;

use super::doc::{Section, Table};
use super::fmt::{mean, num, pct, percentile};
use super::sections::Inputs;

/// A scale-up followed by p95 this much above the group's median p95 is cold-start latency.
const COLD_START_FACTOR: f64 = 1.5;
/// Backtest coverage of the 95% band below this: forecast errors left their band.
const MIN_COVERAGE_95: f64 = 0.85;
/// Cost per request drifting by more than this between the first and last week.
const COST_DRIFT: f64 = 0.10;
/// Growth that reaches max capacity within this many months needs a re-tune.
const HEADROOM_MONTHS: f64 = 3.0;

#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub kind: &'static str,
    pub group: String,
    pub evidence: String,
    pub fix: String,
}

pub fn pitfalls(i: &Inputs) -> Vec<Finding> {
    let mut out = Vec::new();
    for row in &i.policies.rows {
        if let Ok(r) = &row.replay {
            let o = &r.observed_figures;
            if o.thrash_pairs > 0 {
                out.push(Finding {
                    kind: "thrashing",
                    group: row.group.name.clone(),
                    evidence: format!(
                        "{} thrash pairs in {:.1} days ({} scale-ups, {} scale-downs) under {}",
                        o.thrash_pairs,
                        o.hours / 24.0,
                        o.scale_up_events,
                        o.scale_down_events,
                        row.policy
                    ),
                    fix: "widen the tolerance or lengthen the scale-down stabilization window \
                          (`scaletop tune --group G` searches both)"
                        .into(),
                });
            }
        }
    }
    for run in i.runs {
        let Some(info) = &run.info else { continue };
        let slo = info.slo.clone().unwrap_or_default();
        let budget = i64::from(slo.max_time_to_scale_seconds);
        if let Ok(r) = &run.replay {
            if let Some(worst) = r.summary.max_time_to_scale_seconds.filter(|w| *w > budget) {
                out.push(Finding {
                    kind: "slow scale-up",
                    group: run.group.clone(),
                    evidence: format!(
                        "worst time to scale {:.1} min over the history (target {:.1} min); \
                         {} scaling episodes; {:.0} min at max replicas{}",
                        worst as f64 / 60.0,
                        budget as f64 / 60.0,
                        r.summary.time_to_scale_seconds.len(),
                        r.summary.minutes_at_max,
                        if r.summary.minutes_at_max > 0.0 {
                            " (there the maximum, not the policy's speed, held capacity back)"
                        } else {
                            ""
                        }
                    ),
                    fix: "policy recommendation: larger scale-up steps, a warm pool, or \
                          predictive scaling ahead of the daily rise"
                        .into(),
                });
            }
        }
        for lt in &run.load_tests {
            let Ok(v) = &lt.result else { continue };
            if let Some(c) = v
                .checks
                .iter()
                .find(|c| c.name == "no premature scale-down" && !c.passed)
            {
                out.push(Finding {
                    kind: "premature scale-down",
                    group: run.group.clone(),
                    evidence: format!("{:?} load test: {}", lt.test, c.detail),
                    fix: "policy recommendation: a longer scale-down delay (stabilization window \
                          / cooldown)"
                        .into(),
                });
                break;
            }
        }
        if let Some(cap) = &info.capacity {
            if let Some(f) = cold_start(i, &run.group, cap.startup_seconds + cap.warmup_seconds) {
                out.push(f);
            }
        }
    }
    for g in &i.analysis.groups {
        if g.wrong_scaling_metric {
            out.push(Finding {
                kind: "wrong metric",
                group: g.group.clone(),
                evidence: format!(
                    "scales on {} but {} is the binding resource",
                    g.scaling_metric
                        .as_ref()
                        .map_or("-".to_string(), |m| m.metric.clone()),
                    g.bottleneck
                        .as_ref()
                        .map_or("-".to_string(), |b| b.binding_metric.clone())
                ),
                fix: format!(
                    "metric recommendation: scale on {}",
                    g.recommended_scaling_metrics.join(" + ")
                ),
            });
        }
    }
    out
}

/// p95 in the minutes after scale-ups, against the group's median p95.
fn cold_start(i: &Inputs, group: &str, startup_and_warmup_seconds: u32) -> Option<Finding> {
    let p95 = i.data.series(group, MetricKind::LatencyP95Ms)?;
    let desired = i.data.series(group, MetricKind::ReplicasDesired)?;
    let vals: Vec<f64> = p95.points.iter().map(|p| p.1).collect();
    let median = percentile(&vals, 0.5)?;
    let window = i64::from(startup_and_warmup_seconds).max(i.data.step_seconds);
    let rises: Vec<i64> = desired
        .points
        .windows(2)
        .filter(|w| w[1].1 > w[0].1)
        .map(|w| w[1].0)
        .collect();
    if rises.is_empty() || median <= 0.0 {
        return None;
    }
    let after: Vec<f64> = p95
        .points
        .iter()
        .filter(|(t, _)| {
            let k = rises.partition_point(|r| r <= t);
            k > 0 && *t - rises[k - 1] <= window
        })
        .map(|p| p.1)
        .collect();
    let m = mean(&after)?;
    (m > COLD_START_FACTOR * median).then(|| Finding {
        kind: "cold-start latency",
        group: group.to_string(),
        evidence: format!(
            "mean p95 {m:.0} ms within {:.0} s of a scale-up vs {median:.0} ms median \
             (startup + warm-up {startup_and_warmup_seconds} s)",
            window
        ),
        fix: "sizing recommendation: a warm pool or a lower target so capacity is added before \
              it is needed; account for warm-up in the policy"
            .into(),
    })
}

pub fn triggers(i: &Inputs) -> Vec<Finding> {
    let mut out = Vec::new();
    for f in i.forecasts {
        let Ok(fc) = &f.result else { continue };
        if let Some(c) = fc.backtest.coverage_95.filter(|c| *c < MIN_COVERAGE_95) {
            out.push(Finding {
                kind: "forecast error left its band",
                group: f.group.clone(),
                evidence: format!(
                    "backtest 95% band covered {} of actuals over {} origins ({} horizon)",
                    pct(Some(c)),
                    fc.backtest.origins,
                    f.horizon
                ),
                fix: "re-fit the forecast and re-run tuning on the new demand".into(),
            });
        }
    }
    for row in &i.policies.rows {
        let Ok(r) = &row.replay else { continue };
        let o = &r.observed_figures;
        let slo = i
            .data
            .info(&row.group.name)
            .and_then(|g| g.slo.clone())
            .unwrap_or_default();
        let budget = 1.0 - slo.availability;
        if let Some(bad) = o.sla_violation_minutes {
            let share = bad / (o.hours * 60.0).max(1.0);
            if budget > 0.0 && share > budget {
                out.push(Finding {
                    kind: "SLA burn",
                    group: row.group.name.clone(),
                    evidence: format!(
                        "{bad:.0} SLA-violation minutes = {} of the time, {:.1}x the error \
                         budget {}",
                        pct(Some(share)),
                        share / budget,
                        pct(Some(budget))
                    ),
                    fix: "re-tune for the SLO: lower target or faster scale-up".into(),
                });
            }
        }
    }
    for g in i.data.group_names() {
        let Some((start, demand)) = i.data.demand(&g) else {
            continue;
        };
        let step = i.data.step_seconds;
        let week = (7 * 86_400 / step) as usize;
        if demand.len() < 2 * week {
            continue;
        }
        let cost = i
            .data
            .aligned(&g, MetricKind::CostUsdPerHour, start, demand.len());
        let per_request = |r: std::ops::Range<usize>| {
            let c: f64 = cost[r.clone()].iter().filter(|v| v.is_finite()).sum();
            let d: f64 = demand[r].iter().filter(|v| v.is_finite()).sum();
            (c > 0.0 && d > 0.0).then(|| c / d)
        };
        let n = demand.len();
        if let (Some(first), Some(last)) = (per_request(0..week), per_request(n - week..n)) {
            let drift = last / first - 1.0;
            if drift.abs() > COST_DRIFT {
                out.push(Finding {
                    kind: "cost per request drifting",
                    group: g.clone(),
                    evidence: format!(
                        "cost per request {} between the first and the last week",
                        pct(Some(drift))
                    ),
                    fix: "re-run the cost analysis and tuning".into(),
                });
            }
        }
        let before = demand[..n - week]
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .reduce(f64::max);
        let recent = demand[n - week..]
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .reduce(f64::max);
        if let (Some(b), Some(r)) = (before, recent) {
            if r > b * 1.05 {
                out.push(Finding {
                    kind: "new seasonal peak",
                    group: g.clone(),
                    evidence: format!(
                        "last week's peak {r:.0} req/s is {} above the earlier peak {b:.0}",
                        pct(Some(r / b - 1.0))
                    ),
                    fix: "re-evaluate max replicas and schedules for the new peak".into(),
                });
            }
        }
    }
    for a in i
        .analysis
        .series
        .iter()
        .filter(|a| a.metric == "request_rate")
    {
        let (Some(growth), Some(peak)) = (a.workload.growth_pct_per_month, a.workload.peak) else {
            continue;
        };
        let Some(cap) = i.data.info(&a.group).and_then(|g| g.capacity.clone()) else {
            continue;
        };
        let capacity = f64::from(cap.max_replicas) * cap.capacity_per_replica_rps;
        if growth <= 0.0 || peak <= 0.0 || capacity <= 0.0 {
            continue;
        }
        let months = (capacity / peak).ln() / (1.0 + growth / 100.0).ln();
        if months < HEADROOM_MONTHS {
            out.push(Finding {
                kind: "growth eating headroom",
                group: a.group.clone(),
                evidence: format!(
                    "peak {peak:.0} req/s growing {growth:.1}%/month reaches max capacity \
                     {capacity:.0} req/s in {} months",
                    num(Some(months.max(0.0)), 1)
                ),
                fix: "raise max replicas or plan capacity; re-tune before the crossing".into(),
            });
        }
    }
    out
}

pub fn section(i: &Inputs) -> Section {
    let mut s = Section::new(10, "Tuning");
    let pit = pitfalls(i);
    let trig = triggers(i);
    let groups = i.data.group_names().len();
    s.notes.push(format!(
        "Checked {groups} groups for thrashing, slow scale-up, premature scale-down, wrong \
         metric and cold-start latency: {} found.",
        pit.len()
    ));
    s.notes.push(format!(
        "Re-tune triggers (forecast error out of band, SLA burn, cost per request drift, new \
         seasonal peak, growth eating headroom): {} fired.",
        trig.len()
    ));
    for (title, rows, source) in [
        (
            "Pitfalls detected",
            pit,
            "detectors over the replay, load tests and workload analysis (sections 2, 4, 8)",
        ),
        (
            "Re-tune triggers fired",
            trig,
            "computed from the forecast backtest, observed SLA minutes, cost and demand series",
        ),
    ] {
        let mut t = Table::new(title, &["finding", "group", "evidence", "fix"], source);
        for f in rows {
            t.rows
                .push(vec![f.kind.to_string(), f.group, f.evidence, f.fix]);
        }
        s.tables.push(t);
    }
    match i.tune {
        Some(t) => tune_engine_tables(&mut s, t),
        None => s.missing(super::sections::tune_note(
            i,
            "the tuning engine's pitfall detectors and search",
        )),
    }
    s
}

/// The tuning engine's detectors on the busiest group, and its small search when it ran.
fn tune_engine_tables(s: &mut Section, t: &super::tune_engine::TuneFindings) {
    let source = format!("tuning engine pitfall detectors (`{}`)", t.command);
    match &t.pitfalls {
        Ok(p) => {
            let mut table = Table::new(
                format!("Tuning engine pitfalls of the current policy ({})", t.group),
                &["pitfall", "evidence"],
                source,
            );
            for x in p {
                table
                    .rows
                    .push(vec![x.title.to_string(), x.evidence.join("; ")]);
            }
            s.notes.push(format!(
                "Tuning engine detectors on the busiest group {}: {} pitfalls in the replay of \
                 its current policy.",
                t.group,
                p.len()
            ));
            s.tables.push(table);
        }
        Err(e) => s.missing(format!(
            "tuning engine pitfalls of {}: {e} (`{}`)",
            t.group, t.command
        )),
    }
    match &t.search {
        Some(Ok(o)) => {
            let mut table = Table::new(
                format!(
                    "Small tuning search on {} ({} candidates, {} replayed to the end)",
                    t.group, o.candidates, o.completed
                ),
                &[
                    "policy",
                    "settings",
                    "cost / month (held out)",
                    "SLA minutes (held out)",
                    "holds on held-out 30%",
                ],
                format!("tuning engine, `{} --search small`", t.command),
            );
            table.rows.push(vec![
                format!("current ({})", o.current.describe),
                "-".into(),
                format!("${:.2}", o.current.heldout.cost_usd_per_month),
                format!("{:.0}", o.current.heldout.sla_violation_minutes),
                if o.current.heldout.keeps_slo {
                    "keeps SLO"
                } else {
                    "misses SLO"
                }
                .into(),
            ]);
            if let Some(r) = &o.recommended {
                table.rows.push(vec![
                    format!("recommended ({})", r.kind.label()),
                    r.settings
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    format!("${:.2}", r.heldout.cost_usd_per_month),
                    format!("{:.0}", r.heldout.sla_violation_minutes),
                    if r.holds {
                        "yes".to_string()
                    } else {
                        format!("no: {}", r.heldout_problems.join("; "))
                    },
                ]);
            }
            s.notes
                .push(format!("Small tuning search on {}: {}", t.group, o.choice));
            s.tables.push(table);
            s.notes.push(format!(
                "The default search (thousands of candidates) and the other groups are not \
                 inlined; run `{}` per group.",
                t.command
            ));
        }
        Some(Err(e)) => s.missing(format!("small tuning search on {}: {e}", t.group)),
        None => s.notes.push(format!(
            "Not inlined: the tuning search (policy candidates replayed over the whole history, \
             70/30 held-out check) is too slow to run for every group in a report; run `{}` \
             (add `--search small` for a quicker, coarser answer) and repeat per group.",
            t.command
        )),
    }
}

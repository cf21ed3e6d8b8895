//! Sections 1-9 of the report (../shared/scenarios.md "What done looks like"), each built from
//! the engines that exist; where an engine is still being built, the section says so and what
//! it will need. No figure here is invented.

use crate::engine::analysis::report::AnalysisReport;
use crate::engine::forecast::{format_time, Forecast};
use crate::model::MetricKind;
use crate::tui::jobs::policies::PoliciesOutcome;

use super::data::ReportData;
use super::doc::{Availability, Chart, ChartSeries, Section, SeriesStyle, Table};
use super::fmt::{downsample, mean, minutes, num, pct, usd};
use super::monitoring::MonitoringFigures;
use super::runs::GroupRun;

/// Chart lines keep at most this many points.
const CHART_POINTS: usize = 600;

/// One forecast the report asked the forecast engine for.
#[derive(Debug)]
pub struct GroupForecast {
    pub group: String,
    pub horizon: &'static str,
    pub result: Result<Forecast, String>,
}

/// Everything the sections read, computed once.
pub struct Inputs<'a> {
    pub data: &'a ReportData,
    pub analysis: &'a AnalysisReport,
    pub forecasts: &'a [GroupForecast],
    pub runs: &'a [GroupRun],
    pub policies: &'a PoliciesOutcome,
    pub monitoring: &'a [MonitoringFigures],
    pub rules: &'a [crate::alerts::AlertRule],
    pub cost: &'a super::cost::CostInput,
    /// The tuning engine on the busiest group, when the source has policies to tune.
    pub tune: Option<&'a super::tune_engine::TuneFindings>,
}

const ANALYZE: &str = "workload analysis engine (`scaletop analyze --format json`)";

/// Groups by mean demand, busiest first.
pub fn busiest_groups(data: &ReportData) -> Vec<String> {
    let mut v: Vec<(String, f64)> = data
        .group_names()
        .into_iter()
        .filter_map(|g| {
            let s = data.series(&g, MetricKind::RequestRate)?;
            let vals: Vec<f64> = s.points.iter().map(|p| p.1).collect();
            Some((g, mean(&vals)?))
        })
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1));
    v.into_iter().map(|(g, _)| g).collect()
}

pub fn workload(i: &Inputs) -> Section {
    let mut s = Section::new(1, "Workload analysis");
    let mut t = Table::new(
        "Demand (request rate) per group",
        &[
            "group",
            "seasonality",
            "baseline",
            "peak",
            "peak/baseline",
            "weekend/weekday",
            "CV",
            "predictability",
            "growth %/month",
            "anomalies",
            "peak windows",
        ],
        ANALYZE,
    );
    for a in i
        .analysis
        .series
        .iter()
        .filter(|a| a.metric == "request_rate")
    {
        let w = &a.workload;
        let seasonality = if w.seasonality.is_empty() {
            "none".to_string()
        } else {
            w.seasonality
                .iter()
                .map(|p| format!("{} {:.2}", p.label, p.strength))
                .collect::<Vec<_>>()
                .join(", ")
        };
        t.rows.push(vec![
            a.group.clone(),
            seasonality,
            num(w.baseline, 2),
            num(w.peak, 2),
            num(w.peak_to_baseline, 2),
            num(w.weekend_to_weekday, 2),
            num(w.cv, 2),
            format!("{:.2}", w.predictability),
            num(w.growth_pct_per_month, 1),
            w.anomalies.len().to_string(),
            w.peak_windows
                .iter()
                .map(|p| p.label.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        ]);
        if let Some(n) = &w.note {
            s.notes.push(format!("{}: {n}", a.group));
        }
    }
    if t.rows.is_empty() {
        s.availability = Availability::NotAvailable;
        s.notes
            .push("No request_rate series in the data: the workload analysis needs demand.".into());
    }
    s.tables.push(t);
    let series: Vec<ChartSeries> = busiest_groups(i.data)
        .into_iter()
        .take(3)
        .filter_map(|g| {
            let d = i.data.series(&g, MetricKind::RequestRate)?;
            Some(ChartSeries {
                name: g,
                style: SeriesStyle::Line,
                points: downsample(&d.points, CHART_POINTS),
                hi: Vec::new(),
            })
        })
        .collect();
    if !series.is_empty() {
        s.charts.push(Chart {
            id: "demand".into(),
            title: "Demand of the busiest groups (req/s)".into(),
            y_label: "req/s".into(),
            x_is_time: true,
            categories: Vec::new(),
            series,
        });
    }
    s
}

pub fn utilization(i: &Inputs) -> Section {
    let mut s = Section::new(2, "Resource utilization");
    let mut t = Table::new(
        "Utilization, bottleneck and provisioning per group",
        &[
            "group",
            "cpu p50/p95/max %",
            "memory p95 %",
            "cpu >80% of time",
            "binding resource",
            "scales on",
            "verdict",
            "waste",
            "waste replica-h",
        ],
        ANALYZE,
    );
    for g in &i.analysis.groups {
        let prof = |m: &str| g.utilization.iter().find(|u| u.metric == m);
        let cpu = prof("cpu_utilization");
        let mem = prof("memory_utilization");
        t.rows.push(vec![
            g.group.clone(),
            cpu.map_or("-".into(), |u| {
                format!("{}/{}/{}", num(u.p50, 0), num(u.p95, 0), num(u.max, 0))
            }),
            num(mem.and_then(|u| u.p95), 0),
            cpu.map_or("-".into(), |u| num(u.time_above_80_pct, 1) + "%"),
            g.bottleneck
                .as_ref()
                .map_or("-".into(), |b| b.binding_metric.clone()),
            g.scaling_metric.as_ref().map_or("-".into(), |m| {
                format!(
                    "{}{}",
                    m.metric,
                    if g.wrong_scaling_metric {
                        " (WRONG)"
                    } else {
                        ""
                    }
                )
            }),
            g.provisioning
                .as_ref()
                .map_or("-".into(), |p| p.verdict.to_string()),
            pct(g.provisioning.as_ref().map(|p| p.waste_share)),
            num(g.provisioning.as_ref().map(|p| p.waste_replica_hours), 0),
        ]);
        for r in &g.rightsizing {
            s.notes.push(format!(
                "{}: size {} x{:.2} (x{:.2}..x{:.2}) — {}",
                g.group, r.metric, r.target_factor, r.lower_factor, r.upper_factor, r.basis
            ));
        }
    }
    for r in &i.analysis.recommendations {
        s.notes.push(format!("Recommendation: {}", r.title));
    }
    if t.rows.is_empty() {
        s.availability = Availability::NotAvailable;
        s.notes
            .push("No utilization series (cpu/memory, replicas) in the data.".into());
    }
    s.tables.push(t);
    // Fleet CPU utilization distribution: share of samples per 10% bin.
    let mut bins = [0usize; 11];
    let mut total = 0usize;
    for ser in i
        .data
        .series
        .iter()
        .filter(|x| x.metric == "cpu_utilization")
    {
        for &(_, v) in &ser.points {
            if v.is_finite() {
                bins[((v / 10.0).floor().max(0.0) as usize).min(10)] += 1;
                total += 1;
            }
        }
    }
    if total > 0 {
        s.charts.push(Chart {
            id: "utilization-distribution".into(),
            title: "CPU utilization distribution, all groups (% of samples per 10% bin)".into(),
            y_label: "% of samples".into(),
            x_is_time: false,
            categories: (0..11)
                .map(|b| {
                    if b == 10 {
                        "100+".to_string()
                    } else {
                        format!("{}", b * 10)
                    }
                })
                .collect(),
            series: vec![ChartSeries {
                name: "cpu".into(),
                style: SeriesStyle::Bars,
                points: bins
                    .iter()
                    .enumerate()
                    .map(|(b, c)| (b as f64, *c as f64 / total as f64 * 100.0))
                    .collect(),
                hi: Vec::new(),
            }],
        });
    }
    s
}

pub fn forecast(i: &Inputs) -> Section {
    let mut s = Section::new(3, "Demand forecast");
    let mut t = Table::new(
        "Forecast of request rate (backtest figures; 95% band)",
        &[
            "group",
            "horizon",
            "model",
            "accuracy (1-WAPE)",
            "MAPE",
            "MASE",
            "80% coverage",
            "95% coverage",
            "peak mean",
            "peak 95% upper",
            "runway (max capacity first exceeded)",
        ],
        "forecast engine (`scaletop forecast --horizon H --format json`)",
    );
    let mut failed = 0;
    // The same caveat for several horizons of a group is said once, naming the horizons.
    let mut caveats: Vec<((String, String), Vec<&str>)> = Vec::new();
    for f in i.forecasts {
        match &f.result {
            Ok(fc) => {
                let peak_mean = fc.points.iter().map(|p| p.mean).reduce(f64::max);
                let peak_hi = fc.points.iter().map(|p| p.hi95).reduce(f64::max);
                let runway = match &fc.runway {
                    None => "capacity unknown".to_string(),
                    Some(r) => r
                        .first_crossing
                        .map_or("not within horizon".to_string(), format_time),
                };
                t.rows.push(vec![
                    f.group.clone(),
                    f.horizon.to_string(),
                    fc.model.to_string(),
                    pct(fc.backtest.accuracy),
                    pct(fc.backtest.mape),
                    num(fc.backtest.mase, 3),
                    pct(fc.backtest.coverage_80),
                    pct(fc.backtest.coverage_95),
                    num(peak_mean, 1),
                    num(peak_hi, 1),
                    runway,
                ]);
                for n in &fc.notes {
                    let key = (f.group.clone(), n.clone());
                    match caveats.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, hs)) => hs.push(f.horizon),
                        None => caveats.push((key, vec![f.horizon])),
                    }
                }
            }
            Err(e) => {
                failed += 1;
                s.notes.push(format!(
                    "{} {}: no forecast — {e}. Longer horizons need more history: 90 days need \
                     about a year at hourly steps (`--duration 400d --step 1h`).",
                    f.group, f.horizon
                ));
            }
        }
    }
    for ((group, note), horizons) in caveats {
        s.notes
            .push(format!("{group} ({}): {note}", horizons.join(", ")));
    }
    if failed > 0 {
        s.availability = Availability::Partial;
    }
    if i.forecasts.is_empty() || failed == i.forecasts.len() {
        s.availability = Availability::NotAvailable;
    }
    s.tables.push(t);
    // The first successful forecast of the busiest group, after its last week of history.
    if let Some((f, fc)) = i
        .forecasts
        .iter()
        .find_map(|f| f.result.as_ref().ok().map(|fc| (f, fc)))
    {
        if let Some(d) = i.data.series(&f.group, MetricKind::RequestRate) {
            let end = d.points.last().map_or(0, |p| p.0);
            let recent: Vec<(i64, f64)> = d
                .points
                .iter()
                .copied()
                .filter(|p| p.0 > end - 7 * 86_400)
                .collect();
            let xy = |sel: fn(&crate::engine::forecast::ForecastPoint) -> f64| {
                fc.points
                    .iter()
                    .map(|p| (p.timestamp as f64, sel(p)))
                    .collect::<Vec<_>>()
            };
            s.charts.push(Chart {
                id: "forecast".into(),
                title: format!(
                    "{}: demand, forecast ({}) with 80% and 95% bands",
                    f.group, f.horizon
                ),
                y_label: "req/s".into(),
                x_is_time: true,
                categories: Vec::new(),
                series: vec![
                    ChartSeries {
                        name: "demand".into(),
                        style: SeriesStyle::Line,
                        points: downsample(&recent, CHART_POINTS),
                        hi: Vec::new(),
                    },
                    ChartSeries {
                        name: "forecast".into(),
                        style: SeriesStyle::Line,
                        points: xy(|p| p.mean),
                        hi: Vec::new(),
                    },
                    ChartSeries {
                        name: "95% band".into(),
                        style: SeriesStyle::Band,
                        points: xy(|p| p.lo95),
                        hi: fc.points.iter().map(|p| p.hi95).collect(),
                    },
                    ChartSeries {
                        name: "80% band".into(),
                        style: SeriesStyle::Band,
                        points: xy(|p| p.lo80),
                        hi: fc.points.iter().map(|p| p.hi80).collect(),
                    },
                ],
            });
        }
    }
    s
}

pub fn policies(i: &Inputs) -> Section {
    let mut s = Section::new(4, "Scaling policy");
    let mut t = Table::new(
        "Current policy replayed over the history, beside what happened",
        &[
            "group",
            "policy",
            "provenance",
            "scale-ups (observed/replayed)",
            "scale-downs",
            "thrash pairs",
            "SLA-violation min",
            "peak replicas / max",
            "cost (observed)",
        ],
        "policy replay engine (src/engine/replay.rs; Policies tab)",
    );
    let mut unknown = 0;
    for row in &i.policies.rows {
        match &row.replay {
            Ok(r) => {
                let (o, p) = (&r.observed_figures, &r.replayed_figures);
                t.rows.push(vec![
                    row.group.name.clone(),
                    row.policy.clone(),
                    row.provenance.unwrap_or("-").to_string(),
                    format!("{}/{}", o.scale_up_events, p.scale_up_events),
                    format!("{}/{}", o.scale_down_events, p.scale_down_events),
                    format!("{}/{}", o.thrash_pairs, p.thrash_pairs),
                    format!(
                        "{}/{}",
                        num(o.sla_violation_minutes, 0),
                        num(p.sla_violation_minutes, 0)
                    ),
                    format!("{} / {}", num(o.peak_replicas, 0), r.max_replicas),
                    usd(o.cost_usd),
                ]);
            }
            Err(e) => {
                unknown += 1;
                t.rows.push(vec![
                    row.group.name.clone(),
                    row.policy.clone(),
                    row.provenance.unwrap_or("-").to_string(),
                    format!("not replayed: {e}"),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                ]);
            }
        }
    }
    if unknown > 0 {
        s.notes.push(format!(
            "{unknown} groups could not be replayed (reason in the table)."
        ));
    }
    s.missing(tune_note(
        i,
        "recommended policies per group (metrics, thresholds, cooldowns, step vs target \
         tracking, predictive; section 10 has the busiest group's pitfalls)",
    ));
    if i.policies.rows.is_empty() {
        s.availability = Availability::NotAvailable;
    }
    s.tables.push(t);
    if let Some(row) = busiest_groups(i.data).first().and_then(|g| {
        i.policies
            .rows
            .iter()
            .find(|r| &r.group.name == g && r.replay.is_ok())
    }) {
        if let Ok(r) = &row.replay {
            let line = |v: &[f64]| -> Vec<(i64, f64)> {
                v.iter()
                    .enumerate()
                    .map(|(k, x)| (r.start + k as i64 * r.step_seconds, *x))
                    .collect()
            };
            s.charts.push(Chart {
                id: "replicas".into(),
                title: format!(
                    "{}: replicas observed vs current policy replayed (max {})",
                    row.group.name, r.max_replicas
                ),
                y_label: "replicas".into(),
                x_is_time: true,
                categories: Vec::new(),
                series: vec![
                    ChartSeries {
                        name: "observed".into(),
                        style: SeriesStyle::Line,
                        points: downsample(&line(&r.observed), CHART_POINTS),
                        hi: Vec::new(),
                    },
                    ChartSeries {
                        name: "replayed".into(),
                        style: SeriesStyle::Line,
                        points: downsample(&line(&r.replayed), CHART_POINTS),
                        hi: Vec::new(),
                    },
                ],
            });
        }
    }
    s
}

pub fn instance_types(i: &Inputs) -> Section {
    let mut s = Section::new(5, "Instance types");
    let mut t = Table::new(
        "Current instance types",
        &["group", "instance type", "labels", "price per replica-hour"],
        "group descriptions (scenario or platform source)",
    );
    for g in &i.data.groups {
        t.rows.push(vec![
            g.id.name.clone(),
            g.instance_type.clone().unwrap_or_else(|| "-".into()),
            g.labels
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", "),
            g.capacity
                .as_ref()
                .map_or("-".into(), |c| usd(c.usd_per_replica_hour)),
        ]);
    }
    let have = !t.rows.is_empty();
    s.tables.push(t);
    let advice = super::cost::instance_tables(i.cost);
    if advice.is_empty() {
        s.missing(format!(
            "compute/memory/network-optimized, ARM vs x86, spot suitability, reserved instances \
             and savings plans: {}",
            i.cost.why_not()
        ));
    }
    let have = have || !advice.is_empty();
    s.tables.extend(advice);
    if !have {
        s.availability = Availability::NotAvailable;
        s.notes
            .push("The input names no instance types (a metrics file carries none).".into());
    }
    s
}

pub fn cost(i: &Inputs) -> Section {
    let mut s = Section::new(6, "Cost");
    let mut t = Table::new(
        "Measured cost per group (cost_usd_per_hour series)",
        &[
            "group",
            "team",
            "mean $/hour",
            "monthly (730 h)",
            "cost per 1M requests",
        ],
        "measured from the data's cost series; the same figures as section 9",
    );
    let mut by_team: std::collections::BTreeMap<String, f64> = Default::default();
    let mut bars = Vec::new();
    for m in i.monitoring {
        let Some(c) = i.data.series(&m.group, MetricKind::CostUsdPerHour) else {
            continue;
        };
        let vals: Vec<f64> = c.points.iter().map(|p| p.1).collect();
        let Some(per_hour) = mean(&vals) else {
            continue;
        };
        let team = i
            .data
            .info(&m.group)
            .and_then(|g| g.labels.get("team").cloned())
            .unwrap_or_else(|| "-".into());
        *by_team.entry(team.clone()).or_default() += per_hour * 730.0;
        bars.push((m.group.clone(), per_hour * 730.0));
        t.rows.push(vec![
            m.group.clone(),
            team,
            usd(per_hour),
            usd(per_hour * 730.0),
            m.cost_per_million_requests_usd.map_or("-".into(), usd),
        ]);
    }
    let (cost_notes, cost_tables) = super::cost::cost_tables(i.cost);
    if t.rows.is_empty() {
        s.notes.push(
            "No cost_usd_per_hour series in the data: the figures below are the cost engine's, \
             pricing the replicas from the catalog."
                .into(),
        );
    } else {
        let total: f64 = by_team.values().sum();
        s.notes
            .push(format!("Fleet cost now: {} per month.", usd(total)));
        let mut tt = Table::new(
            "Allocation by team label",
            &["team", "monthly", "share"],
            "measured cost series, grouped by the `team` label",
        );
        for (team, v) in &by_team {
            tt.rows.push(vec![
                team.clone(),
                usd(*v),
                pct((total > 0.0).then(|| v / total)),
            ]);
        }
        s.tables.push(t);
        s.tables.push(tt);
        bars.sort_by(|a, b| b.1.total_cmp(&a.1));
        bars.truncate(10);
        s.charts.push(Chart {
            id: "cost-breakdown".into(),
            title: "Monthly cost by group (largest 10)".into(),
            y_label: "USD / month".into(),
            x_is_time: false,
            categories: bars.iter().map(|b| b.0.clone()).collect(),
            series: vec![ChartSeries {
                name: "monthly cost".into(),
                style: SeriesStyle::Bars,
                points: bars
                    .iter()
                    .enumerate()
                    .map(|(k, b)| (k as f64, b.1))
                    .collect(),
                hi: Vec::new(),
            }],
        });
    }
    if cost_tables.is_empty() {
        s.missing(format!(
            "projected cost with the changes and savings in $ and %: {}",
            i.cost.why_not()
        ));
        if s.tables.is_empty() {
            s.availability = Availability::NotAvailable;
        }
    }
    s.notes.extend(cost_notes);
    s.tables.extend(cost_tables);
    s.missing(tune_note(
        i,
        "the Pareto front of cost vs SLA of re-tuned scaling policies",
    ));
    s
}

/// Where the tuning search's figures are: the command for the busiest group, and why the
/// report does not run it (a full search replays thousands of candidates per group).
pub fn tune_note(i: &Inputs, what: &str) -> String {
    match i.tune.map(|t| t.command.as_str()) {
        Some(cmd) => format!(
            "{what} is not inlined: the tuning search replays thousands of candidate policies \
             per group over the whole history, too slow for a report over every group; run \
             `{cmd}` (add `--search small` for a quicker, coarser answer)"
        ),
        None => format!(
            "{what}: the tuning search needs the group's current policy and capacity model \
             (`scaletop tune --input FILE --policy P --capacity-per-replica N`)"
        ),
    }
}

pub fn implementation(i: &Inputs) -> Section {
    let mut s = Section::new(7, "Implementation");
    let mut t = Table::new(
        "Alert rules (exported with `scaletop alerts rules`, the same rules the Alerts tab evaluates)",
        &["alert", "severity", "for", "condition (PromQL)"],
        "alert rule model (src/alerts), config [alerts]",
    );
    for r in i.rules {
        let expr = crate::alerts::promql::expr(r)
            .map(|(e, _)| e)
            .unwrap_or_else(|why| format!("in-app only: {why}"));
        t.rows.push(vec![
            r.name.clone(),
            r.severity.as_str().to_string(),
            crate::alerts::promql::promql_duration(r.for_seconds),
            expr,
        ]);
    }
    s.tables.push(t);
    match super::cost::emit_table(i.cost) {
        Some(t) => {
            if t.rows.is_empty() {
                s.notes.push(
                    "The cost engine made no recommendation, so there is no config to emit.".into(),
                );
            } else {
                s.notes.push(
                    "Each file set comes with a rollout note (shadow, canary, apply, watch, \
                     rollback); `scaletop emit --from FILE --target T --dry-run` shows the diff \
                     against what is already there."
                        .into(),
                );
            }
            s.tables.push(t);
        }
        None => s.missing(format!(
            "platform configs for the recommendations: {}",
            i.cost.why_not()
        )),
    }
    s.missing(tune_note(i, "configs for re-tuned scaling policies"));
    s
}

pub fn testing(i: &Inputs) -> Section {
    let mut s = Section::new(8, "Testing");
    let mut t = Table::new(
        "Load, spike and scale-down tests of the current policy (replayed)",
        &[
            "group",
            "test",
            "base req/s",
            "verdict",
            "worst time to scale",
            "checks",
        ],
        "load-test engine (src/engine/loadtest.rs, as `scaletop simulate --test`)",
    );
    for run in i.runs {
        for lt in &run.load_tests {
            let test = match lt.test {
                crate::engine::loadtest::LoadTest::Ramp => "ramp to 10x".to_string(),
                crate::engine::loadtest::LoadTest::Spike => {
                    format!("spike to {}x", lt.spike_factor)
                }
                crate::engine::loadtest::LoadTest::ScaleDown => "scale-down from 10x".to_string(),
            };
            let (verdict, checks) = match &lt.result {
                Ok(v) => (
                    if v.passed { "PASS" } else { "FAIL" }.to_string(),
                    v.checks
                        .iter()
                        .map(|c| {
                            format!(
                                "{} {}: {}",
                                if c.passed { "ok" } else { "FAILED" },
                                c.name,
                                c.detail
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                Err(e) => ("not run".to_string(), e.clone()),
            };
            t.rows.push(vec![
                run.group.clone(),
                test,
                format!("{:.1}", lt.base_rps),
                verdict,
                minutes(lt.max_time_to_scale_seconds),
                checks,
            ]);
        }
    }
    if t.rows.is_empty() {
        s.availability = Availability::NotAvailable;
        s.notes.push(
            "No load test could run: each needs the group's policy and capacity model (a \
             scenario, or `scaletop simulate --test ... --policy FILE`)."
                .into(),
        );
    }
    s.tables.push(t);
    s
}

pub fn monitoring(i: &Inputs) -> Section {
    let mut s = Section::new(9, "Monitoring");
    let mut t = Table::new(
        "Scaling, performance during scaling and cost, per group",
        &[
            "group",
            "scaling events/day",
            "scaling efficiency",
            "false-positive scale-ups",
            "time to scale up mean/max (replayed)",
            "p95 / p99 during scaling ms",
            "error rate during scaling",
            "SLA compliance at peak",
            "cost per 1M requests",
        ],
        "measured from the data and its scaling events; time to scale from the replay",
    );
    for m in i.monitoring {
        t.rows.push(vec![
            m.group.clone(),
            format!("{:.1}", m.scaling_events_per_day),
            pct(m.scaling_efficiency),
            m.false_positive_scale_ups.to_string(),
            format!(
                "{} / {}",
                minutes(m.mean_time_to_scale_up_seconds.map(|v| v as i64)),
                minutes(m.max_time_to_scale_up_seconds)
            ),
            format!(
                "{} / {}",
                num(m.p95_during_scaling_ms, 0),
                num(m.p99_during_scaling_ms, 0)
            ),
            pct(m.error_rate_during_scaling),
            pct(m.sla_compliance_at_peak),
            m.cost_per_million_requests_usd.map_or("-".into(), usd),
        ]);
    }
    s.tables.push(t);
    s.notes.push(format!(
        "{} alert rules are configured (section 7); the Alerts tab evaluates them live.",
        i.rules.len()
    ));
    match i.cost.ok() {
        Some(k) => {
            let mut t = Table::new(
                "Cost: savings against the current baseline, commitments and spot",
                &["figure", "value"],
                i.cost.source(),
            );
            let tot = &k.report.totals;
            t.rows.push(vec![
                "saving vs baseline / month".into(),
                format!(
                    "{} ({:.1}%)",
                    usd(tot.saving.saving_usd_month),
                    tot.saving.saving_pct
                ),
            ]);
            t.rows.push(vec![
                "cost per 1M requests now / projected".into(),
                format!(
                    "{} / {}",
                    tot.usd_per_million_requests_now.map_or("-".into(), usd),
                    tot.usd_per_million_requests_projected
                        .map_or("-".into(), usd)
                ),
            ]);
            for r in &k.report.inventory {
                t.rows.push(vec![
                    format!(
                        "{} {} utilization now / projected",
                        r.commitment.kind,
                        r.commitment.instance_type.as_deref().unwrap_or("")
                    ),
                    format!(
                        "{} / {}",
                        pct(r.utilization_now),
                        pct(r.utilization_projected)
                    ),
                ]);
            }
            for p in &k.report.plans {
                if let Some(sp) = p.spot.as_ref().filter(|sp| sp.suitable) {
                    t.rows.push(vec![
                        format!("{} expected spot interruptions / month", p.group),
                        format!("{:.1}", sp.expected_interruptions_per_month),
                    ]);
                }
            }
            s.tables.push(t);
        }
        None => s.missing(format!(
            "reserved-capacity utilization, spot interruption rate and savings against the \
             baseline: {}",
            i.cost.why_not()
        )),
    }
    s
}

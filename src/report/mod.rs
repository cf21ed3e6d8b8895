//! `scaletop report`: the ten sections of the optimization report with figures from the
//! engines, the success criteria, pitfalls and re-tune triggers, as Markdown or one
//! self-contained HTML file with inline SVG charts.

pub mod cost;
pub mod criteria;
pub mod data;
pub mod doc;
pub mod fmt;
pub mod html;
pub mod markdown;
pub mod monitoring;
pub mod runs;
pub mod sections;
pub mod svg;
pub mod tune_engine;
pub mod tuning;

use std::collections::BTreeMap;

use crate::alerts::AlertRule;
use crate::engine::analysis::report::{analyze_all_with, default_threads};
use crate::engine::forecast::{forecast_series, ForecastRequest};
use crate::model::MetricKind;
use crate::tui::jobs::policies;

use data::ReportData;
use doc::{Report, REPORT_SCHEMA};
use sections::{GroupForecast, Inputs};

/// Forecast horizons of section 3.
pub const HORIZONS: [(&str, i64); 4] = [
    ("7d", 7 * 86_400),
    ("30d", 30 * 86_400),
    ("60d", 60 * 86_400),
    ("90d", 90 * 86_400),
];
/// Groups forecast (busiest first); forecasting every group of a large fleet at four horizons
/// would dominate the run time.
pub const FORECAST_GROUPS: usize = 3;

/// The forecast of one group's request rate, exactly as `scaletop forecast --input FILE
/// --group G --metric request_rate --horizon H` computes it (native step, auto model).
pub fn forecast_group(
    data: &ReportData,
    group: &str,
    horizon_seconds: i64,
) -> Result<crate::engine::forecast::Forecast, String> {
    let s = data
        .series(group, MetricKind::RequestRate)
        .ok_or("no request_rate series")?;
    let step = s
        .step_seconds()
        .ok_or("fewer than two distinct timestamps")?;
    let (start, values) = s.regular(step);
    let capacity = data.info(group).and_then(|g| g.capacity.clone());
    let req = ForecastRequest {
        horizon_seconds,
        model: None,
        capacity: capacity
            .as_ref()
            .map(|c| f64::from(c.max_replicas) * c.capacity_per_replica_rps),
        per_replica: capacity.as_ref().map(|c| c.capacity_per_replica_rps),
        events: Vec::new(),
    };
    forecast_series(start, step, &values, &req).map_err(|e| e.to_string())
}

/// Whether the report runs the tuning engine's small search on the busiest group (see
/// `tune_engine`). Off: `scaletop tune --search small` on ecommerce's busiest group (14d at
/// 5m) took 13.6 s in a debug build on the 2-core CI machine, not the few seconds a report
/// section may add; the section names the command instead.
pub const INLINE_SMALL_SEARCH: bool = false;

/// Builds the whole report. `generated_at` is passed in (the engine reads no clock); the cost
/// run is the caller's (`scaletop cost` for the same history), so its figures match that command.
pub fn build(
    data: &ReportData,
    rules: &[AlertRule],
    cost: &cost::CostInput,
    scenario: Option<&tune_engine::ScenarioRun>,
    generated_at: &str,
) -> Result<Report, String> {
    let tune = scenario.and_then(|run| {
        let busiest = sections::busiest_groups(data).into_iter().next()?;
        Some(tune_engine::findings(run, &busiest, INLINE_SMALL_SEARCH))
    });
    let inputs =
        crate::commands::analyze::to_inputs(&data.series, &data.label).map_err(|e| e.message)?;
    let analysis = analyze_all_with(&inputs, default_threads(), &BTreeMap::new());
    let mut forecasts = Vec::new();
    for g in sections::busiest_groups(data)
        .into_iter()
        .take(FORECAST_GROUPS)
    {
        for (label, seconds) in HORIZONS {
            forecasts.push(GroupForecast {
                group: g.clone(),
                horizon: label,
                result: forecast_group(data, &g, seconds),
            });
        }
    }
    let runs = runs::run_all(data);
    let policies = policies::run(policies::job(&data.store));
    let monitoring: Vec<_> = runs
        .iter()
        .map(|r| {
            monitoring::figures(&monitoring::MonitoringInputs::from_report(
                data,
                &r.group,
                Some(r),
            ))
        })
        .collect();
    let i = Inputs {
        data,
        analysis: &analysis,
        forecasts: &forecasts,
        runs: &runs,
        policies: &policies,
        monitoring: &monitoring,
        rules,
        cost,
        tune: tune.as_ref(),
    };
    let sections = vec![
        sections::workload(&i),
        sections::utilization(&i),
        sections::forecast(&i),
        sections::policies(&i),
        sections::instance_types(&i),
        sections::cost(&i),
        sections::implementation(&i),
        sections::testing(&i),
        sections::monitoring(&i),
        tuning::section(&i),
    ];
    Ok(Report {
        schema: REPORT_SCHEMA,
        title: "scaletop optimization report".into(),
        source: data.label.clone(),
        generated_at: generated_at.to_string(),
        sections,
        criteria: criteria::criteria(&i),
        cost: cost::totals(cost),
    })
}

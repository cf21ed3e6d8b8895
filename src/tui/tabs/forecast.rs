//! Forecast of the selected group's demand (issue 5): the history and the forecast on one
//! chart with the 80% and 95% bands, actuals that arrived since the forecast was made (those
//! that left the 95% band marked), the backtest accuracy and coverage, the next peak and the
//! capacity runway. The fit runs off the UI thread (`jobs::forecast`); this draws its latest
//! result and reads only the newest actuals from the store.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::engine::forecast::Forecast;
use crate::model::MetricKind;
use crate::store::Store;
use crate::tui::app::App;
use crate::tui::chart::{self, bucket_max, bucket_means, ChartSeries, MAX_POINTS};
use crate::tui::jobs::forecast::{ForecastOutcome, REFIT_EVERY_SECONDS};
use crate::tui::jobs::{history_until, workload::resample};
use crate::tui::tabs::workload::fmt_span;
use crate::tui::theme::Theme;
use crate::tui::widgets::{fmt_compact, fmt_opt, fmt_time};

const FIGURES_WIDTH: u16 = 50;
/// History shown before the forecast, in horizons.
const HISTORY_HORIZONS: usize = 3;
/// The capacity line is drawn when it is this close to the forecast peak (else it would
/// flatten everything else).
const CAPACITY_LINE_WITHIN: f64 = 1.5;

pub fn render(app: &App, store: &Store, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let block = |title: &str| {
        Block::default()
            .borders(Borders::ALL)
            .title(Span::styled(title.to_string(), theme.title()))
    };
    let Some(group) = app.selected.as_ref() else {
        let message = if store.groups().is_empty() {
            "waiting for data…"
        } else {
            "no group selected — pick one on Overview (j/k)"
        };
        frame.render_widget(
            Paragraph::new(message)
                .style(theme.dim())
                .centered()
                .block(block(" Forecast ")),
            area,
        );
        return;
    };
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let current = app.forecast.result.as_ref().filter(|o| &o.group == group);
    let header = crate::tui::widgets::JobHeader {
        group,
        done: current.map(|o| ("forecast", o.data_end)),
        busy: app.forecast.in_flight.then_some("fitting…"),
        cadence: format!("refitted every {} of data", fmt_span(REFIT_EVERY_SECONDS)),
    };
    frame.render_widget(Paragraph::new(header.line(theme)), head);
    let Some(outcome) = current else {
        frame.render_widget(
            Paragraph::new("fitting…")
                .style(theme.dim())
                .centered()
                .block(block(" Forecast ")),
            body,
        );
        return;
    };
    match &outcome.result {
        Err(e) => {
            let text = vec![
                Line::from(Span::styled(format!("No forecast: {e}."), theme.warn())),
                Line::from(""),
                Line::from(Span::styled(
                    "The forecast is refitted as data arrives; a daily pattern needs two days of history (ui.history).",
                    theme.dim(),
                )),
            ];
            frame.render_widget(
                Paragraph::new(text)
                    .centered()
                    .wrap(Wrap { trim: true })
                    .block(block(" Forecast ")),
                body,
            );
        }
        Ok(fc) => {
            let actuals = actuals_since(store, outcome, fc);
            let [chart_area, figures] =
                Layout::horizontal([Constraint::Min(40), Constraint::Length(FIGURES_WIDTH)])
                    .areas(body);
            render_chart(theme, outcome, fc, &actuals, frame, chart_area);
            frame.render_widget(
                Paragraph::new(figure_lines(theme, outcome, fc, &actuals))
                    .wrap(Wrap { trim: false })
                    .block(block(" Forecast ")),
                figures,
            );
        }
    }
}

/// The actuals (1-minute means) that arrived after the forecast was made, one per forecast
/// point (None where not yet seen).
fn actuals_since(store: &Store, o: &ForecastOutcome, fc: &Forecast) -> Vec<Option<f64>> {
    let mut out = vec![None; fc.points.len()];
    let (Some(g), Some(now)) = (store.group_index(&o.group), store.now()) else {
        return out;
    };
    let (Some(first), Some(last)) = (fc.points.first(), fc.points.last()) else {
        return out;
    };
    let end = now.timestamp().min(last.timestamp + fc.step_seconds);
    let step = store.step_seconds().max(1);
    let slots = usize::try_from((end - first.timestamp) / step + 1).unwrap_or(0);
    if slots == 0 {
        return out;
    }
    let (start, raw) = history_until(store, g, MetricKind::RequestRate, end, slots);
    let (start, means) = resample(start, step, &raw, fc.step_seconds);
    for (i, v) in means.iter().enumerate() {
        let t = start + i as i64 * fc.step_seconds;
        let k = (t - first.timestamp).div_euclid(fc.step_seconds);
        if let Some(slot) = usize::try_from(k).ok().and_then(|k| out.get_mut(k)) {
            *slot = v.is_finite().then_some(*v);
        }
    }
    out
}

fn render_chart(
    theme: &Theme,
    o: &ForecastOutcome,
    fc: &Forecast,
    actuals: &[Option<f64>],
    frame: &mut Frame,
    area: Rect,
) {
    let h = fc.points.len();
    // History on the forecast's step (the long-horizon forecasts aggregate).
    let (_, history) = resample(o.start, o.step_seconds, &o.history, fc.step_seconds);
    let shown = history.len().min(HISTORY_HORIZONS * h.max(1));
    let past = &history[history.len() - shown..];
    let n = shown + h;
    let buckets = n.clamp(1, MAX_POINTS);
    let pad = |future: Vec<Option<f64>>| -> Vec<Option<f64>> {
        let mut v = vec![None; shown];
        v.extend(future);
        v
    };
    let col = |f: fn(&crate::engine::forecast::ForecastPoint) -> f64| {
        pad(fc.points.iter().map(|p| Some(f(p))).collect())
    };
    let mut observed: Vec<Option<f64>> = past.iter().map(|v| v.is_finite().then_some(*v)).collect();
    observed.extend(actuals.iter().copied());
    let outside: Vec<Option<f64>> = pad(fc
        .points
        .iter()
        .zip(actuals)
        .map(|(p, a)| a.filter(|a| *a < p.lo95 || *a > p.hi95))
        .collect());
    let missed = outside.iter().flatten().count();
    let band95 = theme.dim();
    let band80 = theme.series(3);
    let mut series = vec![
        // The 80% band shaded over the 95% band; the lines go on top of both.
        ChartSeries::band(
            band95,
            bucket_means(&col(|p| p.lo95), buckets),
            bucket_means(&col(|p| p.hi95), buckets),
        ),
        ChartSeries::band(
            band80,
            bucket_means(&col(|p| p.lo80), buckets),
            bucket_means(&col(|p| p.hi80), buckets),
        ),
        ChartSeries::line(theme.series(1), bucket_means(&col(|p| p.mean), buckets)),
        ChartSeries::line(theme.series(0), bucket_means(&observed, buckets)),
        ChartSeries::marks(theme.alert(), bucket_max(&outside, buckets)),
    ];
    let mut title = vec![
        Span::styled(
            format!(
                " {} (backtest accuracy {}) — ",
                fc.model,
                fc.backtest
                    .accuracy
                    .map_or("—".to_string(), |v| format!("{:.1}%", v * 100.0))
            ),
            theme.title(),
        ),
        Span::styled("observed", theme.series(0)),
        Span::raw(", "),
        Span::styled("forecast", theme.series(1)),
        Span::raw(", "),
        Span::styled("80%", band80),
        Span::raw(" / "),
        Span::styled("95% band", band95),
        Span::raw(", "),
        Span::styled(format!("• outside 95% ({missed})"), theme.alert()),
    ];
    let peak = fc.points.iter().map(|p| p.hi95).fold(0.0, f64::max);
    if let Some(r) = fc
        .runway
        .as_ref()
        .filter(|r| r.capacity <= CAPACITY_LINE_WITHIN * peak)
    {
        series.push(ChartSeries::line(
            theme.warn(),
            vec![Some(r.capacity); buckets],
        ));
        title.push(Span::raw(", "));
        title.push(Span::styled("max capacity", theme.warn()));
    }
    title.push(Span::raw(" "));
    let span = shown as i64 * fc.step_seconds;
    let x_labels = vec![
        Span::styled(format!("-{}", fmt_span(span)), theme.dim()),
        Span::styled(
            fmt_time(o.data_end)
                .get(11..16)
                .unwrap_or("now")
                .to_string(),
            theme.dim(),
        ),
        Span::styled(
            format!("+{}", fmt_span(h as i64 * fc.step_seconds)),
            theme.dim(),
        ),
    ];
    chart::render(
        frame,
        area,
        theme,
        Line::from(title),
        series,
        x_labels,
        Some(0.0),
    );
}

fn figure_lines(
    theme: &Theme,
    o: &ForecastOutcome,
    fc: &Forecast,
    actuals: &[Option<f64>],
) -> Vec<Line<'static>> {
    let head = |t: &str| Line::from(Span::styled(t.to_string(), theme.table_header()));
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("  {k:<11}"), theme.dim()),
            Span::raw(v),
        ])
    };
    let pct = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{:.1}%", v * 100.0));
    let b = &fc.backtest;
    let horizon = fc.points.len() as i64 * fc.step_seconds;
    let mut out = vec![head("Model")];
    out.push(kv("chosen", fc.model.to_string()));
    if !fc.ensemble_weights.is_empty() {
        let w: Vec<String> = fc
            .ensemble_weights
            .iter()
            .map(|m| format!("{} {:.2}", short_name(m.model), m.weight))
            .collect();
        out.push(kv("weights", w.join(" · ")));
    }
    out.push(kv(
        "horizon",
        format!(
            "{} at {} steps",
            fmt_span(horizon),
            fmt_span(fc.step_seconds)
        ),
    ));
    out.push(head(&format!("Backtest ({} origins)", b.origins)));
    out.push(kv(
        "accuracy",
        format!("{} · MASE {}", pct(b.accuracy), fmt_opt(b.mase, 2)),
    ));
    out.push(kv("MAPE", pct(b.mape)));
    out.push(kv(
        "coverage",
        format!("80%→{} · 95%→{}", pct(b.coverage_80), pct(b.coverage_95)),
    ));
    let (inside, seen) = fc
        .points
        .iter()
        .zip(actuals)
        .filter_map(|(p, a)| a.map(|a| (p, a)))
        .fold((0usize, 0usize), |(i, n), (p, a)| {
            (i + usize::from(a >= p.lo95 && a <= p.hi95), n + 1)
        });
    out.push(kv(
        "band held",
        if seen == 0 {
            "no actuals since the fit yet".into()
        } else {
            format!("{inside} of {seen} actuals inside 95% since the fit")
        },
    ));
    out.push(head("Next peak"));
    if let Some(p) = fc.points.iter().max_by(|a, b| a.mean.total_cmp(&b.mean)) {
        out.push(kv(
            "peak",
            format!(
                "{} req/s at {} UTC",
                fmt_compact(Some(p.mean)),
                fmt_time(p.timestamp).get(5..16).unwrap_or("")
            ),
        ));
        out.push(kv(
            "95% upper",
            format!("{} req/s", fmt_compact(Some(p.hi95))),
        ));
    }
    out.push(head("Runway"));
    match (&fc.runway, &o.capacity_label) {
        (Some(r), label) => {
            out.push(kv(
                "max serves",
                format!("{} req/s", fmt_compact(Some(r.capacity))),
            ));
            if let Some(l) = label {
                out.push(Line::from(Span::styled(format!("  ({l})"), theme.dim())));
            }
            match r.first_crossing {
                Some(t) => {
                    out.push(Line::from(Span::styled(
                        format!(
                            "  reaches max in {} ({} UTC)",
                            fmt_span(t - o.data_end),
                            fmt_time(t).get(5..16).unwrap_or("")
                        ),
                        theme.alert(),
                    )));
                    if let Some(k) = r.replicas_needed {
                        out.push(kv("peak needs", format!("{k} replicas")));
                    }
                }
                None => out.push(Line::from(Span::styled(
                    format!(
                        "  stays under max for the next {} ({:.0}% headroom at the peak)",
                        fmt_span(horizon),
                        r.headroom_pct
                    ),
                    theme.good(),
                ))),
            }
        }
        (None, _) => out.push(Line::from(Span::styled(
            "  capacity unknown for this group",
            theme.dim(),
        ))),
    }
    if !fc.notes.is_empty() {
        out.push(head("Notes"));
        for n in &fc.notes {
            out.push(Line::from(Span::styled(format!("  {n}"), theme.warn())));
        }
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled(
        // No fit time here: it changes run to run (the log has it).
        format!(
            "  {} points fitted, {} anomalous masked",
            fc.history_points, fc.anomalies_masked
        ),
        theme.dim(),
    )));
    out
}

fn short_name(model: &str) -> &str {
    match model {
        "seasonal_naive_daily" => "snaive-d",
        "seasonal_naive_weekly" => "snaive-w",
        "holt_winters" => "hw",
        "mstl_ets" => "mstl",
        other => other,
    }
}

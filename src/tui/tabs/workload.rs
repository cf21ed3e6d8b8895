//! Workload of the selected group (issue 4): its request rate with the decomposition (trend,
//! trend + seasonal) and anomalies marked, the seasonal components, and the analysis figures.
//! The analysis runs off the UI thread (`jobs::workload`); this only draws its latest result.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::duration::format_duration;
use crate::engine::analysis::workload::period_label;
use crate::store::Store;
use crate::tui::app::App;
use crate::tui::chart::{self, bucket_max, bucket_means, present, ChartSeries, MAX_POINTS};
use crate::tui::jobs::workload::{WorkloadOutcome, WorkloadResult};
use crate::tui::theme::Theme;
use crate::tui::widgets::{fmt_compact, fmt_opt, fmt_time};

const FIGURES_WIDTH: u16 = 58;
/// Anomalies listed at most (the chart marks all).
const MAX_ANOMALIES_LISTED: usize = 8;
/// Growth per month is shown from this much history on.
const MIN_GROWTH_HISTORY_SECONDS: i64 = 2 * 86_400;

pub fn render(app: &App, store: &Store, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let block = |title: String| {
        Block::default()
            .borders(Borders::ALL)
            .title(Span::styled(title, theme.title()))
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
                .block(block(" Workload ".into())),
            area,
        );
        return;
    };
    let [head, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let current = app.workload.result.as_ref().filter(|o| &o.group == group);
    let header = crate::tui::widgets::JobHeader {
        group,
        done: current.map(|o| ("analysed", o.data_end)),
        busy: app.workload.in_flight.then_some("analysing…"),
        cadence: format!(
            "recomputed every {} s of data",
            crate::tui::jobs::RECOMPUTE_EVERY_SECONDS
        ),
    };
    frame.render_widget(Paragraph::new(header.line(theme)), head);

    let Some(outcome) = current else {
        frame.render_widget(
            Paragraph::new("analysing…")
                .style(theme.dim())
                .centered()
                .block(block(" Workload ".into())),
            body,
        );
        return;
    };
    match &outcome.result {
        Err(short) => {
            let text = vec![
                Line::from(Span::styled(
                    format!(
                        "Not enough history (need {}, have {}).",
                        fmt_span(short.need_seconds),
                        fmt_span(short.have_seconds)
                    ),
                    theme.warn(),
                )),
                Line::from(""),
                Line::from(
                    "Periods, baseline and peaks, anomalies and growth need at least an hour of \
                     request-rate history; a daily pattern needs two days.",
                ),
                Line::from(Span::styled(
                    "The analysis reruns as data arrives.",
                    theme.dim(),
                )),
            ];
            let inner = block(" Workload ".into()).inner(body);
            frame.render_widget(block(" Workload ".into()), body);
            let top = inner.height.saturating_sub(text.len() as u16) / 2;
            frame.render_widget(
                Paragraph::new(text).centered().wrap(Wrap { trim: true }),
                Rect {
                    y: inner.y + top,
                    height: inner.height - top,
                    ..inner
                },
            );
        }
        Ok(result) => render_result(theme, outcome, result, frame, body),
    }
}

fn render_result(
    theme: &Theme,
    outcome: &WorkloadOutcome,
    r: &WorkloadResult,
    frame: &mut Frame,
    area: Rect,
) {
    let [charts, figures] =
        Layout::horizontal([Constraint::Min(40), Constraint::Length(FIGURES_WIDTH)]).areas(area);
    let [series_area, seasonal_area] =
        Layout::vertical([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(charts);
    let dec = &r.decomposition;
    let n = r.observed.len();
    let buckets = n.clamp(1, MAX_POINTS);
    let expected: Vec<f64> = (0..n).map(|i| dec.expected(i)).collect();
    // Anomalous points at their observed value; everything else a gap.
    let mut marks = vec![None; n];
    for a in &r.analysis.anomalies {
        let from = ((a.start - r.start) / r.step_seconds).max(0) as usize;
        let to = ((a.end - r.start) / r.step_seconds).max(0) as usize;
        for (i, m) in marks
            .iter_mut()
            .enumerate()
            .take(to.min(n - 1) + 1)
            .skip(from)
        {
            *m = r.observed.get(i).copied().filter(|v| v.is_finite());
        }
    }
    let span = n as i64 * r.step_seconds;
    let x_labels = || {
        vec![
            Span::styled(format!("-{}", fmt_span(span)), theme.dim()),
            Span::styled(
                fmt_time(outcome.data_end)
                    .get(11..16)
                    .unwrap_or("end")
                    .to_string(),
                theme.dim(),
            ),
        ]
    };
    chart::render(
        frame,
        series_area,
        theme,
        Line::from(vec![
            Span::styled(" Request rate (1-min means) — ", theme.title()),
            Span::styled("observed", theme.series(0)),
            Span::raw(", "),
            Span::styled("trend", theme.series(1)),
            Span::raw(", "),
            Span::styled("trend + seasonal", theme.series(2)),
            Span::raw(", "),
            Span::styled(
                format!("• anomalies ({})", r.analysis.anomalies.len()),
                theme.alert(),
            ),
            Span::raw(" "),
        ]),
        vec![
            ChartSeries::line(
                theme.series(0),
                bucket_means(&present(&r.observed), buckets),
            ),
            ChartSeries::line(theme.series(1), bucket_means(&present(&dec.trend), buckets)),
            ChartSeries::line(theme.series(2), bucket_means(&present(&expected), buckets)),
            ChartSeries::marks(theme.alert(), bucket_max(&marks, buckets)),
        ],
        x_labels(),
        Some(0.0),
    );
    let mut seasonal_title = vec![Span::styled(" Seasonal components — ", theme.title())];
    let mut seasonal_series = Vec::new();
    if dec.seasonal.is_empty() {
        seasonal_title.push(Span::styled("none found ", theme.dim()));
    }
    for (k, s) in dec.seasonal.iter().enumerate() {
        let style = theme.series(k + 2);
        if k > 0 {
            seasonal_title.push(Span::raw(", "));
        }
        seasonal_title.push(Span::styled(period_label(s.period_seconds), style));
        seasonal_series.push(ChartSeries::line(
            style,
            bucket_means(&present(&s.values), buckets),
        ));
    }
    seasonal_title.push(Span::raw(" "));
    if seasonal_series.is_empty() {
        frame.render_widget(
            Paragraph::new(
                "no seasonal period found in this history: nothing repeats strongly enough",
            )
            .style(theme.dim())
            .centered()
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(Line::from(seasonal_title)),
            ),
            seasonal_area,
        );
        return render_figures(theme, r, frame, figures);
    }
    chart::render(
        frame,
        seasonal_area,
        theme,
        Line::from(seasonal_title),
        seasonal_series,
        x_labels(),
        None,
    );
    render_figures(theme, r, frame, figures);
}

fn render_figures(theme: &Theme, r: &WorkloadResult, frame: &mut Frame, figures: Rect) {
    frame.render_widget(
        Paragraph::new(figure_lines(theme, r))
            .wrap(Wrap { trim: false })
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(Span::styled(" Analysis ", theme.title())),
            ),
        figures,
    );
}

fn figure_lines(theme: &Theme, r: &WorkloadResult) -> Vec<Line<'static>> {
    let a = &r.analysis;
    let head = |t: &str| Line::from(Span::styled(t.to_string(), theme.table_header()));
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("  {k:<16}"), theme.dim()),
            Span::raw(v),
        ])
    };
    let ratio = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.2}x"));
    let mut out = vec![head("Pattern")];
    let history = a.points as i64 * r.step_seconds;
    let short_for_daily = history < 2 * 86_400;
    if a.seasonality.is_empty() {
        let text = if short_for_daily {
            "none found (daily needs 2d+: ui.history)"
        } else {
            "none found"
        };
        out.push(kv("periods", text.into()));
    } else {
        let periods: Vec<String> = a
            .seasonality
            .iter()
            .map(|s| format!("{} {:.2}", s.label, s.strength))
            .collect();
        out.push(kv("periods", periods.join(" · ")));
    }
    let verdict = if a.predictability >= 0.6 {
        "predictive scaling pays"
    } else if a.predictability >= 0.3 {
        "partly predictable"
    } else {
        "react fast"
    };
    out.push(kv(
        "predictability",
        format!("{:.2} ({verdict})", a.predictability),
    ));
    out.push(kv(
        "variability",
        format!(
            "CV {} · burstiness {}",
            fmt_opt(a.cv, 2),
            ratio(a.burstiness)
        ),
    ));
    out.push(head("Level (req/s)"));
    out.push(kv(
        "baseline / peak",
        format!(
            "{} / {} · peak:baseline {}",
            fmt_compact(a.baseline),
            fmt_compact(a.peak),
            ratio(a.peak_to_baseline)
        ),
    ));
    // A month's growth from a few hours is noise; say so rather than print it.
    let growth = match (a.growth_pct_per_month, a.growth_band_pct_per_month) {
        _ if history < MIN_GROWTH_HISTORY_SECONDS => format!(
            "needs {}+ of history (have {})",
            fmt_span(MIN_GROWTH_HISTORY_SECONDS),
            fmt_span(history)
        ),
        (Some(g), Some([lo, hi])) => format!("{g:+.1}%/month ({lo:+.1} … {hi:+.1})"),
        (Some(g), None) => format!("{g:+.1}%/month"),
        _ => "—".into(),
    };
    out.push(kv("growth", growth));
    if let Some(w) = a.weekend_to_weekday {
        out.push(kv("weekend:weekday", format!("{w:.2}x")));
    }
    out.push(head("Peak windows (UTC)"));
    if a.peak_windows.is_empty() {
        let why = if a.seasonality.iter().any(|s| s.period_seconds == 86_400) {
            "none stand out"
        } else if short_for_daily {
            // The store keeps `ui.history` (24h by default): too short to see a daily cycle.
            "none: a daily cycle needs 2d+ (ui.history)"
        } else {
            "none: no daily cycle found"
        };
        out.push(Line::from(Span::styled(format!("  {why}"), theme.dim())));
    }
    for w in &a.peak_windows {
        out.push(Line::from(format!("  {}", w.label)));
    }
    out.push(head(&format!("Anomalies ({})", a.anomalies.len())));
    if a.anomalies.is_empty() {
        out.push(Line::from(Span::styled("  none", theme.dim())));
    }
    let mut listed: Vec<_> = a.anomalies.iter().collect();
    // Newest first: the on-call question is "what just happened".
    listed.sort_by_key(|w| std::cmp::Reverse(w.start));
    for w in listed.iter().take(MAX_ANOMALIES_LISTED) {
        let when = fmt_time(w.start);
        let mins = ((w.end - w.start + r.step_seconds) / 60).max(1);
        out.push(Line::from(vec![
            Span::styled(
                format!("  {}", when.get(5..16).unwrap_or(&when)),
                theme.alert(),
            ),
            Span::raw(format!(
                " {mins:>3}m {:<5} {:>4.0}σ {}/{} {}",
                w.direction,
                w.score,
                fmt_compact(Some(w.observed)),
                fmt_compact(Some(w.expected)),
                if w.recurring { "recurring" } else { "one-off" }
            )),
        ]));
    }
    if listed.len() > MAX_ANOMALIES_LISTED {
        out.push(Line::from(Span::styled(
            format!("  … {} more", listed.len() - MAX_ANOMALIES_LISTED),
            theme.dim(),
        )));
    }
    if let Some(note) = &a.note {
        out.push(Line::from(""));
        out.push(Line::from(Span::styled(
            format!("  note: {note}"),
            theme.warn(),
        )));
    }
    out.push(Line::from(""));
    out.push(Line::from(Span::styled(
        format!("  {} points, {} missing", a.points, a.missing_points),
        theme.dim(),
    )));
    out
}

/// "1h 30m", "12h", "2d".
pub fn fmt_span(seconds: i64) -> String {
    format_duration(std::time::Duration::from_secs(seconds.max(0) as u64))
}

//! Events: the live scaling-event log, newest first, thrash flagged (CONTRACTS.md definition,
//! marked by the store).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use crate::model::{ScaleDirection, ScalingEvent};
use crate::store::Store;
use crate::tui::app::App;
use crate::tui::jobs::monitoring::{FleetFigures, MonitoringOutcome};
use crate::tui::theme::Theme;
use crate::tui::widgets::{fmt_time, MISSING};

pub fn render(app: &App, store: &Store, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let thrashing = store.events().iter().filter(|e| e.thrash).count();
    let mut title = vec![
        Span::styled(
            format!(" Scaling events ({}) ", store.events().len()),
            theme.title(),
        ),
        Span::styled("newest first ", theme.dim()),
    ];
    if thrashing > 0 {
        title.push(Span::styled(
            format!("· {thrashing} thrash-flagged "),
            theme.alert(),
        ));
    }
    // Last, so a narrow terminal cuts the hint before the thrash count.
    title.push(Span::styled("· Enter explains the top event ", theme.dim()));
    // The monitoring figures per group below the log, when computed and there is room.
    let quality_rows = app
        .monitoring
        .result
        .as_ref()
        .map_or(0, |m| m.groups.len() as u16);
    let area = if quality_rows > 0 && area.height >= 20 {
        let height = (quality_rows + 3).min(area.height / 3);
        let [log, quality] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(height)]).areas(area);
        if let Some(m) = &app.monitoring.result {
            render_quality(app, m, frame, quality);
        }
        log
    } else {
        area
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(title));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let body_height = inner.height.saturating_sub(1) as usize;
    // The top row is the selected one (Enter explains it).
    let rows: Vec<Row> = app
        .visible_events(store)
        .skip(app.events_offset)
        .take(body_height)
        .enumerate()
        .map(|(i, e)| {
            let row = event_row(app, e);
            if i == 0 {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    if rows.is_empty() {
        let message = if store.events().is_empty() {
            "no scaling events yet".to_string()
        } else {
            "no event matches the filter or the frozen time".to_string()
        };
        frame.render_widget(
            Paragraph::new(message).style(theme.dim()).centered(),
            Rect {
                y: inner.y + inner.height / 2,
                height: 1.min(inner.height),
                ..inner
            },
        );
        return;
    }
    let header = Row::new(["TIME (UTC)", "GROUP", "REPLICAS", "FLAG", "BY", "REASON"])
        .style(theme.table_header());
    let group_width = if inner.width >= 120 { 26 } else { 18 };
    // On a narrow terminal the reason matters more than who reported it.
    let by_width = if inner.width >= 120 { 9 } else { 0 };
    let widths = [
        Constraint::Length(19),
        Constraint::Length(group_width),
        Constraint::Length(14),
        Constraint::Length(8),
        Constraint::Length(by_width),
        Constraint::Min(10),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), inner);
}

fn event_row<'a>(app: &App, e: &'a ScalingEvent) -> Row<'a> {
    let theme = &app.theme;
    let (arrow, style) = match e.direction() {
        Some(ScaleDirection::Up) => ("▲", theme.warn()),
        Some(ScaleDirection::Down) => ("▼", theme.good()),
        None => ("=", theme.dim()),
    };
    let flag = if e.thrash {
        Cell::from(Span::styled("THRASH", theme.alert()))
    } else {
        Cell::from("")
    };
    Row::new(vec![
        Cell::from(fmt_time(e.at.timestamp())),
        Cell::from(e.group.name.as_str()),
        Cell::from(Span::styled(
            format!("{} → {} {arrow}", e.from_replicas, e.to_replicas),
            style,
        )),
        flag,
        // The platform's own reason reads differently from scaletop's derived one; say which.
        Cell::from(Span::styled(e.origin.label(), theme.dim())),
        Cell::from(e.reason.as_str()),
    ])
}

fn pct(v: Option<f64>) -> String {
    v.map_or(MISSING.to_string(), |v| format!("{:.0}%", v * 100.0))
}

fn ms(v: Option<f64>) -> String {
    v.map_or(MISSING.to_string(), |v| format!("{v:.0}"))
}

/// "· 14.2 scalings/day · 86% justified · 2 false scale-ups · p95 while scaling ≤ 180 ms ·
/// SLA at peak ≥ 99%" for block titles (Overview, Events).
pub fn fleet_spans(theme: &Theme, f: &FleetFigures) -> Vec<Span<'static>> {
    let mut spans = vec![Span::styled(
        format!("· {:.1} scalings/day ", f.scaling_events_per_day),
        theme.dim(),
    )];
    if let Some(e) = f.scaling_efficiency {
        let style = if e < 0.8 { theme.warn() } else { theme.dim() };
        spans.push(Span::styled(
            format!("· {:.0}% justified ", e * 100.0),
            style,
        ));
    }
    if f.false_positive_scale_ups > 0 {
        spans.push(Span::styled(
            format!("· {} false scale-ups ", f.false_positive_scale_ups),
            theme.warn(),
        ));
    }
    if let Some(p) = f.worst_p95_during_scaling_ms {
        spans.push(Span::styled(
            format!("· worst p95 while scaling {p:.0} ms "),
            theme.dim(),
        ));
    }
    if let Some(s) = f.worst_sla_compliance_at_peak {
        let style = if s < 0.99 { theme.warn() } else { theme.dim() };
        spans.push(Span::styled(
            format!("· worst SLA at peak {:.1}% ", s * 100.0),
            style,
        ));
    }
    spans
}

/// Per-group monitoring figures over everything the store holds.
fn render_quality(app: &App, m: &MonitoringOutcome, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Line::from(vec![
            Span::styled(" Scaling quality by group ", theme.title()),
            Span::styled(
                format!(
                    "over the {} held (per-day rates extrapolate a short history) ",
                    crate::tui::tabs::workload::fmt_span(
                        (m.groups.iter().map(|g| g.days).fold(0.0, f64::max) * 86_400.0) as i64
                    )
                ),
                theme.dim(),
            ),
        ]));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let header = Row::new([
        "GROUP",
        "EVENTS/DAY",
        "JUSTIFIED",
        "FALSE UPS",
        "P95 SCALING",
        "P99 SCALING",
        "ERR SCALING",
        "SLA AT PEAK",
        "$/1M REQ",
    ])
    .style(theme.table_header());
    let rows = m.groups.iter().map(|g| {
        Row::new(vec![
            Cell::from(g.group.clone()),
            Cell::from(format!("{:.1}", g.scaling_events_per_day)),
            Cell::from(pct(g.scaling_efficiency)),
            Cell::from(g.false_positive_scale_ups.to_string()),
            Cell::from(ms(g.p95_during_scaling_ms)),
            Cell::from(ms(g.p99_during_scaling_ms)),
            Cell::from(
                g.error_rate_during_scaling
                    .map_or(MISSING.to_string(), |v| format!("{:.2}%", v * 100.0)),
            ),
            Cell::from(pct(g.sla_compliance_at_peak)),
            Cell::from(
                g.cost_per_million_requests_usd
                    .map_or(MISSING.to_string(), |v| format!("{v:.3}")),
            ),
        ])
    });
    let widths = [
        Constraint::Length(26),
        Constraint::Length(10),
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(11),
        Constraint::Length(11),
        Constraint::Length(11),
        Constraint::Length(11),
        Constraint::Length(9),
        Constraint::Min(0),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), inner);
}

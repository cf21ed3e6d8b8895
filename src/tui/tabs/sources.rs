//! Sources: health of each data source. A source that is down says so, with its reason, in red;
//! its last good data stays on screen, marked stale. Below the table, the selected source in
//! full: query latency p50/p95, series, samples, notes and server warnings.

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::sources::{HealthState, SourceHealth};
use crate::store::Store;
use crate::tui::app::App;
use crate::tui::theme::Theme;
use crate::tui::widgets::{fmt_age, fmt_compact, MISSING};

/// Lines of the selected source's detail block (inside its border).
const DETAIL_LINES: u16 = 6;

pub fn render(app: &App, store: &Store, now: DateTime<Utc>, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(" Sources ", theme.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    if store.health().next().is_none() {
        frame.render_widget(
            Paragraph::new("no source has reported yet")
                .style(theme.dim())
                .centered(),
            Rect {
                y: inner.y + inner.height / 2,
                height: 1.min(inner.height),
                ..inner
            },
        );
        return;
    }
    let sources: Vec<&SourceHealth> = store.health().collect();
    let table_height = (sources.len() as u16 + 2).min(inner.height);
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Length(table_height), Constraint::Fill(1)]).areas(inner);
    render_table(app, &sources, now, frame, table_area);
    if let Some(h) = sources.get(app.sources_cursor.min(sources.len() - 1)) {
        let height = (DETAIL_LINES + 2).min(detail_area.height);
        render_detail(
            theme,
            h,
            now,
            frame,
            Rect {
                height,
                ..detail_area
            },
        );
    }
}

fn state_cell<'a>(
    theme: &Theme,
    h: &'a SourceHealth,
) -> (&'static str, &'a str, ratatui::style::Style) {
    match &h.state {
        HealthState::Up => ("UP", "", theme.good()),
        HealthState::Starting => ("STARTING", "", theme.warn()),
        HealthState::Down { reason } => ("DOWN", reason.as_str(), theme.alert()),
    }
}

/// Milliseconds as "12ms" or "1.4s"; "—" when not measured.
fn fmt_ms(ms: Option<f64>) -> String {
    match ms {
        Some(v) if v.is_finite() && v >= 1000.0 => format!("{:.1}s", v / 1000.0),
        Some(v) if v.is_finite() => format!("{v:.0}ms"),
        _ => MISSING.to_string(),
    }
}

/// Exact below 10,000, then compact (12.3k, 4.1M).
fn fmt_count(n: Option<u64>) -> String {
    match n {
        Some(n) if n < 10_000 => n.to_string(),
        n => fmt_compact(n.map(|n| n as f64)),
    }
}

fn render_table(
    app: &App,
    sources: &[&SourceHealth],
    now: DateTime<Utc>,
    frame: &mut Frame,
    area: Rect,
) {
    let theme = &app.theme;
    let rows: Vec<Row> = sources
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let (state, reason, style) = state_cell(theme, h);
            let d = &h.details;
            let row = Row::new(vec![
                Cell::from(h.source.as_str()),
                Cell::from(h.kind.as_str()),
                Cell::from(h.target.as_str()),
                Cell::from(Span::styled(state, style)),
                Cell::from(fmt_age(h.last_ok, now)),
                Cell::from(fmt_ms(d.latency_p50_ms)),
                Cell::from(fmt_ms(d.latency_p95_ms)),
                Cell::from(fmt_count(d.series)),
                Cell::from(fmt_count(d.samples)),
                Cell::from(Span::styled(
                    h.errors.to_string(),
                    if h.errors > 0 {
                        theme.warn()
                    } else {
                        theme.base()
                    },
                )),
                Cell::from(Span::styled(reason, style)),
            ]);
            if i == app.sources_cursor {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let header = Row::new([
        "SOURCE", "KIND", "TARGET", "STATE", "LAST OK", "P50", "P95", "SERIES", "SAMPLES",
        "ERRORS", "REASON",
    ])
    .style(theme.table_header());
    let widths = [
        Constraint::Length(14),
        Constraint::Length(10),
        Constraint::Fill(1),
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Fill(2),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), area);
}

fn render_detail(
    theme: &Theme,
    h: &SourceHealth,
    now: DateTime<Utc>,
    frame: &mut Frame,
    area: Rect,
) {
    let block = Block::default()
        .borders(Borders::TOP)
        .title(Span::styled(format!(" {} ", h.source), theme.title()));
    let (state, reason, style) = state_cell(theme, h);
    let d = &h.details;
    let mut lines = vec![Line::from(vec![
        Span::styled(state, style),
        Span::raw(format!("  {} {}", h.kind, h.target)),
    ])];
    if !reason.is_empty() {
        lines.push(Line::from(Span::styled(format!("reason: {reason}"), style)));
    }
    match (&h.state, h.last_ok) {
        (HealthState::Down { .. }, Some(t)) => lines.push(Line::from(Span::styled(
            format!(
                "data stale: last good answer {} ({}); what was stored is kept, retrying every poll",
                fmt_age(Some(t), now),
                t.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            theme.warn(),
        ))),
        (HealthState::Down { .. }, None) => lines.push(Line::from(Span::styled(
            "no data yet: the source has never answered; retrying every poll",
            theme.warn(),
        ))),
        _ => {}
    }
    lines.push(Line::from(format!(
        "queries p50 {} p95 {} · series {} · samples {} · updates {} · errors {}",
        fmt_ms(d.latency_p50_ms),
        fmt_ms(d.latency_p95_ms),
        fmt_count(d.series),
        fmt_count(d.samples),
        h.updates,
        h.errors
    )));
    if let Some(note) = &d.note {
        lines.push(Line::from(Span::styled(
            format!("note: {note}"),
            theme.warn(),
        )));
    }
    if let Some(w) = &d.warning {
        lines.push(Line::from(Span::styled(
            format!("server warning: {w}"),
            theme.warn(),
        )));
    }
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(block),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_and_counts_format_compactly_and_missing_is_a_dash() {
        assert_eq!(fmt_ms(Some(12.4)), "12ms");
        assert_eq!(fmt_ms(Some(1450.0)), "1.4s");
        assert_eq!(fmt_ms(None), MISSING);
        assert_eq!(fmt_count(Some(27)), "27");
        assert_eq!(fmt_count(Some(123_456)), "123.5k");
        assert_eq!(fmt_count(None), MISSING);
    }
}

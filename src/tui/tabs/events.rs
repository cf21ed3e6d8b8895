//! Events: the live scaling-event log, newest first, thrash flagged (CONTRACTS.md definition,
//! marked by the store).

use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use crate::model::{ScaleDirection, ScalingEvent};
use crate::store::Store;
use crate::tui::app::App;
use crate::tui::widgets::fmt_time;

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
    let widths = [
        Constraint::Length(19),
        Constraint::Length(group_width),
        Constraint::Length(14),
        Constraint::Length(8),
        Constraint::Length(9),
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

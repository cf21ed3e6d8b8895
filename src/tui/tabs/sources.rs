//! Sources: health of each data source. A source that is down says so, with its reason, in red.

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use crate::sources::HealthState;
use crate::store::Store;
use crate::tui::app::App;
use crate::tui::widgets::fmt_age;

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
    let rows: Vec<Row> = store
        .health()
        .enumerate()
        .map(|(i, h)| {
            let (state, detail, style) = match &h.state {
                HealthState::Up => ("UP", String::new(), theme.good()),
                HealthState::Starting => ("STARTING", String::new(), theme.warn()),
                HealthState::Down { reason } => ("DOWN", reason.clone(), theme.alert()),
            };
            let row = Row::new(vec![
                Cell::from(h.source.as_str()),
                Cell::from(h.kind.as_str()),
                Cell::from(h.target.as_str()),
                Cell::from(Span::styled(state, style)),
                Cell::from(fmt_age(h.last_ok, now)),
                Cell::from(h.updates.to_string()),
                Cell::from(Span::styled(
                    h.errors.to_string(),
                    if h.errors > 0 {
                        theme.warn()
                    } else {
                        theme.base()
                    },
                )),
                Cell::from(Span::styled(detail, style)),
            ]);
            if i == app.sources_cursor {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let header = Row::new([
        "SOURCE", "KIND", "TARGET", "STATE", "LAST OK", "UPDATES", "ERRORS", "REASON",
    ])
    .style(theme.table_header());
    let widths = [
        Constraint::Length(14),
        Constraint::Length(10),
        Constraint::Fill(1),
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Fill(2),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), inner);
}

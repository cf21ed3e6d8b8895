//! Alerts: firing, pending and resolved alerts of the configured rules (evaluated off the UI
//! thread), with since / for, and the selected alert's evidence and runbook.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::alerts::promql::promql_duration;
use crate::alerts::{AlertState, Severity};
use crate::store::Store;
use crate::tui::app::App;

/// "12m" ago, in data time.
fn ago(now: i64, then: i64) -> String {
    promql_duration((now - then).max(0) / 60 * 60).replace("0s", "<1m")
}

pub fn render(app: &App, store: &Store, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let panel = &app.alerts;
    let title = format!(
        " Alerts — {} firing · {} pending · {} resolved · {} rules ",
        panel.count(AlertState::Firing),
        panel.count(AlertState::Pending),
        panel.count(AlertState::Resolved),
        panel.rules.len()
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(title, theme.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas(inner);
    let now = store.now().map(|t| t.timestamp());
    if panel.list.is_empty() {
        let text = match (now, panel.last_eval_end) {
            (None, _) => "waiting for data before evaluating alert rules".to_string(),
            (Some(_), None) => "evaluating alert rules…".to_string(),
            (Some(_), Some(_)) => format!(
                "no alerts: all {} rules quiet (rules: {})",
                panel.rules.len(),
                panel
                    .rules
                    .iter()
                    .map(|r| r.name.trim_start_matches("Scaletop"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        frame.render_widget(
            Paragraph::new(text)
                .style(theme.dim())
                .centered()
                .wrap(Wrap { trim: true }),
            Rect {
                y: table_area.y + table_area.height / 2,
                height: 2.min(table_area.height),
                ..table_area
            },
        );
        return;
    }
    let now = now.unwrap_or(0);
    let rows: Vec<Row> = panel
        .list
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let state_style = match a.state {
                AlertState::Firing => theme.alert(),
                AlertState::Pending => theme.warn(),
                AlertState::Resolved => theme.good(),
            };
            let severity_style = match a.severity {
                Severity::Critical => theme.alert(),
                Severity::Warning => theme.warn(),
                Severity::Info => theme.base(),
            };
            let since = match a.state {
                AlertState::Firing => a.firing_since.map_or(String::new(), |t| ago(now, t)),
                AlertState::Pending => ago(now, a.active_since),
                AlertState::Resolved => a.resolved_at.map_or(String::new(), |t| ago(now, t)),
            };
            let state = match a.state {
                AlertState::Firing => "FIRING",
                AlertState::Pending => "PENDING",
                AlertState::Resolved => "RESOLVED",
            };
            let row = Row::new(vec![
                Cell::from(Span::styled(state, state_style)),
                Cell::from(Span::styled(a.severity.as_str(), severity_style)),
                Cell::from(a.rule.trim_start_matches("Scaletop").to_string()),
                Cell::from(a.instance.clone()),
                Cell::from(since),
                Cell::from(promql_duration(a.for_seconds)),
                Cell::from(a.evidence.clone()),
            ]);
            if i == panel.cursor {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let header = Row::new([
        "STATE", "SEVERITY", "RULE", "INSTANCE", "SINCE", "FOR", "EVIDENCE",
    ])
    .style(theme.table_header());
    let widths = [
        Constraint::Length(9),
        Constraint::Length(9),
        Constraint::Length(26),
        Constraint::Length(42),
        Constraint::Length(7),
        Constraint::Length(5),
        Constraint::Fill(2),
    ];
    frame.render_widget(Table::new(rows, widths).header(header), table_area);
    if let Some(a) = panel.list.get(panel.cursor) {
        let lines = vec![
            Line::from(vec![
                Span::styled(format!("{} ", a.rule), theme.title()),
                Span::raw(format!("{}: {}", a.instance, a.summary)),
            ]),
            Line::from(Span::styled(format!("runbook: {}", a.runbook), theme.dim())),
        ];
        frame.render_widget(
            Paragraph::new(lines)
                .block(Block::default().borders(Borders::TOP))
                .wrap(Wrap { trim: true }),
            detail_area,
        );
    }
}

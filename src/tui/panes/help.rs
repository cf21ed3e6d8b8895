//! The `?` overlay, generated from the keymap table so it cannot drift from the real keys.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

use crate::tui::keymap::Keymap;
use crate::tui::theme::Theme;

const KEY_COLUMN: usize = 14;
const COLUMN_WIDTH: usize = 40;

pub fn render(keymap: &Keymap, theme: &Theme, frame: &mut Frame, area: Rect) {
    let rows = keymap.help_rows();
    // Two columns when the list is long, so it fits 80x24.
    let per_column = rows.len().div_ceil(2).max(1);
    let width = (2 * COLUMN_WIDTH as u16 + 4).min(area.width);
    let height = (per_column as u16 + 4).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let cell = |i: usize| -> Vec<Span<'static>> {
        match rows.get(i) {
            Some((keys, description)) => vec![
                Span::styled(format!("{keys:>KEY_COLUMN$}  "), theme.key()),
                Span::raw(format!(
                    "{:<w$}",
                    description,
                    w = COLUMN_WIDTH - KEY_COLUMN - 2
                )),
            ],
            None => vec![Span::raw(" ".repeat(COLUMN_WIDTH))],
        }
    };
    let lines: Vec<Line> = (0..per_column)
        .map(|r| {
            let mut spans = cell(r);
            spans.extend(cell(r + per_column));
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(" keys ", theme.title()))
                .title_bottom(Line::from(" ? or Esc closes ").centered()),
        ),
        popup,
    );
}

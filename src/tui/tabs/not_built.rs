//! Tabs whose engine does not exist yet say so plainly. No placeholder numbers.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::tui::tab::Tab;
use crate::tui::theme::Theme;

pub fn render(tab: Tab, issue: u32, will_show: &str, theme: &Theme, frame: &mut Frame, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(format!(" {} ", tab.title()), theme.title()));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let lines = vec![
        Line::from(Span::styled(
            format!("{} is not built yet — see issue #{issue}.", tab.title()),
            theme.warn(),
        )),
        Line::from(""),
        Line::from(format!("It will show {will_show}.")),
        Line::from(Span::styled(
            "Nothing is shown here until the engine behind it exists: no placeholder numbers.",
            theme.dim(),
        )),
    ];
    let top = inner.height.saturating_sub(lines.len() as u16) / 2;
    let text_area = Rect {
        y: inner.y + top,
        height: inner.height - top,
        ..inner
    };
    frame.render_widget(
        Paragraph::new(lines).centered().wrap(Wrap { trim: true }),
        text_area,
    );
}

//! The `/` filter line: shows what is typed while editing, and the active filter after.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::tui::app::FilterState;
use crate::tui::theme::Theme;

/// True when the filter line needs a row of the screen.
pub fn visible(filter: &FilterState) -> bool {
    filter.editing || !filter.text.is_empty()
}

pub fn render(filter: &FilterState, theme: &Theme, frame: &mut Frame, area: Rect) {
    let line = if filter.editing {
        Line::from(vec![
            Span::styled("/", theme.key()),
            Span::raw(filter.text.as_str()),
            Span::styled("█", theme.dim()),
            Span::styled("   type a group name · Enter keep · Esc clear", theme.dim()),
        ])
    } else {
        Line::from(vec![
            Span::styled("filter: ", theme.warn()),
            Span::raw(filter.text.as_str()),
            Span::styled("   (Esc clears)", theme.dim()),
        ])
    };
    frame.render_widget(Paragraph::new(line), area);
}

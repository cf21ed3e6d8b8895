//! The one place that decides colours. With colour off (`ui.color = false` or `NO_COLOR` set)
//! every style falls back to modifiers, so alerts still stand out on a monochrome terminal.

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    /// Colour unless the config turns it off or `NO_COLOR` is set to anything non-empty
    /// (https://no-color.org).
    pub fn from_config(color_enabled: bool, no_color_env: Option<&str>) -> Theme {
        let no_color = no_color_env.is_some_and(|v| !v.is_empty());
        Theme {
            color: color_enabled && !no_color,
        }
    }

    fn fg(&self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    pub fn base(&self) -> Style {
        Style::new()
    }

    pub fn dim(&self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    pub fn title(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn header_bar(&self) -> Style {
        if self.color {
            Style::new().bg(Color::Blue).fg(Color::White)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    pub fn tab_active(&self) -> Style {
        self.fg(Color::Yellow)
            .add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
    }

    pub fn table_header(&self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn selected(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// Needs attention now: at max replicas, source down, thrashing.
    pub fn alert(&self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }

    pub fn good(&self) -> Style {
        self.fg(Color::Green)
    }

    pub fn key(&self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn frozen(&self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::Magenta)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        }
    }

    /// Chart series, in the order demand, capacity, third.
    pub fn series(&self, index: usize) -> Style {
        const PALETTE: [Color; 4] = [Color::Cyan, Color::Green, Color::Magenta, Color::Yellow];
        self.fg(PALETTE[index % PALETTE.len()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_env_and_config_turn_colour_off() {
        assert!(Theme::from_config(true, None).color);
        assert!(
            Theme::from_config(true, Some("")).color,
            "empty NO_COLOR is unset"
        );
        assert!(!Theme::from_config(true, Some("1")).color);
        assert!(!Theme::from_config(false, None).color);
        assert_eq!(Theme { color: false }.alert().fg, None);
    }
}

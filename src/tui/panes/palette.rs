//! The `:` command palette: go to a tab, go to a group, set the time range, quit. Matching is
//! fuzzy-ish: prefix beats word prefix beats substring beats letters in order.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, List, ListItem, Paragraph};
use ratatui::Frame;

use crate::duration::parse_duration;
use crate::model::GroupId;
use crate::store::Store;
use crate::tui::tab::Tab;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, PartialEq)]
pub enum PaletteCommand {
    GoTab(Tab),
    GoGroup(GroupId),
    /// Chart window, seconds.
    Range(i64),
    /// Restart the demo on another built-in scenario.
    Scenario(String),
    Quit,
}

/// Ranges offered in the list; any other `range DUR` typed in full works too.
const RANGE_CHOICES: [&str; 6] = ["15m", "1h", "2h", "6h", "24h", "7d"];

/// Most candidates listed at once.
const MAX_LISTED: usize = 12;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PaletteState {
    pub input: String,
    pub selection: usize,
}

impl PaletteState {
    pub fn push_char(&mut self, c: char) {
        self.input.push(c);
        self.selection = 0;
    }

    pub fn pop_char(&mut self) {
        self.input.pop();
        self.selection = 0;
    }

    pub fn move_selection(&mut self, delta: i64) {
        self.selection = (self.selection as i64 + delta).max(0) as usize;
    }

    /// The command Enter runs: a fully typed `range DUR`, else the selected match.
    pub fn chosen(&self, store: &Store, scenarios: &[String]) -> Option<PaletteCommand> {
        if let Some(rest) = self.input.trim().strip_prefix("range ") {
            if let Ok(d) = parse_duration(rest) {
                if d.as_secs() >= 60 {
                    return Some(PaletteCommand::Range(d.as_secs() as i64));
                }
            }
        }
        let matches = matching(&self.input, &candidates(store, scenarios));
        let pick = self.selection.min(matches.len().saturating_sub(1));
        matches.into_iter().nth(pick).map(|c| c.command)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub label: String,
    pub command: PaletteCommand,
}

/// Everything the palette can run right now.
pub fn candidates(store: &Store, scenarios: &[String]) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Tab::ALL
        .iter()
        .map(|t| Candidate {
            label: format!("tab {}", t.title().to_lowercase()),
            command: PaletteCommand::GoTab(*t),
        })
        .collect();
    let mut groups: Vec<&GroupId> = store.groups().iter().map(|g| &g.id).collect();
    groups.sort();
    out.extend(groups.into_iter().map(|id| Candidate {
        label: format!("group {}", id.name),
        command: PaletteCommand::GoGroup(id.clone()),
    }));
    out.extend(RANGE_CHOICES.iter().filter_map(|r| {
        let secs = parse_duration(r).ok()?.as_secs() as i64;
        Some(Candidate {
            label: format!("range {r}"),
            command: PaletteCommand::Range(secs),
        })
    }));
    out.extend(scenarios.iter().map(|name| Candidate {
        label: format!("scenario {name}"),
        command: PaletteCommand::Scenario(name.clone()),
    }));
    out.push(Candidate {
        label: "quit".into(),
        command: PaletteCommand::Quit,
    });
    out
}

/// How well `input` matches `label`; higher is better, `None` is no match.
pub fn score(input: &str, label: &str) -> Option<u32> {
    let input = input.trim().to_lowercase();
    let label = label.to_lowercase();
    if input.is_empty() {
        return Some(1);
    }
    if label.starts_with(&input) {
        return Some(400);
    }
    // "check" matches "group checkout" by its second word.
    if label.split([' ', '-', '_']).any(|w| w.starts_with(&input)) {
        return Some(300);
    }
    if label.contains(&input) {
        return Some(200);
    }
    let mut rest = label.chars();
    let in_order = input
        .chars()
        .filter(|c| !c.is_whitespace())
        .all(|c| rest.any(|l| l == c));
    in_order.then_some(100)
}

/// Candidates matching `input`, best first (stable among equals).
pub fn matching(input: &str, all: &[Candidate]) -> Vec<Candidate> {
    let mut scored: Vec<(u32, usize)> = all
        .iter()
        .enumerate()
        .filter_map(|(i, c)| score(input, &c.label).map(|s| (s, i)))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, i)| all[i].clone()).collect()
}

pub fn render(
    state: &PaletteState,
    store: &Store,
    scenarios: &[String],
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let width = 64.min(area.width.saturating_sub(4));
    let height = (MAX_LISTED as u16 + 4).min(area.height.saturating_sub(2));
    let popup = Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + 3.min(area.height.saturating_sub(height)),
        width,
        height,
    };
    frame.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(" command ", theme.title()))
        .title_bottom(Line::from(" Enter run · ↑/↓ choose · Esc close ").centered());
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let [input_area, list_area] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(inner);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(":", theme.key()),
            Span::raw(state.input.as_str()),
            Span::styled("█", theme.dim()),
        ])),
        input_area,
    );
    let matches = matching(&state.input, &candidates(store, scenarios));
    let selected = state.selection.min(matches.len().saturating_sub(1));
    let items: Vec<ListItem> = if matches.is_empty() {
        vec![ListItem::new(Span::styled(
            "no match (try: tab, group, range 6h, scenario, quit)",
            theme.dim(),
        ))]
    } else {
        matches
            .iter()
            .enumerate()
            .skip(selected.saturating_sub(MAX_LISTED - 1))
            .take(MAX_LISTED)
            .map(|(i, c)| {
                let style = if i == selected {
                    theme.selected()
                } else {
                    theme.base()
                };
                ListItem::new(Span::styled(format!(" {} ", c.label), style))
            })
            .collect()
    };
    frame.render_widget(List::new(items), list_area);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_beats_word_beats_substring_beats_letters() {
        assert_eq!(score("tab", "tab events"), Some(400));
        assert_eq!(score("even", "tab events"), Some(300));
        assert_eq!(score("vent", "tab events"), Some(200));
        assert_eq!(score("tbev", "tab events"), Some(100));
        assert_eq!(score("xyz", "tab events"), None);
    }

    #[test]
    fn typed_range_and_quit_resolve() {
        let store = Store::new(15, 10);
        let p = PaletteState {
            input: "range 90m".into(),
            selection: 0,
        };
        assert_eq!(p.chosen(&store, &[]), Some(PaletteCommand::Range(5400)));
        let p = PaletteState {
            input: "qui".into(),
            selection: 0,
        };
        assert_eq!(p.chosen(&store, &[]), Some(PaletteCommand::Quit));
        let p = PaletteState {
            input: "sources".into(),
            selection: 0,
        };
        assert_eq!(
            p.chosen(&store, &[]),
            Some(PaletteCommand::GoTab(Tab::Sources))
        );
        let p = PaletteState {
            input: "game".into(),
            selection: 0,
        };
        assert_eq!(
            p.chosen(&store, &["game".to_string()]),
            Some(PaletteCommand::Scenario("game".into()))
        );
    }
}

//! One keymap table drives key dispatch, the help overlay and the footer hints
//! (the kdash way). Users rebind actions in the `[keys]` config table.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Everything a key can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    Quit,
    NextTab,
    PrevTab,
    /// Tab by number, 0-based.
    GoTab(u8),
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Enter,
    Back,
    Filter,
    Palette,
    Help,
    Freeze,
    ZoomIn,
    ZoomOut,
    ScrollBack,
    ScrollForward,
    Sort,
    Recommendations,
    Tuning,
    /// Stops a running tuning search.
    CancelSearch,
    Accept,
    MarkLoadTest,
}

/// One row of the table.
pub struct Binding {
    pub action: Action,
    /// Config name of the action (`[keys] name = [...]`).
    pub name: &'static str,
    pub default_keys: &'static [&'static str],
    pub description: &'static str,
    /// Shown in the footer when true.
    pub hint: bool,
}

macro_rules! b {
    ($a:expr, $n:literal, [$($k:literal),*], $d:literal, $h:literal) => {
        Binding { action: $a, name: $n, default_keys: &[$($k),*], description: $d, hint: $h }
    };
}

/// The built-in bindings, in help order.
pub const BINDINGS: &[Binding] = &[
    b!(Action::Help, "help", ["?"], "help", true),
    b!(Action::NextTab, "next_tab", ["tab"], "next tab", true),
    b!(
        Action::PrevTab,
        "prev_tab",
        ["backtab"],
        "previous tab",
        false
    ),
    b!(
        Action::GoTab(0),
        "tab_overview",
        ["1"],
        "Overview tab",
        false
    ),
    b!(Action::GoTab(1), "tab_events", ["2"], "Events tab", false),
    b!(
        Action::GoTab(2),
        "tab_utilization",
        ["3"],
        "Utilization tab",
        false
    ),
    b!(
        Action::GoTab(3),
        "tab_workload",
        ["4"],
        "Workload tab",
        false
    ),
    b!(
        Action::GoTab(4),
        "tab_forecast",
        ["5"],
        "Forecast tab",
        false
    ),
    b!(
        Action::GoTab(5),
        "tab_policies",
        ["6"],
        "Policies tab",
        false
    ),
    b!(Action::GoTab(6), "tab_cost", ["7"], "Cost tab", false),
    b!(Action::GoTab(7), "tab_alerts", ["8"], "Alerts tab", false),
    b!(Action::GoTab(8), "tab_sources", ["9"], "Sources tab", false),
    b!(Action::Up, "up", ["k", "up"], "move up", false),
    b!(Action::Down, "down", ["j", "down"], "move down", false),
    b!(Action::PageUp, "page_up", ["pageup"], "page up", false),
    b!(
        Action::PageDown,
        "page_down",
        ["pagedown"],
        "page down",
        false
    ),
    b!(Action::Top, "top", ["g", "home"], "first row", false),
    b!(Action::Bottom, "bottom", ["G", "end"], "last row", false),
    b!(Action::Enter, "enter", ["enter"], "drill in", true),
    b!(Action::Back, "back", ["esc"], "back", true),
    b!(Action::Filter, "filter", ["/"], "filter", true),
    b!(Action::Palette, "palette", [":"], "command palette", true),
    b!(Action::Sort, "sort", ["s"], "cycle sort column", false),
    b!(Action::Freeze, "freeze", ["f"], "freeze / unfreeze", true),
    b!(
        Action::ZoomIn,
        "zoom_in",
        ["+", "="],
        "zoom in (time)",
        false
    ),
    b!(Action::ZoomOut, "zoom_out", ["-"], "zoom out (time)", false),
    b!(
        Action::ScrollBack,
        "scroll_back",
        ["left"],
        "scroll back in time",
        false
    ),
    b!(
        Action::ScrollForward,
        "scroll_forward",
        ["right"],
        "scroll forward in time",
        false
    ),
    b!(
        Action::Recommendations,
        "recommendations",
        ["r"],
        "recommendations",
        false
    ),
    b!(
        Action::Tuning,
        "tuning",
        ["t"],
        "tune the group's policy",
        false
    ),
    b!(
        Action::CancelSearch,
        "cancel_search",
        ["c"],
        "cancel tuning search",
        false
    ),
    b!(
        Action::Accept,
        "accept",
        ["a"],
        "accept (asks first)",
        false
    ),
    b!(
        Action::MarkLoadTest,
        "mark_load_test",
        ["m"],
        "mark load-test window",
        false
    ),
    b!(Action::Quit, "quit", ["q", "ctrl-c"], "quit", true),
];

/// A key as written in config: "q", "ctrl-c", "enter", "f5".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeySpec {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl KeySpec {
    pub fn parse(text: &str) -> Result<KeySpec, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = text;
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "backspace" => KeyCode::Backspace,
            "delete" => KeyCode::Delete,
            "space" => KeyCode::Char(' '),
            f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                let n: u8 = f[1..].parse().unwrap_or(0);
                if !(1..=12).contains(&n) {
                    return Err(format!("unknown key '{text}'"));
                }
                KeyCode::F(n)
            }
            s => {
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(c),
                    _ => return Err(format!("unknown key '{text}'")),
                }
            }
        };
        Ok(KeySpec { code, ctrl, alt })
    }

    pub fn from_event(ev: &KeyEvent) -> KeySpec {
        // Shifted letters arrive as uppercase chars; drop SHIFT so "G" matches.
        KeySpec {
            code: ev.code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
            alt: ev.modifiers.contains(KeyModifiers::ALT),
        }
    }
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("S-Tab"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// The resolved keymap: built-in bindings with the user's overrides applied.
#[derive(Debug, Clone)]
pub struct Keymap {
    by_key: HashMap<KeySpec, Action>,
    keys_of: BTreeMap<Action, Vec<KeySpec>>,
}

impl Keymap {
    pub fn builtin() -> Keymap {
        Self::with_overrides(&BTreeMap::new()).unwrap_or_else(|_| unreachable_builtin())
    }

    /// Applies `[keys]` overrides (action name -> keys). An override replaces all keys of that
    /// action. Errors name the action: unknown action, unknown key, or a key bound twice.
    pub fn with_overrides(
        overrides: &BTreeMap<String, Vec<String>>,
    ) -> Result<Keymap, (String, String)> {
        for name in overrides.keys() {
            if !BINDINGS.iter().any(|b| b.name == name) {
                return Err((name.clone(), format!("unknown action '{name}'")));
            }
        }
        let mut by_key = HashMap::new();
        let mut keys_of: BTreeMap<Action, Vec<KeySpec>> = BTreeMap::new();
        for b in BINDINGS {
            let keys: Vec<KeySpec> = match overrides.get(b.name) {
                Some(list) => list
                    .iter()
                    .map(|k| KeySpec::parse(k).map_err(|e| (b.name.to_string(), e)))
                    .collect::<Result<_, _>>()?,
                None => b
                    .default_keys
                    .iter()
                    .filter_map(|k| KeySpec::parse(k).ok())
                    .collect(),
            };
            for k in &keys {
                if let Some(prev) = by_key.insert(*k, b.action) {
                    let other = BINDINGS
                        .iter()
                        .find(|x| x.action == prev)
                        .map_or("?", |x| x.name);
                    return Err((
                        b.name.to_string(),
                        format!("key '{k}' is already bound to '{other}'"),
                    ));
                }
            }
            keys_of.insert(b.action, keys);
        }
        Ok(Keymap { by_key, keys_of })
    }

    pub fn action_for(&self, ev: &KeyEvent) -> Option<Action> {
        let spec = KeySpec::from_event(ev);
        self.by_key.get(&spec).copied().or_else(|| {
            // Terminals differ on whether Shift is reported with symbols like '?' or '+'.
            let plain = KeySpec {
                ctrl: spec.ctrl,
                alt: spec.alt,
                ..spec
            };
            self.by_key.get(&plain).copied()
        })
    }

    /// Keys bound to an action, for help and hints ("q/Ctrl-c").
    pub fn keys_label(&self, action: Action) -> String {
        self.keys_of
            .get(&action)
            .map(|ks| {
                ks.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default()
    }

    /// (keys, description) rows in table order, for the help overlay.
    pub fn help_rows(&self) -> Vec<(String, &'static str)> {
        BINDINGS
            .iter()
            .map(|b| (self.keys_label(b.action), b.description))
            .filter(|(k, _)| !k.is_empty())
            .collect()
    }

    /// Footer hints: "? help  Tab next tab ...".
    pub fn hint_rows(&self) -> Vec<(String, &'static str)> {
        BINDINGS
            .iter()
            .filter(|b| b.hint)
            .map(|b| {
                let first = self
                    .keys_of
                    .get(&b.action)
                    .and_then(|k| k.first())
                    .map(ToString::to_string)
                    .unwrap_or_default();
                (first, b.description)
            })
            .filter(|(k, _)| !k.is_empty())
            .collect()
    }
}

#[cold]
fn unreachable_builtin() -> Keymap {
    // The built-in table is checked by a unit test; an empty map keeps the app usable.
    Keymap {
        by_key: HashMap::new(),
        keys_of: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    #[test]
    fn builtin_table_has_no_conflicts() {
        assert!(Keymap::with_overrides(&BTreeMap::new()).is_ok());
        let km = Keymap::builtin();
        assert_eq!(km.action_for(&key('q')), Some(Action::Quit));
        assert_eq!(km.action_for(&key('5')), Some(Action::GoTab(4)));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(km.action_for(&ctrl_c), Some(Action::Quit));
    }

    #[test]
    fn override_replaces_keys_of_action() {
        let mut o = BTreeMap::new();
        o.insert("quit".to_string(), vec!["x".to_string()]);
        let km = Keymap::with_overrides(&o).unwrap();
        assert_eq!(km.action_for(&key('x')), Some(Action::Quit));
        assert_eq!(km.action_for(&key('q')), None);
        assert_eq!(km.keys_label(Action::Quit), "x");
    }

    #[test]
    fn bad_overrides_name_the_action() {
        let mut o = BTreeMap::new();
        o.insert("fly".to_string(), vec!["x".to_string()]);
        assert_eq!(Keymap::with_overrides(&o).unwrap_err().0, "fly");
        let mut o = BTreeMap::new();
        o.insert("quit".to_string(), vec!["j".to_string()]);
        let e = Keymap::with_overrides(&o).unwrap_err();
        assert!(e.1.contains("already bound"), "{e:?}");
        let mut o = BTreeMap::new();
        o.insert("help".to_string(), vec!["hyper-x".to_string()]);
        assert!(Keymap::with_overrides(&o).is_err());
    }
}

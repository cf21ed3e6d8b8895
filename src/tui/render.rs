//! The frame: header, tab bar, the current tab, filter line, footer hints, panes on top.
//! Pure: reads the app and the store, takes the wall-clock `now` for ages, changes nothing.

use chrono::{DateTime, Utc};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Tabs, Wrap};
use ratatui::Frame;

use crate::sources::HealthState;
use crate::store::Store;
use crate::tui::app::{App, Pane};
use crate::tui::keymap::Action;
use crate::tui::panes::{explain, filter, help, loadtest, palette, recommendations, tuning};
use crate::tui::tab::Tab;
use crate::tui::tabs;
use crate::tui::widgets::{fmt_age, fmt_time};

pub const MIN_WIDTH: u16 = 80;
pub const MIN_HEIGHT: u16 = 24;

pub fn render(app: &App, store: &Store, now: DateTime<Utc>, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        render_too_small(app, frame, area);
        return;
    }
    let filter_rows = u16::from(filter::visible(&app.filter));
    let [header, tab_bar, body, filter_area, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(filter_rows),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(app, store, now, frame, header);
    render_tab_bar(app, frame, tab_bar);
    // While a load-test window is open its live scorecard sits under the tab.
    let body = if app.loadtest.start.is_some() && body.height > loadtest::HEIGHT + 8 {
        let [tab_area, panel] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(loadtest::HEIGHT)])
                .areas(body);
        loadtest::render(app, store, frame, panel);
        tab_area
    } else {
        body
    };
    match app.tab {
        Tab::Overview => tabs::overview::render(app, store, frame, body),
        Tab::Events => tabs::events::render(app, store, frame, body),
        Tab::Utilization => tabs::utilization::render(app, store, frame, body),
        Tab::Workload => tabs::workload::render(app, store, frame, body),
        Tab::Forecast => tabs::forecast::render(app, store, frame, body),
        Tab::Policies => tabs::policies::render(app, store, frame, body),
        Tab::Cost => tabs::cost::render(app, store, frame, body),
        Tab::Sources => tabs::sources::render(app, store, now, frame, body),
        Tab::Alerts => tabs::alerts::render(app, store, frame, body),
    }
    if filter_rows > 0 {
        filter::render(&app.filter, &app.theme, frame, filter_area);
    }
    render_footer(app, frame, footer);
    match &app.pane {
        Pane::None => {}
        Pane::Help => help::render(&app.keymap, &app.theme, frame, body),
        Pane::Palette(state) => {
            palette::render(state, store, &app.scenarios, &app.theme, frame, body)
        }
        Pane::Explain(state) => explain::render(state, store, &app.theme, frame, body),
        Pane::Recommendations(state) => recommendations::render(
            state,
            &app.filter,
            app.writer.readonly(),
            &app.theme,
            frame,
            body,
        ),
        Pane::Tuning(state) => tuning::render(state, &app.theme, now, frame, body),
    }
}

fn render_header(app: &App, store: &Store, now: DateTime<Utc>, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let sim_time = store
        .now()
        .map(|t| fmt_time(t.timestamp()))
        .unwrap_or_else(|| "waiting for data…".into());
    // Most important first, so a narrow terminal cuts the least useful part.
    let mut spans = vec![Span::raw(" scaletop │ ")];
    match app.time.frozen_end {
        Some(end) => spans.push(Span::styled(
            format!(" FROZEN at {} ", fmt_time(end)),
            theme.frozen(),
        )),
        None => spans.push(Span::raw("LIVE")),
    }
    // Alerts: a count while any is firing or pending, and a flash when one starts firing.
    let firing = app.alerts.count(crate::alerts::AlertState::Firing);
    let pending = app.alerts.count(crate::alerts::AlertState::Pending);
    if firing > 0 {
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(format!(" {firing} firing "), theme.alert()));
    }
    if pending > 0 {
        spans.push(Span::raw(format!(" │ {pending} pending")));
    }
    let retuned = app.retune.recommendations().count();
    if retuned > 0 {
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(
            format!(
                " {retuned} re-tune{} ready (r) ",
                if retuned == 1 { "" } else { "s" }
            ),
            theme.warn(),
        ));
    }
    if let Some((text, _)) = app.alerts.flash.as_ref().filter(|(_, until)| now < *until) {
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(format!(" {text} "), theme.alert()));
    }
    spans.push(Span::raw(format!(
        " │ {} groups │ data time {sim_time} UTC",
        store.groups().len()
    )));
    if app.last_data_at.is_some() {
        spans.push(Span::raw(format!(
            " │ updated {}",
            fmt_age(app.last_data_at, now)
        )));
    }
    spans.push(Span::raw(format!(" │ {}", app.source_label)));
    let down: Vec<&str> = store
        .health()
        .filter(|h| matches!(h.state, HealthState::Down { .. }))
        .map(|h| h.source.as_str())
        .collect();
    if !down.is_empty() {
        spans.push(Span::raw(" │ "));
        spans.push(Span::styled(
            format!(" {} DOWN (9 Sources) ", down.join(", ")),
            theme.alert(),
        ));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).style(theme.header_bar()),
        area,
    );
}

/// Short titles so all nine tabs fit in 80 columns.
const SHORT_TITLES: [&str; 9] = [
    "Overview", "Events", "Util", "Work", "Forecast", "Policy", "Cost", "Alerts", "Sources",
];
/// Width the full tab bar needs ("1 Overview · 2 Events · ...").
const FULL_TAB_BAR_WIDTH: u16 = 112;

fn render_tab_bar(app: &App, frame: &mut Frame, area: Rect) {
    let full = area.width >= FULL_TAB_BAR_WIDTH;
    let titles: Vec<Line> = Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let title = if full { t.title() } else { SHORT_TITLES[i] };
            Line::from(format!("{} {title}", i + 1))
        })
        .collect();
    let tabs = Tabs::new(titles)
        .select(app.tab.index())
        .highlight_style(app.theme.tab_active());
    let tabs = if full {
        tabs.divider("·")
    } else {
        tabs.divider("").padding("", " ")
    };
    frame.render_widget(tabs, area);
}

fn render_footer(app: &App, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let line = match &app.status {
        Some(message) => Line::from(Span::styled(format!(" {message}"), theme.warn())),
        None => {
            let mut spans = Vec::new();
            for (keys, description) in app.keymap.hint_rows() {
                spans.push(Span::styled(format!(" {keys}"), theme.key()));
                spans.push(Span::raw(format!(" {description} ")));
            }
            if app.tab == Tab::Overview {
                let keys = app.keymap.keys_label(Action::Sort);
                spans.push(Span::styled(format!(" {keys}"), theme.key()));
                spans.push(Span::raw(" sort "));
            }
            if matches!(app.tab, Tab::Overview | Tab::Policies) {
                let keys = app.keymap.keys_label(Action::Tuning);
                spans.push(Span::styled(format!(" {keys}"), theme.key()));
                spans.push(Span::raw(" tune "));
            }
            Line::from(spans)
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn render_too_small(app: &App, frame: &mut Frame, area: Rect) {
    let text = vec![
        Line::from(Span::styled("Terminal too small", app.theme.alert())),
        Line::from(format!(
            "{}x{} — scaletop needs at least {MIN_WIDTH}x{MIN_HEIGHT}.",
            area.width, area.height
        )),
        Line::from("Enlarge the window; q quits."),
    ];
    let top = area.height.saturating_sub(3) / 2;
    frame.render_widget(
        Paragraph::new(text).centered().wrap(Wrap { trim: true }),
        Rect {
            y: area.y + top,
            height: area.height - top,
            ..area
        },
    );
}

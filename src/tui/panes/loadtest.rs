//! The live load-test scorecard panel, shown under every tab while a window is open.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

use crate::scorecard::DemandProfile;
use crate::store::Store;
use crate::tui::app::App;
use crate::tui::widgets::fmt_time;

/// Rows the panel takes.
pub const HEIGHT: u16 = 5;

pub fn render(app: &App, store: &Store, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let lt = &app.loadtest;
    let Some(start) = lt.start else { return };
    let now = store.now().map_or(start, |t| t.timestamp());
    let title = format!(
        " LOAD TEST since {} ({} min) — m closes and saves the scorecard ",
        fmt_time(start),
        (now - start).max(0) / 60
    );
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.warn())
        .title(Span::styled(title, theme.warn()));
    let lines = match &lt.live {
        None => vec![Line::from(Span::styled(
            "scoring the window… (updates every minute of data)",
            theme.dim(),
        ))],
        Some(Err(e)) => vec![Line::from(Span::styled(e.clone(), theme.warn()))],
        Some(Ok(s)) => {
            let tested: Vec<_> = s
                .groups
                .iter()
                .filter(|g| g.profile != DemandProfile::Steady)
                .collect();
            let worst_tts = s
                .groups
                .iter()
                .filter_map(|g| g.time_to_scale_seconds.as_ref()?.iter().max().copied())
                .max();
            let worst_p95 = s
                .groups
                .iter()
                .filter_map(|g| g.p95_during_scaling_ms)
                .reduce(f64::max);
            let thrash: usize = s.groups.iter().map(|g| g.thrash_pairs).sum();
            let verdict = if s.passed {
                Span::styled(" so far: PASS ", theme.good())
            } else {
                Span::styled(" so far: FAIL ", theme.alert())
            };
            let mut lines = vec![Line::from(vec![
                verdict,
                Span::raw(format!(
                    " {} groups moved ({} steady) │ worst time to scale {} (target {}) │ max p95 while scaling {} (target {} ms) │ thrash {} │ cost {}",
                    tested.len(),
                    s.groups.len() - tested.len(),
                    worst_tts.map_or("-".into(), |t| format!("{:.1} min", t as f64 / 60.0)),
                    s.targets.max_time_to_scale,
                    worst_p95.map_or("-".into(), |p| format!("{p:.0} ms")),
                    s.targets.p95_ms,
                    thrash,
                    s.cost_usd.map_or("-".into(), |c| format!("${c:.2}")),
                )),
            ])];
            if let Some((g, f)) = s
                .groups
                .iter()
                .find_map(|g| g.failures.first().map(|f| (g, f)))
            {
                lines.push(Line::from(Span::styled(
                    format!("{}: {f}", g.group),
                    theme.warn(),
                )));
            }
            lines
        }
    };
    frame.render_widget(
        Paragraph::new(lines).block(block).wrap(Wrap { trim: true }),
        area,
    );
}

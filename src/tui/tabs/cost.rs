//! Cost (issue 8): $/h now and the projected month, the breakdown by group, the on-demand /
//! spot / committed mix now and with the recommendations, savings available by kind, and cost
//! per million requests by day. Computed off the UI thread (`jobs::cost`); this only draws.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

use crate::engine::cost::plan::{CostReport, Mix};
use crate::pricing::PriceStatus;
use crate::store::Store;
use crate::tui::app::App;
use crate::tui::jobs::cost::CostOutcome;
use crate::tui::theme::Theme;

fn money(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v.abs() >= 1000.0 {
        format!("${:.1}k", v / 1000.0)
    } else {
        format!("${v:.2}")
    }
}

fn mix(m: &Mix) -> String {
    format!(
        "on-demand {:.0}% · spot {:.0}% · committed {:.0}%",
        m.on_demand_share * 100.0,
        m.spot_share * 100.0,
        m.committed_share * 100.0
    )
}

fn block<'a>(theme: &Theme, title: &'a str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .title(Span::styled(format!(" {title} "), theme.title()))
}

pub fn render(app: &App, store: &Store, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let Some(outcome) = app.cost.result.as_ref() else {
        let message = if store.groups().is_empty() {
            "waiting for data…"
        } else {
            "pricing every group from the catalog…"
        };
        frame.render_widget(
            Paragraph::new(message)
                .style(theme.dim())
                .centered()
                .block(block(theme, "Cost")),
            area,
        );
        return;
    };
    match &outcome.report {
        Err(e) => frame.render_widget(
            Paragraph::new(vec![
                Line::from(Span::styled("Cost cannot be computed:", theme.alert())),
                Line::from(e.as_str()),
            ])
            .wrap(Wrap { trim: true })
            .block(block(theme, "Cost")),
            area,
        ),
        Ok(r) if r.groups.is_empty() => {
            let mut lines = vec![Line::from(Span::styled(
                "No group could be priced, so no cost is shown:",
                theme.warn(),
            ))];
            lines.extend(outcome.skipped.iter().map(|s| Line::from(format!("  {s}"))));
            frame.render_widget(
                Paragraph::new(lines)
                    .wrap(Wrap { trim: true })
                    .block(block(theme, "Cost")),
                area,
            );
        }
        Ok(r) => render_report(theme, r, outcome, frame, area),
    }
}

/// Monitoring figures of the cost side (issue 10): how much of each existing commitment is
/// used now and under the recommendations, and the spot interruptions the recommended mix
/// should expect. None when there are neither commitments nor spot plans.
fn commitments_and_spot(theme: &Theme, r: &CostReport) -> Option<Line<'static>> {
    let pct = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{:.0}%", 100.0 * v));
    let mut parts: Vec<String> = r
        .inventory
        .iter()
        .map(|i| {
            let c = &i.commitment;
            let what = match &c.instance_type {
                Some(t) => format!("{} {t}", c.kind),
                None => c.kind.clone(),
            };
            format!(
                "commitment {what} used {} → {}",
                pct(i.utilization_now),
                pct(i.utilization_projected)
            )
        })
        .collect();
    let interruptions: f64 = r
        .plans
        .iter()
        .filter_map(|p| p.spot.as_ref())
        .map(|s| s.expected_interruptions_per_month)
        .sum();
    if r.plans.iter().any(|p| p.spot.is_some()) {
        parts.push(format!(
            "spot interruptions expected {interruptions:.1}/month with the recommended mix"
        ));
    }
    if parts.is_empty() {
        return None;
    }
    Some(Line::from(Span::styled(parts.join(" · "), theme.dim())))
}

fn render_report(theme: &Theme, r: &CostReport, o: &CostOutcome, frame: &mut Frame, area: Rect) {
    let t = &r.totals;
    let per_hour: f64 = r
        .groups
        .iter()
        .map(|g| g.usd_per_hour_now)
        .filter(|v| v.is_finite())
        .sum();
    let mut summary = vec![
        Line::from(vec![
            Span::styled("now ", theme.dim()),
            Span::raw(format!("{}/h", money(per_hour))),
            Span::styled("  month ", theme.dim()),
            Span::raw(money(t.current_usd_month)),
            Span::styled("  projected ", theme.dim()),
            Span::styled(money(t.projected_usd_month), theme.good()),
            Span::raw(format!(
                "  saving {} ({:.0}%)",
                money(t.saving.saving_usd_month),
                t.saving.saving_pct
            )),
        ]),
        Line::from(vec![
            Span::styled("mix now ", theme.dim()),
            Span::raw(mix(&t.mix_now)),
            Span::styled("  projected ", theme.dim()),
            Span::raw(mix(&t.mix_projected)),
        ]),
        Line::from(vec![
            Span::styled("savings by kind ", theme.dim()),
            Span::raw(if t.savings_by_kind.is_empty() {
                "none found".to_string()
            } else {
                t.savings_by_kind
                    .iter()
                    .map(|(k, v)| format!("{k} {}", money(*v)))
                    .collect::<Vec<_>>()
                    .join(" · ")
            }),
        ]),
        Line::from(vec![
            Span::styled("$ per million requests ", theme.dim()),
            Span::raw(format!(
                "now {} → {}; by day: {}",
                t.usd_per_million_requests_now
                    .map_or("-".into(), |v| format!("{v:.3}")),
                t.usd_per_million_requests_projected
                    .map_or("-".into(), |v| format!("{v:.3}")),
                t.usd_per_million_requests_by_day
                    .iter()
                    .map(|(_, v)| format!("{v:.3}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
        ]),
    ];
    if let Some(line) = commitments_and_spot(theme, r) {
        summary.push(line);
    }
    if !r.unverified_prices.is_empty() {
        summary.push(Line::from(Span::styled(
            format!(
                "* {} figure(s) rest on UNVERIFIED prices (scaletop pricing import makes them verified)",
                r.unverified_prices.len()
            ),
            theme.warn(),
        )));
    }
    for s in &o.skipped {
        summary.push(Line::from(Span::styled(
            format!("not priced: {s}"),
            theme.dim(),
        )));
    }
    let top = summary.len() as u16 + 2;
    let [summary_area, table_area] =
        Layout::vertical([Constraint::Length(top), Constraint::Min(0)]).areas(area);
    frame.render_widget(
        Paragraph::new(summary)
            .wrap(Wrap { trim: true })
            .block(block(theme, "Cost · 730-hour months")),
        summary_area,
    );
    let header =
        Row::new(["group", "priced as", "$/h", "month", "projected"]).style(theme.table_header());
    let rows = r.groups.iter().map(|g| {
        let mark = if g.price_status == PriceStatus::Unverified {
            "*"
        } else {
            ""
        };
        Row::new(vec![
            Cell::from(g.group.clone()),
            Cell::from(format!("{}{mark}", g.priced_as)),
            Cell::from(if g.usd_per_hour_now.is_finite() {
                format!("{:.3}", g.usd_per_hour_now)
            } else {
                "-".into()
            }),
            Cell::from(money(g.current_usd_month)),
            Cell::from(money(g.projected_usd_month)),
        ])
    });
    frame.render_widget(
        Table::new(
            rows,
            [
                Constraint::Min(16),
                Constraint::Min(24),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Length(10),
            ],
        )
        .header(header)
        .block(block(theme, "By group")),
        table_area,
    );
}

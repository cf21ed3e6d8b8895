//! Policies (issue 6): every group's current policy with where it came from, and the policy
//! replayed over the loaded history beside what actually happened. The replay runs off the UI
//! thread (`jobs::policies`); this only draws its latest result.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};
use ratatui::Frame;

use crate::store::Store;
use crate::tui::app::App;
use crate::tui::chart::{self, bucket_means, present, ChartSeries, MAX_POINTS};
use crate::tui::jobs::policies::{Figures, GroupReplay, PolicyRow};
use crate::tui::jobs::retune::RetuneFinding;
use crate::tui::tabs::workload::fmt_span;
use crate::tui::theme::Theme;
use crate::tui::widgets::{fmt_opt, fmt_time};

/// Label 18 + two columns of 11 inside borders: fits beside the chart at 80 columns too.
const COMPARE_WIDTH: u16 = 43;

pub fn render(app: &App, store: &Store, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let Some(outcome) = app.policies.result.as_ref() else {
        let message = if store.groups().is_empty() {
            "waiting for data…"
        } else {
            "replaying each group's policy over the loaded history…"
        };
        frame.render_widget(
            Paragraph::new(message).style(theme.dim()).centered().block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(Span::styled(" Policies ", theme.title())),
            ),
            area,
        );
        return;
    };
    // Groups in Overview order (filter + sort), so j/k here moves as it does there.
    let rows: Vec<&PolicyRow> = app
        .rows
        .iter()
        .filter_map(|&i| store.groups().get(i))
        .filter_map(|g| outcome.rows.iter().find(|r| r.group == g.id))
        .collect();
    let table_height = (rows.len() as u16 + 3).min(area.height / 2);
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Length(table_height), Constraint::Min(0)]).areas(area);
    render_table(app, &rows, frame, table_area);
    let selected = rows
        .iter()
        .find(|r| Some(&r.group) == app.selected.as_ref());
    match selected {
        None => {}
        Some(row) => match &row.replay {
            Ok(replay) => {
                let retune = app.retune.findings.get(&row.group);
                render_detail(theme, row, replay, retune, frame, detail_area)
            }
            Err(why) => frame.render_widget(
                Paragraph::new(vec![
                    Line::from(Span::styled(
                        format!("{}: this policy cannot be replayed.", row.group.name),
                        theme.warn(),
                    )),
                    Line::from(format!("Why: {why}.")),
                ])
                .wrap(Wrap { trim: true })
                .block(Block::default().borders(Borders::ALL)),
                detail_area,
            ),
        },
    }
}

fn render_table(app: &App, rows: &[&PolicyRow], frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let header = Row::new([
        "GROUP",
        "POLICY · PROVENANCE",
        "REPLICA-H rep/obs",
        "SLA MIN rep/obs",
        "EVENTS rep/obs",
        "THRASH",
        "NOT REPLAYED",
    ])
    .style(theme.table_header());
    let body: Vec<Row> = rows
        .iter()
        .map(|r| {
            let policy = match r.provenance {
                Some(p) => format!("{} · {p}", r.policy),
                None => r.policy.clone(),
            };
            let cells = match &r.replay {
                Ok(g) => {
                    let (rep, obs) = (&g.replayed_figures, &g.observed_figures);
                    vec![
                        Cell::from(format!(
                            "{:.1} / {:.1}",
                            rep.replica_hours, obs.replica_hours
                        )),
                        Cell::from(format!(
                            "{} / {}",
                            fmt_opt(rep.sla_violation_minutes, 1),
                            fmt_opt(obs.sla_violation_minutes, 1)
                        )),
                        Cell::from(format!("{} / {}", events(rep), events(obs))),
                        Cell::from(format!("{} / {}", rep.thrash_pairs, obs.thrash_pairs)),
                        Cell::from(""),
                    ]
                }
                Err(why) => {
                    // The table has room for the gist; the pane below gives the whole reason.
                    let gist = why.split([':', ',']).next().unwrap_or(why);
                    vec![
                        Cell::from("—"),
                        Cell::from("—"),
                        Cell::from("—"),
                        Cell::from("—"),
                        Cell::from(Span::styled(gist.to_string(), theme.warn())),
                    ]
                }
            };
            let mut all = vec![Cell::from(r.group.name.clone()), Cell::from(policy)];
            all.extend(cells);
            let row = Row::new(all);
            if Some(&r.group) == app.selected.as_ref() {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();
    let widths = [
        Constraint::Length(18),
        Constraint::Length(44),
        Constraint::Length(18),
        Constraint::Length(16),
        Constraint::Length(15),
        Constraint::Length(6),
        Constraint::Min(10),
    ];
    let title = Line::from(vec![
        Span::styled(" Policies ", theme.title()),
        Span::styled(
            "current policy of each group, replayed over the loaded history (every 5 min of data) · j/k select ",
            theme.dim(),
        ),
    ]);
    // The selection drives scrolling, so the selected group stays in view with many groups.
    let selected = rows
        .iter()
        .position(|r| Some(&r.group) == app.selected.as_ref());
    frame.render_stateful_widget(
        Table::new(body, widths)
            .header(header)
            .block(Block::default().borders(Borders::ALL).title(title)),
        area,
        &mut TableState::default().with_selected(selected),
    );
}

fn events(f: &Figures) -> String {
    format!("{}", f.scale_up_events + f.scale_down_events)
}

fn render_detail(
    theme: &Theme,
    row: &PolicyRow,
    g: &GroupReplay,
    retune: Option<&RetuneFinding>,
    frame: &mut Frame,
    area: Rect,
) {
    let [chart_area, compare_area] =
        Layout::horizontal([Constraint::Min(40), Constraint::Length(COMPARE_WIDTH)]).areas(area);
    let buckets = g.replayed.len().clamp(1, MAX_POINTS);
    let span = g.replayed.len() as i64 * g.step_seconds;
    let end = g.start + span - g.step_seconds;
    chart::render(
        frame,
        chart_area,
        theme,
        Line::from(vec![
            Span::styled(format!(" {} replicas — ", row.group.name), theme.title()),
            Span::styled("replayed", theme.series(2)),
            Span::raw(" vs "),
            Span::styled("observed", theme.series(0)),
            Span::raw(", "),
            Span::styled(format!("max {}", g.max_replicas), theme.alert()),
            Span::raw(" "),
        ]),
        vec![
            ChartSeries::line(
                theme.series(0),
                bucket_means(&present(&g.observed), buckets),
            ),
            ChartSeries::line(
                theme.series(2),
                bucket_means(&present(&g.replayed), buckets),
            ),
            ChartSeries::line(
                theme.alert(),
                vec![Some(f64::from(g.max_replicas)); buckets],
            ),
        ],
        vec![
            Span::styled(format!("-{}", fmt_span(span)), theme.dim()),
            Span::styled(
                fmt_time(end).get(11..16).unwrap_or("end").to_string(),
                theme.dim(),
            ),
        ],
        Some(0.0),
    );
    let (rep, obs) = (&g.replayed_figures, &g.observed_figures);
    let line =
        |label: &str, a: String, b: String| Line::from(format!(" {label:<18}{a:>11}{b:>11}"));
    let money = |v: f64| format!("${v:.2}");
    let mut lines = vec![
        Line::from(Span::styled(
            format!(" {:<18}{:>11}{:>11}", "", "replayed", "observed"),
            theme.table_header(),
        )),
        line("history", fmt_span(span), fmt_span(span)),
        line(
            "replica-hours",
            format!("{:.1}", rep.replica_hours),
            format!("{:.1}", obs.replica_hours),
        ),
        line("cost", money(rep.cost_usd), money(obs.cost_usd)),
        line(
            "SLA-violation min",
            fmt_opt(rep.sla_violation_minutes, 1),
            fmt_opt(obs.sla_violation_minutes, 1),
        ),
        line(
            "scale-ups / downs",
            format!("{} / {}", rep.scale_up_events, rep.scale_down_events),
            format!("{} / {}", obs.scale_up_events, obs.scale_down_events),
        ),
        line(
            "thrash pairs",
            rep.thrash_pairs.to_string(),
            obs.thrash_pairs.to_string(),
        ),
        line(
            "peak replicas",
            fmt_opt(rep.peak_replicas, 0),
            fmt_opt(obs.peak_replicas, 0),
        ),
        Line::from(""),
        Line::from(Span::styled(
            " Replayed from the recorded demand, starting at the observed replica count; \
             CPU follows from demand and the capacity model. Observed cost at the same price \
             per replica-hour.",
            theme.dim(),
        )),
    ];
    // What the background re-tuner last concluded for this group, surfaced or not.
    if let Some(f) = retune {
        lines.push(Line::from(""));
        let (head, style) = match &f.surfaced {
            Some(_) => (" Re-tuned: ready under r", theme.warn()),
            None => (" Re-tuned: nothing to change", theme.title()),
        };
        lines.push(Line::from(Span::styled(
            format!("{head} (data to {})", fmt_time(f.data_end)),
            style,
        )));
        lines.push(Line::from(format!(" {}", f.note)));
    }
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(Span::styled(" Replay vs what happened ", theme.title())),
        ),
        compare_area,
    );
}

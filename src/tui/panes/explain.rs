//! Why a scaling event happened: the metrics at that moment (from the store) and the policy
//! arithmetic that produced it (computed off the UI thread by `jobs::explain`).

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

use crate::duration::format_duration;
use crate::model::{MetricKind, ScaleDirection};
use crate::store::Store;
use crate::tui::app::ExplainState;
use crate::tui::figures::{read, ReadAt};
use crate::tui::theme::Theme;
use crate::tui::widgets::{fmt_compact, fmt_opt, fmt_time};

const WIDTH: u16 = 110;

pub fn render(state: &ExplainState, store: &Store, theme: &Theme, frame: &mut Frame, area: Rect) {
    let e = &state.event;
    let ts = e.at.timestamp();
    let (arrow, dir_style) = match e.direction() {
        Some(ScaleDirection::Up) => ("▲", theme.warn()),
        Some(ScaleDirection::Down) => ("▼", theme.good()),
        None => ("=", theme.dim()),
    };
    let mut lines = vec![
        Line::from(vec![
            Span::styled("Reported reason: ", theme.dim()),
            Span::raw(e.reason.clone()),
            if e.thrash {
                Span::styled("  THRASH", theme.alert())
            } else {
                Span::raw("")
            },
        ]),
        Line::from(""),
    ];
    lines.extend(moment_lines(state, store, theme));
    lines.push(Line::from(""));
    lines.extend(arithmetic_lines(state, theme));

    let width = WIDTH.min(area.width);
    let height = (lines.len() as u16 + 2).min(area.height);
    let popup = Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    };
    let title = Line::from(vec![
        Span::styled(format!(" Why did {} scale ", e.group.name), theme.title()),
        Span::styled(
            format!("{} → {} {arrow}", e.from_replicas, e.to_replicas),
            dir_style,
        ),
        Span::styled(format!(" at {} UTC? ", fmt_time(ts)), theme.title()),
    ]);
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(title)
                .title_bottom(
                    Line::from(vec![
                        Span::styled(" Enter", theme.key()),
                        Span::raw(" open Utilization at this time · "),
                        Span::styled("Esc", theme.key()),
                        Span::raw(" close "),
                    ])
                    .centered(),
                ),
        ),
        popup,
    );
}

/// Demand, CPU, memory, latency and replicas one step before the event and at it.
fn moment_lines(state: &ExplainState, store: &Store, theme: &Theme) -> Vec<Line<'static>> {
    let ts = state.event.at.timestamp();
    let step = store.step_seconds();
    let Some(g) = store.group_index(&state.event.group) else {
        return vec![Line::from(Span::styled(
            "The group is no longer in the store: no metrics to show.",
            theme.dim(),
        ))];
    };
    let value = |m: MetricKind, at: i64, decimals: usize| -> String {
        let v = read(store, g, m, ReadAt::At(at));
        if decimals == 99 {
            fmt_compact(v)
        } else {
            fmt_opt(v, decimals)
        }
    };
    let mut out = vec![Line::from(vec![Span::styled(
        format!(
            "{:<26}{:>16}{:>16}",
            "At that moment",
            format!("-{step}s"),
            "at the event"
        ),
        theme.table_header(),
    )])];
    let rows: [(&str, MetricKind, usize); 6] = [
        ("demand (req/s)", MetricKind::RequestRate, 99),
        ("CPU %", MetricKind::CpuUtilization, 1),
        ("memory %", MetricKind::MemoryUtilization, 1),
        ("p95 latency (ms)", MetricKind::LatencyP95Ms, 0),
        ("ready replicas", MetricKind::ReplicasReady, 0),
        ("desired replicas", MetricKind::ReplicasDesired, 0),
    ];
    for (label, m, decimals) in rows {
        out.push(Line::from(format!(
            "  {label:<24}{:>16}{:>16}",
            value(m, ts - step, decimals),
            value(m, ts, decimals)
        )));
    }
    out
}

fn arithmetic_lines(state: &ExplainState, theme: &Theme) -> Vec<Line<'static>> {
    let Some(result) = &state.result else {
        return vec![Line::from(Span::styled(
            "Replaying the policy up to this event…",
            theme.dim(),
        ))];
    };
    let policy = match (&result.policy, result.provenance) {
        (Some(p), Some(src)) => format!("{p} · {src}"),
        (Some(p), None) => p.clone(),
        (None, _) => "unknown".into(),
    };
    let mut out = vec![Line::from(vec![
        Span::styled("Policy: ", theme.table_header()),
        Span::raw(policy),
    ])];
    match &result.arithmetic {
        Err(why) => out.push(Line::from(Span::styled(
            format!("No arithmetic to show: {why}."),
            theme.warn(),
        ))),
        Ok(a) => {
            out.push(Line::from(Span::styled(
                format!(
                    "The arithmetic at this moment (policy driven over the {} before it: {} earlier decisions):",
                    format_duration(std::time::Duration::from_secs(a.lookback_seconds.max(0) as u64)),
                    a.decisions_replayed
                ),
                theme.dim(),
            )));
            if a.lines.is_empty() {
                out.push(Line::from(format!(
                    "  the policy keeps {} replicas at this moment (no change, so no arithmetic recorded)",
                    a.desired
                )));
            }
            for l in &a.lines {
                out.push(Line::from(format!("  {l}")));
            }
            let e = &result.event;
            let verdict = if a.desired == e.to_replicas {
                Span::styled(
                    format!(
                        "→ {} replicas: matches the event ({} → {}).",
                        a.desired, e.from_replicas, e.to_replicas
                    ),
                    theme.good(),
                )
            } else {
                Span::styled(
                    format!(
                        "→ {} replicas, but the event went {} → {}: the recorded metrics \
                         (15 s samples) differ from what the autoscaler saw, or its history did.",
                        a.desired, e.from_replicas, e.to_replicas
                    ),
                    theme.warn(),
                )
            };
            out.push(Line::from(verdict));
        }
    }
    out
}

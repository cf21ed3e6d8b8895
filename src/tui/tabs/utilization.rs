//! Utilization of the focused group: demand vs capacity, CPU / memory / network, replicas, over
//! the app's time window (`+`/`-` zoom, `←`/`→` scroll, `f` freeze).

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use ratatui::Frame;

use crate::duration::format_duration;
use crate::model::{GroupInfo, MetricKind};
use crate::store::Store;
use crate::tui::app::App;
use crate::tui::chart::{self, bucket_means, ChartSeries, MAX_POINTS};
use crate::tui::widgets::{fmt_compact, fmt_opt, fmt_time};

/// One line of a chart: a style and values oldest first (`None` = gap).
struct Line_ {
    style: Style,
    values: Vec<Option<f64>>,
}

pub fn render(app: &App, store: &Store, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let Some(g) = app.focus_index(store) else {
        let message = if store.groups().is_empty() {
            "waiting for data…"
        } else {
            "no group selected — pick one on Overview and press Enter, or `:group NAME`"
        };
        frame.render_widget(
            Paragraph::new(message).style(theme.dim()).centered().block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(" Utilization "),
            ),
            area,
        );
        return;
    };
    let info = &store.groups()[g];
    let Some(end) = app.time.end(store) else {
        frame.render_widget(Paragraph::new("waiting for data…").style(theme.dim()), area);
        return;
    };
    let window = app.time.window_seconds;
    let step = store.step_seconds();
    let buckets = ((window / step).max(1) as usize).min(MAX_POINTS);
    let read = |m: MetricKind| -> Vec<Option<f64>> {
        store
            .series(g, m)
            .map(|s| bucket_means(&s.window(end, (window / step).max(1) as usize), buckets))
            .unwrap_or_else(|| vec![None; buckets])
    };

    let status = platform_status(info);
    let [info_area, demand_area, resources_area, replicas_area] = Layout::vertical([
        Constraint::Length(if status.is_some() { 3 } else { 2 }),
        Constraint::Percentage(40),
        Constraint::Percentage(30),
        Constraint::Percentage(30),
    ])
    .areas(area);
    render_info(app, info, end, info_area, frame);

    let demand = read(MetricKind::RequestRate);
    let ready = read(MetricKind::ReplicasReady);
    let per_replica = info.capacity.as_ref().map(|c| c.capacity_per_replica_rps);
    let capacity: Vec<Option<f64>> = match per_replica {
        Some(rps) => ready.iter().map(|r| r.map(|r| r * rps)).collect(),
        None => vec![None; buckets],
    };
    let demand_now = demand.iter().rev().flatten().next().copied();
    let capacity_now = capacity.iter().rev().flatten().next().copied();
    let load = match (demand_now, capacity_now) {
        (Some(d), Some(c)) if c > 0.0 => format!(" ({:.0}% of capacity)", 100.0 * d / c),
        _ => String::new(),
    };
    let capacity_label = match per_replica {
        Some(rps) => format!("capacity (ready × {})", fmt_compact(Some(rps))),
        None => "capacity unknown (no capacity model)".to_string(),
    };
    chart(
        app,
        frame,
        demand_area,
        Line::from(vec![
            Span::styled(" Demand vs capacity — ", theme.title()),
            Span::styled(
                format!("demand {} req/s", fmt_compact(demand_now)),
                theme.series(0),
            ),
            Span::raw(", "),
            Span::styled(
                format!("{capacity_label}: {} req/s", fmt_compact(capacity_now)),
                theme.series(1),
            ),
            Span::raw(format!("{load} ")),
        ]),
        vec![
            Line_ {
                style: theme.series(0),
                values: demand,
            },
            Line_ {
                style: theme.series(1),
                values: capacity,
            },
        ],
        Some(0.0),
    );

    let [cpu_area, mem_area, net_area] = Layout::horizontal([
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
        Constraint::Ratio(1, 3),
    ])
    .areas(resources_area);
    for (m, title, a, decimals) in [
        (MetricKind::CpuUtilization, "CPU %", cpu_area, 0),
        (MetricKind::MemoryUtilization, "Memory %", mem_area, 0),
        (MetricKind::NetworkMbps, "Network Mb/s", net_area, 1),
    ] {
        let values = read(m);
        let now = values.iter().rev().flatten().next().copied();
        chart(
            app,
            frame,
            a,
            Line::from(Span::styled(
                format!(" {title} — {} ", fmt_opt(now, decimals)),
                theme.title(),
            )),
            vec![Line_ {
                style: theme.series(0),
                values,
            }],
            Some(0.0),
        );
    }

    let desired = read(MetricKind::ReplicasDesired);
    let max_line: Vec<Option<f64>> = match info.capacity.as_ref() {
        Some(c) => vec![Some(f64::from(c.max_replicas)); buckets],
        None => read(MetricKind::ReplicasMax),
    };
    let ready_now = ready.iter().rev().flatten().next().copied();
    let desired_now = desired.iter().rev().flatten().next().copied();
    let max_now = max_line.iter().rev().flatten().next().copied();
    chart(
        app,
        frame,
        replicas_area,
        Line::from(vec![
            Span::styled(" Replicas — ", theme.title()),
            Span::styled(format!("ready {}", fmt_opt(ready_now, 0)), theme.series(0)),
            Span::raw(" / "),
            Span::styled(
                format!("desired {}", fmt_opt(desired_now, 0)),
                theme.series(2),
            ),
            Span::raw(" / "),
            Span::styled(format!("max {}", fmt_opt(max_now, 0)), theme.alert()),
            Span::raw(" "),
        ]),
        vec![
            Line_ {
                style: theme.series(0),
                values: ready,
            },
            Line_ {
                style: theme.series(2),
                values: desired,
            },
            Line_ {
                style: theme.alert(),
                values: max_line,
            },
        ],
        Some(0.0),
    );
}

fn render_info(app: &App, info: &GroupInfo, end: i64, area: Rect, frame: &mut Frame) {
    let theme = &app.theme;
    let policy = info
        .policy
        .as_ref()
        .map(|p| format!("{} ({})", p.model.summary(), p.provenance.label()))
        .unwrap_or_else(|| "policy unknown".into());
    let window = format_duration(std::time::Duration::from_secs(
        app.time.window_seconds as u64,
    ));
    let mode = match app.time.frozen_end {
        Some(_) => Span::styled(" FROZEN ", theme.frozen()),
        None => Span::styled("live", theme.good()),
    };
    let lines = vec![
        Line::from(vec![
            Span::styled(info.id.name.as_str(), theme.title()),
            Span::styled(format!("  {}", info.id), theme.dim()),
            Span::raw(format!(
                "  instance {}",
                info.instance_type.as_deref().unwrap_or("—")
            )),
            Span::raw(format!("  policy: {policy}")),
        ]),
        Line::from(vec![
            Span::raw(format!("window {window} ending {} UTC  ", fmt_time(end))),
            mode,
            Span::styled(
                "   +/- zoom · ←/→ scroll · f freeze · Esc back",
                theme.dim(),
            ),
        ]),
    ];
    let mut lines = lines;
    if let Some(status) = platform_status(info) {
        lines.push(Line::from(Span::raw(status)));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

/// The autoscaler's own status as the platform reports it (HPA conditions, latest warning),
/// for groups a platform API describes; None otherwise.
fn platform_status(info: &GroupInfo) -> Option<String> {
    let mut parts: Vec<String> = info
        .labels
        .iter()
        // Status and reason only; the message is in `snapshot` and the label.
        .filter_map(|(k, v)| {
            let short = v.split_once(':').map_or(v.as_str(), |(head, _)| head);
            Some(format!("{} {short}", k.strip_prefix("k8s.condition.")?))
        })
        .collect();
    if let Some(w) = info.labels.get("k8s.warning").filter(|w| !w.is_empty()) {
        parts.push(format!("warning {w}"));
    }
    (!parts.is_empty()).then(|| format!("HPA: {}", parts.join(" · ")))
}

fn chart(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    title: Line<'static>,
    lines: Vec<Line_>,
    y_floor: Option<f64>,
) {
    let theme = &app.theme;
    let window = app.time.window_seconds;
    let x_labels = vec![
        Span::styled(
            format!(
                "-{}",
                format_duration(std::time::Duration::from_secs(window as u64))
            ),
            theme.dim(),
        ),
        Span::styled(
            match app.time.frozen_end {
                Some(end) => fmt_time(end).get(11..16).unwrap_or("end").to_string(),
                None => "now".to_string(),
            },
            theme.dim(),
        ),
    ];
    let series = lines
        .into_iter()
        .map(|l| ChartSeries::line(l.style, l.values))
        .collect();
    chart::render(frame, area, theme, title, series, x_labels, y_floor);
}

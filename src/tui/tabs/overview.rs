//! Overview: one row per group — replicas, utilization, demand, latency, cost, demand trend.
//! Only the rows on screen are built, so 500 groups cost what 40 do.

use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;

use crate::model::MetricKind;
use crate::store::{SeriesRing, Store};
use crate::tui::app::{App, SortColumn};
use crate::tui::figures::GroupFigures;
use crate::tui::widgets::{fmt_compact, fmt_opt, sparkline, MISSING};

type Column = (&'static str, u16, Option<SortColumn>);

/// Columns before the sparkline on a wide terminal: (title, width, sort column it shows).
const WIDE: [Column; 9] = [
    ("GROUP", 26, Some(SortColumn::Name)),
    ("PLATFORM SCOPE", 30, None),
    ("READY/DESIRED", 14, Some(SortColumn::Replicas)),
    ("MIN–MAX", 10, None),
    ("CPU %", 7, Some(SortColumn::Cpu)),
    ("MEM %", 7, Some(SortColumn::Memory)),
    ("REQ/S", 8, Some(SortColumn::RequestRate)),
    ("P95 MS", 8, Some(SortColumn::P95)),
    ("$/H", 8, Some(SortColumn::Cost)),
];

/// The same without scope, narrower, for terminals under `WIDE_MIN_WIDTH` columns.
const NARROW: [Column; 8] = [
    ("GROUP", 20, Some(SortColumn::Name)),
    ("RDY/DES", 11, Some(SortColumn::Replicas)),
    ("MIN–MAX", 8, None),
    ("CPU%", 5, Some(SortColumn::Cpu)),
    ("MEM%", 5, Some(SortColumn::Memory)),
    ("REQ/S", 6, Some(SortColumn::RequestRate)),
    ("P95", 5, Some(SortColumn::P95)),
    ("$/H", 6, Some(SortColumn::Cost)),
];

const WIDE_MIN_WIDTH: u16 = 150;
/// A sparkline narrower than this says nothing; the column is dropped.
const MIN_SPARK_WIDTH: u16 = 8;

/// At most this many points are read per sparkline, however long the window.
const SPARK_POINTS_PER_CELL: usize = 4;

pub fn render(app: &App, store: &Store, frame: &mut Frame, area: Rect) {
    let theme = &app.theme;
    let mut title = vec![
        Span::styled(format!(" Groups ({}) ", app.rows.len()), theme.title()),
        Span::styled(format!("sort: {} ", app.sort.label()), theme.dim()),
    ];
    if let Some(m) = app
        .monitoring
        .result
        .as_ref()
        .filter(|m| !m.groups.is_empty())
    {
        title.extend(crate::tui::tabs::events::fleet_spans(theme, &m.fleet));
    }
    let title = Line::from(title);
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    if store.groups().is_empty() {
        frame.render_widget(
            Paragraph::new("waiting for data… (no group reported yet)")
                .style(theme.dim())
                .centered(),
            centered_line(inner),
        );
        return;
    }
    if app.rows.is_empty() {
        frame.render_widget(
            Paragraph::new(format!("no group matches filter '{}'", app.filter.text))
                .style(theme.warn())
                .centered(),
            centered_line(inner),
        );
        return;
    }

    let wide = inner.width >= WIDE_MIN_WIDTH;
    let columns: &[Column] = if wide { &WIDE } else { &NARROW };
    let fixed: u16 = columns.iter().map(|c| c.1 + 1).sum();
    let spark_width = inner.width.saturating_sub(fixed);
    let show_trend = spark_width >= MIN_SPARK_WIDTH;
    let body_height = inner.height.saturating_sub(1) as usize;
    // Keep the cursor on screen; no stored scroll offset keeps render pure.
    let offset = app
        .cursor
        .saturating_sub(body_height.saturating_sub(1))
        .min(app.rows.len().saturating_sub(body_height));
    let end = app.time.end(store);
    let at = app.time.read_at();

    let rows: Vec<Row> = app.rows[offset..]
        .iter()
        .take(body_height)
        .enumerate()
        .map(|(i, &g)| {
            let figures = GroupFigures::read(store, g, at);
            let trend = match (store.series(g, MetricKind::RequestRate), end) {
                (Some(series), Some(end)) if show_trend => sparkline(
                    &bucket_means(series, end, app.time.window_seconds, spark_width as usize),
                    spark_width as usize,
                ),
                _ => String::new(),
            };
            let row = group_row(app, store, g, &figures, trend, wide);
            if offset + i == app.cursor {
                row.style(theme.selected())
            } else {
                row
            }
        })
        .collect();

    let header = {
        let mut cells: Vec<Cell> = columns
            .iter()
            .map(|(name, _, sort)| {
                let marker = match *sort == Some(app.sort) {
                    true if app.sort == SortColumn::Name => "▲",
                    true => "▼",
                    false => "",
                };
                Cell::from(format!("{name}{marker}"))
            })
            .collect();
        if show_trend {
            cells.push(Cell::from(format!(
                "REQ/S TREND ({})",
                crate::duration::format_duration(std::time::Duration::from_secs(
                    app.time.window_seconds as u64
                ))
            )));
        }
        Row::new(cells).style(theme.table_header())
    };
    let widths: Vec<Constraint> = columns
        .iter()
        .map(|c| Constraint::Length(c.1))
        .chain(show_trend.then_some(Constraint::Min(1)))
        .collect();
    frame.render_widget(Table::new(rows, widths).header(header), inner);
}

fn group_row<'a>(
    app: &App,
    store: &'a Store,
    g: usize,
    f: &GroupFigures,
    trend: String,
    wide: bool,
) -> Row<'a> {
    let theme = &app.theme;
    let id = &store.groups()[g].id;
    let replicas = format!("{}/{}", fmt_opt(f.ready, 0), fmt_opt(f.desired, 0));
    let bounds = match (f.min, f.max) {
        (None, None) => MISSING.to_string(),
        (min, max) => format!("{}–{}", fmt_opt(min, 0), fmt_opt(max, 0)),
    };
    let (replicas_cell, bounds_cell) = if f.at_max() {
        (
            Cell::from(Span::styled(format!("{replicas} MAX"), theme.alert())),
            Cell::from(Span::styled(bounds, theme.alert())),
        )
    } else {
        (Cell::from(replicas), Cell::from(bounds))
    };
    let pct = |v: Option<f64>| -> Cell<'static> {
        let style = match v {
            Some(p) if p >= 90.0 => theme.alert(),
            Some(p) if p >= 75.0 => theme.warn(),
            _ => Style::new(),
        };
        Cell::from(Span::styled(fmt_opt(v, 0), style))
    };
    let mut cells = vec![Cell::from(id.name.as_str())];
    if wide {
        // The platform first: one fleet can mix Kubernetes, ASGs, MIGs and scale sets.
        cells.push(Cell::from(Span::styled(
            format!("{:<5} {}", id.platform.as_str(), id.scope),
            theme.dim(),
        )));
    }
    cells.extend([
        replicas_cell,
        bounds_cell,
        pct(f.cpu_pct),
        pct(f.memory_pct),
        Cell::from(fmt_compact(f.request_rate)),
        Cell::from(fmt_opt(f.p95_ms, 0)),
        Cell::from(fmt_opt(f.usd_per_hour, 2)),
        Cell::from(Span::styled(trend, theme.series(0))),
    ]);
    Row::new(cells)
}

/// One mean per cell over the window ending at `end`, oldest first. Buckets are aligned to
/// absolute time, so a new sample only changes the newest cell instead of shifting every bar
/// (less redraw output, no shimmer). Each bucket reads at most `SPARK_POINTS_PER_CELL` slots,
/// so a 14-day window costs what a 2-hour one does.
pub fn bucket_means(
    series: &SeriesRing,
    end: i64,
    window_seconds: i64,
    cells: usize,
) -> Vec<Option<f64>> {
    let step = series.step_seconds();
    let cells_i = cells.max(1) as i64;
    let slots = (window_seconds / step).max(1);
    let per_bucket_slots = ((slots + cells_i - 1) / cells_i).max(1);
    let bucket = per_bucket_slots * step;
    let newest_start = end.div_euclid(bucket) * bucket;
    let reads = (per_bucket_slots as usize).min(SPARK_POINTS_PER_CELL) as i64;
    (0..cells_i)
        .map(|b| {
            let start = newest_start - (cells_i - 1 - b) * bucket;
            // Read backwards from the bucket's last slot (or `end`), so the newest cell
            // always includes the newest sample.
            let last = (start + bucket - step).min(end);
            let stride = (per_bucket_slots / reads).max(1) * step;
            let (sum, n) = (0..reads)
                .map(|k| last - k * stride)
                .filter(|&t| t >= start)
                .filter_map(|t| series.at(t))
                .fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
            (n > 0).then(|| sum / f64::from(n))
        })
        .collect()
}

fn centered_line(area: Rect) -> Rect {
    Rect {
        y: area.y + area.height / 2,
        height: 1.min(area.height),
        ..area
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_aligned_so_old_cells_do_not_move() {
        let mut ring = SeriesRing::new(15, 1000);
        for k in 0..400 {
            ring.push(k * 15, k as f64);
        }
        // 8 cells over 1h of 15 s slots: 30 slots (450 s) per cell.
        let a = bucket_means(&ring, 390 * 15, 3600, 8);
        let b = bucket_means(&ring, 391 * 15, 3600, 8);
        assert_eq!(a.len(), 8);
        assert_eq!(a[..7], b[..7], "only the newest cell changes");
        // Nothing after `end` is read.
        let end = 390 * 15;
        let newest_start = end / 450 * 450;
        assert!(a[7].is_some_and(|v| v <= 390.0 && v >= (newest_start / 15) as f64));
    }

    #[test]
    fn empty_buckets_stay_missing() {
        let mut ring = SeriesRing::new(15, 1000);
        ring.push(10_000 * 15, 5.0);
        let v = bucket_means(&ring, 10_000 * 15, 3600, 4);
        assert_eq!(v[..3], [None, None, None]);
        assert_eq!(v[3], Some(5.0));
    }
}

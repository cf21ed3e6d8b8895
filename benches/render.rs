//! Frame render of Overview with 500 groups at 160x48 on a TestBackend.
//!
//! `overview_500/scaletop` is the real render: only the rows on screen are built, and each
//! sparkline reads a bounded sample of its window. `overview_500/naive_all_rows` is the baseline
//! in the same run: every group's row and full-window sparkline built each frame, with the
//! table widget left to skip the rows off screen.

#[path = "../tests/tui_support/mod.rs"]
mod tui_support;

use criterion::{criterion_group, criterion_main, Criterion};
use ratatui::backend::TestBackend;
use ratatui::layout::Constraint;
use ratatui::widgets::{Block, Borders, Row, Table, TableState};
use ratatui::Terminal;
use scaletop::model::MetricKind;
use scaletop::store::Store;
use scaletop::tui::app::App;
use scaletop::tui::figures::GroupFigures;
use scaletop::tui::render::render;
use scaletop::tui::widgets::{fmt_compact, fmt_opt, sparkline};

fn naive_overview(app: &App, store: &Store, frame: &mut ratatui::Frame) {
    let end = app.time.end(store).unwrap_or(0);
    let slots = (app.time.window_seconds / store.step_seconds()) as usize;
    let rows: Vec<Row> = app
        .rows
        .iter()
        .map(|&g| {
            let f = GroupFigures::read(store, g, app.time.read_at());
            let trend = store
                .series(g, MetricKind::RequestRate)
                .map(|s| sparkline(&s.window(end, slots), 60))
                .unwrap_or_default();
            Row::new(vec![
                store.groups()[g].id.name.clone(),
                format!("{}/{}", fmt_opt(f.ready, 0), fmt_opt(f.desired, 0)),
                fmt_opt(f.cpu_pct, 0),
                fmt_opt(f.memory_pct, 0),
                fmt_compact(f.request_rate),
                fmt_opt(f.p95_ms, 0),
                fmt_opt(f.usd_per_hour, 2),
                trend,
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(26),
        Constraint::Length(14),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Min(10),
    ];
    let mut state = TableState::default().with_selected(Some(app.cursor));
    frame.render_stateful_widget(
        Table::new(rows, widths).block(Block::default().borders(Borders::ALL)),
        frame.area(),
        &mut state,
    );
}

fn bench(c: &mut Criterion) {
    let store = tui_support::store_with(500);
    let app = tui_support::app(&store);
    assert_eq!(app.rows.len(), 500);
    let now = tui_support::wall_now();
    let mut group = c.benchmark_group("overview_500");
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    group.bench_function("scaletop", |b| {
        b.iter(|| {
            terminal
                .draw(|f| render(&app, &store, now, f))
                .expect("draw");
        })
    });
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    group.bench_function("naive_all_rows", |b| {
        b.iter(|| {
            terminal
                .draw(|f| naive_overview(&app, &store, f))
                .expect("draw");
        })
    });
    // The floor: a frame that draws one line, to show what the backend diff itself costs.
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    group.bench_function("floor_one_line", |b| {
        b.iter(|| {
            terminal
                .draw(|f| f.render_widget(ratatui::widgets::Paragraph::new("x"), f.area()))
                .expect("draw");
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

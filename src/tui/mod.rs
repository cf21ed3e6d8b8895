//! The terminal UI: a run loop over input, source updates and a slow clock; `App` state changed
//! only by `App::update`; pure rendering of each tab and pane from the app and the store.

pub mod app;
pub mod chart;
pub mod figures;
pub mod jobs;
pub mod keymap;
pub mod panes;
pub mod render;
pub mod run_loop;
pub mod source_tasks;
pub mod tab;
pub mod tabs;
pub mod terminal;
pub mod theme;
pub mod widgets;

use chrono::Utc;
use crossterm::event::EventStream;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::duration::parse_duration;
use crate::store::Store;
use app::App;
use run_loop::{run_loop, LoopSettings};
use theme::Theme;

/// The store's step: one slot per 15 s of data time.
pub const STORE_STEP_SECONDS: i64 = 15;

/// Updates queued between a source and the UI before the source waits.
const UPDATE_CHANNEL_CAPACITY: usize = 4096;

/// Slots per series for the configured history.
pub fn history_slots(cfg: &Config) -> usize {
    let seconds = parse_duration(&cfg.ui.history)
        .map(|d| d.as_secs())
        .unwrap_or(86_400);
    (seconds / STORE_STEP_SECONDS as u64).max(1) as usize
}

/// Runs the TUI until the user quits.
pub fn run(cfg: Config) -> color_eyre::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(run_async(cfg))
}

async fn run_async(cfg: Config) -> color_eyre::Result<()> {
    let (tx, rx) = mpsc::channel(UPDATE_CHANNEL_CAPACITY);
    let theme = Theme::from_config(cfg.ui.color, std::env::var("NO_COLOR").ok().as_deref());
    let mut app = App::new(&cfg, theme, source_tasks::label(&cfg));
    app.scenarios = crate::sim::catalog().into_iter().map(|s| s.name).collect();
    let mut store = Store::new(STORE_STEP_SECONDS, history_slots(&cfg));
    let mut tasks = source_tasks::spawn(&cfg, tx)?;

    let mut terminal = terminal::init()?;
    let mut switch_source = |name: &str| {
        let mut next = cfg.clone();
        next.demo.scenario = name.to_string();
        let (tx, rx) = mpsc::channel(UPDATE_CHANNEL_CAPACITY);
        let started = source_tasks::spawn(&next, tx)?;
        for task in tasks.drain(..) {
            task.abort();
        }
        tasks.extend(started);
        Ok((rx, source_tasks::label(&next)))
    };
    let result = run_loop(
        &mut terminal,
        &mut app,
        &mut store,
        EventStream::new(),
        rx,
        Utc::now,
        LoopSettings::new(cfg.ui.max_fps, history_slots(&cfg)),
        &mut switch_source,
    )
    .await;
    terminal::restore();
    for task in tasks {
        task.abort();
    }
    match &result {
        Ok(stats) => tracing::info!(frames = stats.frames, updates = stats.updates, "tui exit"),
        Err(e) => tracing::error!("tui failed: {e:#}"),
    }
    result.map(|_| ())
}

//! The main loop: `select!` over terminal input, source updates and a slow clock. It redraws
//! only when something changed — at once for keys and resizes, at most `max_fps` times a second
//! for live data — and drains every queued update before drawing once.

use std::time::Duration;

use chrono::{DateTime, Utc};
use color_eyre::eyre::eyre;
use crossterm::event::Event;
use futures::{Stream, StreamExt};
use ratatui::backend::Backend;
use ratatui::Terminal;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};

use crate::sources::Update;
use crate::store::Store;
use crate::tui::app::App;
use crate::tui::jobs::{self, JobOutput};
use crate::tui::render::render;

/// Updates applied per batch before input gets a turn, so a flood cannot starve the keys.
const MAX_UPDATES_PER_BATCH: usize = 20_000;

#[derive(Debug, Clone, Copy)]
pub struct LoopSettings {
    /// Highest redraw rate for data-driven redraws.
    pub max_fps: f64,
    /// The slow clock that refreshes ages ("updated 3s ago").
    pub clock_period: Duration,
    /// Slots per series when the store is rebuilt for a new source.
    pub history_slots: usize,
}

impl LoopSettings {
    pub fn new(max_fps: f64, history_slots: usize) -> Self {
        Self {
            max_fps,
            clock_period: Duration::from_secs(1),
            history_slots,
        }
    }

    fn min_frame_interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.max_fps.clamp(0.1, 60.0))
    }
}

/// Restarts the sources on another scenario; returns the new update channel and header label.
pub type SwitchSource<'a> =
    dyn FnMut(&str) -> color_eyre::Result<(mpsc::Receiver<Update>, String)> + 'a;

/// What the loop did, for tests and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoopStats {
    pub frames: u64,
    pub updates: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Dirty {
    Clean,
    /// Data or clock changed: redraw when the frame budget allows.
    Data,
    /// The user did something: redraw now.
    Now,
}

/// Runs until the app quits or input ends. `now` is the wall clock (injected for tests).
#[allow(clippy::too_many_arguments)] // each is one of the loop's inputs; a struct would hide that
pub async fn run_loop<B, I>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    store: &mut Store,
    mut input: I,
    mut updates: mpsc::Receiver<Update>,
    now: impl Fn() -> DateTime<Utc>,
    settings: LoopSettings,
    switch_source: &mut SwitchSource<'_>,
) -> color_eyre::Result<LoopStats>
where
    B: Backend,
    I: Stream<Item = std::io::Result<Event>> + Unpin,
{
    let min_interval = settings.min_frame_interval();
    let mut clock = tokio::time::interval_at(
        Instant::now() + settings.clock_period,
        settings.clock_period,
    );
    clock.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut stats = LoopStats::default();
    let mut dirty = Dirty::Now; // the first frame, before any data
    let mut last_draw = Instant::now();
    let mut updates_open = true;
    // Engine jobs answer here; unbounded so a blocking worker never waits on the UI.
    let (job_tx, mut job_rx) = mpsc::unbounded_channel::<JobOutput>();
    app.sync(store);

    loop {
        if app.quit {
            break;
        }
        for job in jobs::due(app, store)
            .into_iter()
            .chain(jobs::due_watch(app, store))
        {
            let tx = job_tx.clone();
            tokio::task::spawn_blocking(move || {
                // The loop may have ended; then nobody wants the answer.
                let _ = tx.send(jobs::run(job));
            });
        }
        let due = match dirty {
            Dirty::Now => true,
            Dirty::Data => last_draw.elapsed() >= min_interval,
            Dirty::Clean => false,
        };
        if due {
            terminal
                .draw(|frame| render(app, store, now(), frame))
                .map_err(|e| eyre!("cannot draw to the terminal: {e}"))?;
            stats.frames += 1;
            last_draw = Instant::now();
            dirty = Dirty::Clean;
        }
        let deadline = last_draw + min_interval;

        tokio::select! {
            event = input.next() => match event {
                Some(Ok(Event::Key(key))) => {
                    app.on_key(key, store);
                    if let Some(name) = app.switch_scenario.take() {
                        match switch_source(&name) {
                            Ok((receiver, label)) => {
                                updates = receiver;
                                updates_open = true;
                                *store = Store::new(store.step_seconds(), settings.history_slots);
                                app.reset_for_new_source(label);
                                if let Some(demo) = app.demo.as_mut() {
                                    demo.scenario = name.clone();
                                }
                                app.sync(store);
                            }
                            Err(e) => {
                                app.status = Some(format!("cannot switch to '{name}': {e}"));
                            }
                        }
                    }
                    dirty = Dirty::Now;
                }
                Some(Ok(Event::Resize(..))) => dirty = Dirty::Now,
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(eyre!("cannot read terminal input: {e}")),
                None => break,
            },
            update = updates.recv(), if updates_open => match update {
                Some(first) => {
                    let before = store.generation();
                    let data_time = store.now();
                    store.apply(first);
                    stats.updates += 1;
                    let mut drained = 1;
                    while drained < MAX_UPDATES_PER_BATCH {
                        let Ok(next) = updates.try_recv() else { break };
                        store.apply(next);
                        drained += 1;
                    }
                    stats.updates += drained as u64 - 1;
                    // "Updated" means new data, not any report: a source that is down
                    // keeps reporting its health and must not look fresh.
                    if store.now() != data_time {
                        app.last_data_at = Some(now());
                    }
                    if store.generation() != before {
                        app.sync(store);
                        dirty = dirty.max(Dirty::Data);
                    }
                }
                None => {
                    tracing::info!("all sources closed their channel");
                    updates_open = false;
                }
            },
            Some(output) = job_rx.recv() => {
                app.apply_job(output);
                dirty = Dirty::Now;
            }
            _ = clock.tick() => dirty = dirty.max(Dirty::Data),
            _ = tokio::time::sleep_until(deadline), if dirty == Dirty::Data => {}
        }
    }
    Ok(stats)
}

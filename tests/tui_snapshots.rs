//! The real app on a `TestBackend`: snapshots of each tab and pane (fixed data, fixed clock),
//! key-driven navigation, colour of the cells that matter, and the run loop itself.

mod tui_support;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ratatui::Terminal;
use scaletop::store::Store;
use scaletop::tui::app::{App, Pane};
use scaletop::tui::jobs;
use scaletop::tui::render::render;
use scaletop::tui::run_loop::{run_loop, LoopSettings};
use scaletop::tui::tab::Tab;
use tui_support as fx;

const W: u16 = 160;
const H: u16 = 48;

fn draw(app: &App, store: &Store, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal
        .draw(|f| render(app, store, fx::wall_now(), f))
        .expect("draw");
    terminal
}

fn screen(app: &App, store: &Store) -> String {
    draw(app, store, W, H).backend().to_string()
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn press(app: &mut App, store: &Store, keys: &str) {
    for c in keys.chars() {
        app.on_key(key(KeyCode::Char(c)), store);
    }
}

/// Foreground colour where `needle` starts, in the first row that contains both `row` and
/// `needle`.
fn fg_at(terminal: &Terminal<TestBackend>, row: &str, needle: &str) -> Option<Color> {
    let buffer = terminal.backend().buffer();
    let width = buffer.area.width as usize;
    for y in 0..buffer.area.height {
        let line: String = (0..buffer.area.width)
            .map(|x| buffer[(x, y)].symbol().to_string())
            .collect();
        if !line.contains(row) {
            continue;
        }
        if let Some(byte) = line.find(needle) {
            // Columns, not bytes: count the chars before the match (all single-width here).
            let x = line[..byte].chars().count().min(width - 1);
            return buffer[(x as u16, y)].fg.into();
        }
    }
    None
}

#[test]
fn overview() {
    let store = fx::store();
    let app = fx::app(&store);
    insta::assert_snapshot!(screen(&app, &store));
}

#[test]
fn overview_sorted_by_cpu() {
    let store = fx::store();
    let mut app = fx::app(&store);
    press(&mut app, &store, "ss");
    assert_eq!(app.sort.label(), "cpu");
    let names: Vec<&str> = app
        .rows
        .iter()
        .map(|&i| store.groups()[i].id.name.as_str())
        .collect();
    assert_eq!(names.first(), Some(&"payments"), "busiest first: {names:?}");
    insta::assert_snapshot!(screen(&app, &store));
}

#[test]
fn overview_filtered() {
    let store = fx::store();
    let mut app = fx::app(&store);
    press(&mut app, &store, "/ch");
    assert!(app.filter.editing);
    app.on_key(key(KeyCode::Enter), &store);
    assert!(!app.filter.editing);
    assert_eq!(app.rows.len(), 2, "checkout and search contain 'ch'");
    insta::assert_snapshot!(screen(&app, &store));
    app.on_key(key(KeyCode::Esc), &store);
    assert_eq!(app.filter.text, "", "Esc clears the filter");
    assert_eq!(app.rows.len(), 6);
}

#[test]
fn events_newest_first_with_thrash() {
    let store = fx::store();
    let mut app = fx::app(&store);
    press(&mut app, &store, "2");
    assert_eq!(app.tab, Tab::Events);
    let text = screen(&app, &store);
    let newest = text.find("payments").expect("payments event shown");
    let oldest = text.find("checkout").expect("checkout event shown");
    assert!(newest < oldest, "newest first");
    assert_eq!(text.matches("THRASH").count(), 2, "both halves flagged");
    insta::assert_snapshot!(text);
}

#[test]
fn drill_in_and_back() {
    let store = fx::store();
    let mut app = fx::app(&store);
    press(&mut app, &store, "jjj"); // by name: catalog, checkout, image-resizer, payments
    app.on_key(key(KeyCode::Enter), &store);
    assert_eq!(app.tab, Tab::Utilization);
    assert_eq!(
        app.focus.as_ref().map(|g| g.name.as_str()),
        Some("payments")
    );
    insta::assert_snapshot!(screen(&app, &store));
    app.on_key(key(KeyCode::Esc), &store);
    assert_eq!(app.tab, Tab::Overview, "Esc goes back");
    assert_eq!(app.cursor, 3, "selection kept");
}

#[test]
fn utilization_frozen_and_scrolled() {
    let store = fx::store();
    let mut app = fx::app(&store);
    press(&mut app, &store, "3f");
    assert!(app.time.frozen_end.is_some());
    app.on_key(key(KeyCode::Left), &store);
    press(&mut app, &store, "+");
    assert_eq!(app.time.window_seconds, 3600, "+ zooms in from 2h to 1h");
    let text = screen(&app, &store);
    assert!(text.contains("FROZEN"), "{text}");
    insta::assert_snapshot!(text);
    press(&mut app, &store, "f");
    assert_eq!(app.time.frozen_end, None, "f resumes live");
}

#[test]
fn sources_with_a_down_source_in_red() {
    let mut store = fx::store();
    store.apply(scaletop::sources::Update::Health(fx::down_health()));
    let mut app = fx::app(&store);
    press(&mut app, &store, "9");
    let terminal = draw(&app, &store, W, H);
    insta::assert_snapshot!(terminal.backend().to_string());
    assert_eq!(fg_at(&terminal, "prometheus", "DOWN"), Some(Color::Red));
    assert_eq!(
        fg_at(&terminal, "prometheus", "connection refused"),
        Some(Color::Red)
    );
    let text = terminal.backend().to_string();
    for figure in [
        "12ms",
        "48ms",
        "123.5k",
        "data stale: last good answer 5m ago",
    ] {
        assert!(text.contains(figure), "{figure}: {text}");
    }
    assert_eq!(fg_at(&terminal, "simulator", "UP"), Some(Color::Green));
}

#[test]
fn group_at_max_replicas_is_red() {
    let store = fx::store();
    let app = fx::app(&store);
    let terminal = draw(&app, &store, W, H);
    assert_eq!(fg_at(&terminal, "payments", "12/12 MAX"), Some(Color::Red));
    // A group with headroom is not.
    assert_ne!(fg_at(&terminal, "checkout", "/"), Some(Color::Red));
}

#[test]
fn missing_memory_is_a_dash() {
    let store = fx::store();
    let app = fx::app(&store);
    let text = screen(&app, &store);
    let row = text
        .lines()
        .find(|l| l.contains("image-resizer"))
        .expect("row");
    assert!(row.contains('—'), "missing memory shows as a dash: {row}");
}

#[test]
fn help_overlay_lists_the_keymap() {
    let store = fx::store();
    let mut app = fx::app(&store);
    press(&mut app, &store, "?");
    assert_eq!(app.pane, Pane::Help);
    let text = screen(&app, &store);
    for (keys, description) in app.keymap.help_rows() {
        assert!(
            text.contains(description),
            "help lists '{description}' ({keys})"
        );
    }
    insta::assert_snapshot!(text);
    app.on_key(key(KeyCode::Esc), &store);
    assert_eq!(app.pane, Pane::None);
}

#[test]
fn palette_goes_to_a_group() {
    let store = fx::store();
    let mut app = fx::app(&store);
    press(&mut app, &store, ":sear");
    insta::assert_snapshot!(screen(&app, &store));
    app.on_key(key(KeyCode::Enter), &store);
    assert_eq!(app.pane, Pane::None);
    assert_eq!(app.tab, Tab::Utilization);
    assert_eq!(app.focus.as_ref().map(|g| g.name.as_str()), Some("search"));
    app.on_key(key(KeyCode::Esc), &store);
    assert_eq!(app.tab, Tab::Overview);
    press(&mut app, &store, ":range 6h");
    app.on_key(key(KeyCode::Enter), &store);
    assert_eq!(app.time.window_seconds, 6 * 3600);
    press(&mut app, &store, ":quit");
    app.on_key(key(KeyCode::Enter), &store);
    assert!(app.quit);
}

#[test]
fn too_small_terminal_says_so() {
    let store = fx::store();
    let app = fx::app(&store);
    let terminal = draw(&app, &store, 70, 20);
    insta::assert_snapshot!(terminal.backend().to_string());
}

#[test]
fn first_frame_before_data() {
    let store = Store::new(15, 100);
    let app = fx::app(&store);
    let text = screen(&app, &store);
    assert!(text.contains("waiting for data"), "{text}");
}

#[test]
fn quit_keys() {
    let store = fx::store();
    let mut app = fx::app(&store);
    app.on_key(
        KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
        &store,
    );
    assert!(app.quit);
    let mut app = fx::app(&store);
    press(&mut app, &store, "/q");
    assert!(!app.quit, "q while typing a filter is text");
    app.on_key(key(KeyCode::Esc), &store);
    press(&mut app, &store, "q");
    assert!(app.quit);
}

fn keys_after(
    delay_ms: u64,
    keys: Vec<KeyEvent>,
) -> impl futures::Stream<Item = std::io::Result<Event>> + Unpin {
    use futures::StreamExt;
    Box::pin(
        futures::stream::iter(keys)
            .then(move |k| async move {
                tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
                Ok(Event::Key(k))
            })
            .chain(futures::stream::pending()),
    )
}

#[tokio::test]
async fn run_loop_drains_updates_before_drawing_and_quits() {
    let store_updates = fx::updates(6, fx::STEPS);
    let sent = store_updates.len() as u64;
    let (tx, rx) = tokio::sync::mpsc::channel(store_updates.len() + 1);
    for u in store_updates {
        tx.try_send(u).expect("channel has room");
    }
    let mut store = Store::new(fx::STEP, 5760);
    let mut app = fx::app(&store);
    let mut terminal = Terminal::new(TestBackend::new(W, H)).expect("terminal");
    let keys = vec![key(KeyCode::Char('3')), key(KeyCode::Char('q'))];
    let stats = run_loop(
        &mut terminal,
        &mut app,
        &mut store,
        keys_after(150, keys),
        rx,
        fx::wall_now,
        LoopSettings::new(4.0, 5760),
        &mut |_: &str| Err(color_eyre::eyre::eyre!("no sources in tests")),
    )
    .await
    .expect("loop ends cleanly");
    assert!(app.quit);
    assert_eq!(app.tab, Tab::Utilization);
    assert_eq!(stats.updates, sent);
    assert_eq!(store.groups().len(), 6);
    // First frame, one data frame after the drain (+ maybe one clock frame), one for '3'.
    assert!(
        (2..=5).contains(&stats.frames),
        "{} updates coalesced into {} frames",
        stats.updates,
        stats.frames
    );
    drop(tx);
}

#[tokio::test]
async fn run_loop_draws_first_frame_without_data() {
    let (_tx, rx) = tokio::sync::mpsc::channel(1);
    let mut store = Store::new(fx::STEP, 100);
    let mut app = fx::app(&store);
    let mut terminal = Terminal::new(TestBackend::new(W, H)).expect("terminal");
    let stats = run_loop(
        &mut terminal,
        &mut app,
        &mut store,
        keys_after(50, vec![key(KeyCode::Char('q'))]),
        rx,
        fx::wall_now,
        LoopSettings::new(4.0, 5760),
        &mut |_: &str| Err(color_eyre::eyre::eyre!("no sources in tests")),
    )
    .await
    .expect("loop ends");
    assert_eq!(stats.frames, 1);
    assert!(terminal.backend().to_string().contains("waiting for data"));
}

#[test]
fn esc_in_a_drilled_view_goes_back_before_clearing_the_filter() {
    let store = fx::store();
    let mut app = fx::app(&store);
    press(&mut app, &store, "/pay");
    app.on_key(key(KeyCode::Enter), &store);
    app.on_key(key(KeyCode::Enter), &store);
    assert_eq!(app.tab, Tab::Utilization);
    assert_eq!(
        app.focus.as_ref().map(|g| g.name.as_str()),
        Some("payments")
    );
    app.on_key(key(KeyCode::Esc), &store);
    assert_eq!(app.tab, Tab::Overview, "first Esc goes back");
    assert_eq!(app.filter.text, "pay", "filter kept");
    app.on_key(key(KeyCode::Esc), &store);
    assert_eq!(app.filter.text, "", "second Esc clears the filter");
}

#[test]
fn frozen_overview_shows_values_at_the_frozen_time() {
    let store = fx::store();
    let mut app = fx::app(&store);
    let live = screen(&app, &store);
    press(&mut app, &store, "f");
    assert_eq!(screen(&app, &store).lines().nth(4), live.lines().nth(4));
    // Scroll back 30 minutes: the figures are read at that time, not the newest.
    app.on_key(key(KeyCode::Left), &store);
    let back = screen(&app, &store);
    assert!(back.contains("FROZEN at 2024-11-29 01:29:45"), "{back}");
    assert_ne!(back.lines().nth(4), live.lines().nth(4));
}

#[test]
fn enter_on_an_event_opens_its_group_at_its_time() {
    let store = fx::store();
    let mut app = fx::app(&store);
    press(&mut app, &store, "2j"); // second newest: catalog scaling down (thrash)
    app.on_key(key(KeyCode::Enter), &store);
    assert!(matches!(app.pane, Pane::Explain(_)), "Enter explains first");
    app.on_key(key(KeyCode::Enter), &store);
    assert_eq!(app.pane, Pane::None);
    assert_eq!(app.tab, Tab::Utilization);
    assert_eq!(app.focus.as_ref().map(|g| g.name.as_str()), Some("catalog"));
    // Event at step 220, window 2h: the window ends an hour after it, capped at the newest data.
    let event_at = fx::T0 + 220 * fx::STEP;
    assert_eq!(
        app.time.frozen_end,
        Some((event_at + 3600).min(fx::T0 + (fx::STEPS - 1) * fx::STEP))
    );
    app.on_key(key(KeyCode::Esc), &store);
    assert_eq!(app.tab, Tab::Events);
}

#[tokio::test]
async fn palette_switches_scenario_through_the_run_loop() {
    let (_tx, rx) = tokio::sync::mpsc::channel(1);
    let mut store = fx::store();
    let mut app = fx::app(&store);
    app.scenarios = vec!["ecommerce".into(), "game".into()];
    let mut terminal = Terminal::new(TestBackend::new(W, H)).expect("terminal");
    let mut keys: Vec<KeyEvent> = ":game".chars().map(|c| key(KeyCode::Char(c))).collect();
    keys.push(key(KeyCode::Enter));
    keys.push(key(KeyCode::Char('q')));
    let mut asked = Vec::new();
    let mut switch = |name: &str| {
        asked.push(name.to_string());
        let updates = fx::updates(2, 10);
        let (tx, rx) = tokio::sync::mpsc::channel(updates.len());
        for u in updates {
            tx.try_send(u).expect("room");
        }
        Ok((rx, format!("demo {name}")))
    };
    run_loop(
        &mut terminal,
        &mut app,
        &mut store,
        keys_after(20, keys),
        rx,
        fx::wall_now,
        LoopSettings::new(4.0, 5760),
        &mut switch,
    )
    .await
    .expect("loop ends");
    assert_eq!(asked, vec!["game".to_string()]);
    assert_eq!(app.source_label, "demo game");
    assert_eq!(
        store.groups().len(),
        2,
        "the store was rebuilt for the new source"
    );
}

#[test]
fn overview_at_the_minimum_size_keeps_every_tab_and_column() {
    let store = fx::store();
    let app = fx::app(&store);
    let text = draw(&app, &store, 80, 24).backend().to_string();
    assert!(text.contains("9 Sources"), "{text}");
    assert!(text.contains("recommendations"), "{text}");
    insta::assert_snapshot!(text);
}

/// Runs the engine jobs the view asks for, synchronously (the run loop uses spawn_blocking).
fn run_jobs(app: &mut App, store: &Store) -> usize {
    let due = jobs::due(app, store);
    let n = due.len();
    for job in due {
        app.apply_job(jobs::run(job));
    }
    n
}

#[test]
fn workload_tab_with_results() {
    let store = fx::workload_store();
    let mut app = fx::app(&store);
    press(&mut app, &store, "4");
    let analysing = screen(&app, &store);
    assert!(analysing.contains("analysing…"), "{analysing}");
    assert_eq!(run_jobs(&mut app, &store), 1);
    assert_eq!(run_jobs(&mut app, &store), 0, "no new data: no new job");
    let text = screen(&app, &store);
    for needle in [
        "hourly",
        "baseline / peak",
        "growth",
        "Anomalies (",
        "above",
    ] {
        assert!(text.contains(needle), "'{needle}' in:\n{text}");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn forecast_tab_with_bands_accuracy_and_runway() {
    let store = fx::workload_store();
    let mut app = fx::app(&store);
    press(&mut app, &store, "5");
    assert!(screen(&app, &store).contains("fitting…"));
    assert_eq!(run_jobs(&mut app, &store), 1);
    assert_eq!(run_jobs(&mut app, &store), 0, "no new data: no new fit");
    let text = screen(&app, &store);
    for needle in [
        "80%",
        "95% band",
        "Backtest (",
        "accuracy",
        "coverage",
        "Next peak",
        "Runway",
        "max serves",
        "stays under max",
    ] {
        assert!(text.contains(needle), "'{needle}' in:\n{text}");
    }
    let Some(Ok(fc)) = app.forecast.result.as_ref().map(|o| &o.result) else {
        panic!("a forecast");
    };
    assert!(
        fc.backtest.accuracy.is_some_and(|a| a > 0.8),
        "{:?}",
        fc.backtest
    );
    insta::assert_snapshot!(text);
}

#[test]
fn workload_tab_with_too_little_history() {
    let store = fx::store_steps(6, 120); // 30 minutes
    let mut app = fx::app(&store);
    press(&mut app, &store, "4");
    run_jobs(&mut app, &store);
    let text = screen(&app, &store);
    assert!(
        text.contains("Not enough history (need 1h, have 30m)"),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

#[test]
fn workload_follows_the_selected_group() {
    let store = fx::store();
    let mut app = fx::app(&store);
    press(&mut app, &store, "4");
    run_jobs(&mut app, &store);
    let first = app.workload.result.as_ref().map(|o| o.group.name.clone());
    assert_eq!(first.as_deref(), Some("catalog"));
    press(&mut app, &store, "j");
    assert!(
        screen(&app, &store).contains("analysing…"),
        "new group: old result hidden"
    );
    run_jobs(&mut app, &store);
    let second = app.workload.result.as_ref().map(|o| o.group.name.clone());
    assert_eq!(second.as_deref(), Some("checkout"));
}

#[test]
fn policies_tab_replays_each_group_beside_what_happened() {
    let store = fx::platform_store();
    let mut app = fx::app(&store);
    press(&mut app, &store, "6");
    assert!(screen(&app, &store).contains("replaying each group's policy"));
    assert_eq!(run_jobs(&mut app, &store), 1);
    press(&mut app, &store, "j"); // checkout
    let text = screen(&app, &store);
    for needle in [
        "HPA cpu 70% · simulator scenario",
        "ASG ASGAverageCPUUtilization",
        "fixed at 3 replicas",
        "sim groups follow the scenario rule",
        "fixed at 3 replicas",
        "checkout replicas — replayed vs observed",
        "SLA-violation min",
    ] {
        assert!(text.contains(needle), "'{needle}' in:\n{text}");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn explain_pane_shows_the_moment_and_the_arithmetic() {
    let store = fx::platform_store();
    let mut app = fx::app(&store);
    press(&mut app, &store, "2"); // newest: checkout's surge
    app.on_key(key(KeyCode::Enter), &store);
    let Pane::Explain(state) = &app.pane else {
        panic!("Enter on an event opens the explain pane");
    };
    assert_eq!(state.event.group.name, "checkout");
    assert!(screen(&app, &store).contains("Replaying the policy up to this event…"));
    assert_eq!(run_jobs(&mut app, &store), 1);
    let text = screen(&app, &store);
    for needle in [
        "Why did checkout scale",
        "demand (req/s)",
        "Policy: HPA cpu 70% · simulator scenario",
        "cpu: ratio",
        "stabilization",
        "matches the event",
    ] {
        assert!(text.contains(needle), "'{needle}' in:\n{text}");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn enter_explains_an_event_and_esc_closes_it() {
    let store = fx::platform_store();
    let mut app = fx::app(&store);
    press(&mut app, &store, "2");
    app.on_key(key(KeyCode::Enter), &store);
    assert!(matches!(app.pane, Pane::Explain(_)));
    press(&mut app, &store, "3j");
    assert_eq!(app.tab, Tab::Events, "other keys do not leave the pane");
    app.on_key(key(KeyCode::Esc), &store);
    assert_eq!(app.pane, Pane::None);
    assert_eq!(app.tab, Tab::Events);
    // A late answer for the closed pane is dropped.
    app.on_key(key(KeyCode::Enter), &store);
    let job = jobs::due(&mut app, &store).pop().expect("explain job");
    app.on_key(key(KeyCode::Esc), &store);
    app.apply_job(jobs::run(job));
    assert_eq!(app.pane, Pane::None);
}

#[test]
fn explain_says_why_when_the_policy_cannot_be_replayed() {
    let store = fx::store(); // simulator-platform groups
    let mut app = fx::app(&store);
    press(&mut app, &store, "2");
    app.on_key(key(KeyCode::Enter), &store);
    run_jobs(&mut app, &store);
    let text = screen(&app, &store);
    assert!(
        text.contains("No arithmetic to show: sim groups follow the scenario rule"),
        "{text}"
    );
}

#[tokio::test]
async fn run_loop_runs_the_workload_analysis_off_the_ui_thread() {
    let (_tx, rx) = tokio::sync::mpsc::channel(1);
    let mut store = fx::workload_store();
    let mut app = fx::app(&store);
    let mut terminal = Terminal::new(TestBackend::new(W, H)).expect("terminal");
    let keys = vec![key(KeyCode::Char('4')), key(KeyCode::Char('q'))];
    run_loop(
        &mut terminal,
        &mut app,
        &mut store,
        keys_after(1500, keys),
        rx,
        fx::wall_now,
        LoopSettings::new(4.0, 5760),
        &mut |_: &str| Err(color_eyre::eyre::eyre!("no sources in tests")),
    )
    .await
    .expect("loop ends");
    assert!(
        app.workload.result.is_some(),
        "the analysis came back through the loop"
    );
    assert!(terminal.backend().to_string().contains("hourly"));
}

#[test]
fn cost_tab_prices_off_the_ui_thread_and_says_why_a_group_is_not_priced() {
    let store = fx::store();
    let mut app = fx::app(&store);
    press(&mut app, &store, "7");
    assert!(screen(&app, &store).contains("pricing every group from the catalog"));
    assert_eq!(run_jobs(&mut app, &store), 1);
    let text = screen(&app, &store);
    // The fixture's groups name no region: nothing is priced and nothing shows as $0.
    assert!(text.contains("No group could be priced"), "{text}");
    assert!(text.contains("no region"), "{text}");
    assert!(!text.contains("$0.00"), "{text}");
}

#[test]
fn events_tab_with_scaling_quality_by_group() {
    let store = fx::store();
    let mut app = fx::app(&store);
    press(&mut app, &store, "2");
    assert_eq!(run_jobs(&mut app, &store), 1, "the monitoring job");
    let text = screen(&app, &store);
    assert!(text.contains("Scaling quality by group"), "{text}");
    // Five events, the catalog pair thrash (CONTRACTS definition): 3 of 5 justified fleet
    // wide, the pair's scale-up a false positive, catalog itself 0% justified.
    let m = app.monitoring.result.as_ref().expect("computed");
    assert_eq!(m.fleet.scaling_efficiency, Some(0.6));
    assert_eq!(m.fleet.false_positive_scale_ups, 1);
    let catalog = text
        .lines()
        .skip_while(|l| !l.contains("Scaling quality by group"))
        .find(|l| l.contains("catalog"))
        .expect("catalog quality row");
    assert!(catalog.contains(" 0% "), "{catalog}");
    insta::assert_snapshot!(text);
    // The Overview title carries the fleet figures.
    press(&mut app, &store, "1");
    let overview = screen(&app, &store);
    assert!(
        overview.contains("60% justified") && overview.contains("1 false scale-ups"),
        "{overview}"
    );
}

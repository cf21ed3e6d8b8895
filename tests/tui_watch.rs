//! The Alerts tab and the load-test window on a `TestBackend` with fixed data: evaluation
//! runs as jobs (as the run loop does off the UI thread), the tab lists what fired with
//! since / for, the header counts it, and `m` ... `m` scores the window and saves it.

mod tui_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use scaletop::store::Store;
use scaletop::tui::app::App;
use scaletop::tui::jobs;
use scaletop::tui::render::render;
use tui_support as fx;

fn screen(app: &App, store: &Store) -> String {
    let mut t = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    t.draw(|f| render(app, store, fx::wall_now(), f))
        .expect("draw");
    t.backend().to_string()
}

fn press(app: &mut App, store: &Store, keys: &str) {
    for c in keys.chars() {
        app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE), store);
    }
}

fn run_watch_jobs(app: &mut App, store: &Store) -> usize {
    let due = jobs::due_watch(app, store);
    let n = due.len();
    for job in due {
        app.apply_job(jobs::run(job));
    }
    n
}

#[test]
fn alerts_tab_lists_what_fired_and_the_header_counts_it() {
    // 30 minutes of six groups; catalog's surge and drop back is a thrash pair.
    let store = fx::store_steps(6, 120);
    let mut app = fx::app(&store);
    press(&mut app, &store, "8");
    let before = screen(&app, &store);
    assert!(before.contains("Alerts — 0 firing"), "{before}");
    assert!(before.contains("evaluating alert rules"), "{before}");
    assert_eq!(run_watch_jobs(&mut app, &store), 1, "one evaluation");
    assert_eq!(
        run_watch_jobs(&mut app, &store),
        0,
        "no new data: no new evaluation"
    );
    let text = screen(&app, &store);
    // The thrash rule has no `for`: it fires on the first evaluation.
    let row = text
        .lines()
        .find(|l| l.contains("Thrashing") && l.contains("warning"))
        .unwrap_or_else(|| panic!("no thrashing row:\n{text}"));
    assert!(row.contains("FIRING") && row.contains("catalog"), "{row}");
    assert!(row.contains("thrash events in the last 600s"), "{row}");
    let header = text.lines().next().expect("header");
    assert!(header.contains("firing"), "{header}");
    assert!(text.contains("runbook:"), "{text}");
    // j moves the selection; the detail follows it.
    let firing = app.alerts.list.len();
    press(&mut app, &store, "j");
    assert_eq!(app.alerts.cursor, 1.min(firing - 1));
}

#[test]
fn marked_window_is_scored_live_then_saved() {
    let store = fx::store();
    let mut app = fx::app(&store);
    let dir = tempfile::tempdir().expect("tempdir");
    app.loadtest.output_dir = dir.path().join("out");
    press(&mut app, &store, "m");
    assert!(app.loadtest.start.is_some());
    assert!(app
        .status
        .as_deref()
        .is_some_and(|s| s.contains("load-test window opened")));
    // The alert evaluation and the live scorecard.
    assert_eq!(run_watch_jobs(&mut app, &store), 2);
    let text = screen(&app, &store);
    assert!(text.contains("LOAD TEST since"), "{text}");
    assert!(text.contains("so far:"), "{text}");
    press(&mut app, &store, "m");
    assert!(app.loadtest.start.is_none());
    run_watch_jobs(&mut app, &store);
    let status = app.status.clone().unwrap_or_default();
    assert!(status.contains("scorecard saved to"), "{status}");
    let names: Vec<String> = std::fs::read_dir(dir.path().join("out"))
        .expect("output dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names
        .iter()
        .any(|n| n.starts_with("loadtest-") && n.ends_with(".json")));
    assert!(!screen(&app, &store).contains("LOAD TEST since"));
}

#[test]
fn readonly_refuses_to_save_the_scorecard() {
    let store = fx::store();
    let mut app = fx::app(&store);
    let dir = tempfile::tempdir().expect("tempdir");
    app.loadtest.output_dir = dir.path().to_path_buf();
    app.loadtest.readonly = true;
    press(&mut app, &store, "mm");
    run_watch_jobs(&mut app, &store);
    let status = app.status.clone().unwrap_or_default();
    assert!(status.contains("read-only"), "{status}");
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

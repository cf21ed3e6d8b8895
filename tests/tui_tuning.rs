//! The tuning pane (`t`, issue 7) on the real app (TestBackend): the search runs as an
//! off-thread job on the selected group's history in the store, the finished pane shows
//! current vs recommended, a running search is cancelled by `Esc` (and by closing the pane),
//! and accepting goes through the recommendations pane's confirmation and guarded writer.

mod tui_support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use scaletop::config::Config;
use scaletop::store::Store;
use scaletop::tui::app::{App, Pane};
use scaletop::tui::jobs::tune::{DemoSource, TuneJob, TuneStatus};
use scaletop::tui::jobs::{self, Job};
use scaletop::tui::panes::tuning::{verdict, Phase, TuningState, Verdict};
use scaletop::tui::render::render;
use scaletop::tui::theme::Theme;
use tui_support as fx;

fn app_with_output(store: &Store, out: &std::path::Path) -> App {
    let mut cfg = Config::default();
    cfg.general.output_dir = out.to_path_buf();
    let mut app = App::new(&cfg, Theme { color: true }, "test".into());
    // The fixtures are not the demo simulator's data.
    app.demo = None;
    app.last_data_at = Some(fx::at(fx::T0 + fx::TUNING_STEPS * fx::TUNING_STEP));
    app.sync(store);
    app
}

fn screen(app: &App, store: &Store, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    terminal
        .draw(|f| render(app, store, fx::tuning_now(), f))
        .expect("draw");
    terminal.backend().to_string()
}

fn press(app: &mut App, store: &Store, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE), store);
}

fn tuning(app: &App) -> &TuningState {
    match &app.pane {
        Pane::Tuning(s) => s,
        other => panic!("tuning pane not open: {other:?}"),
    }
}

/// `t`, then the job the run loop would start.
fn open(app: &mut App, store: &Store) -> TuneJob {
    press(app, store, KeyCode::Char('t'));
    assert!(tuning(app).running(), "the pane waits for its search");
    let mut found = None;
    for job in jobs::due(app, store) {
        if let Job::Tune(j) = job {
            found = Some(*j);
        }
    }
    let job = found.expect("t starts a tuning job");
    assert_eq!(tuning(app).phase, Phase::Running);
    job
}

/// Runs the pane's search to the end on one thread (so early-rejection counts are the same
/// every run) and pins the elapsed time for snapshots.
fn finish(app: &mut App, store: &Store) {
    let mut job = open(app, store);
    job.threads = 1;
    let mut out = jobs::run(Job::Tune(Box::new(job)));
    if let jobs::JobOutput::Tune(o) = &mut out {
        o.elapsed = Duration::from_millis(1800);
    }
    app.apply_job(out);
    let state = tuning(app);
    assert!(
        state.result().is_some(),
        "the search finished: {:?}",
        state.phase
    );
}

#[test]
fn finished_search_shows_current_against_recommended() {
    let store = fx::tuning_store();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app_with_output(&store, dir.path());
    finish(&mut app, &store);
    let s = screen(&app, &store, 160, 48);
    insta::assert_snapshot!(s);
    for needle in [
        "Tuning checkout",
        "holds on the held-out 30%",
        "Current vs recommended",
        "Pareto front",
        "◀ recommended",
        "held-out cost",
        "a / Enter accept",
    ] {
        assert!(s.contains(needle), "missing {needle:?}:\n{s}");
    }
    let r = tuning(&app).result().expect("result");
    let t = &r.outcome;
    // The current HPA runs at cpu 50%, twice the headroom the Slo needs: a cheaper policy
    // must keep the Slo on the held-out day, without thrash.
    assert!(matches!(verdict(t), Verdict::Better));
    let rec = t.recommended.as_ref().expect("a recommendation");
    assert!(rec.holds && rec.heldout.thrash_events == 0);
    assert!(
        rec.saving_percent > 15.0,
        "saving {:.1}% on held-out",
        rec.saving_percent
    );
    assert!(rec.heldout.cost_usd_per_month < t.current.heldout.cost_usd_per_month);
    // Held out: the last 30% of the four days.
    assert_eq!(t.split.heldout_steps, 1728);
    assert!(!t.pareto_front.is_empty());
    // The replica curves cover the whole history.
    assert_eq!(r.current_line.len(), fx::TUNING_STEPS as usize);
    assert_eq!(r.recommended_line.len(), fx::TUNING_STEPS as usize);
    let rec_json = r.recommendation.as_ref().expect("Recommendation");
    assert_eq!(rec_json.id, "tune-checkout-hpa");
}

#[test]
fn finished_pane_at_the_minimum_size_keeps_the_verdict_and_figures() {
    let store = fx::tuning_store();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app_with_output(&store, dir.path());
    finish(&mut app, &store);
    let s = screen(&app, &store, 80, 24);
    insta::assert_snapshot!(s);
    for needle in ["Tuning checkout", "holds on the held-out", "held-out cost"] {
        assert!(s.contains(needle), "missing {needle:?}:\n{s}");
    }
}

#[test]
fn esc_cancels_a_running_search_and_the_pane_says_so() {
    let store = fx::tuning_store();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app_with_output(&store, dir.path());
    let job = open(&mut app, &store);
    let control = job.control.clone();
    let worker = std::thread::spawn(move || jobs::run(Job::Tune(Box::new(job))));
    // Cancel once the search is under way (no timing: wait for the first candidate).
    while control.done.load(Ordering::Relaxed) == 0 && !worker.is_finished() {
        std::thread::yield_now();
    }
    press(&mut app, &store, KeyCode::Esc);
    assert!(control.cancel.load(Ordering::Relaxed), "Esc cancels");
    assert!(
        matches!(app.pane, Pane::Tuning(_)),
        "the pane stays to report"
    );
    assert!(screen(&app, &store, 160, 48).contains("cancelling"));
    let out = worker.join().expect("job thread");
    let jobs::JobOutput::Tune(o) = &out else {
        panic!("not a tuning outcome")
    };
    match &o.status {
        TuneStatus::Cancelled { done, total } => {
            assert!(*total > 0);
            assert!(done < total, "cancelled with {done} of {total} evaluated");
        }
        other => panic!("not cancelled: {other:?}"),
    }
    app.apply_job(out);
    let s = screen(&app, &store, 160, 48);
    assert!(s.contains("Search cancelled after"), "{s}");
    press(&mut app, &store, KeyCode::Esc);
    assert_eq!(app.pane, Pane::None, "a second Esc closes");
}

#[test]
fn closing_the_pane_cancels_its_search() {
    let store = fx::tuning_store();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app_with_output(&store, dir.path());
    let job = open(&mut app, &store);
    // `?` replaces the pane with help: nothing waits for the search any more.
    press(&mut app, &store, KeyCode::Char('?'));
    assert_eq!(app.pane, Pane::Help);
    assert!(job.control.cancel.load(Ordering::Relaxed));
    let jobs::JobOutput::Tune(o) = jobs::run(Job::Tune(Box::new(job))) else {
        panic!("not a tuning outcome")
    };
    assert!(matches!(o.status, TuneStatus::Cancelled { .. }));
    assert_eq!(o.done, 0, "nothing evaluated after the cancel");
}

#[test]
fn accept_goes_through_the_confirmation_and_the_guarded_writer() {
    let store = fx::tuning_store();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app_with_output(&store, dir.path());
    finish(&mut app, &store);
    press(&mut app, &store, KeyCode::Char('a'));
    let Pane::Recommendations(recs) = &app.pane else {
        panic!("accept opens the recommendations pane: {:?}", app.status)
    };
    let confirm = recs.confirm.as_ref().expect("the confirmation first");
    assert_eq!(confirm.id, "tune-checkout-hpa");
    let s = screen(&app, &store, 160, 48);
    assert!(s.contains("exactly what will be written"), "{s}");
    assert!(s.contains("+kind: HorizontalPodAutoscaler"), "{s}");
    let before: Vec<_> = walk(dir.path());
    assert!(before.is_empty(), "nothing written before Enter");
    press(&mut app, &store, KeyCode::Enter);
    let written = walk(dir.path());
    let hpa = written
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "yaml"))
        .unwrap_or_else(|| panic!("an HPA manifest written: {written:?}"));
    let text = std::fs::read_to_string(hpa).expect("read");
    assert!(text.contains("HorizontalPodAutoscaler") && text.contains("checkout"));
    // `r` lists the accepted tuning recommendation beside the engines'.
    press(&mut app, &store, KeyCode::Esc);
    press(&mut app, &store, KeyCode::Esc);
    press(&mut app, &store, KeyCode::Char('r'));
    let Pane::Recommendations(recs) = &app.pane else {
        panic!("r opens recommendations")
    };
    assert!(recs.items.iter().any(|r| r.id == "tune-checkout-hpa"));
}

#[test]
fn switching_scenario_forgets_the_tuned_result() {
    let store = fx::tuning_store();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app_with_output(&store, dir.path());
    finish(&mut app, &store);
    // Accept puts it beside the engines' recommendations; Esc leaves without writing.
    press(&mut app, &store, KeyCode::Char('a'));
    assert_eq!(app.tuned.len(), 1);
    press(&mut app, &store, KeyCode::Esc);
    press(&mut app, &store, KeyCode::Esc);
    assert!(walk(dir.path()).is_empty(), "nothing written");
    app.reset_for_new_source("demo game (simulator)".into());
    assert!(app.tuned.is_empty());
    let other = fx::platform_store();
    app.sync(&other);
    press(&mut app, &other, KeyCode::Char('r'));
    let Pane::Recommendations(recs) = &app.pane else {
        panic!("r opens recommendations")
    };
    assert!(
        recs.items.iter().all(|r| r.id != "tune-checkout-hpa"),
        "a stale tuned result is offered: {:?}",
        recs.items.iter().map(|r| &r.id).collect::<Vec<_>>()
    );
}

#[test]
fn a_group_without_an_autoscaling_policy_says_why() {
    let store = fx::platform_store();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app_with_output(&store, dir.path());
    // `recommendations` runs a fixed replica count in this fixture.
    let pos = app
        .rows
        .iter()
        .position(|&i| store.groups()[i].id.name == "recommendations")
        .expect("row");
    for _ in 0..pos {
        press(&mut app, &store, KeyCode::Char('j'));
    }
    press(&mut app, &store, KeyCode::Char('t'));
    assert!(jobs::due(&mut app, &store)
        .iter()
        .all(|j| !matches!(j, Job::Tune(_))));
    let s = screen(&app, &store, 160, 48);
    assert!(s.contains("cannot be tuned"), "{s}");
    assert!(s.contains("fixed at 3 replicas"), "{s}");
}

#[test]
fn too_little_history_says_how_much_is_needed() {
    // Two hours of data: far from the 80 h the held-out day needs.
    let store = fx::platform_store();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app_with_output(&store, dir.path());
    let job = open(&mut app, &store);
    app.apply_job(jobs::run(Job::Tune(Box::new(job))));
    let s = screen(&app, &store, 160, 48);
    assert!(s.contains("too little history"), "{s}");
    assert!(s.contains("80.0 h needed"), "{s}");
}

#[test]
fn on_the_demo_too_little_history_is_simulated_by_the_scenario() {
    // The demo backfills two hours; its simulator gives the four days a held-out day needs.
    let store = fx::platform_store();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app_with_output(&store, dir.path());
    app.demo = Some(DemoSource {
        scenario: "ecommerce".into(),
        seed: 42,
    });
    // `checkout` is a group of the ecommerce scenario too.
    let pos = app
        .rows
        .iter()
        .position(|&i| store.groups()[i].id.name == "checkout")
        .expect("row");
    for _ in 0..pos {
        press(&mut app, &store, KeyCode::Char('j'));
    }
    let job = open(&mut app, &store);
    assert!(job.demo.is_some());
    let s = screen(&app, &store, 160, 48);
    assert!(s.contains("under the 80 h a held-out day needs"), "{s}");
    let mut out = jobs::run(Job::Tune(Box::new(job)));
    let jobs::JobOutput::Tune(o) = &mut out else {
        panic!("a tuning outcome")
    };
    let TuneStatus::Done(r) = &o.status else {
        panic!("the search ran on the simulated history: {:?}", o.status)
    };
    let split = &r.outcome.split;
    assert!(
        (split.train_hours + split.heldout_hours - 96.0).abs() < 1e-9,
        "{split:?}"
    );
    assert!(o.total > 0);
    app.apply_job(out);
    assert!(tuning(&app).result().is_some());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The pane searches with the scaling-metric choice `scaletop tune --policy-kind auto` makes —
/// the one shared reading, `engine::tune::metric::choose`, of the group's demand and recorded
/// series — and shows the chosen metric with its one-sentence reason. Here memory climbs to
/// 100% of its request well before CPU (the HPA's metric) nears its own: the choice moves the
/// HPA to memory, the search replays both bases, and the pane says which won.
#[test]
fn the_pane_shows_and_searches_the_metric_choice_the_cli_makes() {
    use scaletop::model::MetricKind;
    use scaletop::sources::{Sample, Update};
    let mut store = fx::tuning_store();
    let g = store.groups()[0].id.clone();
    for k in 0..fx::TUNING_STEPS {
        let day = (k * fx::TUNING_STEP) as f64 / 86_400.0;
        let demand = 600.0 - 450.0 * (std::f64::consts::TAU * day).cos();
        let replicas = (demand / 50.0).ceil().max(2.0);
        // Each replica holds 2% of its memory per rps it serves on top of a 10% base.
        store.apply(Update::Samples {
            at: fx::at(fx::T0 + k * fx::TUNING_STEP),
            samples: vec![Sample {
                group: g.clone(),
                metric: MetricKind::MemoryUtilization,
                value: 10.0 + 2.0 * demand / replicas,
            }],
        });
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = app_with_output(&store, dir.path());
    let mut job = open(&mut app, &store);
    assert!(
        job.analysis.iter().any(|(n, _)| n == "cpu_utilization"),
        "the job carries the recorded CPU: {:?}",
        job.analysis.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    let want = scaletop::engine::tune::metric::choose(
        &job.group.name,
        job.start,
        job.step_seconds,
        &job.demand,
        job.extra
            .iter()
            .chain(&job.analysis)
            .map(|(n, v)| (n.as_str(), v.as_slice())),
        &job.current,
    )
    .expect("the analysis makes a choice");
    assert!(
        want.metrics
            .iter()
            .any(|m| m.metric == "memory_utilization"),
        "{want:?}"
    );
    job.threads = 1;
    let mut out = jobs::run(Job::Tune(Box::new(job)));
    if let jobs::JobOutput::Tune(o) = &mut out {
        o.elapsed = Duration::from_millis(1800);
    }
    app.apply_job(out);
    let r = tuning(&app).result().expect("the search finished");
    let m = r
        .outcome
        .metric_choice
        .as_ref()
        .expect("the pane's search used the metric choice");
    assert_eq!(m.choice.explanation, want.explanation);
    assert!(m.searched, "{m:?}");
    // Both bases were replayed: the front or the recommendation names the metrics setting.
    assert!(r.outcome.candidates > 0);
    let s = screen(&app, &store, 200, 60);
    assert!(s.contains("Scaling metric:"), "{s}");
    assert!(s.contains("memory_utilization (target"), "{s}");
    let words: String = want.explanation.chars().take(40).collect();
    assert!(s.contains(&words), "missing {words:?}:\n{s}");
    assert!(s.contains("Searched beside the current metrics"), "{s}");
}

//! The Cost tab's job searches off-hours schedules the way `scaletop cost` does: on the same
//! simulated history (ecommerce, seed 7, 4 days at 5 minutes) the recommendations pane (`r`)
//! lists the same schedule recommendations as the command's JSON, and shows them on screen.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use scaletop::config::Config;
use scaletop::model::{MetricKind, RecommendationKind};
use scaletop::sim::{Scenario, Simulator};
use scaletop::sources::{Sample, Update};
use scaletop::store::Store;
use scaletop::tui::app::App;
use scaletop::tui::jobs::{cost, JobOutput};
use scaletop::tui::render::render;
use scaletop::tui::theme::Theme;
use serde_json::Value;

const SEED: u64 = 7;
const STEP: u64 = 300;
const STEPS: usize = 4 * 288;

/// The scenario simulated into a store exactly as `scaletop cost --scenario` simulates it.
fn store() -> Store {
    let s = Scenario::load("ecommerce").expect("scenario");
    let mut sim = Simulator::new(&s, SEED);
    let mut frame = sim.new_frame();
    let mut store = Store::new(STEP as i64, STEPS);
    for g in s.sim_groups() {
        store.apply(Update::Group(Box::new(g.info.clone())));
    }
    let start = s.start().timestamp();
    for k in 0..STEPS {
        sim.advance_frame(STEP, &mut frame);
        let mut samples = Vec::new();
        for (g, values) in s.sim_groups().iter().zip(&frame.values) {
            for m in MetricKind::ALL {
                let v = values[m as usize];
                if v.is_finite() {
                    samples.push(Sample {
                        group: g.info.id.clone(),
                        metric: m,
                        value: v,
                    });
                }
            }
        }
        let at = chrono::DateTime::from_timestamp(start + k as i64 * STEP as i64, 0).expect("t");
        store.apply(Update::Samples { at, samples });
    }
    store
}

/// (title, the replay's evidence line) of each schedule recommendation.
fn schedules(recs: impl Iterator<Item = (String, Vec<String>)>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = recs
        .map(|(title, ev)| {
            let replayed = ev
                .into_iter()
                .find(|e| e.starts_with("replayed with the schedule"))
                .unwrap_or_default();
            (title, replayed)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn cost_tab_lists_the_schedules_the_cost_command_finds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .args([
            "cost",
            "--format",
            "json",
            "--no-validate",
            "--scenario",
            "ecommerce",
            "--seed",
            &SEED.to_string(),
            "--duration",
            "4d",
            "--step",
            "5m",
        ])
        .current_dir(dir.path())
        .env_remove("SCALETOP_CONFIG")
        .env("XDG_CONFIG_HOME", dir.path().join("xdg"))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    let cli = schedules(
        v["recommendations"]
            .as_array()
            .expect("recommendations")
            .iter()
            .filter(|r| r["kind"] == "schedule")
            .map(|r| {
                (
                    r["title"].as_str().unwrap_or_default().to_string(),
                    r["evidence"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e.as_str().map(str::to_string))
                        .collect(),
                )
            }),
    );
    assert!(!cli.is_empty(), "the command finds a schedule: {v}");

    let store = store();
    let outcome = cost::run(cost::job_with_demo(
        &store,
        Some("ecommerce"),
        &Default::default(),
    ));
    assert!(outcome.report.is_ok(), "{:?}", outcome.report);
    let tui = schedules(
        outcome
            .recommendations
            .iter()
            .filter(|r| r.kind == RecommendationKind::Schedule)
            .map(|r| (r.title.clone(), r.evidence.clone())),
    );
    assert_eq!(tui, cli);

    // And the pane shows them.
    let mut app = App::new(&Config::default(), Theme { color: false }, "test".into());
    app.sync(&store);
    app.apply_job(JobOutput::Cost(Box::new(outcome)));
    app.on_key(
        KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE),
        &store,
    );
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("terminal");
    let now = store.now().expect("data");
    terminal
        .draw(|f| render(&app, &store, now, f))
        .expect("draw");
    let screen = terminal.backend().to_string();
    for (title, _) in &cli {
        let head: String = title.chars().take(40).collect();
        assert!(screen.contains(&head), "'{head}' not on screen:\n{screen}");
    }
}

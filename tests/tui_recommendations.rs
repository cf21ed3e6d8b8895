//! The recommendations pane and accept flow on the real app (TestBackend): ranking by
//! risk-adjusted saving, kind filter, the confirmation that shows the diff and the paths, the
//! write through the guarded writer (with `.bak`), and read-only mode refusing it.

mod tui_support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use scaletop::config::Config;
use scaletop::store::Store;
use scaletop::tui::app::{App, Pane};
use scaletop::tui::render::render;
use scaletop::tui::theme::Theme;
use tui_support as fx;

const RECS: &str = include_str!("fixtures/emit/recommendations.json");

fn app_with_output(store: &Store, out: &std::path::Path, readonly: bool) -> App {
    let mut cfg = Config::default();
    cfg.general.output_dir = out.to_path_buf();
    cfg.general.readonly = readonly;
    let mut app = App::new(&cfg, Theme { color: true }, "test".into());
    app.sync(store);
    app
}

fn screen(app: &App, store: &Store) -> String {
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    terminal
        .draw(|f| render(app, store, fx::wall_now(), f))
        .expect("draw");
    terminal.backend().to_string()
}

fn press(app: &mut App, store: &Store, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE), store);
}

fn keys(app: &mut App, store: &Store, text: &str) {
    for c in text.chars() {
        press(app, store, KeyCode::Char(c));
    }
}

fn listed_ids(app: &App) -> Vec<String> {
    match &app.pane {
        Pane::Recommendations(s) => s
            .visible(&app.filter)
            .iter()
            .map(|&i| s.items[i].id.clone())
            .collect(),
        other => panic!("pane not open: {other:?}"),
    }
}

#[test]
fn pane_ranks_by_risk_adjusted_saving_and_filters_by_kind_and_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("recs.json"), RECS).expect("write");
    let store = fx::store();
    let mut app = app_with_output(&store, dir.path(), false);
    keys(&mut app, &store, "r");
    // $1450 medium (1015) > $510 medium (357) > $830 high (332) > $310 low ...
    let ids = listed_ids(&app);
    assert_eq!(
        &ids[..4],
        [
            "checkout-spot",
            "render-gcp",
            "checkout-asg",
            "fleet-savings-plan"
        ]
    );
    // Cost increases last: -$35 low (-35) above -$40 low (-40).
    assert_eq!(
        &ids[ids.len() - 2..],
        ["thumbnails-concurrency", "web-weekday-schedule"]
    );
    let text = screen(&app, &store);
    assert!(text.contains("Recommendations"), "{text}");
    assert!(text.contains("low 1.0, medium 0.7, high 0.4"), "{text}");
    assert!(text.contains("interruption rate 3%/month"), "{text}");
    // s cycles kinds: policy, metric, sizing.
    keys(&mut app, &store, "sss");
    assert_eq!(listed_ids(&app), ["web-sizing", "api-sizing"]);
    // / filters by group.
    keys(&mut app, &store, "/api");
    press(&mut app, &store, KeyCode::Enter);
    assert_eq!(listed_ids(&app), ["api-sizing"]);
    press(&mut app, &store, KeyCode::Esc);
    assert_eq!(app.pane, Pane::None);
}

#[test]
fn accept_shows_the_diff_then_writes_through_the_guarded_writer() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("recs.json"), RECS).expect("write");
    let store = fx::store();
    let mut app = app_with_output(&store, dir.path(), false);
    keys(&mut app, &store, "rsss");
    keys(&mut app, &store, "a");
    let text = screen(&app, &store);
    assert!(
        text.contains("Accept: exactly what will be written"),
        "{text}"
    );
    assert!(text.contains("web-sizing/vpa.yaml (new)"), "{text}");
    assert!(
        text.contains("+apiVersion: autoscaling.k8s.io/v1"),
        "{text}"
    );
    assert!(
        !dir.path().join("web-sizing").exists(),
        "nothing before Enter"
    );
    press(&mut app, &store, KeyCode::Enter);
    let vpa = dir.path().join("web-sizing/vpa.yaml");
    let written = std::fs::read_to_string(&vpa).expect("written");
    // The HPA recommendation for web scales on cpu and memory: the VPA recommends only.
    assert!(written.contains("updateMode: 'Off'"), "{written}");
    let text = screen(&app, &store);
    assert!(
        text.contains(&format!("kubectl apply -f {}", vpa.display())),
        "{text}"
    );
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.contains("wrote 2 file(s)")),
        "{:?}",
        app.status
    );

    // Accepting again after an edit shows a diff against the file and keeps a backup.
    std::fs::write(&vpa, "edited: true\n").expect("edit");
    keys(&mut app, &store, "a");
    let text = screen(&app, &store);
    assert!(text.contains("-edited: true"), "{text}");
    assert!(text.contains("changed; previous kept as .bak"), "{text}");
    press(&mut app, &store, KeyCode::Enter);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("web-sizing/vpa.yaml.bak"))
            .ok()
            .as_deref(),
        Some("edited: true\n")
    );
}

#[test]
fn readonly_shows_the_diff_but_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("recs.json"), RECS).expect("write");
    let store = fx::store();
    let mut app = app_with_output(&store, dir.path(), true);
    keys(&mut app, &store, "r");
    assert!(screen(&app, &store).contains("READ-ONLY: accept disabled"));
    keys(&mut app, &store, "a");
    let text = screen(&app, &store);
    assert!(text.contains("Would write"), "{text}");
    assert!(text.contains("nothing will be written"), "{text}");
    press(&mut app, &store, KeyCode::Enter);
    assert!(
        app.status
            .as_deref()
            .is_some_and(|s| s.contains("read-only mode")),
        "{:?}",
        app.status
    );
    assert!(!dir.path().join("checkout-spot").exists());
}

#[test]
fn an_empty_output_directory_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = fx::store();
    let mut app = app_with_output(&store, dir.path(), false);
    keys(&mut app, &store, "r");
    assert!(screen(&app, &store).contains("No recommendations yet"));
    keys(&mut app, &store, "a");
    assert_eq!(app.status.as_deref(), Some("no recommendation selected"));
}

#[test]
fn s_in_the_confirmation_switches_to_another_format() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("recs.json"), RECS).expect("write");
    let store = fx::store();
    let mut app = app_with_output(&store, dir.path(), false);
    // The first policy-kind recommendation is render-gcp: GCP JSON first, then Terraform.
    keys(&mut app, &store, "rsa");
    assert!(screen(&app, &store).contains("render-gcp/gcp-autoscaler.json (new)"));
    keys(&mut app, &store, "s");
    let text = screen(&app, &store);
    assert!(text.contains("render-gcp/gcp.tf (new)"), "{text}");
    assert!(
        text.contains("+resource \"google_compute_autoscaler\""),
        "{text}"
    );
    keys(&mut app, &store, "s");
    assert!(screen(&app, &store).contains("render-gcp/rollout.md (new)"));
    keys(&mut app, &store, "s");
    assert!(screen(&app, &store).contains("render-gcp/gcp-autoscaler.json (new)"));
}

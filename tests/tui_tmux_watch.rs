//! End to end in tmux (160x48) on the built-in demo: the Alerts tab lists a rule that fired,
//! the header flashes it, and `m` opens a load-test window with a live scorecard, then closes
//! it and saves the scorecard (JSON + Markdown) in the output directory.

mod support;

use support::files_in;
use support::tmux::Tmux;

use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_scaletop");
const TIMEOUT: Duration = Duration::from_secs(40);

#[test]
fn alerts_fire_and_a_load_test_is_scored() {
    if !support::have("tmux") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out_dir = dir.path().join("out");
    let config = dir.path().join("config.toml");
    // Slow scale-up after 15 s instead of 5 min, so a demo scale-up fires it quickly.
    std::fs::write(
        &config,
        format!(
            "[general]\noutput_dir = \"{}\"\n[demo]\nscenario = \"ecommerce\"\nspeed = 120.0\n\
             [[alerts.rules]]\nname = \"ScaletopSlowScaleUp\"\nfor = \"15s\"\n",
            out_dir.display()
        ),
    )
    .expect("config");
    let command = format!(
        "env -u SCALETOP_CONFIG XDG_STATE_HOME={d} HOME={d} TERM=xterm-256color {BIN} --config {c}",
        d = dir.path().display(),
        c = config.display()
    );
    let tmux = Tmux::start("watch", &command, TIMEOUT);
    tmux.wait_for("the demo", |s| {
        s.contains("1 Overview") && s.contains("groups")
    });
    tmux.send(&["8"]);
    tmux.wait_for("the Alerts tab", |s| {
        s.contains("Alerts —") && s.contains("rules")
    });
    // The header flashes when the rule fires; the tab lists it (firing, or resolved since).
    tmux.wait_for("the header flash", |s| {
        s.lines()
            .next()
            .is_some_and(|h| h.contains("ALERT Scaletop") && h.contains(" firing: "))
    });
    let screen = tmux.wait_for("the alert in the list", |s| {
        s.contains("SlowScaleUp") && (s.contains("FIRING") || s.contains("RESOLVED"))
    });
    assert!(
        screen.contains("SINCE") && screen.contains("FOR"),
        "{screen}"
    );
    assert!(screen.contains("runbook:"), "{screen}");

    // m opens a load-test window with a live scorecard; m again closes and saves it.
    tmux.send(&["m"]);
    tmux.wait_for("the load-test panel", |s| s.contains("LOAD TEST since"));
    tmux.wait_for("a live scorecard", |s| s.contains("so far:"));
    tmux.send(&["m"]);
    let screen = tmux.wait_for("the saved scorecard", |s| s.contains("scorecard saved to"));
    assert!(
        !screen.contains("LOAD TEST since"),
        "panel closes: {screen}"
    );
    let json = files_in(&out_dir, "json");
    let md = files_in(&out_dir, "md");
    assert_eq!((json.len(), md.len()), (1, 1), "{json:?} {md:?}");
    let card: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json[0]).expect("read")).expect("json");
    assert_eq!(card["schema"], "scaletop.loadtest-scorecard/v1");
    assert_eq!(card["closed"], true);
    assert!(card["groups"].as_array().is_some_and(|g| !g.is_empty()));
    let text = std::fs::read_to_string(&md[0]).expect("md");
    assert!(text.starts_with("# Load-test scorecard: "), "{text}");
    tmux.send(&["q"]);
}

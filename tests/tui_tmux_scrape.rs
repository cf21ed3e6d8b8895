//! The direct scrape source on screen, end to end: the real binary in tmux scrapes `scaletop
//! sim serve` (no Prometheus in between) and shows the scenario's groups with rates and
//! utilization; when the endpoint dies the header and the Sources tab say so with the reason
//! while the last data stays on screen; when it comes back the source recovers by itself.

mod support;

use std::time::Duration;

use support::tmux::Tmux;
use support::*;

const BIN: &str = env!("CARGO_BIN_EXE_scaletop");
const TIMEOUT: Duration = Duration::from_secs(90);

/// A column of the Overview row of `group`, by its position after the group name.
fn column(screen: &str, group: &str, nth: usize) -> Option<String> {
    screen
        .lines()
        .find(|l| l.contains(group))?
        .trim_matches(|c| c == '│' || c == ' ')
        .split_whitespace()
        .nth(nth)
        .map(str::to_string)
}

/// "26.6k" or "5633" as a number.
fn number(text: &str) -> Option<f64> {
    match text.strip_suffix('k') {
        Some(k) => k.parse::<f64>().ok().map(|v| v * 1000.0),
        None => text.parse().ok(),
    }
}

#[test]
fn a_scraped_endpoint_shows_live_figures_goes_down_and_comes_back() {
    if !have("tmux") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // 30x: sim serve's counters move every 2 s, so rates appear within a few scrapes.
    let (sim, addr) = start_sim_serve("game", 30.0);
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[general]\noutput_dir = \"{}\"\n\
             [[sources.scrape]]\nname = \"gamesim\"\nurl = \"http://{addr}/metrics\"\n\
             interval = \"1s\"\nrate_window = \"10s\"\n",
            dir.path().join("out").display()
        ),
    )
    .expect("config");
    let command = format!(
        "env -u SCALETOP_CONFIG XDG_STATE_HOME={d} HOME={d} TERM=xterm-256color {BIN} --config {c}",
        d = dir.path().display(),
        c = config.display()
    );
    let tmux = Tmux::start("scrape", &command, TIMEOUT);
    // GROUP PLATFORM SCOPE READY/DESIRED MIN–MAX CPU% MEM% REQ/S: REQ/S is the 8th column,
    // CPU the 6th (counting the group name as the first).
    let live = |s: &str| {
        let rate = column(s, "lobby-api", 7).and_then(|v| number(&v));
        let cpu = column(s, "lobby-api", 5).and_then(|v| number(&v));
        matches!((rate, cpu), (Some(r), Some(c)) if r > 0.0 && c > 0.0)
    };
    let screen = tmux.wait_for("a request rate and CPU from the scrape", live);
    for group in ["game-servers", "lobby-api", "matchmaking"] {
        assert!(screen.contains(group), "{group} missing:\n{screen}");
    }
    assert!(!screen.contains("DOWN"), "{screen}");
    let cpu = column(&screen, "lobby-api", 5).and_then(|v| number(&v));
    assert!(
        cpu.is_some_and(|c| c < 1000.0),
        "CPU is a utilization, not core-seconds: {cpu:?}\n{screen}"
    );

    // The endpoint dies: the header says which source is down; the data stays.
    drop(sim);
    let screen = tmux.wait_for("the header to show the source down", |s| {
        s.lines().next().is_some_and(|l| l.contains("gamesim DOWN"))
    });
    assert!(screen.contains("lobby-api"), "last data kept:\n{screen}");
    tmux.send(&["9"]);
    let screen = tmux.wait_for("the Sources tab", |s| {
        s.contains("SOURCE") && s.contains("DOWN")
    });
    assert!(
        screen.to_lowercase().contains("refused"),
        "the reason, not just 'error sending request':\n{screen}"
    );

    // Back on the same address: the source recovers on its own.
    let (_sim, _) = start_sim_serve_at("game", 30.0, &addr.to_string());
    tmux.wait_for("the source back up", |s| {
        s.lines()
            .nth(4)
            .is_some_and(|l| l.contains("gamesim") && l.contains(" UP "))
            && !s.lines().next().is_some_and(|l| l.contains("DOWN"))
    });
    tmux.send(&["1"]);
    tmux.wait_for("live figures again", live);
    tmux.send(&["q"]);
}

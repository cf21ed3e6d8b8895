//! End to end: the real binary in tmux at 160x48, driven with keys, read from the screen.
//! Polls the screen (no fixed sleeps) and checks the exit code written after the binary ends.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod support;

use support::tmux::Tmux;

const BIN: &str = env!("CARGO_BIN_EXE_scaletop");
const TIMEOUT: Duration = Duration::from_secs(20);

fn wait_for_file(path: &Path) -> String {
    let start = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(path) {
            if s.ends_with('\n') {
                return s;
            }
        }
        assert!(
            start.elapsed() < TIMEOUT,
            "{} never written",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scaletop-tmux-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn demo_in_tmux() {
    if !support::have("tmux") {
        return;
    }
    let dir = temp_dir();
    let exit_file = dir.join("exit");
    // Own config and state dirs: no user config is picked up, logs go to the temp dir.
    let stty_file = dir.join("stty");
    // After the binary: record the terminal modes (raw mode must be off again), then the exit
    // code, last, so the exit file appearing means both are written.
    let command = format!(
        "env -u SCALETOP_CONFIG XDG_CONFIG_HOME={d} XDG_STATE_HOME={d} HOME={d} TERM=xterm-256color \
         {BIN} --demo ecommerce; code=$?; stty -a > {s}; echo EXIT=$code > {e}",
        d = dir.display(),
        s = stty_file.display(),
        e = exit_file.display()
    );
    let tmux = Tmux::start("e2e", &command, TIMEOUT);

    // Overview lists the scenario's groups.
    let screen = tmux.wait_for("the ecommerce groups on Overview", |s| {
        s.contains("storefront") && s.contains("checkout") && s.contains("search-indexer")
    });
    assert!(screen.contains("1 Overview"), "{screen}");
    assert!(screen.contains("9 Sources"), "{screen}");

    // `5` Forecast: the fit runs off the UI thread and the figures appear; keys still work
    // while it runs.
    tmux.send(&["5"]);
    tmux.wait_for("the Forecast tab with a fitted forecast", |s| {
        s.contains("Backtest (") && s.contains("Runway") && s.contains("95% band")
    });

    // `3` switches to Utilization.
    tmux.send(&["3"]);
    tmux.wait_for("the Utilization tab", |s| s.contains("Demand vs capacity"));
    tmux.send(&["1"]);
    tmux.wait_for("back on Overview", |s| s.contains("READY/DESIRED"));

    // `/` filter narrows the rows.
    tmux.send(&["/", "check"]);
    tmux.wait_for("the filter to apply", |s| {
        s.contains("/check") && s.contains("checkout") && !s.contains("storefront")
    });
    tmux.send(&["Enter"]);
    // Enter drills into the (only) group; Esc comes back.
    tmux.send(&["Enter"]);
    tmux.wait_for("Utilization for checkout", |s| {
        s.contains("Demand vs capacity") && s.contains("checkout")
    });
    tmux.send(&["Escape"]);
    tmux.wait_for("Overview again, still filtered", |s| {
        s.contains("filter: check") && s.contains("READY/DESIRED")
    });
    tmux.send(&["Escape"]);
    tmux.wait_for("the filter cleared", |s| {
        s.contains("storefront") && !s.contains("filter: check")
    });

    // `:` palette goes to a tab.
    tmux.send(&[":", "sources"]);
    tmux.wait_for("the palette", |s| {
        s.contains("command") && s.contains("tab sources")
    });
    tmux.send(&["Enter"]);
    tmux.wait_for("the Sources tab", |s| {
        s.contains("LAST OK") && s.contains("UP")
    });

    // `?` help, closed with Esc.
    tmux.send(&["?"]);
    tmux.wait_for("the help overlay", |s| {
        s.contains("keys") && s.contains("cycle sort column")
    });
    tmux.send(&["Escape"]);
    tmux.wait_for("help closed", |s| !s.contains("cycle sort column"));

    // `q` quits with exit code 0.
    tmux.send(&["q"]);
    let exit = wait_for_file(&exit_file);
    assert_eq!(exit.trim(), "EXIT=0");
    let modes = std::fs::read_to_string(&stty_file).expect("stty output");
    let words: Vec<&str> = modes.split_whitespace().collect();
    for mode in ["icanon", "echo", "isig"] {
        assert!(
            words.contains(&mode),
            "terminal left in raw mode ({mode} off):\n{modes}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

//! The tuning pane in the real binary (tmux, 160x48) on the e-commerce demo with four days of
//! backfilled history: `t` searches the selected group's policy off the UI thread with its
//! progress on screen, the finished pane shows current vs recommended and the held-out
//! verdict, `a` shows what will be written and `Enter` writes it into the output directory.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_scaletop");

struct Tmux(String);

impl Tmux {
    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.0]);
        c
    }

    fn send(&self, keys: &[&str]) {
        let ok = self
            .cmd()
            .args(["send-keys", "-t", &self.0])
            .args(keys)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "tmux send-keys");
    }

    fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", &self.0])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits for `pred`; the limit only stops a hung test (the search takes seconds).
    fn wait_for(&self, what: &str, limit: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                start.elapsed() < limit,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self
            .cmd()
            .arg("kill-server")
            .stderr(std::process::Stdio::null())
            .status();
    }
}

fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
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
    out
}

#[test]
fn tune_then_accept_writes_the_policy_in_the_real_binary() {
    if !support::have("tmux") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("out");
    let cfg = dir.path().join("scaletop.toml");
    std::fs::write(
        &cfg,
        format!(
            "[general]\noutput_dir = \"{}\"\n[demo]\nbackfill = \"4d\"\n[ui]\nhistory = \"4d\"\n",
            out.display()
        ),
    )
    .expect("config");
    let command = format!(
        "env XDG_STATE_HOME={d} HOME={d} TERM=xterm-256color {BIN} --config {c} --demo ecommerce",
        d = dir.path().display(),
        c = cfg.display()
    );
    let tmux = Tmux(format!("scaletop-tune-{}", std::process::id()));
    let started = tmux
        .cmd()
        .args(["-f", "/dev/null", "new-session", "-d", "-s", &tmux.0])
        .args(["-x", "160", "-y", "48", &command])
        .status()
        .is_ok_and(|s| s.success());
    assert!(started, "tmux new-session");
    let minute = Duration::from_secs(60);
    let overview = tmux.wait_for("Overview", minute, |s| s.contains("storefront"));
    assert!(overview.contains("t tune"), "footer hint:\n{overview}");
    // Overview rows sort by name: checkout, search-indexer (EC2 target tracking on cpu 70%),
    // storefront.
    tmux.send(&["j"]);
    tmux.send(&["t"]);
    let progress = tmux.wait_for("the search under way", minute, |s| {
        s.contains("Tuning search-indexer") && (s.contains("candidates") || s.contains("held-out"))
    });
    assert!(
        progress.contains("96.0 h of history") || progress.contains("h of history"),
        "the pane says what it tunes on:\n{progress}"
    );
    let done = tmux.wait_for("the finished search", Duration::from_secs(300), |s| {
        s.contains("Current vs recommended") || s.contains("No tuning result")
    });
    assert!(
        done.contains("Current vs recommended") && done.contains("Pareto front"),
        "a result, not an error:\n{done}"
    );
    assert!(
        done.contains("held-out 30%"),
        "the held-out verdict is stated:\n{done}"
    );
    eprintln!("{done}");
    assert!(files(&out).is_empty());
    tmux.send(&["a"]);
    tmux.wait_for("the confirmation with the diff", minute, |s| {
        s.contains("exactly what will be written") && s.contains("tune-search-indexer-")
    });
    assert!(files(&out).is_empty(), "nothing written before Enter");
    tmux.send(&["Enter"]);
    tmux.wait_for("the outcome", minute, |s| {
        s.contains("wrote ") && s.contains("file(s)")
    });
    let written = files(&out);
    assert!(!written.is_empty(), "files written to {}", out.display());
    let all: String = written
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect();
    assert!(
        all.contains("search-indexer"),
        "the written policy names the group: {written:?}"
    );
    tmux.send(&["Escape", "Escape", "q"]);
}

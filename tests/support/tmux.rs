//! The real binary in a private tmux server (its own socket) at 160x48, driven with keys and
//! read from the screen by polling (no fixed sleeps). Killed on drop.

use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
    timeout: Duration,
}

impl Tmux {
    /// Starts `command` in a new 160x48 session; `tag` keeps parallel tests' servers apart.
    /// `timeout` bounds every wait.
    pub fn start(tag: &str, command: &str, timeout: Duration) -> Tmux {
        let t = Tmux {
            socket: format!("scaletop-{tag}-{}", std::process::id()),
            timeout,
        };
        let status = t
            .cmd()
            .args(["-f", "/dev/null", "new-session", "-d", "-s", "main"])
            .args(["-x", "160", "-y", "48", command])
            .status()
            .expect("tmux runs");
        assert!(status.success(), "tmux new-session failed");
        t
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket]);
        c
    }

    pub fn send(&self, keys: &[&str]) {
        let ok = self
            .cmd()
            .args(["send-keys", "-t", "main"])
            .args(keys)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "tmux send-keys {keys:?}");
    }

    pub fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", "main"])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until `pred` holds; panics with the last screen after the timeout.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                start.elapsed() < self.timeout,
                "timed out waiting for {what}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // The server is usually gone already (the session ended with the binary).
        let _ = self
            .cmd()
            .arg("kill-server")
            .stderr(std::process::Stdio::null())
            .status();
    }
}

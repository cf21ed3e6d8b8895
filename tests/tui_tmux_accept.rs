//! The accept flow in the real binary (tmux, 160x48): `r` lists the recommendation files found
//! in the output directory, `s` filters by kind, `a` shows what will be written, `Enter` writes
//! it; the file is on disk afterwards and the pane offers the `kubectl apply` line.

mod support;

use support::tmux::Tmux;

use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_scaletop");
const RECS: &str = include_str!("fixtures/emit/recommendations.json");
const TIMEOUT: Duration = Duration::from_secs(20);

#[test]
fn accept_writes_the_previewed_file_in_the_real_binary() {
    if !support::have("tmux") {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("out");
    std::fs::write(out.join("recs.json"), RECS).expect("recs");
    let cfg = dir.path().join("scaletop.toml");
    std::fs::write(
        &cfg,
        format!("[general]\noutput_dir = \"{}\"\n", out.display()),
    )
    .expect("config");
    let command = format!(
        "env XDG_STATE_HOME={d} HOME={d} TERM=xterm-256color {BIN} --config {c} --demo ecommerce",
        d = dir.path().display(),
        c = cfg.display()
    );
    let tmux = Tmux::start("accept", &command, TIMEOUT);
    tmux.wait_for("Overview", |s| s.contains("storefront"));

    tmux.send(&["r"]);
    tmux.wait_for("the recommendations pane", |s| {
        s.contains("Recommendations") && s.contains("Run checkout above a base of 2")
    });
    tmux.send(&["s", "s", "s"]);
    tmux.wait_for("sizing only", |s| {
        s.contains("Right-size web") && !s.contains("Run checkout above")
    });
    tmux.send(&["a"]);
    tmux.wait_for("the confirmation with the diff", |s| {
        s.contains("exactly what will be written")
            && s.contains("+apiVersion: autoscaling.k8s.io/v1")
    });
    assert!(!out.join("web-sizing/vpa.yaml").exists());
    tmux.send(&["Enter"]);
    tmux.wait_for("the outcome", |s| {
        s.contains("wrote 2 file(s)") && s.contains("kubectl apply -f")
    });
    assert!(out.join("web-sizing/vpa.yaml").is_file());
    tmux.send(&["Escape", "q"]);
}

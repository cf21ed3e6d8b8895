//! The binary's command-line contract: --version paths, exit code 2 with a one-line reason.

use std::process::{Command, Output};

fn scaletop(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .args(args)
        .env_remove("SCALETOP_CONFIG")
        .output()
        .expect("run scaletop")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn version_prints_config_log_and_output_paths() {
    let o = scaletop(&["--version"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.starts_with("scaletop "), "{out}");
    for label in ["config:", "log:", "output:"] {
        assert!(out.contains(label), "missing {label} in {out}");
    }
    assert!(out.contains("scaletop.log"), "{out}");
}

#[test]
fn version_reports_the_config_given_by_env() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.toml");
    std::fs::write(&path, "[general]\noutput_dir = \"/tmp/st-out\"\n").expect("write");
    let o = Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .arg("--version")
        .env("SCALETOP_CONFIG", &path)
        .output()
        .expect("run");
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("$SCALETOP_CONFIG"), "{out}");
    assert!(out.contains("/tmp/st-out"), "{out}");
}

#[test]
fn bad_config_names_file_line_and_key_and_exits_2() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[demo]\nscenario = \"game\"\nspeed = \"fast\"\n").expect("write");
    let o = scaletop(&["--config", path.to_str().expect("utf8 path"), "--version"]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("bad.toml:3"), "{err}");
    assert!(err.contains("speed"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

#[test]
fn missing_config_file_exits_2() {
    let o = scaletop(&["--config", "/nonexistent/scaletop.toml", "--version"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/nonexistent/scaletop.toml"));
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(scaletop(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(scaletop(&["--speed", "-5"]).status.code(), Some(2));
    let o = scaletop(&["--demo", "no-such-scenario"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no-such-scenario"), "{}", stderr(&o));
}

#[test]
fn help_exits_0() {
    assert!(scaletop(&["--help"]).status.success());
}

//! Without the `kubernetes` cargo feature, a config naming a cluster is refused with a message
//! that says how to get the feature, not ignored.
#![cfg(not(feature = "kubernetes"))]

use std::process::Command;

#[test]
fn a_kubernetes_source_without_the_feature_says_how_to_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("scaletop.toml");
    std::fs::write(
        &cfg,
        "[[sources.kubernetes]]\nname = \"prod\"\ncontext = \"prod\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_scaletop"))
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "snapshot",
            "--wait",
            "1s",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("scaletop was built without the `kubernetes` feature; rebuild with `cargo install --features kubernetes`"),
        "{stderr}"
    );
    assert!(stderr.contains(":1:"), "names the line: {stderr}");
}

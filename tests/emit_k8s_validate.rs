//! Emitted Kubernetes manifests against the real schemas: HPA with kubernetes-validate (the
//! official Kubernetes JSON schemas, strict), VPA and KEDA with jsonschema against their CRDs'
//! openAPIV3Schema vendored in tests/fixtures/crds (see its README for source and commit).

mod emit_common;
mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use scaletop::emit::Target;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/support/validate_manifests.py"
);
/// The HPA behavior tolerance field needs 1.33; scaletop only writes it when not the default.
const KUBERNETES: &str = "1.33.0";

fn yaml_files(paths: &[PathBuf], name: &str) -> Vec<String> {
    paths
        .iter()
        .filter(|p| p.file_name().is_some_and(|n| n == name))
        .map(|p| p.display().to_string())
        .collect()
}

fn validate(python: &Path, mode: &str, reference: &str, files: &[String]) -> String {
    assert!(!files.is_empty(), "nothing to validate");
    let o = Command::new(python)
        .arg(SCRIPT)
        .args([mode, reference])
        .args(files)
        .output()
        .expect("run validator");
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(text.matches(": valid").count(), files.len(), "{text}");
    text
}

#[test]
fn hpa_manifests_pass_kubernetes_validate() {
    let Some(py) = support::python_with(&["kubernetes_validate", "yaml"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = emit_common::emit_all(Target::Hpa, dir.path(), &emit_common::context());
    let files = yaml_files(&paths, "hpa.yaml");
    assert_eq!(files.len(), 2);
    validate(&py, "k8s", KUBERNETES, &files);
}

#[test]
fn a_broken_hpa_fails_kubernetes_validate() {
    // The validator must be able to fail: minReplicas as a string is not an HPA.
    let Some(py) = support::python_with(&["kubernetes_validate", "yaml"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: x}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: x}\n  minReplicas: two\n  maxReplicas: 3\n",
    )
    .expect("write");
    let o = Command::new(&py)
        .arg(SCRIPT)
        .args(["k8s", KUBERNETES, &bad.display().to_string()])
        .output()
        .expect("run");
    assert!(!o.status.success());
}

#[test]
fn keda_scaled_objects_pass_the_keda_crd_schema() {
    let Some(py) = support::python_with(&["jsonschema", "yaml"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = emit_common::emit_all(Target::Keda, dir.path(), &emit_common::context());
    // The KEDA recommendation and the cron schedule as given, and both HPAs converted (web's
    // with the schedule's cron trigger).
    let files = yaml_files(&paths, "keda-scaledobject.yaml");
    assert_eq!(files.len(), 4, "{paths:?}");
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/crds/keda-scaledobject-v1alpha1.schema.json"
    );
    validate(&py, "crd", schema, &files);
}

#[test]
fn vpa_objects_pass_the_vpa_crd_schema() {
    let Some(py) = support::python_with(&["jsonschema", "yaml"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = emit_common::emit_all(Target::Vpa, dir.path(), &emit_common::context());
    let files = yaml_files(&paths, "vpa.yaml");
    assert_eq!(files.len(), 2);
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/crds/vpa-v1.schema.json"
    );
    validate(&py, "crd", schema, &files);
    // An unknown field is caught (the strict check can fail).
    let bad = dir.path().join("bad-vpa.yaml");
    let text = std::fs::read_to_string(&files[0]).expect("read");
    std::fs::write(&bad, text.replace("updateMode:", "updateModes:")).expect("write");
    let o = Command::new(&py)
        .arg(SCRIPT)
        .args(["crd", schema, &bad.display().to_string()])
        .output()
        .expect("run");
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("unknown field .spec.updatePolicy.updateModes")
    );
}

//! Shared by the emit tests: emit the fixture recommendations for a target into a directory
//! through the library (the same calls `scaletop emit` makes).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use scaletop::emit::source::parse_recommendations;
use scaletop::emit::writer::GuardedWriter;
use scaletop::emit::{emit, EmitContext, Target};
use scaletop::model::Recommendation;

pub const RECS: &str = include_str!("../fixtures/emit/recommendations.json");

pub fn recommendations() -> Vec<Recommendation> {
    parse_recommendations(RECS, "recommendations.json").expect("fixture parses")
}

pub fn context() -> EmitContext {
    EmitContext {
        source: "tests/fixtures/emit/recommendations.json".into(),
        companions: recommendations(),
        ..Default::default()
    }
}

/// Emits every fixture recommendation `target` accepts into `out`; returns the written paths.
pub fn emit_all(target: Target, out: &Path, ctx: &EmitContext) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for rec in recommendations() {
        let artifact = scaletop::artifact::Artifact::from_value(&rec.artifact).expect("artifact");
        if !target.accepts(&artifact) {
            continue;
        }
        for f in emit(target, &rec, ctx).unwrap_or_else(|e| panic!("{e}")) {
            files.push((f.relative, f.contents));
        }
    }
    GuardedWriter::new(out, false)
        .write_all(files)
        .expect("write")
}

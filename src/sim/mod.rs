//! STUB — to be replaced by the simulator work (API contract only).
use std::io::Write;

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ScenarioSummary {
    pub name: String,
    pub title: String,
    pub groups: usize,
    pub description: String,
}

pub fn catalog() -> Vec<ScenarioSummary> {
    Vec::new()
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SimError(pub String);

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
}

impl Scenario {
    pub fn load(name: &str) -> Result<Scenario, SimError> {
        Err(SimError(format!("unknown scenario '{name}'")))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ExportSpec {
    pub seed: u64,
    pub duration_seconds: u64,
    pub step_seconds: u64,
}

pub fn export_csv(_s: &Scenario, _spec: &ExportSpec, _w: &mut dyn Write) -> std::io::Result<u64> {
    Ok(0)
}

pub fn truth(_s: &Scenario, _spec: &ExportSpec) -> serde_json::Value {
    serde_json::Value::Null
}

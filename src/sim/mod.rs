//! The simulator: built-in scenarios (embedded TOML), a demand generator per group, the
//! capacity + latency model of CONTRACTS.md, the group's current policy acting on it, derived
//! metrics, CSV export and the planted ground truth. Deterministic per seed.

mod demand;
mod export;
mod group;
mod platform_policy;
pub mod policy;
mod scenario;
mod simulator;
pub mod spec;
mod spikes;
mod truth;

pub use export::{export_csv, round_for_output, ExportSpec, CSV_HEADER};
pub use group::{reported_metrics, METRIC_COUNT};
pub use platform_policy::{asg_config, hpa_manifest, replayable_autoscaler};
pub use scenario::{built_in_names, catalog, Scenario, ScenarioSummary, SimGroup};
pub use simulator::{tick_count, SimStep, Simulator, StepFrame};
pub use spikes::Spike;
pub use truth::{
    truth, EventTruth, GroupTruth, PitfallTruth, SpikeTruth, Truth, UnmetTarget, WasteTruth,
    TRUTH_SCHEMA,
};

/// Why a scenario could not be loaded. Display is one line naming the scenario and the place.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    #[error("unknown scenario '{name}' (known: {known})")]
    UnknownScenario { name: String, known: String },
    #[error("{origin}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Parse {
        origin: String,
        line: Option<usize>,
        message: String,
    },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}

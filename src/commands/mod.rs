//! Headless commands beyond the simulator: each parses its input, calls the engine and
//! prints the engine's result structs.

pub mod alerts;
pub mod analyze;
pub mod cost;
pub mod emit;
pub mod forecast;
pub mod out_file;
pub mod pricing;
pub mod report;
pub mod sim_serve;
pub mod simulate;
pub mod snapshot;
pub mod sources;
pub mod tune;
pub mod tune_regions;

//! scaletop: a terminal dashboard and analysis engine for cloud auto-scaling.
//!
//! Shape (../shared/DESIGN.md): async `sources` send owned updates to the `store`, owned by the
//! UI task; the `engine` is pure synchronous code called by the TUI and the headless commands.

pub mod alerts;
pub mod artifact;
pub mod cli;
pub mod commands;
pub mod config;
pub mod duration;
pub mod emit;
pub mod engine;
pub mod input;
pub mod model;
pub mod paths;
pub mod pricing;
pub mod report;
pub mod scorecard;
pub mod sim;
pub mod sources;
pub mod store;
pub mod tui;

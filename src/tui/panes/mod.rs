//! Panes drawn over any tab: help, the command palette, the filter line, recommendations, tuning.

pub mod explain;
pub mod filter;
pub mod help;
pub mod loadtest;
pub mod palette;
pub mod recommendations;
pub mod tuning;

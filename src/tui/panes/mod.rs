//! Panes drawn over any tab: help, the command palette, the filter line, recommendations.

pub mod explain;
pub mod filter;
pub mod help;
pub mod loadtest;
pub mod palette;
pub mod recommendations;

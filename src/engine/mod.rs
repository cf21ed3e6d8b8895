//! The engine: plain synchronous Rust, no I/O, no async, no clock reads. Functions from series
//! and config to results; the TUI runs heavy ones on `spawn_blocking`.

pub mod analysis;
pub mod cost;
pub mod events;
pub mod forecast;
pub mod latency;
pub mod loadtest;
pub mod policy;
pub mod replay;
pub mod serverless;
pub mod tune;

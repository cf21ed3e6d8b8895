//! One file per tab. Each renders from `&App` and `&Store` and changes nothing.

pub mod alerts;
pub mod cost;
pub mod events;
pub mod forecast;
pub mod overview;
pub mod policies;
pub mod sources;
pub mod utilization;
pub mod workload;

//! Prometheus and compatible backends (Thanos, Mimir, VictoriaMetrics) as a source.

pub mod client;
pub mod config;
pub mod decode;
pub mod presets;
pub mod source;

pub use client::{PromClient, PromError};
pub use config::PrometheusSourceConfig;
pub use source::spawn;

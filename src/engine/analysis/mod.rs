//! Workload and resource analysis (issue 4): seasonality, the MSTL-style decomposition the
//! forecasting work reuses, anomalies, peaks, variability, growth, and per-group utilization,
//! bottlenecks, rightsizing and waste. Pure functions over plain slices; results are plain
//! `Serialize` structs that the CLI prints and the TUI renders.

pub mod decompose;
pub mod fft;
pub mod seasonality;
pub mod stats;

pub use decompose::{
    decompose, decompose_with, DecomposeOptions, Decomposition, SeasonalComponent,
};
pub use seasonality::{detect as detect_seasonality, Period};

pub mod anomalies;
pub mod growth;
pub mod peaks;
pub mod workload;

pub use anomalies::{anomaly_mask, anomaly_windows, AnomalyOptions, AnomalyWindow};
pub use workload::{analyze_workload, analyze_workload_full, WorkloadAnalysis};
pub mod bottleneck;
pub mod metric_choice;
pub mod report;
pub mod resources;
pub mod rightsizing;
pub mod utilization;
pub mod waste;

pub use metric_choice::{scaling_metrics, MetricChoice, MetricSignals};
pub use report::{analyze_all, AnalysisReport, SeriesAnalysis, SeriesInput, ANALYSIS_SCHEMA};
pub use resources::{analyze_groups, analyze_groups_with, choose_scaling_metrics, GroupResources};

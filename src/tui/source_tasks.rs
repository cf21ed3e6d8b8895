//! Starts the data sources the config asks for. Each is a tokio task sending owned `Update`s.

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::duration::parse_duration;
use crate::sim::Scenario;
use crate::sources::sim::{self as sim_source, SimSourceOptions};
use crate::sources::Update;

/// Header label for the configured sources.
pub fn label(cfg: &Config) -> String {
    let prom = &cfg.sources.prometheus;
    if !prom.is_empty() {
        let names: Vec<&str> = prom.iter().map(|p| p.name.as_str()).collect();
        return format!("prometheus: {}", names.join(", "));
    }
    format!(
        "demo {} (simulator, seed {}, {}x)",
        cfg.demo.scenario, cfg.demo.seed, cfg.demo.speed
    )
}

/// Spawns the sources; must run inside the tokio runtime.
pub fn spawn(cfg: &Config, tx: mpsc::Sender<Update>) -> color_eyre::Result<Vec<JoinHandle<()>>> {
    // Configured live sources replace the demo simulator.
    if !cfg.sources.prometheus.is_empty() {
        return Ok(cfg
            .sources
            .prometheus
            .iter()
            .map(|p| crate::sources::prometheus::spawn(p.clone(), tx.clone()))
            .collect());
    }
    let scenario = Scenario::load(&cfg.demo.scenario)?;
    // Backfill the chart window so the first charts are not empty.
    let backfill_seconds = parse_duration(&cfg.ui.chart_window)
        .map(|d| d.as_secs())
        .unwrap_or(7200);
    let options = SimSourceOptions {
        scenario,
        seed: cfg.demo.seed,
        speed: cfg.demo.speed,
        // No point waking more often than we redraw.
        max_updates_per_second: cfg.ui.max_fps,
        backfill_seconds,
    };
    Ok(vec![sim_source::spawn(options, tx)])
}

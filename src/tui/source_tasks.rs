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
    if cfg.sources.count() > 0 {
        let kind = |kind: &str, names: Vec<&str>| {
            (!names.is_empty()).then(|| format!("{kind}: {}", names.join(", ")))
        };
        let parts: Vec<String> = [
            kind(
                "prometheus",
                cfg.sources
                    .prometheus
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect(),
            ),
            kind(
                "scrape",
                cfg.sources.scrape.iter().map(|s| s.name.as_str()).collect(),
            ),
            kind(
                "gcp",
                cfg.sources.gcp.iter().map(|s| s.name.as_str()).collect(),
            ),
            kind(
                "azure",
                cfg.sources.azure.iter().map(|s| s.name.as_str()).collect(),
            ),
            kind(
                "kubernetes",
                cfg.sources
                    .kubernetes
                    .iter()
                    .map(|k| k.name.as_str())
                    .collect(),
            ),
            kind(
                "aws",
                cfg.sources.aws.iter().map(|a| a.name.as_str()).collect(),
            ),
        ]
        .into_iter()
        .flatten()
        .collect();
        return parts.join("; ");
    }
    format!(
        "demo {} (simulator, seed {}, {}x)",
        cfg.demo.scenario, cfg.demo.seed, cfg.demo.speed
    )
}

/// Spawns the sources; must run inside the tokio runtime.
pub fn spawn(cfg: &Config, tx: mpsc::Sender<Update>) -> color_eyre::Result<Vec<JoinHandle<()>>> {
    // Configured live sources replace the demo simulator.
    if cfg.sources.count() > 0 {
        return Ok(crate::sources::spawn_configured(&cfg.sources, &tx));
    }
    let scenario = Scenario::load(&cfg.demo.scenario)?;
    // Backfill the chart window so the first charts are not empty (or what demo.backfill asks).
    let backfill = if cfg.demo.backfill.is_empty() {
        &cfg.ui.chart_window
    } else {
        &cfg.demo.backfill
    };
    let backfill_seconds = parse_duration(backfill)
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
